// Predictions in the shapes of the model's task: a value (or values) or a
// class with probabilities per sequence, per step, or for the next step.

import { Rng } from '../core/rng.js';
import { batchIndices, makeBatch } from '../data/batch.js';
import type { Example } from '../data/encode.js';
import type { SequenceModel } from './model.js';

export type Prediction =
  | number
  | number[]
  | { label: string; probabilities: Record<string, number> }
  | (number | number[])[]
  | { labels: string[]; probabilities: Record<string, number>[] };

function classResult(classes: readonly string[], probs: Float32Array, at: number): { label: string; probabilities: Record<string, number> } {
  let best = 0;
  const probabilities: Record<string, number> = {};
  classes.forEach((c, k) => {
    probabilities[c] = probs[at + k]!;
    if (probs[at + k]! > probs[at + best]!) best = k;
  });
  return { label: classes[best]!, probabilities };
}

/** Predict for each example, in order. Next-step models predict the step after the last. */
export function predictModel(model: SequenceModel, examples: readonly Example[], batchSize = 64): Prediction[] {
  const cfg = model.config;
  const K = model.outputSize;
  const classes = cfg.output.classes;
  const out: Prediction[] = new Array(examples.length);
  model.eval();
  for (const group of batchIndices(examples, { batchSize, shuffle: false, bucketByLength: false, rng: new Rng(0) })) {
    const batch = makeBatch(examples, group, cfg, false);
    model.forward(batch);
    const y = model.outputs();
    const B = batch.size;
    group.forEach((index, b) => {
      const value = (row: number): number | number[] => (K === 1 ? y[row * K]! : Array.from(y.subarray(row * K, (row + 1) * K)));
      if (cfg.output.mode === 'sequence') {
        out[index] = classes ? classResult(classes, y, b * K) : value(b);
        return;
      }
      const len = batch.lengths[b]!;
      if (cfg.output.mode === 'next') {
        const row = (len - 1) * B + b;
        out[index] = classes ? classResult(classes, y, row * K) : value(row);
        return;
      }
      if (classes) {
        const steps = Array.from({ length: len }, (_, t) => classResult(classes, y, (t * B + b) * K));
        out[index] = { labels: steps.map((s) => s.label), probabilities: steps.map((s) => s.probabilities) };
      } else out[index] = Array.from({ length: len }, (_, t) => value(t * B + b));
    });
  }
  model.train();
  return out;
}
