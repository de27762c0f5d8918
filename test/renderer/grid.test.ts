import { describe, expect, it } from 'vitest';
import { axisLabels, cellColour, cellLabel, type GridView, move, moveOfKey, pasteBlock, tensorIndex, viewRows, viewSize } from '../../renderer/inspector/grid';

// A 2 × 3 weight: 2 neurons (out), 3 inputs (in), as nn.Linear(3, 2) holds it.
const W = [[1, 2, 3], [4, 5, 6]];
const pytorch: GridView = { shape: [2, 3], transposed: false };
const paper: GridView = { shape: [2, 3], transposed: true };
const bias: GridView = { shape: [2], transposed: false };
const ok = (value: number) => ({ value });

describe('the weight grid', () => {
  it("shows PyTorch's [out × in] layout, or its transpose (x·W)", () => {
    expect(viewSize(pytorch)).toEqual({ rows: 2, cols: 3 });
    expect(viewRows(pytorch, W)).toEqual(W);
    expect(viewSize(paper)).toEqual({ rows: 3, cols: 2 });
    expect(viewRows(paper, W)).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(viewRows(bias, [7, 8])).toEqual([[7], [8]]);
    expect(viewRows({ shape: [2], transposed: true }, [7, 8])).toEqual([[7, 8]]);
  });

  it('labels every cell by neuron and input', () => {
    expect(cellLabel(pytorch, 1, 2)).toBe('neuron 2 ← input 3');
    expect(cellLabel(paper, 2, 1)).toBe('neuron 2 ← input 3');
    expect(tensorIndex(paper, 2, 1)).toEqual([1, 2]);
    expect(cellLabel(bias, 1, 0)).toBe('bias of neuron 2');
    const labels = axisLabels(paper);
    expect([labels.row(0), labels.col(1)]).toEqual(['input 1', 'neuron 2']);
  });

  it('moves like a spreadsheet', () => {
    const size = { rows: 2, cols: 3 };
    expect(move({ r: 0, c: 0 }, 'left', size)).toEqual({ r: 0, c: 0 });
    expect(move({ r: 0, c: 2 }, 'right', size)).toEqual({ r: 0, c: 2 });
    expect(move({ r: 0, c: 2 }, 'next', size)).toEqual({ r: 1, c: 0 });
    expect(move({ r: 1, c: 0 }, 'previous', size)).toEqual({ r: 0, c: 2 });
    expect(move({ r: 1, c: 2 }, 'next', size)).toEqual({ r: 1, c: 2 });
    expect(move({ r: 0, c: 1 }, 'down', size)).toEqual({ r: 1, c: 1 });
    expect(moveOfKey('Tab', true)).toBe('previous');
    expect(moveOfKey('Enter', false)).toBe('down');
    expect(moveOfKey('Enter', true)).toBe('up');
    expect(moveOfKey('a', false)).toBeNull();
  });

  it('pastes a block where the cursor is, in the layout shown, without touching the original', () => {
    const result = pasteBlock(paper, W, [[ok(10), ok(40)], [ok(20), ok(50)]], { r: 1, c: 0 });
    // Shown row 2 is input 2, so the block lands in columns 2 and 3 of the stored weight.
    expect(result).toEqual({ values: [[1, 10, 20], [4, 40, 50]] });
    expect(W).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(pasteBlock(bias, [7, 8], [[ok(9)]], { r: 1, c: 0 })).toEqual({ values: [7, 9] });
  });

  it('refuses a block that does not fit or holds a bad cell, changing nothing', () => {
    expect(pasteBlock(pytorch, W, [[ok(1), ok(2)]], { r: 0, c: 2 })).toEqual({
      error: 'The pasted 1 × 2 matrix does not fit: from row 1, column 3 there is room for 2 × 1. Nothing was pasted.',
    });
    expect(pasteBlock(pytorch, W, [[ok(1), { error: 'it divides by zero' }]], { r: 0, c: 0 })).toEqual({
      error: 'Row 1, column 2 of the pasted text: it divides by zero. Nothing was pasted.',
    });
  });

  it('colours values blue below zero and red above, by magnitude', () => {
    expect(cellColour(0, 1)).toBe('transparent');
    expect(cellColour(-1, 1)).toBe('rgba(37, 99, 235, 0.450)');
    expect(cellColour(0.5, 1)).toBe('rgba(220, 38, 38, 0.225)');
  });
});
