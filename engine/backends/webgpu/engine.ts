/// <reference types="webgpu" />
/**
 * WebGPU as the engine's backend: tensors whose values live in GPU buffers (GpuStorage), the
 * Backend that the engine's ops call (GpuEngine), and recovery when the GPU fails.
 *
 * Recovery: every call is logged, in a form the CPU backend can replay. Once CHECKPOINT_CALLS
 * calls are logged, the next time the program yields after an optimizer step, a checkpoint copies
 * the GPU's live values that the host does not already have to the host, asynchronously, and
 * cuts the log. When the device is lost or out of memory, the log since the last checkpoint is
 * replayed on the CPU from it: every live tensor (parameters, optimizer state, anything the
 * program holds) moves to the host with its current values, and the engine carries on with the
 * CPU backend (DESIGN.md, "Failure").
 */
import type { Backend, FusedActivation } from '../../backend';
import { type Device, type DeviceBackend, type DeviceStorage, forgetStorage, ownedBy, type ScopeRef, trackAllocation } from '../../device';
import type { DType, Storage } from '../../dtype';
import type { ParamState } from '../../optim/optimizer';
import { numel, type Shape } from '../../shape';
import { Tensor } from '../../tensor';
import { cpu } from '../cpu/index';
import { type GpuDType, GpuFailure, type GpuTensor, WebGPUBackend } from './backend';
import type { GpuContext } from './device';
import { planStep } from './step';

/** Calls between checkpoints: at most this many are replayed on the CPU after a failure. */
export const CHECKPOINT_CALLS = 1024;
/** A flush after this many recorded kernels even without a step's end (inference loops). */
const MAX_PENDING = 4096;

type KernelName = Exclude<keyof Backend, 'name' | 'optimizerStep'>;
type Group = { lr: number; params: Tensor[] };
type OptimizerLike = { param_groups: Group[]; scope: ScopeRef | null };

const registry = new FinalizationRegistry<GpuStorage>((storage) => storage.detach());

/** A tensor's values as one call of the log saw them. */
class Ref {
  constructor(readonly storage: GpuStorage, readonly shape: Shape, readonly dtype: GpuDType) {}
}

type Entry =
  | { kind: 'upload'; out: GpuStorage; values: Storage }
  | { kind: 'kernel'; method: KernelName; args: unknown[]; outs: GpuStorage[] }
  /** `from`'s values into `out`'s from element `offset` on. */
  | { kind: 'copy'; out: GpuStorage; from: GpuStorage; offset: number }
  /** An optimizer step: replayed by the optimizer's own host update. */
  | { kind: 'host'; reads: GpuStorage[]; run: () => void };

const FREED = 'this tensor was freed: torch.tidy() frees the tensors made inside it, except those it returns';

/** A GPU buffer holding a tensor's numel 4-byte values, shared by its views. */
export class GpuStorage implements DeviceStorage {
  device: Device = 'webgpu';
  persistent = false;
  /** Host values: current while copyVersion === version, and for good once on the CPU. */
  values: Storage | null = null;
  copyVersion = -1;
  /** Bumped by each in-place write (optimizer steps, load_state_dict). */
  version = 0;
  /** The values as of the last completed checkpoint (an upload's own values): recovery starts there. */
  saved: Storage | null = null;
  savedVersion = 0;
  /** Why the values are gone (freed, or lost with the device), or null. */
  private gone: string | null = null;
  /** Returned to the pool (tidy, or garbage-collected): the values may still be replayed after a failure, never read. */
  freed = false;
  private refs = 0;

  constructor(readonly engine: GpuEngine, public buffer: GPUBuffer | null, readonly size: number, readonly dtype: GpuDType,
    readonly created: number) {}

  host(): Storage | null {
    if (this.gone) throw new Error(this.gone);
    return this.device === 'cpu' || this.copyVersion === this.version ? this.values : null;
  }

  async read(): Promise<Storage> {
    return (this.host() ?? (await this.engine.readBack([this]))[0]).slice();
  }

  write(source: Tensor, offset = 0): void {
    this.engine.write(this, source, offset);
  }

  attach(t: Tensor): void {
    this.refs++;
    registry.register(t, this);
  }

  /** A tensor holding it was garbage-collected. */
  detach(): void {
    if (--this.refs === 0) this.free();
  }

