/**
 * Browser mode: the same host in a real Web Worker in Chromium, driven by the app's Worker
 * client. A Worker that fails mid-training is replaced and gets the model back.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, ROOT, serve, skipReason } from '../../e2e/harness';
import { exampleDoc } from '../../engine/project/helpers';

const reason = skipReason();

const PAGE = `
import { createWorkerClient } from '${ROOT}renderer/host/worker.ts';
window.connect = (scripts) => {
  let n = 0;
  return createWorkerClient(() => new Worker(scripts[Math.min(n++, scripts.length - 1)], { type: 'module' }));
};
`;
// The real host, and a timer that throws after a while: a Worker failing mid-training.
const FAILING = `import './worker.js'; setTimeout(() => { throw new Error('the worker broke'); }, 400);`;

describe.skipIf(reason)(`the host in a Web Worker${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let browser: Browser;
  let page: Page;
  let server: Awaited<ReturnType<typeof serve>>;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bps-worker-'));
    writeFileSync(join(dir, 'page.ts'), PAGE);
    writeFileSync(join(dir, 'failing.js'), FAILING);
    writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="page.js"></script>');
    await build({ entryPoints: [join(dir, 'page.ts')], outfile: join(dir, 'page.js'), bundle: true, format: 'esm', logLevel: 'error' });
    await build({ entryPoints: [join(ROOT, 'engine/host/worker_entry.ts')], outfile: join(dir, 'worker.js'), bundle: true, format: 'esm', external: ['webgpu'], logLevel: 'error' });
    server = await serve(dir);
    browser = await launch();
    page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => 'connect' in globalThis);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('opens, trains with every epoch streamed at most 60 messages a second, traces and exports', async () => {
    const result = await page.evaluate(async (project) => {
      const client = (globalThis as unknown as { connect(s: string[]): import('../../../engine/protocol').EngineClient }).connect(['worker.js']);
      const opened = await client.open(project);
      const epochs: number[] = [];
      let messages = 0;
      const started = performance.now();
      const trained = await client.train({ epochs: 3000 }, (p) => {
        messages++;
        epochs.push(...p.records.map((r) => r.epoch));
      });
      const seconds = (performance.now() - started) / 1000;
      const trace = await client.trace(3);
      const text = await client.export('project');
      client.close();
      return { problems: opened.problems, trained, epochs, messages, seconds, traceNodes: trace.nodes.length, history: JSON.parse(text).history.length };
    }, exampleDoc('xor.json'));
    expect(result.problems).toEqual([]);
    expect(result.trained).toMatchObject({ reason: 'finished', epoch: 3000 });
    expect(result.epochs).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    expect(result.messages).toBeLessThanOrEqual(Math.ceil(result.seconds * 60) + 1);
    expect(result.traceNodes).toBe(7);
    expect(result.history).toBe(3000);
  });

  it('replaces a Worker that fails mid-training, restoring the model and its training so far', async () => {
    const result = await page.evaluate(async (project) => {
      const client = (globalThis as unknown as { connect(s: string[]): import('../../../engine/protocol').EngineClient }).connect(['failing.js', 'worker.js']);
      const notices: string[] = [];
      client.onEvent((e) => notices.push(e.message));
      await client.open(project);
      let last = 0;
      const trained = await client.train({ epochs: 1_000_000 }, (p) => {
        last = p.records.at(-1)?.epoch ?? last;
      });
      const history = JSON.parse(await client.export('project')).history.length;
      const more = await client.train({ epochs: 2 });
      client.close();
      return { trained, last, notices, history, more };
    }, exampleDoc('xor.json'));
    expect(result.trained).toMatchObject({ reason: 'failed', epoch: result.last });
    expect(result.last).toBeGreaterThan(0);
    expect(result.notices).toEqual([expect.stringMatching(/^The engine stopped and was restarted; your model and its training so far were restored/)]);
    expect(result.history).toBe(result.last);
    expect(result.more).toMatchObject({ reason: 'finished', epoch: result.last + 2 });
  });
});
