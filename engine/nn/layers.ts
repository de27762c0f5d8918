import type { FusedActivation } from '../backend';
import type { DType } from '../dtype';
import { defaultGenerator, type Generator } from '../random';
import type { Tensor } from '../tensor';
import * as ops from '../ops/index';
import { dropout } from './functional';
import { Module } from './module';
import { Parameter } from './parameter';

export interface LinearOptions {
  bias?: boolean;
  dtype?: DType;
  generator?: Generator;
}

/** y = x·Wᵀ + b, W of shape [out_features, in_features], initialised as PyTorch does. */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;

  constructor(readonly in_features: number, readonly out_features: number, { bias = true, dtype = 'float32', generator = defaultGenerator }: LinearOptions = {}) {
    super();
    // kaiming_uniform_(a=√5): gain = √(2/(1+a²)), bound = gain·√(3/fan_in), in Python's float order.
    const gain = Math.sqrt(2 / (1 + Math.sqrt(5) ** 2));
    const bound = Math.sqrt(3) * (gain / Math.sqrt(in_features));
    this.weight = Parameter(ops.zeros([out_features, in_features], { dtype }));
    generator.fillUniform(this.weight.data, -bound, bound);
    if (bias) {
      const biasBound = in_features > 0 ? 1 / Math.sqrt(in_features) : 0;
      this.bias = Parameter(ops.zeros([out_features], { dtype }));
      generator.fillUniform(this.bias.data, -biasBound, biasBound);
    } else {
      this.bias = null;
    }
  }

  forward(x: Tensor): Tensor {
    return ops.linear(x, this.weight, this.bias);
  }
}

export class Sequential extends Module {
  // Private: not an own enumerable property, so parameters are found once, under '0', '1', ...
  readonly #layers: Module[];

  constructor(...modules: Module[]) {
    super();
    this.#layers = modules;
    modules.forEach((m, i) => Object.assign(this, { [String(i)]: m }));
  }

  forward(x: Tensor): Tensor {
    let out = x;
    const layers = this.#layers;
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i];
      // Linear then ReLU, Sigmoid or Tanh: one kernel on a device that fuses them.
      const activation = layer.constructor === Linear ? FUSABLE.get(layers[i + 1]?.constructor) : undefined;
      if (activation) {
        const { weight, bias } = layer as Linear;
        out = ops.linearActivation(out, weight, bias, activation);
        i++;
      } else {
        out = layer.forward(out);
      }
    }
    return out;
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor { return ops.relu(x); }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor { return ops.sigmoid(x); }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor { return ops.tanh(x); }
}

/** The activation modules that linearActivation fuses with a preceding Linear. */
const FUSABLE = new Map<unknown, FusedActivation>([[ReLU, 'relu'], [Sigmoid, 'sigmoid'], [Tanh, 'tanh']]);

export class LeakyReLU extends Module {
  constructor(readonly negative_slope = 0.01) { super(); }
  forward(x: Tensor): Tensor { return ops.leaky_relu(x, { negative_slope: this.negative_slope }); }
}

export class ELU extends Module {
  constructor(readonly alpha = 1) { super(); }
  forward(x: Tensor): Tensor { return ops.elu(x, { alpha: this.alpha }); }
}

export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') { super(); }
  forward(x: Tensor): Tensor { return ops.gelu(x, { approximate: this.approximate }); }
}

export class Softplus extends Module {
  constructor(readonly beta = 1, readonly threshold = 20) { super(); }
  forward(x: Tensor): Tensor { return ops.softplus(x, { beta: this.beta, threshold: this.threshold }); }
}

export class Softmax extends Module {
  constructor(readonly dim: number) { super(); }
  forward(x: Tensor): Tensor { return ops.softmax(x, this.dim); }
}

export class LogSoftmax extends Module {
  constructor(readonly dim: number) { super(); }
  forward(x: Tensor): Tensor { return ops.log_softmax(x, this.dim); }
}

export class Dropout extends Module {
  constructor(readonly p = 0.5) { super(); }
  forward(x: Tensor): Tensor { return dropout(x, { p: this.p, training: this.training }); }
}
