// Decoding a seq2seq model: from a source, the target tokens one step at a
// time, each step's choice fed back as the next step's input. Greedy takes
// the most probable token; beam search keeps the K most probable prefixes of
// each source and ranks the finished ones by length-normalized score.

import { ShapeError, ValueError, positiveInt } from '../core/errors.js';
import type { Indices, Tensor } from '../core/tensor.js';
import { BOS_ID as BOS, EOS_ID as EOS, PAD_ID as PAD } from '../data/pairs.js';
import type { Seq2SeqModel } from './seq2seq.js';

/** A batch of sources as decoding takes them: token rows (batch first, padded with 0) and lengths, or one vector per row. */
export type DecodeSource = { src: Indices; lengths: Int32Array } | { vector: Tensor };

/** One decoded sequence: its token ids (<eos> last when it was emitted), log-probability, score, and attention per step. */
export interface Decoded {
  tokens: number[];
  /** The sum of the log-probabilities of the tokens, <eos> included. */
  logProb: number;
  /**
   * logProb / length^α, α the `lengthPenalty` (default 1), length the number
   * of tokens (<eos> included): with α = 1 the mean log-probability per
   * token, with α = 0 the log-probability itself, which favours short
   * outputs. Beam search ranks finished hypotheses by it. (fairseq's
   * --lenpen; not GNMT's ((5 + length) / 6)^α.)
   */
  score: number;
  /** Per emitted token, the attention weights over the source's steps (with attention and `attention: true`). */
  attention?: number[][];
}

/** Rows of the source batch. */
export function sourceRows(source: DecodeSource): number {
  if ('vector' in source) return source.vector.shape[0]!;
  if (source.src.shape.length !== 2) throw new ShapeError(`decode: src has shape [${source.src.shape.join(', ')}], expected [batch, steps]`);
  return source.src.shape[0]!;
}

/** A decoded sequence's score: logProb / length^α (see Decoded.score). */
export function lengthNormalized(logProb: number, length: number, alpha: number): number {
  return logProb / length ** alpha;
}

/**
 * Greedy decoding: each step feeds back its most probable token (over the
 * whole target vocabulary; ties go to the lower id), and a row stops after
 * <eos> or `maxLength` tokens (default: the model's). `lengthPenalty` is
 * the α of each result's score.
 */
export function greedyDecode(
  model: Seq2SeqModel, source: DecodeSource, opts: { maxLength?: number; lengthPenalty?: number; attention?: boolean } = {},
): Decoded[] {
  const maxLength = positiveInt(opts.maxLength ?? model.maxLength, 'maxLength', 'decode');
  const alpha = checkLengthPenalty(opts.lengthPenalty, 'decode');
  const B = sourceRows(source);
  const session = model.startDecoding(source);
  try {
    const out: Decoded[] = Array.from({ length: B }, () => ({ tokens: [], logProb: 0, score: 0, ...(opts.attention ? { attention: [] } : {}) }));
    const done = new Uint8Array(B);
    let tokens = new Int32Array(B).fill(BOS);
    for (let step = 0; step < maxLength && done.some((d) => d === 0); step++) {
      const { logProbs, attention } = session.step(tokens);
      const V = logProbs.length / B;
      const next = new Int32Array(B);
      for (let r = 0; r < B; r++) {
        if (done[r]) continue;
        let best = 0;
        for (let v = 1; v < V; v++) if (logProbs[r * V + v]! > logProbs[r * V + best]!) best = v;
        next[r] = best;
        out[r]!.tokens.push(best);
        out[r]!.logProb += logProbs[r * V + best]!;
        if (opts.attention && attention) {
          const S = attention.length / B;
          out[r]!.attention!.push(Array.from(attention.subarray(r * S, (r + 1) * S)));
        }
        if (best === EOS) done[r] = 1;
      }
      tokens = next;
    }
    for (const d of out) d.score = lengthNormalized(d.logProb, d.tokens.length, alpha);
    return out.map((d, r) => withSourceSteps(d, source, r));
  } finally {
    session.dispose();
  }
}

export interface BeamSearchOptions {
  /** K, the hypotheses kept per source: an integer ≥ 1 (1 decodes as greedy does). */
  beam: number;
  /** How many finished hypotheses to return per source, best first: 1 ≤ nbest ≤ beam (default 1). */
  nbest?: number;
  /** The longest output (default: the model's); hypotheses still open then are finished without <eos>. */
  maxLength?: number;
  /** α of the score logProb / length^α, a finite number ≥ 0 (default 1; 0 ranks by log-probability). */
  lengthPenalty?: number;
  /** Give each hypothesis its attention weights, one row per token. */
  attention?: boolean;
}

