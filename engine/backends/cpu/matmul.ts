import { matmulBlocked, matmulSmall } from './matmul_js';
import { matmulWasm } from './matmul_wasm';

// Up to this many multiply-adds (m·k·n) the direct loop wins: the other paths' setup costs more.
const SMALL_WORK = 256;

/**
 * out[outOffset + i*n + j] = Σ_p A[i,p]·B[p,j] for i < m, j < n (overwritten; zeros when k = 0),
 * where A[i,p] = transA ? a[aOffset + p*m + i] : a[aOffset + i*k + p] and
 * B[p,j] = transB ? b[bOffset + j*k + p] : b[bOffset + p*n + j]. a, b and out share one type.
 *
 * float64 accumulates in double. Tiny float32 products accumulate in float32 in PyTorch's order
 * (see matmulSmall; `fused` as there); larger ones run on the wasm SIMD kernel, which
 * accumulates in float32 in runs, or in double on the blocked JavaScript path where SIMD is missing.
 */
export function matmulInto(out: Float32Array | Float64Array, outOffset: number,
  a: Float32Array | Float64Array, aOffset: number, b: Float32Array | Float64Array, bOffset: number,
  m: number, k: number, n: number, transA: boolean, transB: boolean, fused = true): void {
  const work = m * k * n;
  if (work > SMALL_WORK) {
    if (out instanceof Float32Array &&
      matmulWasm(out, outOffset, a as Float32Array, aOffset, b as Float32Array, bOffset, m, k, n, transA, transB)) {
      return;
    }
    // Blocking pays only when there are 3×3 tiles to reuse the packed rows.
    if (m >= 3 && n >= 3) {
      matmulBlocked(out, outOffset, a, aOffset, b, bOffset, m, k, n, transA, transB);
      return;
    }
  }
  matmulSmall(out, outOffset, a, aOffset, b, bOffset, m, k, n, transA, transB, fused);
}
