// The one place the server knows the task recipes. For a loaded model file
// it says which task the model does (from the preprocessing metadata the
// recipe stored, else from the config), what one request instance and one
// prediction look like (JSON Schemas, served in /v1/model and the OpenAPI
// document), how to check an instance before it is queued, how to predict
// for a batch of them, and, for language models, how to sample.
//
//   preprocessing.task      recipe                     instance → prediction
//   'forecast'              Forecaster                 rows of the table → the next `horizon` values
//   'text-classifier'       TextClassifier             text → label + probabilities
//   'text-generator'        TextGenerator              text → next-token distribution; /generate samples
//   (a seq2seq config)      Seq2Seq, lstmkit train     source → output, score, n-best, attention (seq2seq.ts)
//   (a tagger config)       lstmkit train              text or tokens → tags, confidences (CRF marginals), spans with offsets (tagger.ts)
//   (none)                  SequenceModel, generic     the JSONL `x` → what predictModel gives:
//                                                       values, class probabilities, per-step tags, next step
//
// A token model that predicts the next token is a language model whether a
// recipe or `lstmkit train` made it. A tagger config is a step-mode one that
// names output.crf or input.chars (isTaggerConfig); a plain step-classification
// SequenceModel stays generic. A model whose preprocessing names a task
// this file does not know is refused: its inputs would need a preprocessing
// step the server cannot do, and guessing would give wrong numbers silently.
// A new recipe is one more case in `adapterFor`.

import { DataError, LstmkitError } from '../core/errors.js';
import { encodeRecord, type Example } from '../data/encode.js';
import { sequenceContents, sequenceModelFromFile, type ModelFileContents } from '../io/modelfile.js';
import type { ModelConfig, Seq2SeqConfig, TaggerConfig } from '../model/config.js';
import { isSeq2Seq, isTagger, type AnyModel } from '../model/models.js';
import { predictModel } from '../train/evaluate.js';
import { TextClassifier } from '../tasks/classifier.js';
import { originRow, type ForecastPreprocessing } from '../tasks/forecastdata.js';
import type { TimeSeries } from '../data/timeseries.js';
import { Forecaster } from '../tasks/forecaster.js';
import { TextGenerator } from '../tasks/generator.js';
import { asInvalid, HttpError, invalid, reason } from './errors.js';
import { seq2seqAdapter } from './seq2seq.js';
import { taggerAdapter } from './tagger.js';

export type TaskName =
  | 'forecast'
  | 'text-classifier'
  | 'text-generator'
  | 'seq2seq'
  | 'tagger'
  | 'sequence-regression'
  | 'sequence-classification'
  | 'step-regression'
  | 'step-classification'
  | 'next-step';

/** A JSON Schema (draft 7 / OpenAPI 3.0 subset), as plain data. */
export type JsonSchema = Record<string, unknown>;

/** One instance checked and encoded, ready for a batch. Opaque outside its adapter. */
export interface Prepared {
  item: unknown;
  /** Steps the model will run over it (for the sequence-length limit). */
  steps: number;
  /** Padded steps it holds in a forward pass, for the pass's memory bound (default `steps`; seq2seq counts the beam). */
  cost?: number;
}

/** A prediction that failed for one instance of a batch (the others still get theirs). */
export class InstanceFailure {
  constructor(readonly error: HttpError) {}
}

export interface GenerateSupport {
  /** Tokens drawn when the request does not say (the recipe's default). */
  defaultLength: number;
  /** 'char' or 'word'. */
  tokenizer: string;
  /** Tokens the model reads for a prime (for the length limit). */
  countTokens(prime: string): number;
  /** A generator with a model of its own: concurrent generations must not share the recurrent state. */
  newSampler(): TextGenerator;
}

/** Fields of a predict request beside `instances` / `x` that say how to predict all its instances (seq2seq decoding). */
export interface RequestOptions {
  /** JSON Schemas of the fields, for validation and the OpenAPI document. */
  properties: Record<string, JsonSchema>;
  /** Values of the fields, for the documentation's example request. */
  example: Record<string, unknown>;
  /** The fields of a validated body, with defaults filled in, checked together (throws an HttpError 400 naming the field). */
  read(body: Record<string, unknown>): unknown;
}

