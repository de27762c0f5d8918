import { describe, expect, it } from 'vitest';
import { importCsv } from '../../../engine/io/csv';
import { compile } from '../../../engine/project/compile';
import { loadProject } from '../../../engine/project/load';
import { exampleText, messagesOf } from '../project/helpers';

const IRIS = `sepal_length,sepal_width,petal_length,petal_width,species
5.1,3.5,1.4,0.2,setosa
7.0,3.2,4.7,1.4,versicolor

6.3,3.3,6.0,2.5,virginica
4.9,3.0,1.4,0.2,setosa
`;

describe('CSV import', () => {
  it('reads Iris-like rows: a header, text class labels mapped to indices in order of appearance', () => {
    expect(importCsv(IRIS)).toEqual({
      samples: [[5.1, 3.5, 1.4, 0.2], [7, 3.2, 4.7, 1.4], [6.3, 3.3, 6, 2.5], [4.9, 3, 1.4, 0.2]],
      targets: [0, 1, 2, 0],
      class_names: ['setosa', 'versicolor', 'virginica'],
    });
  });

  it('takes the class names in a given order, and the data fits the Iris example', () => {
    const classNames = ['setosa', 'versicolor', 'virginica'];
    const data = importCsv(IRIS, { classNames: ['virginica', 'setosa', 'versicolor'] });
    expect(data.targets).toEqual([1, 2, 0, 1]);
    const project = loadProject(exampleText('iris.json'));
    const imported = importCsv(IRIS, { classNames });
    expect(() => compile({ ...project, data: imported })).not.toThrow();
  });

  it('chooses input and target columns by name or index, with or without a header', () => {
    expect(importCsv(IRIS, { inputs: ['petal_width', 0], targets: ['petal_length'] })).toEqual({
      samples: [[0.2, 5.1], [1.4, 7], [2.5, 6.3], [0.2, 4.9]],
      targets: [[1.4], [4.7], [6], [1.4]],
    });
    expect(importCsv('1,2,3,4\n5,6,7,8\n', { header: false, targets: [0, 3] })).toEqual({
      samples: [[2, 3], [6, 7]],
      targets: [[1, 4], [5, 8]],
    });
    expect(importCsv('x;y\n"1";2\n', { delimiter: ';', targets: [] })).toEqual({ samples: [[1, 2]] });
  });

  it('reports every bad row by its line, one sentence each, and imports nothing', () => {
    const text = 'a,b,label\n1,2,cat\n3,x,dog\n\n4,5\n6,,cat\n"7\n",8,cat\n9,10,\n1e400,1,cat\n';
    expect(messagesOf(() => importCsv(text))).toEqual([
      'Line 3: column "b" is "x", not a number.',
      'Line 5 has 2 values, but the header has 3.',
      'Line 6: column "b" is empty, not a number.',
      'Line 9: column "label" has no class label.',
      'Line 10: column "a" is "1e400", not a number.',
    ]);
    expect(messagesOf(() => importCsv('a,b\n1,2\n3,4\n', { targets: ['b'], classes: true, classNames: ['2'] }))).toEqual([
      'Line 3: the class "4" is not one of "2".',
    ]);
  });

  it('says which columns are wrong, and when there is nothing to import', () => {
    expect(messagesOf(() => importCsv(IRIS, { inputs: ['sepal', 'species'], targets: [9] }))).toEqual([
      'The CSV has no column 9; its columns are "sepal_length", "sepal_width", "petal_length", "petal_width", "species".',
      'The CSV has no column "sepal"; its columns are "sepal_length", "sepal_width", "petal_length", "petal_width", "species".',
    ]);
    expect(messagesOf(() => importCsv(IRIS, { inputs: ['species'] }))).toEqual(['Column "species" is chosen both as an input and as a target.']);
    expect(messagesOf(() => importCsv('a,b\n'))).toEqual(['The CSV has no rows of data below its header.']);
    expect(messagesOf(() => importCsv('a,b\n"1,2\n'))).toEqual(['Line 2 has a problem: quoted field unterminated.']);
  });

  it('sums up beyond 20 bad rows', () => {
    const text = `a,b\n${Array.from({ length: 25 }, () => 'x,1').join('\n')}\n`;
    const messages = messagesOf(() => importCsv(text));
    expect(messages).toHaveLength(21);
    expect(messages[20]).toBe('5 more lines have problems.');
  });
});
