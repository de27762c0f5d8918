/**
 * JSON text in and out: parsing that says where a file is broken (line and column, in words),
 * float32 numbers written as the shortest decimal that reads back to the same float32, Python's
 * way of writing numbers (json.dump), and the layout project files are saved in.
 */
import { formatPath, ProjectError } from './problems';
import { LIMITS } from './schema';

/** Line and column (both from 1) of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const NOT_JSON_NUMBERS = ['NaN', 'Infinity', '-Infinity'];

function describeChar(c: string | undefined): string {
  if (c === undefined) return 'the end of the file';
  if (c === '\n' || c === '\r') return 'a line break';
  return `'${c}'`;
}

/**
 * Finds the first syntax error in text that JSON.parse rejected, and says it in words. Iterative
 * (an explicit stack), so deeply nested input cannot overflow the call stack.
 */
function findJsonSyntaxError(text: string): { offset: number; message: string } {
  let i = 0;
  const stack: string[] = [];
  const skipSpace = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const error = (message: string, offset = i) => ({ offset, message });
  type Step = ReturnType<typeof error> | null;

  const readString = (what: string): Step => {
    const start = i;
    if (text[i] !== '"') return error(`expected ${what} in double quotes, found ${describeChar(text[i])}`);
    i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) return error('the file ends inside a text value that has no closing quote', start);
      if (c === '"') {
        i++;
        return null;
      }
      if (c < ' ') return error('a line break or control character inside a text value must be written as an escape such as \\n');
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return error('\\u must be followed by four hexadecimal digits');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          return error(`\\${e ?? ''} is not a valid escape in a JSON text value`);
        }
      } else {
        i++;
      }
    }
  };

  const readKey = (): Step => {
    skipSpace();
    const keyError = readString('a property name');
    if (keyError) return keyError;
    skipSpace();
    if (text[i] !== ':') return error(`expected ':' after the property name, found ${describeChar(text[i])}`);
    i++;
    return null;
  };

  /** Reads one value; an opening bracket is pushed (and 'open' returned) for the loop to fill. */
  const readValue = (): Step | 'open' => {
    skipSpace();
    const c = text[i];
    if (c === undefined) return error('the file ends where a value should be');
    if (c === '{' || c === '[') {
      stack.push(c);
      i++;
      return 'open';
    }
    if (c === '"') return readString('a text value');
    const word = NOT_JSON_NUMBERS.find((w) => text.startsWith(w, i));
    if (word) return error(`${word} is not allowed in JSON; every number must be finite`);
    if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(text)) return error('a number here is malformed');
      i = NUMBER.lastIndex;
      return null;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return null;
      }
    }
    return error(`unexpected ${describeChar(c)} where a value should be`);
  };

  let wantValue = true;
  for (;;) {
    if (wantValue) {
      const read = readValue();
      if (read !== null && read !== 'open') return read;
      wantValue = false;
      if (read === 'open') {
        // A container just opened: it may close at once, or needs its first entry.
        const top = stack.at(-1);
        skipSpace();
        if (text[i] === (top === '{' ? '}' : ']')) {
          stack.pop();
          i++;
        } else {
          if (top === '{') {
            const keyError = readKey();
            if (keyError) return keyError;
          }
          wantValue = true;
        }
      }
      continue;
    }
    skipSpace();
    const top = stack.at(-1);
    if (top === undefined) {
      // JSON.parse failed, so something follows the value (the last case cannot happen).
      return i < text.length ? error('unexpected text after the end of the JSON value') : error('the JSON is invalid', 0);
    }
    const close = top === '{' ? '}' : ']';
    if (text[i] === ',') {
      i++;
      skipSpace();
      if (text[i] === close) return error(`a comma must not come right before '${close}'`);
      if (top === '{') {
        const keyError = readKey();
        if (keyError) return keyError;
      }
      wantValue = true;
    } else if (text[i] === close) {
      stack.pop();
      i++;
    } else if (text[i] === undefined) {
      return error(`the file ends inside ${top === '{' ? 'an object' : 'a list'}; a '${close}' is missing`);
    } else {
      return error(`expected ',' or '${close}', found ${describeChar(text[i])}`);
    }
  }
}

/** The deepest nesting in a parsed JSON value, and where it first exceeds `limit`. */
function tooDeep(value: unknown, limit: number): (string | number)[] | null {
  const stack: [unknown, (string | number)[]][] = [[value, []]];
  while (stack.length > 0) {
    const [v, path] = stack.pop() as [unknown, (string | number)[]];
    if (typeof v !== 'object' || v === null) continue;
    if (path.length >= limit) return path;
    const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, k) => [k, x]) : Object.entries(v);
    for (const [k, x] of entries) stack.push([x, [...path, k]]);
  }
  return null;
}

/**
 * JSON.parse that reports a broken file as a ProjectError naming line and column, and refuses
 * nesting deeper than LIMITS.jsonDepth. A leading byte-order mark is ignored.
 */
