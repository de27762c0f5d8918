/**
 * The settings the inspector offers per node type, named as the project format (and PyTorch)
 * names them, with the ranges the format allows, and the check a typed value must pass before
 * it is applied.
 */
import type { NodeType } from '../../engine/protocol';
import { parseExpression } from './expression';

export type Field =
  | { key: string; kind: 'int'; min: number; max: number; default?: number; label?: string }
  | { key: string; kind: 'number'; min?: number; max?: number; default?: number; label?: string }
  | { key: string; kind: 'bool'; default: boolean; label?: string }
  | { key: string; kind: 'choice'; options: readonly string[]; default: string; label?: string }
  /** One dim, a list of dims ("0, 1"), or empty for all. */
  | { key: string; kind: 'dims'; label?: string };

const dim = { kind: 'int', min: -6, max: 5 } as const;
const reduction = { key: 'reduction', kind: 'choice', options: ['mean', 'sum', 'none'], default: 'mean' } as const;
const fanIn = { key: 'inputs', kind: 'int', min: 2, max: 16, default: 2, label: 'inputs' } as const;
const reduce: Field[] = [{ key: 'dim', kind: 'dims', label: 'dims (empty: all)' }, { key: 'keepdim', kind: 'bool', default: false }];

export const FIELDS: Partial<Record<NodeType, readonly Field[]>> = {
  Input: [{ key: 'features', kind: 'int', min: 1, max: 100_000 }],
  Linear: [
    { key: 'in_features', kind: 'int', min: 1, max: 100_000 },
    { key: 'out_features', kind: 'int', min: 1, max: 100_000 },
    { key: 'bias', kind: 'bool', default: true },
  ],
  LeakyReLU: [{ key: 'negative_slope', kind: 'number', default: 0.01 }],
  ELU: [{ key: 'alpha', kind: 'number', default: 1 }],
  GELU: [{ key: 'approximate', kind: 'choice', options: ['none', 'tanh'], default: 'none' }],
  Softplus: [{ key: 'beta', kind: 'number', default: 1 }, { key: 'threshold', kind: 'number', default: 20 }],
  Softmax: [{ key: 'dim', ...dim }],
  LogSoftmax: [{ key: 'dim', ...dim }],
  Dropout: [{ key: 'p', kind: 'number', min: 0, max: 1, default: 0.5 }],
  Add: [fanIn],
  Multiply: [fanIn],
  Concat: [{ key: 'dim', ...dim }, fanIn],
  Pow: [{ key: 'exponent', kind: 'number' }],
  Scale: [{ key: 'factor', kind: 'number' }],
  Sum: reduce,
  Mean: reduce,
  CrossEntropyLoss: [reduction, { key: 'label_smoothing', kind: 'number', min: 0, max: 1, default: 0 }, { key: 'ignore_index', kind: 'int', min: -1_000_000, max: 1_000_000, default: -100 }],
  NLLLoss: [reduction, { key: 'ignore_index', kind: 'int', min: -1_000_000, max: 1_000_000, default: -100 }],
  MSELoss: [reduction],
  L1Loss: [reduction],
  HuberLoss: [reduction, { key: 'delta', kind: 'number', min: 0, default: 1 }],
  BCELoss: [reduction],
  BCEWithLogitsLoss: [reduction],
};

export type Checked = { value: unknown } | { error: string };

/** A field's typed text as the value the project stores (undefined: back to the default), or why it cannot be. */
export function checkField(field: Field, text: string): Checked {
  const label = field.label ?? field.key;
  const t = text.trim();
  switch (field.kind) {
    case 'bool':
      return { value: t === 'true' };
    case 'choice':
      return field.options.includes(t) ? { value: t } : { error: `${label} must be one of ${field.options.join(', ')}` };
    case 'dims': {
      if (t === '') return { value: undefined };
      const parts = t.split(/[\s,]+/).filter(Boolean).map(Number);
      if (parts.some((d) => !Number.isInteger(d) || d < -6 || d > 5)) return { error: `${label}: each dim must be a whole number from -6 to 5` };
      return { value: parts.length === 1 ? parts[0] : parts };
    }
    case 'int':
    case 'number': {
      if (t === '' && 'default' in field && field.default !== undefined) return { value: undefined };
      const parsed = parseExpression(t);
      if ('error' in parsed) return { error: `${label}: ${parsed.error}` };
      const x = parsed.value;
      if (field.kind === 'int' && !Number.isInteger(x)) return { error: `${label} must be a whole number, not ${x}` };
      if (field.min !== undefined && x < field.min) return { error: `${label} must be at least ${field.min}, not ${x}` };
      if (field.max !== undefined && x > field.max) return { error: `${label} must be at most ${field.max}, not ${x}` };
      return { value: x };
    }
  }
}
