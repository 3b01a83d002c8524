// torch.nn.LSTM: i, f, g, o gates; h and c kept apart; optional projection.

import type { Tensor } from '../core/tensor.js';
import type { ModuleOptions } from './module.js';
import { Recurrent, type ForwardOptions, type RecurrentOptions, type RecurrentTrace } from './recurrent.js';

export interface LSTMOptions extends RecurrentOptions {
  /** Project h to this size with weight_hr (PyTorch's proj_size); 0 = none. */
  projSize?: number;
}

export class LSTM extends Recurrent {
  protected readonly cell = 'lstm' as const;

  constructor(opts: LSTMOptions, module: ModuleOptions = {}) {
    super(opts, module);
  }

  forward(
    x: Tensor, state: { h?: Tensor; c?: Tensor } = {}, opts: ForwardOptions = {},
  ): { output: Tensor; h: Tensor; c: Tensor; trace?: RecurrentTrace[] } {
    const { output, h, c, trace } = this.forwardTensors(x, state.h, state.c, opts);
    return { output, h, c: c!, ...(trace ? { trace } : {}) };
  }

  /** Gradients of the loss w.r.t. output and the final states in; input and initial-state gradients out. */
  backward(dOutput?: Tensor, dState: { dh?: Tensor; dc?: Tensor } = {}): { dx: Tensor; dh0: Tensor; dc0: Tensor } {
    const { dx, dh0, dc0 } = this.backwardTensors(dOutput, dState.dh, dState.dc);
    return { dx, dh0, dc0: dc0! };
  }
}
