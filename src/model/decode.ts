// Decoding a seq2seq model: from a source, the target tokens one step at a
// time, each step's choice fed back as the next step's input.

import { ShapeError, ValueError, positiveInt } from '../core/errors.js';
import type { Indices, Tensor } from '../core/tensor.js';
import { BOS, EOS, type Seq2SeqModel } from './seq2seq.js';

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
   * outputs. (fairseq's --lenpen; not GNMT's ((5 + length) / 6)^α.)
   */
  score: number;
  /** Per emitted token, the attention weights over the source steps (with attention and `attention: true`). */
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
    return out;
  } finally {
    session.dispose();
  }
}

function checkLengthPenalty(value: number | undefined, where: string): number {
  const alpha = value ?? 1;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0) {
    throw new ValueError(`${where}: lengthPenalty must be a finite number ≥ 0, got ${JSON.stringify(alpha) ?? String(alpha)}`);
  }
  return alpha;
}
