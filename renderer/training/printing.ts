/**
 * Numbers as the training view shows and copies them: PyTorch's printed form (engine/format.ts,
 * so a copied row diffs clean against a notebook), the precision the user picked for the math
 * view, and the parsing of values a user types or pastes from a notebook.
 */
import { formatFixed, formatFloat32, formatScientific, formatValues, type NestedNumbers } from '../../engine/protocol';

/** Computed values: like NestedNumbers, but NaN and ±Infinity may appear. */
export type Values = number | Values[];

/** Digits after the point, or 'full': the shortest decimal that reads back to the same float32. */
export type Precision = 4 | 6 | 8 | 'full';
export const PRECISIONS: readonly Precision[] = [4, 6, 8, 'full'];

/** One number at a precision, by PyTorch's rule: fixed point, scientific below 1e-4 or from 1e8. */
export function formatNumber(x: number, precision: Precision): string {
  const a = Math.abs(x);
  // formatFixed writes nan and inf as PyTorch prints them.
  if (precision === 'full') return Number.isFinite(x) ? formatFloat32(x) : formatFixed(x, 0);
  return a !== 0 && Number.isFinite(a) && (a < 1e-4 || a >= 1e8) ? formatScientific(x, precision) : formatFixed(x, precision);
}

export function shapeOf(values: Values): number[] {
  const shape: number[] = [];
  for (let v = values; Array.isArray(v); v = v[0]) shape.push(v.length);
  return shape;
}

/** Nested values in row-major order. Pushes into one list: the history flattens every epoch's outputs as they stream in. */
export function flatten(values: Values, into: number[] = []): number[] {
  if (!Array.isArray(values)) into.push(values);
  else for (const v of values) flatten(v, into);
  return into;
}

/**
 * `repr(t)` of a float32 tensor holding `values`, as PyTorch prints it, e.g.
 * `tensor([[0.2293, 0.4251, 0.3457]], grad_fn=<SoftmaxBackward0>)`.
 */
export function printedTensor(values: Values, gradFn?: string): string {
  return formatValues(values, gradFn);
}

/**
 * The grad_fn PyTorch gives the output of a node of this type in a forward pass with gradients
 * (the notebook's `print(model(x))`), for the rows a user copies. Linear layers take [N, F].
 */
export function gradFnOf(node: { type: string; params?: unknown }): string | undefined {
  const params = (node.params ?? {}) as { bias?: boolean; dim?: unknown };
  const reduced = params.dim === undefined ? '0' : '1';
  const names: Record<string, string> = {
    Linear: params.bias === false ? 'MmBackward0' : 'AddmmBackward0',
    ReLU: 'ReluBackward0', LeakyReLU: 'LeakyReluBackward0', ELU: 'EluBackward0', Sigmoid: 'SigmoidBackward0',
    Tanh: 'TanhBackward0', GELU: 'GeluBackward0', Softplus: 'SoftplusBackward0', Softmax: 'SoftmaxBackward0',
    LogSoftmax: 'LogSoftmaxBackward0', Add: 'AddBackward0', Multiply: 'MulBackward0', Scale: 'MulBackward0',
    Concat: 'CatBackward0', Pow: 'PowBackward0', Exp: 'ExpBackward0', Log: 'LogBackward0',
    Sum: `SumBackward${reduced}`, Mean: `MeanBackward${reduced}`,
    CrossEntropyLoss: 'NllLossBackward0', NLLLoss: 'NllLossBackward0', MSELoss: 'MseLossBackward0',
    L1Loss: 'MeanBackward0', HuberLoss: 'HuberLossBackward0', BCELoss: 'BinaryCrossEntropyBackward0',
    BCEWithLogitsLoss: 'BinaryCrossEntropyWithLogitsBackward0',
  };
  return names[node.type];
}

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * Values a user typed or pasted: a number, nested lists (`[[0.1, 0.2]]`), or a PyTorch printout
 * (`tensor([[0.2293, 0.4251, 0.3457]], grad_fn=<SoftmaxBackward0>)`, numbers such as `1.` or
 * `5.9607e-04`). Returns the values, or one sentence saying what is wrong and where.
 */
export function parseValues(text: string): { values: NestedNumbers } | { error: string } {
  let body = text.trim();
  const printed = /^tensor\(([\s\S]*)\)$/.exec(body);
  if (printed) body = printed[1].replace(/,\s*(grad_fn=<\w+>|requires_grad=True|dtype=torch\.\w+)\s*/g, '').trim();
  if (body === '') return { error: 'Nothing was typed; enter a number, a list such as [[0.1, 0.2]], or a PyTorch printout.' };
  const tokens = body.match(/\[|\]|,|[^\s[\],]+/g) ?? [];
  let at = 0;
  const read = (): NestedNumbers | string => {
    const token = tokens[at++];
    if (token === undefined) return 'the text ends before its lists are closed';
    if (token === '[') {
      const list: NestedNumbers[] = [];
      while (tokens[at] !== ']') {
        const item = read();
        if (typeof item === 'string') return item;
        list.push(item);
        if (tokens[at] === ',') at++;
        else if (tokens[at] !== ']') return tokens[at] === undefined ? 'a list is not closed with ]' : `'${tokens[at]}' follows an item where a comma or ] belongs`;
      }
      at++;
      return list;
    }
    if (!NUMBER.test(token)) return `'${token}' is not a number`;
    return Number(token);
  };
  const values = read();
  if (typeof values === 'string') return { error: `Could not read the values: ${values}.` };
  if (at < tokens.length) return { error: `Could not read the values: '${tokens[at]}' follows the end of the value.` };
  const shape = shapeOf(values);
  const ragged = (v: NestedNumbers, dim: number): boolean =>
    Array.isArray(v) && (v.length !== shape[dim] || v.some((w) => ragged(w, dim + 1) || Array.isArray(w) !== dim + 1 < shape.length));
  if (ragged(values, 0)) return { error: 'Could not read the values: the rows have different lengths.' };
  return { values };
}
