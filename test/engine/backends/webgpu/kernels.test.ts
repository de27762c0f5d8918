/**
 * Reductions, matmul, softmax and layout kernels against the CPU backend on the same inputs:
 * odd shapes, broadcast batch dims, multi-pass reductions, int64 tensors, ±∞ and NaN.
 */
import { describe, expect, test } from 'vitest';
import { cpu } from '../../../../engine/backends/cpu/index';
import type { GpuTensor } from '../../../../engine/backends/webgpu/index';
import type { Tensor } from '../../../../engine/tensor';
import { DEFAULT, EXACT, type Gpu, mismatches, pair, random, type Tolerance, uniform, useGpu } from './gpu';

const gpu = useGpu();

async function expectClose(g: Gpu, got: GpuTensor, want: Tensor, tol: Tolerance): Promise<void> {
  expect(got.shape).toEqual(want.shape);
  expect(got.dtype).toBe(want.dtype);
  expect(mismatches(await g.backend.download(got), want.data, tol)).toEqual([]);
}

function numel(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/**
 * A float32 sum (or dot product) differs from the exact one by at most about (terms)·2^-24 times
 * the sum of the magnitudes added; the GPU's tree sums stay far inside that bound.
 */
function sumTolerance(magnitudes: Tensor, terms: number): Tolerance {
  return { ...DEFAULT, extra: Array.from(magnitudes.data, (m) => m * terms * 2 ** -24) };
}

describe('sum', () => {
  const cases: [number[], number[]][] = [
    [[1000], [0]],
    [[37, 53], [0]],
    [[37, 53], [1]],
    [[37, 53], [0, 1]],
    [[4, 5, 6, 7], [1, 3]],
    [[4, 5, 6, 7], [0, 2]],
    [[4, 5, 6, 7], [0, 1, 2]],
    [[3, 1, 5], [1]],
    [[300001], [0]], // three passes
    [[5, 70001], [1]],
    [[70001, 3], [0]],
    [[], []],
    [[0, 4], [0]],
  ];
  for (const [shape, dims] of cases) {
    for (const keepdim of [false, true]) {
      test(`${JSON.stringify(shape)} over ${JSON.stringify(dims)}${keepdim ? ', keepdim' : ''}`, async () => {
        const g = gpu();
        const data = uniform(random(numel(shape) + dims.length), numel(shape), -100, 100, false);
        const x = pair(g.backend, data, shape);
        const abs = cpu.sum(cpu.unary('abs', x.cpu, []), dims, keepdim);
        const terms = dims.reduce((n, d) => n * shape[d], 1);
        await expectClose(g, g.backend.sum(x.gpu, dims, keepdim), cpu.sum(x.cpu, dims, keepdim), sumTolerance(abs, terms));
      });
    }
  }

  test('NaN and ±∞ propagate; int64 sums exactly', async () => {
    const g = gpu();
    const data = Float32Array.from({ length: 40 }, (_, i) => i);
    data[3] = NaN;
    data[12] = Infinity;
    data[25] = Infinity;
    data[27] = -Infinity;
    data[35] = -Infinity;
    const x = pair(g.backend, data, [4, 10]);
    await expectClose(g, g.backend.sum(x.gpu, [1], false), cpu.sum(x.cpu, [1], false), EXACT);
    await expectClose(g, g.backend.sum(x.gpu, [0], false), cpu.sum(x.cpu, [0], false), EXACT);
    const ints = pair(g.backend, Float64Array.from({ length: 5000 }, (_, i) => (i % 97) - 40), [50, 100], 'int64');
    await expectClose(g, g.backend.sum(ints.gpu, [0, 1], false), cpu.sum(ints.cpu, [0, 1], false), EXACT);
    await expectClose(g, g.backend.sum(ints.gpu, [1], true), cpu.sum(ints.cpu, [1], true), EXACT);
  });
});

describe('max', () => {
  const cases: [number[], number][] = [
    [[1000], 0],
    [[37, 53], 0],
    [[37, 53], 1],
    [[4, 5, 6], 1],
    [[4, 5, 6], 2],
    [[1, 7], 0],
    [[300001], 0],
    [[3, 70001], 1],
  ];
  for (const [shape, dim] of cases) {
    test(`${JSON.stringify(shape)} along ${dim}`, async () => {
      const g = gpu();
      const rand = random(numel(shape) * 3 + dim);
      // Few distinct values, so that ties are common: the first maximum must win.
      const data = Float32Array.from({ length: numel(shape) }, () => Math.floor(rand() * 20) - 10);
      const x = pair(g.backend, data, shape);
      for (const keepdim of [false, true]) {
        const got = g.backend.max(x.gpu, dim, keepdim);
        const want = cpu.max(x.cpu, dim, keepdim);
        await expectClose(g, got.values, want.values, EXACT);
        await expectClose(g, got.indices, want.indices, EXACT);
      }
    });
  }

  test('NaN counts as maximal (the first one), -∞ rows, ±0, int64', async () => {
    const g = gpu();
    const rows = [
      [1, NaN, 3, NaN, 2],
      [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity],
      [-0, 0, -0, 0, -1],
      [0, -0, 0, -0, -1],
      [Infinity, 1, Infinity, NaN, 0],
      [-5, -4, -3, -4, -3],
    ];
    const x = pair(g.backend, Float32Array.from(rows.flat()), [6, 5]);
    const got = g.backend.max(x.gpu, 1, false);
    const want = cpu.max(x.cpu, 1, false);
    await expectClose(g, got.indices, want.indices, EXACT);
    const values = await g.backend.download(got.values);
    expect(Array.from(values).map((v) => Object.is(v, -0) ? '-0' : String(v))).toEqual(Array.from(want.values.data).map((v) => Object.is(v, -0) ? '-0' : String(v)));
    const ints = pair(g.backend, Float64Array.from({ length: 3000 }, (_, i) => (i * 37) % 101), [3, 1000], 'int64');
    const gi = g.backend.max(ints.gpu, 1, true);
    const wi = cpu.max(ints.cpu, 1, true);
    await expectClose(g, gi.values, wi.values, EXACT);
    await expectClose(g, gi.indices, wi.indices, EXACT);
  });
});

describe('matmul', () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[1, 1], [1, 1], false, false],
    [[3, 5], [5, 7], false, false],
    [[64, 64], [64, 64], false, false],
    [[65, 17], [17, 130], false, false],
    [[300, 128], [300, 70], true, false],
    [[128, 33], [70, 33], false, true],
    [[33, 129], [70, 33], true, true],
    [[5, 0], [0, 6], false, false],
    [[2, 3, 4, 5], [3, 5, 6], false, false],
    [[4, 1, 6, 5], [1, 3, 6, 2], true, false],
    [[7, 2, 9], [9, 3], false, false],
    [[9, 2], [7, 3, 9], true, true],
  ];
  for (const [sa, sb, ta, tb] of cases) {
    test(`${JSON.stringify(sa)}${ta ? 'ᵀ' : ''} · ${JSON.stringify(sb)}${tb ? 'ᵀ' : ''}`, async () => {
      const g = gpu();
      const rand = random(numel(sa) + numel(sb));
      const a = pair(g.backend, uniform(rand, numel(sa), -1000, 1000, false), sa);
      const b = pair(g.backend, uniform(rand, numel(sb), -3, 3, false), sb);
      const k = ta ? sa[sa.length - 2] : sa[sa.length - 1];
      const bound = cpu.matmul(cpu.unary('abs', a.cpu, []), cpu.unary('abs', b.cpu, []), ta, tb);
      await expectClose(g, g.backend.matmul(a.gpu, b.gpu, ta, tb), cpu.matmul(a.cpu, b.cpu, ta, tb), sumTolerance(bound, 2 * k));
    });
  }

  test('NaN and ∞ reach exactly the rows and columns they belong to', async () => {
    const g = gpu();
    const a = Float32Array.from({ length: 70 * 20 }, (_, i) => (i % 7) - 3);
    a[5 * 20 + 3] = NaN;
    a[9 * 20 + 4] = Infinity;
    const b = Float32Array.from({ length: 20 * 66 }, (_, i) => (i % 5) - 2);
    const x = pair(g.backend, a, [70, 20]);
    const y = pair(g.backend, b, [20, 66]);
    await expectClose(g, g.backend.matmul(x.gpu, y.gpu, false, false), cpu.matmul(x.cpu, y.cpu, false, false), EXACT);
  });
});

