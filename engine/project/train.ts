/**
 * The training loop, shared by the CLI and the app's engine host: a Stepper that takes one
 * optimizer step at a time, and runner generators that yield { epoch, loss, outputs } per epoch
 * (run() on the CPU, records() on the CPU or WebGPU). Its loop is the one a PyTorch script for the project would run (docs/project-format.md,
 * "Training"), so the numbers agree with PyTorch's.
 */
import { AUTO_MIN_PARAMETERS, writeInto } from '../device';
import * as torch from '../index';
import type { Tensor } from '../index';
import { type CompiledGraph, compile, feedsOf, predict, predictTensor } from './compile';
import { ProjectError } from './problems';
import type { EpochRecord, OptimizerSettings, Project } from './schema';

const { optim } = torch;

export type Backend = 'cpu' | 'webgpu' | 'auto';

export interface TrainOptions {
  /** Overrides training.epochs. */
  epochs?: number;
  /** Overrides training.backend. */
  backend?: Backend;
}

export type Optimizer = torch.optim.Optimizer<{ lr: number }>;

/** Where a run trains, as the host's `opened.device` reports it. */
export interface TrainingDevice {
  backend: torch.Device;
  /** The GPU adapter's description (WebGPU only). */
  adapter?: string;
}

/** The device a compiled graph's parameters are on now (the CPU again after a GPU failure). */
export function deviceOf(graph: CompiledGraph): TrainingDevice {
  const backend = graph.module.parameters()[0]?.device ?? 'cpu';
  const adapter = torch.webgpu.adapter();
  return backend === 'webgpu' && adapter ? { backend, adapter: adapter.description || adapter.vendor } : { backend };
}

export function makeOptimizer(settings: OptimizerSettings, params: Tensor[]): Optimizer {
  const { type, ...options } = settings;
  switch (type) {
    case 'SGD': return new optim.SGD(params, options);
    case 'Adam': return new optim.Adam(params, options);
    case 'AdamW': return new optim.AdamW(params, options);
    case 'RMSprop': return new optim.RMSprop(params, options);
    case 'Adagrad': return new optim.Adagrad(params, options);
  }
}

/**
 * The training loop, one optimizer step at a time, with its optimizer in reach: the runner below
 * drives it epoch by epoch; the app's engine host steps it by batch, pauses between steps, and
 * reads the optimizer's state for the math view.
 */
export class Stepper {
  readonly params: Tensor[];
  /** Epochs completed. */
  epoch: number;
  /** Optimizer steps done in the epoch under way (0 between epochs). */
  batch = 0;
  /** Optimizer steps done since the stepper started. */
  steps = 0;
  /** The optimizer of the last step (the loop "recreate_optimizer" makes a new one for every step). */
  optimizer: Optimizer | null;
  private readonly count: number;
  private readonly batchSize: number;
  private readonly shuffler: torch.Generator;
  private order: number[] = [];
  private total = 0;
  /** On the GPU, the epoch under way's step losses, one slot per step (see stepAsync); null between epochs. */
  private stepLosses: Tensor | null = null;

  /**
   * `graph` comes from startTraining (compiled, seeded, checked that it can train); `epoch`:
   * the epochs already done (when carrying on after a restart).
   */
  constructor(private readonly project: Project, private readonly graph: CompiledGraph, epoch = 0) {
    const settings = project.training;
    this.params = graph.module.parameters().filter((p) => p.requires_grad);
    this.count = graph.samples?.shape[0] ?? graph.targets?.shape[0] ?? 1;
    this.batchSize = Math.min(settings.batch_size ?? this.count, this.count);
    this.shuffler = new torch.Generator().manual_seed(settings.seed ?? 0);
    this.optimizer = settings.loop === 'recreate_optimizer' ? null : makeOptimizer(settings.optimizer, this.params);
    this.epoch = epoch;
  }

  /** A fresh optimizer with the project's settings over `params` (for the trace's what-if step). */
  newOptimizer(params: Tensor[]): Optimizer {
    return makeOptimizer(this.project.training.optimizer, params);
  }

