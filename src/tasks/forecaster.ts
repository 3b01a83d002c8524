// The forecaster recipe: a table with a date column, a target and optional
// numeric features in; an LSTM that looks back `lookback` steps and predicts
// the next `horizon` steps at once (one output per step ahead, the "direct"
// multi-output strategy of Keras' Dense(horizon) head); forecasts, and an
// evaluation against the naive and seasonal-naive baselines, out.
//
// The data, in order:
//   1. A regular series (data/timeseries.ts): dates parsed, their order checked,
//      the frequency inferred, gaps an error (or interpolated on request).
//   2. A chronological split: train | validation | test, by row.
//   3. Scalers fitted on the training rows only, stored in the model file.
//   4. Inputs per step: the target — its change from the step before
//      ('delta' and 'drift') or its level ('level') — then the features'
//      levels, then sin/cos of the step's phase in the season (calendar).
//   5. Outputs, standardized per step ahead h, added back to an anchor:
//      'delta' (default): y[t+h] − y[t], the change from the last value;
//      'drift': y[t+h] − (y[t] + h·d), d the mean change per step over the
//      last season (y[t] − y[t−m]) / m; 'level': y[t+h] itself.
//
// Why changes by default: a series with a trend (CO2) leaves the training
// range in the test period; a network fed levels must extrapolate, and an
// LSTM does not. Changes stay in range, the forecast is anchored at the last
// value (so "no change" — the naive forecast — is the easy answer the network
// improves on), and the seasonal shape is learnt from the changes and the
// calendar. 'drift' goes one step further for a trend that steepens: the easy
// answer becomes "last value plus last year's pace", and the network learns
// the season around it. List the target among the features to feed its level
// as well (useful where the level mean-reverts, like a temperature).
//
// Browser-safe: save() and load() import the Node file layer on demand.

import type { Backend } from '../kernels/backend.js';
import { DataError, FormatError, ValueError } from '../core/errors.js';
import { tableFromRecords, type CsvTable } from '../data/csv.js';
import { addPeriods, describeFrequency, defaultSeason, formatDate, parseDate, parseFrequency, seasonPhase, type Frequency } from '../data/dates.js';
import type { Example } from '../data/encode.js';
import { Scaler, type ScalerKind, type ScalerState } from '../data/scaler.js';
import { buildSeries, type GapPolicy, type TimeSeries } from '../data/timeseries.js';
import { windowExamples, windowOrigins } from '../data/window.js';
import { decodeModelFile, encodeModelFile, modelFromFile, type ModelFileContents } from '../io/modelfile.js';
import type { ModelConfig, TrainConfig } from '../model/config.js';
import { SequenceModel } from '../model/model.js';
import { predictModel } from '../model/predict.js';
import { Trainer, type Callbacks, type EpochLog } from '../train/trainer.js';
import { ErrorAccumulator, naiveForecast, seasonalNaiveForecast, seasonalNaiveScale, type ErrorMetrics } from './baselines.js';
import { COLORS, type ChartSeries, type ChartSpec } from './chart.js';
import { DEFAULT_FORECAST_TRAIN } from './forecast-defaults.js';

export { DEFAULT_FORECAST_TRAIN } from './forecast-defaults.js';

export type TargetTransform = 'delta' | 'drift' | 'level';

type Shape = Pick<ForecastPreprocessing, 'lookback' | 'season' | 'transform'>;

/** Steps the drift is measured over: one season, or the lookback when there is no season. */
function driftSpan(p: Shape): number {
  return p.season > 1 ? p.season : p.lookback;
}

/** The first row that can be an origin for the model: a full lookback window (and the row before it, for changes) and, for 'drift', one drift span. */
function modelFirstOrigin(p: Shape): number {
  return Math.max(p.lookback - 1 + (p.transform === 'level' ? 0 : 1), p.transform === 'drift' ? driftSpan(p) : 0);
}

/** What the model's (unscaled) output for step h is added to: nothing ('level'), the last value ('delta'), the last value plus h steps of the drift over the last season ('drift'). */
function anchorValue(p: Shape, y: Float64Array, t: number, h: number): number {
  if (p.transform === 'level') return 0;
  if (p.transform === 'delta') return y[t]!;
  const span = driftSpan(p);
  return y[t]! + (h * (y[t]! - y[t - span]!)) / span;
}

export interface ForecasterModelOptions {
  cell?: 'lstm' | 'gru' | 'rnn';
  hiddenSize?: number;
  numLayers?: number;
  dropout?: number;
}

