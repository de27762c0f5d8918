/**
 * The PyTorch export, run by real PyTorch (/usr/bin/python3 with torch): its JSON lines must
 * agree with the app's own training record by record. Without torch the suite reports itself
 * skipped with the reason, except in CI (CI=true), where it fails.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { exportPytorch } from '../../../engine/io/pytorch';
import { compile } from '../../../engine/project/compile';
import { loadProject } from '../../../engine/project/load';
import type { EpochRecord, Project } from '../../../engine/project/schema';
import { startTraining } from '../../../engine/project/train';
import { expectClose, normwise, TOL } from '../fixture';
import { EXAMPLE_FILES, exampleText } from '../project/helpers';

const PYTHON = '/usr/bin/python3';

function torchMissing(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status === 0) return null;
  const reason = `${PYTHON} cannot import torch (apt-get install python3-torch)`;
  if (process.env.CI) throw new Error(reason);
  return reason;
}
const reason = torchMissing();

/** Enough epochs to compound rounding, few enough to stay quick. */
const MAX_EPOCHS = 50;

function capped(project: Project): Project {
  return { ...project, training: { ...project.training, epochs: Math.min(project.training.epochs, MAX_EPOCHS) } };
}

function runScript(script: string): EpochRecord[] {
  const run = spawnSync(PYTHON, ['-'], { input: script, encoding: 'utf8', timeout: 60_000 });
  expect(run.stderr, 'the script\'s stderr').toBe('');
  expect(run.status).toBe(0);
  return run.stdout.trim().split('\n').map((line) => JSON.parse(line) as EpochRecord);
}

const flatten = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flatten) : [x as number]);

/** Exports, runs with PyTorch, and compares each epoch's loss and outputs with the app's. */
function expectSameTraining(project: Project, label: string): void {
  const ours = [...startTraining(project).run()];
  const theirs = runScript(exportPytorch(project, compile(project)));
  expect(theirs.map((r) => r.epoch)).toEqual(ours.map((r) => r.epoch));
  ours.forEach((record, i) => {
    expectClose(record.loss, theirs[i].loss, TOL.train32, `${label} epoch ${record.epoch} loss`);
    // Outputs are sums (a Linear's): a small one carries rounding of the tensor's scale.
    const outputs = flatten(theirs[i].outputs);
    expectClose(record.outputs, outputs, normwise(TOL.train32, outputs), `${label} epoch ${record.epoch} outputs`);
  });
}