  free(): void {
    if (this.gone) return;
    this.gone = FREED;
    this.freed = true;
    forgetStorage(this);
    this.engine.release(this);
  }

  markLost(): void {
    this.gone = "this tensor's values were lost with the GPU device (made before its last checkpoint)";
  }

  /**
   * A failure's replay may read a freed storage: a step's optimizer state, freed with the tidy()
   * its optimizer was made in, is read again when that step is replayed on the CPU.
   */
  replayable(on: boolean): void {
    if (this.freed) this.gone = on ? null : FREED;
  }

  /** The buffer as the kernels take it, viewed with a tensor's shape. */
  gpu(shape: Shape, dtype: GpuDType): GpuTensor {
    if (this.gone) throw new Error(this.gone);
    return { buffer: this.buffer as GPUBuffer, shape, dtype };
  }
}

/** The optimizer's host update for one parameter, with its locked elements kept as Optimizer.step keeps them. */
function hostStep<G>(param: Tensor, grad: Storage, group: G, hostUpdate: (grad: Storage, group: G) => void, locked: Uint8Array | null): void {
  const before = locked ? param.data.slice() : null;
  hostUpdate(grad, group);
  if (locked && before) for (let i = 0; i < locked.length; i++) if (locked[i]) param.data[i] = before[i];
}

/**
 * The device-only fused kernels as the CPU backend's kernels that they fuse, in the same steps
 * (engine/ops/arithmetic.ts's linear and activations, engine/nn/losses.ts's log_softmax and nll):
 * how a failure replays them.
 */
const fusedOnCpu = {
  linear(x: Tensor, weight: Tensor, bias: Tensor | null, activation: FusedActivation | null): Tensor {
    const product = cpu.matmul(x, weight, false, true);
    const z = bias ? cpu.binary('add', product, bias) : product;
    return activation ? cpu.unary(activation, z, []) : z;
  },
  crossEntropy(x: Tensor, targets: Tensor): Tensor {
    const { index, weights } = splitTargets(targets);
    const picked = cpu.gather(cpu.softmax(x, 1, true), 1, index);
    return cpu.binary('mul', cpu.unary('neg', new Tensor(picked.data, [x.shape[0]], 'float32', cpu), []), weights);
  },
  crossEntropyBackward(x: Tensor, targets: Tensor, grad: Tensor, total: number | null): Tensor {
    const { index, weights } = splitTargets(targets);
    const scale = cpu.unary('neg', total === null ? grad : cpu.binary('div', grad, cpu.fromHost(Float32Array.of(total), [], 'float32')), []);
    const perSample = cpu.binary('mul_nonzero', weights, scale);
    const gradLogp = cpu.scatterAdd(x.shape, 1, index, new Tensor(perSample.data, [x.shape[0], 1], 'float32', cpu));
    return cpu.softmaxBackward(gradLogp, cpu.softmax(x, 1, true), 1, true);
  },
} satisfies Partial<Record<KernelName, (...args: never[]) => Tensor>>;

/** The CPU's form of a kernel: the CPU backend's own, or the ops a fused one fuses. */
function cpuKernel(method: KernelName): (...args: unknown[]) => unknown {
  const kernel = method in fusedOnCpu ? fusedOnCpu[method as keyof typeof fusedOnCpu] : cpu[method];
  return (kernel as (...args: unknown[]) => unknown).bind(cpu);
}

/** The fused cross-entropy's [N, 2] targets as nll's int64 [N, 1] class index and [N] weights. */
function splitTargets(targets: Tensor): { index: Tensor; weights: Tensor } {
  const n = targets.shape[0];
  const index = cpu.cast(cpu.slice(targets, 1, 0, 1), 'int64');
  return { index, weights: new Tensor(cpu.slice(targets, 1, 1, 2).data, [n], 'float32', cpu) };
}

function mapRefs(args: readonly unknown[], fn: (ref: Ref) => unknown): unknown[] {
  return args.map((a) => (a instanceof Ref ? fn(a) : Array.isArray(a) && a[0] instanceof Ref ? a.map(fn) : a));
}

function storagesOf(entry: Entry): GpuStorage[] {
  switch (entry.kind) {
    case 'upload': return [entry.out];
    case 'copy': return [entry.out, entry.from];
    case 'host': return entry.reads;
    case 'kernel': {
      const refs: GpuStorage[] = [...entry.outs];
      mapRefs(entry.args, (r) => refs.push(r.storage));
      return refs;
    }
  }
}

