// lstmkit on the tagger workloads (the BiLSTM-CRF of src/model/tagger.ts),
// for bench/lstmkit.ts.
//
//   tagger-train  Trainer.step on each batch of the iteration's sentences: forward,
//                 the CRF's negative log-likelihood per token, backward, Adam; sent/s.
//   tagger-tag    forwardArena in eval mode and Viterbi (decodeArena without
//                 marginals) on each batch; tokens/s.
//
// The sentences come from a seeded generator here only: --export writes the
// batches as lstmkit builds them (each distinct word of a batch spelled once)
// with the weights, and bench/torch_tagger.py reads them, so both peers run
// the same batches without a second generator to keep in step.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../src/kernels/backend.js';
import { makeTaggedBatch, type TaggedBatch, type TaggedExample } from '../src/data/tagged.js';
import { TaggerModel, taggerParameterCount } from '../src/model/tagger.js';
import { parseTaggerConfig, type TaggerConfig } from '../src/model/config.js';
import { Trainer } from '../src/train/trainer.js';
import { flatWeights, measureWork, type TaggerWorkload, type Work } from './common.js';

/** Seeds of the generator: training sentences and sentences to tag. */
const TRAIN_SEED = 4321;
const TAG_SEED = 8765;
/** Longer spellings are cut by the model (first and last half); the workload's stay under it. */
const CHAR_MAX_LENGTH = 24;

/** The training recipe of the workload (bench/workloads.json, "about tagger"). */
const TRAIN = { optimizer: { name: 'adam' as const, lr: 1e-3 } };

/** A 32-bit LCG (s ← 1664525·s + 1013904223 mod 2³²): an integer in [lo, hi], or a float in [0, 1). */
function lcg(seed: number): { int: (lo: number, hi: number) => number; unit: () => number } {
  let s = seed >>> 0;
  const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  return { int: (lo, hi) => lo + (next() % (hi - lo + 1)), unit: () => next() / 2 ** 32 };
}

/** Character i of the vocabulary (after <pad> and <unk>): printable ASCII from '!'. */
const charOf = (i: number): string => String.fromCharCode(0x21 + i);

/** The spelling of word id `id`: fixed per id (its own generator), wordLength characters of the ordinary ones. */
function spelling(w: TaggerWorkload, id: number): string {
  const g = lcg(Math.imul(id, 2654435761) ^ 0x9e3779b9);
  const n = g.int(w.wordLength[0], w.wordLength[1]);
  return Array.from({ length: n }, () => charOf(g.int(0, w.chars - 3))).join('');
}

/**
 * `count` sentences: length uniform in `length`, word ids 2 … vocab − 1 Zipf-like
 * (rank r drawn with p ∝ 1/r, by the inverse of the cumulative table), tags uniform.
 */
export function taggerSentences(w: TaggerWorkload, count: number, seed: number): TaggedExample[] {
  const g = lcg(seed);
  const ranks = w.vocab - 2;
  const cumulative = new Float64Array(ranks);
  let total = 0;
  for (let r = 0; r < ranks; r++) cumulative[r] = total += 1 / (r + 1);
  const zipf = (): number => {
    const u = g.unit() * total;
    let lo = 0;
    let hi = ranks - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo + 2;
  };
  const spelled = new Map<number, string>();
  return Array.from({ length: count }, (_, i) => {
    const L = g.int(w.length[0], w.length[1]);
    const words = Int32Array.from({ length: L }, zipf);
    const tags = Int32Array.from({ length: L }, () => g.int(0, w.tags - 1));
    const tokens = Array.from(words, (id) => {
      let s = spelled.get(id);
      if (s === undefined) spelled.set(id, (s = spelling(w, id)));
      return s;
    });
    return { steps: L, tokens, words, tags, source: { file: 'bench', line: i + 1 } };
  });
}

/** The workload's tagger config: the vocabularies and tags by size (names do not matter to the work). */
export function taggerConfig(w: TaggerWorkload): TaggerConfig {
  return parseTaggerConfig({
    input: {
      type: 'tokens', embeddingDim: w.embedding,
      vocabulary: ['<pad>', '<unk>', ...Array.from({ length: w.vocab - 2 }, (_, i) => `w${i + 2}`)],
      chars: {
        vocabulary: ['<pad>', '<unk>', ...Array.from({ length: w.chars - 2 }, (_, i) => charOf(i))],
        embeddingDim: w.charEmbedding, hiddenSize: w.charHidden, maxLength: CHAR_MAX_LENGTH,
      },
    },
    rnn: { cell: 'lstm', hiddenSize: w.hidden, bidirectional: true },
    // scheme 'none': no transition constraints, the same CRF as the PyTorch twin's for every tag set.
    output: { mode: 'step', type: 'classification', classes: Array.from({ length: w.tags }, (_, k) => `t${k}`), crf: true, scheme: 'none' },
  });
}

