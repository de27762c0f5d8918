/**
 * The training view's state: the run's history as the charts and tables read it, stepping by
 * epoch or batch, the rate, the trace the math view shows, NaN handling and restoring an epoch.
 * Running, pausing and stopping go through the Studio's TrainingRun (renderer/state/run.svelte.ts),
 * which also writes the trained weights into the document when a run ends.
 */
import type { EngineClient, EventOf, Project, Trace } from '../../engine/protocol';
import { snapshotStride, withWeights } from '../state/run.svelte';
import type { Studio } from '../state/studio.svelte';
import { DEFAULT_TOLERANCE } from './expected';
import { reshape, TrainingHistory } from './history';
import { firstNonFinite, lastGoodEpoch } from './pitfalls';
import type { Precision, Values } from './printing';
import { RateMeter, Throttle } from './progress';

type Progress = EventOf<'progress'>;
type Record_ = Progress['records'][number];
type Snapshot = NonNullable<Progress['snapshots']>[number];

/** How often the tables and the math follow a streaming run, at most (the charts follow every frame). */
const GLANCE_MS = 250;

export class TrainingView {
  history: TrainingHistory = $state.raw(new TrainingHistory([]));
  /** Bumped whenever the history changes; charts redraw from it at their own pace. */
  version = $state(0);
  /**
   * `version`, taken up at most once every GLANCE_MS: what the history table, the math, the
   * weights and the checklist follow, as re-rendering them for every progress message of a run
   * would cost the page most of its frames. The last change always comes through.
   */
  glance = $state(0);
  /** A step (one epoch or one batch) is running outside the Studio's run. */
  stepping = $state(false);
  epochsPerSecond: number | undefined = $state();
  secondsLeft: number | undefined = $state();
  /** Set when the loss or the outputs turned NaN: where, and which weights were kept. */
  nan: { bad: number; good: number; where?: string } | null = $state(null);
  precision: Precision = $state(4);
  tolerance = $state(DEFAULT_TOLERANCE);
  sample = $state(0);
  /** The epoch the slider shows; null: the current weights. */
  epoch: number | null = $state(null);
  trace: Trace | null = $state.raw(null);
  traceError: string | null = $state(null);

  #meter = new RateMeter();
  /** How many of the Studio run's records were taken in, and which array they came from. */
  #seen: { records: readonly Record_[] | null; count: number } = { records: null, count: 0 };
  /** Weights that came with progress messages, kept until their epoch's record is in the history. */
  #snapshots: Snapshot[] = [];
  #traceToken = 0;
  #glances = new Throttle(GLANCE_MS, () => (this.glance = this.version));

  constructor(private readonly studio: Studio) {}

  get client(): EngineClient | undefined {
    return this.studio.engine?.client;
  }

  get status(): 'idle' | 'training' | 'paused' | 'stepping' {
    if (this.stepping) return 'stepping';
    return this.studio.run?.status ?? 'idle';
  }

  get plannedEpochs(): number {
    return this.studio.doc.project.training.epochs;
  }

  /** Snapshots are taken at multiples of this: every epoch of runs up to SNAPSHOT_EPOCHS long. */
  get snapshotStride(): number {
    return snapshotStride(this.plannedEpochs);
  }

