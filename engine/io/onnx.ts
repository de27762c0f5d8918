/**
 * ONNX export: the project's inference graph — every node the network's outputs depend on, the
 * losses and their targets left out, Dropout as the identity it is in eval mode — with the
 * current weights, as an ONNX ModelProto (opset 17, IR version 8). The Input node is the graph's
 * input, its batch dimension named "batch"; the outputs and every node's value are named after
 * the nodes, the weights after their state_dict keys ("hidden.weight"). Ops ONNX 17 lacks (GELU,
 * Softplus with beta or a low threshold) are composed of others exactly as PyTorch defines them.
 * No Node APIs here: the engine host in the browser uses this module too.
 */
import { type CompiledGraph, dependenciesOf } from '../project/compile';
import { type Dim, listedDims } from '../project/nodes';
import { isLoss } from '../project/ports';
import { ProjectError } from '../project/problems';
import type { Project, ProjectNode } from '../project/schema';
import { nestedShape } from '../project/tensors';
import { ProtoWriter } from './protobuf';

const OPSET = 17;
/** The IR version that goes with opset 17. */
const IR_VERSION = 8;
/** TensorProto.DataType */
const FLOAT = 1;
const INT64 = 7;
/** AttributeProto.AttributeType */
const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;

type Attributes = Record<string, { float: number } | { int: number } | { ints: readonly number[] }>;

interface OnnxNode {
  op: string;
  inputs: string[];
  output: string;
  attributes: Attributes;
}

interface Initializer {
  name: string;
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}

/** The nodes and initializers of the graph being written; composed ops name their steps `node/step`. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: Initializer[] = [];

  op(op: string, inputs: string[], output: string, attributes: Attributes = {}): string {
    this.nodes.push({ op, inputs, output, attributes });
    return output;
  }

  tensor(name: string, dims: readonly number[], data: ArrayLike<number>): string {
    this.initializers.push({ name, dims, data: Float32Array.from(data) });
    return name;
  }

  scalar(name: string, value: number): string {
    return this.tensor(name, [], [value]);
  }

  int64s(name: string, values: readonly number[]): string {
    this.initializers.push({ name, dims: [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) });
    return name;
  }
}

// PyTorch's constants for GELU's tanh form.
const GELU_BETA = Math.sqrt(2 / Math.PI);
const GELU_KAPPA = 0.044715;

interface Lowering {
  node: ProjectNode;
  /** The value names at its input ports, in port order. */
  xs: string[];
  /** The rank of the value at its first port. */
  rank: number;
  /** The node's own value name (its name). */
  out: string;
  /** The model's parameters by state_dict key. */
  parameter(key: string): { shape: readonly number[]; values: ArrayLike<number> };
}

