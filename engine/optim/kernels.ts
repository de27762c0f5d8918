/**
 * The optimizers' element-wise updates (torch 1.13, single-tensor path): the reference definition
 * of their arithmetic. For float32 parameters every intermediate is rounded by r to float32 in
 * PyTorch's order of operations, so the updated weights agree with PyTorch bit for bit. Its
 * add(alpha=) and addcmul kernels are fused multiply-adds: `a + b·c` below is rounded once (exact
 * in double, then rounded by r). optim.wat computes the same for float32, four elements at a time.
 *
 * Scalars come cast to the parameter's dtype, as PyTorch casts them at each kernel; the flags
 * follow PyTorch's branches on the options as given.
 */
import type { Storage } from '../dtype';

export type Round = (x: number) => number;

export interface SGDStep {
  maximize: boolean;
  decay: boolean;
  /** The momentum buffer's first step (it starts as the gradient). */
  first: boolean;
  nesterov: boolean;
  wd: number;
  mom: number;
  /** 1 − dampening. */
  damp: number;
  /** −lr. */
  lr: number;
}

/** `buf` is the momentum buffer, null without momentum. */
export function sgdJs(p: Storage, grad: Storage, buf: Storage | null, s: SGDStep, r: Round): void {
  for (let i = 0; i < p.length; i++) {
    let d = s.maximize ? -grad[i] : grad[i];
    if (s.decay) d = r(d + s.wd * p[i]);
    if (buf) {
      buf[i] = s.first ? d : r(r(buf[i] * s.mom) + s.damp * d);
      d = s.nesterov ? r(d + s.mom * buf[i]) : buf[i];
    }
    p[i] = r(p[i] + s.lr * d);
  }
}

export interface AdamStep {
  maximize: boolean;
  /** Adam's weight decay, added to the gradient. */
  l2: boolean;
  /** AdamW's, applied to the weights. */
  decoupled: boolean;
  wd: number;
  /** 1 − lr·weight_decay. */
  decay: number;
  b1: number;
  b2: number;
  /** 1 − β1. */
  a1: number;
  /** 1 − β2. */
  a2: number;
  eps: number;
  /** √(1 − β2^step). */
  bc2Sqrt: number;
  /** −lr / (1 − β1^step). */
  stepSize: number;
}

/** `vmax` is max_exp_avg_sq, null without amsgrad. */
export function adamJs(p: Storage, grad: Storage, m: Storage, v: Storage, vmax: Storage | null,
  s: AdamStep, r: Round): void {
  for (let i = 0; i < p.length; i++) {
    let d = s.maximize ? -grad[i] : grad[i];
    if (s.l2) d = r(d + s.wd * p[i]);
    if (s.decoupled) p[i] = r(p[i] * s.decay);
    m[i] = r(r(m[i] * s.b1) + s.a1 * d);
    v[i] = r(r(v[i] * s.b2) + r(s.a2 * d) * d);
    let second = v[i];
    if (vmax) {
      vmax[i] = Math.max(vmax[i], v[i]);
      second = vmax[i];
    }
    const denom = r(r(r(Math.sqrt(second)) / s.bc2Sqrt) + s.eps);
    p[i] = r(p[i] + r(r(s.stepSize * m[i]) / denom));
  }
}

export interface RMSpropStep {
  maximize: boolean;
  decay: boolean;
  wd: number;
  alpha: number;
  /** 1 − alpha. */
  oneMinusAlpha: number;
  eps: number;
  mom: number;
  /** −lr. */
  lr: number;
}

/** `avgGrad` is grad_avg, null unless centered; `buf` the momentum buffer, null without momentum. */
export function rmspropJs(p: Storage, grad: Storage, sq: Storage, avgGrad: Storage | null,
  buf: Storage | null, s: RMSpropStep, r: Round): void {
  for (let i = 0; i < p.length; i++) {
    let d = s.maximize ? -grad[i] : grad[i];
    if (s.decay) d = r(d + s.wd * p[i]);
    sq[i] = r(r(sq[i] * s.alpha) + r(s.oneMinusAlpha * d) * d);
    let avg: number;
    if (avgGrad) {
      avgGrad[i] = r(r(avgGrad[i] * s.alpha) + s.oneMinusAlpha * d);
      avg = r(Math.sqrt(r(sq[i] - avgGrad[i] * avgGrad[i])));
    } else {
      avg = r(Math.sqrt(sq[i]));
    }
    avg = r(avg + s.eps);
    if (buf) {
      buf[i] = r(r(buf[i] * s.mom) + r(d / avg));
      p[i] = r(p[i] + s.lr * buf[i]);
    } else {
      p[i] = r(p[i] + r(r(s.lr * d) / avg));
    }
  }
}

export interface AdagradStep {
  maximize: boolean;
  decay: boolean;
  wd: number;
  /** −lr / (1 + (step − 1)·lr_decay). */
  clr: number;
  eps: number;
}

export function adagradJs(p: Storage, grad: Storage, sum: Storage, s: AdagradStep, r: Round): void {
  for (let i = 0; i < p.length; i++) {
    let d = s.maximize ? -grad[i] : grad[i];
    if (s.decay) d = r(d + s.wd * p[i]);
    sum[i] = r(sum[i] + d * d);
    const std = r(r(Math.sqrt(sum[i])) + s.eps);
    p[i] = r(p[i] + r(r(s.clr * d) / std));
  }
}
