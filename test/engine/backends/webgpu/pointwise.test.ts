/**
 * Element-wise kernels against the CPU backend on the same float32 inputs, ±∞, NaN and ±0
 * included. Tolerances per op, with the reason, are in the tables below.
 */
import { describe, expect, test } from 'vitest';
import { cpu } from '../../../../engine/backends/cpu/index';
import type { GpuTensor } from '../../../../engine/backends/webgpu/index';
import { type BinaryOp, type DifferentiableUnaryOp, type UnaryOp } from '../../../../engine/ops/pointwise';
import type { Tensor } from '../../../../engine/tensor';
import { EXACT, type Gpu, mismatches, pair, random, type Tolerance, uniform, ulp, useGpu, wide } from './gpu';

const gpu = useGpu();
const N = 4099; // odd: the last workgroup is partial

async function expectClose(g: Gpu, got: GpuTensor, want: Tensor, tol: Tolerance, input?: (i: number) => string): Promise<void> {
  expect(got.shape).toEqual(want.shape);
  expect(got.dtype).toBe(want.dtype);
  expect(mismatches(await g.backend.download(got), want.data, tol, input)).toEqual([]);
}

function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface UnarySpec {
  inputs: (rand: () => number) => Float32Array;
  params: number[][];
  /** The tolerance for input x with parameters p. */
  tol: (x: Float32Array, p: number[]) => Tolerance;
}

/** One float32 rounding of a value near ±1 (erf, tanh), carried through 1 + v and scaled by x/2. */
function nearOne(x: Float32Array, k: number): Tolerance {
  return { ulps: 4, extra: Array.from(x, (v) => k * 0.5 * Math.abs(v) * 2 ** -24) };
}

// The GPU's exp, log, tanh and erf are within about an ulp of the correctly rounded value, which
// is what the CPU stores (it computes in double). Where a formula then cancels, as exp(x) − 1 near
// x = 0 or 1 + erf(x) near -1 (as PyTorch's float32 formulas do), that ulp becomes an absolute
// error, which the tolerance allows for explicitly.
const unarySpecs: Record<UnaryOp, UnarySpec> = {
  neg: { inputs: (r) => wide(r, N, -40, 38), params: [[]], tol: () => EXACT },
  abs: { inputs: (r) => wide(r, N, -40, 38), params: [[]], tol: () => EXACT },
  exp: { inputs: (r) => concat(uniform(r, N, -110, 95), uniform(r, N, -1, 1, false)), params: [[]], tol: () => ({ ulps: 2 }) },
  log: {
    inputs: (r) => concat(wide(r, N, -45, 38, true), uniform(r, N, 0.5, 2), wide(r, 64, -3, 3)),
    params: [[]],
    tol: () => ({ ulps: 2 }),
  },
  sqrt: { inputs: (r) => concat(wide(r, N, -45, 38, true), uniform(r, 64, -2, 2)), params: [[]], tol: () => ({ ulps: 1 }) },
  // Integer and half exponents multiply or call sqrt, as the CPU does; other exponents go through
  // 2^(p·log2 x), whose error grows with |p·log2 x| as any float32 pow's does.
  pow: {
    inputs: (r) => concat(wide(r, N, -3, 3), Float32Array.from({ length: 64 }, (_, i) => i - 32)),
    params: [[0], [1], [2], [3], [0.5], [-0.5], [-1], [-2], [1.5], [4], [-3], [0.3], [7], [-2.5], [Infinity], [NaN]],
    tol: (_x, [p]) => ({ ulps: [0, 1, 2, 3, -1, -2].includes(p) ? 0 : 2 + Math.abs(p) }),
  },
  clamp: { inputs: (r) => uniform(r, N, -5, 5), params: [[-1.5, 2], [-Infinity, 0.5], [0, Infinity]], tol: () => EXACT },
  relu: { inputs: (r) => uniform(r, N, -5, 5), params: [[]], tol: () => EXACT },
  leaky_relu: { inputs: (r) => uniform(r, N, -5, 5), params: [[0.01], [-0.3]], tol: () => EXACT },
  elu: {
    inputs: (r) => concat(uniform(r, N, -20, 5), uniform(r, N, -0.01, 0.01, false)),
    params: [[1], [0.7]],
    tol: (x, [alpha]) => ({ ulps: 2, extra: Array.from(x, (v) => 2 * Math.abs(alpha) * ulp(Math.exp(v))) }),
  },
  sigmoid: { inputs: (r) => uniform(r, N, -120, 120), params: [[]], tol: () => ({ ulps: 4 }) },
  tanh: { inputs: (r) => concat(uniform(r, N, -12, 12), uniform(r, N, -1, 1, false), wide(r, 64, -30, -2)), params: [[]], tol: () => ({ ulps: 2 }) },
  gelu: { inputs: (r) => concat(uniform(r, N, -12, 12), uniform(r, N, -3, 3, false)), params: [[]], tol: (x) => nearOne(x, 2) },
  gelu_tanh: { inputs: (r) => concat(uniform(r, N, -12, 12), uniform(r, N, -3, 3, false)), params: [[]], tol: (x) => nearOne(x, 2) },
  softplus: { inputs: (r) => uniform(r, N, -120, 120), params: [[1, 20], [2, 5], [0.5, 30], [1, 100]], tol: () => ({ ulps: 4 }) },
  smooth_l1: { inputs: (r) => uniform(r, N, -3, 3), params: [[1], [0.25]], tol: () => ({ ulps: 1 }) },
  huber: { inputs: (r) => uniform(r, N, -3, 3), params: [[1], [2.5]], tol: () => EXACT },
};

