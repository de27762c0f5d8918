/**
 * PyTorch's optimizers (torch 1.13, single-tensor path), element by element. For float32
 * parameters every intermediate is rounded to float32 in PyTorch's order of operations, so the
 * updated weights agree with PyTorch bit for bit. Its add(alpha=) and addcmul kernels are fused
 * multiply-adds: `a + b·c` below is rounded once (exact in double, then rounded by r).
 */
import { rounding, type Storage } from '../dtype';
import type { Tensor } from '../tensor';
import { full, zeros_like } from '../ops/index';
import { Optimizer, type ParamGroup, type Params, type ParamState } from './optimizer';

const buffer = (state: ParamState, key: string): Storage => (state[key] as Tensor).data;

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weight_decay: number;
  maximize: boolean;
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
    const p = param.data;
    const r = rounding(param.dtype);
    const wd = r(g.weight_decay);
    const mom = r(g.momentum);
    const damp = r(1 - g.dampening);
    const lr = r(-g.lr);
    const first = state.momentum_buffer === undefined;
    if (g.momentum !== 0 && first) state.momentum_buffer = zeros_like(param);
    const buf = g.momentum !== 0 ? buffer(state, 'momentum_buffer') : null;
    for (let i = 0; i < p.length; i++) {
      let d = g.maximize ? -grad[i] : grad[i];
      if (wd !== 0) d = r(d + wd * p[i]);
      if (buf) {
        buf[i] = first ? d : r(r(buf[i] * mom) + damp * d);
        d = g.nesterov ? r(d + mom * buf[i]) : buf[i];
      }
      p[i] = r(p[i] + lr * d);
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

/** Adam, and AdamW when `decoupled` (weight decay applied to the weights, not the gradient). */
class AdamBase extends Optimizer<AdamOptions> {
  constructor(params: Params<AdamOptions>, defaults: AdamOptions, private readonly decoupled: boolean) {
    super(params, defaults);
  }

  protected initState(param: Tensor, group: ParamGroup<AdamOptions>): ParamState {
    const state: ParamState = { step: 0, exp_avg: zeros_like(param), exp_avg_sq: zeros_like(param) };
    if (group.amsgrad) state.max_exp_avg_sq = zeros_like(param);
    return state;
  }

  protected update(param: Tensor, grad: Storage, state: ParamState, g: ParamGroup<AdamOptions>): void {
    const p = param.data;
    const r = rounding(param.dtype);
    const [beta1, beta2] = g.betas;
    const step = (state.step as number) + 1;
    state.step = step;
    const m = buffer(state, 'exp_avg');
    const v = buffer(state, 'exp_avg_sq');
    const vmax = g.amsgrad ? buffer(state, 'max_exp_avg_sq') : null;
    // Scalars as PyTorch computes them: Python floats, cast to the tensor's dtype at each kernel.
    const stepSize = r(-(g.lr / (1 - beta1 ** step)));
    const bc2Sqrt = r(Math.sqrt(1 - beta2 ** step));
    const b1 = r(beta1);
    const b2 = r(beta2);
    const a1 = r(1 - beta1);
    const a2 = r(1 - beta2);
    const eps = r(g.eps);
    const wd = r(g.weight_decay);
    const decay = r(1 - g.lr * g.weight_decay);
    for (let i = 0; i < p.length; i++) {
      let d = g.maximize ? -grad[i] : grad[i];
      if (g.weight_decay !== 0) {
        if (this.decoupled) p[i] = r(p[i] * decay);
        else d = r(d + wd * p[i]);
      }
      m[i] = r(r(m[i] * b1) + a1 * d);
      v[i] = r(r(v[i] * b2) + r(a2 * d) * d);
      let second = v[i];
      if (vmax) {
        vmax[i] = Math.max(vmax[i], v[i]);
        second = vmax[i];
      }
      const denom = r(r(r(Math.sqrt(second)) / bc2Sqrt) + eps);
      p[i] = r(p[i] + r(r(stepSize * m[i]) / denom));
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
    const p = param.data;
    const r = rounding(param.dtype);
    state.step = (state.step as number) + 1;
    const sq = buffer(state, 'square_avg');
    const avgGrad = g.centered ? buffer(state, 'grad_avg') : null;
    const buf = g.momentum > 0 ? buffer(state, 'momentum_buffer') : null;
    const alpha = r(g.alpha);
    const oneMinusAlpha = r(1 - g.alpha);
    const eps = r(g.eps);
    const wd = r(g.weight_decay);
    const mom = r(g.momentum);
    const lr = r(-g.lr);
    for (let i = 0; i < p.length; i++) {
      let d = g.maximize ? -grad[i] : grad[i];
      if (g.weight_decay !== 0) d = r(d + wd * p[i]);
      sq[i] = r(r(sq[i] * alpha) + r(oneMinusAlpha * d) * d);
      let avg: number;
      if (avgGrad) {
        avgGrad[i] = r(r(avgGrad[i] * alpha) + oneMinusAlpha * d);
        avg = r(Math.sqrt(r(sq[i] - avgGrad[i] * avgGrad[i])));
      } else {
        avg = r(Math.sqrt(sq[i]));
      }
      avg = r(avg + eps);
      if (buf) {
        buf[i] = r(r(buf[i] * mom) + r(d / avg));
        p[i] = r(p[i] + lr * buf[i]);
      } else {
        p[i] = r(p[i] + r(r(lr * d) / avg));
      }
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

export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: Params<AdagradOptions>, options: Partial<AdagradOptions> = {}) {
    super(params, { lr: 1e-2, lr_decay: 0, weight_decay: 0, initial_accumulator_value: 0, eps: 1e-10, maximize: false, ...options });
  }

  protected initState(param: Tensor, group: ParamGroup<AdagradOptions>): ParamState {
    return { step: 0, sum: full(param.shape, group.initial_accumulator_value, { dtype: param.dtype }) };
  }

  protected update(param: Tensor, grad: Storage, state: ParamState, g: ParamGroup<AdagradOptions>): void {
    const p = param.data;
    const r = rounding(param.dtype);
    const step = (state.step as number) + 1;
    state.step = step;
    const sum = buffer(state, 'sum');
    const clr = r(-(g.lr / (1 + (step - 1) * g.lr_decay)));
    const eps = r(g.eps);
    const wd = r(g.weight_decay);
    for (let i = 0; i < p.length; i++) {
      let d = g.maximize ? -grad[i] : grad[i];
      if (g.weight_decay !== 0) d = r(d + wd * p[i]);
      sum[i] = r(sum[i] + d * d);
      const std = r(r(Math.sqrt(sum[i])) + eps);
      p[i] = r(p[i] + r(r(clr * d) / std));
    }
  }
}
