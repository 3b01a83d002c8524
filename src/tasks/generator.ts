// The text generator recipe, char-rnn style: a character-level (or
// word-level) LSTM language model. Two units of text:
//
//   'text'   one long stream, trained with truncated back-propagation through
//            time (lanes of the stream side by side, state carried from one
//            window to the next);
//   'lines'  each line (a name, say) is its own sequence, <eos> x₁ … xₙ <eos>:
//            the model learns where a line ends, and sampling stops there.
//
// Validation loss is reported in bits per token (per character for the char
// tokenizer). Sampling feeds a priming text, then draws one token at a time
// with the state carried, from the softmax at a temperature, optionally
// restricted to the k most likely tokens, from a seeded generator.
// Browser-safe: the model file goes in and out as bytes.

import { Type } from '@sinclair/typebox';
import { DataError, FormatError, positiveInt, ValueError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Batch } from '../data/batch.js';
import type { Example } from '../data/encode.js';
import {
  buildVocabulary, encodeTokens, EOS, normalizeText, PAD, textTokens, TextPreprocessingSchema, UNK, vocabularyIndex,
  type TextNormalization, type TokenizerKind,
} from '../data/vocabulary.js';
import type { Backend } from '../kernels/backend.js';
import { checked, decodeModelFile, encodeModelFile, sequenceContents, sequenceModelFromFile, type ModelFileContents } from '../io/modelfile.js';
import type { ModelConfig, TrainConfig } from '../model/config.js';
import { SequenceModel, type ModelOptions } from '../model/model.js';
import { BatchRunner } from '../model/runner.js';
import { evaluateModel } from '../train/evaluate.js';
import type { Metrics } from '../train/metrics.js';
import { Trainer, type BatchLog, type CheckpointOptions } from '../train/trainer.js';

export type TextUnit = 'text' | 'lines';

export interface TextGeneratorOptions {
  /** 'text' (default): one stream, truncated BPTT; 'lines': every line a sequence ending with <eos>. */
  unit?: TextUnit;
  /** 'char' (default) or 'word' (whitespace-separated). */
  tokenizer?: TokenizerKind;
  /** Lowercase the text first (default false). */
  lowercase?: boolean;
  /** Word tokenizer: punctuation marks become tokens of their own (default false). */
  splitPunctuation?: boolean;
  /** At most this many vocabulary entries, special tokens included (default: all). */
  maxVocabulary?: number;
  /** Tokens seen fewer times in training become <unk> (default 1). */
  minCount?: number;
  embeddingDim?: number; // default 32
  cell?: 'lstm' | 'gru' | 'rnn'; // default lstm
  hiddenSize?: number; // default 128
  numLayers?: number; // default 1
  dropout?: number; // between layers, default 0
  /** Text unit: steps per truncated-BPTT window (default 64). */
  tbptt?: number;
  /** Epochs, batch size (lanes of the stream), optimizer, clipping, seed (defaults below). */
  train?: TrainConfig;
  backend?: Backend;
}

/** A generator's preprocessing as a model file holds it (older files may leave fields out). */
const GeneratorPreprocessingSchema = Type.Composite([
  TextPreprocessingSchema,
  Type.Object({ unit: Type.Optional(Type.Union([Type.Literal('text'), Type.Literal('lines')])) }),
]);

export interface GeneratorPreprocessing extends TextNormalization {
  task: 'text-generator';
  version: 1;
  unit: TextUnit;
}

export interface LanguageModelMetrics {
  /** Mean cross-entropy per predicted token, in nats. */
  loss: number;
  /** The same in bits: bits per character for the char tokenizer. */
  bitsPerToken: number;
  perplexity: number;
  /** Tokens predicted. */
  tokens: number;
}

export interface GeneratorEpochLog {
  epoch: number;
  epochs: number;
  /** Training loss (nats per token) and bits per token over the epoch. */
  loss: number;
  bitsPerToken: number;
  val?: LanguageModelMetrics;
  /** Best validation loss so far (or training loss without validation). */
  best: boolean;
  seconds: number;
  tokensPerSecond: number;
}

