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
}

export interface ConllOptions {
  /** Names the source in errors; '<input>' unless given. */
  file?: string;
  /** The tag's column, counting from 0, or 'last' (the default: CoNLL-2003's NER tags). */
  column?: number | 'last';
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
  if (column !== 'last' && columnOption(column, "column (or 'last')") === tokenColumn) {
    throw new ValueError(`parseConll: column and tokenColumn are both ${tokenColumn}; the tag needs a column of its own`);
  }
  // 'last' needs a column after the token's; a numbered tag column needs the columns up to it.
  const needed = column === 'last' ? tokenColumn + 2 : Math.max(tokenColumn, column) + 1;
  const where = `token in column ${tokenColumn} … tag in ${column === 'last' ? 'the last' : `column ${column}`}, counting from 0`;

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
      current = { line, tokens: [], tags: [] };
      width = columns.length;
    }
    current.tokens.push(columns[tokenColumn]!);
    current.tags.push(columns[column === 'last' ? columns.length - 1 : column]!);
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
