/**
 * One forward and backward pass on one sample, with every number a "math of one neuron" view
 * shows: each node's inputs, output and gradients, each parameter's value and gradient, and what
 * the optimizer's next step would do with that gradient. Changes nothing: Dropout is off (so the
 * random stream training uses is not touched), the optimizer step runs on copies, and the
 * parameters' gradients are put back as they were.
 */
import * as torch from '../index';
import type { NestedArray, Tensor } from '../index';
import type { Trace, Update } from '../protocol';
import type { CompiledGraph } from '../project/compile';
import { buildNode, type Feeds, inputPorts } from '../project/nodes';
import { ProjectError } from '../project/problems';
import type { Project, ProjectNode } from '../project/schema';
import type { Optimizer, Stepper } from '../project/train';

export type OptimizerState = ReturnType<Optimizer['state_dict']>;

export interface TraceRequest {
  project: Project;
  graph: CompiledGraph;
  stepper: Stepper;
  sample: number;
  /** The epoch whose weights the model holds now (the trace reports it). */
  epoch: number;
  /** The optimizer's state to step from; null for a fresh optimizer. */
  optimizerState: OptimizerState | null;
  /** Optimizer steps taken before (SGD keeps no count of its own). */
  steps: number;
}

const nameOf = (node: ProjectNode): string => node.name ?? node.id;

/** Rows [sample] of the data, as a batch of one. */
function feedsFor(graph: CompiledGraph, sample: number): Feeds {
  const count = graph.samples?.shape[0] ?? graph.targets?.shape[0] ?? 1;
  if (!Number.isInteger(sample) || sample < 0 || sample >= count) {
    const which = graph.samples || graph.targets ? `the project has ${count} sample${count === 1 ? '' : 's'} (0 to ${count - 1})` : 'the graph takes no data, so trace sample 0';
    throw new ProjectError([{ message: `There is no sample ${sample}: ${which}.` }]);
  }
  const row = (t: Tensor | null) => (t ? torch.tensor([(t.tolist() as NestedArray[])[sample]], { dtype: t.dtype }) : undefined);
  return { input: row(graph.samples), target: row(graph.targets) };
}

/**
 * dL/d(each input) along this node's own edges: the node computed again on detached copies of
 * its inputs and differentiated with dL/d(output). Where an output feeds several nodes, its own
 * gradient is the sum of these, one per edge.
 */
function edgeGrads(node: ProjectNode, graph: CompiledGraph, inputs: Tensor[], gradOut: Tensor | null, feeds: Feeds): (Tensor | null)[] {
  if (!gradOut) return inputs.map(() => null);
  const copies = inputs.map((t) => (t.dtype === 'int64' ? t : t.detach().requires_grad_()));
  let out: Tensor;
  if (node.type === 'Linear') {
    // The live layer's weights, detached so their own gradients stay as the pass left them.
    const state = graph.module.state_dict();
    out = torch.nn.functional.linear(copies[0], state[`${nameOf(node)}.weight`].detach(), state[`${nameOf(node)}.bias`]?.detach());
  } else {
    const built = buildNode(node, new torch.Generator());
    if (built.member instanceof torch.nn.Module) built.member.eval();
    out = built.apply(copies, feeds);
  }
  out.backward(gradOut);
  return copies.map((c) => (c.requires_grad ? c.grad : null));
}

const list = (t: Tensor | null): NestedArray | null => (t ? t.tolist() : null);

function elementwise(value: NestedArray, f: (x: number) => number): NestedArray {
  return Array.isArray(value) ? value.map((v) => elementwise(v, f)) : f(value);
}

/** Flat values (row-major) in the nesting of `like`. */
function nestLike(like: NestedArray, flat: readonly number[]): NestedArray {
  let k = 0;
  return elementwise(like, () => flat[k++]);
}

