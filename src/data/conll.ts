// Tagged sentences for sequence labelling: CoNLL columns (one token per line,
// columns split by spaces or tabs, a blank line between sentences,
// -DOCSTART- lines skipped) or JSONL records {"x": [tokens], "y": [tags]}.
// Errors name the file and line. Browser-safe; reading files is in jsonlfile.ts.

import { DataError, ValueError } from '../core/errors.js';
import { parseJsonl, type JsonlRecord } from './jsonl.js';

/** One sentence: its tokens and their tags, one tag per token. */
export interface TaggedSentence {
  /** The line its first token is on (1-based). */
  line: number;
  tokens: string[];
  tags: string[];
  /** CoNLL: token t is on line + t (errors about a token name its own line). */
  tokenPerLine?: boolean;
}

export interface ConllOptions {
  /** Names the source in errors; '<input>' unless given. */
  file?: string;
  /** The tag's column, counting from 0, 'last' (the default: CoNLL-2003's NER tags), or 'none' (tokens to tag; tags are left empty). */
  column?: number | 'last' | 'none';
  /** The token's column, counting from 0; 0 unless given. */
  tokenColumn?: number;
}

const DOCSTART = '-DOCSTART-';

function columnOption(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ValueError(`parseConll: ${field} must be a column index (an integer from 0), got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

/**
 * CoNLL text to sentences. A line is columns split by spaces or tabs; the
 * token is in `tokenColumn`, the tag in `column`. A blank line (or several)
 * ends a sentence; a -DOCSTART- line ends one too and is skipped, as is the
 * blank after it. CRLF line ends and a leading byte-order mark are fine.
 * Errors (DataError, naming the file and line): a line with too few columns,
 * a column count that changes inside a sentence, no sentences at all.
 */
export function parseConll(text: string, opts: ConllOptions = {}): TaggedSentence[] {
  const file = opts.file ?? '<input>';
  const tokenColumn = columnOption(opts.tokenColumn ?? 0, 'tokenColumn');
  const column = opts.column ?? 'last';
  if (column !== 'last' && column !== 'none' && columnOption(column, "column (or 'last')") === tokenColumn) {
    throw new ValueError(`parseConll: column and tokenColumn are both ${tokenColumn}; the tag needs a column of its own`);
  }
  // 'last' needs a column after the token's; a numbered tag column needs the columns up to it.
  const needed = column === 'last' ? tokenColumn + 2 : column === 'none' ? tokenColumn + 1 : Math.max(tokenColumn, column) + 1;
  const tagWhere = column === 'last' ? ' … tag in the last' : column === 'none' ? '' : ` … tag in column ${column}`;
  const where = `token in column ${tokenColumn}${tagWhere}, counting from 0`;

  const sentences: TaggedSentence[] = [];
  let current: TaggedSentence | null = null;
  let width = 0; // the current sentence's column count
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let raw = lines[i]!;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    if (i === 0 && raw.startsWith('\uFEFF')) raw = raw.slice(1);
    const trimmed = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    const columns = trimmed === '' ? [] : trimmed.split(/[ \t]+/);
    if (columns.length === 0 || columns[0] === DOCSTART) {
      if (current) sentences.push(current);
      current = null;
      continue;
    }
    const line = i + 1;
    if (columns.length < needed) {
      throw new DataError(`expected at least ${needed} columns (${where}), found ${columns.length}`, file, line);
    }
    if (current && columns.length !== width) {
      throw new DataError(
        `found ${columns.length} columns, but this sentence began on line ${current.line} with ${width}; a sentence's lines need the same columns`,
        file, line,
      );
    }
    if (!current) {
      current = { line, tokens: [], tags: [], tokenPerLine: true };
      width = columns.length;
    }
    current.tokens.push(columns[tokenColumn]!);
    if (column !== 'none') current.tags.push(columns[column === 'last' ? columns.length - 1 : column]!);
  }
  if (current) sentences.push(current);
  if (sentences.length === 0) throw new DataError('no sentences (the file is empty, or has only blank and -DOCSTART- lines)', file);
  return sentences;
}

function stringsOf(value: unknown, field: 'x' | 'y', what: string, file: string, line: number): string[] {
  if (Array.isArray(value) && value.every((t) => typeof t === 'string')) return value as string[];
  const got = value === undefined ? 'nothing' : Array.isArray(value) ? 'an array that is not all strings' : value === null ? 'null' : typeof value;
  throw new DataError(`${field} must be an array of ${what} strings, got ${got}`, file, line);
}

