/**
 * The optimizers' steps as WGSL kernels: one fused kernel per parameter updates the parameter and
 * its state in place (three kernels where the device binds too few storage buffers: StepKernel),
 * in the float32 steps of engine/optim/kernels.ts, in the same order (step.ts computes each
 * step's scalars). Where the CPU rounds `a + b·c` once (PyTorch's add(alpha=) and addcmul), the
 * kernels call fma_f, a correctly rounded fused multiply-add built from exact float32 operations:
 * WGSL's own fma may round twice (Mesa's does).
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

/**
 * One element's step in three parts: `gradient` turns d (the gradient, maximize applied) into the
 * decayed gradient, from p (the parameter); `state` updates the state buffers from d and ends with
 * x, all that the parameter's update takes from them; `parameter` computes `updated` from p and x.
 */
interface StepParts {
  gradient: string;
  state: string;
  parameter: string;
}

function parts(kind: OptimizerKind, state: readonly string[]): StepParts {
  const has = (name: string): boolean => state.includes(name);
  const decay = `if (flag(${FLAG.decay})) { d = fma_f(h(0), p, d); }`;
  switch (kind) {
    case 'sgd':
      return {
        gradient: decay,
        state: `${has('buf') ? `var b: f32;
  if (flag(${FLAG.first})) { b = d; } else { b = fma_f(h(2), d, opq(buf[i] * h(1))); }
  buf[i] = b;
  d = select(b, fma_f(h(1), b, d), flag(${FLAG.nesterov}));` : ''}
  let x = d;`,
        parameter: 'let updated = fma_f(h(3), x, p);',
      };
    case 'adam':
      return {
        gradient: `if (flag(${FLAG.l2})) { d = fma_f(h(0), p, d); }`,
        state: `let m1 = fma_f(h(4), d, opq(m[i] * h(2)));
  let v1 = fma_f(opq(h(5) * d), d, opq(v[i] * h(3)));
  m[i] = m1;
  v[i] = v1;
  ${has('vmax') ? `let second = max_either(vmax[i], v1);
  vmax[i] = second;` : 'let second = v1;'}
  let denom = opq(opq(fdiv(opq(sqrt_f(second)), h(7))) + h(6));
  let x = opq(fdiv(opq(h(8) * m1), denom));`,
        parameter: `var q = p;
  if (flag(${FLAG.decoupled})) { q = opq(q * h(1)); }
  let updated = q + x;`,
      };
    case 'rmsprop':
      return {
        gradient: decay,
        state: `let s1 = fma_f(opq(h(2) * d), d, opq(sq[i] * h(1)));
  sq[i] = s1;
  ${has('gavg') ? `let g1 = fma_f(h(2), d, opq(gavg[i] * h(1)));
  gavg[i] = g1;
  var avg = opq(sqrt_f(fma_f(-g1, g1, s1)));` : 'var avg = opq(sqrt_f(s1));'}
  avg = opq(avg + h(3));
  ${has('buf') ? `let x = opq(opq(buf[i] * h(4)) + opq(fdiv(d, avg)));
  buf[i] = x;` : 'let x = opq(fdiv(opq(h(5) * d), avg));'}`,
        parameter: has('buf') ? 'let updated = fma_f(h(5), x, p);' : 'let updated = p + x;',
      };
    case 'adagrad':
      return {
        gradient: decay,
        state: `let s1 = fma_f(d, d, sum[i]);
  sum[i] = s1;
  let root = opq(opq(sqrt_f(s1)) + h(2));
  let x = opq(fdiv(opq(h(1) * d), root));`,
        parameter: 'let updated = p + x;',
      };
  }
}

/**
 * 'fused' runs the whole step. Where it binds more storage buffers than the device has, three
 * kernels run it instead, passing d and then x through a scratch buffer: 'gradient' (parameter,
 * gradient, scratch), 'state' (scratch, state) and 'parameter' (parameter, scratch, lock mask).
 * Each binds at most 4. The same operations on the same float32 values: the same bits.
 */
export type StepKernel = 'fused' | 'gradient' | 'state' | 'parameter';

/** The storage buffers a step kernel binds, from binding 1 on: name and access. */
export function stepBindings({ state, locked }: OptimizerBuffers, kernel: StepKernel): [string, 'read' | 'read_write'][] {
  const states = state.map((name): [string, 'read_write'] => [name, 'read_write']);
  const mask: [string, 'read'][] = locked ? [['locked', 'read']] : [];
  switch (kernel) {
    case 'fused': return [['param', 'read_write'], ['grad', 'read'], ...states, ...mask];
    case 'gradient': return [['param', 'read'], ['grad', 'read'], ['scratch', 'read_write']];
    case 'state': return [['scratch', 'read_write'], ...states];
    case 'parameter': return [['param', 'read_write'], ['scratch', 'read'], ...mask];
  }
}

/** One step kernel of an optimizer variant, binding stepBindings(buffers, kernel). */
export function optimizerKernel(buffers: OptimizerBuffers, kernel: StepKernel): string {
  const bindings = stepBindings(buffers, kernel).map(([name, access], i) =>
    `@group(0) @binding(${1 + i}) var<storage, ${access}> ${name}: array<${name === 'locked' ? 'u32' : 'f32'}>;`);
  const step = parts(buffers.kind, buffers.state);
  const load = `let p = param[i];
  var d = grad[i];
  if (flag(${FLAG.maximize})) { d = -d; }`;
  const store = buffers.locked ? // A locked element keeps its value; its state is updated as on the CPU.
    'if (((locked[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu) == 0u) { param[i] = updated; }' : 'param[i] = updated;';
  const element = {
    fused: `${load}\n  ${step.gradient}\n  ${step.state}\n  ${step.parameter}\n  ${store}`,
    gradient: `${load}\n  ${step.gradient}\n  scratch[i] = d;`,
    state: `var d = scratch[i];\n  ${step.state}\n  scratch[i] = x;`,
    parameter: `let p = param[i];\n  let x = scratch[i];\n  ${step.parameter}\n  ${store}`,
  }[kernel];
  return /* wgsl */ `${optimizerLayout.wgsl()}${WGSL_MATH}${FMA}
${bindings.join('\n')}
fn flag(bit: u32) -> bool { return (word(P_flags) & bit) != 0u; }
fn h(k: u32) -> f32 { return wordf(P_h0 + k); }
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * word(P_nx) + wid.x) * ${WG}u + lid;
  if (i >= word(P_n)) { return; }
  ${element}
}`;
}