/** What the next optimizer step would do, from `state`, to each trainable parameter (by identity). */
function updates(request: TraceRequest): Map<Tensor, Update> {
  const { stepper, optimizerState } = request;
  const settings = request.project.training.optimizer;
  const live = stepper.params.filter((p) => p.grad !== null);
  const copies = stepper.params.map((p) => {
    const copy = p.clone().detach().requires_grad_();
    copy.grad = p.grad ? p.grad.detach() : null;
    copy.locked = p.locked;
    return copy;
  });
  const optimizer = stepper.newOptimizer(copies);
  if (optimizerState) optimizer.load_state_dict(optimizerState);
  optimizer.step();
  const lr = optimizer.param_groups[0].lr;
  const out = new Map<Tensor, Update>();
  stepper.params.forEach((p, i) => {
    if (!live.includes(p)) return;
    const copy = copies[i];
    const raw = optimizer.state.get(copy) ?? {};
    const state: Record<string, NestedArray> = {};
    for (const [key, value] of Object.entries(raw)) if (typeof value !== 'number') state[key] = value.tolist();
    const step = typeof raw.step === 'number' ? raw.step : request.steps + 1;
    const derived: Record<string, NestedArray> = {};
    const grad = (p.grad as Tensor).tolist();
    if (settings.type === 'SGD') derived.lr_grad = elementwise(grad, (g) => Math.fround(lr * g));
    if (settings.type === 'Adam' || settings.type === 'AdamW') {
      const [beta1, beta2] = settings.betas ?? [0.9, 0.999];
      derived.m_hat = elementwise(state.exp_avg, (m) => Math.fround(m / (1 - beta1 ** step)));
      derived.v_hat = elementwise(state.max_exp_avg_sq ?? state.exp_avg_sq, (v) => Math.fround(v / (1 - beta2 ** step)));
    }
    const before = p.toArray();
    const after = copy.tolist();
    // after − before exactly, in doubles: a float32 subtraction could round a tiny step away.
    const delta = nestLike(after, Array.from(copy.toArray(), (x, j) => x - before[j]));
    out.set(p, { optimizer: settings.type, lr, step, state, derived, after, delta });
  });
  return out;
}

export function traceSample(request: TraceRequest): Trace {
  const { project, graph, sample } = request;
  const { module } = graph;
  const feeds = feedsFor(graph, sample);
  const params = module.named_parameters();
  const savedGrads = params.map(([, p]) => p.grad);
  module.zero_grad();
  module.eval();
  try {
    const values = torch.enable_grad(() => module.run(feeds, [graph.objective]));
    for (const t of values.values()) if (t.requires_grad) t.retain_grad();
    const loss = values.get(graph.objective) as Tensor;
    if (loss.requires_grad) loss.backward();

    const nodes = graph.order.filter((n) => values.has(n.id)).map((node) => {
      const ports = inputPorts(node);
      const sources = graph.sources.get(node.id) as readonly string[];
      const inputs = sources.map((s) => values.get(s) as Tensor);
      const output = values.get(node.id) as Tensor;
      const grads = edgeGrads(node, graph, inputs, output.grad, feeds);
      return {
        id: node.id,
        name: nameOf(node),
        type: node.type,
        inputs: ports.map((port, i) => ({ port, from: sources[i], value: inputs[i].tolist(), grad: list(grads[i]) })),
        output: output.tolist(),
        grad: list(output.grad),
        ...(output.grad_fn ? { gradFn: output.grad_fn.name } : {}),
      };
    });

    const update = updates(request);
    // state_dict keys are "<node name>.weight" for layers and "<node name>" for Parameter nodes.
    const idByName = new Map(project.nodes.map((n) => [nameOf(n), n.id]));
    const parameters = params.map(([name, p]) => ({
      name,
      node: idByName.get(name) ?? idByName.get(name.slice(0, name.lastIndexOf('.'))) ?? name,
      value: p.tolist(),
      grad: list(p.grad),
      update: update.get(p) ?? null,
    }));
    return { sample, epoch: request.epoch, loss: loss.item(), nodes, parameters };
  } finally {
    module.train();
    params.forEach(([, p], i) => {
      p.grad = savedGrads[i];
    });
  }
}
