// The text classifier recipe: text → tokens (characters or words, a
// vocabulary built from the training texts, <pad> and <unk>, a length cap) →
// embedding → (Bi)LSTM → mean pooling or the last state → softmax over the
// labels. Fit, evaluate (accuracy, macro-F1, confusion matrix), predict
// (label and probabilities), and save to / load from an lstmkit model file
// whose config holds the vocabulary and whose preprocessing metadata holds
// the text normalization. Browser-safe: bytes in, bytes out.

import { DataError, FormatError, positiveInt, ValueError } from '../core/errors.js';
import type { Example } from '../data/encode.js';
import { TextPreprocessingSchema } from '../data/vocabulary.js';
import { buildVocabulary, encodeTokens, PAD, sortLabels, textTokens, UNK, type TextNormalization, type TokenizerKind } from '../data/vocabulary.js';
import type { Backend } from '../kernels/backend.js';
import { checked, decodeModelFile, encodeModelFile, sequenceContents, sequenceModelFromFile, type ModelFileContents } from '../io/modelfile.js';
import type { ModelConfig, TrainConfig } from '../model/config.js';
import { SequenceModel, type ModelOptions } from '../model/model.js';
import { evaluateModel, predictModel } from '../train/evaluate.js';
import { Trainer, type Callbacks, type CheckpointOptions, type EpochLog } from '../train/trainer.js';

export interface LabelledText {
  text: string;
  label: string | number | boolean;
}

export interface TextClassifierOptions {
  /** 'word' (default): whitespace-separated words; 'char': characters (code points). */
  tokenizer?: TokenizerKind;
  /** Lowercase before tokenizing (default true). */
  lowercase?: boolean;
  /** Word tokenizer: punctuation marks become tokens of their own (default true). */
  splitPunctuation?: boolean;
  /** Keep the first this-many tokens of a text (default 300). */
  maxLength?: number;
  /** At most this many vocabulary entries, <pad> and <unk> included (default 20000). */
  maxVocabulary?: number;
  /** Tokens seen fewer times in training become <unk> (default 2 for words, 1 for characters). */
  minCount?: number;
  embeddingDim?: number; // default 64
  cell?: 'lstm' | 'gru' | 'rnn'; // default lstm
  hiddenSize?: number; // default 64
  numLayers?: number; // default 1
  bidirectional?: boolean; // default true
  dropout?: number; // between layers, default 0
  /** What the head reads: 'mean' over the steps (default), 'max', 'hn' (PyTorch's h_n; also 'last') or 'lastOutput' (out[:, -1]). */
  pooling?: 'mean' | 'max' | 'hn' | 'last' | 'lastOutput';
  /** Epochs, batch size, optimizer, clipping, early stopping, seed, … (defaults below). */
  train?: TrainConfig;
  backend?: Backend;
}

/** What a model file keeps beside the config to reproduce the text → tokens step. */
export interface ClassifierPreprocessing extends TextNormalization {
  task: 'text-classifier';
  version: 1;
}

export interface ClassPrediction {
  label: string;
  probabilities: Record<string, number>;
}

export interface ClassifierMetrics {
  loss: number;
  accuracy: number;
  macroF1: number;
  /** confusion[actual][predicted], rows and columns in the order of `classes`. */
  confusion: number[][];
  classes: string[];
  count: number;
}

export const CLASSIFIER_TRAIN_DEFAULTS = {
  epochs: 5,
  batchSize: 32,
  optimizer: { name: 'adam', lr: 0.003 },
  clipNorm: 5,
  bucketByLength: true,
  seed: 0,
} as const satisfies TrainConfig;

export class TextClassifier {
  readonly tokenizer: TokenizerKind;
  readonly normalization: TextNormalization;
  readonly maxLength: number;
  private readonly options: TextClassifierOptions;
  private current: SequenceModel | undefined;
  private trainer: Trainer | undefined;
  /** Epoch logs of the last fit. */
  history: EpochLog[] = [];

  constructor(options: TextClassifierOptions = {}) {
    for (const name of ['maxLength', 'maxVocabulary', 'minCount', 'embeddingDim', 'hiddenSize', 'numLayers'] as const) {
      if (options[name] !== undefined) positiveInt(options[name], name, 'TextClassifier');
    }
    if (options.tokenizer !== undefined && options.tokenizer !== 'char' && options.tokenizer !== 'word') {
      throw new ValueError(`TextClassifier: tokenizer must be 'char' or 'word', got ${JSON.stringify(options.tokenizer)}`);
    }
    this.options = options;
    this.tokenizer = options.tokenizer ?? 'word';
    this.normalization = { lowercase: options.lowercase ?? true, splitPunctuation: options.splitPunctuation ?? true };
    this.maxLength = options.maxLength ?? 300;
  }

