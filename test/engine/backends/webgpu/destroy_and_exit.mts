// Run by device.test.ts in a child process: acquires a device, computes, destroys it, and must
// then let Node exit by itself.
import { acquireDevice, WebGPUBackend } from '../../../../engine/backends/webgpu/index';

const context = await acquireDevice({ backend: process.env.WEBGPU_BACKEND ?? 'opengles' });
const backend = new WebGPUBackend(context);
const x = backend.fromHost(new Float32Array([0, 1, 2]), [3], 'float32');
console.log(Array.from(await backend.download(backend.unary('exp', x, []))).join(' '));
backend.dispose();
context.destroy();
