/**
 * Autosave: while the document has unsaved changes, its text is written to one file in the
 * app's data folder every few seconds (atomically, so a crash mid-write leaves the previous
 * autosave). Saving, or discarding the changes, removes it. A file found there at start means
 * the app did not close cleanly: the start offers to restore it.
 */
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import * as v from 'valibot';
import { saveAtomically } from '../engine/io/file';

export const AUTOSAVE_INTERVAL_MS = 5000;

/** What the autosave file holds: the unsaved text, the file it belongs to (null: never saved), and when. */
export interface AutosaveRecord {
  path: string | null;
  savedAt: string;
  text: string;
}

const RecordSchema = v.object({ path: v.nullable(v.string()), savedAt: v.string(), text: v.string() });

/** The record a previous run left, or null (none, or unreadable). */
export async function readAutosave(file: string): Promise<AutosaveRecord | null> {
  try {
    const parsed = v.safeParse(RecordSchema, JSON.parse(await fs.readFile(file, 'utf8')));
    return parsed.success ? parsed.output : null;
  } catch {
    return null;
  }
}

export interface AutosaverOptions {
  file: string;
  intervalMs?: number;
  /** Told when a write fails (once per failure), in one sentence. */
  onError?(message: string): void;
}

export class Autosaver {
  private latest: { text: string; path: string | null } | null = null;
  private written: string | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly options: AutosaverOptions) {}

  /**
   * The document changed: `text` while it has unsaved changes (written within intervalMs), or
   * null when it matches its file again (the autosave this run wrote is removed).
   */
  update(text: string | null, path: string | null): void {
    if (text === null) {
      // Only what this run wrote: a previous run's autosave waits for the restore question.
      this.stop();
      this.writing = this.writing.then(() => (this.written === null ? undefined : this.remove()));
      return;
    }
    this.latest = { text, path };
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.options.intervalMs ?? AUTOSAVE_INTERVAL_MS);
  }

  /** Writes the latest unsaved text now, if it is not written yet. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const latest = this.latest;
      if (!latest || latest.text === this.written) return;
      const record: AutosaveRecord = { path: latest.path, savedAt: new Date().toISOString(), text: latest.text };
      try {
        await fs.mkdir(dirname(this.options.file), { recursive: true });
        await saveAtomically(this.options.file, JSON.stringify(record));
        this.written = latest.text;
      } catch (e) {
        this.options.onError?.(`Autosave failed: ${(e as Error).message}`);
      }
    });
    return this.writing;
  }

  /** Stops autosaving and removes the autosave (and its backup): the work is saved or given up. */
  discard(): Promise<void> {
    this.stop();
    this.writing = this.writing.then(() => this.remove());
    return this.writing;
  }

  private stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.latest = null;
  }

  private async remove(): Promise<void> {
    this.written = null;
    // Nothing there to remove (or a folder that cannot hold it) is as good as removed.
    await fs.rm(this.options.file, { force: true }).catch(() => {});
    await fs.rm(`${this.options.file}.bak`, { force: true }).catch(() => {});
  }
}
