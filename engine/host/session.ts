/**
 * The project the host has open: its compiled model, where training stands (epoch, step, the
 * optimizer), the full per-epoch history, and snapshots of the weights and optimizer state after
 * each epoch for tracing earlier epochs. Opening the device, stepping, resetting, setting weights
 * and tracing are async: on the GPU the values are read back only when something needs them (a
 * progress message, a snapshot, a trace). The rest is synchronous. host.ts schedules it.
 */
import * as torch from '../index';
import type { NestedArray } from '../index';
import { exportOnnx } from '../io/onnx';
import { exportPytorch } from '../io/pytorch';
import { exportWeights, loadWeights } from '../io/weights';
import type { ComputedWeights, Device, ExportFormat, Summary, Trace } from '../protocol';
import { type CompiledGraph, compile } from '../project/compile';
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
  /** On the GPU, the weights as of the last read back, and whether a step changed them since. */
  private readWeights: ComputedWeights = {};
  private stale = false;
  /** On the GPU, a CPU copy of the model that traces run on (the GPU's values cannot be listed op by op). */
  private twin: { graph: CompiledGraph; stepper: Stepper } | null = null;

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
    this.stale = false;
  }

  /** Makes weights() current: on the GPU a read back when a step changed them since the last one. */
  async sync(): Promise<void> {
    if (this.stale) await this.readBack();
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

  /** Every parameter by state_dict key (on the GPU as of the last sync()). */
  weights(): ComputedWeights {
    return this.device.backend === 'webgpu' ? this.readWeights : this.currentWeights();
  }

  private currentWeights(): ComputedWeights {
    return Object.fromEntries(Object.entries(this.graph.module.state_dict()).map(([k, t]) => [k, t.tolist()]));
  }

  /** One optimizer step; the epoch's record when it ends one. */
  async step(): Promise<EpochRecord | null> {
    const record = await this.stepper.stepAsync();
    if (this.device.backend === 'webgpu') this.stale = true;
    if (record) {
      this.history.push(record);
      if (this.snapshotDue()) {
        await this.sync();
        this.snapshot();
      }
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

  /**
   * Sets the parameters named in `weights` (the others keep their values); every bad name or
   * shape is reported, and then nothing changes. On the GPU the values are written to the
   * device's tensors and read back.
   */
  async setWeights(weights: Record<string, NestedArray>): Promise<void> {
    await this.sync();
    loadWeights(this.graph.module, { ...this.weights(), ...weights } as Record<string, NestedArray>);
    await this.readBack();
    if (this.stepper.batch === 0) this.snapshot();
  }

  /** Whether the epoch just ended (or the state now) is one the snapshots keep. */
  private snapshotDue(): boolean {
    return this.stepper.epoch % this.snapshotStride === 0;
  }

  /** The state after this epoch, as it is now (weights, optimizer, step count); on the GPU as of the last read back. */
  private snapshot(): void {
    const stepper = this.stepper;
    const epoch = stepper.epoch;
    if (!this.snapshotDue()) return;
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

  /** Traces `sample` with the weights after `epoch` (default: the current ones); see traceSample. */
  async trace(sample: number, epoch?: number): Promise<Trace> {
    const stepper = this.stepper;
    const live = epoch === undefined || (epoch === stepper.epoch && stepper.batch === 0);
    const keepsOptimizer = stepper.optimizer && this.project?.training.loop !== 'recreate_optimizer';
    let state: Snapshot & { epoch: number };
    if (live) {
      await this.sync();
      const optimizer = keepsOptimizer ? stepper.optimizer?.state_dict() ?? null : null;
      // On the CPU the live model holds these weights already: trace it as it is, no copies.
      if (this.device.backend === 'cpu') {
        return traceSample({ project: this.project as Project, graph: this.graph, stepper, sample, epoch: stepper.epoch, optimizerState: optimizer, steps: stepper.steps });
      }
      state = { epoch: stepper.epoch, weights: this.graph.module.parameters().map((p) => p.toArray()), optimizer, steps: stepper.steps };
    } else {
      const snapshot = this.snapshots.get(epoch);
      if (!snapshot) {
        const reason = epoch > stepper.epoch
          ? `training has done ${stepper.epoch} epoch${stepper.epoch === 1 ? '' : 's'} so far`
          : this.snapshotStride > 1
            ? `this long run keeps the weights of every ${this.snapshotStride}th epoch only`
            : 'its weights are gone (the project was reset or the weights set by hand since)';
        throw new ProjectError([{ message: `Epoch ${epoch} cannot be traced: ${reason}.` }]);
      }
      state = { ...snapshot, epoch };
    }
    // On the CPU, borrow the live model; on the GPU, its CPU twin. Put the epoch's weights in, trace, put the others back.
    const model = this.device.backend === 'webgpu' ? this.cpuTwin() : { graph: this.graph, stepper };
    const params = model.graph.module.parameters();
    const before = params.map((p) => p.toArray());
    params.forEach((p, i) => p.data.set(state.weights[i]));
    try {
      return traceSample({ project: this.project as Project, ...model, sample, epoch: state.epoch, optimizerState: state.optimizer, steps: state.steps });
    } finally {
      params.forEach((p, i) => p.data.set(before[i]));
    }
  }

  /** The model compiled again on the CPU, for tracing while it trains on the GPU; its values are set per trace. */
  private cpuTwin(): { graph: CompiledGraph; stepper: Stepper } {
    if (!this.twin) {
      const project = this.project as Project;
      // Its own generator: the live model's random stream (Dropout) stays untouched.
      const graph = compile(project, { generator: new torch.Generator() });
      this.twin = { graph, stepper: new Stepper(project, graph) };
    }
    return this.twin;
  }

  /** Text, except the ONNX model's bytes. */
  export(format: ExportFormat): string | Uint8Array<ArrayBuffer> {
    if (format === 'weights') return exportWeights(this.graph.module);
    if (!this.project) throw new ProjectError(this.problems);
    // The script and the model start from the current weights (graph's); the project keeps its own settings and data.
    if (format === 'pytorch') return exportPytorch(this.project, this.graph);
    if (format === 'onnx') return exportOnnx(this.project, this.graph);
    const project = this.training ? withModelValues(this.project, this.graph) : this.project;
    // Untrained since opening: the document's own history (if any) still describes these weights.
    return serializeProject(this.history.length > 0 ? withHistory(project, this.history) : project);
  }
}
