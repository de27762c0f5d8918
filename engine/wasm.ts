// Synchronous instantiation of the engine's WebAssembly kernels (the .wat files that
// scripts/build-wasm.ts compiles), the same in Node and in Web Workers, and their memory layout.

// The engine's lib (ES2022) has no WebAssembly types; they come with the DOM and WebWorker libs.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
};

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** The module's exports, or null where WebAssembly SIMD is unavailable. */
export function instantiate<Exports>(base64: string): Exports | null {
  try {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    // Synchronous compile: the modules are a few KB, and the engine's API stays synchronous.
    return new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as Exports;
  } catch {
    return null;
  }
}

/** Grows `memory` to at least `bytes`; false where it can't (past 4 GB, or out of memory). */
export function reserve(memory: WasmMemory, bytes: number): boolean {
  const missing = bytes - memory.buffer.byteLength;
  if (missing <= 0) return true;
  if (bytes > 2 ** 32) return false;
  try {
    memory.grow(Math.ceil(missing / 65536));
    return true;
  } catch {
    return false;
  }
}

/** For laying out buffers in a module's memory: x rounded up to a multiple of `multiple`. */
export function roundUp(x: number, multiple: number): number {
  return Math.ceil(x / multiple) * multiple;
}
