/**
 * The editor end to end in browser mode: from an empty canvas, the seed network built from the
 * palette, its weights pasted, its sample and label set, trained until the loss falls; undone
 * back to the empty canvas and redone; saved, reopened, the same network. Screenshots of each
 * stage go to test-results/e2e/editor-*.png.
 */
import { readFileSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { onPage, shot, skipReason, useBrowserMode } from './harness';

const reason = skipReason();

const SEED = {
  linear1: '[[0.1,0.3,0.4],[0.2,0.2,0.3],[0.3,0.7,0.9]]',
  linear2: '[[0.2,0.3,0.6],[0.3,0.5,0.4],[0.5,0.7,0.8]]',
  linear3: '[[0.1,0.3,0.5],[0.4,0.7,0.2],[0.8,0.2,0.9]]',
};

// Nodes are counted on the minimap, which draws them all; the canvas draws only those in view.

/** Drops a palette entry onto the canvas at (x, y) in the canvas's own pixels. */
async function dropFromPalette(page: Page, type: string, x: number, y: number): Promise<void> {
  const canvas = page.getByRole('application', { name: 'Network canvas' });
  await page.getByRole('button', { name: `Add ${type}`, exact: true }).dragTo(canvas, { targetPosition: { x, y } });
}

const node = (page: Page, type: string, name: string): Locator => page.getByRole('group', { name: `${type} ${name}`, exact: true });

async function centre(locator: Locator): Promise<{ x: number; y: number }> {
  const box = await locator.boundingBox();
  if (!box) throw new Error('not visible');
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** Drags an edge from one node's output to another's input port, and waits for it to exist. */
async function connect(page: Page, from: string, to: string, port = 'in'): Promise<void> {
  const edges = await page.locator('.svelte-flow__edge').count();
  const a = await centre(page.getByLabel(`${from} output`, { exact: true }));
  const b = await centre(page.getByLabel(`${to} input ${port}`, { exact: true }));
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 4 });
  await page.mouse.move(b.x, b.y, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction((n) => document.querySelectorAll('.svelte-flow__edge').length === n, edges + 1);
}

/** Pastes text into a grid as the clipboard would: a paste event on the focused cell. */
async function pasteInto(grid: Locator, text: string): Promise<void> {
  await grid.getByRole('gridcell').first().click();
  await grid.evaluate((el, data) => {
    const transfer = new DataTransfer();
    transfer.setData('text/plain', data);
    (document.activeElement ?? el).dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
  }, text);
}

async function gridValues(page: Page, name: string): Promise<string[]> {
  return page.getByRole('grid', { name, exact: true }).getByRole('gridcell').allInnerTexts();
}

describe.skipIf(reason !== null)(`editor end to end${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const session = useBrowserMode();

  it('builds, trains, undoes, saves and reopens the seed network', async () => {
    await onPage(session, 'editor-failed', flow);
  }, 240_000);

  it('reveals a problem, duplicates, copies, pastes and deletes nodes, all undoable', async () => {
    await onPage(session, 'editor-failed-2', async (page) => {
      await page.getByRole('button', { name: /^Open example Seed tutorial: a new Adam/ }).click();
      await page.getByText('None: the network compiles.').waitFor();
      const nodes = page.locator('.svelte-flow__minimap-node');
      expect(await nodes.count()).toBe(9);

      // Ctrl+D duplicates the selection; the copy has nothing at its input: a problem on it.
      await node(page, 'ReLU', 'relu').click();
      await page.keyboard.press('Control+d');
      await page.waitForFunction(() => document.querySelectorAll('.svelte-flow__minimap-node').length === 10);
      const problem = page.getByRole('button', { name: "ReLU 'relu1' has nothing connected to its input port 'in'." });
      await problem.click();
      await page.getByRole('heading', { name: 'ReLU' }).waitFor();
      expect(await page.getByLabel('name', { exact: true }).inputValue()).toBe('relu1');
      await shot(page, 'editor-9-problem-revealed');

      // Copy two connected nodes and paste them twice: fresh names, the edge between them kept.
      await node(page, 'Linear', 'hidden2').click();
      await node(page, 'Sigmoid', 'sigmoid').click({ modifiers: ['Control'] });
      await page.keyboard.press('Control+c');
      await page.keyboard.press('Control+v');
      await page.keyboard.press('Control+v');
      await page.waitForFunction(() => document.querySelectorAll('.svelte-flow__minimap-node').length === 14);
      // The canvas draws only what is in view: fit it all before counting edges.
      await page.getByRole('button', { name: 'Fit View' }).click();
      await page.waitForFunction(() => document.querySelectorAll('.svelte-flow__edge').length === 10);
      await node(page, 'Linear', 'linear2').waitFor();

      // Delete removes the selection with its edges; undo brings everything back, one step at a time.
      await page.keyboard.press('Delete');
      await page.waitForFunction(() => document.querySelectorAll('.svelte-flow__minimap-node').length === 12);
      for (const count of [14, 12, 10, 9]) {
        await page.keyboard.press('Control+z');
        await page.waitForFunction((n) => document.querySelectorAll('.svelte-flow__minimap-node').length === n, count);
      }
      await page.getByText('None: the network compiles.').waitFor();

      // The transposed layout shows x·W as papers print it: row 1 holds each neuron's weight from input 1.
      await node(page, 'Linear', 'hidden').click();
      await page.getByLabel('Transposed (x·W, as papers print it)').check();
      expect((await gridValues(page, 'hidden.weight')).slice(0, 3)).toEqual(['0.1', '0.2', '0.3']);
      await page.getByRole('grid', { name: 'hidden.weight' }).getByRole('gridcell', { name: 'neuron 2 ← input 1' }).click();
      await page.keyboard.type('sqrt(2)/2');
      await page.keyboard.press('Tab');
      expect((await gridValues(page, 'hidden.weight')).slice(0, 3)).toEqual(['0.1', '0.707107', '0.3']);
      await shot(page, 'editor-10-transposed');
    });
  }, 120_000);

  it('opens the seed at a readable size, and copies and pastes nodes through the system clipboard', async () => {
    await onPage(session, 'editor-failed-3', async (page) => {
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(session.url()).origin });
      await page.getByRole('button', { name: /^Open example Seed tutorial: a new Adam/ }).click();
      await page.getByText('None: the network compiles.').waitFor();
      await shot(page, 'editor-11-seed-opened');
      const zoom = await page.locator('.svelte-flow__viewport').evaluate((el) => new DOMMatrix(getComputedStyle(el).transform).a);
      expect(zoom).toBeGreaterThanOrEqual(0.8);
      expect(zoom).toBeLessThanOrEqual(1);

      // Two connected nodes copied: the clipboard holds them as our JSON; pasted, they come with their edge.
      await node(page, 'Linear', 'hidden2').click();
      await node(page, 'Sigmoid', 'sigmoid').click({ modifiers: ['Control'] });
      await page.keyboard.press('Control+c');
      await page.getByRole('status').getByText('Copied 2 nodes.').waitFor();
      const copied = JSON.parse(await page.evaluate(() => navigator.clipboard.readText()));
      expect(copied['backprop-studio/nodes']).toBe(1);
      expect(copied.nodes.map((n: { id: string }) => n.id)).toEqual(['hidden2', 'sigmoid']);
      expect(copied.edges).toEqual([{ from: { node: 'hidden2', port: 'out' }, to: { node: 'sigmoid', port: 'in' } }]);
      await page.keyboard.press('Control+v');
      await page.waitForFunction(() => document.querySelectorAll('.svelte-flow__minimap-node').length === 11);
      await page.getByRole('button', { name: 'Fit View' }).click();
      await page.waitForFunction(() => document.querySelectorAll('.svelte-flow__edge').length === 9);
      expect(await page.locator('.svelte-flow__node [role="group"]').evaluateAll((els) => els.map((el) => el.getAttribute('aria-label')).filter((l) => /^(Linear|Sigmoid) /.test(l ?? '')).sort()))
        .toEqual(['Linear hidden', 'Linear hidden2', 'Linear linear1', 'Linear output', 'Sigmoid sigmoid', 'Sigmoid sigmoid1']);
      await page.locator('.svelte-flow__edge[data-id="linear1→sigmoid1:in"]').waitFor({ state: 'attached' });

      // Text that is not ours is left alone; our JSON typed by hand pastes, its ids made fresh.
      await page.evaluate(() => navigator.clipboard.writeText('just some text'));
      await page.keyboard.press('Control+v');
      const typed = {
        'backprop-studio/nodes': 1,
        nodes: [
          { id: 'hidden', type: 'Linear', params: { in_features: 3, out_features: 3 }, position: { x: 0, y: 300 } },
          { id: 'relu', type: 'ReLU', position: { x: 200, y: 300 } },
        ],
        edges: [{ from: { node: 'hidden', port: 'out' }, to: { node: 'relu', port: 'in' } }],
      };
      await page.evaluate((text) => navigator.clipboard.writeText(text), JSON.stringify(typed));
      await page.keyboard.press('Control+v');
      await page.waitForFunction(() => document.querySelectorAll('.svelte-flow__minimap-node').length === 13);
      await page.getByRole('button', { name: 'Fit View' }).click();
      await page.locator('.svelte-flow__edge[data-id="linear2→relu1:in"]').waitFor({ state: 'attached' });
      expect(await page.locator('.svelte-flow__edge').count()).toBe(10);
      await page.getByRole('button', { name: 'Undo' }).click();
      await page.waitForFunction(() => document.querySelectorAll('.svelte-flow__minimap-node').length === 11);
      await shot(page, 'editor-12-pasted-from-clipboard');
    });
  }, 120_000);

  it('opens the help from the toolbar: getting started, the keyboard shortcuts, and closes', async () => {
    await onPage(session, 'editor-failed-5', async (page) => {
      await page.getByRole('button', { name: 'Help' }).click();
      const help = page.getByRole('dialog', { name: 'Backprop Studio help' });
      await help.waitFor();
      expect(await help.getByRole('row', { name: 'Ctrl+S Save' }).count()).toBe(1);
      expect(await help.getByRole('row', { name: 'Ctrl+Shift+Z, Ctrl+Y Redo' }).count()).toBe(1);
      await shot(page, 'editor-14-help');
      await help.getByRole('button', { name: 'Close' }).click();
      await help.waitFor({ state: 'hidden' });
    });
  }, 60_000);

  it('imports a CSV with text class labels through the data panel, refusing one with a bad row', async () => {
    await onPage(session, 'editor-failed-4', async (page) => {
      await page.getByRole('button', { name: /^Open example Seed tutorial: a new Adam/ }).click();
      await node(page, 'Input', 'x').click();
      const csv = (text: string) => ({ name: 'flowers.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });

      await page.getByLabel('CSV file').setInputFiles(csv('a,b,c,species\n0.1,0.2,0.7,setosa\n0.5,oops,0.5,versicolor\n'));
      await page.getByRole('button', { name: 'Import', exact: true }).click();
      await page.getByRole('alert', { name: 'CSV problems' }).getByText('flowers.csv: Line 3: column "b" is "oops", not a number.').waitFor();
      expect(await page.getByLabel('class names').inputValue()).toBe('0, 1, 2');
      await page.getByRole('button', { name: 'Cancel' }).click();

      // Without a header row, the column that is not used left out; text labels name the classes.
      await page.getByLabel('CSV file').setInputFiles(csv('0.1,0.2,9,0.7,setosa\n0.5,0.5,9,0.5,versicolor\n0.9,0.1,9,0.3,virginica\n0.2,0.2,9,0.6,setosa\n'));
      const form = page.getByRole('form', { name: 'Import CSV' });
      expect(await form.getByLabel('the first row names the columns').isChecked()).toBe(false);
      await form.getByLabel('Use of column 3').selectOption('unused');
      await form.getByRole('button', { name: 'Import', exact: true }).click();
      await page.getByRole('status').getByText('Imported 4 samples from flowers.csv (classes setosa, versicolor, virginica).').waitFor();
      expect(await page.getByLabel('class names').inputValue()).toBe('setosa, versicolor, virginica');
      expect(await page.getByLabel('sample 4, x3').inputValue()).toBe('0.6');
      expect(await page.getByLabel('sample 3, class').inputValue()).toBe('2');
      await page.getByText('None: the network compiles.').waitFor();
      await shot(page, 'editor-13-csv-imported');

      // One undoable step.
      await page.getByRole('button', { name: 'Undo' }).click();
      expect(await page.getByLabel('class names').inputValue()).toBe('0, 1, 2');
      expect(await page.getByLabel('sample 2, x1').count()).toBe(0);
    });
  }, 120_000);
});

async function flow(page: Page): Promise<void> {
  await buildAndTrain(page);
}

async function buildAndTrain(page: Page): Promise<void> {
  {
    await page.getByRole('button', { name: 'New empty network' }).click();
    await page.getByText('Drag layers from the palette').waitFor();
    await shot(page, 'editor-1-empty');

    // Three rows, so everything fits at 1280×720; auto layout straightens them out afterwards.
    const drops: [string, number, number][] = [
      ['Input', 100, 40], ['Linear', 320, 40], ['ReLU', 540, 40],
      ['Linear', 100, 170], ['Sigmoid', 320, 170], ['Linear', 540, 170],
      ['Softmax', 100, 300], ['Target', 320, 330], ['CrossEntropyLoss', 540, 300],
    ];
    for (const [type, x, y] of drops) await dropFromPalette(page, type, x, y);
    await page.waitForFunction(() => document.querySelectorAll('.svelte-flow__minimap-node').length === 9);
    await shot(page, 'editor-2-dropped');

    await connect(page, 'input1', 'linear1');
    await connect(page, 'linear1', 'relu1');
    await connect(page, 'relu1', 'linear2');
    await connect(page, 'linear2', 'sigmoid1');
    await connect(page, 'sigmoid1', 'linear3');
    await connect(page, 'linear3', 'softmax1');
    await connect(page, 'softmax1', 'loss1', 'input');
    await connect(page, 'target1', 'loss1', 'target');
    await page.getByRole('button', { name: 'Auto layout' }).click();
    await shot(page, 'editor-3-connected');

    // A cycle is refused, with the reason.
    const a = await centre(page.getByLabel('linear2 output', { exact: true }));
    const b = await centre(page.getByLabel('linear1 input in', { exact: true }));
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(b.x, b.y, { steps: 6 });
    await page.mouse.up();
    await page.getByRole('status').getByText('would close a cycle').waitFor();
    expect(await page.locator('.svelte-flow__edge').count()).toBe(8);

    for (const [name, matrix] of Object.entries(SEED)) {
      await node(page, 'Linear', name).click();
      const grid = page.getByRole('grid', { name: `${name}.weight`, exact: true });
      await pasteInto(grid, matrix);
      await page.getByText(`Pasted 3 × 3 into ${name}.weight.`).waitFor();
    }
    expect(await gridValues(page, 'linear3.weight')).toEqual(['0.1', '0.3', '0.5', '0.4', '0.7', '0.2', '0.8', '0.2', '0.9']);

    // An invalid cell is marked and never applied; an expression is.
    const grid = page.getByRole('grid', { name: 'linear3.weight', exact: true });
    await grid.getByRole('gridcell', { name: 'neuron 1 ← input 1' }).click();
    await page.keyboard.type('abc');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').getByText('"abc" is not a function or constant').waitFor();
    await shot(page, 'editor-4-invalid-cell');
    await grid.getByRole('gridcell', { name: 'neuron 1 ← input 1' }).click();
    await page.keyboard.type('1/10');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').waitFor({ state: 'detached' });
    expect((await gridValues(page, 'linear3.weight'))[0]).toBe('0.1');

    await node(page, 'Input', 'input1').click();
    await page.getByRole('button', { name: 'Add sample' }).click();
    for (const [k, v] of ['0.1', '0.2', '0.7'].entries()) {
      await page.getByLabel(`sample 1, x${k + 1}`).fill(v);
      await page.getByLabel(`sample 1, x${k + 1}`).press('Enter');
    }
    await page.getByLabel('sample 1, class').fill('1');
    await page.getByLabel('sample 1, class').press('Enter');
    await page.getByText('None: the network compiles.').waitFor();
    await shot(page, 'editor-5-ready');

    await page.getByRole('region', { name: 'Training' }).getByRole('button', { name: 'Run', exact: true }).click();
    const done = page.getByRole('status').getByText(/^Train 50 epochs: loss/);
    await done.waitFor({ timeout: 60_000 });
    const [first, last] = ((await done.innerText()).match(/loss (\d+(?:\.\d+)?) → (\d+(?:\.\d+)?)/) ?? []).slice(1).map(Number);
    expect(last).toBeLessThan(first);
    await shot(page, 'editor-6-trained');
    const trained = await gridValues(page, 'linear1.weight').catch(() => []);

    // Undo everything, back to the empty canvas; redo everything.
    await page.getByRole('application', { name: 'Network canvas' }).click({ position: { x: 5, y: 5 } });
    const undo = page.getByRole('button', { name: 'Undo' });
    await page.keyboard.press('Control+z');
    while (await undo.isEnabled()) await undo.click();
    expect(await page.locator('.svelte-flow__minimap-node').count()).toBe(0);
    await shot(page, 'editor-7-undone');
    const redo = page.getByRole('button', { name: 'Redo' });
    await page.keyboard.press('Control+Shift+z');
    while (await redo.isEnabled()) await redo.click();
    expect(await page.locator('.svelte-flow__minimap-node').count()).toBe(9);
    expect(await page.locator('.svelte-flow__edge').count()).toBe(8);

    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Save' }).click();
    const saved = await (await downloading).path();
    const text = readFileSync(saved, 'utf8');
    const project = JSON.parse(text);
    expect(project.nodes.map((n: { id: string }) => n.id)).toEqual(['input1', 'linear1', 'relu1', 'linear2', 'sigmoid1', 'linear3', 'softmax1', 'target1', 'loss1']);
    expect(project.history).toHaveLength(50);

    await page.getByRole('button', { name: 'New', exact: true }).click();
    expect(await page.locator('.svelte-flow__minimap-node').count()).toBe(0);
    const choosing = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Open…' }).click();
    await (await choosing).setFiles(saved);
    // It opens at a readable size, its start in view; fitted whole, every edge is drawn.
    await page.waitForFunction(() => document.querySelectorAll('.svelte-flow__minimap-node').length === 9);
    await page.getByRole('button', { name: 'Fit View' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.svelte-flow__edge').length === 8);
    await node(page, 'Linear', 'linear1').click();
    if (trained.length) expect(await gridValues(page, 'linear1.weight')).toEqual(trained);
    // Saved again, the reopened network is the same file, byte for byte.
    const again = page.waitForEvent('download');
    await page.keyboard.press('Control+s');
    expect(readFileSync(await (await again).path(), 'utf8')).toBe(text);
    await shot(page, 'editor-8-reopened');
  }
}
