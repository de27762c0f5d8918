import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { historyCsv, ThinnedRows, TrainingHistory } from '../../../renderer/training/history';

/** Element `index` of every kept row. */
const column = (rows: ThinnedRows, index: number) => rows.epochs.map((_, row) => rows.cell(row, index));

const seed = JSON.parse(readFileSync(new URL('../../fixtures/seed.json', import.meta.url), 'utf8'));
/** PyTorch's seed run as epoch records: loss before each step, softmax outputs after it. */
const records = (seed.new_adam_every_iteration.rows as { t: number; loss: number; probs: number[] }[])
  .map((r) => ({ epoch: r.t, loss: r.loss, outputs: [r.probs] }));

describe('ThinnedRows', () => {
  it('keeps every epoch until the budget, then every 2nd, 4th, … and always the first and the latest', () => {
    const rows = new ThinnedRows(2, 8 * 2 * 4); // room for 8 rows
    for (let epoch = 0; epoch <= 20; epoch++) {
      rows.push(epoch, [epoch, 1 - epoch]);
      expect(rows.bytes).toBeLessThanOrEqual(rows.budgetBytes);
      expect(rows.epochs[0]).toBe(0);
      expect(rows.epochs.at(-1)).toBe(epoch);
    }
    expect(rows.stride).toBe(4);
    expect(rows.epochs).toEqual([0, 4, 8, 12, 16, 20]);
    expect(column(rows, 1)).toEqual([1, -3, -7, -11, -15, -19]);
    rows.push(21, [21, -20]);
    rows.push(22, [22, -21]);
    // 21 was kept only while it was the latest.
    expect(rows.epochs).toEqual([0, 4, 8, 12, 16, 20, 22]);
    expect(rows.nearest(13)).toEqual({ epoch: 12, row: new Float32Array([12, -11]) });
    // A tie goes to the earlier epoch; before the first and after the latest, those.
    expect([14, 16, 21, 30, -3].map((e) => rows.nearest(e)?.epoch)).toEqual([12, 16, 20, 22, 0]);
    expect(rows.at(13)).toBeUndefined();
  });

  it('starts over from an epoch that comes again', () => {
    const rows = new ThinnedRows(1);
    for (const epoch of [0, 1, 2, 3]) rows.push(epoch, [epoch]);
    rows.push(2, [20]);
    expect(rows.epochs).toEqual([0, 1, 2]);
    expect(column(rows, 0)).toEqual([0, 1, 20]);
    expect(() => rows.push(3, [1, 2])).toThrow('A row of 2 values does not fit a series of 1.');
  });
});

describe('TrainingHistory', () => {
  const parameters = [{ name: 'layer.weight', shape: [1, 2] }, { name: 'layer.bias', shape: [1] }];

  it('keeps every loss and every output of the seed run', () => {
    const history = new TrainingHistory(parameters);
    history.add(records.slice(0, 20));
    history.add(records.slice(20));
    expect(history.epochs).toBe(49);
    expect(Array.from(history.losses)).toEqual(records.map((r) => Math.fround(r.loss)));
    expect(history.outputsAt(10)).toEqual([records[9].outputs[0].map(Math.fround)]);
    expect(history.loss(0)).toBeUndefined();
  });

  it('starts over when the engine reports epoch 1 again (after a reset)', () => {
    const history = new TrainingHistory(parameters);
    history.add(records.slice(0, 5));
    history.add([{ ...records[0], loss: 9 }]);
    expect(history.epochs).toBe(1);
    expect(history.loss(1)).toBe(9);
  });

  it('snapshots weights per epoch and reads them back by state_dict key', () => {
    const history = new TrainingHistory(parameters);
    history.snapshot(0, { 'layer.weight': [[0.5, -1]], 'layer.bias': [0.25] });
    history.snapshot(1, { 'layer.weight': [[0.75, -2]], 'layer.bias': [0.5] });
    expect(history.parameterAt('layer.weight', 0)).toEqual({ epoch: 0, values: [[0.5, -1]] });
    expect(history.parameterAt('layer.bias', 7)).toEqual({ epoch: 1, values: [0.5] });
    expect(column(history.weights, 1)).toEqual([-1, -2]);
    expect(history.snapshotsBeforeThinning).toBe(Math.floor((64 * 1024 * 1024) / 12));
  });

  it('writes the history as CSV with the shortest float32 digits', () => {
    const history = new TrainingHistory(parameters);
    history.add(records.slice(0, 2));
    expect(historyCsv(history, ['p0', 'p1', 'p2'])).toBe(
      'epoch,loss,p0,p1,p2\n1,1.143532,0.22928266,0.42505467,0.34566265\n2,1.0101007,0.1647835,0.5772744,0.2579421\n',
    );
    expect(historyCsv(history).split('\n')[0]).toBe('epoch,loss,output_0_0,output_0_1,output_0_2');
  });
});
