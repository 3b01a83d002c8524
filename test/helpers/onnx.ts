// Running a SequenceModel on plain batch-first (or time-major) arrays, as
// the ONNX tests feed PyTorch and onnxruntime, and reading its outputs back in
// the same layout.

import * as ort from 'onnxruntime-node';
import type { Batch } from '../../src/data/batch.js';
import type { SequenceModel } from '../../src/model/model.js';
import { outputsOf } from './imported.js';

export interface PlainInput {
  /** Numbers [B, T, F] (batch-first) or [T, B, F]; or token ids [B, T] / [T, B]. */
  data: ArrayLike<number>;
  B: number;
  T: number;
  /** Features per step; 0 for token ids. */
  F: number;
  batchFirst: boolean;
  /** True lengths (default: all T). */
  lengths?: readonly number[];
}

/**
 * The model's head output for a padded batch: [B, K] per sequence, or per
 * step [B, T, K] (batch-first) / [T, B, K]; padded steps are left 0.
 * Classifiers give probabilities.
 */
export function runModel(model: SequenceModel, input: PlainInput): Float32Array {
  const { B, T, F, batchFirst } = input;
  const lengths = Int32Array.from(input.lengths ?? Array.from({ length: B }, () => T));
  const at = (t: number, b: number): number => (batchFirst ? b * T + t : t * B + b);
  let x: Float32Array | null = null;
  let tokens: Int32Array | null = null;
  if (F === 0) {
    tokens = new Int32Array(T * B);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) tokens[t * B + b] = t < lengths[b]! ? input.data[at(t, b)]! : 0;
    }
  } else {
    x = new Float32Array(T * B * F);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        if (t >= lengths[b]!) continue;
        for (let f = 0; f < F; f++) x[(t * B + b) * F + f] = input.data[at(t, b) * F + f]!;
      }
    }
  }
  const batch: Batch = {
    steps: T, size: B, x, tokens, lengths, yReg: null, yCls: null, indices: Array.from({ length: B }, (_, b) => b),
  };
  const y = outputsOf(model, batch);
  const K = model.outputSize;
  if (model.config.output.mode === 'sequence') return y;
  const out = new Float32Array(T * B * K);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      if (t >= lengths[b]!) continue;
      out.set(y.subarray((t * B + b) * K, (t * B + b + 1) * K), at(t, b) * K);
    }
  }
  return out;
}

/** Zero the padded steps of a per-step output [B, T, K] / [T, B, K], to compare only real steps. */
export function maskSteps(y: Float32Array, input: PlainInput, K: number): Float32Array {
  const { B, T, batchFirst } = input;
  const out = Float32Array.from(y);
  const lengths = input.lengths ?? Array.from({ length: B }, () => T);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      if (t < lengths[b]!) continue;
      const at = batchFirst ? b * T + t : t * B + b;
      out.fill(0, at * K, (at + 1) * K);
    }
  }
  return out;
}

/** Run an ONNX file in onnxruntime on a plain input (fed as `x` or `tokens`, and `lengths`); every output by name. */
export async function runOrt(
  bytes: Uint8Array, input: PlainInput, withLengths = true,
): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const [d0, d1] = input.batchFirst ? [input.B, input.T] : [input.T, input.B];
  const feeds: Record<string, ort.Tensor> = {};
  if (input.F > 0) feeds.x = new ort.Tensor('float32', Float32Array.from(input.data), [d0, d1, input.F]);
  else feeds.tokens = new ort.Tensor('int64', BigInt64Array.from(Array.from(input.data, (v) => BigInt(v))), [d0, d1]);
  if (withLengths) feeds.lengths = new ort.Tensor('int32', Int32Array.from(input.lengths ?? Array.from({ length: input.B }, () => input.T)), [input.B]);
  const result = await session.run(feeds);
  const out: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(result)) out[name] = t.data as Float32Array;
  await session.release();
  return out;
}
