/**
 * Pitfall notes: things in a project or a run that give numbers a user may not expect. Each is
 * said in words with the fixes on offer; nothing is changed unless the user picks a fix (an
 * undoable edit of the document).
 */
import type { Project, ProjectNode, Trace } from '../../engine/protocol';
import type { Values } from './printing';
import { flatten } from './printing';

type Edge = Project['edges'][number];

export interface SoftmaxIntoCrossEntropy {
  softmax: ProjectNode;
  loss: ProjectNode;
}

const label = (n: ProjectNode) => `${n.type} '${n.name ?? n.id}'`;

/** Every CrossEntropyLoss whose input comes straight from a Softmax node (as in the seed). */
export function softmaxIntoCrossEntropy(project: Project): SoftmaxIntoCrossEntropy[] {
  const byId = new Map(project.nodes.map((n) => [n.id, n]));
  return project.edges.flatMap((e) => {
    const loss = byId.get(e.to.node);
    const softmax = byId.get(e.from.node);
    return loss?.type === 'CrossEntropyLoss' && e.to.port === 'input' && softmax?.type === 'Softmax' ? [{ softmax, loss }] : [];
  });
}

export function explainSoftmaxIntoCrossEntropy({ softmax, loss }: SoftmaxIntoCrossEntropy): string {
  return `${label(loss)} takes the output of ${label(softmax)}, but CrossEntropyLoss expects logits: PyTorch applies log-softmax to its input again, ` +
    'so the probabilities are squashed twice, the gradients shrink and the loss stops short of 0 (the seed notebook does this; its numbers are right for what it computes).';
}

/** Fix 1: take the Softmax out; the loss gets the logits that fed it. */
export function removeSoftmax(project: Project, { softmax }: SoftmaxIntoCrossEntropy): Project {
  const into = project.edges.find((e) => e.to.node === softmax.id);
  const edges: Edge[] = project.edges
    .filter((e) => e.to.node !== softmax.id)
    .map((e) => (e.from.node === softmax.id && into ? { from: into.from, to: e.to } : e))
    .filter((e) => e.from.node !== softmax.id);
  return {
    ...project,
    nodes: project.nodes.filter((n) => n.id !== softmax.id),
    edges,
    expected: project.expected?.filter((e) => e.node !== softmax.id),
  };
}

/** Fix 2: LogSoftmax (same dim) into NLLLoss, which together are CrossEntropyLoss done once. */
export function useLogSoftmaxWithNll(project: Project, { softmax, loss }: SoftmaxIntoCrossEntropy): Project {
  const nodes = project.nodes.map((n): ProjectNode => {
    if (n.id === softmax.id && n.type === 'Softmax') return { ...n, type: 'LogSoftmax' };
    if (n.id === loss.id && n.type === 'CrossEntropyLoss') {
      // NLLLoss has no label smoothing; its other options mean the same.
      const params = { ...n.params };
      delete params.label_smoothing;
      const next: ProjectNode = { id: n.id, type: 'NLLLoss', ...(n.name ? { name: n.name } : {}), ...(n.position ? { position: n.position } : {}) };
      return Object.keys(params).length ? { ...next, params } : next;
    }
    return n;
  });
  return { ...project, nodes };
}

const bad = (v: Values | null | undefined): boolean => v !== null && v !== undefined && flatten(v).some((x) => !Number.isFinite(x));

/** The first place, in the order the graph runs, where a NaN or infinity appears in a trace. */
export function firstNonFinite(trace: Trace): string | undefined {
  const param = trace.parameters.find((p) => bad(p.value));
  if (param) return `parameter ${param.name}`;
  for (const node of trace.nodes) if (bad(node.output)) return `${node.type} '${node.name}' (its output)`;
  for (const node of [...trace.nodes].reverse()) if (bad(node.grad)) return `${node.type} '${node.name}' (its gradient)`;
  return undefined;
}

/**
 * For a run whose records turned NaN: the first bad epoch, and the last epoch whose weights are
 * good. An epoch's record holds the loss computed with the weights before its step and the outputs
 * with the weights after it, so a NaN loss in epoch e condemns the weights of epoch e − 1.
 */
export function lastGoodEpoch(records: readonly { epoch: number; loss: number; outputs: Values }[]): { bad: number; good: number } | undefined {
  const i = records.findIndex((r) => !Number.isFinite(r.loss) || bad(r.outputs));
  if (i < 0) return undefined;
  const r = records[i];
  return { bad: r.epoch, good: Math.max(0, Number.isFinite(r.loss) ? r.epoch - 1 : r.epoch - 2) };
}
