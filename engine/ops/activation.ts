import { record } from '../autograd';
import { normalizeDim } from '../shape';
import type { Tensor } from '../tensor';
import { pointwise } from './arithmetic';

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

export function sigmoid(x: Tensor): Tensor {
  const y = x.backend.unary('sigmoid', x, []);
  return record(y, 'SigmoidBackward0', [x], (g) => [y.backend.binary('sigmoid_backward', g, y)]);
}

export function tanh(x: Tensor): Tensor {
  const y = x.backend.unary('tanh', x, []);
  return record(y, 'TanhBackward0', [x], (g) => [y.backend.binary('tanh_backward', g, y)]);
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
