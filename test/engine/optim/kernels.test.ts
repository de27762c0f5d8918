/**
 * The WebAssembly SIMD updates (optim.wat) against their JavaScript reference (kernels.ts): the
 * same float32 bits for every flag combination, over values that reach each corner of float32
 * arithmetic (±0, gradients where eps dominates, subnormals, overflow, NaN, ±inf), over several
 * steps, with lengths around the chunk and vector sizes.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../../../engine/index';
import type { Tensor } from '../../../engine/index';
import { adagradJs, adamJs, rmspropJs, sgdJs, type AdagradStep, type AdamStep, type RMSpropStep,
  type SGDStep } from '../../../engine/optim/kernels';
import { adagradWasm, adamWasm, rmspropWasm, sgdWasm } from '../../../engine/optim/optim_wasm';
import { expectSameBits, float32Values as values } from '../float32_bits';

const f = Math.fround;
const LENGTHS = [1, 3, 4, 5, 37, 4096, 4096 * 2 + 7];

/** Every combination of the given boolean flags. */
function combinations<K extends string>(names: readonly K[]): Record<K, boolean>[] {
  return Array.from({ length: 2 ** names.length }, (_, bits) =>
    Object.fromEntries(names.map((n, i) => [n, ((bits >> i) & 1) === 1])) as Record<K, boolean>);
}

/**
 * Runs `steps` updates on two copies of the same parameter and state, one through each path,
 * and compares every array after each step.
 */
function compare(names: string[], arrays: (Float32Array | null)[], steps: number,
  update: (wasm: boolean, arrays: (Float32Array | null)[], step: number) => boolean | void): void {
  const twin = arrays.map((a) => a && a.slice());
  for (let step = 1; step <= steps; step++) {
    expect(update(true, arrays, step)).toBe(true);
    update(false, twin, step);
    arrays.forEach((a, i) => a && expectSameBits(a, twin[i] as Float32Array, `${names[i]} after step ${step}`));
  }
}

/** Scalar sets: PyTorch's defaults, large steps, and ones that divide by zero or round to zero. */
const SCALARS = [
  { lr: 1e-3, wd: 1e-2, eps: 1e-8 },
  { lr: 0.09, wd: 0.5, eps: 1e-3 },
  { lr: 0, wd: 1e-50, eps: 0 },
];

