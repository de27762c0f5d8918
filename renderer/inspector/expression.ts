/**
 * What a weight cell accepts: a number (1e-3, .5, −2), a fraction (1/3) or an arithmetic
 * expression (sqrt(2)/2, 2^-3, -pi/4, exp(-1)). A small recursive-descent parser over a fixed
 * grammar: text never reaches eval, and every refusal is one sentence a person can act on.
 */

export type Parsed = { value: number } | { error: string };

// Maps, not objects: a name such as "constructor" must not find Object.prototype's members.
const FUNCTIONS = new Map<string, (x: number) => number>([
  ['sqrt', Math.sqrt], ['exp', Math.exp], ['ln', Math.log], ['log', Math.log], ['log2', Math.log2], ['log10', Math.log10],
  ['sin', Math.sin], ['cos', Math.cos], ['tan', Math.tan], ['tanh', Math.tanh], ['abs', Math.abs],
]);
const CONSTANTS = new Map<string, number>([['pi', Math.PI], ['π', Math.PI], ['e', Math.E]]);

type Token = { kind: 'num'; value: number; at: number } | { kind: 'name'; name: string; at: number } | { kind: 'op'; op: string; at: number };

class Refusal extends Error {}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const number = /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
  const name = /[A-Za-z_π][A-Za-z0-9_]*/y;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    number.lastIndex = i;
    name.lastIndex = i;
    const n = number.exec(text);
    if (n) {
      tokens.push({ kind: 'num', value: Number(n[0]), at: i });
      i += n[0].length;
      continue;
    }
    const w = name.exec(text);
    if (w) {
      tokens.push({ kind: 'name', name: w[0], at: i });
      i += w[0].length;
      continue;
    }
    // The minus sign and times sign as papers and word processors write them.
    const op = c === '−' ? '-' : c === '×' || c === '·' ? '*' : c === '÷' ? '/' : c === '*' && text[i + 1] === '*' ? '^' : c;
    if (!'+-*/^()'.includes(op)) throw new Refusal(`"${c}" is not a number or an operator`);
    tokens.push({ kind: 'op', op, at: i });
    i += c === '*' && text[i + 1] === '*' ? 2 : 1;
  }
  return tokens;
}

/** Evaluates `text`; the value, or a sentence saying what is wrong with it. */
export function parseExpression(text: string): Parsed {
  const source = text.trim();
  if (source === '') return { error: 'the cell is empty; type a number' };
  let tokens: Token[];
  try {
    tokens = tokenize(source);
  } catch (e) {
    return { error: (e as Error).message };
  }
  let k = 0;
  const peek = (): Token | undefined => tokens[k];
  const isOp = (op: string): boolean => {
    const t = peek();
    return t?.kind === 'op' && t.op === op;
  };
  const expect = (op: string): void => {
    if (!isOp(op)) throw new Refusal(`a "${op}" is missing`);
    k++;
  };

  // sum := product (('+'|'-') product)*; product := unary (('*'|'/') unary)*;
  // unary := '-' unary | '+' unary | power; power := atom ('^' unary)?  (right-associative, so 2^-1 works)
  const sum = (): number => {
    let v = product();
    while (isOp('+') || isOp('-')) {
      const op = (tokens[k++] as { op: string }).op;
      v = op === '+' ? v + product() : v - product();
    }
    return v;
  };
  const product = (): number => {
    let v = unary();
    while (isOp('*') || isOp('/')) {
      const op = (tokens[k++] as { op: string }).op;
      const r = unary();
      if (op === '/' && r === 0) throw new Refusal('it divides by zero');
      v = op === '*' ? v * r : v / r;
    }
    return v;
  };
  const unary = (): number => {
    if (isOp('-')) {
      k++;
      return -unary();
    }
    if (isOp('+')) {
      k++;
      return unary();
    }
    return power();
  };
  const power = (): number => {
    const base = atom();
    if (!isOp('^')) return base;
    k++;
    return base ** unary();
  };
  const atom = (): number => {
    const t = peek();
    if (!t) throw new Refusal('it ends too early');
    k++;
    if (t.kind === 'num') return t.value;
    if (t.kind === 'op') {
      if (t.op !== '(') throw new Refusal(`"${t.op}" cannot stand there`);
      const v = sum();
      expect(')');
      return v;
    }
    const name = t.name.toLowerCase();
    const fn = FUNCTIONS.get(name);
    if (fn) {
      expect('(');
      const v = fn(sum());
      expect(')');
      return v;
    }
    const constant = CONSTANTS.get(name);
    if (constant !== undefined) return constant;
    throw new Refusal(`"${t.name}" is not a function or constant I know (try sqrt, exp, ln, pi, e)`);
  };

  try {
    const value = sum();
    const rest = peek();
    if (rest) throw new Refusal(`"${source.slice(rest.at)}" is left over`);
    if (!Number.isFinite(value)) return { error: `it gives ${value}, not a finite number` };
    return { value };
  } catch (e) {
    if (e instanceof Refusal) return { error: e.message };
    throw e;
  }
}
