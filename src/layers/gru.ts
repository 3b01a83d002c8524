// torch.nn.GRU: r, z, n gates, n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)).

import type { Tensor } from '../core/tensor.js';
import type { ModuleOptions } from './module.js';
import { Recurrent, type ForwardOptions, type RecurrentOptions, type RecurrentTrace } from './recurrent.js';

export type GRUOptions = RecurrentOptions;

export class GRU extends Recurrent {
  protected readonly cell = 'gru' as const;

  constructor(opts: GRUOptions, module: ModuleOptions = {}) {
    super(opts, module);
  }

  forward(x: Tensor, state: { h?: Tensor } = {}, opts: ForwardOptions = {}): { output: Tensor; h: Tensor; trace?: RecurrentTrace[] } {
    const { output, h, trace } = this.forwardTensors(x, state.h, undefined, opts);
    return { output, h, ...(trace ? { trace } : {}) };
  }

  backward(dOutput?: Tensor, dState: { dh?: Tensor } = {}): { dx: Tensor; dh0: Tensor } {
    const { dx, dh0 } = this.backwardTensors(dOutput, dState.dh, undefined);
    return { dx, dh0 };
  }
}
