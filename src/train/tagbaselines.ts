// Two baselines for part-of-speech tagging, against which a neural tagger is
// measured: the most frequent tag of each word, and a bigram hidden Markov
// model decoded with Viterbi (Jurafsky & Martin, ch. 8). Both learn from
// counts of tagged sentences in one pass; words are compared as written
// (case kept), so "Will" and "will" are different words.
//
// Unknown words (never seen in training) are the hard part, and both
// baselines use the same shape classes for them: a word's digits, hyphen,
// capital and suffix put it in one of a few classes ("UNK-ing", "UNK-cap-s"),
// and the training words seen once stand in for unseen words of their class.

import { ValueError } from '../core/errors.js';
import type { TaggedSentence } from '../data/conll.js';

/** One sentence: its tokens and their tags, position by position (a TaggedSentence without its line). */
export type TokensAndTags = Pick<TaggedSentence, 'tokens' | 'tags'>;

/** Anything that tags a sentence's words. */
export interface BaselineTagger {
  tag(words: readonly string[]): string[];
}

const SUFFIXES = ['ing', 'ed', 'ly', 'tion', 'ness', 'ment', 'able', 'ous', 'ive', 'al', 'est', 'er', 'ity', 'ic', 's'] as const;

/**
 * The shape class of a word, for unknown words: "UNK-num" (holds a digit),
 * "UNK-hyphen", then "UNK-cap" plus "-s" when it ends in s (capitalized:
 * names and their plurals), then "UNK-" and the first of the suffixes
 * -ing -ed -ly -tion -ness -ment -able -ous -ive -al -est -er -ity -ic -s it
 * ends with, else "UNK". Classes begin "UNK-" or are "UNK", which no corpus
 * word is expected to be.
 */
export function unknownWordClass(word: string): string {
  if (/\d/.test(word)) return 'UNK-num';
  if (word.includes('-')) return 'UNK-hyphen';
  const lower = word.toLowerCase();
  if (word !== lower) return lower.endsWith('s') ? 'UNK-cap-s' : 'UNK-cap';
  for (const suffix of SUFFIXES) {
    if (lower.length > suffix.length + 1 && lower.endsWith(suffix)) return `UNK-${suffix}`;
  }
  return 'UNK';
}

