// The one place the model tests drive a SequenceModel: batch-first data in,
// { outputs, loss, grads } out. The PyTorch parity test and the gradient
// check both go through runModel, so when the model API changes this function
// is what gets ported; the fixtures and the tests around it stay.

import { crossEntropyLoss, mseLoss, tensor } from '../../src/index.js';
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
export function runModel(
  model: SequenceModel, data: ModelData,
  opts: { params?: Record<string, ArrayLike<number> | DataTensor>; backward?: boolean } = {},
): ModelRun {
  const { input, output } = model.config;
  const [B, T] = data.inputs.shape as [number, number];
  const step = output.mode !== 'sequence';
  const cls = output.type === 'classification';
  if (opts.params) model.loadStateDict(opts.params);
  model.parameters().zeroGrad();
  // The public face: batch-first tensors in, the head output out, a loss function of it, backward from its gradient.
  const inputs = tensor(data.inputs.data, data.inputs.shape);
  const out = model.forward(input.type === 'tokens' ? { tokens: inputs } : { x: inputs }, { lengths: data.lengths });
  let loss: number;
  let grad;
  let probabilities: number[] | undefined;
  if (cls) {
    const r = crossEntropyLoss(out, data.targets.data, { backend: model.backend });
    ({ loss, grad } = r);
    probabilities = Array.from(r.probs.data);
  } else {
    // Per step, the padded steps are left out of the loss: one mask entry per [b, t] row.
    const mask = step
      ? Array.from({ length: B * T }, (_, i) => (i % T < data.lengths[Math.floor(i / T)]! ? 1 : 0))
      : undefined;
    const targets = tensor(data.targets.data, out.shape);
    ({ loss, grad } = mseLoss(out, targets, { backend: model.backend, ...(mask ? { mask } : {}) }));
  }
  const backward = opts.backward ?? true;
  if (backward) model.backward(grad);
  return { outputs: Array.from(out.data), probabilities, loss, grads: backward ? model.gradDict() : {} };
}
