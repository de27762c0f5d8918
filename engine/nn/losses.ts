import { no_grad, record } from '../autograd';
import type { Backend } from '../backend';
import { formatShape } from '../shape';
import type { Tensor } from '../tensor';
import { add, asTensor, clamp, exp, log, log_softmax, mul, neg, pointwise, reshape, sub, sum } from '../ops/index';

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

interface Targets {
  /** The target class of each sample as an int64 [N, 1] index (0 where ignored). */
  index: Tensor;
  /** weight[target_i], or 1; 0 where the target is ignored. */
  weights: Tensor;
  /** The sum of the weights: the denominator of the 'mean' reduction. */
  totalWeight: number;
}

/** Checks integer class targets against an [N, C] input and turns them into index and weights. */
function readTargets(input: Tensor, target: Tensor, weight: Tensor | null | undefined, ignoreIndex: number): Targets {
  const { index, weights, totalWeight } = hostTargets(input, target, weight, ignoreIndex);
  const b = input.backend;
  return {
    index: b.fromHost(index, [index.length, 1], 'int64'),
    weights: b.fromHost(weights, [index.length], input.dtype),
    totalWeight,
  };
}

/** readTargets' checks and values, on the host. */
function hostTargets(input: Tensor, target: Tensor, weight: Tensor | null | undefined, ignoreIndex: number):
  { index: Float64Array; weights: Float64Array; kept: Float64Array; totalWeight: number } {
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
  let totalWeight = 0;
  // Checked and looked up on the host: targets and class weights are host data (a GPU copy made
  // from host values keeps them), and each of the results below is uploaded once.
  const weightValues = weight?.hostValues();
  target.hostValues().forEach((t, i) => {
    if (t === ignoreIndex) return;
    if (!Number.isInteger(t) || t < 0 || t >= classes) throw new Error(`target ${t} is out of bounds for ${classes} classes`);
    index[i] = t;
    kept[i] = 1;
    weights[i] = weightValues ? weightValues[t] : 1;
    totalWeight += weights[i];
  });
  return { index, weights, kept, totalWeight };
}

/** Inputs [C] (one sample, 0-d target) are treated as a batch of one, as PyTorch does. */
function asBatch(input: Tensor, target: Tensor, run: (input: Tensor, target: Tensor) => Tensor, reduction: Reduction): Tensor {
  if (input.dim() !== 1) return run(input, target);
  const out = run(reshape(input, [1, input.shape[0]]), reshape(target, [1]));
  return reduction === 'none' ? reshape(out, []) : out;
}

/** -weight[t]·input[t] per sample; the 'mean' divides by the total weight of the counted samples. */
function nll(x: Tensor, t: Targets, reduction: Reduction): Tensor {
  const b = x.backend;
  const n = x.shape[0];
  const losses = b.binary('mul', b.unary('neg', reshape(b.gather(x, 1, t.index), [n]), []), t.weights);
  const total = asTensor(t.totalWeight, x);
  const out = reduction === 'none' ? losses : reduction === 'sum' ? b.sum(losses, [0], false) : b.binary('div', b.sum(losses, [0], false), total);
  return record(out, 'NllLossBackward0', [x], (g) => {
    const scale = b.unary('neg', reduction === 'mean' ? b.binary('div', g, total) : g, []);
    const perSample = b.binary('mul_nonzero', t.weights, scale);
    return [b.scatterAdd(x.shape, 1, t.index, reshape(perSample, [n, 1]))];
  });
}

export function nll_loss(input: Tensor, target: Tensor, { weight, ignore_index = -100, reduction = 'mean' }: NllOptions = {}): Tensor {
  return asBatch(input, target, (x, t) => nll(x, readTargets(x, t, weight, ignore_index), reduction), reduction);
}

export interface CrossEntropyOptions extends NllOptions {
  label_smoothing?: number;
}

export function cross_entropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const { weight, ignore_index = -100, reduction = 'mean', label_smoothing = 0 } = options;
  const classDim = input.dim() === 1 ? 0 : 1;
  const classes = input.shape[classDim];
  const fused = input.backend.crossEntropy;
  if (fused && target.dtype === 'int64' && label_smoothing <= 0 && input.dtype === 'float32' && input.dim() <= 2) {
    return asBatch(input, target, (x, t) => fusedCrossEntropy(x, t, weight, ignore_index, reduction), reduction);
  }
  const logp = log_softmax(input, classDim);
  if (target.dtype !== 'int64') {
    return probabilityCrossEntropy(logp, target, weight, reduction, label_smoothing, classDim);
  }
  const nllLoss = nll_loss(logp, target, { weight, ignore_index, reduction });
  if (label_smoothing <= 0) return nllLoss;
  const smooth = asBatch(logp, target, (x, t) => {
    const { kept: keptValues, totalWeight } = hostTargets(x, t, weight, ignore_index);
    const kept = x.backend.fromHost(keptValues, [keptValues.length], x.dtype);
    const perSample = mul(neg(sum(weight ? mul(x, reshape(weight, [1, classes])) : x, 1)), kept);
    if (reduction !== 'mean') return reduce(perSample, reduction);
    return perSample.sum().div(weight ? totalWeight : kept.sum());
  }, reduction);
  return add(mul(nllLoss, 1 - label_smoothing), mul(smooth, label_smoothing / classes));
}

