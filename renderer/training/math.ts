/**
 * The arithmetic of backpropagation with the numbers filled in, worked out from one trace (one
 * forward and backward pass on one sample). Every value a line arrives at is the engine's, read
 * from the trace; the lines only arrange traced values into the formula that connects them
 * (Σ wᵢxᵢ + b, the chain rule, the optimizer's update), so what a user checks by hand is exactly
 * what the engine computed. Output is KaTeX source.
 */
import type { Trace } from '../../engine/protocol';
import { optionOf, type OptimizerSettings } from './optimizers';
import { flatten, formatNumber, type Precision, shapeOf, type Values } from './printing';

export type TraceNode = Trace['nodes'][number];
export type TraceParameter = Trace['parameters'][number];

/** One worked line: a formula with its numbers, and the engine's value it comes to. */
export interface Line {
  /** What the line works out, in words. */
  title: string;
  tex: string;
  /** The engine's value the line arrives at. */
  value?: number;
}

export interface Worked {
  heading: string;
  lines: Line[];
  /** Things a user should know about these numbers (one sentence each). */
  notes: string[];
}

export interface MathContext {
  precision: Precision;
  optimizer: OptimizerSettings;
}

/** A number in TeX: scientific notation as ×10ⁿ. */
export function texNumber(x: number, precision: Precision): string {
  const s = formatNumber(x, precision);
  if (s === 'nan') return '\\text{NaN}';
  if (s.endsWith('inf')) return `${s.startsWith('-') ? '-' : ''}\\infty`;
  const m = /^(-?[\d.]+)e([-+]\d+)$/.exec(s);
  return m ? `${m[1]} \\times 10^{${Number(m[2])}}` : s;
}

/** A number as a factor: negative ones in parentheses. */
function factor(x: number, precision: Precision): string {
  const t = texNumber(x, precision);
  return t.startsWith('-') || t.includes('\\times') ? `(${t})` : t;
}

/** "+ 0.2" or "- 0.2": a number added to what comes before it. */
function plus(x: number, precision: Precision): string {
  const t = texNumber(x, precision);
  return t.startsWith('-') ? `- ${t.slice(1)}` : `+ ${t}`;
}

function nodeById(trace: Trace, id: string): TraceNode {
  const node = trace.nodes.find((n) => n.id === id);
  if (!node) throw new Error(`The trace has no node '${id}': it does not feed the objective.`);
  return node;
}

/** The nodes that take `id`'s output, each with the port it arrives at. */
function consumers(trace: Trace, id: string): { node: TraceNode; input: number }[] {
  return trace.nodes.flatMap((node) => node.inputs.flatMap((inp, input) => (inp.from === id ? [{ node, input }] : [])));
}

function parameter(trace: Trace, name: string): TraceParameter | undefined {
  return trace.parameters.find((p) => p.name === name);
}

const sub = (symbol: string, index: string | number) => `${symbol}_{${index}}`;
const text = (s: string) => `\\text{${s.replace(/[\\{}_^#$%&~]/g, (c) => `\\${c}`)}}`;

const ELEMENTWISE = new Set(['ReLU', 'LeakyReLU', 'ELU', 'Sigmoid', 'Tanh', 'GELU', 'Softplus', 'Dropout', 'Pow', 'Exp', 'Log', 'Scale']);

/**
 * ∂(output)/∂(input) of an element-wise node at one element, as a formula in the traced input x
 * and output y: the symbolic form, and the same with the numbers in.
 */
