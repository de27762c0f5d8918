/** The charts' data, read from the history: complete for the loss, per kept epoch for the rest. */
import type { ThinnedRows, TrainingHistory } from './history';

export interface Point {
  x: number;
  y: number;
}
export interface Series {
  label: string;
  points: Point[];
}

/**
 * A chart's points between redraws, by series: while a run only grows, a redraw builds just the
 * new points (a 10,000-epoch run redraws 30 times a second). A new history, or one that forgot
 * epochs, starts the cache over.
 */
export class PointCache {
  #history: TrainingHistory | null = null;
  #truncations = 0;
  #lists = new Map<string, Point[]>();

  get(history: TrainingHistory, key: string): Point[] {
    if (history !== this.#history || history.truncations !== this.#truncations) {
      this.#history = history;
      this.#truncations = history.truncations;
      this.#lists.clear();
    }
    let list = this.#lists.get(key);
    if (!list) this.#lists.set(key, (list = []));
    return list;
  }
}

/**
 * Points for the kept rows of `rows`, y = `y(row index)`, extending `cache`. The latest kept row
 * may be replaced by a newer epoch, and thinning drops rows: the last cached point is always
 * built again, and the whole series when the one before it no longer matches.
 */
function keptPoints(rows: ThinnedRows, cache: Point[], y: (row: number) => number): Point[] {
  const { epochs } = rows;
  let keep = Math.max(0, Math.min(cache.length, epochs.length) - 1);
  if (keep > 0 && cache[keep - 1].x !== epochs[keep - 1]) keep = 0;
  cache.length = keep;
  for (let i = keep; i < epochs.length; i++) cache.push({ x: epochs[i], y: y(i) });
  return cache;
}

/** The loss of every epoch. */
export function lossPoints(history: TrainingHistory, cache = new PointCache()): Point[] {
  const losses = history.losses;
  const points = cache.get(history, 'loss');
  if (points.length > losses.length) points.length = 0;
  for (let i = points.length; i < losses.length; i++) points.push({ x: i + 1, y: losses[i] });
  return points;
}

/** One series per output of `sample` (per class, for a classifier), across the kept epochs. */
export function outputSeries(history: TrainingHistory, sample: number, names: readonly string[] = [], cache = new PointCache()): Series[] {
  const rows = history.outputs;
  const shape = history.outputShape;
  if (!rows || shape.length === 0) return [];
  // [N, C]: the sample's row; a flat [N]: its one value.
  const classes = shape.length >= 2 ? shape.slice(1).reduce((a, b) => a * b, 1) : 1;
  if (sample < 0 || sample >= shape[0]) return [];
  return Array.from({ length: classes }, (_, k) => {
    const index = sample * classes + k;
    const points = keptPoints(rows, cache.get(history, `output ${index}`), (row) => rows.cell(row, index));
    return { label: names[k] ?? (classes === 1 ? 'output' : `class ${k}`), points };
  });
}

/** The share of samples whose largest output is their target class, per kept epoch. */
export function accuracyPoints(history: TrainingHistory, targets: readonly number[], cache = new PointCache()): Point[] {
  const rows = history.outputs;
  const [n, classes] = history.outputShape;
  if (!rows || history.outputShape.length !== 2 || n !== targets.length || classes < 2) return [];
  return keptPoints(rows, cache.get(history, 'accuracy'), (row) => {
    let right = 0;
    for (let s = 0; s < n; s++) {
      let best = 0;
      for (let k = 1; k < classes; k++) if (rows.cell(row, s * classes + k) > rows.cell(row, s * classes + best)) best = k;
      if (best === targets[s]) right++;
    }
    return right / n;
  });
}

/** Element `index` (flat, row-major) of parameter `name` across the kept snapshots. */
export function weightPoints(history: TrainingHistory, name: string, index: number, cache = new PointCache()): Point[] {
  const p = history.layout.find((l) => l.name === name);
  if (!p || index < 0 || index >= p.size) return [];
  return keptPoints(history.weights, cache.get(history, `weight ${p.offset + index}`), (row) => history.weights.cell(row, p.offset + index));
}

/**
 * What a chart draws of `points` (x ascending) between `xMin` and `xMax`: in each of `buckets`
 * equal slices of x, its lowest and its highest point, in x order, with the first and last point
 * of the range and one point beyond each end (so the line runs to the edges). At one bucket a
 * pixel, the line looks as the whole series would, while chart.js handles at most about
 * 2 × `buckets` points whatever the run's length. Series that short are returned whole.
 */
export function decimate(points: readonly Point[], buckets: number, xMin = -Infinity, xMax = Infinity): Point[] {
  // The first point at or past xMin and the last at or before xMax, each widened by one.
  const start = Math.max(0, firstAtLeast(points, xMin) - 1);
  const end = Math.min(points.length - 1, firstAtLeast(points, xMax, true));
  if (end - start + 1 <= 2 * buckets + 2) return points.slice(start, end + 1);
  const x0 = points[start].x;
  const width = (points[end].x - x0) / buckets;
  const kept: Point[] = [points[start]];
  let bucket = 0;
  let low = start + 1;
  let high = start + 1;
  const close = () => {
    if (low === high) kept.push(points[low]);
    else kept.push(points[Math.min(low, high)], points[Math.max(low, high)]);
  };
  for (let i = start + 1; i < end; i++) {
    const b = Math.min(buckets - 1, Math.floor((points[i].x - x0) / width));
    if (b !== bucket) {
      close();
      bucket = b;
      low = high = i;
    } else if (points[i].y < points[low].y) low = i;
    else if (points[i].y > points[high].y) high = i;
  }
  close();
  kept.push(points[end]);
  return kept;
}

/** The index of the first point with x ≥ `x` (or > `x` when `after`), by binary search; the length if none. */
function firstAtLeast(points: readonly Point[], x: number, after = false): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid].x < x || (after && points[mid].x === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
