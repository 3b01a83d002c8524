// Column scalers, fitted on training data only and stored as JSON in the
// model file: standard (scikit-learn's StandardScaler: mean and population
// standard deviation) and min-max (to [0, 1]). A constant column gets scale 1,
// as in scikit-learn, so it never divides by zero.

import { ValueError } from '../core/errors.js';

export type ScalerKind = 'standard' | 'minmax';

/** What a scaler stores: x' = (x − center) / scale, per column. */
export interface ScalerState {
  kind: ScalerKind;
  center: number[];
  scale: number[];
}

export class Scaler {
  private constructor(
    readonly kind: ScalerKind,
    readonly center: readonly number[],
    readonly scale: readonly number[],
  ) {}

  /** Fit one scaler per column; each column is the values seen in training. */
  static fit(kind: ScalerKind, columns: readonly ArrayLike<number>[]): Scaler {
    if (kind !== 'standard' && kind !== 'minmax') throw new ValueError(`unknown scaler "${String(kind)}"; expected standard or minmax`);
    const center: number[] = [];
    const scale: number[] = [];
    columns.forEach((values, j) => {
      const n = values.length;
      if (n === 0) throw new ValueError(`scaler column ${j} has no values to fit on`);
      if (kind === 'standard') {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += values[i]!;
        const mean = sum / n;
        let sq = 0;
        for (let i = 0; i < n; i++) sq += (values[i]! - mean) ** 2;
        const std = Math.sqrt(sq / n);
        center.push(mean);
        scale.push(std > 0 ? std : 1);
      } else {
        let min = Infinity;
        let max = -Infinity;
        for (let i = 0; i < n; i++) {
          min = Math.min(min, values[i]!);
          max = Math.max(max, values[i]!);
        }
        center.push(min);
        scale.push(max > min ? max - min : 1);
      }
    });
    return new Scaler(kind, center, scale);
  }

  static fromJSON(state: unknown, where = 'scaler'): Scaler {
    const s = state as Partial<ScalerState> | null;
    const numbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (
      !s || (s.kind !== 'standard' && s.kind !== 'minmax') || !numbers(s.center) || !numbers(s.scale)
      || s.center.length !== s.scale.length || s.scale.some((x) => x === 0)
    ) {
      const got = JSON.stringify(state)?.slice(0, 80) ?? 'nothing';
      throw new ValueError(`${where} is not a valid scaler (expected {kind: "standard" | "minmax", center: number[], scale: non-zero number[]}, got ${got})`);
    }
    return new Scaler(s.kind, [...s.center], [...s.scale]);
  }

  get columns(): number {
    return this.center.length;
  }

  transform(value: number, column: number): number {
    return (value - this.center[column]!) / this.scale[column]!;
  }

  inverse(value: number, column: number): number {
    return value * this.scale[column]! + this.center[column]!;
  }

  toJSON(): ScalerState {
    return { kind: this.kind, center: [...this.center], scale: [...this.scale] };
  }
}
