// lstmkit forecast train | eval | predict: the forecaster recipe on a CSV.
//
//   lstmkit forecast train --csv co2.csv --date Date --target CO2 --lookback 24 --horizon 12 --out run/
//   lstmkit forecast eval run/ --csv co2.csv --chart test.svg
//   lstmkit forecast predict run/ --csv co2.csv --out forecast.csv --chart forecast.html

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DivergenceError } from '../core/errors.js';
import { formatCsv } from '../data/csv.js';
import { readCsvFile } from '../data/csvfile.js';
import { describeFrequency } from '../data/dates.js';
import { BEST } from '../io/modelpath.js';
import type { TrainConfig } from '../model/config.js';
import { renderChart } from '../report/chart.js';
import { evaluationChart, forecastChart, forecastRows, formatEvaluation } from '../report/forecast.js';
import type { TargetTransform } from '../tasks/forecastdata.js';
import { Forecaster, DEFAULT_FORECAST_TRAIN, type ForecastEvaluation, type ForecasterOptions } from '../tasks/forecaster.js';

export interface ForecastTrainArgs {
  csv: string;
  date: string;
  target: string;
  lookback: number;
  horizon: number;
  features?: string[];
  where?: Record<string, string>;
  season?: number;
  transform?: TargetTransform;
  scaler?: 'standard' | 'minmax';
  calendar?: boolean;
  gaps?: 'error' | 'interpolate';
  freq?: string;
  valSize?: number;
  testSize?: number;
  cell?: 'lstm' | 'gru' | 'rnn';
  hidden?: number;
  layers?: number;
  dropout?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  patience?: number;
  seed?: number;
  out: string;
  chart?: string;
  json?: boolean;
  quiet?: boolean;
}

/** The library options a train command stands for. */
export function forecasterOptions(a: ForecastTrainArgs): ForecasterOptions {
  const train: TrainConfig = { ...DEFAULT_FORECAST_TRAIN };
  if (a.epochs !== undefined) train.epochs = a.epochs;
  if (a.batchSize !== undefined) train.batchSize = a.batchSize;
  if (a.lr !== undefined) train.optimizer = { name: 'adam', lr: a.lr };
  if (a.patience !== undefined) train.earlyStopping = { patience: a.patience };
  if (a.seed !== undefined) train.seed = a.seed;
  const model: NonNullable<ForecasterOptions['model']> = {};
  if (a.cell) model.cell = a.cell;
  if (a.hidden !== undefined) model.hiddenSize = a.hidden;
  if (a.layers !== undefined) model.numLayers = a.layers;
  if (a.dropout !== undefined) model.dropout = a.dropout;
  return {
    dateColumn: a.date, target: a.target, lookback: a.lookback, horizon: a.horizon, model, train,
    ...(a.features ? { features: a.features } : {}),
    ...(a.where && Object.keys(a.where).length ? { where: a.where } : {}),
    ...(a.season !== undefined ? { season: a.season } : {}),
    ...(a.transform ? { transform: a.transform } : {}),
    ...(a.scaler ? { scaler: a.scaler } : {}),
    ...(a.calendar === false ? { calendar: false } : {}),
    ...(a.gaps ? { gaps: a.gaps } : {}),
    ...(a.freq ? { frequency: a.freq } : {}),
    ...(a.valSize !== undefined ? { validationSize: a.valSize } : {}),
    ...(a.testSize !== undefined ? { testSize: a.testSize } : {}),
  };
}

