/**
 * The desktop shell's bundles, built as `npm run build:electron` builds them (in memory): they
 * build, and each requires at run time only what its process has. No Electron binary here, so
 * this is what catches a main-process or preload import that would fail only inside Electron.
 */
import { builtinModules } from 'node:module';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ELECTRON_BUNDLES } from '../../scripts/build-electron';

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** The modules a bundle leaves to its runtime's require(). */
async function externalImports(entry: string): Promise<string[]> {
  const options = ELECTRON_BUNDLES.find((b) => (b.entryPoints as string[])[0] === entry);
  const result = await build({ ...options, write: false, metafile: true, logLevel: 'silent' });
  expect(result.errors).toEqual([]);
  const outputs = Object.values((result.metafile as Metafile).outputs);
  return [...new Set(outputs.flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path)))].sort();
}

describe('the desktop bundles', () => {
  it('main requires Electron, Node built-ins and nothing else', async () => {
    const imports = await externalImports('electron/main.ts');
    expect(imports).toContain('electron');
    expect(imports.filter((m) => m !== 'electron' && !NODE_BUILTINS.has(m))).toEqual([]);
  });

  // A sandboxed preload gets a require() that knows 'electron' and a few polyfilled modules only.
  it('preload requires nothing but electron (a sandboxed preload has no Node)', async () => {
    expect(await externalImports('electron/preload.ts')).toEqual(['electron']);
  });

  it('the engine process requires Node built-ins and webgpu (Dawn, unpacked from the asar), not Electron', async () => {
    const imports = await externalImports('engine/host/process_entry.ts');
    expect(imports).not.toContain('electron');
    expect(imports.filter((m) => m !== 'webgpu' && !NODE_BUILTINS.has(m))).toEqual([]);
  }, 30_000);
});
