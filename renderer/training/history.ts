/**
 * What the training view keeps of a run: every epoch's loss (complete: 4 bytes an epoch), and per
 * epoch the outputs for every sample and a snapshot of the weights, each within a stated memory
 * bound. Past the bound a series is thinned evenly: it keeps every 2nd epoch, then every 4th, …,
 * always with epoch 0 and the latest one, so a long run shows its whole course at a coarser step.
 */
import type { EpochRecord } from '../../engine/protocol';
import { flatten, formatNumber, shapeOf, type Values } from './printing';

/** Outputs and weight snapshots each keep at most this many bytes (64 MiB). */
export const SERIES_BUDGET_BYTES = 64 * 1024 * 1024;

/** A growable column of float32 values. */
class Floats {
  data = new Float32Array(64);
  length = 0;
  push(values: ArrayLike<number>): void {
    while (this.length + values.length > this.data.length) {
      const bigger = new Float32Array(this.data.length * 2);
      bigger.set(this.data.subarray(0, this.length));
      this.data = bigger;
    }
    this.data.set(values, this.length);
    this.length += values.length;
  }
}

/** One row of `width` numbers per kept epoch, thinned to `budgetBytes`. */
export class ThinnedRows {
  /** Kept epochs, ascending: multiples of `stride`, and the latest. */
  epochs: number[] = [];
  /** Epochs kept are multiples of this (a power of two). */
  stride = 1;
  #rows = new Floats();

  constructor(readonly width: number, readonly budgetBytes = SERIES_BUDGET_BYTES) {}

  get bytes(): number {
    return this.#rows.length * 4;
  }

  /** Adds the row of `epoch`; an epoch at or before the latest one replaces the rows from it on. */
  push(epoch: number, row: ArrayLike<number>): void {
    if (row.length !== this.width) throw new Error(`A row of ${row.length} values does not fit a series of ${this.width}.`);
    if (this.epochs.length && epoch <= (this.epochs.at(-1) as number)) this.truncate(epoch - 1);
    // The latest row stays only until a newer one comes, unless the stride keeps it.
    const last = this.epochs.at(-1);
    if (last !== undefined && last % this.stride !== 0) {
      this.epochs.pop();
      this.#rows.length -= this.width;
    }
    this.epochs.push(epoch);
    this.#rows.push(row);
    while (this.bytes > this.budgetBytes && this.epochs.length > 2) this.#thin();
  }

  #thin(): void {
    this.stride *= 2;
    const { data } = this.#rows;
    const kept: number[] = [];
    const lastIndex = this.epochs.length - 1;
    this.epochs.forEach((epoch, i) => {
      if (epoch % this.stride !== 0 && i !== lastIndex) return;
      data.copyWithin(kept.length * this.width, i * this.width, (i + 1) * this.width);
      kept.push(epoch);
    });
    this.epochs = kept;
    this.#rows.length = kept.length * this.width;
  }

  /** Drops every row after `epoch`. */
  truncate(epoch: number): void {
    let n = this.epochs.length;
    while (n > 0 && this.epochs[n - 1] > epoch) n--;
    this.epochs.length = n;
    this.#rows.length = n * this.width;
  }

  /** The row of the kept epoch nearest to `epoch` (the earlier on a tie); undefined when empty. */
  nearest(epoch: number): { epoch: number; row: Float32Array } | undefined {
    if (this.epochs.length === 0) return undefined;
    // Binary search (the epochs ascend): charts ask for every kept row on every redraw.
    let lo = 0;
    let hi = this.epochs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.epochs[mid] < epoch) lo = mid + 1;
      else hi = mid;
    }
    const best = lo > 0 && epoch - this.epochs[lo - 1] <= this.epochs[lo] - epoch ? lo - 1 : lo;
    return { epoch: this.epochs[best], row: this.#rows.data.subarray(best * this.width, (best + 1) * this.width) };
  }

  /** The row of exactly `epoch`, if kept. */
  at(epoch: number): Float32Array | undefined {
    const found = this.nearest(epoch);
    return found?.epoch === epoch ? found.row : undefined;
  }

  /** Element `index` of the `row`-th kept row. */
  cell(row: number, index: number): number {
    return this.#rows.data[row * this.width + index];
  }
}