export interface ForecasterOptions {
  dateColumn: string;
  /** The column to forecast. */
  target: string;
  /** Numeric columns fed as inputs (their levels, scaled). List the target to feed its level too. */
  features?: string[];
  /** Keep only rows whose cells equal these values: one series of a long table ({symbol: 'AAPL'}). */
  where?: Record<string, string>;
  /** Steps the model sees. */
  lookback: number;
  /** Steps it predicts at once. */
  horizon: number;
  /** Season length in steps: the seasonal-naive lag, the MASE scale and the calendar features. Default by frequency: 12 monthly, 4 quarterly, 7 daily, 24 hourly, 52 weekly. */
  season?: number;
  /**
   * What the model predicts. 'delta' (default): the change from the last value. 'drift': the
   * change from the last value plus h times the mean change per step over the last season (for a
   * trend that steepens, like CO2). 'level': the level. The target's input is its change for
   * 'delta' and 'drift', its level for 'level'.
   */
  transform?: TargetTransform;
  /** Default 'standard'. */
  scaler?: ScalerKind;
  /** Add sin/cos of the phase in the season as inputs (default: when season > 1). */
  calendar?: boolean;
  /** Missing steps: an error (default) or filled by linear interpolation. */
  gaps?: GapPolicy;
  /** The step between rows ('daily', 'monthly', …); inferred from the dates when left out. */
  frequency?: Frequency | string;
  /** Validation part: a fraction of the rows (< 1) or a number of rows (default 0.15). */
  validationSize?: number;
  /** Test part, at the end: a fraction of the rows (< 1) or a number of rows (default 0.15). */
  testSize?: number;
  model?: ForecasterModelOptions;
  /** Training settings (defaults: 100 epochs, batch 32, Adam lr 0.003, clipNorm 1, early stopping with patience 10, seed 0). */
  train?: TrainConfig;
  callbacks?: Callbacks;
  backend?: Backend;
}

/** Everything the model file stores besides weights: enough to rebuild the inputs and undo the scaling. */
export interface ForecastPreprocessing {
  task: 'forecast';
  version: 1;
  dateColumn: string;
  target: string;
  features: string[];
  where: Record<string, string> | null;
  lookback: number;
  horizon: number;
  season: number;
  transform: TargetTransform;
  calendar: boolean;
  gaps: GapPolicy;
  frequency: Frequency;
  /** Columns: the target input (change or level), then the features. */
  inputScaler: ScalerState;
  /** Columns: one per step ahead. */
  outputScaler: ScalerState;
  /** Q, the MASE denominator: in-sample seasonal-naive MAE over the training rows. */
  maseScale: number;
  split: { source: string; rows: number; first: string; trainEnd: string; validationStart: string | null; testStart: string | null; last: string };
}

export interface ForecastEvaluation {
  /** First and last target dates. */
  from: string;
  to: string;
  origins: number;
  horizon: number;
  season: number;
  frequency: string;
  maseScale: number;
  /** The model's label (LSTM, GRU, RNN). */
  modelName: string;
  metrics: { model: ErrorMetrics; naive: ErrorMetrics; seasonalNaive: ErrorMetrics };
  /** MAE per step ahead (index h − 1). */
  byHorizon: { model: number[]; naive: number[]; seasonalNaive: number[] };
  /** Per origin (the last observed step) the forecasts, for charts and tables. */
  backtest: { originRows: number[]; model: Float64Array; naive: Float64Array; seasonalNaive: Float64Array }; // each [origins, horizon]
  series: TimeSeries;
  target: string;
  /** First row of the evaluation period. */
  startRow: number;
}

export interface Forecast {
  origin: string;
  originRow: number;
  dates: string[];
  times: number[];
  values: number[];
  naive: number[];
  seasonalNaive: number[];
  /** The actual values where the data goes on past the origin, else null. */
  actual: (number | null)[];
  series: TimeSeries;
  target: string;
  modelName: string;
}

type Data = CsvTable | readonly Record<string, unknown>[];

function toTable(data: Data): CsvTable {
  return Array.isArray(data) ? tableFromRecords(data as Record<string, unknown>[]) : (data as CsvTable);
}

