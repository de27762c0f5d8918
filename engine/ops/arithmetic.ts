import { record } from '../autograd';
import type { Backend } from '../backend';
import { cpu } from '../backends/cpu/index';
import { allocate, type DType } from '../dtype';
import { broadcastShapes, normalizeDim, numel, sameShape, type Shape } from '../shape';
import { Tensor } from '../tensor';
import type { DifferentiableUnaryOp } from './pointwise';

/**
 * A number operand as a 0-d tensor of the other operand's dtype (PyTorch's wrapped scalars). It
 * stays on the CPU: a device kernel uploads it where it is used.
 */
export function asTensor(value: Tensor | number, like: Tensor): Tensor {
  if (value instanceof Tensor) return value;
  const dtype: DType = like.dtype === 'int64' && !Number.isInteger(value) ? 'float32' : like.dtype;
  const data = allocate(dtype, 1);
  data[0] = value;
  return new Tensor(data, [], dtype, cpu);
}

/** The backend of a binary op: a device operand's, so CPU operands (scalars, targets) join it there. */
export function backendOf(a: Tensor, b: Tensor): Backend {
  return a.storage === null && b.storage !== null ? b.backend : a.backend;
}

export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return record(x.backend.cast(x, dtype), 'ToCopyBackward0', [x], (g) => [cast(g, x.dtype)]);
}

export function clone(x: Tensor): Tensor {
  return record(x.backend.cast(x, x.dtype), 'CloneBackward0', [x], (g) => [g]);
}

/** The gradient of a broadcast operand: summed over the broadcast dims back to `shape`. */
export function sumTo(g: Tensor, shape: Shape, dtype: DType): Tensor {
  let out = g;
  if (!sameShape(g.shape, shape)) {
    const lead = g.shape.length - shape.length;
    const dims: number[] = [];
    for (let i = 0; i < g.shape.length; i++) {
      if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
    }
    out = g.backend.sum(g, dims, true);
    if (out.shape.length !== shape.length) out = reshape(out, shape);
  }
  return out.dtype === dtype ? out : out.backend.cast(out, dtype);
}

function needs(t: Tensor): boolean {
  return t.requires_grad;
}

export function add(a: Tensor, other: Tensor | number): Tensor {
  const b = asTensor(other, a);
  return record(backendOf(a, b).binary('add', a, b), 'AddBackward0', [a, b], (g) => [
    needs(a) ? sumTo(g, a.shape, a.dtype) : null,
    needs(b) ? sumTo(g, b.shape, b.dtype) : null,
  ]);
}

export function sub(a: Tensor, other: Tensor | number): Tensor {
  const b = asTensor(other, a);
  return record(backendOf(a, b).binary('sub', a, b), 'SubBackward0', [a, b], (g) => [
    needs(a) ? sumTo(g, a.shape, a.dtype) : null,
    needs(b) ? sumTo(neg(g), b.shape, b.dtype) : null,
  ]);
}

export function mul(a: Tensor, other: Tensor | number): Tensor {
  const b = asTensor(other, a);
  return record(backendOf(a, b).binary('mul', a, b), 'MulBackward0', [a, b], (g) => [
    needs(a) ? sumTo(mul(g, b), a.shape, a.dtype) : null,
    needs(b) ? sumTo(mul(g, a), b.shape, b.dtype) : null,
  ]);
}

export function div(a: Tensor, other: Tensor | number): Tensor {
  const b = asTensor(other, a);
  return record(backendOf(a, b).binary('div', a, b), 'DivBackward0', [a, b], (g) => [
    needs(a) ? sumTo(div(g, b), a.shape, a.dtype) : null,
    needs(b) ? sumTo(mul(neg(g), div(div(a, b), b)), b.shape, b.dtype) : null,
  ]);
}

/** An element-wise op with a fused backward kernel. */
export function pointwise(name: string, op: DifferentiableUnaryOp, x: Tensor, params: readonly number[] = []): Tensor {
  return record(x.backend.unary(op, x, params), name, [x], (g) => [x.backend.unaryBackward(op, g, x, params)]);
}

export function neg(x: Tensor): Tensor {
  return record(x.backend.unary('neg', x, []), 'NegBackward0', [x], (g) => [neg(g)]);
}

export function exp(x: Tensor): Tensor {
  const out = x.backend.unary('exp', x, []);
  return record(out, 'ExpBackward0', [x], (g) => [mul(g, out)]);
}

export function log(x: Tensor): Tensor {
  return record(x.backend.unary('log', x, []), 'LogBackward0', [x], (g) => [div(g, x)]);
}

