import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exportWeights, loadWeights, parseWeights } from '../../../engine/io/weights';
import { compile } from '../../../engine/project/compile';
import { loadProject } from '../../../engine/project/load';
import { exampleText, messagesOf } from '../project/helpers';

const fixture = (name: string) => readFileSync(new URL(`../project/fixtures/${name}`, import.meta.url), 'utf8');
/** What Python's json.dump({k: v.tolist() …}) wrote for nn.Linear(4, 8), nn.Linear(8, 3) after torch.manual_seed(0). */
const pythonDump = fixture('state_dict.json');
const pythonBits = JSON.parse(fixture('state_dict_bits.json')) as Record<string, { shape: number[]; bits: number[] }>;

/** The Iris example's 4-8-3 model: parameters hidden.weight, hidden.bias, output.weight, output.bias. */
const irisModel = () => compile(loadProject(exampleText('iris.json'))).module;
const bitsOf = (values: ArrayLike<number>) => Array.from(new Int32Array(Float32Array.from(values).buffer));

describe('weights JSON', () => {
  it('imports what Python\'s json.dump of a state_dict writes, bit for bit', () => {
    const model = irisModel();
    for (const [, p] of model.named_parameters()) p.data.fill(0);
    loadWeights(model, parseWeights(pythonDump));
    for (const [key, p] of model.named_parameters()) expect(bitsOf(p.toArray()), key).toEqual(pythonBits[key].bits);
  });

  it('exports in Python\'s layout, with the shortest float32 digits', () => {
    const model = irisModel();
    loadWeights(model, parseWeights(pythonDump));
    const ours = exportWeights(model);
    const layout = (text: string) => text.trim().replace(/-?\d+(\.\d+)?(e[-+]\d+)?/g, '#');
    expect(layout(ours)).toBe(layout(pythonDump));
    const [a, b] = [JSON.parse(ours), JSON.parse(pythonDump)] as Record<string, number[][]>[];
    expect(Object.keys(a)).toEqual(Object.keys(b));
    for (const key of Object.keys(b)) expect(a[key].flat().map(Math.fround), key).toEqual(b[key].flat().map(Math.fround));
    expect(ours.length).toBeLessThan(pythonDump.length * 0.7);
  });

  it('gives identical bits on export then import, for any float32 values', () => {
    const model = irisModel();
    const specials = [0, -0, 1e-45, -1e-45, 1.1754943508222875e-38, 3.4028234663852886e38, -3.4028234663852886e38, 0.1, 1 / 3, 16777217, 2 ** -20];
    // Every bit pattern is as likely as any other: all exponents, subnormals included.
    let state = 12345;
    const randomFloat32 = (): number => {
      for (;;) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        const v = new Float32Array(new Uint32Array([Math.imul(state, 2654435761) >>> 0]).buffer)[0];
        if (Number.isFinite(v)) return v;
      }
    };
    for (const [, p] of model.named_parameters()) {
      for (let i = 0; i < p.data.length; i++) p.data[i] = specials[i] ?? randomFloat32();
    }
    const before = model.named_parameters().map(([k, p]) => [k, bitsOf(p.toArray())]);
    const copy = irisModel();
    loadWeights(copy, parseWeights(exportWeights(model)));
    expect(copy.named_parameters().map(([k, p]) => [k, bitsOf(p.toArray())])).toEqual(before);
  });

  it('reports every mismatch of names and shapes at once, and then changes nothing', () => {
    const model = irisModel();
    const before = model.named_parameters().map(([, p]) => Array.from(p.toArray()));
    const weights = JSON.parse(pythonDump) as Record<string, unknown>;
    delete weights['output.bias'];
    weights['extra.weight'] = [[1]];
    weights['hidden.bias'] = [1, 2, 3];
    expect(messagesOf(() => loadWeights(model, parseWeights(JSON.stringify(weights))))).toEqual([
      '"hidden.bias" has shape [3] in the weights file, but the model\'s is [8].',
      'The weights file has "extra.weight", which the model does not have; its names are hidden.weight, hidden.bias, output.weight, output.bias.',
      'The weights file has no "output.bias", which the model needs (shape [3]).',
    ]);
    expect(model.named_parameters().map(([, p]) => Array.from(p.toArray()))).toEqual(before);
  });

  it('says which cell is not a number', () => {
    expect(messagesOf(() => parseWeights('{"a.weight": [[1, 2], [3, "x"]], "a.bias": [1, null], "b": [[1], [2, 3]]}'))).toEqual([
      '"a.weight"[1][1] is the text "x", not a finite number.',
      '"a.bias"[1] is null, not a finite number.',
      '"b"[1] is a list of 2 where a list of 1 should be; the lists must be rectangular.',
    ]);
    expect(messagesOf(() => parseWeights('{"a.weight": [[1, NaN]]}'))).toEqual([
      'The file is not valid JSON: line 1, column 19: NaN is not allowed in JSON; every number must be finite.',
    ]);
    expect(messagesOf(() => parseWeights('{"a.weight": [[1, 1e999]]}'))).toEqual(['"a.weight"[0][1] is Infinity, not a finite number.']);
  });

  it('refuses what is not a weights file', () => {
    expect(messagesOf(() => parseWeights('[1, 2]'))).toEqual(['This is not a weights file: it holds a list of 2, not an object of named tensors.']);
    expect(messagesOf(() => parseWeights(exampleText('xor.json')))).toEqual(['This is a project file, not a weights file.']);
  });

  it('refuses to export NaN or infinite weights', () => {
    const model = irisModel();
    model.named_parameters()[1][1].data[0] = NaN;
    expect(messagesOf(() => exportWeights(model))).toEqual(['The weights hold NaN or infinite values in "hidden.bias", which JSON cannot store.']);
  });
});
