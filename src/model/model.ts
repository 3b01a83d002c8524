// A sequence model built from a config, as a tree of modules a reader can
// follow top to bottom:
//
//   embedding  Embedding            token input only (index 0 is padding)
//   rnn        LSTM | GRU | RNN     the recurrent stack
//   pool       Pooling              many-to-one only: h_n ('last') or the mean
//   head       Dense                values, or logits over the classes
//
// State-dict names are PyTorch's, from the tree: embedding.weight,
// rnn.weight_ih_l0, head.weight, … . The model computes outputs only: the
// loss is a function of its outputs and the targets (src/train/losses.ts),
// and backward takes the loss's gradient w.r.t. the outputs.

import { ShapeError, ValueError, assertFinite, describeShape } from '../core/errors.js';
import { defaultRng, Rng } from '../core/rng.js';
import type { ArenaTensor, Indices, Tensor } from '../core/tensor.js';
import { swapLeadingAxes, tensor } from '../core/tensor.js';
import { gateCount, type Backend } from '../kernels/backend.js';
import { Dense } from '../layers/dense.js';
import { Embedding } from '../layers/embedding.js';
import { GRU } from '../layers/gru.js';
import { LSTM } from '../layers/lstm.js';
import { Module } from '../layers/module.js';
import { Pooling } from '../layers/pooling.js';
import type { Recurrent } from '../layers/recurrent.js';
import { RNN } from '../layers/rnn.js';
import { parseModelConfig, poolingOf, type ModelConfig } from './config.js';

export interface ModelOptions {
  backend?: Backend;
  seed?: number;
}

/** The recurrent state a model starts from or ends with: h [L·D, B, O] and (LSTM) c [L·D, B, H]. */
export interface ModelState {
  h: ArenaTensor;
  c: ArenaTensor | undefined;
}

/** What the arena face of forward takes: time-major inputs and the true lengths. */
export interface ModelInput {
  /** [T, B, F] numbers per step (feature input), or null. */
  x: ArenaTensor | null;
  /** [T, B] token indices (token input), or null. */
  tokens: Indices | null;
  /** [B] the true length of each sequence. */
  lengths: Int32Array;
}

export class SequenceModel extends Module {
  readonly config: ModelConfig;
  readonly embedding: Embedding | null;
  readonly rnn: Recurrent;
  readonly pool: Pooling | null;
  readonly head: Dense;
  private last: { T: number; B: number } | undefined;

  constructor(config: unknown, opts: ModelOptions = {}) {
    const c = parseModelConfig(config);
    if (c.input.type === 'tokens' && !c.input.vocabulary) {
      throw new ValueError('model config: input.vocabulary is missing (build it from the training data with completeConfig)');
    }
    if (c.output.type === 'classification' && !c.output.classes) {
      throw new ValueError('model config: output.classes is missing (collect them from the training data with completeConfig)');
    }
    if (c.output.mode === 'next' && c.rnn.bidirectional) {
      throw new ValueError('model config: next-step prediction cannot be bidirectional (the backward direction would see the future)');
    }
    // Initialization draws from `init`; dropout from a generator seeded by its first draw.
    const init = opts.seed === undefined ? defaultRng() : new Rng(opts.seed);
    super({ ...(opts.backend ? { backend: opts.backend } : {}), seed: init.nextU32() });
    this.config = c;
    const module = { backend: this.backend };
    const { input, rnn, output } = c;
    this.embedding = input.type === 'tokens'
      ? this.addModule('embedding', new Embedding({ numEmbeddings: input.vocabulary!.length, embeddingDim: input.embeddingDim, paddingIdx: 0 }, module))
      : null;
    const inputSize = input.type === 'tokens' ? input.embeddingDim : input.size;
    const common = {
      inputSize, hiddenSize: rnn.hiddenSize, numLayers: rnn.numLayers ?? 1,
      bidirectional: rnn.bidirectional ?? false, dropout: rnn.dropout ?? 0, recurrentDropout: rnn.recurrentDropout ?? 0,
    };
    this.rnn = this.addModule('rnn', rnn.cell === 'lstm' ? new LSTM({ ...common, projSize: rnn.projSize ?? 0 }, module)
      : rnn.cell === 'gru' ? new GRU(common, module)
      : new RNN({ ...common, nonlinearity: rnn.nonlinearity ?? 'tanh' }, module));
    this.pool = output.mode === 'sequence'
      ? this.addModule('pool', new Pooling(poolingOf(output), this.rnn, module))
      : null;
    const outFeatures = output.type === 'classification' ? output.classes!.length
      : output.mode === 'next' ? inputSize : output.size ?? 1;
    this.head = this.addModule('head', new Dense({ inFeatures: this.rnn.outputFeatures, outFeatures }, module));
    this.initParameters(init);
  }

