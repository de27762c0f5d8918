/**
 * The desktop app end to end, through Playwright's Electron driver: open an example from the
 * command line, train it in the engine process, save it, reopen it. Runs wherever the Electron
 * binary is installed (`npx install-electron`); elsewhere it reports itself skipped, saying why.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { electronBinary } from '../../electron/binary';
import { buildWeb, ROOT } from '../e2e/harness';

const binary = electronBinary(ROOT);
const reason = binary ? null : 'no Electron binary in node_modules/electron (run `npx install-electron`)';

let app: ElectronApplication | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

/** The app on `file`, its data folders in `home` (so no real autosave or recent list is touched). */
async function launch(file: string, home: string): Promise<Page> {
  app = await _electron.launch({
    executablePath: binary as string,
    args: [ROOT, file],
    cwd: ROOT,
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: home, APPDATA: home, ELECTRON_ENABLE_LOGGING: '1' },
  });
  const page = await app.firstWindow();
  await page.waitForFunction(() => 'backprop' in globalThis);
  return page;
}

const titleOf = async (page: Page, expected: string) => {
  await expect.poll(() => page.title(), { timeout: 10_000 }).toContain(expected);
};

/** Speaks the protocol on the page's engine channel (ids far from the app's own). */
function engineRequest(page: Page, message: Record<string, unknown>): Promise<{ type: string; [k: string]: unknown }> {
  return page.evaluate((m) => new Promise((resolve) => {
    const api = (globalThis as unknown as { backprop: import('../../electron/api').DesktopApi }).backprop;
    const id = 1_000_000 + Math.floor(Math.random() * 1_000_000);
    const off = api.engine.onMessage((e) => {
      const event = e as { type: string; id?: number; requestId?: number };
      if (event.type !== 'progress' && (event.id === id || event.requestId === id)) {
        off();
        resolve(event as { type: string });
      }
    });
    api.engine.post({ ...m, id } as never);
  }), message);
}

describe.skipIf(reason)(`the desktop app${reason ? ` (skipped: ${reason})` : ''}`, () => {
  beforeAll(() => {
    buildWeb();
    execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/build-electron.ts')], { cwd: ROOT, stdio: 'inherit' });
  }, 180_000);

  it('opens an example, trains it in the engine process, saves it and reopens it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'bps-electron-'));
    const file = join(home, 'xor.bpstudio');
    copyFileSync(join(ROOT, 'assets/examples/xor.json'), file);

    let page = await launch(file, home);
    await titleOf(page, 'xor.bpstudio — Backprop Studio');
    const project = JSON.parse(readFileSync(file, 'utf8'));
    expect(await engineRequest(page, { type: 'open', project })).toMatchObject({ type: 'opened', problems: [] });
    expect(await engineRequest(page, { type: 'train', epochs: 50 })).toMatchObject({ type: 'trained', reason: 'finished', epoch: 50 });
    const exported = await engineRequest(page, { type: 'export', format: 'project' });
    const saved = await page.evaluate((text) => (globalThis as unknown as { backprop: import('../../electron/api').DesktopApi }).backprop.save(text), exported.text as string);
    expect(saved).toBe(file);
    expect(JSON.parse(readFileSync(file, 'utf8')).history).toHaveLength(50);
    await app?.close();

    page = await launch(file, home);
    await titleOf(page, 'xor.bpstudio');
    const reopened = JSON.parse(readFileSync(file, 'utf8'));
    expect(await engineRequest(page, { type: 'open', project: reopened })).toMatchObject({ type: 'opened', problems: [] });
    const weights = await engineRequest(page, { type: 'export', format: 'weights' });
    expect(JSON.parse(weights.text as string)['hidden.weight']).toEqual(reopened.nodes.find((n: { id: string }) => n.id === 'hidden').tensors.weight);
  }, 120_000);

  it('denies new windows and navigation away from the app', async () => {
    const home = mkdtempSync(join(tmpdir(), 'bps-electron-'));
    const file = join(home, 'xor.bpstudio');
    copyFileSync(join(ROOT, 'assets/examples/xor.json'), file);
    const page = await launch(file, home);
    type Browserish = { open(url: string): unknown; location: { href: string } };
    // A denied window.open returns null at once.
    expect(await page.evaluate(() => (globalThis as unknown as Browserish).open('https://example.com/') === null)).toBe(true);
    // A navigation that must not happen: wait for it (a frame navigating) for a bounded time.
    const navigated = page.waitForEvent('framenavigated', { timeout: 2000 }).then(() => true, () => false);
    await page.evaluate(() => {
      (globalThis as unknown as Browserish).location.href = 'https://example.com/';
    }).catch(() => {});
    expect(await navigated).toBe(false);
    expect(app?.windows()).toHaveLength(1);
    expect(page.url()).toBe('app://bundle/index.html');
    expect(await page.evaluate(() => typeof (globalThis as unknown as { require?: unknown }).require)).toBe('undefined');
  }, 60_000);
});
