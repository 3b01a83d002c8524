// The baselines every forecast is judged against, and the error measures.
//
// From an origin t (the last observed step), for h = 1 … horizon:
//   naive           ŷ[t+h] = y[t]                         (the last value)
//   seasonal naive  ŷ[t+h] = y[t + h − m·⌈h/m⌉]           (the last value of the same season)
//
// MAE and RMSE are over every (origin, h) pair. MASE (Hyndman & Koehler 2006,
// seasonal form) divides the MAE by the in-sample one-step seasonal-naive MAE
// of the training part, Q = mean over t = m … n−1 of |y[t] − y[t−m]|, so
// MASE < 1 means the forecast errs less, on average, than the seasonal-naive
// one-step forecast did on the training data. With m = 1 it is the classic
// non-seasonal MASE (scaled by the naive one-step MAE).

import { ValueError } from '../core/errors.js';

/** [horizon] the last value, repeated. */
export function naiveForecast(values: ArrayLike<number>, origin: number, horizon: number): Float64Array {
  if (origin < 0 || origin >= values.length) throw new ValueError(`origin ${origin} is outside the series of ${values.length} values`);
  return new Float64Array(horizon).fill(values[origin]!);
}

/** [horizon] the value one season before each target (several seasons when horizon > season). */
export function seasonalNaiveForecast(
  values: ArrayLike<number>, origin: number, horizon: number, season: number,
): Float64Array {
  if (!Number.isInteger(season) || season < 1) throw new ValueError(`season must be a positive integer, got ${season}`);
  if (origin - season + 1 < 0) throw new ValueError(`the seasonal-naive forecast from origin ${origin} needs ${season} values of history`);
  return Float64Array.from({ length: horizon }, (_, k) => {
    const h = k + 1;
    return values[origin + h - season * Math.ceil(h / season)]!;
  });
}

/** Q: mean |y[t] − y[t−season]| over t in [start + season, end). The MASE denominator. */
export function seasonalNaiveScale(values: ArrayLike<number>, season: number, end = values.length, start = 0): number {
  if (end - start <= season) throw new ValueError(`the in-sample seasonal-naive error needs more than ${season} values (one season), got ${end - start}`);
  let sum = 0;
  for (let t = start + season; t < end; t++) sum += Math.abs(values[t]! - values[t - season]!);
  return sum / (end - start - season);
}

export interface ErrorMetrics {
  mae: number;
  rmse: number;
  /** MAE / Q (see the top of this file). */
  mase: number;
  /** Forecast values compared. */
  count: number;
}

/** Running sums of absolute and squared errors. */
export class ErrorAccumulator {
  private abs = 0;
  private sq = 0;
  private n = 0;

  add(predicted: number, actual: number): void {
    const d = predicted - actual;
    this.abs += Math.abs(d);
    this.sq += d * d;
    this.n++;
  }

  result(scale: number): ErrorMetrics {
    const mae = this.n ? this.abs / this.n : NaN;
    const rmse = this.n ? Math.sqrt(this.sq / this.n) : NaN;
    return { mae, rmse, mase: scale > 0 ? mae / scale : NaN, count: this.n };
  }
}

/** MAE, RMSE and MASE of predictions against actuals. */
export function forecastErrors(predicted: ArrayLike<number>, actual: ArrayLike<number>, scale: number): ErrorMetrics {
  if (predicted.length !== actual.length) throw new ValueError(`${predicted.length} predictions for ${actual.length} actual values`);
  const acc = new ErrorAccumulator();
  for (let i = 0; i < actual.length; i++) acc.add(predicted[i]!, actual[i]!);
  return acc.result(scale);
}
