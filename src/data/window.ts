// Sliding windows over a time series: the model sees the `lookback` steps up
// to and including an origin t (the last observed step) and predicts steps
// t+1 … t+horizon. A window's origin decides which part of a chronological
// split it belongs to: the part that holds all of its targets.

import { ValueError } from '../core/errors.js';
import type { Example } from './encode.js';

export interface WindowSpec {
  lookback: number;
  horizon: number;
}

/**
 * Origins t whose inputs start at or after `firstInput` (t − lookback + 1 ≥
 * firstInput) and whose targets t+1 … t+horizon all lie in [targetStart,
 * targetEnd). Ascending.
 */
export function windowOrigins(
  spec: WindowSpec, range: { firstInput?: number; targetStart: number; targetEnd: number },
): number[] {
  const first = Math.max((range.firstInput ?? 0) + spec.lookback - 1, range.targetStart - 1);
  const last = range.targetEnd - 1 - spec.horizon;
  const out: number[] = [];
  for (let t = Math.max(0, first); t <= last; t++) out.push(t);
  return out;
}

/** The window of a row-major [rows, features] matrix ending at `origin`: [lookback, features]. */
export function inputWindow(matrix: Float32Array, features: number, origin: number, lookback: number): Float32Array {
  const start = origin - lookback + 1;
  if (start < 0 || (origin + 1) * features > matrix.length) {
    throw new ValueError(`window ending at row ${origin} with lookback ${lookback} does not fit in ${matrix.length / features} rows`);
  }
  return matrix.slice(start * features, (origin + 1) * features);
}

/** One example per origin: x = the input window [lookback, features], y = target(origin) [horizon] or none. */
export function windowExamples(
  matrix: Float32Array,
  features: number,
  origins: readonly number[],
  lookback: number,
  target?: (origin: number) => Float32Array,
): Example[] {
  return origins.map((t) => ({
    steps: lookback,
    x: inputWindow(matrix, features, t, lookback),
    tokens: null,
    yReg: target ? target(t) : null,
    yCls: null,
  }));
}
