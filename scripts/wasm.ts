// The engine's WebAssembly kernels: each .wat source compiled with wabt into a generated
// <name>_wasm_bytes.ts beside it (base64, committed, so neither the engine nor its users need wabt).
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const SOURCES = ['engine/backends/cpu/matmul.wat', 'engine/backends/cpu/elementwise.wat', 'engine/optim/optim.wat'];

export const root = fileURLToPath(new URL('../', import.meta.url));

/** Each kernel's generated file: its path (from the repo root), text and wasm size. */
export async function generatedWasmFiles(): Promise<{ target: string; text: string; size: number }[]> {
  const wabt = await wabtInit();
  return SOURCES.map((source) => {
    const name = basename(source, '.wat');
    const module = wabt.parseWat(source, readFileSync(root + source, 'utf8'), { simd: true });
    module.validate();
    const bytes = module.toBinary({}).buffer;
    module.destroy();
    const text = `// Generated from ${name}.wat by scripts/build-wasm.ts (npm run build:wasm); do not edit.\n` +
      `export const ${name.toUpperCase()}_WASM_BASE64 =\n  '${Buffer.from(bytes).toString('base64')}';\n`;
    return { target: `${dirname(source)}/${name}_wasm_bytes.ts`, text, size: bytes.length };
  });
}
