// A tagger (Lample et al. 2016): one tag per token of a sentence.
//
//   embedding       Embedding          each word (index 0 padding, 1 unknown)
//   char_embedding  Embedding          each character of each distinct word   } with input.chars
//   char_rnn        LSTM, 1 layer, ↔   its final states [→; ←] join the word's }
//   dropout         Dropout            on the joined input and on the encoder's output (output.dropout)
//   rnn             LSTM | GRU | RNN   the encoder, usually bidirectional
//   head            Dense              emissions: a score per tag per token
//   crf             CRF                transitions between tags (output.crf); else a softmax per token
//
// State-dict names are those of the PyTorch twin in test/fixtures/make_tagger_fixtures.py.
// The character BiLSTM runs once per distinct word of a batch, not per token.

import { ShapeError, ValueError } from '../core/errors.js';
import { defaultRng, Rng } from '../core/rng.js';
import { sizeOf, swapLeadingAxes, tensor, type ArenaTensor } from '../core/tensor.js';
import type { CharBatch } from '../data/tagged.js';
import { gateCount } from '../kernels/backend.js';
import { CRF, type TagScheme } from '../layers/crf.js';
import { Dense } from '../layers/dense.js';
import { Dropout } from '../layers/dropout.js';
import { Embedding } from '../layers/embedding.js';
import { GRU } from '../layers/gru.js';
import { LSTM } from '../layers/lstm.js';
import { Module } from '../layers/module.js';
import type { Recurrent } from '../layers/recurrent.js';
import { RNN } from '../layers/rnn.js';
import { parseTaggerConfig, TAGGER_DEFAULTS, type TaggerConfig } from './config.js';
import type { ModelOptions } from './model.js';
import { deinterleave, interleave } from './rows.js';

/** What forward takes, time-major: words [T, B], each sentence's length, and (with input.chars) the batch's words spelled. */
export interface TaggerInput {
  words: Int32Array;
  steps: number;
  lengths: Int32Array;
  chars: CharBatch | null;
}

/** A decoded batch: each sentence's tag indices and the probability of each (the softmax's, or the CRF's marginal). */
export interface TagPaths {
  paths: number[][];
  confidence: number[][];
}

export class TaggerModel extends Module {
  readonly config: TaggerConfig;
  readonly embedding: Embedding;
  readonly charEmbedding: Embedding | null;
  readonly charRnn: LSTM | null;
  readonly dropout: Dropout | null;
  readonly rnn: Recurrent;
  readonly head: Dense;
  readonly crf: CRF | null;
  private last: { T: number; B: number; chars: CharBatch | null } | undefined;

  constructor(config: unknown, opts: ModelOptions = {}) {
    const c = parseTaggerConfig(config);
    if (!c.input.vocabulary) throw new ValueError('tagger config: input.vocabulary is missing (build it from the training data with completeTaggerConfig)');
    if (!c.output.classes) throw new ValueError('tagger config: output.classes is missing (collect them from the training data with completeTaggerConfig)');
    if (c.input.chars && !c.input.chars.vocabulary) {
      throw new ValueError('tagger config: input.chars.vocabulary is missing (build it with completeTaggerConfig)');
    }
    const init = opts.seed === undefined ? defaultRng() : new Rng(opts.seed);
    super({ ...(opts.backend ? { backend: opts.backend } : {}), seed: init.nextU32() });
    this.config = c;
    const module = { backend: this.backend };
    const { input, rnn, output } = c;
    this.embedding = this.addModule('embedding', new Embedding({
      numEmbeddings: input.vocabulary!.length, embeddingDim: input.embeddingDim, paddingIdx: 0,
    }, module));
    const chars = input.chars;
    this.charEmbedding = chars
      ? this.addModule('char_embedding', new Embedding({
        numEmbeddings: chars.vocabulary!.length, embeddingDim: chars.embeddingDim ?? TAGGER_DEFAULTS.charEmbeddingDim, paddingIdx: 0,
      }, module))
      : null;
    this.charRnn = chars
      ? this.addModule('char_rnn', new LSTM({
        inputSize: this.charEmbedding!.embeddingDim, hiddenSize: chars.hiddenSize ?? TAGGER_DEFAULTS.charHiddenSize, bidirectional: true,
      }, module))
      : null;
    this.dropout = output.dropout ? this.addModule('dropout', new Dropout(output.dropout, module)) : null;
    const common = {
      inputSize: this.inputFeatures, hiddenSize: rnn.hiddenSize, numLayers: rnn.numLayers ?? 1,
      bidirectional: rnn.bidirectional ?? false, dropout: rnn.dropout ?? 0, recurrentDropout: rnn.recurrentDropout ?? 0,
    };
    this.rnn = this.addModule('rnn', rnn.cell === 'lstm' ? new LSTM(common, module)
      : rnn.cell === 'gru' ? new GRU(common, module)
      : new RNN({ ...common, nonlinearity: rnn.nonlinearity ?? 'tanh' }, module));
    const K = output.classes!.length;
    this.head = this.addModule('head', new Dense({ inFeatures: this.rnn.outputFeatures, outFeatures: K }, module));
    const constrained = output.crf && (output.constrain ?? true) && (output.scheme === 'BIO' || output.scheme === 'BIOES');
    this.crf = output.crf
      ? this.addModule('crf', new CRF({
        numTags: K, ...(constrained ? { constraints: { scheme: output.scheme as TagScheme, tags: output.classes! } } : {}),
      }, module))
      : null;
    this.initParameters(init);
  }

