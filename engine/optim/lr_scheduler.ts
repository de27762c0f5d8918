import type { Optimizer } from './optimizer';

type AnyOptimizer = Optimizer<{ lr: number }>;

/**
 * PyTorch's chainable schedulers: each step() derives the new lr of every param group from its
 * current lr. Constructing one performs the initial step (last_epoch 0), as in PyTorch.
 */
abstract class LRScheduler {
  last_epoch = -1;
  readonly base_lrs: number[];
  protected step_count = 0;
  private last_lr: number[] = [];

  constructor(readonly optimizer: AnyOptimizer) {
    this.base_lrs = optimizer.param_groups.map((g) => g.lr);
    this.step();
  }

  protected abstract nextLr(lr: number, baseLr: number): number;

  step(): void {
    this.step_count++;
    this.last_epoch++;
    this.optimizer.param_groups.forEach((g, i) => {
      g.lr = this.nextLr(g.lr, this.base_lrs[i]);
    });
    this.last_lr = this.optimizer.param_groups.map((g) => g.lr);
  }

  get_last_lr(): number[] {
    return this.last_lr.slice();
  }
}

export class StepLR extends LRScheduler {
  readonly step_size: number;
  readonly gamma: number;

  constructor(optimizer: AnyOptimizer, { step_size, gamma = 0.1 }: { step_size: number; gamma?: number }) {
    super(optimizer);
    this.step_size = step_size;
    this.gamma = gamma;
  }

  protected nextLr(lr: number): number {
    // The base constructor's initial step runs before the fields are set: epoch 0 keeps lr.
    return this.last_epoch === 0 || this.last_epoch % this.step_size !== 0 ? lr : lr * this.gamma;
  }
}

export class ExponentialLR extends LRScheduler {
  readonly gamma: number;

  constructor(optimizer: AnyOptimizer, { gamma }: { gamma: number }) {
    super(optimizer);
    this.gamma = gamma;
  }

  protected nextLr(lr: number): number {
    return this.last_epoch === 0 ? lr : lr * this.gamma;
  }
}

export class CosineAnnealingLR extends LRScheduler {
  readonly T_max: number;
  readonly eta_min: number;

  constructor(optimizer: AnyOptimizer, { T_max, eta_min = 0 }: { T_max: number; eta_min?: number }) {
    super(optimizer);
    this.T_max = T_max;
    this.eta_min = eta_min;
  }

  protected nextLr(lr: number, baseLr: number): number {
    const { last_epoch: t, T_max, eta_min } = this;
    if (t === 0) return lr;
    const period = 2 * T_max;
    if ((((t - 1 - T_max) % period) + period) % period === 0) {
      return lr + ((baseLr - eta_min) * (1 - Math.cos(Math.PI / T_max))) / 2;
    }
    return ((1 + Math.cos((Math.PI * t) / T_max)) / (1 + Math.cos((Math.PI * (t - 1)) / T_max))) * (lr - eta_min) + eta_min;
  }
}
