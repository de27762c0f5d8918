/**
 * For the tests that hold a WebAssembly SIMD kernel to its JavaScript reference bit for bit:
 * float32 inputs reaching each corner of float32 arithmetic, and a bitwise comparison.
 */
import { expect } from 'vitest';

/** Deterministic uniform [0, 1) numbers from a small LCG. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Mostly ordinary values over six decades, with ±0, tiny values (~1e-9, where an optimizer's eps
 * dominates), subnormals, values whose squares overflow, the largest float32s, NaN and ±inf.
 */
export function float32Values(length: number, seed: number, nonNegative = false): Float32Array {
  const rand = generator(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const u = rand();
    const sign = rand() < 0.5 ? -1 : 1;
    let x: number;
    if (u < 0.05) x = 0;
    else if (u < 0.12) x = 1e-9 * rand();
    else if (u < 0.14) x = 1e-40 * rand();
    else if (u < 0.17) x = 1e30 * rand();
    else if (u < 0.18) x = 3.4e38;
    else if (u < 0.19) x = NaN;
    else if (u < 0.2) x = Infinity;
    else x = 10 ** (6 * rand() - 3) * rand();
    out[i] = nonNegative ? x : sign * x;
  }
  return out;
}

/** The same bits everywhere; NaN matches any NaN, as neither side promises a NaN's payload. */
export function expectSameBits(actual: Float32Array | Float64Array, expected: Float32Array | Float64Array, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const bits = (x: number): string => {
    const view = new DataView(new ArrayBuffer(8));
    if (actual instanceof Float32Array) {
      view.setFloat32(0, x);
      return view.getUint32(0).toString(16);
    }
    view.setFloat64(0, x);
    return view.getBigUint64(0).toString(16);
  };
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (!Object.is(a, e)) expect.fail(`${what}[${i}]: wasm ${a} (0x${bits(a)}), JavaScript ${e} (0x${bits(e)})`);
  }
}