export interface TaskAdapter {
  task: TaskName;
  /** One line for people: what an instance is, what comes back. */
  summary: string;
  /** JSON Schema of one instance (`x`, or an item of `instances`). */
  instanceSchema: JsonSchema;
  /** JSON Schema of one prediction. */
  predictionSchema: JsonSchema;
  /** An instance that fits the model, for the documentation. */
  example: unknown;
  /** Check and encode one instance (`options`: what `options.read` gave); throws an HttpError 400 naming `field`. */
  prepare(instance: unknown, field: string, options?: unknown): Prepared;
  /** One prediction per prepared item, in order (an InstanceFailure where one item fails). */
  predict(items: readonly unknown[]): unknown[];
  /** Request fields that say how to predict (seq2seq: beam, nbest, …). */
  options?: RequestOptions;
  generate?: GenerateSupport;
  /** A sequence-to-sequence model's description: tokenizers, vocabulary sizes, decoding defaults and limits. */
  seq2seq?: Record<string, unknown>;
  /** A tagger's description: its tags, span scheme, head and sentence limit. */
  tagger?: Record<string, unknown>;
  /** The model that predict() runs (for parameter counts and the backend). */
  model: AnyModel;
}

const num = { type: 'number' } as const;
const numbers = { type: 'array', items: num } as const;
const classResult = {
  type: 'object',
  required: ['label', 'probabilities'],
  properties: { label: { type: 'string' }, probabilities: { type: 'object', additionalProperties: num } },
} as const;

/** Each item predicted alone, so one bad item fails only its own request. */
function eachAlone<P extends { field: string }>(items: readonly unknown[], f: (item: P) => unknown): unknown[] {
  return items.map((item) => {
    try {
      return f(item as P);
    } catch (e) {
      if (e instanceof LstmkitError) {
        return new InstanceFailure(invalid((item as P).field, e instanceof DataError ? reason(e) : e.message));
      }
      throw e;
    }
  });
}

function describeOutput(config: ModelConfig): { task: TaskName; predictionSchema: JsonSchema; summary: string } {
  const { input, output } = config;
  const size = output.mode === 'next' ? (input.type === 'features' ? input.size : 1) : output.size ?? 1;
  const value: JsonSchema = size === 1 ? num : { ...numbers, minItems: size, maxItems: size };
  const what = size === 1 ? 'a number' : `${size} numbers`;
  if (output.mode === 'sequence' && output.type === 'regression') {
    return { task: 'sequence-regression', predictionSchema: value, summary: `a sequence in, ${what} out` };
  }
  if (output.mode === 'sequence') {
    return {
      task: 'sequence-classification', predictionSchema: classResult,
      summary: 'a sequence in, its class and the probability of each class out',
    };
  }
  if (output.mode === 'next') {
    return output.type === 'classification'
      ? { task: 'next-step', predictionSchema: classResult, summary: 'a sequence in, the distribution of its next token out' }
      : { task: 'next-step', predictionSchema: value, summary: `a sequence in, its next step (${what}) out` };
  }
  if (output.type === 'regression') {
    return { task: 'step-regression', predictionSchema: { type: 'array', items: value }, summary: `a sequence in, ${what} per step out` };
  }
  return {
    task: 'step-classification',
    predictionSchema: {
      type: 'object', required: ['labels', 'probabilities'],
      properties: { labels: { type: 'array', items: { type: 'string' } }, probabilities: { type: 'array', items: classResult.properties.probabilities } },
    },
    summary: 'a sequence in, a tag and its probabilities per step out',
  };
}

/** The JSONL `x` of a model's input, as a JSON Schema. */
function inputSchema(config: ModelConfig, maxSteps: number): { schema: JsonSchema; example: unknown } {
  const input = config.input;
  if (input.type === 'tokens') {
    return {
      schema: {
        description: `a text (split into ${input.tokenizer === 'word' ? 'words' : 'characters'}) or an array of tokens`,
        type: ['string', 'array'], items: { type: 'string' }, minItems: 1, maxItems: maxSteps,
      },
      example: input.vocabulary!.slice(2, 6).join(input.tokenizer === 'word' ? ' ' : ''),
    };
  }
  const step: JsonSchema = input.size === 1
    ? { description: 'a number (or an array of one number)', type: ['number', 'array'], items: num, minItems: 1, maxItems: 1 }
    : { description: `${input.size} numbers`, ...numbers, minItems: input.size, maxItems: input.size };
  return {
    schema: { description: `steps of ${input.size} number${input.size === 1 ? '' : 's'}`, type: 'array', items: step, minItems: 1, maxItems: maxSteps },
    example: [0, 1, 2].map(() => (input.size === 1 ? 0.5 : Array.from({ length: input.size }, () => 0.5))),
  };
}