/**
 * The sum of exponentials (≥ 1) carries up to size·2^-24 relative error in float32 in any order:
 * relative in softmax, absolute in log_softmax (it goes through log). Plus a few ulp for exp.
 */
function softmaxTolerance(size: number, log: boolean): Tolerance {
  const sum = size * 2 ** -24;
  return log ? { atol: 1e-7 + sum, rtol: 1e-6, ulps: 8 } : { atol: 1e-7, rtol: 1e-6 + sum, ulps: 8 };
}

describe('softmax', () => {
  const cases: [number[], number][] = [[[5, 10], 1], [[4, 7, 3], 1], [[1000], 0], [[6, 9], 0], [[3, 2000], 1], [[2, 1, 3], 1]];
  for (const [shape, dim] of cases) {
    for (const log of [false, true]) {
      test(`${log ? 'log_softmax' : 'softmax'} ${JSON.stringify(shape)} along ${dim}, and its backward`, async () => {
        const g = gpu();
        const rand = random(numel(shape) + dim);
        const x = pair(g.backend, uniform(rand, numel(shape), -50, 50, false), shape);
        const y = cpu.softmax(x.cpu, dim, log);
        await expectClose(g, g.backend.softmax(x.gpu, dim, log), y, softmaxTolerance(shape[dim], log));
        const grad = pair(g.backend, uniform(rand, numel(shape), -1, 1, false), shape);
        const yg = g.backend.fromHost(y.data, shape, 'float32');
        const dx = cpu.softmaxBackward(grad.cpu, y, dim, log);
        const magnitude = log ? cpu.sum(cpu.unary('abs', grad.cpu, []), [dim], true) : cpu.sum(cpu.unary('abs', cpu.binary('mul', grad.cpu, y), []), [dim], true);
        const bound = cpu.broadcastTo(magnitude, shape);
        await expectClose(g, g.backend.softmaxBackward(grad.gpu, yg, dim, log), dx, sumTolerance(bound, 2 * shape[dim]));
      });
    }
  }

  test('large values, and rows with ±∞ or NaN', async () => {
    const g = gpu();
    const rows = [
      [1e4, -1e4, 9999, 0, 3],
      [-1e30, -2e30, -3e30, -1e30, 0],
      [-Infinity, 0, 1, 2, 3],
      [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity],
      [Infinity, 0, 1, 2, 3],
      [NaN, 0, 1, 2, 3],
      [88, 89, 90, 87, -200],
    ];
    const x = pair(g.backend, Float32Array.from(rows.flat()), [7, 5]);
    for (const log of [false, true]) {
      await expectClose(g, g.backend.softmax(x.gpu, 1, log), cpu.softmax(x.cpu, 1, log), softmaxTolerance(5, log));
    }
  });
});

