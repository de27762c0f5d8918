export { acquireDevice, type AdapterReport, type DeviceOptions, type GpuContext, GpuUnavailableError } from './device';
export { type BackendStats, type GpuDType, type GpuKernels, type GpuTensor, WebGPUBackend, type WebGPUBackendOptions } from './backend';
