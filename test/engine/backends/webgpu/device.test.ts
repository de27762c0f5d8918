/** Device acquisition: the adapter report, the reasons for no adapter, device loss, and exit. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { acquireDevice, GpuUnavailableError, WebGPUBackend } from '../../../../engine/backends/webgpu/index';
import { deviceOptions, useGpu } from './gpu';

const gpu = useGpu();

test('reports the adapter for the UI', () => {
  const { adapter } = gpu().context;
  for (const key of ['vendor', 'architecture', 'device', 'description', 'api'] as const) expect(typeof adapter[key]).toBe('string');
  expect(typeof adapter.isFallbackAdapter).toBe('boolean');
  expect(['core', 'compatibility']).toContain(adapter.featureLevel);
  if (/llvmpipe/.test(`${adapter.device} ${adapter.description}`)) expect(adapter.software).toBe(true);
  if (deviceOptions.backend === 'opengles') expect(adapter.featureLevel).toBe('compatibility');
});

test('no adapter: a GpuUnavailableError that says why', async () => {
  gpu();
  if (deviceOptions.backend !== 'opengles') return;
  const error = await acquireDevice({ ...deviceOptions, featureLevel: 'core' }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(GpuUnavailableError);
  expect(String(error)).toMatch(/no WebGPU adapter.*compatibility/);
});

test('after the device is lost, every op says so', async () => {
  gpu();
  const context = await acquireDevice(deviceOptions);
  const backend = new WebGPUBackend(context);
  const x = backend.fromHost(new Float32Array([1, 2]), [2], 'float32');
  context.destroy();
  expect(await context.lost).toMatch(/the GPU device was lost/);
  expect(() => backend.unary('exp', x, [])).toThrow(/the GPU device was lost/);
  await expect(backend.download(x)).rejects.toThrow(/the GPU device was lost/);
});

test('destroy() lets Node exit', () => {
  gpu();
  const script = fileURLToPath(new URL('./destroy_and_exit.mts', import.meta.url));
  const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 });
  expect(child.signal).toBeNull();
  expect(child.status).toBe(0);
  expect(child.stdout.trim()).toBe(`1 ${Math.fround(Math.E)} ${Math.fround(Math.exp(2))}`);
});
