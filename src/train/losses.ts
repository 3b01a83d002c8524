// Losses with masks for padded steps. Each returns the mean loss over the
// counted rows and writes the gradient of that mean.

import { ShapeError, describeShape } from '../core/errors.js';
import { tensor, type Tensor } from '../core/tensor.js';
import { NONE, type Backend } from '../kernels/backend.js';
import { getBackend } from '../kernels/index.js';

/**
 * Mean squared error over pred/target [rows, cols]. `mask[r]` = 0 leaves row r
 * out (padding). dpred (or NONE) receives ∂loss/∂pred. Returns the loss.
 */
export function mseRaw(backend: Backend, rows: number, cols: number, pred: number, target: number,
                       mask: ArrayLike<number> | null, dpred: number): number {
  const h = backend.arena.heap;
  let counted = 0;
  for (let r = 0; r < rows; r++) if (mask === null || mask[r]) counted++;
  const n = counted * cols;
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    const on = mask === null || mask[r] !== 0;
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      const diff = on ? h[pred + i]! - h[target + i]! : 0;
      sum += diff * diff;
      if (dpred !== NONE) h[dpred + i] = n === 0 ? 0 : (2 * diff) / n;
    }
  }
  return n === 0 ? 0 : sum / n;
}

/**
 * Softmax cross-entropy over logits [rows, classes]; targets[r] < 0 leaves
 * row r out. Writes probabilities and (unless NONE) ∂loss/∂logits. Returns
 * the mean loss over counted rows.
 */
export function crossEntropyRaw(backend: Backend, rows: number, classes: number, logits: number,
                                targets: Int32Array, probs: number, dlogits: number): number {
  let counted = 0;
  for (let r = 0; r < rows; r++) {
    const target = targets[r]!;
    if (target >= classes) throw new ShapeError(`cross-entropy: target [${r}] is class ${target}, but there are ${classes} classes`);
    if (target >= 0) counted++;
  }
  const sum = backend.softmaxCrossEntropy(rows, classes, logits, targets, probs, dlogits, counted === 0 ? 0 : 1 / counted);
  return counted === 0 ? 0 : sum / counted;
}

function scratch(backend: Backend, ...arrays: ArrayLike<number>[]): number[] {
  const arena = backend.arena;
  return arrays.map((a) => {
    const off = arena.alloc(a.length);
    arena.heap.set(a, off);
    return off;
  });
}

/** MSE between tensors of one shape; `mask` has one 0/1 entry per row (all dimensions but the last). */
export function mseLoss(pred: Tensor, target: Tensor, opts: { mask?: ArrayLike<number>; backend?: Backend } = {}): { loss: number; grad: Tensor } {
  if (pred.data.length !== target.data.length) {
    throw new ShapeError(`mseLoss: prediction has shape ${describeShape(pred.shape)}, target ${describeShape(target.shape)}`);
  }
  const backend = opts.backend ?? getBackend();
  const cols = pred.shape[pred.shape.length - 1] ?? 1;
  const rows = pred.data.length / cols;
  if (opts.mask && opts.mask.length !== rows) throw new ShapeError(`mseLoss: mask has ${opts.mask.length} entries, expected one per row (${rows})`);
  const [p, t, d] = scratch(backend, pred.data, target.data, pred.data) as [number, number, number];
  const loss = mseRaw(backend, rows, cols, p, t, opts.mask ?? null, d);
  const grad = tensor(backend.arena.heap.slice(d, d + pred.data.length), pred.shape);
  for (const off of [p, t, d]) backend.arena.release(off);
  return { loss, grad };
}

/** Cross-entropy of logits [..., classes] against class indices (-1 = ignore). */
export function crossEntropyLoss(logits: Tensor, targets: ArrayLike<number>, opts: { backend?: Backend } = {}): { loss: number; grad: Tensor; probs: Tensor } {
  const backend = opts.backend ?? getBackend();
  const classes = logits.shape[logits.shape.length - 1] ?? 1;
  const rows = logits.data.length / classes;
  if (targets.length !== rows) throw new ShapeError(`crossEntropyLoss: ${targets.length} targets for ${rows} rows of logits ${describeShape(logits.shape)}`);
  const [l, p, d] = scratch(backend, logits.data, logits.data, logits.data) as [number, number, number];
  const loss = crossEntropyRaw(backend, rows, classes, l, Int32Array.from(targets), p, d);
  const heap = backend.arena.heap;
  const grad = tensor(heap.slice(d, d + logits.data.length), logits.shape);
  const probs = tensor(heap.slice(p, p + logits.data.length), logits.shape);
  for (const off of [l, p, d]) backend.arena.release(off);
  return { loss, grad, probs };
}
