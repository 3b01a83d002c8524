// The forecaster's data preparation: from a table to the model's inputs and
// scaled targets, and the metadata that lets a model file do it again.
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

import { DataError, FormatError, positiveInt, ValueError } from '../core/errors.js';
import { tableFromRecords, type CsvTable } from '../data/csv.js';
import { defaultSeason, describeFrequency, formatDate, parseDate, parseFrequency, seasonPhase, type Frequency } from '../data/dates.js';
import { Scaler, type ScalerKind, type ScalerState } from '../data/scaler.js';
import { buildSeries, type GapPolicy, type TimeSeries } from '../data/timeseries.js';
import { windowOrigins } from '../data/window.js';
import type { ModelConfig } from '../model/config.js';
import { seasonalNaiveScale } from './baselines.js';

export type TargetTransform = 'delta' | 'drift' | 'level';

/**
 * The forecaster's options that decide its data:
 * the series, the window, the target transform, the scaling and the split.
 */
export interface ForecastDataOptions {
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
  /**
   * Season length in steps: the seasonal-naive lag, the MASE scale and the calendar features. Default by frequency:
   * 12 monthly, 4 quarterly, 7 daily, 24 hourly, 52 weekly.
   */
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
  split: {
    source: string; rows: number; first: string; trainEnd: string;
    validationStart: string | null; testStart: string | null; last: string;
  };
}

type Shape = Pick<ForecastPreprocessing, 'lookback' | 'season' | 'transform'>;

/** Steps the drift is measured over: one season, or the lookback when there is no season. */
function driftSpan(p: Shape): number {
  return p.season > 1 ? p.season : p.lookback;
}

/**
 * The first row that can be an origin for the model: a full lookback window (and the row before it, for changes) and,
 * for 'drift', one drift span.
 */
function modelFirstOrigin(p: Shape): number {
  return Math.max(p.lookback - 1 + (p.transform === 'level' ? 0 : 1), p.transform === 'drift' ? driftSpan(p) : 0);
}

/** The first row a forecast can start from: the model's window and the seasonal-naive baseline's season. */
function firstForecastOrigin(p: Shape): number {
  return Math.max(modelFirstOrigin(p), p.season - 1);
}

/**
 * What the model's (unscaled) output for step h is added to: nothing ('level'), the last value ('delta'), the last
 * value plus h steps of the drift over the last season ('drift').
 */
export function anchorValue(p: Shape, y: Float64Array, t: number, h: number): number {
  if (p.transform === 'level') return 0;
  if (p.transform === 'delta') return y[t]!;
  const span = driftSpan(p);
  return y[t]! + (h * (y[t]! - y[t - span]!)) / span;
}

/** A table, or records (one object per row). */
export type ForecastData = CsvTable | readonly Record<string, unknown>[];

export function toTable(data: ForecastData): CsvTable {
  return Array.isArray(data) ? tableFromRecords(data as Record<string, unknown>[]) : (data as CsvTable);
}

/** Rows in a part: a fraction of all rows (< 1) or a row count. */
function partRows(size: number, rows: number, name: string): number {
  if (!(size >= 0) || (size >= 1 && !Number.isInteger(size))) {
    throw new ValueError(`${name} must be a fraction in [0, 1) or a whole number of rows, got ${size}`);
  }
  return size < 1 ? Math.round(size * rows) : size;
}

/**
 * The columns buildSeries reads (the target once, even when it is a feature too)
 * and their roles for its error messages.
 */
function seriesColumns(
  target: string, features: readonly string[],
): { columns: string[]; roles: Record<string, string> } {
  const roles: Record<string, string> = { [target]: 'target column' };
  for (const f of features) roles[f] ??= 'feature column';
  return { columns: [...new Set([target, ...features])], roles };
}

/**
 * The data of a fit: the series, the preprocessing fitted on its training rows, and the window origins of the
 * training and validation parts.
 */
export interface PreparedFit {
  series: TimeSeries;
  preprocessing: ForecastPreprocessing;
  trainOrigins: number[];
  valOrigins: number[];
}

