// ReLU, its gradient, a bias row added to every row and a sum over leading dims for float32, on
// the WebAssembly SIMD kernels in elementwise.wat: bit for bit index.ts's JavaScript loops, whose
// call per element costs more than copying the operands into the module's memory and back.
// Each returns false, having done nothing, where WebAssembly SIMD is unavailable, an operand is
// not float32, or the tensor is too small to pay.
import type { Storage } from '../../dtype';
import { instantiate, reserve, roundUp, type WasmMemory } from '../../wasm';
import { ELEMENTWISE_WASM_BASE64 } from './elementwise_wasm_bytes';

interface Kernel {
  memory: WasmMemory;
  relu(x: number, n: number): void;
  relu_backward(g: number, x: number, n: number): void;
  add_rows(x: number, b: number, out: number, rows: number, width: number): void;
  sum_rows(x: number, acc: number, rows: number, width: number): void;
}

/** Below this many elements the JavaScript loop is as fast. */
const MIN_ELEMENTS = 256;

/** undefined until first use; null where WebAssembly SIMD is unavailable. */
let kernel: Kernel | null | undefined;
let heap = new Float32Array(0);

/**
 * Byte offsets of buffers of the given sizes in the module's memory, 16-byte aligned with 16
 * bytes of slack each, and the kernel; null where there is none or the memory can't hold them.
 */
function buffers(...bytes: number[]): { k: Kernel; at: number[] } | null {
  if (kernel === undefined) kernel = instantiate<Kernel>(ELEMENTWISE_WASM_BASE64);
  if (kernel === null) return null;
  const at: number[] = [];
  let end = 0;
  for (const size of bytes) {
    at.push(end);
    end += roundUp(size, 16) + 16;
  }
  if (!reserve(kernel.memory, end)) return null;
  if (heap.buffer !== kernel.memory.buffer) heap = new Float32Array(kernel.memory.buffer);
  return { k: kernel, at };
}

/** out = relu(x), as unaryFns.relu. */
export function reluWasm(x: Storage, out: Storage): boolean {
  if (x.length < MIN_ELEMENTS || !(x instanceof Float32Array) || !(out instanceof Float32Array)) return false;
  const b = buffers(4 * x.length);
  if (!b) return false;
  const [xp] = b.at;
  heap.set(x, xp >> 2);
  b.k.relu(xp, x.length);
  out.set(heap.subarray(xp >> 2, (xp >> 2) + x.length));
  return true;
}

/** out = relu's gradient from g and relu's input x, as unaryBackwardFns.relu. */
export function reluBackwardWasm(g: Storage, x: Storage, out: Storage): boolean {
  if (g.length < MIN_ELEMENTS || !(g instanceof Float32Array) || !(x instanceof Float32Array) ||
    !(out instanceof Float32Array)) return false;
  const b = buffers(4 * g.length, 4 * x.length);
  if (!b) return false;
  const [gp, xp] = b.at;
  heap.set(g, gp >> 2);
  heap.set(x, xp >> 2);
  b.k.relu_backward(gp, xp, g.length);
  out.set(heap.subarray(gp >> 2, (gp >> 2) + g.length));
  return true;
}

/** out[i] = x[i] + row[i mod row.length], rounded to float32. */
export function addRowsWasm(x: Storage, row: Storage, out: Storage): boolean {
  if (x.length < MIN_ELEMENTS || row.length === 0 || !(x instanceof Float32Array) ||
    !(row instanceof Float32Array) || !(out instanceof Float32Array)) return false;
  const b = buffers(4 * x.length, 4 * row.length, 4 * x.length);
  if (!b) return false;
  const [xp, rp, op] = b.at;
  heap.set(x, xp >> 2);
  heap.set(row, rp >> 2);
  b.k.add_rows(xp, rp, op, x.length / row.length, row.length);
  out.set(heap.subarray(op >> 2, (op >> 2) + x.length));
  return true;
}

/** acc[j] = Σ x[i] over i ≡ j mod acc.length, in double, in order. */
export function sumRowsWasm(x: Storage, acc: Float64Array): boolean {
  if (x.length < MIN_ELEMENTS || acc.length === 0 || !(x instanceof Float32Array)) return false;
  const b = buffers(4 * x.length, 8 * roundUp(acc.length, 4));
  if (!b) return false;
  const [xp, ap] = b.at;
  heap.set(x, xp >> 2);
  b.k.sum_rows(xp, ap, x.length / acc.length, acc.length);
  acc.set(new Float64Array(b.k.memory.buffer, ap, acc.length));
  return true;
}
