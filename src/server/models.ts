// The models a server holds: one model file (or run directory), or every
// model in a directory, each under a name that goes in its URLs. A model
// file's SHA-256 is its version: it changes exactly when the weights,
// config or preprocessing do.

import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DataError, LstmkitError } from '../core/errors.js';
import { decodeModelFile, type ModelFileContents } from '../io/modelfile.js';
import { BEST, resolveModelPath } from '../io/modelpath.js';

export interface ModelSource {
  name: string;
  contents: ModelFileContents;
  /** Where it came from: a file path, or '<memory>'. */
  path: string;
  /** Hex SHA-256 of the file's bytes ('' for a model given in memory). */
  sha256: string;
  /** Found in a directory of models (one that fails to load is left out), rather than named on its own. */
  fromDirectory?: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function checkModelName(name: string, where: string): string {
  if (!NAME.test(name)) {
    throw new DataError(
      `"${name}" cannot be a model name (it goes in URLs: letters, digits, '.', '_', '-', at most 100, starting with a letter or digit)`,
      where,
    );
  }
  return name;
}

/** A model's name from its path: the file name without .lstmkit, or a run directory's name. */
export function nameOf(path: string): string {
  const base = basename(path.replace(/[/\\]+$/, ''));
  return base === BEST ? basename(path.replace(/[/\\]+[^/\\]*$/, '')) : base.replace(/\.lstmkit$/, '');
}

/** One model file or run directory. */
export async function readModelSource(path: string, name = nameOf(path)): Promise<ModelSource> {
  const file = await resolveModelPath(path);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new DataError((e as Error).message, file);
  }
  const contents = decodeModelFile(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
  return { name: checkModelName(name, path), contents, path: file, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** A model of a directory that could not be served, and why (it does not stop the others). */
export interface SkippedModel {
  path: string;
  reason: string;
}

/**
 * Every `*.lstmkit` file and run directory (one holding best.lstmkit) in a directory, sorted by name. A file
 * that cannot be read as a model is left out and reported to `skip`; the others are served.
 */
export async function readModelDirectory(dir: string, skip: (s: SkippedModel) => void = () => {}): Promise<ModelSource[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'no such directory'
      : code === 'ENOTDIR' ? 'is not a directory (give a model file as the argument, or a directory of them with --models)'
        : (e as Error).message;
    throw new DataError(problem, dir);
  }
  const paths: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isFile() && entry.name.endsWith('.lstmkit')) paths.push(path);
    else if (entry.isDirectory() && (await stat(join(path, BEST)).then(() => true, () => false))) paths.push(path);
  }
  if (paths.length === 0) throw new DataError('holds no models (*.lstmkit files, or run directories with best.lstmkit)', dir);
  const sources: ModelSource[] = [];
  for (const path of paths) {
    try {
      sources.push({ ...(await readModelSource(path)), fromDirectory: true });
    } catch (e) {
      if (!(e instanceof LstmkitError)) throw e;
      skip({ path, reason: e.message });
    }
  }
  if (sources.length === 0) throw new DataError(`holds no model that loads (${paths.length} tried; the first: ${paths[0]})`, dir);
  const seen = new Map<string, string>();
  for (const s of sources) {
    const other = seen.get(s.name);
    if (other) throw new DataError(`two models are named "${s.name}": ${other} and ${s.path}`, dir);
    seen.set(s.name, s.path);
  }
  return sources;
}
