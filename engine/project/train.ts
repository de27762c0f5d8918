/**
 * The training loop, shared by the CLI and the app's engine host: a Stepper that takes one
 * optimizer step at a time, and a runner generator that yields { epoch, loss, outputs } per epoch. Its loop is the one a PyTorch script for the project would run (docs/project-format.md,
 * "Training"), so the numbers agree with PyTorch's.
 */
import * as torch from '../index';
import type { Tensor } from '../index';
import { type CompiledGraph, compile, feedsOf, predict } from './compile';
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

  /** One optimizer step; the epoch's record when the step ends an epoch, else null. */
  step(): EpochRecord | null {
    const { graph } = this;
    const settings = this.project.training;
    if (this.batch === 0) {
      this.order = settings.shuffle
        ? Array.from(torch.randperm(this.count, { generator: this.shuffler }).toArray())
        : Array.from({ length: this.count }, (_, i) => i);
      this.total = 0;
    }
    const epoch = this.epoch + 1;
    const rows = this.order.slice(this.batch * this.batchSize, (this.batch + 1) * this.batchSize);
    const whole = rows.length === this.count && !settings.shuffle;
    const feeds = whole ? feedsOf(graph) : { input: pick(graph.samples, rows), target: pick(graph.targets, rows) };
    try {
      graph.module.zero_grad();
      const loss = graph.module.run(feeds, [graph.objective]).get(graph.objective) as Tensor;
      loss.backward();
      // The seed notebook's loop: a fresh optimizer (so fresh Adam state) before every step.
      if (settings.loop === 'recreate_optimizer') this.optimizer = makeOptimizer(settings.optimizer, this.params);
      this.optimizer?.step();
      this.total += loss.item() * rows.length;
    } catch (e) {
      if (e instanceof ProjectError) throw e;
      throw new ProjectError([{ message: `Training stopped in epoch ${epoch}: ${(e as Error).message}.` }]);
    }
    this.steps++;
    this.batch++;
    if (this.batch * this.batchSize < this.count) return null;
    this.batch = 0;
    this.epoch = epoch;
    return { epoch, loss: Math.fround(this.total / this.count), outputs: predict(graph) };
  }
}

export interface Training {
  readonly graph: CompiledGraph;
  readonly epochs: number;
  /** Trains; one record per epoch. Stopping early keeps the weights of the epochs done. */
  run(): Generator<EpochRecord, void, void>;
}

/**
 * Compiles a project for training and returns its runner. Throws a ProjectError for a project
 * that cannot train (every problem at once) or a backend that is not available.
 */
export function startTraining(project: Project, options: TrainOptions = {}): Training {
  const settings = project.training;
  const backend = options.backend ?? settings.backend ?? 'auto';
  if (backend === 'webgpu') {
    throw new ProjectError([{ message: 'The webgpu backend is not available yet; train with the cpu (or auto) backend.', path: 'training.backend' }]);
  }
  const seed = settings.seed ?? 0;
  // One seeded stream for initial weights and then Dropout, as torch.manual_seed(seed) gives a script.
  const graph = compile(project, { generator: torch.manual_seed(seed) });
  const epochs = options.epochs ?? settings.epochs;
  if (!graph.module.parameters().some((p) => p.requires_grad)) {
    throw new ProjectError([{ message: 'The graph has nothing to train: add a Linear layer or a Parameter.', path: 'nodes' }]);
  }

  function* run(): Generator<EpochRecord, void, void> {
    const stepper = new Stepper(project, graph);
    while (stepper.epoch < epochs) {
      const record = stepper.step();
      if (record) yield record;
    }
  }

  return { graph, epochs, run };
}

/** The rows `rows` of a data tensor (undefined for a graph without it). */
function pick(t: Tensor | null, rows: readonly number[]): Tensor | undefined {
  if (!t) return undefined;
  const list = t.tolist() as torch.NestedArray[];
  return torch.tensor(rows.map((r) => list[r]), { dtype: t.dtype });
}
