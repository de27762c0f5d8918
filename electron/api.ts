/**
 * What the desktop window's page gets from the preload script, as `window.backprop`: one method
 * per operation, and the engine channel. Types and constants only (nothing of Electron or Node),
 * so the renderer can import it.
 *
 * The page keeps the project document; main keeps the file on disk. The page reports every
 * change with documentChanged (main then shows the unsaved mark, autosaves, and asks before
 * closing); main sends files it opened and menu commands back.
 */
import type { Event, Request } from '../engine/protocol';

/** A project file main read for the page. */
export interface OpenedFile {
  /** Absolute path; null for restored unsaved work that never had a file. */
  path: string | null;
  text: string;
  /** True for work restored from an autosave: unsaved until the user saves it. */
  restored?: boolean;
}

/** Menu items the page carries out (the rest — open, save, close, cut, copy, … — main or Chromium does). */
export const MENU_COMMANDS = [
  'new', 'undo', 'redo', 'export-weights', 'export-pytorch', 'export-onnx',
  'zoom-in', 'zoom-out', 'zoom-reset', 'fit', 'toggle-palette', 'toggle-inspector', 'toggle-training',
  'dark-mode', 'light-mode', 'help-docs',
] as const;
export type MenuCommand = (typeof MENU_COMMANDS)[number];

/** What an export writes: weights JSON, a PyTorch script (text), an ONNX model (bytes). */
export type ExportKind = 'weights' | 'pytorch' | 'onnx';

/**
 * A project's file ending: one extension (JSON inside), because Windows matches a file association
 * on the last extension only (`.bpstudio.json` would open as any JSON file there).
 */
export const PROJECT_EXTENSION = '.bpstudio';
const PROJECT_ENDING = /(\.bpstudio(\.json)?|\.json)$/i;
/** What a project file may be called when opened: ours, or any JSON file (the examples, saves of version 0.1). */
export const isProjectFileName = (name: string): boolean => PROJECT_ENDING.test(name);
/** A project file's name without its ending, for naming its exports. */
export const projectBaseName = (name: string): string => name.replace(PROJECT_ENDING, '');

/** How an export's file name ends. */
export const EXPORT_EXTENSIONS: Record<ExportKind, string> = { weights: '.weights.json', pytorch: '.py', onnx: '.onnx' };

export interface EngineChannel {
  /** Sends a request to the engine host (over a MessagePort straight to the engine process). */
  post(message: Request): void;
  /** Every message from the engine host; returns an unsubscribe function. */
  onMessage(listener: (message: Event | unknown) => void): () => void;
  /** Called when the engine process was replaced after a crash or a hang. */
  onRestart(listener: () => void): () => void;
}

export interface DesktopApi {
  /** 'darwin', 'win32', 'linux': for showing the platform's shortcuts. */
  readonly platform: string;
  /**
   * The page's document changed. `text`: the project as it would be saved, while there are
   * unsaved changes; null once the document matches its file (main then drops the autosave).
   */
  documentChanged(text: string | null): void;
  /** Save to the current file (asks for a name when there is none). Resolves with the path, or null when cancelled. */
  save(text: string): Promise<string | null>;
  /** Save under a new name (native dialog). Resolves with the path, or null when cancelled. */
  saveAs(text: string): Promise<string | null>;
  /** Write an export, text or bytes (native save dialog with the kind's file type). Resolves with the path, or null when cancelled. */
  saveExport(kind: ExportKind, content: string | Uint8Array): Promise<string | null>;
  /** Asks for a project file with the native dialog (and about unsaved changes first); the file arrives through onFileOpened. */
  openDialog(): Promise<void>;
  /** A project file to show: from Open…, Open Recent, the command line, a double-click, or a restored autosave. */
  onFileOpened(listener: (file: OpenedFile) => void): () => void;
  /** A menu command for the page. */
  onMenu(listener: (command: MenuCommand) => void): () => void;
  /**
   * Main needs the document's text as it would be saved now (File › Save, saving before
   * closing); the listener returns it, or null when nothing is unsaved (main then saves nothing).
   */
  onFlush(listener: () => string | null): () => void;
  /** Messages for the user from main (a failed save, a file that could not be read). */
  onNotice(listener: (message: string) => void): () => void;
  readonly engine: EngineChannel;
}
