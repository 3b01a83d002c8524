// Reading data files (Node): JSONL, for sequence-to-sequence pairs also TSV,
// and for sequence labelling CoNLL columns.

import { readFile } from 'node:fs/promises';
import { DataError } from '../core/errors.js';
import {
  parseConll, parseSentences, parseTaggedJsonl, parseWordVectors, type ConllOptions, type Sentence, type TaggedSentence,
} from './conll.js';
import { parseJsonl, type JsonlRecord } from './jsonl.js';
import { parseTsvPairs } from './pairs.js';

async function readText(path: string, expected: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? `is a directory, expected ${expected}` : (e as Error).message, path);
  }
}

export async function readJsonl(path: string): Promise<JsonlRecord[]> {
  const records = parseJsonl(await readText(path, 'a JSONL file'), path);
  if (records.length === 0) throw new DataError('no records (the file is empty)', path);
  return records;
}

/** Pairs {x, y}: a .tsv file's `source<TAB>target` lines, or JSONL. */
export async function readPairRecords(path: string): Promise<JsonlRecord[]> {
  if (!/\.tsv$/i.test(path)) return readJsonl(path);
  const records = parseTsvPairs(await readText(path, 'a TSV file'), path);
  if (records.length === 0) throw new DataError('no pairs (the file is empty)', path);
  return records;
}

/**
 * Tagged sentences from a file, read by its extension: .conll, .txt or .bio as
 * CoNLL columns (`column`, `tokenColumn` as parseConll takes them), .jsonl as
 * records {"x": [tokens], "y": [tags]}.
 */
export async function readTaggedFile(path: string, opts: Omit<ConllOptions, 'file'> = {}): Promise<TaggedSentence[]> {
  const ext = /\.([^./\\]+)$/.exec(path)?.[1]?.toLowerCase();
  if (ext === 'jsonl') return parseTaggedJsonl(await readText(path, 'a JSONL file'), path);
  if (ext === 'conll' || ext === 'txt' || ext === 'bio') return parseConll(await readText(path, 'a CoNLL file'), { ...opts, file: path });
  throw new DataError(`cannot tell the format from the extension ${ext ? `.${ext}` : '(none)'}; expected .conll, .txt or .bio (CoNLL columns) or .jsonl`, path);
}

/** Word vectors from a GloVe-format text file (see parseWordVectors). */
export async function readWordVectors(path: string): Promise<Map<string, Float32Array>> {
  return parseWordVectors(await readText(path, 'a word-vector text file'), path);
}

/**
 * Sentences to tag from a file: `format`, or by extension — .conll or .bio as
 * CoNLL columns (tags, if any, ignored), .jsonl as records with x, anything
 * else as plain text, one sentence per line.
 */
export async function readSentences(path: string, format?: 'conll' | 'jsonl' | 'text', tokenColumn = 0): Promise<Sentence[]> {
  const ext = /\.([^./\\]+)$/.exec(path)?.[1]?.toLowerCase();
  const kind = format ?? (ext === 'conll' || ext === 'bio' ? 'conll' : ext === 'jsonl' ? 'jsonl' : 'text');
  return parseSentences(await readText(path, 'a file of sentences'), kind, path, tokenColumn);
}