  get classes(): string[] {
    return this.config.output.classes!;
  }

  /** Numbers per token the encoder reads: the word vector, and the character BiLSTM's two states. */
  get inputFeatures(): number {
    const chars = this.config.input.chars;
    return this.config.input.embeddingDim + (chars ? 2 * (chars.hiddenSize ?? TAGGER_DEFAULTS.charHiddenSize) : 0);
  }

  /**
   * Start the word embedding from pretrained vectors (GloVe): each vocabulary word found — as written, else in
   * lower case — gets its vector; the others keep their initialization. Returns how many were found.
   */
  setWordVectors(vectors: ReadonlyMap<string, ArrayLike<number>>): number {
    const E = this.config.input.embeddingDim;
    const first = vectors.values().next().value;
    if (first && first.length !== E) {
      throw new ShapeError(`the word vectors have ${first.length} numbers each, the model's embedding ${E} (input.embeddingDim)`);
    }
    const table = this.embedding.stateDict()['weight']!;
    let found = 0;
    this.config.input.vocabulary!.forEach((word, i) => {
      if (i < 2) return; // padding stays zero; the unknown word keeps its initialization
      const v = vectors.get(word) ?? vectors.get(word.toLowerCase());
      if (!v) return;
      table.set(Array.from(v), i * E);
      found++;
    });
    this.embedding.loadStateDict({ weight: table });
    return found;
  }

  /** Emissions [T, B, K]: the tag scores of every token (this model's buffer). */
  forwardArena(input: TaggerInput): ArenaTensor {
    const { steps: T, lengths } = input;
    const B = lengths.length;
    if (input.words.length !== T * B) throw new ValueError(`TaggerModel: ${input.words.length} words for ${T} steps × ${B} sentences`);
    if (!this.charRnn !== !input.chars) throw new ValueError(`TaggerModel: this model ${this.charRnn ? 'reads' : 'does not read'} the words' characters`);
    const be = this.backend;
    const E = this.config.input.embeddingDim;
    const F = this.inputFeatures;
    const wordVectors = this.embedding.forwardArena(input.words, [T, B]);
    let x = wordVectors;
    if (input.chars) {
      const { steps: C, words: N, ids, lengths: charLengths, index } = input.chars;
      const spelled = this.charRnn!.forwardArena(this.charEmbedding!.forwardArena(ids, [C, N]), { lengths: charLengths });
      const Hc = this.charRnn!.hiddenSize;
      const perWord = this.ws.tensor('perWord', [N, 2 * Hc]); // [→ final; ← final] of each distinct word
      interleave(be, N, spelled.h.offset, Hc, spelled.h.offset + N * Hc, Hc, perWord.offset);
      x = this.ws.tensor('joined', [T, B, F]);
      const heap = be.arena.heap;
      for (let r = 0; r < T * B; r++) {
        be.copy(E, wordVectors.offset + r * E, x.offset + r * F);
        const n = index[r]!;
        if (n >= 0) be.copy(2 * Hc, perWord.offset + n * 2 * Hc, x.offset + r * F + E);
        else heap.fill(0, x.offset + r * F + E, x.offset + (r + 1) * F);
      }
    }
    if (this.dropout) x = this.dropout.forwardArena(x, 0);
    const ran = this.rnn.forwardArena(x, { lengths: lengths.every((l) => l === T) ? null : lengths });
    const features = this.dropout ? this.dropout.forwardArena(ran.output, 1) : ran.output;
    this.last = { T, B, chars: input.chars };
    return this.head.forwardArena(features);
  }

