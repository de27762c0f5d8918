/**
 * The training view end to end in browser mode, on the seed example: 49 epochs train; the loss
 * chart has 49 points; the outputs chart has three classes whose last values are PyTorch's; the
 * history prints PyTorch's rows; the math of an output neuron shows the engine's numbers; a wrong
 * expected value is flagged and a right one is not; an earlier epoch of the finished run still
 * traces; restoring epoch 10 makes its weights current. Also: a learning rate that makes the loss
 * NaN stops the run and keeps the last good weights; Step batch takes exactly one optimizer step;
 * a 10,000-epoch run arrives whole in the history and the loss chart, and its history table,
 * which draws only the rows in sight, scrolls to any epoch.
 * Screenshots go to test-results/e2e/training-*.png.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { EventOf } from '../../engine/protocol';
import { exampleDoc, harness } from '../engine/host/helpers';
import { onPage, openThroughPicker, shot, skipReason, useBrowserMode } from './harness';

const reason = skipReason();
/** PyTorch's seed run (test/fixtures/make_fixtures.py): softmax outputs after each step, as printed. */
const seed = JSON.parse(readFileSync(new URL('../fixtures/seed.json', import.meta.url), 'utf8'));
const rows: { probs: number[]; printed_probs: string; printed_loss: string }[] = seed.new_adam_every_iteration.rows;

