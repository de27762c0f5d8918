// float32 matmul on the WebAssembly SIMD kernel in matmul.wat. The operands are copied into the
// module's memory (a memcpy, cheap next to the O(mnk) product), packed there, multiplied with
// float32 accumulation, and the result copied out.
import { instantiate, reserve, roundUp, type WasmMemory } from '../../wasm';
import { MATMUL_WASM_BASE64 } from './matmul_wasm_bytes';

interface Kernel {
  memory: WasmMemory;
  pack(src: number, dst: number, rows: number, k: number, rs: number, ps: number, R: number): void;
  gemm(ap: number, bp: number, c: number, mp: number, np: number, k: number): void;
}

const MR = 4; // rows per A panel and C tile (matmul.wat's kernel is 4×8)
const NR = 8; // columns per B panel and C tile

/** undefined until first use; null where WebAssembly SIMD is unavailable. */
let kernel: Kernel | null | undefined;
let heap = new Float32Array(0);

/**
 * matmulInto's contract for float32 operands. Returns false, having done nothing, where
 * WebAssembly SIMD is unavailable or the operands don't fit in its 4 GB memory.
 */
export function matmulWasm(out: Float32Array, outOffset: number, a: Float32Array, aOffset: number,
  b: Float32Array, bOffset: number, m: number, k: number, n: number, transA: boolean,
  transB: boolean): boolean {
  if (kernel === undefined) kernel = instantiate<Kernel>(MATMUL_WASM_BASE64);
  if (kernel === null || k === 0) return false;
  const mp = roundUp(m, MR);
  const np = roundUp(n, NR);
  // Byte offsets: raw A, raw B, packed A, packed B, C (mp×np), each 16-byte aligned.
  const aRaw = 0;
  const bRaw = roundUp(aRaw + 4 * m * k, 16);
  const aPack = roundUp(bRaw + 4 * k * n, 16);
  const bPack = aPack + 4 * mp * k;
  const c = bPack + 4 * np * k;
  const end = c + 4 * mp * np;
  if (!reserve(kernel.memory, end)) return false;
  if (heap.buffer !== kernel.memory.buffer) heap = new Float32Array(kernel.memory.buffer);

  heap.set(a.subarray(aOffset, aOffset + m * k), aRaw >> 2);
  heap.set(b.subarray(bOffset, bOffset + k * n), bRaw >> 2);
  // A[i, p] at transA ? p*m + i : i*k + p; B's columns are packed as rows: B[p, j] at
  // transB ? j*k + p : p*n + j.
  kernel.pack(aRaw, aPack, m, k, transA ? 1 : k, transA ? m : 1, MR);
  kernel.pack(bRaw, bPack, n, k, transB ? k : 1, transB ? 1 : n, NR);
  kernel.gemm(aPack, bPack, c, mp, np, k);

  const c0 = c >> 2;
  if (np === n) {
    out.set(heap.subarray(c0, c0 + m * n), outOffset);
  } else {
    for (let i = 0; i < m; i++) {
      const src = c0 + i * np;
      const dst = outOffset + i * n;
      for (let j = 0; j < n; j++) out[dst + j] = heap[src + j];
    }
  }
  return true;
}
