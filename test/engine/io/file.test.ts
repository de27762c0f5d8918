import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readTextFile, saveAtomically } from '../../../engine/io/file';
import { ProjectError } from '../../../engine/project/problems';
import { LIMITS } from '../../../engine/project/schema';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'backprop-io-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function messageOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProjectError);
  return (error as ProjectError).problems.map((p) => p.message).join('\n');
}

describe('readTextFile', () => {
  it('reads a file', async () => {
    await fs.writeFile(join(dir, 'a.json'), '{"a": 1}');
    expect(await readTextFile(join(dir, 'a.json'))).toBe('{"a": 1}');
  });

  it('says a file is missing, a folder, or too large', async () => {
    expect(await messageOf(readTextFile(join(dir, 'nope.json')))).toBe(`Cannot read ${join(dir, 'nope.json')}: the file or its folder does not exist.`);
    expect(await messageOf(readTextFile(dir))).toBe(`${dir} is a folder, not a file.`);
    const big = join(dir, 'big.json');
    await fs.writeFile(big, '');
    await fs.truncate(big, LIMITS.fileBytes + 1); // sparse: no 64 MiB written
    expect(await messageOf(readTextFile(big))).toBe(`${big} is 64.0 MiB; files are limited to 64.0 MiB.`);
  });
});

describe('saveAtomically', () => {
  const files = async () => (await fs.readdir(dir)).sort();

  it('writes a new file, leaving nothing else behind', async () => {
    const path = join(dir, 'p.json');
    await saveAtomically(path, 'first');
    expect(await fs.readFile(path, 'utf8')).toBe('first');
    expect(await files()).toEqual(['p.json']);
  });

  it('keeps the previous version as FILE.bak', async () => {
    const path = join(dir, 'p.json');
    await saveAtomically(path, 'first');
    await saveAtomically(path, 'second');
    expect(await fs.readFile(path, 'utf8')).toBe('second');
    expect(await fs.readFile(`${path}.bak`, 'utf8')).toBe('first');
    await saveAtomically(path, 'third');
    expect(await fs.readFile(`${path}.bak`, 'utf8')).toBe('second');
    expect(await files()).toEqual(['p.json', 'p.json.bak']);
  });

  it('leaves the old file intact when saving fails, and says why', async () => {
    const path = join(dir, 'p.json');
    await saveAtomically(path, 'old');
    // A folder where the backup must go makes the save fail after the new text was written.
    await fs.mkdir(`${path}.bak`);
    await fs.writeFile(join(`${path}.bak`, 'x'), '');
    expect(await messageOf(saveAtomically(path, 'new'))).toBe(
      `Could not save ${path}: the previous version could not be kept as ${path}.bak (it is a folder); the file on disk is unchanged.`,
    );
    expect(await fs.readFile(path, 'utf8')).toBe('old');
    expect(await files()).toEqual(['p.json', 'p.json.bak']);
  });

  it('says when the folder does not exist', async () => {
    const path = join(dir, 'missing', 'p.json');
    expect(await messageOf(saveAtomically(path, 'x'))).toBe(`Could not save ${path}: the file or its folder does not exist; the file on disk is unchanged.`);
  });
});