interface BackwardSpec {
  inputs: (rand: () => number) => Float32Array;
  params: number[][];
  tol: (x: Float32Array, g: Float32Array, p: number[]) => Tolerance;
}

const BETA = Math.sqrt(2 / Math.PI);

const backwardSpecs: Record<DifferentiableUnaryOp, BackwardSpec> = {
  abs: { inputs: (r) => uniform(r, N, -5, 5), params: [[]], tol: () => EXACT },
  pow: {
    inputs: (r) => concat(wide(r, N, -3, 3), Float32Array.from({ length: 64 }, (_, i) => i - 32)),
    params: [[0], [1], [2], [3], [0.5], [-1], [1.5], [4], [-2.5]],
    tol: (_x, _g, [p]) => ({ ulps: [0, 1, 2, 3, 4].includes(p) ? 2 : 4 + Math.abs(p) }),
  },
  clamp: { inputs: (r) => uniform(r, N, -5, 5), params: [[-1.5, 2], [-Infinity, 0.5]], tol: () => EXACT },
  relu: { inputs: (r) => uniform(r, N, -5, 5), params: [[]], tol: () => EXACT },
  leaky_relu: { inputs: (r) => uniform(r, N, -5, 5), params: [[0.01]], tol: () => EXACT },
  elu: { inputs: (r) => uniform(r, N, -20, 5), params: [[1], [0.7]], tol: () => ({ ulps: 2 }) },
  // An ulp of erf in 0.5·(1 + erf), times g.
  gelu: {
    inputs: (r) => uniform(r, N, -12, 12),
    params: [[]],
    tol: (_x, g) => ({ ulps: 4, extra: Array.from(g, (v) => 2 * 0.5 * Math.abs(v) * 2 ** -24) }),
  },
  // An ulp of tanh in 0.5·(1 + t) and in 1 − t², times g and the derivative's other factors.
  gelu_tanh: {
    inputs: (r) => uniform(r, N, -12, 12),
    params: [[]],
    tol: (x, g) => ({ ulps: 4, extra: Array.from(x, (v, i) => 2 * Math.abs(g[i]) * 2 ** -24 * (0.5 + Math.abs(v) * BETA * (1 + 0.134 * v * v))) }),
  },
  softplus: { inputs: (r) => uniform(r, N, -120, 120), params: [[1, 20], [2, 5]], tol: () => ({ ulps: 4 }) },
  smooth_l1: { inputs: (r) => uniform(r, N, -3, 3), params: [[1], [0.25]], tol: () => ({ ulps: 1 }) },
  huber: { inputs: (r) => uniform(r, N, -3, 3), params: [[1], [2.5]], tol: () => EXACT },
};

describe('unary kernels', () => {
  for (const [op, spec] of Object.entries(unarySpecs) as [UnaryOp, UnarySpec][]) {
    test(op, async () => {
      const g = gpu();
      const x = spec.inputs(random(op.length * 7 + 1));
      const xs = pair(g.backend, x, [x.length]);
      for (const params of spec.params) {
        await expectClose(g, g.backend.unary(op, xs.gpu, params), cpu.unary(op, xs.cpu, params), spec.tol(x, params),
          (i) => `${op}(${x[i]}; ${params.join(', ')})`);
      }
    });
  }

  test('int64 input gives float32, as on the CPU', async () => {
    const g = gpu();
    const x = pair(g.backend, Float64Array.from({ length: 300 }, (_, i) => i * 7 - 1000), [300], 'int64');
    await expectClose(g, g.backend.unary('exp', x.gpu, []), cpu.unary('exp', x.cpu, []), { ulps: 1 });
    await expectClose(g, g.backend.unary('neg', x.gpu, []), cpu.unary('neg', x.cpu, []), EXACT);
  });
});

