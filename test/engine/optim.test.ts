/**
 * Optimizers and LR schedulers against PyTorch (test/fixtures/optim.json). Every case runs 20
 * steps from the fixture's initial parameters with the fixture's gradient sequence (assigned to
 * p.grad, as the Python script does), and compares the parameters after every step, then the
 * final optimizer state and param_groups in PyTorch's state_dict layout.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../../engine/index';
import type { Device, Tensor } from '../../engine/index';
import { decode, DEVICES, expectClose, type FNum, type FTensor, host, loadFixture, onDevice, TOL, type Tolerance, useDevice, withFloor } from './fixture';

const { optim } = torch;

type OptName = 'SGD' | 'Adam' | 'AdamW' | 'RMSprop' | 'Adagrad';
type SchedName = 'StepLR' | 'ExponentialLR' | 'CosineAnnealingLR';

interface SchedSpec {
  type: SchedName;
  options: Record<string, number>;
}

interface OptimCase {
  name: string;
  optimizer: OptName;
  options: Record<string, unknown>;
  after: FNum[][][];
  state: Record<string, Record<string, number | FTensor | null>> | null;
  param_groups: Record<string, unknown>[];
  groups?: ({ params: number[] } & Record<string, unknown>)[];
  locked?: (number[] | null)[];
  none_grads?: [number, number][];
  scheduler?: SchedSpec;
  lrs?: number[][];
  float64?: boolean;
  /** float32 cases: max |PyTorch float32 run - the same run in float64| over all steps. */
  drift32?: number;
}

interface OptimFixture {
  steps: number;
  init: FTensor[];
  grads: FTensor[][];
  init64: FTensor[];
  grads64: FTensor[][];
  cases: OptimCase[];
  schedulers: ({ name: string; lr: number; lrs: number[] } & SchedSpec)[];
}

type AnyOptimizer = {
  step(): void;
  zero_grad(set_to_none?: boolean): void;
  param_groups: ({ lr: number; params: Tensor[] } & Record<string, unknown>)[];
  state: Map<Tensor, Record<string, Tensor | number>>;
  state_dict(): { state: Record<number, Record<string, unknown>>; param_groups: Record<string, unknown>[] };
  load_state_dict(dict: ReturnType<AnyOptimizer['state_dict']>): void;
};
type AnyScheduler = { step(): void; get_last_lr(): number[] };

const OPTIMIZERS = optim as unknown as Record<OptName, new (params: unknown, options: Record<string, unknown>) => AnyOptimizer>;
const SCHEDULERS = optim.lr_scheduler as unknown as Record<SchedName, new (opt: AnyOptimizer, options: Record<string, number>) => AnyScheduler>;

const fixture = loadFixture<OptimFixture>('optim.json');

/**
 * float32: the single-op tolerance (1e-6 relative, 1e-7 floor), with the floor raised to twice
 * PyTorch's own float32 drift over the run (max |float32 run - float64 run|, 1e-7..1e-6 here): 20
 * steps of float32 updates accumulate rounding that differs with the order of operations (e.g.
 * RMSprop's momentum buffer), and an engine is not expected to drift less from PyTorch than
 * PyTorch drifts from exact arithmetic.
 */
function tolerance(c: OptimCase): Tolerance {
  return c.float64 ? TOL.f64 : withFloor(TOL.f32, 2 * (c.drift32 ?? 0));
}

function makeParams(c: OptimCase, device: Device): Tensor[] {
  const init = c.float64 ? fixture.init64 : fixture.init;
  const params = init.map((t) => decode(t, { requires_grad: true, device }));
  c.locked?.forEach((mask, i) => {
    if (mask) params[i].locked = Uint8Array.from(mask);
  });
  return params;
}

function makeOptimizer(c: OptimCase, params: Tensor[]): AnyOptimizer {
  const Opt = OPTIMIZERS[c.optimizer];
  const groups = c.groups?.map(({ params: idx, ...rest }) => ({ params: idx.map((i) => params[i]), ...rest }));
  return new Opt(groups ?? params, c.options);
}

function setGrads(c: OptimCase, params: Tensor[], step: number, device: Device): void {
  const grads = c.float64 ? fixture.grads64 : fixture.grads;
  params.forEach((p, i) => {
    const none = c.none_grads?.some(([s, j]) => s === step && j === i);
    p.grad = none ? null : decode(grads[step][i], { device });
  });
}

/** The parameters in state_dict order: group by group. */
function stateOrder(c: OptimCase): number[] {
  return c.groups ? c.groups.flatMap((g) => g.params) : fixture.init.map((_, i) => i);
}

async function checkAfter(c: OptimCase, params: Tensor[], step: number, tol: Tolerance, label: string): Promise<void> {
  for (const [i, p] of params.entries()) expectClose(await host(p), c.after[step][i], tol, `${label} step ${step + 1}: param ${i}`);
}

function shapeOf(x: unknown): number[] {
  const shape: number[] = [];
  for (let v = x; Array.isArray(v); v = v[0]) shape.push(v.length);
  return shape;
}