/** Adds the ONNX nodes computing `node`, its result named `out`. */
function lower(g: GraphBuilder, { node, xs, rank, out, parameter }: Lowering): void {
  const [x] = xs;
  const step = (name: string) => `${out}/${name}`;
  const chain = (op: string) => xs.slice(1).reduce((a, b, i) => g.op(op, [a, b], i === xs.length - 2 ? out : step(`${i + 1}`)), x);
  switch (node.type) {
    case 'Constant': {
      const { value } = node.params;
      g.tensor(out, nestedShape(value, out) as number[], ([value] as unknown[]).flat(Infinity) as number[]);
      return;
    }
    case 'Parameter': {
      const { shape, values } = parameter(out);
      g.tensor(out, shape, values);
      return;
    }
    case 'Linear': {
      const weight = parameter(`${out}.weight`);
      const w = g.tensor(`${out}.weight`, weight.shape, weight.values);
      let b: string | undefined;
      if (node.params.bias !== false) {
        const bias = parameter(`${out}.bias`);
        b = g.tensor(`${out}.bias`, bias.shape, bias.values);
      }
      if (rank === 2) {
        g.op('Gemm', b ? [x, w, b] : [x, w], out, { transB: { int: 1 } });
        return;
      }
      // Gemm takes matrices only; other ranks multiply by Wᵀ over the last dim, as F.linear does.
      const product = g.op('MatMul', [x, g.op('Transpose', [w], step('weight_t'))], b ? step('matmul') : out);
      if (b) g.op('Add', [product, b], out);
      return;
    }
    case 'ReLU': g.op('Relu', [x], out); return;
    case 'LeakyReLU': g.op('LeakyRelu', [x], out, { alpha: { float: node.params?.negative_slope ?? 0.01 } }); return;
    case 'ELU': g.op('Elu', [x], out, { alpha: { float: node.params?.alpha ?? 1 } }); return;
    case 'Sigmoid': g.op('Sigmoid', [x], out); return;
    case 'Tanh': g.op('Tanh', [x], out); return;
    case 'GELU': {
      const halfX = g.op('Mul', [x, g.scalar(step('half'), 0.5)], step('half_x'));
      const one = g.scalar(step('one'), 1);
      if (node.params?.approximate === 'tanh') {
        // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
        const cube = g.op('Mul', [g.op('Mul', [x, x], step('x2')), x], step('x3'));
        const inner = g.op('Add', [x, g.op('Mul', [cube, g.scalar(step('kappa'), GELU_KAPPA)], step('kappa_x3'))], step('inner'));
        const t = g.op('Tanh', [g.op('Mul', [inner, g.scalar(step('beta'), GELU_BETA)], step('scaled'))], step('tanh'));
        g.op('Mul', [halfX, g.op('Add', [t, one], step('one_plus'))], out);
      } else {
        // 0.5·x·(1 + erf(x/√2))
        const e = g.op('Erf', [g.op('Mul', [x, g.scalar(step('sqrt1_2'), Math.SQRT1_2)], step('scaled'))], step('erf'));
        g.op('Mul', [halfX, g.op('Add', [e, one], step('one_plus'))], out);
      }
      return;
    }
    case 'Softplus': {
      const { beta = 1, threshold = 20 } = node.params ?? {};
      // Above 20, log(1 + eˣ) is x in float32: PyTorch's default threshold changes nothing.
      if (beta === 1 && threshold >= 20) {
        g.op('Softplus', [x], out);
        return;
      }
      // PyTorch: x where β·x > threshold, else log(1 + e^(β·x))/β.
      const b = beta === 1 ? null : g.scalar(step('beta'), beta);
      const bx = b ? g.op('Mul', [x, b], step('beta_x')) : x;
      const soft = g.op('Softplus', [bx], step('softplus'));
      const smooth = b ? g.op('Div', [soft, b], step('smooth')) : soft;
      const linear = g.op('Greater', [bx, g.scalar(step('threshold'), threshold)], step('linear'));
      g.op('Where', [linear, x, smooth], out);
      return;
    }
    case 'Softmax': g.op('Softmax', [x], out, { axis: { int: node.params.dim } }); return;
    case 'LogSoftmax': g.op('LogSoftmax', [x], out, { axis: { int: node.params.dim } }); return;
    case 'Dropout': g.op('Identity', [x], out); return;
    case 'Add': chain('Add'); return;
    case 'Multiply': chain('Mul'); return;
    case 'Concat': g.op('Concat', xs, out, { axis: { int: node.params.dim } }); return;
    case 'Pow': g.op('Pow', [x, g.scalar(step('exponent'), node.params.exponent)], out); return;
    case 'Exp': g.op('Exp', [x], out); return;
    case 'Log': g.op('Log', [x], out); return;
    case 'Scale': g.op('Mul', [x, g.scalar(step('factor'), node.params.factor)], out); return;
    case 'Sum':
    case 'Mean': {
      const { dim, keepdim = false } = node.params ?? {};
      const keepdims = { int: keepdim ? 1 : 0 };
      // Every dim: ONNX reduces over all when the axes are left out.
      const axes = listedDims(dim);
      if (node.type === 'Sum') {
        // Opset 13 made ReduceSum's axes an input; ReduceMean's stays an attribute until opset 18.
        g.op('ReduceSum', axes ? [x, g.int64s(step('axes'), axes)] : [x], out, { keepdims });
      } else {
        g.op('ReduceMean', [x], out, axes ? { axes: { ints: axes }, keepdims } : { keepdims });
      }
      return;
    }
    default:
      // Input is the graph's input; Target and the losses are not in an inference graph.
      throw new Error(`${node.type} has no ONNX form`);
  }
}

// ---- the protobuf messages (onnx.proto's field numbers) ----