  /** One optimizer step on the CPU; the epoch's record when the step ends an epoch, else null. */
  step(): EpochRecord | null {
    const rows = this.begin();
    this.total += this.train(rows).item() * rows.length;
    return this.advance() ? { epoch: this.epoch, loss: Math.fround(this.total / this.count), outputs: predict(this.graph) } : null;
  }

  /**
   * One optimizer step on the model's device: step() on the CPU. On the GPU each step's memory is
   * freed at once (tidy), and its loss is copied, on the device, into its slot of one buffer of
   * the epoch's step losses, made at the epoch's first GPU step and freed at its end; the epoch
   * then reads the losses and the outputs back, two round trips whatever its number of steps,
   * and adds the float32 losses up on the host as step() does. (One buffer, freed explicitly: a
   * running sum on the device would replace a tensor every step, and the engine frees a replaced
   * tensor only when it is garbage-collected.) After a GPU failure the epoch goes on on the CPU,
   * the buffer's values with it.
   */
  async stepAsync(): Promise<EpochRecord | null> {
    if (this.params[0].device === 'cpu' && this.stepLosses === null) return this.step();
    const rows = this.begin();
    // Slots of steps taken before (on the CPU, if the model moved to the GPU mid-epoch) stay 0: their losses are in `total`.
    const stepLosses = (this.stepLosses ??= torch.zeros([Math.ceil(this.count / this.batchSize)], { device: this.params[0].device }));
    torch.tidy(() => writeInto(stepLosses, this.train(rows), this.batch));
    if (!this.advance()) return null;
    const { outputs, shape } = torch.tidy(() => {
      const prediction = predictTensor(this.graph);
      return { outputs: prediction.read(), shape: prediction.shape };
    });
    const [values, losses] = await Promise.all([outputs, stepLosses.read()]);
    stepLosses.storage?.free();
    this.stepLosses = null;
    // In the order step() adds them, each times its rows, so the loss is the CPU's for the same step losses.
    losses.forEach((loss, i) => (this.total += loss * (Math.min((i + 1) * this.batchSize, this.count) - i * this.batchSize)));
    return { epoch: this.epoch, loss: Math.fround(this.total / this.count), outputs: torch.tensor(Array.from(values)).reshape(shape).tolist() };
  }

  /** The rows of the step about to run (a new order when an epoch starts). */
  private begin(): number[] {
    const settings = this.project.training;
    if (this.batch === 0) {
      this.order = settings.shuffle
        ? Array.from(torch.randperm(this.count, { generator: this.shuffler }).toArray())
        : Array.from({ length: this.count }, (_, i) => i);
      this.total = 0;
    }
    return this.order.slice(this.batch * this.batchSize, (this.batch + 1) * this.batchSize);
  }

  /** Forward, backward and the optimizer's step over `rows`; the loss. */
  private train(rows: number[]): Tensor {
    const { graph } = this;
    const settings = this.project.training;
    const whole = rows.length === this.count && !settings.shuffle;
    const feeds = whole ? feedsOf(graph) : { input: pick(graph.samples, rows), target: pick(graph.targets, rows) };
    try {
      graph.module.zero_grad();
      const loss = graph.module.run(feeds, [graph.objective]).get(graph.objective) as Tensor;
      loss.backward();
      // The seed notebook's loop: a fresh optimizer (so fresh Adam state) before every step.
      if (settings.loop === 'recreate_optimizer') this.optimizer = makeOptimizer(settings.optimizer, this.params);
      this.optimizer?.step();
      return loss;
    } catch (e) {
      if (e instanceof ProjectError) throw e;
      throw new ProjectError([{ message: `Training stopped in epoch ${this.epoch + 1}: ${(e as Error).message}.` }]);
    }
  }

  /** Counts the step done; true when it ended an epoch. */
  private advance(): boolean {
    this.steps++;
    this.batch++;
    if (this.batch * this.batchSize < this.count) return false;
    this.batch = 0;
    this.epoch++;
    return true;
  }
}

