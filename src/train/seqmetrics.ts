// Metrics for sequence-to-sequence evaluation, over token arrays: the edit
// distance, token and sequence error rates against one or more references
// (PER and WER in grapheme-to-phoneme work, CER / WER elsewhere).

import { ValueError } from '../core/errors.js';

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