/** The CPU's form of a logged call's result, into the storages the GPU call made. */
function replay(entry: Entry): void {
  switch (entry.kind) {
    case 'upload':
      entry.out.values = entry.values;
      return;
    case 'copy': {
      const { out, from, offset } = entry;
      // A copy into part of `out` keeps the rest of its values.
      const base = from.size === out.size ? from.values : out.values;
      if (!from.values || !base) {
        out.values = null;
        return;
      }
      const values = base.slice();
      values.set(from.values, offset);
      out.values = values;
      return;
    }
    case 'host':
      if (entry.reads.every((s) => s.values)) entry.run();
      return;
    case 'kernel': {
      let missing = false;
      const args = mapRefs(entry.args, (r) => {
        if (!r.storage.values) missing = true;
        return new Tensor(r.storage.values, r.shape, r.dtype, cpu);
      });
      if (missing) return;
      const result = cpuKernel(entry.method)(...args) as Tensor | { values: Tensor; indices: Tensor };
      const outs = result instanceof Tensor ? [result] : [result.values, result.indices];
      outs.forEach((t, i) => (entry.outs[i].values = t.data));
    }
  }
}

/** The engine's WebGPU backend: kernels record into one command buffer per training step. */
export class GpuEngine implements DeviceBackend {
  readonly name = 'webgpu';
  available = true;
  readonly software: boolean;
  readonly kernels: WebGPUBackend;
  /** Storages not yet freed: what a checkpoint saves and a recovery moves to the host. */
  private readonly live = new Set<GpuStorage>();
  private log: Entry[] = [];
  /** The log position of log[0]. */
  private logStart = 0;
  private checkpoint: Promise<void> | null = null;

  constructor(readonly context: GpuContext, private readonly onFallback: (message: string) => void) {
    this.kernels = new WebGPUBackend(context);
    this.software = context.adapter.software;
    void context.lost.then((reason) => this.fail(reason));
  }

  // ---- Backend ----

  fromHost(data: Storage, shape: readonly number[], dtype: DType): Tensor {
    return this.call(() => this.wrap(this.upload(data, shape, dtype), shape, dtype), () => cpu.fromHost(data, shape, dtype));
  }

  unary(...args: Parameters<Backend['unary']>): Tensor { return this.kernel('unary', args) as Tensor; }
  unaryBackward(...args: Parameters<Backend['unaryBackward']>): Tensor { return this.kernel('unaryBackward', args) as Tensor; }
  binary(...args: Parameters<Backend['binary']>): Tensor { return this.kernel('binary', args) as Tensor; }
  sum(...args: Parameters<Backend['sum']>): Tensor { return this.kernel('sum', args) as Tensor; }
  max(...args: Parameters<Backend['max']>): { values: Tensor; indices: Tensor } {
    return this.kernel('max', args) as { values: Tensor; indices: Tensor };
  }
  matmul(...args: Parameters<Backend['matmul']>): Tensor { return this.kernel('matmul', args) as Tensor; }
  softmax(...args: Parameters<Backend['softmax']>): Tensor { return this.kernel('softmax', args) as Tensor; }
  softmaxBackward(...args: Parameters<Backend['softmaxBackward']>): Tensor { return this.kernel('softmaxBackward', args) as Tensor; }
  transpose(...args: Parameters<Backend['transpose']>): Tensor { return this.kernel('transpose', args) as Tensor; }
  broadcastTo(...args: Parameters<Backend['broadcastTo']>): Tensor { return this.kernel('broadcastTo', args) as Tensor; }
  cat(...args: Parameters<Backend['cat']>): Tensor { return this.kernel('cat', args) as Tensor; }
  slice(...args: Parameters<Backend['slice']>): Tensor { return this.kernel('slice', args) as Tensor; }
  gather(...args: Parameters<Backend['gather']>): Tensor { return this.kernel('gather', args) as Tensor; }
  scatterAdd(...args: Parameters<Backend['scatterAdd']>): Tensor { return this.kernel('scatterAdd', args) as Tensor; }
  cast(...args: Parameters<Backend['cast']>): Tensor { return this.kernel('cast', args) as Tensor; }
  linear(...args: Parameters<Required<Backend>['linear']>): Tensor { return this.kernel('linear', args) as Tensor; }
  crossEntropy(...args: Parameters<Required<Backend>['crossEntropy']>): Tensor { return this.kernel('crossEntropy', args) as Tensor; }
  crossEntropyBackward(...args: Parameters<Required<Backend>['crossEntropyBackward']>): Tensor {
    return this.kernel('crossEntropyBackward', args) as Tensor;
  }

