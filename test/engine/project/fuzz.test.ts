/**
 * Thousands of mutated project files thrown at the loader, the compiler and one training epoch:
 * each must end in a trained model or in a ProjectError whose every problem is a sentence; no
 * other exception, ever. And a model that compiles must run forward on its data without any
 * error, so the compiler's checks leave nothing for the engine to trip over.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as torch from '../../../engine/index';
import { feedsOf } from '../../../engine/project/compile';
import { inputPorts } from '../../../engine/project/nodes';
import { loadProject } from '../../../engine/project/load';
import { ProjectError } from '../../../engine/project/problems';
import { NODE_TYPES, type ProjectNode } from '../../../engine/project/schema';
import { startTraining } from '../../../engine/project/train';
import { EXAMPLE_FILES, exampleText, graphDoc } from './helpers';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

const bases = EXAMPLE_FILES.map((f) => JSON.parse(exampleText(f)) as Json);

function paths(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

function parentOf(doc: Json, path: Path): { parent: Json; key: string | number } | null {
  if (path.length === 0) return null;
  let parent = doc;
  for (const k of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[k];
  return { parent, key: path[path.length - 1] };
}

/** Things a person (or a broken program) might write in place of a value. */
const replacement: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(0, -1, 1, 2, 3, 1.5, 1e9, -1e-9, 1e308, '', 'NaN', 'x', null, true, [], {}, [[]], [1], [[1, 2], [3]]),
  fc.constantFrom<Json>(...NODE_TYPES, 'in', 'in1', 'in2', 'out', 'input', 'target', 'x', 'hidden', 'loss'),
  fc.integer({ min: -5, max: 20 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
);

type Mutation =
  | { kind: 'set'; at: number; value: Json }
  | { kind: 'delete'; at: number }
  | { kind: 'duplicate'; at: number }
  | { kind: 'swap'; at: number; with: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: replacement }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
);

function mutate(base: Json, mutations: Mutation[]): Json {
  const doc = structuredClone(base);
  for (const m of mutations) {
    const all = paths(doc);
    const target = parentOf(doc, all[m.at % all.length]);
    if (!target) continue;
    const parent = target.parent as Record<string | number, Json> & Json[];
    const { key } = target;
    if (m.kind === 'set') parent[key] = structuredClone(m.value);
    else if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
    } else if (m.kind === 'duplicate' && Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(parent[key as number]));
    else if (m.kind === 'swap') {
      const other = parentOf(doc, all[m.with % all.length]);
      if (other) [parent[key], (other.parent as Record<string | number, Json>)[other.key]] = [(other.parent as Record<string | number, Json>)[other.key], parent[key]];
    }
  }
  return doc;
}

function expectClearProblems(e: unknown): void {
  if (!(e instanceof ProjectError)) throw e;
  expect(e.problems.length).toBeGreaterThan(0);
  for (const p of e.problems) {
    expect(p.message).toMatch(/^\S.*[.)]$/s);
    expect(p.message).not.toMatch(/undefined|\[object|NaN is not|at .*\.ts:/);
  }
}

/** Load, compile, run forward on the data, train one epoch: a model, or clear problems. */
function throwAtIt(text: string): 'trained' | 'refused' {
  try {
    const project = loadProject(text);
    const training = startTraining(project, { epochs: 1 });
    const { graph } = training;
    // Binary cross-entropy checks its inputs' values, which no compiler can know in advance.
    if (!project.nodes.some((n) => n.type === 'BCELoss')) {
      torch.no_grad(() => graph.module.run(feedsOf(graph), [graph.objective]));
    }
    for (const record of training.run()) expect(record.epoch).toBe(1);
    return 'trained';
  } catch (e) {
    expectClearProblems(e);
    return 'refused';
  }
}

describe('mutated project files', () => {
  it('end in a model or in clear problems (structural mutations)', () => {
    const outcomes = { trained: 0, refused: 0 };
    fc.assert(
      fc.property(fc.nat({ max: bases.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (b, ms) => {
        outcomes[throwAtIt(JSON.stringify(mutate(bases[b], ms)))]++;
      }),
      { numRuns: 2500, seed: 4 },
    );
    // The mix must exercise both ends, or the test proves little.
    expect(outcomes.trained).toBeGreaterThan(100);
    expect(outcomes.refused).toBeGreaterThan(500);
  }, 120_000);

  it('end in a model or in clear problems (text mutations)', () => {
    const texts = EXAMPLE_FILES.map(exampleText);
    fc.assert(
      fc.property(
        fc.nat({ max: texts.length - 1 }),
        fc.array(fc.record({ at: fc.nat(), cut: fc.nat({ max: 3 }), insert: fc.string({ maxLength: 3 }) }), { minLength: 1, maxLength: 3 }),
        (b, edits) => {
          let text = texts[b];
          for (const { at, cut, insert } of edits) {
            const i = at % (text.length + 1);
            text = text.slice(0, i) + insert + text.slice(i + cut);
          }
          throwAtIt(text);
        },
      ),
      { numRuns: 1000, seed: 5 },
    );
  }, 120_000);
});

/** Small random tensors as nested lists: a number, a row, or a matrix. */
const smallTensor: fc.Arbitrary<Json> = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 3 }),
  fc.integer({ min: 1, max: 3 }).chain((n) => fc.array(fc.array(fc.integer({ min: -3, max: 3 }), { minLength: n, maxLength: n }), { minLength: 1, maxLength: 3 })),
);
// Sizes of 1 or 2 match each other often enough for many graphs to get through the shape checks.
const size = fc.integer({ min: 1, max: 2 });
const dim = fc.integer({ min: -3, max: 2 });
const reduction = fc.constantFrom('mean', 'sum', 'none');

