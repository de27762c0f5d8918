/**
 * Each optimizer step's kernel variant, scalars and flags, as engine/optim/algorithms.ts computes
 * them for float32 parameters (Python floats, rounded to float32 at each kernel). Apart from
 * optim.ts, so that the kernels do not load the optimizers.
 */
import { Adagrad, type AdagradOptions, Adam, type AdamOptions, AdamW, RMSprop, type RMSpropOptions, SGD, type SGDOptions } from '../../optim/algorithms';
import type { AdagradStep, AdamStep, RMSpropStep, SGDStep } from '../../optim/kernels';
import type { ParamState } from '../../optim/optimizer';
import { FLAG, HYPER, type OptimizerBuffers } from './optim';

/** What one parameter's step needs: the kernel variant, its state keys (PyTorch's), scalars and flags. */
export interface StepPlan {
  buffers: OptimizerBuffers;
  /** The ParamState keys of the state buffers, in binding order. */
  keys: string[];
  hyper: number[];
  flags: number;
  /** The state's step count after this step (the optimizers that count). */
  step?: number;
  /** A state buffer this step makes (SGD's momentum buffer, at its first step). */
  create?: string;
}

/** The FLAG bits of a step's boolean options (Adam's `decay` is a number, not the flag). */
function flagsOf(step: object): number {
  let bits = 0;
  for (const [name, bit] of Object.entries(FLAG)) if ((step as Record<string, unknown>)[name] === true) bits |= bit;
  return bits;
}

/** The plan of one parameter's step, from the optimizer, the parameter's state and its group's options. */
export function planStep(optimizer: object, state: ParamState, group: object, locked: boolean): StepPlan {
  const r = Math.fround;
  if (optimizer instanceof SGD) {
    const g = group as SGDOptions;
    const momentum = g.momentum !== 0;
    const first = state.momentum_buffer === undefined;
    const s: SGDStep = { maximize: g.maximize, decay: r(g.weight_decay) !== 0, first, nesterov: g.nesterov, wd: r(g.weight_decay),
      mom: r(g.momentum), damp: r(1 - g.dampening), lr: r(-g.lr) };
    return { buffers: { kind: 'sgd', state: momentum ? ['buf'] : [], locked }, keys: momentum ? ['momentum_buffer'] : [],
      hyper: HYPER.sgd.map((k) => s[k]), flags: flagsOf(s), create: momentum && first ? 'momentum_buffer' : undefined };
  }
  if (optimizer instanceof Adam || optimizer instanceof AdamW) {
    const g = group as AdamOptions;
    const [beta1, beta2] = g.betas;
    const step = (state.step as number) + 1;
    const decays = g.weight_decay !== 0;
    const decoupled = optimizer instanceof AdamW;
    const s: AdamStep = { maximize: g.maximize, l2: decays && !decoupled, decoupled: decays && decoupled, wd: r(g.weight_decay),
      decay: r(1 - g.lr * g.weight_decay), b1: r(beta1), b2: r(beta2), a1: r(1 - beta1), a2: r(1 - beta2), eps: r(g.eps),
      bc2Sqrt: r(Math.sqrt(1 - beta2 ** step)), stepSize: r(-(g.lr / (1 - beta1 ** step))) };
    const names = g.amsgrad ? ['m', 'v', 'vmax'] : ['m', 'v'];
    return { buffers: { kind: 'adam', state: names, locked }, keys: ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'].slice(0, names.length),
      hyper: HYPER.adam.map((k) => s[k]), flags: flagsOf(s), step };
  }
  if (optimizer instanceof RMSprop) {
    const g = group as RMSpropOptions;
    const s: RMSpropStep = { maximize: g.maximize, decay: g.weight_decay !== 0, wd: r(g.weight_decay), alpha: r(g.alpha),
      oneMinusAlpha: r(1 - g.alpha), eps: r(g.eps), mom: r(g.momentum), lr: r(-g.lr) };
    const names = ['sq', ...(g.centered ? ['gavg'] : []), ...(g.momentum > 0 ? ['buf'] : [])];
    const keys = { sq: 'square_avg', gavg: 'grad_avg', buf: 'momentum_buffer' } as Record<string, string>;
    return { buffers: { kind: 'rmsprop', state: names, locked }, keys: names.map((n) => keys[n]), hyper: HYPER.rmsprop.map((k) => s[k]),
      flags: flagsOf(s), step: (state.step as number) + 1 };
  }
  if (optimizer instanceof Adagrad) {
    const g = group as AdagradOptions;
    const step = (state.step as number) + 1;
    const s: AdagradStep = { maximize: g.maximize, decay: g.weight_decay !== 0, wd: r(g.weight_decay),
      clr: r(-(g.lr / (1 + (step - 1) * g.lr_decay))), eps: r(g.eps) };
    return { buffers: { kind: 'adagrad', state: ['sum'], locked }, keys: ['sum'], hyper: HYPER.adagrad.map((k) => s[k]), flags: flagsOf(s), step };
  }
  throw new Error(`${optimizer.constructor.name} has no WebGPU kernel: keep its parameters on the CPU`);
}
