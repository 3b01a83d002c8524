// The forecaster recipe end to end on small slices of the real data sets
// (vega-datasets, a dev dependency): fit a few epochs, save, load, predict;
// scalers fitted on training rows only; the baselines and MASE by hand; and a
// clear error for every malformed CSV.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv, type CsvTable } from '../../src/data/csv.js';
import { encodeModelFile } from '../../src/io/modelfile.js';
import { renderChart, renderSvg } from '../../src/report/chart.js';
import { evaluationChart, forecastChart, forecastRows, formatEvaluation } from '../../src/report/forecast.js';
import { forecastErrors, naiveForecast, seasonalNaiveForecast, seasonalNaiveScale } from '../../src/tasks/baselines.js';
import { Forecaster, type ForecasterOptions } from '../../src/tasks/forecaster.js';
import { tempDir } from '../helpers/cli.js';
import { ROOT } from '../helpers/fixtures.js';

const VEGA = join(ROOT, 'node_modules', 'vega-datasets', 'data');

/**
 * The header and the rows of a vega-datasets CSV whose first cell passes `keep`,
 * as a table with the file's line numbers.
 */
function slice(file: string, keep: (line: string) => boolean): CsvTable {
  const lines = readFileSync(join(VEGA, file), 'utf8').trimEnd().split('\n');
  const kept = [lines[0]!, ...lines.slice(1).filter(keep)];
  return parseCsv(kept.join('\n') + '\n', file);
}

const co2 = slice('co2-concentration.csv', (l) => l >= '1980-01' && l < '1992-01'); // 144 monthly rows
const quick = {
  train: { epochs: 2, batchSize: 16, seed: 1 }, model: { hiddenSize: 8 },
} satisfies Partial<ForecasterOptions>;
const co2Options: ForecasterOptions = { dateColumn: 'Date', target: 'CO2', lookback: 12, horizon: 3, validationSize: 24, testSize: 24, ...quick };

test('CO2 slice: fit a few epochs, save, load, and the loaded forecaster predicts the same', async () => {
  const f = await Forecaster.fit(co2, co2Options);
  assert.equal(f.history.length, 2);
  const p = f.preprocessing;
  assert.deepEqual(p.frequency, { months: 1 });
  assert.equal(p.season, 12);
  assert.equal(p.transform, 'delta');
  assert.equal(p.calendar, true);
  assert.deepEqual(p.split, {
    source: 'co2-concentration.csv', rows: 144, first: '1980-01-01', trainEnd: '1987-12-01',
    validationStart: '1988-01-01', testStart: '1990-01-01', last: '1991-12-01',
  });
  const forecast = f.forecast();
  assert.deepEqual(forecast.dates, ['1992-01-01', '1992-02-01', '1992-03-01']);
  assert.ok(forecast.values.every((v) => Number.isFinite(v) && v > 300 && v < 400), String(forecast.values));
  assert.deepEqual(forecast.actual, [null, null, null]);
  const evaluation = f.evaluate();
  assert.equal(evaluation.from, '1990-01-01');
  assert.equal(evaluation.origins, 22); // targets 1990-01 … 1991-12, 3 steps each

  const dir = tempDir();
  await f.save(join(dir, 'best.lstmkit'));
  const loaded = await Forecaster.load(dir); // a run directory stands for its best.lstmkit
  assert.deepEqual(loaded.preprocessing, JSON.parse(JSON.stringify(p)));
  assert.deepEqual(loaded.forecast(co2).values, forecast.values);
  assert.deepEqual(loaded.evaluate(co2).metrics, evaluation.metrics);
  const fromBytes = Forecaster.fromModelFile(f.toBytes());
  assert.deepEqual(fromBytes.forecast(co2).values, forecast.values);
  assert.throws(() => loaded.forecast(), /pass the data: a loaded forecaster does not keep the table/);

  // From an earlier origin the rows after it are the actuals.
  const back = loaded.forecast(co2, { origin: '1991-06-01' });
  assert.deepEqual(back.dates, ['1991-07-01', '1991-08-01', '1991-09-01']);
  assert.deepEqual(back.actual, co2.rows.slice(-6, -3).map((r) => Number(r[1])));
  const csv = forecastRows(back);
  assert.deepEqual(csv.header, ['date', 'forecast', 'naive', 'seasonal_naive', 'actual']);
  assert.equal(csv.rows[0]![2], Number(co2.rows[co2.rows.length - 7]![1])); // naive: the origin's value
  assert.throws(() => loaded.forecast(co2, { origin: '1991-06-15' }), /the origin 1991-06-15 is not a date of the series/);
  const days = Array.from({ length: 40 }, (_, i) => `${new Date(Date.UTC(1991, 0, 1 + i)).toISOString().slice(0, 10)},350`);
  const daily = parseCsv(`Date,CO2\n${days.join('\n')}\n`, 'daily.csv');
  assert.throws(() => loaded.forecast(daily), /daily\.csv: the forecaster was trained on monthly data, this table is daily/);
  assert.throws(
    () => loaded.forecast({ ...co2, rows: co2.rows.slice(0, 10), lines: co2.lines.slice(0, 10) }),
    /too few rows before the origin 1980-10-01: 10, the forecaster needs 13/,
  );
});