function localDerivative(node: TraceNode, x: number, y: number, p: Precision, settings: Record<string, unknown> = {}): { symbolic: string; numeric: string } {
  const n = (v: number) => factor(v, p);
  switch (node.type) {
    case 'Sigmoid': return { symbolic: 'y\\,(1 - y)', numeric: `${n(y)}\\,(1 - ${n(y)})` };
    case 'Tanh': return { symbolic: '1 - y^2', numeric: `1 - ${n(y)}^2` };
    case 'ReLU': return { symbolic: '\\mathbb{1}[x > 0]', numeric: x > 0 ? '1' : '0' };
    case 'LeakyReLU': {
      const slope = (settings.negative_slope as number | undefined) ?? 0.01;
      return { symbolic: `x > 0 \\;?\\; 1 : ${slope}`, numeric: x > 0 ? '1' : String(slope) };
    }
    case 'ELU': {
      const alpha = (settings.alpha as number | undefined) ?? 1;
      return { symbolic: `x > 0 \\;?\\; 1 : y + ${alpha}`, numeric: x > 0 ? '1' : `${n(y)} + ${alpha}` };
    }
    case 'Softplus': {
      const beta = (settings.beta as number | undefined) ?? 1;
      return { symbolic: `\\sigma(${beta}\\,x)`, numeric: `\\sigma(${beta} \\cdot ${n(x)})` };
    }
    case 'GELU': return { symbolic: '\\Phi(x) + x\\,\\varphi(x)', numeric: `\\Phi(${n(x)}) + ${n(x)}\\,\\varphi(${n(x)})` };
    case 'Dropout': return { symbolic: '1', numeric: '1' };
    case 'Pow': {
      const e = settings.exponent as number;
      return { symbolic: `${e}\\,x^{${e - 1}}`, numeric: `${e} \\cdot ${n(x)}^{${e - 1}}` };
    }
    case 'Exp': return { symbolic: 'e^{x} = y', numeric: n(y) };
    case 'Log': return { symbolic: '1 / x', numeric: `1 / ${n(x)}` };
    case 'Scale': {
      const f = settings.factor as number;
      return { symbolic: String(f), numeric: String(f) };
    }
    default: return { symbolic: `\\partial ${text(node.name)} / \\partial x`, numeric: '\\cdot' };
  }
}

/** The params of each node, which the trace does not repeat (exponent, slope, …). */
export type ParamsById = ReadonlyMap<string, Record<string, unknown>>;

/**
 * One neuron (output unit `unit`) of a Linear layer on the traced sample: the weighted sum, the
 * activation that follows, the gradients by the chain rule, and each weight's update.
 */