/**
 * cross_entropy on a device with the fused kernel (WebGPU): log_softmax and nll in one kernel each
 * way instead of eleven, with the same steps, so the same values.
 */
function fusedCrossEntropy(x: Tensor, target: Tensor, weight: Tensor | null | undefined, ignoreIndex: number, reduction: Reduction): Tensor {
  const { index, weights, totalWeight } = hostTargets(x, target, weight, ignoreIndex);
  const b = x.backend as Required<Backend>;
  const pairs = new Float32Array(2 * index.length);
  index.forEach((c, i) => {
    pairs[2 * i] = c;
    pairs[2 * i + 1] = weights[i];
  });
  const targets = b.fromHost(pairs, [index.length, 2], 'float32');
  const losses = b.crossEntropy(x, targets);
  const out = reduction === 'none' ? losses : reduction === 'sum' ? b.sum(losses, [0], false) : b.binary('div', b.sum(losses, [0], false), asTensor(totalWeight, x));
  return record(out, 'NllLossBackward0', [x], (g) => [b.crossEntropyBackward(x, targets, g, reduction === 'mean' ? Math.fround(totalWeight) : null)]);
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
  return reduce(pointwise('SmoothL1LossBackward0', 'smooth_l1', sub(input, target), [beta]), reduction);
}

export function huber_loss(input: Tensor, target: Tensor, { reduction = 'mean', delta = 1 }: ReductionOptions & { delta?: number } = {}): Tensor {
  return reduce(pointwise('HuberLossBackward0', 'huber', sub(input, target), [delta]), reduction);
}

export interface WeightedOptions extends ReductionOptions {
  weight?: Tensor | null;
}

/**
 * A loss computed element-wise, reduced inside the op as PyTorch's fused losses are: the backward
 * is the element-wise gradient times the upstream gradient, divided by N for the mean.
 */
function reducedLoss(name: string, input: Tensor, loss: Tensor, reduction: Reduction, elementGrad: (g: Tensor) => Tensor): Tensor {
  const b = input.backend;
  const all = loss.shape.map((_, i) => i);
  const count = asTensor(loss.numel(), input);
  let out = loss;
  if (reduction === 'sum') out = b.sum(loss, all, false);
  else if (reduction === 'mean') out = b.binary('div', b.sum(loss, all, false), count);
  else if (reduction !== 'none') throw new Error(`reduction must be 'mean', 'sum' or 'none', not '${String(reduction)}'`);
  return record(out, name, [input], (g) => {
    const grad = elementGrad(g);
    return [reduction === 'mean' ? b.binary('div', grad, count) : grad];
  });
}

export function binary_cross_entropy(input: Tensor, target: Tensor, { weight, reduction = 'mean' }: WeightedOptions = {}): Tensor {
  // Checked where the values are on the host; on the GPU that would wait for the device every
  // call, so there an input outside [0, 1] gives NaN instead.
  const values = input.storage === null ? input.data : input.storage.host();
  if (values?.some((p) => !(p >= 0 && p <= 1))) {
    throw new Error('binary_cross_entropy needs every input between 0 and 1 (apply a Sigmoid first, or use binary_cross_entropy_with_logits)');
  }
  const b = input.backend;
  const loss = b.binary('bce', input, target);
  return reducedLoss('BinaryCrossEntropyBackward0', input, weight ? b.binary('mul', loss, weight) : loss, reduction, (g) => {
    const grad = b.binary('mul', g, b.binary('bce_grad', input, target));
    return weight ? b.binary('mul', grad, weight) : grad;
  });
}

export interface LogitsOptions extends WeightedOptions {
  pos_weight?: Tensor | null;
}

/** PyTorch's numerically stable form: no overflow for large logits of either sign. */
export function binary_cross_entropy_with_logits(input: Tensor, target: Tensor, { weight, pos_weight, reduction = 'mean' }: LogitsOptions = {}): Tensor {
  // The same order of float operations as PyTorch, so float32 rounding agrees too.
  const loss = no_grad(() => {
    const maxVal = clamp(neg(input), 0);
    const logSum = log(add(exp(neg(maxVal)), exp(sub(neg(input), maxVal))));
    const linear = mul(sub(asTensor(1, target), target), input);
    const l = pos_weight
      ? add(linear, mul(add(mul(sub(pos_weight, 1), target), 1), add(logSum, maxVal)))
      : add(add(linear, maxVal), logSum);
    return weight ? mul(l, weight) : l;
  });
  return reducedLoss('BinaryCrossEntropyWithLogitsBackward0', input, loss, reduction, (g) => {
    const s = input.sigmoid();
    let grad: Tensor;
    if (pos_weight) {
      const t = mul(pos_weight, target);
      grad = mul(sub(mul(sub(add(t, 1), target), s), t), g);
    } else {
      grad = mul(sub(s, target), g);
    }
    return weight ? mul(grad, weight) : grad;
  });
}