  /** Numbers the head predicts per row (classes for classification). */
  get outputSize(): number {
    return this.head.outFeatures;
  }

  get classes(): string[] | undefined {
    return this.config.output.classes;
  }

  /** Numbers per step of feature input (1 for token input). */
  get inputFeatures(): number {
    return this.config.input.type === 'features' ? this.config.input.size : 1;
  }

  /**
   * Forward over arena tensors, time-major. `state` is the recurrent state to
   * start from (a previous call's final state, for truncated BPTT); zeros
   * when left out. Returns the head output — [B, K] for a many-to-one model,
   * [T, B, K] otherwise — and the final state, both this model's buffers.
   */
  forwardArena(
    input: ModelInput, opts: { state?: ModelState | undefined } = {},
  ): { output: ArenaTensor; state: ModelState } {
    let x: ArenaTensor;
    if (this.embedding) {
      if (!input.tokens) throw new ValueError('this model reads tokens; the input has none');
      x = this.embedding.forwardArena(input.tokens.data, input.tokens.shape);
    } else {
      if (!input.x) throw new ValueError('this model reads numbers per step; the input has none');
      x = input.x;
    }
    const [T, B] = x.shape as [number, number, number];
    const lengths = input.lengths;
    if (lengths.length !== B) throw new ShapeError(`lengths has ${lengths.length} entries, the batch has ${B} sequences`);
    const ran = this.rnn.forwardArena(x, {
      lengths: lengths.every((l) => l === T) ? null : lengths,
      h0: opts.state?.h,
      c0: opts.state?.c,
    });
    const features = this.pool ? this.pool.forwardArena(ran, lengths) : ran.output;
    this.last = { T, B };
    return { output: this.head.forwardArena(features), state: { h: ran.h, c: ran.c } };
  }

  /** Back-propagate dLoss/doutput (the shape forward returned) into the parameter gradients (added). */
  backwardArena(dOutput: ArenaTensor): void {
    if (!this.last) throw new ValueError('SequenceModel.backward called before forward');
    const dFeatures = this.head.backwardArena(dOutput)!;
    const grads = this.pool ? this.pool.backwardArena(dFeatures) : { dOutput: dFeatures };
    // Numbers read from the data need no gradient; an embedding's table does.
    const { dx } = this.rnn.backwardArena(grads, this.embedding !== null);
    if (this.embedding) this.embedding.backwardArena(dx!);
  }

  // ---- plain tensors, batch first, as a PyTorch model with batch_first=True ----