/** The workload's model (seed 1), its parameter count checked against the config's. */
export function taggerModel(w: TaggerWorkload, backend: Backend): TaggerModel {
  const config = taggerConfig(w);
  const model = new TaggerModel(config, { backend, seed: 1 });
  if (model.parameterCount !== taggerParameterCount(config)) {
    throw new Error(`tagger: ${model.parameterCount} parameters, the config says ${taggerParameterCount(config)}`);
  }
  return model;
}

/** The iteration's sentences in batches of `batch`, spelled as the model reads them. */
function taggerBatches(w: TaggerWorkload, model: TaggerModel): TaggedBatch[] {
  const sentences = taggerSentences(w, w.sentences, w.kind === 'tagger-train' ? TRAIN_SEED : TAG_SEED);
  const chars = { vocabulary: model.config.input.chars!.vocabulary!, maxLength: CHAR_MAX_LENGTH };
  const out: TaggedBatch[] = [];
  for (let i = 0; i < sentences.length; i += w.batch) {
    out.push(makeTaggedBatch(sentences, Array.from({ length: w.batch }, (_, b) => i + b), chars, { longestFirst: true }));
  }
  return out;
}

/**
 * One timed unit of the workload (every batch once) and what it counts —
 * sentences or tokens; `expected` is what PyTorch's must equal with the same
 * weights: the first step's loss, or every sentence's tags.
 */
function workOf(w: TaggerWorkload, model: TaggerModel, batches: TaggedBatch[]): Work & { expected: () => unknown } {
  const tokens = batches.reduce((n, b) => n + b.lengths.reduce((a, l) => a + l, 0), 0);
  const distinct = batches.reduce((n, b) => n + b.chars!.words, 0);
  const shape = { tokens, distinctWords: distinct, batches: batches.length, maxSteps: Math.max(...batches.map((b) => b.steps)) };
  if (w.kind === 'tagger-train') {
    const trainer = new Trainer(model, TRAIN);
    const losses: number[] = [];
    return {
      run: () => {
        for (const b of batches) losses.push(trainer.step(b));
      },
      per: w.sentences,
      report: () => ({ ...shape, firstLoss: losses[0], lastLoss: losses[losses.length - 1] }),
      expected: () => ({ loss: losses[0] }),
    };
  }
  model.eval();
  let paths: number[][] = [];
  return {
    run: () => {
      paths = [];
      for (const b of batches) {
        const emissions = model.forwardArena({ words: b.words, steps: b.steps, lengths: b.lengths, chars: b.chars });
        // In row order: PyTorch reads these same batches (rows longest first) and lists its paths the same way.
        paths.push(...model.decodeArena(emissions, b.lengths, { confidence: false }).paths);
      }
    },
    per: tokens,
    report: () => shape,
    expected: () => ({ paths }),
  };
}

/** The figure of one tagger workload: sent/s or tokens/s, and what the runner reports beside it. */
export function benchTagger(
  w: TaggerWorkload, backend: Backend, quick: boolean,
): { figure: number; samples: number[]; per: number; extra: Record<string, unknown> } {
  const model = taggerModel(w, backend);
  return measureWork(w, model.parameterCount, workOf(w, model, taggerBatches(w, model)), w.kind === 'tagger-train', quick);
}

/**
 * The model's weights (state-dict names, as bench/torch_tagger.py's twin names
 * them), its parameter count, the batches, and what lstmkit computes on them
 * with those weights: the first training step's loss, or every sentence's tags.
 */
export function exportTagger(w: TaggerWorkload, backend: Backend, dir: string): void {
  const model = taggerModel(w, backend);
  const { tensors, flat } = flatWeights(model);
  const batches = taggerBatches(w, model);
  const work = workOf(w, model, w.kind === 'tagger-train' ? batches.slice(0, 1) : batches);
  work.run();
  const plain = batches.map((b) => ({
    steps: b.steps, size: b.size, words: Array.from(b.words), lengths: Array.from(b.lengths), tags: Array.from(b.tags!),
    chars: {
      steps: b.chars!.steps, words: b.chars!.words, ids: Array.from(b.chars!.ids), lengths: Array.from(b.chars!.lengths),
      index: Array.from(b.chars!.index),
    },
  }));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(flat.buffer));
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ workload: w, tensors, parameters: model.parameterCount, expected: work.expected() }));
  writeFileSync(join(dir, 'batches.json'), JSON.stringify(plain));
}
