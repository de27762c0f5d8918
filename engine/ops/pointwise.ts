/**
 * Element-wise functions, each defined once. Every function takes `r`, the rounding of the
 * tensor's dtype (Math.fround for float32, identity for float64), and applies it after each
 * arithmetic step in the order PyTorch's CPU kernels use, so float32 results agree with
 * PyTorch's even where a step cancels (1 + erf(x) near -1, say). `p` holds the op's parameters
 * (exponent, slope, bounds...), already rounded to the dtype as PyTorch casts them.
 */
import { erf } from './erf';

export type Round = (x: number) => number;
type Unary = (x: number, p: readonly number[], r: Round) => number;

const SQRT1_2 = Math.SQRT1_2;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const GELU_PDF = TWO_OVER_SQRT_PI * SQRT1_2 * 0.5; // PyTorch's kBeta for exact GELU
const GELU_BETA = Math.SQRT2 * TWO_OVER_SQRT_PI * 0.5; // √(2/π)
const GELU_KAPPA = 0.044715;

const R_LN2F = Math.fround(1.4426950408889634) // 1/ln 2;
const L2UF = Math.fround(0.693145751953125);
const L2LF = Math.fround(1.428606765330187045e-6);
const EXP_POLY = [0.000198527617612853646278381, 0.00139304355252534151077271, 0.00833336077630519866943359,
  0.0416664853692054748535156, 0.166666671633720397949219, 0.5].map(Math.fround);

/** x + 1.5·2⁵² − 1.5·2⁵² rounds |x| < 2⁵¹ to an integer, half to even: the vector unit's rint. */
const RINT_MAGIC = 6755399441055744;
/** 2^e for the exponents vectorExp scales by (|q| ≤ 150, halved): a lookup, where 2 ** e is a call. */
const POW2_MIN = -76;
const POW2 = Float64Array.from({ length: 150 }, (_, i) => 2 ** (i + POW2_MIN));

/** A float32 fused multiply-add: the product of two float32 values is exact in double. */
function fma32(a: number, b: number, c: number): number {
  return Math.fround(a * b + c);
}

/**
 * exp as PyTorch's vectorized float32 kernels compute it (SLEEF's expf, 1-ulp): bit for bit the
 * same values, where the correctly rounded exp would differ in one element of ten. Softmax
 * always takes this path in PyTorch. a·b + c steps are fused multiply-adds.
 */
export function vectorExp(d: number, r: Round): number {
  if (r !== Math.fround) return Math.exp(d);
  if (d < -104) return 0;
  if (d > 100) return Infinity;
  const q = Math.fround(d * R_LN2F) + RINT_MAGIC - RINT_MAGIC;
  let s = fma32(q, -L2UF, d);
  s = fma32(q, -L2LF, s);
  let u = EXP_POLY[0];
  for (let i = 1; i < EXP_POLY.length; i++) u = fma32(u, s, EXP_POLY[i]);
  u = Math.fround(1 + fma32(Math.fround(s * s), u, s));
  // Integer indices (a NaN q gives 0; u is NaN then anyway): a double key takes V8's slow path.
  const qi = q | 0;
  const half = qi >> 1;
  return Math.fround(Math.fround(u * POW2[half - POW2_MIN]) * POW2[qi - half - POW2_MIN]);
}

/** x^p with PyTorch's special cases (x·x for 2, x·x·x for 3, sqrt for 0.5, ...). */
function power(x: number, p: number, r: Round): number {
  switch (p) {
    case 0: return 1;
    case 1: return x;
    case 2: return r(x * x);
    case 3: return r(r(x * x) * x);
    case 0.5: return Math.sqrt(x);
    case -0.5: return r(1 / r(Math.sqrt(x)));
    case -1: return r(1 / x);
    case -2: return r(1 / r(x * x));
    default: return Math.pow(x, p);
  }
}

function geluTanhParts(x: number, r: Round): { t: number; x2: number } {
  const x2 = r(x * x);
  const inner = r(r(GELU_BETA) * r(x + r(r(GELU_KAPPA) * r(x2 * x))));
  return { t: r(Math.tanh(inner)), x2 };
}

