// Losses: functions of a model's outputs and the targets that return the
// loss and its gradient w.r.t. the outputs, with masks for padded steps.
// Each returns the mean over the counted rows and the gradient of that mean.
//
// Two faces, as the layers have: `mseLoss` / `crossEntropyLoss` take plain
// tensors and return fresh ones; `mseArena` / `crossEntropyArena` take a
// model's output where it lies in the arena and write the gradient into a
// workspace the caller owns (the trainer's), so nothing is copied per batch.

import { Workspace } from '../core/arena.js';
import { ShapeError, ValueError, describeShape } from '../core/errors.js';
import { sizeOf, type ArenaTensor, type Tensor } from '../core/tensor.js';
import { NONE, type Backend } from '../kernels/backend.js';
import { getBackend } from '../kernels/index.js';

/** A loss, how many rows (or steps) it averaged over, and its gradient w.r.t. the output. */
export interface LossResult<T> {
  loss: number;
  counted: number;
  grad: T;
}

/**
 * Mean squared error over pred [rows, cols] (arena) and target (the same
 * layout); `mask[r]` = 0 leaves row r out (padding). Writes ∂loss/∂pred into
 * dpred unless it is NONE. Returns the loss and the rows counted.
 */
function mseKernel(backend: Backend, rows: number, cols: number, pred: number, target: ArrayLike<number>,
                   mask: ArrayLike<number> | null, dpred: number): { loss: number; counted: number } {
  const h = backend.arena.heap;
  let counted = 0;
  for (let r = 0; r < rows; r++) if (mask === null || mask[r]) counted++;
  const n = counted * cols;
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    const on = mask === null || mask[r] !== 0;
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      const diff = on ? h[pred + i]! - target[i]! : 0;
      sum += diff * diff;
      if (dpred !== NONE) h[dpred + i] = n === 0 ? 0 : (2 * diff) / n;
    }
  }
  return { loss: n === 0 ? 0 : sum / n, counted };
}

/**
 * Softmax cross-entropy over logits [rows, classes]; targets[r] < 0 leaves
 * row r out. Writes probabilities and (unless NONE) ∂loss/∂logits. Returns
 * the mean loss over the counted rows.
 *
 * With label smoothing ε (PyTorch's `label_smoothing`) the target
 * distribution is (1 − ε)·onehot + ε/K, so each row's loss is
 * (1 − ε)·(−log p_y) + ε·mean_k(−log p_k) and its gradient p − that target.
 */
function crossEntropyKernel(backend: Backend, rows: number, classes: number, logits: number,
                            targets: Int32Array, probs: number, dlogits: number, smoothing = 0): { loss: number; counted: number } {
  let counted = 0;
  for (let r = 0; r < rows; r++) {
    const target = targets[r]!;
    if (target >= classes) throw new ShapeError(`cross-entropy: target [${r}] is class ${target}, but there are ${classes} classes`);
    if (target >= 0) counted++;
  }
  const scale = counted === 0 ? 0 : 1 / counted;
  let sum = backend.softmaxCrossEntropy(rows, classes, logits, targets, probs, dlogits, scale);
  if (smoothing > 0 && counted > 0) {
    // The ε share: −log p_k = lse − logit_k, read from the logits (p_k may underflow to 0).
    const h = backend.arena.heap;
    let uniform = 0;
    for (let r = 0; r < rows; r++) {
      const y = targets[r]!;
      if (y < 0) continue;
      const at = logits + r * classes;
      let max = -Infinity;
      for (let k = 0; k < classes; k++) max = Math.max(max, h[at + k]!);
      let exp = 0;
      let total = 0;
      for (let k = 0; k < classes; k++) {
        exp += Math.exp(h[at + k]! - max);
        total += h[at + k]!;
      }
      const lse = max + Math.log(exp);
      uniform += lse - total / classes;
      if (dlogits === NONE) continue;
      const d = dlogits + r * classes;
      for (let k = 0; k < classes; k++) h[d + k]! -= (smoothing * scale) / classes;
      h[d + y]! += smoothing * scale;
    }
    sum = (1 - smoothing) * sum + smoothing * uniform;
  }
  return { loss: counted === 0 ? 0 : sum / counted, counted };
}

/** Rows and columns of an output whose last dimension is the columns. */
function rowsOf(shape: readonly number[]): { rows: number; cols: number } {
  const cols = shape[shape.length - 1] ?? 1;
  return { rows: sizeOf(shape) / cols, cols };
}

/**
 * MSE of an arena output against host targets of the same layout;
 * the gradient in `ws` ('dOutput') unless `grad` is false.
 */