export function sqrt(x: Tensor): Tensor {
  const out = x.backend.unary('sqrt', x, []);
  return record(out, 'SqrtBackward0', [x], (g) => [div(g, mul(out, 2))]);
}

export const abs = (x: Tensor): Tensor => pointwise('AbsBackward0', 'abs', x);
export const pow = (x: Tensor, exponent: number): Tensor => pointwise('PowBackward0', 'pow', x, [exponent]);

export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  if ((min ?? null) === null && (max ?? null) === null) throw new Error('clamp() needs at least one of min and max');
  return pointwise('ClampBackward1', 'clamp', x, [min ?? -Infinity, max ?? Infinity]);
}

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const n = x.numel();
  let known = 1;
  let inferred = -1; // the dim given as -1
  let valid = true;
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] !== -1) known *= shape[i];
    else if (inferred < 0) inferred = i;
    else valid = false; // two -1s
  }
  const resolved = shape.slice();
  if (inferred >= 0) resolved[inferred] = n / known;
  if (!valid || numel(resolved) !== n || !resolved.every(Number.isInteger)) {
    throw new Error(`shape [${shape.join(', ')}] is invalid for a tensor of ${n} elements`);
  }
  // Shares the storage, like PyTorch's view: in-place optimizer updates show through.
  const out = Tensor.sharing(x, resolved);
  return record(out, 'ViewBackward0', [x], (g) => [reshape(g, x.shape)]);
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normalizeDim(dim0, x.dim());
  const b = normalizeDim(dim1, x.dim());
  if (a === b || x.dim() < 2) return x;
  return record(x.backend.transpose(x, a, b), 'TransposeBackward0', [x], (g) => [transpose(g, a, b)]);
}

export function broadcast_to(x: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(x.shape, shape)) return x;
  broadcastShapes(x.shape, shape);
  return record(x.backend.broadcastTo(x, shape), 'ExpandBackward0', [x], (g) => [sumTo(g, x.shape, x.dtype)]);
}

/** Matrix product with PyTorch's matmul rules (1-D operands, broadcast batch dims). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.dim() === 0 || b.dim() === 0) throw new Error('matmul() needs tensors of at least one dimension');
  if (a.dim() === 1) return reshape(matmul(reshape(a, [1, a.shape[0]]), b), b.dim() === 1 ? [] : [...b.shape.slice(0, -2), b.shape[b.dim() - 1]]);
  if (b.dim() === 1) return reshape(matmul(a, reshape(b, [b.shape[0], 1])), a.shape.slice(0, -1));
  const k = a.shape[a.dim() - 1];
  if (b.shape[b.dim() - 2] !== k) {
    throw new Error(`matmul(): shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] cannot be multiplied (${k} ≠ ${b.shape[b.dim() - 2]})`);
  }
  return record(backendOf(a, b).matmul(a, b, false, false), 'MmBackward0', [a, b], (g) => [
    needs(a) ? sumTo(g.backend.matmul(g, b, false, true), a.shape, a.dtype) : null,
    needs(b) ? sumTo(g.backend.matmul(a, g, true, false), b.shape, b.dtype) : null,
  ]);
}

/** x · Wᵀ + b without materialising Wᵀ (nn.Linear's op). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const inFeatures = weight.shape[1];
  if (x.shape[x.dim() - 1] !== inFeatures) {
    throw new Error(`linear(): the input has ${x.shape[x.dim() - 1]} features, but the weight expects ${inFeatures}`);
  }
  if (x.dim() !== 2) {
    const flat = reshape(x, [-1, inFeatures]);
    return reshape(linear(flat, weight, bias), [...x.shape.slice(0, -1), weight.shape[0]]);
  }
  const b = backendOf(x, weight);
  // A device adds the bias in matmul's epilogue (the same bits as the add kernel).
  const product = b.linear ? b.linear(x, weight, bias ?? null, null) : b.matmul(x, weight, false, true);
  const out = bias && !b.linear ? b.binary('add', product, bias) : product;
  return record(out, 'AddmmBackward0', bias ? [x, weight, bias] : [x, weight], (g) => linearGrads(x, weight, bias ?? null, g));
}

/** linear's gradients for [x, weight, bias] from the output's gradient g (x 2-D). */
export function linearGrads(x: Tensor, weight: Tensor, bias: Tensor | null, g: Tensor): (Tensor | null)[] {
  return [
    needs(x) ? g.backend.matmul(g, weight, false, false) : null,
    needs(weight) ? g.backend.matmul(g, x, true, false) : null,
    bias && needs(bias) ? sumTo(g, bias.shape, bias.dtype) : null,
  ];
}
