/**
 * Weights JSON: what Python's `json.dump({k: v.tolist() for k, v in model.state_dict().items()}, f)`
 * writes — state_dict keys in state_dict order, nested lists, json.dump's layout — except that each
 * float32 is written with the fewest digits that read back to the same float32 (0.1, not
 * 0.10000000149011612). So export then import gives identical bits, and Python's own dumps load.
 * No Node APIs here: the app's renderer uses this module too.
 */
import type { NestedArray, nn } from '../index';
import { formatFloat32, formatNested, parseJson } from '../project/json';
import { describeValue, type Problem, ProjectError } from '../project/problems';
import { FORMAT, LIMITS } from '../project/schema';
import { formatDims, nestedShape } from '../project/tensors';

type Module = nn.Module;

/** The model's parameters as weights JSON; NaN or infinite values are refused, naming the tensors. */
export function exportWeights(module: Module): string {
  const entries = module.named_parameters();
  const bad = entries.filter(([, t]) => t.toArray().some((x) => !Number.isFinite(x))).map(([k]) => `"${k}"`);
  if (bad.length > 0) {
    throw new ProjectError([{ message: `The weights hold NaN or infinite values in ${bad.join(', ')}, which JSON cannot store.` }]);
  }
  return `{${entries.map(([k, t]) => `${JSON.stringify(k)}: ${formatNested(t.tolist(), formatFloat32)}`).join(', ')}}\n`;
}

export type Weights = Record<string, NestedArray>;

/** Reads weights JSON: an object of nested lists of finite numbers, every bad cell reported. */
export function parseWeights(text: string): Weights {
  if (text.length > LIMITS.fileBytes) {
    throw new ProjectError([{ message: `The weights file is larger than ${LIMITS.fileBytes / (1024 * 1024)} MiB.` }]);
  }
  const value = parseJson(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProjectError([{ message: `This is not a weights file: it holds ${describeValue(value)}, not an object of named tensors.` }]);
  }
  if ((value as Record<string, unknown>).format === FORMAT) {
    throw new ProjectError([{ message: 'This is a project file, not a weights file.' }]);
  }
  const problems: Problem[] = [];
  for (const [key, tensor] of Object.entries(value)) {
    const shape = nestedShape(tensor, JSON.stringify(key));
    if (!Array.isArray(shape)) problems.push({ message: `${shape.message}.`, path: key });
  }
  if (problems.length > 0) throw new ProjectError(problems);
  return value as Weights;
}

/**
 * Loads weights into the model's parameters. Every missing or unexpected name and every shape
 * mismatch is reported at once, and then nothing is changed.
 */
export function loadWeights(module: Module, weights: Weights): void {
  const own = new Map(module.named_parameters());
  const problems: Problem[] = [];
  for (const [key, value] of Object.entries(weights)) {
    const target = own.get(key);
    if (!target) {
      problems.push({ message: `The weights file has "${key}", which the model does not have; its names are ${[...own.keys()].join(', ')}.`, path: key });
      continue;
    }
    const shape = nestedShape(value, key) as number[];
    if (formatDims(shape) !== formatDims(target.shape)) {
      problems.push({ message: `"${key}" has shape ${formatDims(shape)} in the weights file, but the model's is ${formatDims(target.shape)}.`, path: key });
    }
  }
  for (const [key, target] of own) {
    if (!(key in weights)) problems.push({ message: `The weights file has no "${key}", which the model needs (shape ${formatDims(target.shape)}).`, path: key });
  }
  if (problems.length > 0) throw new ProjectError(problems);
  module.load_state_dict(weights);
}