/** Check the options, read the series, split it, and fit the scalers and the MASE scale on the training rows. */
export function prepareFit(table: CsvTable, options: ForecastDataOptions): PreparedFit {
  const lookback = positiveInt(options.lookback, 'lookback');
  const horizon = positiveInt(options.horizon, 'horizon');
  const features = [...(options.features ?? [])];
  const transform = options.transform ?? 'delta';
  if (transform !== 'delta' && transform !== 'drift' && transform !== 'level') {
    throw new ValueError(`transform must be 'delta', 'drift' or 'level', got ${JSON.stringify(transform)}`);
  }
  const gaps = options.gaps ?? 'error';
  const frequencyOpt = typeof options.frequency === 'string' ? parseFrequency(options.frequency) : options.frequency;
  const series = buildSeries(table, {
    dateColumn: options.dateColumn, ...seriesColumns(options.target, features), gaps,
    ...(options.where ? { where: options.where } : {}), ...(frequencyOpt ? { frequency: frequencyOpt } : {}),
  });
  const season = options.season === undefined ? defaultSeason(series.frequency) : positiveInt(options.season, 'season');
  const calendar = (options.calendar ?? season > 1) && season > 1;
  const n = series.times.length;
  const shape: Shape = { lookback, season, transform };
  const { trainEnd, valRows, testRows } = splitRows(series, options, shape, horizon);
  const target = series.values[options.target]!;

  // Scalers: training rows only.
  const scalerKind = options.scaler ?? 'standard';
  const targetIn = transform !== 'level' ? Float64Array.from({ length: trainEnd - 1 }, (_, i) => target[i + 1]! - target[i]!) : target.subarray(0, trainEnd);
  const featuresIn = features.map((f) => series.values[f]!.subarray(0, trainEnd));
  const inputScaler = Scaler.fit(scalerKind, [targetIn, ...featuresIn]);
  const outColumns = Array.from({ length: horizon }, (_, k) => {
    const h = k + 1;
    const first = modelFirstOrigin(shape);
    return Float64Array.from(
      { length: trainEnd - h - first },
      (_, i) => target[first + i + h]! - anchorValue(shape, target, first + i, h),
    );
  });
  const outputScaler = Scaler.fit(scalerKind, outColumns);
  const maseScale = seasonalNaiveScale(target, season, trainEnd);
  const at = (row: number) => formatDate(series.times[row]!);
  const preprocessing: ForecastPreprocessing = {
    task: 'forecast', version: 1, dateColumn: options.dateColumn, target: options.target, features,
    where: options.where && Object.keys(options.where).length ? { ...options.where } : null,
    lookback, horizon, season, transform, calendar, gaps, frequency: series.frequency,
    inputScaler: inputScaler.toJSON(), outputScaler: outputScaler.toJSON(), maseScale,
    split: {
      source: series.source, rows: n, first: at(0), trainEnd: at(trainEnd - 1),
      validationStart: valRows > 0 ? at(trainEnd) : null, testStart: testRows > 0 ? at(n - testRows) : null,
      last: at(n - 1),
    },
  };

  // Training and validation windows need only the model's history;
  // the seasonal-naive baseline's season matters for forecasts alone.
  const spec = { lookback, horizon };
  const modelFirst = modelFirstOrigin(shape);
  const trainOrigins = windowOrigins(spec, { targetStart: 0, targetEnd: trainEnd }).filter((t) => t >= modelFirst);
  const valOrigins = valRows > 0
    ? windowOrigins(spec, { targetStart: trainEnd, targetEnd: trainEnd + valRows }).filter((t) => t >= modelFirst)
    : [];
  return { series, preprocessing, trainOrigins, valOrigins };
}

/**
 * The chronological split in rows (training rows end at trainEnd); an error when a part is too short for the window.
 */