/** How often each key occurs. */
function count<K>(map: Map<K, number>, key: K, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** The key with the largest count; ties go to the one `before` orders first. */
function argmax(counts: Map<string, number>, before: (a: string, b: string) => boolean): string | undefined {
  let best: string | undefined;
  let bestCount = -1;
  for (const [key, n] of counts) {
    if (n > bestCount || (n === bestCount && before(key, best!))) [best, bestCount] = [key, n];
  }
  return best;
}

function checkSentences(sentences: readonly TokensAndTags[]): void {
  if (sentences.length === 0) throw new ValueError('tagger training needs at least one sentence');
  for (const s of sentences) {
    if (s.tokens.length !== s.tags.length) throw new ValueError(`a sentence has ${s.tokens.length} tokens but ${s.tags.length} tags`);
  }
}

/** Tag counts over all tokens, and an order on tags: more frequent first, then by code point. */
function tagOrder(sentences: readonly TokensAndTags[]): { counts: Map<string, number>; before: (a: string, b: string) => boolean } {
  const counts = new Map<string, number>();
  for (const s of sentences) for (const t of s.tags) count(counts, t);
  const before = (a: string, b: string): boolean => {
    const d = counts.get(a)! - counts.get(b)!;
    return d !== 0 ? d > 0 : a < b;
  };
  return { counts, before };
}

export interface MostFrequentTagOptions {
  /**
   * The tag of an unknown word: 'overall' gives the most frequent tag of the
   * training set; 'shape' (the default) gives the most frequent tag of the
   * training words seen once that share its shape class (unknownWordClass),
   * or the overall one when no such word was seen.
   */
  unknown?: 'overall' | 'shape';
}

/**
 * Each word's most frequent tag in training. Ties between tags go to the
 * tag more frequent in the whole training set, then to the one first in
 * code-point order, so the result does not depend on sentence order.
 */
export class MostFrequentTagger implements BaselineTagger {
  readonly byWord = new Map<string, string>();
  readonly byClass = new Map<string, string>();
  readonly overall: string;
  private readonly unknown: 'overall' | 'shape';

  constructor(sentences: readonly TokensAndTags[], options: MostFrequentTagOptions = {}) {
    checkSentences(sentences);
    this.unknown = options.unknown ?? 'shape';
    const { counts, before } = tagOrder(sentences);
    this.overall = argmax(counts, before)!;
    const perWord = new Map<string, Map<string, number>>();
    for (const s of sentences) {
      s.tokens.forEach((w, i) => {
        let m = perWord.get(w);
        if (!m) perWord.set(w, (m = new Map()));
        count(m, s.tags[i]!);
      });
    }
    const perClass = new Map<string, Map<string, number>>();
    for (const [word, tags] of perWord) {
      this.byWord.set(word, argmax(tags, before)!);
      if (tags.size !== 1 || tags.values().next().value !== 1) continue; // seen once
      const cls = unknownWordClass(word);
      let m = perClass.get(cls);
      if (!m) perClass.set(cls, (m = new Map()));
      count(m, tags.keys().next().value!);
    }
    for (const [cls, tags] of perClass) this.byClass.set(cls, argmax(tags, before)!);
  }

  tag(words: readonly string[]): string[] {
    return words.map((w) => this.byWord.get(w) ?? (this.unknown === 'shape' ? this.byClass.get(unknownWordClass(w)) : undefined) ?? this.overall);
  }
}

/**
 * A bigram hidden Markov model: P(tags, words) = Π P(tᵢ | tᵢ₋₁) · P(wᵢ | tᵢ),
 * with a sentence boundary state before the first tag and after the last.
 *
 * Transitions are add-one smoothed over the tags and the end of sentence,
 * P(t' | t) = (c(t, t') + 1) / (c(t) + T + 1), so every tag sequence is
 * possible. Emissions are maximum likelihood, P(w | t) = c(t, w) / c(t),
 * after every training word seen fewer than `rareBelow` times (default 2:
 * words seen once) is replaced by its shape class; a word not in the
 * vocabulary so built is read as its class, and as "UNK" if even its class
 * was never seen. Decoding works in natural-log space.
 */
export class BigramHmm implements BaselineTagger {
  /** The tags, most frequent first (ties by code point); a tag's index is its state. */
  readonly tags: string[];
  /** log P(t' | t): (T + 1) × (T + 1), row = from, column = to; index T is the sentence boundary. */
  readonly logTransition: Float64Array;
  /** For each word of the vocabulary, the tags it was seen with (ascending) and log P(w | t) of each. */
  readonly emissions = new Map<string, { tags: Int32Array; logProb: Float64Array }>();
  private readonly known = new Set<string>();

  constructor(sentences: readonly TokensAndTags[], options: { rareBelow?: number } = {}) {
    checkSentences(sentences);
    const rareBelow = options.rareBelow ?? 2;
    const { counts, before } = tagOrder(sentences);
    this.tags = [...counts.keys()].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    const T = this.tags.length;
    const index = new Map(this.tags.map((t, i) => [t, i]));

    const wordCount = new Map<string, number>();
    for (const s of sentences) for (const w of s.tokens) count(wordCount, w);
    const transitions = new Float64Array((T + 1) * (T + 1)); // counts, then logs
    const fromCount = new Float64Array(T + 1);
    const pair = new Map<string, Map<number, number>>(); // word (or class) → tag index → count
    for (const s of sentences) {
      let previous = T;
      s.tokens.forEach((w, i) => {
        const t = index.get(s.tags[i]!)!;
        transitions[previous * (T + 1) + t]! += 1;
        fromCount[previous]! += 1;
        previous = t;
        const form = wordCount.get(w)! < rareBelow ? unknownWordClass(w) : w;
        if (form === w) this.known.add(w);
        let m = pair.get(form);
        if (!m) pair.set(form, (m = new Map()));
        count(m, t);
      });
      transitions[previous * (T + 1) + T]! += 1;
      fromCount[previous]! += 1;
    }
    // From the boundary, the sentence cannot end at once: T outcomes; from a tag, T + 1.
    for (let from = 0; from <= T; from++) {
      const outcomes = from === T ? T : T + 1;
      for (let to = 0; to <= T; to++) {
        const k = from * (T + 1) + to;
        transitions[k] = from === T && to === T ? -Infinity : Math.log((transitions[k]! + 1) / (fromCount[from]! + outcomes));
      }
    }
    this.logTransition = transitions;
    for (const [form, m] of pair) {
      const tagIds = Int32Array.from([...m.keys()].sort((a, b) => a - b));
      const logProb = Float64Array.from(tagIds, (t) => Math.log(m.get(t)! / counts.get(this.tags[t]!)!));
      this.emissions.set(form, { tags: tagIds, logProb });
    }
  }

  /** The vocabulary entry a word is read as: itself, its shape class, or "UNK". */
  formOf(word: string): string {
    if (this.known.has(word)) return word;
    const cls = unknownWordClass(word);
    return this.emissions.has(cls) ? cls : 'UNK';
  }

  /**
   * The tags a word can have and log P(w | t) of each. A word whose form was
   * never seen (no "UNK" class in training either) may have any tag, all
   * equally likely, so decoding still returns tags.
   */
  emissionOf(word: string): { tags: Int32Array; logProb: Float64Array } {
    const T = this.tags.length;
    return this.emissions.get(this.formOf(word)) ?? { tags: Int32Array.from(this.tags.keys()), logProb: new Float64Array(T).fill(-Math.log(T)) };
  }

  /** log P(tags, words) under the model; -Infinity when a word cannot have its tag. */
  logJoint(words: readonly string[], tags: readonly string[]): number {
    const T = this.tags.length;
    let previous = T;
    let total = 0;
    for (let i = 0; i < words.length; i++) {
      const t = this.tags.indexOf(tags[i]!);
      const e = this.emissionOf(words[i]!);
      const k = e.tags.indexOf(t);
      if (t < 0 || k < 0) return -Infinity;
      total += this.logTransition[previous * (T + 1) + t]! + e.logProb[k]!;
      previous = t;
    }
    return total + this.logTransition[previous * (T + 1) + T]!;
  }

  /**
   * The most probable tag sequence (Viterbi). Only the tags a word was seen
   * with are states at its position — every other tag has probability zero —
   * so a step costs (tags of the previous word) × (tags of this word). Ties
   * go to the lower previous state (the more frequent tag).
   */
  tag(words: readonly string[]): string[] {
    const n = words.length;
    if (n === 0) return [];
    const T = this.tags.length;
    const steps = words.map((w) => this.emissionOf(w));
    // score[i][j]: best log P of words[0..i] ending in steps[i].tags[j]; back[i][j]: the j' of position i - 1 it came from
    const score: Float64Array[] = [];
    const back: Int32Array[] = [];
    const first = steps[0]!;
    score.push(Float64Array.from(first.tags, (t, j) => this.logTransition[T * (T + 1) + t]! + first.logProb[j]!));
    back.push(new Int32Array(first.tags.length));
    for (let i = 1; i < n; i++) {
      const prev = steps[i - 1]!;
      const cur = steps[i]!;
      const prevScore = score[i - 1]!;
      const s = new Float64Array(cur.tags.length);
      const b = new Int32Array(cur.tags.length);
      for (let j = 0; j < cur.tags.length; j++) {
        const t = cur.tags[j]!;
        let best = -Infinity;
        let arg = 0;
        for (let k = 0; k < prev.tags.length; k++) {
          const v = prevScore[k]! + this.logTransition[prev.tags[k]! * (T + 1) + t]!;
          if (v > best) [best, arg] = [v, k];
        }
        s[j] = best + cur.logProb[j]!;
        b[j] = arg;
      }
      score.push(s);
      back.push(b);
    }
    const last = steps[n - 1]!;
    let best = -Infinity;
    let arg = 0;
    for (let j = 0; j < last.tags.length; j++) {
      const v = score[n - 1]![j]! + this.logTransition[last.tags[j]! * (T + 1) + T]!;
      if (v > best) [best, arg] = [v, j];
    }
    const out: string[] = Array.from({ length: n }, () => '');
    for (let i = n - 1; i >= 0; i--) {
      out[i] = this.tags[steps[i]!.tags[arg]!]!;
      arg = back[i]![arg]!;
    }
    return out;
  }
}

export interface TagAccuracy {
  /** Tokens tagged right, of all tokens. */
  correct: number;
  total: number;
  accuracy: number;
  /** The same over unknown tokens only (words the `known` test rejects); accuracy NaN when there are none. */
  unknownCorrect: number;
  unknownTotal: number;
  unknownAccuracy: number;
}

/** Token accuracy of a tagger on gold sentences, overall and on the words `known` says were not seen in training. */
export function tagAccuracy(tagger: BaselineTagger, gold: readonly TokensAndTags[], known: (word: string) => boolean): TagAccuracy {
  let correct = 0;
  let total = 0;
  let unknownCorrect = 0;
  let unknownTotal = 0;
  for (const s of gold) {
    const predicted = tagger.tag(s.tokens);
    s.tokens.forEach((w, i) => {
      const right = predicted[i] === s.tags[i] ? 1 : 0;
      correct += right;
      total += 1;
      if (!known(w)) {
        unknownCorrect += right;
        unknownTotal += 1;
      }
    });
  }
  return { correct, total, accuracy: correct / total, unknownCorrect, unknownTotal, unknownAccuracy: unknownCorrect / unknownTotal };
}
