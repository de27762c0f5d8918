import { describe, expect, it, vi } from 'vitest';
import { matmulInto } from '../../../../engine/backends/cpu/matmul';
import { matmulBlocked, matmulSmall } from '../../../../engine/backends/cpu/matmul_js';
import { matmulWasm } from '../../../../engine/backends/cpu/matmul_wasm';

type Data = Float32Array | Float64Array;
type Kernel = (out: Data, outOffset: number, a: Data, aOffset: number, b: Data, bOffset: number,
  m: number, k: number, n: number, transA: boolean, transB: boolean) => void;

// Deterministic values in [-1, 1) (or [0, 1) for positive) from a small LCG.
function fill(array: Data, seed: number, positive = false): Data {
  let s = seed >>> 0;
  for (let i = 0; i < array.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    array[i] = positive ? s / 2 ** 32 : s / 2 ** 31 - 1;
  }
  return array;
}

/** The exact-as-double product and, per element, Σ|A·B| (the scale of float32 rounding error). */
function reference(a: Data, aOffset: number, b: Data, bOffset: number, m: number, k: number,
  n: number, transA: boolean, transB: boolean): { value: Float64Array; scale: Float64Array } {
  const value = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let t = 0;
      for (let p = 0; p < k; p++) {
        const x = a[aOffset + (transA ? p * m + i : i * k + p)];
        const y = b[bOffset + (transB ? j * k + p : p * n + j)];
        s += x * y;
        t += Math.abs(x * y);
      }
      value[i * n + j] = s;
      scale[i * n + j] = t;
    }
  }
  return { value, scale };
}

const TRANS: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 3, 3], [3, 3, 1], [2, 1, 4], [7, 13, 5], [5, 17, 9], [16, 16, 16], [33, 9, 17],
  [4, 64, 8], [130, 300, 70],
];

/**
 * Runs kernel on offset operands inside larger arrays (guard values around the output) and
 * checks |got − exact| ≤ tol·(|exact| or Σ|A·B|). Returns false where the kernel declined.
 */
function check(kernel: Kernel | typeof matmulWasm, Type: typeof Float32Array | typeof Float64Array,
  [m, k, n]: [number, number, number], [transA, transB]: [boolean, boolean],
  tol: number, relativeTo: 'value' | 'scale', positive = false): boolean {
  const aOffset = 3;
  const bOffset = 5;
  const outOffset = 7;
  const a = fill(new Type(aOffset + m * k + 2), m * 31 + k, positive);
  const b = fill(new Type(bOffset + k * n + 2), n * 17 + k + 1, positive);
  const out = new Type(outOffset + m * n + 4).fill(Number.NaN);
  const ran: unknown = (kernel as Kernel)(out, outOffset, a, aOffset, b, bOffset, m, k, n, transA, transB);
  if (ran === false) return false;
  const { value, scale } = reference(a, aOffset, b, bOffset, m, k, n, transA, transB);
  let worst = 0;
  for (let i = 0; i < m * n; i++) {
    const bound = tol * Math.max(relativeTo === 'value' ? Math.abs(value[i]) : scale[i], 1e-30);
    worst = Math.max(worst, Math.abs(out[outOffset + i] - value[i]) / bound);
  }
  expect(worst, `${Type.name} ${m}×${k}·${k}×${n} trans ${transA},${transB}`).toBeLessThanOrEqual(1);
  for (let i = 0; i < outOffset; i++) expect(out[i]).toBeNaN();
  for (let i = outOffset + m * n; i < out.length; i++) expect(out[i]).toBeNaN();
  return true;
}

