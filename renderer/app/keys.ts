/** Keyboard shortcuts: which key means what, and when a key belongs to a text field instead. */

/** Whether the key goes to something the user is typing in (a field, a weight grid), not to the app. */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || typeof el.closest !== 'function') return false;
  return el.isContentEditable || el.closest('input, textarea, select, [role="grid"]') !== null;
}

/** How the modifier reads in labels: ⌘ on macOS, else "Ctrl+". */
export const MOD = typeof navigator !== 'undefined' && /Mac/.test(navigator.platform) ? '⌘' : 'Ctrl+';

export type Shortcut = 'undo' | 'redo' | 'save' | 'open' | 'delete' | 'duplicate' | 'copy' | 'paste' | 'selectAll';

/** The shortcut a key press means: Ctrl on Linux and Windows, Cmd on macOS. */
export function shortcutOf(e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey'>): Shortcut | null {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (!mod) return (key === 'Delete' || key === 'Backspace') && !e.altKey ? 'delete' : null;
  if (key === 'z') return e.shiftKey ? 'redo' : 'undo';
  if (key === 'y' && !e.shiftKey) return 'redo';
  if (e.shiftKey || e.altKey) return null;
  return (LETTERS as Record<string, Shortcut>)[key] ?? null;
}

/** The shortcuts on Ctrl/Cmd plus a letter. */
const LETTERS = { s: 'save', o: 'open', d: 'duplicate', c: 'copy', v: 'paste', a: 'selectAll' } as const satisfies Record<string, Shortcut>;

const MEANINGS: Record<Shortcut, string> = {
  undo: 'Undo', redo: 'Redo', save: 'Save', open: 'Open a project file', delete: 'Delete the selected nodes or edges',
  duplicate: 'Duplicate the selected nodes', copy: 'Copy the selected nodes (to the clipboard)', paste: 'Paste copied nodes', selectAll: 'Select every node',
};

/** Each shortcut shortcutOf knows, with its keys as a user presses them, for the help. */
export function shortcutList(mod = MOD): { keys: string; meaning: string }[] {
  return [
    { keys: `${mod}Z`, meaning: MEANINGS.undo },
    { keys: `${mod}Shift+Z, ${mod}Y`, meaning: MEANINGS.redo },
    ...Object.entries(LETTERS).map(([letter, shortcut]) => ({ keys: `${mod}${letter.toUpperCase()}`, meaning: MEANINGS[shortcut] })),
    { keys: 'Delete, Backspace', meaning: MEANINGS.delete },
  ];
}
