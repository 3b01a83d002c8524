// The forecaster's reports: the metrics table with its verdicts, the charts
// of an evaluation and of a forecast, and a forecast's CSV rows. They read
// what Forecaster.evaluate() and forecast() return and compute nothing the
// recipe needs, so the recipe (src/tasks/) never imports them.

import type { ErrorMetrics } from '../tasks/baselines.js';
import type { Forecast, ForecastEvaluation } from '../tasks/forecaster.js';
import { COLORS, type ChartSeries, type ChartSpec } from './chart.js';

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th';
  return `${n}${suffix}`;
}

function pct(a: number, b: number): string {
  return `${Math.abs(Math.round((1 - a / b) * 100))}%`;
}

/** The metrics table and a plain-words verdict against each baseline. */
export function formatEvaluation(e: ForecastEvaluation, digits = 3): string {
  const rows: [string, ErrorMetrics][] = [
    [e.modelName, e.metrics.model],
    ['naive (last value)', e.metrics.naive],
    [`seasonal naive (m=${e.season})`, e.metrics.seasonalNaive],
  ];
  const w = Math.max(6, ...rows.map(([name]) => name.length));
  const num = (v: number) => v.toFixed(digits).padStart(10);
  const lines = [
    `${e.target}: ${e.origins} forecasts of ${e.horizon} step${e.horizon === 1 ? '' : 's'} (${e.frequency}), targets ${e.from} … ${e.to}`,
    `${'method'.padEnd(w)}  ${'MAE'.padStart(10)}  ${'RMSE'.padStart(10)}  ${'MASE'.padStart(10)}`,
    ...rows.map(([name, m]) => `${name.padEnd(w)}  ${num(m.mae)}  ${num(m.rmse)}  ${num(m.mase)}`),
    `MASE = MAE / ${e.maseScale.toFixed(digits)}, the in-sample MAE of the one-step seasonal-naive forecast (m = ${e.season}) on the training rows`,
  ];
  for (const [name, base] of [['the naive last-value forecast', e.metrics.naive], ['the seasonal-naive forecast', e.metrics.seasonalNaive]] as const) {
    const m = e.metrics.model.mae;
    lines.push(m < base.mae
      ? `${e.modelName} beats ${name}: MAE ${pct(m, base.mae)} lower (${m.toFixed(digits)} vs ${base.mae.toFixed(digits)}).`
      : `${e.modelName} does NOT beat ${name}: its MAE is ${m === base.mae ? 'the same' : `${pct(m, base.mae)} higher`} ` +
        `(${m.toFixed(digits)} vs ${base.mae.toFixed(digits)}).`);
  }
  return lines.join('\n');
}

/**
 * The evaluation as a chart: recent history (`context` rows, default as many as the evaluation period), the actuals
 * of the evaluation period, forecasts from every horizon-th origin, and the baselines.
 */
