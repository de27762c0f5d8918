import { describe, expect, it } from 'vitest';
import { formatFixed, formatScientific } from '../../engine/format';
import { decode, loadFixture, type FTensor } from './fixture';

interface PrintingFixture {
  cases: { tensor: FTensor; requires_grad: boolean; printed: string }[];
}

const fixture = loadFixture<PrintingFixture>('printing.json');

describe('tensors print as PyTorch prints them (printing.json)', () => {
  for (const c of fixture.cases) {
    it(c.printed.split('\n')[0], () => {
      const t = decode(c.tensor);
      t.requires_grad = c.requires_grad;
      expect(String(t)).toBe(c.printed);
    });
  }
});

describe("Python's float formatting", () => {
  it('rounds exact ties to even, as Python does (JavaScript rounds them up)', () => {
    expect(formatFixed(0.03125, 4)).toBe('0.0312');
    expect(formatFixed(0.09375, 4)).toBe('0.0938');
    expect(formatScientific(1.5, 0)).toBe('2e+00');
    expect(formatScientific(2.5, 0)).toBe('2e+00');
  });

  it('carries rounding into the exponent and pads it to two digits', () => {
    expect(formatScientific(9.99996e-5, 4)).toBe('1.0000e-04');
    expect(formatScientific(1.2345e-100, 2)).toBe('1.23e-100');
    expect(formatScientific(-0, 4)).toBe('-0.0000e+00');
  });
});
