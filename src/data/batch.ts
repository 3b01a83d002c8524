// Batching: padding to the longest sequence, lengths for masks, time-major
// layout ([T, B, ·]) as the engine wants, optional bucketing by length, and
// parallel streams for truncated back-propagation through time. Batching is
// told what the inputs and targets are (a BatchSpec); it knows no model.

import type { Rng } from '../core/rng.js';
import type { Example } from './encode.js';

/** What a batch holds. */
export interface BatchSpec {
  /** Numbers per step of feature input, or 'tokens'. */
  input: number | 'tokens';
  /**
   * The targets: `size` numbers (regression) or one class index per row;
   * per sequence, per step, or (mode 'next') the input's next step.
   */
  target: { type: 'regression' | 'classification'; size: number; mode: 'sequence' | 'step' | 'next' };
}

export interface Batch {
  steps: number; // T
  size: number; // B
  /** [T, B, F] numeric input, zero padded. */
  x: Float32Array | null;
  /** [T, B] token input, padded with 0. */
  tokens: Int32Array | null;
  /** [B] true lengths. */
  lengths: Int32Array;
  /** Regression targets: [B, size] (sequence) or [T, B, size] (step, next). */
  yReg: Float32Array | null;
  /** Class targets: [B] (sequence) or [T, B] (step, next); -1 where there is none. */
  yCls: Int32Array | null;
  /** Which examples, in batch order. */
  indices: number[];
}

function featuresOf(spec: BatchSpec): number {
  return spec.input === 'tokens' ? 1 : spec.input;
}

function targetSize(spec: BatchSpec): number {
  const t = spec.target;
  if (t.type === 'classification') return 1;
  return t.mode === 'next' ? featuresOf(spec) : t.size;
}

/** Per row of a per-step output [T, B], 1 for a real step and 0 for padding; null when no step is padding. */
export function stepMask(batch: Pick<Batch, 'steps' | 'size' | 'lengths'>): Uint8Array | null {
  const { steps: T, size: B, lengths } = batch;
  if (lengths.every((l) => l === T)) return null;
  const mask = new Uint8Array(T * B);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) mask[t * B + b] = t < lengths[b]! ? 1 : 0;
  return mask;
}

/**
 * One padded batch. In next-step mode with `shift`, the input is steps
 * 0 … n-2 and the target steps 1 … n-1 of each example (prediction leaves
 * shift off and uses every step).
 */
export function makeBatch(examples: readonly Example[], indices: readonly number[], spec: BatchSpec, shift = spec.target.mode === 'next'): Batch {
  const B = indices.length;
  const F = featuresOf(spec);
  const next = spec.target.mode === 'next';
  const cut = next && shift ? 1 : 0;
  const lengths = Int32Array.from(indices, (i) => examples[i]!.steps - cut);
  const T = Math.max(1, ...lengths);
  const tokenInput = spec.input === 'tokens';
  const x = tokenInput ? null : new Float32Array(T * B * F);
  const tokens = tokenInput ? new Int32Array(T * B) : null;
  const cls = spec.target.type === 'classification';
  const S = targetSize(spec);
  const perStep = spec.target.mode !== 'sequence';
  let yReg: Float32Array | null = null;
  let yCls: Int32Array | null = null;
  const hasTargets = next ? shift : indices.every((i) => (cls ? examples[i]!.yCls : examples[i]!.yReg) !== null);
  if (hasTargets) {
    if (cls) yCls = new Int32Array(perStep ? T * B : B).fill(-1);
    else yReg = new Float32Array((perStep ? T * B : B) * S);
  }
  indices.forEach((i, b) => {
    const e = examples[i]!;
    const len = lengths[b]!;
    for (let t = 0; t < len; t++) {
      if (tokens) tokens[t * B + b] = e.tokens![t]!;
      else x!.set(e.x!.subarray(t * F, (t + 1) * F), (t * B + b) * F);
    }
    if (!hasTargets) return;
    if (next) {
      for (let t = 0; t < len; t++) {
        if (yCls) yCls[t * B + b] = e.tokens![t + 1]!;
        else yReg!.set(e.x!.subarray((t + 1) * F, (t + 2) * F), (t * B + b) * F);
      }
    } else if (perStep) {
      for (let t = 0; t < len; t++) {
        if (yCls) yCls[t * B + b] = e.yCls![t]!;
        else yReg!.set(e.yReg!.subarray(t * S, (t + 1) * S), (t * B + b) * S);
      }
    } else if (yCls) yCls[b] = e.yCls![0]!;
    else yReg!.set(e.yReg!, b * S);
  });
  return { steps: T, size: B, x, tokens, lengths, yReg, yCls, indices: [...indices] };
}

