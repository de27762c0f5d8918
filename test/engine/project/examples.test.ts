import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importCsv } from '../../../engine/io/csv';
import { exampleDoc } from './helpers';

describe('the Iris example', () => {
  const { data } = exampleDoc('iris.json') as { data: { samples: number[][]; targets: number[]; class_names: string[] } };

  it('holds Fisher\'s 150 flowers, 50 of each species', () => {
    expect(data.samples).toHaveLength(150);
    expect(data.samples.every((row) => row.length === 4)).toBe(true);
    expect(data.class_names).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(data.targets).toEqual([...Array(50).fill(0), ...Array(50).fill(1), ...Array(50).fill(2)]);
  });

  it('has the data set\'s known column means', () => {
    const means = [0, 1, 2, 3].map((c) => (data.samples.reduce((s, row) => s + row[c], 0) / 150).toFixed(3));
    expect(means).toEqual(['5.843', '3.057', '3.758', '1.199']);
  });

  it('has Fisher\'s values where the UCI copy has two well-known errors (samples 35 and 38)', () => {
    expect(data.samples[0]).toEqual([5.1, 3.5, 1.4, 0.2]);
    expect(data.samples[34]).toEqual([4.9, 3.1, 1.5, 0.2]);
    expect(data.samples[37]).toEqual([4.9, 3.6, 1.4, 0.1]);
    expect(data.samples[149]).toEqual([5.9, 3, 5.1, 1.8]);
  });

  it('ships as a CSV too, which the CSV import reads back as the same data', () => {
    const csv = readFileSync(new URL('../../../assets/examples/iris.csv', import.meta.url), 'utf8');
    expect(importCsv(csv, {})).toEqual(data);
  });
});
