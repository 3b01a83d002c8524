// Reading a CSV file from disk (Node only; browsers call parseCsv on text).

import { readFile } from 'node:fs/promises';
import { DataError } from '../core/errors.js';
import { parseCsv, type CsvTable } from './csv.js';

export async function readCsvFile(path: string): Promise<CsvTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, expected a CSV file' : (e as Error).message, path);
  }
  return parseCsv(text, path);
}
