/**
 * What end-to-end suites share: the browser-mode bundle (built once, by whichever suite asks
 * first), a static server for it on 127.0.0.1 (a secure context, as WebGPU needs), Debian's
 * Chromium driven by playwright-core, and screenshots under test-results/e2e/.
 *
 * Without Chromium a suite reports itself skipped with the reason, except in CI (CI=true), where
 * a missing browser is a failure. Never downloads a browser.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const WEB = join(ROOT, 'dist/web');
export const SHOTS = join(ROOT, 'test-results/e2e');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const FLAGS = ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader'];

/** Why end-to-end tests cannot run here, or null when they can. In CI a missing browser throws instead. */
export function skipReason(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const reason = `Chromium is not at ${CHROMIUM} (on Debian: apt-get install chromium)`;
  if (process.env.CI === 'true') throw new Error(`${reason}; CI needs it for the end-to-end tests.`);
  return reason;
}

/** Builds dist/web unless it is newer than every source it comes from. */
export function buildWeb(): void {
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => statSync(join(e.parentPath, e.name)).mtimeMs));
  const built = join(WEB, 'index.html');
  const sources = Math.max(...['renderer', 'engine', 'assets/examples'].map((d) => newest(join(ROOT, d))));
  if (existsSync(built) && statSync(built).mtimeMs > sources) return;
  execFileSync(join(ROOT, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Serves `dir` on 127.0.0.1 at a free port. */
export async function serve(dir = WEB): Promise<{ url: string; close: () => Promise<void> }> {
  const root = resolve(dir);
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = resolve(root, `.${path.endsWith('/') ? `${path}index.html` : path}`);
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((ok) => server.close(() => ok())) };
}

export async function launch(options: { webgpu?: boolean } = {}): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, ...(options.webgpu ? WEBGPU_FLAGS : [])] });
}

/** A page at the size the app must work from (1280×720), with console errors collected. */
export async function openPage(browser: Browser, url: string, size = { width: 1280, height: 720 }): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: size, acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url);
  return { page, errors };
}

/**
 * Runs `flow` on a fresh page of the browser mode: when it fails, a screenshot FAILSHOT.png to
 * look at; when it passes, the page must have logged no error.
 */
export async function onPage(session: BrowserMode, failShot: string, flow: (page: Page) => Promise<void>, size?: { width: number; height: number }): Promise<void> {
  const { page, errors } = await openPage(session.browser(), session.url(), size);
  try {
    await flow(page);
  } catch (e) {
    await shot(page, failShot);
    throw e;
  }
  expect(errors).toEqual([]);
}

/** Opens the project file `file` as a user does: the toolbar's file picker. */
export async function openThroughPicker(page: Page, file: string): Promise<void> {
  const choosing = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Open a project file…' }).click();
  await (await choosing).setFiles(file);
}

/** Saves a screenshot as test-results/e2e/NAME.png, to look at. */
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/**
 * The browser mode built, served and a browser launched once for a describe block, and closed
 * after it: call inside describe; the getters are valid inside its tests.
 */
/** The browser and the URL of the browser-mode bundle, for a suite's tests. */
export interface BrowserMode {
  browser: () => Browser;
  url: () => string;
}

export function useBrowserMode(): BrowserMode {
  let browser: Browser;
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    buildWeb();
    server = await serve();
    browser = await launch();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return { browser: () => browser, url: () => server.url };
}
