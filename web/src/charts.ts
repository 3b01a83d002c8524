// The two charts, drawn with uPlot: the loss as it falls (every batch, and
// the training and validation loss of every epoch), and a forecast against
// the actual values of the test period.

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
  private pending = false;

  constructor(box: HTMLElement, lossLabel: string, height = 240) {
    this.chart = new uPlot({
      width: Math.max(200, box.clientWidth),
      height,
      scales: { x: { time: false } },
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      axes: [
        { ...AXIS, label: 'epoch', labelSize: 22, size: 36 },
        { ...AXIS, label: lossLabel, labelSize: 22, size: 56 },
      ],
      series: [
        { label: 'epoch' },
        { label: 'batch', stroke: COLORS.batch, width: 1, points: { show: false } },
        { label: 'training', stroke: COLORS.forecast, width: 2, spanGaps: true, points: { show: true, size: 5 } },
        { label: 'validation', stroke: COLORS.naive, width: 2, spanGaps: true, points: { show: true, size: 5 } },
      ],
    }, [[], [], [], []], box);
    fitWidth(this.chart, box, height);
  }

  addBatch(epoch: number, batch: number, batches: number, loss: number): void {
    this.x.push(epoch - 1 + batch / batches);
    this.batch.push(loss);
    this.train.push(null);
    this.val.push(null);
    this.redraw();
  }

  /** The epoch's losses sit at its last batch. */
  addEpoch(epoch: number, loss: number, valLoss: number | null): void {
    if (this.x[this.x.length - 1] !== epoch) {
      this.x.push(epoch);
      this.batch.push(null);
      this.train.push(null);
      this.val.push(null);
    }
    const last = this.x.length - 1;
    this.train[last] = loss;
    this.val[last] = valLoss;
    this.redraw();
  }

  /** At most one redraw per frame, however fast the batches come. */
  private redraw(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.chart.setData([this.x, this.batch, this.train, this.val]);
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