  /** The underlying sequence model (after fit or load). */
  get model(): SequenceModel {
    if (!this.current) throw new ValueError('the classifier has no model yet: call fit() first, or load one with TextClassifier.fromModelFile()');
    return this.current;
  }

  get fitted(): boolean {
    return this.current !== undefined;
  }

  get classes(): string[] {
    return this.model.config.output.classes!;
  }

  get vocabulary(): string[] {
    const input = this.model.config.input;
    return input.type === 'tokens' ? input.vocabulary! : [];
  }

  get preprocessing(): ClassifierPreprocessing {
    return { task: 'text-classifier', version: 1, ...this.normalization };
  }

  /** The tokens the model sees for a text: normalized, split, cut; unknown ones as <unk>. */
  tokens(text: string): string[] {
    const vocab = this.vocabulary;
    return Array.from(this.encode(text), (i) => vocab[i]!);
  }

  /** Token indices of a text (an empty text is one <pad>, so it still gets a prediction). */
  encode(text: string): Int32Array {
    if (typeof text !== 'string') throw new ValueError(`TextClassifier: expected a text (string), got ${typeof text}`);
    const tokens = textTokens(text, this.tokenizer, this.normalization, this.maxLength);
    return tokens.length ? encodeTokens(tokens, this.vocabulary) : Int32Array.of(0);
  }

  private examples(data: readonly LabelledText[], where: string): Example[] {
    const classIndex = new Map(this.classes.map((c, k) => [c, k]));
    return data.map((item, i) => {
      if (!item || typeof item.text !== 'string') {
        throw new DataError(`${where}[${i}]: expected {text: string, label}, got ${JSON.stringify(item)?.slice(0, 60)}`);
      }
      const k = classIndex.get(String(item.label));
      if (k === undefined) {
        throw new DataError(
          `${where}[${i}]: the label ${JSON.stringify(String(item.label))} is not one of the model's classes (${this.classes.slice(0, 10).join(', ')})`,
        );
      }
      const tokens = this.encode(item.text);
      return {
        steps: tokens.length, x: null, tokens, yReg: null, yCls: Int32Array.of(k), source: { file: where, line: i },
      };
    });
  }

  /** The model config for training data: vocabulary and classes from the data. */
  private configFor(data: readonly LabelledText[]): ModelConfig {
    const o = this.options;
    const classes = sortLabels(data.map((d, i) => {
      if (!d || typeof d.text !== 'string' || d.label === undefined || d.label === null) {
        throw new DataError(`training data[${i}]: expected {text: string, label}, got ${JSON.stringify(d)?.slice(0, 60)}`);
      }
      return String(d.label);
    }));
    if (classes.length < 2) throw new DataError(`training data has ${classes.length} label(s) (${classes.join(', ')}); a classifier needs at least 2`);
    const texts = data.map((d) => textTokens(d.text, this.tokenizer, this.normalization, this.maxLength));
    const vocabulary = buildVocabulary(texts, {
      reserved: [PAD, UNK],
      ...(o.maxVocabulary !== undefined ? { maxSize: o.maxVocabulary } : { maxSize: 20000 }),
      minCount: o.minCount ?? (this.tokenizer === 'word' ? 2 : 1),
    });
    return {
      input: { type: 'tokens', embeddingDim: o.embeddingDim ?? 64, vocabulary, tokenizer: this.tokenizer, maxLength: this.maxLength },
      rnn: {
        cell: o.cell ?? 'lstm', hiddenSize: o.hiddenSize ?? 64, numLayers: o.numLayers ?? 1,
        bidirectional: o.bidirectional ?? true, ...(o.dropout ? { dropout: o.dropout } : {}),
      },
      output: { mode: 'sequence', type: 'classification', classes, pooling: o.pooling ?? 'mean' },
      train: { ...CLASSIFIER_TRAIN_DEFAULTS, ...o.train },
    };
  }