export function neuronMath(trace: Trace, nodeId: string, unit: number, ctx: MathContext, params: ParamsById = new Map()): Worked {
  const p = ctx.precision;
  const node = nodeById(trace, nodeId);
  if (node.type !== 'Linear') throw new Error(`'${node.name}' is a ${node.type}, not a Linear layer; only Linear layers have neurons.`);
  const x = flatten(node.inputs[0].value);
  const z = flatten(node.output);
  if (unit < 0 || unit >= z.length) throw new Error(`Linear '${node.name}' has neurons 0 to ${z.length - 1}, not ${unit}.`);
  const weight = parameter(trace, `${node.name}.weight`);
  const bias = parameter(trace, `${node.name}.bias`);
  const w = flatten(weight?.value ?? []).slice(unit * x.length, (unit + 1) * x.length);
  const b = bias ? flatten(bias.value)[unit] : undefined;
  const j = unit;
  const lines: Line[] = [];
  const notes: string[] = [];

  const terms = x.map((xi, i) => `${factor(w[i], p)} \\cdot ${factor(xi, p)}`);
  const symbolic = `\\sum_i ${sub('w', `${j},i`)}\\, x_i${b === undefined ? '' : ` + ${sub('b', j)}`}`;
  lines.push({
    title: 'Forward: the weighted sum of the inputs',
    tex: `${sub('z', j)} = ${symbolic} = ${terms.join(' + ')}${b === undefined ? '' : ` ${plus(b, p)}`} = ${texNumber(z[j], p)}`,
    value: z[j],
  });

  const zGrad = node.grad ? flatten(node.grad)[j] : undefined;
  const next = consumers(trace, node.id);
  const act = next.length === 1 ? next[0].node : undefined;
  if (act && (ELEMENTWISE.has(act.type) || act.type === 'Softmax')) {
    const a = flatten(act.output);
    const aGrad = act.grad ? flatten(act.grad) : undefined;
    if (act.type === 'Softmax') {
      const exps = z.map((zk) => `e^{${texNumber(zk, p)}}`).join(' + ');
      lines.push({
        title: `Activation: ${act.name} (Softmax over the layer's outputs)`,
        tex: `${sub('a', j)} = \\frac{e^{${sub('z', j)}}}{\\sum_k e^{z_k}} = \\frac{e^{${texNumber(z[j], p)}}}{${exps}} = ${texNumber(a[j], p)}`,
        value: a[j],
      });
      if (aGrad) {
        lines.push({ title: 'Backward: the gradient arriving at the activation', tex: `\\frac{\\partial L}{\\partial ${sub('a', j)}} = ${texNumber(aGrad[j], p)}`, value: aGrad[j] });
        const sum = a.map((ak, k) => `${factor(ak, p)} \\cdot ${factor(aGrad[k], p)}`).join(' + ');
        if (zGrad !== undefined) {
          lines.push({
            title: 'Chain rule through the softmax (every output depends on every input)',
            tex: `\\frac{\\partial L}{\\partial ${sub('z', j)}} = ${sub('a', j)}\\Big(\\frac{\\partial L}{\\partial ${sub('a', j)}} - \\sum_k a_k \\frac{\\partial L}{\\partial a_k}\\Big) = ${factor(a[j], p)}\\big(${texNumber(aGrad[j], p)} - (${sum})\\big) = ${texNumber(zGrad, p)}`,
            value: zGrad,
          });
        }
      }
    } else {
      const d = localDerivative(act, z[j], a[j], p, params.get(act.id));
      lines.push({ title: `Activation: ${act.name} (${act.type})`, tex: `${sub('a', j)} = ${activationTex(act.type, params.get(act.id))}(${texNumber(z[j], p)}) = ${texNumber(a[j], p)}`, value: a[j] });
      if (aGrad) {
        lines.push({ title: 'Backward: the gradient arriving at the activation', tex: `\\frac{\\partial L}{\\partial ${sub('a', j)}} = ${texNumber(aGrad[j], p)}`, value: aGrad[j] });
        if (zGrad !== undefined) {
          lines.push({
            title: 'Chain rule through the activation',
            tex: `\\frac{\\partial L}{\\partial ${sub('z', j)}} = \\frac{\\partial L}{\\partial ${sub('a', j)}} \\cdot ${d.symbolic.replace(/\by\b/g, sub('a', j)).replace(/\bx\b/g, sub('z', j))} = ${factor(aGrad[j], p)} \\cdot ${d.numeric} = ${texNumber(zGrad, p)}`,
            value: zGrad,
          });
        }
      }
    }
  } else if (zGrad !== undefined) {
    const where = next.map((c) => `${c.node.type} '${c.node.name}'`).join(', ') || 'the objective';
    lines.push({ title: `Backward: the gradient arriving from ${where}`, tex: `\\frac{\\partial L}{\\partial ${sub('z', j)}} = ${texNumber(zGrad, p)}`, value: zGrad });
  }
  if (zGrad === undefined) notes.push(`No gradient reaches '${node.name}': nothing it feeds is trained.`);

  if (weight?.grad && zGrad !== undefined) {
    const g = flatten(weight.grad).slice(j * x.length, (j + 1) * x.length);
    x.forEach((xi, i) => {
      lines.push({
        title: i === 0 ? 'Gradient of each weight: ∂L/∂z times the input it multiplies' : '',
        tex: `\\frac{\\partial L}{\\partial ${sub('w', `${j},${i}`)}} = \\frac{\\partial L}{\\partial ${sub('z', j)}} \\cdot x_{${i}} = ${factor(zGrad, p)} \\cdot ${factor(xi, p)} = ${texNumber(g[i], p)}`,
        value: g[i],
      });
    });
  }
  if (bias?.grad && zGrad !== undefined) {
    const g = flatten(bias.grad)[j];
    lines.push({ title: 'Gradient of the bias', tex: `\\frac{\\partial L}{\\partial ${sub('b', j)}} = \\frac{\\partial L}{\\partial ${sub('z', j)}} = ${texNumber(g, p)}`, value: g });
  }
  if (weight?.update) x.forEach((_, i) => lines.push(...updateMath(weight, j * x.length + i, sub('w', `${j},${i}`), ctx)));
  if (bias?.update) lines.push(...updateMath(bias, j, sub('b', j), ctx));
  return { heading: `Neuron ${j} of Linear '${node.name}', sample ${trace.sample}`, lines, notes };
}