describe.skipIf(reason !== null)(`training view end to end${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const session = useBrowserMode();

  it('trains the seed, charts it, checks expected values, works the math and restores epoch 10', async () => {
    await onPage(session, 'training-failed', flow, { width: 1440, height: 900 });
  }, 240_000);

  /** Runs `flow` on a fresh page with `doc` opened from a file; a screenshot NAME-failed.png when it fails. */
  async function withProject(doc: unknown, name: string, flow: (page: Page) => Promise<void>): Promise<void> {
    await onPage(session, `${name}-failed`, async (page) => {
      const file = join(mkdtempSync(join(tmpdir(), 'e2e-training-')), `${name}.json`);
      writeFileSync(file, JSON.stringify(doc));
      await openThroughPicker(page, file);
      await page.getByRole('button', { name: 'Open training view' }).click();
      await flow(page);
    }, { width: 1440, height: 900 });
  }

  it('stops a run whose loss turns NaN, names where the NaN appeared and keeps the last good weights', async () => {
    // Iris with SGD at lr 1e20: the first epoch's steps overflow the weights (test/renderer/training/pitfalls.test.ts).
    const doc = exampleDoc('iris.json');
    doc.training = { ...(doc.training as object), optimizer: { type: 'SGD', lr: 1e20 } };
    await withProject(doc, 'training-nan', async (page) => {
      const training = page.getByRole('region', { name: 'Training' });
      await training.getByRole('button', { name: 'Run', exact: true }).click();
      const note = training.getByText('The loss became NaN in epoch 1', { exact: false });
      await note.waitFor();
      await page.waitForFunction(() => /The first NaN appears in parameter (hidden|output)\.(weight|bias)\./.test(document.body.innerText));
      // The run stopped: Run is offered again and the history ends before the bad epoch.
      await training.getByRole('button', { name: 'Run', exact: true }).waitFor();
      await training.getByTestId('epoch').getByText('epoch 0 / 100').waitFor();
      await shot(page, 'training-nan-1-stopped');
      // The current weights are epoch 0's, the last good ones, every one finite.
      await training.getByRole('tab', { name: 'Weights' }).click();
      await training.getByTestId('weights-epoch').getByText('0', { exact: true }).waitFor();
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('tr[data-param]')];
        return rows.length === 67 && rows.every((tr) => {
          const [kept, current] = [tr.querySelector('td:nth-child(2)'), tr.querySelector('td.current')].map((td) => td?.getAttribute('data-value'));
          return current !== undefined && current === kept && Number.isFinite(Number(current));
        });
      });
      await shot(page, 'training-nan-2-weights');
    });
  }, 240_000);

  it('takes exactly one optimizer step per Step batch', async () => {
    // Iris: 150 samples in batches of 16, so a step is a tenth of an epoch. The engine in Node says what one and two steps give.
    const doc = exampleDoc('iris.json');
    const h = harness();
    await h.request({ type: 'open', project: doc });
    const stepped: EventOf<'progress'>['weights'][] = [];
    for (const request of [{ type: 'train', until: 'batch' }, { type: 'resume', until: 'batch' }]) {
      const id = h.nextId();
      await h.request(request);
      stepped.push(h.progressOf(id).at(-1)?.weights);
    }
    const flat = (w: EventOf<'progress'>['weights']) => Object.values(w ?? {}).flat(2).map(String);
    await withProject(doc, 'training-step-batch', async (page) => {
      const training = page.getByRole('region', { name: 'Training' });
      await training.getByRole('tab', { name: 'Weights' }).click();
      const current = () => page.evaluate(() => [...document.querySelectorAll('tr[data-param] td.current')].map((td) => td.getAttribute('data-value')));
      for (const want of stepped) {
        await training.getByRole('button', { name: 'Step batch' }).click();
        await page.waitForFunction((w) => {
          const got = [...document.querySelectorAll('tr[data-param] td.current')].map((td) => td.getAttribute('data-value'));
          return got.length === w.length && got.every((v, i) => v === w[i]);
        }, flat(want)).catch(async (e) => {
          throw new Error(`the current weights after Step batch are not one step's: ${(await current()).slice(0, 4).join(', ')}… (${(e as Error).message})`);
        });
        // Still inside the first epoch.
        await training.getByTestId('epoch').getByText('epoch 0 / 100').waitFor();
      }
      await shot(page, 'training-step-batch');
    });
  }, 240_000);

  it('takes in every epoch of a 10,000-epoch run: the history and the loss chart hold all of them', async () => {
    const doc = exampleDoc('seed-tutorial.json');
    doc.training = { ...(doc.training as object), epochs: 10_000 };
    await withProject(doc, 'training-long', async (page) => {
      const training = page.getByRole('region', { name: 'Training' });
      await training.getByRole('button', { name: 'Run', exact: true }).click();
      await training.getByTestId('epoch').getByText('epoch 10000 / 10000').waitFor({ timeout: 180_000 });
      await page.waitForFunction(() => document.querySelector('[data-chart="loss"]')?.getAttribute('data-points') === '10000');
      await shot(page, 'training-long');
      // The history draws only the rows in sight, yet every epoch is there: its last row is the
      // outputs chart's last point, and scrolling to epoch 7,345 shows that epoch in PyTorch's form.
      const probs = (text: string) => [...text.matchAll(/\d\.\d{4}(e[+-]\d+)?/g)].map((m) => Number(m[0]));
      const lastOutputs = (await attr(page, '[data-chart="outputs"]', 'data-last'))?.split(',').map(Number) ?? [];
      await training.getByRole('tab', { name: 'History' }).click();
      const printed = /^tensor\(\[\[(\d\.\d{4}(e[+-]\d+)?(, )?){3}\]\], grad_fn=<SoftmaxBackward0>\)$/;
      const last = await training.locator('tr[data-epoch="10000"] td.outputs').innerText();
      expect(last).toMatch(printed);
      probs(last).forEach((p, i) => expect(Math.abs(p - lastOutputs[i])).toBeLessThanOrEqual(5e-5));
      expect(await training.locator('tr[data-epoch]').count()).toBeLessThan(100);
      await training.getByTestId('history-rows').evaluate((scroller) => { scroller.scrollTop = (scroller.scrollHeight * 7344) / 10_000; });
      await training.locator('tr[data-epoch="7345"]').waitFor();
      expect(await training.locator('tr[data-epoch="7345"] td.outputs').innerText()).toMatch(printed);
      expect(await training.locator('tr[data-epoch="7345"] td.num').innerText()).toBe('7345');
      await shot(page, 'training-long-history');
    });
  }, 240_000);
});

const attr = (page: Page, selector: string, name: string) => page.locator(selector).getAttribute(name);

