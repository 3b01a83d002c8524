// The tagging recipe: tagged sentences in ({tokens, tags}, or CoNLL / JSONL
// read with parseConll / parseTaggedJsonl), a tagger out that tags new
// sentences — parts of speech, named entities, chunks. Builds the
// vocabularies from the training sentences, trains a BiLSTM (optionally with
// a character BiLSTM per word and a CRF over the tags; src/model/tagger.ts)
// through the Trainer, evaluates (accuracy; span precision, recall and F1
// when the tags mark spans), tags texts or token lists (tags, confidences,
// spans with character offsets), and saves to / loads from an lstmkit model
// file. Browser-safe: bytes in, bytes out.

import { DataError, positiveInt } from '../core/errors.js';
import { sentenceOfText, sentenceOfTokens, type TaggedSentence } from '../data/conll.js';
import { encodeTagged, type TaggedExample } from '../data/tagged.js';
import type { Backend } from '../kernels/backend.js';
import { decodeModelFile, encodeModelFile, modelFromFile, type ModelFileContents } from '../io/modelfile.js';
import { completeTaggerConfig, type TaggerConfig, type TrainConfig } from '../model/config.js';
import { TaggerModel } from '../model/tagger.js';
import type { Metrics } from '../train/metrics.js';
import type { SpanMetrics } from '../train/spanmetrics.js';
import { evaluateTagger, tagSentences, type TagResult } from '../train/tagger.js';
import { Trainer, type Callbacks, type CheckpointOptions, type EpochLog } from '../train/trainer.js';

export interface TaggerOptions {
  embeddingDim?: number; // words, default 100
  /** A character BiLSTM per word (default true): {embeddingDim, hiddenSize} (default 25, 25), or false. */
  chars?: boolean | { embeddingDim?: number; hiddenSize?: number };
  cell?: 'lstm' | 'gru' | 'rnn'; // default lstm
  hiddenSize?: number; // per direction, default 128
  numLayers?: number; // default 1
  /** A CRF over the tags (default true) or a softmax per token. */
  crf?: boolean;
  /** How tags mark spans (default: BIO or BIOES when every tag has that form, else none). */
  scheme?: 'BIO' | 'IOB1' | 'BIOES' | 'none';
  /** Words seen fewer times share the unknown word's vector (default 1). */
  minCount?: number;
  /** Look words up in lower case (default false). */
  lowercase?: boolean;
  /** Training dropout on the encoder's input and output (default 0.3). */
  dropout?: number;
  /** The longest sentence in tokens (default 512). */
  maxLength?: number;
  /** Epochs, batch size, optimizer, clipping, schedule, early stopping, seed, … (defaults below). */
  train?: TrainConfig;
  backend?: Backend;
}

/** The training a Tagger recipe gets where it says nothing. */
export const TAGGER_TRAIN_DEFAULTS: TrainConfig = {
  epochs: 10, batchSize: 32, optimizer: { name: 'adam', lr: 0.002 }, clipNorm: 5, bucketByLength: true, seed: 0,
};

/** A sentence and its tags, one per token (a TaggedSentence's line may be left out). */
export type LabelledSentence = Pick<TaggedSentence, 'tokens' | 'tags'> & { line?: number };

export class Tagger {
  private readonly options: TaggerOptions;
  private current: TaggerModel | undefined;
  private trainer: Trainer<TaggerModel> | undefined;
  /** Epoch logs of the last fit. */
  history: EpochLog[] = [];

  constructor(options: TaggerOptions = {}) {
    for (const name of ['embeddingDim', 'hiddenSize', 'numLayers', 'minCount', 'maxLength'] as const) {
      if (options[name] !== undefined) positiveInt(options[name], name, 'Tagger');
    }
    this.options = options;
  }

  /** The underlying model (after fit or load). */
  get model(): TaggerModel {
    if (!this.current) throw new DataError('the Tagger has no model yet: call fit() first, or load one with Tagger.fromModelFile()');
    return this.current;
  }

  private configFor(sentences: readonly TaggedSentence[]): TaggerConfig {
    const o = this.options;
    const chars = o.chars ?? true;
    return completeTaggerConfig({
      input: {
        type: 'tokens', embeddingDim: o.embeddingDim ?? 100,
        ...(o.minCount ? { minCount: o.minCount } : {}), ...(o.lowercase ? { lowercase: true } : {}), ...(o.maxLength ? { maxLength: o.maxLength } : {}),
        ...(chars ? { chars: chars === true ? {} : { ...chars } } : {}),
      },
      rnn: { cell: o.cell ?? 'lstm', hiddenSize: o.hiddenSize ?? 128, numLayers: o.numLayers ?? 1, bidirectional: true },
      output: {
        mode: 'step', type: 'classification', crf: o.crf ?? true, dropout: o.dropout ?? 0.3, ...(o.scheme ? { scheme: o.scheme } : {}),
      },
      train: { ...TAGGER_TRAIN_DEFAULTS, ...o.train },
    }, sentences, 'training sentences');
  }

