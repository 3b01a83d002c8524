// Reading a JSONL file (Node).

import { readFile } from 'node:fs/promises';
import { DataError } from '../core/errors.js';
import { parseJsonl, type JsonlRecord } from './jsonl.js';

export async function readJsonl(path: string): Promise<JsonlRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, expected a JSONL file' : (e as Error).message, path);
  }
  const records = parseJsonl(text, path);
  if (records.length === 0) throw new DataError('no records (the file is empty)', path);
  return records;
}
