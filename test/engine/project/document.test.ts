import { describe, expect, it } from 'vitest';
import { compile } from '../../../engine/project/compile';
import { serializeProject, withHistory, withModelValues } from '../../../engine/project/document';
import { loadProject } from '../../../engine/project/load';
import { startTraining } from '../../../engine/project/train';
import { EXAMPLE_FILES, exampleText, messagesOf } from './helpers';

const bitsOf = (values: ArrayLike<number>) => Array.from(new Int32Array(Float32Array.from(values).buffer));

describe('project documents', () => {
  it.each(EXAMPLE_FILES)('saves %s unchanged, byte for byte', (file) => {
    expect(serializeProject(loadProject(exampleText(file)))).toBe(exampleText(file));
  });

  it('saves a trained project whose values and history read back exactly', () => {
    const project = loadProject(exampleText('iris.json'));
    const training = startTraining(project, { epochs: 3 });
    const records = [...training.run()];
    const text = serializeProject(withHistory(withModelValues(project, training.graph), records));
    const reloaded = loadProject(text);
    const trained = training.graph.module.named_parameters();
    const again = compile(reloaded).module.named_parameters();
    expect(again.map(([k, p]) => [k, bitsOf(p.toArray())])).toEqual(trained.map(([k, p]) => [k, bitsOf(p.toArray())]));
    expect(reloaded.history?.map((r) => [r.epoch, Math.fround(r.loss)])).toEqual(records.map((r) => [r.epoch, r.loss]));
    expect((reloaded.history?.[2].outputs as number[][]).flat().map(Math.fround)).toEqual((records[2].outputs as number[][]).flat());
    // Shortest decimals: a float32 weight takes at most 9 significant digits (plus sign, point, exponent).
    const widest = Math.max(...[...text.matchAll(/-?\d\.?\d*(e-?\d+)?/g)].map((m) => m[0].length));
    expect(widest).toBeLessThanOrEqual(15);
  });

  it('refuses to store NaN or infinite values', () => {
    const project = loadProject(exampleText('seed-tutorial.json'));
    const graph = compile(project);
    graph.module.named_parameters()[3][1].data[2] = Infinity;
    expect(messagesOf(() => withModelValues(project, graph))).toEqual([
      'The model holds NaN or infinite values in hidden2.bias, which a project cannot store; nothing was saved.',
    ]);
    expect(messagesOf(() => withHistory(project, [{ epoch: 1, loss: NaN, outputs: [[1]] }]))).toEqual([
      'Epoch 1 has a NaN or infinite loss or output, which a project cannot store; nothing was saved.',
    ]);
  });
});
