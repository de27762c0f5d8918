import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as torch from '../../../engine/index';
import { loadProject } from '../../../engine/project/load';
import type { EpochRecord } from '../../../engine/project/schema';
import { openTraining, startTraining } from '../../../engine/project/train';
import { expectClose, loadFixture, TOL, type FTensor } from '../fixture';
import { exampleDoc, exampleText, graphDoc, messagesOf } from './helpers';

interface SeedRun {
  rows: { t: number; loss: number; probs: number[] }[];
  final: Record<string, FTensor>;
  ref64: { final: Record<string, FTensor> };
}
const seed = loadFixture<{ new_adam_every_iteration: SeedRun; adam_once: SeedRun }>('seed.json');

const ours = <T>(name: string): T => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
const perms = ours<{ cases: { seed: number; n: number; perms: number[][] }[] }>('randperm.json');
interface TorchRecord { epoch: number; loss: number; outputs?: number[][] }
const torchRuns = ours<{ examples: { file: string; records: TorchRecord[]; ref64: TorchRecord[] }[] }>('training.json');

/**
 * Long float32 runs drift from PyTorch's by rounding alone (different summation orders compound
 * over hundreds of steps), so beyond TOL.train32 a value also passes when it is no farther from
 * PyTorch's float64 run than twice PyTorch's own float32 run is — as test/engine/seed.test.ts does.
 */
const REF_FACTOR = 2;

function trainExample(file: string, epochs?: number): { records: EpochRecord[]; state: Record<string, torch.Tensor> } {
  const training = startTraining(loadProject(exampleText(file)), { epochs });
  const records = [...training.run()];
  return { records, state: training.graph.module.state_dict() };
}