test('scalers and the MASE scale are fitted on the training rows only', async () => {
  const f = await Forecaster.fit(co2, co2Options);
  // Change every value after the training part: nothing fitted may move.
  const trainRows = 96;
  const changed: CsvTable = {
    ...co2, rows: co2.rows.map((r, i) => (i < trainRows ? r : [r[0]!, String(Number(r[1]) * 3), r[2]!])),
  };
  const g = await Forecaster.fit(changed, { ...co2Options, validationSize: 24, train: { ...quick.train, epochs: 1 } });
  assert.deepEqual(g.preprocessing.inputScaler, f.preprocessing.inputScaler);
  assert.deepEqual(g.preprocessing.outputScaler, f.preprocessing.outputScaler);
  assert.equal(g.preprocessing.maseScale, f.preprocessing.maseScale);
  // And they are what the training rows give: the mean month-to-month change of 1980-01 … 1987-12.
  const y = co2.rows.slice(0, trainRows).map((r) => Number(r[1]));
  const changes = y.slice(1).map((v, i) => v - y[i]!);
  const meanChange = changes.reduce((a, b) => a + b, 0) / changes.length;
  assert.ok(Math.abs(f.preprocessing.inputScaler.center[0]! - meanChange) < 1e-12);
  assert.ok(Math.abs(f.preprocessing.maseScale - seasonalNaiveScale(y, 12)) < 1e-12);
});

test('the same seed gives the same forecaster, bit for bit', async () => {
  const a = await Forecaster.fit(co2, co2Options);
  const b = await Forecaster.fit(co2, co2Options);
  assert.deepEqual(b.forecast().values, a.forecast().values);
});

test('baselines and MASE on a hand-made series', () => {
  const y = [1, 2, 3, 4, 5, 6, 7, 8];
  assert.deepEqual([...naiveForecast(y, 5, 3)], [6, 6, 6]);
  // ŷ[t+h] = y[t + h − m·⌈h/m⌉], m = 4, t = 5: y[2], y[3], y[4], y[5], then y[2], y[3] again.
  assert.deepEqual([...seasonalNaiveForecast(y, 5, 6, 4)], [3, 4, 5, 6, 3, 4]);
  assert.throws(() => seasonalNaiveForecast(y, 2, 1, 4), /needs 4 values of history/);
  // Q = mean |y[t] − y[t−4]| over t = 4 … 7 = 4; over the first 6 values: t = 4, 5 → 4.
  assert.equal(seasonalNaiveScale(y, 4), 4);
  assert.equal(seasonalNaiveScale(y, 4, 6), 4);
  assert.equal(seasonalNaiveScale([1, 3, 2, 5], 1), 2); // m = 1: the naive one-step MAE (2 + 1 + 3) / 3
  assert.throws(() => seasonalNaiveScale(y, 8), /needs more than 8 values/);
  const e = forecastErrors([1, 2], [2, 4], 2);
  assert.deepEqual(e, { mae: 1.5, rmse: Math.sqrt(2.5), mase: 0.75, count: 2 });
});

