// Dropout (torch.nn.Dropout): in training, each element is zeroed with
// probability p and the rest scaled by 1/(1-p) (inverted dropout), so eval
// mode is the identity. Masks come from the module tree's seeded generator.

import { ValueError } from '../core/errors.js';
import { sizeOf, type ArenaTensor } from '../core/tensor.js';
import { TensorModule, type ModuleOptions } from './module.js';

export class Dropout extends TensorModule {
  readonly p: number;
  private mask: ArenaTensor | undefined; // of the last training forward; undefined in eval

  constructor(p = 0.5, module: ModuleOptions = {}) {
    super(module);
    if (!(p >= 0 && p < 1)) throw new ValueError(`Dropout: p must be in [0, 1), got ${p}`);
    this.p = p;
  }

  forwardArena(x: ArenaTensor): ArenaTensor {
    if (!this.training || this.p === 0) {
      this.mask = undefined;
      return x;
    }
    const n = sizeOf(x.shape);
    const mask = this.ws.tensor('mask', x.shape);
    const y = this.ws.tensor('y', x.shape);
    const heap = this.backend.arena.heap;
    const keep = 1 / (1 - this.p);
    for (let i = 0; i < n; i++) heap[mask.offset + i] = this.rng.uniform() < this.p ? 0 : keep;
    this.backend.mul(n, x.offset, mask.offset, y.offset);
    this.mask = mask;
    return y;
  }

  backwardArena(dy: ArenaTensor, wantDx = true): ArenaTensor | undefined {
    if (!wantDx) return undefined;
    if (!this.mask) return dy;
    const dx = this.ws.tensor('dx', dy.shape);
    this.backend.mul(sizeOf(dy.shape), dy.offset, this.mask.offset, dx.offset);
    return dx;
  }
}
