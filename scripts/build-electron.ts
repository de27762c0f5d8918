// Bundles the desktop shell with esbuild into out/electron/: main.cjs (the main process),
// preload.cjs (the window's preload; a sandboxed preload must be one CommonJS file) and
// engine.cjs (the engine host for the utility process). The page itself is vite's build
// (npm run build:web → dist/web). Run: npm run build:electron
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22', // Electron 45's Node
  sourcemap: 'linked',
  logLevel: 'warning',
  // Electron provides 'electron'; 'webgpu' loads native Dawn binaries from node_modules (unpacked from the asar).
  external: ['electron', 'webgpu'],
};

/** The three bundles' esbuild options (test/electron/bundles.test.ts builds them without writing). */
export const ELECTRON_BUNDLES: BuildOptions[] = [
  { ...common, entryPoints: ['electron/main.ts'], outfile: 'out/electron/main.cjs' },
  { ...common, entryPoints: ['electron/preload.ts'], outfile: 'out/electron/preload.cjs' },
  { ...common, entryPoints: ['engine/host/process_entry.ts'], outfile: 'out/electron/engine.cjs' },
];

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await Promise.all(ELECTRON_BUNDLES.map((options) => build(options)));
