// A regular time series from a table: a date column and numeric columns,
// optionally one series picked out of a long table (where symbol = AAPL).
// Dates must increase by one step of one frequency; a gap is an error that
// names the rows and the missing dates, unless gaps are to be interpolated.

import { DataError } from '../core/errors.js';
import { columnIndex, parseNumberCell, type CsvTable } from './csv.js';
import { addPeriods, DATE_FORMATS, describeStep, formatDate, inferFrequency, parseDate, periodsBetween, type Frequency } from './dates.js';

export type GapPolicy = 'error' | 'interpolate';

export interface SeriesOptions {
  dateColumn: string;
  /** Numeric columns to read. */
  columns: readonly string[];
  /** What each column is, for messages: "target column", "feature column". */
  roles?: Readonly<Record<string, string>>;
  /** Keep only the rows whose cells equal these values (one series of a long table). */
  where?: Readonly<Record<string, string>>;
  /** Missing steps: an error (default), or rows filled in by linear interpolation. */
  gaps?: GapPolicy;
  /** The step between rows; inferred from the dates when left out. */
  frequency?: Frequency;
}

export interface TimeSeries {
  source: string;
  /** [rows] milliseconds since 1970, UTC, one step apart. */
  times: number[];
  /** [rows] the CSV line of each row; null for a row filled in by interpolation. */
  lines: (number | null)[];
  /** [rows] per column. */
  values: Record<string, Float64Array>;
  frequency: Frequency;
  /** Rows filled in by interpolation. */
  filled: number;
}

function whereText(where: Readonly<Record<string, string>> | undefined): string {
  return where && Object.keys(where).length ? ` where ${Object.entries(where).map(([k, v]) => `${k} = ${v}`).join(' and ')}` : '';
}

/** Row indices of the table that pass the `where` filter. */
function filterRows(table: CsvTable, where: Readonly<Record<string, string>> | undefined): number[] {
  let rows = table.rows.map((_, i) => i);
  for (const [name, value] of Object.entries(where ?? {})) {
    const j = columnIndex(table, name, 'filter column');
    const kept = rows.filter((i) => table.rows[i]![j]!.trim() === value);
    if (kept.length === 0) {
      const seen = [...new Set(rows.map((i) => table.rows[i]![j]!.trim()))];
      throw new DataError(
        `no rows where ${name} = ${value}; column "${name}" holds ${seen.slice(0, 12).join(', ')}${seen.length > 12 ? ', …' : ''}`,
        table.source,
      );
    }
    rows = kept;
  }
  return rows;
}

export function buildSeries(table: CsvTable, opts: SeriesOptions): TimeSeries {
  const { source } = table;
  const dateJ = columnIndex(table, opts.dateColumn, 'date column');
  const columnJ = opts.columns.map((name) => columnIndex(table, name, opts.roles?.[name] ?? 'column'));
  const rows = filterRows(table, opts.where);
  const lineOf = (i: number): number => table.lines[i]!;
  const times = rows.map((i) => {
    const cell = table.rows[i]![dateJ]!;
    const t = parseDate(cell);
    if (t === null) {
      throw new DataError(
        `date column "${opts.dateColumn}" holds ${JSON.stringify(cell.trim().slice(0, 40))}, ` +
        `which is not a date (expected a form like ${DATE_FORMATS})`,
        source, lineOf(i),
      );
    }
    return t;
  });
  // Repeats first: a long table (several series stacked) shows up as repeated dates, and deserves the hint.
  const firstSeen = new Map<number, number>();
  times.forEach((t, k) => {
    const seen = firstSeen.get(t);
    if (seen !== undefined) {
      const hint = Object.keys(opts.where ?? {}).length
        ? ''
        : ' — if the table holds several series, pick one with where (CLI: --where column=value)';
      throw new DataError(
        `the date ${formatDate(t)} repeats (lines ${lineOf(rows[seen]!)} and ${lineOf(rows[k]!)}); each row must be one step${hint}`,
        source, lineOf(rows[k]!),
      );
    }
    firstSeen.set(t, k);
  });
  for (let k = 1; k < times.length; k++) {
    const [a, b] = [times[k - 1]!, times[k]!];
    if (b < a) {
      throw new DataError(
        `the dates are not in order: ${formatDate(b)} comes after ${formatDate(a)} (line ${lineOf(rows[k - 1]!)}); sort the rows by date`,
        source, lineOf(rows[k]!),
      );
    }
  }
  const values = opts.columns.map((name, c) => Float64Array.from(
    rows,
    (i) => parseNumberCell(table.rows[i]![columnJ[c]!]!, name, source, lineOf(i)),
  ));
  if (rows.length < 2) throw new DataError(`only ${rows.length} row${whereText(opts.where)}; a time series needs at least 2`, source);
  const frequency = opts.frequency ?? inferFrequency(times);
  const step = describeStep(frequency);

  const outTimes: number[] = [times[0]!];
  const outLines: (number | null)[] = [lineOf(rows[0]!)];
  const outValues = values.map((v) => [v[0]!]);
  let filled = 0;
  for (let k = 1; k < times.length; k++) {
    const [a, b] = [times[k - 1]!, times[k]!];
    const steps = periodsBetween(a, b, frequency);
    const [lineA, lineB] = [lineOf(rows[k - 1]!), lineOf(rows[k]!)];
    if (!Number.isInteger(steps) || steps < 1) {
      throw new DataError(
        `the dates are not evenly spaced: ${formatDate(b)} is not a whole number of steps of ${step} after ${formatDate(a)} (line ${lineA})`,
        source, lineB,
      );
    }
    if (steps > 1) {
      const missing = steps - 1;
      const firstMissing = formatDate(addPeriods(a, frequency, 1));
      const lastMissing = formatDate(addPeriods(a, frequency, missing));
      if ((opts.gaps ?? 'error') === 'error') {
        const range = missing === 1 ? firstMissing : `${firstMissing} … ${lastMissing}`;
        throw new DataError(
          `gap in the dates: ${formatDate(a)} (line ${lineA}) is followed by ${formatDate(b)}; ` +
          `${missing} missing step${missing === 1 ? '' : 's'} of ${step} (${range}). ` +
          `Add the missing rows, or fill them by linear interpolation with gaps: 'interpolate' (CLI: --gaps interpolate)`,
          source, lineB,
        );
      }
      for (let s = 1; s <= missing; s++) {
        outTimes.push(addPeriods(a, frequency, s));
        outLines.push(null);
        values.forEach((v, c) => outValues[c]!.push(v[k - 1]! + ((v[k]! - v[k - 1]!) * s) / steps));
      }
      filled += missing;
    }
    outTimes.push(b);
    outLines.push(lineB);
    values.forEach((v, c) => outValues[c]!.push(v[k]!));
  }
  const record: Record<string, Float64Array> = {};
  opts.columns.forEach((name, c) => (record[name] = Float64Array.from(outValues[c]!)));
  return { source, times: outTimes, lines: outLines, values: record, frequency, filled };
}
