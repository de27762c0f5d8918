/** Nested lists of numbers (tensors as JSON holds them): their shape, checked cell by cell. */
import { describeValue } from './problems';

/**
 * The shape of nested lists of finite numbers, or a sentence saying where they are not: a cell
 * that is not a finite number, or rows of different lengths. `label` names the tensor and
 * `owner` (" of Linear 'hidden'") what holds it.
 */
export function nestedShape(value: unknown, label: string, owner = ''): number[] | { message: string } {
  const shape: number[] = [];
  for (let level = value; Array.isArray(level); level = level[0]) shape.push(level.length);
  const walk = (v: unknown, index: number[]): string | null => {
    const dim = index.length;
    if (dim === shape.length) {
      if (typeof v === 'number' && Number.isFinite(v)) return null;
      const at = index.map((i) => `[${i}]`).join('');
      return Array.isArray(v)
        ? `${label}${at}${owner} is a list where a number should be; the lists must be rectangular`
        : `${label}${at}${owner} is ${describeValue(v)}, not a finite number`;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      const at = index.map((i) => `[${i}]`).join('');
      const found = Array.isArray(v) ? `a list of ${v.length}` : describeValue(v);
      return `${label}${at}${owner} is ${found} where a list of ${shape[dim]} should be; the lists must be rectangular`;
    }
    for (let i = 0; i < v.length; i++) {
      const message = walk(v[i], [...index, i]);
      if (message) return message;
    }
    return null;
  };
  const message = walk(value, []);
  return message ? { message } : shape;
}

/** A shape for messages; "N" stands for the batch dimension. */
export function formatDims(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}
