// lstmkit on the seq2seq workloads (the grapheme-to-phoneme shape of
// examples/g2p.ts), for bench/lstmkit.ts.
//
//   seq2seq-train   Trainer.step on one padded batch of pairs: forward with
//                   teacher forcing, cross-entropy (label smoothing 0.1),
//                   backward, clipNorm 5, Adam — the step fit() takes; seq/s.
//   seq2seq-decode  decodeExamples (what transduce runs, less the ids → text
//                   mapping) on `batch` sources in one batch, greedy or beam
//                   search, exactly maxLength steps; words/s.
//
// The pairs come from a small generator that bench/torch_bench.py repeats
// draw for draw (seq2seqPairs), so both peers see the same lengths and tokens.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../src/kernels/backend.js';
import { EOS_ID, makePairBatch, type PairExample } from '../src/data/pairs.js';
import type { Decoded } from '../src/model/decode.js';
import { Seq2SeqModel } from '../src/model/seq2seq.js';
import { decodeExamples } from '../src/train/seq2seq.js';
import { Trainer } from '../src/train/trainer.js';
import { flatWeights, measureWork, type Seq2SeqWorkload, type Work } from './common.js';

/** Seeds of the generator: training pairs and decoding sources. */
const TRAIN_SEED = 1234;
const DECODE_SEED = 5678;
/** The output bias of <eos> in the decoding workloads: no hypothesis ends before maxLength. */
export const EOS_BIAS = -100;

/** The training recipe of the workload (bench/workloads.json, "about seq2seq"). */
const TRAIN = { optimizer: { name: 'adam' as const, lr: 1e-3 }, clipNorm: 5, labelSmoothing: 0.1 };

/**
 * `count` pairs from a 32-bit LCG (s ← 1664525·s + 1013904223 mod 2³²), per
 * pair: the source length, the target length, the source tokens (ids 2 …
 * srcVocab − 1), the target tokens (ids 4 … tgtVocab − 1); n·(draw mod range).
 */
export function seq2seqPairs(w: Seq2SeqWorkload, count: number, seed: number): PairExample[] {
  let s = seed >>> 0;
  const draw = (lo: number, hi: number): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s % (hi - lo + 1));
  };
  return Array.from({ length: count }, () => {
    const S = draw(w.srcLength[0], w.srcLength[1]);
    const T = draw(w.tgtLength[0], w.tgtLength[1]);
    const src = Int32Array.from({ length: S }, () => draw(2, w.srcVocab - 1));
    const tgt = Int32Array.from({ length: T }, () => draw(EOS_ID + 1, w.tgtVocab - 1));
    return { steps: S, src, vector: null, tgt };
  });
}

/** The workload's model (seed 1); a decoding workload's <eos> bias is EOS_BIAS. */
export function seq2seqModel(w: Seq2SeqWorkload, backend: Backend): Seq2SeqModel {
  const config = {
    input: {
      type: 'tokens', embeddingDim: w.embedding,
      vocabulary: ['<pad>', '<unk>', ...Array.from({ length: w.srcVocab - 2 }, (_, i) => `c${i}`)],
    },
    rnn: { cell: 'lstm', hiddenSize: w.encoderHidden, bidirectional: true },
    output: {
      mode: 'seq2seq', embeddingDim: w.embedding, hiddenSize: w.decoderHidden, attention: 'general',
      vocabulary: ['<pad>', '<unk>', '<bos>', '<eos>', ...Array.from({ length: w.tgtVocab - 4 }, (_, i) => `p${i}`)],
      ...(w.kind === 'seq2seq-decode' ? { maxLength: w.maxLength } : {}),
    },
  };
  const model = new Seq2SeqModel(config, { backend, seed: 1 });
  if (w.kind === 'seq2seq-decode') backend.arena.heap[model.parameters().offset('out.bias') + EOS_ID] = EOS_BIAS;
  return model;
}

/**
 * One timed unit of the workload and the sources (pairs) it handles; `report`
 * says what the last run did, `expected` what PyTorch's must equal: the loss,
 * or every source's best output.
 */
function workOf(w: Seq2SeqWorkload, model: Seq2SeqModel): Work & { expected: () => unknown } {
  if (w.kind === 'seq2seq-train') {
    const batch = makePairBatch(seq2seqPairs(w, w.batch, TRAIN_SEED), Array.from({ length: w.batch }, (_, i) => i));
    const trainer = new Trainer(model, TRAIN);
    let loss = NaN;
    return {
      run: () => void (loss = trainer.step(batch)),
      per: w.batch,
      report: () => ({ srcSteps: batch.srcSteps, tgtSteps: batch.tgtSteps, lastLoss: loss }),
      expected: () => ({ loss }),
    };
  }
  const sources = seq2seqPairs(w, w.batch, DECODE_SEED);
  const opts = { batchSize: w.batch, beam: w.beam, maxLength: w.maxLength };
  let decoded: Decoded[][] = [];
  return {
    run: () => void (decoded = decodeExamples(model, sources, opts)),
    per: w.batch,
    // Every output is maxLength tokens long when no hypothesis ended early: the steps decoded.
    report: () => ({ steps: Math.max(...decoded.map((d) => d[0]!.tokens.length)), beam: w.beam }),
    expected: () => ({ tokens: decoded.map((d) => d[0]!.tokens) }),
  };
}

/** The figure of one seq2seq workload: seq/s or words/s, and what the runner reports beside it. */
export function benchSeq2Seq(
  w: Seq2SeqWorkload, backend: Backend, quick: boolean,
): { figure: number; samples: number[]; per: number; extra: Record<string, unknown> } {
  const model = seq2seqModel(w, backend);
  return measureWork(w, model.parameterCount, workOf(w, model), w.kind === 'seq2seq-train', quick);
}

/**
 * The model's weights (state-dict names, as bench/torch_bench.py's twin
 * names them) and what lstmkit computes with them, for PyTorch to check its
 * model against: the first training step's loss, or every decoded output.
 */
export function exportSeq2Seq(w: Seq2SeqWorkload, backend: Backend, dir: string): void {
  const model = seq2seqModel(w, backend);
  const { tensors, flat } = flatWeights(model);
  const work = workOf(w, model);
  work.run();
  const expected = work.expected();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(flat.buffer));
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ workload: w, tensors, expected }));
}
