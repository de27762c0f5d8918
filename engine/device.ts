/**
 * Devices: where a tensor's values live ('cpu', or 'webgpu' through engine/backends/webgpu/engine.ts),
 * moving tensors and modules between them, the 'auto' choice, and tidy(), which frees a block's
 * GPU memory at once.
 */
import type { Backend } from './backend';
import { cpu } from './backends/cpu/index';
import { is_grad_enabled } from './autograd';
import type { Storage } from './dtype';
import { Tensor } from './tensor';

export type Device = 'cpu' | 'webgpu';

/**
 * A device tensor's values; views (reshape, detach, Parameter) share one. After a device failure,
 * or torch.webgpu.release(), the values move to the host for good and `device` becomes 'cpu'.
 */
export interface DeviceStorage {
  readonly device: Device;
  /** Kept by tidy() (parameters, optimizer state); freed only when no tensor holds it any more. */
  persistent: boolean;
  /** The values on the host, or null while they are only on the device (or changed since the last read). */
  host(): Storage | null;
  /** The values, read back from the device if need be: a copy, Float32Array or (int64) Float64Array. */
  read(): Promise<Storage>;
  /** Overwrites the values in place from element `offset` on with `source`'s (all of them by default). */
  write(source: Tensor, offset?: number): void;
  /** A tensor object now shares this storage: the memory lives at least as long. */
  attach(t: Tensor): void;
  /** Returns the memory now (tidy); the values are gone, and reading them throws. */
  free(): void;
}

/** A device's Backend, as the engine sees it. */
export interface DeviceBackend extends Backend {
  /** false once the device failed or was released: its fromHost then gives CPU tensors. */
  readonly available: boolean;
  /** A software adapter (llvmpipe, SwiftShader, WARP): 'auto' never picks it. */
  readonly software: boolean;
}

let webgpu: DeviceBackend | null = null;

/** Installs the WebGPU backend (torch.webgpu.init) or removes it. */
export function setWebGPU(backend: DeviceBackend | null): void {
  webgpu = backend;
}

export function webgpuBackend(): DeviceBackend {
  if (!webgpu) throw new Error("no WebGPU device: call `await torch.webgpu.init()` before moving tensors to 'webgpu'");
  return webgpu;
}

/**
 * 'auto' puts a model on WebGPU when a hardware adapter is open and the model has at least this
 * many parameters. Below it the CPU's whole step costs less than recording the GPU's kernels,
 * about 45 µs each, whatever their size (engine/README.md, "Devices", has the measurements).
 */
export const AUTO_MIN_PARAMETERS = 50_000;

/** The device 'auto' picks for a model with `parameters` elements. */
export function autoDevice(parameters: number): Device {
  return webgpu?.available && !webgpu.software && parameters >= AUTO_MIN_PARAMETERS ? 'webgpu' : 'cpu';
}

function hostValuesFor(t: Tensor, how: string): Storage {
  const values = t.storage?.host();
  if (!values) throw new Error(`${how} needs the tensor's values on the host: \`await t.read()\` first, or use \`await t.cpu()\``);
  return values;
}

/** t.to(device): a copy on `device` without history (the same tensor if it is already there). */
export function toDevice(t: Tensor, device: Device): Tensor {
  if (t.device === device) return t;
  if (t.requires_grad && is_grad_enabled()) {
    throw new Error(`to('${device}') cannot carry gradients between devices: move the tensor before it requires grad (module.to() moves parameters in place)`);
  }
  if (device === 'webgpu') return webgpuBackend().fromHost(t.data, t.shape, t.dtype);
  return new Tensor(hostValuesFor(t, "to('cpu')").slice(), t.shape.slice(), t.dtype, cpu);
}

/** Moves a tensor's values to `device` in place, its gradient too (Module.to): the same object, so optimizers keep it. */
export function moveInPlace(t: Tensor, device: Device): void {
  if (t.grad) moveInPlace(t.grad, device);
  if (t.device === device) return;
  if (device === 'cpu') {
    t.relocate(hostValuesFor(t, "module.to('cpu')").slice(), cpu, null);
    return;
  }
  // After a GPU failure fromHost gives CPU tensors: the parameter then stays on the CPU.
  const moved = webgpuBackend().fromHost(t.data, t.shape, t.dtype);
  if (moved.storage) moved.storage.persistent = true;
  t.relocate(moved.storage ? null : moved.data, moved.backend, moved.storage);
}

/**
 * Overwrites `target`'s values from element `offset` on with `source`'s, in place on target's
 * device (no history; on a GPU, in order with the recorded kernels): load_state_dict, and a
 * step's loss into its slot of the epoch's losses (engine/project/train.ts).
 */
export function writeInto(target: Tensor, source: Tensor, offset = 0): void {
  if (target.storage) target.storage.write(source, offset);
  else target.data.set(source.hostValues(), offset);
}

