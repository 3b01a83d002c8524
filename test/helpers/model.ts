// The one place the model tests drive a SequenceModel: batch-first data in,
// { outputs, loss, grads } out. The PyTorch parity test and the gradient
// check both go through runModel, so when the model API changes this function
// is what gets ported; the fixtures and the tests around it stay.

import type { Batch } from '../../src/data/batch.js';
import type { SequenceModel } from '../../src/model/model.js';

export interface DataTensor {
  shape: number[];
  data: ArrayLike<number>;
}

/** A padded batch, batch-first (as PyTorch's fixtures write it). */
export interface ModelData {
  /** Features [B, T, F] or token ids [B, T] (0 = padding). */
  inputs: DataTensor;
  /** [B] true lengths. */
  lengths: readonly number[];
  /** Sequence mode: [B, K] numbers or [B] class ids; step mode: [B, T, K] or [B, T] (-1 = no target). */
  targets: DataTensor;
}

export interface ModelRun {
  /** Head output, batch-first ([B, K], or [B, T, K] in step mode): values, or logits. */
  outputs: number[];
  /** Softmax of the logits, same layout (classification only). */
  probabilities: number[] | undefined;
  loss: number;
  /** ∂loss/∂parameter by name; empty without backward. */
  grads: Record<string, ArrayLike<number>>;
}

/**
 * Load `params` (when given), run forward and loss, read the outputs and (unless
 * backward is false) back-propagate from zeroed gradients.
 */
export function runModel(model: SequenceModel, data: ModelData,
                         opts: { params?: Record<string, ArrayLike<number> | DataTensor>; backward?: boolean } = {}): ModelRun {
  const { input, output } = model.config;
  const [B, T] = data.inputs.shape as [number, number];
  const step = output.mode !== 'sequence';
  const cls = output.type === 'classification';
  const F = input.type === 'tokens' ? 1 : input.size;
  const K = model.outputSize;
  // Batch-first [B, T, n] <-> the engine's time-major [T, B, n].
  const toTimeMajor = <A extends Float32Array | Int32Array>(src: ArrayLike<number>, dst: A, n: number): A => {
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let j = 0; j < n; j++) dst[(t * B + b) * n + j] = src[(b * T + t) * n + j]!;
    return dst;
  };
  const toBatchFirst = (src: ArrayLike<number>): number[] => {
    if (!step) return Array.from(src);
    const dst = new Array<number>(B * T * K);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let j = 0; j < K; j++) dst[(b * T + t) * K + j] = src[(t * B + b) * K + j]!;
    return dst;
  };
  const y = data.targets.data;
  const batch: Batch = {
    steps: T,
    size: B,
    x: input.type === 'tokens' ? null : toTimeMajor(data.inputs.data, new Float32Array(T * B * F), F),
    tokens: input.type === 'tokens' ? toTimeMajor(data.inputs.data, new Int32Array(T * B), 1) : null,
    lengths: Int32Array.from(data.lengths),
    yReg: cls ? null : step ? toTimeMajor(y, new Float32Array(T * B * K), K) : Float32Array.from(y),
    yCls: !cls ? null : step ? toTimeMajor(y, new Int32Array(T * B), 1) : Int32Array.from(y),
    indices: Array.from({ length: B }, (_, b) => b),
  };
  if (opts.params) model.loadStateDict(opts.params);
  model.parameters().zeroGrad();
  const { out, rows } = model.forward(batch);
  const raw = model.backend.arena.heap.slice(out, out + rows * K);
  const loss = model.loss();
  const shown = model.outputs(); // values, or class probabilities
  const backward = opts.backward ?? true;
  if (backward) model.backward();
  return {
    outputs: toBatchFirst(raw),
    probabilities: cls ? toBatchFirst(shown) : undefined,
    loss,
    grads: backward ? model.gradDict() : {},
  };
}
