/**
 * torch.webgpu: the GPU behind 'webgpu' tensors (one device per engine). Node gets it from Dawn
 * (the `webgpu` package), browsers and Electron renderers from navigator.gpu.
 */
import { acquireDevice, type AdapterReport, type DeviceOptions } from './backends/webgpu/device';
import { GpuEngine, GpuStorage } from './backends/webgpu/engine';
import { setWebGPU } from './device';
import { Tensor } from './tensor';

export { type AdapterReport, type DeviceOptions, GpuUnavailableError } from './backends/webgpu/device';

let engine: GpuEngine | null = null;

export interface InitOptions extends DeviceOptions {
  /**
   * Called once, with one sentence, if the GPU is lost or runs out of memory: the tensors then
   * live on the CPU with their current values, and training carries on there. Default: console.warn.
   */
  on_fallback?: (message: string) => void;
}

/**
 * Opens the GPU (once; again after a failure or release()) and resolves with its adapter report,
 * for the UI to show. Throws GpuUnavailableError, saying why, where there is none.
 */
export async function init(options: InitOptions = {}): Promise<AdapterReport> {
  if (engine?.available) return engine.context.adapter;
  const { on_fallback = (message: string) => console.warn(message), ...deviceOptions } = options;
  const context = await acquireDevice(deviceOptions);
  engine = new GpuEngine(context, on_fallback);
  setWebGPU(engine);
  return context.adapter;
}

/** Whether 'webgpu' tensors are on a GPU now: init() succeeded, and the device has not failed since. */
export function is_available(): boolean {
  return engine?.available ?? false;
}

/** The open adapter (vendor, architecture, software or not), or null. */
export function adapter(): AdapterReport | null {
  return engine?.available ? engine.context.adapter : null;
}

/** Submits the recorded work and waits for the GPU: call it (or read a value) every few steps, so the CPU does not run far ahead. */
export async function synchronize(): Promise<void> {
  await engine?.synchronize();
}

/** The GPU memory pool, the recovery log, the kernels dispatched and the values read back (round trips) so far, for tests and diagnostics. */
export function memory_stats(): ReturnType<GpuEngine['stats']> | null {
  return engine?.available ? engine.stats() : null;
}

type Holder = Tensor | { parameters(): Tensor[] } | { state: Map<Tensor, Record<string, unknown>> };

/**
 * Reads the values of tensors, of a module's parameters (and gradients) or of an optimizer's
 * state back in one round trip, so that their synchronous readers work until they change again:
 * tolist(), item(), state_dict() of an optimizer, module.to('cpu').
 */
export async function fetch(...holders: Holder[]): Promise<void> {
  const tensors: Tensor[] = [];
  for (const h of holders) {
    if (h instanceof Tensor) tensors.push(h);
    else if ('parameters' in h) for (const p of h.parameters()) tensors.push(p, ...(p.grad ? [p.grad] : []));
    else for (const state of h.state.values()) for (const v of Object.values(state)) if (v instanceof Tensor) tensors.push(v);
  }
  const byEngine = new Map<GpuEngine, Set<GpuStorage>>();
  for (const { storage } of tensors) {
    // A freed tensor (a dead optimizer's state, say) has nothing to read: its readers say so.
    if (!(storage instanceof GpuStorage) || storage.freed || storage.host() !== null) continue;
    const set = byEngine.get(storage.engine) ?? new Set();
    byEngine.set(storage.engine, set.add(storage));
  }
  await Promise.all([...byEngine].map(([owner, storages]) => owner.readBack([...storages])));
}

/**
 * Moves every GPU tensor to the CPU with its values and closes the device (so that Node can
 * exit). 'webgpu' needs init() again afterwards.
 */
export async function release(): Promise<void> {
  if (!engine) return;
  const closing = engine;
  engine = null;
  setWebGPU(null);
  await closing.moveAllToHost();
  closing.context.destroy();
}
