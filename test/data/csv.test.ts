// CSV tables: quoting, line numbers through blank lines and quoted newlines,
// and an error naming the file, line and column for every malformed input.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnIndex, formatCsv, numericColumn, parseCsv, tableFromRecords } from '../../src/data/csv.js';
import { DataError } from '../../src/core/errors.js';

test('parses a header and rows, with quoted separators and newlines, and keeps each row\'s line', () => {
  const t = parseCsv('date,value,note\n2020-01-01,1.5,"a, b"\n\n2020-01-02,2,"two\nlines"\n2020-01-03,3,plain\n', 'x.csv');
  assert.deepEqual(t.header, ['date', 'value', 'note']);
  assert.equal(t.headerLine, 1);
  assert.deepEqual(t.rows, [['2020-01-01', '1.5', 'a, b'], ['2020-01-02', '2', 'two\nlines'], ['2020-01-03', '3', 'plain']]);
  assert.deepEqual(t.lines, [2, 4, 6]);
});

test('tabs, semicolons, CRLF line ends and a byte-order mark', () => {
  assert.deepEqual(parseCsv('a\tb\r\n1\t2\r\n').rows, [['1', '2']]);
  assert.deepEqual(parseCsv('a;b\n1;2\n').rows, [['1', '2']]);
  const bom = parseCsv('\ufeffDate,CO2\n2020-01-01,400\n');
  assert.deepEqual(bom.header, ['Date', 'CO2']);
  assert.deepEqual(bom.lines, [2]);
});

test('malformed CSV: each error names the file and line', () => {
  assert.throws(() => parseCsv('', 'e.csv'), (e: Error) => e instanceof DataError && /e\.csv: the file is empty/.test(e.message));
  assert.throws(() => parseCsv('a,b\n', 'h.csv'), /h\.csv: only a header \(line 1\), no data rows/);
  assert.throws(() => parseCsv('a,b\n1,2\n3\n', 'r.csv'), /r\.csv:3: the row has 1 cell, the header has 2 columns \(a, b\)/);
  assert.throws(() => parseCsv('a,b\n1,2\n3,"4\n', 'q.csv'), /q\.csv:3: a quoted field is never closed/);
  assert.throws(() => parseCsv('a,a\n1,2\n', 'd.csv'), /d\.csv:1: the header names column "a" twice/);
  assert.throws(() => parseCsv('a,\n1,2\n', 'n.csv'), /n\.csv:1: the header has an empty name for column 2/);
});

test('a missing column names the columns there are', () => {
  const t = parseCsv('Date,CO2\n2020-01-01,400\n', 'co2.csv');
  assert.equal(columnIndex(t, 'CO2'), 1);
  assert.throws(
    () => columnIndex(t, 'co2', 'target column'),
    /co2\.csv:1: no target column "co2" in the header; the columns are "Date", "CO2" \(did you mean "CO2"\?\)/,
  );
});

test('numeric columns: a non-number or an empty cell names the line and the column', () => {
  const t = parseCsv('d,v\n1,1.5\n2, -2e3 \n3,abc\n4,\n', 'n.csv');
  assert.deepEqual([...numericColumn(t, 'v', [0, 1])], [1.5, -2000]);
  assert.throws(() => numericColumn(t, 'v', [2]), /n\.csv:4: column "v" holds "abc", which is not a number/);
  assert.throws(() => numericColumn(t, 'v', [3]), /n\.csv:5: column "v" is empty \(a missing value\)/);
});

test('tables from records, and CSV text out', () => {
  const t = tableFromRecords([{ date: '2020-01-01', v: 1 }, { date: '2020-01-02', v: 2.5 }]);
  assert.deepEqual(t.header, ['date', 'v']);
  assert.deepEqual(t.rows, [['2020-01-01', '1'], ['2020-01-02', '2.5']]);
  assert.equal(
    formatCsv(['date', 'forecast', 'actual'], [['2020-01-01', 1.25, null], ['2020-01-02', 2, 3]]),
    'date,forecast,actual\n2020-01-01,1.25,\n2020-01-02,2,3\n',
  );
});