function activationTex(type: string, settings: Record<string, unknown> = {}): string {
  switch (type) {
    case 'Sigmoid': return '\\sigma';
    case 'Tanh': return '\\tanh';
    case 'ReLU': return '\\operatorname{ReLU}';
    case 'LeakyReLU': return `\\operatorname{LeakyReLU}_{${(settings.negative_slope as number | undefined) ?? 0.01}}`;
    case 'Pow': return `(\\cdot)^{${settings.exponent as number}}`;
    default: return `\\operatorname{${type}}`;
  }
}

/** The optimizer's step for element `k` of a parameter, from the traced update. */
export function updateMath(param: TraceParameter, k: number, symbol: string, ctx: MathContext, name = `${param.name}[${k}]`): Line[] {
  const u = param.update;
  if (!u || !param.grad) return [];
  const p = ctx.precision;
  const n = (v: number) => factor(v, p);
  const at = (v: Values | undefined) => (v === undefined ? undefined : flatten(v)[k]);
  const w = at(param.value) as number;
  const g = at(param.grad) as number;
  const after = at(u.after) as number;
  const t = u.step;
  const s = ctx.optimizer;
  const lines: Line[] = [];
  const title = `Update of ${name} (${u.optimizer}, step ${t})`;
  const wd = optionOf<number>(s, 'weight_decay');
  const sign = optionOf<boolean>(s, 'maximize') ? '+' : '-';
  const gSym = sub('g', 't');
  const gradLine = wd && u.optimizer !== 'AdamW'
    ? `${gSym} = \\frac{\\partial L}{\\partial ${symbol}} + \\lambda ${symbol} = ${n(g)} + ${wd} \\cdot ${n(w)}`
    : `${gSym} = \\frac{\\partial L}{\\partial ${symbol}} = ${texNumber(g, p)}`;
  lines.push({ title, tex: gradLine });
  const prev = (v: string) => (t === 1 ? '0' : sub(v, 't-1'));
  switch (u.optimizer) {
    case 'SGD': {
      const mu = optionOf<number>(s, 'momentum');
      const buf = at(u.state.momentum_buffer);
      if (mu && buf !== undefined) {
        const tau = optionOf<number>(s, 'dampening');
        lines.push({ title: '', tex: `${sub('b', 't')} = \\mu\\cdot ${prev('b')} + (1 - \\tau)\\, ${gSym} = ${mu} \\cdot ${prev('b')} + ${1 - tau} \\cdot ${n(g)} = ${texNumber(buf, p)}`, value: buf });
        const step = optionOf<boolean>(s, 'nesterov') ? `(${gSym} + \\mu\\, ${sub('b', 't')})` : sub('b', 't');
        lines.push({ title: '', tex: `${symbol}' = ${symbol} ${sign} \\eta\\, ${step} = ${n(w)} ${sign} ${u.lr} \\cdot ${step} = ${texNumber(after, p)}`, value: after });
      } else {
        const lrGrad = at(u.derived.lr_grad);
        lines.push({ title: '', tex: `${symbol}' = ${symbol} ${sign} \\eta\\, ${gSym} = ${n(w)} ${sign} ${u.lr} \\cdot ${n(g)}${lrGrad === undefined ? '' : ` = ${n(w)} ${sign} ${n(lrGrad)}`} = ${texNumber(after, p)}`, value: after });
      }
      break;
    }
    case 'Adam':
    case 'AdamW': {
      const [b1, b2] = optionOf<[number, number]>(s, 'betas');
      const eps = optionOf<number>(s, 'eps');
      const m = at(u.state.exp_avg) as number;
      const v = at(u.state.exp_avg_sq) as number;
      const mHat = at(u.derived.m_hat) as number;
      const vHat = at(u.derived.v_hat) as number;
      const base = u.optimizer === 'AdamW' && wd ? `${symbol}(1 - \\eta\\lambda)` : symbol;
      lines.push(
        { title: '', tex: `${sub('m', 't')} = \\beta_1 \\cdot ${prev('m')} + (1 - \\beta_1)\\, ${gSym} = ${b1} \\cdot ${prev('m')} + ${formatNumber(1 - b1, 'full')} \\cdot ${n(g)} = ${texNumber(m, p)}`, value: m },
        { title: '', tex: `${sub('v', 't')} = \\beta_2 \\cdot ${prev('v')} + (1 - \\beta_2)\\, ${gSym}^2 = ${b2} \\cdot ${prev('v')} + ${formatNumber(1 - b2, 'full')} \\cdot ${n(g)}^2 = ${texNumber(v, p)}`, value: v },
        { title: '', tex: `\\hat m_t = \\frac{${sub('m', 't')}}{1 - \\beta_1^{${t}}} = \\frac{${texNumber(m, p)}}{1 - ${b1}^{${t}}} = ${texNumber(mHat, p)}`, value: mHat },
        { title: '', tex: `\\hat v_t = \\frac{${sub('v', 't')}}{1 - \\beta_2^{${t}}} = \\frac{${texNumber(v, p)}}{1 - ${b2}^{${t}}} = ${texNumber(vHat, p)}`, value: vHat },
        {
          title: '',
          tex: `${symbol}' = ${base} ${sign} \\eta\\,\\frac{\\hat m_t}{\\sqrt{\\hat v_t} + \\varepsilon} = ${n(w)} ${sign} ${u.lr} \\cdot \\frac{${texNumber(mHat, p)}}{\\sqrt{${texNumber(vHat, p)}} + ${texNumber(eps, 'full')}} = ${texNumber(after, p)}`,
          value: after,
        },
      );
      break;
    }
    case 'RMSprop': {
      const alpha = optionOf<number>(s, 'alpha');
      const sq = at(u.state.square_avg) as number;
      lines.push(
        { title: '', tex: `${sub('v', 't')} = \\alpha\\cdot ${prev('v')} + (1 - \\alpha)\\, ${gSym}^2 = ${alpha} \\cdot ${prev('v')} + ${formatNumber(1 - alpha, 'full')} \\cdot ${n(g)}^2 = ${texNumber(sq, p)}`, value: sq },
        { title: '', tex: `${symbol}' = ${symbol} ${sign} \\eta\\,\\frac{${gSym}}{\\sqrt{${sub('v', 't')}} + \\varepsilon} = ${texNumber(after, p)}`, value: after },
      );
      break;
    }
    case 'Adagrad': {
      const sum = at(u.state.sum) as number;
      lines.push(
        { title: '', tex: `${sub('s', 't')} = ${sub('s', 't-1')} + ${gSym}^2 = ${texNumber(sum, p)}`, value: sum },
        { title: '', tex: `${symbol}' = ${symbol} ${sign} \\frac{\\eta}{1 + (t - 1)\\,\\text{lr\\_decay}}\\,\\frac{${gSym}}{\\sqrt{${sub('s', 't')}} + \\varepsilon} = ${texNumber(after, p)}`, value: after },
      );
      break;
    }
  }
  return lines;
}