describe('unary backward kernels', () => {
  for (const [op, spec] of Object.entries(backwardSpecs) as [DifferentiableUnaryOp, BackwardSpec][]) {
    test(op, async () => {
      const g = gpu();
      const rand = random(op.length * 13 + 5);
      const x = spec.inputs(rand);
      const grad = uniform(rand, x.length, -3, 3).reverse(); // its NaN and ±∞ meet finite x
      const xs = pair(g.backend, x, [x.length]);
      const gs = pair(g.backend, grad, [x.length]);
      for (const params of spec.params) {
        await expectClose(g, g.backend.unaryBackward(op, gs.gpu, xs.gpu, params), cpu.unaryBackward(op, gs.cpu, xs.cpu, params),
          spec.tol(x, grad, params), (i) => `${op}'(g=${grad[i]}, x=${x[i]}; ${params.join(', ')})`);
      }
    });
  }
});

const binaryTolerance: Record<BinaryOp, Tolerance> = {
  add: EXACT,
  sub: EXACT,
  mul: EXACT,
  div: { ulps: 1 }, // WGSL allows 2.5 ulp for division; llvmpipe rounds correctly
  eq: EXACT,
  mul_nonzero: EXACT,
  // The CPU rounds (b − 1)·log once, the GPU rounds b − 1 first: an ulp apart, plus log's ulp.
  bce: { ulps: 6 },
  bce_grad: { ulps: 2 },
  sigmoid_backward: EXACT,
  tanh_backward: EXACT,
};

const broadcasts: [number[], number[]][] = [
  [[37, 29], [37, 29]],
  [[37, 29], []],
  [[], [5, 3]],
  [[7, 1], [1, 13]],
  [[2, 1, 5], [3, 1]],
  [[4, 3, 1, 6], [3, 5, 1]],
  [[1, 9], [11, 1, 9]],
];

describe('binary kernels', () => {
  for (const [op, tol] of Object.entries(binaryTolerance) as [BinaryOp, Tolerance][]) {
    test(op, async () => {
      const g = gpu();
      const rand = random(op.length * 31 + 3);
      const probability = op === 'bce' || op === 'bce_grad';
      for (const [sa, sb] of broadcasts) {
        const na = sa.reduce((n, d) => n * d, 1);
        const nb = sb.reduce((n, d) => n * d, 1);
        const a = probability ? uniform(rand, na, 0, 1, false) : concat(wide(rand, na - 1, -20, 20), new Float32Array([NaN]));
        const b = probability ? uniform(rand, nb, 0, 1, false) : uniform(rand, nb, -3, 3, nb > 5);
        if (op === 'mul_nonzero' && na > 3) a[1] = 0;
        const x = pair(g.backend, a, sa);
        const y = pair(g.backend, b, sb);
        await expectClose(g, g.backend.binary(op, x.gpu, y.gpu), cpu.binary(op, x.cpu, y.cpu), tol);
      }
    });
  }

  test('edge values: 0, ±∞, NaN, huge and tiny divisors', async () => {
    const g = gpu();
    const values = [0, -0, 1, -1, 3, Infinity, -Infinity, NaN, 1e38, -3e38, 1e-38, 2e-30, 7e37];
    const a = Float32Array.from(values.flatMap((v) => values.map(() => v)));
    const b = Float32Array.from(values.flatMap(() => values));
    const x = pair(g.backend, a, [a.length]);
    const y = pair(g.backend, b, [b.length]);
    for (const op of ['add', 'sub', 'mul', 'div', 'eq', 'mul_nonzero', 'sigmoid_backward', 'tanh_backward'] as const) {
      await expectClose(g, g.backend.binary(op, x.gpu, y.gpu), cpu.binary(op, x.cpu, y.cpu), binaryTolerance[op],
        (i) => `${a[i]} ${op} ${b[i]}`);
    }
  });

  test('int64 operands: promotion to float32, and int64 results', async () => {
    const g = gpu();
    const rand = random(99);
    const ints = Float64Array.from({ length: 60 }, () => Math.floor(rand() * 200) - 100);
    const i = pair(g.backend, ints, [6, 10], 'int64');
    const j = pair(g.backend, Float64Array.from({ length: 10 }, (_, k) => k - 5), [10], 'int64');
    const f = pair(g.backend, uniform(rand, 10, -2, 2, false), [10]);
    for (const op of ['add', 'sub', 'mul', 'eq'] as const) {
      await expectClose(g, g.backend.binary(op, i.gpu, j.gpu), cpu.binary(op, i.cpu, j.cpu), EXACT);
      await expectClose(g, g.backend.binary(op, i.gpu, f.gpu), cpu.binary(op, i.cpu, f.cpu), EXACT);
    }
  });
});
