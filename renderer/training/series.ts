/** The charts' data, read from the history: complete for the loss, per kept epoch for the rest. */
import type { TrainingHistory } from './history';

export interface Point {
  x: number;
  y: number;
}
export interface Series {
  label: string;
  points: Point[];
}

/** The loss of every epoch; appends to `cache` rather than rebuilding it when the run only grew. */
export function lossPoints(history: TrainingHistory, cache: Point[] = []): Point[] {
  const losses = history.losses;
  if (cache.length > losses.length) cache.length = 0;
  for (let i = cache.length; i < losses.length; i++) cache.push({ x: i + 1, y: losses[i] });
  return cache;
}

/** One series per output of `sample` (per class, for a classifier), across the kept epochs. */
export function outputSeries(history: TrainingHistory, sample: number, names: readonly string[] = []): Series[] {
  const rows = history.outputs;
  const shape = history.outputShape;
  if (!rows || shape.length === 0) return [];
  // [N, C]: the sample's row; a flat [N]: its one value.
  const classes = shape.length >= 2 ? shape.slice(1).reduce((a, b) => a * b, 1) : 1;
  if (sample < 0 || sample >= shape[0]) return [];
  return Array.from({ length: classes }, (_, k) => {
    const column = rows.column(sample * classes + k);
    return { label: names[k] ?? (classes === 1 ? 'output' : `class ${k}`), points: rows.epochs.map((x, i) => ({ x, y: column[i] })) };
  });
}

/** The share of samples whose largest output is their target class, per kept epoch. */
export function accuracyPoints(history: TrainingHistory, targets: readonly number[]): Point[] {
  const rows = history.outputs;
  const [n, classes] = history.outputShape;
  if (!rows || history.outputShape.length !== 2 || n !== targets.length || classes < 2) return [];
  return rows.epochs.map((x) => {
    const row = rows.at(x) as Float32Array;
    let right = 0;
    for (let s = 0; s < n; s++) {
      let best = 0;
      for (let k = 1; k < classes; k++) if (row[s * classes + k] > row[s * classes + best]) best = k;
      if (best === targets[s]) right++;
    }
    return { x, y: right / n };
  });
}

/** Element `index` (flat, row-major) of parameter `name` across the kept snapshots. */
export function weightPoints(history: TrainingHistory, name: string, index: number): Point[] {
  const p = history.layout.find((l) => l.name === name);
  if (!p || index < 0 || index >= p.size) return [];
  const column = history.weights.column(p.offset + index);
  return history.weights.epochs.map((x, i) => ({ x, y: column[i] }));
}