function positiveInt(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new ValueError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

/** Rows in a part: a fraction of all rows (< 1) or a row count. */
function partRows(size: number, rows: number, name: string): number {
  if (!(size >= 0) || (size >= 1 && !Number.isInteger(size))) throw new ValueError(`${name} must be a fraction in [0, 1) or a whole number of rows, got ${size}`);
  return size < 1 ? Math.round(size * rows) : size;
}

/** The preprocessing metadata of a model file, checked field by field against its config. */
function checkPreprocessing(p: Partial<ForecastPreprocessing>, config: ModelConfig, source: string): void {
  const bad = (field: string, expected: string) => new FormatError(`${source}: preprocessing.${field} is not ${expected}`);
  for (const field of ['lookback', 'horizon', 'season'] as const) if (!Number.isInteger(p[field]) || p[field]! < 1) throw bad(field, 'a positive integer');
  for (const field of ['dateColumn', 'target'] as const) if (typeof p[field] !== 'string') throw bad(field, 'a column name');
  if (!Array.isArray(p.features) || !p.features.every((f) => typeof f === 'string')) throw bad('features', 'a list of column names');
  if (p.transform !== 'delta' && p.transform !== 'drift' && p.transform !== 'level') throw bad('transform', "'delta', 'drift' or 'level'");
  if (p.gaps !== 'error' && p.gaps !== 'interpolate') throw bad('gaps', "'error' or 'interpolate'");
  const f = p.frequency as Record<string, unknown> | undefined;
  if (!f || !(Number.isInteger(f.months) || Number.isInteger(f.ms))) throw bad('frequency', 'a frequency ({months} or {ms})');
  if (typeof p.maseScale !== 'number' || typeof p.calendar !== 'boolean' || typeof p.split !== 'object' || p.split === null) throw bad('maseScale, calendar or split', 'set');
  const inputs = Scaler.fromJSON(p.inputScaler, `${source}: preprocessing.inputScaler`);
  const outputs = Scaler.fromJSON(p.outputScaler, `${source}: preprocessing.outputScaler`);
  const size = 1 + p.features.length + (p.calendar ? 2 : 0);
  if (config.input.type !== 'features' || config.input.size !== size || inputs.columns !== 1 + p.features.length) throw new FormatError(`${source}: the model takes ${config.input.type === 'features' ? config.input.size : 'token'} inputs per step, its forecaster preprocessing makes ${size}`);
  if ((config.output.size ?? 1) !== p.horizon || outputs.columns !== p.horizon) throw new FormatError(`${source}: the model predicts ${config.output.size ?? 1} steps, its forecaster preprocessing says horizon ${p.horizon}`);
}

export class Forecaster {
  /** Training history (empty for a loaded forecaster). */
  history: EpochLog[] = [];
  bestEpoch = 0;
  /** The series it was fitted on (not stored in the file). */
  private fitted: TimeSeries | undefined;

  private readonly inputScaler: Scaler;
  private readonly outputScaler: Scaler;

  private constructor(readonly model: SequenceModel, readonly preprocessing: ForecastPreprocessing) {
    this.inputScaler = Scaler.fromJSON(preprocessing.inputScaler, 'preprocessing.inputScaler');
    this.outputScaler = Scaler.fromJSON(preprocessing.outputScaler, 'preprocessing.outputScaler');
  }

  /** The model's name for tables and charts: LSTM, GRU or RNN. */
  get modelName(): string {
    return this.model.config.rnn.cell.toUpperCase();
  }

  get inputFeatures(): number {
    const p = this.preprocessing;
    return 1 + p.features.length + (p.calendar ? 2 : 0);
  }

  /** The first row a forecast can start from: the model's window and the seasonal-naive baseline's season. */
  private get firstOrigin(): number {
    return Math.max(modelFirstOrigin(this.preprocessing), this.preprocessing.season - 1);
  }

  /** Split the data, fit scalers on the training rows, train the model with early stopping on the validation rows. */
  static async fit(data: Data, options: ForecasterOptions): Promise<Forecaster> {
    const table = toTable(data);
    const lookback = positiveInt(options.lookback, 'lookback');
    const horizon = positiveInt(options.horizon, 'horizon');
    const features = [...(options.features ?? [])];
    const transform = options.transform ?? 'delta';
    if (transform !== 'delta' && transform !== 'drift' && transform !== 'level') throw new ValueError(`transform must be 'delta', 'drift' or 'level', got ${JSON.stringify(transform)}`);
    const gaps = options.gaps ?? 'error';
    const frequencyOpt = typeof options.frequency === 'string' ? parseFrequency(options.frequency) : options.frequency;
    const roles: Record<string, string> = { [options.target]: 'target column' };
    for (const f of features) roles[f] ??= 'feature column';
    const series = buildSeries(table, {
      dateColumn: options.dateColumn, columns: [...new Set([options.target, ...features])], roles, gaps,
      ...(options.where ? { where: options.where } : {}), ...(frequencyOpt ? { frequency: frequencyOpt } : {}),
    });
    const season = options.season === undefined ? defaultSeason(series.frequency) : positiveInt(options.season, 'season');
    const calendar = (options.calendar ?? season > 1) && season > 1;
    const n = series.times.length;
    const testRows = partRows(options.testSize ?? 0.15, n, 'testSize');
    const valRows = partRows(options.validationSize ?? 0.15, n, 'validationSize');
    const trainEnd = n - testRows - valRows;
    const shape: Shape = { lookback, season, transform };
    const needTrain = Math.max(modelFirstOrigin(shape) + 1 + horizon, season + 1);
    const where = options.where && Object.keys(options.where).length ? ` where ${Object.entries(options.where).map(([k, v]) => `${k} = ${v}`).join(', ')}` : '';
    const short = (testRows > 0 && testRows < horizon) || (valRows > 0 && valRows < horizon) || trainEnd < needTrain;
    if (short) {
      const needAll = needTrain + (valRows > 0 ? Math.max(valRows, horizon) : 0) + (testRows > 0 ? Math.max(testRows, horizon) : 0);
      throw new DataError(
        `too few rows for the window: ${n} rows${where}${series.filled ? ` (${series.filled} filled in)` : ''} split into ${Math.max(0, trainEnd)} training, ${valRows} validation and ${testRows} test rows; ` +
        `lookback ${lookback} and horizon ${horizon}${season > 1 ? ` with season ${season}` : ''} need at least ${needTrain} training rows${valRows > 0 ? `, ${horizon} validation` : ''}${testRows > 0 ? `, ${horizon} test` : ''} (about ${needAll} rows in all). ` +
        'Use a shorter lookback or horizon, smaller validation/test parts, or more data', series.source);
    }
    const target = series.values[options.target]!;

    // Scalers: training rows only.
    const scalerKind = options.scaler ?? 'standard';
    const targetIn = transform !== 'level' ? Float64Array.from({ length: trainEnd - 1 }, (_, i) => target[i + 1]! - target[i]!) : target.subarray(0, trainEnd);
    const inputScaler = Scaler.fit(scalerKind, [targetIn, ...features.map((f) => series.values[f]!.subarray(0, trainEnd))]);
    const outColumns = Array.from({ length: horizon }, (_, k) => {
      const h = k + 1;
      const first = modelFirstOrigin(shape);
      return Float64Array.from({ length: trainEnd - h - first }, (_, i) => target[first + i + h]! - anchorValue(shape, target, first + i, h));
    });
    const outputScaler = Scaler.fit(scalerKind, outColumns);
    const maseScale = seasonalNaiveScale(target, season, trainEnd);
    const at = (row: number) => formatDate(series.times[row]!);
    const preprocessing: ForecastPreprocessing = {
      task: 'forecast', version: 1, dateColumn: options.dateColumn, target: options.target, features, where: options.where && Object.keys(options.where).length ? { ...options.where } : null,
      lookback, horizon, season, transform, calendar, gaps, frequency: series.frequency,
      inputScaler: inputScaler.toJSON(), outputScaler: outputScaler.toJSON(), maseScale,
      split: { source: series.source, rows: n, first: at(0), trainEnd: at(trainEnd - 1), validationStart: valRows > 0 ? at(trainEnd) : null, testStart: testRows > 0 ? at(n - testRows) : null, last: at(n - 1) },
    };

    const m = options.model ?? {};
    const train: TrainConfig = { ...DEFAULT_FORECAST_TRAIN, ...options.train };
    const config: ModelConfig = {
      input: { type: 'features', size: 1 + features.length + (calendar ? 2 : 0) },
      rnn: { cell: m.cell ?? 'lstm', hiddenSize: m.hiddenSize ?? 32, ...(m.numLayers ? { numLayers: m.numLayers } : {}), ...(m.dropout ? { dropout: m.dropout } : {}) },
      output: { mode: 'sequence', type: 'regression', size: horizon },
      train,
    };
    const model = new SequenceModel(config, { seed: train.seed ?? 0, ...(options.backend ? { backend: options.backend } : {}) });
    const forecaster = new Forecaster(model, preprocessing);
    forecaster.fitted = series;

    const inputs = forecaster.inputMatrix(series);
    const spec = { lookback, horizon };
    const firstOrigin = modelFirstOrigin(shape);
    const trainOrigins = windowOrigins(spec, { targetStart: 0, targetEnd: trainEnd }).filter((t) => t >= firstOrigin);
    const valOrigins = valRows > 0 ? windowOrigins(spec, { targetStart: trainEnd, targetEnd: trainEnd + valRows }).filter((t) => t >= firstOrigin) : [];
    const examples = (origins: number[]) => windowExamples(inputs, forecaster.inputFeatures, origins, lookback, (t) => forecaster.scaledTargets(target, t));
    const trainer = new Trainer(model, train);
    const validation = examples(valOrigins);
    await trainer.fit(examples(trainOrigins), { ...(validation.length ? { validation } : {}), ...(options.callbacks ? { callbacks: options.callbacks } : {}) });
    forecaster.history = trainer.history;
    forecaster.bestEpoch = trainer.getState().bestEpoch;
    return forecaster;
  }

  /** A forecaster from model file bytes or decoded contents (browser-safe). */
  static fromModelFile(file: Uint8Array | ModelFileContents, opts: { backend?: Backend; source?: string } = {}): Forecaster {
    const source = opts.source ?? '<model>';
    const contents = file instanceof Uint8Array ? decodeModelFile(file, source) : file;
    const p = contents.preprocessing as Partial<ForecastPreprocessing> | undefined;
    if (!p || p.task !== 'forecast') throw new DataError('is not a forecaster (its preprocessing metadata has no task "forecast"); train one with `lstmkit forecast train`', source);
    if (p.version !== 1) throw new DataError(`holds forecaster preprocessing version ${String(p.version)}; this lstmkit reads version 1`, source);
    checkPreprocessing(p, contents.config, source);
    const model = modelFromFile(contents, opts.backend ? { backend: opts.backend } : {}, source);
    return new Forecaster(model, p as ForecastPreprocessing);
  }

  /** Same as fromModelFile with decoded contents. */
  static fromContents(contents: ModelFileContents, opts: { backend?: Backend; source?: string } = {}): Forecaster {
    return Forecaster.fromModelFile(contents, opts);
  }

  /** Load from a model file or a run directory (Node). */
  static async load(path: string, opts: { backend?: Backend } = {}): Promise<Forecaster> {
    const { readModelFile } = await import('../io/modelpath.js');
    const contents = await readModelFile(path);
    return Forecaster.fromModelFile(contents, { ...opts, source: contents.path });
  }

  /** The model file's bytes: weights, config, preprocessing and training facts. */
  toBytes(training?: unknown): Uint8Array {
    return encodeModelFile(this.model, { preprocessing: this.preprocessing, training: training ?? this.trainingFacts() });
  }

  /** Write the model file atomically (Node). */
  async save(path: string, training?: unknown): Promise<void> {
    const { saveModel } = await import('../io/modelpath.js');
    await saveModel(path, this.model, { preprocessing: this.preprocessing, training: training ?? this.trainingFacts() });
  }

  private trainingFacts(): unknown {
    return { epochs: this.history.length, bestEpoch: this.bestEpoch, history: this.history.map(({ epoch, loss, val }) => ({ epoch, loss, valLoss: val?.loss ?? null })), savedAt: new Date().toISOString() };
  }

  /** The regular series of a table, read with the settings the forecaster was fitted with. */
  seriesOf(data: Data): TimeSeries {
    const p = this.preprocessing;
    const table = toTable(data);
    const roles: Record<string, string> = { [p.target]: 'target column' };
    for (const f of p.features) roles[f] ??= 'feature column';
    const options = { dateColumn: p.dateColumn, columns: [...new Set([p.target, ...p.features])], roles, gaps: p.gaps, ...(p.where ? { where: p.where } : {}) };
    // Infer the step from this table first, so daily data for a monthly model is named as such, not as a gap.
    const inferred = buildSeries(table, { ...options, gaps: 'interpolate' }).frequency;
    if (JSON.stringify(inferred) !== JSON.stringify(p.frequency)) {
      throw new DataError(`the forecaster was trained on ${describeFrequency(p.frequency)} data, this table is ${describeFrequency(inferred)}`, table.source);
    }
    return buildSeries(table, { ...options, frequency: p.frequency });
  }

  private data(data: Data | undefined): TimeSeries {
    if (data !== undefined) return this.seriesOf(data);
    if (!this.fitted) throw new ValueError('pass the data: a loaded forecaster does not keep the table it was trained on');
    return this.fitted;
  }

  /** [rows, features] model inputs: target change (or level), feature levels (scaled), then sin/cos of the season phase. */
  private inputMatrix(series: TimeSeries): Float32Array {
    const p = this.preprocessing;
    const scaler = this.inputScaler;
    const F = this.inputFeatures;
    const n = series.times.length;
    const y = series.values[p.target]!;
    const out = new Float32Array(n * F); // [n, F]
    for (let r = 0; r < n; r++) {
      const base = r * F;
      out[base] = p.transform !== 'level' ? (r === 0 ? 0 : scaler.transform(y[r]! - y[r - 1]!, 0)) : scaler.transform(y[r]!, 0);
      p.features.forEach((f, j) => (out[base + 1 + j] = scaler.transform(series.values[f]![r]!, j + 1)));
      if (p.calendar) {
        const phase = seasonPhase(series.times[r]!, p.frequency, p.season);
        out[base + F - 2] = Math.sin(2 * Math.PI * phase);
        out[base + F - 1] = Math.cos(2 * Math.PI * phase);
      }
    }
    return out;
  }

  /** [horizon] scaled training targets from origin t. */
  private scaledTargets(y: Float64Array, t: number): Float32Array {
    const p = this.preprocessing;
    const scaler = this.outputScaler;
    return Float32Array.from({ length: p.horizon }, (_, k) => scaler.transform(y[t + k + 1]! - anchorValue(p, y, t, k + 1), k));
  }

  /** [origins, horizon] forecasts in the target's units. */
  private predictOrigins(series: TimeSeries, origins: readonly number[]): Float64Array {
    return this.predictMany([{ series, origins }])[0]!;
  }

  /** [origins, horizon] forecasts in the target's units for several series, in one batched pass. */
  private predictMany(jobs: readonly { series: TimeSeries; origins: readonly number[] }[]): Float64Array[] {
    const p = this.preprocessing;
    const H = p.horizon;
    const examples: Example[] = jobs.flatMap(({ series, origins }) => windowExamples(this.inputMatrix(series), this.inputFeatures, origins, p.lookback));
    const predictions = predictModel(this.model, examples, 256);
    let at = 0;
    return jobs.map(({ series, origins }) => {
      const y = series.values[p.target]!;
      const out = new Float64Array(origins.length * H); // [origins, H]
      origins.forEach((t, i) => {
        const pred = predictions[at++]!;
        const values = typeof pred === 'number' ? [pred] : (pred as number[]);
        for (let k = 0; k < H; k++) out[i * H + k] = anchorValue(p, y, t, k + 1) + this.outputScaler.inverse(values[k]!, k);
      });
      return out;
    });
  }

  private rowAt(series: TimeSeries, date: string | number, what: string): number {
    const time = typeof date === 'number' ? date : parseDate(date);
    if (time === null) throw new ValueError(`${what} ${JSON.stringify(date)} is not a date`);
    const row = series.times.findIndex((t) => t >= time);
    return row === -1 ? series.times.length : row;
  }

  /**
   * Rolling-origin evaluation: a forecast of `horizon` steps from every origin
   * whose targets lie in the period from `from` (default: the test part of the
   * fit) to the end of the data, scored with MAE, RMSE and MASE beside the
   * naive and seasonal-naive forecasts from the same origins.
   */
  evaluate(data?: Data, opts: { from?: string | number } = {}): ForecastEvaluation {
    const p = this.preprocessing;
    const series = this.data(data);
    const from = opts.from ?? p.split.testStart;
    if (from === null) throw new ValueError('the forecaster was fitted without a test part; say where the evaluation period starts (from)');
    const start = this.rowAt(series, from, 'from');
    const n = series.times.length;
    const H = p.horizon;
    const origins = windowOrigins({ lookback: p.lookback, horizon: H }, { targetStart: start, targetEnd: n }).filter((t) => t >= this.firstOrigin);
    if (origins.length === 0) {
      throw new DataError(`nothing to evaluate: the period from ${typeof from === 'number' ? formatDate(from) : from} has ${n - start} rows; horizon ${H} needs at least ${H}, after ${this.firstOrigin + 1} rows of history`, series.source);
    }
    const y = series.values[p.target]!;
    const model = this.predictOrigins(series, origins);
    const naive = new Float64Array(origins.length * H);
    const seasonal = new Float64Array(origins.length * H);
    const acc = { model: new ErrorAccumulator(), naive: new ErrorAccumulator(), seasonalNaive: new ErrorAccumulator() };
    const perStep = { model: new Float64Array(H), naive: new Float64Array(H), seasonalNaive: new Float64Array(H) };
    origins.forEach((t, i) => {
      naive.set(naiveForecast(y, t, H), i * H);
      seasonal.set(seasonalNaiveForecast(y, t, H, p.season), i * H);
      for (let k = 0; k < H; k++) {
        const actual = y[t + k + 1]!;
        const j = i * H + k;
        acc.model.add(model[j]!, actual);
        acc.naive.add(naive[j]!, actual);
        acc.seasonalNaive.add(seasonal[j]!, actual);
        perStep.model[k]! += Math.abs(model[j]! - actual) / origins.length;
        perStep.naive[k]! += Math.abs(naive[j]! - actual) / origins.length;
        perStep.seasonalNaive[k]! += Math.abs(seasonal[j]! - actual) / origins.length;
      }
    });
    return {
      from: formatDate(series.times[origins[0]! + 1]!), to: formatDate(series.times[origins[origins.length - 1]! + H]!),
      origins: origins.length, horizon: H, season: p.season, frequency: describeFrequency(p.frequency), maseScale: p.maseScale, modelName: this.modelName,
      metrics: { model: acc.model.result(p.maseScale), naive: acc.naive.result(p.maseScale), seasonalNaive: acc.seasonalNaive.result(p.maseScale) },
      byHorizon: { model: [...perStep.model], naive: [...perStep.naive], seasonalNaive: [...perStep.seasonalNaive] },
      backtest: { originRows: origins, model, naive, seasonalNaive: seasonal },
      series, target: p.target, startRow: start,
    };
  }

  /** Forecast `horizon` steps past an origin (default: the last row), with the baselines and any actuals that follow it. */
  forecast(data?: Data, opts: { origin?: string | number } = {}): Forecast {
    const series = this.data(data);
    const origin = this.originRow(series, opts.origin);
    return this.assemble(series, origin, this.predictOrigins(series, [origin]));
  }

  /** Forecasts past the last row of each of several tables (one series each), in one batched forward pass. */
  forecastMany(data: readonly Data[]): Forecast[] {
    const jobs = data.map((d) => {
      const series = this.seriesOf(d);
      return { series, origins: [this.originRow(series, undefined)] };
    });
    const values = this.predictMany(jobs);
    return jobs.map(({ series, origins }, i) => this.assemble(series, origins[0]!, values[i]!));
  }

  /** The row of the origin (default: the last), checked to have enough history before it. */
  private originRow(series: TimeSeries, date: string | number | undefined): number {
    const p = this.preprocessing;
    const n = series.times.length;
    let origin = n - 1;
    if (date !== undefined) {
      origin = this.rowAt(series, date, 'origin');
      if (origin >= n || series.times[origin] !== (typeof date === 'number' ? date : parseDate(date))) {
        throw new DataError(`the origin ${typeof date === 'number' ? formatDate(date) : date} is not a date of the series (${formatDate(series.times[0]!)} … ${formatDate(series.times[n - 1]!)}, ${describeFrequency(p.frequency)})`, series.source);
      }
    }
    const needed = this.firstOrigin;
    if (origin < needed) {
      throw new DataError(`too few rows before the origin ${formatDate(series.times[origin]!)}: ${origin + 1}, the forecaster needs ${needed + 1} (lookback ${p.lookback}${p.transform !== 'level' ? ' plus one for the first change' : ''}${p.transform === 'drift' ? `, ${driftSpan(p)} for the drift` : ''}${p.season > 1 ? `, season ${p.season} for the seasonal-naive forecast` : ''})`, series.source);
    }
    return origin;
  }

  private assemble(series: TimeSeries, origin: number, forecast: Float64Array): Forecast {
    const p = this.preprocessing;
    const H = p.horizon;
    const n = series.times.length;
    const y = series.values[p.target]!;
    const times = Array.from({ length: H }, (_, k) => addPeriods(series.times[origin]!, p.frequency, k + 1));
    return {
      origin: formatDate(series.times[origin]!), originRow: origin, times, dates: times.map(formatDate), values: [...forecast],
      naive: [...naiveForecast(y, origin, H)], seasonalNaive: [...seasonalNaiveForecast(y, origin, H, p.season)],
      actual: times.map((_, k) => (origin + k + 1 < n ? y[origin + k + 1]! : null)),
      series, target: p.target, modelName: this.modelName,
    };
  }
}

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th';
  return `${n}${suffix}`;
}

