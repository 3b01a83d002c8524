// Dates, frequencies, gaps, scalers and windows: the pieces under the forecaster.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCsv } from '../../src/data/csv.js';
import { addPeriods, describeFrequency, formatDate, inferFrequency, parseDate, parseFrequency, seasonPhase } from '../../src/data/dates.js';
import { Scaler } from '../../src/data/scaler.js';
import { buildSeries } from '../../src/data/timeseries.js';
import { inputWindow, windowExamples, windowOrigins } from '../../src/data/window.js';

const day = 86_400_000;

test('parses ISO dates and times, year-month, and month names, as UTC', () => {
  assert.equal(parseDate('2020-02-29'), Date.UTC(2020, 1, 29));
  assert.equal(parseDate('2020-01-31T12:30:00Z'), Date.UTC(2020, 0, 31, 12, 30));
  assert.equal(parseDate('2020-01-31 12:30'), Date.UTC(2020, 0, 31, 12, 30));
  assert.equal(parseDate('2020-01-31T12:30:00+02:00'), Date.UTC(2020, 0, 31, 10, 30));
  assert.equal(parseDate('2020/01/31'), Date.UTC(2020, 0, 31));
  assert.equal(parseDate('2020-03'), Date.UTC(2020, 2, 1));
  assert.equal(parseDate('1999'), Date.UTC(1999, 0, 1));
  assert.equal(parseDate('Jan 1 2000'), Date.UTC(2000, 0, 1));
  assert.equal(parseDate('September 5, 2001'), Date.UTC(2001, 8, 5));
  assert.equal(parseDate('5 Sept. 2001'), Date.UTC(2001, 8, 5));
  for (const bad of ['2020-02-30', '2020-13-01', 'yesterday', '01/02/2020', '', 'Ja 1 2000']) assert.equal(parseDate(bad), null, bad);
  assert.equal(formatDate(Date.UTC(2020, 0, 31)), '2020-01-31');
  assert.equal(formatDate(Date.UTC(2020, 0, 31, 6)), '2020-01-31T06:00:00Z');
});

test('infers monthly, quarterly, month-end, daily and hourly steps', () => {
  const months = [0, 1, 2, 4].map((m) => Date.UTC(2020, m, 1));
  assert.deepEqual(inferFrequency(months), { months: 1 });
  assert.deepEqual(inferFrequency([0, 3, 6, 9].map((m) => Date.UTC(2020, m, 1))), { months: 3 });
  const ends = ['2020-01-31', '2020-02-29', '2020-03-31', '2020-04-30'].map((d) => parseDate(d)!);
  assert.deepEqual(inferFrequency(ends), { months: 1 });
  assert.equal(formatDate(addPeriods(ends[1]!, { months: 1 }, 1)), '2020-03-31');
  assert.equal(formatDate(addPeriods(parseDate('2020-01-15')!, { months: 1 }, -2)), '2019-11-15');
  assert.deepEqual(inferFrequency([0, day, 2 * day, 4 * day]), { ms: day });
  assert.equal(describeFrequency(inferFrequency([0, 3_600_000, 7_200_000])), 'hourly');
  assert.equal(describeFrequency(parseFrequency('quarterly')), 'quarterly');
  assert.throws(() => parseFrequency('fortnightly'), /unknown frequency "fortnightly"/);
});

test('season phase follows the calendar', () => {
  assert.equal(seasonPhase(Date.UTC(2020, 0, 1), { months: 1 }, 12), 0);
  assert.equal(seasonPhase(Date.UTC(1999, 6, 1), { months: 1 }, 12), 0.5);
  assert.ok(Math.abs(seasonPhase(Date.UTC(2021, 6, 2), { ms: day }, 365) - 182 / 365) < 1e-12);
  assert.equal(seasonPhase(3 * day, { ms: day }, 7), 3 / 7);
});

