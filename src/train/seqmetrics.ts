// Metrics for sequence-to-sequence evaluation, over token arrays: the edit
// distance, token and sequence error rates against one or more references
// (PER and WER in grapheme-to-phoneme work, CER / WER elsewhere), and corpus
// BLEU (Papineni et al. 2002) as sacreBLEU computes it.

import { ValueError, positiveInt } from '../core/errors.js';

/**
 * Levenshtein distance: the fewest substitutions, insertions and deletions
 * (each costing 1) that turn `a` into `b`. Tokens are compared with ===.
 * One row of the dynamic programme is kept, as long as the shorter input.
 */
export function editDistance<T>(a: readonly T[], b: readonly T[]): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  // row[j] = distance(long[0..i), short[0..j)) after row i is done
  const row = Array.from({ length: short.length + 1 }, (_, j) => j);
  for (let i = 1; i <= long.length; i++) {
    let diagonal = row[0]!; // distance(long[0..i-1), short[0..j-1))
    row[0] = i;
    for (let j = 1; j <= short.length; j++) {
      const above = row[j]!; // distance(long[0..i-1), short[0..j))
      const substitute = diagonal + (long[i - 1] === short[j - 1] ? 0 : 1);
      row[j] = Math.min(substitute, above + 1, row[j - 1]! + 1);
      diagonal = above;
    }
  }
  return row[short.length]!;
}

export interface ClosestReference {
  /** Which reference, by position in the list. */
  index: number;
  /** Its edit distance to the hypothesis. */
  distance: number;
  /** Its length in tokens. */
  length: number;
}

/**
 * The reference nearest the hypothesis in edit distance. Ties go to the
 * shorter reference (the larger error rate: a tie never flatters), then to
 * the earlier one.
 */
export function closestReference<T>(hypothesis: readonly T[], references: readonly (readonly T[])[]): ClosestReference {
  if (references.length === 0) throw new ValueError('closestReference: no references; expected at least one');
  let best: ClosestReference = { index: -1, distance: Infinity, length: Infinity };
  references.forEach((reference, index) => {
    const distance = editDistance(hypothesis, reference);
    if (distance < best.distance || (distance === best.distance && reference.length < best.length)) {
      best = { index, distance, length: reference.length };
    }
  });
  return best;
}

export interface SequenceErrors {
  /** errors / tokens: PER (CER, WER) against the closest references. */
  tokenErrorRate: number;
  /** sequenceErrors / count: WER in grapheme-to-phoneme work. */
  sequenceErrorRate: number;
  /** Σ edit distance to the closest reference. */
  errors: number;
  /** Σ length of the closest reference. */
  tokens: number;
  /** Hypotheses equal to none of their references. */
  sequenceErrors: number;
  /** Hypotheses added. */
  count: number;
}

/**
 * Token and sequence error rates, one hypothesis at a time. Each hypothesis is
 * scored against its closest reference (see closestReference); it is a
 * sequence error when it equals none of them. With nothing added both rates
 * are NaN; when every closest reference is empty the token error rate is 0
 * if there were no errors either and Infinity if there were.
 */
export class SequenceErrorAccumulator {
  private errors = 0;
  private tokens = 0;
  private sequenceErrors = 0;
  private count = 0;

  /** Scores one hypothesis; returns the reference it was scored against. */
  add(hypothesis: readonly string[], references: readonly (readonly string[])[]): ClosestReference {
    if (references.length === 0) {
      throw new ValueError(`SequenceErrorAccumulator.add: hypothesis ${this.count} has no references; expected at least one`);
    }
    const closest = closestReference(hypothesis, references);
    this.errors += closest.distance;
    this.tokens += closest.length;
    if (closest.distance > 0) this.sequenceErrors++;
    this.count++;
    return closest;
  }

  result(): SequenceErrors {
    const { errors, tokens, sequenceErrors, count } = this;
    const tokenErrorRate = count === 0 ? NaN : tokens > 0 ? errors / tokens : errors === 0 ? 0 : Infinity;
    return { tokenErrorRate, sequenceErrorRate: count === 0 ? NaN : sequenceErrors / count, errors, tokens, sequenceErrors, count };
  }
}

export interface BleuOptions {
  /** The longest n-gram, N; 4 unless given. */
  maxOrder?: number;
  /** Add one to the matches and the totals of every order n > 1; false unless given. */
  smooth?: boolean;
}