export function parseJson(text: string): unknown {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.trim() === '') throw new ProjectError([{ message: 'The file is empty.' }]);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    const { offset, message } = findJsonSyntaxError(body);
    const { line, column } = lineColumn(body, offset);
    throw new ProjectError([{ message: `The file is not valid JSON: line ${line}, column ${column}: ${message}.` }]);
  }
  const deep = tooDeep(value, LIMITS.jsonDepth);
  if (deep) {
    throw new ProjectError([{ message: `The JSON nests deeper than ${LIMITS.jsonDepth} levels at ${formatPath(deep)}.`, path: formatPath(deep) }]);
  }
  return value;
}

/**
 * The shortest decimal digits and exponent (value = d.ddd × 10^exponent) that read back as the
 * float32 x; of two equally near, the even one, as Python and numpy choose.
 */
function shortestFloat32Digits(x: number): { digits: string; exponent: number } {
  const exact = x.toPrecision(100).split('e')[0].replace('.', '').replace(/0+$/, '');
  for (let precision = 1; precision <= 9; precision++) {
    const [mantissa, exp] = x.toExponential(precision - 1).split('e');
    const nearest = Number(mantissa.replace('.', ''));
    const scale = Number(exp) - precision + 1;
    // toExponential rounds a tie up; the one below is as near.
    const tie = exact.length === precision + 1 && exact.endsWith('5') && nearest % 2 === 1;
    // At a power of two the float32 below is nearer than the one above, so the neighbour above
    // may read back where the nearest decimal does not.
    for (const m of tie ? [nearest - 1, nearest] : [nearest, nearest + 1, nearest - 1]) {
      if (Math.fround(Number(`${m}e${scale}`)) === x) {
        const digits = String(m);
        return { digits: digits.replace(/0+$/, '') || '0', exponent: scale + digits.length - 1 };
      }
    }
  }
  throw new Error(`${x} is not a float32 value`);
}

/** Python's repr of a float from its shortest digits: 0.1, 1.0, 1e-05, 1.5e+16. */
function pythonStyle(negative: boolean, digits: string, exponent: number): string {
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  return `${sign}${whole}.${digits.slice(exponent + 1) || '0'}`;
}

/**
 * A float32 value as Python's json.dump writes a float, but with the fewest digits that read back
 * (through a double, as json.load and torch.tensor do) to the same float32: 0.1 rather than
 * 0.10000000149011612. Non-finite values are written as Python writes them (NaN, Infinity).
 */
export function formatFloat32(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const { digits, exponent } = shortestFloat32Digits(Math.abs(Math.fround(x)));
  return pythonStyle(x < 0, digits, exponent);
}

const float32 = new Float32Array(1);
const float32Bits = new Uint32Array(float32.buffer);
/** formatFloat32's numbers for the values roundFloat32 cannot take the fast way: few, and often repeated (a saturated softmax's 1.0). */
const slowlyRounded = new Map<number, number>();

function roundedByFormat(f: number): number {
  let rounded = slowlyRounded.get(f);
  if (rounded === undefined) {
    if (slowlyRounded.size >= 4096) slowlyRounded.clear();
    rounded = Number(formatFloat32(f));
    slowlyRounded.set(f, rounded);
  }
  return rounded;
}

/**
 * A float32 value as the shortest JavaScript number that reads back to it (for documents): the
 * number formatFloat32 writes. Every epoch of a run is rounded, so the common case takes
 * toPrecision's nearest decimal; formatFloat32's search decides where that may differ: at a power
 * of two (the float32 below is nearer) and at a tie (the next digit is the value's last, a 5).
 */
export function roundFloat32(x: number): number {
  const f = Math.fround(x);
  if (!Number.isFinite(f) || f === 0) return f;
  float32[0] = f;
  if ((float32Bits[0] & 0x7fffff) === 0) return roundedByFormat(f);
  // The fewest digits whose nearest decimal reads back, by bisection: away from a power of two,
  // if p digits read back then p + 1 do (their nearest decimal is no farther).
  let low = 1;
  let high = 9;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (Math.fround(Number(f.toPrecision(mid))) === f) high = mid;
    else low = mid + 1;
  }
  return Number(f.toPrecision(low + 1)) === f ? roundedByFormat(f) : Number(f.toPrecision(low));
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };

/** Nested lists in Python's json.dump layout (", " between items), numbers by `number`. */
export function formatNested(value: unknown, number: (x: number) => string): string {
  if (Array.isArray(value)) return `[${value.map((v) => formatNested(v, number)).join(', ')}]`;
  return number(value as number);
}

/**
 * A project document as saved: two-space indentation, but a list of plain values (a row of
 * weights, a data row) and a short object (a position, an edge) on one line, so that a file reads
 * like the matrices and graph it holds.
 */
export function stringifyDocument(value: Json, indent = ''): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    return `[\n${value.map((v) => inner + stringifyDocument(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    const parts = entries.map(([k, v]) => `${JSON.stringify(k)}: ${stringifyDocument(v as Json, inner)}`);
    const oneLine = `{${parts.join(', ')}}`;
    if (!oneLine.includes('\n') && indent.length + oneLine.length <= 100) return oneLine;
    return `{\n${parts.map((p) => inner + p).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}