/** Any SequenceModel: the JSONL `x` in, predictModel's shapes out. */
function genericAdapter(contents: ModelFileContents<ModelConfig>, source: string, maxSteps: number): TaskAdapter {
  const model = sequenceModelFromFile(contents, {}, source, 'the server');
  const { schema, example } = inputSchema(model.config, maxSteps);
  return {
    ...describeOutput(model.config),
    instanceSchema: schema,
    example,
    model,
    prepare(instance, field) {
      const example = asInvalid(field, () => (
        encodeRecord({ line: 0, value: { x: instance } }, model.config, { file: field, requireTarget: false })
      ));
      return { item: example, steps: example.steps };
    },
    predict: (items) => predictModel(model, items as Example[], Math.max(1, items.length)),
  };
}

function classifierAdapter(contents: ModelFileContents, source: string): TaskAdapter {
  const classifier = TextClassifier.fromModelFile(contents, { source });
  return {
    task: 'text-classifier',
    summary: 'a text in, its label and the probability of each label out',
    instanceSchema: { description: 'a text', type: 'string' },
    predictionSchema: classResult,
    example: 'a text to classify',
    model: classifier.model,
    prepare(instance, field) {
      const tokens = asInvalid(field, () => classifier.encode(instance as string));
      return { item: instance, steps: tokens.length };
    },
    predict: (items) => classifier.predict(items as string[], Math.max(1, items.length)),
  };
}

function generatorAdapter(contents: ModelFileContents, source: string): TaskAdapter {
  const generator = TextGenerator.fromModelFile(contents, { source });
  const classes = generator.vocabulary;
  return {
    task: 'text-generator',
    summary: 'a text in, the distribution of the next token out; POST …/generate samples continuations',
    instanceSchema: { description: 'a text (the context)', type: 'string' },
    predictionSchema: classResult,
    example: classes.slice(3, 7).join(generator.tokenizer === 'word' ? ' ' : ''),
    model: generator.model,
    prepare(instance, field) {
      const sequences = asInvalid(field, () => generator.encodeSequences(instance as string, field));
      let tokens = sequences[0];
      // Lines: <eos> text <eos>; the prediction is for what follows the text, so drop the closing <eos>.
      if (tokens && generator.unit === 'lines') tokens = tokens.subarray(0, tokens.length - 1);
      if (!tokens || tokens.length === 0) throw invalid(field, 'the text has no tokens; give the context to predict the next token of');
      const example: Example = { steps: tokens.length, x: null, tokens, yReg: null, yCls: null };
      return { item: example, steps: tokens.length };
    },
    predict: (items) => predictModel(generator.model, items as Example[], Math.max(1, items.length)),
    generate: {
      defaultLength: generator.unit === 'lines' ? 40 : 200,
      tokenizer: generator.tokenizer,
      countTokens: (prime) => generator.encodeSequences(prime, 'prime')[0]?.length ?? 0,
      newSampler: () => TextGenerator.fromModelFile(contents, { source }),
    },
  };
}

