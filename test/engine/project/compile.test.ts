import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as torch from '../../../engine/index';
import type { Tensor } from '../../../engine/index';
import { compile } from '../../../engine/project/compile';
import { loadProject } from '../../../engine/project/load';
import { TOL, expectClose, loadFixture, type FTensor } from '../fixture';
import { EXAMPLE_FILES, exampleDoc, exampleText, graphDoc, problemsIfAny, problemsOf } from './helpers';

interface SeedFixture {
  init: Record<string, FTensor>;
  new_adam_every_iteration: { rows: { loss: number }[] };
  autograd_demo: { z: number; grad: FTensor };
}
const seed = loadFixture<SeedFixture>('seed.json');
const pytorchInit = JSON.parse(readFileSync(new URL('./fixtures/state_dict_bits.json', import.meta.url), 'utf8')) as Record<string, { shape: number[]; bits: number[] }>;

const build = (doc: unknown) => compile(loadProject(JSON.stringify(doc)));
const compileProblems = (doc: unknown) => problemsOf(() => build(doc));

const input = (id: string, features: number) => ({ id, type: 'Input', params: { features } });
const linear = (id: string, inF: number, outF: number, tensors?: { weight: number[][]; bias: number[] }) =>
  ({ id, type: 'Linear', params: { in_features: inF, out_features: outF }, ...(tensors ? { tensors } : {}) });

describe('compile', () => {
  it.each(EXAMPLE_FILES)('compiles the example %s', (file) => {
    const graph = compile(loadProject(exampleText(file)));
    expect(graph.order.length).toBe(exampleDoc(file).nodes.length);
  });

  it('names parameters as PyTorch\'s state_dict does, in the same order, holding the seed\'s values', () => {
    const graph = compile(loadProject(exampleText('seed-tutorial.json')));
    const state = graph.module.state_dict();
    expect(Object.keys(state)).toEqual(Object.keys(seed.init));
    for (const [key, expected] of Object.entries(seed.init)) expectClose(state[key], expected, TOL.exact, key);
  });

  it('computes the seed network\'s first loss as PyTorch does', () => {
    const graph = compile(loadProject(exampleText('seed-tutorial.json')));
    const loss = graph.module.run({ input: graph.samples ?? undefined, target: graph.targets ?? undefined }, [graph.objective]).get(graph.objective);
    expectClose(loss, seed.new_adam_every_iteration.rows[0].loss, TOL.f32, 'loss before the first step');
  });

  it('makes the autograd demo a graph whose backward pass gives PyTorch\'s a.grad', () => {
    const graph = compile(loadProject(exampleText('autograd-demo.json')));
    const z = graph.module.forward();
    expectClose(z, seed.autograd_demo.z, TOL.f32, 'z');
    z.backward();
    const a = graph.module.state_dict().a;
    expect(a).toBeDefined();
    expectClose(graph.module.parameters()[0].grad, seed.autograd_demo.grad, TOL.f32, 'a.grad');
  });

  it('starts layers without given values as nn.Linear does after torch.manual_seed(seed)', () => {
    const graph = compile(loadProject(exampleText('iris.json')));
    const state = graph.module.state_dict();
    expect(Object.keys(state)).toEqual(Object.keys(pytorchInit));
    for (const [key, { shape, bits }] of Object.entries(pytorchInit)) {
      expect(state[key].shape).toEqual(shape);
      expect(Array.from(new Int32Array(new Float32Array(state[key].toArray()).buffer)), key).toEqual(bits);
    }
  });

  it('runs any DAG: a skip connection, a shared input, a concat and a second output', () => {
    // x = [1, -2]; h = relu([[1, 1], [2, 0]]·x + [0, 1]) = relu([-1, 3]) = [0, 3]; skip = h + x = [1, 1];
    // cat = [skip, x] = [1, 1, 1, -2]; y = [1, 2, 3, 4]·cat + 0.5 = -1.5; scaled = 3x = [3, -6];
    // loss = (y - (-1))² = 0.25, and d loss / d y.bias = 2(y + 1) = -1.
    const doc = graphDoc([
      input('x', 2),
      linear('h', 2, 2, { weight: [[1, 1], [2, 0]], bias: [0, 1] }),
      { id: 'relu', type: 'ReLU' },
      { id: 'skip', type: 'Add' },
      { id: 'cat', type: 'Concat', params: { dim: 1 } },
      linear('y', 4, 1, { weight: [[1, 2, 3, 4]], bias: [0.5] }),
      { id: 'scaled', type: 'Scale', params: { factor: 3 } },
      { id: 't', type: 'Target' },
      { id: 'loss', type: 'MSELoss' },
    ], [
      ['x', 'h'], ['h', 'relu'], ['relu', 'skip', 'in1'], ['x', 'skip', 'in2'], ['skip', 'cat', 'in1'], ['x', 'cat', 'in2'],
      ['cat', 'y'], ['x', 'scaled'], ['y', 'loss', 'input'], ['t', 'loss', 'target'],
    ], { data: { samples: [[1, -2]], targets: [[-1]] } });
    const graph = build(doc);
    expect(graph.objective).toBe('loss');
    expect(graph.prediction).toBe('y');
    expect(graph.values.get('cat')?.shape).toEqual(['N', 4]);
    expect(graph.values.get('loss')?.shape).toEqual([]);
    const values = graph.module.run({ input: graph.samples ?? undefined, target: graph.targets ?? undefined }, ['loss', 'scaled']);
    expect(values.get('cat')?.tolist()).toEqual([[1, 1, 1, -2]]);
    expect(values.get('y')?.tolist()).toEqual([[-1.5]]);
    expect(values.get('scaled')?.tolist()).toEqual([[3, -6]]);
    const loss = values.get('loss') as Tensor;
    expect(loss.item()).toBe(0.25);
    loss.backward();
    expect(graph.module.state_dict()['y.bias']).toBeDefined();
    const yBias = graph.module.named_parameters().find(([k]) => k === 'y.bias')?.[1];
    expect(yBias?.grad?.tolist()).toEqual([-1]);
    // forward(x) gives the prediction alone: x = [0, 0] → h = [0, 1], skip = [0, 1], cat = [0, 1, 0, 0], y = 2 + 0.5.
    expect(graph.module.forward(torch.tensor([[0, 0]])).tolist()).toEqual([[2.5]]);
  });

  it('uses node names for state_dict keys, and locks the cells the file locks', () => {
    const doc = graphDoc([
      input('x', 2),
      { ...linear('n1', 2, 2), name: 'encoder', locked: { weight: [[0, 1], [1, 0]], bias: [[1]] } },
      { id: 'p', type: 'Parameter', name: 'offset', tensors: { value: [1, 2] }, locked: { value: [[0]] } },
      { id: 'plus', type: 'Add' },
      { id: 'm', type: 'Mean' },
    ], [['x', 'n1'], ['n1', 'plus', 'in1'], ['p', 'plus', 'in2'], ['plus', 'm']], { data: { samples: [[1, 2]] } });
    const graph = build(doc);
    const params = new Map(graph.module.named_parameters());
    expect([...params.keys()]).toEqual(['encoder.weight', 'encoder.bias', 'offset']);
    expect(Array.from(params.get('encoder.weight')?.locked ?? [])).toEqual([0, 1, 1, 0]);
    expect(Array.from(params.get('encoder.bias')?.locked ?? [])).toEqual([0, 1]);
    expect(Array.from(params.get('offset')?.locked ?? [])).toEqual([1, 0]);
  });
});

