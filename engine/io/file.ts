/**
 * Files on disk (Node only: the CLI and the desktop app's main process). Reading refuses what is
 * not a file or is beyond the size limit; saving never leaves a half-written file: it writes a
 * temporary file beside the target, keeps the previous version as FILE.bak, then renames.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ProjectError } from '../project/problems';
import { LIMITS } from '../project/schema';

const REASONS: Record<string, string> = {
  ENOENT: 'the file or its folder does not exist',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  ENOSPC: 'the disk is full',
  EROFS: 'the file system is read-only',
  EEXIST: 'a file of that name is in the way',
};

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return (code && REASONS[code]) ?? (e as Error).message;
}

/** A file's text (UTF-8); a ProjectError when it is missing, a folder, or too large. */
export async function readTextFile(path: string): Promise<string> {
  let size: number;
  try {
    const stat = await fs.stat(path);
    if (stat.isDirectory()) throw new ProjectError([{ message: `${path} is a folder, not a file.` }]);
    size = stat.size;
  } catch (e) {
    if (e instanceof ProjectError) throw e;
    throw new ProjectError([{ message: `Cannot read ${path}: ${reason(e)}.` }]);
  }
  if (size > LIMITS.fileBytes) {
    const mib = (n: number) => (n / (1024 * 1024)).toFixed(1);
    throw new ProjectError([{ message: `${path} is ${mib(size)} MiB; files are limited to ${mib(LIMITS.fileBytes)} MiB.` }]);
  }
  try {
    return await fs.readFile(path, 'utf8');
  } catch (e) {
    throw new ProjectError([{ message: `Cannot read ${path}: ${reason(e)}.` }]);
  }
}

/**
 * Saves text (as UTF-8) or bytes to `path` atomically: a temporary file in the same folder is
 * written and flushed, the existing file (if any) is copied to `path.bak`, and the temporary file
 * is renamed over `path`. If any step fails, the temporary file is removed, `path` is as it was, and a
 * ProjectError says why.
 */
export async function saveAtomically(path: string, content: string | Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  let backingUp = false;
  try {
    const handle = await fs.open(temp, 'wx');
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (await fs.stat(path).then((s) => s.isFile(), () => false)) {
      backingUp = true;
      await fs.copyFile(path, `${path}.bak`);
      backingUp = false;
    }
    await fs.rename(temp, path);
  } catch (e) {
    await fs.rm(temp, { force: true });
    const why = backingUp ? `the previous version could not be kept as ${path}.bak (${reason(e)})` : reason(e);
    throw new ProjectError([{ message: `Could not save ${path}: ${why}; the file on disk is unchanged.` }]);
  }
}
