import { no_grad, record } from '../autograd';
import { formatShape } from '../shape';
import { Tensor } from '../tensor';
import { add, asTensor, clamp, exp, gather, log, log_softmax, mul, neg, pointwise, reshape, sub, sum, tensor } from '../ops/index';

export type Reduction = 'mean' | 'sum' | 'none';

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return loss;
  if (reduction === 'sum') return loss.sum();
  if (reduction === 'mean') return loss.mean();
  throw new Error(`reduction must be 'mean', 'sum' or 'none', not '${String(reduction)}'`);
}

export interface NllOptions {
  weight?: Tensor | null;
  ignore_index?: number;
  reduction?: Reduction;
}

interface Picked {
  /** input[i, target_i] for each sample i (0 where the target is ignored). */
  picked: Tensor;
  /** weight[target_i], or 1; 0 where the target is ignored. */
  weights: Tensor;
  /** 1 for samples that count, 0 for ignored ones. */
  kept: Tensor;
}

/** Per-sample values and weights of an [N, C] input for integer class targets. */
function pickTargets(input: Tensor, target: Tensor, weight: Tensor | null | undefined, ignoreIndex: number): Picked {
  if (target.dtype !== 'int64') throw new Error('class-index targets must be an int64 tensor');
  const [n, classes] = input.shape;
  if (target.dim() !== 1 || target.shape[0] !== n) {
    throw new Error(`the target has shape ${formatShape(target.shape)}, but the input has ${n} samples`);
  }
  if (weight && (weight.dim() !== 1 || weight.shape[0] !== classes)) {
    throw new Error(`the class weights have shape ${formatShape(weight.shape)}, but there are ${classes} classes`);
  }
  const index = new Float64Array(n);
  const weights = new Float64Array(n);
  const kept = new Float64Array(n);
  target.data.forEach((t, i) => {
    if (t === ignoreIndex) return;
    if (!Number.isInteger(t) || t < 0 || t >= classes) throw new Error(`target ${t} is out of bounds for ${classes} classes`);
    index[i] = t;
    kept[i] = 1;
    weights[i] = weight ? weight.data[t] : 1;
  });
  const b = input.backend;
  const picked = reshape(gather(input, 1, b.fromHost(index, [n, 1], 'int64')), [n]);
  return { picked, weights: b.fromHost(weights, [n], input.dtype), kept: b.fromHost(kept, [n], input.dtype) };
}

/** Inputs [C] (one sample, 0-d target) are treated as a batch of one, as PyTorch does. */
function asBatch(input: Tensor, target: Tensor, run: (input: Tensor, target: Tensor) => Tensor, reduction: Reduction): Tensor {
  if (input.dim() !== 1) return run(input, target);
  const out = run(reshape(input, [1, input.shape[0]]), reshape(target, [1]));
  return reduction === 'none' ? reshape(out, []) : out;
}

export function nll_loss(input: Tensor, target: Tensor, { weight, ignore_index = -100, reduction = 'mean' }: NllOptions = {}): Tensor {
  return asBatch(input, target, (x, t) => {
    const { picked, weights } = pickTargets(x, t, weight, ignore_index);
    const losses = neg(mul(picked, weights));
    // The mean divides by the total weight of the counted samples, not by N.
    return reduction === 'mean' ? losses.sum().div(weights.sum()) : reduce(losses, reduction);
  }, reduction);
}

export interface CrossEntropyOptions extends NllOptions {
  label_smoothing?: number;
}

export function cross_entropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const { weight, ignore_index = -100, reduction = 'mean', label_smoothing = 0 } = options;
  const classDim = input.dim() === 1 ? 0 : 1;
  const classes = input.shape[classDim];
  const logp = log_softmax(input, classDim);
  if (target.dtype !== 'int64') {
    return probabilityCrossEntropy(logp, target, weight, reduction, label_smoothing, classDim);
  }
  const nll = nll_loss(logp, target, { weight, ignore_index, reduction });
  if (label_smoothing <= 0) return nll;
  const smooth = asBatch(logp, target, (x, t) => {
    const { weights, kept } = pickTargets(x, t, weight, ignore_index);
    const perSample = mul(neg(sum(weight ? mul(x, reshape(weight, [1, classes])) : x, 1)), kept);
    if (reduction !== 'mean') return reduce(perSample, reduction);
    return perSample.sum().div(weight ? weights.sum() : kept.sum());
  }, reduction);
  return add(mul(nll, 1 - label_smoothing), mul(smooth, label_smoothing / classes));
}

