import type { DType, Storage } from './dtype';
import type { ParamState } from './optim/optimizer';
import type { Tensor } from './tensor';
import type { BinaryOp, DifferentiableUnaryOp, UnaryOp } from './ops/pointwise';

/** The activations a device applies in matmul's epilogue (nn.Linear followed by one of them). */
export type FusedActivation = 'relu' | 'sigmoid' | 'tanh';

/**
 * The kernels an engine backend supplies. Ops (engine/ops) define forward and backward once in
 * terms of these; every backend serves the same ops. Kernels never record autograd history.
 */
export interface Backend {
  readonly name: 'cpu' | 'webgpu';
  /** A tensor on this backend holding `data` (host values, e.g. targets or masks). */
  fromHost(data: Storage, shape: readonly number[], dtype: DType): Tensor;
  unary(op: UnaryOp, x: Tensor, params: readonly number[]): Tensor;
  /** The gradient of unary(op, x, params) from the upstream gradient (same shape as x). */
  unaryBackward(op: DifferentiableUnaryOp, grad: Tensor, x: Tensor, params: readonly number[]): Tensor;
  /** Broadcasting binary op; the result takes the promoted dtype. */
  binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor;
  /** Sum over `dims` (sorted, distinct, normalized). */
  sum(x: Tensor, dims: readonly number[], keepdim: boolean): Tensor;
  /** Max along `dim`; indices are int64 and point at the first maximum (NaN counts as maximal). */
  max(x: Tensor, dim: number, keepdim: boolean): { values: Tensor; indices: Tensor };
  /** Batched matrix product of the last two dims; batch dims broadcast. */
  matmul(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor;
  /** softmax (or log_softmax) along `dim`, max-subtracted. */
  softmax(x: Tensor, dim: number, log: boolean): Tensor;
  /** The gradient of softmax (or log_softmax) from the upstream gradient and its output. */
  softmaxBackward(grad: Tensor, output: Tensor, dim: number, log: boolean): Tensor;
  transpose(x: Tensor, dim0: number, dim1: number): Tensor;
  broadcastTo(x: Tensor, shape: readonly number[]): Tensor;
  cat(xs: readonly Tensor[], dim: number): Tensor;
  slice(x: Tensor, dim: number, start: number, end: number): Tensor;
  /** torch.gather: out[i][j] = x[i][index[i][j]] along `dim`. */
  gather(x: Tensor, dim: number, index: Tensor): Tensor;
  /** Zeros of `shape` with `src` added at `index` along `dim` (gather's adjoint). */
  scatterAdd(shape: readonly number[], dim: number, index: Tensor, src: Tensor): Tensor;
  cast(x: Tensor, dtype: Tensor['dtype']): Tensor;
  /**
   * Devices only (the CPU runs matmul, add and the activation, engine/ops/arithmetic.ts): [N, in]
   * x times weightᵀ, plus bias, then the activation, in one kernel (matmul's epilogue).
   */
  linear?(x: Tensor, weight: Tensor, bias: Tensor | null, activation: FusedActivation | null): Tensor;
  /**
   * Devices only (the CPU composes log_softmax and nll, engine/nn/losses.ts): cross-entropy of
   * [N, C] float32 logits with class-index targets in one kernel, −weight·log_softmax(x)[class] per
   * row; `targets` is [N, 2] float32, each row's class and weight (0 where ignored).
   */
  crossEntropy?(x: Tensor, targets: Tensor): Tensor;
  /** Its gradient from the upstream one (0-d, or [N] for reduction 'none'); `total`: the 'mean' reduction's divisor, else null. */
  crossEntropyBackward?(x: Tensor, targets: Tensor, grad: Tensor, total: number | null): Tensor;
  /**
   * Devices only (absent on the CPU, whose optimizers update host values themselves): updates
   * `param` and its `state` in place with one fused kernel. `hostUpdate` is the optimizer's own
   * update on host values, which the device replays after a failure (see DESIGN.md, "Failure").
   */
  optimizerStep?: <G extends { lr: number; params: Tensor[] }>(optimizer: object, param: Tensor, state: ParamState, group: G,
    hostUpdate: (grad: Storage, group: G) => void) => void;
}
