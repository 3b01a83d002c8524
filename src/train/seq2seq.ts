// Training, evaluating and running a Seq2SeqModel on pairs: the trainer's
// task (teacher forcing, masked cross-entropy with label smoothing, batches
// optionally bucketed by source length), evaluation (the teacher-forced loss,
// and the decoded outputs scored against every reference of their source:
// token and sequence error rates, corpus BLEU), and transduction (greedy or
// beam search, n-best lists, attention) with outputs as texts or tokens.

import { Workspace } from '../core/arena.js';
import { ValueError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { makePairBatch, pairTokenizers, targetText, type PairBatch, type PairExample } from '../data/pairs.js';
import type { MetricName, TrainConfig } from '../model/config.js';
import { beamSearch, greedyDecode, type Decoded, type DecodeSource } from '../model/decode.js';
import type { Seq2SeqInput, Seq2SeqModel } from '../model/seq2seq.js';
import { crossEntropyArena } from './losses.js';
import { checkMonitor, type Metrics } from './metrics.js';
import { corpusBleu, SequenceErrorAccumulator } from './seqmetrics.js';
import { DEFAULT_TRAIN, epochOrder, type TrainingTask } from './task.js';

/** The model's input for a batch: its arrays staged in `ws`. */
function stage(model: Seq2SeqModel, ws: Workspace, batch: PairBatch): Seq2SeqInput {
  const B = batch.size;
  return {
    src: batch.src ? { data: batch.src, shape: [batch.srcSteps, B] } : null,
    srcLengths: batch.srcLengths,
    vector: batch.vector ? ws.put('vector', batch.vector, [B, batch.vector.length / B]) : null,
    tin: { data: batch.tin, shape: [batch.tgtSteps, B] },
  };
}

export class Seq2SeqTask implements TrainingTask<PairExample, PairBatch> {
  private readonly ws: Workspace;
  private grad: ReturnType<typeof crossEntropyArena>['grad'];

  constructor(readonly model: Seq2SeqModel, readonly config: TrainConfig) {
    this.ws = new Workspace(model.backend.arena);
  }

  checkMonitor(monitor: MetricName): void {
    checkMonitor(monitor, 'sequence-to-sequence');
  }

  startEpoch(): void {}

  epochBatches(examples: readonly PairExample[], rng: Rng): PairBatch[] {
    checkTargets(examples);
    return epochOrder(examples, this.config, rng).map((g) => makePairBatch(examples, g));
  }

  /** Teacher forcing: the loss per counted target token (each y and its <eos>). */
  forward(batch: PairBatch): { loss: number; size: number } {
    const { logits } = this.model.forwardArena(stage(this.model, this.ws, batch));
    const { loss, grad } = crossEntropyArena(this.model.backend, this.ws, logits, batch.tout, { labelSmoothing: this.config.labelSmoothing ?? 0 });
    this.grad = grad;
    return { loss, size: batch.size };
  }

  backward(): void {
    if (!this.grad) throw new ValueError('backward before forward');
    this.model.backwardArena(this.grad);
  }

  evaluate(examples: readonly PairExample[]): Metrics {
    return evaluateSeq2Seq(this.model, examples, { batchSize: this.config.batchSize ?? DEFAULT_TRAIN.batchSize });
  }
}

function checkTargets(examples: readonly PairExample[]): void {
  const missing = examples.findIndex((e) => e.tgt === null);
  if (missing >= 0) throw new ValueError(`example ${missing} has no target (y); training and evaluation need one`);
}

export interface DecodeOptions {
  batchSize?: number;
  /** Beam width; 1 (the default) decodes greedily. */
  beam?: number;
  /** Outputs per input, best first (at most beam). */
  nbest?: number;
  /** Beam scores are log-probability / length^lengthPenalty (default 1). */
  lengthPenalty?: number;
  /** Longest output in tokens (default: the model's output.maxLength). */
  maxLength?: number;
  /** Keep each output's attention over the source. */
  attention?: boolean;
}

/**
 * Decode every example (its source; the target is not read) in batches of
 * similar source length; returns, per example in order, its n-best list.
 */
export function decodeExamples(model: Seq2SeqModel, examples: readonly PairExample[], opts: DecodeOptions = {}): Decoded[][] {
  const beam = opts.beam ?? 1;
  const out: Decoded[][] = Array.from({ length: examples.length }, () => []);
  const order = examples.map((_, i) => i).sort((a, b) => examples[a]!.steps - examples[b]!.steps || a - b);
  const batchSize = opts.batchSize ?? 64;
  for (let at = 0; at < order.length; at += batchSize) {
    const indices = order.slice(at, at + batchSize);
    const source = decodeSource(examples, indices);
    const common = {
      ...(opts.maxLength !== undefined ? { maxLength: opts.maxLength } : {}),
      ...(opts.attention ? { attention: true } : {}),
      ...(opts.lengthPenalty !== undefined ? { lengthPenalty: opts.lengthPenalty } : {}),
    };
    const lists = beam === 1 && (opts.nbest ?? 1) === 1
      ? greedyDecode(model, source, common).map((d) => [d])
      : beamSearch(model, source, { ...common, beam, nbest: opts.nbest ?? 1 });
    indices.forEach((i, b) => (out[i] = lists[b]!));
  }
  return out;
}

/** The sources of some examples as decoding takes them: token rows batch first (padded with 0), or vectors. */
function decodeSource(examples: readonly PairExample[], indices: readonly number[]): DecodeSource {
  const rows = indices.map((i) => examples[i]!);
  if (rows[0]!.vector) {
    const F = rows[0]!.vector.length;
    const data = new Float32Array(rows.length * F);
    rows.forEach((e, b) => data.set(e.vector!, b * F));
    return { vector: { data, shape: [rows.length, F] } };
  }
  const S = Math.max(...rows.map((e) => e.src!.length));
  const data = new Int32Array(rows.length * S);
  rows.forEach((e, b) => data.set(e.src!, b * S));
  return { src: { data, shape: [rows.length, S] }, lengths: Int32Array.from(rows, (e) => e.src!.length) };
}

/** A key for an example's source, so the examples sharing a source share their references. */
function sourceKey(e: PairExample): string {
  return e.src ? e.src.join(',') : Array.from(e.vector!).join(',');
}

/**
 * Loss (teacher forcing, no smoothing) and the decoded outputs' error rates
 * against every reference of their source (examples with the same source are
 * alternative answers: a word with several pronunciations): token error rate
 * (edit distance per reference token: PER, CER), sequence error rate (the
 * output matches no reference), and corpus BLEU.
 */
export function evaluateSeq2Seq(model: Seq2SeqModel, examples: readonly PairExample[], opts: DecodeOptions = {}): Metrics {
  checkTargets(examples);
  const batchSize = opts.batchSize ?? 32;
  const ws = new Workspace(model.backend.arena);
  let lossSum = 0;
  let counted = 0;
  model.eval();
  try {
    for (let at = 0; at < examples.length; at += batchSize) {
      const batch = makePairBatch(examples, examples.slice(at, at + batchSize).map((_, k) => at + k));
      const { logits } = model.forwardArena(stage(model, ws, batch));
      const r = crossEntropyArena(model.backend, ws, logits, batch.tout, { grad: false });
      lossSum += r.loss * r.counted;
      counted += r.counted;
    }
  } finally {
    ws.dispose();
    model.train();
  }
  // One decode per distinct source; its references are all its examples' targets.
  const groups = new Map<string, number[]>();
  examples.forEach((e, i) => {
    const key = sourceKey(e);
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const firsts = [...groups.values()].map((g) => g[0]!);
  const decoded = decodeExamples(model, firsts.map((i) => examples[i]!), { ...opts, nbest: 1 });
  model.train();
  const vocabulary = model.targetVocabulary;
  const tokensOf = (ids: ArrayLike<number>): string[] => targetText(Array.from(ids), vocabulary, 'word').tokens;
  const errors = new SequenceErrorAccumulator();
  const hypotheses: string[][] = [];
  const references: string[][][] = [];
  [...groups.values()].forEach((group, k) => {
    const hypothesis = tokensOf(decoded[k]![0]!.tokens);
    const refs = group.map((i) => tokensOf(examples[i]!.tgt!));
    errors.add(hypothesis, refs);
    hypotheses.push(hypothesis);
    references.push(refs);
  });
  const { tokenErrorRate, sequenceErrorRate } = errors.result();
  // BLEU counts word n-grams: reported when the outputs are words (or tokens), not characters.
  const words = pairTokenizers(model.config).output !== 'char' || model.config.output.format === 'tokens';
  return {
    loss: counted === 0 ? 0 : lossSum / counted,
    tokenErrorRate,
    sequenceErrorRate,
    ...(words ? { bleu: corpusBleu(hypotheses, references).bleu } : {}),
    count: examples.length,
  };
}

/** One output of a transduction: the text (or tokens), its tokens and scores. */
export interface Transduced {
  y: string | string[];
  tokens: string[];
  /** Log-probability / length^lengthPenalty (what beam search ranks by). */
  score: number;
  logProb: number;
  /** Per output token (its <eos> included), the attention over the source steps. */
  attention?: number[][];
}

/** What `transduce` gives per input: the best output and, when asked, the n-best list. */
export type Transduction = Transduced & { nbest?: Transduced[] };

/** Decode examples into outputs in the model's format: texts joined as the tokenizer split them, or token arrays. */
export function transduce(model: Seq2SeqModel, examples: readonly PairExample[], opts: DecodeOptions = {}): Transduction[] {
  const tokenizer = pairTokenizers(model.config).output;
  const asTokens = model.config.output.format === 'tokens';
  const one = (d: Decoded): Transduced => {
    const { tokens, text } = targetText(d.tokens, model.targetVocabulary, tokenizer);
    return {
      y: asTokens ? tokens : text, tokens, score: d.score, logProb: d.logProb,
      ...(d.attention ? { attention: d.attention } : {}),
    };
  };
  return decodeExamples(model, examples, opts).map((list) => {
    const best = one(list[0]!);
    return (opts.nbest ?? 1) > 1 ? { ...best, nbest: list.map(one) } : best;
  });
}
