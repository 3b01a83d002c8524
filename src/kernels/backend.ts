// The Backend interface: every kernel the layers, losses and optimizers need.
// Buffers are element offsets into the backend's arena; sizes and leading
// dimensions (row strides, in elements) are explicit; kernels never allocate
// from the arena. Backward kernels ADD into weight gradients (`+=`), as
// gradients of a weight shared across steps and batches must.

import type { Arena } from '../core/arena.js';

/** `-1` stands for "no buffer" (no bias, zero initial state, no gradient wanted). */
export const NONE = -1;

/** One direction of one recurrent layer over all steps. Shapes in elements. */
export interface RecurrentShape {
  steps: number; // T
  batch: number; // B
  input: number; // I
  hidden: number; // H
  /** Size of the state fed back and emitted: projSize for a projected LSTM, else hidden. */
  output: number; // O
  /** Process t = T-1 … 0 (the backward direction of a bidirectional layer). */
  reverse: boolean;
  /**
   * Per batch row, the true length (packed sequences). Steps t >= lengths[b]
   * leave row b's state untouched and emit zeros. `null`: every row runs all T.
   */
  lengths: Int32Array | null;
}

/** Offsets of one direction's weights (PyTorch layout), gradients alike. */
export interface RecurrentWeights {
  wih: number; // [G·H, I]   G = 4 (LSTM), 3 (GRU), 1 (RNN)
  whh: number; // [G·H, O]
  bih: number; // [G·H] or NONE
  bhh: number; // [G·H] or NONE
  whr: number; // [O, H] LSTM projection, or NONE
}

export interface RecurrentForward extends RecurrentShape {
  w: RecurrentWeights;
  x: number; // [T, B, I], rows of length ldx
  ldx: number;
  h0: number; // [B, O] or NONE for zeros
  c0: number; // [B, H] or NONE (LSTM only)
  y: number; // [T, B, O], rows of length ldy (a bidirectional layer interleaves two directions)
  ldy: number;
  hn: number; // [B, O]
  cn: number; // [B, H] (LSTM only; NONE otherwise)
  /** Saved activations for backward; size from `recurrentSavedSize`. */
  saved: number;
  /**
   * Recurrent dropout: a mask [B, O] that multiplies h_{t-1} where it feeds
   * the recurrent product W_hh·h, the same at every step (the cell state c,
   * the GRU's z ⊙ h and the emitted h stay unmasked); NONE or left out: none.
   */
  recurrentMask?: number;
}

export interface RecurrentBackward extends RecurrentShape {
  w: RecurrentWeights;
  dw: RecurrentWeights; // gradient offsets, accumulated into
  x: number;
  ldx: number;
  h0: number;
  c0: number;
  saved: number; // as written by forward
  dy: number; // [T, B, O] rows of ldy, or NONE
  ldy: number;
  dhn: number; // [B, O] or NONE
  dcn: number; // [B, H] or NONE
  dx: number; // [T, B, I] rows of ldx... written with ldDx; NONE if not wanted
  ldDx: number;
  /** Add into dx instead of overwriting (the second direction of a layer). */
  accumulateDx: boolean;
  dh0: number; // [B, O] written, or NONE
  dc0: number; // [B, H] written, or NONE
  /** Scratch for backward; size from `recurrentScratchSize`. */
  scratch: number;
  /** The forward's recurrent mask [B, O], or NONE / left out. */
  recurrentMask?: number;
}

export type CellKind = 'lstm' | 'gru' | 'rnn_tanh' | 'rnn_relu';

/** Gate blocks of a cell's weights: LSTM i, f, g, o; GRU r, z, n; RNN one (a config's 'rnn' is either RNN kind). */
export function gateCount(cell: CellKind | 'rnn'): number {
  return cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
}

/**
 * Sizes that fix the saved and scratch layouts of one direction. `masked`:
 * a recurrent mask is given (the GRU then keeps h_{t-1} twice).
 */
export interface RecurrentSizes {
  steps: number;
  batch: number;
  hidden: number;
  output: number;
  proj: boolean;
  masked?: boolean;
}

/**
 * Elements of saved activations one direction needs, laid out by time
 * (hprev: h_{t-1} as W_hh multiplies it, masked under recurrent dropout):
 *   LSTM: gates [T,B,4H] (activated i,f,g,o) · hprev [T,B,O] · cprev [T,B,H] · c [T,B,H] · r [T,B,H] (projected only)
 *   GRU:  gates [T,B,3H] (activated r,z,n)   · hprev [T,B,H] · hn [T,B,H] (W_hn h + b_hn)
 *         · hraw [T,B,H] (masked only: h_{t-1} unmasked, for z ⊙ h) · hg [B,3H] (one step's W_hh h + b_hh)
 *   RNN:  hprev [T,B,H] · h [T,B,H]
 */
