/**
 * Whole training runs against PyTorch (test/fixtures/training.json): an nn.Sequential built from
 * the fixture's architecture, PyTorch's initial weights loaded with load_state_dict, then 50 steps
 * of zero_grad / forward / loss / backward / step. The loss of every step and the final
 * parameters must match.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../../engine/index';
import type { Device, DType, Tensor } from '../../engine/index';
import { decode, DEVICES, expectClose, type FNum, type FTensor, host, loadFixture, onDevice, TOL, useDevice } from './fixture';

const { nn, optim } = torch;
const F = nn.functional;

type Layer = { type: string } & Record<string, unknown>;

interface TrainingCase {
  name: string;
  dtype: DType;
  arch: Layer[];
  init: Record<string, FTensor>;
  x: FTensor;
  y: FTensor;
  loss: { fn: string; options: Record<string, unknown> };
  optimizer: { type: string; options: Record<string, unknown> };
  steps: number;
  losses: FNum[];
  final: Record<string, FTensor>;
}

type Optimizer = { step(): void; zero_grad(): void };
type LossFn = (input: Tensor, target: Tensor, options: Record<string, unknown>) => Tensor;

function layer(l: Layer, dtype: DType): torch.nn.Module {
  const n = (key: string) => l[key] as number | undefined;
  switch (l.type) {
    case 'linear':
      return new nn.Linear(l.in as number, l.out as number, { bias: (l.bias as boolean | undefined) ?? true, dtype });
    case 'relu':
      return new nn.ReLU();
    case 'tanh':
      return new nn.Tanh();
    case 'sigmoid':
      return new nn.Sigmoid();
    case 'gelu':
      return new nn.GELU(l.approximate as 'none' | 'tanh' | undefined);
    case 'elu':
      return new nn.ELU(n('alpha'));
    case 'leaky_relu':
      return new nn.LeakyReLU(n('negative_slope'));
    case 'softplus':
      return new nn.Softplus(n('beta'), n('threshold'));
    case 'softmax':
      return new nn.Softmax(l.dim as number);
    case 'log_softmax':
      return new nn.LogSoftmax(l.dim as number);
    default:
      throw new Error(`unknown layer type ${l.type}`);
  }
}

function decodeDict(dict: Record<string, FTensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, decode(v)]));
}

/** A fixture's training run on `device`: the loss of each step and the final state_dict, on the host. */
async function train(c: TrainingCase, device: Device): Promise<{ losses: number[]; final: Record<string, Tensor> }> {
  const model = new nn.Sequential(...c.arch.map((l) => layer(l, c.dtype))).to(device);
  expect(Object.keys(model.state_dict()), 'state_dict names').toEqual(Object.keys(c.init));
  model.load_state_dict(decodeDict(c.init));
  const x = decode(c.x, { device });
  const y = decode(c.y, { device });
  const lossOptions = Object.fromEntries(
    Object.entries(c.loss.options).map(([k, v]) => [k, k === 'weight' || k === 'pos_weight' ? decode(v as FTensor, { device }) : v]),
  );
  const loss = (F as unknown as Record<string, LossFn>)[c.loss.fn];
  const Opt = (optim as unknown as Record<string, new (p: Tensor[], o: Record<string, unknown>) => Optimizer>)[c.optimizer.type];
  const opt = new Opt(model.parameters(), c.optimizer.options);
  const losses: Tensor[] = [];
  for (let step = 0; step < c.steps; step++) {
    opt.zero_grad();
    const l = loss(model.forward(x), y, lossOptions);
    l.backward();
    opt.step();
    losses.push(l);
  }
  const final = Object.fromEntries(await Promise.all(Object.entries(model.state_dict()).map(async ([k, t]) => [k, await host(t)] as const)));
  return { losses: await Promise.all(losses.map(async (l) => (await l.read())[0])), final };
}

const fixture = loadFixture<{ cases: TrainingCase[] }>('training.json');

for (const device of DEVICES) {
  describe(`training runs vs PyTorch (training.json)${onDevice(device)}`, () => {
    useDevice(device);

    it('has the fixture cases', () => {
      expect(fixture.cases.length).toBeGreaterThanOrEqual(6);
    });

    for (const c of fixture.cases.filter((c) => device === 'cpu' || c.dtype !== 'float64')) {
      const tol = c.dtype === 'float64' ? TOL.f64 : TOL.train32;
      it(c.name, async () => {
        const { losses, final } = await train(c, device);
        expectClose(losses, c.losses, tol, 'loss per step');
        for (const [name, expected] of Object.entries(c.final)) expectClose(final[name], expected, tol, `final ${name}`);
      });

      if (device !== 'cpu') {
        it(`${c.name}: the same run on the CPU agrees to 1e-5`, async () => {
          const gpu = await train(c, device);
          const cpuRun = await train(c, 'cpu');
          const asFixture = (t: Tensor): FTensor => ({ shape: [...t.shape], dtype: t.dtype, data: Array.from(t.toArray()) });
          expectClose(gpu.losses, cpuRun.losses, TOL.train32, 'loss per step');
          for (const [name, t] of Object.entries(cpuRun.final)) expectClose(gpu.final[name], asFixture(t), TOL.train32, `final ${name}`);
        });
      }
    }
  });
}
