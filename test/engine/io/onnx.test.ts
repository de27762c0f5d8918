/**
 * The ONNX export, run by onnxruntime-web (its wasm build, in Node): for every bundled example and
 * for a graph holding every node type an inference graph can have, each output must agree with
 * the engine's forward (eval mode: Dropout off) to 1e-5 relative. onnxruntime is the independent
 * implementation here; the engine's forward is checked against PyTorch elsewhere. The bytes are
 * also read back with onnx.proto's own decoder (the protobufjs code onnxruntime-web ships).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import * as torch from '../../../engine/index';
import { exportOnnx } from '../../../engine/io/onnx';
import { loadWeights, parseWeights } from '../../../engine/io/weights';
import { type CompiledGraph, compile, feedsOf } from '../../../engine/project/compile';
import { loadProject } from '../../../engine/project/load';
import type { Project } from '../../../engine/project/schema';
import { createEngineClient } from '../../../renderer/host/client';
import { expectClose, TOL } from '../fixture';
import { forkedTransport } from '../host/fork';
import { EXAMPLE_FILES, exampleText, graphDoc, problemsOf } from '../project/helpers';

// One thread: the wasm build's worker threads buy nothing for models this small.
ort.env.wasm.numThreads = 1;

/** onnx.proto's messages as protobufjs generates them, from inside onnxruntime-web. */
interface OnnxProto {
  ModelProto: { decode(bytes: Uint8Array): DecodedModel };
}
interface DecodedDim { dimValue?: { toNumber(): number } | number; dimParam?: string }
interface DecodedValueInfo { name: string; type: { tensorType: { elemType: number; shape: { dim: DecodedDim[] } } } }
interface DecodedModel {
  irVersion: { toNumber(): number } | number;
  opsetImport: { domain: string; version: { toNumber(): number } | number }[];
  graph: {
    node: { opType: string; output: string[] }[];
    initializer: { name: string; dataType: number; dims: ({ toNumber(): number } | number)[]; rawData: Uint8Array }[];
    input: DecodedValueInfo[];
    output: DecodedValueInfo[];
  };
}
const ONNX_PROTO = fileURLToPath(new URL('../../../node_modules/onnxruntime-web/lib/onnxjs/ort-schema/protobuf/onnx.js', import.meta.url));
const { onnx } = createRequire(import.meta.url)(ONNX_PROTO) as { onnx: OnnxProto };
const int = (x: { toNumber(): number } | number | undefined): number | undefined => (typeof x === 'object' ? x.toNumber() : x);

/** Every output of the exported model for the project's samples, by output name. */
async function runOnnx(bytes: Uint8Array, graph: CompiledGraph): Promise<Map<string, { dims: readonly number[]; data: number[] }>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds: Record<string, ort.Tensor> = {};
    if (graph.samples) feeds[session.inputNames[0]] = new ort.Tensor('float32', Float32Array.from(graph.samples.toArray()), [...graph.samples.shape]);
    const results = await session.run(feeds);
    return new Map(session.outputNames.map((name) => [name, { dims: results[name].dims, data: Array.from(results[name].data as Float32Array) }]));
  } finally {
    await session.release();
  }
}

/** The engine's values of the nodes named `names`, as its forward computes them for inference. */
function engineValues(graph: CompiledGraph, names: string[]): Map<string, torch.Tensor> {
  const idOf = new Map(graph.order.map((n) => [n.name ?? n.id, n.id]));
  const ids = names.map((name) => idOf.get(name) as string);
  graph.module.eval();
  try {
    const values = torch.no_grad(() => graph.module.run(feedsOf(graph), ids));
    return new Map(names.map((name, i) => [name, values.get(ids[i]) as torch.Tensor]));
  } finally {
    graph.module.train();
  }
}

/** Exports the project, runs it in onnxruntime, and compares every output with the engine's; returns the output names. */
async function expectSameAsEngine(project: Project): Promise<string[]> {
  const graph = compile(project);
  const outputs = await runOnnx(exportOnnx(project, graph), graph);
  const names = [...outputs.keys()];
  const expected = engineValues(graph, names);
  for (const name of names) {
    const want = expected.get(name) as torch.Tensor;
    const got = outputs.get(name) as { dims: readonly number[]; data: number[] };
    expect(got.dims, `${name}: shape`).toEqual(want.shape);
    expectClose(got.data, Array.from(want.toArray()), TOL.train32, name);
  }
  return names;
}

