/**
 * Expected values: numbers a user worked out by hand, saved in the project (`expected`, see
 * docs/project-format.md), compared with the engine's within a tolerance the user sets.
 */
import type { NestedNumbers, Project, Trace } from '../../engine/protocol';
import { flatten, shapeOf, type Values } from './printing';

export type Expected = NonNullable<Project['expected']>[number];
export type Quantity = Expected['quantity'];

/** Half a unit in the 4th decimal: a value copied from PyTorch's printout matches. */
export const DEFAULT_TOLERANCE = 5e-5;

/** Entries are one per node, quantity, tensor and epoch. */
export function sameTarget(a: Omit<Expected, 'values'>, b: Omit<Expected, 'values'>): boolean {
  return a.node === b.node && a.quantity === b.quantity && (a.tensor ?? '') === (b.tensor ?? '') && a.epoch === b.epoch;
}

/** The project with `entry` added, or replacing the entry for the same target. */
export function withExpected(project: Project, entry: Expected): Project {
  const others = (project.expected ?? []).filter((e) => !sameTarget(e, entry));
  return { ...project, expected: [...others, entry] };
}

export function withoutExpected(project: Project, target: Omit<Expected, 'values'>): Project {
  const next = { ...project, expected: (project.expected ?? []).filter((e) => !sameTarget(e, target)) };
  if (next.expected.length === 0) delete (next as Project).expected;
  return next;
}

export interface Comparison {
  match: boolean;
  /** actual − expected per element, row-major; empty when the shapes differ. */
  differences: number[];
  /** The largest |difference| (NaN where a value is not finite). */
  worst: number;
  /** One sentence when the values cannot be compared element by element. */
  problem?: string;
}

export function compare(expected: NestedNumbers, actual: Values, tolerance: number): Comparison {
  const es = shapeOf(expected);
  const as = shapeOf(actual);
  if (es.join() !== as.join()) {
    return { match: false, differences: [], worst: Number.NaN, problem: `The expected values have shape [${es.join(', ')}], but the engine's have shape [${as.join(', ')}].` };
  }
  const e = flatten(expected);
  const a = flatten(actual);
  const differences = a.map((x, i) => x - e[i]);
  const worst = differences.reduce((m, d) => (Number.isNaN(d) || Number.isNaN(m) ? Number.NaN : Math.max(m, Math.abs(d))), 0);
  return { match: differences.every((d) => Math.abs(d) <= tolerance), differences, worst };
}

/** Traced values of one sample as a batch row [1, …]: the rows of several samples joined. */
function stack(rows: Values[]): Values {
  return rows.flatMap((r) => (Array.isArray(r) ? r : [r]));
}

/**
 * The engine's values an entry is compared with, from traces of every sample (index = sample)
 * with the weights after the entry's epoch. Returns one sentence instead where they cannot be had.
 */
export function actualFrom(entry: Expected, traces: readonly Trace[]): { values: Values } | { problem: string } {
  const first = traces[0];
  if (!first) return { problem: 'There is no trace to compare with.' };
  const node = first.nodes.find((n) => n.id === entry.node);
  const name = node?.name ?? entry.node;
  if (entry.quantity === 'tensor') {
    const key = entry.tensor === undefined || entry.tensor === 'value' ? name : `${name}.${entry.tensor}`;
    const p = first.parameters.find((q) => q.name === key);
    return p ? { values: p.value } : { problem: `'${entry.node}' has no trained tensor '${entry.tensor ?? 'value'}'.` };
  }
  const param = first.parameters.find((q) => q.name === name && q.node === entry.node);
  if (entry.quantity === 'gradient') {
    // A trace holds one sample's gradient; with several samples the objective's is their combination.
    if (traces.length !== 1) return { problem: 'Gradients are compared in one-sample projects only: a trace holds one sample\'s gradient.' };
    const grad = param ? param.grad : node?.grad;
    return grad ? { values: grad } : { problem: `No gradient reaches '${entry.node}'.` };
  }
  if (param) return { values: param.value };
  if (!node) return { problem: `'${entry.node}' does not feed the objective, so the trace does not show it.` };
  const rows = traces.map((t) => t.nodes.find((n) => n.id === entry.node)?.output ?? []);
  // A node whose output is one number (a loss, a mean) has it per sample; a batch of one is the whole.
  return { values: traces.length === 1 || Array.isArray(node.output) ? stack(rows) : rows };
}

export interface Check {
  entry: Expected;
  comparison?: Comparison;
  problem?: string;
}

/** "n of m match": entries compared and found equal within the tolerance, of all entries. */
export function summary(checks: readonly Check[]): { matching: number; total: number } {
  return { matching: checks.filter((c) => c.comparison?.match).length, total: checks.length };
}
