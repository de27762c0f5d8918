/**
 * Text → Project: size limit, JSON syntax (line and column), "is this a project at all", the
 * version (newer ones refused, older ones migrated), then the schema, with every violation
 * reported by its JSON path and, inside a node, the node's id.
 */
import * as v from 'valibot';
import { parseJson } from './json';
import { type Document, migrate } from './migrate';
import { describeValue, formatPath, type Problem, ProjectError } from './problems';
import { FORMAT, LIMITS, NODE_TYPES, type Project, ProjectSchema } from './schema';

const MiB = 1024 * 1024;

function notAProject(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `This is not a Backprop Studio project: the file holds ${describeValue(value)}, not an object.`;
  }
  const format = (value as Document).format;
  if (format === FORMAT) return null;
  const entries = Object.values(value);
  if (format === undefined && entries.length > 0 && entries.every(Array.isArray)) {
    return 'This is a weights file, not a project; load it into a project with import-weights.';
  }
  return format === undefined
    ? `This is not a Backprop Studio project: it has no "format": "${FORMAT}" field.`
    : `This is not a Backprop Studio project: its "format" is ${describeValue(format)}, not "${FORMAT}".`;
}

type Issue = v.BaseIssue<unknown>;

type Key = string | number;

/**
 * A failed union reports each option's issues, with paths relative to the union; the option that
 * got furthest into the value says the most. Returns that issue and its full path.
 */
function deepest(issue: Issue, prefix: Key[] = []): { issue: Issue; path: Key[] } {
  const path = [...prefix, ...(issue.path ?? []).map((p) => p.key as Key)];
  if (!issue.issues) return { issue, path };
  return issue.issues.map((i) => deepest(i, path)).reduce((best, c) => (c.path.length > best.path.length ? c : best));
}

const EXPECTATIONS: Record<string, string> = {
  number: 'a number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  tuple: 'a list',
  strict_object: 'an object',
  object: 'an object',
  finite: 'a finite number',
  integer: 'a whole number',
  union: 'a number or nested lists of numbers',
};

function requirementText(issue: Issue): string {
  const req = issue.requirement;
  const text = typeof issue.input === 'string';
  switch (issue.type) {
    case 'min_value': return `at least ${String(req)}`;
    case 'max_value': return `at most ${String(req)}`;
    case 'gt_value': return `greater than ${String(req)}`;
    case 'lt_value': return `less than ${String(req)}`;
    case 'min_length': return text ? `at least ${String(req)} character(s) long` : `a list of at least ${String(req)} item(s)`;
    case 'max_length': return text ? `at most ${String(req)} characters long` : `a list of at most ${String(req)} items`;
    case 'picklist':
    case 'literal': return `one of ${issue.expected?.replaceAll('|', 'or') ?? ''}`.trim();
    default: return EXPECTATIONS[issue.type] ?? `valid (${issue.message})`;
  }
}

function issueToProblem(raw: Issue, doc: Document): Problem {
  const { issue, path } = deepest(raw);
  const where = formatPath(path);
  const nodes = doc.nodes;
  const nodeIndex = path[0] === 'nodes' && typeof path[1] === 'number' ? path[1] : -1;
  const nodeDoc = Array.isArray(nodes) && nodeIndex >= 0 ? (nodes[nodeIndex] as Document | undefined) : undefined;
  const node = typeof nodeDoc?.id === 'string' ? nodeDoc.id : undefined;
  const inNode = node !== undefined ? ` (node '${node}')` : '';
  const problem = (message: string): Problem => ({ message, path: where, ...(node !== undefined ? { node } : {}) });

  const last = path.at(-1);
  if (issue.type === 'strict_object' && issue.expected === 'never') {
    const parent = formatPath(path.slice(0, -1)) || 'The project';
    return problem(`${parent}${inNode} has an unknown field "${String(last)}".`);
  }
  if (issue.type === 'strict_tuple' && issue.expected === 'never') {
    const list = path.slice(0, -1);
    return { ...problem(`${formatPath(list)}${inNode} takes exactly ${String(last)} values, not more.`), path: formatPath(list) };
  }
  if (issue.type === 'variant' && last === 'type') {
    if (path[0] === 'nodes') {
      return problem(`${where}${inNode} is ${describeValue(issue.input)}, which is not a node type; the types are ${NODE_TYPES.join(', ')}.`);
    }
    return problem(`${where} is ${describeValue(issue.input)}, which is not an optimizer; choose SGD, Adam, AdamW, RMSprop or Adagrad.`);
  }
  if (issue.kind === 'schema' && issue.input === undefined) {
    return problem(`${where || 'A field'}${inNode} is missing.`);
  }
  return problem(`${where}${inNode} must be ${requirementText(issue)}, not ${describeValue(issue.input)}.`);
}

/** Validates an already parsed document (any version): a Project, or a ProjectError with every problem. */
function validateProject(value: unknown): Project {
  const refusal = notAProject(value);
  if (refusal) throw new ProjectError([{ message: refusal }]);
  const doc = migrate(value as Document);
  const result = v.safeParse(ProjectSchema, doc, { abortEarly: false });
  if (!result.success) throw new ProjectError(result.issues.map((i) => issueToProblem(i, doc)));
  return result.output;
}

/** Reads a project file's text: a Project, or a ProjectError saying everything that is wrong. */
export function loadProject(text: string): Project {
  if (text.length > LIMITS.fileBytes) {
    throw new ProjectError([{ message: `The file is ${(text.length / MiB).toFixed(1)} MiB; project files are limited to ${LIMITS.fileBytes / MiB} MiB.` }]);
  }
  return validateProject(parseJson(text));
}
