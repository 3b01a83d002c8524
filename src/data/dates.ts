// Dates of a time series: parsing (ISO 8601 and the common "Jan 1 2000"
// forms, always as UTC so daylight saving never shifts a step), the
// frequency (a whole number of calendar months, or a fixed duration), the
// dates that follow a date, and the phase of a date within a season.

import { ValueError } from '../core/errors.js';

/** A regular step between rows: calendar months (monthly, quarterly, yearly) or a fixed number of milliseconds. */
export type Frequency = { months: number } | { ms: number };

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** 1 … 12 for a month name or its abbreviation (Jan, Sept., …), else null. */
function monthNumber(name: string): number | null {
  const key = name.toLowerCase().replace(/\.$/, '');
  if (key.length < 3) return null;
  const m = MONTH_NAMES.findIndex((full) => full.startsWith(key));
  return m === -1 ? null : m + 1;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number | null {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

const ISO = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const SLASHED = /^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$/;
const YEAR_MONTH = /^(\d{4})-(\d{1,2})$/;
const YEAR = /^(\d{4})$/;
const NAME_DAY_YEAR = /^([A-Za-z]{3,9}\.?)\s+(\d{1,2}),?\s+(\d{4})$/;
const DAY_NAME_YEAR = /^(\d{1,2})\s+([A-Za-z]{3,9}\.?),?\s+(\d{4})$/;
const NAME_YEAR = /^([A-Za-z]{3,9}\.?)\s+(\d{4})$/;

export const DATE_FORMATS = '2020-01-31, 2020-01-31T12:00:00Z, 2020-01-31 12:00, 2020/01/31, 2020-01, 2020, Jan 31 2020, 31 Jan 2020, Jan 2020';

/** Milliseconds since 1970 (UTC) of a date string, or null when it is not a date. */
export function parseDate(text: string): number | null {
  const s = text.trim();
  let m = ISO.exec(s);
  if (m) {
    const fraction = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
    const t = utc(+m[1]!, +m[2]!, +m[3]!, m[4] ? +m[4] : 0, m[5] ? +m[5] : 0, m[6] ? +m[6] : 0, fraction);
    if (t === null) return null;
    const zone = m[8];
    if (!zone || zone.toUpperCase() === 'Z') return t;
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    return t - (z[1] === '-' ? -1 : 1) * (+z[2]! * HOUR + +z[3]! * MINUTE);
  }
  if ((m = SLASHED.exec(s))) return utc(+m[1]!, +m[2]!, +m[3]!);
  if ((m = YEAR_MONTH.exec(s))) return utc(+m[1]!, +m[2]!, 1);
  if ((m = YEAR.exec(s))) return utc(+m[1]!, 1, 1);
  if ((m = NAME_DAY_YEAR.exec(s))) {
    const month = monthNumber(m[1]!);
    return month === null ? null : utc(+m[3]!, month, +m[2]!);
  }
  if ((m = DAY_NAME_YEAR.exec(s))) {
    const month = monthNumber(m[2]!);
    return month === null ? null : utc(+m[3]!, month, +m[1]!);
  }
  if ((m = NAME_YEAR.exec(s))) {
    const month = monthNumber(m[1]!);
    return month === null ? null : utc(+m[2]!, month, 1);
  }
  return null;
}

/** ISO 8601: 2020-01-31 for midnight, 2020-01-31T12:00:00Z otherwise. */
export function formatDate(time: number): string {
  const iso = new Date(time).toISOString();
  if (iso.endsWith('T00:00:00.000Z')) return iso.slice(0, 10);
  return iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso;
}

function isMonthEnd(time: number): boolean {
  const d = new Date(time);
  return d.getUTCDate() === daysInMonth(d.getUTCFullYear(), d.getUTCMonth() + 1);
}

/** Calendar months from 1970-01 to the month of `time`. */
function monthIndex(time: number): number {
  const d = new Date(time);
  return (d.getUTCFullYear() - 1970) * 12 + d.getUTCMonth();
}

/** The time `periods` steps after `time` (before, when negative). Month-end dates stay month ends. */
export function addPeriods(time: number, frequency: Frequency, periods: number): number {
  if ('ms' in frequency) return time + periods * frequency.ms;
  const d = new Date(time);
  const months = d.getUTCMonth() + periods * frequency.months;
  const year = d.getUTCFullYear() + Math.floor(months / 12);
  const month = ((months % 12) + 12) % 12 + 1;
  const day = isMonthEnd(time) ? daysInMonth(year, month) : Math.min(d.getUTCDate(), daysInMonth(year, month));
  const ofDay = time - Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return Date.UTC(year, month - 1, day) + ofDay;
}

/** Whole steps from `a` to `b`, or a fraction when `b` is not on `a`'s grid. */
export function periodsBetween(a: number, b: number, frequency: Frequency): number {
  if ('ms' in frequency) return (b - a) / frequency.ms;
  const whole = (monthIndex(b) - monthIndex(a)) / frequency.months;
  return Number.isInteger(whole) && addPeriods(a, frequency, whole) === b ? whole : whole + 0.5;
}

/** Whether all times sit on one day of the month (or all on month ends) at one time of day. */
function monthAligned(times: readonly number[]): boolean {
  const first = new Date(times[0]!);
  const day = first.getUTCDate();
  const ofDay = times[0]! % DAY;
  const ends = times.every(isMonthEnd);
  return times.every((t) => t % DAY === ofDay && (ends || new Date(t).getUTCDate() === day)) && (ends || day <= 28);
}

function mostCommon(values: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = values[0]!;
  for (const [v, c] of counts) if (c > counts.get(best)! || (c === counts.get(best)! && v < best)) best = v;
  return best;
}

/**
 * The step of increasing times: the most common gap, in calendar months when
 * every date is on one day of the month, else in milliseconds. Gaps and
 * irregular steps are for the caller to find with periodsBetween.
 */
export function inferFrequency(times: readonly number[]): Frequency {
  if (times.length < 2) throw new ValueError('need at least 2 dates to infer the frequency');
  if (monthAligned(times)) {
    const steps = times.slice(1).map((t, i) => monthIndex(t) - monthIndex(times[i]!));
    const months = mostCommon(steps);
    if (months >= 1 && !(months === 1 && steps.every((s) => s === 0))) return { months };
  }
  return { ms: mostCommon(times.slice(1).map((t, i) => t - times[i]!)) };
}

/** daily, monthly, every 6 hours, … */
export function describeFrequency(f: Frequency): string {
  if ('months' in f) return f.months === 1 ? 'monthly' : f.months === 3 ? 'quarterly' : f.months === 12 ? 'yearly' : `every ${f.months} months`;
  const named: [number, string, string][] = [
    [WEEK, 'weekly', 'weeks'], [DAY, 'daily', 'days'], [HOUR, 'hourly', 'hours'],
    [MINUTE, 'every minute', 'minutes'], [SECOND, 'every second', 'seconds'],
  ];
  for (const [unit, one, many] of named) {
    if (f.ms === unit) return one;
    if (f.ms % unit === 0) return `every ${f.ms / unit} ${many}`;
  }
  return `every ${f.ms} ms`;
}

/** One step as a duration: 1 month, 3 months, 1 day, 12 hours, … */
export function describeStep(f: Frequency): string {
  if ('months' in f) return f.months === 12 ? '1 year' : `${f.months} month${f.months === 1 ? '' : 's'}`;
  const units: [number, string][] = [[WEEK, 'week'], [DAY, 'day'], [HOUR, 'hour'], [MINUTE, 'minute'], [SECOND, 'second'], [1, 'ms']];
  const [unit, name] = units.find(([u]) => f.ms % u === 0)!;
  const count = f.ms / unit;
  return `${count} ${name}${count === 1 || name === 'ms' ? '' : 's'}`;
}

/** A frequency from a name: daily, weekly, monthly, quarterly, yearly, hourly, minutely (or D, W, M, Q, Y, H, min). */
export function parseFrequency(name: string): Frequency {
  const key = name.trim().toLowerCase();
  const table: Record<string, Frequency> = {
    daily: { ms: DAY }, d: { ms: DAY }, day: { ms: DAY },
    weekly: { ms: WEEK }, w: { ms: WEEK }, week: { ms: WEEK },
    monthly: { months: 1 }, m: { months: 1 }, ms: { months: 1 }, month: { months: 1 },
    quarterly: { months: 3 }, q: { months: 3 }, qs: { months: 3 }, quarter: { months: 3 },
    yearly: { months: 12 }, annual: { months: 12 }, y: { months: 12 }, a: { months: 12 }, ys: { months: 12 },
    year: { months: 12 },
    hourly: { ms: HOUR }, h: { ms: HOUR }, hour: { ms: HOUR },
    minutely: { ms: MINUTE }, min: { ms: MINUTE }, t: { ms: MINUTE }, minute: { ms: MINUTE },
  };
  const f = table[key];
  if (!f) throw new ValueError(`unknown frequency "${name}"; expected daily, weekly, monthly, quarterly, yearly, hourly or minutely`);
  return f;
}

/**
 * The usual season length of a frequency: 12 for monthly, 4 quarterly, 7 daily, 24 hourly, 52 weekly;
 * 1 (none) otherwise.
 */
export function defaultSeason(f: Frequency): number {
  if ('months' in f) return f.months === 1 ? 12 : f.months === 3 ? 4 : 1;
  if (f.ms === DAY) return 7;
  if (f.ms === HOUR) return 24;
  if (f.ms === WEEK) return 52;
  return 1;
}

/**
 * Where a time sits in a season of `season` steps, in [0, 1). The calendar
 * decides where it can: month of year for monthly data with season 12, day of
 * year for daily data with season 365 or 366 (so leap years do not drift).
 */
export function seasonPhase(time: number, f: Frequency, season: number): number {
  if ('months' in f) {
    const steps = monthIndex(time) / f.months;
    return (((steps % season) + season) % season) / season;
  }
  if (f.ms === DAY && (season === 365 || season === 366)) {
    const d = new Date(time);
    const start = Date.UTC(d.getUTCFullYear(), 0, 1);
    const length = Date.UTC(d.getUTCFullYear() + 1, 0, 1) - start;
    return (time - start) / length;
  }
  const steps = Math.floor(time / f.ms);
  return (((steps % season) + season) % season) / season;
}
