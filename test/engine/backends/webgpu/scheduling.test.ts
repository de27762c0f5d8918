/**
 * Buffers, parameters and dispatch: the pool stays flat over many steps, uploads never overwrite a
 * buffer that recorded commands still read, and grids past the workgroup limit wrap into 2-D.
 */
import { describe, expect, test } from 'vitest';
import { cpu } from '../../../../engine/backends/cpu/index';
import { sizeClass } from '../../../../engine/backends/webgpu/pool';
import { WG } from '../../../../engine/backends/webgpu/kernels';
import type { GpuTensor, WebGPUBackend } from '../../../../engine/backends/webgpu/index';
import { EXACT, mismatches, pair, random, uniform, useGpu } from './gpu';

const gpu = useGpu();
// A second device whose grids wrap after 8 workgroups per dimension.
const small = useGpu({ maxWorkgroupsPerDimension: 8 });

describe('size classes', () => {
  test('at least the request, at most 25% more, 256 bytes or more', () => {
    let last = 0;
    for (let bytes = 1; bytes < 1 << 20; bytes += 1 + Math.floor(bytes / 7)) {
      const size = sizeClass(bytes);
      expect(size).toBeGreaterThanOrEqual(Math.max(bytes, 256));
      expect(size).toBeLessThanOrEqual(Math.max(256, bytes * 1.25));
      expect(size % 4).toBe(0);
      expect(size).toBeGreaterThanOrEqual(last);
      last = size;
    }
  });
});

/** A two-layer MLP's forward and backward on [32, 16] inputs: 16 kernels, every intermediate released. */
function step(backend: WebGPUBackend, w1: GpuTensor, w2: GpuTensor, rand: () => number): GpuTensor {
  const x = backend.fromHost(uniform(rand, 32 * 16, -1, 1, false), [32, 16], 'float32');
  const target = backend.fromHost(Float64Array.from({ length: 32 }, () => Math.floor(rand() * 10)), [32, 1], 'int64');
  const h = backend.matmul(x, w1, false, true);
  const a = backend.unary('gelu', h, []);
  const logits = backend.matmul(a, w2, false, true);
  const logp = backend.softmax(logits, 1, true);
  const picked = backend.gather(logp, 1, target);
  const loss = backend.sum(picked, [0, 1], false);
  const negated = backend.unary('neg', picked, []);
  const dpicked = backend.unary('exp', negated, []);
  const dlogp = backend.scatterAdd([32, 10], 1, target, dpicked);
  const dlogits = backend.softmaxBackward(dlogp, logp, 1, true);
  const dw2 = backend.matmul(dlogits, a, true, false);
  const da = backend.matmul(dlogits, w2, false, false);
  const dh = backend.unaryBackward('gelu', da, h, []);
  const dw1 = backend.matmul(dh, x, true, false);
  const grad = backend.sum(dw1, [0], false);
  for (const t of [x, target, h, a, logits, logp, picked, negated, dpicked, dlogp, dlogits, dw2, da, dh, dw1, grad]) backend.release(t);
  return loss;
}

