import { cpu } from '../backends/cpu/index';
import { type Device, toDevice } from '../device';
import { allocate, type DType, isFloating } from '../dtype';
import { numel, type Shape } from '../shape';
import { type NestedArray, Tensor } from '../tensor';
import { defaultGenerator, type Generator } from '../random';

export interface TensorOptions {
  dtype?: DType;
  requires_grad?: boolean;
  /** Made on the CPU, then moved (default 'cpu'). */
  device?: Device;
}

function finish(t: Tensor, options: TensorOptions): Tensor {
  const placed = options.device ? toDevice(t, options.device) : t;
  if (options.requires_grad) placed.requires_grad_(true);
  return placed;
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

/** torch.tensor: values from a number or (rectangular) nested arrays. */
export function tensor(data: NestedArray, options: TensorOptions = {}): Tensor {
  const dtype = options.dtype ?? 'float32';
  const shape = inferShape(data);
  const storage = allocate(dtype, numel(shape));
  let at = 0;
  const fill = (value: NestedArray, dim: number): void => {
    if (dim === shape.length) {
      if (typeof value !== 'number') throw new Error(`tensor(): expected a number at depth ${dim}, got ${JSON.stringify(value)}`);
      if (dtype === 'int64' && !Number.isInteger(value)) throw new Error(`tensor(): ${value} is not an integer, but the dtype is int64`);
      storage[at++] = value;
      return;
    }
    if (!Array.isArray(value) || value.length !== shape[dim]) {
      throw new Error(`tensor(): the nested arrays are not rectangular (expected ${shape[dim]} items at depth ${dim})`);
    }
    for (const v of value) fill(v, dim + 1);
  };
  fill(data, 0);
  return finish(new Tensor(storage, shape, dtype, cpu), options);
}

export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  const dtype = options.dtype ?? 'float32';
  const storage = allocate(dtype, numel(shape));
  storage.fill(value);
  return finish(new Tensor(storage, shape.slice(), dtype, cpu), options);
}

export const zeros = (shape: Shape, options: TensorOptions = {}): Tensor => full(shape, 0, options);
export const ones = (shape: Shape, options: TensorOptions = {}): Tensor => full(shape, 1, options);

/** Zeros shaped like t, of its dtype, on its device. */
export function zeros_like(t: Tensor, options: TensorOptions = {}): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, device: t.device, ...options });
}

export function ones_like(t: Tensor, options: TensorOptions = {}): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, device: t.device, ...options });
}

export interface RandomOptions extends TensorOptions {
  generator?: Generator;
}

/** torch.rand: uniform on [0, 1), the same numbers as PyTorch's CPU generator. */
export function rand(shape: Shape, options: RandomOptions = {}): Tensor {
  const dtype = options.dtype ?? 'float32';
  if (!isFloating(dtype)) throw new Error('rand() makes floating-point tensors only');
  const storage = allocate(dtype, numel(shape));
  (options.generator ?? defaultGenerator).fillUniform(storage, 0, 1);
  return finish(new Tensor(storage, shape.slice(), dtype, cpu), options);
}

/** torch.randn: standard normal samples from the generator (Box–Muller). */
export function randn(shape: Shape, options: RandomOptions = {}): Tensor {
  const dtype = options.dtype ?? 'float32';
  const storage = allocate(dtype, numel(shape));
  const generator = options.generator ?? defaultGenerator;
  for (let i = 0; i < storage.length; i++) storage[i] = generator.normal();
  return finish(new Tensor(storage, shape.slice(), dtype, cpu), options);
}

/**
 * torch.randperm: a permutation of 0..n-1 as PyTorch's CPU kernel draws it (a Fisher–Yates
 * shuffle on 32-bit draws), so shuffled batches are the ones PyTorch draws from the same seed.
 */
export function randperm(n: number, { generator = defaultGenerator }: { generator?: Generator } = {}): Tensor {
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n - 1; i++) {
    const j = i + (generator.random() % (n - i));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return tensor(perm, { dtype: 'int64' });
}