test('evaluate scores the naive and seasonal-naive forecasts from the same origins', async () => {
  // Daily, season 4: y[t] = t + 3 on every 4th day. The seasonal-naive error is always 4 (the trend over
  // one season), so its MAE is 4 and, with Q = 4 on the training rows, its MASE is exactly 1.
  const rows = Array.from({ length: 60 }, (_, t) => `${new Date(Date.UTC(2021, 0, 1 + t)).toISOString().slice(0, 10)},${t + (t % 4 === 0 ? 3 : 0)}`);
  const table = parseCsv(`day,y\n${rows.join('\n')}\n`, 'synthetic.csv');
  const f = await Forecaster.fit(table, { dateColumn: 'day', target: 'y', lookback: 5, horizon: 2, season: 4, testSize: 12, validationSize: 8, ...quick });
  const e = f.evaluate();
  assert.equal(e.maseScale, 4);
  assert.equal(e.metrics.seasonalNaive.mae, 4);
  assert.equal(e.metrics.seasonalNaive.mase, 1);
  // Naive by hand over the origins t = 47 … 57 (targets in the last 12 rows, 48 … 59).
  const y = (t: number) => t + (t % 4 === 0 ? 3 : 0);
  let abs = 0;
  let sq = 0;
  for (let t = 47; t <= 57; t++) for (let h = 1; h <= 2; h++) {
    abs += Math.abs(y(t) - y(t + h));
    sq += (y(t) - y(t + h)) ** 2;
  }
  assert.equal(e.origins, 11);
  assert.ok(Math.abs(e.metrics.naive.mae - abs / 22) < 1e-12);
  assert.ok(Math.abs(e.metrics.naive.rmse - Math.sqrt(sq / 22)) < 1e-12);
  assert.ok(Math.abs(e.metrics.naive.mase - abs / 22 / 4) < 1e-12);
  assert.equal(e.byHorizon.naive.length, 2);
  const text = formatEvaluation(e);
  assert.match(text, /^LSTM +\d/m);
  assert.match(text, /^naive \(last value\) +\d/m);
  assert.match(text, /^seasonal naive \(m=4\) +[\d.]+ +[\d.]+ +1\.000$/m);
  assert.match(text, /LSTM (beats|does NOT beat) the naive last-value forecast/);
});

test('the drift and level transforms, and features, on a slice of Seattle weather', async () => {
  const weather = slice('seattle-weather.csv', (l) => l >= '2012-01-01' && l < '2012-05-01'); // 121 daily rows
  for (const transform of ['delta', 'drift', 'level'] as const) {
    const f = await Forecaster.fit(weather, {
      dateColumn: 'date', target: 'temp_max', features: ['temp_max', 'precipitation', 'wind'], lookback: 10, horizon: 2, transform, ...quick,
    });
    assert.equal(f.model.config.input.type === 'features' && f.model.config.input.size, 1 + 3 + 2); // target, 3 features, sin/cos (season 7)
    const e = f.evaluate();
    assert.ok(Number.isFinite(e.metrics.model.mae) && Number.isFinite(e.metrics.naive.mase), transform);
    assert.ok(f.forecast().values.every(Number.isFinite));
  }
});

test('malformed CSVs: each error names the column or the row', async () => {
  const fit = (csv: string, opts: Partial<ForecasterOptions> = {}) => Forecaster.fit(parseCsv(csv, 'bad.csv'), {
    dateColumn: 'Date', target: 'CO2', lookback: 3, horizon: 1, season: 1, validationSize: 0, testSize: 2, ...quick, ...opts,
  });
  const month = (i: number) => `${1990 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-01`;
  const rows = (n: number, at = (i: number) => String(300 + i)) => Array.from({ length: n }, (_, i) => `${month(i)},${at(i)}`).join('\n');
  await assert.rejects(fit(`Date,CO3\n${rows(20)}\n`), /bad\.csv:1: no target column "CO2" in the header; the columns are "Date", "CO3"/);
  await assert.rejects(fit(`Date,CO2\n${rows(20)}\n`, { features: ['wind'] }), /no feature column "wind"/);
  await assert.rejects(fit(`Date,CO2\n${rows(20, (i) => (i === 6 ? 'n/a' : String(i)))}\n`), /bad\.csv:8: column "CO2" holds "n\/a", which is not a number/);
  await assert.rejects(fit(`Date,CO2\n${rows(20, (i) => (i === 6 ? '' : String(i)))}\n`), /bad\.csv:8: column "CO2" is empty/);
  const gap = `Date,CO2\n${rows(20).split('\n').filter((_, i) => i !== 10).join('\n')}\n`;
  await assert.rejects(fit(gap), /bad\.csv:12: gap in the dates: 1990-10-01 \(line 11\) is followed by 1990-12-01; 1 missing step of 1 month \(1990-11-01\)/);
  await assert.rejects(
    fit(`Date,CO2\n${rows(6)}\n`),
    /bad\.csv: too few rows for the window: 6 rows split into 4 training, 0 validation and 2 test rows; lookback 3 and horizon 1 need at least 5 training rows/,
  );
  await assert.rejects(fit(`Date,CO2\n${rows(30)}\n`, { lookback: 3, horizon: 4, testSize: 3 }), /too few rows for the window.*3 test rows.*horizon 4.*4 test/);
  await assert.rejects(fit(`Date,CO2\n${rows(30)}\n`, { season: 40 }), /too few rows for the window.*with season 40 need at least 41 training rows/);
});