/** a/b in lowest terms, as TeX (b = 1: just a). */
function fraction(a: number, b: number): string {
  const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
  const d = Number.isInteger(a) && Number.isInteger(b) ? gcd(Math.abs(a), Math.abs(b)) || 1 : 1;
  return b / d === 1 ? String(a / d) : `\\frac{${a / d}}{${b / d}}`;
}

/**
 * One element of any node's output (a Parameter such as the autograd demo's `a`, or the output of
 * a math node): the chain rule from the objective back to it, one local derivative per node on
 * the way, each with the traced numbers. A chain of powers into a mean also gets its closed form
 * (the demo's ∂z/∂a = 3a⁵/2).
 */
export function elementMath(trace: Trace, nodeId: string, index: readonly number[], ctx: MathContext, params: ParamsById = new Map()): Worked {
  const p = ctx.precision;
  const start = nodeById(trace, nodeId);
  const shape = shapeOf(start.output);
  if (index.length !== shape.length || index.some((i, d) => i < 0 || i >= shape[d])) {
    throw new Error(`'${start.name}' has shape [${shape.join(', ')}]; there is no element [${index.join(', ')}].`);
  }
  const k = index.reduce((flat, i, d) => flat * shape[d] + i, 0);
  const label = index.join(',');
  const sym = (node: TraceNode) => sub(text(node.name), label);
  const lines: Line[] = [];
  const notes: string[] = [];
  const value = flatten(start.output)[k];
  lines.push({ title: `Value of ${start.name}[${label}]`, tex: `${sym(start)} = ${texNumber(value, p)}`, value });

  // Walk forward while each node feeds exactly one node, element to element (or into a full reduction).
  const factors: string[] = [];
  const chain: string[] = [];
  // For the closed form of a chain of powers into a mean or sum: Πpᵢ, and n of the mean.
  let exponent = 1;
  let count = 1;
  let onlyPowers = true;
  let reduced = false;
  let at = start;
  let upstream: { node: TraceNode; value: number } | undefined;
  for (;;) {
    const next = consumers(trace, at.id);
    if (next.length !== 1) break;
    const c = next[0].node;
    const settings = params.get(c.id) ?? {};
    const reducesAll = (c.type === 'Mean' || c.type === 'Sum') && settings.dim === undefined;
    if (!ELEMENTWISE.has(c.type) && !reducesAll) {
      const g = c.inputs[next[0].input].grad;
      if (g !== null) upstream = { node: c, value: flatten(g)[k] };
      break;
    }
    if (reducesAll) {
      count = c.type === 'Mean' ? flatten(c.inputs[0].value).length : 1;
      factors.push(count === 1 ? '1' : `\\frac{1}{${count}}`);
      chain.push(`\\frac{\\partial ${text(c.name)}}{\\partial ${sym(at)}}`);
      reduced = true;
      break;
    }
    const d = localDerivative(c, flatten(c.inputs[0].value)[k], flatten(c.output)[k], p, settings);
    factors.push(d.numeric);
    chain.push(`\\frac{\\partial ${sym(c)}}{\\partial ${sym(at)}}`);
    if (c.type === 'Pow') exponent *= settings.exponent as number;
    else onlyPowers = false;
    at = c;
  }
  const grad = start.grad ? flatten(start.grad)[k] : undefined;
  const heading = `${start.name}[${label}], sample ${trace.sample}`;
  if (grad === undefined) {
    notes.push(`No gradient reaches '${start.name}'.`);
    return { heading, lines, notes };
  }
  const head = `\\frac{\\partial L}{\\partial ${sym(start)}}`;
  if (upstream) {
    chain.push(`\\frac{\\partial L}{\\partial ${sym(upstream.node)}}`);
    factors.push(factor(upstream.value, p));
  }
  lines.push(factors.length > 0
    ? {
      title: 'Chain rule: one local derivative per node on the way to the objective',
      tex: `${head} = ${[...chain].reverse().join(' \\cdot ')} = ${factors.map((f) => `(${f})`).reverse().join(' \\cdot ')} = ${texNumber(grad, p)}`,
      value: grad,
    }
    : { title: 'Gradient', tex: `${head} = ${texNumber(grad, p)}`, value: grad });
  if (reduced && onlyPowers && factors.length > 1) {
    const coef = fraction(exponent, count);
    lines.push({
      title: 'The same in closed form',
      tex: `${head} = ${coef}\\, ${sym(start)}^{${exponent - 1}} = ${coef} \\cdot ${factor(value, p)}^{${exponent - 1}} = ${texNumber(grad, p)}`,
      value: grad,
    });
  }
  const param = trace.parameters.find((q) => q.node === start.id && q.name === start.name);
  if (param?.update) lines.push(...updateMath(param, k, sym(start), ctx));
  return { heading, lines, notes };
}

