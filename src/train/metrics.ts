// Evaluation metrics, accumulated batch by batch: MSE, MAE, RMSE for
// regression; accuracy, macro-F1 and the confusion matrix for classification.

import { ValueError } from '../core/errors.js';
import type { MetricName } from '../model/config.js';

export interface Metrics {
  loss: number;
  mse?: number;
  mae?: number;
  rmse?: number;
  accuracy?: number;
  macroF1?: number;
  /** confusion[actual][predicted] counts. */
  confusion?: number[][];
  /** Sequence to sequence: edit distance over reference tokens (PER, CER), outputs matching no reference, corpus BLEU (0–1). */
  tokenErrorRate?: number;
  sequenceErrorRate?: number;
  bleu?: number;
  /** Tagging with span tags: span precision, recall and F1 (conlleval's), and forbidden transitions in the output. */
  precision?: number;
  recall?: number;
  f1?: number;
  invalidTransitions?: number;
  count: number;
}

export class MetricAccumulator {
  private lossSum = 0;
  private lossWeight = 0;
  private sq = 0;
  private abs = 0;
  private n = 0;
  private readonly confusion: number[][] | undefined;

  constructor(readonly kind: 'regression' | 'classification', classes = 0) {
    if (kind === 'classification') this.confusion = Array.from({ length: classes }, () => Array.from({ length: classes }, () => 0));
  }

  addLoss(loss: number, weight: number): void {
    this.lossSum += loss * weight;
    this.lossWeight += weight;
  }

  /** pred/target [rows, K]; rows with mask 0 are skipped. */
  addRegression(pred: ArrayLike<number>, target: ArrayLike<number>, K: number, mask: ArrayLike<number> | null): void {
    const rows = pred.length / K;
    for (let r = 0; r < rows; r++) {
      if (mask && !mask[r]) continue;
      for (let k = 0; k < K; k++) {
        const d = pred[r * K + k]! - target[r * K + k]!;
        this.sq += d * d;
        this.abs += Math.abs(d);
        this.n++;
      }
    }
  }

  /** probs [rows, K]; targets[r] < 0 is skipped. */
  addClassification(probs: ArrayLike<number>, targets: ArrayLike<number>, K: number): void {
    for (let r = 0; r < targets.length; r++) {
      const actual = targets[r]!;
      if (actual < 0) continue;
      let best = 0;
      for (let k = 1; k < K; k++) if (probs[r * K + k]! > probs[r * K + best]!) best = k;
      this.confusion![actual]![best]!++;
      this.n++;
    }
  }

  result(): Metrics {
    const loss = this.lossWeight ? this.lossSum / this.lossWeight : NaN;
    if (this.kind === 'regression') {
      const mse = this.n ? this.sq / this.n : NaN;
      return { loss, mse, mae: this.n ? this.abs / this.n : NaN, rmse: Math.sqrt(mse), count: this.n };
    }
    const c = this.confusion!;
    let correct = 0;
    let f1Sum = 0;
    let f1Classes = 0;
    c.forEach((row, k) => {
      correct += row[k]!;
      const tp = row[k]!;
      const actual = row.reduce((a, b) => a + b, 0);
      const predicted = c.reduce((a, r) => a + r[k]!, 0);
      if (actual === 0 && predicted === 0) return; // absent class: left out of the macro average
      f1Sum += (2 * tp) / (actual + predicted);
      f1Classes++;
    });
    return {
      loss, accuracy: this.n ? correct / this.n : NaN, macroF1: f1Classes ? f1Sum / f1Classes : NaN,
      confusion: c.map((r) => [...r]), count: this.n,
    };
  }
}

/** Whether a larger value of the metric is better. */
/** The metrics each kind of model reports (every kind reports the loss). */
const METRICS = {
  regression: ['mse', 'mae', 'rmse'],
  classification: ['accuracy', 'macroF1'],
  'sequence-to-sequence': ['tokenErrorRate', 'sequenceErrorRate', 'bleu'],
  tagging: ['accuracy', 'f1'],
} as const satisfies Record<string, readonly MetricName[]>;

/** Throws a ValueError unless a model of `kind` reports `monitor`. */
export function checkMonitor(monitor: MetricName, kind: keyof typeof METRICS): void {
  if (monitor === 'loss' || (METRICS[kind] as readonly string[]).includes(monitor)) return;
  const owner = Object.entries(METRICS).find(([, names]) => (names as readonly string[]).includes(monitor))?.[0] ?? 'unknown';
  throw new ValueError(`train.monitor '${monitor}' is a ${owner} metric; this model is a ${kind}`);
}

export function higherIsBetter(metric: MetricName): boolean {
  return metric === 'accuracy' || metric === 'macroF1' || metric === 'bleu' || metric === 'f1';
}
