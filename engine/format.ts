/**
 * Tensors printed as PyTorch prints them (`repr(t)`), character for character, so users can
 * diff the app's numbers against their notebook: 4 decimals, or scientific notation when the
 * values span more than 1000× or fall below 1e-4, columns padded to one width, rows wrapped at
 * 80 characters, and the dtype, requires_grad and grad_fn suffixes.
 */

const PRECISION = 4;
const LINE_WIDTH = 80;

/** |x| exactly as a decimal fraction: int / 10^scale (every double has a finite expansion). */
function exactDecimal(x: number): { int: bigint; scale: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = exponent === 0 ? fraction : fraction | (1n << 52n);
  const e = (exponent === 0 ? 1 : exponent) - 1075;
  return e >= 0 ? { int: mantissa << BigInt(e), scale: 0 } : { int: mantissa * 5n ** BigInt(-e), scale: -e };
}

/** int / 10^drop rounded half to even, as Python's float formatting rounds. */
function roundDigits(int: bigint, drop: number): bigint {
  if (drop <= 0) return int * 10n ** BigInt(-drop);
  const divisor = 10n ** BigInt(drop);
  const q = int / divisor;
  const twice = (int % divisor) * 2n;
  return twice > divisor || (twice === divisor && q % 2n === 1n) ? q + 1n : q;
}

function sign(x: number): string {
  return x < 0 || Object.is(x, -0) ? '-' : '';
}

/** Python's '{:.Nf}'. */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const { int, scale } = exactDecimal(x);
  const s = roundDigits(int, scale - digits).toString().padStart(digits + 1, '0');
  const whole = s.slice(0, s.length - digits);
  return sign(x) + (digits > 0 ? `${whole}.${s.slice(s.length - digits)}` : whole);
}

/** Python's '{:.Ne}'. */
export function formatScientific(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  if (x === 0) return `${sign(x)}0.${'0'.repeat(digits)}e+00`;
  const { int, scale } = exactDecimal(x);
  let exponent = int.toString().length - 1 - scale;
  let mantissa = roundDigits(int, int.toString().length - (digits + 1)).toString();
  if (mantissa.length > digits + 1) {
    mantissa = mantissa.slice(0, digits + 1);
    exponent++;
  }
  const e = `${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  return `${sign(x)}${mantissa[0]}${digits > 0 ? `.${mantissa.slice(1)}` : ''}e${e}`;
}

/** torch's _Formatter: one number format (and width) for all elements of a tensor. */
function formatter(values: ArrayLike<number>, integerDtype: boolean): (x: number) => string {
  if (integerDtype) return (x) => String(x);
  const finite = Array.from(values).filter((v) => Number.isFinite(v) && v !== 0).map(Math.abs);
  if (finite.length === 0) return (x) => (Number.isFinite(x) ? `${formatFixed(x, 0)}.` : formatFixed(x, 0));
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const spread = max / min > 1000 || max > 1e8;
  if (finite.every((v) => Number.isInteger(v))) {
    return spread ? (x) => formatScientific(x, PRECISION) : (x) => (Number.isFinite(x) ? `${formatFixed(x, 0)}.` : formatFixed(x, 0));
  }
  return spread || min < 1e-4 ? (x) => formatScientific(x, PRECISION) : (x) => formatFixed(x, PRECISION);
}

/** What printing needs of a tensor: a Tensor, or plain values described alike. */
export interface Printable {
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly requires_grad: boolean;
  readonly grad_fn: { readonly name: string } | null;
  toArray(): ArrayLike<number>;
}

/** Nested lists of numbers as a float32 tensor with these values would print. */
export function formatValues(values: number | unknown[], gradFn?: string): string {
  const shape: number[] = [];
  for (let v: unknown = values; Array.isArray(v); v = v[0]) shape.push(v.length);
  const flat = [values].flat(Infinity) as number[];
  return formatTensor({ shape, dtype: 'float32', requires_grad: false, grad_fn: gradFn ? { name: gradFn } : null, toArray: () => flat });
}

export function formatTensor(t: Printable): string {
  const values = t.toArray();
  const format = formatter(values, t.dtype === 'int64');
  const texts = Array.from(values, format);
  const width = Math.max(1, ...texts.map((s) => s.length));
  const padded = texts.map((s) => s.padStart(width));
  const prefix = 'tensor(';
  const shape = t.shape;

  const build = (dim: number, offset: number, indent: number): string => {
    if (dim === shape.length) return padded[offset];
    const size = shape[dim];
    const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    if (dim === shape.length - 1) {
      // torch wraps a row so that each line fits in 80 characters.
      const perLine = Math.max(1, Math.floor((LINE_WIDTH - indent) / (width + 2)));
      const lines: string[] = [];
      for (let i = 0; i < size; i += perLine) {
        lines.push(padded.slice(offset + i, offset + Math.min(size, i + perLine)).join(', '));
      }
      return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
    }
    const separator = `,${'\n'.repeat(shape.length - dim - 1)}${' '.repeat(indent + 1)}`;
    const parts = Array.from({ length: size }, (_, i) => build(dim + 1, offset + i * stride, indent + 1));
    return `[${parts.join(separator)}]`;
  };

  const suffixes: string[] = [];
  if (t.dtype === 'float64') suffixes.push('dtype=torch.float64');
  if (t.grad_fn) suffixes.push(`grad_fn=<${t.grad_fn.name}>`);
  else if (t.requires_grad) suffixes.push('requires_grad=True');
  const body = shape.length === 0 ? padded[0] : build(0, 0, prefix.length);
  return `${prefix}${[body, ...suffixes].join(', ')})`;
}