function pct(a: number, b: number): string {
  return `${Math.abs(Math.round((1 - a / b) * 100))}%`;
}

/** The metrics table and a plain-words verdict against each baseline. */
export function formatEvaluation(e: ForecastEvaluation, digits = 3): string {
  const rows: [string, ErrorMetrics][] = [[e.modelName, e.metrics.model], ['naive (last value)', e.metrics.naive], [`seasonal naive (m=${e.season})`, e.metrics.seasonalNaive]];
  const w = Math.max(6, ...rows.map(([name]) => name.length));
  const num = (v: number) => v.toFixed(digits).padStart(10);
  const lines = [
    `${e.target}: ${e.origins} forecasts of ${e.horizon} step${e.horizon === 1 ? '' : 's'} (${e.frequency}), targets ${e.from} … ${e.to}`,
    `${'method'.padEnd(w)}  ${'MAE'.padStart(10)}  ${'RMSE'.padStart(10)}  ${'MASE'.padStart(10)}`,
    ...rows.map(([name, m]) => `${name.padEnd(w)}  ${num(m.mae)}  ${num(m.rmse)}  ${num(m.mase)}`),
    `MASE = MAE / ${e.maseScale.toFixed(digits)}, the in-sample MAE of the one-step seasonal-naive forecast (m = ${e.season}) on the training rows`,
  ];
  for (const [name, base] of [['the naive last-value forecast', e.metrics.naive], ['the seasonal-naive forecast', e.metrics.seasonalNaive]] as const) {
    const m = e.metrics.model.mae;
    lines.push(m < base.mae
      ? `${e.modelName} beats ${name}: MAE ${pct(m, base.mae)} lower (${m.toFixed(digits)} vs ${base.mae.toFixed(digits)}).`
      : `${e.modelName} does NOT beat ${name}: its MAE is ${m === base.mae ? 'the same' : `${pct(m, base.mae)} higher`} (${m.toFixed(digits)} vs ${base.mae.toFixed(digits)}).`);
  }
  return lines.join('\n');
}

