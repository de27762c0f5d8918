// `npm start`: builds the page and the shell, then runs the desktop app. Without an Electron
// binary it says how to get one (or to use `npm run web`) and stops.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { electronBinary, NO_ELECTRON } from '../electron/binary';

const root = fileURLToPath(new URL('../', import.meta.url));
const binary = electronBinary(root);
if (!binary) {
  console.error(NO_ELECTRON);
  process.exit(1);
}
for (const script of ['build:web', 'build:electron']) {
  const { status } = spawnSync('npm', ['run', '--silent', script], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (status !== 0) process.exit(status ?? 1);
}
const app = spawn(binary, ['.', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
app.on('exit', (code) => process.exit(code ?? 0));
