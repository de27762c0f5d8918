import { currentScope, type ScopeRef } from '../device';
import type { Storage } from '../dtype';
import type { NestedArray, Tensor } from '../tensor';
import { tensor, zeros_like } from '../ops/index';

export type ParamGroup<O> = O & { params: Tensor[]; lr: number };
export type Params<O> = Tensor[] | (Partial<O> & { params: Tensor[] })[];
export type ParamState = Record<string, Tensor | number>;

/**
 * The part every optimizer shares: param groups with defaults, per-parameter state, zero_grad,
 * state_dict in PyTorch's layout, and locked elements. Subclasses update one parameter in place.
 */
export abstract class Optimizer<O extends { lr: number }> {
  readonly param_groups: ParamGroup<O>[];
  readonly state = new Map<Tensor, ParamState>();
  /**
   * The tidy() scope this optimizer was made in, which owns its state on a device. PyTorch frees a
   * replaced optimizer's state when its last reference goes (`optimizer = Adam(...)` every step, as
   * in the seed's loop); JavaScript has no such moment, and a release() method would be a name
   * PyTorch's loops lack. So the state lives as long as the scope, like any tensor made there: an
   * optimizer made inside a step's tidy() is freed with that step; one made outside keeps its
   * state (until garbage-collected).
   */
  readonly scope: ScopeRef | null = currentScope();

  constructor(params: Params<O>, defaults: O) {
    const groups = params.length > 0 && !('params' in params[0]) ? [{ params: params as Tensor[] }] : (params as (Partial<O> & { params: Tensor[] })[]);
    if (groups.every((g) => g.params.length === 0)) throw new Error('the optimizer got an empty parameter list');
    this.param_groups = groups.map((g) => ({ ...defaults, ...g, params: [...g.params] }));
    for (const g of this.param_groups) {
      if (!(g.lr >= 0)) throw new Error(`invalid learning rate: ${g.lr}`);
    }
  }

  protected abstract initState(param: Tensor, group: ParamGroup<O>): ParamState;

  /** Updates `param` in place from its gradient; `state` is the parameter's own. */
  protected abstract update(param: Tensor, grad: Storage, state: ParamState, group: ParamGroup<O>): void;

  step(): void {
    for (const group of this.param_groups) {
      for (const p of group.params) {
        if (p.grad === null) continue;
        let state = this.state.get(p);
        if (!state) {
          state = this.initState(p, group);
          this.state.set(p, state);
        }
        // A parameter on a device (WebGPU): its backend updates it and its state with one fused
        // kernel (engine/backends/webgpu/optim.ts); it replays `update` on the host after a failure.
        const deviceStep = p.backend.optimizerStep;
        if (deviceStep) {
          const own = state;
          deviceStep(this, p, own, group, (grad, g) => this.update(p, grad, own, g));
          continue;
        }
        const locked = p.locked;
        const before = locked ? p.data.slice() : null;
        this.update(p, p.grad.data, state, group);
        if (locked && before) for (let i = 0; i < locked.length; i++) if (locked[i]) p.data[i] = before[i];
      }
    }
  }

  zero_grad(set_to_none = true): void {
    for (const group of this.param_groups) {
      for (const p of group.params) {
        if (p.grad === null) continue;
        if (set_to_none) p.grad = null;
        else p.grad = zeros_like(p.grad);
      }
    }
  }

  /** PyTorch's layout, as plain JSON: parameters by index, tensors as nested arrays. */
  state_dict(): { state: Record<number, Record<string, NestedArray>>; param_groups: Record<string, unknown>[] } {
    const index = new Map<Tensor, number>();
    const param_groups = this.param_groups.map(({ params, ...options }) => ({
      ...options,
      params: params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p) as number;
      }),
    }));
    const state: Record<number, Record<string, NestedArray>> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      state[i] = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, typeof v === 'number' ? v : v.tolist()]));
    }
    return { state, param_groups };
  }

  load_state_dict(dict: ReturnType<Optimizer<O>['state_dict']>): void {
    if (dict.param_groups.length !== this.param_groups.length) {
      throw new Error(`the saved optimizer has ${dict.param_groups.length} parameter groups, this one ${this.param_groups.length}`);
    }
    const params = this.param_groups.flatMap((g) => g.params);
    dict.param_groups.forEach((saved, gi) => {
      const { params: savedParams, ...options } = saved as { params: number[] };
      if (savedParams.length !== this.param_groups[gi].params.length) {
        throw new Error(`parameter group ${gi} has ${savedParams.length} parameters in the saved state, ${this.param_groups[gi].params.length} here`);
      }
      Object.assign(this.param_groups[gi], options);
    });
    this.state.clear();
    for (const [key, saved] of Object.entries(dict.state)) {
      const p = params[Number(key)];
      if (!p) throw new Error(`the saved optimizer state names parameter ${key}, which does not exist`);
      this.state.set(p, Object.fromEntries(Object.entries(saved).map(([k, v]) => [k, typeof v === 'number' ? v : tensor(v, { dtype: p.dtype })])));
    }
  }
}
