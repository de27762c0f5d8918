/**
 * Shared helpers for the fixture-driven engine tests: loading the PyTorch fixtures written by
 * test/fixtures/make_fixtures.py, decoding their tensors, and comparing with tolerances.
 *
 * Every expected value comes from a fixture (PyTorch's result); nothing here computes expected
 * values with the engine.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import * as torch from '../../engine/index';
import type { Device, NestedArray, Tensor } from '../../engine/index';
import { deviceOptions, useAdapter } from './backends/webgpu/gpu';

/** A fixture number: NaN and the infinities are strings, so the JSON stays strict. */
export type FNum = number | 'nan' | 'inf' | '-inf';
export type FDType = 'float32' | 'float64' | 'int64';

/** A fixture tensor: flat row-major data. */
export interface FTensor {
  shape: number[];
  dtype: FDType;
  data: FNum[];
}

export interface Tolerance {
  /** Allowed |actual - expected| relative to |expected|. */
  rel: number;
  /** The floor for values near 0: |actual - expected| <= max(rel * |expected|, abs). */
  abs: number;
}

export const TOL = {
  /** One float32 op: 1e-6 relative is about 8-16 float32 ulps; the 1e-7 floor covers results near 0. */
  f32: { rel: 1e-6, abs: 1e-7 },
  /** One float64 op (or a short float64 sequence). */
  f64: { rel: 1e-12, abs: 1e-14 },
  /**
   * Long float32 sequences (50-step training runs, the seed's 49 iterations): rounding differences
   * of an ulp or two (summation order in matmul and reductions) compound over the steps, so 1e-5
   * relative. The 1e-6 absolute floor is for values that converge towards 0 (gradients, tiny
   * probabilities): there a difference of a few float32 ulps of the O(1) quantities they are
   * computed from (e.g. p - 1 for p near 1) is ~1e-7, far more than 1e-5 of the tiny value.
   */
  train32: { rel: 1e-5, abs: 1e-6 },
  /** Exact: the random generator promises PyTorch's bits. */
  exact: { rel: 0, abs: 0 },
} satisfies Record<string, Tolerance>;

/** The single-op tolerance for a dtype. */
export function tolFor(dtype: FDType | string): Tolerance {
  return dtype === 'float64' ? TOL.f64 : TOL.f32;
}

/** Reads test/fixtures/<name>, relative to this file. */
export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

export function num(x: FNum): number {
  if (x === 'nan') return NaN;
  if (x === 'inf') return Infinity;
  if (x === '-inf') return -Infinity;
  return x;
}

export function nums(xs: readonly FNum[]): number[] {
  return xs.map(num);
}

/** Nests flat row-major values into arrays of the given shape (a bare number for shape []). */
export function nest(flat: readonly number[], shape: readonly number[]): NestedArray {
  const size = shape.reduce((a, b) => a * b, 1);
  if (flat.length !== size) throw new Error(`nest: ${flat.length} values for shape [${shape.join(', ')}]`);
  if (shape.length === 0) return flat[0];
  const build = (dim: number, offset: number, stride: number): NestedArray => {
    if (dim === shape.length) return flat[offset];
    const inner = stride / shape[dim];
    return Array.from({ length: shape[dim] }, (_, i) => build(dim + 1, offset + i * inner, inner));
  };
  return build(0, 0, size);
}

/**
 * The devices every fixture runs on. The GPU holds float32 and int64 only (float64 stays on the
 * CPU), so float64 cases run on 'cpu' alone.
 */
export const DEVICES: readonly Device[] = ['cpu', 'webgpu'];

/** ' on webgpu' in test names; nothing for the CPU, whose names stay as they were. */
export function onDevice(device: Device): string {
  return device === 'cpu' ? '' : ` on ${device}`;
}

/** For a describe block on `device`: 'webgpu' opens the engine's GPU (its tests skip without an adapter, except in CI). */
export function useDevice(device: Device): void {
  if (device === 'webgpu') useAdapter(() => torch.webgpu.init(deviceOptions), () => torch.webgpu.release());
}

