import { describe, expect, it } from 'vitest';
import { parseExpression } from '../../renderer/inspector/expression';

const value = (text: string) => {
  const r = parseExpression(text);
  if ('error' in r) throw new Error(r.error);
  return r.value;
};
const error = (text: string) => {
  const r = parseExpression(text);
  if ('value' in r) throw new Error(`"${text}" gave ${r.value}`);
  return r.error;
};

describe('cell expressions', () => {
  it('reads numbers as people write them', () => {
    expect(value('0.1')).toBe(0.1);
    expect(value('.5')).toBe(0.5);
    expect(value('-2')).toBe(-2);
    expect(value('1e-3')).toBe(0.001);
    expect(value('  3  ')).toBe(3);
    expect(value('−0.25')).toBe(-0.25); // the typographic minus of a pasted paper
  });

  it('computes fractions and expressions', () => {
    expect(value('1/3')).toBe(1 / 3);
    expect(value('sqrt(2)/2')).toBe(Math.SQRT2 / 2);
    expect(value('2^-3')).toBe(0.125);
    expect(value('2**3')).toBe(8);
    expect(value('-2^2')).toBe(-4);
    expect(value('2^3^2')).toBe(512);
    expect(value('(1 + 2) * 3 - 4 / 2')).toBe(7);
    expect(value('-pi/4')).toBe(-Math.PI / 4);
    expect(value('exp(-1)')).toBe(Math.exp(-1));
    expect(value('3 × 2 ÷ 4')).toBe(1.5);
  });

  it('refuses what is not a number, saying why', () => {
    expect(error('')).toMatch(/empty/);
    expect(error('abc')).toMatch(/"abc" is not a function or constant/);
    expect(error('1/0')).toMatch(/divides by zero/);
    expect(error('1 +')).toMatch(/ends too early/);
    expect(error('(1 + 2')).toMatch(/"\)" is missing/);
    expect(error('1 2')).toMatch(/"2" is left over/);
    expect(error('2; alert(1)')).toMatch(/";" is not a number or an operator/);
    expect(error('sqrt(-1)')).toMatch(/NaN, not a finite number/);
    expect(error('10^400')).toMatch(/Infinity/);
  });

  it('never runs text as code', () => {
    expect(error('constructor')).toMatch(/not a function or constant/);
    expect(error('__proto__')).toMatch(/not a function or constant/);
    expect(error('toString(1)')).toMatch(/not a function or constant/);
  });
});
