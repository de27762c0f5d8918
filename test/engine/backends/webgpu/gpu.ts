/**
 * Shared by the WebGPU tests: one device per test file, the CPU backend as the reference, and
 * comparison with per-op tolerances. Without an adapter the tests skip with the reason, except in
 * CI (CI=true), where a missing adapter fails them.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { DType, Storage } from '../../../../engine/dtype';
import { cpu } from '../../../../engine/backends/cpu/index';
import { acquireDevice, type DeviceOptions, type GpuContext, GpuUnavailableError, WebGPUBackend, type WebGPUBackendOptions } from '../../../../engine/backends/webgpu/index';
import type { GpuTensor } from '../../../../engine/backends/webgpu/index';
import type { Tensor } from '../../../../engine/tensor';

/** Dawn's backend for the tests: OpenGL ES (Mesa llvmpipe in CI) unless WEBGPU_BACKEND says otherwise. */
export const deviceOptions: DeviceOptions = { backend: process.env.WEBGPU_BACKEND ?? 'opengles' };

export interface Gpu {
  readonly context: GpuContext;
  readonly backend: WebGPUBackend;
}

/**
 * Opens something that needs a GPU for the tests of the enclosing describe block (or file); the
 * returned function gives it inside a test. Without an adapter the tests skip with the reason,
 * except in CI (CI=true), where a missing adapter fails them.
 */
export function useAdapter<T>(open: () => Promise<T>, close: (value: T) => void | Promise<void>): () => T {
  let value: T | null = null;
  let reason = '';
  beforeAll(async () => {
    try {
      value = await open();
    } catch (error) {
      if (!(error instanceof GpuUnavailableError) || process.env.CI) throw error;
      reason = error.message;
    }
  });
  beforeEach((test) => {
    if (value === null) test.skip(`no WebGPU device: ${reason}`);
  });
  afterAll(async () => {
    if (value !== null) await close(value);
    value = null;
  });
  return () => {
    if (value === null) throw new Error('no WebGPU device');
    return value;
  };
}

/** Opens a device and a backend of its own for the file's tests. */
export function useGpu(options: WebGPUBackendOptions = {}): () => Gpu {
  return useAdapter(async () => {
    const context = await acquireDevice(deviceOptions);
    return { context, backend: new WebGPUBackend(context, options) };
  }, ({ context, backend }) => {
    backend.dispose();
    context.destroy();
  });
}

/** mulberry32: a small seeded generator, so failures reproduce. */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SPECIALS = [NaN, Infinity, -Infinity, 0, -0];

/** n float32 values: uniform in [lo, hi], with the non-finite values and zeros mixed in. */
export function uniform(rand: () => number, n: number, lo: number, hi: number, specials = true): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand();
  if (specials) SPECIALS.forEach((v, i) => (out[(i * 7919) % n] = v));
  return out;
}

/** n float32 values spread over magnitudes 10^lo..10^hi, both signs (or positive only). */
export function wide(rand: () => number, n: number, lo: number, hi: number, positive = false): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = 10 ** (lo + (hi - lo) * rand());
    out[i] = positive || rand() < 0.5 ? v : -v;
  }
  return out;
}

export interface Pair {
  cpu: Tensor;
  gpu: GpuTensor;
}

/** The same values on both backends. */
export function pair(backend: WebGPUBackend, data: Storage, shape: readonly number[], dtype: DType = 'float32'): Pair {
  return { cpu: cpu.fromHost(data, shape, dtype), gpu: backend.fromHost(data, shape, dtype) };
}

/**
 * How far the GPU may be from the CPU: |gpu − cpu| ≤ atol + rtol·|cpu| + ulps·ulp(cpu) + extra[i].
 * NaN must match NaN and infinities must match exactly. Every tolerance also admits float32's
 * smallest normal (1.2e-38): WGSL lets GPUs flush subnormal results to zero.
 */
export interface Tolerance {
  atol?: number;
  rtol?: number;
  ulps?: number;
  /** A per-element allowance, e.g. the sum of the magnitudes a reduction added. */
  extra?: ArrayLike<number>;
}

export const EXACT: Tolerance = { atol: 0, rtol: 0 };
export const DEFAULT: Tolerance = { atol: 1e-7, rtol: 1e-6 };
const FLT_MIN = 2 ** -126;

export function ulp(v: number): number {
  const a = Math.abs(Math.fround(v));
  if (a < FLT_MIN) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

/** Mismatches as readable lines (empty when all agree). */
export function mismatches(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance, input?: (i: number) => string): string[] {
  const out: string[] = [];
  if (got.length !== want.length) return [`length ${got.length}, expected ${want.length}`];
  const { atol = 0, rtol = 0, ulps = 0, extra } = tol;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    let ok: boolean;
    if (Number.isNaN(w)) ok = Number.isNaN(g);
    else if (!Number.isFinite(w)) ok = g === w;
    else ok = Number.isFinite(g) && Math.abs(g - w) <= Math.max(FLT_MIN, atol + rtol * Math.abs(w) + ulps * ulp(w) + (extra ? extra[i] : 0));
    if (!ok && out.length < 8) out.push(`[${i}]${input ? ` ${input(i)}` : ''}: got ${g}, expected ${w} (${((g - w) / ulp(w)).toFixed(1)} ulp)`);
  }
  return out;
}