async function checkState(c: OptimCase, opt: AnyOptimizer, params: Tensor[], tol: Tolerance): Promise<void> {
  if (!c.state) return;
  const order = stateOrder(c);
  await torch.webgpu.fetch(opt); // GPU state: its synchronous readers (state_dict, item) need the values read back
  const sd = opt.state_dict();
  for (const [k, expected] of Object.entries(c.state)) {
    const p = params[order[Number(k)]];
    const live = opt.state.get(p);
    expect(live, `state of parameter ${k}`).toBeTruthy();
    const saved = sd.state[Number(k)];
    expect(saved, `state_dict().state[${k}]`).toBeTruthy();
    for (const [key, value] of Object.entries(expected)) {
      const label = `state[${k}].${key}`;
      if (value === null) {
        // PyTorch keeps momentum_buffer: None when momentum is 0; absent or null is the same.
        expect(live?.[key] ?? null, label).toBeNull();
        continue;
      }
      if (typeof value === 'number') {
        const v = live?.[key];
        expect(typeof v === 'number' ? v : (v as Tensor).item(), label).toBe(value);
        expect(saved[key], `state_dict ${label}`).toBe(value);
      } else {
        expectClose(live?.[key] as Tensor, value, tol, label);
        expectClose(saved[key] as number[], value, tol, `state_dict ${label}`);
        expect(shapeOf(saved[key]), `state_dict ${label}: nested arrays of the parameter's shape`).toEqual(value.shape);
      }
    }
  }
  expect(sd.param_groups.length).toBe(c.param_groups.length);
  c.param_groups.forEach((g, i) => expect(sd.param_groups[i], `param_groups[${i}]`).toMatchObject(g));
}

for (const device of DEVICES) {
  describe(`optimizers vs PyTorch (optim.json)${onDevice(device)}`, () => {
    useDevice(device);

    it('has the fixture cases', () => {
      expect(fixture.cases.length).toBeGreaterThan(35);
    });

    for (const c of fixture.cases.filter((c) => device === 'cpu' || !c.float64)) {
      const tol = tolerance(c);
      it(c.name, async () => {
        const params = makeParams(c, device);
        const opt = makeOptimizer(c, params);
        const sched = c.scheduler ? new SCHEDULERS[c.scheduler.type](opt, c.scheduler.options) : null;
        for (let s = 0; s < fixture.steps; s++) {
          setGrads(c, params, s, device);
          opt.step();
          if (sched && c.lrs) {
            sched.step();
            expectClose(sched.get_last_lr(), c.lrs[s], TOL.f64, `step ${s + 1}: lr`);
          }
          await checkAfter(c, params, s, tol, c.name);
        }
        await checkState(c, opt, params, tol);
      });

      if (!c.locked && !c.scheduler) {
        it(`${c.name} (state_dict saved as JSON after 10 steps, loaded into a new optimizer)`, async () => {
          const params = makeParams(c, device);
          let opt = makeOptimizer(c, params);
          for (let s = 0; s < fixture.steps; s++) {
            if (s === 10) {
              await torch.webgpu.fetch(opt);
              const saved = JSON.parse(JSON.stringify(opt.state_dict())) as ReturnType<AnyOptimizer['state_dict']>;
              opt = makeOptimizer(c, params);
              opt.load_state_dict(saved);
            }
            setGrads(c, params, s, device);
            opt.step();
            await checkAfter(c, params, s, tol, 'reloaded');
          }
        });
      }
    }
  });
}

describe('zero_grad', () => {
  it('set_to_none (default) clears grads; set_to_none=false zeroes them', () => {
    const p = decode(fixture.init[0], { requires_grad: true });
    const opt = new optim.SGD([p], { lr: 0.1 });
    p.grad = decode(fixture.grads[0][0]);
    opt.zero_grad();
    expect(p.grad).toBeNull();
    p.grad = decode(fixture.grads[0][0]);
    opt.zero_grad(false);
    expect(Array.from((p.grad as Tensor).toArray()).every((v) => v === 0)).toBe(true);
  });
});

describe('LR schedulers vs PyTorch (get_last_lr after each step)', () => {
  for (const s of fixture.schedulers) {
    it(s.name, () => {
      const p = torch.zeros([2], { requires_grad: true });
      const opt = new optim.SGD([p], { lr: s.lr }) as unknown as AnyOptimizer;
      const sched = new SCHEDULERS[s.type](opt, s.options);
      expectClose(sched.get_last_lr(), [s.lrs[0]], TOL.f64, 'initial lr');
      for (let i = 1; i < s.lrs.length; i++) {
        opt.step();
        sched.step();
        expectClose(sched.get_last_lr(), [s.lrs[i]], TOL.f64, `after ${i} scheduler steps: get_last_lr()`);
        expectClose(opt.param_groups[0].lr, [s.lrs[i]], TOL.f64, `after ${i} scheduler steps: param_groups[0].lr`);
      }
    });
  }
});