  /**
   * x [B, T, F] (feature input) or tokens [B, T] (token indices), with each
   * sequence's length (default: all T). Returns the head output as a fresh
   * tensor: [B, K] for a many-to-one model, [B, T, K] per step.
   */
  forward(input: { x: Tensor } | { tokens: Tensor }, opts: { lengths?: ArrayLike<number> } = {}): Tensor {
    if (!('x' in input) && !this.embedding) throw new ValueError('SequenceModel: this model reads numbers per step (x), not tokens');
    if ('x' in input && this.embedding) throw new ValueError('SequenceModel: this model reads tokens, not numbers per step (x)');
    const given = 'x' in input ? input.x : input.tokens;
    const what = 'x' in input ? 'x' : 'tokens';
    const rank = 'x' in input ? 3 : 2;
    if (given.shape.length !== rank) {
      const expected = rank === 3 ? '[batch, steps, features]' : '[batch, steps]';
      throw new ShapeError(`SequenceModel: ${what} has shape ${describeShape(given.shape)}, expected ${expected}`);
    }
    const [B, T] = given.shape as [number, number];
    const F = 'x' in input ? this.inputFeatures : 1;
    if ('x' in input && given.shape[2] !== F) throw new ShapeError(`SequenceModel: x has ${given.shape[2]} features per step, the model expects ${F}`);
    assertFinite(given.data, `SequenceModel ${what}`);
    if (!('x' in input)) {
      const bad = given.data.findIndex((v) => !Number.isInteger(v));
      if (bad >= 0) throw new ValueError(`SequenceModel: tokens[${Math.floor(bad / T)}][${bad % T}] is ${given.data[bad]}, expected a token index`);
    }
    const givenLengths = Array.from(opts.lengths ?? Array.from({ length: B }, () => T));
    if (givenLengths.length !== B || givenLengths.some((l) => !Number.isInteger(l) || l < 1 || l > T)) {
      throw new ValueError(`SequenceModel: lengths must be ${B} integers in [1, ${T}], got [${givenLengths.join(', ')}]`);
    }
    const lengths = Int32Array.from(givenLengths);
    const timeMajor = swapLeadingAxes(given.data, B, T, F);
    const model: ModelInput = 'x' in input
      ? { x: this.ws.put('x', timeMajor, [T, B, F]), tokens: null, lengths }
      : { x: null, tokens: { data: Int32Array.from(timeMajor), shape: [T, B] }, lengths };
    const { output } = this.forwardArena(model);
    const out = this.backend.arena.read(output);
    if (this.pool) return out;
    return tensor(swapLeadingAxes(out.data, T, B, this.outputSize), [B, T, this.outputSize]);
  }

  /** dLoss/doutput in the shape forward returned ([B, K] or [B, T, K]). */
  backward(dOutput: Tensor): void {
    const last = this.last;
    if (!last) throw new ValueError('SequenceModel.backward called before forward');
    const { T, B } = last;
    const K = this.outputSize;
    const shape = this.pool ? [B, K] : [B, T, K];
    if (dOutput.shape.length !== shape.length || dOutput.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`SequenceModel: output gradient has shape ${describeShape(dOutput.shape)}, expected ${describeShape(shape)}`);
    }
    const d = this.pool ? this.ws.put('dOutput', dOutput.data, [B, K]) : this.ws.put('dOutput', swapLeadingAxes(dOutput.data, B, T, K), [T, B, K]);
    this.backwardArena(d);
  }
}

/**
 * The number of parameter values a config's model has, worked out from the
 * config alone (no module is built, nothing is allocated), so a file can be
 * checked against its config before a lying config allocates gigabytes.
 */
export function parameterCountOf(config: ModelConfig): number {
  const { input, rnn, output } = config;
  const H = rnn.hiddenSize;
  const L = rnn.numLayers ?? 1;
  const D = rnn.bidirectional ? 2 : 1;
  const O = rnn.projSize || H;
  const GH = gateCount(rnn.cell) * H;
  const I = input.type === 'tokens' ? input.embeddingDim : input.size;
  const perDirection = (inSize: number): number => GH * inSize + GH * O + 2 * GH + (rnn.projSize ? O * H : 0);
  const recurrent = D * perDirection(I) + (L - 1) * D * perDirection(D * O);
  const K = output.type === 'classification' ? output.classes?.length ?? 0 : output.mode === 'next' ? I : output.size ?? 1;
  const embedding = input.type === 'tokens' ? (input.vocabulary?.length ?? 0) * input.embeddingDim : 0;
  return embedding + recurrent + K * D * O + K;
}