async function writeOut(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

function evaluationJson(e: ForecastEvaluation): Record<string, unknown> {
  return {
    from: e.from, to: e.to, origins: e.origins, horizon: e.horizon, season: e.season, frequency: e.frequency,
    maseScale: e.maseScale, model: e.modelName, metrics: e.metrics, byHorizon: e.byHorizon,
  };
}

export async function forecastTrainCommand(a: ForecastTrainArgs): Promise<void> {
  const started = performance.now();
  const table = await readCsvFile(a.csv);
  const options = forecasterOptions(a);
  const log = (line: string): void => {
    if (!a.json && !a.quiet) process.stderr.write(line + '\n');
  };
  let forecaster: Forecaster;
  try {
    forecaster = await Forecaster.fit(table, {
      ...options,
      callbacks: {
        onEpochEnd: (l) => {
          const val = l.val ? `  val_loss ${l.val.loss.toFixed(5)}` : '';
          log(`epoch ${l.epoch}/${l.epochs}  loss ${l.loss.toFixed(5)}${val}  ${l.seconds.toFixed(2)} s${l.best ? '  *best' : ''}`);
        },
      },
    });
  } catch (e) {
    if (e instanceof DivergenceError) throw new DivergenceError(`${e.message} (try --lr with a smaller rate)`);
    throw e;
  }
  const seconds = (performance.now() - started) / 1000;
  const p = forecaster.preprocessing;
  await mkdir(a.out, { recursive: true });
  const modelPath = join(a.out, BEST);
  await forecaster.save(modelPath, {
    data: a.csv, epochs: forecaster.history.length, bestEpoch: forecaster.bestEpoch, seconds,
    history: forecaster.history.map(({ epoch, loss, val }) => ({ epoch, loss, valLoss: val?.loss ?? null })),
    savedAt: new Date().toISOString(),
  });
  const evaluation = p.split.testStart !== null ? forecaster.evaluate() : undefined;
  if (a.chart && evaluation) {
    await writeOut(a.chart, renderChart(evaluationChart(evaluation), a.chart, formatEvaluation(evaluation)));
  }
  if (a.json) {
    process.stdout.write(JSON.stringify({
      model: modelPath, seconds, epochs: forecaster.history.length, bestEpoch: forecaster.bestEpoch, split: p.split,
      test: evaluation ? evaluationJson(evaluation) : null,
    }) + '\n');
    return;
  }
  const s = p.split;
  const validation = s.validationStart ? `, validation from ${s.validationStart}` : '';
  const testPart = s.testStart ? `, test from ${s.testStart}` : '';
  log(`${s.rows} ${describeFrequency(p.frequency)} rows ${s.first} … ${s.last}: train to ${s.trainEnd}${validation}${testPart}`);
  log(`trained in ${seconds.toFixed(1)} s (${forecaster.history.length} epochs, best ${forecaster.bestEpoch}): ${modelPath}`);
  if (evaluation) console.log(formatEvaluation(evaluation));
  if (a.chart && evaluation) log(`chart: ${a.chart}`);
}

export async function forecastEvalCommand(
  modelPath: string, a: { csv: string; from?: string; chart?: string; json?: boolean },
): Promise<void> {
  const forecaster = await Forecaster.load(modelPath);
  const table = await readCsvFile(a.csv);
  const evaluation = forecaster.evaluate(table, a.from !== undefined ? { from: a.from } : {});
  if (a.chart) await writeOut(a.chart, renderChart(evaluationChart(evaluation), a.chart, formatEvaluation(evaluation)));
  if (a.json) {
    process.stdout.write(JSON.stringify(evaluationJson(evaluation)) + '\n');
    return;
  }
  console.log(formatEvaluation(evaluation));
}

export async function forecastPredictCommand(
  modelPath: string, a: { csv: string; origin?: string; out?: string; chart?: string },
): Promise<void> {
  const forecaster = await Forecaster.load(modelPath);
  const table = await readCsvFile(a.csv);
  const forecast = forecaster.forecast(table, a.origin !== undefined ? { origin: a.origin } : {});
  const { header, rows } = forecastRows(forecast);
  const csv = formatCsv(header, rows);
  if (a.out) await writeOut(a.out, csv);
  else process.stdout.write(csv);
  if (a.chart) await writeOut(a.chart, renderChart(forecastChart(forecast), a.chart, csv));
}
