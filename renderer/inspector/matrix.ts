/**
 * Matrices in and out as text: what a paste may hold (a Python or NumPy list, rows of a
 * spreadsheet separated by tabs or commas, a LaTeX bmatrix) and what "copy as" writes.
 */
import { parseExpression } from './expression';

/** A pasted matrix as the text of its cells, row by row; or why it is not one. */
export type Cells = { rows: string[][] } | { error: string };

/** A bracketed list: [[1, 2], [3, 4]] or [1, 2], optionally wrapped as np.array(…) or torch.tensor(…). */
function fromList(text: string): Cells {
  const inner = text.replace(/^[\w.]*\(\s*/, '').replace(/\s*(,\s*dtype\s*=[^)]*)?\)$/, '');
  if (!inner.startsWith('[') || !inner.endsWith(']')) return { error: 'the brackets do not match' };
  const body = inner.slice(1, -1).trim();
  if (!body.startsWith('[')) return { rows: [splitCells(body, ',')] };
  const rows: string[][] = [];
  const row = /\[([^[\]]*)\]\s*(,|$)/y;
  let at = 0;
  while (at < body.length) {
    row.lastIndex = at;
    const m = row.exec(body);
    if (!m) return { error: 'it is nested deeper than a matrix, or its brackets do not match' };
    rows.push(splitCells(m[1], ','));
    at = row.lastIndex;
    while (/\s/.test(body[at] ?? '')) at++;
  }
  return { rows };
}

function fromLatex(text: string): Cells {
  const m = /\\begin\{([bpvBV]?matrix)\}([\s\S]*?)\\end\{\1\}/.exec(text);
  if (!m) return { error: 'the \\begin{…matrix} has no matching \\end' };
  const lines = m[2].split(/\\\\/).map((l) => l.trim()).filter((l) => l !== '');
  return { rows: lines.map((l) => splitCells(l.replace(/\\(?:,|;|!|quad|qquad)/g, ' '), '&')) };
}

function splitCells(line: string, separator: string): string[] {
  return line.split(separator).map((c) => c.trim()).filter((c, i, all) => c !== '' || i < all.length - 1);
}

/** Rows of a spreadsheet: tabs, else commas or semicolons, else spaces between cells. */
function fromRows(text: string): Cells {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const separator = text.includes('\t') ? '\t' : /[,;]/.test(text) ? /[,;]/ : /\s+/;
  return { rows: lines.map((l) => l.split(separator).map((c) => c.trim())) };
}

/** Splits pasted text into the text of its cells; a single value is a 1 × 1 matrix. */
export function splitMatrix(text: string): Cells {
  const t = text.trim();
  if (t === '') return { error: 'the clipboard is empty' };
  if (t.includes('\\begin')) return fromLatex(t);
  if (/^[\w.]*\(?\s*\[/.test(t)) return fromList(t);
  return fromRows(t);
}

/** A cell's number, or the reason it has none, with its place. */
export type CellValue = { value: number } | { error: string };

export interface ParsedMatrix {
  values: CellValue[][];
  /** The first bad cell, said in one sentence naming its row and column (from 1); null if none. */
  error: string | null;
}

/** Evaluates every cell of pasted text. Rows of unequal length are refused as a whole. */
export function parseMatrix(text: string): ParsedMatrix | { error: string } {
  const cells = splitMatrix(text);
  if ('error' in cells) return { error: `The pasted text is not a matrix: ${cells.error}.` };
  const width = cells.rows[0]?.length ?? 0;
  const ragged = cells.rows.findIndex((r) => r.length !== width);
  if (ragged >= 0) {
    return { error: `The pasted text is not a matrix: row ${ragged + 1} has ${cells.rows[ragged].length} values, row 1 has ${width}.` };
  }
  const values = cells.rows.map((r) => r.map(parseExpression));
  let error: string | null = null;
  values.some((row, i) => row.some((c, j) => {
    if ('error' in c) error = `Row ${i + 1}, column ${j + 1}: "${cells.rows[i][j]}" — ${c.error}.`;
    return 'error' in c;
  }));
  return { values, error };
}

export type CopyFormat = 'python' | 'latex' | 'tsv';

/** A matrix (or a vector, as one row) as text in the given format. */
export function formatMatrix(rows: readonly (readonly number[])[], format: CopyFormat, vector = false): string {
  const num = (x: number): string => String(x);
  switch (format) {
    case 'python': {
      const list = rows.map((r) => `[${r.map(num).join(', ')}]`);
      return vector ? list[0] : `[${list.join(', ')}]`;
    }
    case 'latex':
      return `\\begin{bmatrix}\n${rows.map((r) => `  ${r.map(num).join(' & ')}`).join(' \\\\\n')}\n\\end{bmatrix}`;
    case 'tsv':
      return rows.map((r) => r.map(num).join('\t')).join('\n');
  }
}
