// Tagged sentences as a tagger reads them: words to vocabulary indices, each
// word's characters to character indices, tags to class indices; and padded
// time-major batches in which each distinct word of the batch is spelled
// once for the character BiLSTM. Errors name the file and line.

import { DataError } from '../core/errors.js';
import type { TaggedSentence } from './conll.js';
import { buildVocabulary, PAD, UNK, vocabularyIndex } from './vocabulary.js';

/** What encoding needs of a tagger config: the (complete) vocabularies, classes and limits. */
export interface TaggedSpec {
  input: {
    vocabulary?: string[] | undefined;
    lowercase?: boolean | undefined;
    maxLength?: number | undefined;
    chars?: { vocabulary?: string[] | undefined; maxLength?: number | undefined } | undefined;
  };
  output: { classes?: string[] | undefined };
}

/** One encoded sentence. */
export interface TaggedExample {
  steps: number;
  /** The sentence's tokens as written (spelled for the character BiLSTM, echoed in outputs). */
  tokens: string[];
  /** [steps] word indices (1 for unknown). */
  words: Int32Array;
  /** [steps] tag indices, or null for a sentence without tags (prediction). */
  tags: Int32Array | null;
  source: { file: string; line: number };
}

/** A batch, time-major as the engine wants. */
export interface TaggedBatch {
  steps: number; // T
  size: number; // B
  /** [T, B] word indices, 0 where padded. */
  words: Int32Array;
  lengths: Int32Array; // [B]
  /** [T, B] tag indices, -1 where padded; null when the sentences have none. */
  tags: Int32Array | null;
  /** The batch's distinct words spelled out, for the character BiLSTM; null for a model without one. */
  chars: CharBatch | null;
  /** Which examples, in batch order. */
  indices: number[];
}

/** N distinct words as characters: ids [C, N] (time-major, 0-padded), lengths [N], and which word each [T, B] position is (-1 padding). */
export interface CharBatch {
  steps: number; // C
  words: number; // N
  ids: Int32Array;
  lengths: Int32Array;
  index: Int32Array;
}

/** Default limits (the config may set others). */
export const TAGGED_LIMITS = { maxLength: 512, charMaxLength: 24 } as const;

/** The characters of a word the character BiLSTM reads: all of them, or the first and last max / 2 of a longer one. */
export function wordChars(word: string, max: number): string[] {
  const chars = [...word];
  if (chars.length <= max) return chars;
  const half = max >> 1;
  return [...chars.slice(0, half), ...chars.slice(chars.length - (max - half))];
}

/** Vocabularies and tags from training sentences: words by frequency (minCount, lowercase), characters, tags sorted. */
export function taggedVocabularies(
  sentences: readonly TaggedSentence[], o: { minCount?: number | undefined; lowercase?: boolean | undefined; charMaxLength?: number | undefined },
): { words: string[]; chars: string[]; tags: string[] } {
  const key = o.lowercase ? (w: string) => w.toLowerCase() : (w: string) => w;
  const words = buildVocabulary(sentences.map((s) => s.tokens.map(key)), { reserved: [PAD, UNK], minCount: o.minCount ?? 1 });
  const max = o.charMaxLength ?? TAGGED_LIMITS.charMaxLength;
  const chars = buildVocabulary(sentences.flatMap((s) => s.tokens.map((w) => wordChars(w, max))), { reserved: [PAD, UNK] });
  const tags = [...new Set(sentences.flatMap((s) => s.tags))].sort();
  return { words, chars, tags };
}

/**
 * Sentences to examples. With `requireTags` every sentence needs its tags, and
 * every tag must be one the model knows; a sentence longer than the limit is
 * an error (never cut: its tags would be lost).
 */
