/**
 * The project document: the one source of truth the editor edits. Every edit goes through
 * `apply`, which records a step of the undo history, so undo, redo and the dirty mark come from
 * one place. Projects are immutable values; a step keeps the project before and after it.
 */
import type { Project } from '../../engine/protocol';
import { emptyProject } from './commands';

interface Step {
  label: string;
  before: Project;
  after: Project;
  /** Consecutive edits with the same key (typing in one field) merge into one step. */
  key?: string;
}

/** Enough for a long session; the oldest steps go first. */
const HISTORY_LIMIT = 500;

export class ProjectDocument {
  project: Project = $state.raw(emptyProject());
  /** The file's name (browser mode) or path (desktop); null for a project never saved. */
  fileName: string | null = $state(null);
  /** Counts projects loaded (opened, new): the canvas fits each one into view. */
  loads = $state(0);
  #saved: Project = $state.raw(this.project);
  #undo: Step[] = $state.raw([]);
  #redo: Step[] = $state.raw([]);
  /** Whether the last step may still absorb edits with its key. */
  #open = false;

  get dirty(): boolean {
    return this.project !== this.#saved;
  }
  get canUndo(): boolean {
    return this.#undo.length > 0;
  }
  get canRedo(): boolean {
    return this.#redo.length > 0;
  }
  get undoLabel(): string | undefined {
    return this.#undo.at(-1)?.label;
  }
  get redoLabel(): string | undefined {
    return this.#redo.at(-1)?.label;
  }

  /**
   * Applies an edit as one undoable step. With `key`, it joins the previous step when that one
   * has the same key and nothing else happened in between (see `endTyping`).
   */
  apply(label: string, edit: (project: Project) => Project, key?: string): void {
    const before = this.project;
    const after = edit(before);
    if (after === before) return;
    const last = this.#undo.at(-1);
    if (key !== undefined && this.#open && last?.key === key) {
      this.#undo = [...this.#undo.slice(0, -1), { ...last, after }];
    } else {
      this.#undo = [...this.#undo.slice(-(HISTORY_LIMIT - 1)), { label, before, after, key }];
    }
    this.#open = key !== undefined;
    this.#redo = [];
    this.project = after;
  }

  /** Ends the current run of typing, so the next edit is a step of its own. */
  endTyping(): void {
    this.#open = false;
  }

  undo(): void {
    const step = this.#undo.at(-1);
    if (!step) return;
    this.#undo = this.#undo.slice(0, -1);
    this.#redo = [...this.#redo, step];
    this.#open = false;
    this.project = step.before;
  }

  redo(): void {
    const step = this.#redo.at(-1);
    if (!step) return;
    this.#redo = this.#redo.slice(0, -1);
    this.#undo = [...this.#undo, step];
    this.#open = false;
    this.project = step.after;
  }

  /** Starts over with another project (opened, or new): a fresh history, nothing unsaved. */
  load(project: Project, fileName: string | null): void {
    this.project = project;
    this.#saved = project;
    this.fileName = fileName;
    this.loads++;
    this.#undo = [];
    this.#redo = [];
    this.#open = false;
  }

  /** Marks the current project as what the file now holds. */
  markSaved(fileName: string | null): void {
    this.#saved = this.project;
    this.fileName = fileName;
    this.#open = false;
  }
}
