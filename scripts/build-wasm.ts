// Writes the engine's compiled WebAssembly kernels (see scripts/wasm.ts). Run: npm run build:wasm
import { writeFileSync } from 'node:fs';
import { generatedWasmFiles, root } from './wasm';

for (const { target, text, size } of await generatedWasmFiles()) {
  writeFileSync(root + target, text);
  console.log(`${target}: ${size} bytes of wasm`);
}