describe('compile problems', () => {
  it('says which layer takes what, and who gives what', () => {
    const doc = graphDoc([input('x', 3), linear('hidden', 3, 4), linear('hidden2', 3, 3), { id: 'm', type: 'Mean' }],
      [['x', 'hidden'], ['hidden', 'hidden2'], ['hidden2', 'm']], { data: { samples: [[1, 2, 3]] } });
    expect(compileProblems(doc)).toEqual([
      { message: 'Linear \'hidden2\' takes 3 inputs, but \'hidden\' gives 4.', node: 'hidden2', port: 'in', path: 'nodes[2]' },
    ]);
  });

  it('reports every problem at once, each with its node and port', () => {
    const doc = graphDoc([
      input('x', 3),
      linear('a', 3, 3),
      { id: 'b', type: 'ReLU', name: 'a' }, // duplicate name
      linear('c', 3, 3),
      linear('d', 3, 3),
      { id: 'e', type: 'Sigmoid' },
      { id: 'loss', type: 'CrossEntropyLoss' },
      { id: 'lonely', type: 'Tanh' },
    ], [
      ['x', 'a'], ['a', 'b'],
      ['c', 'd'], ['d', 'c'], // a cycle
      ['b', 'e'], ['e', 'loss', 'input'], // no target
      ['b', 'nowhere'], ['b', 'e', 'weight'], ['b', 'e'], // unknown node, unknown port, second edge into a port
    ], { data: { samples: [[1, 2, 3]] } });
    const problems = compileProblems(doc);
    expect(problems).toEqual(expect.arrayContaining([
      { message: 'ReLU \'a\' has the same name as Linear \'a\' (node \'a\'); names must be unique.', node: 'b', path: 'nodes[2].name' },
      { message: 'edges[6] ends at node \'nowhere\', which does not exist.', path: 'edges[6].to.node' },
      { message: 'edges[7] ends at port \'weight\' of Sigmoid \'e\', but its input ports are \'in\'.', node: 'e', port: 'weight', path: 'edges[7].to.port' },
      { message: 'Sigmoid \'e\' gets two edges at its port \'in\' (from \'a\' and \'a\'); a port takes one.', node: 'e', port: 'in', path: 'edges[8]' },
      { message: 'CrossEntropyLoss \'loss\' has no target: connect a Target (or the values to compare with) to its port \'target\'.', node: 'loss', port: 'target', path: 'nodes[6]' },
      { message: 'Tanh \'lonely\' has nothing connected to its input port \'in\'.', node: 'lonely', port: 'in', path: 'nodes[7]' },
      { message: 'The edges \'c\' → \'d\' → \'c\' form a cycle; a network must flow one way.', node: 'c', path: 'nodes[3]' },
    ]));
    expect(problems).toHaveLength(7);
  });

  it('refuses names PyTorch cannot use, and duplicate ids', () => {
    const doc = graphDoc([
      input('x', 1), { id: 'x', type: 'ReLU' }, { id: 'my layer', type: 'ReLU' }, { id: 'r', name: 'class', type: 'ReLU' },
      { id: 's', name: 'forward', type: 'Sigmoid' }, { id: 'm', type: 'Mean' },
    ], [['x', 'my layer'], ['my layer', 'r'], ['r', 's'], ['s', 'm']], { data: { samples: [[1]] } });
    expect(compileProblems(doc).map((p) => p.message)).toEqual([
      'Two nodes have the id \'x\' (nodes[0] and nodes[1]).',
      'ReLU \'my layer\' has a name PyTorch cannot use: use letters, digits and _, not starting with a digit.',
      'ReLU \'class\' has a name that is reserved in PyTorch or Backprop Studio; choose another.',
      'Sigmoid \'forward\' has a name that is reserved in PyTorch or Backprop Studio; choose another.',
    ]);
  });

  it('checks what losses take', () => {
    const seedDoc = exampleDoc('seed-tutorial.json');
    const withLoss = (type: string, params: object, targets: unknown) => {
      const doc = exampleDoc('seed-tutorial.json');
      doc.nodes[8] = { id: 'loss', type, params };
      doc.data.targets = targets;
      return problemsIfAny(() => build(doc)).map((p) => p.message);
    };
    expect(seedDoc.nodes[8].type).toBe('CrossEntropyLoss');
    expect(withLoss('MSELoss', {}, [1])).toEqual(['MSELoss \'loss\' needs target values shaped like its input [N, 3], but \'labels\' gives class indices; for classes use CrossEntropyLoss or NLLLoss.']);
    expect(withLoss('MSELoss', {}, [[1, 2]])).toEqual(['MSELoss \'loss\' compares [N, 3] from \'softmax\' with [N, 2] from \'labels\'; the shapes must be equal.']);
    expect(withLoss('NLLLoss', {}, [[0, 1, 0]])).toEqual(['NLLLoss \'loss\' needs class indices as its target, but \'labels\' gives values [N, 3].']);
    expect(withLoss('CrossEntropyLoss', { weight: [1, 2] }, [1])).toEqual(['CrossEntropyLoss \'loss\' has 2 class weights, but \'softmax\' gives 3 classes.']);
    expect(withLoss('CrossEntropyLoss', { reduction: 'none' }, [1])).toEqual(['CrossEntropyLoss \'loss\' gives one loss per sample (reduction \'none\'), but training needs a single number: use \'mean\' or \'sum\'.']);
    expect(withLoss('BCELoss', { weight: [1, 2] }, [[0, 1, 0]])).toEqual(['BCELoss \'loss\' has a weight of 2 values, which does not broadcast to its input [N, 3].']);
    expect(withLoss('CrossEntropyLoss', {}, [[0.2, 0.8, 0]])).toEqual([]);
    expect(withLoss('BCEWithLogitsLoss', { pos_weight: [2] }, [[0, 1, 0]])).toEqual([]);
  });

  it('checks the data against the graph', () => {
    const doc = exampleDoc('iris.json');
    doc.data.samples[3] = [1, 2, 3];
    doc.data.targets[7] = 3;
    doc.data.targets[8] = 1.5;
    expect(compileProblems(doc).map((p) => [p.message, p.path])).toEqual([
      ['data.samples[3] has 3 values, but Input \'x\' takes 4.', 'data.samples[3]'],
      ['data.targets[7] is 3, but each target must be a class index from 0 to 2.', 'data.targets[7]'],
      ['data.targets[8] is 1.5, but each target must be a class index from 0 to 2.', 'data.targets[8]'],
    ]);
    doc.data.targets.pop();
    expect(compileProblems(doc).map((p) => p.message)).toContain('data.targets has 149 rows, but data.samples has 150; there must be one target per sample.');
  });

  it('checks the tensors a node carries', () => {
    const doc = exampleDoc('seed-tutorial.json');
    doc.nodes[1].tensors.weight = [[1, 2, 3], [1, 2], [1, 2, 3]];
    doc.nodes[3].tensors.weight = [[1, 2, 3]];
    doc.nodes[5].locked = { weight: [[0, 3]], bias: [[0, 0]] };
    expect(compileProblems(doc).map((p) => [p.message, p.path])).toEqual([
      ['tensors.weight[1] of Linear \'hidden\' is a list of 2 where a list of 3 should be; the lists must be rectangular.', 'nodes[1].tensors.weight'],
      ['Linear \'hidden2\' has a tensors.weight of shape [1, 3], but its sizes need [3, 3].', 'nodes[3].tensors.weight'],
      ['Linear \'output\' locks cell [0, 3] of its weight, which has shape [3, 3].', 'nodes[5].locked.weight[0]'],
      ['Linear \'output\' locks cell [0, 0] of its bias, which has shape [3].', 'nodes[5].locked.bias[0]'],
    ]);
  });

  it('needs something to minimise', () => {
    const doc = graphDoc([input('x', 2), linear('a', 2, 2)], [['x', 'a']], { data: { samples: [[1, 2]] } });
    expect(compileProblems(doc).map((p) => p.message)).toEqual([
      'The graph has no loss node: add one (e.g. CrossEntropyLoss) with the output and a Target connected, or end the graph in a single number such as Mean.',
    ]);
    expect(compileProblems(graphDoc([], [])).map((p) => p.message)).toEqual(['The graph has no nodes.']);
  });

  it('refuses class indices anywhere but a loss target', () => {
    const doc = exampleDoc('seed-tutorial.json');
    doc.edges.push({ from: { node: 'labels', port: 'out' }, to: { node: 'extra', port: 'in' } });
    doc.nodes.push({ id: 'extra', type: 'ReLU' });
    expect(compileProblems(doc).map((p) => p.message)).toEqual([
      'ReLU \'extra\' cannot take class indices from \'labels\' at its port \'in\'; only the target of CrossEntropyLoss or NLLLoss can.',
    ]);
  });

  it('checks dims of Softmax, Concat, Sum and broadcasting in Add', () => {
    const doc = graphDoc([
      input('x', 3), { id: 'p', type: 'Parameter', tensors: { value: [1, 2] } },
      { id: 'sm', type: 'Softmax', params: { dim: 2 } },
      { id: 'add', type: 'Add' },
      { id: 'cat', type: 'Concat', params: { dim: 0 } },
      { id: 'sum', type: 'Sum', params: { dim: [1, -1] } },
      { id: 'm', type: 'Mean' },
    ], [['x', 'sm'], ['x', 'add', 'in1'], ['p', 'add', 'in2'], ['x', 'cat', 'in1'], ['x', 'cat', 'in2'], ['x', 'sum'], ['x', 'm']],
    { data: { samples: [[1, 2, 3]] } });
    expect(compileProblems(doc).map((p) => p.message)).toEqual([
      'Softmax \'sm\' has dim 2, but \'x\' gives 2-dimensional values [N, 3].',
      'Add \'add\' cannot combine [N, 3] with [2] from \'p\': the shapes do not broadcast.',
      'Concat \'cat\' cannot join along the batch dimension (dim 0).',
      'Sum \'sum\' cannot reduce dim -1: it is listed twice.',
      'The graph has no loss node: add one (e.g. CrossEntropyLoss) with the output and a Target connected, or end the graph in a single number such as Mean.',
    ]);
  });
});
