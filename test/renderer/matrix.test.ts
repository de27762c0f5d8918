import { describe, expect, it } from 'vitest';
import { formatMatrix, parseMatrix, splitMatrix } from '../../renderer/inspector/matrix';

const numbers = (text: string) => {
  const parsed = parseMatrix(text);
  if (!('values' in parsed)) throw new Error(parsed.error);
  if (parsed.error) throw new Error(parsed.error);
  return parsed.values.map((r) => r.map((c) => (c as { value: number }).value));
};
const SEED = [[0.1, 0.3, 0.4], [0.2, 0.2, 0.3], [0.3, 0.7, 0.9]];

describe('pasting a matrix', () => {
  it('reads a Python or NumPy list', () => {
    expect(numbers('[[0.1,0.3,0.4],[0.2,0.2,0.3],[0.3,0.7,0.9]]')).toEqual(SEED);
    expect(numbers('np.array([[0.1, 0.3, 0.4],\n [0.2, 0.2, 0.3],\n [0.3, 0.7, 0.9]])')).toEqual(SEED);
    expect(numbers('torch.tensor([[0.1,0.3,0.4],[0.2,0.2,0.3],[0.3,0.7,0.9]], dtype=torch.float32)')).toEqual(SEED);
    expect(numbers('[0.5, -1]')).toEqual([[0.5, -1]]);
    expect(numbers('[[1/3, sqrt(2)/2]]')).toEqual([[1 / 3, Math.SQRT2 / 2]]);
  });

  it('reads spreadsheet rows separated by tabs, commas or spaces', () => {
    expect(numbers('0.1\t0.3\t0.4\n0.2\t0.2\t0.3\n0.3\t0.7\t0.9\n')).toEqual(SEED);
    expect(numbers('0.1,0.3,0.4\r\n0.2,0.2,0.3\r\n0.3,0.7,0.9')).toEqual(SEED);
    expect(numbers('0.1 0.3 0.4\n0.2 0.2 0.3\n0.3 0.7 0.9')).toEqual(SEED);
    expect(numbers('42')).toEqual([[42]]);
  });

  it('reads a LaTeX bmatrix', () => {
    const latex = '$$ W = \\begin{bmatrix} 0.1 & 0.3 & 0.4 \\\\ 0.2 & 0.2 & 0.3 \\\\\n 0.3 & 0.7 & 0.9 \\end{bmatrix} $$';
    expect(numbers(latex)).toEqual(SEED);
    expect(numbers('\\begin{pmatrix} 1 & -\\frac12 \\end{pmatrix}'.replace('-\\frac12', '-1/2'))).toEqual([[1, -0.5]]);
  });

  it('says what is wrong, naming the cell', () => {
    expect(parseMatrix('')).toEqual({ error: 'The pasted text is not a matrix: the clipboard is empty.' });
    expect(parseMatrix('1,2\n3')).toEqual({ error: 'The pasted text is not a matrix: row 2 has 1 values, row 1 has 2.' });
    expect(parseMatrix('[[1,2],[3,x]]')).toMatchObject({ error: 'Row 2, column 2: "x" — "x" is not a function or constant I know (try sqrt, exp, ln, pi, e).' });
    expect(parseMatrix('\\begin{bmatrix} 1 & 2')).toEqual({ error: 'The pasted text is not a matrix: the \\begin{…matrix} has no matching \\end.' });
    expect(splitMatrix('[[[1]]]')).toMatchObject({ error: expect.stringMatching(/nested deeper/) });
  });

  it('copies out as Python, LaTeX and TSV that read back the same', () => {
    expect(formatMatrix(SEED, 'python')).toBe('[[0.1, 0.3, 0.4], [0.2, 0.2, 0.3], [0.3, 0.7, 0.9]]');
    expect(formatMatrix([[1, -2]], 'latex')).toBe('\\begin{bmatrix}\n  1 & -2\n\\end{bmatrix}');
    expect(formatMatrix([[1, 2], [3, 4]], 'tsv')).toBe('1\t2\n3\t4');
    for (const format of ['python', 'latex', 'tsv'] as const) expect(numbers(formatMatrix(SEED, format))).toEqual(SEED);
  });
});