/** Whether a case can run on `device`: the GPU has no float64. */
export function runsOn(device: Device, ...tensors: (FTensor | null | undefined)[]): boolean {
  return device === 'cpu' || tensors.every((t) => t?.dtype !== 'float64');
}

/** The tensor on the host, to compare: a GPU tensor's values are read back (a copy of shape and dtype). */
export async function host<T extends Tensor | null | undefined>(t: T): Promise<T> {
  return (t && t.device !== 'cpu' ? await t.cpu() : t) as T;
}

/** A fixture tensor as an engine tensor of the same dtype and shape, on `device` (default the CPU). */
export function decode(t: FTensor, options: { requires_grad?: boolean; device?: Device } = {}): Tensor {
  const x = torch.tensor(nest(nums(t.data), t.shape), { dtype: t.dtype, requires_grad: options.requires_grad ?? false, device: options.device });
  if (x.shape.length !== t.shape.length || x.shape.some((d, i) => d !== t.shape[i])) {
    throw new Error(`decode: torch.tensor gave shape [${x.shape.join(', ')}], not [${t.shape.join(', ')}]`);
  }
  return x;
}

/** Flat row-major data as numbers: a flat fixture array (same order as the decoded tensor's). */
export function flatData(t: FTensor): number[] {
  return nums(t.data);
}

function isFTensor(x: unknown): x is FTensor {
  return typeof x === 'object' && x !== null && 'shape' in x && 'data' in x && 'dtype' in x;
}

function isTensor(x: unknown): x is Tensor {
  return x instanceof torch.Tensor;
}

function flatten(x: NestedArray | readonly NestedArray[]): number[] {
  if (typeof x === 'number') return [x];
  const out: number[] = [];
  const walk = (v: NestedArray): void => {
    if (typeof v === 'number') out.push(v);
    else for (const w of v) walk(w);
  };
  for (const v of x) walk(v);
  return out;
}

export type Actual = Tensor | ArrayLike<number> | NestedArray | number;
export type Expected = FTensor | readonly FNum[] | FNum;

function actualValues(a: Actual): number[] {
  if (isTensor(a)) return Array.from(a.toArray());
  if (typeof a === 'number') return [a];
  if (Array.isArray(a)) return flatten(a as NestedArray[]);
  return Array.from(a as ArrayLike<number>);
}

function expectedValues(e: Expected): number[] {
  if (isFTensor(e)) return nums(e.data);
  if (Array.isArray(e)) return nums(e as FNum[]);
  return [num(e as FNum)];
}

/** Whether actual equals expected within tol; NaN equals NaN, infinities must be equal. */
export function close(actual: number, expected: number, tol: Tolerance): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (!Number.isFinite(expected)) return actual === expected;
  if (!Number.isFinite(actual)) return false;
  return Math.abs(actual - expected) <= Math.max(tol.rel * Math.abs(expected), tol.abs);
}

/**
 * Where PyTorch's float32 result is itself inaccurate (cancellation such as 1 + erf(x) for x < -1,
 * or float32 rounding inside a matmul), the fixture also holds PyTorch's float64 result for the
 * same inputs (`ref64`). An engine that computes more accurately than PyTorch's float32 kernels
 * then disagrees with them, so it also passes when it is at least as close to the float64 result
 * as PyTorch's float32 result is (times `factor`), or within tol of it.
 */
export function closeToRef(actual: number, expected32: number, ref64: number, tol: Tolerance, factor = 1): boolean {
  if (!Number.isFinite(ref64) || !Number.isFinite(actual)) return false;
  const torchError = Number.isFinite(expected32) ? Math.abs(expected32 - ref64) : 0;
  return Math.abs(actual - ref64) <= Math.max(tol.rel * Math.abs(ref64), tol.abs, factor * torchError);
}

export interface CloseOptions {
  /** PyTorch's float64 result for the same inputs, where its float32 result is inaccurate. */
  ref64?: Expected | null;
  /** How many times PyTorch's own float32 error the engine may have (default 1). */
  factor?: number;
}

