/**
 * What is wrong with a project, said so that a person can fix it: one sentence naming the place
 * (node, port, JSON path, line and column). Loading, compiling and training report every problem
 * they find at once through ProjectError; any other exception is a bug in Backprop Studio.
 */
export interface Problem {
  /** One sentence, naming the place. */
  message: string;
  /** The id of the node it concerns. */
  node?: string;
  /** The port of that node. */
  port?: string;
  /** Where in the file, e.g. nodes[2].params.in_features. */
  path?: string;
}

export class ProjectError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(problems.map((p) => p.message).join('\n'));
    this.name = 'ProjectError';
  }
}

/** A JSON path for messages: nodes[2].params.in_features. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

/** A value as a message shows it: numbers as they are, text quoted and shortened. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return 'an object';
}
