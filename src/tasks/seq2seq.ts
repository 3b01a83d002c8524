// The sequence-to-sequence recipe: pairs {x, y} in — each side a text
// (characters or words) or an array of tokens — and a model out that writes
// y for a new x: grapheme to phoneme, transliteration, spelling correction,
// short translation. Builds the vocabularies from the training pairs, trains
// an encoder–decoder with attention (src/model/seq2seq.ts) through the
// Trainer, evaluates (token and sequence error rates, BLEU), decodes
// (greedy or beam, n-best, attention), and saves to / loads from an lstmkit
// model file. Browser-safe: bytes in, bytes out.

import { DataError, positiveInt, ValueError } from '../core/errors.js';
import type { JsonlRecord } from '../data/jsonl.js';
import { encodePairs, type PairExample } from '../data/pairs.js';
import type { TokenizerKind } from '../data/vocabulary.js';
import type { Backend } from '../kernels/backend.js';
import { decodeModelFile, encodeModelFile, modelFromFile, type ModelFileContents } from '../io/modelfile.js';
import { completeSeq2SeqConfig, SEQ2SEQ_DEFAULTS, type Seq2SeqConfig, type TrainConfig } from '../model/config.js';
import { Seq2SeqModel } from '../model/seq2seq.js';
import type { Metrics } from '../train/metrics.js';
import { evaluateSeq2Seq, transduce, type DecodeOptions, type Transduction } from '../train/seq2seq.js';
import { Trainer, type Callbacks, type CheckpointOptions, type EpochLog } from '../train/trainer.js';

/** A training pair: source and target, each a text or an array of tokens. */
export interface Pair {
  x: string | readonly string[];
  y: string | readonly string[];
}

export interface Seq2SeqOptions {
  /** How a source text is split: 'char' (default) or 'word'. */
  source?: TokenizerKind;
  /** How a target text is split, and outputs joined (default: as the source). */
  target?: TokenizerKind;
  embeddingDim?: number; // default 64, both sides
  cell?: 'lstm' | 'gru' | 'rnn'; // the encoder's, default lstm
  hiddenSize?: number; // the encoder's, per direction, default 128
  numLayers?: number; // the encoder's, default 1
  bidirectional?: boolean; // default true
  /** The decoder's hidden size (default: the encoder's output features). */
  decoderHiddenSize?: number;
  decoderLayers?: number; // default 1
  attention?: 'dot' | 'general' | 'additive' | 'none'; // default general
  /** Training dropout on the embeddings and the decoder's output (default 0.2). */
  dropout?: number;
  tieEmbeddings?: boolean;
  /** The longest source in tokens; a longer one is an error (default: no limit). */
  maxSourceLength?: number;
  /** The longest output in tokens when decoding (default 100). */
  maxOutputLength?: number;
  /** Epochs, batch size, optimizer, clipping, label smoothing, early stopping, seed, … (defaults below). */
  train?: TrainConfig;
  backend?: Backend;
}

/** The training a Seq2Seq recipe (and a seq2seq config) gets where it says nothing. */
export const SEQ2SEQ_TRAIN_DEFAULTS: TrainConfig = SEQ2SEQ_DEFAULTS.train;

export class Seq2Seq {
  private readonly options: Seq2SeqOptions;
  private current: Seq2SeqModel | undefined;
  private trainer: Trainer<Seq2SeqModel> | undefined;
  /** Epoch logs of the last fit. */
  history: EpochLog[] = [];

  constructor(options: Seq2SeqOptions = {}) {
    const sizes = ['embeddingDim', 'hiddenSize', 'numLayers', 'decoderHiddenSize', 'decoderLayers', 'maxSourceLength', 'maxOutputLength'] as const;
    for (const name of sizes) if (options[name] !== undefined) positiveInt(options[name], name, 'Seq2Seq');
    for (const name of ['source', 'target'] as const) {
      const t = options[name];
      if (t !== undefined && t !== 'char' && t !== 'word') throw new ValueError(`Seq2Seq: ${name} must be 'char' or 'word', got ${JSON.stringify(t)}`);
    }
    this.options = options;
  }

  /** The underlying model (after fit or load). */
  get model(): Seq2SeqModel {
    if (!this.current) throw new ValueError('the Seq2Seq recipe has no model yet: call fit() first, or load one with Seq2Seq.fromModelFile()');
    return this.current;
  }

  get fitted(): boolean {
    return this.current !== undefined;
  }

