/**
 * The weight grid's logic, apart from its looks: a tensor (a matrix, or a vector shown as one
 * column per neuron) seen in PyTorch's [out × in] layout or transposed as papers print x·W, the
 * labels of rows, columns and cells, moving around like a spreadsheet, pasting a block, and the
 * colour of a value.
 */
import type { CellValue } from './matrix';

export interface GridView {
  /** The tensor's shape as stored: [out, in] for a matrix, [out] for a vector. */
  shape: readonly number[];
  /** Show the transpose: rows are inputs and columns neurons (x·W). */
  transposed: boolean;
}

/** Rows and columns as shown. A vector is a column in PyTorch's layout, a row transposed. */
export function viewSize({ shape, transposed }: GridView): { rows: number; cols: number } {
  const [a, b = 1] = shape;
  return transposed ? { rows: b, cols: a } : { rows: a, cols: b };
}

/** The stored index [i, j] (or [i] for a vector) of the cell shown at row r, column c. */
export function tensorIndex({ shape, transposed }: GridView, r: number, c: number): number[] {
  const [i, j] = transposed ? [c, r] : [r, c];
  return shape.length === 1 ? [i] : [i, j];
}

/** What a row and a column stand for: neurons (outputs) and inputs, both counted from 1 as people count. */
export function axisLabels(view: GridView, vectorName = 'bias'): { row: (r: number) => string; col: (c: number) => string } {
  const neuron = (i: number) => `neuron ${i + 1}`;
  const input = (j: number) => (view.shape.length === 1 ? vectorName : `input ${j + 1}`);
  return view.transposed ? { row: input, col: neuron } : { row: neuron, col: input };
}

/** The name of one cell, as a screen reader and the tooltip say it: "neuron 2 ← input 3". */
export function cellLabel(view: GridView, r: number, c: number, vectorName = 'bias'): string {
  const [i, j] = tensorIndex(view, r, c);
  return view.shape.length === 1 ? `${vectorName} of neuron ${i + 1}` : `neuron ${i + 1} ← input ${(j as number) + 1}`;
}

export type Move = 'up' | 'down' | 'left' | 'right' | 'next' | 'previous';

/** The cell a key moves to: arrows stop at the edges; Tab runs on to the next row (Shift+Tab back). */
export function move(at: { r: number; c: number }, how: Move, size: { rows: number; cols: number }): { r: number; c: number } {
  const { r, c } = at;
  const clamp = (x: number, n: number) => Math.max(0, Math.min(n - 1, x));
  switch (how) {
    case 'up': return { r: clamp(r - 1, size.rows), c };
    case 'down': return { r: clamp(r + 1, size.rows), c };
    case 'left': return { r, c: clamp(c - 1, size.cols) };
    case 'right': return { r, c: clamp(c + 1, size.cols) };
    case 'next': {
      if (c + 1 < size.cols) return { r, c: c + 1 };
      return r + 1 < size.rows ? { r: r + 1, c: 0 } : at;
    }
    case 'previous': {
      if (c > 0) return { r, c: c - 1 };
      return r > 0 ? { r: r - 1, c: size.cols - 1 } : at;
    }
  }
}

/** The key's move in the grid, or null for a key the grid leaves alone. */
export function moveOfKey(key: string, shift: boolean): Move | null {
  switch (key) {
    case 'ArrowUp': return 'up';
    case 'ArrowDown': return 'down';
    case 'ArrowLeft': return 'left';
    case 'ArrowRight': return 'right';
    case 'Tab': return shift ? 'previous' : 'next';
    case 'Enter': return shift ? 'up' : 'down';
    default: return null;
  }
}

/** The tensor as the rows the grid shows. */
export function viewRows(view: GridView, values: unknown): number[][] {
  const { rows, cols } = viewSize(view);
  const at = (index: number[]): number => {
    let v: unknown = values;
    for (const k of index) v = (v as unknown[])[k];
    return v as number;
  };
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => at(tensorIndex(view, r, c))));
}

/**
 * The tensor with a block of shown cells replaced, the block's top-left at (r, c); or why not:
 * a block that runs past the edge, a bad cell. Nothing is applied unless every cell is good.
 */
export function pasteBlock(
  view: GridView,
  values: unknown,
  block: readonly (readonly CellValue[])[],
  at: { r: number; c: number },
): { values: number[][] | number[] } | { error: string } {
  const size = viewSize(view);
  const height = block.length;
  const width = block[0]?.length ?? 0;
  if (at.r + height > size.rows || at.c + width > size.cols) {
    return {
      error: `The pasted ${height} × ${width} matrix does not fit: from row ${at.r + 1}, column ${at.c + 1} there is room for ${size.rows - at.r} × ${size.cols - at.c}. Nothing was pasted.`,
    };
  }
  for (const [i, row] of block.entries()) {
    for (const [j, cell] of row.entries()) {
      if ('error' in cell) return { error: `Row ${i + 1}, column ${j + 1} of the pasted text: ${cell.error}. Nothing was pasted.` };
    }
  }
  const next = structuredClone(values) as number[][] | number[];
  block.forEach((row, i) => row.forEach((cell, j) => {
    const index = tensorIndex(view, at.r + i, at.c + j);
    const v = (cell as { value: number }).value;
    if (index.length === 1) (next as number[])[index[0]] = v;
    else (next as number[][])[index[0]][index[1]] = v;
  }));
  return { values: next };
}

/** A background for a value: blue below zero, red above, stronger towards the largest magnitude. */
export function cellColour(value: number, largest: number): string {
  if (!Number.isFinite(value) || largest === 0 || value === 0) return 'transparent';
  const strength = Math.min(1, Math.abs(value) / largest) * 0.45;
  return value < 0 ? `rgba(37, 99, 235, ${strength.toFixed(3)})` : `rgba(220, 38, 38, ${strength.toFixed(3)})`;
}

/** A number as a cell shows it: short, but exact for the values people type. */
export function formatValue(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const short = Number(value.toPrecision(6));
  return String(short);
}