  /** One fused kernel per parameter; the end of a step (its last parameter) submits the step's commands. */
  optimizerStep?: Backend['optimizerStep'] = (optimizer, param, state, group, hostUpdate) => {
    const grad = param.grad as Tensor;
    this.call(() => this.fusedStep(optimizer, param, state, group, hostUpdate),
      () => hostStep(param, grad.data, group, hostUpdate, param.locked));
  };

  // ---- reading, writing, memory ----

  /** The storages' values, read back in one round trip; their host copies stay current until they change. */
  async readBack(storages: readonly GpuStorage[]): Promise<Storage[]> {
    if (this.available) {
      const versions = storages.map((s) => s.version);
      try {
        const values = await this.kernels.downloadMany(storages.map((s) => s.gpu([s.size], s.dtype)));
        storages.forEach((s, i) => this.keepCopy(s, values[i], versions[i]));
        return values;
      } catch (error) {
        if (!(error instanceof GpuFailure) || error.kind === 'error') throw error;
        this.fail(error.message);
        // A read asked for before tidy() freed its tensor resolves with the replayed values.
        return storages.map((s) => (s.freed && s.values ? s.values : (s.host() as Storage)));
      }
    }
    return storages.map((s) => s.host() as Storage);
  }

  /**
   * Overwrites target's values from element `offset` on with source's, in order with the recorded
   * commands (load_state_dict, a step's loss into the epoch's losses).
   */
  write(target: GpuStorage, source: Tensor, offset = 0): void {
    this.call(() => {
      const temps: GpuStorage[] = [];
      const from = this.ref(source, temps, target.dtype);
      this.kernels.copyInto(target.gpu([target.size], target.dtype), from.storage.gpu(from.shape, from.dtype), offset);
      target.version++;
      this.log.push({ kind: 'copy', out: target, from: from.storage, offset });
      for (const t of temps) t.free();
    }, () => (target.host() as Storage).set(source.hostValues(), offset));
  }

  release(storage: GpuStorage): void {
    this.live.delete(storage);
    if (storage.buffer && this.available) this.kernels.release({ buffer: storage.buffer, shape: [], dtype: storage.dtype });
    storage.buffer = null;
  }

  /** Submits what is recorded, waits for the GPU to finish it and for a checkpoint in flight. */
  async synchronize(): Promise<void> {
    if (!this.available) return;
    this.kernels.flush();
    this.startCheckpoint();
    await this.context.device.queue.onSubmittedWorkDone().catch(() => undefined);
    await this.checkpoint;
  }

  /**
   * Moves every tensor to the host with its values (read back, nothing replayed) and stops using
   * the device: torch.webgpu.release().
   */
  async moveAllToHost(): Promise<void> {
    if (!this.available) return;
    await this.synchronize();
    await this.takeCheckpoint(true);
    this.fail('released', true);
  }

  /** The pool's and the log's sizes, and the kernels dispatched and the read backs (round trips, checkpoints included) so far. */
  stats(): { live: number; log: number; dispatches: number; readBacks: number } & ReturnType<WebGPUBackend['stats']> {
    const { dispatched: dispatches, readBacks } = this.kernels;
    return { ...this.kernels.stats(), live: this.live.size, log: this.log.length, dispatches, readBacks };
  }

  // ---- plumbing ----

  /** Runs `gpu`; once the device has failed (or when its failure surfaces now), `host`, the same on the CPU. */
  private call<T>(gpu: () => T, host: () => T): T {
    if (!this.available) return host();
    try {
      return gpu();
    } catch (error) {
      if (!(error instanceof GpuFailure) || error.kind === 'error') throw error;
      this.fail(error.message);
      return host();
    }
  }

