/**
 * Every op's output and input gradients against PyTorch (test/fixtures/ops.json). Each case runs
 * the op in every form the engine offers (method, torch.* function, nn.functional, module) and
 * backpropagates sum(out * G) for the fixture's upstream gradient G.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../../engine/index';
import type { Tensor } from '../../engine/index';
import { decode, DEVICES, expectClose, expectIndices, host, loadFixture, normwise, onDevice, runsOn, type FTensor, tolFor, useDevice } from './fixture';

const F = torch.nn.functional;
const nn = torch.nn;

interface OpCase {
  name: string;
  op: string;
  params: Record<string, unknown>;
  inputs: FTensor[];
  requires_grad: boolean[];
  out: FTensor;
  indices?: FTensor;
  upstream: FTensor;
  grads: (FTensor | null)[];
  /** PyTorch's float64 results for the same inputs, where its float32 ones are inaccurate. */
  ref64?: { out?: FTensor; grads?: (FTensor | null)[] };
}

type Result = Tensor | { values: Tensor; indices: Tensor };
type Runner = (xs: Tensor[], p: Record<string, unknown>) => Result;

/** torch.<name>, looked up at run time so a missing export fails the case that needs it. */
function fn(name: string): (...args: unknown[]) => Tensor {
  const f = (torch as unknown as Record<string, unknown>)[name];
  if (typeof f !== 'function') throw new Error(`torch.${name} is not exported`);
  return f as (...args: unknown[]) => Tensor;
}

const num = (p: Record<string, unknown>, key: string): number => p[key] as number;
const dims = (p: Record<string, unknown>): number | number[] => p.dim as number | number[];

