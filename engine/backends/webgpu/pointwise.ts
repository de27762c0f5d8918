/**
 * The WGSL form of every element-wise function in engine/ops/pointwise.ts, step for step in the
 * same order (the GPU rounds each float32 step itself, as the CPU's `r` does). The tables are typed
 * against UnaryOp and BinaryOp, so an op added there without a WGSL form fails the typecheck.
 *
 * Unary expressions see `x` (finite: the kernel takes ±∞ and NaN results from the CPU definition)
 * and the parameters `p0`, `p1`; backward expressions also see the upstream gradient `g`; binary
 * expressions see `a` and `b`. All may call WGSL_MATH, and compare through its lt/le/gt/ge/eq
 * wherever an operand may be NaN.
 */
import type { BinaryOp, DifferentiableUnaryOp, UnaryOp } from '../../ops/pointwise';
import { hexf } from './wgsl_math';

// The constants of engine/ops/pointwise.ts, rounded to float32 as the CPU's r() rounds them.
const SQRT1_2 = hexf(Math.SQRT1_2);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const GELU_PDF = hexf(TWO_OVER_SQRT_PI * Math.SQRT1_2 * 0.5);
const GELU_BETA = hexf(Math.SQRT2 * TWO_OVER_SQRT_PI * 0.5);
const GELU_KAPPA = Math.fround(0.044715);

export const UNARY_HELPERS = /* wgsl */ `
fn power(x: f32, p: f32) -> f32 {
  if (eq(p, 0.0)) { return 1.0; }
  if (eq(p, 1.0)) { return x; }
  if (eq(p, 2.0)) { return x * x; }
  if (eq(p, 3.0)) { return x * x * x; }
  if (eq(p, 0.5)) { return sqrt_f(x); }
  if (eq(p, -0.5)) { return fdiv(1.0, sqrt_f(x)); }
  if (eq(p, -1.0)) { return fdiv(1.0, x); }
  if (eq(p, -2.0)) { return fdiv(1.0, x * x); }
  return pow_f(x, p);
}

fn gelu_tanh_t(x: f32) -> f32 {
  return tanh_f(${GELU_BETA} * (x + ${hexf(GELU_KAPPA)} * ((x * x) * x)));
}

fn gelu_backward(g: f32, x: f32) -> f32 {
  let cdf = 0.5 * (1.0 + erf_f(x * ${SQRT1_2}));
  let pdf = ${GELU_PDF} * exp_f((x * x) * -0.5);
  return g * (cdf + x * pdf);
}

fn gelu_tanh_backward(g: f32, x: f32) -> f32 {
  let t = gelu_tanh_t(x);
  let left = 0.5 * x;
  let left_derivative = 0.5 * (1.0 + t);
  let inner_derivative = ${GELU_BETA} * (1.0 + ${hexf(3 * GELU_KAPPA)} * (x * x));
  return g * (left_derivative + (left * (1.0 - t * t)) * inner_derivative);
}

fn softplus_backward(g: f32, x: f32, beta: f32, threshold: f32) -> f32 {
  let z = exp_f(x * beta);
  return select(fdiv(g * z, z + 1.0), g, gt(x * beta, threshold));
}
`;

export const unaryWgsl = {
  neg: '-x',
  exp: 'exp_f(x)',
  log: 'log_f(x)',
  sqrt: 'sqrt_f(x)',
  abs: 'abs(x)',
  pow: 'power(x, p0)',
  clamp: 'select(select(x, p1, gt(x, p1)), p0, lt(x, p0))',
  relu: 'select(0.0, x, gt(x, 0.0))',
  leaky_relu: 'select(x * p0, x, gt(x, 0.0))',
  elu: 'select(x, (exp_f(x) - 1.0) * p0, le(x, 0.0))',
  sigmoid: 'fdiv(1.0, 1.0 + exp_f(-x))',
  tanh: 'tanh_f(x)',
  gelu: `(x * 0.5) * (1.0 + erf_f(x * ${SQRT1_2}))`,
  gelu_tanh: '(0.5 * x) * (1.0 + gelu_tanh_t(x))',
  softplus: 'select(fdiv(log1p_f(exp_f(x * p0)), p0), x, gt(x * p0, p1))',
  smooth_l1: 'select(abs(x) - 0.5 * p0, fdiv((0.5 * abs(x)) * abs(x), p0), lt(abs(x), p0))',
  huber: 'select(p0 * (abs(x) - 0.5 * p0), (0.5 * abs(x)) * abs(x), lt(abs(x), p0))',
} satisfies Record<UnaryOp, string>;

/** dL/dx from the upstream gradient `g` and the input `x` (any values: ±∞ and NaN included). */
export const unaryBackwardWgsl = {
  abs: 'select(select(select(x, 0.0, !is_nan(x)), -g, lt(x, 0.0)), g, gt(x, 0.0))',
  pow: 'select(g * (p0 * power(x, p0 - 1.0)), 0.0, eq(p0, 0.0))',
  clamp: 'select(0.0, g, ge(x, p0) && le(x, p1))',
  relu: 'select(g, 0.0, le(x, 0.0))',
  leaky_relu: 'select(g * p0, g, gt(x, 0.0))',
  elu: 'select(g, (g * p0) * exp_f(x), le(x, 0.0))',
  gelu: 'gelu_backward(g, x)',
  gelu_tanh: 'gelu_tanh_backward(g, x)',
  softplus: 'softplus_backward(g, x, p0, p1)',
  smooth_l1: 'select(select(fdiv(x * g, p0), g, ge(x, p0)), -g, le(x, -p0))',
  huber: 'select(select(x * g, p0 * g, ge(x, p0)), -p0 * g, le(x, -p0))',
} satisfies Record<DifferentiableUnaryOp, string>;

export const binaryWgsl = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'fdiv(a, b)',
  eq: 'select(0.0, 1.0, eq(a, b) || (is_nan(a) && is_nan(b)))',
  mul_nonzero: 'select(a * b, 0.0, eq(a, 0.0))',
  bce: '(b - 1.0) * max_nan(log1p_f(-a), -100.0) - b * max_nan(log_f(a), -100.0)',
  bce_grad: `fdiv(a - b, max_nan((1.0 - a) * a, ${hexf(1e-12)}))`,
  sigmoid_backward: '(a * (1.0 - b)) * b',
  tanh_backward: 'a * (1.0 - b * b)',
} satisfies Record<BinaryOp, string>;
