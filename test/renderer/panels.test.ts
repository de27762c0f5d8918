import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isTyping, shortcutList, shortcutOf } from '../../renderer/app/keys';
import { fileNameFor, projectText, readProject } from '../../renderer/app/files';
import { addRow, deleteRow, importCsvData, pasteRows, previewCsv, setSample, setTarget } from '../../renderer/inspector/data';
import { checkField, FIELDS, type Field } from '../../renderer/inspector/fields';
import { addNode, emptyProject, setData } from '../../renderer/state/commands';
import { ProjectDocument } from '../../renderer/state/document.svelte';
import { serializeProject } from '../../engine/project/document';

const withInput = (features: number, target = true) => {
  let p = addNode(emptyProject(), { type: 'Input', params: { features } }, { x: 0, y: 0 }).project;
  if (target) p = addNode(p, { type: 'Target' }, { x: 0, y: 0 }).project;
  return p;
};

describe('the data panel', () => {
  it('adds rows as wide as the Input, with a class for the Target', () => {
    const p = withInput(3);
    const data = addRow(p);
    expect(data).toEqual({ samples: [[0, 0, 0]], targets: [0] });
    const edited = setTarget(setSample(data, 0, 2, 0.7), 0, null, 1);
    expect(edited).toEqual({ samples: [[0, 0, 0.7]], targets: [1] });
    expect(deleteRow(edited, 0)).toEqual({ samples: [], targets: [] });
    expect(addRow(withInput(2, false))).toEqual({ samples: [[0, 0]] });
  });

  it('pastes spreadsheet rows: the samples, then the class', () => {
    const p = withInput(3);
    expect(pasteRows(p, '0.1\t0.2\t0.7\t1\n1\t2\t3\t0')).toEqual({ data: { samples: [[0.1, 0.2, 0.7], [1, 2, 3]], targets: [1, 0] }, added: 2 });
    expect(pasteRows(p, '0.1, 0.2, 0.7')).toEqual({ error: 'Pasted row 1 has 3 values, but a row here is 3 sample values and a class index. Nothing was pasted.' });
    expect(pasteRows(p, '0.1, 0.2, 0.7, 1.5')).toEqual({ error: 'Pasted row 1 has the class 1.5; a class is a whole number from 0. Nothing was pasted.' });
    expect(pasteRows(p, '1, 2, x, 0')).toMatchObject({ error: expect.stringMatching(/^Row 1, column 3: "x"/) });
  });

  const IRIS = 'sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n7.0,3.2,4.7,1.4,versicolor\n\n6.3,3.3,6.0,2.5,virginica\n';
  const withLoss = (loss: 'CrossEntropyLoss' | 'MSELoss') => addNode(withInput(4), { type: loss }, { x: 0, y: 0 }).project;

  it('imports a CSV as one undoable step: text class labels become indices and name the classes', () => {
    const preview = previewCsv(IRIS);
    expect(preview).toEqual({ delimiter: ',', firstRow: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species'], header: true });
    const doc = new ProjectDocument();
    doc.load({ ...withLoss('CrossEntropyLoss'), data: { samples: [[0, 0, 0, 0]], targets: [0] } }, null);
    const before = doc.project;
    const result = importCsvData(before, IRIS, { header: true, inputs: [0, 1, 2, 3], targets: [4] });
    if (!('data' in result)) throw new Error(result.problems.join(' '));
    doc.apply('Import CSV', (p) => setData(p, result.data));
    expect(doc.project.data).toEqual({
      samples: [[5.1, 3.5, 1.4, 0.2], [7, 3.2, 4.7, 1.4], [6.3, 3.3, 6, 2.5]],
      targets: [0, 1, 2],
      class_names: ['setosa', 'versicolor', 'virginica'],
    });
    doc.undo();
    expect(doc.project).toBe(before);
  });

  it('imports the columns chosen, without a header, whole-number targets as classes where the loss takes them', () => {
    const text = '1;2;9;1\n3;4;9;0\n';
    const preview = previewCsv(text);
    expect(preview).toMatchObject({ delimiter: ';', header: false });
    const options = { header: false, delimiter: ';', inputs: [0, 1], targets: [3] };
    expect(importCsvData(withLoss('CrossEntropyLoss'), text, options)).toEqual({ data: { samples: [[1, 2], [3, 4]], targets: [1, 0] } });
    expect(importCsvData(withLoss('MSELoss'), text, options)).toEqual({ data: { samples: [[1, 2], [3, 4]], targets: [[1], [0]] } });
    expect(importCsvData(withLoss('CrossEntropyLoss'), '1,2,0.5\n', { header: false })).toEqual({
      problems: ['Sample 1 has the target 0.5, but the loss takes class indices: whole numbers from 0, or text labels.'],
    });
  });

  it('refuses a CSV with bad rows whole, naming each bad row by its line', () => {
    const text = 'a,b,label\n1,2,yes\n1,x,no\n3\n4,5,no\n';
    expect(importCsvData(withLoss('CrossEntropyLoss'), text, { header: true })).toEqual({
      problems: ['Line 3: column "b" is "x", not a number.', 'Line 4 has 1 values, but the header has 3.'],
    });
    expect(previewCsv('')).toEqual({ error: 'The CSV file is empty.' });
  });

  it('pastes rows of target values where the targets are rows', () => {
    const p = { ...withInput(2), data: { samples: [[0, 0]], targets: [[0]] } };
    expect(pasteRows(p, '[[1, 1, 0]]')).toEqual({ data: { samples: [[0, 0], [1, 1]], targets: [[0], [0]] }, added: 1 });
  });
});

describe('settings fields', () => {
  const int: Field = { key: 'in_features', kind: 'int', min: 1, max: 100_000 };
  it('applies values in range, and refuses the rest with the reason', () => {
    expect(checkField(int, '4')).toEqual({ value: 4 });
    expect(checkField(int, '2*3')).toEqual({ value: 6 });
    expect(checkField(int, '0')).toEqual({ error: 'in_features must be at least 1, not 0' });
    expect(checkField(int, '1.5')).toEqual({ error: 'in_features must be a whole number, not 1.5' });
    expect(checkField(int, 'many')).toMatchObject({ error: expect.stringMatching(/^in_features: "many" is not/) });
    expect(checkField({ key: 'p', kind: 'number', min: 0, max: 1, default: 0.5 }, '')).toEqual({ value: undefined });
    expect(checkField({ key: 'dim', kind: 'dims' }, '0, -1')).toEqual({ value: [0, -1] });
    expect(checkField({ key: 'dim', kind: 'dims' }, '9')).toMatchObject({ error: expect.stringMatching(/from -6 to 5/) });
  });

  it('offers the settings of the layers people edit most', () => {
    expect(FIELDS.Linear?.map((f) => f.key)).toEqual(['in_features', 'out_features', 'bias']);
    expect(FIELDS.Softmax?.map((f) => f.key)).toEqual(['dim']);
  });
});

describe('shortcuts', () => {
  const key = (k: string, mods: Partial<Record<'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey', boolean>> = {}) =>
    shortcutOf({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });
  it('maps Ctrl and Cmd keys to commands', () => {
    expect(key('z', { ctrlKey: true })).toBe('undo');
    expect(key('Z', { metaKey: true, shiftKey: true })).toBe('redo');
    expect(key('y', { ctrlKey: true })).toBe('redo');
    expect(key('s', { metaKey: true })).toBe('save');
    expect(key('d', { ctrlKey: true })).toBe('duplicate');
    expect(key('Delete')).toBe('delete');
    expect(key('z')).toBeNull();
  });
  it('lists in the help exactly the keys it acts on, each meaning what it does', () => {
    const pressed = (keys: string) => {
      const [, shift, name] = /^Ctrl\+(Shift\+)?(.+)$/.exec(keys) ?? [null, undefined, keys];
      return key(name.length === 1 ? name.toLowerCase() : name, { ctrlKey: keys.startsWith('Ctrl+'), shiftKey: shift !== undefined });
    };
    const list = shortcutList('Ctrl+');
    const acted = list.map(({ keys, meaning }) => ({ meaning, shortcuts: keys.split(', ').map(pressed) }));
    expect(acted).toEqual([
      { meaning: 'Undo', shortcuts: ['undo'] },
      { meaning: 'Redo', shortcuts: ['redo', 'redo'] },
      { meaning: 'Save', shortcuts: ['save'] },
      { meaning: 'Open a project file', shortcuts: ['open'] },
      { meaning: 'Duplicate the selected nodes', shortcuts: ['duplicate'] },
      { meaning: 'Copy the selected nodes (to the clipboard)', shortcuts: ['copy'] },
      { meaning: 'Paste copied nodes', shortcuts: ['paste'] },
      { meaning: 'Select every node', shortcuts: ['selectAll'] },
      { meaning: 'Delete the selected nodes or edges', shortcuts: ['delete', 'delete'] },
    ]);
  });
  it('leaves keys typed into a field to the field', () => {
    expect(isTyping(null)).toBe(false);
    const field = { closest: (s: string) => (s.includes('input') ? {} : null), isContentEditable: false };
    expect(isTyping(field as unknown as EventTarget)).toBe(true);
  });
});

describe('project files', () => {
  it('opens a project, or says every problem', () => {
    const text = readFileSync(new URL('../../assets/examples/seed-tutorial.json', import.meta.url), 'utf8');
    const opened = readProject(text);
    expect('project' in opened && opened.project.nodes).toHaveLength(9);
    expect(readProject('{"nodes": [}')).toMatchObject({ problems: [{ message: expect.stringMatching(/line 1, column 12/) }] });
    expect(readProject('{"a": [1]}')).toMatchObject({ problems: [{ message: expect.stringMatching(/weights file/) }] });
    if ('project' in opened) expect(serializeProject(opened.project)).toBe(text);
  });

  it('refuses to save a project it could not open again, saying why', () => {
    expect(projectText(emptyProject())).toEqual({ text: expect.stringContaining('"format": "backprop-studio-project"') });
    expect(projectText({ ...emptyProject(), title: 'x'.repeat(201) })).toEqual({ error: expect.stringMatching(/^The project cannot be saved: title: .*200/) });
  });

  it('saves under the file name, or the title made safe', () => {
    expect(fileNameFor({ ...emptyProject(), title: 'Seed: tutorial!' }, null)).toBe('seed-tutorial.bpstudio');
    expect(fileNameFor(emptyProject(), null)).toBe('network.bpstudio');
    expect(fileNameFor(emptyProject(), '/home/a/net.json')).toBe('net.json');
  });
});