/** The ways to call each op (all must agree with PyTorch). */
function runners(op: string): [string, Runner][] {
  switch (op) {
    case 'add':
    case 'sub':
    case 'mul':
    case 'div': {
      const other = (xs: Tensor[], p: Record<string, unknown>): Tensor | number => (xs.length > 1 ? xs[1] : num(p, 'other'));
      return [
        [`x.${op}(y)`, (xs, p) => xs[0][op](other(xs, p))],
        [`torch.${op}(x, y)`, (xs, p) => fn(op)(xs[0], other(xs, p))],
      ];
    }
    case 'add_self':
      return [['x.add(x)', (xs) => xs[0].add(xs[0])]];
    case 'mul_self':
      return [['x.mul(x)', (xs) => xs[0].mul(xs[0])]];
    case 'neg':
    case 'exp':
    case 'log':
    case 'sqrt':
    case 'abs':
      return [
        [`x.${op}()`, (xs) => xs[0][op]()],
        [`torch.${op}(x)`, (xs) => fn(op)(xs[0])],
      ];
    case 'relu':
    case 'sigmoid':
    case 'tanh': {
      const Module = { relu: nn.ReLU, sigmoid: nn.Sigmoid, tanh: nn.Tanh }[op];
      return [
        [`x.${op}()`, (xs) => xs[0][op]()],
        [`torch.${op}(x)`, (xs) => fn(op)(xs[0])],
        [`F.${op}(x)`, (xs) => F[op](xs[0])],
        [`nn.${Module.name}`, (xs) => new Module().forward(xs[0])],
      ];
    }
    case 'pow':
      return [
        ['x.pow(e)', (xs, p) => xs[0].pow(num(p, 'exponent'))],
        ['torch.pow(x, e)', (xs, p) => fn('pow')(xs[0], num(p, 'exponent'))],
      ];
    case 'clamp': {
      const lo = (p: Record<string, unknown>) => p.min as number | null;
      const hi = (p: Record<string, unknown>) => p.max as number | null;
      return [
        ['x.clamp(min, max)', (xs, p) => xs[0].clamp(lo(p), hi(p))],
        ['torch.clamp(x, min, max)', (xs, p) => fn('clamp')(xs[0], lo(p), hi(p))],
      ];
    }
    case 'matmul':
      return [
        ['x.matmul(y)', (xs) => xs[0].matmul(xs[1])],
        ['torch.matmul(x, y)', (xs) => fn('matmul')(xs[0], xs[1])],
      ];
    case 'transpose':
      return [
        ['x.transpose(d0, d1)', (xs, p) => xs[0].transpose(num(p, 'dim0'), num(p, 'dim1'))],
        ['torch.transpose(x, d0, d1)', (xs, p) => fn('transpose')(xs[0], num(p, 'dim0'), num(p, 'dim1'))],
      ];
    case 'reshape':
      return [
        ['x.reshape(shape)', (xs, p) => xs[0].reshape(p.shape as number[])],
        ['torch.reshape(x, shape)', (xs, p) => fn('reshape')(xs[0], p.shape as number[])],
      ];
    case 'sum':
    case 'mean':
      return [
        [`x.${op}(dim, keepdim)`, (xs, p) => (p.dim === undefined ? xs[0][op]() : xs[0][op](dims(p), Boolean(p.keepdim)))],
        [`torch.${op}(x, dim, keepdim)`, (xs, p) => (p.dim === undefined ? fn(op)(xs[0]) : fn(op)(xs[0], dims(p), Boolean(p.keepdim)))],
      ];
    case 'max':
      return [['x.max(dim, keepdim)', (xs, p) => (p.dim === undefined ? xs[0].max() : xs[0].max(num(p, 'dim'), Boolean(p.keepdim)))]];
    case 'cat':
      return [['torch.cat(xs, dim)', (xs, p) => torch.cat(xs, num(p, 'dim'))]];
    case 'leaky_relu':
      return [
        ['F.leaky_relu', (xs, p) => (p.negative_slope === undefined ? F.leaky_relu(xs[0]) : F.leaky_relu(xs[0], { negative_slope: num(p, 'negative_slope') }))],
        ['nn.LeakyReLU', (xs, p) => new nn.LeakyReLU(p.negative_slope as number | undefined).forward(xs[0])],
      ];
    case 'elu':
      return [
        ['F.elu', (xs, p) => (p.alpha === undefined ? F.elu(xs[0]) : F.elu(xs[0], { alpha: num(p, 'alpha') }))],
        ['nn.ELU', (xs, p) => new nn.ELU(p.alpha as number | undefined).forward(xs[0])],
      ];
    case 'gelu': {
      const approx = (p: Record<string, unknown>) => p.approximate as 'none' | 'tanh' | undefined;
      return [
        ['F.gelu', (xs, p) => (approx(p) === undefined ? F.gelu(xs[0]) : F.gelu(xs[0], { approximate: approx(p) }))],
        ['nn.GELU', (xs, p) => new nn.GELU(approx(p)).forward(xs[0])],
      ];
    }
    case 'softplus':
      return [
        ['F.softplus', (xs, p) => (p.beta === undefined ? F.softplus(xs[0]) : F.softplus(xs[0], { beta: num(p, 'beta'), threshold: num(p, 'threshold') }))],
        ['nn.Softplus', (xs, p) => new nn.Softplus(p.beta as number | undefined, p.threshold as number | undefined).forward(xs[0])],
      ];
    case 'softmax':
    case 'log_softmax': {
      const Module = op === 'softmax' ? nn.Softmax : nn.LogSoftmax;
      return [
        [`x.${op}(dim)`, (xs, p) => xs[0][op](num(p, 'dim'))],
        [`torch.${op}(x, dim)`, (xs, p) => fn(op)(xs[0], num(p, 'dim'))],
        [`F.${op}(x, dim)`, (xs, p) => F[op](xs[0], num(p, 'dim'))],
        [`nn.${Module.name}(dim)`, (xs, p) => new Module(num(p, 'dim')).forward(xs[0])],
      ];
    }
    case 'linear':
      return [['F.linear', (xs) => (xs.length > 2 ? F.linear(xs[0], xs[1], xs[2]) : F.linear(xs[0], xs[1]))]];
    default:
      throw new Error(`no runner for op ${op}`);
  }
}

const fixture = loadFixture<{ cases: OpCase[] }>('ops.json');

/** Ops whose results are sums of several terms: compared with the normwise tolerance (fixture.ts). */
const SUMS = new Set(['matmul', 'linear', 'sum', 'mean', 'softmax', 'log_softmax']);

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

