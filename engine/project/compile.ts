/**
 * Project → engine model. Checks the whole project and reports every problem at once (node id,
 * port, one sentence), then builds a module whose forward runs the graph in topological order:
 * any DAG, with skip connections, shared inputs and several outputs.
 */
import * as torch from '../index';
import type { NestedArray, Tensor } from '../index';
import { type BuiltNode, buildNode, type Feeds, inferNode, inputPorts, isLoss, type Source, takesClasses, type ValueInfo } from './nodes';
import { type Problem, ProjectError } from './problems';
import { LIMITS, type Project, type ProjectNode } from './schema';
import { formatDims, nestedShape } from './tensors';

const { nn } = torch;

const PYTHON_KEYWORDS = new Set(('False None True and as assert async await break class continue def del elif else except finally for ' +
  'from global if import in is lambda nonlocal not or pass raise return try while with yield').split(' '));
/** nn.Module members in PyTorch that a layer named like them would hide in an exported script. */
const PYTORCH_MEMBERS = new Set(('apply buffers children cpu cuda double float half modules named_modules register_buffer ' +
  'register_parameter requires_grad_ to type').split(' '));

/** How a node shows in messages: its type and name, e.g. "Linear 'hidden2'". */
function nodeLabel(node: ProjectNode): string {
  return `${node.type} '${node.name ?? node.id}'`;
}

interface Step {
  node: ProjectNode;
  /** Node ids feeding the input ports, in port order. */
  sources: string[];
  built: BuiltNode;
}

/**
 * The graph as an nn.Module: every layer and parameter node is a member named by the node's name,
 * registered in topological order, so named_parameters() and state_dict() give the keys and order
 * a PyTorch module with the same attributes gives ("hidden.weight", "hidden.bias", …).
 */
export class GraphModule extends nn.Module {
  // Private (#) fields are not properties, so they take no name a layer could want ('output').
  readonly #steps: Step[] = [];
  #output = '';

  /** Registers a node's step (and its member under `name`); called in topological order. */
  addStep(step: Step, name: string): void {
    this.#steps.push(step);
    if (step.built.member) Object.assign(this, { [name]: step.built.member });
  }

