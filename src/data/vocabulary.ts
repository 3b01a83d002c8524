// The one tokenizer and vocabulary: text to tokens (characters or
// whitespace-separated words, after optional lowercasing and punctuation
// splitting — a string-to-string step, so the word tokenizer stays a plain
// split), a vocabulary built from training tokens by frequency, encoding
// where a token the vocabulary lacks becomes <unk>, and class labels in order.

import { Type } from '@sinclair/typebox';
import { ValueError } from '../core/errors.js';

/** Index 0 of every vocabulary: padding. */
export const PAD = '<pad>';
/** Index 1: a token the vocabulary lacks. */
export const UNK = '<unk>';
/** Ends a line (a name) in the line-by-line language model; it also starts one. */
export const EOS = '<eos>';

export type TokenizerKind = 'char' | 'word';

export interface TextNormalization {
  lowercase: boolean;
  /** Word tokenizer only: punctuation marks become tokens of their own ("ham," → "ham ,"). */
  splitPunctuation: boolean;
}

/** The text normalization a model file stores (as its preprocessing), checked when it is read. */
export const TextPreprocessingSchema = Type.Object({
  task: Type.Optional(Type.String()),
  version: Type.Optional(Type.Integer({ minimum: 1 })),
  lowercase: Type.Optional(Type.Boolean()),
  splitPunctuation: Type.Optional(Type.Boolean()),
});

const PUNCTUATION = /([^\p{L}\p{N}\s])/gu;

/** Split a text into characters (code points) or whitespace-separated words. */
export function tokenize(text: string, tokenizer: TokenizerKind = 'char'): string[] {
  return tokenizer === 'char' ? Array.from(text) : text.split(/\s+/).filter((t) => t !== '');
}

/** The text as the tokenizer sees it. */
export function normalizeText(text: string, tokenizer: TokenizerKind, n: TextNormalization): string {
  let out = n.lowercase ? text.toLowerCase() : text;
  if (tokenizer === 'word' && n.splitPunctuation) out = out.replace(PUNCTUATION, ' $1 ');
  return out;
}

/** Tokens of a text: normalized, split, and cut to `maxLength` tokens (the first ones). */
export function textTokens(text: string, tokenizer: TokenizerKind, n: TextNormalization, maxLength?: number): string[] {
  const tokens = tokenize(normalizeText(text, tokenizer, n), tokenizer);
  return maxLength !== undefined && tokens.length > maxLength ? tokens.slice(0, maxLength) : tokens;
}

export interface VocabularyOptions {
  /** Tokens first in the vocabulary, in this order (e.g. <pad>, <unk>). */
  reserved: readonly string[];
  /** Keep at most this many entries, reserved ones included. */
  maxSize?: number;
  /** Leave out tokens seen fewer times than this (they become <unk>). */
  minCount?: number;
}

/** Reserved tokens, then tokens by frequency (ties in code-point order). */
export function buildVocabulary(sequences: Iterable<readonly string[]>, o: VocabularyOptions): string[] {
  const maxSize = o.maxSize ?? Infinity;
  const minCount = o.minCount ?? 1;
  if (maxSize < o.reserved.length + 1) {
    throw new ValueError(`maxVocabulary must leave room for at least one token besides ${o.reserved.join(', ')}, got ${maxSize}`);
  }
  const counts = new Map<string, number>();
  for (const tokens of sequences) for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  const reserved = new Set(o.reserved);
  const sorted = [...counts.entries()]
    .filter(([t, c]) => !reserved.has(t) && c >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return [...o.reserved, ...sorted.slice(0, maxSize - o.reserved.length).map(([t]) => t)];
}

const indexCache = new WeakMap<readonly string[], Map<string, number>>();

/** Token → index for a vocabulary (cached per vocabulary array). */
export function vocabularyIndex(vocabulary: readonly string[]): Map<string, number> {
  let index = indexCache.get(vocabulary);
  if (!index) indexCache.set(vocabulary, (index = new Map(vocabulary.map((t, i) => [t, i]))));
  return index;
}

/** Indices of tokens; a token the vocabulary lacks is <unk>, never an error. */
export function encodeTokens(tokens: readonly string[], vocabulary: readonly string[]): Int32Array {
  const index = vocabularyIndex(vocabulary);
  const unk = index.get(UNK) ?? 1;
  return Int32Array.from(tokens, (t) => index.get(t) ?? unk);
}

/** Class labels in order: numerically when every label is a number, else in code-point order. */
export function sortLabels(labels: Iterable<string>): string[] {
  const list = [...new Set(labels)];
  const numeric = list.every((l) => l.trim() !== '' && Number.isFinite(Number(l)));
  return list.sort((a, b) => (numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0));
}
