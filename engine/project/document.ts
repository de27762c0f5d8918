/**
 * Project documents out: the model's current values written back into the nodes (after
 * training, after importing weights), the training history, and the text a project is saved as.
 */
import * as v from 'valibot';
import type { NestedArray, Tensor } from '../index';
import type { CompiledGraph } from './compile';
import { roundFloat32, stringifyDocument } from './json';
import { ProjectError } from './problems';
import { type EpochRecord, type Project, type ProjectNode, ProjectSchema } from './schema';

/** Values as a document holds them: float32 values as the shortest decimals that read back to them. */
function rounded(value: NestedArray): NestedArray {
  return Array.isArray(value) ? value.map(rounded) : roundFloat32(value);
}

function allFinite(value: NestedArray): boolean {
  return Array.isArray(value) ? value.every(allFinite) : Number.isFinite(value);
}

/** The project with every Linear and Parameter node holding the model's current values. */
export function withModelValues(project: Project, graph: CompiledGraph): Project {
  const state = graph.module.state_dict();
  const bad: string[] = [];
  const read = (key: string): NestedArray => {
    const values = (state[key] as Tensor).tolist();
    if (!allFinite(values)) bad.push(key);
    return rounded(values);
  };
  const nodes = project.nodes.map((node): ProjectNode => {
    const name = node.name ?? node.id;
    if (node.type === 'Linear') {
      const weight = read(`${name}.weight`) as number[][];
      const bias = node.params.bias === false ? undefined : (read(`${name}.bias`) as number[]);
      return { ...node, tensors: { weight, ...(bias ? { bias } : {}) } };
    }
    if (node.type === 'Parameter') return { ...node, tensors: { value: read(name) } };
    return node;
  });
  if (bad.length > 0) {
    throw new ProjectError([{ message: `The model holds NaN or infinite values in ${bad.join(', ')}, which a project cannot store; nothing was saved.` }]);
  }
  return { ...project, nodes };
}

/** The project with `records` as its training history. */
export function withHistory(project: Project, records: readonly EpochRecord[]): Project {
  const bad = records.find((r) => !Number.isFinite(r.loss) || !allFinite(r.outputs));
  if (bad) {
    throw new ProjectError([{ message: `Epoch ${bad.epoch} has a NaN or infinite loss or output, which a project cannot store; nothing was saved.` }]);
  }
  const history = records.map((r) => ({ epoch: r.epoch, loss: roundFloat32(r.loss), outputs: rounded(r.outputs) }));
  return { ...project, history };
}

/**
 * A project's text as saved: fields in schema order, rows of numbers on one line each. The
 * document is validated first, so Backprop Studio never writes a file it would refuse to load.
 */
export function serializeProject(project: Project): string {
  return `${stringifyDocument(v.parse(ProjectSchema, project))}\n`;
}