export interface GeneratorCallbacks {
  onBatchEnd?(log: BatchLog): void;
  /** Awaited: a checkpoint written here is complete before the next epoch starts. */
  onEpochEnd?(log: GeneratorEpochLog, generator: TextGenerator): void | Promise<void>;
}

export interface GeneratorFitOptions {
  /** Held-out text (or lines); otherwise `validationSplit` of the data is held out. */
  validation?: string | readonly string[];
  /** Fraction held out when no validation is given: the end of a text, a seeded sample of lines (default 0). */
  validationSplit?: number;
  /** Stop after this many epochs without a better validation loss. */
  patience?: number;
  /** Keep the weights of the best validation epoch at the end (default true). */
  restoreBest?: boolean;
  /** Write best.lstmkit and last.lstmkit into a run directory, as `lstmkit train` does (Node). */
  checkpoint?: Omit<CheckpointOptions, 'preprocessing'>;
  callbacks?: GeneratorCallbacks;
}

export interface SampleOptions {
  /** Text the model reads first; the sample continues it (and includes it). */
  prime?: string;
  /** Softmax temperature: < 1 sharper, > 1 flatter, 0 always the most likely token (default 1). */
  temperature?: number;
  /** Draw only from the k most likely tokens (default 0: from all). */
  topK?: number;
  /** Tokens to generate after the prime; for lines, the most before <eos> (default 200 for text, 40 for lines). */
  length?: number;
  /** Seed of the draws: the same seed, model and options give the same samples (default 0). */
  seed?: number;
  /** How many samples, drawn one after another from one seeded stream (default 1). */
  count?: number;
}

export const GENERATOR_TRAIN_DEFAULTS = {
  epochs: 10,
  batchSize: 32,
  optimizer: { name: 'adam', lr: 0.002 },
  clipNorm: 5,
  seed: 0,
} as const satisfies TrainConfig;

/** Hold out the end of a text (cut at a line break close to the cut when there is one). */
export function splitText(text: string, fraction: number): { train: string; validation: string } {
  if (!(fraction > 0 && fraction < 1)) throw new ValueError(`validation fraction must be between 0 and 1, got ${fraction}`);
  let cut = Math.round(text.length * (1 - fraction));
  const lineBreak = text.lastIndexOf('\n', cut);
  if (lineBreak > 0 && cut - lineBreak < 1000) cut = lineBreak + 1;
  const code = text.charCodeAt(cut);
  if (code >= 0xdc00 && code <= 0xdfff) cut--; // never split a surrogate pair
  return { train: text.slice(0, cut), validation: text.slice(cut) };
}

/** Hold out a seeded random `fraction` of lines (the same seed, the same split). */
export function splitLines(
  lines: readonly string[], fraction: number, seed = 0,
): { train: string[]; validation: string[] } {
  if (!(fraction > 0 && fraction < 1)) throw new ValueError(`validation fraction must be between 0 and 1, got ${fraction}`);
  const order = new Rng(seed).shuffle(lines.map((_, i) => i));
  const cut = Math.round(lines.length * (1 - fraction));
  return { train: order.slice(0, cut).map((i) => lines[i]!), validation: order.slice(cut).map((i) => lines[i]!) };
}

/** The non-empty lines of a text. */
export function textLines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim() !== '');
}

/** Cross-entropy per token in nats, bits and perplexity, from the trainer's metrics of a next-token model. */
function languageMetrics(m: Metrics): LanguageModelMetrics {
  return { loss: m.loss, bitsPerToken: m.loss / Math.LN2, perplexity: Math.exp(m.loss), tokens: m.count };
}

/** One request for samples, checked (TextGenerator.sample checks the options it is given). */
export interface SampleRequest {
  prime: string;
  length: number;
  temperature: number;
  topK: number;
  seed: number;
  count: number;
}

export type SampleEvent =
  /** The start of sample `sample`: the prime as shown (or the start token when there is none). */
  | { type: 'prime'; sample: number; text: string }
  /** One more token; the texts of a sample's events, joined, are the sample. */
  | { type: 'token'; sample: number; text: string }
  /** A sample is complete: why it stopped ('length' or 'eos') and how many tokens it drew. */
  | { type: 'end'; sample: number; text: string; tokens: number; finishReason: 'length' | 'eos' };

