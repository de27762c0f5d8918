import { describe, expect, it } from 'vitest';
import { loadProject } from '../../../engine/project/load';
import { type Document, migrate } from '../../../engine/project/migrate';
import { ProjectError } from '../../../engine/project/problems';
import { CURRENT_VERSION, LIMITS } from '../../../engine/project/schema';
import { EXAMPLE_FILES, exampleDoc, exampleText, messagesOf, problemsOf } from './helpers';

const load = (doc: unknown) => () => loadProject(typeof doc === 'string' ? doc : JSON.stringify(doc));

describe('loadProject', () => {
  it.each(EXAMPLE_FILES)('loads the example %s', (file) => {
    const project = loadProject(exampleText(file));
    expect(project.format).toBe('backprop-studio-project');
    expect(project.nodes.length).toBeGreaterThan(0);
  });

  it('refuses what is not a project, saying what it is', () => {
    expect(messagesOf(load([1, 2]))).toEqual(['This is not a Backprop Studio project: the file holds a list of 2, not an object.']);
    expect(messagesOf(load('"hello"'))).toEqual(['This is not a Backprop Studio project: the file holds the text "hello", not an object.']);
    expect(messagesOf(load({ name: 'x' }))).toEqual(['This is not a Backprop Studio project: it has no "format": "backprop-studio-project" field.']);
    expect(messagesOf(load({ format: 'onnx' }))).toEqual(['This is not a Backprop Studio project: its "format" is the text "onnx", not "backprop-studio-project".']);
    expect(messagesOf(load({ 'hidden.weight': [[1]], 'hidden.bias': [0] }))).toEqual([
      'This is a weights file, not a project; load it into a project with import-weights.',
    ]);
  });

  it('refuses a newer version and an unreadable one', () => {
    const doc = exampleDoc('xor.json');
    expect(messagesOf(load({ ...doc, version: CURRENT_VERSION + 1 }))).toEqual([
      `This project was saved by a newer Backprop Studio (format version ${CURRENT_VERSION + 1}); this one reads format versions up to ${CURRENT_VERSION}.`,
    ]);
    for (const version of ['1', 0, 1.5, null]) {
      expect(messagesOf(load({ ...doc, version }))[0]).toMatch(/^The project's "version" must be a whole number from 1 to \d+, but it is /);
    }
    delete doc.version;
    expect(messagesOf(load(doc))).toEqual([`The project's "version" must be a whole number from 1 to ${CURRENT_VERSION}, but it is none.`]);
  });

  it('reports a broken file by line and column', () => {
    const text = exampleText('xor.json').replace('"features": 2', '"features": 2,');
    const line = text.split('\n').findIndex((l) => l.includes('"features": 2,')) + 1;
    expect(messagesOf(load(text))).toEqual([expect.stringMatching(new RegExp(`^The file is not valid JSON: line ${line}, column \\d+: a comma must not come right before '}'\\.$`))]);
  });

  it('reports every schema violation at once, by JSON path and node id', () => {
    const doc = exampleDoc('seed-tutorial.json');
    doc.nodes[1].tensors.weight[1][2] = 'abc';
    doc.nodes[3].tensors.bias[0] = 'NaN';
    doc.nodes[2].type = 'Relu';
    doc.nodes[6].params.dim = 1.5;
    doc.nodes[0].colour = 'red';
    doc.training.optimizer.type = 'Adamm';
    doc.training.epochs = -1;
    delete doc.edges;
    const problems = problemsOf(load(doc));
    expect(problems).toEqual(expect.arrayContaining([
      { message: 'nodes[1].tensors.weight[1][2] (node \'hidden\') must be a number, not the text "abc".', node: 'hidden', path: 'nodes[1].tensors.weight[1][2]' },
      { message: 'nodes[3].tensors.bias[0] (node \'hidden2\') must be a number, not the text "NaN".', node: 'hidden2', path: 'nodes[3].tensors.bias[0]' },
      expect.objectContaining({ message: expect.stringMatching(/^nodes\[2\]\.type \(node 'relu'\) is the text "Relu", which is not a node type; the types are Input, Target, Linear, ReLU, /), node: 'relu' }),
      { message: 'nodes[6].params.dim (node \'softmax\') must be a whole number, not 1.5.', node: 'softmax', path: 'nodes[6].params.dim' },
      { message: 'nodes[0] (node \'x\') has an unknown field "colour".', node: 'x', path: 'nodes[0].colour' },
      { message: 'training.optimizer.type is the text "Adamm", which is not an optimizer; choose SGD, Adam, AdamW, RMSprop or Adagrad.', path: 'training.optimizer.type' },
      { message: 'training.epochs must be at least 0, not -1.', path: 'training.epochs' },
      { message: 'edges is missing.', path: 'edges' },
    ]));
    expect(problems).toHaveLength(8);
  });

  it('takes Adam\'s betas as exactly two numbers', () => {
    const doc = exampleDoc('seed-tutorial.json');
    doc.training.optimizer.betas = [0.9, 0.999, 0.5];
    expect(problemsOf(load(doc))).toEqual([{ message: 'training.optimizer.betas takes exactly 2 values, not more.', path: 'training.optimizer.betas' }]);
  });

  it('finds a bad cell deep inside a Parameter tensor of any rank', () => {
    const doc = exampleDoc('autograd-demo.json');
    doc.nodes[0].tensors.value = [[[1, 2], [3, true]]];
    expect(messagesOf(load(doc))).toEqual(['nodes[0].tensors.value[0][1][1] (node \'a\') must be a number, not true.']);
  });

  it('refuses a file beyond the size limit before parsing it', () => {
    const text = ' '.repeat(LIMITS.fileBytes + 1);
    expect(messagesOf(load(text))).toEqual(['The file is 64.0 MiB; project files are limited to 64 MiB.']);
  });

  it('refuses more nodes than the limit', () => {
    const doc = exampleDoc('xor.json');
    doc.nodes = Array.from({ length: LIMITS.nodes + 1 }, (_, i) => ({ id: `r${i}`, type: 'ReLU' }));
    expect(messagesOf(load(doc))).toEqual([`nodes must be a list of at most ${LIMITS.nodes} items, not a list of ${LIMITS.nodes + 1}.`]);
  });
});

describe('migrate', () => {
  const steps = {
    1: (doc: Document) => ({ ...doc, renamed: doc.old, old: undefined }),
    2: (doc: Document) => ({ ...doc, added: true }),
  };

  it('applies every migration from the file\'s version up to the current one, in order', () => {
    expect(migrate({ version: 1, old: 'x' }, steps, 3)).toEqual({ version: 3, renamed: 'x', old: undefined, added: true });
    expect(migrate({ version: 2, old: 'x' }, steps, 3)).toEqual({ version: 3, old: 'x', added: true });
    expect(migrate({ version: 3, old: 'x' }, steps, 3)).toEqual({ version: 3, old: 'x' });
  });

  it('refuses a version newer than the current one', () => {
    expect(() => migrate({ version: 4 }, steps, 3)).toThrow(ProjectError);
  });

  it('treats a missing migration as a bug, not as a user error', () => {
    const error = (() => {
      try {
        migrate({ version: 1 }, { 2: steps[2] }, 3);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ProjectError);
  });
});