describe('optimizer updates: WebAssembly SIMD equals the JavaScript reference bit for bit', () => {
  it('SGD', () => {
    let seed = 1;
    for (const flags of combinations(['maximize', 'decay', 'momentum', 'nesterov', 'first'] as const)) {
      for (const { lr, wd } of SCALARS) {
        for (const length of LENGTHS) {
          const arrays = [values(length, seed++), values(length, seed++), flags.momentum ? values(length, seed++) : null];
          const s: SGDStep = { maximize: flags.maximize, decay: flags.decay, first: flags.first,
            nesterov: flags.nesterov, wd: f(wd), mom: f(0.9), damp: f(1 - 0.1), lr: f(-lr) };
          compare(['param', 'grad', 'momentum_buffer'], arrays, 3, (wasm, [p, g, buf], step) => {
            const sk = { ...s, first: s.first && step === 1 };
            return wasm ? sgdWasm(p!, g!, buf, sk) : sgdJs(p!, g!, buf, sk, f);
          });
        }
      }
    }
  });

  it('Adam and AdamW', () => {
    let seed = 1000;
    for (const flags of combinations(['maximize', 'decoupled', 'decay', 'amsgrad'] as const)) {
      for (const { lr, wd, eps } of SCALARS) {
        for (const [beta1, beta2] of [[0.9, 0.999], [0.5, 0.7]]) {
          for (const length of LENGTHS) {
            const arrays = [values(length, seed++), values(length, seed++), values(length, seed++),
              values(length, seed++, true), flags.amsgrad ? values(length, seed++, true) : null];
            compare(['param', 'grad', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'], arrays, 3, (wasm, [p, g, m, v, vmax], step) => {
              const s: AdamStep = { maximize: flags.maximize, l2: flags.decay && !flags.decoupled,
                decoupled: flags.decay && flags.decoupled, wd: f(wd), decay: f(1 - lr * wd),
                b1: f(beta1), b2: f(beta2), a1: f(1 - beta1), a2: f(1 - beta2), eps: f(eps),
                bc2Sqrt: f(Math.sqrt(1 - beta2 ** step)), stepSize: f(-(lr / (1 - beta1 ** step))) };
              return wasm ? adamWasm(p!, g!, m!, v!, vmax, s) : adamJs(p!, g!, m!, v!, vmax, s, f);
            });
          }
        }
      }
    }
  });

  it('RMSprop', () => {
    let seed = 2000;
    for (const flags of combinations(['maximize', 'decay', 'centered', 'momentum'] as const)) {
      for (const { lr, wd, eps } of SCALARS) {
        for (const alpha of [0.99, 0.5]) {
          for (const length of LENGTHS) {
            const arrays = [values(length, seed++), values(length, seed++), values(length, seed++, true),
              flags.centered ? values(length, seed++) : null, flags.momentum ? values(length, seed++) : null];
            const s: RMSpropStep = { maximize: flags.maximize, decay: flags.decay, wd: f(wd),
              alpha: f(alpha), oneMinusAlpha: f(1 - alpha), eps: f(eps), mom: f(0.9), lr: f(-lr) };
            compare(['param', 'grad', 'square_avg', 'grad_avg', 'momentum_buffer'], arrays, 3, (wasm, [p, g, sq, ga, buf]) =>
              wasm ? rmspropWasm(p!, g!, sq!, ga, buf, s) : rmspropJs(p!, g!, sq!, ga, buf, s, f));
          }
        }
      }
    }
  });

  it('Adagrad', () => {
    let seed = 3000;
    for (const flags of combinations(['maximize', 'decay'] as const)) {
      for (const { lr, wd, eps } of [...SCALARS, { lr: 0.1, wd: 0, eps: 1e-10 }]) {
        for (const length of LENGTHS) {
          const arrays = [values(length, seed++), values(length, seed++), values(length, seed++, true)];
          compare(['param', 'grad', 'sum'], arrays, 3, (wasm, [p, g, sum], step) => {
            const s: AdagradStep = { maximize: flags.maximize, decay: flags.decay, wd: f(wd),
              clr: f(-(lr / (1 + (step - 1) * 0.01))), eps: f(eps) };
            return wasm ? adagradWasm(p!, g!, sum!, s) : adagradJs(p!, g!, sum!, s, f);
          });
        }
      }
    }
  });

  it('leaves float64 parameters to the JavaScript path', () => {
    const p = new Float64Array(8);
    const s: AdagradStep = { maximize: false, decay: false, wd: 0, clr: -0.1, eps: 1e-10 };
    expect(adagradWasm(p, new Float64Array(8), new Float64Array(8), s)).toBe(false);
    expect(adagradWasm(new Float32Array(8), new Float64Array(8), new Float32Array(8), s)).toBe(false);
  });

  it('optimizers on a large parameter (wasm) equal them on its small pieces (JavaScript), locked elements kept', () => {
    const size = 300;
    const piece = 30; // under algorithms.ts's WASM_MIN
    const optimizers: [string, (params: Tensor[]) => { step(): void }][] = [
      ['SGD', (ps) => new torch.optim.SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 0.01 })],
      ['Adam', (ps) => new torch.optim.Adam(ps, { lr: 0.1, weight_decay: 0.01, amsgrad: true })],
      ['AdamW', (ps) => new torch.optim.AdamW(ps, { lr: 0.1, maximize: true })],
      ['RMSprop', (ps) => new torch.optim.RMSprop(ps, { momentum: 0.5, centered: true, weight_decay: 0.01 })],
      ['Adagrad', (ps) => new torch.optim.Adagrad(ps, { lr_decay: 0.1, initial_accumulator_value: 0.1 })],
    ];
    for (const [name, make] of optimizers) {
      const init = values(size, 1);
      const locked = Uint8Array.from(init, (_, i) => +(i % 7 === 0));
      const whole = torch.tensor(Array.from(init), { requires_grad: true });
      whole.locked = locked;
      const pieces = Array.from({ length: size / piece }, (_, k) => {
        const t = torch.tensor(Array.from(init.subarray(k * piece, (k + 1) * piece)), { requires_grad: true });
        t.locked = locked.slice(k * piece, (k + 1) * piece);
        return t;
      });
      const wholeOpt = make([whole]);
      const piecesOpt = make(pieces);
      for (let step = 1; step <= 3; step++) {
        const grad = values(size, 100 + step);
        whole.grad = torch.tensor(Array.from(grad));
        pieces.forEach((t, k) => (t.grad = torch.tensor(Array.from(grad.subarray(k * piece, (k + 1) * piece)))));
        wholeOpt.step();
        piecesOpt.step();
        const joined = new Float32Array(size);
        pieces.forEach((t, k) => joined.set(t.data, k * piece));
        expectSameBits(whole.data as Float32Array, joined, `${name} after step ${step}`);
        locked.forEach((l, i) => l && expect(Object.is(whole.data[i], init[i]), `${name}: locked element ${i}`).toBe(true));
      }
    }
  });
});