function forecastAdapter(contents: ModelFileContents, source: string, maxSteps: number): TaskAdapter {
  const forecaster = Forecaster.fromContents(contents, { source });
  const p = contents.preprocessing as ForecastPreprocessing;
  const columns = [...new Set([p.target, ...p.features])];
  const row: JsonSchema = {
    type: 'object',
    description: `one row of the table: "${p.dateColumn}" and the numeric column${columns.length > 1 ? 's' : ''} ${columns.map((c) => `"${c}"`).join(', ')}`,
    required: [p.dateColumn, ...columns],
    properties: Object.fromEntries([[p.dateColumn, { type: ['string', 'number'] }], ...columns.map((c) => [c, num])]),
  };
  const where = p.where ?? {};
  return {
    task: 'forecast',
    summary: `the latest rows of the series (at least lookback ${p.lookback} + history) in, the next ${p.horizon} values of "${p.target}" out`,
    instanceSchema: {
      description: 'rows of the series, in date order, the last one the forecast origin',
      type: 'array', items: row, minItems: 2, maxItems: maxSteps,
    },
    predictionSchema: {
      type: 'object', required: ['origin', 'dates', 'values'],
      properties: { origin: { type: 'string' }, dates: { type: 'array', items: { type: 'string' } }, values: numbers, naive: numbers, seasonalNaive: numbers },
    },
    example: [{ [p.dateColumn]: p.split.last, ...Object.fromEntries(columns.map((c) => [c, 0])) }],
    model: forecaster.model,
    prepare(instance, field) {
      // Rows of one series: the `where` columns the model was trained with need not be repeated.
      const rows = (instance as Record<string, unknown>[]).map((r) => ({ ...where, ...r }));
      return { item: { rows, field }, steps: rows.length };
    },
    // Each series is read and checked alone (a bad one fails only its request); the good ones run in one batched pass.
    predict: (items) => {
      const read = eachAlone<{ rows: Record<string, unknown>[]; field: string }>(items, ({ rows }) => {
        const series = forecaster.seriesOf(rows);
        originRow(series, forecaster.preprocessing, undefined);
        return series;
      });
      const forecasts = forecaster.forecastSeries(read.filter((r): r is TimeSeries => !(r instanceof InstanceFailure)));
      let next = 0;
      return read.map((r) => {
        if (r instanceof InstanceFailure) return r;
        const f = forecasts[next++]!;
        return { origin: f.origin, dates: f.dates, values: f.values, naive: f.naive, seasonalNaive: f.seasonalNaive };
      });
    },
  };
}

/** The task of a model file: the recipe's name in its preprocessing, else what its config says. */
export function taskOf(contents: ModelFileContents): TaskName | { unknown: string } {
  const pre = contents.preprocessing as { task?: unknown } | undefined;
  const config = contents.config;
  if (isSeq2Seq(config)) return pre?.task === undefined || pre.task === 'seq2seq' ? 'seq2seq' : { unknown: String(pre.task) };
  if (isTagger(config)) return pre?.task === undefined || pre.task === 'tagger' ? 'tagger' : { unknown: String(pre.task) };
  const { input, output } = config;
  if (pre !== undefined && pre !== null && typeof pre === 'object' && pre.task !== undefined) {
    if (pre.task === 'forecast' || pre.task === 'text-classifier' || pre.task === 'text-generator') return pre.task;
    return { unknown: String(pre.task) };
  }
  if (input.type === 'tokens' && output.mode === 'next' && output.type === 'classification') return 'text-generator';
  return describeOutput(config).task;
}

export interface AdapterOptions {
  /** Longest sequence accepted (steps, tokens, or rows of a forecast). */
  maxSteps: number;
  /** Seq2seq limits (ServerLimits; defaults as there). */
  maxBeam?: number;
  maxSourceLength?: number;
  maxOutputLength?: number;
}

/** The adapter for a loaded model file. */
export function adapterFor(file: ModelFileContents, source: string, opts: AdapterOptions): TaskAdapter {
  const task = taskOf(file);
  if (typeof task === 'object') {
    throw new DataError(
      `is a "${task.unknown}" model; the server knows forecast, text-classifier, text-generator, seq2seq and tagger models and plain sequence models, ` +
      'and cannot redo the preprocessing of this one',
      source,
    );
  }
  if (task === 'seq2seq') return seq2seqAdapter(file as ModelFileContents<Seq2SeqConfig>, source, opts);
  if (task === 'tagger') return taggerAdapter(file as ModelFileContents<TaggerConfig>, source, opts);
  const contents = sequenceContents(file, source, 'the server');
  switch (task) {
    case 'forecast':
      return forecastAdapter(contents, source, opts.maxSteps);
    case 'text-classifier':
      return classifierAdapter(contents, source);
    case 'text-generator':
      return generatorAdapter(contents, source);
    default:
      return genericAdapter(contents, source, opts.maxSteps);
  }
}
