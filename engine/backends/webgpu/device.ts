/// <reference types="webgpu" />
/**
 * The one place that acquires a GPU device. Node (CLI, tests, Electron's utility process) loads
 * Dawn from the `webgpu` package; browsers and Electron renderers use navigator.gpu. Everything
 * after acquisition is shared.
 */

export interface DeviceOptions {
  /**
   * Dawn's backend, Node only: 'vulkan', 'opengles', 'd3d12', 'metal' (default: Dawn's choice for
   * the platform). 'opengles' is how CI reaches Mesa's llvmpipe.
   */
  backend?: string;
  /** 'compatibility' admits OpenGL ES adapters (lower limits); default 'core', or 'compatibility' for 'opengles'. */
  featureLevel?: 'core' | 'compatibility';
  powerPreference?: GPUPowerPreference;
  /**
   * Lower maximums than the adapter's, which the kernels keep to (tests: compatibility mode's 4
   * storage buffers per stage). WebGPU raises a request below its default to the default (Dawn's
   * is 8 storage buffers, even in compatibility mode), so GpuContext.limits carries them.
   */
  limits?: Partial<Record<MaxLimit, number>>;
}

/** What the UI shows about the adapter. */
export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** As the adapter reports it: Dawn reports false even for llvmpipe. */
  isFallbackAdapter: boolean;
  /** A CPU implementation (llvmpipe, SwiftShader, WARP...), judged from the names as well. */
  software: boolean;
  featureLevel: 'core' | 'compatibility';
  /** 'dawn' (Node, with its backend) or 'navigator.gpu'. */
  api: string;
}

export interface GpuContext {
  readonly device: GPUDevice;
  /** The limits the kernels keep to: the device's, or DeviceOptions.limits where those are lower. */
  readonly limits: Readonly<Record<KernelLimit, number>>;
  readonly adapter: AdapterReport;
  /** Resolves with a one-sentence reason when the device is lost (destroy() included). */
  readonly lost: Promise<string>;
  /** Destroys the device and drops Dawn, so that Node can exit. */
  destroy(): void;
}

/** No usable adapter: the message says why (no WebGPU, no adapter, device request refused). */
export class GpuUnavailableError extends Error {
  override name = 'GpuUnavailableError';
}

// Raised to the adapter's own values where it offers more than WebGPU's defaults (or, for the
// alignments, less): compatibility-mode defaults are low (4 storage buffers, 128 invocations).
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'minUniformBufferOffsetAlignment',
  'minStorageBufferOffsetAlignment',
] as const;

/** The limits the kernels read. */
export type KernelLimit = (typeof WANTED_LIMITS)[number];
type MaxLimit = Extract<KernelLimit, `max${string}`>;

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render|\bwarp\b/i;

interface Gpu {
  gpu: GPU;
  api: string;
  /** Drops what keeps Node's event loop alive (Dawn's instance). */
  release(): void;
}

async function loadGpu(options: DeviceOptions): Promise<Gpu> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, api: 'navigator.gpu', release: () => {} };
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new GpuUnavailableError('this browser has no WebGPU (navigator.gpu is missing)');
  }
  // A computed specifier, so that browser bundlers do not try to bundle Dawn's native addon.
  const specifier = 'webgpu';
  let dawn: typeof import('webgpu');
  try {
    dawn = (await import(/* @vite-ignore */ specifier)) as typeof import('webgpu');
  } catch (error) {
    throw new GpuUnavailableError(`the 'webgpu' package (Dawn) could not be loaded: ${(error as Error).message}`);
  }
  // Dawn's objects expect WebGPU's globals (GPUBufferUsage...) as a browser has them.
  Object.assign(globalThis, dawn.globals);
  // Mesa's EGL needs no display for compute; without this it looks for X or Wayland and fails.
  // Only the main thread's environment reaches EGL: worker threads must inherit it.
  if (options.backend === 'opengles' && process.platform === 'linux') process.env.EGL_PLATFORM ??= 'surfaceless';
  let gpu: GPU | null = dawn.create(options.backend ? [`backend=${options.backend}`] : []);
  return {
    gpu,
    api: options.backend ? `dawn (${options.backend})` : 'dawn',
    release: () => {
      gpu = null;
    },
  };
}

function report(adapter: GPUAdapter, device: GPUDevice, api: string): AdapterReport {
  const info = adapter.info;
  const fallback = Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter);
  const names = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: fallback,
    software: fallback || SOFTWARE.test(names),
    featureLevel: device.features.has('core-features-and-limits') ? 'core' : 'compatibility',
    api,
  };
}

/** Acquires an adapter and a device; throws GpuUnavailableError with the reason when there is none. */
export async function acquireDevice(options: DeviceOptions = {}): Promise<GpuContext> {
  const featureLevel = options.featureLevel ?? (options.backend === 'opengles' ? 'compatibility' : 'core');
  const loaded = await loadGpu(options);
  const adapter = await loaded.gpu.requestAdapter({ featureLevel, powerPreference: options.powerPreference });
  if (!adapter) {
    loaded.release();
    const hint = options.backend !== 'opengles' ? ''
      : featureLevel === 'core' ? ": OpenGL ES offers featureLevel 'compatibility' only"
        : ': Mesa needs libegl1, libgles2, libegl-mesa0 and libgl1-mesa-dri, and EGL_PLATFORM=surfaceless';
    throw new GpuUnavailableError(`no WebGPU adapter (${loaded.api}, featureLevel '${featureLevel}')${hint}`);
  }
  const lowered: Partial<Record<KernelLimit, number>> = options.limits ?? {};
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const value = lowered[name] ?? (adapter.limits as unknown as Record<string, number | undefined>)[name];
    if (value !== undefined) requiredLimits[name] = value;
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, label: 'Backprop Studio' });
  } catch (error) {
    loaded.release();
    throw new GpuUnavailableError(`the adapter refused a device: ${(error as Error).message}`);
  }
  const lost = device.lost.then((info) => `the GPU device was lost (${info.reason}): ${info.message}`);
  const limits = Object.fromEntries(WANTED_LIMITS.map((name) => [name, Math.min(device.limits[name], lowered[name] ?? Infinity)])) as Record<KernelLimit, number>;
  return {
    device,
    limits,
    adapter: report(adapter, device, loaded.api),
    lost,
    destroy() {
      device.destroy();
      loaded.release();
    },
  };
}
