/**
 * float32 math for the kernels, written out because WGSL's builtins are not accurate enough: exp
 * may be off by 3 + 2|x| ulp, log by 2^-21 absolute near 1, tanh is NaN past |x| ≈ 88, and there is
 * no erf or log1p. Each function here is within about 1 ulp of the correctly rounded result over
 * the whole float32 range (the tests measure it against the CPU backend's double-precision math).
 *
 * WGSL lets compilers assume that floats are never NaN or infinite, and they do: Mesa compiles
 * x <= y as !(x > y), true for NaN. So NaN and infinities are recognised from their bits, a
 * comparison whose operand may be NaN goes through lt/le/gt/ge (false for NaN, as IEEE and
 * JavaScript say), and non-finite values are built from bits at run time (a non-finite constant
 * is a compile error).
 * Polynomial coefficients come from fit_coefficients.py beside this file.
 */

/** A float32 value as an exact WGSL hex-float literal (decimal literals may round either way). */
export function hexf(value: number): string {
  const v = Math.fround(value);
  if (!Number.isFinite(v)) throw new Error(`${value} has no WGSL literal`);
  if (v === 0) return Object.is(v, -0) ? '-0.0f' : '0.0f';
  const bits = new Uint32Array(new Float32Array([v]).buffer)[0];
  const sign = bits >>> 31 ? '-' : '';
  const exp = (bits >>> 23) & 0xff;
  const frac = bits & 0x7fffff;
  // Subnormals have no implicit 1: write them as 0x0.FRACp-126.
  const lead = exp === 0 ? '0' : '1';
  const e = exp === 0 ? -126 : exp - 127;
  const digits = (frac << 1).toString(16).padStart(6, '0').replace(/0+$/, '');
  return `${sign}0x${lead}${digits ? `.${digits}` : ''}p${e}f`;
}

function poly(name: string, coefficients: readonly number[]): string {
  const body = coefficients.slice(0, -1).reduceRight((inner, c) => `${hexf(c)} + z * (${inner})`, hexf(coefficients[coefficients.length - 1]));
  return `fn ${name}(z: f32) -> f32 { return ${body}; }`;
}

// Printed by fit_coefficients.py.
const EXP_Q = [0.49999988079071045, 0.166665181517601, 0.04166950657963753, 0.008368917740881443, 0.0013752949889749289];
const LOG_L = [0.6666678190231323, 0.3997688293457031, 0.2988952696323395];
const TANH_T = [-0.33333316445350647, 0.13332580029964447, -0.0538518987596035, 0.021070381626486778, -0.006272775121033192];
const ERF_E = [0.12837916612625122, -0.3761261999607086, 0.1128338947892189, -0.026835277676582336, 0.005115662235766649, -0.0006758824456483126];
const ERFC_G1 = [0.3432959020137787, -0.11519711464643478, 0.03510242700576782, -0.009889297187328339, 0.002606872469186783, -0.0006461154553107917, 0.00015338489902205765, -3.84555860364344e-05, 8.086984053079505e-06];
const ERFC_G2 = [0.17900115251541138, -0.054372213780879974, 0.015884391963481903, -0.0044800653122365475, 0.0012230280553922057, -0.0003218405181542039, 8.327644172823057e-05, -2.398431024630554e-05, 5.718079137295717e-06];

const LN2_HI = 0.693145751953125; // 15 significant bits: k·LN2_HI is exact for |k| < 512

