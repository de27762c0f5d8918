/**
 * The project the host has open: its compiled model, where training stands (epoch, step, the
 * optimizer), the full per-epoch history, and snapshots of the weights and optimizer state after
 * each epoch for tracing earlier epochs. Opening the device, stepping and resetting are async (a
 * GPU is read back after each step); the rest is synchronous. host.ts schedules it.
 */
import * as torch from '../index';
import type { NestedArray } from '../index';
import { exportPytorch } from '../io/pytorch';
import { exportWeights, loadWeights } from '../io/weights';
import type { ComputedWeights, Device, ExportFormat, Summary, Trace } from '../protocol';
import { serializeProject, withHistory, withModelValues } from '../project/document';
import { loadProject } from '../project/load';
import { type Problem, ProjectError } from '../project/problems';
import type { EpochRecord, Project } from '../project/schema';
import { placeTraining, startTraining, Stepper, type Training } from '../project/train';
import { type OptimizerState, traceSample } from './trace';

/** Numbers kept in snapshots at most; beyond it, every other snapshot is dropped (and so on). */
const SNAPSHOT_BUDGET = 8_000_000;

interface Snapshot {
  weights: (Float32Array | Float64Array)[];
  optimizer: OptimizerState | null;
  steps: number;
}

/** The problems of a ProjectError, or the error as one problem (a bug, said in one sentence). */
export function problemsOf(e: unknown): Problem[] {
  if (e instanceof ProjectError) return [...e.problems];
  return [{ message: `Internal error in the engine: ${(e as Error)?.message ?? String(e)}.` }];
}