/**
 * For results that are sums (matmul, linear, sum/mean, softmax, losses, the gradient of a
 * broadcast operand): the absolute floor becomes tol.rel times the largest |expected| of the
 * tensor. A sum of K float32 terms carries rounding of order K ulps of the terms, not of the
 * (possibly cancelled) result, and a different but equally valid summation order (PyTorch's
 * blocked/vectorised kernels vs the engine's loops) moves a small element of the result by more
 * than 1e-6 of itself; 1e-6 of the tensor's scale is still ~10 ulps of its largest entries.
 */
export function normwise(tol: Tolerance, expected: Expected): Tolerance {
  let scale = 0;
  for (const v of expectedValues(expected)) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  return withFloor(tol, tol.rel * scale);
}

/** tol with its absolute floor raised to at least `floor`. */
export function withFloor(tol: Tolerance, floor: number): Tolerance {
  return { rel: tol.rel, abs: Math.max(tol.abs, floor) };
}

function multiIndex(i: number, shape: readonly number[] | undefined): string {
  if (!shape || shape.length <= 1) return `${i}`;
  const idx: number[] = [];
  let r = i;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(r % shape[d]);
    r = Math.floor(r / shape[d]);
  }
  return `${i} [${idx.join(', ')}]`;
}

/**
 * Compares actual (an engine tensor, numbers or nested arrays) with a fixture value. A tensor
 * compared with a fixture tensor must also have its shape and dtype. On a mismatch the message
 * names the first mismatching index and both values, and how many elements differ.
 */
export function expectClose(
  actual: Actual | null | undefined,
  expected: Expected,
  tol: Tolerance,
  label: string,
  options: CloseOptions = {},
): void {
  expect(actual, `${label}: got ${String(actual)}`).not.toBeNull();
  expect(actual, `${label}: got undefined`).not.toBeUndefined();
  const a = actual as Actual;
  let shape: readonly number[] | undefined;
  if (isFTensor(expected)) {
    shape = expected.shape;
    if (isTensor(a)) {
      expect([...a.shape], `${label}: shape`).toEqual(expected.shape);
      expect(a.dtype, `${label}: dtype`).toBe(expected.dtype);
    }
  }
  const av = actualValues(a);
  const ev = expectedValues(expected);
  expect(av.length, `${label}: number of elements`).toBe(ev.length);
  const rv = options.ref64 ? expectedValues(options.ref64) : null;
  if (rv) expect(rv.length, `${label}: float64 reference size`).toBe(ev.length);
  let first = -1;
  let count = 0;
  let worst = 0;
  for (let i = 0; i < ev.length; i++) {
    if (!close(av[i], ev[i], tol) && !(rv && closeToRef(av[i], ev[i], rv[i], tol, options.factor))) {
      if (first < 0) first = i;
      count++;
      const scale = Math.max(Math.abs(ev[i]), tol.abs / Math.max(tol.rel, 1e-300));
      worst = Math.max(worst, Math.abs(av[i] - ev[i]) / scale);
    }
  }
  if (first >= 0) {
    const e = ev[first];
    const d = Math.abs(av[first] - e);
    const allowed = Number.isFinite(e) ? Math.max(tol.rel * Math.abs(e), tol.abs) : 0;
    expect.unreachable(
      `${label}: ${count} of ${ev.length} element(s) differ; first at index ${multiIndex(first, shape)}: ` +
        `actual ${av[first]}, expected ${e} (|diff| ${d}, allowed ${allowed}; worst relative ${worst.toExponential(2)})` +
        (rv ? `; PyTorch float64: ${rv[first]}` : ''),
    );
  }
}

/** Integer-valued results (max indices): exact, with shape and dtype int64 when a tensor. */
export function expectIndices(actual: Tensor | null | undefined, expected: FTensor, label: string): void {
  expect(actual, `${label}: missing`).toBeTruthy();
  const a = actual as Tensor;
  expect([...a.shape], `${label}: shape`).toEqual(expected.shape);
  expect(a.dtype, `${label}: dtype`).toBe('int64');
  expect(Array.from(a.toArray()), label).toEqual(nums(expected.data));
}