describe('the ONNX export, run by onnxruntime', () => {
  it.each(EXAMPLE_FILES)('computes what the engine computes for %s', async (file) => {
    const project = loadProject(exampleText(file));
    const graph = compile(project);
    const prediction = graph.order.find((n) => n.id === graph.prediction);
    expect(await expectSameAsEngine(project)).toEqual([prediction?.name ?? prediction?.id]);
  });

  it('computes every node type an inference graph can have as the engine does', async () => {
    const outputs = await expectSameAsEngine(loadProject(JSON.stringify(EVERY_NODE)));
    // The prediction first, then every node nothing reads, except the side branch that needs the targets.
    expect(outputs).toEqual(['head', 'sum3', 'scaled', 'shifted', 'weighted', 'log', 'root', 'row_sum', 'proj', 'grand_mean', 'total', 'all_of']);
  });

  it('keeps the weights bit for bit, leaves the loss and the targets out, and names the batch dimension', () => {
    const project = loadProject(exampleText('seed-tutorial.json'));
    const graph = compile(project);
    const model = onnx.ModelProto.decode(exportOnnx(project, graph));
    expect(int(model.irVersion)).toBe(8);
    expect(model.opsetImport.map((o) => [o.domain, int(o.version)])).toEqual([['', 17]]);
    for (const [key, tensor] of graph.module.named_parameters()) {
      const initializer = model.graph.initializer.find((t) => t.name === key);
      expect(initializer?.dims.map(int), key).toEqual(tensor.shape);
      expect(initializer?.dataType, key).toBe(1); // FLOAT
      expect(new Uint8Array(initializer?.rawData ?? []), key).toEqual(new Uint8Array(Float32Array.from(tensor.toArray()).buffer));
    }
    const hidden = project.nodes.find((n) => n.id === 'hidden');
    const written = hidden?.type === 'Linear' ? hidden.tensors?.weight?.flat().map(Math.fround) : [];
    const initializer = model.graph.initializer.find((t) => t.name === 'hidden.weight');
    expect(Array.from(new Float32Array(Uint8Array.from(initializer?.rawData ?? []).buffer))).toEqual(written);

    const shapeOf = (v: DecodedValueInfo) => v.type.tensorType.shape.dim.map((d) => d.dimParam || int(d.dimValue));
    expect(model.graph.input.map((v) => [v.name, shapeOf(v)])).toEqual([['x', ['batch', 3]]]);
    expect(model.graph.output.map((v) => [v.name, shapeOf(v)])).toEqual([['softmax', ['batch', 3]]]);
    expect(model.graph.node.map((n) => n.opType)).toEqual(['Gemm', 'Relu', 'Gemm', 'Sigmoid', 'Gemm', 'Softmax']);
  });

  it('refuses a network whose output needs the targets, naming the node', () => {
    const doc = graphDoc(
      [
        { id: 'x', type: 'Input', params: { features: 2 } },
        { id: 'y', type: 'Target' },
        { id: 'masked', type: 'Multiply' },
        { id: 'loss', type: 'MSELoss' },
      ],
      [['x', 'masked', 'in1'], ['y', 'masked', 'in2'], ['masked', 'loss', 'input'], ['y', 'loss', 'target']],
      { data: { samples: [[1, 2]], targets: [[3, 4]] } },
    );
    const project = loadProject(JSON.stringify(doc));
    expect(problemsOf(() => exportOnnx(project, compile(project)))).toEqual([{
      message: 'The network\'s output \'masked\' needs the targets (through Multiply \'masked\'), but an ONNX model takes the samples only.',
      node: 'masked',
    }]);
  });
});

describe('the ONNX export through the engine host', () => {
  it('arrives as bytes from a forked host, with the weights training has reached', async () => {
    const client = createEngineClient(forkedTransport());
    try {
      await client.open(JSON.parse(exampleText('iris.json')) as unknown);
      await client.train({ epochs: 2 });
      const bytes = await client.export('onnx');
      expect(bytes).toBeInstanceOf(Uint8Array);
      // The same project with the trained weights, exported here.
      const project = loadProject(exampleText('iris.json'));
      const graph = compile(project);
      loadWeights(graph.module, parseWeights(await client.export('weights')));
      expect(bytes).toEqual(exportOnnx(project, graph));
      expect(bytes).not.toEqual(exportOnnx(project, compile(project)));
    } finally {
      client.close();
    }
  }, 60_000);
});

/** Sample rows reaching both sides of every activation's bends, Softplus's thresholds included. */
const SAMPLES = [[100, -25, 1], [0.3, -0.7, 2.6], [-1.2, 0.4, -3], [2.4, 2.6, -0.1]];

