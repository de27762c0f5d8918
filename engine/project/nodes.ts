/**
 * What each node type is: its input ports, the shape rule that checks what arrives there, and
 * the engine code that computes it. Shapes are symbolic in the batch: "N" is the number of
 * samples, whatever it is, so a graph is checked once for every batch size.
 */
import * as torch from '../index';
import type { Tensor } from '../index';
import type { NodeOf, ProjectData, ProjectNode } from './schema';
import { formatDims, nestedShape } from './tensors';

export { inputPorts, isLoss, takesClasses } from './ports';

const { nn } = torch;
type Module = torch.nn.Module;

export type Dim = number | 'N';
/** What flows along an edge: its shape, and whether it holds class indices (int64) rather than values. */
export interface ValueInfo {
  shape: Dim[];
  classes: boolean;
}

/** A value arriving at a port, with the name of the node it comes from. */
export interface Source {
  name: string;
  value: ValueInfo;
}

export interface InferContext {
  /** e.g. "Linear 'hidden2'" */
  label: string;
  data: ProjectData | undefined;
  /** Records a problem of this node; returns null so that a rule can `return ctx.fail(…)`. */
  fail(message: string, port?: string, path?: string): null;
}

const float = (shape: Dim[]): ValueInfo => ({ shape, classes: false });
const sameDims = (a: readonly Dim[], b: readonly Dim[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** PyTorch's broadcasting on symbolic shapes; null where two dims differ and neither is 1. */
function broadcast(a: readonly Dim[], b: readonly Dim[]): Dim[] | null {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** A dim index as PyTorch accepts it (negative counts from the end), or null when out of range. */
function normalizeDim(dim: number, rank: number): number | null {
  const d = dim < 0 ? dim + rank : dim;
  return d >= 0 && d < rank ? d : null;
}

/** The dims a Sum or Mean node reduces, as listed; undefined for every dim (no dim, or an empty list, as PyTorch 1.13 reads it). */
export function listedDims(dim: number | readonly number[] | undefined): readonly number[] | undefined {
  if (dim === undefined || (typeof dim !== 'number' && dim.length === 0)) return undefined;
  return typeof dim === 'number' ? [dim] : dim;
}

function reduceDims(node: NodeOf<'Sum'> | NodeOf<'Mean'>, x: Source, ctx: InferContext): ValueInfo | null {
  const { dim, keepdim = false } = node.params ?? {};
  const rank = x.value.shape.length;
  const requested = listedDims(dim) ?? x.value.shape.map((_, i) => i);
  const dims = new Set<number>();
  for (const d of requested) {
    const n = normalizeDim(d, rank);
    if (n === null || dims.has(n)) {
      const why = n === null ? `'${x.name}' gives ${rank}-dimensional values ${formatDims(x.value.shape)}` : 'it is listed twice';
      return ctx.fail(`${ctx.label} cannot reduce dim ${d}: ${why}.`, 'in', 'params.dim');
    }
    dims.add(n);
  }
  return float(x.value.shape.flatMap((d, i) => (dims.has(i) ? (keepdim ? [1] : []) : [d])));
}

function classLoss(node: NodeOf<'CrossEntropyLoss'> | NodeOf<'NLLLoss'>, [input, target]: Source[], ctx: InferContext): ValueInfo | null {
  const shape = input.value.shape;
  if (shape.length !== 2) {
    return ctx.fail(`${ctx.label} needs scores shaped [N, classes], but '${input.name}' gives ${formatDims(shape)}.`, 'input');
  }
  if (target.value.classes) {
    if (!sameDims(target.value.shape, [shape[0]])) {
      return ctx.fail(`${ctx.label} needs one class index per sample ${formatDims([shape[0]])}, but '${target.name}' gives ${formatDims(target.value.shape)}.`, 'target');
    }
  } else if (node.type === 'NLLLoss') {
    return ctx.fail(`${ctx.label} needs class indices as its target, but '${target.name}' gives values ${formatDims(target.value.shape)}.`, 'target');
  } else if (!sameDims(target.value.shape, shape)) {
    return ctx.fail(`${ctx.label} needs class indices or class probabilities shaped like its input ${formatDims(shape)}, but '${target.name}' gives ${formatDims(target.value.shape)}.`, 'target');
  }
  const weight = node.params?.weight;
  if (weight && weight.length !== shape[1]) {
    return ctx.fail(`${ctx.label} has ${weight.length} class weights, but '${input.name}' gives ${shape[1]} classes.`, undefined, 'params.weight');
  }
  return float(node.params?.reduction === 'none' ? [shape[0]] : []);
}

interface ValueLossParams {
  reduction?: string;
  weight?: number[];
  pos_weight?: number[];
}

function valueLoss(params: ValueLossParams = {}, [input, target]: Source[], ctx: InferContext): ValueInfo | null {
  const shape = input.value.shape;
  if (target.value.classes) {
    return ctx.fail(`${ctx.label} needs target values shaped like its input ${formatDims(shape)}, but '${target.name}' gives class indices; for classes use CrossEntropyLoss or NLLLoss.`, 'target');
  }
  if (!sameDims(target.value.shape, shape)) {
    return ctx.fail(`${ctx.label} compares ${formatDims(shape)} from '${input.name}' with ${formatDims(target.value.shape)} from '${target.name}'; the shapes must be equal.`, 'target');
  }
  for (const key of ['weight', 'pos_weight'] as const) {
    const w = params[key];
    const b = w && broadcast([w.length], shape);
    if (w && !(b && sameDims(b, shape))) {
      return ctx.fail(`${ctx.label} has a ${key} of ${w.length} values, which does not broadcast to its input ${formatDims(shape)}.`, undefined, `params.${key}`);
    }
  }
  return float(params.reduction === 'none' ? shape : []);
}

/** The value a node produces from the values at its ports (in inputPorts order), or null after ctx.fail. */
export function inferNode(node: ProjectNode, inputs: Source[], ctx: InferContext): ValueInfo | null {
  const [x] = inputs;
  switch (node.type) {
    case 'Input':
      return float(['N', node.params.features]);
    case 'Target': {
      const targets = ctx.data?.targets;
      if (!targets) return ctx.fail(`${ctx.label} has nothing to give: the project has no data.targets.`);
      const first = targets[0];
      if (first === undefined) return ctx.fail(`${ctx.label} has nothing to give: data.targets is empty.`);
      return Array.isArray(first) ? float(['N', first.length]) : { shape: ['N'], classes: true };
    }
    case 'Constant':
    case 'Parameter': {
      const shape = nestedShape(node.type === 'Constant' ? node.params.value : node.tensors.value, 'value');
      return Array.isArray(shape) ? float(shape) : null;
    }
    case 'Linear': {
      const shape = x.value.shape;
      const last = shape.at(-1);
      if (last !== node.params.in_features) {
        const gives = last === undefined ? 'a single number' : last === 'N' ? 'one value per sample' : String(last);
        return ctx.fail(`${ctx.label} takes ${node.params.in_features} inputs, but '${x.name}' gives ${gives}.`, 'in');
      }
      return float([...shape.slice(0, -1), node.params.out_features]);
    }
    case 'Softmax':
    case 'LogSoftmax': {
      const rank = x.value.shape.length;
      if (normalizeDim(node.params.dim, rank) === null) {
        return ctx.fail(`${ctx.label} has dim ${node.params.dim}, but '${x.name}' gives ${rank}-dimensional values ${formatDims(x.value.shape)}.`, 'in', 'params.dim');
      }
      return x.value;
    }
    case 'Add':
    case 'Multiply': {
      let shape: Dim[] = x.value.shape;
      for (const other of inputs.slice(1)) {
        const b = broadcast(shape, other.value.shape);
        if (!b) {
          return ctx.fail(`${ctx.label} cannot combine ${formatDims(shape)} with ${formatDims(other.value.shape)} from '${other.name}': the shapes do not broadcast.`);
        }
        shape = b;
      }
      return float(shape);
    }
    case 'Concat': {
      const rank = x.value.shape.length;
      const d = normalizeDim(node.params.dim, rank);
      if (d === null) return ctx.fail(`${ctx.label} has dim ${node.params.dim}, but '${x.name}' gives ${rank}-dimensional values.`, 'in1', 'params.dim');
      let joined = 0;
      for (const [i, s] of inputs.entries()) {
        const shape = s.value.shape;
        const port = `in${i + 1}`;
        if (shape.length !== rank || shape.some((n, k) => k !== d && n !== x.value.shape[k])) {
          return ctx.fail(`${ctx.label} cannot join ${formatDims(shape)} from '${s.name}' to ${formatDims(x.value.shape)} from '${x.name}' along dim ${d}: the other dims must match.`, port);
        }
        const n = shape[d];
        if (n === 'N') return ctx.fail(`${ctx.label} cannot join along the batch dimension (dim ${d}).`, port, 'params.dim');
        joined += n;
      }
      return float(x.value.shape.map((n, k) => (k === d ? joined : n)));
    }
    case 'Sum':
    case 'Mean':
      return reduceDims(node, x, ctx);
    case 'CrossEntropyLoss':
    case 'NLLLoss':
      return classLoss(node, inputs, ctx);
    case 'MSELoss':
    case 'L1Loss':
    case 'HuberLoss':
    case 'BCELoss':
    case 'BCEWithLogitsLoss':
      return valueLoss(node.params, inputs, ctx);
    case 'ReLU':
    case 'LeakyReLU':
    case 'ELU':
    case 'Sigmoid':
    case 'Tanh':
    case 'GELU':
    case 'Softplus':
    case 'Dropout':
    case 'Pow':
    case 'Exp':
    case 'Log':
    case 'Scale':
      return x.value;
  }
}

/** What the model gets from outside on each run: the samples for Input, the targets for Target. */
export interface Feeds {
  input?: Tensor;
  target?: Tensor;
}

/** A node made runnable: its module (named in state_dict by the node's name) and how it computes. */
export interface BuiltNode {
  /** A module or parameter to register on the model under the node's name. */
  member?: Module | Tensor;
  apply(inputs: Tensor[], feeds: Feeds): Tensor;
}

const vectorOf = (values: number[] | undefined): Tensor | undefined => (values ? torch.tensor(values) : undefined);

function fed(value: Tensor | undefined, what: string): Tensor {
  if (!value) throw new Error(`the model was run without ${what}`);
  return value;
}

const viaModule = (member: Module): BuiltNode => ({ member, apply: (inputs) => member.forward(...inputs) });

/**
 * The engine objects for a node. Linear layers are created (drawing their initial values from
 * `generator`, as nn.Linear does) even where the file gives the values, so the random stream
 * stays the one a PyTorch script building the same layers in the same order would see.
 */
export function buildNode(node: ProjectNode, generator: torch.Generator): BuiltNode {
  switch (node.type) {
    case 'Input':
      return { apply: (_, feeds) => fed(feeds.input, 'samples') };
    case 'Target':
      return { apply: (_, feeds) => fed(feeds.target, 'targets') };
    case 'Constant': {
      const value = torch.tensor(node.params.value);
      return { apply: () => value };
    }
    case 'Parameter': {
      const value = nn.Parameter(torch.tensor(node.tensors.value));
      return { member: value, apply: () => value };
    }
    case 'Linear': {
      const { in_features, out_features, bias = true } = node.params;
      const layer = new nn.Linear(in_features, out_features, { bias, generator });
      const { weight, bias: biasValues } = node.tensors ?? {};
      if (weight) layer.weight.data.set(torch.tensor(weight).data);
      if (biasValues && layer.bias) layer.bias.data.set(torch.tensor(biasValues).data);
      return viaModule(layer);
    }
    case 'ReLU': return viaModule(new nn.ReLU());
    case 'LeakyReLU': return viaModule(new nn.LeakyReLU(node.params?.negative_slope));
    case 'ELU': return viaModule(new nn.ELU(node.params?.alpha));
    case 'Sigmoid': return viaModule(new nn.Sigmoid());
    case 'Tanh': return viaModule(new nn.Tanh());
    case 'GELU': return viaModule(new nn.GELU(node.params?.approximate));
    case 'Softplus': return viaModule(new nn.Softplus(node.params?.beta, node.params?.threshold));
    case 'Softmax': return viaModule(new nn.Softmax(node.params.dim));
    case 'LogSoftmax': return viaModule(new nn.LogSoftmax(node.params.dim));
    case 'Dropout': return viaModule(new nn.Dropout(node.params?.p));
    case 'Add': return { apply: (inputs) => inputs.reduce((a, b) => a.add(b)) };
    case 'Multiply': return { apply: (inputs) => inputs.reduce((a, b) => a.mul(b)) };
    case 'Concat': return { apply: (inputs) => torch.cat(inputs, node.params.dim) };
    case 'Pow': return { apply: ([x]) => x.pow(node.params.exponent) };
    case 'Exp': return { apply: ([x]) => x.exp() };
    case 'Log': return { apply: ([x]) => x.log() };
    case 'Sum': return { apply: ([x]) => x.sum(node.params?.dim, node.params?.keepdim) };
    case 'Mean': return { apply: ([x]) => x.mean(node.params?.dim, node.params?.keepdim) };
    case 'Scale': return { apply: ([x]) => x.mul(node.params.factor) };
    case 'CrossEntropyLoss': {
      const { weight, ...options } = node.params ?? {};
      return viaModule(new nn.CrossEntropyLoss({ ...options, weight: vectorOf(weight) }));
    }
    case 'NLLLoss': {
      const { weight, ...options } = node.params ?? {};
      return viaModule(new nn.NLLLoss({ ...options, weight: vectorOf(weight) }));
    }
    case 'MSELoss': return viaModule(new nn.MSELoss({ ...node.params }));
    case 'L1Loss': return viaModule(new nn.L1Loss({ ...node.params }));
    case 'HuberLoss': return viaModule(new nn.HuberLoss({ ...node.params }));
    case 'BCELoss': {
      const { weight, ...options } = node.params ?? {};
      return viaModule(new nn.BCELoss({ ...options, weight: vectorOf(weight) }));
    }
    case 'BCEWithLogitsLoss': {
      const { weight, pos_weight, ...options } = node.params ?? {};
      return viaModule(new nn.BCEWithLogitsLoss({ ...options, weight: vectorOf(weight), pos_weight: vectorOf(pos_weight) }));
    }
  }
}
