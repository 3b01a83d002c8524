// The model config: input → (embedding) → recurrent stack → head, and how to
// train it. One JSON document, validated with a JSON Schema (TypeBox), the
// same from the library, the CLI and the model file.

import { Type, type Static } from '@sinclair/typebox';
import { DataError, ValueError } from '../core/errors.js';
import { validate } from '../core/validate.js';
import type { BatchSpec } from '../data/batch.js';
import { collectClasses, recordVocabulary } from '../data/encode.js';
import type { JsonlRecord } from '../data/jsonl.js';
import type { TaggedSentence } from '../data/conll.js';
import { pairVocabularies, TARGET_RESERVED } from '../data/pairs.js';
import { TAGGED_LIMITS, taggedVocabularies } from '../data/tagged.js';

const PositiveInt = Type.Integer({ minimum: 1 });

export const InputSchema = Type.Union([
  Type.Object({
    type: Type.Literal('features'),
    /** Numbers per step (1 for a scalar series). */
    size: PositiveInt,
  }, { additionalProperties: false }),
  Type.Object({
    type: Type.Literal('tokens'),
    embeddingDim: PositiveInt,
    /** Token strings; index 0 is padding, 1 unknown. Omit to build from the training data. */
    vocabulary: Type.Optional(Type.Array(Type.String(), { minItems: 2 })),
    /** How `x` is split when it is a string: characters or whitespace-separated words. */
    tokenizer: Type.Optional(Type.Union([Type.Literal('char'), Type.Literal('word')])),
    /** Keep at most this many tokens of a text (the first ones). */
    maxLength: Type.Optional(PositiveInt),
  }, { additionalProperties: false }),
]);

export const RnnSchema = Type.Object({
  cell: Type.Union([Type.Literal('lstm'), Type.Literal('gru'), Type.Literal('rnn')]),
  hiddenSize: PositiveInt,
  numLayers: Type.Optional(PositiveInt),
  bidirectional: Type.Optional(Type.Boolean()),
  /** Dropout on the outputs of every layer but the last (PyTorch's `dropout`), in training. */
  dropout: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
  /**
   * Variational recurrent dropout (Keras's `recurrent_dropout`; not a PyTorch
   * option): in training, each layer and direction draws one mask per
   * sequence and hidden unit for the whole sequence, and h_{t-1} is multiplied
   * by it where it feeds the recurrent weights W_hh at every step (kept units
   * scaled by 1/(1-p)). The LSTM cell state, the GRU's z ⊙ h and the layer's
   * outputs are not masked; a projected LSTM masks its projected state.
   * Evaluation and prediction use no mask; 0 (the default) changes nothing.
   */
  recurrentDropout: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
  projSize: Type.Optional(Type.Integer({ minimum: 0 })),
  nonlinearity: Type.Optional(Type.Union([Type.Literal('tanh'), Type.Literal('relu')])),
}, { additionalProperties: false });

export const OutputSchema = Type.Object({
  /**
   * sequence: one value or class per sequence (many-to-one);
   * step: one per step, aligned with the input (many-to-many);
   * next: predict the next step of a stream (targets are the input shifted by one).
   */
  mode: Type.Union([Type.Literal('sequence'), Type.Literal('step'), Type.Literal('next')]),
  type: Type.Union([Type.Literal('regression'), Type.Literal('classification')]),
  /** Regression: numbers per prediction. */
  size: Type.Optional(PositiveInt),
  /** Classification: the labels. Omit to collect them from the training data. */
  classes: Type.Optional(Type.Array(Type.String(), { minItems: 2 })),
  /**
   * Sequence mode: what the head reads, as PyTorch code reads it — 'hn' the final states (h_n; 'last' is
   * the same, the name older files use), 'lastOutput' out[:, -1] (the output at each sequence's last step,
   * both directions as they stand there), 'mean' or 'max' over each sequence's steps. Default 'hn'.
   */
  pooling: Type.Optional(Type.Union([Type.Literal('hn'), Type.Literal('last'), Type.Literal('lastOutput'), Type.Literal('mean'), Type.Literal('max')])),
}, { additionalProperties: false });

