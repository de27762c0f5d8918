/**
 * Format versions. A file of version n is brought to CURRENT_VERSION by MIGRATIONS[n], then
 * MIGRATIONS[n + 1], …; each migration takes the document of its version and returns the
 * document of the next, so every earlier version stays readable. Version 1 is the first: there
 * is nothing to migrate yet. A change to the format adds a migration here and bumps the literal
 * `version` in schema.ts.
 */
import { ProjectError } from './problems';
import { CURRENT_VERSION } from './schema';

export type Document = Record<string, unknown>;
export type Migration = (doc: Document) => Document;

export const MIGRATIONS: Readonly<Record<number, Migration>> = {};

/**
 * Brings a document of any supported version to `current`; a newer or unreadable version is
 * refused with a ProjectError.
 */
export function migrate(doc: Document, migrations: Readonly<Record<number, Migration>> = MIGRATIONS, current: number = CURRENT_VERSION): Document {
  const version = doc.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    const found = version === undefined ? 'none' : JSON.stringify(version);
    throw new ProjectError([{ message: `The project's "version" must be a whole number from 1 to ${current}, but it is ${found}.`, path: 'version' }]);
  }
  if (version > current) {
    throw new ProjectError([{
      message: `This project was saved by a newer Backprop Studio (format version ${version}); this one reads format versions up to ${current}.`,
      path: 'version',
    }]);
  }
  let out = doc;
  for (let v = version; v < current; v++) {
    const step = migrations[v];
    if (!step) throw new Error(`no migration from format version ${v} to ${v + 1}`);
    out = { ...step(out), version: v + 1 };
  }
  return out;
}
