// The benchmark workloads in TensorFlow.js on its wasm backend, one thread. Run by bench/run.ts
// (in its own process); prints one line of JSON: { version, threads, seed?: Timing, mlp?: Timing }.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { BUDGET, measure, selectedWorkloads, type Timing } from './timing';

// tfjs-core's Node bundle registers no gradients, and the ESM file that does uses extensionless
// imports Node's ESM loader rejects: require it (tsx compiles it to CommonJS). The registry is
// global, so the bundle sees the gradients.
createRequire(import.meta.url)('@tensorflow/tfjs-core/dist/register_all_gradients');

setThreadsCount(1);
if (!(await tf.setBackend('wasm'))) throw new Error('the TF.js wasm backend failed to initialise');

/**
 * A dense layer as tf.layers.dense lays it out, kernel [in, out] (TF.js's matMul is ~3× slower
 * with a transposed operand), initialised like PyTorch's Linear: uniform in ±1/√in.
 */
function linear(inFeatures: number, outFeatures: number): { w: tf.Variable; b: tf.Variable } {
  const bound = 1 / Math.sqrt(inFeatures);
  return {
    w: tf.variable(tf.randomUniform([inFeatures, outFeatures], -bound, bound, 'float32', 1)),
    b: tf.variable(tf.randomUniform([outFeatures], -bound, bound, 'float32', 2)),
  };
}

function apply(layer: { w: tf.Variable; b: tf.Variable }, x: tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.matMul(x, layer.w), layer.b);
}

/** PyTorch's cross_entropy with class indices: mean of −log_softmax(logits)[target]. */
function crossEntropy(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), 1)));
}

function trainStep(optimizer: tf.Optimizer, loss: () => tf.Scalar): () => void {
  // minimize() computes the gradients, applies them and disposes them (zero_grad included).
  return () => tf.tidy(() => { optimizer.minimize(loss); });
}

const result: { version: string; threads: number } & Partial<Record<'seed' | 'mlp', Timing>> = {
  version: tf.version_core,
  threads: getThreadsCount(),
};
for (const workload of selectedWorkloads(process.argv)) {
  const { warmupMs, measureMs } = BUDGET[workload];
  if (workload === 'seed') {
    const layers = [linear(3, 3), linear(3, 3), linear(3, 3)];
    const x = tf.tensor2d([[0.1, 0.2, 0.7]]);
    const y = tf.oneHot(tf.tensor1d([1], 'int32'), 3) as tf.Tensor2D;
    const forward = () => {
      const h = tf.relu(apply(layers[0], x));
      const g = tf.sigmoid(apply(layers[1], h));
      return crossEntropy(tf.softmax(apply(layers[2], g)), y);
    };
    result.seed = measure(trainStep(tf.train.adam(0.09), forward), warmupMs, measureMs);
  } else {
    const layers = [linear(784, 256), linear(256, 128), linear(128, 10)];
    const x = tf.randomNormal([128, 784], 0, 1, 'float32', 3) as tf.Tensor2D;
    const y = tf.oneHot(tf.randomUniform([128], 0, 10, 'int32', 4) as tf.Tensor1D, 10) as tf.Tensor2D;
    const forward = () => {
      const h1 = tf.relu(apply(layers[0], x));
      const h2 = tf.relu(apply(layers[1], h1));
      return crossEntropy(apply(layers[2], h2), y);
    };
    result.mlp = measure(trainStep(tf.train.adam(1e-3), forward), warmupMs, measureMs);
  }
}
console.log(JSON.stringify(result));
