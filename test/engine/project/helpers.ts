/** Shared by the project, io and CLI tests: the bundled examples, and what a ProjectError says. */
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { type Problem, ProjectError } from '../../../engine/project/problems';

const EXAMPLES_DIR = new URL('../../../assets/examples/', import.meta.url);

export const EXAMPLE_FILES = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.json')).sort();

export function exampleText(file: string): string {
  return readFileSync(new URL(file, EXAMPLES_DIR), 'utf8');
}

/** Documents in tests are edited freely, broken included. */
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A fresh, mutable copy of an example's document. */
export function exampleDoc(file: string): Record<string, Json> {
  return JSON.parse(exampleText(file)) as Record<string, Json>;
}

/** The problems `fn` throws as a ProjectError, or none when it succeeds; anything else fails the test. */
export function problemsIfAny(fn: () => unknown): Problem[] {
  try {
    fn();
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ProjectError);
    return [...(e as ProjectError).problems];
  }
}

/** The problems `fn` throws as a ProjectError (failing the test if it throws nothing or anything else). */
export function problemsOf(fn: () => unknown): Problem[] {
  const problems = problemsIfAny(fn);
  if (problems.length === 0) throw new Error('expected a ProjectError, but nothing was thrown');
  return problems;
}

export function messagesOf(fn: () => unknown): string[] {
  return problemsOf(fn).map((p) => p.message);
}

/**
 * A project document from nodes and edges written as [from, to, port] (port 'in' by default),
 * with SGD training for one epoch unless `extra` says otherwise.
 */
export function graphDoc(nodes: Json[], edges: [string, string, string?][], extra: Record<string, Json> = {}): Record<string, Json> {
  return {
    format: 'backprop-studio-project',
    version: 1,
    nodes,
    edges: edges.map(([from, to, port = 'in']) => ({ from: { node: from, port: 'out' }, to: { node: to, port } })),
    training: { epochs: 1, optimizer: { type: 'SGD', lr: 0.1 } },
    ...extra,
  };
}