describe("matmul's large tiles (128×128, 8×8 outputs an invocation), where the device runs 256 invocations", () => {
  const small = useGpu({ matmulTiling: 'small' });
  const large = useGpu({ matmulTiling: 'large' });
  const cases: [number[], number[], boolean, boolean][] = [
    [[1, 1], [1, 1], false, false],
    [[131, 67], [67, 257], false, false],
    [[67, 131], [67, 257], true, false],
    [[131, 67], [257, 67], false, true],
    [[67, 129], [200, 67], true, true],
    [[128, 128], [128, 128], false, false],
    [[3, 1, 130, 9], [2, 9, 131], false, false],
    // Contiguous dims that are multiples of 4 load as vec4s: both operands, A only, B only, batched.
    [[132, 68], [68, 260], false, false],
    [[68, 132], [68, 257], true, false],
    [[131, 68], [260, 68], false, true],
    [[68, 129], [200, 68], true, true],
    [[3, 1, 132, 8], [2, 8, 136], false, false],
  ];
  for (const [sa, sb, ta, tb] of cases) {
    test(`${JSON.stringify(sa)}${ta ? 'ᵀ' : ''} · ${JSON.stringify(sb)}${tb ? 'ᵀ' : ''}: the CPU's result, and the small tiles' bits`, async () => {
      const [gs, gl] = [small(), large()];
      const rand = random(numel(sa) + numel(sb));
      const av = uniform(rand, numel(sa), -1000, 1000, false);
      const bv = uniform(rand, numel(sb), -3, 3, false);
      const a = pair(gl.backend, av, sa);
      const b = pair(gl.backend, bv, sb);
      const k = ta ? sa[sa.length - 2] : sa[sa.length - 1];
      const bound = cpu.matmul(cpu.unary('abs', a.cpu, []), cpu.unary('abs', b.cpu, []), ta, tb);
      const got = gl.backend.matmul(a.gpu, b.gpu, ta, tb);
      await expectClose(gl, got, cpu.matmul(a.cpu, b.cpu, ta, tb), sumTolerance(bound, 2 * k));
      const reference = gs.backend.matmul(gs.backend.fromHost(av, sa, 'float32'), gs.backend.fromHost(bv, sb, 'float32'), ta, tb);
      expect(mismatches(await gl.backend.download(got), await gs.backend.download(reference), EXACT)).toEqual([]);
    });
  }

  test('with the epilogue: bias and tanh, NaN and ∞ in their rows and columns', async () => {
    const [gs, gl] = [small(), large()];
    const rand = random(5);
    const xv = uniform(rand, 133 * 40, -2, 2);
    const wv = uniform(rand, 150 * 40, -1, 1, false);
    const bv = uniform(rand, 150, -1, 1, false);
    const run = async (g: Gpu) => g.backend.download(g.backend.linear(g.backend.fromHost(xv, [133, 40], 'float32'),
      g.backend.fromHost(wv, [150, 40], 'float32'), g.backend.fromHost(bv, [150], 'float32'), 'tanh'));
    expect(mismatches(await run(gl), await run(gs), EXACT)).toEqual([]);
  });
});

