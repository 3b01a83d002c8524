// Running an imported model on fixture sequences the way a user's data
// reaches it (records → examples → one padded batch) and flattening its
// outputs per sequence, to compare with what PyTorch or Keras gave.

import { Workspace } from '../../src/core/arena.js';
import { encodeRecords } from '../../src/data/encode.js';
import { makeBatch, type Batch } from '../../src/data/batch.js';
import { batchSpecOf } from '../../src/model/config.js';
import type { SequenceModel } from '../../src/model/model.js';
import { BatchRunner } from '../../src/model/runner.js';
import { softmaxArena } from '../../src/train/losses.js';

/**
 * The model's output for one time-major batch in evaluation mode: values, or class probabilities,
 * as rows [T·B or B, K].
 */
export function outputsOf(model: SequenceModel, batch: Batch): Float32Array {
  const runner = new BatchRunner(model);
  const ws = new Workspace(model.backend.arena);
  model.eval();
  try {
    const y = runner.forward(batch);
    return Float32Array.from(model.config.output.type === 'classification' ? softmaxArena(model.backend, ws, y).data : model.backend.arena.read(y).data);
  } finally {
    model.train();
    runner.dispose();
    ws.dispose();
  }
}

/**
 * Per sequence, the head output as plain numbers: one vector (sequence mode)
 * or one per real step, concatenated (step and next mode). Probabilities for
 * classification. `xs` are record `x` values (feature steps or token strings).
 */
export function outputsOn(model: SequenceModel, xs: readonly unknown[]): number[][] {
  const records = xs.map((x, i) => ({ line: i + 1, value: { x } }));
  const examples = encodeRecords(records, model.config, { file: 'fixture', requireTarget: false });
  const batch = makeBatch(examples, examples.map((_, i) => i), batchSpecOf(model.config), false);
  const y = outputsOf(model, batch);
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
