// torch.nn.RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh), or relu.

import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { ModuleOptions } from './module.js';
import { Recurrent, type ForwardOptions, type RecurrentOptions, type RecurrentTrace } from './recurrent.js';

export interface RNNOptions extends RecurrentOptions {
  nonlinearity?: 'tanh' | 'relu';
}

export class RNN extends Recurrent {
  protected readonly cell: 'rnn_tanh' | 'rnn_relu';
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(opts: RNNOptions, module: ModuleOptions = {}) {
    super(opts, module);
    const nl = opts.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') throw new ValueError(`RNN: nonlinearity must be 'tanh' or 'relu', got ${String(nl)}`);
    this.nonlinearity = nl;
    this.cell = nl === 'tanh' ? 'rnn_tanh' : 'rnn_relu';
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
