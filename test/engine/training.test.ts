/**
 * Whole training runs against PyTorch (test/fixtures/training.json): an nn.Sequential built from
 * the fixture's architecture, PyTorch's initial weights loaded with load_state_dict, then 50 steps
 * of zero_grad / forward / loss / backward / step. The loss of every step and the final
 * parameters must match.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../../engine/index';
import type { DType, Tensor } from '../../engine/index';
import { decode, expectClose, type FNum, type FTensor, loadFixture, TOL } from './fixture';

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

const fixture = loadFixture<{ cases: TrainingCase[] }>('training.json');

describe('training runs vs PyTorch (training.json)', () => {
  it('has the fixture cases', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(6);
  });

  for (const c of fixture.cases) {
    const tol = c.dtype === 'float64' ? TOL.f64 : TOL.train32;
    it(c.name, () => {
      const model = new nn.Sequential(...c.arch.map((l) => layer(l, c.dtype)));
      expect(Object.keys(model.state_dict()), 'state_dict names').toEqual(Object.keys(c.init));
      model.load_state_dict(decodeDict(c.init));
      const x = decode(c.x);
      const y = decode(c.y);
      const lossOptions = Object.fromEntries(
        Object.entries(c.loss.options).map(([k, v]) => [k, k === 'weight' || k === 'pos_weight' ? decode(v as FTensor) : v]),
      );
      const loss = (F as unknown as Record<string, LossFn>)[c.loss.fn];
      const Opt = (optim as unknown as Record<string, new (p: Tensor[], o: Record<string, unknown>) => Optimizer>)[c.optimizer.type];
      const opt = new Opt(model.parameters(), c.optimizer.options);
      const losses: number[] = [];
      for (let step = 0; step < c.steps; step++) {
        opt.zero_grad();
        const l = loss(model.forward(x), y, lossOptions);
        l.backward();
        opt.step();
        losses.push(l.item());
      }
      expectClose(losses, c.losses, tol, 'loss per step');
      const final = model.state_dict();
      for (const [name, expected] of Object.entries(c.final)) expectClose(final[name], expected, tol, `final ${name}`);
    });
  }
});