  /**
   * Train. The first call builds the vocabulary and classes from `data`; later
   * calls continue training the same model. With validation data (given, or
   * train.validationSplit), the weights of the best validation epoch (by
   * train.monitor, default loss) are kept at the end. With `checkpoint`, the
   * run directory gets best.lstmkit and last.lstmkit as `lstmkit train` writes them.
   */
  async fit(
    data: readonly LabelledText[],
    opts: { validation?: readonly LabelledText[]; callbacks?: Callbacks; checkpoint?: Omit<CheckpointOptions, 'preprocessing'> } = {},
  ): Promise<EpochLog[]> {
    if (data.length === 0) throw new DataError('no training texts');
    if (!this.current) {
      const config = this.configFor(data);
      const modelOptions: ModelOptions = { seed: config.train!.seed ?? 0 };
      if (this.options.backend) modelOptions.backend = this.options.backend;
      this.current = new SequenceModel(config, modelOptions);
    }
    const model = this.current;
    const trainConfig: TrainConfig = { ...CLASSIFIER_TRAIN_DEFAULTS, ...model.config.train, ...this.options.train };
    const trainer = new Trainer(model, trainConfig);
    const train = this.examples(data, 'training data');
    const validation = opts.validation ? this.examples(opts.validation, 'validation data') : undefined;
    this.trainer = trainer;
    try {
      this.history = await trainer.fit(train, {
        ...(validation ? { validation } : {}),
        ...(opts.callbacks ? { callbacks: opts.callbacks } : {}),
        ...(opts.checkpoint ? { checkpoint: { ...opts.checkpoint, preprocessing: this.preprocessing } } : {}),
        restoreBest: validation !== undefined || trainConfig.validationSplit !== undefined
          || trainConfig.earlyStopping !== undefined,
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

  /** Loss, accuracy, macro-F1 and the confusion matrix on labelled texts. */
  evaluate(data: readonly LabelledText[], batchSize = 64): ClassifierMetrics {
    const m = evaluateModel(this.model, this.examples(data, 'data'), batchSize);
    return {
      loss: m.loss, accuracy: m.accuracy!, macroF1: m.macroF1!, confusion: m.confusion!, classes: [...this.classes],
      count: m.count,
    };
  }

  /** The most probable label of each text, with every label's probability. */
  predict(texts: readonly string[], batchSize = 64): ClassPrediction[] {
    const examples: Example[] = texts.map((text) => {
      const tokens = this.encode(text);
      return { steps: tokens.length, x: null, tokens, yReg: null, yCls: null };
    });
    return predictModel(this.model, examples, batchSize) as ClassPrediction[];
  }

  /** An lstmkit model file (safetensors) with the weights, config and preprocessing. */
  toModelFile(extra: { training?: unknown } = {}): Uint8Array {
    return encodeModelFile(this.model, { preprocessing: this.preprocessing, ...extra });
  }

  /**
   * A classifier from model file bytes or decoded contents
   * (a model trained by `lstmkit train` on token input loads too).
   */
  static fromModelFile(
    file: Uint8Array | ModelFileContents, opts: { backend?: Backend; source?: string } = {},
  ): TextClassifier {
    const source = opts.source ?? '<model>';
    const contents = sequenceContents(file instanceof Uint8Array ? decodeModelFile(file, source) : file, source, 'a text classifier');
    const { input, output } = contents.config;
    const task = (contents.preprocessing as { task?: string } | undefined)?.task;
    if (task !== undefined && task !== 'text-classifier') throw new FormatError(`${source}: is a ${task} model, not a text classifier`);
    const pre = contents.preprocessing === undefined ? undefined
      : checked(TextPreprocessingSchema, contents.preprocessing, `${source}: preprocessing`);
    if (input.type !== 'tokens' || output.mode !== 'sequence' || output.type !== 'classification') {
      throw new FormatError(
        `${source}: is not a text classifier (it has ${input.type} input and a ${output.mode} ${output.type} head; ` +
        'expected token input and a sequence classification head)',
      );
    }
    const classifier = new TextClassifier({
      tokenizer: input.tokenizer ?? 'char',
      lowercase: pre?.lowercase ?? false,
      splitPunctuation: pre?.splitPunctuation ?? false,
      ...(input.maxLength !== undefined ? { maxLength: input.maxLength } : { maxLength: Number.MAX_SAFE_INTEGER }),
      ...(opts.backend ? { backend: opts.backend } : {}),
    });
    classifier.current = sequenceModelFromFile(contents, opts.backend ? { backend: opts.backend } : {}, source, 'a text classifier');
    return classifier;
  }
}