/** A summary from whatever parts of a document are readable: node ids and types. */
function roughSummary(doc: unknown): Summary {
  const nodes = (doc as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return { nodes: [], parameters: [] };
  return {
    nodes: nodes.flatMap((n: { id?: unknown; name?: unknown; type?: unknown } | null) =>
      typeof n?.id === 'string' && typeof n.type === 'string'
        ? [{ id: n.id, name: typeof n.name === 'string' ? n.name : n.id, type: n.type, shape: null }]
        : []),
    parameters: [],
  };
}

export class Session {
  readonly problems: Problem[] = [];
  readonly summary: Summary;
  private project: Project | null = null;
  private training: Training | null = null;
  private stepperState: Stepper | null = null;
  history: EpochRecord[] = [];
  private snapshots = new Map<number, Snapshot>();
  private snapshotStride = 1;
  /** On the GPU, the weights as of the last read back (so progress can send them while a step runs). */
  private readWeights: ComputedWeights = {};

  /** Loads and compiles a document; problems are collected, never thrown. */
  constructor(doc: unknown, state?: { weights: ComputedWeights; history: EpochRecord[] }) {
    try {
      this.project = loadProject(JSON.stringify(doc));
      // On the CPU, for loading `state`; place() moves it.
      this.training = startTraining(this.project, { epochs: 0, backend: 'cpu' });
    } catch (e) {
      this.problems.push(...problemsOf(e));
    }
    this.summary = this.training ? this.compiledSummary(this.training) : this.project ? roughSummary(this.project) : roughSummary(doc);
    if (this.training && this.project) {
      const epoch = state?.history.at(-1)?.epoch ?? 0;
      this.stepperState = new Stepper(this.project, this.training.graph, epoch);
      if (state) {
        loadWeights(this.training.graph.module, state.weights as Record<string, NestedArray>);
        this.history = [...state.history];
      }
      this.snapshot();
    }
  }

  /** Where the model trains (the CPU after a GPU failure). */
  get device(): Device {
    return this.training?.device ?? { backend: 'cpu' };
  }

  /**
   * Moves the model to the backend the project asks for; resolves with a notice sentence when it
   * asked for WebGPU and trains on the CPU instead. `init` as torch.webgpu.init's.
   */
  async place(init: torch.webgpu.InitOptions): Promise<string | null> {
    if (!this.training || !this.project) return null;
    const notice = await placeTraining(this.training, this.project.training.backend ?? 'auto', init);
    await this.readBack();
    return notice;
  }

  /** On the GPU, reads the weights and optimizer state back, for the synchronous readers here. */
  private async readBack(): Promise<void> {
    if (this.device.backend === 'cpu') return;
    await torch.webgpu.fetch(this.graph.module, ...(this.stepper.optimizer ? [this.stepper.optimizer] : []));
    this.readWeights = this.currentWeights();
  }

  /** Refuses what needs the model's values on the CPU while it trains on the GPU. */
  private needCpu(what: string): void {
    if (this.device.backend === 'webgpu') throw new ProjectError([{ message: `${what} needs the model on the CPU; this project trains on WebGPU (set training.backend to 'cpu' to use it).` }]);
  }

  private compiledSummary(training: Training): Summary {
    const { graph } = training;
    return {
      nodes: graph.order.map((n) => ({ id: n.id, name: n.name ?? n.id, type: n.type, shape: graph.values.get(n.id)?.shape ?? null })),
      parameters: graph.module.named_parameters().map(([name, p]) => ({ name, shape: [...p.shape] })),
    };
  }

  /** The stepper, or a ProjectError saying why this project cannot train. */
  get stepper(): Stepper {
    if (this.stepperState) return this.stepperState;
    throw new ProjectError(this.problems.length > 0 ? this.problems : [{ message: 'No project is open.' }]);
  }

  /** Throws a ProjectError with the project's problems when it cannot train. */
  checkTrainable(): void {
    void this.stepper;
  }

  get epoch(): number {
    return this.stepperState?.epoch ?? 0;
  }

  /** The project's own epoch count (training.epochs). */
  get plannedEpochs(): number {
    return this.project?.training.epochs ?? 0;
  }

  private get graph() {
    if (!this.training) throw new ProjectError(this.problems.length > 0 ? this.problems : [{ message: 'No project is open.' }]);
    return this.training.graph;
  }

  /** Every parameter by state_dict key. */
  weights(): ComputedWeights {
    return this.device.backend === 'webgpu' ? this.readWeights : this.currentWeights();
  }

  private currentWeights(): ComputedWeights {
    return Object.fromEntries(Object.entries(this.graph.module.state_dict()).map(([k, t]) => [k, t.tolist()]));
  }

  /** One optimizer step; the epoch's record when it ends one. */
  async step(): Promise<EpochRecord | null> {
    const record = await this.stepper.stepAsync();
    await this.readBack();
    if (record) {
      this.history.push(record);
      this.snapshot();
    }
    return record;
  }

  /** Back to the project's own weights, epoch 0, no history. */
  async reset(): Promise<void> {
    if (!this.project) throw new ProjectError(this.problems);
    // On the GPU already open, when the project asked for it.
    this.training = startTraining(this.project, { epochs: 0 });
    this.stepperState = new Stepper(this.project, this.training.graph);
    this.history = [];
    this.snapshots.clear();
    this.snapshotStride = 1;
    await this.readBack();
    this.snapshot();
  }

  /** Sets the parameters named in `weights` (the others keep their values); every bad name or shape is reported, and then nothing changes. */
  setWeights(weights: Record<string, NestedArray>): void {
    this.needCpu('Setting weights');
    const module = this.graph.module;
    loadWeights(module, { ...this.weights(), ...weights });
    if (this.stepper.batch === 0) this.snapshot();
  }

  /** The state after this epoch, as it is now (weights, optimizer, step count). */
  private snapshot(): void {
    const stepper = this.stepper;
    const epoch = stepper.epoch;
    if (epoch % this.snapshotStride !== 0) return;
    this.snapshots.set(epoch, {
      weights: this.graph.module.parameters().map((p) => p.toArray()),
      optimizer: stepper.optimizer && this.project?.training.loop !== 'recreate_optimizer' ? stepper.optimizer.state_dict() : null,
      steps: stepper.steps,
    });
    const perSnapshot = this.graph.module.parameters().reduce((n, p) => n + p.numel(), 0) * 3;
    if (this.snapshots.size * perSnapshot > SNAPSHOT_BUDGET) {
      this.snapshotStride *= 2;
      for (const kept of this.snapshots.keys()) if (kept % this.snapshotStride !== 0) this.snapshots.delete(kept);
    }
  }

  trace(sample: number, epoch?: number): Trace {
    this.needCpu('Tracing a sample');
    const stepper = this.stepper;
    const params = this.graph.module.parameters();
    const live = epoch === undefined || (epoch === stepper.epoch && stepper.batch === 0);
    const request = { project: this.project as Project, graph: this.graph, stepper, sample };
    if (live) {
      const optimizerState = stepper.optimizer && this.project?.training.loop !== 'recreate_optimizer' ? stepper.optimizer.state_dict() : null;
      return traceSample({ ...request, epoch: stepper.epoch, optimizerState, steps: stepper.steps });
    }
    const snapshot = this.snapshots.get(epoch);
    if (!snapshot) {
      const reason = epoch > stepper.epoch
        ? `training has done ${stepper.epoch} epoch${stepper.epoch === 1 ? '' : 's'} so far`
        : this.snapshotStride > 1
          ? `this long run keeps the weights of every ${this.snapshotStride}th epoch only`
          : 'its weights are gone (the project was reset or the weights set by hand since)';
      throw new ProjectError([{ message: `Epoch ${epoch} cannot be traced: ${reason}.` }]);
    }
    // Borrow the live model: put the epoch's weights in, trace, put the current ones back.
    const current = params.map((p) => p.toArray());
    params.forEach((p, i) => p.data.set(snapshot.weights[i]));
    try {
      return traceSample({ ...request, epoch, optimizerState: snapshot.optimizer, steps: snapshot.steps });
    } finally {
      params.forEach((p, i) => p.data.set(current[i]));
    }
  }

  export(format: ExportFormat): string {
    if (format === 'weights') return exportWeights(this.graph.module);
    if (!this.project) throw new ProjectError(this.problems);
    // The script starts from the current weights (graph's); the project keeps its own settings and data.
    if (format === 'pytorch') return exportPytorch(this.project, this.graph);
    const project = this.training ? withModelValues(this.project, this.graph) : this.project;
    // Untrained since opening: the document's own history (if any) still describes these weights.
    return serializeProject(this.history.length > 0 ? withHistory(project, this.history) : project);
  }
}