  private kernel(method: KernelName, args: readonly unknown[]): unknown {
    return this.call(() => {
      const temps: GpuStorage[] = [];
      const refs = args.map((a) => (a instanceof Tensor ? this.ref(a, temps) : Array.isArray(a) && a[0] instanceof Tensor ? a.map((t: Tensor) => this.ref(t, temps)) : a));
      const result = (this.kernels[method] as (...a: unknown[]) => GpuTensor | { values: GpuTensor; indices: GpuTensor }).apply(this.kernels,
        mapRefs(refs, (r) => r.storage.gpu(r.shape, r.dtype)));
      const outs: GpuStorage[] = [];
      const own = (g: GpuTensor): Tensor => {
        const s = this.adopt(g);
        outs.push(s);
        return this.wrap(s, g.shape, g.dtype);
      };
      const out = 'buffer' in result ? own(result) : { values: own(result.values), indices: own(result.indices) };
      this.log.push({ kind: 'kernel', method, args: refs, outs });
      for (const t of temps) t.free();
      if (this.kernels.pending >= MAX_PENDING) this.kernels.flush();
      return out;
    }, () => cpuKernel(method)(...args));
  }

  /** A tensor as a kernel operand: this GPU's storage, or its host values uploaded for this call (freed after it). */
  private ref(t: Tensor, temps: GpuStorage[], dtype: DType = t.dtype): Ref {
    const s = t.storage;
    if (s instanceof GpuStorage && s.engine === this && s.device === 'webgpu') return new Ref(s, t.shape, t.dtype as GpuDType);
    const storage = this.upload(t.hostValues(), t.shape, dtype);
    temps.push(storage);
    return new Ref(storage, t.shape, storage.dtype);
  }

  private upload(data: Storage, shape: Shape, dtype: DType): GpuStorage {
    const s = this.adopt(this.kernels.fromHost(data, shape, dtype));
    const values = dtype === 'float32' ? Float32Array.from(data) : Float64Array.from(data);
    s.values = values;
    s.copyVersion = 0;
    s.saved = values;
    this.log.push({ kind: 'upload', out: s, values });
    return s;
  }

  private adopt(g: GpuTensor): GpuStorage {
    const s = new GpuStorage(this, g.buffer, numel(g.shape), g.dtype, this.logStart + this.log.length);
    this.live.add(s);
    trackAllocation(s);
    return s;
  }

  private wrap(s: GpuStorage, shape: Shape, dtype: DType): Tensor {
    return new Tensor(null, shape.slice(), dtype, this, s);
  }

  /**
   * A state tensor on this GPU, owned by the tidy() its optimizer was made in (Optimizer.scope):
   * Adagrad's starts on the CPU, and so does a loaded state_dict's.
   */
  private own(t: Tensor, scope: ScopeRef | null): Tensor {
    const s = t.storage;
    const mine = s instanceof GpuStorage && s.engine === this && s.device === 'webgpu' ? t : this.wrap(this.upload(t.hostValues(), t.shape, t.dtype), t.shape, t.dtype);
    ownedBy(mine.storage as GpuStorage, scope);
    return mine;
  }

  private fusedStep<G extends Group>(optimizer: object, param: Tensor, state: ParamState, group: G,
    hostUpdate: (grad: Storage, group: G) => void): void {
    const plan = planStep(optimizer, state, group, param.locked !== null);
    const temps: GpuStorage[] = [];
    let refs: Ref[];
    try {
      // SGD makes its momentum buffer at the first step, as its host update does.
      if (plan.create) state[plan.create] = this.wrap(this.upload(new Float32Array(param.numel()), param.shape, 'float32'), param.shape, 'float32');
      for (const key of plan.keys) state[key] = this.own(state[key] as Tensor, (optimizer as OptimizerLike).scope);
      refs = [param, param.grad as Tensor, ...plan.keys.map((key) => state[key] as Tensor)].map((t) => this.ref(t, temps));
      let locked: Ref | null = null;
      if (param.locked) {
        // The mask's bytes as u32 words (passed as int64, which the GPU stores as 32-bit words).
        const words = new Uint32Array(Math.ceil(param.locked.length / 4));
        new Uint8Array(words.buffer).set(param.locked);
        locked = this.ref(new Tensor(Float64Array.from(new Int32Array(words.buffer)), [words.length], 'int64', cpu), temps);
      }
      const [p, g, ...s] = refs.map((r) => r.storage.gpu(r.shape, r.dtype));
      this.kernels.optimizerStep(plan.buffers, p, g, s, plan.hyper, plan.flags, locked ? locked.storage.gpu(locked.shape, locked.dtype) : null);
    } catch (error) {
      if (plan.create) delete state[plan.create]; // the host update that runs instead makes it
      throw error;
    }
    const [p, g, ...s] = refs;
    const stepBefore = state.step;
    if (plan.step !== undefined) state.step = plan.step;
    for (const r of [p, ...s]) r.storage.version++;
    const snapshot = { ...group };
    const mask = param.locked?.slice() ?? null;
    this.log.push({
      kind: 'host',
      reads: [p.storage, g.storage, ...s.map((r) => r.storage)],
      run: () => {
        if (plan.create) delete state[plan.create];
        if (stepBefore !== undefined) state.step = stepBefore;
        hostStep(param, g.storage.values as Storage, snapshot, hostUpdate, mask);
      },
    });
    for (const t of temps) t.free();
    if (this.lastParameter(optimizer, param)) {
      this.kernels.flush();
      // Once the program yields (between steps, with the step's tidy() closed): what is live then is what lasts.
      queueMicrotask(() => this.startCheckpoint());
    }
  }