test('a series: dates checked, a gap is an error naming the rows and the missing dates', () => {
  const csv = 'date,y\n2020-01-01,1\n2020-02-01,2\n2020-05-01,5\n2020-06-01,6\n';
  const table = parseCsv(csv, 'gap.csv');
  assert.throws(() => buildSeries(table, { dateColumn: 'date', columns: ['y'] }),
    /gap\.csv:4: gap in the dates: 2020-02-01 \(line 3\) is followed by 2020-05-01; 2 missing steps of 1 month \(2020-03-01 … 2020-04-01\)/);
  const filled = buildSeries(table, { dateColumn: 'date', columns: ['y'], gaps: 'interpolate' });
  assert.equal(filled.filled, 2);
  assert.deepEqual([...filled.values.y!], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(filled.lines, [2, 3, null, null, 4, 5]);
  assert.deepEqual(filled.times.map(formatDate), ['2020-01-01', '2020-02-01', '2020-03-01', '2020-04-01', '2020-05-01', '2020-06-01']);
});

test('a series: bad dates, order, repeats and uneven steps are errors with lines', () => {
  const build = (csv: string) => buildSeries(parseCsv(csv, 's.csv'), { dateColumn: 'date', columns: ['y'] });
  assert.throws(() => build('date,y\n2020-01-01,1\n2020-13-01,2\n'), /s\.csv:3: date column "date" holds "2020-13-01", which is not a date/);
  assert.throws(
    () => build('date,y\n2020-01-02,1\n2020-01-01,2\n2020-01-03,3\n'),
    /s\.csv:3: the dates are not in order: 2020-01-01 comes after 2020-01-02 \(line 2\)/,
  );
  assert.throws(() => build('date,y\n2020-01-01,1\n2020-01-01,2\n'), /s\.csv:3: the date 2020-01-01 repeats \(lines 2 and 3\).*--where column=value/);
  assert.throws(() => build('date,y\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n2020-01-04,4\n2020-01-05T12:00:00Z,5\n2020-01-06,6\n'),
    /s\.csv:6: the dates are not evenly spaced: 2020-01-05T12:00:00Z is not a whole number of steps of 1 day after 2020-01-04 \(line 5\)/);
  assert.throws(() => build('date,y\n2020-01-01,1\n2020-01-02,x\n'), /s\.csv:3: column "y" holds "x", which is not a number/);
});

test('a series picked out of a long table with where', () => {
  const table = parseCsv('symbol,date,price\nA,Jan 1 2000,1\nB,Jan 1 2000,10\nA,Feb 1 2000,2\nB,Feb 1 2000,20\n', 'long.csv');
  const s = buildSeries(table, { dateColumn: 'date', columns: ['price'], where: { symbol: 'B' } });
  assert.deepEqual([...s.values.price!], [10, 20]);
  assert.deepEqual(s.lines, [3, 5]);
  assert.throws(
    () => buildSeries(table, { dateColumn: 'date', columns: ['price'], where: { symbol: 'C' } }),
    /no rows where symbol = C; column "symbol" holds A, B/,
  );
});

test('scalers: standard and min-max, fitted on the given values, JSON round trip', () => {
  const s = Scaler.fit('standard', [[1, 2, 3, 4], [5, 5, 5, 5]]);
  assert.equal(s.center[0], 2.5);
  assert.ok(Math.abs(s.scale[0]! - Math.sqrt(1.25)) < 1e-12); // population std, as scikit-learn
  assert.equal(s.scale[1], 1); // constant column: scale 1
  assert.ok(Math.abs(s.inverse(s.transform(3.7, 0), 0) - 3.7) < 1e-12);
  const m = Scaler.fit('minmax', [[2, 4, 6]]);
  assert.deepEqual([2, 4, 6].map((v) => m.transform(v, 0)), [0, 0.5, 1]);
  const back = Scaler.fromJSON(JSON.parse(JSON.stringify(m)));
  assert.deepEqual(back.toJSON(), m.toJSON());
  assert.throws(() => Scaler.fromJSON({ kind: 'standard', center: [0], scale: [0] }), /not a valid scaler/);
});

test('windows: origins keep every target inside its part', () => {
  // 10 rows, lookback 3, horizon 2: the first origin is row 2, the last row 7.
  assert.deepEqual(windowOrigins({ lookback: 3, horizon: 2 }, { targetStart: 0, targetEnd: 10 }), [2, 3, 4, 5, 6, 7]);
  assert.deepEqual(windowOrigins({ lookback: 3, horizon: 2 }, { targetStart: 0, targetEnd: 6 }), [2, 3]);
  // Validation targets in rows 6..9: origins 5 … 7 (inputs may reach back into training).
  assert.deepEqual(windowOrigins({ lookback: 3, horizon: 2 }, { targetStart: 6, targetEnd: 10 }), [5, 6, 7]);
  const matrix = Float32Array.from({ length: 20 }, (_, i) => i); // [10, 2]
  assert.deepEqual([...inputWindow(matrix, 2, 4, 3)], [4, 5, 6, 7, 8, 9]);
  const ex = windowExamples(matrix, 2, [2, 3], 3, (t) => Float32Array.of(t));
  assert.equal(ex.length, 2);
  assert.equal(ex[1]!.steps, 3);
  assert.deepEqual([...ex[1]!.yReg!], [3]);
});
