/**
 * PyTorch's optimizers (torch 1.13, single-tensor path): options, state and each step's scalars,
 * as PyTorch computes them (Python floats, cast to the tensor's dtype at each kernel). The
 * element-wise updates are kernels.ts's, on the WebAssembly SIMD twins in optim_wasm.ts for
 * float32 where available (the same bits).
 */
import { rounding, type Storage } from '../dtype';
import type { Tensor } from '../tensor';
import { full, zeros_like } from '../ops/index';
import { adagradJs, type AdagradStep, adamJs, type AdamStep, rmspropJs, type RMSpropStep, type Round,
  sgdJs, type SGDStep } from './kernels';
import { Optimizer, type ParamGroup, type Params, type ParamState } from './optimizer';
import { adagradWasm, adamWasm, rmspropWasm, sgdWasm } from './optim_wasm';

const buffer = (state: ParamState, key: string): Storage => (state[key] as Tensor).data;

/**
 * Below this many elements the JavaScript loop beats the fixed cost of a call into wasm; each
 * update runs on its wasm twin where that runs (float32, SIMD) and pays, else in JavaScript.
 */
const WASM_MIN = 32;

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weight_decay: number;
  maximize: boolean;
}

/** One step's scalars, cast by r; `first`: the momentum buffer's first step. */
export function sgdStep(g: SGDOptions, first: boolean, r: Round): SGDStep {
  const wd = r(g.weight_decay);
  return { maximize: g.maximize, decay: wd !== 0, first, nesterov: g.nesterov, wd, mom: r(g.momentum),
    damp: r(1 - g.dampening), lr: r(-g.lr) };
}

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Params<SGDOptions>, options: Partial<SGDOptions> & { lr: number }) {
    super(params, { momentum: 0, dampening: 0, nesterov: false, weight_decay: 0, maximize: false, ...options });
    for (const g of this.param_groups) {
      if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new Error('Nesterov momentum requires a momentum and zero dampening');
    }
  }

  protected initState(): ParamState {
    return {};
  }

  protected update(param: Tensor, grad: Storage, state: ParamState, g: ParamGroup<SGDOptions>): void {
    const r = rounding(param.dtype);
    const first = state.momentum_buffer === undefined;
    if (g.momentum !== 0 && first) state.momentum_buffer = zeros_like(param);
    const buf = g.momentum !== 0 ? buffer(state, 'momentum_buffer') : null;
    const s = sgdStep(g, first, r);
    if (grad.length < WASM_MIN || !sgdWasm(param.data, grad, buf, s)) {
      sgdJs(param.data, grad, buf, s, r);
    }
  }
}

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weight_decay: number;
  amsgrad: boolean;
  maximize: boolean;
}

/** Step `step`'s scalars (AdamW's when `decoupled`), cast by r. */
export function adamStep(g: AdamOptions, step: number, decoupled: boolean, r: Round): AdamStep {
  const beta1 = g.betas[0];
  const beta2 = g.betas[1];
  const decays = g.weight_decay !== 0;
  return {
    maximize: g.maximize, l2: decays && !decoupled, decoupled: decays && decoupled,
    wd: r(g.weight_decay), decay: r(1 - g.lr * g.weight_decay), b1: r(beta1), b2: r(beta2),
    a1: r(1 - beta1), a2: r(1 - beta2), eps: r(g.eps), bc2Sqrt: r(Math.sqrt(1 - beta2 ** step)),
    stepSize: r(-(g.lr / (1 - beta1 ** step))),
  };
}

/** Adam, and AdamW when `decoupled` (weight decay applied to the weights, not the gradient). */
class AdamBase extends Optimizer<AdamOptions> {
  /**
   * The scalars last computed in this step(), with what they depend on: a group's parameters
   * share them, and their two powers cost more than a small parameter's whole update. Cleared at
   * every step(), since the options may change between steps (a scheduler's lr).
   */
  #scalars: { group: ParamGroup<AdamOptions>; step: number; r: Round; values: AdamStep } | null = null;

  constructor(params: Params<AdamOptions>, defaults: AdamOptions, private readonly decoupled: boolean) {
    super(params, defaults);
  }

  override step(): void {
    this.#scalars = null;
    super.step();
  }

  protected initState(param: Tensor, group: ParamGroup<AdamOptions>): ParamState {
    const state: ParamState = { step: 0, exp_avg: zeros_like(param), exp_avg_sq: zeros_like(param) };
    if (group.amsgrad) state.max_exp_avg_sq = zeros_like(param);
    return state;
  }

