/**
 * Where the Electron binary is, without require('electron'): that module downloads the binary
 * from GitHub when it is missing, and neither `npm start` nor the tests may reach the network.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What `npm start` says when there is no binary: one sentence. */
export const NO_ELECTRON = 'The Electron binary is not installed (npm does not download it): run `npx install-electron` to fetch it from GitHub, then `npm start` again — or run `npm run web` to use the same app in a browser.';

/** The binary's path, or null when the electron package came without it. */
export function electronBinary(root: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const pkg = join(root, 'node_modules', 'electron');
  const pathFile = join(pkg, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const dist = env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkg, 'dist');
  const binary = relative ? join(dist, relative) : env.ELECTRON_OVERRIDE_DIST_PATH ? join(dist, 'electron') : null;
  return binary && existsSync(binary) ? binary : null;
}