describe('layout kernels', () => {
  test('transpose', async () => {
    const g = gpu();
    const rand = random(1);
    for (const [shape, d0, d1] of [[[3, 5], 0, 1], [[2, 3, 4, 5], 1, 3], [[7, 1, 9], 0, 2], [[130, 70], 1, 0]] as [number[], number, number][]) {
      const x = pair(g.backend, uniform(rand, numel(shape), -5, 5), shape);
      await expectClose(g, g.backend.transpose(x.gpu, d0, d1), cpu.transpose(x.cpu, d0, d1), EXACT);
    }
    const ints = pair(g.backend, Float64Array.from({ length: 24 }, (_, i) => i - 12), [2, 3, 4], 'int64');
    await expectClose(g, g.backend.transpose(ints.gpu, 0, 2), cpu.transpose(ints.cpu, 0, 2), EXACT);
  });

  test('broadcastTo', async () => {
    const g = gpu();
    const rand = random(2);
    for (const [from, to] of [[[3], [4, 3]], [[4, 1], [4, 6]], [[], [2, 3]], [[1, 5, 1], [3, 2, 5, 7]]] as [number[], number[]][]) {
      const x = pair(g.backend, uniform(rand, numel(from), -5, 5, false), from);
      await expectClose(g, g.backend.broadcastTo(x.gpu, to), cpu.broadcastTo(x.cpu, to), EXACT);
    }
  });

  test('cat, including mixed dtypes', async () => {
    const g = gpu();
    const rand = random(3);
    const a = pair(g.backend, uniform(rand, 2 * 3 * 4, -5, 5), [2, 3, 4]);
    const b = pair(g.backend, uniform(rand, 2 * 5 * 4, -5, 5), [2, 5, 4]);
    const c = pair(g.backend, uniform(rand, 2 * 1 * 4, -5, 5), [2, 1, 4]);
    await expectClose(g, g.backend.cat([a.gpu, b.gpu, c.gpu], 1), cpu.cat([a.cpu, b.cpu, c.cpu], 1), EXACT);
    await expectClose(g, g.backend.cat([a.gpu, a.gpu], 0), cpu.cat([a.cpu, a.cpu], 0), EXACT);
    await expectClose(g, g.backend.cat([a.gpu, a.gpu], 2), cpu.cat([a.cpu, a.cpu], 2), EXACT);
    const ints = pair(g.backend, Float64Array.from({ length: 8 }, (_, i) => i * 3), [2, 1, 4], 'int64');
    await expectClose(g, g.backend.cat([c.gpu, ints.gpu], 1), cpu.cat([c.cpu, ints.cpu], 1), EXACT);
  });

  test('slice', async () => {
    const g = gpu();
    const x = pair(g.backend, uniform(random(4), 5 * 6 * 7, -5, 5), [5, 6, 7]);
    for (const [dim, start, end] of [[0, 1, 4], [1, 0, 6], [1, 2, 3], [2, 3, 7], [2, 0, 0]]) {
      await expectClose(g, g.backend.slice(x.gpu, dim, start, end), cpu.slice(x.cpu, dim, start, end), EXACT);
    }
  });

  test('gather, and scatterAdd with repeated indices', async () => {
    const g = gpu();
    const rand = random(5);
    const x = pair(g.backend, uniform(rand, 6 * 10, -5, 5), [6, 10]);
    const index = pair(g.backend, Float64Array.from({ length: 6 * 4 }, () => Math.floor(rand() * 10)), [6, 4], 'int64');
    await expectClose(g, g.backend.gather(x.gpu, 1, index.gpu), cpu.gather(x.cpu, 1, index.cpu), EXACT);
    const rows = pair(g.backend, Float64Array.from({ length: 3 * 10 }, () => Math.floor(rand() * 6)), [3, 10], 'int64');
    await expectClose(g, g.backend.gather(x.gpu, 0, rows.gpu), cpu.gather(x.cpu, 0, rows.cpu), EXACT);
    const src = pair(g.backend, uniform(rand, 6 * 4, -5, 5, false), [6, 4]);
    await expectClose(g, g.backend.scatterAdd([6, 10], 1, index.gpu, src.gpu), cpu.scatterAdd([6, 10], 1, index.cpu, src.cpu), EXACT);
    const src0 = pair(g.backend, uniform(rand, 3 * 10, -5, 5, false), [3, 10]);
    await expectClose(g, g.backend.scatterAdd([6, 10], 0, rows.gpu, src0.gpu), cpu.scatterAdd([6, 10], 0, rows.cpu, src0.cpu), EXACT);
    const counts = pair(g.backend, Float64Array.from({ length: 24 }, () => 1), [6, 4], 'int64');
    await expectClose(g, g.backend.scatterAdd([6, 10], 1, index.gpu, counts.gpu), cpu.scatterAdd([6, 10], 1, index.cpu, counts.cpu), EXACT);
  });

  test('cast between float32 and int64, and clone', async () => {
    const g = gpu();
    const x = pair(g.backend, Float32Array.from({ length: 50 }, (_, i) => i * 3 - 70), [5, 10]);
    await expectClose(g, g.backend.cast(x.gpu, 'int64'), cpu.cast(x.cpu, 'int64'), EXACT);
    await expectClose(g, g.backend.cast(x.gpu, 'float32'), cpu.cast(x.cpu, 'float32'), EXACT);
    const ints = pair(g.backend, Float64Array.from({ length: 50 }, (_, i) => i * 1000 - 20000), [50], 'int64');
    await expectClose(g, g.backend.cast(ints.gpu, 'float32'), cpu.cast(ints.cpu, 'float32'), EXACT);
    expect(() => g.backend.cast(x.gpu, 'float64')).toThrow(/float64 tensors stay on the CPU/);
  });

  test('fromHost and download round-trip; float64 stays on the CPU', async () => {
    const g = gpu();
    const data = uniform(random(6), 1000, -1e30, 1e30);
    expect(Array.from(await g.backend.download(g.backend.fromHost(data, [10, 100], 'float32')))).toEqual(Array.from(data));
    const ints = Float64Array.from({ length: 100 }, (_, i) => (i - 50) * 40000000);
    const back = await g.backend.download(g.backend.fromHost(ints, [100], 'int64'));
    expect(back).toBeInstanceOf(Float64Array);
    expect(Array.from(back)).toEqual(Array.from(ints));
    expect(() => g.backend.fromHost(new Float64Array([3e9]), [1], 'int64')).toThrow(/does not fit/);
    expect(() => g.backend.fromHost(new Float64Array([1]), [1], 'float64')).toThrow(/float64 tensors stay on the CPU/);
    expect((await g.backend.download(g.backend.fromHost(new Float32Array(0), [0, 3], 'float32'))).length).toBe(0);
  });
});
