/**
 * The open project's file, as main keeps it: its path, whether the page has unsaved changes,
 * and every file operation — save, save as, export, open, new, close — with the questions they
 * ask before unsaved work would be lost. Plain Node: main.ts supplies the dialogs (DocumentUi),
 * the tests answer them.
 */
import { readTextFile, saveAtomically } from '../engine/io/file';
import { ProjectError } from '../engine/project/problems';
import { EXPORT_EXTENSIONS, type ExportKind, type OpenedFile, PROJECT_EXTENSION, projectBaseName } from './api';
import type { Autosaver, AutosaveRecord } from './autosave';
import type { RecentFiles } from './recent_files';
import { windowTitle } from './title';

export type SaveKind = 'project' | ExportKind;
export type Answer = 'save' | 'discard' | 'cancel';

export interface DocumentUi {
  /** "Save the changes to NAME?" before `action` ('close', 'open', 'new'). */
  askSave(name: string, action: 'close' | 'open' | 'new'): Promise<Answer>;
  pickOpenPath(): Promise<string | null>;
  pickSavePath(kind: SaveKind, suggested: string): Promise<string | null>;
  /** The page's document text as it would be saved now; null when nothing is unsaved. */
  pageText(): Promise<string | null>;
  /** Hands a file to the page. */
  showFile(file: OpenedFile): void;
  showError(message: string): void;
  /** The title, path and unsaved mark changed. */
  titleChanged(title: string, path: string | null, dirty: boolean): void;
}

const EXTENSIONS: Record<SaveKind, string> = { project: PROJECT_EXTENSION, ...EXPORT_EXTENSIONS };

/** A file name to suggest: the project's, with the kind's extension. */
export function suggestedName(path: string | null, kind: SaveKind): string {
  const base = projectBaseName(path?.split(/[\\/]/).pop() ?? 'Untitled');
  return `${base}${EXTENSIONS[kind]}`;
}

/** One sentence for the user from whatever failed. */
function sentence(e: unknown): string {
  return e instanceof ProjectError ? e.problems.map((p) => p.message).join(' ') : `Something went wrong: ${(e as Error).message}.`;
}

export class DocumentController {
  path: string | null = null;
  dirty = false;
  /** The unsaved text the page last reported, for when it cannot answer pageText (hung, gone). */
  private latest: string | null = null;

  constructor(
    private readonly ui: DocumentUi,
    private readonly autosaver: Autosaver,
    private readonly recent: RecentFiles,
  ) {}

  private get name(): string {
    return this.path?.split(/[\\/]/).pop() ?? 'Untitled';
  }

  private update(path: string | null, dirty: boolean): void {
    this.path = path;
    this.dirty = dirty;
    this.ui.titleChanged(windowTitle(path, dirty), path, dirty);
  }

  /** The page's document changed: its unsaved text, or null when it matches the file. */
  changed(text: string | null): void {
    this.latest = text;
    this.update(this.path, text !== null);
    this.autosaver.update(text, this.path);
  }

  /** Saves to the file (asking for one when there is none); the path, or null when cancelled or failed. */
  async save(text?: string): Promise<string | null> {
    if (this.path === null) return this.saveAs(text);
    const body = text ?? (await this.pageText());
    return body === null ? this.path : this.write(this.path, body); // null: already saved
  }

  /** Saves under a name the user picks (a copy of the file when nothing is unsaved); the path, or null. */
  async saveAs(text?: string): Promise<string | null> {
    let body = text ?? (await this.pageText());
    if (body === null && this.path === null) return null; // nothing made yet
    const path = await this.ui.pickSavePath('project', suggestedName(this.path, 'project'));
    if (path === null) return null;
    if (body === null) {
      try {
        body = await readTextFile(this.path as string);
      } catch (e) {
        this.ui.showError(sentence(e));
        return null;
      }
    }
    return this.write(path, body);
  }

  private pageText(): Promise<string | null> {
    return this.ui.pageText().catch(() => this.latest);
  }

  private async write(path: string, text: string): Promise<string | null> {
    try {
      await saveAtomically(path, text);
    } catch (e) {
      this.ui.showError(sentence(e));
      return null;
    }
    this.latest = null;
    this.update(path, false);
    await this.autosaver.discard();
    await this.recent.add(path).catch(() => {});
    return path;
  }

  /** Writes an export (text, or an ONNX model's bytes) where the user picks; the path, or null. */
  async exportTo(kind: ExportKind, content: string | Uint8Array): Promise<string | null> {
    const path = await this.ui.pickSavePath(kind, suggestedName(this.path, kind));
    if (path === null) return null;
    try {
      await saveAtomically(path, content);
      return path;
    } catch (e) {
      this.ui.showError(sentence(e));
      return null;
    }
  }

  /** Asks about unsaved changes before they would be lost; true when it may go ahead. */
  async confirmDiscard(action: 'close' | 'open' | 'new'): Promise<boolean> {
    if (!this.dirty) return true;
    const answer = await this.ui.askSave(this.name, action);
    if (answer === 'cancel') return false;
    if (answer === 'save') return (await this.save()) !== null;
    await this.autosaver.discard();
    return true;
  }

  /** File › New: true when the page may start a new project. */
  async newDocument(): Promise<boolean> {
    if (!(await this.confirmDiscard('new'))) return false;
    this.update(null, false);
    return true;
  }

  /** File › Open…: asks about unsaved changes, then for a file. */
  async openDialog(): Promise<void> {
    if (!(await this.confirmDiscard('open'))) return;
    const path = await this.ui.pickOpenPath();
    if (path !== null) await this.load(path);
  }

  /** Opens a given file (Open Recent, the command line, a double-click), asking about unsaved changes first. */
  async open(path: string): Promise<void> {
    if (await this.confirmDiscard('open')) await this.load(path);
  }

  private async load(path: string): Promise<void> {
    let text: string;
    try {
      text = await readTextFile(path);
    } catch (e) {
      this.ui.showError(sentence(e));
      await this.recent.remove(path).catch(() => {});
      return;
    }
    this.update(path, false);
    await this.recent.add(path).catch(() => {});
    this.ui.showFile({ path, text });
  }

  /** Hands unsaved work from a previous run's autosave to the page, as unsaved changes to its file. */
  restore(record: AutosaveRecord): void {
    this.latest = record.text;
    this.update(record.path, true);
    this.autosaver.update(record.text, record.path);
    this.ui.showFile({ path: record.path, text: record.text, restored: true });
  }
}