async function flow(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Open example Seed tutorial: a new Adam every step' }).click();
  await page.getByRole('button', { name: 'Open training view' }).click();
  const training = page.getByRole('region', { name: 'Training' });
  await training.getByRole('note').getByText('PyTorch applies log-softmax to its input again').waitFor();

  await training.getByRole('button', { name: 'Run', exact: true }).click();
  await training.getByTestId('epoch').getByText('epoch 49 / 49').waitFor();
  await training.getByRole('button', { name: 'Run', exact: true }).waitFor();

  // Charts: every epoch drawn; the last probabilities are PyTorch's (as float32).
  await page.waitForFunction(() => document.querySelector('[data-chart="loss"]')?.getAttribute('data-points') === '49');
  await page.waitForFunction(() => document.querySelector('[data-chart="outputs"]')?.getAttribute('data-points') === '49,49,49');
  expect(await attr(page, '[data-chart="outputs"]', 'data-labels')).toBe('0,1,2');
  const last = (await attr(page, '[data-chart="outputs"]', 'data-last'))?.split(',').map(Number);
  expect(last).toEqual(rows[48].probs.map(Math.fround));
  await shot(page, 'training-1-charts');

  // History: PyTorch's printed rows; the project's expected value for epoch 1 matches, a wrong one does not.
  await training.getByRole('tab', { name: 'History' }).click();
  const row = (epoch: number) => training.locator(`tr[data-epoch="${epoch}"]`);
  // The table stays at the run's last epoch until told otherwise; going to epoch 1 brings the first rows.
  await row(49).waitFor();
  await training.getByLabel('Go to epoch').fill('1');
  await training.getByLabel('Go to epoch').press('Enter');
  await row(1).waitFor();
  expect(await row(1).locator('td.outputs').innerText()).toBe(rows[0].printed_probs);
  expect(await row(1).locator('[data-expected]').getAttribute('data-expected')).toBe('match');
  const wrong = row(2).getByRole('textbox');
  await wrong.fill('tensor([[0.1648, 0.5773, 0.2600]])');
  await wrong.press('Enter');
  await row(2).locator('[data-expected="mismatch"]').getByText('off by 0.0021').waitFor();
  const right = row(3).getByRole('textbox');
  await right.fill(rows[2].printed_probs);
  await right.press('Enter');
  await row(3).locator('[data-expected="match"]').waitFor();
  await shot(page, 'training-2-history');

  await training.getByRole('tab', { name: 'Expected' }).click();
  await training.getByTestId('checklist-summary').getByText('2 of 3 match').waitFor();
  await shot(page, 'training-3-expected');

  // Math of output neuron 1: the softmax value it arrives at is the engine's, equal to PyTorch's.
  await training.getByRole('tab', { name: 'Math' }).click();
  await training.getByLabel('Node').selectOption({ label: "Linear 'output'" });
  await training.getByLabel('Neuron or element').selectOption({ label: 'neuron 1' });
  await training.getByLabel('Precision').selectOption('full');
  const activation = training.locator('li[data-title^="Activation"]');
  await activation.waitFor();
  expect(Number(await activation.getAttribute('data-value'))).toBe(Math.fround(rows[48].probs[1]));
  expect(await training.locator('li[data-title^="Forward"] .katex').count()).toBe(1);
  expect(await training.locator('li[data-title^="Chain rule through the softmax"]').count()).toBe(1);
  await training.getByText('Update of', { exact: false }).first().waitFor();
  await shot(page, 'training-4-math');

  expect(await training.getByTestId('node-output').innerText()).toMatch(/, grad_fn=<AddmmBackward0>\)$/);

  // After the run an earlier epoch still traces: the math at epoch 10 is PyTorch's epoch 10.
  await training.getByRole('tab', { name: 'Weights' }).click();
  await training.getByLabel('Epoch', { exact: true }).fill('10');
  await training.getByTestId('weights-epoch').getByText('10', { exact: true }).waitFor();
  await training.getByRole('button', { name: 'Show math at 10' }).click();
  await training.getByRole('tab', { name: 'Math' }).click();
  await training.getByText('weights after epoch 10').waitFor();
  await training.getByLabel('Neuron or element').selectOption({ label: 'neuron 1' });
  await page.waitForFunction((want) => document.querySelector('li[data-title^="Activation"]')?.getAttribute('data-value') === String(want), Math.fround(rows[9].probs[1]));
  expect(await training.getByRole('alert').count()).toBe(0);
  await training.getByRole('tab', { name: 'Weights' }).click();
  await training.getByRole('button', { name: 'Back to current' }).click();

  // Weight history: epoch 10's weights become the current ones.
  await training.getByLabel('Epoch', { exact: true }).fill('10');
  await training.getByTestId('weights-epoch').getByText('10', { exact: true }).waitFor();
  const at10 = await training.locator('tr[data-param] td:nth-child(2)').evaluateAll((tds) => tds.map((td) => td.getAttribute('data-value')));
  expect(at10).toHaveLength(36);
  await training.getByRole('button', { name: 'Restore epoch 10 as current weights' }).click();
  await page.waitForFunction((want) => {
    const current = [...document.querySelectorAll('tr[data-param] td.current')].map((td) => td.getAttribute('data-value'));
    return current.length === want.length && current.every((v, i) => v === want[i]);
  }, at10);
  await shot(page, 'training-5-restored');
}
