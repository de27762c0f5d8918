/**
 * The random generator against PyTorch's CPU generator (test/fixtures/init.json): after
 * torch.manual_seed(s), torch.rand and nn.Linear's initial weights must be PyTorch's, bit for bit
 * (float32: 24 random bits per element; float64: 53 bits from two 32-bit draws).
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../../engine/index';
import type { DType } from '../../engine/index';
import { expectClose, type FTensor, loadFixture, TOL } from './fixture';

const { nn } = torch;

interface InitFixture {
  linear: { seed: number; in: number; out: number; dtype: DType; weight: FTensor; bias: FTensor }[];
  rand: { seed: number; shape: number[]; dtype: DType; value: FTensor }[];
  sequence: { seed: number; rand1: FTensor; weight: FTensor; bias: FTensor; rand2: FTensor };
  generator: { default_seed: number; generator_seed: number; generator_rand: FTensor; default_rand: FTensor };
}

const fixture = loadFixture<InitFixture>('init.json');

describe('nn.Linear initialisation vs PyTorch (init.json)', () => {
  for (const c of fixture.linear) {
    it(`manual_seed(${c.seed}); nn.Linear(${c.in}, ${c.out}) ${c.dtype}`, () => {
      torch.manual_seed(c.seed);
      const lin = new nn.Linear(c.in, c.out, { dtype: c.dtype });
      expectClose(lin.weight, c.weight, TOL.exact, 'weight');
      expectClose(lin.bias, c.bias, TOL.exact, 'bias');
      expect(lin.weight.requires_grad).toBe(true);
      expect(lin.state_dict()).toHaveProperty('weight');
    });

    it(`nn.Linear(${c.in}, ${c.out}) ${c.dtype} from a private Generator seeded ${c.seed}`, () => {
      const lin = new nn.Linear(c.in, c.out, { dtype: c.dtype, generator: new torch.Generator().manual_seed(c.seed) });
      expectClose(lin.weight, c.weight, TOL.exact, 'weight');
      expectClose(lin.bias, c.bias, TOL.exact, 'bias');
    });
  }
});

describe('torch.rand vs PyTorch (init.json)', () => {
  for (const c of fixture.rand) {
    it(`manual_seed(${c.seed}); rand([${c.shape.join(', ')}]) ${c.dtype}`, () => {
      torch.manual_seed(c.seed);
      expectClose(torch.rand(c.shape, { dtype: c.dtype }), c.value, TOL.exact, 'rand');
    });
  }

  it('one stream: rand, then nn.Linear, then rand float64', () => {
    const s = fixture.sequence;
    torch.manual_seed(s.seed);
    expectClose(torch.rand([3]), s.rand1, TOL.exact, 'rand([3])');
    const lin = new nn.Linear(2, 2);
    expectClose(lin.weight, s.weight, TOL.exact, 'weight');
    expectClose(lin.bias, s.bias, TOL.exact, 'bias');
    expectClose(torch.rand([2, 2], { dtype: 'float64' }), s.rand2, TOL.exact, 'rand([2, 2]) float64');
  });

  it('a private Generator leaves the default generator alone', () => {
    const g = fixture.generator;
    torch.manual_seed(g.default_seed);
    const gen = new torch.Generator().manual_seed(g.generator_seed);
    expectClose(torch.rand([4], { generator: gen }), g.generator_rand, TOL.exact, 'rand with generator');
    expectClose(torch.rand([4]), g.default_rand, TOL.exact, 'rand with the default generator');
  });
});
