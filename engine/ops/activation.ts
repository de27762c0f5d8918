import { record } from '../autograd';
import type { FusedActivation } from '../backend';
import { normalizeDim } from '../shape';
import type { Tensor } from '../tensor';
import { backendOf, linear, linearGrads, pointwise } from './arithmetic';

export const relu = (x: Tensor): Tensor => pointwise('ReluBackward0', 'relu', x);

export const leaky_relu = (x: Tensor, { negative_slope = 0.01 } = {}): Tensor =>
  pointwise('LeakyReluBackward0', 'leaky_relu', x, [negative_slope]);

export const elu = (x: Tensor, { alpha = 1 } = {}): Tensor => pointwise('EluBackward0', 'elu', x, [alpha]);

export function gelu(x: Tensor, { approximate = 'none' }: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  return approximate === 'tanh'
    ? pointwise('GeluBackward0', 'gelu_tanh', x)
    : pointwise('GeluBackward0', 'gelu', x);
}

export const softplus = (x: Tensor, { beta = 1, threshold = 20 } = {}): Tensor =>
  pointwise('SoftplusBackward0', 'softplus', x, [beta, threshold]);

/**
 * The grad_fn names and gradients, from the output y, of the activations that a device fuses into
 * linear (relu's from y equals relu's from its input: y ≤ 0 exactly where x ≤ 0, and NaN stays NaN).
 */
const FROM_OUTPUT: Record<FusedActivation, { name: string; grad: (g: Tensor, y: Tensor) => Tensor }> = {
  relu: { name: 'ReluBackward0', grad: (g, y) => g.backend.unaryBackward('relu', g, y, []) },
  sigmoid: { name: 'SigmoidBackward0', grad: (g, y) => y.backend.binary('sigmoid_backward', g, y) },
  tanh: { name: 'TanhBackward0', grad: (g, y) => y.backend.binary('tanh_backward', g, y) },
};

export function sigmoid(x: Tensor): Tensor {
  const y = x.backend.unary('sigmoid', x, []);
  return record(y, FROM_OUTPUT.sigmoid.name, [x], (g) => [FROM_OUTPUT.sigmoid.grad(g, y)]);
}

export function tanh(x: Tensor): Tensor {
  const y = x.backend.unary('tanh', x, []);
  return record(y, FROM_OUTPUT.tanh.name, [x], (g) => [FROM_OUTPUT.tanh.grad(g, y)]);
}

/**
 * activation(linear(x, weight, bias)), nn.Sequential's Linear followed by ReLU, Sigmoid or Tanh: on
 * a device with the fused kernel (WebGPU) one matmul whose epilogue adds the bias and applies the
 * activation, with the same values and the activation's grad_fn; elsewhere the two ops.
 */
export function linearActivation(x: Tensor, weight: Tensor, bias: Tensor | null, activation: FusedActivation): Tensor {
  const b = backendOf(x, weight);
  if (!b.linear || x.dim() !== 2) return { relu, sigmoid, tanh }[activation](linear(x, weight, bias));
  const y = b.linear(x, weight, bias, activation);
  const { name, grad } = FROM_OUTPUT[activation];
  return record(y, name, bias ? [x, weight, bias] : [x, weight], (g) => linearGrads(x, weight, bias, grad(g, y)));
}

export function softmax(x: Tensor, dim: number): Tensor {
  const d = normalizeDim(dim, x.dim());
  const y = x.backend.softmax(x, d, false);
  return record(y, 'SoftmaxBackward0', [x], (g) => [y.backend.softmaxBackward(g, y, d, false)]);
}

export function log_softmax(x: Tensor, dim: number): Tensor {
  const d = normalizeDim(dim, x.dim());
  const y = x.backend.softmax(x, d, true);
  return record(y, 'LogSoftmaxBackward0', [x], (g) => [y.backend.softmaxBackward(g, y, d, true)]);
}