export function encodeTagged(sentences: readonly TaggedSentence[], spec: TaggedSpec, opts: { file: string; requireTags: boolean }): TaggedExample[] {
  const { file } = opts;
  const words = vocabularyIndex(spec.input.vocabulary!);
  const classes = spec.output.classes!;
  const tagIndex = vocabularyIndex(classes);
  const lower = spec.input.lowercase === true;
  const max = spec.input.maxLength ?? TAGGED_LIMITS.maxLength;
  return sentences.map(({ tokens, tags, line, tokenPerLine }) => {
    if (tokens.length === 0) throw new DataError('the sentence is empty; a sentence needs at least one token', file, line);
    if (tokens.length > max) throw new DataError(`the sentence has ${tokens.length} tokens, over the model's limit of ${max} (input.maxLength)`, file, line);
    const empty = tokens.findIndex((t) => t.length === 0);
    if (empty >= 0) throw new DataError(`token ${empty} is empty`, file, line);
    const example: TaggedExample = {
      steps: tokens.length,
      tokens: [...tokens],
      words: Int32Array.from(tokens, (t) => words.get(lower ? t.toLowerCase() : t) ?? 1),
      tags: null,
      source: { file, line },
    };
    if (tags.length === 0 && !opts.requireTags) return example;
    if (tags.length !== tokens.length) {
      throw new DataError(`the sentence has ${tokens.length} tokens but ${tags.length} tags; expected one tag per token`, file, line);
    }
    example.tags = Int32Array.from(tags, (tag, t) => {
      const k = tagIndex.get(tag);
      if (k === undefined) {
        const known = `${classes.slice(0, 12).join(', ')}${classes.length > 12 ? ', …' : ''}`;
        throw new DataError(`token ${t} (${JSON.stringify(tokens[t])}) has the tag ${JSON.stringify(tag)}, which the model does not know (its tags: ${known})`,
          file, tokenPerLine ? line + t : line);
      }
      return k;
    });
    return example;
  });
}

/**
 * One padded batch of examples `given`; `chars` spells the distinct words for a model with a character BiLSTM.
 * With `longestFirst` the rows are the sentences longest first (ties in the given order; `indices` of the batch says
 * which example each row is), so the recurrent kernels' step products shrink as sentences end, as in PyTorch's packed
 * sequences; else the rows are `given` in order.
 */
export function makeTaggedBatch(
  examples: readonly TaggedExample[], given: readonly number[], chars: { vocabulary: readonly string[]; maxLength: number } | null,
  opts: { longestFirst?: boolean } = {},
): TaggedBatch {
  const indices = opts.longestFirst ? [...given].sort((a, b) => examples[b]!.steps - examples[a]!.steps) : given;
  const B = indices.length;
  const T = Math.max(...indices.map((i) => examples[i]!.steps));
  const words = new Int32Array(T * B);
  const lengths = new Int32Array(B);
  const withTags = indices.every((i) => examples[i]!.tags !== null);
  const tags = withTags ? new Int32Array(T * B).fill(-1) : null;
  indices.forEach((i, b) => {
    const e = examples[i]!;
    lengths[b] = e.steps;
    for (let t = 0; t < e.steps; t++) {
      words[t * B + b] = e.words[t]!;
      if (tags) tags[t * B + b] = e.tags![t]!;
    }
  });
  return { steps: T, size: B, words, lengths, tags, chars: chars ? spell(examples, indices, T, chars) : null, indices: [...indices] };
}

/**
 * The distinct words of a batch as a time-major character batch, longest first (ties in order of appearance): the
 * character BiLSTM's step products then cover only the words still running (most words are short, so most of the
 * rows of a late step are padding).
 */
function spell(examples: readonly TaggedExample[], indices: readonly number[], T: number, o: { vocabulary: readonly string[]; maxLength: number }): CharBatch {
  const B = indices.length;
  const charIndex = vocabularyIndex(o.vocabulary);
  const seen = new Map<string, number>();
  const spelled: Int32Array[] = [];
  const index = new Int32Array(T * B).fill(-1);
  indices.forEach((i, b) => {
    examples[i]!.tokens.forEach((word, t) => {
      let n = seen.get(word);
      if (n === undefined) {
        seen.set(word, (n = spelled.length));
        spelled.push(Int32Array.from(wordChars(word, o.maxLength), (c) => charIndex.get(c) ?? 1));
      }
      index[t * B + b] = n;
    });
  });
  const N = spelled.length;
  const order = Array.from(spelled, (_, n) => n).sort((a, b) => spelled[b]!.length - spelled[a]!.length);
  const rank = new Int32Array(N);
  order.forEach((n, r) => (rank[n] = r));
  for (let i = 0; i < index.length; i++) if (index[i]! >= 0) index[i] = rank[index[i]!]!;
  const C = Math.max(...spelled.map((s) => s.length));
  const ids = new Int32Array(C * N);
  order.forEach((n, r) => spelled[n]!.forEach((c, j) => (ids[j * N + r] = c)));
  return { steps: C, words: N, ids, lengths: Int32Array.from(order, (n) => spelled[n]!.length), index };
}
