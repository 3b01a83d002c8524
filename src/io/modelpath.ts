// Reading and writing model files on disk (Node). A run directory stands for
// its best model.

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '../core/errors.js';
import type { ModelOptions } from '../model/model.js';
import type { AnyModel } from '../model/models.js';
import { writeFileAtomic } from './atomic.js';
import { decodeModelFile, encodeModelFile, modelFromFile, type ModelFileContents, type ModelFileExtra } from './modelfile.js';
import { BEST } from './runfiles.js';

export { BEST, LAST } from './runfiles.js';

/** The model file a path names: the file itself, or a run directory's best model. */
export async function resolveModelPath(path: string): Promise<string> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new DataError('no such model file or run directory', path);
  }
  if (!info.isDirectory()) return path;
  const best = join(path, BEST);
  try {
    await stat(best);
  } catch {
    throw new DataError(`is a directory without ${BEST}; expected a model file or a run directory from lstmkit train`, path);
  }
  return best;
}

export async function readModelFile(path: string): Promise<ModelFileContents & { path: string }> {
  const file = await resolveModelPath(path);
  const bytes = await readFile(file);
  return { ...decodeModelFile(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file), path: file };
}

export async function loadModel(
  path: string, opts: ModelOptions = {},
): Promise<{ model: AnyModel; contents: ModelFileContents & { path: string } }> {
  const contents = await readModelFile(path);
  return { model: modelFromFile(contents, opts, contents.path), contents };
}

/** Write a model file atomically: a crash mid-write leaves the old file or the new one, never half of one. */
export async function saveModel(path: string, model: AnyModel, extra: ModelFileExtra = {}): Promise<void> {
  await writeFileAtomic(path, encodeModelFile(model, extra));
}