  /** Whether `param` is the last one of this step on this GPU: the step's commands are then complete. */
  private lastParameter(optimizer: object, param: Tensor): boolean {
    const groups = (optimizer as OptimizerLike).param_groups;
    for (let g = groups.length - 1; g >= 0; g--) {
      for (let i = groups[g].params.length - 1; i >= 0; i--) {
        const p = groups[g].params[i];
        if (p.grad !== null && p.backend === this) return p === param;
      }
    }
    return true;
  }

  private keepCopy(s: GpuStorage, values: Storage, version: number): void {
    if (version > s.copyVersion) {
      s.values = values;
      s.copyVersion = version;
    }
  }

  private startCheckpoint(): void {
    if (!this.available || this.checkpoint || this.log.length < CHECKPOINT_CALLS) return;
    this.checkpoint = this.takeCheckpoint(false).finally(() => {
      this.checkpoint = null;
    });
  }

  /** Saves the live values the host lacks and cuts the log there; a failure before it completes replays from the previous one. */
  private async takeCheckpoint(rethrow: boolean): Promise<void> {
    const at = this.logStart + this.log.length;
    const stale = [...this.live].filter((s) => s.saved === null || s.savedVersion !== s.version);
    const versions = stale.map((s) => s.version);
    let values: Storage[];
    try {
      values = await this.kernels.downloadMany(stale.map((s) => s.gpu([s.size], s.dtype)));
    } catch (error) {
      if (rethrow) throw error;
      return;
    }
    if (!this.available) return;
    stale.forEach((s, i) => {
      s.saved = values[i];
      s.savedVersion = versions[i];
      this.keepCopy(s, values[i], versions[i]);
    });
    this.log.splice(0, at - this.logStart);
    this.logStart = at;
  }

  /**
   * The device failed (or is released): replays the log since the last checkpoint on the CPU,
   * moves every live tensor's values to the host, and from now on runs every call on the CPU.
   */
  fail(reason: string, quiet = false): void {
    if (!this.available) return;
    this.available = false;
    this.optimizerStep = undefined;
    const storages = new Set(this.live);
    for (const entry of this.log) for (const s of storagesOf(entry)) storages.add(s);
    for (const s of storages) {
      s.device = 'cpu';
      s.buffer = null;
      s.values = s.created < this.logStart && s.saved ? s.saved.slice() : null;
    }
    const freed = [...storages].filter((s) => s.freed);
    for (const s of freed) s.replayable(true);
    for (const entry of this.log) replay(entry);
    for (const s of freed) s.replayable(false);
    let lost = 0;
    for (const s of this.live) {
      if (s.values) continue;
      s.markLost();
      lost++;
    }
    this.log = [];
    this.live.clear();
    this.kernels.dispose();
    if (quiet) return;
    const gone = lost > 0 ? ` (${lost} tensor${lost === 1 ? '' : 's'} made before the last checkpoint and not needed by training could not be recovered)` : '';
    this.onFallback(`WebGPU stopped: ${reason}; training continues on the CPU with the current weights and optimizer state${gone}.`);
  }
}
