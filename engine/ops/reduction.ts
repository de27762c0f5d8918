import { record } from '../autograd';
import { normalizeDim } from '../shape';
import type { Tensor } from '../tensor';
import { asTensor, broadcast_to, div, mul, reshape } from './arithmetic';

/** The dims to reduce, sorted; none given, or an empty list (as PyTorch 1.13 reads it), means all. */
function normalizeDims(x: Tensor, dim: number | readonly number[] | undefined): number[] {
  if (dim === undefined || (typeof dim !== 'number' && dim.length === 0)) return x.shape.map((_, i) => i);
  const dims = (typeof dim === 'number' ? [dim] : dim).map((d) => normalizeDim(d, x.dim()));
  return [...new Set(dims)].sort((a, b) => a - b);
}

/** The shape a reduction keeps with keepdim=true: reduced dims become 1. */
function keptShape(x: Tensor, dims: readonly number[]): number[] {
  return x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
}

export function sum(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const dims = normalizeDims(x, dim);
  return record(x.backend.sum(x, dims, keepdim), dim === undefined ? 'SumBackward0' : 'SumBackward1', [x], (g) => [
    broadcast_to(reshape(g, keptShape(x, dims)), x.shape),
  ]);
}

export function mean(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const dims = normalizeDims(x, dim);
  const count = dims.reduce((n, d) => n * x.shape[d], 1);
  const out = x.backend.binary('div', x.backend.sum(x, dims, keepdim), asTensor(count, x));
  return record(out, dim === undefined ? 'MeanBackward0' : 'MeanBackward1', [x], (g) => [div(broadcast_to(reshape(g, keptShape(x, dims)), x.shape), count)]);
}

/** max over all elements; the gradient is shared evenly among tied maxima, as in PyTorch. */
export function maxAll(x: Tensor): Tensor {
  const flat = reshape(x, [x.numel()]);
  const out = reshape(x.backend.max(flat, 0, false).values, []);
  return record(out, 'MaxBackward1', [x], (g) => {
    const mask = x.backend.binary('eq', x, out);
    const count = x.backend.sum(mask, mask.shape.map((_, i) => i), false);
    return [mul(mask, div(g, count))];
  });
}

export function maxDim(x: Tensor, dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
  const d = normalizeDim(dim, x.dim());
  const { values, indices } = x.backend.max(x, d, keepdim);
  record(values, 'MaxBackward0', [x], (g) => {
    const shape = keptShape(x, [d]);
    return [x.backend.scatterAdd(x.shape, d, reshape(indices, shape), reshape(g, shape))];
  });
  return { values, indices };
}

/** torch.max: the largest element, or with a dim the maxima and their indices along it. */
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
export function max(x: Tensor, dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
  return dim === undefined ? maxAll(x) : maxDim(x, dim, keepdim);
}
