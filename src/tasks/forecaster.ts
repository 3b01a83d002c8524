// The forecaster recipe: a table with a date column, a target and optional
// numeric features in; an LSTM that looks back `lookback` steps and predicts
// the next `horizon` steps at once (one output per step ahead, the "direct"
// multi-output strategy of Keras' Dense(horizon) head); forecasts, and an
// evaluation against the naive and seasonal-naive baselines, out.
//
// The data preparation — the split, the scalers, the target transforms, the
// input matrix and the window origins — is in forecastdata.ts; the tables,
// charts and CSV rows made from an evaluation or a forecast are in
// src/report/forecast.ts.
//
// Browser-safe: save() and load() import the Node file layer on demand.

import type { Backend } from '../kernels/backend.js';
import { DataError, ValueError } from '../core/errors.js';
import { addPeriods, describeFrequency, formatDate } from '../data/dates.js';
import type { Example } from '../data/encode.js';
import { Scaler } from '../data/scaler.js';
import type { TimeSeries } from '../data/timeseries.js';
import { windowExamples } from '../data/window.js';
import { decodeModelFile, encodeModelFile, sequenceContents, sequenceModelFromFile, type ModelFileContents } from '../io/modelfile.js';
import type { ModelConfig, TrainConfig } from '../model/config.js';
import { SequenceModel } from '../model/model.js';
import { predictModel } from '../train/evaluate.js';
import { Trainer, type Callbacks, type EpochLog } from '../train/trainer.js';
import { ErrorAccumulator, naiveForecast, seasonalNaiveForecast, type ErrorMetrics } from './baselines.js';
import {
  anchorValue, buildInputMatrix, checkPreprocessing, evaluationOrigins, inputsPerStep, originRow, prepareFit,
  readSeries, scaleTargets, toTable,
  type ForecastData, type ForecastDataOptions, type ForecastPreprocessing,
} from './forecastdata.js';
import { DEFAULT_FORECAST_TRAIN } from './forecast-defaults.js';

export { DEFAULT_FORECAST_TRAIN } from './forecast-defaults.js';

export interface ForecasterModelOptions {
  cell?: 'lstm' | 'gru' | 'rnn';
  hiddenSize?: number;
  numLayers?: number;
  dropout?: number;
}

