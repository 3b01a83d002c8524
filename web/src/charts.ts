// The charts: drawn with uPlot, the loss as it falls (every batch, the
// training and validation loss of every epoch, and a validation error rate
// when the task has one) and a forecast against the actual values of the
// test period; drawn as SVG, a transducer's attention as a heat map.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ForecastResult } from './protocol.js';

/** The colors of lstmkit's SVG charts (src/report/chart.ts). */
export const COLORS = {
  history: '#8a8f98', actual: '#111111', forecast: '#1f77b4', naive: '#ff7f0e', seasonalNaive: '#2ca02c', batch: '#c6dbef',
} as const;

const AXIS = { stroke: '#4b5563', grid: { stroke: '#eceef1', width: 1 }, ticks: { stroke: '#d1d5db', width: 1 } };

/** Keep a chart as wide as its box. */
function fitWidth(chart: uPlot, box: HTMLElement, height: number): void {
  new ResizeObserver(() => chart.setSize({ width: Math.max(200, box.clientWidth), height })).observe(box);
}

export class LossChart {
  private readonly chart: uPlot;
  private x: number[] = [];
  private batch: (number | null)[] = [];
  private train: (number | null)[] = [];
  private val: (number | null)[] = [];
  private rate: (number | null)[] = [];
  private pending = false;

  /** `rateLabel`: a validation error rate per epoch (0–1), drawn in percent on a right-hand axis. */
  constructor(box: HTMLElement, lossLabel: string, height = 240, private readonly rateLabel?: string) {
    const rate: uPlot.Series[] = rateLabel
      ? [{ label: rateLabel, scale: 'rate', stroke: COLORS.seasonalNaive, width: 2, spanGaps: true, points: { show: true, size: 5 } }]
      : [];
    this.chart = new uPlot({
      width: Math.max(200, box.clientWidth),
      height,
      scales: { x: { time: false }, ...(rateLabel ? { rate: { range: (_u, _min, max) => [0, Math.max(0.05, max)] } } : {}) },
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      axes: [
        { ...AXIS, label: 'epoch', labelSize: 22, size: 36 },
        { ...AXIS, label: lossLabel, labelSize: 22, size: 56 },
        ...(rateLabel ? [{
          ...AXIS, scale: 'rate', side: 1, grid: { show: false }, label: rateLabel, labelSize: 22, size: 56,
          values: (_u: uPlot, ticks: number[]) => ticks.map((v) => `${Math.round(v * 100)}%`),
        }] : []),
      ],
      series: [
        { label: 'epoch' },
        { label: 'batch', stroke: COLORS.batch, width: 1, points: { show: false } },
        { label: 'training', stroke: COLORS.forecast, width: 2, spanGaps: true, points: { show: true, size: 5 } },
        { label: 'validation', stroke: COLORS.naive, width: 2, spanGaps: true, points: { show: true, size: 5 } },
        ...rate,
      ],
    }, [[], [], [], [], ...(rateLabel ? [[]] : [])], box);
    fitWidth(this.chart, box, height);
  }

  addBatch(epoch: number, batch: number, batches: number, loss: number): void {
    this.x.push(epoch - 1 + batch / batches);
    this.batch.push(loss);
    this.train.push(null);
    this.val.push(null);
    this.rate.push(null);
    this.redraw();
  }

  /** The epoch's losses (and error rate) sit at its last batch. */
  addEpoch(epoch: number, loss: number, valLoss: number | null, rate: number | null = null): void {
    if (this.x[this.x.length - 1] !== epoch) {
      this.x.push(epoch);
      this.batch.push(null);
      this.train.push(null);
      this.val.push(null);
      this.rate.push(null);
    }
    const last = this.x.length - 1;
    this.train[last] = loss;
    this.val[last] = valLoss;
    this.rate[last] = rate;
    this.redraw();
  }

  /** At most one redraw per frame, however fast the batches come. */
  private redraw(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.chart.setData([this.x, this.batch, this.train, this.val, ...(this.rateLabel ? [this.rate] : [])]);
    });
  }

  destroy(): void {
    this.chart.destroy();
  }
}

/**
 * History, then the test period: the actual values, the model's forecasts
 * from every horizon-th origin (each `horizon` steps ahead), the
 * seasonal-naive forecasts from the same origins, and the forecast past the
 * last row.
 */