export function mseArena(
  backend: Backend, ws: Workspace, pred: ArenaTensor, target: ArrayLike<number>,
  opts: { mask?: ArrayLike<number> | null; grad?: boolean } = {},
): LossResult<ArenaTensor | undefined> {
  const { rows, cols } = rowsOf(pred.shape);
  if (target.length !== rows * cols) throw new ShapeError(`mse: the output has shape ${describeShape(pred.shape)}, the target ${target.length} values`);
  const grad = opts.grad === false ? undefined : ws.tensor('dOutput', pred.shape);
  const { loss, counted } = mseKernel(
    backend, rows, cols, pred.offset, target, opts.mask ?? null, grad?.offset ?? NONE,
  );
  return { loss, counted, grad };
}

/**
 * Cross-entropy of arena logits against class indices (-1: no target), with optional label smoothing;
 * probabilities and gradient in `ws`.
 */
export function crossEntropyArena(
  backend: Backend, ws: Workspace, logits: ArenaTensor, targets: Int32Array, opts: { grad?: boolean; labelSmoothing?: number } = {},
): LossResult<ArenaTensor | undefined> & { probs: ArenaTensor } {
  const { rows, cols } = rowsOf(logits.shape);
  if (targets.length !== rows) throw new ShapeError(`cross-entropy: ${targets.length} targets for ${rows} rows of logits ${describeShape(logits.shape)}`);
  const probs = ws.tensor('probs', logits.shape);
  const grad = opts.grad === false ? undefined : ws.tensor('dOutput', logits.shape);
  const { loss, counted } = crossEntropyKernel(
    backend, rows, cols, logits.offset, targets, probs.offset, grad?.offset ?? NONE, smoothingOf(opts.labelSmoothing),
  );
  return { loss, counted, grad, probs };
}

/** Softmax over the last dimension of arena logits, as a fresh tensor. */
export function softmaxArena(backend: Backend, ws: Workspace, logits: ArenaTensor): Tensor {
  const { rows, cols } = rowsOf(logits.shape);
  const probs = ws.tensor('probs', logits.shape);
  backend.softmaxCrossEntropy(rows, cols, logits.offset, new Int32Array(rows).fill(-1), probs.offset, NONE, 0);
  return backend.arena.read(probs);
}

/** A workspace for one call of the plain-tensor face, released after. */
function scratch<T>(backend: Backend, f: (ws: Workspace) => T): T {
  const ws = new Workspace(backend.arena);
  try {
    return f(ws);
  } finally {
    ws.dispose();
  }
}

/** MSE between tensors of one shape; `mask` has one 0/1 entry per row (all dimensions but the last). */
export function mseLoss(
  pred: Tensor, target: Tensor, opts: { mask?: ArrayLike<number>; backend?: Backend } = {},
): { loss: number; grad: Tensor } {
  if (pred.data.length !== target.data.length) {
    throw new ShapeError(`mseLoss: prediction has shape ${describeShape(pred.shape)}, target ${describeShape(target.shape)}`);
  }
  const backend = opts.backend ?? getBackend();
  const { rows } = rowsOf(pred.shape);
  if (opts.mask && opts.mask.length !== rows) throw new ShapeError(`mseLoss: mask has ${opts.mask.length} entries, expected one per row (${rows})`);
  return scratch(backend, (ws) => {
    const { loss, grad } = mseArena(backend, ws, ws.put('pred', pred.data, pred.shape), target.data, { mask: opts.mask ?? null });
    return { loss, grad: backend.arena.read(grad!) };
  });
}

/** Label smoothing ε, checked: a number in [0, 1). */
function smoothingOf(value: number | undefined): number {
  const e = value ?? 0;
  if (!(e >= 0 && e < 1)) throw new ValueError(`cross-entropy: labelSmoothing must be in [0, 1), got ${value}`);
  return e;
}

/** Cross-entropy of logits [..., classes] against class indices (-1 = ignore), with optional label smoothing ε. */
export function crossEntropyLoss(
  logits: Tensor, targets: ArrayLike<number>, opts: { backend?: Backend; labelSmoothing?: number } = {},
): { loss: number; grad: Tensor; probs: Tensor } {
  const backend = opts.backend ?? getBackend();
  const { rows } = rowsOf(logits.shape);
  if (targets.length !== rows) throw new ShapeError(`crossEntropyLoss: ${targets.length} targets for ${rows} rows of logits ${describeShape(logits.shape)}`);
  return scratch(backend, (ws) => {
    const { loss, grad, probs } = crossEntropyArena(
      backend, ws, ws.put('logits', logits.data, logits.shape), Int32Array.from(targets), { labelSmoothing: opts.labelSmoothing ?? 0 },
    );
    return { loss, grad: backend.arena.read(grad!), probs: backend.arena.read(probs) };
  });
}