test('charts are self-contained SVG or HTML with history, forecast and actuals', async () => {
  const f = await Forecaster.fit(co2, co2Options);
  const svg = renderSvg(evaluationChart(f.evaluate()));
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  for (const label of ['history', 'actual', 'naive (MAE', 'seasonal naive (MAE', 'LSTM forecast (MAE']) assert.ok(svg.includes(`>${label}`), label);
  assert.doesNotMatch(svg, /<script|href=|url\(|NaN/);
  assert.equal((svg.match(/http/g) ?? []).length, 1); // the xmlns only: nothing is fetched
  const html = renderChart(forecastChart(f.forecast(co2, { origin: '1991-01-01' })), 'chart.html', 'a table');
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /<pre>a table<\/pre>/);
  assert.ok(html.includes('>actual<') && html.includes('>LSTM forecast<'));
  assert.ok(!existsSync(join(ROOT, 'chart.html')));
});

test('forecastMany batches several series into one pass and matches forecast()', async () => {
  const f = await Forecaster.fit(co2, co2Options);
  const shorter: CsvTable = { ...co2, rows: co2.rows.slice(0, 100), lines: co2.lines.slice(0, 100) };
  const many = f.forecastMany([co2, shorter]);
  const one = [f.forecast(co2), f.forecast(shorter)];
  many.forEach((m, i) => {
    assert.deepEqual(m.dates, one[i]!.dates);
    m.values.forEach((v, k) => assert.ok(Math.abs(v - one[i]!.values[k]!) < 1e-4, `${v} vs ${one[i]!.values[k]}`));
  });
});

test('the README snippet runs (with one epoch)', async () => {
  // README: Forecasting — the library. Same calls; only the epochs are cut.
  const table = parseCsv(readFileSync(join(VEGA, 'co2-concentration.csv'), 'utf8'), 'co2.csv');
  const forecaster = await Forecaster.fit(table, {
    dateColumn: 'Date', target: 'CO2', lookback: 24, horizon: 12,
    transform: 'drift', gaps: 'interpolate',
    train: { epochs: 1 },
  });
  assert.match(formatEvaluation(forecaster.evaluate()), /seasonal naive \(m=12\)/);
  const next = forecaster.forecast();
  assert.equal(next.dates[0], '2020-05-01');
  assert.equal(next.values.length, 12);
  const dir = tempDir();
  await forecaster.save(join(dir, 'co2.lstmkit'));
  assert.deepEqual((await Forecaster.load(join(dir, 'co2.lstmkit'))).forecast(table).values, next.values);
});

test('a model file that is not a forecaster, or whose preprocessing does not fit its model, is refused', async () => {
  const f = await Forecaster.fit(co2, co2Options);
  const plain = encodeModelFile(f.model);
  assert.throws(() => Forecaster.fromModelFile(plain, { source: 'plain.lstmkit' }), /plain\.lstmkit: is not a forecaster/);
  const wrong = encodeModelFile(f.model, { preprocessing: { ...f.preprocessing, horizon: 5 } });
  assert.throws(
    () => Forecaster.fromModelFile(wrong, { source: 'wrong.lstmkit' }),
    /wrong\.lstmkit: the model predicts 3 steps, its forecaster preprocessing says horizon 5/,
  );
  const broken = encodeModelFile(f.model, { preprocessing: { ...f.preprocessing, lookback: 'twelve' } });
  assert.throws(() => Forecaster.fromModelFile(broken, { source: 'broken.lstmkit' }), /broken\.lstmkit: preprocessing\.lookback is not a positive integer/);
});
