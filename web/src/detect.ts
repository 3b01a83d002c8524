// Guessing the roles of a table's columns, so a dropped CSV trains without
// questions: the date and the value to forecast; the text and the label to
// classify; how the two sides of transduction pairs are split. Every guess
// is shown in a drop-down the person can change.

import { parseDate, parseJsonl, parseTsvPairs, type CsvTable, type JsonlRecord } from './lstmkit.js';

const SAMPLE_ROWS = 50;

function cells(table: CsvTable, column: number): string[] {
  const step = Math.max(1, Math.floor(table.rows.length / SAMPLE_ROWS));
  const out: string[] = [];
  for (let i = 0; i < table.rows.length && out.length < SAMPLE_ROWS; i += step) {
    const cell = table.rows[i]![column]!.trim();
    if (cell !== '') out.push(cell);
  }
  return out;
}

const isNumber = (cell: string) => cell !== '' && Number.isFinite(Number(cell));

export interface ForecastColumns {
  dates: string[];
  numbers: string[];
  dateColumn: string | undefined;
  target: string | undefined;
}

export function forecastColumns(table: CsvTable): ForecastColumns {
  const dates: string[] = [];
  const numbers: string[] = [];
  table.header.forEach((name, j) => {
    const sample = cells(table, j);
    if (sample.length === 0) return;
    const numeric = sample.every(isNumber);
    // A column of plain numbers is a date column only when its name says so (year, time).
    if (sample.every((c) => parseDate(c) !== null) && (!numeric || /date|time|year|month|day|period/i.test(name))) dates.push(name);
    else if (numeric) numbers.push(name);
  });
  return { dates, numbers, dateColumn: dates[0], target: numbers[0] };
}

export interface TextColumns {
  columns: string[];
  textColumn: string | undefined;
  labelColumn: string | undefined;
  /** Characters for short texts (names, words), words for sentences. */
  tokenizer: 'char' | 'word';
}

export function textColumns(table: CsvTable): TextColumns {
  const stats = table.header.map((name, j) => {
    const sample = cells(table, j);
    const distinct = new Set(table.rows.map((r) => r[j]!.trim())).size;
    const meanLength = sample.reduce((n, c) => n + c.length, 0) / Math.max(1, sample.length);
    return { name, distinct, meanLength };
  });
  const text = [...stats].sort((a, b) => b.meanLength - a.meanLength)[0];
  const label = stats
    .filter((s) => s !== text && s.distinct >= 2 && s.distinct <= Math.max(2, Math.min(50, table.rows.length / 5)))
    .sort((a, b) => a.distinct - b.distinct)[0];
  return {
    columns: [...table.header],
    textColumn: text?.name,
    labelColumn: label?.name,
    tokenizer: (text?.meanLength ?? 0) < 24 ? 'char' : 'word',
  };
}

export interface PairData {
  format: 'TSV' | 'JSONL';
  records: JsonlRecord[];
}

/** Transduction pairs: JSONL {x, y} when the first line is an object, else TSV source<TAB>target. Errors name the line. */
export function readPairs(text: string, file: string): PairData {
  const jsonl = text.trimStart().startsWith('{');
  return { format: jsonl ? 'JSONL' : 'TSV', records: jsonl ? parseJsonl(text, file) : parseTsvPairs(text, file) };
}

/** A side is words when most of its texts hold a space ("K AE1 T"), else characters; arrays of tokens count as words. */
export function pairTokenizers(records: readonly JsonlRecord[]): { source: 'char' | 'word'; target: 'char' | 'word' } {
  const step = Math.max(1, Math.floor(records.length / SAMPLE_ROWS));
  const sample = records.filter((_, i) => i % step === 0).slice(0, SAMPLE_ROWS);
  const side = (field: 'x' | 'y'): 'char' | 'word' => {
    const spaced = sample.filter((r) => {
      const v = r.value[field];
      return Array.isArray(v) || (typeof v === 'string' && /\S\s+\S/.test(v.trim()));
    }).length;
    return spaced * 2 > sample.length ? 'word' : 'char';
  };
  return { source: side('x'), target: side('y') };
}
