/**
 * The optimizers' steps as WGSL kernels: one fused kernel per parameter updates the parameter and
 * its state in place, in the float32 steps of engine/optim/kernels.ts, in the same order
 * (step.ts computes each step's scalars). Where
 * the CPU rounds `a + b·c` once (PyTorch's add(alpha=) and addcmul), the kernels call fma_f, a
 * correctly rounded fused multiply-add built from exact float32 operations: WGSL's own fma may
 * round twice (Mesa's does).
 *
 * Mesa reassociates float arithmetic (it turned the exact error terms below into 0), so every
 * intermediate of an exact transformation passes through opq, an XOR with a run-time zero that no
 * compiler can see through.
 */
import type { AdagradStep, AdamStep, RMSpropStep, SGDStep } from '../../optim/kernels';
import { Layout, WG } from './kernels';
import { WGSL_MATH } from './wgsl_math';

export type OptimizerKind = 'sgd' | 'adam' | 'rmsprop' | 'adagrad';

/** The float32 scalars of a step, in the order the kernel reads them (h0, h1, ...). */
export const HYPER = {
  sgd: ['wd', 'mom', 'damp', 'lr'],
  adam: ['wd', 'decay', 'b1', 'b2', 'a1', 'a2', 'eps', 'bc2Sqrt', 'stepSize'],
  rmsprop: ['wd', 'alpha', 'oneMinusAlpha', 'eps', 'mom', 'lr'],
  adagrad: ['wd', 'clr', 'eps'],
} as const satisfies { sgd: readonly (keyof SGDStep)[]; adam: readonly (keyof AdamStep)[]; rmsprop: readonly (keyof RMSpropStep)[]; adagrad: readonly (keyof AdagradStep)[] };

/** The step's flags, as bits of the flags word. */
export const FLAG = { maximize: 1, decay: 2, first: 4, nesterov: 8, l2: 16, decoupled: 32 } as const;