export interface BatchOrder {
  batchSize: number;
  shuffle: boolean;
  /** Sort by length within windows of 50 batches, so a batch holds similar lengths. */
  bucketByLength: boolean;
  rng: Rng;
}

/** Example indices grouped into batches for one epoch. */
export function batchIndices(examples: readonly { steps: number }[], o: BatchOrder): number[][] {
  const order = examples.map((_, i) => i);
  if (o.shuffle) o.rng.shuffle(order);
  if (o.bucketByLength) {
    const window = o.batchSize * 50;
    for (let s = 0; s < order.length; s += window) {
      const part = order.slice(s, s + window).sort((a, b) => examples[a]!.steps - examples[b]!.steps || a - b);
      order.splice(s, part.length, ...part);
    }
  }
  const batches: number[][] = [];
  for (let s = 0; s < order.length; s += o.batchSize) batches.push(order.slice(s, s + o.batchSize));
  if (o.bucketByLength && o.shuffle) o.rng.shuffle(batches);
  return batches;
}

/**
 * Streams for truncated BPTT (char-rnn style): all examples joined into one
 * stream, cut into `lanes` contiguous parts; batch k holds window k of every
 * part, so the state at the end of one batch continues in the next.
 */
export function streamBatches(examples: readonly Example[], spec: BatchSpec, lanes: number, window: number): Batch[] {
  const F = featuresOf(spec);
  const tokenInput = spec.input === 'tokens';
  const total = examples.reduce((n, e) => n + e.steps, 0);
  const B = Math.max(1, Math.min(lanes, total - 1));
  const perLane = Math.floor((total - 1) / B);
  const streamTok = tokenInput ? new Int32Array(total) : null;
  const streamX = tokenInput ? null : new Float32Array(total * F);
  let at = 0;
  for (const e of examples) {
    if (streamTok) streamTok.set(e.tokens!, at);
    else streamX!.set(e.x!, at * F);
    at += e.steps;
  }
  const batches: Batch[] = [];
  for (let start = 0; start < perLane; start += window) {
    const T = Math.min(window, perLane - start);
    const tokens = streamTok ? new Int32Array(T * B) : null;
    const x = streamX ? new Float32Array(T * B * F) : null;
    const yCls = streamTok ? new Int32Array(T * B) : null;
    const yReg = streamX ? new Float32Array(T * B * F) : null;
    for (let b = 0; b < B; b++) {
      const base = b * perLane + start;
      for (let t = 0; t < T; t++) {
        const p = base + t;
        if (streamTok) {
          tokens![t * B + b] = streamTok[p]!;
          yCls![t * B + b] = streamTok[p + 1]!;
        } else {
          x!.set(streamX!.subarray(p * F, (p + 1) * F), (t * B + b) * F);
          yReg!.set(streamX!.subarray((p + 1) * F, (p + 2) * F), (t * B + b) * F);
        }
      }
    }
    batches.push({ steps: T, size: B, x, tokens, lengths: new Int32Array(B).fill(T), yReg, yCls, indices: [] });
  }
  return batches;
}