/**
 * Beam search over a batch: all B sources decode together, in one session of
 * B·K rows (rows s·K … s·K + K − 1 hold source s's hypotheses). Returns,
 * per source, up to `nbest` finished hypotheses, best score first.
 *
 * Each step, for each source: the extensions of its alive hypotheses (each
 * row's log-probability plus a token's; on the first step one row only, as
 * the K rows are the same) are ranked by log-probability, ties to the lower
 * row and then the lower token id, and the best 2K kept (a heap, not a sort
 * of all K·V). As in fairseq: an <eos> among the first K finishes its
 * hypothesis (tokens end in <eos>), which leaves the beam; the first K
 * extensions that are not <eos> are the next step's alive hypotheses, so the
 * beam stays at K. Finished hypotheses are ranked by score (Decoded.score);
 * equal scores keep the order they finished in. The best K are kept.
 *
 * A source stops at `maxLength` tokens, where its alive hypotheses are
 * finished as they stand (no <eos>, as greedy), or earlier once K are
 * finished and the best alive hypothesis, scored at its current length
 * (log-probability / length^α), is no better than the worst kept one:
 * - with α = 0 this is exact: extending only lowers a log-probability, so no
 *   later hypothesis could be kept (the result is the one maxLength gives).
 * - with α > 0 it is the usual heuristic (Hugging Face's): a longer
 *   hypothesis divides by a larger length^α and could still score higher;
 *   the exact bound (divide by maxLength^α) would seldom stop at all.
 *   Stopping as soon as K are finished (fairseq's rule) is worse: a
 *   confident model's K poor alternatives end early, fill the list with
 *   truncated outputs, and stop the search before the best one ends.
 */
export function beamSearch(model: Seq2SeqModel, source: DecodeSource, opts: BeamSearchOptions): Decoded[][] {
  const K = positiveInt(opts.beam, 'beam', 'beamSearch');
  const nbest = positiveInt(opts.nbest ?? 1, 'nbest', 'beamSearch');
  if (nbest > K) throw new ValueError(`beamSearch: nbest (${nbest}) cannot exceed beam (${K})`);
  const maxLength = positiveInt(opts.maxLength ?? model.maxLength, 'maxLength', 'beamSearch');
  const alpha = checkLengthPenalty(opts.lengthPenalty, 'beamSearch');
  const withAttention = opts.attention === true;
  const B = sourceRows(source);
  const N = B * K;
  const session = model.startDecoding(source, { beams: K });
  try {
    const steps: BeamStep[] = [];
    const finished: Decoded[][] = Array.from({ length: B }, () => []);
    const done = new Uint8Array(B);
    const top = new TopCandidates(2 * K);
    let alive = new Float64Array(N).fill(-Infinity); // [N] each row's log-probability; -Infinity: the row holds no hypothesis
    for (let s = 0; s < B; s++) alive[s * K] = 0;
    let tokens: Int32Array = new Int32Array(N).fill(BOS);
    for (let t = 0; t < maxLength && done.includes(0); t++) {
      const { logProbs, attention } = session.step(tokens);
      const V = logProbs.length / N;
      const S = attention ? attention.length / N : 0;
      const step: BeamStep = {
        token: new Int32Array(N).fill(PAD), parent: Int32Array.from({ length: N }, (_, r) => r), attention: withAttention ? attention : null,
      };
      const nextAlive = new Float64Array(N).fill(-Infinity);
      for (let s = 0; s < B; s++) {
        if (done[s]) continue;
        top.clear();
        for (let j = s * K; j < (s + 1) * K; j++) {
          const base = alive[j]!;
          if (base === -Infinity) continue;
          for (let v = 0; v < V; v++) top.offer(base + logProbs[j * V + v]!, j * V + v);
        }
        const n = top.sortBest();
        let kept = 0;
        for (let c = 0; c < n && kept < K; c++) {
          const j = Math.floor(top.index[c]! / V);
          const v = top.index[c]! % V;
          if (v === EOS) {
            if (c >= K) continue;
            const last = { token: EOS, attention: withAttention && attention ? Array.from(attention.subarray(j * S, (j + 1) * S)) : null };
            keep(finished[s]!, hypothesis(steps, j, top.score[c]!, alpha, withAttention, last), K);
            continue;
          }
          const row = s * K + kept++;
          step.token[row] = v;
          step.parent[row] = j;
          nextAlive[row] = top.score[c]!;
        }
      }
      steps.push(step);
      for (let s = 0; s < B; s++) {
        if (done[s]) continue;
        const fin = finished[s]!;
        const best = nextAlive[s * K]!; // the rows are filled best first
        if (t + 1 === maxLength || best === -Infinity) {
          for (let row = s * K; row < (s + 1) * K && nextAlive[row]! > -Infinity; row++) {
            keep(fin, hypothesis(steps, row, nextAlive[row]!, alpha, withAttention), K);
          }
          done[s] = 1;
        } else if (fin.length === K && lengthNormalized(best, t + 1, alpha) <= fin[K - 1]!.score) done[s] = 1;
        if (done[s]) nextAlive.fill(-Infinity, s * K, (s + 1) * K);
      }
      if (step.parent.some((p, r) => p !== r)) session.reorder(step.parent);
      alive = nextAlive;
      tokens = step.token;
    }
    return finished.map((fin, s) => fin.slice(0, nbest).map((d) => withSourceSteps(d, source, s)));
  } finally {
    session.dispose();
  }
}