/** await t.cpu(): a CPU copy of the values. */
export async function toHost(t: Tensor): Promise<Tensor> {
  return new Tensor(await t.read(), t.shape.slice(), t.dtype, cpu);
}

// ---- tidy ----

/** Open scopes, innermost last; a scope's set is made at its first allocation (CPU work makes none). */
const scopes: (Set<DeviceStorage> | null)[] = [];
/** Gradients that backward() stored in `.grad`, with the tensor holding each: tidy frees those replaced or cleared since. */
const gradHolders = new Map<DeviceStorage, WeakRef<Tensor>>();

/** Each open scope's serial number, parallel to `scopes`: how an optimizer made in one recognises it later. */
const serials: number[] = [];
let lastSerial = 0;

/** An open tidy scope, as something made in it (an optimizer) remembers it. */
export interface ScopeRef {
  readonly depth: number;
  readonly serial: number;
}

/** The innermost open tidy scope, or null outside tidy(). */
export function currentScope(): ScopeRef | null {
  const depth = scopes.length;
  return depth === 0 ? null : { depth, serial: serials[depth - 1] };
}

/**
 * Gives `storage` to `scope` (an optimizer's state, to the tidy its optimizer was made in): the
 * scopes inside it keep it, and closing it frees it. With null, or a scope closed since, the
 * storage is persistent: only the garbage collector frees it.
 */
export function ownedBy(storage: DeviceStorage, scope: ScopeRef | null): void {
  if (scope === null || serials[scope.depth - 1] !== scope.serial) {
    storage.persistent = true;
    return;
  }
  for (let d = scope.depth; d < scopes.length; d++) scopes[d]?.delete(storage);
  (scopes[scope.depth - 1] ??= new Set()).add(storage);
}

/** Device backends call this for each storage they allocate: the innermost open scope owns it. */
export function trackAllocation(storage: DeviceStorage): void {
  const top = scopes.length - 1;
  if (top >= 0) (scopes[top] ??= new Set()).add(storage);
}

/** A freed storage needs no more watching as a gradient. */
export function forgetStorage(storage: DeviceStorage): void {
  gradHolders.delete(storage);
}

export function openScope(): void {
  scopes.push(null);
  serials.push(++lastSerial);
}

function heldGrad(storage: DeviceStorage): boolean {
  return gradHolders.get(storage)?.deref()?.grad?.storage === storage;
}

/**
 * Frees what was allocated since the matching openScope(), except `keep` (which the enclosing
 * scope then owns), persistent storages and gradients still in some tensor's `.grad`. With
 * `dropped`, gradients replaced or cleared since backward() stored them are freed too.
 */
export function closeScope(keep: readonly Tensor[], dropped = false): void {
  if (scopes.length === 0) throw new Error('closeScope() without openScope()');
  const scope = scopes.pop();
  serials.pop();
  if (!scope && (!dropped || gradHolders.size === 0)) return; // nothing to free: CPU work
  const kept = new Set(keep.map((t) => t.storage));
  for (const storage of scope ?? []) {
    if (kept.has(storage)) trackAllocation(storage);
    else if (!storage.persistent && !heldGrad(storage)) storage.free();
  }
  if (!dropped) return;
  for (const storage of [...gradHolders.keys()]) {
    if (heldGrad(storage)) continue;
    gradHolders.delete(storage);
    if (!kept.has(storage) && !storage.persistent) storage.free();
  }
}

/** backward() stored `t.grad`: tidy keeps it while `t.grad` is this tensor. */
export function holdGrad(t: Tensor): void {
  if (t.grad?.storage) gradHolders.set(t.grad.storage, new WeakRef(t));
}

function tensorsIn(value: unknown, depth = 0, out: Tensor[] = []): Tensor[] {
  if (value instanceof Tensor) out.push(value);
  else if (depth < 4 && value !== null && typeof value === 'object') {
    for (const item of Array.isArray(value) ? value : Object.values(value)) tensorsIn(item, depth + 1, out);
  }
  return out;
}

/**
 * Runs `fn` and frees the GPU memory of every tensor made inside it at once, except the tensors
 * it returns (in arrays or objects too), parameters, gradients and optimizer state. A tensor made
 * inside and kept some other way (pushed to an outer array, say) is freed too: reading it throws.
 * Without it, GPU memory returns to the pool when the garbage collector drops the tensors. CPU
 * tensors are untouched.
 */
export function tidy<T>(fn: () => T): T {
  openScope();
  let result: T | undefined;
  try {
    result = fn();
    if (result instanceof Promise) throw new Error('tidy() takes a synchronous function: await outside it');
    return result;
  } finally {
    closeScope(tensorsIn(result), true);
  }
}
