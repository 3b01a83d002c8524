// Running an imported model on fixture sequences the way a user's data
// reaches it (records → examples → one padded batch) and flattening its
// outputs per sequence, to compare with what PyTorch or Keras gave.

import { encodeRecords } from '../../src/data/encode.js';
import { makeBatch } from '../../src/data/batch.js';
import type { SequenceModel } from '../../src/model/model.js';

/**
 * Per sequence, the head output as plain numbers: one vector (sequence mode)
 * or one per real step, concatenated (step and next mode). Probabilities for
 * classification. `xs` are record `x` values (feature steps or token strings).
 */
export function outputsOn(model: SequenceModel, xs: readonly unknown[]): number[][] {
  const records = xs.map((x, i) => ({ line: i + 1, value: { x } }));
  const examples = encodeRecords(records, model.config, { file: 'fixture', requireTarget: false });
  const batch = makeBatch(examples, examples.map((_, i) => i), model.config, false);
  model.eval();
  model.forward(batch);
  const y = model.outputs();
  model.train();
  const K = model.outputSize;
  const B = batch.size;
  return examples.map((e, b) => {
    if (model.config.output.mode === 'sequence') return Array.from(y.subarray(b * K, (b + 1) * K));
    const out: number[] = [];
    for (let t = 0; t < e.steps; t++) out.push(...y.subarray((t * B + b) * K, (t * B + b + 1) * K));
    return out;
  });
}

/** Nested arrays of numbers, flattened. */
export function flat(value: unknown): number[] {
  return Array.isArray(value) ? value.flatMap(flat) : [value as number];
}