export function evaluationChart(e: ForecastEvaluation, opts: { title?: string; context?: number } = {}): ChartSpec {
  const { series, backtest, horizon: H } = e;
  const y = series.values[e.target]!;
  const n = series.times.length;
  const context = opts.context ?? Math.max(n - e.startRow, Math.min(3 * e.season, 120));
  const first = Math.max(0, e.startRow - context);
  const slice = (a: number, b: number) => ({ times: series.times.slice(a, b), values: y.subarray(a, b) });
  // Non-overlapping forecasts: every H-th origin, each line starting at its origin's actual value.
  const pick = backtest.originRows.map((t, i) => ({ t, i })).filter((_, i) => i % H === 0);
  const segments = (values: Float64Array) => pick.map(({ t, i }) => ({
    times: [series.times[t]!, ...Array.from({ length: H }, (_, k) => series.times[t + k + 1]!)],
    values: [y[t]!, ...values.subarray(i * H, (i + 1) * H)],
  }));
  const m = e.metrics;
  const chartSeries: ChartSeries[] = [
    { label: 'history', color: COLORS.history, segments: [slice(first, e.startRow)], width: 1.2 },
    { label: 'actual', color: COLORS.actual, segments: [slice(Math.max(0, e.startRow - 1), n)], width: 1.6 },
    {
      label: `seasonal naive (MAE ${m.seasonalNaive.mae.toPrecision(3)})`, color: COLORS.seasonalNaive,
      segments: segments(backtest.seasonalNaive), dashed: true, width: 1.2,
    },
    { label: `naive (MAE ${m.naive.mae.toPrecision(3)})`, color: COLORS.naive, segments: segments(backtest.naive), dashed: true, width: 1.2 },
    { label: `${e.modelName} forecast (MAE ${m.model.mae.toPrecision(3)})`, color: COLORS.forecast, segments: segments(backtest.model), width: 2 },
  ];
  return {
    title: opts.title ?? `${e.target}: ${e.modelName} forecasts vs actuals`,
    subtitle: `${e.horizon}-step forecasts from every ${H === 1 ? '' : `${ordinal(H)} `}origin, ${e.from} … ${e.to}; ` +
      `MASE ${e.modelName} ${m.model.mase.toFixed(3)}, naive ${m.naive.mase.toFixed(3)}, seasonal naive ${m.seasonalNaive.mase.toFixed(3)}`,
    spans: [{ from: series.times[e.startRow]!, to: series.times[n - 1]!, label: 'evaluation period' }],
    series: chartSeries,
  };
}

/** A forecast as a chart: history up to the origin, the forecast and baselines after it, and the actuals if known. */
export function forecastChart(f: Forecast, opts: { title?: string; context?: number } = {}): ChartSpec {
  const { series } = f;
  const y = series.values[f.target]!;
  const H = f.times.length;
  const first = Math.max(0, f.originRow + 1 - (opts.context ?? Math.max(4 * H, 48)));
  const anchor = (values: readonly number[]) => ({
    times: [series.times[f.originRow]!, ...f.times], values: [y[f.originRow]!, ...values],
  });
  const actualTimes = f.times.filter((_, k) => f.actual[k] !== null);
  const chartSeries: ChartSeries[] = [
    {
      label: 'history', color: COLORS.history,
      segments: [{ times: series.times.slice(first, f.originRow + 1), values: y.subarray(first, f.originRow + 1) }], width: 1.4,
    },
  ];
  if (actualTimes.length) {
    chartSeries.push({
      label: 'actual', color: COLORS.actual, segments: [anchor(f.actual.slice(0, actualTimes.length) as number[])], width: 1.6, dots: H <= 60,
    });
  }
  chartSeries.push(
    { label: 'seasonal naive', color: COLORS.seasonalNaive, segments: [anchor(f.seasonalNaive)], dashed: true, width: 1.2 },
    { label: 'naive', color: COLORS.naive, segments: [anchor(f.naive)], dashed: true, width: 1.2 },
    { label: `${f.modelName} forecast`, color: COLORS.forecast, segments: [anchor(f.values)], width: 2, dots: H <= 60 },
  );
  return {
    title: opts.title ?? `${f.target}: ${H}-step ${f.modelName} forecast from ${f.origin}`,
    subtitle: `forecast ${f.dates[0]} … ${f.dates[H - 1]}`,
    spans: [{ from: f.times[0]!, to: f.times[H - 1]!, label: 'forecast' }],
    series: chartSeries,
  };
}

/**
 * Forecast rows for a CSV: date, forecast (7 significant digits: float32), naive, seasonal_naive,
 * actual (empty when unknown).
 */
export function forecastRows(f: Forecast): { header: string[]; rows: (string | number | null)[][] } {
  return {
    header: ['date', 'forecast', 'naive', 'seasonal_naive', 'actual'],
    rows: f.dates.map((d, k) => [
      d, Number(f.values[k]!.toPrecision(7)), f.naive[k]!, f.seasonalNaive[k]!, f.actual[k] ?? null,
    ]),
  };
}