  #changed(): void {
    this.version++;
    this.#glances.request();
  }

  /** A fresh history for the model's parameters as the engine last described them. */
  #fresh(): void {
    this.history = new TrainingHistory(this.studio.summary?.parameters ?? []);
    this.nan = null;
    this.#meter.reset();
    this.#changed();
  }

  /** Takes in records of the Studio's run (its array grows; a new run starts a new one). */
  follow(records: readonly Record_[]): void {
    if (records !== this.#seen.records && records.length < this.#seen.count) this.#seen.count = 0;
    this.#seen.records = records;
    const fresh = records.slice(this.#seen.count);
    this.#seen.count = records.length;
    if (fresh.length) this.#ingest(fresh);
  }

  /**
   * Takes the weights a progress message carries: the epochs the run's `snapshots` asked for, and
   * the latest epoch's when the message ends one. They join the history with their records
   * (which may come after them: the run's records reach the view through an effect).
   */
  take(progress: Progress): void {
    this.#snapshots.push(...(progress.snapshots ?? []));
    const last = progress.records.at(-1);
    if (progress.weights && last && progress.batch === 0 && progress.snapshots?.at(-1)?.epoch !== last.epoch) {
      this.#snapshots.push({ epoch: last.epoch, weights: progress.weights });
    }
  }

  /** Puts the snapshots whose records have arrived into the history. */
  #keepSnapshots(): void {
    let kept = 0;
    for (const s of this.#snapshots) {
      if (s.epoch > this.history.epochs) break;
      this.history.snapshot(s.epoch, s.weights);
      kept++;
    }
    if (kept === 0) return;
    this.#snapshots.splice(0, kept);
    this.#changed();
  }

  #ingest(records: readonly Record_[]): void {
    if (this.history.layout.length === 0 || records[0].epoch === 1) {
      if (records[0].epoch === 1 && this.history.epochs > 0) this.#fresh();
      else if (this.history.layout.length === 0) this.#fresh();
    }
    this.history.add(records);
    const last = records[records.length - 1];
    this.#meter.add(performance.now(), last.epoch);
    this.epochsPerSecond = this.#meter.rate;
    this.secondsLeft = this.#meter.secondsLeft(last.epoch, this.plannedEpochs);
    this.#changed();
    this.#keepSnapshots();
    const nan = lastGoodEpoch(records);
    if (nan && !this.nan) void this.#stopAtNan(nan);
  }

  /** A NaN loss stops the run, names the first node with a NaN, and keeps the last good weights. */
  async #stopAtNan(nan: { bad: number; good: number }): Promise<void> {
    this.nan = nan;
    const client = this.client;
    await this.studio.run?.stop();
    if (!client) return;
    try {
      this.nan = { ...nan, where: firstNonFinite(await client.trace(0, nan.bad)) ?? 'no node (the values are finite on sample 0)' };
    } catch (e) {
      this.nan = { ...nan, where: `unknown (${(e as Error).message})` };
    }
    const good = this.weightsAt(nan.good);
    if (good) this.studio.doc.apply(`Keep the weights of epoch ${nan.good} (the last before NaN)`, (p) => withWeights(p, good as Record<string, number[]>));
    this.history.truncate(nan.bad - 1);
    this.#snapshots = [];
    this.#changed();
    await this.refreshTrace();
  }

  /** The weights after `epoch` as this view kept them, by state_dict key; undefined if not kept. */
  weightsAt(epoch: number): Record<string, Values> | undefined {
    const row = this.history.weights.at(epoch);
    if (!row) return undefined;
    return Object.fromEntries(this.history.layout.map((p) => [p.name, reshape(Array.from(row.subarray(p.offset, p.offset + p.size)), p.shape)]));
  }

  /** Epoch 0's weights are taken before the first step, while the engine still holds them. */
  async #ensureStart(client: EngineClient): Promise<void> {
    if (this.history.epochs > 0 || this.history.weights.at(0)) return;
    await this.studio.engine?.renew();
    this.#fresh();
    const trace = await client.trace(0);
    this.history.snapshot(0, Object.fromEntries(trace.parameters.map((p) => [p.name, p.value])));
    this.#changed();
  }

  async start(): Promise<void> {
    const client = this.client;
    if (!client || this.status !== 'idle') return;
    if (this.studio.problems.length === 0) await this.#ensureStart(client).catch(() => undefined);
    this.#meter.reset();
    await this.studio.run?.start();
    await this.refreshTrace();
  }

  async pause(): Promise<void> {
    await this.studio.run?.pause();
    await this.refreshTrace();
  }

  async resume(): Promise<void> {
    this.#meter.reset();
    await this.studio.run?.resume();
    await this.refreshTrace();
  }

  /** One epoch or one optimizer step, then paused; the records come in like a run's. */
  async step(until: 'epoch' | 'batch'): Promise<void> {
    const client = this.client;
    if (!client || (this.status !== 'idle' && this.status !== 'paused')) return;
    if (this.studio.problems.length > 0) {
      this.studio.say(`The project cannot train yet: ${this.studio.problems[0].message}`, true);
      return;
    }
    this.stepping = true;
    try {
      await this.#ensureStart(client);
      const onProgress = (p: Progress) => {
        this.take(p);
        if (p.records.length) this.#ingest(p.records);
      };
      const paused = this.studio.run?.status === 'paused';
      if (!paused) await this.studio.engine?.renew();
      const done = paused ? await client.resume({ until }, onProgress) : await client.train({ until, snapshots: this.snapshotStride }, onProgress);
      if (done.reason === 'failed') this.studio.say(`Training failed: ${done.message ?? 'the engine gave no reason'}.`, true);
    } catch (e) {
      this.studio.say((e as Error).message, true);
    } finally {
      this.stepping = false;
    }
    await this.refreshTrace();
  }

  async stop(): Promise<void> {
    if (this.studio.run?.status === 'idle') await this.client?.cancel();
    else await this.studio.run?.stop();
  }

  /**
   * Back to the weights before training: the document gets epoch 0's weights (an undoable step),
   * the engine follows the document, and the history starts over.
   */
  async reset(): Promise<void> {
    await this.stop();
    const start = this.weightsAt(0);
    if (start) this.studio.doc.apply('Reset to the weights before training', (p) => withWeights(p, start as Record<string, number[]>));
    else await this.client?.reset();
    this.#fresh();
    this.#snapshots = [];
    this.epoch = null;
    await this.studio.engine?.update();
    await this.refreshTrace();
  }

  /** Makes the weights of `epoch` the current ones: an undoable step of the document. */
  restore(epoch: number): boolean {
    const weights = this.weightsAt(epoch);
    if (!weights) {
      this.studio.say(`The weights of epoch ${epoch} were not kept; pick an epoch the slider marks.`, true);
      return false;
    }
    this.studio.doc.apply(`Restore the weights of epoch ${epoch}`, (p: Project) => withWeights(p, weights as Record<string, number[]>));
    this.studio.say(`The weights of epoch ${epoch} are the current weights now (undo brings the others back).`);
    return true;
  }

  /** Traces the chosen sample at the chosen epoch for the math view; the latest request wins. */
  async refreshTrace(): Promise<void> {
    const client = this.client;
    if (!client || this.status === 'training' || this.status === 'stepping') return;
    const token = ++this.#traceToken;
    try {
      await this.studio.engine?.update();
      const trace = await client.trace(this.sample, this.epoch ?? undefined);
      if (token !== this.#traceToken) return;
      this.trace = trace;
      this.traceError = null;
    } catch (e) {
      if (token !== this.#traceToken) return;
      this.trace = null;
      this.traceError = (e as Error).message;
    }
  }
}
