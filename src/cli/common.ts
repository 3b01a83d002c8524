// What the commands share: reading configs and data with errors that name
// the file, and printing tables.

import { readFile } from 'node:fs/promises';
import { DataError, LstmkitError } from '../core/errors.js';
import { encodeRecords, type Example } from '../data/encode.js';
import { type JsonlRecord } from '../data/jsonl.js';
import { readJsonl } from '../data/jsonlfile.js';
import { parseModelConfig, type ModelConfig } from '../model/config.js';
import { parseAnyConfig, type AnyConfig } from '../model/models.js';

export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? 'no such file' : (e as Error).message, path);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataError(`not valid JSON (${(e as Error).message})`, path);
  }
}

/** A whole file as bytes; a missing file is a DataError naming it. */
export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? 'no such file' : (e as Error).message, path);
  }
}

/** A sequence model's config file (what an import describes). */
export async function readModelConfig(path: string): Promise<ModelConfig> {
  return readConfig(path, parseModelConfig);
}

/** A config file of either kind (lstmkit train). */
export async function readAnyConfig(path: string): Promise<AnyConfig> {
  return readConfig(path, parseAnyConfig);
}

async function readConfig<C>(path: string, parse: (raw: unknown, where: string) => C): Promise<C> {
  const raw = await readJsonFile(path);
  try {
    return parse(raw, path);
  } catch (e) {
    if (e instanceof LstmkitError) throw new DataError(e.message.replace(`${path}: `, ''), path);
    throw e;
  }
}

export async function readExamples(
  path: string, config: ModelConfig, requireTarget: boolean,
): Promise<{ records: JsonlRecord[]; examples: Example[] }> {
  const records = await readJsonl(path);
  return { records, examples: encodeRecords(records, config, { file: path, requireTarget }) };
}

/** A metrics table: one row per metric. */
export function formatMetrics(m: Record<string, unknown>): string {
  const rows = Object.entries(m).filter(([k, v]) => typeof v === 'number' && k !== 'count') as [string, number][];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${Number.isInteger(v) ? v : v.toFixed(6)}`).join('\n');
}

export function formatConfusion(classes: readonly string[], confusion: number[][]): string {
  const corner = 'actual \\ predicted';
  const w = Math.max(6, ...classes.map((c) => c.length), ...confusion.flat().map((n) => String(n).length));
  const first = Math.max(corner.length, ...classes.map((c) => c.length)); // the row labels' column, as wide as its heading
  const head = [corner.padEnd(first), ...classes.map((c) => c.padStart(w))].join(' ');
  const rows = confusion.map((r, i) => [classes[i]!.padEnd(first), ...r.map((n) => String(n).padStart(w))].join(' '));
  return [head, ...rows].join('\n');
}