function probabilityCrossEntropy(logp: Tensor, target: Tensor, weight: Tensor | null | undefined, reduction: Reduction, smoothing: number, classDim: number): Tensor {
  const classes = logp.shape[classDim];
  if (target.shape.join() !== logp.shape.join()) {
    throw new Error(`probability targets must have the input's shape ${formatShape(logp.shape)}, not ${formatShape(target.shape)}`);
  }
  const t = smoothing > 0 ? add(mul(target, 1 - smoothing), smoothing / classes) : target;
  let product = mul(logp, t);
  if (weight) product = mul(product, classDim === 1 ? reshape(weight, [1, classes]) : weight);
  if (reduction === 'none') return neg(sum(product, classDim));
  const total = neg(product.sum());
  return reduction === 'sum' ? total : total.div(logp.numel() / classes);
}

export interface ReductionOptions {
  reduction?: Reduction;
}

export function mse_loss(input: Tensor, target: Tensor, { reduction = 'mean' }: ReductionOptions = {}): Tensor {
  return reduce(sub(input, target).pow(2), reduction);
}

export function l1_loss(input: Tensor, target: Tensor, { reduction = 'mean' }: ReductionOptions = {}): Tensor {
  return reduce(sub(input, target).abs(), reduction);
}

export function smooth_l1_loss(input: Tensor, target: Tensor, { reduction = 'mean', beta = 1 }: ReductionOptions & { beta?: number } = {}): Tensor {
  if (beta === 0) return l1_loss(input, target, { reduction });
  return reduce(pointwise('SmoothL1LossBackward0', 'smooth_l1', 'smooth_l1_grad', sub(input, target), [beta]), reduction);
}

export function huber_loss(input: Tensor, target: Tensor, { reduction = 'mean', delta = 1 }: ReductionOptions & { delta?: number } = {}): Tensor {
  return reduce(pointwise('HuberLossBackward0', 'huber', 'huber_grad', sub(input, target), [delta]), reduction);
}

export interface WeightedOptions extends ReductionOptions {
  weight?: Tensor | null;
}

export function binary_cross_entropy(input: Tensor, target: Tensor, { weight, reduction = 'mean' }: WeightedOptions = {}): Tensor {
  if (input.data.some((p) => !(p >= 0 && p <= 1))) {
    throw new Error('binary_cross_entropy needs every input between 0 and 1 (apply a Sigmoid first, or use binary_cross_entropy_with_logits)');
  }
  const b = input.backend;
  let loss = b.binary('bce', input, target);
  if (weight) loss = b.binary('mul', loss, weight);
  const out = record(loss, 'BinaryCrossEntropyBackward0', [input], (g) => {
    const grad = mul(g, b.binary('bce_grad', input, target));
    return [weight ? mul(grad, weight) : grad];
  });
  return reduce(out, reduction);
}

export interface LogitsOptions extends WeightedOptions {
  pos_weight?: Tensor | null;
}

/** PyTorch's numerically stable form: no overflow for large logits of either sign. */
export function binary_cross_entropy_with_logits(input: Tensor, target: Tensor, { weight, pos_weight, reduction = 'mean' }: LogitsOptions = {}): Tensor {
  const loss = no_grad(() => {
    const maxVal = clamp(neg(input), 0);
    const logSum = log(add(exp(neg(maxVal)), exp(sub(neg(input), maxVal))));
    const linear = mul(sub(asTensor(1, target), target), input);
    // The same order of float operations as PyTorch, so float32 rounding agrees too.
    const l = pos_weight
      ? add(linear, mul(add(mul(sub(pos_weight, 1), target), 1), add(logSum, maxVal)))
      : add(add(linear, maxVal), logSum);
    return weight ? mul(l, weight) : l;
  });
  const out = record(loss, 'BinaryCrossEntropyWithLogitsBackward0', [input], (g) => {
    const s = input.sigmoid();
    let grad: Tensor;
    if (pos_weight) {
      const t = mul(pos_weight, target);
      grad = mul(sub(mul(sub(add(t, 1), target), s), t), g);
    } else {
      grad = mul(sub(s, target), g);
    }
    return [weight ? mul(grad, weight) : grad];
  });
  return reduce(out, reduction);
}