  /** The values of the nodes `wanted` and of everything they depend on, by node id. */
  run(feeds: Feeds, wanted: readonly string[]): Map<string, Tensor> {
    const needed = dependenciesOf(this.#steps, wanted);
    const values = new Map<string, Tensor>();
    for (const { node, sources, built } of this.#steps) {
      if (!needed.has(node.id)) continue;
      values.set(node.id, built.apply(sources.map((s) => values.get(s) as Tensor), feeds));
    }
    return values;
  }

  /** Sets the node forward() returns: the prediction. */
  setOutput(id: string): void {
    this.#output = id;
  }

  /** The prediction for samples x (no x for a graph without an Input node). */
  forward(x?: Tensor): Tensor {
    return this.run({ input: x }, [this.#output]).get(this.#output) as Tensor;
  }
}

export interface CompiledGraph {
  module: GraphModule;
  /** The nodes in the order they run. */
  order: readonly ProjectNode[];
  /** The inferred value (shape, classes or not) of every node, by id. */
  values: ReadonlyMap<string, ValueInfo>;
  /** What feeds each node, by id: the source node of each of its input ports, in port order. */
  sources: ReadonlyMap<string, readonly string[]>;
  /** The node whose scalar value training minimises: the loss node, or a scalar output. */
  objective: string;
  /** The network's output that the records show: what feeds the loss, or the objective itself. */
  prediction: string;
  /** The samples and targets as the model takes them; null for a graph without Input or Target. */
  samples: Tensor | null;
  targets: Tensor | null;
}

/** The ids of the nodes `wanted` and of every node they depend on; `steps` in the order they run. */
export function dependenciesOf(steps: readonly { node: { id: string }; sources: readonly string[] }[], wanted: readonly string[]): Set<string> {
  const needed = new Set(wanted);
  for (let i = steps.length - 1; i >= 0; i--) {
    const { node, sources } = steps[i];
    if (needed.has(node.id)) for (const s of sources) needed.add(s);
  }
  return needed;
}

/** Computes the prediction for all samples (no gradient, Dropout off), as nested lists. */
export function predict(graph: CompiledGraph): NestedArray {
  return predictTensor(graph).tolist();
}

/** The prediction for all samples as a tensor, on the model's device (a GPU one is read with `await t.read()`). */
export function predictTensor(graph: CompiledGraph): Tensor {
  const { module } = graph;
  module.eval();
  try {
    return torch.no_grad(() => module.run(feedsOf(graph), [graph.prediction]).get(graph.prediction) as Tensor);
  } finally {
    module.train();
  }
}

export function feedsOf(graph: CompiledGraph): Feeds {
  return { input: graph.samples ?? undefined, target: graph.targets ?? undefined };
}

export interface CompileOptions {
  /** Where Linear layers without given values draw them; default: a generator seeded with training.seed. */
  generator?: torch.Generator;
}

/** Collects problems; a node's problems carry its id, and their paths start at the node. */
class Problems {
  readonly list: Problem[] = [];
  add(message: string, extra: Omit<Problem, 'message'> = {}): void {
    this.list.push({ message, ...extra });
  }
  forNode(node: ProjectNode, index: number, message: string, port?: string, path?: string): null {
    this.list.push({
      message,
      node: node.id,
      ...(port !== undefined ? { port } : {}),
      path: path ? `nodes[${index}].${path}` : `nodes[${index}]`,
    });
    return null;
  }
}

/** Checks the tensors a node carries: Linear weights against its sizes, Parameter and Constant values, locked cells. */
function checkTensors(node: ProjectNode, index: number, problems: Problems): void {
  const label = nodeLabel(node);
  const tensorShape = (value: unknown, path: string, expected?: number[]): number[] | null => {
    const shape = nestedShape(value, path, ` of ${label}`);
    if (!Array.isArray(shape)) return problems.forNode(node, index, `${shape.message}.`, undefined, path);
    if (expected && formatDims(shape) !== formatDims(expected)) {
      return problems.forNode(node, index, `${label} has a ${path} of shape ${formatDims(shape)}, but its sizes need ${formatDims(expected)}.`, undefined, path);
    }
    const elements = shape.reduce((a, b) => a * b, 1);
    if (shape.length > LIMITS.tensorRank || elements > LIMITS.tensorElements) {
      return problems.forNode(node, index, `${label}'s ${path} has shape ${formatDims(shape)}; a tensor may have at most ${LIMITS.tensorRank} dims and ${LIMITS.tensorElements} elements.`, undefined, path);
    }
    return shape;
  };
  const checkLocked = (cells: number[][] | undefined, shape: number[] | null, tensor: string): void => {
    if (!cells || !shape) return;
    cells.forEach((cell, k) => {
      if (cell.length !== shape.length || cell.some((c, d) => c >= shape[d])) {
        problems.forNode(node, index, `${label} locks cell ${formatDims(cell)} of its ${tensor}, which has shape ${formatDims(shape)}.`, undefined, `locked.${tensor}[${k}]`);
      }
    });
  };
  switch (node.type) {
    case 'Linear': {
      const { in_features, out_features, bias = true } = node.params;
      if (in_features * out_features > LIMITS.tensorElements) {
        problems.forNode(node, index, `${label} would have ${in_features * out_features} weights; a tensor may have at most ${LIMITS.tensorElements}.`, undefined, 'params');
        return;
      }
      const weight = node.tensors?.weight === undefined ? [out_features, in_features] : tensorShape(node.tensors.weight, 'tensors.weight', [out_features, in_features]);
      checkLocked(node.locked?.weight, weight, 'weight');
      if (!bias && (node.tensors?.bias || node.locked?.bias)) {
        problems.forNode(node, index, `${label} has bias values, but its params say bias: false.`, undefined, 'tensors.bias');
        return;
      }
      const biasShape = node.tensors?.bias === undefined ? [out_features] : tensorShape(node.tensors.bias, 'tensors.bias', [out_features]);
      checkLocked(node.locked?.bias, biasShape, 'bias');
      return;
    }
    case 'Parameter':
      checkLocked(node.locked?.value, tensorShape(node.tensors.value, 'tensors.value'), 'value');
      return;
    case 'Constant':
      tensorShape(node.params.value, 'params.value');
      return;
    default:
      return;
  }
}

/** Locked cells as the engine takes them: a mask over the tensor, row-major, 1 = locked. */
function lockMask(cells: number[][] | undefined, tensor: Tensor | null): void {
  if (!cells || !tensor) return;
  const mask = new Uint8Array(tensor.numel());
  for (const cell of cells) mask[cell.reduce((offset, c, d) => offset * tensor.shape[d] + c, 0)] = 1;
  tensor.locked = mask;
}

/** Sample and target rows against the graph: row widths, target count, class indices in range. */
function checkData(project: Project, graph: { inputNode?: ProjectNode; targetNode?: ProjectNode; classesOf: Map<string, number> }, problems: Problems): void {
  const { data } = project;
  const { inputNode, targetNode } = graph;
  if (!inputNode && !targetNode) return;
  if (!data) {
    problems.add(`${nodeLabel((inputNode ?? targetNode) as ProjectNode)} needs data, but the project has no "data".`, { node: (inputNode ?? targetNode)?.id, path: 'data' });
    return;
  }
  const shown = 10;
  const report = (bad: number[], describe: (i: number) => string, path: string): void => {
    for (const i of bad.slice(0, shown)) problems.add(describe(i), { path: `${path}[${i}]` });
    if (bad.length > shown) problems.add(`${bad.length - shown} more rows of ${path} have the same problem.`, { path });
  };
  if (data.samples.length === 0) problems.add('data.samples is empty; training needs at least one sample.', { path: 'data.samples' });
  if (inputNode?.type === 'Input') {
    const features = inputNode.params.features;
    const bad = data.samples.flatMap((row, i) => (row.length === features ? [] : [i]));
    report(bad, (i) => `data.samples[${i}] has ${data.samples[i].length} values, but ${nodeLabel(inputNode)} takes ${features}.`, 'data.samples');
  }
  const targets = data.targets;
  if (!targetNode || !targets) return;
  if (targets.length !== data.samples.length) {
    problems.add(`data.targets has ${targets.length} rows, but data.samples has ${data.samples.length}; there must be one target per sample.`, { path: 'data.targets' });
  }
  const first = targets[0];
  if (Array.isArray(first)) {
    const bad = targets.flatMap((row, i) => (Array.isArray(row) && row.length === first.length ? [] : [i]));
    report(bad, (i) => `data.targets[${i}] is not a row of ${first.length} values like data.targets[0].`, 'data.targets');
    return;
  }
  const classes = graph.classesOf.get(targetNode.id);
  const bad = targets.flatMap((t, i) => (typeof t === 'number' && Number.isInteger(t) && t >= 0 && (classes === undefined || t < classes) ? [] : [i]));
  const range = classes === undefined ? 'a class index (a whole number from 0)' : `a class index from 0 to ${classes - 1}`;
  report(bad, (i) => `data.targets[${i}] is ${Array.isArray(targets[i]) ? 'a list' : String(targets[i])}, but each target must be ${range}.`, 'data.targets');
}

/** Topological order (Kahn's algorithm, ties in file order), and the cycles that stop it. */
function sortNodes(nodes: ProjectNode[], preds: Map<string, string[]>): { order: ProjectNode[]; cycles: string[][] } {
  const succs = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  const indegree = new Map<string, number>();
  for (const n of nodes) {
    const ps = preds.get(n.id) ?? [];
    indegree.set(n.id, ps.length);
    for (const p of ps) succs.get(p)?.push(n.id);
  }
  const position = new Map(nodes.map((n, i) => [n.id, i]));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const ready = nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  const order: ProjectNode[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => (position.get(a) as number) - (position.get(b) as number));
    const id = ready.shift() as string;
    order.push(byId.get(id) as ProjectNode);
    for (const s of succs.get(id) ?? []) {
      const d = (indegree.get(s) as number) - 1;
      indegree.set(s, d);
      if (d === 0) ready.push(s);
    }
  }
  // Every node left has a predecessor left; walking back through them must come round to a cycle.
  const left = new Set(nodes.filter((n) => !order.includes(n)).map((n) => n.id));
  const onCycle = new Set<string>();
  const cycles: string[][] = [];
  for (const start of left) {
    const walk: string[] = [];
    let at = start;
    while (!walk.includes(at) && !onCycle.has(at)) {
      walk.push(at);
      at = (preds.get(at) ?? []).find((p) => left.has(p)) as string;
    }
    if (onCycle.has(at)) continue;
    // In the direction of flow, starting at the node that comes first in the file.
    const cycle = walk.slice(walk.indexOf(at)).reverse();
    const first = cycle.reduce((best, id, k) => ((position.get(id) as number) < (position.get(cycle[best]) as number) ? k : best), 0);
    for (const id of cycle) onCycle.add(id);
    cycles.push([...cycle.slice(first), ...cycle.slice(0, first)]);
  }
  return { order, cycles };
}

/**
 * Checks a project and builds its model; throws a ProjectError listing every problem: cycles,
 * unconnected or unknown ports, shape mismatches, missing loss targets, duplicate or unusable
 * names, bad tensors, data that does not fit the graph.
 */
export function compile(project: Project, options: CompileOptions = {}): CompiledGraph {
  const problems = new Problems();
  const nodes: ProjectNode[] = [];
  const index = new Map<string, number>();
  const nameOwner = new Map<string, ProjectNode>();
  const probe = new GraphModule();
  const nameOf = (n: ProjectNode): string => n.name ?? n.id;

  project.nodes.forEach((node, i) => {
    if (index.has(node.id)) {
      problems.forNode(node, i, `Two nodes have the id '${node.id}' (nodes[${index.get(node.id)}] and nodes[${i}]).`, undefined, 'id');
      return;
    }
    index.set(node.id, i);
    nodes.push(node);
    const name = nameOf(node);
    const path = node.name === undefined ? 'id' : 'name';
    const other = nameOwner.get(name);
    if (other) {
      problems.forNode(node, i, `${nodeLabel(node)} has the same name as ${nodeLabel(other)} (node '${other.id}'); names must be unique.`, undefined, path);
    } else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      problems.forNode(node, i, `${nodeLabel(node)} has a name PyTorch cannot use: use letters, digits and _, not starting with a digit.`, undefined, path);
    } else if (PYTHON_KEYWORDS.has(name) || PYTORCH_MEMBERS.has(name) || name in probe) {
      problems.forNode(node, i, `${nodeLabel(node)} has a name that is reserved in PyTorch or Backprop Studio; choose another.`, undefined, path);
    }
    nameOwner.set(name, node);
    checkTensors(node, i, problems);
  });
  if (nodes.length === 0) problems.add('The graph has no nodes.', { path: 'nodes' });

  // Edges: both ends must exist, the source port is 'out', and each input port takes one edge.
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const incoming = new Map<string, string>(); // "node\0port" → source id
  project.edges.forEach((edge, i) => {
    const path = `edges[${i}]`;
    const from = byId.get(edge.from.node);
    const to = byId.get(edge.to.node);
    if (!from) problems.add(`${path} starts at node '${edge.from.node}', which does not exist.`, { path: `${path}.from.node` });
    if (!to) problems.add(`${path} ends at node '${edge.to.node}', which does not exist.`, { path: `${path}.to.node` });
    if (!from || !to) return;
    if (edge.from.port !== 'out') {
      problems.add(`${path} starts at port '${edge.from.port}' of ${nodeLabel(from)}, but nodes have one output port, 'out'.`, { node: from.id, port: edge.from.port, path: `${path}.from.port` });
      return;
    }
    const ports = inputPorts(to);
    if (!ports.includes(edge.to.port)) {
      const has = ports.length === 0 ? 'it has no input ports' : `its input ports are ${ports.map((p) => `'${p}'`).join(', ')}`;
      problems.add(`${path} ends at port '${edge.to.port}' of ${nodeLabel(to)}, but ${has}.`, { node: to.id, port: edge.to.port, path: `${path}.to.port` });
      return;
    }
    const key = `${to.id}\0${edge.to.port}`;
    const existing = incoming.get(key);
    if (existing !== undefined) {
      problems.add(`${nodeLabel(to)} gets two edges at its port '${edge.to.port}' (from '${nameOf(byId.get(existing) as ProjectNode)}' and '${nameOf(from)}'); a port takes one.`, { node: to.id, port: edge.to.port, path });
      return;
    }
    incoming.set(key, from.id);
  });

  const preds = new Map<string, string[]>();
  for (const node of nodes) {
    const sources: string[] = [];
    for (const port of inputPorts(node)) {
      const source = incoming.get(`${node.id}\0${port}`);
      if (source !== undefined) sources.push(source);
      else if (port === 'target') {
        problems.forNode(node, index.get(node.id) as number, `${nodeLabel(node)} has no target: connect a Target (or the values to compare with) to its port 'target'.`, port);
      } else {
        problems.forNode(node, index.get(node.id) as number, `${nodeLabel(node)} has nothing connected to its input port '${port}'.`, port);
      }
    }
    preds.set(node.id, sources);
  }

  const { order, cycles } = sortNodes(nodes, preds);
  for (const cycle of cycles) {
    const first = byId.get(cycle[0]) as ProjectNode;
    const path = [...cycle, cycle[0]].map((id) => `'${nameOf(byId.get(id) as ProjectNode)}'`).join(' → ');
    problems.forNode(first, index.get(first.id) as number, `The edges ${path} form a cycle; a network must flow one way.`);
  }

  // Shapes, in topological order; a node whose inputs are unknown (after a problem upstream) stays unknown quietly.
  const values = new Map<string, ValueInfo>();
  const classesOf = new Map<string, number>();
  for (const node of order) {
    const i = index.get(node.id) as number;
    const ports = inputPorts(node);
    const sources: Source[] = [];
    let complete = true;
    ports.forEach((port) => {
      const sourceId = incoming.get(`${node.id}\0${port}`);
      const value = sourceId === undefined ? undefined : values.get(sourceId);
      if (sourceId === undefined || !value) {
        complete = false;
        return;
      }
      const source = byId.get(sourceId) as ProjectNode;
      // A loss's own rule explains a class-index target it cannot take.
      if (value.classes && !(isLoss(node) && port === 'target')) {
        problems.forNode(node, i, `${nodeLabel(node)} cannot take class indices from '${nameOf(source)}' at its port '${port}'; only the target of CrossEntropyLoss or NLLLoss can.`, port);
        complete = false;
        return;
      }
      sources.push({ name: nameOf(source), value });
    });
    if (!complete) continue;
    const value = inferNode(node, sources, {
      label: nodeLabel(node),
      data: project.data,
      fail: (message, port, path) => problems.forNode(node, i, message, port, path),
    });
    if (!value) continue;
    values.set(node.id, value);
    if (takesClasses(node, 'target') && sources[0].value.shape.length === 2) {
      const classes = sources[0].value.shape[1];
      const target = incoming.get(`${node.id}\0target`) as string;
      if (typeof classes === 'number' && values.get(target)?.classes) classesOf.set(target, classes);
    }
  }

  // What training minimises, and what the records show.
  const losses = nodes.filter(isLoss);
  let objective: string | null = null;
  let prediction: string | null = null;
  if (losses.length > 1) {
    problems.add(`The graph has ${losses.length} loss nodes (${losses.map((n) => `'${nameOf(n)}'`).join(', ')}); training uses exactly one.`, { node: losses[1].id });
  } else if (losses.length === 1) {
    const loss = losses[0];
    objective = loss.id;
    prediction = incoming.get(`${loss.id}\0input`) ?? null;
    const shape = values.get(loss.id)?.shape;
    if (shape && shape.length > 0) {
      problems.forNode(loss, index.get(loss.id) as number, `${nodeLabel(loss)} gives one loss per sample (reduction 'none'), but training needs a single number: use 'mean' or 'sum'.`, undefined, 'params.reduction');
    }
  } else if (nodes.length > 0) {
    const fed = new Set([...incoming.values()]);
    // An unused Input or Target is data nobody reads, not an output.
    const outputs = nodes.filter((n) => !fed.has(n.id) && n.type !== 'Input' && n.type !== 'Target');
    const scalar = outputs.length === 1 && values.get(outputs[0].id)?.shape.length === 0;
    if (scalar) {
      objective = prediction = outputs[0].id;
    } else if (outputs.length === 1 && !values.has(outputs[0].id)) {
      objective = prediction = outputs[0].id; // its shape problem is already reported
    } else {
      problems.add('The graph has no loss node: add one (e.g. CrossEntropyLoss) with the output and a Target connected, or end the graph in a single number such as Mean.');
    }
  }

  const inputNode = nodes.find((n) => n.type === 'Input');
  const targetNode = nodes.find((n) => n.type === 'Target');
  for (const type of ['Input', 'Target'] as const) {
    const extra = nodes.filter((n) => n.type === type)[1];
    if (extra) problems.forNode(extra, index.get(extra.id) as number, `${nodeLabel(extra)} is a second ${type} node; a project has one, which can feed several nodes.`);
  }
  checkData(project, { inputNode, targetNode, classesOf }, problems);

  project.expected?.forEach((e, i) => {
    if (!byId.has(e.node)) problems.add(`expected[${i}] refers to node '${e.node}', which does not exist.`, { path: `expected[${i}].node` });
  });

  if (problems.list.length > 0 || objective === null || prediction === null) throw new ProjectError(problems.list);

  const generator = options.generator ?? new torch.Generator().manual_seed(project.training.seed ?? 0);
  const module = new GraphModule();
  for (const node of order) {
    const built = buildNode(node, generator);
    if (node.type === 'Linear' && built.member instanceof nn.Linear) {
      lockMask(node.locked?.weight, built.member.weight);
      lockMask(node.locked?.bias, built.member.bias);
    } else if (node.type === 'Parameter' && built.member instanceof torch.Tensor) {
      lockMask(node.locked?.value, built.member);
    }
    module.addStep({ node, sources: preds.get(node.id) as string[], built }, nameOf(node));
  }
  module.setOutput(prediction);
  const data = project.data;
  const samples = inputNode && data ? torch.tensor(data.samples) : null;
  const targets = targetNode && data?.targets
    ? torch.tensor(data.targets, { dtype: Array.isArray(data.targets[0]) ? 'float32' : 'int64' })
    : null;
  return { module, order, values, sources: preds, objective, prediction, samples, targets };
}
