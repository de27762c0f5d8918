import { defaultGenerator, type Generator } from '../random';
import type { Tensor } from '../tensor';
import { mul, tensor } from '../ops/index';

export { elu, gelu, leaky_relu, linear, log_softmax, relu, sigmoid, softmax, softplus, tanh } from '../ops/index';
export * from './losses';

export interface DropoutOptions {
  p?: number;
  training?: boolean;
  generator?: Generator;
}

/** Zeroes each element with probability p and scales the rest by 1/(1−p); identity in eval. */
export function dropout(x: Tensor, { p = 0.5, training = true, generator = defaultGenerator }: DropoutOptions = {}): Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout probability has to be between 0 and 1, but got ${p}`);
  if (!training || p === 0) return x;
  const keep = 1 - p;
  const mask = new Array<number>(x.numel());
  for (let i = 0; i < mask.length; i++) mask[i] = p === 1 || generator.random53() >= keep ? 0 : 1 / keep;
  return mul(x, tensor(mask, { dtype: x.dtype }).reshape(x.shape));
}