  protected update(param: Tensor, grad: Storage, state: ParamState, g: ParamGroup<AdamOptions>): void {
    const r = rounding(param.dtype);
    const step = (state.step as number) + 1;
    state.step = step;
    const m = buffer(state, 'exp_avg');
    const v = buffer(state, 'exp_avg_sq');
    const vmax = g.amsgrad ? buffer(state, 'max_exp_avg_sq') : null;
    let scalars = this.#scalars;
    if (scalars === null || scalars.group !== g || scalars.step !== step || scalars.r !== r) {
      scalars = this.#scalars = { group: g, step, r, values: adamStep(g, step, this.decoupled, r) };
    }
    const s = scalars.values;
    if (grad.length < WASM_MIN || !adamWasm(param.data, grad, m, v, vmax, s)) {
      adamJs(param.data, grad, m, v, vmax, s, r);
    }
  }
}

export class Adam extends AdamBase {
  constructor(params: Params<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false, maximize: false, ...options }, false);
  }
}

export class AdamW extends AdamBase {
  constructor(params: Params<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 1e-2, amsgrad: false, maximize: false, ...options }, true);
  }
}

export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weight_decay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

/** One step's scalars, cast by r. */
export function rmspropStep(g: RMSpropOptions, r: Round): RMSpropStep {
  return {
    maximize: g.maximize, decay: g.weight_decay !== 0, wd: r(g.weight_decay), alpha: r(g.alpha),
    oneMinusAlpha: r(1 - g.alpha), eps: r(g.eps), mom: r(g.momentum), lr: r(-g.lr),
  };
}

export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: Params<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    super(params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weight_decay: 0, momentum: 0, centered: false, maximize: false, ...options });
  }

  protected initState(param: Tensor, group: ParamGroup<RMSpropOptions>): ParamState {
    const state: ParamState = { step: 0, square_avg: zeros_like(param) };
    if (group.momentum > 0) state.momentum_buffer = zeros_like(param);
    if (group.centered) state.grad_avg = zeros_like(param);
    return state;
  }

  protected update(param: Tensor, grad: Storage, state: ParamState, g: ParamGroup<RMSpropOptions>): void {
    const r = rounding(param.dtype);
    state.step = (state.step as number) + 1;
    const sq = buffer(state, 'square_avg');
    const avgGrad = g.centered ? buffer(state, 'grad_avg') : null;
    const buf = g.momentum > 0 ? buffer(state, 'momentum_buffer') : null;
    const s = rmspropStep(g, r);
    if (grad.length < WASM_MIN || !rmspropWasm(param.data, grad, sq, avgGrad, buf, s)) {
      rmspropJs(param.data, grad, sq, avgGrad, buf, s, r);
    }
  }
}

export interface AdagradOptions {
  lr: number;
  lr_decay: number;
  weight_decay: number;
  initial_accumulator_value: number;
  eps: number;
  maximize: boolean;
}

/** Step `step`'s scalars, cast by r. */
export function adagradStep(g: AdagradOptions, step: number, r: Round): AdagradStep {
  return {
    maximize: g.maximize, decay: g.weight_decay !== 0, wd: r(g.weight_decay),
    clr: r(-(g.lr / (1 + (step - 1) * g.lr_decay))), eps: r(g.eps),
  };
}

export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: Params<AdagradOptions>, options: Partial<AdagradOptions> = {}) {
    super(params, { lr: 1e-2, lr_decay: 0, weight_decay: 0, initial_accumulator_value: 0, eps: 1e-10, maximize: false, ...options });
  }

  protected initState(param: Tensor, group: ParamGroup<AdagradOptions>): ParamState {
    return { step: 0, sum: full(param.shape, group.initial_accumulator_value, { dtype: param.dtype }) };
  }

  protected update(param: Tensor, grad: Storage, state: ParamState, g: ParamGroup<AdagradOptions>): void {
    const r = rounding(param.dtype);
    const step = (state.step as number) + 1;
    state.step = step;
    const sum = buffer(state, 'sum');
    const s = adagradStep(g, step, r);
    if (grad.length < WASM_MIN || !adagradWasm(param.data, grad, sum, s)) {
      adagradJs(param.data, grad, sum, s, r);
    }
  }
}