/** The evaluation as a chart: recent history (`context` rows, default as many as the evaluation period), the actuals of the evaluation period, forecasts from every horizon-th origin, and the baselines. */
export function evaluationChart(e: ForecastEvaluation, opts: { title?: string; context?: number } = {}): ChartSpec {
  const { series, backtest, horizon: H } = e;
  const y = series.values[e.target]!;
  const n = series.times.length;
  const context = opts.context ?? Math.max(n - e.startRow, Math.min(3 * e.season, 120));
  const first = Math.max(0, e.startRow - context);
  const slice = (a: number, b: number) => ({ times: series.times.slice(a, b), values: y.subarray(a, b) });
  // Non-overlapping forecasts: every H-th origin, each line starting at its origin's actual value.
  const pick = backtest.originRows.map((t, i) => ({ t, i })).filter((_, i) => i % H === 0);
  const segments = (values: Float64Array) => pick.map(({ t, i }) => ({
    times: [series.times[t]!, ...Array.from({ length: H }, (_, k) => series.times[t + k + 1]!)],
    values: [y[t]!, ...values.subarray(i * H, (i + 1) * H)],
  }));
  const m = e.metrics;
  const chartSeries: ChartSeries[] = [
    { label: 'history', color: COLORS.history, segments: [slice(first, e.startRow)], width: 1.2 },
    { label: 'actual', color: COLORS.actual, segments: [slice(Math.max(0, e.startRow - 1), n)], width: 1.6 },
    { label: `seasonal naive (MAE ${m.seasonalNaive.mae.toPrecision(3)})`, color: COLORS.seasonalNaive, segments: segments(backtest.seasonalNaive), dashed: true, width: 1.2 },
    { label: `naive (MAE ${m.naive.mae.toPrecision(3)})`, color: COLORS.naive, segments: segments(backtest.naive), dashed: true, width: 1.2 },
    { label: `${e.modelName} forecast (MAE ${m.model.mae.toPrecision(3)})`, color: COLORS.forecast, segments: segments(backtest.model), width: 2 },
  ];
  return {
    title: opts.title ?? `${e.target}: ${e.modelName} forecasts vs actuals`,
    subtitle: `${e.horizon}-step forecasts from every ${H === 1 ? '' : `${ordinal(H)} `}origin, ${e.from} … ${e.to}; MASE ${e.modelName} ${m.model.mase.toFixed(3)}, naive ${m.naive.mase.toFixed(3)}, seasonal naive ${m.seasonalNaive.mase.toFixed(3)}`,
    spans: [{ from: series.times[e.startRow]!, to: series.times[n - 1]!, label: 'evaluation period' }],
    series: chartSeries,
  };
}

