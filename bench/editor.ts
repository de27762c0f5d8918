/**
 * The editor with a large graph, in headless Chromium against the built browser mode: how long
 * a 500-node project takes to open (file chosen → nodes drawn), and the frame rate while the
 * canvas is panned (frames counted with requestAnimationFrame). Targets: under a second, 50+ fps.
 *
 *   npx tsx bench/editor.ts        (or call benchEditor() from npm run bench)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildWeb, launch, openPage, serve, skipReason } from '../test/e2e/harness';

/** A chain of 500 nodes (Input, then Linear and ReLU by turns) laid out in rows, as a project file. */
export function bigProject(count = 500): string {
  const columns = 25;
  const nodes = Array.from({ length: count }, (_, i) => {
    const position = { x: (i % columns) * 220, y: Math.floor(i / columns) * 140 };
    if (i === 0) return { id: 'x', type: 'Input', position, params: { features: 8 } };
    return i % 2 === 1
      ? { id: `n${i}`, type: 'Linear', position, params: { in_features: 8, out_features: 8 } }
      : { id: `n${i}`, type: 'ReLU', position };
  });
  const edges = nodes.slice(1).map((n, i) => ({ from: { node: nodes[i].id, port: 'out' }, to: { node: n.id, port: 'in' } }));
  return JSON.stringify({
    format: 'backprop-studio-project', version: 1, title: `${count} nodes`, nodes, edges,
    data: { samples: [[0, 0, 0, 0, 0, 0, 0, 0]] }, training: { epochs: 1, optimizer: { type: 'SGD', lr: 0.1 } },
  });
}

export interface EditorBench {
  nodes: number;
  openMs: number;
  panFps: number;
}

/** Opens the big project and pans it for two seconds; null (with the reason printed) without Chromium. */
export async function benchEditor(count = 500): Promise<EditorBench | null> {
  const reason = skipReason();
  if (reason) {
    console.log(`editor benchmark skipped: ${reason}`);
    return null;
  }
  buildWeb();
  const file = join(mkdtempSync(join(tmpdir(), 'bench-editor-')), 'big.json');
  writeFileSync(file, bigProject(count));
  const server = await serve();
  const browser = await launch();
  try {
    const { page } = await openPage(browser, server.url);
    const choosing = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Open a project file…' }).click();
    const chooser = await choosing;
    // Timed in the page: from the file arriving at the app to the frame after its nodes are drawn.
    await page.evaluate(`(() => {
      window.benchOpened = new Promise((done) => {
        document.querySelector('input[type=file]').addEventListener('change', () => {
          const start = performance.now();
          const wait = () => {
            if (document.querySelector('.svelte-flow__node')) requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - start)));
            else requestAnimationFrame(wait);
          };
          wait();
        }, { capture: true, once: true });
      });
    })()`);
    await chooser.setFiles(file);
    const openMs = (await page.evaluate('window.benchOpened')) as number;

    const pane = await page.locator('.svelte-flow__pane').boundingBox();
    if (!pane) throw new Error('the canvas is not on the page');
    const x = pane.x + pane.width / 2;
    const y = pane.y + pane.height / 2;
    // As text: tsx would wrap a function's inner helpers in its own __name, which the page lacks.
    await page.evaluate(`(() => {
      window.benchFrames = 0;
      window.benchCounting = true;
      const tick = () => { window.benchFrames++; if (window.benchCounting) requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
    })()`);
    const panStart = performance.now();
    await page.mouse.move(x, y);
    await page.mouse.down();
    for (let step = 0; performance.now() - panStart < 2000; step++) {
      // Back and forth across the graph, a few pixels per move, as a hand pans.
      const dx = 200 * Math.sin(step / 20);
      const dy = 80 * Math.cos(step / 25);
      await page.mouse.move(x + dx, y + dy);
    }
    await page.mouse.up();
    const frames = (await page.evaluate('window.benchCounting = false, window.benchFrames')) as number;
    const panFps = frames / ((performance.now() - panStart) / 1000);
    return { nodes: count, openMs, panFps };
  } finally {
    await browser.close();
    await server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await benchEditor();
  if (result) {
    const ok = (good: boolean) => (good ? 'ok' : 'SLOW');
    console.log(`editor, ${result.nodes} nodes: opens in ${result.openMs.toFixed(0)} ms (target < 1000: ${ok(result.openMs < 1000)}), ` +
      `pans at ${result.panFps.toFixed(1)} fps (target ≥ 50: ${ok(result.panFps >= 50)})`);
  }
}