/** Where each parameter lies in a weight snapshot's row. */
export interface ParameterLayout {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

export function layoutOf(parameters: readonly { name: string; shape: readonly number[] }[]): ParameterLayout[] {
  let offset = 0;
  return parameters.map(({ name, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const entry = { name, shape: [...shape], offset, size };
    offset += size;
    return entry;
  });
}

/** A run's history, as the charts, the table and the weight slider read it. */
export class TrainingHistory {
  #loss = new Floats();
  /** Outputs for every sample per epoch; created with the first record. */
  outputs: ThinnedRows | null = null;
  outputShape: number[] = [];
  readonly weights: ThinnedRows;
  readonly layout: ParameterLayout[];
  /** Bumped on every change, so views know to redraw. */
  version = 0;
  /** Bumped when epochs are forgotten (a restart, a NaN): what was read of the history before may be stale. */
  truncations = 0;

  constructor(parameters: readonly { name: string; shape: readonly number[] }[], readonly budgetBytes = SERIES_BUDGET_BYTES) {
    this.layout = layoutOf(parameters);
    const width = this.layout.reduce((n, p) => n + p.size, 0);
    this.weights = new ThinnedRows(width, budgetBytes);
  }

  /** Epochs recorded (the latest epoch; records always run 1, 2, 3, …). */
  get epochs(): number {
    return this.#loss.length;
  }

  /** Losses of epochs 1…n, complete. */
  get losses(): Float32Array {
    return this.#loss.data.subarray(0, this.#loss.length);
  }

  /** How many epochs of weight snapshots fit in the bound before thinning starts. */
  get snapshotsBeforeThinning(): number {
    return Math.floor(this.budgetBytes / Math.max(4, this.weights.width * 4));
  }

  add(records: readonly EpochRecord[]): void {
    for (const record of records) {
      // A record that is not the next epoch means the run restarted (reset, weights set): start over from it.
      if (record.epoch !== this.epochs + 1) this.truncate(record.epoch - 1);
      const outputs = flatten(record.outputs as Values);
      if (!this.outputs || this.outputs.width !== outputs.length) {
        this.outputs = new ThinnedRows(outputs.length, this.budgetBytes);
        this.outputShape = shapeOf(record.outputs as Values);
      }
      this.outputs.push(record.epoch, outputs);
      this.#loss.push([record.loss]);
    }
    this.version++;
  }

  /** Weights after `epoch`, by state_dict key, as nested lists or flat rows. */
  snapshot(epoch: number, weights: Readonly<Record<string, Values>>): void {
    const row = new Float32Array(this.weights.width);
    for (const p of this.layout) {
      const values = weights[p.name];
      if (values === undefined) return;
      row.set(flatten(values), p.offset);
    }
    this.weights.push(epoch, row);
    this.version++;
  }

  /** Forgets everything after `epoch` (0: the whole run). */
  truncate(epoch: number): void {
    this.truncations++;
    this.#loss.length = Math.min(this.#loss.length, epoch);
    this.outputs?.truncate(epoch);
    this.weights.truncate(epoch);
    this.version++;
  }

  loss(epoch: number): number | undefined {
    return epoch >= 1 && epoch <= this.epochs ? this.#loss.data[epoch - 1] : undefined;
  }

  /** The outputs after `epoch`, shaped as the engine sent them; undefined where thinned away. */
  outputsAt(epoch: number): Values | undefined {
    const row = this.outputs?.at(epoch);
    return row ? reshape(Array.from(row), this.outputShape) : undefined;
  }

  /** Parameter `name` after the kept epoch nearest `epoch`. */
  parameterAt(name: string, epoch: number): { epoch: number; values: Values } | undefined {
    const p = this.layout.find((l) => l.name === name);
    const found = this.weights.nearest(epoch);
    if (!p || !found) return undefined;
    return { epoch: found.epoch, values: reshape(Array.from(found.row.subarray(p.offset, p.offset + p.size)), p.shape) };
  }
}

/** Flat row-major values as nested lists of `shape`. */
export function reshape(flat: readonly number[], shape: readonly number[]): Values {
  if (shape.length === 0) return flat[0];
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, i) => reshape(flat.slice(i * inner, (i + 1) * inner), shape.slice(1)));
}

/** Epochs with their loss, and every output per sample, as CSV (one row per epoch kept). */
export function historyCsv(history: TrainingHistory, columnNames?: readonly string[]): string {
  const width = history.outputs?.width ?? 0;
  const names = Array.from({ length: width }, (_, i) => columnNames?.[i] ?? `output_${outputIndex(i, history.outputShape)}`);
  const lines = [['epoch', 'loss', ...names].join(',')];
  for (let epoch = 1; epoch <= history.epochs; epoch++) {
    const row = history.outputs?.at(epoch);
    const cells = row ? Array.from(row, (x) => formatNumber(x, 'full')) : Array.from({ length: width }, () => '');
    lines.push([String(epoch), formatNumber(history.loss(epoch) as number, 'full'), ...cells].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Flat index → "0_2" (sample 0, class 2) for a column header. */
function outputIndex(flat: number, shape: readonly number[]): string {
  const index: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    index.unshift(flat % shape[d]);
    flat = Math.floor(flat / shape[d]);
  }
  return index.join('_');
}
