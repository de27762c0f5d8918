// Compiles engine/backends/cpu/matmul.wat and writes its bytes, base64, to matmul_wasm_bytes.ts
// (committed, so neither the engine nor its users need wabt). Run: npm run build:wasm
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const dir = fileURLToPath(new URL('../engine/backends/cpu/', import.meta.url));
const wabt = await wabtInit();
const module = wabt.parseWat('matmul.wat', readFileSync(dir + 'matmul.wat', 'utf8'), { simd: true });
module.validate();
const bytes = module.toBinary({}).buffer;
module.destroy();
const base64 = Buffer.from(bytes).toString('base64');
writeFileSync(dir + 'matmul_wasm_bytes.ts',
  '// Generated from matmul.wat by scripts/build-matmul-wasm.ts (npm run build:wasm); do not edit.\n' +
  `export const MATMUL_WASM_BASE64 =\n  '${base64}';\n`);
console.log(`matmul_wasm_bytes.ts: ${bytes.length} bytes of wasm`);
