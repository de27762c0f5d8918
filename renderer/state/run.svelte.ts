/**
 * A training run from the editor's side: start, pause, resume, stop; the records as they stream
 * in; and, when a run ends, the trained weights and history written into the document as one
 * undoable step, so saving keeps them and undo goes back to the weights before training.
 */
import { type EpochRecord, type EventOf, type NestedNumbers, type Project, type ProjectNode, roundFloat32 } from '../../engine/protocol';
import type { EngineSync } from './engine.svelte';
import type { Studio } from './studio.svelte';

export type RunStatus = 'idle' | 'training' | 'paused';
type Weights = Record<string, NestedNumbers>;
type Progress = EventOf<'progress'>;

/** Runs up to this many epochs keep the weights of every epoch; longer ones every 2nd, 4th, …. */
export const SNAPSHOT_EPOCHS = 1000;

/** The epochs whose weights a run of `epochs` epochs keeps are the multiples of this (a power of two). */
export function snapshotStride(epochs: number): number {
  let stride = 1;
  while (epochs / stride > SNAPSHOT_EPOCHS) stride *= 2;
  return stride;
}

const finite = (v: NestedNumbers): boolean => (Array.isArray(v) ? v.every(finite) : Number.isFinite(v));
/** float32 values as the shortest decimals that read back to them: 0.1, not 0.10000000149011612. */
export const rounded = (v: NestedNumbers): NestedNumbers => (Array.isArray(v) ? v.map(rounded) : roundFloat32(v));

/** The project with the weights of a state_dict (keys "hidden.weight", a Parameter's name) in its nodes. */
export function withWeights(project: Project, weights: Weights): Project {
  const nodes = project.nodes.map((node): ProjectNode => {
    const name = node.name ?? node.id;
    if (node.type === 'Linear') {
      const weight = weights[`${name}.weight`];
      const bias = weights[`${name}.bias`];
      if (!weight) return node;
      return { ...node, tensors: { weight: rounded(weight) as number[][], ...(bias ? { bias: rounded(bias) as number[] } : {}) } };
    }
    if (node.type === 'Parameter' && weights[name] !== undefined) return { ...node, tensors: { value: rounded(weights[name]) } };
    return node;
  });
  return { ...project, nodes };
}

export class TrainingRun {
  status: RunStatus = $state('idle');
  #records: EpochRecord[] = [];
  /** How many records came: a long run's array grows in place (a copy per progress message would be garbage by the megabyte). */
  #received = $state(0);
  /** The records as the document keeps them (float32 values written short), rounded as they come: at the run's end there is no time for it. */
  #history: EpochRecord[] = [];
  #weights: Weights | null = null;
  #project: Project | null = null;
  #listeners = new Set<(event: Progress) => void>();

  constructor(
    private readonly studio: Studio,
    private readonly engine: EngineSync,
  ) {}

  /** Every epoch of the run, as the engine reported them. */
  get records(): readonly EpochRecord[] {
    void this.#received;
    return this.#records;
  }

  get lastLoss(): number | undefined {
    return this.records.at(-1)?.loss;
  }

  /** Calls `listener` with every progress message of the runs (the weight snapshots in them); returns an unsubscribe. */
  onProgress(listener: (event: Progress) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async start(): Promise<void> {
    if (this.status !== 'idle') return;
    await this.engine.renew();
    if (this.studio.problems.length > 0) {
      this.studio.say(`The project cannot train yet: ${this.studio.problems[0].message}`, true);
      return;
    }
    this.#project = this.studio.doc.project;
    this.#records = [];
    this.#received = 0;
    this.#history = [];
    this.#weights = null;
    this.engine.hold();
    const snapshots = snapshotStride(this.#project.training.epochs);
    this.#finish(await this.#follow(this.engine.client.train({ weights: true, snapshots }, (p) => this.#progress(p))));
  }

  async pause(): Promise<void> {
    if (this.status === 'training') await this.engine.client.pause();
  }

  async resume(): Promise<void> {
    if (this.status !== 'paused') return;
    this.#finish(await this.#follow(this.engine.client.resume({}, (p) => this.#progress(p))));
  }

  async stop(): Promise<void> {
    if (this.status === 'training') await this.engine.client.cancel();
    else if (this.status === 'paused') {
      await this.engine.client.cancel();
      this.#finish({ reason: 'cancelled' });
    }
  }

  async #follow(running: Promise<EventOf<'trained'>>): Promise<Pick<EventOf<'trained'>, 'reason' | 'message'>> {
    this.status = 'training';
    try {
      return await running;
    } catch (e) {
      return { reason: 'failed', message: (e as Error).message };
    }
  }

  #progress(event: Progress): void {
    this.#records.push(...event.records);
    this.#received = this.#records.length;
    for (const r of event.records) this.#history.push({ epoch: r.epoch, loss: roundFloat32(r.loss), outputs: rounded(r.outputs) });
    if (event.weights) this.#weights = event.weights;
    for (const listener of this.#listeners) listener(event);
  }

  #finish({ reason, message }: Pick<EventOf<'trained'>, 'reason' | 'message'>): void {
    if (reason === 'paused') {
      this.status = 'paused';
      return;
    }
    this.status = 'idle';
    const trained = this.#project;
    const weights = this.#weights;
    const records = this.records;
    if (reason === 'failed') this.studio.say(`Training failed: ${message ?? 'the engine gave no reason'}.`, true);
    if (trained && weights && records.length > 0) {
      if (!Object.values(weights).every(finite) || !records.every((r) => Number.isFinite(r.loss) && finite(r.outputs))) {
        this.studio.say('Training produced NaN or infinite values; the weights before training are kept.', true);
      } else {
        // Edits made while training are kept; the trained weights go on top of them.
        const label = `Train ${records.length} epoch${records.length === 1 ? '' : 's'}`;
        const history = this.#history;
        this.studio.doc.apply(label, (p) => ({ ...withWeights(p, weights), history }));
        // The engine holds these weights already, with every epoch's snapshot: no need to open the project again.
        this.engine.adopt(withWeights(trained, weights));
        if (reason !== 'failed') this.studio.say(`${label}: loss ${records[0].loss.toPrecision(4)} → ${records.at(-1)?.loss.toPrecision(4)}.`);
      }
    }
    this.#project = null;
    void this.engine.release();
  }
}