export const optimizerLayout = new Layout(['n', 'nx', 'zero', 'flags', 'h0', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7', 'h8']);

/** The state buffers each kernel variant binds, in binding order after the parameter and gradient. */
export interface OptimizerBuffers {
  kind: OptimizerKind;
  /** SGD: ['buf'] with momentum; Adam: ['m', 'v'] (+ 'vmax' with amsgrad); RMSprop: ['sq'] (+ 'gavg' centered, + 'buf' with momentum); Adagrad: ['sum']. */
  state: readonly string[];
  locked: boolean;
}

const FMA = /* wgsl */ `
fn opq(x: f32) -> f32 { return from_bits(bits_of(x) ^ word(P_zero)); }
fn split_hi(x: f32) -> f32 { return from_bits(bits_of(x) & 0xfffff000u); }
/** The rounding error of s = a + b (Knuth's TwoSum). */
fn sum_err(a: f32, b: f32, s: f32) -> f32 {
  let bb = opq(s - a);
  return opq(a - opq(s - bb)) + opq(b - bb);
}
/**
 * a·b + c rounded once: b·c = p + e exactly (12-bit halves multiply exactly), a + p = s + t, and
 * s + (t + e) with the inner sum rounded to odd is correctly rounded (Boldo and Melquiond, 2008).
 * Past 2^±100, where the error terms would underflow or overflow, it rounds twice.
 */
fn fma_f(a: f32, b: f32, c: f32) -> f32 {
  let p = opq(a * b);
  let s = opq(c + p);
  if (!is_finite(s) || abs(p) < 0x1p-100f || abs(p) > 0x1p100f || max(abs(a), abs(b)) > 0x1p100f) { return s; }
  let ah = split_hi(a);
  let al = a - ah;
  let bh = split_hi(b);
  let bl = b - bh;
  let e = opq(opq(opq(opq(ah * bh) - p) + opq(ah * bl)) + opq(al * bh)) + opq(al * bl);
  let t = sum_err(c, p, s);
  let u = opq(t + opq(e));
  let ue = sum_err(t, e, u);
  var v = u;
  if (ue != 0.0 && (bits_of(u) & 1u) == 0u) {
    v = from_bits(select(bits_of(u) - 1u, bits_of(u) + 1u, (ue > 0.0) == (u > 0.0)));
  }
  return s + v;
}
`;

/** The update of one element, from p (the parameter) and d (the gradient, maximize applied). */
function body(kind: OptimizerKind, state: readonly string[]): string {
  const has = (name: string): boolean => state.includes(name);
  switch (kind) {
    case 'sgd':
      return `
  if (flag(${FLAG.decay})) { d = fma_f(h(0), p, d); }
  ${has('buf') ? `var b: f32;
  if (flag(${FLAG.first})) { b = d; } else { b = fma_f(h(2), d, opq(buf[i] * h(1))); }
  buf[i] = b;
  d = select(b, fma_f(h(1), b, d), flag(${FLAG.nesterov}));` : ''}
  let updated = fma_f(h(3), d, p);`;
    case 'adam':
      return `
  var q = p;
  if (flag(${FLAG.l2})) { d = fma_f(h(0), q, d); }
  if (flag(${FLAG.decoupled})) { q = opq(q * h(1)); }
  let m1 = fma_f(h(4), d, opq(m[i] * h(2)));
  let v1 = fma_f(opq(h(5) * d), d, opq(v[i] * h(3)));
  m[i] = m1;
  v[i] = v1;
  ${has('vmax') ? `let second = max_either(vmax[i], v1);
  vmax[i] = second;` : 'let second = v1;'}
  let denom = opq(opq(fdiv(opq(sqrt_f(second)), h(7))) + h(6));
  let updated = q + opq(fdiv(opq(h(8) * m1), denom));`;
    case 'rmsprop':
      return `
  if (flag(${FLAG.decay})) { d = fma_f(h(0), p, d); }
  let s1 = fma_f(opq(h(2) * d), d, opq(sq[i] * h(1)));
  sq[i] = s1;
  ${has('gavg') ? `let g1 = fma_f(h(2), d, opq(gavg[i] * h(1)));
  gavg[i] = g1;
  var avg = opq(sqrt_f(fma_f(-g1, g1, s1)));` : 'var avg = opq(sqrt_f(s1));'}
  avg = opq(avg + h(3));
  ${has('buf') ? `let b = opq(opq(buf[i] * h(4)) + opq(fdiv(d, avg)));
  buf[i] = b;
  let updated = fma_f(h(5), b, p);` : 'let updated = p + opq(fdiv(opq(h(5) * d), avg));'}`;
    case 'adagrad':
      return `
  if (flag(${FLAG.decay})) { d = fma_f(h(0), p, d); }
  let s1 = fma_f(d, d, sum[i]);
  sum[i] = s1;
  let root = opq(opq(sqrt_f(s1)) + h(2));
  let updated = p + opq(fdiv(opq(h(1) * d), root));`;
  }
}

/** The fused step of one optimizer variant: binding 1 the parameter, 2 the gradient, then the state, then the lock mask. */
export function optimizerKernel({ kind, state, locked }: OptimizerBuffers): string {
  const bindings = state.map((name, i) => `@group(0) @binding(${3 + i}) var<storage, read_write> ${name}: array<f32>;`);
  if (locked) bindings.push(`@group(0) @binding(${3 + state.length}) var<storage, read> locked: array<u32>;`);
  return /* wgsl */ `${optimizerLayout.wgsl()}${WGSL_MATH}${FMA}
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
${bindings.join('\n')}
fn flag(bit: u32) -> bool { return (word(P_flags) & bit) != 0u; }
fn h(k: u32) -> f32 { return wordf(P_h0 + k); }
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * word(P_nx) + wid.x) * ${WG}u + lid;
  if (i >= word(P_n)) { return; }
  let p = param[i];
  var d = grad[i];
  if (flag(${FLAG.maximize})) { d = -d; }
  ${body(kind, state)}
  ${locked ? // A locked element keeps its value; its state is updated as on the CPU.
    'if (((locked[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu) == 0u) { param[i] = updated; }' : 'param[i] = updated;'}
}`;
}