const EVERY_NODE = graphDoc(
  [
    { id: 'x', type: 'Input', params: { features: 3 } },
    {
      id: 'hidden', type: 'Linear', params: { in_features: 3, out_features: 4 },
      tensors: { weight: [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, -0.5, 0.25]], bias: [0.1, -0.2, 0.3, 0] },
    },
    { id: 'relu', type: 'ReLU' },
    { id: 'leaky', type: 'LeakyReLU', params: { negative_slope: 0.2 } },
    { id: 'elu', type: 'ELU', params: { alpha: 0.7 } },
    { id: 'sigmoid', type: 'Sigmoid' },
    { id: 'tanh', type: 'Tanh' },
    { id: 'gelu', type: 'GELU' },
    { id: 'gelu_tanh', type: 'GELU', params: { approximate: 'tanh' } },
    { id: 'softplus', type: 'Softplus' },
    { id: 'softplus_beta', type: 'Softplus', params: { beta: 2, threshold: 5 } },
    { id: 'softmax', type: 'Softmax', params: { dim: 1 } },
    { id: 'log_softmax', type: 'LogSoftmax', params: { dim: -1 } },
    { id: 'dropout', type: 'Dropout', params: { p: 0.3 } },
    { id: 'sum3', type: 'Add', params: { inputs: 3 } },
    { id: 'product', type: 'Multiply' },
    { id: 'joined', type: 'Concat', params: { dim: 1, inputs: 4 } },
    {
      id: 'head', type: 'Linear', params: { in_features: 16, out_features: 3, bias: false },
      tensors: { weight: Array.from({ length: 3 }, (_, i) => Array.from({ length: 16 }, (_, j) => (((i * 16 + j) % 7) - 3) / 10)) },
    },
    { id: 'scaled', type: 'Scale', params: { factor: -1.5 } },
    { id: 'c', type: 'Constant', params: { value: [[0.5, -1, 2, 0.25]] } },
    { id: 'shifted', type: 'Add' },
    { id: 'p', type: 'Parameter', tensors: { value: [0.1, 0.2, 0.3, 0.4] } },
    { id: 'weighted', type: 'Multiply' },
    { id: 'exp', type: 'Exp' },
    { id: 'log', type: 'Log' },
    { id: 'squared', type: 'Pow', params: { exponent: 2 } },
    { id: 'root', type: 'Pow', params: { exponent: 1.5 } },
    { id: 'row_sum', type: 'Sum', params: { dim: 1, keepdim: true } },
    { id: 'batch_mean', type: 'Mean', params: { dim: 0 } },
    // A rank-1 input: MatMul and Add rather than Gemm.
    { id: 'proj', type: 'Linear', params: { in_features: 4, out_features: 2 }, tensors: { weight: [[0.1, 0.2, -0.3, 0.4], [0.5, -0.6, 0.7, 0.8]], bias: [0.01, -0.02] } },
    { id: 'grand_mean', type: 'Mean', params: { dim: [0, 1], keepdim: true } },
    { id: 'total', type: 'Sum' },
    // An empty dim list reduces over every dim, as PyTorch 1.13 reads it (ops.json has the fixture).
    { id: 'all_of', type: 'Sum', params: { dim: [], keepdim: true } },
    { id: 'y', type: 'Target' },
    { id: 'residual', type: 'Add' },
    { id: 'loss', type: 'MSELoss' },
  ],
  [
    ['x', 'hidden'],
    ...['relu', 'leaky', 'elu', 'sigmoid', 'tanh', 'gelu', 'gelu_tanh', 'softplus', 'softplus_beta', 'softmax', 'log_softmax', 'dropout', 'squared']
      .map((id): [string, string] => ['hidden', id]),
    ['relu', 'sum3', 'in1'], ['leaky', 'sum3', 'in2'], ['elu', 'sum3', 'in3'],
    ['sigmoid', 'product', 'in1'], ['tanh', 'product', 'in2'],
    ['gelu', 'joined', 'in1'], ['gelu_tanh', 'joined', 'in2'], ['softplus', 'joined', 'in3'], ['softplus_beta', 'joined', 'in4'],
    ['joined', 'head'],
    ['softmax', 'scaled'],
    ['log_softmax', 'shifted', 'in1'], ['c', 'shifted', 'in2'],
    ['dropout', 'weighted', 'in1'], ['p', 'weighted', 'in2'],
    ['tanh', 'exp'], ['exp', 'log'], ['sigmoid', 'root'],
    ['joined', 'row_sum'],
    ['squared', 'batch_mean'], ['batch_mean', 'proj'],
    ['product', 'grand_mean'], ['product', 'total'], ['product', 'all_of'],
    ['head', 'residual', 'in1'], ['y', 'residual', 'in2'],
    ['head', 'loss', 'input'], ['y', 'loss', 'target'],
  ],
  { data: { samples: SAMPLES, targets: SAMPLES.map(([a, b]) => [a / 10, b / 10, 1]) } },
);
