// Elementwise activations as modules (torch.nn.Tanh, ReLU, Sigmoid), for
// compositions such as a hidden layer in a head or a bridge between encoder
// and decoder states: Sequential(Dense, Activation('tanh'), Dense).

import { ValueError } from '../core/errors.js';
import { sizeOf, type ArenaTensor } from '../core/tensor.js';
import { TensorModule, type ModuleOptions } from './module.js';

export type ActivationKind = 'tanh' | 'relu' | 'sigmoid';

export class Activation extends TensorModule {
  /** Each forward's output, by tape slot (-1 outside a loop): the derivative is read from it. */
  private readonly tape = new Map<number, ArenaTensor>();

  constructor(readonly kind: ActivationKind, module: ModuleOptions = {}) {
    super(module);
    if (kind !== 'tanh' && kind !== 'relu' && kind !== 'sigmoid') {
      throw new ValueError(`Activation: kind must be 'tanh', 'relu' or 'sigmoid', got ${JSON.stringify(kind)}`);
    }
  }

  forwardArena(x: ArenaTensor, slot?: number): ArenaTensor {
    const n = sizeOf(x.shape);
    const y = this.ws.tensor(slot === undefined ? 'y' : `y@${slot}`, x.shape);
    const heap = this.backend.arena.heap;
    for (let i = 0; i < n; i++) {
      const v = heap[x.offset + i]!;
      heap[y.offset + i] = this.kind === 'tanh' ? Math.tanh(v) : this.kind === 'relu' ? Math.max(0, v) : 1 / (1 + Math.exp(-v));
    }
    this.tape.set(slot ?? -1, y);
    return y;
  }

  /** The derivative from the saved output: tanh' = 1 − y², relu' = [y > 0], σ' = y(1 − y). */
  backwardArena(dy: ArenaTensor, wantDx = true, slot?: number): ArenaTensor | undefined {
    const y = this.tape.get(slot ?? -1);
    if (!y) throw new ValueError('Activation.backward called before forward');
    if (!wantDx) return undefined;
    const n = sizeOf(dy.shape);
    const dx = this.ws.tensor(slot === undefined ? 'dx' : `dx@${slot}`, dy.shape);
    const heap = this.backend.arena.heap;
    for (let i = 0; i < n; i++) {
      const v = heap[y.offset + i]!;
      const slope = this.kind === 'tanh' ? 1 - v * v : this.kind === 'relu' ? (v > 0 ? 1 : 0) : v * (1 - v);
      heap[dx.offset + i] = heap[dy.offset + i]! * slope;
    }
    return dx;
  }
}
