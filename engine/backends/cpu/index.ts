import type { Backend } from '../../backend';
import { allocate, type DType, promote, rounding, type Storage } from '../../dtype';
import { binaryFns, unaryBackwardFns, unaryFns, vectorExp } from '../../ops/pointwise';
import { broadcastShapes, broadcastStrides, contiguousStrides, numel, sameShape, type Shape, splitAt } from '../../shape';
import { Tensor } from '../../tensor';
import { addRowsWasm, reluBackwardWasm, reluWasm, sumRowsWasm } from './elementwise_wasm';
import { matmulInto } from './matmul';

function make(dtype: DType, shape: Shape): Tensor {
  return new Tensor(allocate(dtype, numel(shape)), shape.slice(), dtype, cpu);
}

/** The tensor's elements in `dtype` (no copy when it already is). */
function storageAs(x: Tensor, dtype: DType): Storage {
  if (x.dtype === dtype || (x.dtype !== 'float32' && dtype !== 'float32')) return x.data;
  return dtype === 'float32' ? new Float32Array(x.data) : new Float64Array(x.data);
}

/**
 * Calls visit(outIndex, srcIndex) for every element of `shape`, where srcIndex walks a tensor
 * whose element strides (per dim of `shape`) are `strides`: broadcasts and permutations.
 */
function walk(shape: Shape, strides: readonly number[], visit: (out: number, src: number) => void): void {
  const n = numel(shape);
  const rank = shape.length;
  const counter = new Array<number>(rank).fill(0);
  let src = 0;
  for (let out = 0; out < n; out++) {
    visit(out, src);
    for (let d = rank - 1; d >= 0; d--) {
      if (++counter[d] < shape[d]) {
        src += strides[d];
        break;
      }
      src -= strides[d] * (shape[d] - 1);
      counter[d] = 0;
    }
  }
}

/** Whether `inner` equals the trailing dims of `outer` (ignoring inner's leading 1s). */
function isTrailing(inner: Shape, outer: Shape): boolean {
  // A higher-rank inner (even all ones) makes the result's rank its own, not outer's.
  if (inner.length > outer.length) return false;
  let lead = 0;
  while (lead < inner.length && inner[lead] === 1) lead++;
  for (let i = 1; i <= inner.length - lead; i++) if (inner[inner.length - i] !== outer[outer.length - i]) return false;
  return true;
}

/** Up to this many terms, a float32 sum is accumulated in float32, in order. */
const SEQUENTIAL_SUM = 16;
const identity = (v: number): number => v;

function withDtype(x: Tensor, dtype: DType): DType {
  return x.dtype === 'int64' && dtype === 'int64' ? 'float32' : dtype;
}

