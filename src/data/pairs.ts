// Pairs for sequence-to-sequence models: records {"x": source, "y": target}
// (JSONL, or TSV lines `source<TAB>target`), each side a text (split into
// characters or words) or an array of tokens; or x a vector of numbers (one
// vector in, a sequence out). Tokens become vocabulary indices (a token the
// vocabulary lacks is <unk>, as is the convention), and batches put them
// time-major with the decoder's input (<bos> y) and targets (y <eos>).
// Every error names the file, line and field.

import { DataError } from '../core/errors.js';
import { numberAt } from './encode.js';
import type { JsonlRecord } from './jsonl.js';
import { buildVocabulary, encodeTokens, EOS, PAD, tokenize, UNK, type TokenizerKind } from './vocabulary.js';

/** The target vocabulary's reserved tokens, in this order (indices 0–3). */
export const BOS = '<bos>';
export const TARGET_RESERVED = [PAD, UNK, BOS, EOS] as const;
/** Their indices. */
export const PAD_ID = 0;
export const UNK_ID = 1;
export const BOS_ID = 2;
export const EOS_ID = 3;

/** How pair records are read: what x is and how y is split. */
export interface PairSpec {
  input:
    | { type: 'tokens'; vocabulary?: string[] | undefined; tokenizer?: TokenizerKind | undefined; maxLength?: number | undefined }
    | { type: 'vector'; size: number };
  output: { vocabulary?: string[] | undefined; tokenizer?: TokenizerKind | undefined };
}

/** One encoded pair. */
export interface PairExample {
  /** Source steps (token input), or target steps (vector input): what batches are bucketed by. */
  steps: number;
  /** Source token indices (token input). */
  src: Int32Array | null;
  /** The source vector (vector input). */
  vector: Float32Array | null;
  /** Target token indices, without <bos> and <eos>; null when the record has no y. */
  tgt: Int32Array | null;
  source?: { file: string; line: number };
}

/** The tokenizer a side's texts are split with. */
export function pairTokenizers(spec: PairSpec): { input: TokenizerKind; output: TokenizerKind } {
  const input = spec.input.type === 'tokens' ? spec.input.tokenizer ?? 'char' : 'char';
  return { input, output: spec.output.tokenizer ?? input };
}

/** A side's tokens: a text split by the tokenizer, or an array of token strings as given. */
function sideTokens(value: unknown, tokenizer: TokenizerKind, field: 'x' | 'y', file: string, line: number): string[] {
  if (typeof value === 'string') return tokenize(value, tokenizer);
  if (Array.isArray(value) && value.every((t) => typeof t === 'string')) return value as string[];
  const got = value === undefined ? 'nothing' : Array.isArray(value) ? 'an array that is not all strings' : typeof value;
  throw new DataError(`${field} must be a text or an array of token strings, got ${got}`, file, line);
}

/** The source tokens of a record, checked: not empty, within input.maxLength. */
export function sourceTokens(value: unknown, spec: PairSpec, file: string, line: number): string[] {
  const input = spec.input;
  if (input.type !== 'tokens') throw new DataError('this model reads a vector x, not tokens', file, line);
  const tokens = sideTokens(value, pairTokenizers(spec).input, 'x', file, line);
  if (tokens.length === 0) throw new DataError('x is empty: a source needs at least one token', file, line);
  if (input.maxLength !== undefined && tokens.length > input.maxLength) {
    throw new DataError(`x has ${tokens.length} tokens, more than input.maxLength (${input.maxLength})`, file, line);
  }
  return tokens;
}

/** The target tokens of a record (y may be empty: the model then says only <eos>). */
export function targetTokens(value: unknown, spec: PairSpec, file: string, line: number): string[] {
  return sideTokens(value, pairTokenizers(spec).output, 'y', file, line);
}

function vectorOf(value: unknown, size: number, file: string, line: number): Float32Array {
  if (!Array.isArray(value) || value.length !== size) {
    const got = Array.isArray(value) ? `${value.length} numbers` : value === undefined ? 'nothing' : typeof value;
    throw new DataError(`x must be an array of ${size} numbers (the input vector), got ${got}`, file, line);
  }
  return Float32Array.from(value, (v: unknown, i) => numberAt(v, file, line, `x[${i}]`));
}

/** Source and target vocabularies from training records: reserved tokens, then tokens by frequency. */
export function pairVocabularies(records: readonly JsonlRecord[], spec: PairSpec, file: string): { input?: string[]; output: string[] } {
  const output = buildVocabulary(records.map((r) => targetTokens(r.value.y, spec, file, r.line)), { reserved: TARGET_RESERVED });
  if (spec.input.type !== 'tokens') return { output };
  const input = buildVocabulary(records.map((r) => sourceTokens(r.value.x, spec, file, r.line)), { reserved: [PAD, UNK] });
  return { input, output };
}

