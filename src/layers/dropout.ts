// Dropout (torch.nn.Dropout): in training, each element is zeroed with
// probability p and the rest scaled by 1/(1-p) (inverted dropout), so eval
// mode is the identity. Masks come from the module tree's seeded generator.

import { ValueError } from '../core/errors.js';
import { sizeOf, type ArenaTensor } from '../core/tensor.js';
import { TensorModule, type ModuleOptions } from './module.js';

export class Dropout extends TensorModule {
  readonly p: number;
  /** Each training forward's mask, by tape slot (-1 outside a loop); none in eval. */
  private readonly tape = new Map<number, ArenaTensor | undefined>();

  constructor(p = 0.5, module: ModuleOptions = {}) {
    super(module);
    if (!(p >= 0 && p < 1)) throw new ValueError(`Dropout: p must be in [0, 1), got ${p}`);
    this.p = p;
  }

  forwardArena(x: ArenaTensor, slot?: number): ArenaTensor {
    if (!this.training || this.p === 0) {
      this.tape.set(slot ?? -1, undefined);
      return x;
    }
    const n = sizeOf(x.shape);
    const at = slot === undefined ? '' : `@${slot}`;
    const mask = this.ws.tensor(`mask${at}`, x.shape);
    const y = this.ws.tensor(`y${at}`, x.shape);
    const heap = this.backend.arena.heap;
    const keep = 1 / (1 - this.p);
    const rng = this.rng; // the tree's generator: found once, not per element
    for (let i = 0; i < n; i++) heap[mask.offset + i] = rng.uniform() < this.p ? 0 : keep;
    this.backend.mul(n, x.offset, mask.offset, y.offset);
    this.tape.set(slot ?? -1, mask);
    return y;
  }

  backwardArena(dy: ArenaTensor, wantDx = true, slot?: number): ArenaTensor | undefined {
    if (!wantDx) return undefined;
    const mask = this.tape.get(slot ?? -1);
    if (!mask) return dy;
    const dx = this.ws.tensor(slot === undefined ? 'dx' : `dx@${slot}`, dy.shape);
    this.backend.mul(sizeOf(dy.shape), dy.offset, mask.offset, dx.offset);
    return dx;
  }
}
