/**
 * The Open Recent list: most recent first, no duplicates, at most MAX_RECENT, kept in a JSON file
 * in the app's data folder. A missing or unreadable list is an empty one, never an error.
 */
import { promises as fs } from 'node:fs';
import * as v from 'valibot';
import { saveAtomically } from '../engine/io/file';

export const MAX_RECENT = 10;

const RecentSchema = v.array(v.string());

/** The list with `path` first. */
export function addRecent(list: readonly string[], path: string, max = MAX_RECENT): string[] {
  return [path, ...list.filter((p) => p !== path)].slice(0, max);
}

export function removeRecent(list: readonly string[], path: string): string[] {
  return list.filter((p) => p !== path);
}

/** The list a file holds; anything but a list of paths counts as none. */
export function parseRecent(text: string): string[] {
  try {
    const parsed = v.safeParse(RecentSchema, JSON.parse(text));
    return parsed.success ? parsed.output.slice(0, MAX_RECENT) : [];
  } catch {
    return [];
  }
}

export class RecentFiles {
  list: string[] = [];
  /** Called after the list changed (main rebuilds the menu). */
  onChange: () => void = () => {};

  constructor(private readonly file: string) {}

  async load(): Promise<string[]> {
    this.list = parseRecent(await fs.readFile(this.file, 'utf8').catch(() => '[]'));
    return this.list;
  }

  add(path: string): Promise<void> {
    return this.save(addRecent(this.list, path));
  }

  remove(path: string): Promise<void> {
    return this.save(removeRecent(this.list, path));
  }

  clear(): Promise<void> {
    return this.save([]);
  }

  private async save(list: string[]): Promise<void> {
    this.list = list;
    this.onChange();
    await saveAtomically(this.file, `${JSON.stringify(list, null, 2)}\n`);
  }
}