describe('buffer pool', () => {
  test('steady state allocates nothing: the pool, staging and parameters stay flat over 1,000 steps', async () => {
    const { backend } = gpu();
    const rand = random(11);
    const w1 = backend.fromHost(uniform(rand, 64 * 16, -0.3, 0.3, false), [64, 16], 'float32');
    const w2 = backend.fromHost(uniform(rand, 10 * 64, -0.3, 0.3, false), [10, 64], 'float32');
    let warm = backend.stats();
    for (let i = 0; i < 1000; i++) {
      const loss = step(backend, w1, w2, rand);
      if (i % 100 === 99) expect(Number.isFinite((await backend.download(loss))[0])).toBe(true);
      backend.release(loss);
      if (i % 10 === 9) backend.flush(); // ten steps to a command buffer
      if (i === 99) warm = backend.stats();
    }
    expect(backend.stats()).toEqual(warm);
    expect(warm.pool.buffers).toBeLessThan(40);
    expect(warm.uniformChunks).toBe(1);
  });

  test('a buffer released while recorded commands still read it is not handed to an upload', async () => {
    const { backend } = gpu();
    const first = backend.fromHost(Float32Array.from([1, 2, 3]), [3], 'float32');
    const doubled = backend.binary('add', first, first);
    backend.release(first); // doubled's command, not yet submitted, still reads it
    const second = backend.fromHost(Float32Array.from([10, 20, 30]), [3], 'float32');
    expect(second.buffer).not.toBe(first.buffer);
    expect(Array.from(await backend.download(doubled))).toEqual([2, 4, 6]);
    expect(Array.from(await backend.download(second))).toEqual([10, 20, 30]);
    // Kernels may reuse it at once: commands run in order.
    const a = backend.fromHost(Float32Array.from([1, 1, 1]), [3], 'float32');
    const b = backend.unary('exp', a, []);
    backend.release(a);
    const c = backend.unary('neg', b, []);
    expect(c.buffer).toBe(a.buffer);
    expect(Array.from(await backend.download(c))).toEqual(Array(3).fill(-Math.fround(Math.E)));
  });

  test('releasing twice is an error; trim frees idle buffers', () => {
    const { backend } = gpu();
    const t = backend.fromHost(Float32Array.from([1]), [1], 'float32');
    backend.release(t);
    expect(() => backend.release(t)).toThrow(/released twice/);
    backend.trim();
    expect(backend.stats().pool.free).toBe(0);
  });
});

describe('2-D dispatch', () => {
  test('every kernel, on a grid that wraps after 8 workgroups', async () => {
    const { backend } = small();
    const rand = random(12);
    const shape = [37, 41]; // 1,517 elements: 12 workgroups of 128
    const x = pair(backend, uniform(rand, 37 * 41, -4, 4), shape);
    const y = pair(backend, uniform(rand, 41, -4, 4, false), [41]);
    const index = pair(backend, Float64Array.from({ length: 37 * 3 }, () => Math.floor(rand() * 41)), [37, 3], 'int64');
    const checks: [GpuTensor, { data: ArrayLike<number> }][] = [
      [backend.unary('tanh', x.gpu, []), cpu.unary('tanh', x.cpu, [])],
      [backend.binary('mul', x.gpu, y.gpu), cpu.binary('mul', x.cpu, y.cpu)],
      [backend.transpose(x.gpu, 0, 1), cpu.transpose(x.cpu, 0, 1)],
      [backend.sum(x.gpu, [1], false), cpu.sum(x.cpu, [1], false)],
      [backend.max(x.gpu, 1, false).indices, cpu.max(x.cpu, 1, false).indices],
      [backend.softmax(x.gpu, 1, false), cpu.softmax(x.cpu, 1, false)],
      [backend.gather(x.gpu, 1, index.gpu), cpu.gather(x.cpu, 1, index.cpu)],
      [backend.scatterAdd(shape, 1, index.gpu, backend.gather(x.gpu, 1, index.gpu)), cpu.scatterAdd(shape, 1, index.cpu, cpu.gather(x.cpu, 1, index.cpu))],
    ];
    const loose = { atol: 1e-6, rtol: 1e-5 };
    for (const [got, want] of checks) expect(mismatches(await backend.download(got), want.data, loose)).toEqual([]);
  });

  test(`past the device's own limit: ${65535 * WG + 1} elements`, async () => {
    const { backend } = gpu();
    const n = 65535 * WG + 1;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (i % 1000) - 500;
    const x = backend.fromHost(data, [n], 'float32');
    const y = backend.unary('neg', x, []);
    const got = await backend.download(y);
    expect(mismatches(got, data.map((v) => -v), EXACT)).toEqual([]);
    backend.release(x);
    backend.release(y);
    backend.trim();
  });
});