/** A graph of every other kind of node PyTorch has: skip connections, math nodes, locked cells, batches, a node named like a variable of the script. */
function kitchenSink(loss: Project['nodes'][number], targets: number[] | number[][]): Project {
  const rows = [[0.5, -1, 2], [1.5, 0.25, -0.5], [-2, 1, 0.75], [0.1, 0.2, 0.3], [1, -1, 1]];
  const edge = (from: string, to: string, port = 'in') => ({ from: { node: from, port: 'out' }, to: { node: to, port } });
  return {
    format: 'backprop-studio-project',
    version: 1,
    nodes: [
      { id: 'x', type: 'Input', params: { features: 3 } },
      { id: 'a', type: 'Linear', params: { in_features: 3, out_features: 4 }, locked: { weight: [[0, 1], [2, 2]], bias: [[3]] } },
      { id: 'lrelu', type: 'LeakyReLU', params: { negative_slope: 0.1 } },
      { id: 'b', type: 'Linear', params: { in_features: 3, out_features: 4, bias: false }, tensors: { weight: [[0.1, 0.2, 0.3], [-0.4, 0.5, -0.6], [0.7, 0.8, -0.9], [1, -1.1, 1.2]] } },
      { id: 'gelu', type: 'GELU', params: { approximate: 'tanh' } },
      { id: 'sum', type: 'Add', params: { inputs: 3 } },
      { id: 'elu', type: 'ELU', params: { alpha: 0.5 } },
      { id: 'prod', type: 'Multiply' },
      { id: 'scale', type: 'Parameter', tensors: { value: [1.5, 0.5, -1, 2] } },
      { id: 'shift', type: 'Constant', params: { value: 0.25 } },
      { id: 'drop', type: 'Dropout', params: { p: 0.2 } },
      { id: 'join', type: 'Concat', params: { dim: 1 } },
      { id: 'softplus', type: 'Softplus', params: { beta: 2, threshold: 10 } },
      { id: 'sq', type: 'Pow', params: { exponent: 2 } },
      { id: 'ex', type: 'Exp' },
      { id: 'lg', type: 'Log' },
      { id: 'halved', type: 'Scale', params: { factor: 0.5 } },
      { id: 'model', type: 'Tanh' },
      { id: 'head', type: 'Linear', params: { in_features: 8, out_features: 2 } },
      { id: 'y', type: 'Target' },
      loss,
    ],
    edges: [
      edge('x', 'a'), edge('a', 'lrelu'), edge('x', 'b'), edge('b', 'gelu'),
      edge('lrelu', 'sum', 'in1'), edge('gelu', 'sum', 'in2'), edge('shift', 'sum', 'in3'),
      edge('sum', 'elu'), edge('elu', 'prod', 'in1'), edge('scale', 'prod', 'in2'), edge('prod', 'drop'),
      edge('drop', 'join', 'in1'), edge('gelu', 'join', 'in2'), edge('join', 'softplus'),
      edge('softplus', 'sq'), edge('sq', 'halved'), edge('halved', 'ex'), edge('ex', 'lg'), edge('lg', 'model'),
      edge('model', 'head'), edge('head', loss.id, 'input'), edge('y', loss.id, 'target'),
    ],
    data: { samples: rows, targets },
    training: { epochs: 6, batch_size: 2, shuffle: true, seed: 7, loop: 'standard', optimizer: { type: 'RMSprop', lr: 0.01, momentum: 0.5, centered: true, weight_decay: 0.01 } },
  };
}

describe.skipIf(reason !== null)(`PyTorch export run by PyTorch${reason ? ` (skipped: ${reason})` : ''}`, () => {
  for (const file of EXAMPLE_FILES) {
    it(`trains ${file} as the app does`, () => {
      expectSameTraining(capped(loadProject(exampleText(file))), file);
    });
  }

  it('trains a graph of every other node type, with locked cells, Dropout and shuffled batches', () => {
    const classes = kitchenSink({ id: 'loss', type: 'CrossEntropyLoss', params: { weight: [1, 2], label_smoothing: 0.1 } }, [0, 1, 1, 0, 1]);
    expectSameTraining(classes, 'CrossEntropyLoss graph');
    const values = kitchenSink({ id: 'loss', type: 'HuberLoss', params: { delta: 0.5, reduction: 'sum' } }, [[1, 0], [0, 1], [0.5, 0.5], [1, 1], [-1, 0]]);
    expectSameTraining({ ...values, training: { ...values.training, loop: 'recreate_optimizer', optimizer: { type: 'AdamW', lr: 0.02, betas: [0.8, 0.99], amsgrad: true } } }, 'HuberLoss graph');
  });

  it('keeps locked cells and writes the weights exactly', () => {
    const project = kitchenSink({ id: 'loss', type: 'MSELoss' }, [[1, 0], [0, 1], [0.5, 0.5], [1, 1], [-1, 0]]);
    const script = exportPytorch(project, compile(project));
    expect(script).toContain('"b.weight": [[0.1, 0.2, 0.3], [-0.4, 0.5, -0.6], [0.7, 0.8, -0.9], [1.0, -1.1, 1.2]]');
    expect(script).toContain('LOCKED = {"a.weight": [[0, 1], [2, 2]], "a.bias": [[3]]}');
    expectSameTraining(project, 'MSELoss graph');
  });
});
