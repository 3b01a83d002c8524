// Pooling: one vector per sequence from a recurrent stack's outputs, the
// reading a many-to-one head takes, respecting each sequence's length:
//
//   'hn'    PyTorch's h_n of the last layer: the forward direction's state at
//           each sequence's end, the backward direction's at t = 0 (what a
//           head on `h_n[-2:]` reads; the config calls it 'last');
//   'mean'  the mean of the last layer's outputs over the valid steps.

import { ValueError } from '../core/errors.js';
import type { ArenaTensor } from '../core/tensor.js';
import { Module, type ModuleOptions } from './module.js';
import type { RecurrentOutput } from './recurrent.js';

export type PoolingKind = 'hn' | 'mean';

/** The stack the pooling reads: its layers, directions and per-direction state size. */
export interface PooledStack {
  numLayers: number;
  numDirections: number;
  stateSize: number;
}

export class Pooling extends Module {
  private last: { T: number; B: number; lengths: Int32Array } | undefined;

  constructor(readonly kind: PoolingKind, readonly stack: PooledStack, module: ModuleOptions = {}) {
    super(module);
    if (kind !== 'hn' && kind !== 'mean') throw new ValueError(`Pooling: kind must be 'hn' or 'mean', got ${JSON.stringify(kind)}`);
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
    if (this.kind === 'hn') {
      const { numLayers: L, numDirections: D, stateSize: O } = this.stack;
      for (let b = 0; b < B; b++) {
        for (let d = 0; d < D; d++) {
          const src = rnn.h.offset + (((L - 1) * D + d) * B + b) * O;
          heap.copyWithin(out + b * F + d * O, src, src + O);
        }
      }
    } else {
      const y = rnn.output.offset;
      heap.fill(0, out, out + B * F);
      for (let b = 0; b < B; b++) {
        const len = lengths[b]!;
        for (let t = 0; t < len; t++) {
          for (let j = 0; j < F; j++) heap[out + b * F + j]! += heap[y + (t * B + b) * F + j]! / len;
        }
      }
    }
    this.last = { T, B, lengths };
    return pooled;
  }

  /**
   * dLoss/dpooled [B, F] → the gradients for the stack's backward:
   * w.r.t. its output ('mean') or its final states ('hn').
   */
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
          const src = dp + b * F + d * O;
          heap.copyWithin(dh.offset + (((L - 1) * D + d) * B + b) * O, src, src + O);
        }
      }
      return { dh };
    }
    const dy = this.ws.tensor('dOutput', [T, B, F]);
    const heap = this.backend.arena.heap;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const len = lengths[b]!;
        for (let j = 0; j < F; j++) heap[dy.offset + (t * B + b) * F + j] = t < len ? heap[dp + b * F + j]! / len : 0;
      }
    }
    return { dOutput: dy };
  }
}