/**
 * A loss node on the traced sample: the loss worked out from its input and target, and the
 * gradient it sends back. CrossEntropyLoss after a Softmax (the seed) shows the softmax that
 * the loss applies again, and then the Softmax node's own backward step.
 */
export function lossMath(trace: Trace, nodeId: string, ctx: MathContext): Worked {
  const p = ctx.precision;
  const node = nodeById(trace, nodeId);
  const input = node.inputs.find((i) => i.port === 'input');
  const target = node.inputs.find((i) => i.port === 'target');
  if (!input || !target) throw new Error(`'${node.name}' is a ${node.type}, not a loss.`);
  const x = flatten(input.value);
  const g = input.grad ? flatten(input.grad) : undefined;
  const L = flatten(node.output)[0];
  const lines: Line[] = [];
  const notes: string[] = [];
  const source = trace.nodes.find((n) => n.id === input.from);
  const gradLines = (formula: string, numeric: (k: number) => string) => {
    if (!g) return;
    x.forEach((_, k) => lines.push({
      title: k === 0 ? 'Backward: the gradient of the loss with respect to each input' : '',
      tex: `\\frac{\\partial L}{\\partial ${sub('x', k)}} = ${formula.replaceAll('{k}', String(k))} = ${numeric(k)} = ${texNumber(g[k], p)}`,
      value: g[k],
    }));
  };
  const exps = x.map((xk) => `e^{${texNumber(xk, p)}}`).join(' + ');
  switch (node.type) {
    case 'CrossEntropyLoss':
    case 'NLLLoss': {
      const t = flatten(target.value);
      const soft = t.length === x.length && shapeOf(target.value).length === shapeOf(input.value).length;
      if (node.type === 'NLLLoss') {
        const c = t[0];
        lines.push({ title: 'NLLLoss picks the input of the target class and negates it', tex: `L = -x_{c} = -${sub('x', c)} = -${factor(x[c], p)} = ${texNumber(L, p)}`, value: L });
        gradLines('-\\mathbb{1}[{k} = c]', (k) => (k === c ? '-1' : '0'));
        break;
      }
      if (soft) {
        lines.push({ title: 'CrossEntropyLoss with class probabilities', tex: `L = -\\sum_k y_k \\log \\frac{e^{x_k}}{\\sum_j e^{x_j}} = ${texNumber(L, p)}`, value: L });
        gradLines('\\frac{e^{x_{k}}}{\\sum_j e^{x_j}} - y_{k}', (k) => `\\frac{e^{${texNumber(x[k], p)}}}{${exps}} - ${texNumber(t[k], p)}`);
        break;
      }
      const c = t[0];
      lines.push(
        { title: 'CrossEntropyLoss = log-softmax, then NLLLoss: the target class is c', tex: `c = ${c}` },
        {
          title: 'Forward',
          tex: `L = -\\log \\frac{e^{${sub('x', 'c')}}}{\\sum_j e^{x_j}} = -${sub('x', c)} + \\log \\sum_j e^{x_j} = -${factor(x[c], p)} + \\log\\big(${exps}\\big) = ${texNumber(L, p)}`,
          value: L,
        },
      );
      gradLines('\\frac{e^{x_{k}}}{\\sum_j e^{x_j}} - \\mathbb{1}[{k} = c]', (k) => `\\frac{e^{${texNumber(x[k], p)}}}{${exps}} - ${k === c ? 1 : 0}`);
      if (source?.type === 'Softmax') {
        notes.push(`The input of '${node.name}' is already a softmax ('${source.name}'): CrossEntropyLoss applies log-softmax again, so these x are probabilities, not logits, so the loss cannot fall below log(1 + ${x.length - 1}/e) = ${formatNumber(Math.log(1 + (x.length - 1) / Math.E), 4)} however well the network learns.`);
      }
      break;
    }
    case 'MSELoss': {
      const t = flatten(target.value);
      const n = x.length;
      const squares = x.map((xk, k) => `(${texNumber(xk, p)} - ${factor(t[k], p)})^2`).join(' + ');
      lines.push({ title: 'Forward: the mean of the squared differences', tex: `L = \\frac{1}{${n}} \\sum_k (x_k - y_k)^2 = \\frac{1}{${n}}\\big(${squares}\\big) = ${texNumber(L, p)}`, value: L });
      gradLines(`\\frac{2}{${n}}(x_{{k}} - y_{{k}})`, (k) => `\\frac{2}{${n}}(${texNumber(x[k], p)} - ${factor(t[k], p)})`);
      break;
    }
    case 'BCELoss': {
      const t = flatten(target.value);
      const n = x.length;
      lines.push({ title: 'Forward: binary cross-entropy', tex: `L = -\\frac{1}{${n}} \\sum_k \\big(y_k \\log x_k + (1 - y_k) \\log(1 - x_k)\\big) = ${texNumber(L, p)}`, value: L });
      gradLines(`\\frac{x_{{k}} - y_{{k}}}{${n}\\, x_{{k}}(1 - x_{{k}})}`, (k) => `\\frac{${texNumber(x[k], p)} - ${factor(t[k], p)}}{${n} \\cdot ${factor(x[k], p)}(1 - ${factor(x[k], p)})}`);
      break;
    }
    default:
      lines.push({ title: `Forward: ${node.type}`, tex: `L = ${texNumber(L, p)}`, value: L });
      if (g) x.forEach((_, k) => lines.push({ title: k === 0 ? 'Backward' : '', tex: `\\frac{\\partial L}{\\partial ${sub('x', k)}} = ${texNumber(g[k], p)}`, value: g[k] }));
  }
  if (source?.type === 'Softmax' && g && source.grad) {
    const z = flatten(source.inputs[0].value);
    const a = flatten(source.output);
    const dz = source.inputs[0].grad ? flatten(source.inputs[0].grad) : undefined;
    const sum = a.map((ak, k) => `${factor(ak, p)} \\cdot ${factor(g[k], p)}`).join(' + ');
    if (dz) {
      z.forEach((_, k) => lines.push({
        title: k === 0 ? `Then back through Softmax '${source.name}': ∂L/∂z = a·(∂L/∂a − Σ a·∂L/∂a)` : '',
        tex: `\\frac{\\partial L}{\\partial ${sub('z', k)}} = ${factor(a[k], p)}\\big(${texNumber(g[k], p)} - (${sum})\\big) = ${texNumber(dz[k], p)}`,
        value: dz[k],
      }));
    }
  }
  return { heading: `${node.type} '${node.name}', sample ${trace.sample}`, lines, notes };
}
