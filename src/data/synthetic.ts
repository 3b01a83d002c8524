// The long-range tasks of Hochreiter & Schmidhuber (1997), as JSONL-shaped
// records: data a plain RNN cannot learn and an LSTM can.

import type { Rng } from '../core/rng.js';

export interface SyntheticRecord {
  x: unknown;
  y: unknown;
}

/**
 * The adding problem (experiment 4): each step is [value, marker]; values are
 * uniform in [0, 1); two steps carry marker 1, one in the first half and one
 * in the second; the target is the sum of the two marked values. Predicting
 * the mean (1) scores an MSE of about 0.167.
 */
export function addingProblem(count: number, steps: number, rng: Rng): SyntheticRecord[] {
  const out: SyntheticRecord[] = [];
  const half = Math.max(1, Math.floor(steps / 2));
  for (let n = 0; n < count; n++) {
    const first = rng.int(half);
    const second = half + rng.int(steps - half);
    const x: [number, number][] = [];
    let y = 0;
    for (let t = 0; t < steps; t++) {
      const v = Math.round(rng.uniform() * 1e4) / 1e4;
      const marked = t === first || t === second;
      if (marked) y += v;
      x.push([v, marked ? 1 : 0]);
    }
    out.push({ x, y: Math.round(y * 1e4) / 1e4 });
  }
  return out;
}

/**
 * Temporal order (experiment 6a): a string of distractor symbols a–d with X or
 * Y at one position early in the sequence and one later; the class is the
 * order of the two (XX, XY, YX, YY). Chance is 25%.
 */
export function temporalOrder(count: number, steps: number, rng: Rng): SyntheticRecord[] {
  const out: SyntheticRecord[] = [];
  const distractors = 'abcd';
  for (let n = 0; n < count; n++) {
    const chars = Array.from({ length: steps }, () => distractors[rng.int(4)]!);
    const t1 = Math.floor(steps * 0.1) + rng.int(Math.max(1, Math.floor(steps * 0.1)));
    const t2 = Math.floor(steps * 0.5) + rng.int(Math.max(1, Math.floor(steps * 0.1)));
    const s1 = rng.uniform() < 0.5 ? 'X' : 'Y';
    const s2 = rng.uniform() < 0.5 ? 'X' : 'Y';
    chars[t1] = s1;
    chars[t2] = s2;
    out.push({ x: chars.join(''), y: s1 + s2 });
  }
  return out;
}