/** A decoded row's attention over its own source steps: the batch pads sources to the longest, and the padding gets weight 0. */
function withSourceSteps(d: Decoded, source: DecodeSource, row: number): Decoded {
  if (!d.attention || 'vector' in source) return d;
  const length = source.lengths[row]!;
  return { ...d, attention: d.attention.map((weights) => weights.slice(0, length)) };
}

function checkLengthPenalty(value: number | undefined, where: string): number {
  const alpha = value ?? 1;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0) {
    throw new ValueError(`${where}: lengthPenalty must be a finite number ≥ 0, got ${JSON.stringify(alpha) ?? String(alpha)}`);
  }
  return alpha;
}

/** One step of a beam search: row r took token[r], extending the hypothesis row parent[r] held; the weights [N·S] by the parent row. */
interface BeamStep {
  token: Int32Array; // [N] PAD where the row holds no hypothesis
  parent: Int32Array; // [N]
  attention: Float32Array | null; // [N, S], kept only when asked for
}

/**
 * The hypothesis that `row` holds after `steps`, then `last` (a token and its
 * attention row) if given, with its log-probability and score.
 */
function hypothesis(
  steps: readonly BeamStep[], row: number, logProb: number, alpha: number, withAttention: boolean,
  last?: { token: number; attention: number[] | null },
): Decoded {
  const tokens: number[] = last ? [last.token] : [];
  const attention: number[][] = last?.attention ? [last.attention] : [];
  for (let t = steps.length - 1; t >= 0; t--) {
    const { token, parent, attention: a } = steps[t]!;
    const from = parent[row]!;
    tokens.push(token[row]!);
    if (a) {
      const S = a.length / token.length;
      attention.push(Array.from(a.subarray(from * S, (from + 1) * S)));
    }
    row = from;
  }
  tokens.reverse();
  const score = lengthNormalized(logProb, tokens.length, alpha);
  return withAttention ? { tokens, logProb, score, attention: attention.reverse() } : { tokens, logProb, score };
}

/** Inserts a finished hypothesis into a list kept best score first (after equal scores), at most `size` long. */
function keep(list: Decoded[], h: Decoded, size: number): void {
  let at = list.length;
  while (at > 0 && list[at - 1]!.score < h.score) at--;
  if (at >= size) return;
  list.splice(at, 0, h);
  if (list.length > size) list.pop();
}

/**
 * The best `capacity` of a stream of candidates (a score and an index; a
 * higher score is better, then a lower index), in a binary heap whose root
 * is the worst kept. Candidates scoring -Infinity or NaN are dropped.
 */
class TopCandidates {
  readonly score: Float64Array;
  readonly index: Int32Array;
  private size = 0;

  constructor(readonly capacity: number) {
    this.score = new Float64Array(capacity);
    this.index = new Int32Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  offer(score: number, index: number): void {
    if (!(score > -Infinity)) return;
    if (this.size < this.capacity) {
      this.siftUp(this.size++, score, index);
    } else if (score > this.score[0]! || (score === this.score[0]! && index < this.index[0]!)) {
      this.siftDown(0, this.size, score, index);
    }
  }

  /** Orders the kept candidates best first, in score/index[0 … n − 1]; returns n. The heap is spent. */
  sortBest(): number {
    const n = this.size;
    for (let end = n - 1; end > 0; end--) {
      const score = this.score[end]!;
      const index = this.index[end]!;
      this.score[end] = this.score[0]!;
      this.index[end] = this.index[0]!;
      this.siftDown(0, end, score, index);
    }
    this.size = 0;
    return n;
  }

  /** a is worse than b. */
  private worse(sa: number, ia: number, sb: number, ib: number): boolean {
    return sa < sb || (sa === sb && ia > ib);
  }

  private siftUp(at: number, score: number, index: number): void {
    while (at > 0) {
      const up = (at - 1) >> 1;
      if (!this.worse(score, index, this.score[up]!, this.index[up]!)) break;
      this.score[at] = this.score[up]!;
      this.index[at] = this.index[up]!;
      at = up;
    }
    this.score[at] = score;
    this.index[at] = index;
  }

  /** Places (score, index) at `at` of a heap of `size`, moving worse children up. */
  private siftDown(at: number, size: number, score: number, index: number): void {
    for (;;) {
      let child = 2 * at + 1;
      if (child >= size) break;
      if (child + 1 < size && this.worse(this.score[child + 1]!, this.index[child + 1]!, this.score[child]!, this.index[child]!)) child++;
      if (!this.worse(this.score[child]!, this.index[child]!, score, index)) break;
      this.score[at] = this.score[child]!;
      this.index[at] = this.index[child]!;
      at = child;
    }
    this.score[at] = score;
    this.index[at] = index;
  }
}
