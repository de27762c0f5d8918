/** Backprop Studio's engine: PyTorch's API and semantics in TypeScript. See engine/README.md. */
export { Tensor, type NestedArray } from './tensor';
export type { DType } from './dtype';
export { Generator, manual_seed } from './random';
export { no_grad, enable_grad, is_grad_enabled, set_grad_enabled } from './autograd';
export { type Device, tidy } from './device';
export * as webgpu from './webgpu';
export {
  tensor, zeros, ones, full, zeros_like, ones_like, rand, randn, randperm, max,
  add, sub, mul, div, neg, pow, exp, log, sqrt, abs, clamp, matmul, transpose, reshape,
  sum, mean, cat, gather, relu, sigmoid, tanh, softmax, log_softmax,
} from './ops/index';
export * as nn from './nn/index';
export * as optim from './optim/index';