for (const device of DEVICES) {
  describe(`ops vs PyTorch (ops.json)${onDevice(device)}`, () => {
    useDevice(device);

    it('has the fixture cases', () => {
      expect(fixture.cases.length).toBeGreaterThan(150);
    });

    for (const c of fixture.cases.filter((c) => runsOn(device, ...c.inputs, c.out))) {
      it(c.name, async () => {
        for (const [how, run] of runners(c.op)) {
          const xs = c.inputs.map((t, i) => decode(t, { requires_grad: c.requires_grad[i], device }));
          const res = run(xs, c.params);
          const out = 'values' in res ? res.values : res;
          const outTol = SUMS.has(c.op) ? normwise(tolFor(c.out.dtype), c.out) : tolFor(c.out.dtype);
          expectClose(await host(out), c.out, outTol, `${how}: output`, { ref64: c.ref64?.out });
          if (c.indices) {
            expect('indices' in res, `${how}: returns { values, indices }`).toBe(true);
            expectIndices(await host((res as { indices: Tensor }).indices), c.indices, `${how}: indices`);
          }
          out.mul(decode(c.upstream, { device })).sum().backward();
          for (const [i, g] of c.grads.entries()) {
            if (g === null) {
              expect(xs[i].grad, `${how}: input ${i} needs no grad`).toBeNull();
            } else {
              // The gradient of a broadcast operand sums the upstream gradient over the broadcast dims.
              const summed = SUMS.has(c.op) || !sameShape(c.inputs[i].shape, c.out.shape);
              const tol = summed ? normwise(tolFor(g.dtype), g) : tolFor(g.dtype);
              expectClose(await host(xs[i].grad), g, tol, `${how}: grad of input ${i}`, { ref64: c.ref64?.grads?.[i] });
            }
          }
        }
      });
    }
  });
}

describe('dropout (random: properties, no fixture)', () => {
  const N = 100_000;

  it('eval mode (training: false) is the identity, gradient included', () => {
    const x = torch.randn([4, 5], { requires_grad: true });
    const y = F.dropout(x, { p: 0.4, training: false });
    expect(Array.from(y.toArray())).toEqual(Array.from(x.toArray()));
    const g = torch.randn([4, 5]);
    y.mul(g).sum().backward();
    expect(Array.from((x.grad as Tensor).toArray())).toEqual(Array.from(g.toArray()));
  });

  it('nn.Dropout in eval() is the identity; in train() it drops', () => {
    const x = torch.ones([1000]);
    const m = new nn.Dropout(0.5);
    m.eval();
    expect(m.training).toBe(false);
    expect(Array.from(m.forward(x).toArray())).toEqual(Array.from(x.toArray()));
    m.train();
    expect(m.training).toBe(true);
    const zeros = Array.from(m.forward(x).toArray()).filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(400);
    expect(zeros).toBeLessThan(600);
  });

  for (const p of [0.1, 0.3, 0.5, 0.8]) {
    it(`train mode p=${p}: fraction zeroed, survivors scaled by 1/(1-p), gradient masked the same way`, () => {
      torch.manual_seed(1);
      const x = torch.ones([N], { requires_grad: true });
      const y = F.dropout(x, { p });
      const out = Array.from(y.toArray());
      const zeroed = out.filter((v) => v === 0).length / N;
      // Binomial: standard deviation sqrt(p(1-p)/N) <= 0.0016; 0.01 is more than 6 of them.
      expect(Math.abs(zeroed - p)).toBeLessThan(0.01);
      const scale = 1 / (1 - p);
      for (const v of out) if (v !== 0) expect(Math.abs(v - scale)).toBeLessThanOrEqual(1e-6 * scale);
      y.sum().backward();
      const grad = Array.from((x.grad as Tensor).toArray());
      out.forEach((v, i) => {
        if (v === 0) expect(grad[i]).toBe(0);
        else expect(Math.abs(grad[i] - scale)).toBeLessThanOrEqual(1e-6 * scale);
      });
    });
  }

  it('p=0 keeps everything; p=1 zeroes everything', () => {
    const x = torch.randn([50]);
    expect(Array.from(F.dropout(x, { p: 0 }).toArray())).toEqual(Array.from(x.toArray()));
    expect(Array.from(F.dropout(x, { p: 1 }).toArray()).every((v) => v === 0)).toBe(true);
  });

  it('the mask is deterministic for a seed (default generator and a private one)', () => {
    const x = torch.ones([200]);
    torch.manual_seed(123);
    const a = Array.from(F.dropout(x, { p: 0.5 }).toArray());
    torch.manual_seed(123);
    const b = Array.from(F.dropout(x, { p: 0.5 }).toArray());
    expect(b).toEqual(a);
    torch.manual_seed(124);
    const c = Array.from(F.dropout(x, { p: 0.5 }).toArray());
    expect(c).not.toEqual(a);
    const g1 = new torch.Generator().manual_seed(7);
    const g2 = new torch.Generator().manual_seed(7);
    expect(Array.from(F.dropout(x, { p: 0.5, generator: g1 }).toArray())).toEqual(
      Array.from(F.dropout(x, { p: 0.5, generator: g2 }).toArray()),
    );
  });
});