/** A forecast as a chart: history up to the origin, the forecast and baselines after it, and the actuals if known. */
export function forecastChart(f: Forecast, opts: { title?: string; context?: number } = {}): ChartSpec {
  const { series } = f;
  const y = series.values[f.target]!;
  const H = f.times.length;
  const first = Math.max(0, f.originRow + 1 - (opts.context ?? Math.max(4 * H, 48)));
  const anchor = (values: readonly number[]) => ({ times: [series.times[f.originRow]!, ...f.times], values: [y[f.originRow]!, ...values] });
  const actualTimes = f.times.filter((_, k) => f.actual[k] !== null);
  const chartSeries: ChartSeries[] = [
    { label: 'history', color: COLORS.history, segments: [{ times: series.times.slice(first, f.originRow + 1), values: y.subarray(first, f.originRow + 1) }], width: 1.4 },
  ];
  if (actualTimes.length) chartSeries.push({ label: 'actual', color: COLORS.actual, segments: [anchor(f.actual.slice(0, actualTimes.length) as number[])], width: 1.6, dots: H <= 60 });
  chartSeries.push(
    { label: 'seasonal naive', color: COLORS.seasonalNaive, segments: [anchor(f.seasonalNaive)], dashed: true, width: 1.2 },
    { label: 'naive', color: COLORS.naive, segments: [anchor(f.naive)], dashed: true, width: 1.2 },
    { label: `${f.modelName} forecast`, color: COLORS.forecast, segments: [anchor(f.values)], width: 2, dots: H <= 60 },
  );
  return {
    title: opts.title ?? `${f.target}: ${H}-step ${f.modelName} forecast from ${f.origin}`,
    subtitle: `forecast ${f.dates[0]} … ${f.dates[H - 1]}`,
    spans: [{ from: f.times[0]!, to: f.times[H - 1]!, label: 'forecast' }],
    series: chartSeries,
  };
}

/** Forecast rows for a CSV: date, forecast (7 significant digits: float32), naive, seasonal_naive, actual (empty when unknown). */
export function forecastRows(f: Forecast): { header: string[]; rows: (string | number | null)[][] } {
  return {
    header: ['date', 'forecast', 'naive', 'seasonal_naive', 'actual'],
    rows: f.dates.map((d, k) => [d, Number(f.values[k]!.toPrecision(7)), f.naive[k]!, f.seasonalNaive[k]!, f.actual[k] ?? null]),
  };
}