export const WGSL_MATH = /* wgsl */ `
fn bits_of(x: f32) -> u32 { return bitcast<u32>(x); }
// A function, so the bitcast is evaluated at run time: a non-finite constant is a compile error.
fn from_bits(b: u32) -> f32 { return bitcast<f32>(b); }
fn inf() -> f32 { return from_bits(0x7f800000u); }
fn nan() -> f32 { return from_bits(0x7fc00000u); }
fn is_nan(x: f32) -> bool { return (bits_of(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_inf(x: f32) -> bool { return (bits_of(x) & 0x7fffffffu) == 0x7f800000u; }
fn is_finite(x: f32) -> bool { return (bits_of(x) & 0x7fffffffu) < 0x7f800000u; }
fn sign_bit(x: f32) -> u32 { return bits_of(x) & 0x80000000u; }
fn with_sign(magnitude: f32, s: u32) -> f32 { return from_bits((bits_of(magnitude) & 0x7fffffffu) | s); }
fn lt(a: f32, b: f32) -> bool { return a < b && !is_nan(a) && !is_nan(b); }
fn le(a: f32, b: f32) -> bool { return a <= b && !is_nan(a) && !is_nan(b); }
fn gt(a: f32, b: f32) -> bool { return a > b && !is_nan(a) && !is_nan(b); }
fn ge(a: f32, b: f32) -> bool { return a >= b && !is_nan(a) && !is_nan(b); }
fn eq(a: f32, b: f32) -> bool { return a == b && !is_nan(a) && !is_nan(b); }
/** Math.max(x, lo) for a finite lo: NaN stays NaN. */
fn max_nan(x: f32, lo: f32) -> f32 { return select(x, lo, lt(x, lo)); }
/** Math.max of two values: NaN if either is. */
fn max_either(a: f32, b: f32) -> f32 { return select(select(a, b, b > a), nan(), is_nan(a) || is_nan(b)); }

/** a / b with IEEE results where WGSL leaves division undefined (|b| = 0, ∞ or outside 2^±126). */
fn fdiv(a: f32, b: f32) -> f32 {
  if (is_nan(a) || is_nan(b)) { return nan(); }
  let ab = abs(b);
  if (is_inf(b)) { return select(nan(), with_sign(0.0, sign_bit(a) ^ sign_bit(b)), is_finite(a)); }
  if (ab == 0.0) { return select(with_sign(inf(), sign_bit(a) ^ sign_bit(b)), nan(), a == 0.0 || is_nan(a)); }
  if (ab > 0x1p126f) { return (a * 0.25) / (b * 0.25); }
  if (ab < 0x1p-126f) { return (a * 0x1p24f) / (b * 0x1p24f); }
  return a / b;
}

fn sqrt_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (x == 0.0 || (is_inf(x) && x > 0.0)) { return x; } // keeps -0
  return select(nan(), sqrt(x), x > 0.0);
}

fn pow2i(k: i32) -> f32 { return from_bits(u32(k + 127) << 23u); } // k in [-126, 127]
/** v·2^k for k in [-252, 254], in two steps so neither factor leaves the normal range. */
fn scale2(v: f32, k: i32) -> f32 {
  let h = k / 2;
  return v * pow2i(h) * pow2i(k - h);
}

${poly('exp_q', EXP_Q)}
${poly('log_l', LOG_L)}
${poly('tanh_t', TANH_T)}
${poly('erf_e', ERF_E)}
${poly('erfc_g1', ERFC_G1)}
${poly('erfc_g2', ERFC_G2)}

const LN2_HI = ${hexf(LN2_HI)};
const LN2_LO = ${hexf(Math.LN2 - LN2_HI)};

fn exp_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (x >= ${hexf(88.72283935546875)}) { return inf(); } // ln(FLT_MAX) rounds up to this
  if (x < ${hexf(-103.97208404541016)}) { return 0.0; } // below ln(2^-150): rounds to 0
  let k = round(x * ${hexf(Math.LOG2E)});
  // Cody-Waite: x - k·LN2_HI is exact, so r carries no rounding error from the reduction.
  let r = (x - k * LN2_HI) - k * LN2_LO;
  return scale2(1.0 + (r + r * r * exp_q(r)), i32(k));
}

/** log(1 + f) for f in [√½ - 1, √2 - 1): log(1+f) = f - f²/2 + s·(f²/2 + s²·L(s²)), s = f/(2+f). */
fn log1p_core(f: f32) -> f32 {
  let s = f / (2.0 + f);
  let z = s * s;
  let hf = 0.5 * f * f;
  return f - (hf - s * (hf + z * log_l(z)));
}

struct Split { m: f32, e: i32 }
/** x = m·2^e with m in [√½, √2), for finite x > 0 given as bits; integer operations only, so it
    also splits subnormals on GPUs that flush them to zero in arithmetic. */
fn split_log(b: u32) -> Split {
  var mb = b;
  var e = i32(b >> 23u) - 127;
  if (b < 0x00800000u) {
    let shift = countLeadingZeros(b) - 8u;
    mb = b << shift;
    e = -126 - i32(shift);
  }
  var m = from_bits((mb & 0x007fffffu) | 0x3f800000u);
  if (m > ${hexf(Math.SQRT2)}) {
    m = m * 0.5;
    e = e + 1;
  }
  return Split(m, e);
}

fn log_f(x: f32) -> f32 {
  let b = bits_of(x);
  if (b == 0x7f800000u) { return x; }
  if ((b & 0x7fffffffu) == 0u) { return -inf(); }
  if (b > 0x7f800000u) { return nan(); } // NaN, or negative
  let s = split_log(b);
  let k = f32(s.e);
  return k * LN2_HI + (log1p_core(s.m - 1.0) + k * LN2_LO);
}

fn log1p_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  // Where 1 + x is already in log1p_core's range, use x itself: 1 + x would round.
  if (x >= ${hexf(Math.SQRT1_2 - 1)} && x < ${hexf(Math.SQRT2 - 1)}) { return log1p_core(x); }
  return log_f(1.0 + x);
}

fn tanh_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  if (a < 0.55) {
    let z = x * x;
    return x + x * z * tanh_t(z);
  }
  if (a > 9.5) { return with_sign(1.0, sign_bit(x)); }
  // tanh|x| = 1 - 2w/(1+w), w = e^(-2|x|): one final rounding near ±1, like the correctly rounded
  // value, so 1 + tanh(x) cancels to the same float as on the CPU.
  let w = exp_f(-2.0 * a);
  return with_sign(1.0 - 2.0 * w / (1.0 + w), sign_bit(x));
}

fn erf_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  if (a < 0.75) { return x + x * erf_e(x * x); }
  if (a >= 4.0) { return with_sign(1.0, sign_bit(x)); } // erfc(4) < 2^-25: rounds to ±1
  var g: f32;
  if (a < 2.0) { g = erfc_g1((a - 1.375) * 1.6); } else { g = erfc_g2(a - 3.0); }
  // erfc(a) = e^(-a²)·g(a); ah keeps 12 bits so ah² is exact and a² never rounds.
  let ah = from_bits(bits_of(a) & 0xfffff000u);
  let c = exp_f(-ah * ah) * exp_f((ah - a) * (ah + a)) * g;
  return with_sign(1.0 - c, sign_bit(x));
}

/** |x|^p for finite x > 0 and finite p: 2^(p·log2 x) with the exponent split so that p·e is exact. */
fn pow_pos(x: f32, p: f32) -> f32 {
  let s = split_log(bits_of(x));
  let l = log1p_core(s.m - 1.0) * ${hexf(Math.LOG2E)}; // log2(m), |l| ≤ ½
  let e = f32(s.e);
  let ph = from_bits(bits_of(p) & 0xfffff000u);
  let pl = p - ph;
  let t1 = ph * e; // exact: 12 bits times 8
  let t2 = pl * e;
  let n1 = round(t1);
  let n2 = round(t2);
  let y = (t1 - n1) + (t2 - n2) + p * l;
  let n3 = round(y);
  let k = n1 + n2 + n3;
  if (k > 254.0) { return inf(); }
  if (k < -252.0) { return 0.0; }
  return scale2(exp_f((y - n3) * ${hexf(Math.LN2)}), i32(k));
}

/** Math.pow(x, p) for p ≠ 0. */
fn pow_f(x: f32, p: f32) -> f32 {
  if (is_nan(p) || is_nan(x)) { return nan(); }
  let a = abs(x);
  if (is_inf(p)) {
    if (a == 1.0) { return nan(); }
    return select(0.0, inf(), (a > 1.0) == (p > 0.0));
  }
  let integral = floor(p) == p;
  if (x < 0.0 && !integral) { return nan(); }
  let odd = integral && abs(p) < 0x1p24f && (i32(p) & 1) == 1;
  var m: f32;
  if (a == 0.0 || is_inf(a)) {
    m = select(0.0, inf(), (a == 0.0) == (p < 0.0));
  } else {
    m = pow_pos(a, p);
  }
  return select(m, -m, odd && sign_bit(x) != 0u);
}
`;
