// `lstmkit forecast train | eval | predict` as a real process, on a slice of
// vega-datasets' stocks.csv (a long table: one symbol picked with --where,
// dates like "Jan 1 2000"), and one line on stderr with exit 1 for a mistake.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, type RunResult } from '../helpers/cli.js';
import { ROOT } from '../helpers/fixtures.js';

const ENTRY = join(ROOT, 'dist', 'test', 'helpers', 'forecast-cli.js');

function forecast(args: string[]): Promise<RunResult> {
  const child = spawn(process.execPath, [ENTRY, 'forecast', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

function stocksSlice(dir: string): string {
  const lines = readFileSync(join(ROOT, 'node_modules', 'vega-datasets', 'data', 'stocks.csv'), 'utf8').trimEnd().split('\n');
  const path = join(dir, 'stocks.csv');
  // MSFT and IBM, 2000 … 2005: 72 months each, interleaved by symbol as in the file.
  writeFileSync(path, [lines[0]!, ...lines.slice(1).filter((l) => /^(MSFT|IBM),\w+ \d+ 200[0-5],/.test(l))].join('\n') + '\n');
  return path;
}

test('forecast train, eval and predict on a slice of stocks.csv', async () => {
  const dir = tempDir();
  const csv = stocksSlice(dir);
  const run = join(dir, 'run');
  const common = ['--csv', csv, '--date', 'date', '--target', 'price', '--where', 'symbol=IBM', '--lookback', '6', '--horizon', '2'];
  const train = await forecast(['train', ...common, '--epochs', '2', '--hidden', '8', '--no-calendar', '--out', run, '--json']);
  assert.equal(train.code, 0, train.stderr);
  const result = JSON.parse(train.stdout) as {
    model: string; epochs: number; split: { testStart: string };
    test: { metrics: Record<string, { mae: number; rmse: number; mase: number }> };
  };
  assert.equal(result.epochs, 2);
  assert.equal(result.split.testStart, '2005-02-01');
  for (const method of ['model', 'naive', 'seasonalNaive']) assert.ok(Number.isFinite(result.test.metrics[method]!.mase), method);
  assert.ok(existsSync(join(run, 'best.lstmkit')));

  const ev = await forecast(['eval', run, '--csv', csv, '--chart', join(dir, 'test.svg')]);
  assert.equal(ev.code, 0, ev.stderr);
  assert.match(ev.stdout, /^method +MAE +RMSE +MASE$/m);
  assert.match(ev.stdout, /^seasonal naive \(m=12\) +[\d.]+ +[\d.]+ +[\d.]+$/m);
  assert.match(ev.stdout, /LSTM (beats|does NOT beat) the naive last-value forecast/);
  assert.match(readFileSync(join(dir, 'test.svg'), 'utf8'), /^<svg /);
  const json = await forecast(['eval', run, '--csv', csv, '--json']);
  assert.deepEqual((JSON.parse(json.stdout) as { metrics: unknown }).metrics, result.test.metrics);

  const pred = await forecast(['predict', run, '--csv', csv, '--out', join(dir, 'forecast.csv'), '--chart', join(dir, 'forecast.html')]);
  assert.equal(pred.code, 0, pred.stderr);
  const lines = readFileSync(join(dir, 'forecast.csv'), 'utf8').trimEnd().split('\n');
  assert.equal(lines[0], 'date,forecast,naive,seasonal_naive,actual');
  assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), ['2006-01-01', '2006-02-01']);
  assert.match(readFileSync(join(dir, 'forecast.html'), 'utf8'), /^<!doctype html>/);
  const stdout = await forecast(['predict', run, '--csv', csv, '--origin', 'Jun 1 2005']);
  assert.match(stdout.stdout, /^2005-07-01,[\d.]+,[\d.]+,[\d.]+,[\d.]+$/m); // actuals known after the origin
});

test('forecast mistakes print one line and exit 1', async () => {
  const dir = tempDir();
  const csv = stocksSlice(dir);
  const base = ['train', '--csv', csv, '--date', 'date', '--lookback', '6', '--horizon', '2', '--out', join(dir, 'run')];
  const cases: [string[], RegExp][] = [
    [[...base, '--target', 'close', '--where', 'symbol=IBM'], /no target column "close" in the header; the columns are "symbol", "date", "price"/],
    [[...base, '--target', 'price'], /the date 2000-01-01 repeats \(lines 2 and 74\).*--where column=value/],
    [[...base, '--target', 'price', '--where', 'symbol=AAPL'], /no rows where symbol = AAPL; column "symbol" holds MSFT, IBM/],
    [[...base, '--target', 'price', '--where', 'symbol=IBM', '--lookback', '60'], /too few rows for the window: 72 rows where symbol = IBM/],
    [['eval', join(dir, 'nothing'), '--csv', csv], /no such model file or run directory/],
  ];
  const results = await Promise.all(cases.map(([args]) => forecast(args)));
  for (const [i, [args, pattern]] of cases.entries()) {
    const r = results[i]!;
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^lstmkit: /);
  }
});
