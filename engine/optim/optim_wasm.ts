// The float32 twins of kernels.ts's updates on the WebAssembly SIMD kernels in optim.wat, bit for
// bit the same. The arrays pass through the module's memory a chunk at a time (copied in, updated,
// the changed ones copied back), so tensors keep their own storage and the chunks stay in cache.
import type { Storage } from '../dtype';
import { instantiate, reserve, type WasmMemory } from '../wasm';
import type { AdagradStep, AdamStep, RMSpropStep, SGDStep } from './kernels';
import { OPTIM_WASM_BASE64 } from './optim_wasm_bytes';

interface Kernel {
  memory: WasmMemory;
  sgd(p: number, g: number, buf: number, n: number, maximize: number, decay: number,
    momentum: number, first: number, nesterov: number, wd: number, mom: number, damp: number,
    lr: number): void;
  adam(p: number, g: number, m: number, v: number, vmax: number, n: number, maximize: number,
    l2: number, decoupled: number, amsgrad: number, wd: number, decay: number, b1: number,
    b2: number, a1: number, a2: number, eps: number, bc2Sqrt: number, stepSize: number): void;
  rmsprop(p: number, g: number, sq: number, avgGrad: number, buf: number, n: number,
    maximize: number, decay: number, centered: number, momentum: number, wd: number,
    alpha: number, oneMinusAlpha: number, eps: number, mom: number, lr: number): void;
  adagrad(p: number, g: number, sum: number, n: number, maximize: number, decay: number,
    wd: number, clr: number, eps: number): void;
}

/** Elements per array per chunk: five arrays' chunks (80 KB) stay in L2 between copy and update. */
const CHUNK = 4096;
const SLOTS = 5;
/** Byte offset of the i-th array's chunk in the module's memory. */
const slot = (i: number): number => i * CHUNK * 4;

/** undefined until first use; null where WebAssembly SIMD is unavailable. */
let kernel: Kernel | null | undefined;
let heap = new Float32Array(0);

function load(): Kernel | null {
  const k = instantiate<Kernel>(OPTIM_WASM_BASE64);
  if (k === null || !reserve(k.memory, slot(SLOTS))) return null;
  heap = new Float32Array(k.memory.buffer);
  return k;
}

/**
 * Runs update(k, n) over chunks of the arrays (array i at slot(i), n elements), copying back all
 * but arrays[1], the gradient. False, having done nothing, unless WebAssembly SIMD is available
 * and every array is float32.
 */
function chunked(arrays: (Storage | null)[], update: (k: Kernel, n: number) => void): boolean {
  if (kernel === undefined) kernel = load();
  if (kernel === null) return false;
  for (const a of arrays) if (a !== null && !(a instanceof Float32Array)) return false;
  const length = (arrays[0] as Storage).length;
  for (let start = 0; start < length; start += CHUNK) {
    const n = Math.min(CHUNK, length - start);
    for (let i = 0; i < arrays.length; i++) {
      const a = arrays[i];
      if (a) heap.set(n === length ? a : a.subarray(start, start + n), slot(i) >> 2);
    }
    update(kernel, n);
    for (let i = 0; i < arrays.length; i++) {
      const a = arrays[i];
      if (a && i !== 1) a.set(heap.subarray(slot(i) >> 2, (slot(i) >> 2) + n), start);
    }
  }
  return true;
}

export function sgdWasm(p: Storage, grad: Storage, buf: Storage | null, s: SGDStep): boolean {
  return chunked([p, grad, buf], (k, n) => k.sgd(slot(0), slot(1), slot(2), n, +s.maximize,
    +s.decay, +(buf !== null), +s.first, +s.nesterov, s.wd, s.mom, s.damp, s.lr));
}

export function adamWasm(p: Storage, grad: Storage, m: Storage, v: Storage, vmax: Storage | null,
  s: AdamStep): boolean {
  return chunked([p, grad, m, v, vmax], (k, n) => k.adam(slot(0), slot(1), slot(2), slot(3),
    slot(4), n, +s.maximize, +s.l2, +s.decoupled, +(vmax !== null), s.wd, s.decay, s.b1, s.b2,
    s.a1, s.a2, s.eps, s.bc2Sqrt, s.stepSize));
}

export function rmspropWasm(p: Storage, grad: Storage, sq: Storage, avgGrad: Storage | null,
  buf: Storage | null, s: RMSpropStep): boolean {
  return chunked([p, grad, sq, avgGrad, buf], (k, n) => k.rmsprop(slot(0), slot(1), slot(2),
    slot(3), slot(4), n, +s.maximize, +s.decay, +(avgGrad !== null), +(buf !== null), s.wd,
    s.alpha, s.oneMinusAlpha, s.eps, s.mom, s.lr));
}

export function adagradWasm(p: Storage, grad: Storage, sum: Storage, s: AdagradStep): boolean {
  return chunked([p, grad, sum], (k, n) => k.adagrad(slot(0), slot(1), slot(2), n, +s.maximize,
    +s.decay, s.wd, s.clr, s.eps));
}
