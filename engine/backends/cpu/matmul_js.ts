// Plain-JavaScript matmul paths.
type Data = Float32Array | Float64Array;

const keep = (v: number): number => v;

/**
 * The direct triple loop: no setup at all, for the tiny products of hand-sized networks. float32
 * sums are accumulated in float32 in order along k, as PyTorch's CPU kernels do for small
 * products: with a fused multiply-add per step (BLAS's mm), or with the product rounded first
 * (PyTorch's own small bmm kernel) when `fused` is false. float64 accumulates in double.
 */
export function matmulSmall(out: Data, outOffset: number, a: Data, aOffset: number, b: Data,
  bOffset: number, m: number, k: number, n: number, transA: boolean, transB: boolean, fused = true): void {
  const r = out instanceof Float32Array ? Math.fround : keep;
  const rp = fused ? keep : r; // a float32 product is exact in double: rounding it is the unfused step
  const ai = transA ? 1 : k; // strides of A along i and p
  const ap = transA ? m : 1;
  const bj = transB ? k : 1; // strides of B along j and p
  const bp = transB ? 1 : n;
  let o = outOffset;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let x = aOffset + i * ai;
      let y = bOffset + j * bj;
      let s = 0;
      for (let p = 0; p < k; p++) {
        s = r(s + rp(a[x] * b[y]));
        x += ap;
        y += bp;
      }
      out[o++] = s;
    }
  }
}

// Scratch for the packed operands, kept between calls so steady training allocates nothing.
let packedA = new Float64Array(0);
let packedB = new Float64Array(0);

/** dst[r*k + p] = src[offset + r*rs + p*ps] for r < rows, p < k. */
function gather(dst: Float64Array, src: Data, offset: number, rows: number, k: number,
  rs: number, ps: number): void {
  let d = 0;
  for (let r = 0; r < rows; r++) {
    let s = offset + r * rs;
    for (let p = 0; p < k; p++) {
      dst[d++] = src[s];
      s += ps;
    }
  }
}

/**
 * Cache- and register-blocked product. A's rows and B's columns are first gathered into
 * Float64Arrays of k-long rows, so every inner loop is a contiguous dot product over one array
 * type (a single JIT shape for float32 and float64 inputs alike, and any transposition); the
 * kernel then computes 3×3 tiles of dot products at once (9 accumulators, 6 loads per step), over
 * column blocks of B small enough to stay in L2 while all of A's rows pass them.
 */
export function matmulBlocked(out: Data, outOffset: number, a: Data, aOffset: number, b: Data,
  bOffset: number, m: number, k: number, n: number, transA: boolean, transB: boolean): void {
  if (packedA.length < m * k) packedA = new Float64Array(m * k);
  if (packedB.length < n * k) packedB = new Float64Array(n * k);
  const pa = packedA;
  const pb = packedB;
  gather(pa, a, aOffset, m, k, transA ? 1 : k, transA ? m : 1);
  gather(pb, b, bOffset, n, k, transB ? k : 1, transB ? 1 : n);
  // Columns per block: ~256 KB of B.
  const nc = 3 * Math.max(1, Math.floor(32768 / (3 * k)));
  for (let j0 = 0; j0 < n; j0 += nc) {
    const j1 = Math.min(n, j0 + nc);
    const jTiles = j1 - ((j1 - j0) % 3);
    let i = 0;
    for (; i + 3 <= m; i += 3) {
      const a0 = i * k;
      const o = outOffset + i * n;
      let j = j0;
      for (; j < jTiles; j += 3) tile3x3(out, o + j, n, pa, a0, pb, j * k, k);
      for (; j < j1; j++) {
        out[o + j] = dot(pa, a0, pb, j * k, k);
        out[o + n + j] = dot(pa, a0 + k, pb, j * k, k);
        out[o + 2 * n + j] = dot(pa, a0 + 2 * k, pb, j * k, k);
      }
    }
    for (; i < m; i++) {
      for (let j = j0; j < j1; j++) out[outOffset + i * n + j] = dot(pa, i * k, pb, j * k, k);
    }
  }
}

function dot(x: Float64Array, xi: number, y: Float64Array, yi: number, k: number): number {
  let s = 0;
  for (let p = 0; p < k; p++) s += x[xi + p] * y[yi + p];
  return s;
}

/** out[o + r*n + c] = dot(A row a0 + r*k, B column b0 + c*k) for r, c < 3. */
function tile3x3(out: Data, o: number, n: number, pa: Float64Array, a0: number,
  pb: Float64Array, b0: number, k: number): void {
  const a1 = a0 + k;
  const a2 = a1 + k;
  const b1 = b0 + k;
  const b2 = b1 + k;
  let s00 = 0, s01 = 0, s02 = 0, s10 = 0, s11 = 0, s12 = 0, s20 = 0, s21 = 0, s22 = 0;
  for (let p = 0; p < k; p++) {
    const x0 = pa[a0 + p];
    const x1 = pa[a1 + p];
    const x2 = pa[a2 + p];
    let y = pb[b0 + p];
    s00 += x0 * y; s10 += x1 * y; s20 += x2 * y;
    y = pb[b1 + p];
    s01 += x0 * y; s11 += x1 * y; s21 += x2 * y;
    y = pb[b2 + p];
    s02 += x0 * y; s12 += x1 * y; s22 += x2 * y;
  }
  out[o] = s00; out[o + 1] = s01; out[o + 2] = s02;
  out[o + n] = s10; out[o + n + 1] = s11; out[o + n + 2] = s12;
  out[o + 2 * n] = s20; out[o + 2 * n + 1] = s21; out[o + 2 * n + 2] = s22;
}