export interface BleuScore {
  /** BP · exp(Σₙ log pₙ / N), on the 0–1 scale. */
  bleu: number;
  /** pₙ for n = 1..N, smoothed when asked: what the geometric mean takes. */
  precisions: number[];
  brevityPenalty: number;
  /** c: Σ hypothesis length. */
  hypothesisLength: number;
  /** r: Σ length of the reference closest in length to each hypothesis. */
  referenceLength: number;
  /** Clipped n-gram matches per order, summed over the corpus, before any smoothing. */
  matches: number[];
  /** Hypothesis n-grams per order, summed over the corpus, before any smoothing. */
  totals: number[];
}

/** Each n-gram of `tokens` with its count; keys are JSON arrays, so no two n-grams share one. */
function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = JSON.stringify(tokens.slice(i, i + n));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** The reference length closest to `length`; ties go to the shorter. */
function closestLength(length: number, references: readonly (readonly string[])[]): number {
  let best = Infinity;
  for (const { length: r } of references) {
    const gap = Math.abs(r - length);
    const bestGap = Math.abs(best - length);
    if (gap < bestGap || (gap === bestGap && r < best)) best = r;
  }
  return best;
}

/**
 * Corpus BLEU (Papineni et al. 2002), as sacreBLEU computes it on tokens:
 *  - pₙ = Σ clipped matches / Σ hypothesis n-grams, both summed over the
 *    corpus before dividing; an n-gram's count is clipped to its largest count
 *    in any one reference; a hypothesis shorter than n adds no n-grams (NLTK's
 *    corpus_bleu counts one there, so it differs on short hypotheses);
 *  - BLEU = BP · exp(Σₙ log pₙ / N), uniform weights, n = 1..N; 0 when any pₙ
 *    is 0 (unsmoothed, an order with no n-grams at all has pₙ = 0, as in sacreBLEU);
 *  - BP = 1 when c ≥ r, else exp(1 − r/c) (0 when c = 0 < r), with c the total
 *    hypothesis length and r the total length of the reference closest in
 *    length to each hypothesis, ties to the shorter (as sacreBLEU and NLTK);
 *  - smooth: pₙ = (matches + 1) / (totals + 1) for n > 1 (Lin & Och 2004),
 *    sacreBLEU's smooth_method='add-k' with k = 1, NLTK's method2; p₁ stays.
 * On the 0–1 scale (sacreBLEU prints ×100).
 */
export function corpusBleu(
  hypotheses: readonly (readonly string[])[], references: readonly (readonly (readonly string[])[])[], opts: BleuOptions = {},
): BleuScore {
  const N = positiveInt(opts.maxOrder ?? 4, 'maxOrder', 'corpusBleu');
  const smooth = opts.smooth ?? false;
  if (hypotheses.length !== references.length) {
    throw new ValueError(
      `corpusBleu: ${hypotheses.length} hypotheses but ${references.length} reference lists; expected one list of references per hypothesis`,
    );
  }
  if (hypotheses.length === 0) throw new ValueError('corpusBleu: no hypotheses; the BLEU of an empty corpus is undefined');
  const matches = Array.from({ length: N }, () => 0);
  const totals = Array.from({ length: N }, () => 0);
  let hypothesisLength = 0;
  let referenceLength = 0;
  hypotheses.forEach((hypothesis, s) => {
    const refs = references[s]!;
    if (refs.length === 0) throw new ValueError(`corpusBleu: hypothesis ${s} has no references; expected at least one`);
    hypothesisLength += hypothesis.length;
    referenceLength += closestLength(hypothesis.length, refs);
    for (let n = 1; n <= N; n++) {
      const counts = ngramCounts(hypothesis, n);
      const clip = new Map<string, number>(); // largest count in one reference, for the hypothesis' n-grams
      for (const ref of refs) {
        for (const [gram, count] of ngramCounts(ref, n)) if (counts.has(gram)) clip.set(gram, Math.max(clip.get(gram) ?? 0, count));
      }
      for (const [gram, count] of counts) {
        matches[n - 1]! += Math.min(count, clip.get(gram) ?? 0);
        totals[n - 1]! += count;
      }
    }
  });
  const precisions = matches.map((m, i) => {
    const t = totals[i]!;
    if (smooth && i > 0) return (m + 1) / (t + 1);
    return t > 0 ? m / t : 0;
  });
  const c = hypothesisLength;
  const r = referenceLength;
  const brevityPenalty = c >= r ? 1 : c > 0 ? Math.exp(1 - r / c) : 0;
  const logMean = precisions.reduce((sum, p) => sum + Math.log(p), 0) / N;
  const bleu = precisions.some((p) => p === 0) ? 0 : brevityPenalty * Math.exp(logMean);
  return { bleu, precisions, brevityPenalty, hypothesisLength, referenceLength, matches, totals };
}
