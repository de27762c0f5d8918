/**
 * The window's size and position, remembered between runs. A stored position that no longer
 * lies on any display (a monitor was unplugged) is dropped, so the window never opens off screen.
 */
import * as v from 'valibot';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

export const DEFAULT_WINDOW_STATE: WindowState = { width: 1280, height: 800, maximized: false };
/** The smallest window the app's layout works in. */
export const MIN_SIZE = { width: 800, height: 560 };

const int = v.pipe(v.number(), v.integer(), v.minValue(-100_000), v.maxValue(100_000));
const StateSchema = v.object({
  x: v.optional(int),
  y: v.optional(int),
  width: v.pipe(int, v.minValue(1)),
  height: v.pipe(int, v.minValue(1)),
  maximized: v.optional(v.boolean(), false),
});

/** The state a file holds; the default for anything unreadable. */
export function parseWindowState(text: string): WindowState {
  try {
    const parsed = v.safeParse(StateSchema, JSON.parse(text));
    return parsed.success ? parsed.output : { ...DEFAULT_WINDOW_STATE };
  } catch {
    return { ...DEFAULT_WINDOW_STATE };
  }
}

/** How much of `a` lies in `b`, in pixels. */
function overlap(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/**
 * The state made to fit the displays (their work areas): no larger than the largest, at least
 * MIN_SIZE, and placed where its title bar can be reached, or centred (no x, y) otherwise.
 */
export function fitToDisplays(state: WindowState, workAreas: readonly Rect[]): WindowState {
  const widest = workAreas.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a), workAreas[0] ?? { x: 0, y: 0, ...DEFAULT_WINDOW_STATE });
  const width = Math.max(MIN_SIZE.width, Math.min(state.width, widest.width));
  const height = Math.max(MIN_SIZE.height, Math.min(state.height, widest.height));
  const fitted: WindowState = { width, height, maximized: state.maximized };
  if (state.x === undefined || state.y === undefined) return fitted;
  // The top strip (title bar) must be on a display by at least 100 × 30 pixels.
  const titleBar = { x: state.x, y: state.y, width, height: 30 };
  const reachable = workAreas.some((area) => overlap(titleBar, area) >= 100 * 30);
  return reachable ? { ...fitted, x: state.x, y: state.y } : fitted;
}