export const cpu: Backend = {
  name: 'cpu',

  fromHost(data, shape, dtype) {
    // The typed-array constructor copies another typed array natively; from() iterates.
    const storage = dtype === 'float32' ? new Float32Array(data) : new Float64Array(data);
    return new Tensor(storage, shape.slice(), dtype, cpu);
  },

  unary(op, x, params) {
    const fn = unaryFns[op];
    const out = make(withDtype(x, x.dtype), x.shape);
    const r = rounding(out.dtype);
    const p = params.length === 0 ? params : params.map(r);
    const src = x.data;
    const dst = out.data;
    if (op === 'relu' && reluWasm(src, dst)) return out;
    for (let i = 0; i < dst.length; i++) dst[i] = fn(src[i], p, r);
    return out;
  },

  unaryBackward(op, grad, x, params) {
    const fn = unaryBackwardFns[op];
    const out = make(grad.dtype, x.shape);
    const r = rounding(out.dtype);
    const p = params.length === 0 ? params : params.map(r);
    const g = grad.data;
    const src = x.data;
    const dst = out.data;
    if (op === 'relu' && reluBackwardWasm(g, src, dst)) return out;
    for (let i = 0; i < dst.length; i++) dst[i] = fn(g[i], src[i], p, r);
    return out;
  },

  binary(op, a, b) {
    const fn = binaryFns[op];
    const shape = sameShape(a.shape, b.shape) || isTrailing(b.shape, a.shape) ? a.shape : broadcastShapes(a.shape, b.shape);
    const out = make(promote(a.dtype, b.dtype), shape);
    const r = rounding(out.dtype);
    const x = a.data;
    const y = b.data;
    const dst = out.data;
    if (x.length === dst.length && y.length === dst.length) {
      for (let i = 0; i < dst.length; i++) dst[i] = fn(x[i], y[i], r);
    } else if (y.length === 1 && x.length === dst.length) {
      const s = y[0];
      for (let i = 0; i < dst.length; i++) dst[i] = fn(x[i], s, r);
    } else if (x.length === 1 && y.length === dst.length) {
      const s = x[0];
      for (let i = 0; i < dst.length; i++) dst[i] = fn(s, y[i], r);
    } else if (x.length === dst.length && isTrailing(b.shape, shape)) {
      // b repeats along the leading dims (a bias row, say): no index arithmetic needed.
      if (op === 'add' && addRowsWasm(x, y, dst)) return out;
      for (let i = 0, j = 0; i < dst.length; i++, j = j + 1 === y.length ? 0 : j + 1) dst[i] = fn(x[i], y[j], r);
    } else {
      const sa = broadcastStrides(a.shape, shape);
      const sb = broadcastStrides(b.shape, shape);
      const strides = sa.map((s, i) => s + sb[i] * dst.length); // pack both walks into one
      walk(shape, strides, (o, packed) => {
        const j = Math.floor(packed / dst.length);
        dst[o] = fn(x[packed - j * dst.length], y[j], r);
      });
    }
    return out;
  },

  sum(x, dims, keepdim) {
    const outShape = x.shape.slice();
    for (const d of dims) outShape[d] = 1;
    const shape = keepdim ? outShape : x.shape.filter((_, i) => !dims.includes(i));
    const out = make(x.dtype, shape);
    const src = x.data;
    const dst = out.data;
    if (dst.length === 1) {
      // Short rows add up in order in the dtype, as PyTorch's float32 reduction does; long
      // ones in double, at least as accurate as PyTorch's pairwise (cascade) sum.
      const r = src.length <= SEQUENTIAL_SUM ? rounding(x.dtype) : identity;
      let s = 0;
      for (let i = 0; i < src.length; i++) s = r(s + src[i]);
      dst[0] = s;
      return out;
    }
    if (dst.length === src.length) {
      dst.set(src); // only dims of size 1 are reduced
      return out;
    }
    const acc = new Float64Array(dst.length);
    if (dims.every((d, i) => d === i)) {
      // Leading dims, e.g. a bias gradient summed over the batch: rows add up element-wise.
      const width = acc.length;
      if (!sumRowsWasm(src, acc)) for (let i = 0, j = 0; i < src.length; i++, j = j + 1 === width ? 0 : j + 1) acc[j] += src[i];
    } else {
      const strides = contiguousStrides(outShape);
      for (const d of dims) strides[d] = 0;
      walk(x.shape, strides, (i, o) => {
        acc[o] += src[i];
      });
    }
    dst.set(acc);
    return out;
  },

  max(x, dim, keepdim) {
    const [outer, size, inner] = splitAt(x.shape, dim);
    const shape = keepdim ? x.shape.map((d, i) => (i === dim ? 1 : d)) : x.shape.filter((_, i) => i !== dim);
    const values = make(x.dtype, shape);
    const indices = make('int64', shape);
    const src = x.data;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * size * inner + i;
        let best = src[base];
        let arg = 0;
        for (let k = 1; k < size && best === best; k++) {
          const v = src[base + k * inner];
          if (v > best || v !== v) {
            best = v;
            arg = k;
          }
        }
        values.data[o * inner + i] = best;
        indices.data[o * inner + i] = arg;
      }
    }
    return { values, indices };
  },

  matmul(a, b, transA, transB) {
    const dtype = promote(a.dtype, b.dtype);
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = transA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transA ? a.shape[ra - 2] : a.shape[ra - 1];
    const n = transB ? b.shape[rb - 2] : b.shape[rb - 1];
    const x = storageAs(a, dtype);
    const y = storageAs(b, dtype);
    if (ra === 2 && rb === 2) {
      const out = make(dtype, [m, n]);
      matmulInto(out.data, 0, x, 0, y, 0, m, k, n, transA, transB);
      return out;
    }
    const batchA = a.shape.slice(0, -2);
    const batchB = b.shape.slice(0, -2);
    const batch = broadcastShapes(batchA, batchB);
    const out = make(dtype, [...batch, m, n]);
    const strideA = broadcastStrides(batchA, batch).map((s) => s * m * k);
    const strideB = broadcastStrides(batchB, batch).map((s) => s * k * n);
    const packed = strideA.map((s, i) => s + strideB[i] * x.length);
    // PyTorch multiplies small batches in its own kernel, without fused multiply-adds.
    const fused = m * k * n >= 400;
    walk(batch, packed, (o, p) => {
      const j = Math.floor(p / x.length);
      matmulInto(out.data, o * m * n, x, p - j * x.length, y, j, m, k, n, transA, transB, fused);
    });
    return out;
  },

  softmax(x, dim, log) {
    const [outer, size, inner] = splitAt(x.shape, dim);
    const out = make(x.dtype, x.shape);
    const r = rounding(x.dtype);
    const src = x.data;
    const dst = out.data;
    // PyTorch's steps: max, exp(x − max), a running sum, then × 1/sum (softmax) or
    // (x − max) − log(sum) (log_softmax), each rounded to the dtype.
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * size * inner + i;
        let max = -Infinity;
        for (let k = 0; k < size; k++) max = Math.max(max, src[base + k * inner]);
        // The exponentials wait in dst (exactly: they are already rounded to the dtype).
        let sum = 0;
        for (let k = 0; k < size; k++) {
          const e = vectorExp(r(src[base + k * inner] - max), r);
          if (!log) dst[base + k * inner] = e;
          sum = r(sum + e);
        }
        if (log) {
          const logSum = r(Math.log(sum));
          for (let k = 0; k < size; k++) dst[base + k * inner] = r(src[base + k * inner] - max) - logSum;
        } else {
          const scale = r(1 / sum);
          for (let k = 0; k < size; k++) dst[base + k * inner] *= scale;
        }
      }
    }
    return out;
  },

  softmaxBackward(grad, output, dim, log) {
    const [outer, size, inner] = splitAt(output.shape, dim);
    const out = make(output.dtype, output.shape);
    const r = rounding(output.dtype);
    const g = grad.data;
    const y = output.data;
    const dst = out.data;
    // PyTorch's: softmax g_in = (g − Σ g·y)·y; log_softmax g_in = g − exp(y)·Σ g.
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * size * inner + i;
        let sum = 0;
        for (let k = 0; k < size; k++) {
          const at = base + k * inner;
          sum = r(sum + (log ? g[at] : r(g[at] * y[at])));
        }
        for (let k = 0; k < size; k++) {
          const at = base + k * inner;
          dst[at] = log ? g[at] - r(vectorExp(y[at], r) * sum) : r(g[at] - sum) * y[at];
        }
      }
    }
    return out;
  },

  transpose(x, dim0, dim1) {
    const shape = x.shape.slice();
    [shape[dim0], shape[dim1]] = [shape[dim1], shape[dim0]];
    const strides = contiguousStrides(x.shape);
    [strides[dim0], strides[dim1]] = [strides[dim1], strides[dim0]];
    const out = make(x.dtype, shape);
    const src = x.data;
    const dst = out.data;
    walk(shape, strides, (o, i) => {
      dst[o] = src[i];
    });
    return out;
  },

  broadcastTo(x, shape) {
    const out = make(x.dtype, shape);
    const src = x.data;
    const dst = out.data;
    walk(shape, broadcastStrides(x.shape, shape), (o, i) => {
      dst[o] = src[i];
    });
    return out;
  },

  cat(xs, dim) {
    const shape = xs[0].shape.slice();
    shape[dim] = xs.reduce((s, x) => s + x.shape[dim], 0);
    const dtype = xs.map((x) => x.dtype).reduce(promote);
    const out = make(dtype, shape);
    const [outer, size, inner] = splitAt(shape, dim);
    let offset = 0;
    for (const x of xs) {
      const chunk = x.shape[dim] * inner;
      for (let o = 0; o < outer; o++) {
        const from = o * chunk;
        for (let j = 0; j < chunk; j++) out.data[o * size * inner + offset + j] = x.data[from + j];
      }
      offset += chunk;
    }
    return out;
  },

  slice(x, dim, start, end) {
    const shape = x.shape.slice();
    shape[dim] = end - start;
    const out = make(x.dtype, shape);
    const [outer, size, inner] = splitAt(x.shape, dim);
    const chunk = (end - start) * inner;
    for (let o = 0; o < outer; o++) {
      out.data.set(x.data.subarray(o * size * inner + start * inner, o * size * inner + start * inner + chunk), o * chunk);
    }
    return out;
  },

  gather(x, dim, index) {
    const out = make(x.dtype, index.shape);
    const [outer, size, inner] = splitAt(index.shape, dim);
    const xsize = x.shape[dim];
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < size; k++) {
        for (let i = 0; i < inner; i++) {
          const at = (o * size + k) * inner + i;
          out.data[at] = x.data[(o * xsize + index.data[at]) * inner + i];
        }
      }
    }
    return out;
  },

  scatterAdd(shape, dim, index, src) {
    const out = make(src.dtype, shape);
    const [outer, size, inner] = splitAt(index.shape, dim);
    const xsize = shape[dim];
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < size; k++) {
        for (let i = 0; i < inner; i++) {
          const at = (o * size + k) * inner + i;
          out.data[(o * xsize + index.data[at]) * inner + i] += src.data[at];
        }
      }
    }
    return out;
  },

  cast(x, dtype) {
    const out = make(dtype, x.shape);
    out.data.set(x.data);
    return out;
  },
};