  /** The config a first fit builds (vocabularies from the data). */
  private configFor(records: readonly JsonlRecord[]): Seq2SeqConfig {
    const o = this.options;
    const source = o.source ?? 'char';
    return completeSeq2SeqConfig({
      input: {
        type: 'tokens', embeddingDim: o.embeddingDim ?? SEQ2SEQ_DEFAULTS.embeddingDim, tokenizer: source,
        ...(o.maxSourceLength ? { maxLength: o.maxSourceLength } : {}),
      },
      rnn: { cell: o.cell ?? 'lstm', hiddenSize: o.hiddenSize ?? 128, numLayers: o.numLayers ?? 1, bidirectional: o.bidirectional ?? true },
      output: {
        mode: 'seq2seq', tokenizer: o.target ?? source, embeddingDim: o.embeddingDim ?? 64, attention: o.attention ?? 'general',
        dropout: o.dropout ?? 0.2, numLayers: o.decoderLayers ?? 1,
        ...(o.decoderHiddenSize ? { hiddenSize: o.decoderHiddenSize } : {}),
        ...(o.tieEmbeddings ? { tieEmbeddings: true } : {}),
        ...(o.maxOutputLength ? { maxLength: o.maxOutputLength } : {}),
      },
      train: { ...SEQ2SEQ_TRAIN_DEFAULTS, ...o.train },
    }, records, 'training pairs');
  }

  /** Pairs (or sources alone) as the model reads them; errors name the list and the index. */
  private examples(data: readonly (Pair | { x: Pair['x'] })[], where: string, requireTarget: boolean): PairExample[] {
    return encodePairs(records(data, where), this.model.config, { file: where, requireTarget });
  }

  /**
   * Train. The first call builds the vocabularies from `data`; later calls
   * continue training the same model. With validation pairs the weights of
   * the best validation epoch (by train.monitor, default loss) are kept.
   */
  async fit(
    data: readonly Pair[],
    opts: { validation?: readonly Pair[]; callbacks?: Callbacks; checkpoint?: CheckpointOptions } = {},
  ): Promise<EpochLog[]> {
    if (data.length === 0) throw new DataError('no training pairs');
    if (!this.current) {
      const config = this.configFor(records(data, 'training pairs'));
      this.current = new Seq2SeqModel(config, { seed: config.train!.seed ?? 0, ...(this.options.backend ? { backend: this.options.backend } : {}) });
    }
    const model = this.current;
    const trainConfig: TrainConfig = { ...SEQ2SEQ_TRAIN_DEFAULTS, ...model.config.train, ...this.options.train };
    const trainer = new Trainer(model, trainConfig);
    const train = this.examples(data, 'training pairs', true);
    const validation = opts.validation ? this.examples(opts.validation, 'validation pairs', true) : undefined;
    this.trainer = trainer;
    try {
      this.history = await trainer.fit(train, {
        ...(validation ? { validation } : {}),
        ...(opts.callbacks ? { callbacks: opts.callbacks } : {}),
        ...(opts.checkpoint ? { checkpoint: opts.checkpoint } : {}),
        restoreBest: validation !== undefined || trainConfig.validationSplit !== undefined || trainConfig.earlyStopping !== undefined,
      });
    } finally {
      this.trainer = undefined;
    }
    return this.history;
  }

  /** Ask a running fit to stop after the current epoch (the best weights are kept as usual). */
  stop(): void {
    this.trainer?.stop();
  }

  /** Loss, token error rate (PER, CER), sequence error rate and BLEU; pairs with the same x are one source with several answers. */
  evaluate(data: readonly Pair[], opts: DecodeOptions = {}): Metrics {
    return evaluateSeq2Seq(this.model, this.examples(data, 'pairs', true), opts);
  }

  /** The output for each source (greedy, or beam search with `beam`), with n-best lists and attention when asked. */
  predict(sources: readonly Pair['x'][], opts: DecodeOptions = {}): Transduction[] {
    return transduce(this.model, this.examples(sources.map((x) => ({ x })), 'sources', false), opts);
  }

  /** An lstmkit model file (safetensors) with the weights and the config (vocabularies, tokenizers). */
  toModelFile(extra: { training?: unknown } = {}): Uint8Array {
    return encodeModelFile(this.model, extra);
  }

  /** A recipe from model file bytes or decoded contents (a seq2seq model `lstmkit train` wrote loads too). */
  static fromModelFile(file: Uint8Array | ModelFileContents, opts: { backend?: Backend; source?: string } = {}): Seq2Seq {
    const source = opts.source ?? '<model>';
    const contents = file instanceof Uint8Array ? decodeModelFile(file, source) : file;
    const model = modelFromFile(contents, opts.backend ? { backend: opts.backend } : {}, source);
    if (!(model instanceof Seq2SeqModel)) throw new DataError('holds a sequence model, not a sequence-to-sequence model', source);
    const recipe = new Seq2Seq(opts.backend ? { backend: opts.backend } : {});
    recipe.current = model;
    return recipe;
  }
}

/** Pairs as records for the pair reader, checked to be objects; the index is the line in errors. */
function records(data: readonly unknown[], where: string): JsonlRecord[] {
  return data.map((value, i) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DataError(`[${i}]: expected {x, y}, got ${JSON.stringify(value)?.slice(0, 60) ?? String(value)}`, where);
    }
    return { line: i, value: value as Record<string, unknown> };
  });
}