export function recurrentSavedSize(cell: CellKind, s: RecurrentSizes): number {
  const tb = s.steps * s.batch;
  switch (cell) {
    case 'lstm':
      return tb * (4 * s.hidden + s.output + 2 * s.hidden + (s.proj ? s.hidden : 0));
    case 'gru':
      return tb * (3 * s.hidden + 2 * s.hidden + (s.masked ? s.hidden : 0)) + s.batch * 3 * s.hidden;
    default:
      return tb * 2 * s.hidden;
  }
}

/**
 * Scratch elements for backward:
 *   LSTM: dgates [T,B,4H] · dh [B,O] · dc [B,H] · dr [B,H] · dhs [T,B,O]
 *         (projected only: every step's dh, for one dW_hr multiply)
 *   GRU:  dxg [T,B,3H] · dhg [T,B,3H] · dh [B,H] · dhw [B,H] (masked only: the gradient through W_hh, before the mask)
 *   RNN:  dpre [T,B,H] · dh [B,H]
 */
export function recurrentScratchSize(cell: CellKind, s: RecurrentSizes): number {
  const tb = s.steps * s.batch;
  switch (cell) {
    case 'lstm':
      return tb * 4 * s.hidden + s.batch * (s.output + 2 * s.hidden) + (s.proj ? tb * s.output : 0);
    case 'gru':
      return tb * 6 * s.hidden + s.batch * s.hidden * (s.masked ? 2 : 1);
    default:
      return tb * s.hidden + s.batch * s.hidden;
  }
}

export interface AdamArgs {
  n: number;
  param: number;
  grad: number;
  m: number;
  v: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: decoupled weight decay (param *= 1 - lr·wd) instead of L2 in the gradient. */
  decoupled: boolean;
  step: number; // 1-based
}

export interface Backend {
  readonly name: string;
  readonly arena: Arena;
  /** Threads kernels may use (1 for the reference backend). */
  readonly threads: number;

  /** C[M,N] = op(A)[M,K] · op(B)[K,N] (+ C when accumulate). op(X) = Xᵀ when trans. */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number,
       a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: boolean): void;

  /** One whole recurrent layer direction, forward over all steps. */
  recurrentForward(cell: CellKind, args: RecurrentForward): void;
  /** Back-propagation through time for one direction; adds into args.dw. */
  recurrentBackward(cell: CellKind, args: RecurrentBackward): void;

  /** x[r, :cols] += bias[:cols] for r < rows (row stride ld). */
  addBias(rows: number, cols: number, x: number, ld: number, bias: number): void;
  /** out[:cols] += Σ_r x[r, :cols]. */
  sumRows(rows: number, cols: number, x: number, ld: number, out: number): void;
  /** Copy `n` elements. */
  copy(n: number, src: number, dst: number): void;
  fill(n: number, dst: number, value: number): void;
  /** out[i] = a[i] * b[i]. */
  mul(n: number, a: number, b: number, out: number): void;
  /** y[i] += alpha * x[i]. */
  axpy(n: number, alpha: number, x: number, y: number): void;
  scale(n: number, x: number, alpha: number): void;
  /** Σ x[i]² (in double precision). */
  sumSquares(n: number, x: number): number;
  /** x[i] = clamp(x[i], -limit, limit). */
  clamp(n: number, x: number, limit: number): void;
  /** True when every element is finite. */
  allFinite(n: number, x: number): boolean;

  /**
   * Softmax cross-entropy over rows of logits [N, C]; targets[r] is a class
   * index, or < 0 to skip the row (padding). Writes probabilities into probs
   * and, when dlogits != NONE, dlogits = (p - onehot) · scale (0 on skipped rows).
   * Returns the summed loss of the counted rows.
   */
  softmaxCrossEntropy(rows: number, classes: number, logits: number, targets: Int32Array,
                      probs: number, dlogits: number, scale: number): number;

  /**
   * One attention step over a time-major memory, for each row b < B with
   * len = lengths[b] (1 ≤ len ≤ S):
   *   weights[b, s] = softmax_s(query[b] · keys[s, b]) for s < len, exactly 0 for s ≥ len
   *   context[b]    = Σ_{s<len} weights[b, s] · values[s, b]
   * query [B, H], keys [S, B, H], values [S, B, D], weights [B, S], context [B, D].
   */
  attendForward(B: number, S: number, H: number, D: number, query: number, keys: number, values: number,
                lengths: Int32Array, weights: number, context: number): void;
  /** y[i] = tanh(x[i]) (y may be x). */
  tanh(n: number, x: number, y: number): void;

  /** Adam / AdamW step over a flat buffer. */
  adam(args: AdamArgs): void;
}