describe('the training runner', () => {
  it.each([
    ['seed-tutorial.json', 'new_adam_every_iteration'],
    ['seed-tutorial-adam-once.json', 'adam_once'],
  ] as const)('reproduces PyTorch\'s seed notebook run: %s', (file, run) => {
    const expected = seed[run];
    const { records, state } = trainExample(file);
    expect(records.map((r) => r.epoch)).toEqual(expected.rows.map((r) => r.t));
    for (const [i, row] of expected.rows.entries()) {
      expectClose(records[i].loss, row.loss, TOL.train32, `epoch ${row.t} loss`);
      expectClose(records[i].outputs as number[][], row.probs, TOL.train32, `epoch ${row.t} outputs`);
    }
    for (const [key, value] of Object.entries(expected.final)) {
      expectClose(state[key], value, TOL.train32, `final ${key}`, { ref64: expected.ref64.final[key], factor: REF_FACTOR });
    }
  });

  it.each(['xor.json', 'iris.json'])('trains %s as the PyTorch loop does (mini-batches, shuffling, momentum)', (file) => {
    const run = torchRuns.examples.find((e) => e.file === file);
    const expected = run?.records ?? [];
    const { records } = trainExample(file);
    expect(records).toHaveLength(expected.length);
    for (const [i, e] of expected.entries()) {
      const ref = run?.ref64[i];
      expectClose(records[i].loss, e.loss, TOL.train32, `${file} epoch ${e.epoch} loss`, { ref64: ref?.loss, factor: REF_FACTOR });
      if (e.outputs) {
        expectClose(records[i].outputs, e.outputs.flat(), TOL.train32, `${file} epoch ${e.epoch} outputs`, { ref64: ref?.outputs?.flat(), factor: REF_FACTOR });
      }
    }
  });

  it('shuffles with torch.randperm\'s numbers', () => {
    for (const c of perms.cases) {
      const g = new torch.Generator().manual_seed(c.seed);
      expect(c.perms.map(() => Array.from(torch.randperm(c.n, { generator: g }).toArray())), `seed ${c.seed}, n ${c.n}`).toEqual(c.perms);
    }
  });

  it('trains the autograd demo: z before the step, one SGD step on a', () => {
    const doc = exampleDoc('autograd-demo.json');
    const a = doc.nodes[0].tensors.value as number[][];
    const { records, state } = trainExample('autograd-demo.json');
    const grad = loadFixture<{ autograd_demo: { z: number; grad: FTensor } }>('seed.json').autograd_demo;
    expectClose(records[0].loss, grad.z, TOL.f32, 'z');
    // a ← a − 0.01 · PyTorch's a.grad
    expectClose(state.a, a.flat().map((v, i) => Math.fround(v) - 0.01 * (grad.grad.data[i] as number)), TOL.f32, 'a after the step');
  });

  it('lets the caller stop early, keeping the epochs done', () => {
    const training = startTraining(loadProject(exampleText('seed-tutorial.json')));
    const records: EpochRecord[] = [];
    for (const r of training.run()) {
      records.push(r);
      if (r.epoch === 3) break;
    }
    expect(records).toHaveLength(3);
    expectClose(training.graph.module.forward(training.graph.samples ?? undefined), seed.new_adam_every_iteration.rows[2].probs, TOL.train32, 'outputs after 3 epochs');
  });

  it('runs the number of epochs asked for', () => {
    expect(trainExample('seed-tutorial.json', 2).records.map((r) => r.epoch)).toEqual([1, 2]);
    expect(trainExample('seed-tutorial.json', 0).records).toEqual([]);
  });

  it('never changes locked cells', () => {
    const doc = exampleDoc('seed-tutorial.json');
    doc.nodes[1].locked = { weight: [[0, 0], [2, 1]], bias: [[1]] };
    const training = startTraining(loadProject(JSON.stringify(doc)));
    expect([...training.run()]).toHaveLength(49);
    const w = training.graph.module.state_dict()['hidden.weight'].tolist() as number[][];
    const b = training.graph.module.state_dict()['hidden.bias'].tolist() as number[];
    expect([w[0][0], w[2][1], b[1]]).toEqual([Math.fround(0.1), Math.fround(0.7), Math.fround(-0.1744828)]);
    expect(w[0][1]).not.toBe(Math.fround(0.3));
  });

  it('opens the backend asked for, saying why it trains on the CPU when there is no GPU', async () => {
    const project = loadProject(exampleText('xor.json'));
    // OpenGL ES has no 'core' adapter anywhere: a GPU that cannot open.
    const { training, notice } = await openTraining(project, { backend: 'webgpu' }, { backend: 'opengles', featureLevel: 'core' });
    expect(training.device).toEqual({ backend: 'cpu' });
    expect(notice).toMatch(/^WebGPU is not available \(no WebGPU adapter .*\); training on the CPU\.$/);
    // 'auto' keeps a model under AUTO_MIN_PARAMETERS on the CPU without opening a GPU.
    expect(await openTraining(project, { backend: 'auto' }, { backend: 'opengles', featureLevel: 'core' })).toMatchObject({ notice: null, training: { device: { backend: 'cpu' } } });
    expect([...training.run()]).toHaveLength(project.training.epochs);
  });

  it('trains on the CPU when webgpu is asked for but no GPU is open; refuses a graph with nothing to train', () => {
    const project = loadProject(exampleText('xor.json'));
    expect(startTraining(project, { backend: 'webgpu' }).device).toEqual({ backend: 'cpu' });
    const constant = graphDoc([{ id: 'c', type: 'Constant', params: { value: [1, 2] } }, { id: 'm', type: 'Mean' }], [['c', 'm']]);
    expect(messagesOf(() => startTraining(loadProject(JSON.stringify(constant))))).toEqual([
      'The graph has nothing to train: add a Linear layer or a Parameter.',
    ]);
  });

  it('turns an error in a training step into a problem naming the epoch', () => {
    // BCELoss straight on a Linear output: the scores leave [0, 1].
    const doc = exampleDoc('xor.json');
    doc.edges = doc.edges.filter((e: { from: { node: string }; to: { node: string } }) => e.from.node !== 'sigmoid' && e.to.node !== 'sigmoid');
    doc.edges.push({ from: { node: 'out', port: 'out' }, to: { node: 'loss', port: 'input' } });
    doc.nodes = doc.nodes.filter((n: { id: string }) => n.id !== 'sigmoid');
    doc.nodes.find((n: { id: string }) => n.id === 'out').tensors = { weight: [[1, 1, 1, 1]], bias: [2] };
    const training = startTraining(loadProject(JSON.stringify(doc)));
    expect(messagesOf(() => [...training.run()])).toEqual([
      expect.stringMatching(/^Training stopped in epoch 1: binary_cross_entropy needs every input between 0 and 1/),
    ]);
  });
});
