import { backward as runBackward, type GradFn } from './autograd';
import type { Backend } from './backend';
import { type Device, type DeviceStorage, toDevice, toHost } from './device';
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
  /** The values of a CPU tensor; null when they live on a device. */
  private hostData: Storage | null;
  /** The device's storage (shared with views); null for CPU tensors. */
  storage: DeviceStorage | null;
  backend: Backend;
  /** @internal The backward pass that last reached this tensor (autograd.ts's topological sort). */
  backwardPass = 0;
  /** @internal The gradient flowing into this tensor during a backward pass; null otherwise. */
  pendingGrad: Tensor | null = null;

  constructor(data: Storage | null, readonly shape: Shape, readonly dtype: DType, backend: Backend, storage: DeviceStorage | null = null) {
    this.hostData = data;
    this.storage = storage;
    this.backend = backend;
    storage?.attach(this);
  }

  /** A tensor sharing x's values (a view: reshape, detach, Parameter). */
  static sharing(x: Tensor, shape: Shape): Tensor {
    return new Tensor(x.hostData, shape, x.dtype, x.backend, x.storage);
  }

  /** @internal Moves the values (Module.to): the same object, so optimizers and views of it keep it. */
  relocate(data: Storage | null, backend: Backend, storage: DeviceStorage | null): void {
    this.hostData = data;
    this.storage = storage;
    this.backend = backend;
    storage?.attach(this);
  }

  /**
   * The values of a CPU tensor, which CPU kernels read and optimizers update in place. A WebGPU
   * tensor's values are on the GPU: `await t.read()` (or `await t.cpu()`) gets them.
   */
  get data(): Storage {
    const data = this.hostData;
    if (data !== null) return data;
    const storage = this.storage as DeviceStorage;
    if (storage.device === 'cpu') return this.hostValues();
    throw new Error(`this tensor's values are on the GPU (${storage.device}): read them with \`await t.read()\`, or move the tensor with \`await t.cpu()\``);
  }

  /** 'cpu' or 'webgpu': where the values live. */
  get device(): Device {
    return this.storage === null ? 'cpu' : this.storage.device;
  }

  /** @internal The values for synchronous readers: a CPU tensor's, or a device tensor's as of its last read. */
  hostValues(): Storage {
    if (this.hostData !== null) return this.hostData;
    const values = (this.storage as DeviceStorage).host();
    if (values === null) {
      throw new Error(`this tensor's values are on the GPU and changed since they were last read: \`await t.read()\` first`);
    }
    return values;
  }

  /** The values from any device (a copy): Float32Array, or Float64Array for float64 and int64. */
  read(): Promise<Storage> {
    return this.hostData !== null ? Promise.resolve(this.hostData.slice()) : (this.storage as DeviceStorage).read();
  }

  /** A CPU copy (await t.cpu()): unlike PyTorch's, asynchronous, since a GPU tensor must be read back. */
  cpu(): Promise<Tensor> {
    return toHost(this);
  }

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

  /** A copy of the values; for a GPU tensor, as of its last `await t.read()`. item() and tolist() too. */
  toArray(): Storage {
    return this.hostValues().slice();
  }

  item(): number {
    if (this.numel() !== 1) {
      throw new Error(`item() needs a tensor with one element, not shape ${formatShape(this.shape)}`);
    }
    return this.hostValues()[0];
  }

  tolist(): NestedArray {
    const data = this.hostValues();
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
    runBackward(this, gradient ?? null);
  }

  /** A tensor sharing the values but no history. */
  detach(): Tensor {
    return Tensor.sharing(this, this.shape);
  }

  clone(): Tensor {
    return ops.clone(this);
  }

  /**
   * t.to('float64'): a cast; t.to('webgpu') or t.to('cpu'): a copy on that device, without
   * history. to('cpu') of a GPU tensor needs its values read first (`await t.read()`), or use
   * `await t.cpu()`.
   */
  to(target: DType | Device): Tensor {
    return target === 'cpu' || target === 'webgpu' ? toDevice(this, target) : ops.cast(this, target);
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