  /** Back-propagate dLoss/demissions [T, B, K] into the parameter gradients (added). */
  backwardArena(dEmissions: ArenaTensor): void {
    const last = this.last;
    if (!last) throw new ValueError('TaggerModel.backward called before forward');
    const { T, B, chars } = last;
    const be = this.backend;
    let d = this.head.backwardArena(dEmissions)!;
    if (this.dropout) d = this.dropout.backwardArena(d, true, 1)!;
    let dx = this.rnn.backwardArena({ dOutput: d }, true).dx!;
    if (this.dropout) dx = this.dropout.backwardArena(dx, true, 0)!;
    if (!chars) {
      this.embedding.backwardArena(dx);
      return;
    }
    const E = this.config.input.embeddingDim;
    const F = this.inputFeatures;
    const Hc = this.charRnn!.hiddenSize;
    const N = chars.words;
    const dWords = this.ws.tensor('dWords', [T, B, E]);
    const dPerWord = this.ws.tensor('dPerWord', [N, 2 * Hc]);
    be.fill(N * 2 * Hc, dPerWord.offset, 0);
    for (let r = 0; r < T * B; r++) {
      be.copy(E, dx.offset + r * F, dWords.offset + r * E);
      const n = chars.index[r]!;
      if (n >= 0) be.axpy(2 * Hc, 1, dx.offset + r * F + E, dPerWord.offset + n * 2 * Hc);
    }
    this.embedding.backwardArena(dWords);
    const dh = this.ws.tensor('dh', [2, N, Hc]);
    deinterleave(be, N, dPerWord.offset, Hc, dh.offset, Hc, dh.offset + N * Hc);
    const dChars = this.charRnn!.backwardArena({ dh }, true).dx!;
    this.charEmbedding!.backwardArena(dChars);
  }

  /** Each sentence's best tags — Viterbi under the CRF, or each token's most likely — and their probabilities. */
  decodeArena(emissions: ArenaTensor, lengths: Int32Array, opts: { confidence?: boolean } = {}): TagPaths {
    const [T, B, K] = emissions.shape as [number, number, number];
    const scores = tensor(swapLeadingAxes(this.backend.arena.view(emissions.offset, sizeOf(emissions.shape)), T, B, K), [B, T, K]);
    const paths = this.crf ? this.crf.decode(scores, { lengths }) : argmaxPaths(scores.data, B, T, K, lengths);
    const confidence: number[][] = [];
    if (opts.confidence !== false) {
      const p = this.crf ? this.crf.marginals(scores, { lengths }).data : softmaxRows(scores.data, K);
      paths.forEach((path, b) => confidence.push(path.map((k, t) => p[(b * T + t) * K + k]!)));
    }
    return { paths, confidence };
  }
}

function argmaxPaths(x: ArrayLike<number>, B: number, T: number, K: number, lengths: Int32Array): number[][] {
  return Array.from({ length: B }, (_, b) => Array.from({ length: lengths[b]! }, (_, t) => {
    const at = (b * T + t) * K;
    let best = 0;
    for (let k = 1; k < K; k++) if (x[at + k]! > x[at + best]!) best = k;
    return best;
  }));
}

/** Softmax of each row of K (Float64). */
function softmaxRows(x: ArrayLike<number>, K: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let at = 0; at < x.length; at += K) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, x[at + k]!);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += out[at + k] = Math.exp(x[at + k]! - max);
    for (let k = 0; k < K; k++) out[at + k]! /= sum;
  }
  return out;
}

/** Parameter values a tagger config's model has, from the config alone. */
export function taggerParameterCount(c: TaggerConfig): number {
  const { input, rnn, output } = c;
  const lstm = (inSize: number, H: number, layers: number, D: number, cell: 'lstm' | 'gru' | 'rnn'): number => {
    const G = gateCount(cell) * H;
    let n = 0;
    for (let l = 0; l < layers; l++) n += D * (G * (l === 0 ? inSize : D * H) + G * H + 2 * G);
    return n;
  };
  const Hc = input.chars?.hiddenSize ?? TAGGER_DEFAULTS.charHiddenSize;
  const Ec = input.chars?.embeddingDim ?? TAGGER_DEFAULTS.charEmbeddingDim;
  const chars = input.chars ? (input.chars.vocabulary?.length ?? 0) * Ec + lstm(Ec, Hc, 1, 2, 'lstm') : 0;
  const F = input.embeddingDim + (input.chars ? 2 * Hc : 0);
  const D = rnn.bidirectional ? 2 : 1;
  const K = output.classes?.length ?? 0;
  return (input.vocabulary?.length ?? 0) * input.embeddingDim + chars + lstm(F, rnn.hiddenSize, rnn.numLayers ?? 1, D, rnn.cell)
    + K * D * rnn.hiddenSize + K + (output.crf ? K * K + 2 * K : 0);
}