export const unaryFns = {
  neg: (x) => -x,
  exp: (x) => Math.exp(x),
  log: (x) => Math.log(x),
  sqrt: (x) => Math.sqrt(x),
  abs: (x) => Math.abs(x),
  pow: (x, p, r) => power(x, p[0], r),
  clamp: (x, p) => (x < p[0] ? p[0] : x > p[1] ? p[1] : x), // NaN passes through
  relu: (x) => (x > 0 ? x : x !== x ? x : 0),
  leaky_relu: (x, p, r) => (x > 0 ? x : r(x * p[0])),
  elu: (x, p, r) => (x <= 0 ? r(r(r(Math.exp(x)) - 1) * p[0]) : x),
  sigmoid: (x, _p, r) => r(1 / r(1 + r(Math.exp(-x)))), // exp overflow gives exactly 0, as PyTorch
  tanh: (x) => Math.tanh(x),
  gelu: (x, _p, r) => r(r(x * 0.5) * r(1 + r(erf(r(x * r(SQRT1_2)))))),
  gelu_tanh: (x, _p, r) => r(r(0.5 * x) * r(1 + geluTanhParts(x, r).t)),
  softplus: (x, p, r) => (r(x * p[0]) > p[1] ? x : r(r(Math.log1p(r(Math.exp(r(x * p[0]))))) / p[0])),
  smooth_l1: (d, p, r) => {
    const z = Math.abs(d);
    return z < p[0] ? r(r(r(0.5 * z) * z) / p[0]) : r(z - r(0.5 * p[0]));
  },
  huber: (d, p, r) => {
    const z = Math.abs(d);
    return z < p[0] ? r(r(0.5 * z) * z) : r(p[0] * r(z - r(0.5 * p[0])));
  },
} satisfies Record<string, Unary>;

export type UnaryOp = keyof typeof unaryFns;

type Backward = (g: number, x: number, p: readonly number[], r: Round) => number;

/**
 * The gradient of each differentiable element-wise op, as one fused step like PyTorch's
 * *_backward kernels: dL/dx from the upstream gradient g and the op's input x.
 */
export const unaryBackwardFns = {
  abs: (g, x) => (x > 0 ? g : x < 0 ? -g : x === x ? 0 : x),
  pow: (g, x, p, r) => (p[0] === 0 ? 0 : r(g * r(p[0] * power(x, r(p[0] - 1), r)))),
  clamp: (g, x, p) => (x >= p[0] && x <= p[1] ? g : 0),
  relu: (g, x) => (x <= 0 ? 0 : g), // NaN lets the gradient through, as PyTorch's threshold_backward
  leaky_relu: (g, x, p, r) => (x > 0 ? g : r(g * p[0])),
  elu: (g, x, p, r) => (x <= 0 ? r(r(g * p[0]) * r(Math.exp(x))) : g),
  gelu: (g, x, _p, r) => {
    const cdf = r(0.5 * r(1 + r(erf(r(x * r(SQRT1_2))))));
    const pdf = r(r(GELU_PDF) * r(Math.exp(r(r(x * x) * -0.5))));
    return r(g * r(cdf + r(x * pdf)));
  },
  gelu_tanh: (g, x, _p, r) => {
    const { t, x2 } = geluTanhParts(x, r);
    const left = r(0.5 * x);
    const leftDerivative = r(0.5 * r(1 + t));
    const innerDerivative = r(r(GELU_BETA) * r(1 + r(r(3 * r(GELU_KAPPA)) * x2)));
    const rightDerivative = r(r(left * r(1 - r(t * t))) * innerDerivative);
    return r(g * r(leftDerivative + rightDerivative));
  },
  softplus: (g, x, p, r) => {
    if (r(x * p[0]) > p[1]) return g;
    const z = r(Math.exp(r(x * p[0])));
    return r(r(g * z) / r(z + 1));
  },
  smooth_l1: (g, d, p, r) => (d <= -p[0] ? -g : d >= p[0] ? g : r(r(d * g) / p[0])),
  huber: (g, d, p, r) => (d <= -p[0] ? r(-p[0] * g) : d >= p[0] ? r(p[0] * g) : r(d * g)),
} satisfies Partial<Record<UnaryOp, Backward>>;

export type DifferentiableUnaryOp = keyof typeof unaryBackwardFns;

type Binary = (a: number, b: number, r: Round) => number;

export const binaryFns = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  /** 1 where a equals b (NaN matching NaN): routes max()'s gradient to every maximal element. */
  eq: (a, b) => (a === b || (a !== a && b !== b) ? 1 : 0),
  /** a·b, but 0 wherever a is 0 even if b is NaN: gradients of ignored loss targets stay 0. */
  mul_nonzero: (a, b) => (a === 0 ? 0 : a * b),
  /** binary_cross_entropy of probability a against target b, logs clamped at -100 as PyTorch. */
  bce: (a, b, r) => r(r((b - 1) * Math.max(r(Math.log1p(-a)), -100)) - r(b * Math.max(r(Math.log(a)), -100))),
  bce_grad: (a, b, r) => r((a - b) / Math.max(r(r(1 - a) * a), r(1e-12))),
  /** sigmoid's backward from the upstream gradient a and the output b: a·(1 − b)·b. */
  sigmoid_backward: (a, b, r) => r(r(a * r(1 - b)) * b),
  /** tanh's backward from the upstream gradient a and the output b: a·(1 − b²). */
  tanh_backward: (a, b, r) => r(a * r(1 - r(b * b))),
} satisfies Record<string, Binary>;

export type BinaryOp = keyof typeof binaryFns;