function splitRows(
  series: TimeSeries, options: ForecastDataOptions, shape: Shape, horizon: number,
): { trainEnd: number; valRows: number; testRows: number } {
  const { lookback, season } = shape;
  const n = series.times.length;
  const testRows = partRows(options.testSize ?? 0.15, n, 'testSize');
  const valRows = partRows(options.validationSize ?? 0.15, n, 'validationSize');
  const trainEnd = n - testRows - valRows;
  const needTrain = Math.max(modelFirstOrigin(shape) + 1 + horizon, season + 1);
  const where = options.where && Object.keys(options.where).length ? ` where ${Object.entries(options.where).map(([k, v]) => `${k} = ${v}`).join(', ')}` : '';
  const short = (testRows > 0 && testRows < horizon) || (valRows > 0 && valRows < horizon) || trainEnd < needTrain;
  if (short) {
    const needAll = needTrain + (valRows > 0 ? Math.max(valRows, horizon) : 0)
      + (testRows > 0 ? Math.max(testRows, horizon) : 0);
    const filled = series.filled ? ` (${series.filled} filled in)` : '';
    const withSeason = season > 1 ? ` with season ${season}` : '';
    const otherParts = `${valRows > 0 ? `, ${horizon} validation` : ''}${testRows > 0 ? `, ${horizon} test` : ''}`;
    throw new DataError(
      `too few rows for the window: ${n} rows${where}${filled} split into ${Math.max(0, trainEnd)} training, ` +
      `${valRows} validation and ${testRows} test rows; ` +
      `lookback ${lookback} and horizon ${horizon}${withSeason} need at least ${needTrain} training rows${otherParts} ` +
      `(about ${needAll} rows in all). ` +
      'Use a shorter lookback or horizon, smaller validation/test parts, or more data', series.source);
  }
  return { trainEnd, valRows, testRows };
}

/** The preprocessing metadata of a model file, checked field by field against its config. */
export function checkPreprocessing(p: Partial<ForecastPreprocessing>, config: ModelConfig, source: string): void {
  const bad = (field: string, expected: string) => new FormatError(`${source}: preprocessing.${field} is not ${expected}`);
  for (const field of ['lookback', 'horizon', 'season'] as const) if (!Number.isInteger(p[field]) || p[field]! < 1) throw bad(field, 'a positive integer');
  for (const field of ['dateColumn', 'target'] as const) if (typeof p[field] !== 'string') throw bad(field, 'a column name');
  if (!Array.isArray(p.features) || !p.features.every((f) => typeof f === 'string')) throw bad('features', 'a list of column names');
  if (p.transform !== 'delta' && p.transform !== 'drift' && p.transform !== 'level') throw bad('transform', "'delta', 'drift' or 'level'");
  if (p.gaps !== 'error' && p.gaps !== 'interpolate') throw bad('gaps', "'error' or 'interpolate'");
  const f = p.frequency as Record<string, unknown> | undefined;
  if (!f || !(Number.isInteger(f.months) || Number.isInteger(f.ms))) throw bad('frequency', 'a frequency ({months} or {ms})');
  if (typeof p.maseScale !== 'number' || typeof p.calendar !== 'boolean' || typeof p.split !== 'object' || p.split === null) {
    throw bad('maseScale, calendar or split', 'set');
  }
  const inputs = Scaler.fromJSON(p.inputScaler, `${source}: preprocessing.inputScaler`);
  const outputs = Scaler.fromJSON(p.outputScaler, `${source}: preprocessing.outputScaler`);
  const size = 1 + p.features.length + (p.calendar ? 2 : 0);
  if (config.input.type !== 'features' || config.input.size !== size || inputs.columns !== 1 + p.features.length) {
    const takes = config.input.type === 'features' ? config.input.size : 'token';
    throw new FormatError(`${source}: the model takes ${takes} inputs per step, its forecaster preprocessing makes ${size}`);
  }
  if ((config.output.size ?? 1) !== p.horizon || outputs.columns !== p.horizon) {
    throw new FormatError(
      `${source}: the model predicts ${config.output.size ?? 1} steps, its forecaster preprocessing says horizon ${p.horizon}`,
    );
  }
}