export function forecastChart(box: HTMLElement, r: ForecastResult, height = 320): uPlot {
  const n = r.times.length;
  const H = r.horizon;
  const first = Math.max(0, r.testStart - Math.max(n - r.testStart, 4 * r.season));
  const rows = n - first;
  const x = [...r.times.slice(first), ...r.future.times].map((t) => t / 1000);
  const empty = () => Array.from({ length: x.length }, (): number | null => null);
  const history = empty();
  const actual = empty();
  const model = empty();
  const seasonal = empty();
  const future = empty();
  for (let row = first; row < n; row++) {
    if (row <= r.testStart) history[row - first] = r.values[row]!;
    if (row >= r.testStart - 1) actual[row - first] = r.values[row]!;
  }
  r.backtest.originRows.forEach((origin, i) => {
    if (i % H !== 0) return; // every H-th origin: forecasts that do not overlap
    for (let k = 0; k < H; k++) {
      model[origin + 1 + k - first] = r.backtest.model[i * H + k]!;
      seasonal[origin + 1 + k - first] = r.backtest.seasonalNaive[i * H + k]!;
    }
  });
  future[rows - 1] = r.values[n - 1]!;
  r.future.values.forEach((v, k) => (future[rows + k] = v));
  const name = r.modelName;
  const chart = new uPlot({
    width: Math.max(200, box.clientWidth),
    height,
    scales: { x: { time: true } },
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
    axes: [{ ...AXIS, size: 40 }, { ...AXIS, label: r.target, labelSize: 22, size: 60 }],
    series: [
      { label: 'date' },
      { label: 'history', stroke: COLORS.history, width: 1.5, points: { show: false } },
      { label: 'actual (test period)', stroke: COLORS.actual, width: 1.5, points: { show: false } },
      { label: 'seasonal naive', stroke: COLORS.seasonalNaive, width: 1.5, dash: [6, 4], points: { show: false } },
      { label: `${name} forecast`, stroke: COLORS.forecast, width: 2.5, points: { show: false } },
      { label: `${name}, ${H} steps past the data`, stroke: COLORS.forecast, width: 2.5, dash: [3, 3], points: { show: false } },
    ],
  }, [x, history, actual, seasonal, model, future], box);
  fitWidth(chart, box, height);
  return chart;
}

const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

export interface AttentionMap {
  /** Output tokens, one per row (the last is <eos>). */
  rows: readonly string[];
  /** Source tokens, one per column. */
  cols: readonly string[];
  /** [rows][cols] attention weights; each row sums to 1. */
  weights: readonly (readonly number[])[];
  /** Columns whose token the model lacks (read as <unk>): their labels are marked. */
  unknown?: ReadonlySet<number>;
}

/**
 * Attention as a heat map: a row per output token, a column per source token,
 * each cell as dark as its weight (white 0, the forecast blue 1), labelled on
 * both axes, with the weight in each cell's tooltip. The <svg> carries
 * data-rows and data-cols.
 */
export function attentionMap(m: AttentionMap, cell = 26): SVGSVGElement {
  const font = 13;
  const widest = (labels: readonly string[]) => Math.max(1, ...labels.map((l) => Array.from(l).length));
  // Column labels upright when they are a character or two, else slanted.
  const slant = widest(m.cols) > 2;
  const left = 12 + widest(m.rows) * font * 0.62;
  const top = 8 + (slant ? Math.min(widest(m.cols), 12) * font * 0.62 : font);
  const width = left + m.cols.length * cell + 4;
  const height = top + m.rows.length * cell + 4;
  const out = svg('svg', {
    width, height, viewBox: `0 0 ${width} ${height}`, class: 'attention', role: 'img',
    'data-rows': m.rows.length, 'data-cols': m.cols.length,
    'aria-label': `attention of ${m.rows.length} output tokens over ${m.cols.length} source tokens`,
  });
  m.cols.forEach((label, j) => {
    const x = left + (j + 0.5) * cell;
    const mark = m.unknown?.has(j) ? { class: 'col-label unknown' } : { class: 'col-label' };
    const place = slant ? { transform: `rotate(-60 ${x} ${top - 6})` } : { 'text-anchor': 'middle' };
    out.append(svg('text', { ...mark, ...place, x, y: top - 6, 'font-size': font }, label));
  });
  m.rows.forEach((label, i) => {
    const y = top + (i + 0.5) * cell;
    out.append(svg('text', { class: 'row-label', x: left - 6, y, 'text-anchor': 'end', 'dominant-baseline': 'central', 'font-size': font }, label));
    m.cols.forEach((col, j) => {
      const w = m.weights[i]?.[j] ?? 0;
      const rect = svg('rect', {
        class: 'cell', x: left + j * cell, y: top + i * cell, width: cell - 1, height: cell - 1,
        fill: COLORS.forecast, 'fill-opacity': Math.max(0, Math.min(1, w)).toFixed(3), 'data-weight': w.toFixed(4),
      });
      rect.append(svg('title', {}, `${label} ← ${col}: ${w.toFixed(3)}`));
      out.append(svg('rect', { x: left + j * cell, y: top + i * cell, width: cell - 1, height: cell - 1, fill: '#f5f6f8' }), rect);
    });
  });
  return out;
}
