/**
 * Loss functions against PyTorch (test/fixtures/losses.json): the loss and the input's gradient,
 * through nn.functional and through the loss modules. Reduction 'none' backpropagates a fixture
 * upstream gradient G (as sum(out * G)); the others backpropagate 1.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../../engine/index';
import type { Device, Tensor } from '../../engine/index';
import { decode, DEVICES, expectClose, host, loadFixture, normwise, onDevice, runsOn, type FTensor, tolFor, useDevice } from './fixture';

const F = torch.nn.functional;
const nn = torch.nn;

interface LossCase {
  name: string;
  fn: LossName;
  input: FTensor;
  target: FTensor;
  options: Record<string, unknown>;
  out: FTensor;
  upstream: FTensor | null;
  grad: FTensor;
  /** PyTorch's float64 results for the same inputs, where its float32 ones are inaccurate. */
  ref64?: { out?: FTensor; grad?: FTensor };
}

type LossName =
  | 'cross_entropy'
  | 'nll_loss'
  | 'mse_loss'
  | 'l1_loss'
  | 'smooth_l1_loss'
  | 'huber_loss'
  | 'binary_cross_entropy'
  | 'binary_cross_entropy_with_logits';

type LossFn = (input: Tensor, target: Tensor, options: Record<string, unknown>) => Tensor;
type LossModule = new (options: Record<string, unknown>) => { forward(input: Tensor, target: Tensor): Tensor };

const FUNCTIONAL: Record<LossName, LossFn> = {
  cross_entropy: F.cross_entropy as LossFn,
  nll_loss: F.nll_loss as LossFn,
  mse_loss: F.mse_loss as LossFn,
  l1_loss: F.l1_loss as LossFn,
  smooth_l1_loss: F.smooth_l1_loss as LossFn,
  huber_loss: F.huber_loss as LossFn,
  binary_cross_entropy: F.binary_cross_entropy as LossFn,
  binary_cross_entropy_with_logits: F.binary_cross_entropy_with_logits as LossFn,
};

const MODULES: Record<LossName, [string, LossModule]> = {
  cross_entropy: ['nn.CrossEntropyLoss', nn.CrossEntropyLoss as unknown as LossModule],
  nll_loss: ['nn.NLLLoss', nn.NLLLoss as unknown as LossModule],
  mse_loss: ['nn.MSELoss', nn.MSELoss as unknown as LossModule],
  l1_loss: ['nn.L1Loss', nn.L1Loss as unknown as LossModule],
  smooth_l1_loss: ['nn.SmoothL1Loss', nn.SmoothL1Loss as unknown as LossModule],
  huber_loss: ['nn.HuberLoss', nn.HuberLoss as unknown as LossModule],
  binary_cross_entropy: ['nn.BCELoss', nn.BCELoss as unknown as LossModule],
  binary_cross_entropy_with_logits: ['nn.BCEWithLogitsLoss', nn.BCEWithLogitsLoss as unknown as LossModule],
};

const TENSOR_OPTIONS = new Set(['weight', 'pos_weight']);

function decodeOptions(options: Record<string, unknown>, device: Device): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(options).map(([k, v]) => [k, TENSOR_OPTIONS.has(k) ? decode(v as FTensor, { device }) : v]),
  );
}

const fixture = loadFixture<{ cases: LossCase[] }>('losses.json');

for (const device of DEVICES) {
  describe(`losses vs PyTorch (losses.json)${onDevice(device)}`, () => {
    useDevice(device);

    it('has the fixture cases', () => {
      expect(fixture.cases.length).toBeGreaterThan(80);
    });

    const tensors = (c: LossCase): FTensor[] => [c.input, c.target, ...[...TENSOR_OPTIONS].map((k) => c.options[k] as FTensor | undefined).filter((t) => t !== undefined)];
    for (const c of fixture.cases.filter((c) => runsOn(device, ...tensors(c)))) {
      it(c.name, async () => {
        const [moduleName, Module] = MODULES[c.fn];
        const variants: [string, LossFn][] = [
          [`F.${c.fn}`, FUNCTIONAL[c.fn]],
          [moduleName, (input, target, options) => new Module(options).forward(input, target)],
        ];
        for (const [how, loss] of variants) {
          const x = decode(c.input, { requires_grad: true, device });
          const target = decode(c.target, { device });
          const out = loss(x, target, decodeOptions(c.options, device));
          // Losses are reductions and composite formulas (e.g. (pos_weight·y + 1 - y)·σ(x) - pos_weight·y
          // in BCE-with-logits' gradient cancels): the normwise tolerance (fixture.ts).
          expectClose(await host(out), c.out, normwise(tolFor(c.out.dtype), c.out), `${how}: loss`, { ref64: c.ref64?.out });
          if (c.upstream) out.mul(decode(c.upstream, { device })).sum().backward();
          else out.backward();
          expectClose(await host(x.grad), c.grad, normwise(tolFor(c.grad.dtype), c.grad), `${how}: grad of input`, { ref64: c.ref64?.grad });
          expect(target.grad, `${how}: the target gets no grad`).toBeNull();
        }
      });
    }
  });
}
