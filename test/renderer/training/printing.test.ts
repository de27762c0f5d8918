import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatNumber, gradFnOf, parseValues, printedTensor } from '../../../renderer/training/printing';

/** PyTorch's own printout of the seed run and the autograd demo (test/fixtures/make_fixtures.py). */
const seed = JSON.parse(readFileSync(new URL('../../fixtures/seed.json', import.meta.url), 'utf8'));
const rows: { loss: number; probs: number[]; printed_loss: string; printed_probs: string }[] = seed.new_adam_every_iteration.rows;

describe('printedTensor', () => {
  it("prints every seed row as PyTorch printed it, grad_fn included", () => {
    const softmax = gradFnOf({ type: 'Softmax', params: { dim: 1 } });
    const loss = gradFnOf({ type: 'CrossEntropyLoss' });
    for (const row of rows) {
      expect(printedTensor([row.probs], softmax)).toBe(row.printed_probs);
      expect(printedTensor(row.loss, loss)).toBe(row.printed_loss);
    }
  });

  it('prints a 2×2 tensor on two lines, as the autograd demo shows', () => {
    const { grad, printed_grad } = seed.autograd_demo;
    const d = grad.data as number[];
    expect(printedTensor([[d[0], d[1]], [d[2], d[3]]])).toBe(printed_grad);
  });
});

describe('formatNumber', () => {
  it('uses fixed point, scientific below 1e-4, and the shortest float32 digits for full', () => {
    expect(formatNumber(0.2292826622724533, 4)).toBe('0.2293');
    expect(formatNumber(0.2292826622724533, 6)).toBe('0.229283');
    expect(formatNumber(0.2292826622724533, 'full')).toBe('0.22928266');
    expect(formatNumber(2.189225023485619e-9, 4)).toBe('2.1892e-09');
    expect(formatNumber(-3.5, 8)).toBe('-3.50000000');
    expect(formatNumber(Number.NaN, 'full')).toBe('nan');
    expect(formatNumber(Number.NEGATIVE_INFINITY, 4)).toBe('-inf');
  });
});

describe('parseValues', () => {
  it('reads a PyTorch printout, nested lists and plain numbers', () => {
    expect(parseValues('tensor([[5.9607e-04, 9.9818e-01, 1.2198e-03]], grad_fn=<SoftmaxBackward0>)')).toEqual({ values: [[5.9607e-4, 0.99818, 0.0012198]] });
    expect(parseValues(seed.autograd_demo.printed_grad)).toEqual({ values: [[4.9009e-3, 2.2774], [27.007, 7.5619]] });
    expect(parseValues('tensor(1.1435, grad_fn=<NllLossBackward0>)')).toEqual({ values: 1.1435 });
    expect(parseValues(' [1., -0.5, .25] ')).toEqual({ values: [1, -0.5, 0.25] });
    expect(parseValues('0.2293')).toEqual({ values: 0.2293 });
  });

  it('says what is wrong in one sentence', () => {
    expect(parseValues('abc')).toEqual({ error: "Could not read the values: 'abc' is not a number." });
    expect(parseValues('[[1, 2], [3]]')).toEqual({ error: 'Could not read the values: the rows have different lengths.' });
    expect(parseValues('[1, 2')).toEqual({ error: 'Could not read the values: a list is not closed with ].' });
    expect(parseValues('[1 2]')).toEqual({ error: "Could not read the values: '2' follows an item where a comma or ] belongs." });
    expect(parseValues('1 2')).toEqual({ error: "Could not read the values: '2' follows the end of the value." });
    expect('error' in parseValues('  ')).toBe(true);
  });
});