export interface Training {
  readonly graph: CompiledGraph;
  readonly epochs: number;
  /** Where it trains now (the CPU when WebGPU was asked for but no GPU is open, or after the GPU failed). */
  readonly device: TrainingDevice;
  /** Trains on the CPU; one record per epoch. Stopping early keeps the weights of the epochs done. */
  run(): Generator<EpochRecord, void, void>;
  /** Trains on `device` (any); one record per epoch. */
  records(): AsyncGenerator<EpochRecord, void, void>;
}

/**
 * Compiles a project for training, puts the model on its backend (WebGPU only where it is open
 * already: openTraining() opens it) and returns its runner. Throws a ProjectError for a project that
 * cannot train (every problem at once).
 */
export function startTraining(project: Project, options: TrainOptions = {}): Training {
  const settings = project.training;
  const backend = options.backend ?? settings.backend ?? 'auto';
  const seed = settings.seed ?? 0;
  // One seeded stream for initial weights and then Dropout, as torch.manual_seed(seed) gives a script.
  const graph = compile(project, { generator: torch.manual_seed(seed) });
  const epochs = options.epochs ?? settings.epochs;
  if (!graph.module.parameters().some((p) => p.requires_grad)) {
    throw new ProjectError([{ message: 'The graph has nothing to train: add a Linear layer or a Parameter.', path: 'nodes' }]);
  }

  if (backend !== 'cpu') moveTo(graph, backend);

  function* run(): Generator<EpochRecord, void, void> {
    const stepper = new Stepper(project, graph);
    while (stepper.epoch < epochs) {
      const record = stepper.step();
      if (record) yield record;
    }
  }

  async function* records(): AsyncGenerator<EpochRecord, void, void> {
    const stepper = new Stepper(project, graph);
    while (stepper.epoch < epochs) {
      const record = await stepper.stepAsync();
      if (record) yield record;
    }
  }

  return { graph, epochs, get device() { return deviceOf(graph); }, run, records };
}

/**
 * Moves a CPU training to `backend`, opening WebGPU first where it can be used: for 'webgpu', and
 * for 'auto' with a model of AUTO_MIN_PARAMETERS or more (a smaller one stays on the CPU without
 * loading Dawn). Resolves with why a run that asked for WebGPU trains on the CPU, else null.
 * `init`: Dawn's backend and the device-loss callback (torch.webgpu.init).
 */
export async function placeTraining(training: Training, backend: Backend, init: torch.webgpu.InitOptions = {}): Promise<string | null> {
  const parameters = training.graph.module.parameters().reduce((n, p) => n + p.numel(), 0);
  if (backend === 'cpu' || (backend === 'auto' && parameters < AUTO_MIN_PARAMETERS)) return null;
  let reason = '';
  try {
    await torch.webgpu.init(init);
  } catch (e) {
    if (!(e instanceof torch.webgpu.GpuUnavailableError)) throw e;
    reason = e.message;
  }
  moveTo(training.graph, backend);
  return backend === 'webgpu' && training.device.backend === 'cpu' ? `WebGPU is not available (${reason}); training on the CPU.` : null;
}

/** startTraining on the backend the project (or `options`) asks for; `notice` as placeTraining's. */
export async function openTraining(project: Project, options: TrainOptions = {}, init: torch.webgpu.InitOptions = {}): Promise<{ training: Training; notice: string | null }> {
  const training = startTraining(project, { ...options, backend: 'cpu' });
  return { training, notice: await placeTraining(training, options.backend ?? project.training.backend ?? 'auto', init) };
}

/** Moves the model to `backend`: 'webgpu' without an open GPU means the CPU. */
function moveTo(graph: CompiledGraph, backend: Backend): void {
  graph.module.to(backend === 'webgpu' && !torch.webgpu.is_available() ? 'cpu' : backend);
}

/** The rows `rows` of a data tensor (undefined for a graph without it). */
function pick(t: Tensor | null, rows: readonly number[]): Tensor | undefined {
  if (!t) return undefined;
  const list = t.tolist() as torch.NestedArray[];
  return torch.tensor(rows.map((r) => list[r]), { dtype: t.dtype });
}
