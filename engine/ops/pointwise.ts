/**
 * Element-wise functions, each defined once. Backends evaluate them per element; the CPU backend
 * calls these functions directly (float32 results are rounded when stored in a Float32Array).
 * `p` holds the op's numeric parameters (exponent, slope, bounds...).
 */
import { erf } from './erf';

type Unary = (x: number, p: readonly number[]) => number;

const SQRT1_2 = Math.SQRT1_2;
const GELU_PDF = (2 / Math.sqrt(Math.PI)) * SQRT1_2 * 0.5; // PyTorch's M_2_SQRTPI * M_SQRT1_2 * 0.5
const GELU_BETA = Math.SQRT2 * (2 / Math.sqrt(Math.PI)) * 0.5; // sqrt(2/pi)
const GELU_KAPPA = 0.044715;

function sigmoid(x: number): number {
  // Two branches so exp never overflows: no NaN or Infinity for large |x|.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export const unaryFns = {
  neg: (x) => -x,
  exp: (x) => Math.exp(x),
  log: (x) => Math.log(x),
  sqrt: (x) => Math.sqrt(x),
  abs: (x) => Math.abs(x),
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x), // keeps NaN and ±0
  reciprocal: (x) => 1 / x,
  pow: (x, p) => Math.pow(x, p[0]),
  pow_grad: (x, p) => (p[0] === 0 ? 0 : p[0] * Math.pow(x, p[0] - 1)),
  clamp: (x, p) => (x < p[0] ? p[0] : x > p[1] ? p[1] : x), // NaN passes through
  clamp_grad: (x, p) => (x >= p[0] && x <= p[1] ? 1 : 0),
  relu: (x) => (x > 0 ? x : x !== x ? x : 0),
  relu_grad: (x) => (x > 0 ? 1 : 0),
  leaky_relu: (x, p) => (x > 0 ? x : x * p[0]),
  leaky_relu_grad: (x, p) => (x > 0 ? 1 : p[0]),
  elu: (x, p) => (x > 0 ? x : p[0] * Math.expm1(x)),
  elu_grad: (x, p) => (x > 0 ? 1 : p[0] * Math.exp(x)),
  sigmoid,
  tanh: (x) => Math.tanh(x),
  gelu: (x) => x * 0.5 * (1 + erf(x * SQRT1_2)),
  gelu_grad: (x) => 0.5 * (1 + erf(x * SQRT1_2)) + x * Math.exp(-0.5 * x * x) * GELU_PDF,
  gelu_tanh: (x) => 0.5 * x * (1 + Math.tanh(GELU_BETA * (x + GELU_KAPPA * x * x * x))),
  gelu_tanh_grad: (x) => {
    const t = Math.tanh(GELU_BETA * (x + GELU_KAPPA * x * x * x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_BETA * (1 + 3 * GELU_KAPPA * x * x);
  },
  softplus: (x, p) => (x * p[0] > p[1] ? x : Math.log1p(Math.exp(x * p[0])) / p[0]),
  softplus_grad: (x, p) => {
    if (x * p[0] > p[1]) return 1;
    const z = Math.exp(x * p[0]);
    return z / (z + 1);
  },
  smooth_l1: (d, p) => {
    const a = Math.abs(d);
    return a < p[0] ? (0.5 * d * d) / p[0] : a - 0.5 * p[0];
  },
  smooth_l1_grad: (d, p) => (d <= -p[0] ? -1 : d >= p[0] ? 1 : d / p[0]),
  huber: (d, p) => {
    const a = Math.abs(d);
    return a < p[0] ? 0.5 * d * d : p[0] * (a - 0.5 * p[0]);
  },
  huber_grad: (d, p) => (d <= -p[0] ? -p[0] : d >= p[0] ? p[0] : d),
} satisfies Record<string, Unary>;

export type UnaryOp = keyof typeof unaryFns;

export const binaryFns = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b),
  /** 1 where a equals b: routes max()'s gradient to every maximal element. */
  eq: (a, b) => (a === b ? 1 : 0),
  /** binary_cross_entropy of probability a against target b, logs clamped at -100 as PyTorch. */
  bce: (a, b) => (b - 1) * Math.max(Math.log1p(-a), -100) - b * Math.max(Math.log(a), -100),
  bce_grad: (a, b) => (a - b) / Math.max((1 - a) * a, 1e-12),
} satisfies Record<string, (a: number, b: number) => number>;

export type BinaryOp = keyof typeof binaryFns;
