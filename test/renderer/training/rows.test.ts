import { describe, expect, it } from 'vitest';
import { MAX_SCROLL_PX, rowWindow, scrollTopOf } from '../../../renderer/training/rows';

/** The 0-based rows a window puts in sight of a `viewport` px view scrolled to `scrollTop`. */
function inSight(w: ReturnType<typeof rowWindow>, rowHeight: number, scrollTop: number, viewport: number): number[] {
  const rows: number[] = [];
  for (let i = 0; i < w.count; i++) {
    const top = w.top + i * rowHeight;
    if (top + rowHeight > scrollTop && top < scrollTop + viewport) rows.push(w.first + i);
  }
  return rows;
}

describe('rowWindow', () => {
  it('draws every row of a table shorter than the view', () => {
    expect(rowWindow(5, 20, 0, 400)).toEqual({ first: 0, count: 5, top: 0, height: 100 });
    expect(rowWindow(0, 20, 0, 400)).toEqual({ first: 0, count: 0, top: 0, height: 0 });
  });

  it('draws the rows in sight and a few either side, where they lie', () => {
    // 1,000 rows of 20 px in a 200 px view scrolled to row 100: rows 100–109 in sight, 4 more either side.
    const w = rowWindow(1000, 20, 2000, 200, 4);
    expect(w).toEqual({ first: 96, count: 19, top: 96 * 20, height: 20_000 });
    expect(inSight(w, 20, 2000, 200)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    // Past the end (the view's bottom at the last row) it shows the last rows.
    const end = rowWindow(1000, 20, 1e9, 200, 4);
    expect(end.first + end.count).toBe(1000);
    expect(inSight(end, 20, 20_000 - 200, 200).at(-1)).toBe(999);
  });

  it('reaches epoch 73,456 of a 100,000-epoch run', () => {
    const scrollTop = scrollTopOf(73_455, 100_000, 22, 500);
    expect(scrollTop).toBe(73_455 * 22);
    const w = rowWindow(100_000, 22, scrollTop, 500);
    expect(inSight(w, 22, scrollTop, 500)[0]).toBe(73_455);
    expect(w.count).toBeLessThan(40);
  });

  it('maps a table taller than browsers scroll onto MAX_SCROLL_PX, first to last row', () => {
    // 100,000 rows of 2,000 px (Iris: 150 samples of three outputs a row) are 200 million px.
    const rows = 100_000;
    const rowHeight = 2000;
    const viewport = 600;
    expect(rowWindow(rows, rowHeight, 0, viewport).height).toBe(MAX_SCROLL_PX);
    for (const row of [0, 1, 73_455, rows - 1]) {
      const scrollTop = scrollTopOf(row, rows, rowHeight, viewport);
      expect(scrollTop).toBeLessThanOrEqual(MAX_SCROLL_PX - viewport);
      const w = rowWindow(rows, rowHeight, scrollTop, viewport);
      expect(inSight(w, rowHeight, scrollTop, viewport)).toContain(row);
    }
    // The bottom of the scroll shows the last row's bottom at the view's bottom.
    const bottom = rowWindow(rows, rowHeight, MAX_SCROLL_PX, viewport);
    expect(bottom.top + (rows - bottom.first) * rowHeight).toBeCloseTo(MAX_SCROLL_PX, 3);
  });
});