describe('matmulInto', () => {
  it('float64 agrees with the double reference to 1e-12 for every shape and transposition', () => {
    for (const shape of SHAPES) for (const t of TRANS) check(matmulInto, Float64Array, shape, t, 1e-12, 'value');
  });

  it('float32 agrees with the exact product to 1e-6 of Σ|A·B| for every shape and transposition', () => {
    for (const shape of SHAPES) for (const t of TRANS) check(matmulInto, Float32Array, shape, t, 1e-6, 'scale');
  });

  it('handles the MLP shapes (x·Wᵀ, g·W, gᵀ·x)', () => {
    check(matmulInto, Float32Array, [128, 784, 256], [false, true], 1e-6, 'scale');
    check(matmulInto, Float32Array, [128, 256, 784], [false, false], 1e-6, 'scale', true);
    check(matmulInto, Float32Array, [256, 128, 784], [true, false], 1e-6, 'scale', true);
  });

  it('falls back to JavaScript where WebAssembly is missing', async () => {
    vi.resetModules();
    vi.stubGlobal('WebAssembly', undefined);
    try {
      const { matmulInto: withoutWasm } = await import('../../../../engine/backends/cpu/matmul');
      for (const t of TRANS) check(withoutWasm, Float32Array, [33, 40, 17], t, 2 ** -24 * (1 + 1e-9), 'value');
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('gives zeros when k = 0', () => {
    for (const Type of [Float32Array, Float64Array]) {
      for (const [m, n] of [[2, 3], [64, 64]]) {
        const out = new Type(m * n + 1).fill(Number.NaN);
        matmulInto(out, 1, new Type(0), 0, new Type(0), 0, m, 0, n, false, true);
        expect(out[0]).toBeNaN();
        expect(Array.from(out.subarray(1))).toEqual(new Array(m * n).fill(0));
      }
    }
  });

  it("accumulates the seed network's 1×3·3×3 in float32 with a fused multiply-add per step, as PyTorch's mm", () => {
    const x = new Float32Array([0.1, 0.2, 0.7]);
    const w = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]); // [out, in], used transposed
    const out = new Float32Array(3);
    matmulInto(out, 0, x, 0, w, 0, 1, 3, 3, false, true);
    const f = Math.fround;
    // Each step rounds x·w + s once: the product of two float32 values is exact in double.
    const row = (w0: number, w1: number, w2: number): number => f(f(f(x[0] * w0) + x[1] * w1) + x[2] * w2);
    expect(Array.from(out)).toEqual([row(1, 2, 3), row(4, 5, 6), row(7, 8, 9)]);
  });

  it('rounds each product first when asked (PyTorch\'s own kernel for small batched products)', () => {
    const a = new Float32Array([0.1, 0.2, 0.7]);
    const b = new Float32Array([0.3, 0.7, 0.9]);
    const out = new Float32Array(1);
    matmulInto(out, 0, a, 0, b, 0, 1, 3, 1, false, false, false);
    const f = Math.fround;
    expect(out[0]).toBe(f(f(f(a[0] * b[0]) + f(a[1] * b[1])) + f(a[2] * b[2])));
  });
});

// Each path on its own, whatever sizes matmulInto would send it.
describe('matmul paths', () => {
  const shapes: [number, number, number][] = [...SHAPES, [128, 784, 10]];
  it('blocked (double accumulation) is correctly rounded for float32 and float64', () => {
    for (const shape of shapes) {
      for (const t of TRANS) {
        check(matmulBlocked, Float64Array, shape, t, 1e-12, 'value');
        check(matmulBlocked, Float32Array, shape, t, 2 ** -24 * (1 + 1e-9), 'value');
      }
    }
  });

  it('small is exact to double for float64 and within float32 accumulation error for float32', () => {
    for (const shape of shapes) {
      for (const t of TRANS) {
        check(matmulSmall, Float64Array, shape, t, 1e-12, 'value');
        // k float32 roundings, each at most half an ulp of a partial sum bounded by Σ|A·B|.
        check(matmulSmall, Float32Array, shape, t, shape[1] * 2 ** -24, 'scale');
      }
    }
  });

  it('wasm (float32 accumulation) is within 1e-6 of Σ|A·B|', () => {
    for (const shape of shapes) {
      for (const t of TRANS) {
        expect(check(matmulWasm, Float32Array, shape, t, 1e-6, 'scale')).toBe(true);
        check(matmulWasm, Float32Array, shape, t, 1e-6, 'scale', true);
      }
    }
  });
});