/** Records to examples; `requireTarget`: a record without y is an error (training, evaluation). */
export function encodePairs(
  records: readonly JsonlRecord[], spec: PairSpec, opts: { file: string; requireTarget: boolean },
): PairExample[] {
  const { input, output } = spec;
  if (input.type === 'tokens' && !input.vocabulary) throw new DataError('the model has no input vocabulary', opts.file);
  if (!output.vocabulary) throw new DataError('the model has no output vocabulary', opts.file);
  return records.map(({ value, line }) => {
    const file = opts.file;
    if (value.x === undefined) throw new DataError('the record has no x (the source)', file, line);
    if (value.y === undefined && opts.requireTarget) throw new DataError('the record has no y (the target; in TSV, source<TAB>target)', file, line);
    const tgt = value.y === undefined ? null : encodeTokens(targetTokens(value.y, spec, file, line), output.vocabulary!);
    if (input.type === 'vector') {
      return { steps: Math.max(1, (tgt?.length ?? 0) + 1), src: null, vector: vectorOf(value.x, input.size, file, line), tgt, source: { file, line } };
    }
    const src = encodeTokens(sourceTokens(value.x, spec, file, line), input.vocabulary!);
    return { steps: src.length, src, vector: null, tgt, source: { file, line } };
  });
}

/**
 * TSV pairs, `source<TAB>target` per line, as records {x, y} (texts). Blank
 * lines are skipped; a line without exactly one tab is an error naming it.
 */
export function parseTsvPairs(text: string, file = '<input>'): JsonlRecord[] {
  const out: JsonlRecord[] = [];
  text.split('\n').forEach((raw, i) => {
    const lineText = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (lineText.trim() === '') return;
    const parts = lineText.split('\t');
    if (parts.length > 2) throw new DataError(`expected source<TAB>target (one tab), found ${parts.length - 1} tabs`, file, i + 1);
    out.push({ line: i + 1, value: parts.length === 2 ? { x: parts[0]!, y: parts[1]! } : { x: parts[0]! } });
  });
  return out;
}

/** A padded batch of pairs, time-major. */
export interface PairBatch {
  size: number; // B
  /** [S, B] source indices padded with 0, and each source's length (token input). */
  src: Int32Array | null;
  srcSteps: number;
  srcLengths: Int32Array | null;
  /** [B, F] the source vectors (vector input). */
  vector: Float32Array | null;
  /** [T, B] decoder input: <bos> y1 … yn, padded with 0 (T = the longest target + 1). */
  tin: Int32Array;
  /** [T, B] targets: y1 … yn <eos>, padded with -1 (not counted). */
  tout: Int32Array;
  tgtSteps: number;
  /** Which examples, in batch order. */
  indices: number[];
}

/** One padded batch of the examples at `indices` (targets empty when they have none). */
export function makePairBatch(examples: readonly PairExample[], indices: readonly number[]): PairBatch {
  const B = indices.length;
  const rows = indices.map((i) => examples[i]!);
  const tokens = rows[0]?.src !== null;
  const S = tokens ? Math.max(1, ...rows.map((e) => e.src!.length)) : 0;
  const T = Math.max(1, ...rows.map((e) => (e.tgt?.length ?? 0) + 1));
  const src = tokens ? new Int32Array(S * B) : null;
  const srcLengths = tokens ? new Int32Array(B) : null;
  const F = tokens ? 0 : rows[0]!.vector!.length;
  const vector = tokens ? null : new Float32Array(B * F);
  const tin = new Int32Array(T * B);
  const tout = new Int32Array(T * B).fill(-1);
  rows.forEach((e, b) => {
    if (src) {
      e.src!.forEach((v, s) => (src[s * B + b] = v));
      srcLengths![b] = e.src!.length;
    } else vector!.set(e.vector!, b * F);
    const y = e.tgt ?? new Int32Array(0);
    tin[b] = BOS_ID;
    for (let t = 0; t < y.length; t++) {
      tin[(t + 1) * B + b] = y[t]!;
      tout[t * B + b] = y[t]!;
    }
    tout[y.length * B + b] = EOS_ID;
  });
  return { size: B, src, srcSteps: S, srcLengths, vector, tin, tout, tgtSteps: T, indices: [...indices] };
}

/** Decoded target indices back to tokens (reserved tokens left out), and joined as the tokenizer split them. */
export function targetText(ids: readonly number[], vocabulary: readonly string[], tokenizer: TokenizerKind): { tokens: string[]; text: string } {
  const tokens = ids.filter((id) => id > EOS_ID || id === UNK_ID).map((id) => vocabulary[id] ?? UNK);
  return { tokens, text: tokens.join(tokenizer === 'char' ? '' : ' ') };
}