export const OptimizerSchema = Type.Object({
  name: Type.Union([Type.Literal('adam'), Type.Literal('adamw'), Type.Literal('sgd'), Type.Literal('rmsprop')]),
  lr: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  weightDecay: Type.Optional(Type.Number({ minimum: 0 })),
  momentum: Type.Optional(Type.Number({ minimum: 0 })),
  nesterov: Type.Optional(Type.Boolean()),
  betas: Type.Optional(Type.Tuple([
    Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
    Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
  ])),
  eps: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  alpha: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
  centered: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

export const ScheduleSchema = Type.Union([
  Type.Object(
    { name: Type.Literal('step'), stepSize: PositiveInt, gamma: Type.Optional(Type.Number({ exclusiveMinimum: 0 })) },
    { additionalProperties: false },
  ),
  Type.Object(
    { name: Type.Literal('cosine'), tMax: Type.Optional(PositiveInt), etaMin: Type.Optional(Type.Number({ minimum: 0 })) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      name: Type.Literal('plateau'),
      factor: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
      patience: Type.Optional(Type.Integer({ minimum: 0 })),
      minLr: Type.Optional(Type.Number({ minimum: 0 })),
    },
    { additionalProperties: false },
  ),
]);

export const MetricName = Type.Union([
  Type.Literal('loss'), Type.Literal('mse'), Type.Literal('mae'), Type.Literal('rmse'), Type.Literal('accuracy'), Type.Literal('macroF1'),
  // Sequence to sequence: edit distance per reference token, outputs matching no reference, corpus BLEU.
  Type.Literal('tokenErrorRate'), Type.Literal('sequenceErrorRate'), Type.Literal('bleu'),
  // Tagging: span F1 (conlleval's) when the tags mark spans.
  Type.Literal('f1'),
]);

export const TrainSchema = Type.Object({
  epochs: Type.Optional(PositiveInt),
  batchSize: Type.Optional(PositiveInt),
  optimizer: Type.Optional(OptimizerSchema),
  /** Clip the global gradient norm to this (torch.nn.utils.clip_grad_norm_). */
  clipNorm: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  /** Clamp each gradient to ±this (clip_grad_value_). */
  clipValue: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  schedule: Type.Optional(ScheduleSchema),
  /** Fraction of the training data held out for validation when no validation set is given. */
  validationSplit: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
  /** Stop after this many epochs without improvement of `monitor`, and restore the best weights. */
  earlyStopping: Type.Optional(Type.Object({
    patience: Type.Integer({ minimum: 0 }),
    minDelta: Type.Optional(Type.Number({ minimum: 0 })),
  }, { additionalProperties: false })),
  /** The validation metric that picks the best model (default: loss). */
  monitor: Type.Optional(MetricName),
  /** Group sequences of similar length into batches (less padding). */
  bucketByLength: Type.Optional(Type.Boolean()),
  shuffle: Type.Optional(Type.Boolean()),
  /** Next-step mode: steps per truncated back-propagation window; state carries across windows. */
  tbptt: Type.Optional(PositiveInt),
  /** Classification: spread this much of each target's probability over all classes (PyTorch's label_smoothing). */
  labelSmoothing: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
  seed: Type.Optional(Type.Integer({ minimum: 0 })),
}, { additionalProperties: false });

export const ModelConfigSchema = Type.Object({
  input: InputSchema,
  rnn: RnnSchema,
  output: OutputSchema,
  train: Type.Optional(TrainSchema),
}, { additionalProperties: false });

/** The target side of a sequence-to-sequence model: its tokens and its decoder. */
export const Seq2SeqOutputSchema = Type.Object({
  mode: Type.Literal('seq2seq'),
  /** Target tokens: <pad>, <unk>, <bos>, <eos>, then the rest. Omit to build from the training data. */
  vocabulary: Type.Optional(Type.Array(Type.String(), { minItems: 5 })),
  /** How a target text `y` is split: characters or whitespace-separated words (default: the input's). */
  tokenizer: Type.Optional(Type.Union([Type.Literal('char'), Type.Literal('word')])),
  /** Target embedding size (default: the input's embeddingDim, or the decoder's hidden size). */
  embeddingDim: Type.Optional(PositiveInt),
  /** Decoder LSTM units (default: the encoder's output features, directions × hiddenSize). */
  hiddenSize: Type.Optional(PositiveInt),
  numLayers: Type.Optional(PositiveInt),
  /** Luong 'dot' or 'general', Bahdanau 'additive', or 'none' (default 'general'; 'none' for vector input). */
  attention: Type.Optional(Type.Union([Type.Literal('dot'), Type.Literal('general'), Type.Literal('additive'), Type.Literal('none')])),
  /** The output projection shares the target embedding's weights (needs embeddingDim == hiddenSize). */
  tieEmbeddings: Type.Optional(Type.Boolean()),
  /** Longest output when decoding, in tokens (default 100). */
  maxLength: Type.Optional(PositiveInt),
  /** Training dropout on the source and target embeddings and on h̃ before the output projection (default 0). */
  dropout: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
  /** How predictions are written: a text joined as the tokenizer split it, or an array of tokens (default: as the training targets were). */
  format: Type.Optional(Type.Union([Type.Literal('text'), Type.Literal('tokens')])),
}, { additionalProperties: false });

/** A sequence-to-sequence model: token sequences (or one feature vector) in, token sequences out. */
export const Seq2SeqConfigSchema = Type.Object({
  input: Type.Union([
    // Token input as for other models, but the embedding size may be left to its default.
    Type.Object({ ...InputSchema.anyOf[1].properties, embeddingDim: Type.Optional(PositiveInt) }, { additionalProperties: false }),
    Type.Object({
      type: Type.Literal('vector'),
      /** Numbers of the one vector the decoder starts from (one-to-many: a caption from image features). */
      size: PositiveInt,
    }, { additionalProperties: false }),
  ]),
  /** The encoder (left out for vector input). */
  rnn: Type.Optional(RnnSchema),
  output: Seq2SeqOutputSchema,
  train: Type.Optional(TrainSchema),
}, { additionalProperties: false });

export type Seq2SeqConfig = Static<typeof Seq2SeqConfigSchema>;

/**
 * What a seq2seq config leaves out becomes this: a source embedding of 64,
 * and training that suits an attention model (Adam 0.002, batches of 64 of
 * similar lengths, clipping at 5, label smoothing 0.1). With these a config
 * that names only the input, the encoder and the mode trains a good model.
 */
export const SEQ2SEQ_DEFAULTS = {
  embeddingDim: 64,
  train: {
    epochs: 10, batchSize: 64, optimizer: { name: 'adam', lr: 0.002 }, clipNorm: 5, labelSmoothing: 0.1, bucketByLength: true, seed: 0,
  },
} as const satisfies { embeddingDim: number; train: Static<typeof TrainSchema> };
export type Seq2SeqOutputConfig = Static<typeof Seq2SeqOutputSchema>;

export type InputConfig = Static<typeof InputSchema>;
export type RnnConfig = Static<typeof RnnSchema>;
export type OutputConfig = Static<typeof OutputSchema>;
export type OptimizerConfig = Static<typeof OptimizerSchema>;
export type ScheduleConfig = Static<typeof ScheduleSchema>;
export type TrainConfig = Static<typeof TrainSchema>;
export type ModelConfig = Static<typeof ModelConfigSchema>;
export type MetricName = Static<typeof MetricName>;

/**
 * A tagger: one tag per token of a sentence (parts of speech, named
 * entities). Word embedding, optionally joined with a character BiLSTM's
 * summary of each word (Lample et al. 2016), a recurrent encoder, and a
 * softmax or CRF head. A step-mode config is a tagger when it names
 * `output.crf` (true or false) or `input.chars`.
 */
export const TaggerConfigSchema = Type.Object({
  input: Type.Object({
    type: Type.Literal('tokens'),
    embeddingDim: PositiveInt,
    /** Word strings; index 0 is padding, 1 unknown. Omit to build from the training sentences. */
    vocabulary: Type.Optional(Type.Array(Type.String(), { minItems: 2 })),
    /** Words seen fewer times in training share the unknown word's vector (default 1: every word gets one). */
    minCount: Type.Optional(PositiveInt),
    /** Look words up in lower case (the characters keep theirs). Default false. */
    lowercase: Type.Optional(Type.Boolean()),
    /** The longest sentence, in tokens; a longer one is an error (default 512). */
    maxLength: Type.Optional(PositiveInt),
    /** A character BiLSTM per word; its two final states join the word's embedding. */
    chars: Type.Optional(Type.Object({
      /** Character strings; index 0 is padding, 1 unknown. Omit to build from the training words. */
      vocabulary: Type.Optional(Type.Array(Type.String(), { minItems: 2 })),
      embeddingDim: Type.Optional(PositiveInt), // default 25
      hiddenSize: Type.Optional(PositiveInt), // per direction, default 25
      /** A longer word is read as its first and last maxLength / 2 characters (default 24). */
      maxLength: Type.Optional(Type.Integer({ minimum: 2 })),
    }, { additionalProperties: false })),
  }, { additionalProperties: false }),
  rnn: RnnSchema,
  output: Type.Object({
    mode: Type.Literal('step'),
    type: Type.Literal('classification'),
    /** The tags. Omit to collect them from the training sentences. */
    classes: Type.Optional(Type.Array(Type.String(), { minItems: 2 })),
    /** A linear-chain CRF over the tags (true) or a softmax per token (false). */
    crf: Type.Optional(Type.Boolean()),
    /**
     * How tags mark spans, for span metrics and the CRF's constraints: 'BIO', 'IOB1', 'BIOES', or 'none'
     * (tags are not spans: parts of speech). Default: BIO or BIOES when every tag has that form, else none.
     */
    scheme: Type.Optional(Type.Union([Type.Literal('BIO'), Type.Literal('IOB1'), Type.Literal('BIOES'), Type.Literal('none')])),
    /** Forbid the transitions the scheme rules out (CRF with BIO or BIOES only; default true there). */
    constrain: Type.Optional(Type.Boolean()),
    /** Training dropout on the encoder's input and output (default 0). */
    dropout: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
  }, { additionalProperties: false }),
  train: Type.Optional(TrainSchema),
}, { additionalProperties: false });

export type TaggerConfig = Static<typeof TaggerConfigSchema>;

/** Defaults of a tagger config: character BiLSTM sizes, the sentence limit. */
export const TAGGER_DEFAULTS = {
  charEmbeddingDim: 25, charHiddenSize: 25, charMaxLength: TAGGED_LIMITS.charMaxLength, maxLength: TAGGED_LIMITS.maxLength,
} as const;

/** Whether a config (as JSON) describes a tagger: step mode naming output.crf or input.chars. */
export function isTaggerConfig(value: unknown): boolean {
  const v = value as { input?: Record<string, unknown>; output?: Record<string, unknown> } | null;
  return v?.output?.mode === 'step' && (v.output.crf !== undefined || v.input?.chars !== undefined);
}

/** Validate a tagger config and check what the schema cannot express. */
export function parseTaggerConfig(value: unknown, where = 'config'): TaggerConfig {
  const config = validate(TaggerConfigSchema, withScheduleName(value), where);
  const { input, output, rnn } = config;
  if (rnn.projSize) throw new ValueError(`${where}: rnn.projSize is not supported in a tagger`);
  if (rnn.nonlinearity && rnn.cell !== 'rnn') throw new ValueError(`${where}: rnn.nonlinearity is for cell 'rnn' only`);
  if (output.constrain && (!output.crf || (output.scheme !== 'BIO' && output.scheme !== 'BIOES'))) {
    throw new ValueError(`${where}: output.constrain needs output.crf and a BIO or BIOES output.scheme`);
  }
  const unique = (list: readonly string[] | undefined, name: string): void => {
    if (list && new Set(list).size !== list.length) throw new ValueError(`${where}: ${name} has duplicates`);
  };
  unique(input.vocabulary, 'input.vocabulary');
  unique(input.chars?.vocabulary, 'input.chars.vocabulary');
  unique(output.classes, 'output.classes');
  return config;
}

/** Validate a model config and check what the schema cannot express. */
export function parseModelConfig(value: unknown, where = 'config'): ModelConfig {
  const config = validate(ModelConfigSchema, withScheduleName(value), where);
  const { output, rnn, input } = config;
  if (output.type === 'regression' && output.classes) throw new ValueError(`${where}: output.classes is for classification; a regression head has output.size`);
  if (output.type === 'classification' && output.size) {
    throw new ValueError(`${where}: output.size is for regression; a classification head has output.classes`);
  }
  if (output.pooling && output.mode !== 'sequence') throw new ValueError(`${where}: output.pooling applies to mode 'sequence' only, got mode '${output.mode}'`);
  if (output.mode === 'next' && input.type === 'tokens' && output.type !== 'classification') {
    throw new ValueError(`${where}: next-token prediction over tokens is a classification; set output.type to 'classification'`);
  }
  if (output.mode === 'next' && input.type === 'features' && output.type !== 'regression') {
    throw new ValueError(`${where}: next-step prediction over numbers is a regression; set output.type to 'regression'`);
  }
  if (rnn.projSize && rnn.cell !== 'lstm') throw new ValueError(`${where}: rnn.projSize is for LSTM only, got cell '${rnn.cell}'`);
  if (rnn.projSize && rnn.projSize >= rnn.hiddenSize) {
    throw new ValueError(`${where}: rnn.projSize must be smaller than rnn.hiddenSize (${rnn.hiddenSize}), got ${rnn.projSize}`);
  }
  if (rnn.nonlinearity && rnn.cell !== 'rnn') throw new ValueError(`${where}: rnn.nonlinearity is for cell 'rnn' only`);
  if (input.type === 'tokens' && input.vocabulary) {
    if (new Set(input.vocabulary).size !== input.vocabulary.length) throw new ValueError(`${where}: input.vocabulary has duplicate tokens`);
  }
  if (output.classes && new Set(output.classes).size !== output.classes.length) throw new ValueError(`${where}: output.classes has duplicate labels`);
  return config;
}

/** Configs before schedules were named as optimizers are wrote train.schedule.type; read it as train.schedule.name. */
function withScheduleName(value: unknown): unknown {
  const schedule = (value as { train?: { schedule?: Record<string, unknown> } } | null)?.train?.schedule;
  if (!schedule || typeof schedule !== 'object' || !('type' in schedule) || 'name' in schedule) return value;
  const { type, ...rest } = schedule;
  const v = value as { train: Record<string, unknown> };
  return { ...v, train: { ...v.train, schedule: { name: type, ...rest } } };
}

/** Fill vocabulary and classes from the training data where the config leaves them out. */
export function completeConfig(config: ModelConfig, records: readonly JsonlRecord[], file: string): ModelConfig {
  const out: ModelConfig = structuredClone(config);
  if (out.input.type === 'tokens' && !out.input.vocabulary) out.input.vocabulary = recordVocabulary(records, out.input, file);
  if (out.output.type === 'classification' && !out.output.classes) {
    if (out.output.mode === 'next') out.output.classes = (out.input as { vocabulary: string[] }).vocabulary;
    else out.output.classes = collectClasses(records, out.output, file);
    if (out.output.classes.length < 2) {
      throw new DataError(`found only ${out.output.classes.length} class label(s) in the training data; classification needs at least 2`, file);
    }
  }
  return out;
}

/**
 * Fill the vocabularies (and how predictions are written) from the training
 * pairs where a seq2seq config leaves them out.
 */
export function completeSeq2SeqConfig(config: Seq2SeqConfig, records: readonly JsonlRecord[], file: string): Seq2SeqConfig {
  const out: Seq2SeqConfig = structuredClone(config);
  const needed = !out.output.vocabulary || (out.input.type === 'tokens' && !out.input.vocabulary);
  if (needed) {
    const vocabularies = pairVocabularies(records, out, file);
    if (out.input.type === 'tokens') out.input.vocabulary ??= vocabularies.input!;
    out.output.vocabulary ??= vocabularies.output;
  }
  if (out.output.vocabulary!.length <= TARGET_RESERVED.length) throw new DataError('the training targets hold no tokens', file);
  out.output.format ??= records.some((r) => Array.isArray(r.value.y)) ? 'tokens' : 'text';
  if (out.input.type === 'tokens') out.input.embeddingDim ??= SEQ2SEQ_DEFAULTS.embeddingDim;
  out.train = { ...structuredClone(SEQ2SEQ_DEFAULTS.train), ...out.train };
  return parseSeq2SeqConfig(out, file);
}

/**
 * Fill a tagger config from its training sentences where it leaves things
 * out: the word and character vocabularies, the tags, and the span scheme
 * (BIO or BIOES when every tag has that form, else none).
 */
export function completeTaggerConfig(config: TaggerConfig, sentences: readonly TaggedSentence[], file: string): TaggerConfig {
  const out: TaggerConfig = structuredClone(config);
  const { input, output } = out;
  const found = taggedVocabularies(sentences, { minCount: input.minCount, lowercase: input.lowercase, charMaxLength: input.chars?.maxLength });
  input.vocabulary ??= found.words;
  if (input.chars) {
    // Defaults written out, so a model file says what it is even if the defaults change.
    input.chars.vocabulary ??= found.chars;
    input.chars.embeddingDim ??= TAGGER_DEFAULTS.charEmbeddingDim;
    input.chars.hiddenSize ??= TAGGER_DEFAULTS.charHiddenSize;
    input.chars.maxLength ??= TAGGER_DEFAULTS.charMaxLength;
  }
  output.classes ??= found.tags;
  if (output.classes.length < 2) throw new DataError(`found only ${output.classes.length} tag(s) in the training sentences; tagging needs at least 2`, file);
  output.scheme ??= schemeOfTags(output.classes);
  return parseTaggerConfig(out, file);
}

/** BIOES when the tags are O and B-, I-, E-, S- forms with some E- or S-; BIO when O, B- and I- forms; else none. */
function schemeOfTags(tags: readonly string[]): 'BIO' | 'BIOES' | 'none' {
  if (!tags.every((t) => t === 'O' || /^[BIES]-./.test(t))) return 'none';
  return tags.some((t) => /^[ES]-/.test(t)) ? 'BIOES' : 'BIO';
}

/** What a batch for this config holds: its input and its targets. */
export function batchSpecOf(config: ModelConfig): BatchSpec {
  const { input, output } = config;
  const features = input.type === 'features' ? input.size : 1;
  const size = output.type === 'classification' ? 1 : output.mode === 'next' ? features : output.size ?? 1;
  return { input: input.type === 'tokens' ? 'tokens' : input.size, target: { type: output.type, size, mode: output.mode } };
}

/** The pooling a sequence-mode config's head reads ('last' is the older name of 'hn'). */
export function poolingOf(output: OutputConfig): 'hn' | 'lastOutput' | 'mean' | 'max' {
  const p = output.pooling ?? 'hn';
  return p === 'last' ? 'hn' : p;
}

/** Whether a config (as JSON) describes a sequence-to-sequence model. */
export function isSeq2SeqConfig(value: unknown): boolean {
  return (value as { output?: { mode?: unknown } } | null)?.output?.mode === 'seq2seq';
}

/** Validate a sequence-to-sequence config and check what the schema cannot express. */
export function parseSeq2SeqConfig(value: unknown, where = 'config'): Seq2SeqConfig {
  const config = validate(Seq2SeqConfigSchema, withScheduleName(value), where);
  const { input, rnn, output } = config;
  if (input.type === 'tokens' && !rnn) throw new ValueError(`${where}: rnn (the encoder) is missing; a token source needs one`);
  if (input.type === 'vector' && rnn) throw new ValueError(`${where}: rnn describes an encoder, and a vector input has none; leave it out`);
  if (input.type === 'vector' && output.attention && output.attention !== 'none') {
    throw new ValueError(`${where}: output.attention needs a source sequence to attend to; a vector input has none (use 'none')`);
  }
  if (output.vocabulary) {
    const reserved = ['<pad>', '<unk>', '<bos>', '<eos>'];
    if (reserved.some((t, i) => output.vocabulary![i] !== t)) {
      throw new ValueError(`${where}: output.vocabulary must start with ${reserved.join(', ')}, got ${output.vocabulary.slice(0, 4).join(', ')}`);
    }
    if (new Set(output.vocabulary).size !== output.vocabulary.length) throw new ValueError(`${where}: output.vocabulary has duplicate tokens`);
  }
  if (rnn?.projSize) throw new ValueError(`${where}: rnn.projSize is not supported in a sequence-to-sequence encoder`);
  return config;
}