function writeTensor(w: ProtoWriter, { name, dims, data }: Initializer): void {
  for (const d of dims) w.int(1, d);
  w.int(2, data instanceof Float32Array ? FLOAT : INT64);
  w.string(8, name);
  // raw_data: little-endian, as ONNX stores it (and as typed arrays are on every platform we run on).
  w.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function writeAttribute(w: ProtoWriter, name: string, value: Attributes[string]): void {
  w.string(1, name);
  if ('float' in value) w.float(2, value.float).int(20, ATTRIBUTE_FLOAT);
  else if ('int' in value) w.int(3, value.int).int(20, ATTRIBUTE_INT);
  else {
    for (const i of value.ints) w.int(8, i);
    w.int(20, ATTRIBUTE_INTS);
  }
}

function writeNode(w: ProtoWriter, node: OnnxNode): void {
  for (const input of node.inputs) w.string(1, input);
  w.string(2, node.output);
  w.string(3, node.output);
  w.string(4, node.op);
  for (const [name, value] of Object.entries(node.attributes)) w.message(5, (a) => writeAttribute(a, name, value));
}

/** A float tensor value's name and shape; the batch dimension is named "batch". */
function writeValueInfo(w: ProtoWriter, name: string, shape: readonly Dim[]): void {
  w.string(1, name);
  w.message(2, (type) => type.message(1, (tensor) => {
    tensor.int(1, FLOAT);
    tensor.message(2, (s) => {
      for (const d of shape) s.message(1, (dim) => (d === 'N' ? dim.string(2, 'batch') : dim.int(1, d)));
    });
  }));
}

// ---- the graph ----

const nameOf = (n: ProjectNode): string => n.name ?? n.id;
const label = (n: ProjectNode): string => `${n.type} '${nameOf(n)}'`;

/**
 * The ONNX model of a compiled project: its inference graph with the current weights. The outputs
 * are the prediction (what feeds the loss, or the graph's single number) and any other node
 * nothing reads. A ProjectError names the node when the prediction needs the targets.
 */
export function exportOnnx(project: Project, graph: CompiledGraph): Uint8Array<ArrayBuffer> {
  const { order, values, sources } = graph;
  const byId = new Map(order.map((n) => [n.id, n]));
  const read = new Set([...sources.values()].flat());

  const steps = order.map((node) => ({ node, sources: sources.get(node.id) ?? [] }));
  /** The nodes `id` depends on, itself included. */
  const ancestors = (id: string): Set<string> => dependenciesOf(steps, [id]);
  /** The first of `needed` that reads the Target. */
  const takesTargets = (needed: Set<string>) => order.find((n) => needed.has(n.id) && (sources.get(n.id) ?? []).some((s) => byId.get(s)?.type === 'Target'));

  const prediction = byId.get(graph.prediction) as ProjectNode;
  const predictionNeeds = ancestors(prediction.id);
  const taker = prediction.type === 'Target' ? prediction : takesTargets(predictionNeeds);
  if (taker) {
    throw new ProjectError([{
      message: `The network's output '${nameOf(prediction)}' needs the targets (through ${label(taker)}), but an ONNX model takes the samples only.`,
      node: taker.id,
    }]);
  }
  const needed = new Set(predictionNeeds);
  const outputs = [prediction.id];
  for (const node of order) {
    if (read.has(node.id) || node === prediction || isLoss(node) || node.type === 'Input' || node.type === 'Target') continue;
    const its = ancestors(node.id);
    if (takesTargets(its)) continue; // a side branch about the targets: not the network's
    outputs.push(node.id);
    for (const id of its) needed.add(id);
  }

  const parameters = new Map(graph.module.named_parameters());
  const parameter = (key: string) => {
    const t = parameters.get(key);
    if (!t) throw new Error(`the model has no parameter "${key}"`);
    return { shape: t.shape, values: t.toArray() };
  };
  const g = new GraphBuilder();
  const inputs: ProjectNode[] = [];
  for (const node of order) {
    if (!needed.has(node.id)) continue;
    if (node.type === 'Input') {
      inputs.push(node);
      continue;
    }
    const xs = (sources.get(node.id) ?? []).map((s) => nameOf(byId.get(s) as ProjectNode));
    const rank = values.get(sources.get(node.id)?.[0] ?? '')?.shape.length ?? 0;
    lower(g, { node, xs, rank, out: nameOf(node), parameter });
  }

  const model = new ProtoWriter();
  model.int(1, IR_VERSION);
  model.string(2, 'Backprop Studio');
  model.message(7, (w) => {
    for (const node of g.nodes) w.message(1, (n) => writeNode(n, node));
    w.string(2, project.title ?? 'network');
    for (const init of g.initializers) w.message(5, (t) => writeTensor(t, init));
    for (const input of inputs) w.message(11, (v) => writeValueInfo(v, nameOf(input), values.get(input.id)?.shape ?? []));
    for (const id of outputs) w.message(12, (v) => writeValueInfo(v, nameOf(byId.get(id) as ProjectNode), values.get(id)?.shape ?? []));
  });
  model.message(8, (opset) => opset.string(1, '').int(2, OPSET));
  return model.finish();
}
