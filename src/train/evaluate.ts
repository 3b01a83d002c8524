// Running a model over examples without training it: one loop, in
// evaluation mode (no dropout), batch by batch — or, for a stream trained
// with truncated BPTT, window by window with the state carried — and two
// uses of it: metrics against the targets (evaluateModel) and predictions in
// the shapes of the model's task (predictModel).

import { Rng } from '../core/rng.js';
import type { ArenaTensor } from '../core/tensor.js';
import { batchIndices, makeBatch, stepMask, streamBatches, type Batch } from '../data/batch.js';
import type { Example } from '../data/encode.js';
import { batchSpecOf } from '../model/config.js';
import type { SequenceModel } from '../model/model.js';
import { BatchRunner } from '../model/runner.js';
import { Workspace } from '../core/arena.js';
import { crossEntropyArena, mseArena, softmaxArena } from './losses.js';
import { MetricAccumulator, type Metrics } from './metrics.js';

export interface RunOptions {
  batchSize?: number;
  /** A next-step model trained as a stream: run the examples as one stream in windows of this many steps. */
  tbptt?: number | undefined;
  /** Next-step targets from the input shifted by one (evaluation), or every step an input (prediction). */
  shift?: boolean;
}

/**
 * The model in evaluation mode over `examples`, in order; `visit` gets each
 * batch and the model's output for it (an arena tensor, valid during the call).
 */
export function runBatches(model: SequenceModel, examples: readonly Example[], opts: RunOptions,
                           visit: (batch: Batch, output: ArenaTensor, ws: Workspace) => void): void {
  const spec = batchSpecOf(model.config);
  const batchSize = opts.batchSize ?? 32;
  const stream = opts.tbptt !== undefined && model.config.output.mode === 'next';
  const batches = stream
    ? streamBatches(examples, spec, batchSize, opts.tbptt!)
    : batchIndices(examples, { batchSize, shuffle: false, bucketByLength: false, rng: new Rng(0) })
      .map((g) => makeBatch(examples, g, spec, opts.shift));
  const runner = new BatchRunner(model);
  const ws = new Workspace(model.backend.arena);
  model.eval();
  try {
    for (const batch of batches) visit(batch, runner.forward(batch, { carry: stream }), ws);
  } finally {
    model.train();
    runner.dispose();
    ws.dispose();
  }
}

/** Loss and metrics of a model over examples. `tbptt`: evaluate a next-step model as a stream in windows. */
export function evaluateModel(
  model: SequenceModel, examples: readonly Example[], batchSize = 32, tbptt?: number,
): Metrics {
  const { output: out } = model.config;
  const K = model.outputSize;
  const acc = new MetricAccumulator(out.type, out.type === 'classification' ? K : 0);
  const backend = model.backend;
  runBatches(model, examples, { batchSize, tbptt }, (batch, output, ws) => {
    if (out.type === 'classification') {
      const { loss, counted, probs } = crossEntropyArena(backend, ws, output, batch.yCls!, { grad: false });
      acc.addLoss(loss, counted);
      acc.addClassification(backend.arena.read(probs).data, batch.yCls!, K);
    } else {
      const mask = out.mode === 'sequence' ? null : stepMask(batch);
      const { loss, counted } = mseArena(backend, ws, output, batch.yReg!, { mask, grad: false });
      acc.addLoss(loss, counted);
      acc.addRegression(backend.arena.read(output).data, batch.yReg!, K, mask);
    }
  });
  return acc.result();
}

export type Prediction =
  | number
  | number[]
  | { label: string; probabilities: Record<string, number> }
  | (number | number[])[]
  | { labels: string[]; probabilities: Record<string, number>[] };

function classResult(
  classes: readonly string[], probs: ArrayLike<number>, at: number,
): { label: string; probabilities: Record<string, number> } {
  let best = 0;
  const probabilities: Record<string, number> = {};
  classes.forEach((c, k) => {
    probabilities[c] = probs[at + k]!;
    if (probs[at + k]! > probs[at + best]!) best = k;
  });
  return { label: classes[best]!, probabilities };
}

/**
 * Predict for each example, in order: values or class probabilities per sequence,
 * per step, or for the step after the last.
 */
export function predictModel(model: SequenceModel, examples: readonly Example[], batchSize = 64): Prediction[] {
  const cfg = model.config;
  const K = model.outputSize;
  const classes = cfg.output.classes;
  const out = Array.from<Prediction>({ length: examples.length });
  runBatches(model, examples, { batchSize, shift: false }, (batch, output, ws) => {
    const y = classes ? softmaxArena(model.backend, ws, output).data : model.backend.arena.read(output).data;
    const B = batch.size;
    for (let b = 0; b < B; b++) {
      const index = batch.indices[b]!;
      const value = (row: number): number | number[] => (
        K === 1 ? y[row * K]! : Array.from(y.subarray(row * K, (row + 1) * K))
      );
      if (cfg.output.mode === 'sequence') {
        out[index] = classes ? classResult(classes, y, b * K) : value(b);
        continue;
      }
      const len = batch.lengths[b]!;
      if (cfg.output.mode === 'next') {
        const row = (len - 1) * B + b;
        out[index] = classes ? classResult(classes, y, row * K) : value(row);
        continue;
      }
      if (classes) {
        const steps = Array.from({ length: len }, (_, t) => classResult(classes, y, (t * B + b) * K));
        out[index] = { labels: steps.map((s) => s.label), probabilities: steps.map((s) => s.probabilities) };
      } else out[index] = Array.from({ length: len }, (_, t) => value(t * B + b));
    }
  });
  return out;
}
