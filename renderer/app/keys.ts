/** Keyboard shortcuts: which key means what, and when a key belongs to a text field instead. */

/** Whether the key goes to something the user is typing in (a field, a weight grid), not to the app. */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || typeof el.closest !== 'function') return false;
  return el.isContentEditable || el.closest('input, textarea, select, [role="grid"]') !== null;
}

export type Shortcut = 'undo' | 'redo' | 'save' | 'open' | 'new' | 'delete' | 'duplicate' | 'copy' | 'paste' | 'selectAll';

/** The shortcut a key press means: Ctrl on Linux and Windows, Cmd on macOS. */
export function shortcutOf(e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey'>): Shortcut | null {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (!mod) return (key === 'Delete' || key === 'Backspace') && !e.altKey ? 'delete' : null;
  if (key === 'z') return e.shiftKey ? 'redo' : 'undo';
  if (key === 'y' && !e.shiftKey) return 'redo';
  if (e.shiftKey || e.altKey) return null;
  const map: Record<string, Shortcut> = { s: 'save', o: 'open', d: 'duplicate', c: 'copy', v: 'paste', a: 'selectAll' };
  return map[key] ?? null;
}