export class TextGenerator {
  readonly unit: TextUnit;
  readonly tokenizer: TokenizerKind;
  readonly normalization: TextNormalization;
  private readonly options: TextGeneratorOptions;
  private current: SequenceModel | undefined;
  private trainer: Trainer | undefined;
  /** Epoch logs of the last fit. */
  history: GeneratorEpochLog[] = [];

  constructor(options: TextGeneratorOptions = {}) {
    for (const name of ['maxVocabulary', 'minCount', 'embeddingDim', 'hiddenSize', 'numLayers', 'tbptt'] as const) {
      if (options[name] !== undefined) positiveInt(options[name], name, 'TextGenerator');
    }
    if (options.unit !== undefined && options.unit !== 'text' && options.unit !== 'lines') {
      throw new ValueError(`TextGenerator: unit must be 'text' or 'lines', got ${JSON.stringify(options.unit)}`);
    }
    if (options.tokenizer !== undefined && options.tokenizer !== 'char' && options.tokenizer !== 'word') {
      throw new ValueError(`TextGenerator: tokenizer must be 'char' or 'word', got ${JSON.stringify(options.tokenizer)}`);
    }
    this.options = options;
    this.unit = options.unit ?? 'text';
    this.tokenizer = options.tokenizer ?? 'char';
    this.normalization = { lowercase: options.lowercase ?? false, splitPunctuation: options.splitPunctuation ?? false };
  }

  get model(): SequenceModel {
    if (!this.current) throw new ValueError('the generator has no model yet: call fit() first, or load one with TextGenerator.fromModelFile()');
    return this.current;
  }

  get fitted(): boolean {
    return this.current !== undefined;
  }

  get vocabulary(): string[] {
    const input = this.model.config.input;
    return input.type === 'tokens' ? input.vocabulary! : [];
  }

  get preprocessing(): GeneratorPreprocessing {
    return { task: 'text-generator', version: 1, unit: this.unit, ...this.normalization };
  }

  /** Bits per what: 'character' for the char tokenizer, 'word' for words. */
  get tokenName(): string {
    return this.tokenizer === 'char' ? 'character' : 'word';
  }

  private tokensOf(text: string): string[] {
    return textTokens(text, this.tokenizer, this.normalization);
  }

  private asUnits(data: string | readonly string[], where: string): string[] {
    if (typeof data === 'string') return this.unit === 'lines' ? textLines(data) : [data];
    if (!Array.isArray(data) || data.some((d) => typeof d !== 'string')) {
      const got = Array.isArray(data) ? `an array holding ${typeof data.find((d) => typeof d !== 'string')}` : typeof data;
      throw new DataError(`${where}: expected a text or an array of texts, got ${got}`);
    }
    return this.unit === 'lines' ? data.filter((l) => l.trim() !== '') : [data.join('\n')];
  }

  /**
   * The token sequences the model trains on: one for a text, <eos> … <eos>
   * per line for lines. Tokens the vocabulary lacks are <unk>.
   */
  encodeSequences(data: string | readonly string[], where = 'data'): Int32Array[] {
    const vocab = this.vocabulary;
    const units = this.asUnits(data, where);
    if (this.unit === 'text') return [encodeTokens(this.tokensOf(units[0] ?? ''), vocab)];
    const eos = vocabularyIndex(vocab).get(EOS)!;
    return units.map((line) => {
      const inner = encodeTokens(this.tokensOf(line), vocab);
      const seq = new Int32Array(inner.length + 2);
      seq[0] = eos;
      seq.set(inner, 1);
      seq[seq.length - 1] = eos;
      return seq;
    });
  }

  private examples(data: string | readonly string[], where: string): Example[] {
    const examples = this.encodeSequences(data, where).map((tokens) => ({
      steps: tokens.length, x: null, tokens, yReg: null, yCls: null,
    }));
    if (this.unit === 'text' && (examples[0]?.steps ?? 0) < 2) {
      throw new DataError(`${where}: the text has fewer than 2 tokens; a language model needs a longer text`);
    }
    if (examples.length === 0) throw new DataError(`${where}: no lines`);
    return examples;
  }

