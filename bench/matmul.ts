// Micro-benchmark of the CPU matmul paths on the MLP's shapes: npx tsx bench/matmul.ts
import { matmulBlocked } from '../engine/backends/cpu/matmul_js';
import { matmulWasm } from '../engine/backends/cpu/matmul_wasm';

type Path = typeof matmulBlocked;

// [label, m, k, n, transA, transB]: the 784-256-128-10 MLP at batch 128, forward and backward.
const SHAPES: [string, number, number, number, boolean, boolean][] = [
  ['x·W1ᵀ   128×784·(256×784)ᵀ', 128, 784, 256, false, true],
  ['g1ᵀ·x   (128×256)ᵀ·128×784', 256, 128, 784, true, false],
  ['g2·W2   128×128·128×256', 128, 128, 256, false, false],
  ['h1·W2ᵀ  128×256·(128×256)ᵀ', 128, 256, 128, false, true],
  ['h2·W3ᵀ  128×128·(10×128)ᵀ', 128, 128, 10, false, true],
];

/** Median GFLOP/s over runs of at least ~100 ms, after a warm-up that lets the JIT tier up. */
function gflops(path: Path, Type: typeof Float32Array | typeof Float64Array, m: number, k: number,
  n: number, transA: boolean, transB: boolean): number {
  const a = new Type(m * k).map(() => Math.random() - 0.5);
  const b = new Type(k * n).map(() => Math.random() - 0.5);
  const out = new Type(m * n);
  const run = () => path(out, 0, a, 0, b, 0, m, k, n, transA, transB);
  const start = performance.now();
  while (performance.now() - start < 300) run();
  const times: number[] = [];
  for (let rep = 0; rep < 15; rep++) {
    let iterations = 0;
    const t0 = performance.now();
    do {
      run();
      iterations++;
    } while (performance.now() - t0 < 20);
    times.push((performance.now() - t0) / iterations);
  }
  times.sort((x, y) => x - y);
  return (2 * m * k * n) / (times[times.length >> 1] * 1e6);
}

const rows = SHAPES.map(([label, m, k, n, tA, tB]) => ({
  shape: label,
  'JS f64 GFLOP/s': gflops(matmulBlocked, Float64Array, m, k, n, tA, tB).toFixed(2),
  'JS f32 GFLOP/s': gflops(matmulBlocked, Float32Array, m, k, n, tA, tB).toFixed(2),
  'wasm f32 GFLOP/s': gflops(matmulWasm as Path, Float32Array, m, k, n, tA, tB).toFixed(2),
}));
console.table(rows);
