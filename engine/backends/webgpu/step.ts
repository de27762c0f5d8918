/**
 * Each optimizer step's kernel variant, scalars and flags: the scalars from engine/optim's own
 * *Step helpers for float32 parameters, so the GPU step uses exactly the CPU step's numbers. Apart from
 * optim.ts, so that the kernels do not load the optimizers.
 */
import {
  Adagrad, type AdagradOptions, adagradStep, Adam, type AdamOptions, adamStep, AdamW, RMSprop, type RMSpropOptions, rmspropStep,
  SGD, type SGDOptions, sgdStep,
} from '../../optim/algorithms';
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
    const s = sgdStep(g, first, r);
    return { buffers: { kind: 'sgd', state: momentum ? ['buf'] : [], locked }, keys: momentum ? ['momentum_buffer'] : [],
      hyper: HYPER.sgd.map((k) => s[k]), flags: flagsOf(s), create: momentum && first ? 'momentum_buffer' : undefined };
  }
  if (optimizer instanceof Adam || optimizer instanceof AdamW) {
    const g = group as AdamOptions;
    const step = (state.step as number) + 1;
    const s = adamStep(g, step, optimizer instanceof AdamW, r);
    const names = g.amsgrad ? ['m', 'v', 'vmax'] : ['m', 'v'];
    return { buffers: { kind: 'adam', state: names, locked }, keys: ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'].slice(0, names.length),
      hyper: HYPER.adam.map((k) => s[k]), flags: flagsOf(s), step };
  }
  if (optimizer instanceof RMSprop) {
    const g = group as RMSpropOptions;
    const s = rmspropStep(g, r);
    const names = ['sq', ...(g.centered ? ['gavg'] : []), ...(g.momentum > 0 ? ['buf'] : [])];
    const keys = { sq: 'square_avg', gavg: 'grad_avg', buf: 'momentum_buffer' } as Record<string, string>;
    return { buffers: { kind: 'rmsprop', state: names, locked }, keys: names.map((n) => keys[n]), hyper: HYPER.rmsprop.map((k) => s[k]),
      flags: flagsOf(s), step: (state.step as number) + 1 };
  }
  if (optimizer instanceof Adagrad) {
    const g = group as AdagradOptions;
    const step = (state.step as number) + 1;
    const s = adagradStep(g, step, r);
    return { buffers: { kind: 'adagrad', state: ['sum'], locked }, keys: ['sum'], hyper: HYPER.adagrad.map((k) => s[k]), flags: flagsOf(s), step };
  }
  throw new Error(`${optimizer.constructor.name} has no WebGPU kernel: keep its parameters on the CPU`);
}
