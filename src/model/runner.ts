// Feeding batches to a model: each batch's inputs are staged in the arena
// (time-major, as the batcher made them) and, for streams — truncated BPTT,
// sampling one token at a time — the final recurrent state of one call is
// kept and given as the initial state of the next. The state is this
// object's, in the open: the model itself keeps nothing between calls.

import { Workspace } from '../core/arena.js';
import type { ArenaTensor } from '../core/tensor.js';
import type { Batch } from '../data/batch.js';
import type { ModelState, SequenceModel } from './model.js';

export class BatchRunner {
  private readonly ws: Workspace;
  /** The state carried to the next call, for batches of `B` sequences. */
  private carried: { B: number; state: ModelState } | undefined;

  constructor(readonly model: SequenceModel) {
    this.ws = new Workspace(model.backend.arena);
  }

  /**
   * The model's output for a batch ([B, K], or [T, B, K] per step). With
   * `carry`, the batch starts from the state the previous carried call ended
   * in (when it had as many sequences), and its final state is kept.
   */
  forward(batch: Batch, opts: { carry?: boolean } = {}): ArenaTensor {
    const { steps: T, size: B } = batch;
    const x = batch.x ? this.ws.put('x', batch.x, [T, B, this.model.inputFeatures]) : null;
    const tokens = batch.tokens ? { data: batch.tokens, shape: [T, B] } : null;
    const start = opts.carry && this.carried?.B === B ? this.carried.state : undefined;
    const { output, state } = this.model.forwardArena({ x, tokens, lengths: batch.lengths }, { state: start });
    if (opts.carry) this.carried = { B, state: this.keep(state) };
    return output;
  }

  /** Start the next carried call from zeros. */
  resetState(): void {
    this.carried = undefined;
  }

  /** A copy of the final state in this runner's buffers (the model overwrites its own on the next call). */
  private keep(state: ModelState): ModelState {
    const b = this.model.backend;
    const h = this.ws.tensor('h', state.h.shape);
    b.copy(h.shape.reduce((a, d) => a * d, 1), state.h.offset, h.offset);
    let c: ArenaTensor | undefined;
    if (state.c) {
      c = this.ws.tensor('c', state.c.shape);
      b.copy(c.shape.reduce((a, d) => a * d, 1), state.c.offset, c.offset);
    }
    return { h, c };
  }

  dispose(): void {
    this.ws.dispose();
    this.carried = undefined;
  }
}