  private examples(config: TaggerConfig, sentences: readonly LabelledSentence[], where: string): TaggedExample[] {
    return encodeTagged(checked(sentences, where), config, { file: where, requireTags: true });
  }

  /**
   * Train. The first call builds the vocabularies and the tag set from `data`; later calls continue training
   * the same model. With validation sentences the weights of the best validation epoch (train.monitor) are kept.
   */
  async fit(
    data: readonly LabelledSentence[],
    opts: { validation?: readonly LabelledSentence[]; callbacks?: Callbacks; checkpoint?: CheckpointOptions } = {},
  ): Promise<EpochLog[]> {
    if (data.length === 0) throw new DataError('no training sentences');
    // Sentences are checked before a first model is made, so bad data leaves the recipe as it was.
    const config = this.current?.config ?? this.configFor(checked(data, 'training sentences'));
    const train = this.examples(config, data, 'training sentences');
    const validation = opts.validation ? this.examples(config, opts.validation, 'validation sentences') : undefined;
    this.current ??= new TaggerModel(config, { seed: config.train!.seed ?? 0, ...(this.options.backend ? { backend: this.options.backend } : {}) });
    const trainConfig: TrainConfig = { ...TAGGER_TRAIN_DEFAULTS, ...config.train, ...this.options.train };
    const trainer = new Trainer(this.current, trainConfig);
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

  /** Ask a running fit to stop after the current epoch. */
  stop(): void {
    this.trainer?.stop();
  }

  /** Loss, token accuracy, the confusion matrix, and span precision, recall, F1 (overall and per type in `report`). */
  evaluate(sentences: readonly LabelledSentence[]): { metrics: Metrics; report: SpanMetrics } {
    return evaluateTagger(this.model, this.examples(this.model.config, sentences, 'sentences'));
  }

  /** Tag texts (split at whitespace) or token lists: tags, each tag's probability, and spans with character offsets. */
  tag(inputs: readonly (string | readonly string[])[]): TagResult[] {
    const sentences = inputs.map((x, i) => (typeof x === 'string' ? sentenceOfText(x, i) : sentenceOfTokens(x, i)));
    const empty = sentences.findIndex((s) => s.tokens.length === 0);
    if (empty >= 0) throw new DataError(`[${empty}]: the sentence is empty; a sentence needs at least one token`, 'inputs');
    return tagSentences(this.model, sentences, { file: 'inputs' });
  }

  /** An lstmkit model file (safetensors) with the weights and the config (vocabularies, tags). */
  toModelFile(extra: { training?: unknown } = {}): Uint8Array {
    return encodeModelFile(this.model, extra);
  }

  /** A recipe from model file bytes or decoded contents (a tagger `lstmkit train` wrote loads too). */
  static fromModelFile(file: Uint8Array | ModelFileContents, opts: { backend?: Backend; source?: string } = {}): Tagger {
    const source = opts.source ?? '<model>';
    const contents = file instanceof Uint8Array ? decodeModelFile(file, source) : file;
    const model = modelFromFile(contents, opts.backend ? { backend: opts.backend } : {}, source);
    if (!(model instanceof TaggerModel)) throw new DataError('holds no tagger (a step-mode model with output.crf or input.chars)', source);
    const recipe = new Tagger(opts.backend ? { backend: opts.backend } : {});
    recipe.current = model;
    return recipe;
  }
}

/** Sentences given in code, checked to be {tokens, tags} of strings; the index is the line in errors. */
function checked(sentences: readonly LabelledSentence[], where: string): TaggedSentence[] {
  return sentences.map((s, i) => {
    const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((t) => typeof t === 'string');
    if (typeof s !== 'object' || s === null || !strings(s.tokens) || !strings(s.tags)) {
      throw new DataError(`[${i}]: expected {tokens: string[], tags: string[]}, got ${JSON.stringify(s)?.slice(0, 60) ?? String(s)}`, where);
    }
    return { line: s.line ?? i, tokens: s.tokens, tags: s.tags };
  });
}
