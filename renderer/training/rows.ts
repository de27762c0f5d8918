/**
 * The rows of a long table to put in the page: those in sight while scrolled, and a few more
 * either side, so a run of 100,000 epochs costs the history table as much as one of 50.
 */

/**
 * The tallest the scrolled content is made. Browsers stop scrolling past about 33 million pixels
 * (Chromium); a table taller than this maps its rows onto it, evenly, so the last row stays reachable.
 */
export const MAX_SCROLL_PX = 8_000_000;

export interface RowWindow {
  /** The first row drawn (0-based) and how many are drawn. */
  first: number;
  count: number;
  /** Where the first drawn row's top lies in the scrolled content, px (negative: above it, out of sight). */
  top: number;
  /** The scrolled content's height, px. */
  height: number;
}

/** The rows of `rows`, each `rowHeight` px, to draw when a `viewport` px high view is scrolled to `scrollTop`. */
export function rowWindow(rows: number, rowHeight: number, scrollTop: number, viewport: number, overscan = 4): RowWindow {
  const natural = rows * rowHeight;
  const height = Math.min(natural, MAX_SCROLL_PX);
  const scrolled = Math.max(0, Math.min(scrollTop, height - viewport));
  // How far into the rows that is, px, as if every row were laid out.
  const at = natural === height ? scrolled : (scrolled * (natural - viewport)) / (height - viewport);
  const first = Math.max(0, Math.min(rows, Math.floor(at / rowHeight)) - overscan);
  const count = Math.max(0, Math.min(rows - first, Math.ceil(viewport / rowHeight) + 1 + 2 * overscan));
  return { first, count, top: scrolled - at + first * rowHeight, height };
}

/** The scroll position that puts row `row` (0-based) at the top of the view, as near as the end of the table allows. */
export function scrollTopOf(row: number, rows: number, rowHeight: number, viewport: number): number {
  const natural = rows * rowHeight;
  const at = Math.max(0, Math.min(row * rowHeight, natural - viewport));
  return natural <= MAX_SCROLL_PX ? at : (at * (MAX_SCROLL_PX - viewport)) / (natural - viewport);
}
