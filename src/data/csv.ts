// CSV tables (papaparse, which runs in Node and browsers): a header row,
// then rows of strings, each with the line of the file it started on, so that
// every error can name the file, the line and the column. Reading a file from
// disk is Node-only and lives in csvfile.ts.

import Papa from 'papaparse';
import { DataError, FLOAT32_MAX, float32Problem } from '../core/errors.js';

export interface CsvTable {
  /** Names the source in errors (a path, or '<csv>'). */
  source: string;
  header: string[];
  /** The 1-based line of the header. */
  headerLine: number;
  /** One array of cells per data row, as many cells as the header. */
  rows: string[][];
  /** [rows] the 1-based line of the file each row starts on. */
  lines: number[];
}

/** 1-based line of a character offset, by binary search over newline offsets. */
function lineFinder(text: string): (offset: number) => number {
  const breaks: number[] = [];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) breaks.push(i);
  return (offset) => {
    let lo = 0;
    let hi = breaks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (breaks[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

/**
 * Parse CSV text (comma, tab, semicolon or pipe separated; quoted fields may
 * hold separators and newlines). The first row is the header. Blank lines are
 * skipped; a row with more or fewer cells than the header is an error.
 */
export function parseCsv(text: string, source = '<csv>'): CsvTable {
  const lineOf = lineFinder(text);
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // a byte-order mark is not part of the first name
  const shift = body.length === text.length ? 0 : 1;
  let header: string[] | undefined;
  let headerLine = 1;
  const rows: string[][] = [];
  const lines: number[] = [];
  let cursor = 0;
  let failure: DataError | undefined;
  Papa.parse<string[]>(body, {
    skipEmptyLines: 'greedy',
    delimitersToGuess: [',', '\t', ';', '|'],
    step: (result, handle) => {
      // The row starts after the previous row's end, past the line breaks of blank lines.
      let start = cursor;
      while (start < body.length && (body[start] === '\n' || body[start] === '\r')) start++;
      cursor = result.meta.cursor;
      const line = lineOf(start + shift);
      const error = result.errors.find((e) => e.code !== 'UndetectableDelimiter');
      if (error) {
        const problem = error.code === 'MissingQuotes'
          ? 'a quoted field is never closed (a " is missing)'
          : `cannot parse the row (${error.message})`;
        failure = new DataError(problem, source, line);
        handle.abort();
        return;
      }
      const cells = result.data;
      if (!header) {
        header = cells.map((c) => c.trim());
        headerLine = line;
        const seen = new Set<string>();
        header.forEach((name, j) => {
          if (name === '') failure ??= new DataError(`the header has an empty name for column ${j + 1}`, source, line);
          if (seen.has(name)) failure ??= new DataError(`the header names column "${name}" twice`, source, line);
          seen.add(name);
        });
        if (failure) handle.abort();
        return;
      }
      if (cells.length !== header.length) {
        failure = new DataError(
          `the row has ${cells.length} cell${cells.length === 1 ? '' : 's'}, ` +
          `the header has ${header.length} columns (${header.join(', ')})`,
          source, line,
        );
        handle.abort();
        return;
      }
      rows.push(cells);
      lines.push(line);
    },
  });
  if (failure) throw failure;
  if (!header) throw new DataError('the file is empty (expected a header row of column names)', source);
  if (rows.length === 0) throw new DataError(`only a header (line ${headerLine}), no data rows`, source);
  return { source, header, headerLine, rows, lines };
}

/** A table from plain objects (one per row, the keys of the first are the columns). */
export function tableFromRecords(records: readonly Record<string, unknown>[], source = '<records>'): CsvTable {
  if (records.length === 0) throw new DataError('no rows', source);
  const header = Object.keys(records[0]!);
  const rows = records.map((r, i) => header.map((name) => {
    const v = r[name];
    if (v === undefined || v === null) return '';
    if (v instanceof Date) return v.toISOString();
    if (typeof v === 'object') throw new DataError(`row ${i + 1}, column "${name}": expected a number, string or date, got an object`, source);
    return String(v as string | number | boolean);
  }));
  return { source, header, headerLine: 0, rows, lines: records.map((_, i) => i + 1) };
}

/** The index of a column; the error lists the columns there are. */
export function columnIndex(table: CsvTable, name: string, role = 'column'): number {
  const j = table.header.indexOf(name);
  if (j === -1) {
    const list = table.header.map((h) => `"${h}"`).join(', ');
    const near = table.header.find((h) => h.toLowerCase() === name.toLowerCase());
    throw new DataError(
      `no ${role} "${name}" in the header; the columns are ${list}${near ? ` (did you mean "${near}"?)` : ''}`,
      table.source, table.headerLine || undefined,
    );
  }
  return j;
}

/** A cell as a finite number; the error names the line and the column. */
export function parseNumberCell(cell: string, column: string, source: string, line: number): number {
  const text = cell.trim();
  if (text === '') throw new DataError(`column "${column}" is empty (a missing value); fill it in or drop the row`, source, line);
  const value = Number(text);
  if (!Number.isFinite(value)) throw new DataError(`column "${column}" holds ${JSON.stringify(text.slice(0, 40))}, which is not a number`, source, line);
  if (Math.abs(value) > FLOAT32_MAX) throw new DataError(`column "${column}" ${float32Problem(value)}`, source, line);
  return value;
}

/** A numeric column of the given rows. */
export function numericColumn(table: CsvTable, name: string, rows?: readonly number[]): Float64Array {
  const j = columnIndex(table, name);
  const which = rows ?? table.rows.map((_, i) => i);
  return Float64Array.from(which, (i) => parseNumberCell(table.rows[i]![j]!, name, table.source, table.lines[i]!));
}

/** CSV text from a header and rows (numbers written in full precision). */
export function formatCsv(header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  return Papa.unparse({ fields: [...header], data: rows.map((r) => r.map((v) => (v === null ? '' : v))) }, { newline: '\n' }) + '\n';
}