  private configFor(data: string | readonly string[]): ModelConfig {
    const o = this.options;
    const units = this.asUnits(data, 'training data');
    const vocabulary = buildVocabulary(units.map((u) => this.tokensOf(u)), {
      reserved: this.unit === 'lines' ? [PAD, UNK, EOS] : [PAD, UNK],
      ...(o.maxVocabulary !== undefined ? { maxSize: o.maxVocabulary } : {}),
      minCount: o.minCount ?? 1,
    });
    const train: TrainConfig = { ...GENERATOR_TRAIN_DEFAULTS, ...o.train };
    if (this.unit === 'text') train.tbptt = o.tbptt ?? o.train?.tbptt ?? 64;
    else delete train.tbptt;
    return {
      input: { type: 'tokens', embeddingDim: o.embeddingDim ?? 32, vocabulary, tokenizer: this.tokenizer },
      rnn: { cell: o.cell ?? 'lstm', hiddenSize: o.hiddenSize ?? 128, numLayers: o.numLayers ?? 1, ...(o.dropout ? { dropout: o.dropout } : {}) },
      output: { mode: 'next', type: 'classification', classes: vocabulary },
      train,
    };
  }

  /**
   * Train on a text (or lines). The first call builds the vocabulary; later
   * calls continue training. Every epoch is measured on the validation data
   * (bits per token); with it, the best epoch's weights are kept at the end.
   */
  async fit(data: string | readonly string[], opts: GeneratorFitOptions = {}): Promise<GeneratorEpochLog[]> {
    let trainData = data;
    let validationData = opts.validation;
    if (validationData === undefined && opts.validationSplit) {
      if (this.unit === 'text') {
        const split = splitText(typeof data === 'string' ? data : data.join('\n'), opts.validationSplit);
        trainData = split.train;
        validationData = split.validation;
      } else {
        const split = splitLines(this.asUnits(data, 'training data'), opts.validationSplit, this.options.train?.seed ?? 0);
        trainData = split.train;
        validationData = split.validation;
      }
    }
    if (!this.current) {
      const config = this.configFor(trainData);
      const modelOptions: ModelOptions = { seed: config.train!.seed ?? 0 };
      if (this.options.backend) modelOptions.backend = this.options.backend;
      this.current = new SequenceModel(config, modelOptions);
    }
    const model = this.current;
    const trainConfig: TrainConfig = { ...GENERATOR_TRAIN_DEFAULTS, ...model.config.train, ...this.options.train };
    if (this.unit === 'text') trainConfig.tbptt = model.config.train?.tbptt ?? this.options.tbptt ?? 64;
    else delete trainConfig.tbptt;
    if (opts.patience !== undefined) trainConfig.earlyStopping = { patience: opts.patience };
    trainConfig.monitor = 'loss';
    const train = this.examples(trainData, 'training data');
    const validation = validationData === undefined ? undefined : this.examples(validationData, 'validation data');
    const trainTokens = train.reduce((n, e) => n + e.steps - (this.unit === 'lines' ? 1 : 0), 0);
    const trainer = new Trainer(model, trainConfig);
    this.history = [];
    this.trainer = trainer;
    try {
      await trainer.fit(train, {
        ...(validation ? { validation } : {}),
        ...(opts.checkpoint ? { checkpoint: { ...opts.checkpoint, preprocessing: this.preprocessing } } : {}),
        restoreBest: validation !== undefined && (opts.restoreBest ?? true),
        callbacks: {
          ...(opts.callbacks?.onBatchEnd ? { onBatchEnd: opts.callbacks.onBatchEnd } : {}),
          onEpochEnd: async (log) => {
            const entry: GeneratorEpochLog = {
              epoch: log.epoch, epochs: log.epochs, loss: log.loss, bitsPerToken: log.loss / Math.LN2,
              ...(log.val ? { val: languageMetrics(log.val) } : {}),
              best: log.best, seconds: log.seconds, tokensPerSecond: trainTokens / Math.max(1e-9, log.seconds),
            };
            this.history.push(entry);
            await opts.callbacks?.onEpochEnd?.(entry, this);
          },
        },
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

  /** Cross-entropy of the model on a text (or lines): nats and bits per token. */
  evaluate(data: string | readonly string[]): LanguageModelMetrics {
    const train = this.model.config.train ?? {};
    const batchSize = train.batchSize ?? GENERATOR_TRAIN_DEFAULTS.batchSize;
    const tbptt = this.unit === 'text' ? train.tbptt ?? 64 : undefined;
    return languageMetrics(evaluateModel(this.model, this.examples(data, 'data'), batchSize, tbptt));
  }

  /** Samples continuing `prime` (each includes it): one token at a time, the state carried. */
  sample(opts: SampleOptions = {}): string[] {
    const temperature = opts.temperature ?? 1;
    if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new ValueError(`temperature must be a number ≥ 0, got ${opts.temperature}`);
    const topK = opts.topK ?? 0;
    if (!Number.isInteger(topK) || topK < 0) throw new ValueError(`topK must be an integer ≥ 0 (0: no limit), got ${opts.topK}`);
    const length = positiveInt(opts.length ?? (this.unit === 'lines' ? 40 : 200), 'length', 'sample');
    const count = positiveInt(opts.count ?? 1, 'count', 'sample');
    const seed = opts.seed ?? 0;
    if (!Number.isInteger(seed) || seed < 0) throw new ValueError(`seed must be an integer ≥ 0, got ${opts.seed}`);
    const prime = opts.prime ?? '';
    if (typeof prime !== 'string') throw new ValueError(`prime must be a text, got ${typeof prime}`);
    const steps = this.sampleSteps({ prime, length, temperature, topK, seed, count });
    let next = steps.next();
    while (!next.done) next = steps.next();
    return next.value;
  }

  /**
   * Samples continuing `prime`, one event per step, so a server can stream
   * each token, yield to other requests between tokens and stop at a
   * deadline. Run it to the end or call return(); do not use this
   * generator's model for anything else meanwhile.
   */
  *sampleSteps(req: SampleRequest): Generator<SampleEvent, string[], void> {
    const vocab = this.vocabulary;
    const index = vocabularyIndex(vocab);
    const model = this.model;
    const banned = new Uint8Array(model.outputSize);
    banned[index.get(PAD) ?? 0] = 1;
    banned[index.get(UNK) ?? 1] = 1;
    const eos = index.get(EOS);
    const primeTokens = encodeTokens(this.tokensOf(req.prime), vocab);
    let context: Int32Array;
    let shown = req.prime;
    if (this.unit === 'lines') context = Int32Array.of(eos ?? 0, ...primeTokens);
    else if (primeTokens.length) context = primeTokens;
    else {
      // No prime: start after a line break, or from the most frequent token (shown).
      const start = index.get('\n') ?? 2;
      context = Int32Array.of(start);
      if (vocab[start] !== '\n') shown = vocab[start] ?? '';
    }
    const joiner = this.tokenizer === 'char' ? '' : ' ';
    const rng = new Rng(req.seed);
    const runner = new BatchRunner(model);
    const samples: string[] = [];
    model.eval();
    try {
      for (let n = 0; n < req.count; n++) {
        runner.resetState();
        yield { type: 'prime', sample: n, text: shown };
        let text = shown;
        let logits = this.feed(runner, context);
        let drawn = 0;
        let finishReason: 'length' | 'eos' = 'length';
        for (let i = 0; i < req.length; i++) {
          const next = pickToken(logits, req.temperature, req.topK, banned, rng);
          if (next === eos) {
            finishReason = 'eos';
            break;
          }
          const piece = (text && joiner ? joiner : '') + vocab[next]!;
          text += piece;
          drawn++;
          yield { type: 'token', sample: n, text: piece };
          if (i + 1 < req.length) logits = this.feed(runner, Int32Array.of(next));
        }
        samples.push(text);
        yield { type: 'end', sample: n, text, tokens: drawn, finishReason };
      }
    } finally {
      model.train();
      runner.dispose();
    }
    return samples;
  }

  /** Feed tokens with the state carried; the logits after the last one. */
  private feed(runner: BatchRunner, tokens: Int32Array): Float64Array {
    const T = tokens.length;
    const batch: Batch = {
      steps: T, size: 1, x: null, tokens, lengths: Int32Array.of(T), yReg: null, yCls: null, indices: [0],
    };
    const out = runner.forward(batch, { carry: true });
    const K = this.model.outputSize;
    const rows = T;
    const heap = this.model.backend.arena.heap;
    return Float64Array.from(heap.subarray(out.offset + (rows - 1) * K, out.offset + rows * K));
  }

  /** The normalized form of a text as the model reads it (e.g. lowercased). */
  normalize(text: string): string {
    return normalizeText(text, this.tokenizer, this.normalization);
  }

  /** An lstmkit model file (safetensors) with the weights, config and preprocessing. */
  toModelFile(extra: { training?: unknown } = {}): Uint8Array {
    return encodeModelFile(this.model, { preprocessing: this.preprocessing, ...extra });
  }

  /**
   * A generator from model file bytes or decoded contents
   * (a next-token model from `lstmkit train` loads as a text model).
   */
  static fromModelFile(
    file: Uint8Array | ModelFileContents, opts: { backend?: Backend; source?: string } = {},
  ): TextGenerator {
    const source = opts.source ?? '<model>';
    const contents = sequenceContents(file instanceof Uint8Array ? decodeModelFile(file, source) : file, source, 'a text generator');
    const { input, output } = contents.config;
    const task = (contents.preprocessing as { task?: string } | undefined)?.task;
    if (task !== undefined && task !== 'text-generator') throw new FormatError(`${source}: is a ${task} model, not a text generator`);
    const pre = contents.preprocessing === undefined ? undefined
      : checked(GeneratorPreprocessingSchema, contents.preprocessing, `${source}: preprocessing`);
    if (input.type !== 'tokens' || output.mode !== 'next' || output.type !== 'classification') {
      throw new FormatError(
        `${source}: is not a text generator (it has ${input.type} input and a ${output.mode} ${output.type} head; ` +
        'expected token input and next-token prediction)',
      );
    }
    const unit = pre?.unit ?? 'text';
    if (unit === 'lines' && !input.vocabulary!.includes(EOS)) throw new FormatError(`${source}: a line model without ${EOS} in its vocabulary`);
    const generator = new TextGenerator({
      unit,
      tokenizer: input.tokenizer ?? 'char',
      lowercase: pre?.lowercase ?? false,
      splitPunctuation: pre?.splitPunctuation ?? false,
      ...(opts.backend ? { backend: opts.backend } : {}),
    });
    generator.current = sequenceModelFromFile(contents, opts.backend ? { backend: opts.backend } : {}, source, 'a text generator');
    return generator;
  }
}

/**
 * One token drawn from softmax(logits / temperature) over the allowed tokens
 * (not banned; the topK largest logits when topK > 0, ties to the lower index).
 * Temperature 0 takes the most likely one.
 */
export function pickToken(
  logits: ArrayLike<number>, temperature: number, topK: number, banned: Uint8Array, rng: Rng,
): number {
  let allowed: number[] = [];
  for (let i = 0; i < logits.length; i++) if (!banned[i]) allowed.push(i);
  if (allowed.length === 0) throw new ValueError('no token may be sampled: the vocabulary holds only special tokens');
  if (topK > 0 && topK < allowed.length) {
    allowed.sort((a, b) => logits[b]! - logits[a]! || a - b);
    allowed = allowed.slice(0, topK);
  }
  let best = allowed[0]!;
  for (const i of allowed) if (logits[i]! > logits[best]! || (logits[i] === logits[best] && i < best)) best = i;
  if (temperature === 0) return best;
  const max = logits[best]!;
  const weights = allowed.map((i) => Math.exp((logits[i]! - max) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.uniform() * total;
  for (let j = 0; j < allowed.length; j++) {
    u -= weights[j]!;
    if (u < 0) return allowed[j]!;
  }
  return allowed[allowed.length - 1]!;
}