/** Any node the schema accepts, with small random parameters. */
const anyNode: fc.Arbitrary<Json> = fc.oneof(
  fc.record({ type: fc.constant('Input'), params: fc.record({ features: size }) }),
  fc.record({ type: fc.constant('Target') }),
  fc.record({ type: fc.constant('Linear'), params: fc.record({ in_features: size, out_features: size, bias: fc.boolean() }) }),
  fc.record({ type: fc.constantFrom('ReLU', 'Sigmoid', 'Tanh', 'Exp', 'Log', 'GELU', 'ELU', 'LeakyReLU', 'Softplus') }),
  fc.record({ type: fc.constantFrom('Softmax', 'LogSoftmax'), params: fc.record({ dim }) }),
  fc.record({ type: fc.constant('Dropout'), params: fc.record({ p: fc.constantFrom(0, 0.5, 1) }) }),
  fc.record({ type: fc.constantFrom('Add', 'Multiply'), params: fc.record({ inputs: fc.integer({ min: 2, max: 3 }) }) }),
  fc.record({ type: fc.constant('Concat'), params: fc.record({ dim, inputs: fc.integer({ min: 2, max: 3 }) }) }),
  fc.record({ type: fc.constant('Constant'), params: fc.record({ value: smallTensor }) }),
  fc.record({ type: fc.constant('Parameter'), tensors: fc.record({ value: smallTensor }) }),
  fc.record({ type: fc.constant('Pow'), params: fc.record({ exponent: fc.constantFrom(0.5, 2, 3, -1) }) }),
  fc.record({ type: fc.constant('Scale'), params: fc.record({ factor: fc.integer({ min: -2, max: 2 }) }) }),
  fc.record({ type: fc.constantFrom('Sum', 'Mean'), params: fc.record({ dim: fc.oneof(dim, fc.array(dim, { maxLength: 2 })), keepdim: fc.boolean() }, { requiredKeys: [] }) }),
  fc.record({ type: fc.constantFrom('CrossEntropyLoss', 'NLLLoss', 'MSELoss', 'L1Loss', 'HuberLoss', 'BCEWithLogitsLoss'), params: fc.record({ reduction }, { requiredKeys: [] }) }),
);
const layerNode = anyNode.filter((n) => !['Input', 'Target'].includes((n as { type: string }).type) && !(n as { type: string }).type.endsWith('Loss'));
const lastNode: fc.Arbitrary<Json> = fc.oneof(
  fc.record({ type: fc.constant('Mean') }),
  anyNode.filter((n) => (n as { type: string }).type.endsWith('Loss')),
);
const junkPort = fc.constantFrom('in', 'in1', 'in3', 'input', 'target', 'out');

describe('random graphs', () => {
  it('end in a model or in clear problems', () => {
    const outcomes = { trained: 0, refused: 0 };
    fc.assert(
      fc.property(
        fc.array(layerNode, { maxLength: 5 }),
        lastNode,
        fc.array(fc.nat(), { minLength: 20, maxLength: 20 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), junkPort), { maxLength: 1 }),
        size,
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        (middle, last, choices, junk, features, rows, classes) => {
          const input = { type: 'Input', params: { features: choices[1] % 5 === 0 ? features + 1 : features } };
          const first = { type: 'Linear', params: { in_features: features, out_features: 2 } };
          const named = [input, { type: 'Target' }, first, ...middle, last].map((n, i) => ({ id: `n${i}`, ...(n as object) })) as ProjectNode[];
          // Mostly well-formed: each port fed by the node before it or another earlier one (the
          // Target seldom), so that shapes decide; now and then a stray edge.
          const links: [string, string, string][] = [];
          let c = 1;
          named.forEach((node, j) => {
            const earlier = [0, ...Array.from({ length: j - 2 }, (_, k) => k + 2)];
            for (const p of inputPorts(node)) {
              const pick = choices[c++ % choices.length];
              const from = p === 'target' || pick % 11 === 0 ? 1 : pick % 3 === 0 ? earlier[pick % earlier.length] : earlier[earlier.length - 1];
              links.push([`n${from}`, node.id, p]);
            }
          });
          if (choices[0] % 4 === 0) for (const [a, b, p] of junk) links.push([`n${a % named.length}`, `n${b % named.length}`, p]);
          const samples = Array.from({ length: rows }, (_, r) => Array.from({ length: features }, (_, k) => (r + k) / 4 - 0.3));
          const targets = classes ? samples.map((_, r) => r % 2) : samples.map((row) => row.map((v) => (v > 0 ? 1 : 0)));
          outcomes[throwAtIt(JSON.stringify(graphDoc(named, links, { data: { samples, targets } })))]++;
        },
      ),
      { numRuns: 3000, seed: 6 },
    );
    expect(outcomes.trained).toBeGreaterThan(200);
  }, 120_000);
});
