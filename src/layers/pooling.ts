// Pooling: one vector per sequence from a recurrent stack's outputs — the
// reading a many-to-one head takes — named by what PyTorch code reads, each
// respecting every sequence's own length:
//
//   'hn'          h_n of the last layer (`h_n[-2:]` of a bidirectional
//                 stack): the forward direction's state at the sequence's
//                 end, the backward direction's after reading back to t = 0.
//                 Model configs also call it 'last'.
//   'lastOutput'  out[:, -1]: the last layer's output at the sequence's last
//                 step, both directions as they stand there — for the
//                 backward direction, its state after reading one step.
//   'mean'        the mean of the last layer's outputs over the valid steps.
//   'max'         their maximum over the valid steps, feature by feature
//                 (the gradient goes to the first step that holds it).

import { ValueError } from '../core/errors.js';
import type { ArenaTensor } from '../core/tensor.js';
import { Module, type ModuleOptions } from './module.js';
import type { RecurrentOutput } from './recurrent.js';

export type PoolingKind = 'hn' | 'lastOutput' | 'mean' | 'max';

export const POOLING_KINDS: readonly PoolingKind[] = ['hn', 'lastOutput', 'mean', 'max'];

/** The stack the pooling reads: its layers, directions and per-direction state size. */
export interface PooledStack {
  numLayers: number;
  numDirections: number;
  stateSize: number;
}

export class Pooling extends Module {
  private last: { T: number; B: number; lengths: Int32Array } | undefined;
  /** 'max': per [b, j], the step holding the maximum. */
  private argmax = new Int32Array(0);

  constructor(readonly kind: PoolingKind, readonly stack: PooledStack, module: ModuleOptions = {}) {
    super(module);
    if (!POOLING_KINDS.includes(kind)) throw new ValueError(`Pooling: kind must be one of ${POOLING_KINDS.join(', ')}; got ${JSON.stringify(kind)}`);
  }

  /** Features of the pooled vector: directions × state size. */
  get features(): number {
    return this.stack.numDirections * this.stack.stateSize;
  }

  /** rnn.output [T, B, F] and rnn.h [L·D, B, O] → [B, F]; lengths [B] (every entry T when none are shorter). */
  forwardArena(rnn: RecurrentOutput<ArenaTensor>, lengths: Int32Array): ArenaTensor {
    const [T, B] = rnn.output.shape as [number, number, number];
    const F = this.features;
    const pooled = this.ws.tensor('pooled', [B, F]);
    const heap = this.backend.arena.heap;
    const out = pooled.offset;
    const y = rnn.output.offset;
    if (this.kind === 'hn') {
      const { numLayers: L, numDirections: D, stateSize: O } = this.stack;
      for (let b = 0; b < B; b++) {
        for (let d = 0; d < D; d++) {
          const src = rnn.h.offset + (((L - 1) * D + d) * B + b) * O;
          heap.copyWithin(out + b * F + d * O, src, src + O);
        }
      }
    } else if (this.kind === 'lastOutput') {
      for (let b = 0; b < B; b++) {
        const src = y + ((lengths[b]! - 1) * B + b) * F;
        heap.copyWithin(out + b * F, src, src + F);
      }
    } else if (this.kind === 'mean') {
      heap.fill(0, out, out + B * F);
      for (let b = 0; b < B; b++) {
        const len = lengths[b]!;
        for (let t = 0; t < len; t++) for (let j = 0; j < F; j++) heap[out + b * F + j]! += heap[y + (t * B + b) * F + j]! / len;
      }
    } else {
      if (this.argmax.length < B * F) this.argmax = new Int32Array(B * F);
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < F; j++) {
          let best = 0;
          for (let t = 1; t < lengths[b]!; t++) if (heap[y + (t * B + b) * F + j]! > heap[y + (best * B + b) * F + j]!) best = t;
          this.argmax[b * F + j] = best;
          heap[out + b * F + j] = heap[y + (best * B + b) * F + j]!;
        }
      }
    }
    this.last = { T, B, lengths };
    return pooled;
  }

  /** dLoss/dpooled [B, F] → the gradients for the stack's backward: w.r.t. its final states ('hn') or its output. */
  backwardArena(dPooled: ArenaTensor): { dOutput?: ArenaTensor; dh?: ArenaTensor } {
    const last = this.last;
    if (!last) throw new ValueError('Pooling.backward called before forward');
    const { T, B, lengths } = last;
    const F = this.features;
    const dp = dPooled.offset;
    if (this.kind === 'hn') {
      const { numLayers: L, numDirections: D, stateSize: O } = this.stack;
      const dh = this.ws.tensor('dh', [L * D, B, O]);
      const heap = this.backend.arena.heap;
      heap.fill(0, dh.offset, dh.offset + L * D * B * O);
      for (let b = 0; b < B; b++) {
        for (let d = 0; d < D; d++) {
          const from = dp + b * F + d * O;
          heap.copyWithin(dh.offset + (((L - 1) * D + d) * B + b) * O, from, from + O);
        }
      }
      return { dh };
    }
    const dy = this.ws.tensor('dOutput', [T, B, F]);
    const heap = this.backend.arena.heap;
    if (this.kind === 'mean') {
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          const len = lengths[b]!;
          for (let j = 0; j < F; j++) heap[dy.offset + (t * B + b) * F + j] = t < len ? heap[dp + b * F + j]! / len : 0;
        }
      }
      return { dOutput: dy };
    }
    heap.fill(0, dy.offset, dy.offset + T * B * F);
    for (let b = 0; b < B; b++) {
      if (this.kind === 'lastOutput') {
        heap.copyWithin(dy.offset + ((lengths[b]! - 1) * B + b) * F, dp + b * F, dp + (b + 1) * F);
        continue;
      }
      for (let j = 0; j < F; j++) heap[dy.offset + (this.argmax[b * F + j]! * B + b) * F + j] = heap[dp + b * F + j]!;
    }
    return { dOutput: dy };
  }
}
