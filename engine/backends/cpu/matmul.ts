// Placeholder reference kernel (helper-2 replaces this with the fast one).
export function matmulInto(out: Float32Array | Float64Array, outOffset: number,
  a: Float32Array | Float64Array, aOffset: number, b: Float32Array | Float64Array, bOffset: number,
  m: number, k: number, n: number, transA: boolean, transB: boolean): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        s += (transA ? a[aOffset + p * m + i] : a[aOffset + i * k + p]) * (transB ? b[bOffset + j * k + p] : b[bOffset + p * n + j]);
      }
      out[outOffset + i * n + j] = s;
    }
  }
}
