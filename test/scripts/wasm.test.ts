import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { generatedWasmFiles, root } from '../../scripts/wasm';

it('the committed WebAssembly bytes are those of the .wat sources (npm run build:wasm)', async () => {
  for (const { target, text } of await generatedWasmFiles()) {
    expect(readFileSync(root + target, 'utf8'), target).toBe(text);
  }
});