export interface ForecasterOptions extends ForecastDataOptions {
  model?: ForecasterModelOptions;
  /**
   * Training settings (defaults: 100 epochs, batch 32, Adam lr 0.003, clipNorm 1,
   * early stopping with patience 10, seed 0).
   */
  train?: TrainConfig;
  callbacks?: Callbacks;
  backend?: Backend;
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
  /** Per origin (the last observed step) the forecasts, for charts and tables; each [origins, horizon]. */
  backtest: { originRows: number[]; model: Float64Array; naive: Float64Array; seasonalNaive: Float64Array };
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
    return inputsPerStep(this.preprocessing);
  }

  /** Split the data, fit scalers on the training rows, train the model with early stopping on the validation rows. */
  static async fit(data: ForecastData, options: ForecasterOptions): Promise<Forecaster> {
    const { series, preprocessing, trainOrigins, valOrigins } = prepareFit(toTable(data), options);
    const { lookback, horizon, features, calendar } = preprocessing;
    const target = series.values[preprocessing.target]!;

    const m = options.model ?? {};
    const train: TrainConfig = { ...DEFAULT_FORECAST_TRAIN, ...options.train };
    const config: ModelConfig = {
      input: { type: 'features', size: 1 + features.length + (calendar ? 2 : 0) },
      rnn: {
        cell: m.cell ?? 'lstm', hiddenSize: m.hiddenSize ?? 32,
        ...(m.numLayers ? { numLayers: m.numLayers } : {}), ...(m.dropout ? { dropout: m.dropout } : {}),
      },
      output: { mode: 'sequence', type: 'regression', size: horizon },
      train,
    };
    const model = new SequenceModel(config, {
      seed: train.seed ?? 0, ...(options.backend ? { backend: options.backend } : {}),
    });
    const forecaster = new Forecaster(model, preprocessing);
    forecaster.fitted = series;

    const inputs = forecaster.inputMatrix(series);
    const examples = (origins: number[]) => windowExamples(
      inputs, forecaster.inputFeatures, origins, lookback, (t) => forecaster.scaledTargets(target, t),
    );
    const trainer = new Trainer(model, train);
    const validation = examples(valOrigins);
    await trainer.fit(examples(trainOrigins), {
      ...(validation.length ? { validation } : {}),
      ...(options.callbacks ? { callbacks: options.callbacks } : {}),
    });
    forecaster.history = trainer.history;
    forecaster.bestEpoch = trainer.getState().bestEpoch;
    return forecaster;
  }

  /** A forecaster from model file bytes or decoded contents (browser-safe). */
  static fromModelFile(
    file: Uint8Array | ModelFileContents, opts: { backend?: Backend; source?: string } = {},
  ): Forecaster {
    const source = opts.source ?? '<model>';
    const contents = file instanceof Uint8Array ? decodeModelFile(file, source) : file;
    const p = contents.preprocessing as Partial<ForecastPreprocessing> | undefined;
    if (!p || p.task !== 'forecast') {
      throw new DataError('is not a forecaster (its preprocessing metadata has no task "forecast"); train one with `lstmkit forecast train`', source);
    }
    if (p.version !== 1) throw new DataError(`holds forecaster preprocessing version ${String(p.version)}; this lstmkit reads version 1`, source);
    const sequence = sequenceContents(contents, source, 'a forecaster');
    checkPreprocessing(p, sequence.config, source);
    const model = sequenceModelFromFile(sequence, opts.backend ? { backend: opts.backend } : {}, source, 'a forecaster');
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
    return encodeModelFile(this.model, {
      preprocessing: this.preprocessing, training: training ?? this.trainingFacts(),
    });
  }

  /** Write the model file atomically (Node). */
  async save(path: string, training?: unknown): Promise<void> {
    const { saveModel } = await import('../io/modelpath.js');
    await saveModel(path, this.model, {
      preprocessing: this.preprocessing, training: training ?? this.trainingFacts(),
    });
  }

  private trainingFacts(): unknown {
    return {
      epochs: this.history.length, bestEpoch: this.bestEpoch,
      history: this.history.map(({ epoch, loss, val }) => ({ epoch, loss, valLoss: val?.loss ?? null })),
      savedAt: new Date().toISOString(),
    };
  }

  /** The regular series of a table, read with the settings the forecaster was fitted with. */
  seriesOf(data: ForecastData): TimeSeries {
    return readSeries(toTable(data), this.preprocessing);
  }

  private data(data: ForecastData | undefined): TimeSeries {
    if (data !== undefined) return this.seriesOf(data);
    if (!this.fitted) throw new ValueError('pass the data: a loaded forecaster does not keep the table it was trained on');
    return this.fitted;
  }

  /** [rows, features] model inputs of a series, scaled with this forecaster's input scaler. */
  private inputMatrix(series: TimeSeries): Float32Array {
    return buildInputMatrix(this.preprocessing, this.inputScaler, series);
  }

  /** [horizon] scaled training targets from origin t, with this forecaster's output scaler. */
  private scaledTargets(y: Float64Array, t: number): Float32Array {
    return scaleTargets(this.preprocessing, this.outputScaler, y, t);
  }

  /** [origins, horizon] forecasts in the target's units. */
  private predictOrigins(series: TimeSeries, origins: readonly number[]): Float64Array {
    return this.predictMany([{ series, origins }])[0]!;
  }

  /** [origins, horizon] forecasts in the target's units for several series, in one batched pass. */
  private predictMany(jobs: readonly { series: TimeSeries; origins: readonly number[] }[]): Float64Array[] {
    const p = this.preprocessing;
    const H = p.horizon;
    const examples: Example[] = jobs.flatMap(({ series, origins }) => (
      windowExamples(this.inputMatrix(series), this.inputFeatures, origins, p.lookback)
    ));
    const predictions = predictModel(this.model, examples, 256);
    let at = 0;
    return jobs.map(({ series, origins }) => {
      const y = series.values[p.target]!;
      const out = new Float64Array(origins.length * H); // [origins, H]
      origins.forEach((t, i) => {
        const pred = predictions[at++]!;
        const values = typeof pred === 'number' ? [pred] : (pred as number[]);
        for (let k = 0; k < H; k++) {
          out[i * H + k] = anchorValue(p, y, t, k + 1) + this.outputScaler.inverse(values[k]!, k);
        }
      });
      return out;
    });
  }

  /**
   * Rolling-origin evaluation: a forecast of `horizon` steps from every origin
   * whose targets lie in the period from `from` (default: the test part of the
   * fit) to the end of the data, scored with MAE, RMSE and MASE beside the
   * naive and seasonal-naive forecasts from the same origins.
   */
  evaluate(data?: ForecastData, opts: { from?: string | number } = {}): ForecastEvaluation {
    const p = this.preprocessing;
    const series = this.data(data);
    const { start, origins } = evaluationOrigins(series, p, opts.from);
    const H = p.horizon;
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
      origins: origins.length, horizon: H, season: p.season, frequency: describeFrequency(p.frequency),
      maseScale: p.maseScale, modelName: this.modelName,
      metrics: {
        model: acc.model.result(p.maseScale), naive: acc.naive.result(p.maseScale),
        seasonalNaive: acc.seasonalNaive.result(p.maseScale),
      },
      byHorizon: { model: [...perStep.model], naive: [...perStep.naive], seasonalNaive: [...perStep.seasonalNaive] },
      backtest: { originRows: origins, model, naive, seasonalNaive: seasonal },
      series, target: p.target, startRow: start,
    };
  }

  /**
   * Forecast `horizon` steps past an origin (default: the last row),
   * with the baselines and any actuals that follow it.
   */
  forecast(data?: ForecastData, opts: { origin?: string | number } = {}): Forecast {
    const series = this.data(data);
    const origin = originRow(series, this.preprocessing, opts.origin);
    return this.assemble(series, origin, this.predictOrigins(series, [origin]));
  }

  /** Forecasts past the last row of each of several tables (one series each), in one batched forward pass. */
  forecastMany(data: readonly ForecastData[]): Forecast[] {
    return this.forecastSeries(data.map((d) => this.seriesOf(d)));
  }

  /** Forecasts past the last row of each series (as seriesOf reads them), in one batched forward pass. */
  forecastSeries(series: readonly TimeSeries[]): Forecast[] {
    const jobs = series.map((s) => ({ series: s, origins: [originRow(s, this.preprocessing, undefined)] }));
    const values = this.predictMany(jobs);
    return jobs.map(({ series, origins }, i) => this.assemble(series, origins[0]!, values[i]!));
  }

  private assemble(series: TimeSeries, origin: number, forecast: Float64Array): Forecast {
    const p = this.preprocessing;
    const H = p.horizon;
    const n = series.times.length;
    const y = series.values[p.target]!;
    const times = Array.from({ length: H }, (_, k) => addPeriods(series.times[origin]!, p.frequency, k + 1));
    return {
      origin: formatDate(series.times[origin]!), originRow: origin, times, dates: times.map(formatDate),
      values: [...forecast],
      naive: [...naiveForecast(y, origin, H)], seasonalNaive: [...seasonalNaiveForecast(y, origin, H, p.season)],
      actual: times.map((_, k) => (origin + k + 1 < n ? y[origin + k + 1]! : null)),
      series, target: p.target, modelName: this.modelName,
    };
  }
}