/** JSONL tagging records {"x": [tokens], "y": [tags]} to sentences: as many tags as tokens, at least one. */
export function taggedSentences(records: readonly JsonlRecord[], file = '<input>'): TaggedSentence[] {
  const sentences = records.map(({ value, line }) => {
    const tokens = stringsOf(value.x, 'x', 'token', file, line);
    const tags = stringsOf(value.y, 'y', 'tag', file, line);
    if (tokens.length !== tags.length) {
      throw new DataError(`x has ${tokens.length} tokens but y has ${tags.length} tags; expected one tag per token`, file, line);
    }
    if (tokens.length === 0) throw new DataError('x and y are empty: a sentence needs at least one token', file, line);
    return { line, tokens: [...tokens], tags: [...tags] };
  });
  if (sentences.length === 0) throw new DataError('no sentences (the file is empty)', file);
  return sentences;
}

/** JSONL text of tagging records to sentences (see taggedSentences). */
export function parseTaggedJsonl(text: string, file = '<input>'): TaggedSentence[] {
  return taggedSentences(parseJsonl(text, file), file);
}

/**
 * Word vectors in GloVe's text format: a word, then its numbers, split by
 * spaces, one word per line (word2vec's text format, whose first line is
 * "count dimensions", is read too). Every line needs the same count of
 * numbers, each finite; errors name the line. The first of a repeated word wins.
 */
export function parseWordVectors(text: string, file = '<input>'): Map<string, Float32Array> {
  const vectors = new Map<string, Float32Array>();
  let dim = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '').replace(/^\uFEFF/, '');
    const fields = raw.trim().split(/ +/);
    if (fields.length === 1 && fields[0] === '') continue;
    if (i === 0 && fields.length === 2 && fields.every((f) => /^\d+$/.test(f))) continue; // word2vec's header
    const line = i + 1;
    if (fields.length < 2) throw new DataError(`expected a word and its numbers, found ${JSON.stringify(raw.slice(0, 40))}`, file, line);
    if (dim === 0) dim = fields.length - 1;
    if (fields.length - 1 !== dim) throw new DataError(`found ${fields.length - 1} numbers, but the first vector has ${dim}`, file, line);
    const vector = new Float32Array(dim);
    for (let j = 0; j < dim; j++) {
      const v = Number(fields[j + 1]);
      if (!Number.isFinite(v) || fields[j + 1] === '') {
        throw new DataError(`number ${j + 1} of ${JSON.stringify(fields[0])} is ${JSON.stringify(fields[j + 1])}`, file, line);
      }
      vector[j] = v;
    }
    if (!vectors.has(fields[0]!)) vectors.set(fields[0]!, vector);
  }
  if (vectors.size === 0) throw new DataError('no word vectors (the file is empty)', file);
  return vectors;
}

/** A sentence to tag: its tokens, the text they came from, and each token's [start, end) in it (UTF-16 code units). */
export interface Sentence {
  line: number;
  tokens: string[];
  text: string;
  offsets: [number, number][];
}

/** A text split at whitespace, with each token's place in it. */
export function sentenceOfText(text: string, line: number): Sentence {
  const tokens: string[] = [];
  const offsets: [number, number][] = [];
  for (const m of text.matchAll(/\S+/g)) {
    tokens.push(m[0]);
    offsets.push([m.index, m.index + m[0].length]);
  }
  return { line, tokens, text, offsets };
}

/** Tokens given as a list: the text is the tokens joined by single spaces. */
export function sentenceOfTokens(tokens: readonly string[], line: number): Sentence {
  const offsets: [number, number][] = [];
  let at = 0;
  for (const t of tokens) {
    offsets.push([at, at + t.length]);
    at += t.length + 1;
  }
  return { line, tokens: [...tokens], text: tokens.join(' '), offsets };
}

/**
 * Sentences to tag: CoNLL columns (the token in `tokenColumn`, other columns
 * ignored), JSONL records whose x is a text or an array of tokens, or plain
 * text with one sentence per line (blank lines skipped), split at whitespace.
 */
export function parseSentences(text: string, format: 'conll' | 'jsonl' | 'text', file = '<input>', tokenColumn = 0): Sentence[] {
  let sentences: Sentence[];
  if (format === 'conll') {
    sentences = parseConll(text, { file, tokenColumn, column: 'none' }).map((s) => sentenceOfTokens(s.tokens, s.line));
  } else if (format === 'jsonl') {
    sentences = parseJsonl(text, file).map(({ value, line }) => {
      if (typeof value.x === 'string') return sentenceOfText(value.x, line);
      const token = (t: unknown): boolean => typeof t === 'string' && t.length > 0 && !/\s/.test(t);
      if (Array.isArray(value.x) && value.x.every(token)) return sentenceOfTokens(value.x as string[], line);
      throw new DataError('x must be a text or an array of tokens (non-empty strings without whitespace)', file, line);
    });
  } else {
    sentences = text.split('\n').flatMap((raw, i) => (raw.trim() === '' ? [] : [sentenceOfText(raw.replace(/\r$/, ''), i + 1)]));
  }
  const empty = sentences.find((s) => s.tokens.length === 0);
  if (empty) throw new DataError('the sentence is empty; a sentence needs at least one token', file, empty.line);
  if (sentences.length === 0) throw new DataError('no sentences (the file is empty)', file);
  return sentences;
}
