/**
 * The training runner, shared by the CLI and the app's engine host: a generator that trains one
 * epoch per step and yields { epoch, loss, outputs }, so a caller can show, pause or stop between
 * epochs. Its loop is the one a PyTorch script for the project would run (docs/project-format.md,
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

function makeOptimizer(settings: OptimizerSettings, params: Tensor[]): torch.optim.Optimizer<{ lr: number }> {
  const { type, ...options } = settings;
  switch (type) {
    case 'SGD': return new optim.SGD(params, options);
    case 'Adam': return new optim.Adam(params, options);
    case 'AdamW': return new optim.AdamW(params, options);
    case 'RMSprop': return new optim.RMSprop(params, options);
    case 'Adagrad': return new optim.Adagrad(params, options);
  }
}

/** A function giving the rows `rows` of a data tensor as a new tensor. */
function rowPicker(t: Tensor | null): (rows: readonly number[]) => Tensor | undefined {
  if (!t) return () => undefined;
  const list = t.tolist() as torch.NestedArray[];
  return (rows) => torch.tensor(rows.map((r) => list[r]), { dtype: t.dtype });
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
  const { module, objective } = graph;
  const params = module.parameters().filter((p) => p.requires_grad);
  if (params.length === 0) {
    throw new ProjectError([{ message: 'The graph has nothing to train: add a Linear layer or a Parameter.', path: 'nodes' }]);
  }

  function* run(): Generator<EpochRecord, void, void> {
    const { samples, targets } = graph;
    const count = samples?.shape[0] ?? targets?.shape[0] ?? 1;
    const pickSamples = rowPicker(samples);
    const pickTargets = rowPicker(targets);
    const batchSize = Math.min(settings.batch_size ?? count, count);
    const shuffler = new torch.Generator().manual_seed(seed);
    let optimizer = settings.loop === 'recreate_optimizer' ? null : makeOptimizer(settings.optimizer, params);
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = settings.shuffle ? Array.from(torch.randperm(count, { generator: shuffler }).toArray()) : Array.from({ length: count }, (_, i) => i);
      let total = 0;
      for (let start = 0; start < count; start += batchSize) {
        const rows = order.slice(start, start + batchSize);
        const whole = rows.length === count && !settings.shuffle;
        const feeds = whole ? feedsOf(graph) : { input: pickSamples(rows), target: pickTargets(rows) };
        try {
          module.zero_grad();
          const loss = module.run(feeds, [objective]).get(objective) as Tensor;
          loss.backward();
          // The seed notebook's loop: a fresh optimizer (so fresh Adam state) before every step.
          if (settings.loop === 'recreate_optimizer') optimizer = makeOptimizer(settings.optimizer, params);
          optimizer?.step();
          total += loss.item() * rows.length;
        } catch (e) {
          if (e instanceof ProjectError) throw e;
          throw new ProjectError([{ message: `Training stopped in epoch ${epoch}: ${(e as Error).message}.` }]);
        }
      }
      yield { epoch, loss: Math.fround(total / count), outputs: predict(graph) };
    }
  }

  return { graph, epochs, run };
}
