/**
 * The training view during a long run, in headless Chromium against the built browser mode: a
 * 10,000-epoch run of the seed example with the charts open. Counts the loss chart's redraws per
 * second while the epochs stream in (from its first point until the run ends; target: 30 or
 * more, issue 7), the longest gap between animation frames then (the main thread never blocked
 * for long) and at the run's end (the trained weights and history going into the document), and
 * checks that the history and the chart end with every epoch (none dropped).
 *
 *   npx tsx bench/training_view.ts        (or call benchTrainingView() from npm run bench)
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildWeb, launch, openPage, ROOT, serve, skipReason } from '../test/e2e/harness';

export interface TrainingViewBench {
  epochs: number;
  /** From the chart's first point until the run ended. */
  seconds: number;
  redrawsPerSecond: number;
  longestFrameMs: number;
  /** The frame in which the run ended: its weights and history saved into the document. */
  endFrameMs: number;
  epochsInHistory: number;
  pointsInChart: number;
}

/** Runs the seed example for `epochs` epochs with the charts showing; null (with the reason printed) without Chromium. */
export async function benchTrainingView(epochs = 10_000): Promise<TrainingViewBench | null> {
  const reason = skipReason();
  if (reason) {
    console.log(`training view benchmark skipped: ${reason}`);
    return null;
  }
  buildWeb();
  const doc = JSON.parse(readFileSync(join(ROOT, 'assets/examples/seed-tutorial.json'), 'utf8'));
  doc.training.epochs = epochs;
  const file = join(mkdtempSync(join(tmpdir(), 'bench-training-')), 'long.json');
  writeFileSync(file, JSON.stringify(doc));
  const server = await serve();
  const browser = await launch();
  try {
    const { page } = await openPage(browser, server.url, { width: 1440, height: 900 });
    const choosing = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Open a project file…' }).click();
    await (await choosing).setFiles(file);
    await page.getByRole('button', { name: 'Open training view' }).click();
    const training = page.getByRole('region', { name: 'Training' });
    await page.locator('[data-chart="loss"]').waitFor();
    // As text: tsx would wrap a function's inner helpers in its own __name, which the page lacks.
    // Every animation frame: when, the loss chart's redraws and points so far, and whether the run is on (Pause offered).
    await page.evaluate(`(() => {
      const chart = document.querySelector('[data-chart="loss"]');
      const controls = document.querySelector('[aria-label="Training controls"] .buttons');
      const frames = window.benchFrames = [];
      const tick = (now) => {
        frames.push([now, Number(chart.dataset.draws), Number(chart.dataset.points), controls.textContent.includes('Pause')]);
        if (!window.benchDone) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    })()`);
    await training.getByRole('button', { name: 'Run', exact: true }).click();
    await training.getByTestId('epoch').getByText(`epoch ${epochs} / ${epochs}`).waitFor({ timeout: 600_000 });
    await page.waitForFunction(`document.querySelector('[data-chart="loss"]').dataset.points === '${epochs}'`);
    // A second more, to see the frames of the run's end.
    await page.waitForTimeout(1000);
    const frames = (await page.evaluate('window.benchDone = true, window.benchFrames')) as [number, number, number, boolean][];
    const first = frames.findIndex(([, , points]) => points > 0);
    const ended = frames.findIndex(([, , , running], i) => i > first && !running);
    const last = ended - 1;
    const gap = (i: number) => frames[i][0] - frames[i - 1][0];
    const seconds = (frames[last][0] - frames[first][0]) / 1000;
    const pointsInChart = Number(await page.locator('[data-chart="loss"]').getAttribute('data-points'));
    const epochsInHistory = Number((await training.getByTestId('epoch').innerText()).match(/epoch (\d+)/)?.[1]);
    return {
      epochs, seconds, redrawsPerSecond: (frames[last][1] - frames[first][1]) / seconds,
      longestFrameMs: Math.max(...frames.slice(first + 1, last + 1).map((_, k) => gap(first + 1 + k))), endFrameMs: gap(ended), epochsInHistory, pointsInChart,
    };
  } finally {
    await browser.close();
    await server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await benchTrainingView();
  if (result) {
    const ok = (good: boolean) => (good ? 'ok' : 'NOT met');
    console.log(`training view, ${result.epochs} epochs of the seed streaming into the charts for ${result.seconds.toFixed(1)} s: ` +
      `${result.redrawsPerSecond.toFixed(1)} chart redraws/s (target ≥ 30: ${ok(result.redrawsPerSecond >= 30)}), ` +
      `longest frame ${result.longestFrameMs.toFixed(0)} ms (the run's end: ${result.endFrameMs.toFixed(0)} ms, saving it into the document), ` +
      `${result.epochsInHistory} epochs in the history and ${result.pointsInChart} points in the loss chart (every epoch: ${ok(result.epochsInHistory === result.epochs && result.pointsInChart === result.epochs)})`);
  }
}
