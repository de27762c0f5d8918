import type { Tensor } from '../tensor';
import * as F from './losses';
import { Module } from './module';

/** A loss module: the functional loss with its options fixed; forward(input, target). */
function lossModule<O>(loss: (input: Tensor, target: Tensor, options: O) => Tensor) {
  return class extends Module {
    constructor(readonly options: O = {} as O) {
      super();
    }

    forward(input: Tensor, target: Tensor): Tensor {
      return loss(input, target, this.options);
    }
  };
}

export const CrossEntropyLoss = lossModule(F.cross_entropy);
export const NLLLoss = lossModule(F.nll_loss);
export const MSELoss = lossModule(F.mse_loss);
export const L1Loss = lossModule(F.l1_loss);
export const SmoothL1Loss = lossModule(F.smooth_l1_loss);
export const HuberLoss = lossModule(F.huber_loss);
export const BCELoss = lossModule(F.binary_cross_entropy);
export const BCEWithLogitsLoss = lossModule(F.binary_cross_entropy_with_logits);