/** The regular series of a table, read with the settings a forecaster was fitted with. */
export function readSeries(table: CsvTable, p: ForecastPreprocessing): TimeSeries {
  const options = {
    dateColumn: p.dateColumn, ...seriesColumns(p.target, p.features), gaps: p.gaps,
    ...(p.where ? { where: p.where } : {}),
  };
  // Infer the step from this table first, so daily data for a monthly model is named as such, not as a gap.
  const inferred = buildSeries(table, { ...options, gaps: 'interpolate' }).frequency;
  if (JSON.stringify(inferred) !== JSON.stringify(p.frequency)) {
    throw new DataError(`the forecaster was trained on ${describeFrequency(p.frequency)} data, this table is ${describeFrequency(inferred)}`, table.source);
  }
  return buildSeries(table, { ...options, frequency: p.frequency });
}

/** Inputs per step: the target, the features, and sin and cos of the season phase when calendar is on. */
export function inputsPerStep(p: ForecastPreprocessing): number {
  return 1 + p.features.length + (p.calendar ? 2 : 0);
}

/**
 * [rows, features] model inputs: target change (or level), feature levels (scaled), then sin/cos of the season phase.
 */
export function buildInputMatrix(p: ForecastPreprocessing, scaler: Scaler, series: TimeSeries): Float32Array {
  const F = inputsPerStep(p);
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
export function scaleTargets(p: ForecastPreprocessing, scaler: Scaler, y: Float64Array, t: number): Float32Array {
  return Float32Array.from(
    { length: p.horizon },
    (_, k) => scaler.transform(y[t + k + 1]! - anchorValue(p, y, t, k + 1), k),
  );
}

/** The first row at or after a date (the row count when there is none). */
function rowAt(series: TimeSeries, date: string | number, what: string): number {
  const time = typeof date === 'number' ? date : parseDate(date);
  if (time === null) throw new ValueError(`${what} ${JSON.stringify(date)} is not a date`);
  const row = series.times.findIndex((t) => t >= time);
  return row === -1 ? series.times.length : row;
}

/**
 * The origins of a rolling-origin evaluation: every one whose targets lie in the period from `from` (default: the test
 * part of the fit) to the end of the data.
 */
export function evaluationOrigins(
  series: TimeSeries, p: ForecastPreprocessing, date: string | number | undefined,
): { start: number; origins: number[] } {
  const from = date ?? p.split.testStart;
  if (from === null) throw new ValueError('the forecaster was fitted without a test part; say where the evaluation period starts (from)');
  const start = rowAt(series, from, 'from');
  const n = series.times.length;
  const H = p.horizon;
  const origins = windowOrigins({ lookback: p.lookback, horizon: H }, { targetStart: start, targetEnd: n })
    .filter((t) => t >= firstForecastOrigin(p));
  if (origins.length === 0) {
    throw new DataError(
      `nothing to evaluate: the period from ${typeof from === 'number' ? formatDate(from) : from} has ${n - start} rows; ` +
      `horizon ${H} needs at least ${H}, after ${firstForecastOrigin(p) + 1} rows of history`,
      series.source,
    );
  }
  return { start, origins };
}

/** The row of the origin (default: the last), checked to have enough history before it. */
export function originRow(series: TimeSeries, p: ForecastPreprocessing, date: string | number | undefined): number {
  const n = series.times.length;
  let origin = n - 1;
  if (date !== undefined) {
    origin = rowAt(series, date, 'origin');
    if (origin >= n || series.times[origin] !== (typeof date === 'number' ? date : parseDate(date))) {
      throw new DataError(
        `the origin ${typeof date === 'number' ? formatDate(date) : date} is not a date of the series ` +
        `(${formatDate(series.times[0]!)} … ${formatDate(series.times[n - 1]!)}, ${describeFrequency(p.frequency)})`,
        series.source,
      );
    }
  }
  const needed = firstForecastOrigin(p);
  if (origin < needed) {
    const reasons = [
      p.transform !== 'level' ? ' plus one for the first change' : '',
      p.transform === 'drift' ? `, ${driftSpan(p)} for the drift` : '',
      p.season > 1 ? `, season ${p.season} for the seasonal-naive forecast` : '',
    ].join('');
    throw new DataError(
      `too few rows before the origin ${formatDate(series.times[origin]!)}: ${origin + 1}, ` +
      `the forecaster needs ${needed + 1} (lookback ${p.lookback}${reasons})`,
      series.source,
    );
  }
  return origin;
}
