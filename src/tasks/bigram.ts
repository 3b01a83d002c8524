// The character-bigram baseline for language models: P(next | previous)
// counted on the training sequences, smoothed so that no token has
// probability zero, and measured in bits per token on the same token
// sequences the LSTM sees (same vocabulary, <unk>, <eos>, same split).
//
// Smoothing:
//   add-one       P(b|a) = (c(a,b) + 1) / (c(a) + V)
//   witten-bell   P(b|a) = (c(a,b) + T(a) P₁(b)) / (c(a) + T(a)), with T(a) the
//                 number of distinct tokens seen after a and P₁ the add-one
//                 unigram: interpolation with no parameter to tune (the default)
// V counts the tokens that can be predicted (the vocabulary less `exclude`).

import { ValueError } from '../core/errors.js';
import type { LanguageModelMetrics } from './generator.js';

export type BigramSmoothing = 'add-one' | 'witten-bell';

export interface BigramOptions {
  smoothing?: BigramSmoothing;
  /** Token indices that are never predicted (e.g. <pad>): probability 0, left out of V. */
  exclude?: readonly number[];
}

export class BigramModel {
  readonly smoothing: BigramSmoothing;
  /** Tokens that can be predicted. */
  readonly outcomes: number;
  private readonly pairs = new Map<number, Map<number, number>>(); // previous → next → count
  private readonly fromCount: Float64Array; // [size] transitions out of a token
  private readonly toCount: Float64Array; // [size] transitions into a token
  private readonly excluded: Uint8Array;
  private transitions = 0;

  private constructor(readonly size: number, opts: BigramOptions) {
    if (!Number.isInteger(size) || size < 1) throw new ValueError(`BigramModel: the vocabulary size must be a positive integer, got ${size}`);
    this.smoothing = opts.smoothing ?? 'witten-bell';
    if (this.smoothing !== 'add-one' && this.smoothing !== 'witten-bell') {
      throw new ValueError(`BigramModel: smoothing must be 'add-one' or 'witten-bell', got ${JSON.stringify(this.smoothing)}`);
    }
    this.excluded = new Uint8Array(size);
    for (const i of opts.exclude ?? []) this.excluded[this.checkToken(i)] = 1;
    this.outcomes = size - this.excluded.reduce((a, b) => a + b, 0);
    if (this.outcomes < 1) throw new ValueError('BigramModel: every token is excluded');
    this.fromCount = new Float64Array(size);
    this.toCount = new Float64Array(size);
  }

  /** Count the transitions of token sequences (indices into a vocabulary of `size`). */
  static fit(sequences: Iterable<ArrayLike<number>>, size: number, opts: BigramOptions = {}): BigramModel {
    const model = new BigramModel(size, opts);
    for (const seq of sequences) {
      for (let t = 0; t + 1 < seq.length; t++) {
        const a = model.checkToken(seq[t]!);
        const b = model.checkToken(seq[t + 1]!);
        if (model.excluded[b]) continue;
        let row = model.pairs.get(a);
        if (!row) model.pairs.set(a, (row = new Map()));
        row.set(b, (row.get(b) ?? 0) + 1);
        model.fromCount[a]!++;
        model.toCount[b]!++;
        model.transitions++;
      }
    }
    return model;
  }

  private checkToken(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) throw new ValueError(`BigramModel: token ${i} is outside the vocabulary [0, ${this.size})`);
    return i;
  }

  /** Add-one unigram probability of `next`. */
  unigram(next: number): number {
    if (this.excluded[this.checkToken(next)]) return 0;
    return (this.toCount[next]! + 1) / (this.transitions + this.outcomes);
  }

  /** P(next | previous). */
  probability(previous: number, next: number): number {
    this.checkToken(previous);
    if (this.excluded[this.checkToken(next)]) return 0;
    const pair = this.pairs.get(previous)?.get(next) ?? 0;
    const from = this.fromCount[previous]!;
    if (this.smoothing === 'add-one') return (pair + 1) / (from + this.outcomes);
    const types = this.pairs.get(previous)?.size ?? 0;
    if (from === 0) return this.unigram(next);
    return (pair + types * this.unigram(next)) / (from + types);
  }

  /** Cross-entropy per transition of token sequences: nats, bits per token, perplexity. */
  evaluate(sequences: Iterable<ArrayLike<number>>): LanguageModelMetrics {
    let nats = 0;
    let tokens = 0;
    for (const seq of sequences) {
      for (let t = 0; t + 1 < seq.length; t++) {
        const p = this.probability(seq[t]!, seq[t + 1]!);
        if (p === 0) throw new ValueError(`BigramModel: token ${seq[t + 1]} at position ${t + 1} is excluded from prediction`);
        nats -= Math.log(p);
        tokens++;
      }
    }
    const loss = tokens ? nats / tokens : NaN;
    return { loss, bitsPerToken: loss / Math.LN2, perplexity: Math.exp(loss), tokens };
  }
}
