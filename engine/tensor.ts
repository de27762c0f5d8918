import { backward as runBackward, type GradFn } from './autograd';
import type { Backend } from './backend';
import { type DType, isFloating, type Storage } from './dtype';
import { formatTensor } from './format';
import { formatShape, numel, type Shape } from './shape';
import * as ops from './ops/index';

export type NestedArray = number | NestedArray[];

export class Tensor {
  requires_grad = false;
  grad: Tensor | null = null;
  grad_fn: GradFn | null = null;
  retains_grad = false;
  /** Elements no optimizer may change (1 = locked), row-major; null: none locked. */
  locked: Uint8Array | null = null;

  constructor(
    readonly data: Storage,
    readonly shape: Shape,
    readonly dtype: DType,
    readonly backend: Backend,
  ) {}

  get is_leaf(): boolean {
    return this.grad_fn === null;
  }

  numel(): number {
    return numel(this.shape);
  }

  dim(): number {
    return this.shape.length;
  }

  size(dim?: number): number | readonly number[] {
    return dim === undefined ? this.shape : this.shape[dim < 0 ? dim + this.shape.length : dim];
  }

  toArray(): Storage {
    return this.data.slice();
  }

  item(): number {
    if (this.numel() !== 1) {
      throw new Error(`item() needs a tensor with one element, not shape ${formatShape(this.shape)}`);
    }
    return this.data[0];
  }

  tolist(): NestedArray {
    const data = this.data;
    const build = (dim: number, offset: number, stride: number): NestedArray => {
      if (dim === this.shape.length) return data[offset];
      const inner = stride / this.shape[dim];
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * inner, inner));
    };
    return build(0, 0, this.numel());
  }

  requires_grad_(flag = true): this {
    if (flag && !isFloating(this.dtype)) throw new Error('only floating-point tensors can require gradients');
    if (!this.is_leaf) throw new Error('requires_grad can only be changed on leaf tensors');
    this.requires_grad = flag;
    return this;
  }

  retain_grad(): void {
    if (!this.is_leaf) this.retains_grad = true;
  }

  backward(gradient?: Tensor): void {
    if (!this.requires_grad) {
      throw new Error('this tensor does not require grad and has no grad_fn, so backward() has nothing to do');
    }
    if (!gradient && this.numel() !== 1) {
      throw new Error(`backward() without a gradient needs a scalar output, not shape ${formatShape(this.shape)}`);
    }
    runBackward(this, gradient ?? ops.ones_like(this));
  }

  /** A tensor sharing no history with this one (a copy of the values, unlike PyTorch's view). */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, this.dtype, this.backend);
  }

  clone(): Tensor {
    return ops.clone(this);
  }

  to(dtype: DType): Tensor {
    return ops.cast(this, dtype);
  }

  add(other: Tensor | number): Tensor { return ops.add(this, other); }
  sub(other: Tensor | number): Tensor { return ops.sub(this, other); }
  mul(other: Tensor | number): Tensor { return ops.mul(this, other); }
  div(other: Tensor | number): Tensor { return ops.div(this, other); }
  neg(): Tensor { return ops.neg(this); }
  pow(exponent: number): Tensor { return ops.pow(this, exponent); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  abs(): Tensor { return ops.abs(this); }
  clamp(min?: number | null, max?: number | null): Tensor { return ops.clamp(this, min, max); }
  matmul(other: Tensor): Tensor { return ops.matmul(this, other); }
  transpose(dim0: number, dim1: number): Tensor { return ops.transpose(this, dim0, dim1); }
  reshape(shape: readonly number[]): Tensor { return ops.reshape(this, shape); }
  sum(dim?: number | readonly number[], keepdim = false): Tensor { return ops.sum(this, dim, keepdim); }
  mean(dim?: number | readonly number[], keepdim = false): Tensor { return ops.mean(this, dim, keepdim); }
  max(): Tensor;
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return dim === undefined ? ops.max(this) : ops.max(this, dim, keepdim);
  }
  relu(): Tensor { return ops.relu(this); }
  sigmoid(): Tensor { return ops.sigmoid(this); }
  tanh(): Tensor { return ops.tanh(this); }
  softmax(dim: number): Tensor { return ops.softmax(this, dim); }
  log_softmax(dim: number): Tensor { return ops.log_softmax(this, dim); }

  /** As PyTorch prints it: `tensor([[0.1865, 0.2612, 0.5523]], grad_fn=<SoftmaxBackward0>)`. */
  toString(): string {
    return formatTensor(this);
  }
}

