// A sequence model assembled from a config: input → (embedding) →
// recurrent stack → dense head, with all parameters in one ParamStore under
// PyTorch-style names (embedding.weight, rnn.weight_ih_l0, head.weight, …).

import { Workspace } from '../core/arena.js';
import { ValueError } from '../core/errors.js';
import { defaultRng, Rng } from '../core/rng.js';
import type { Batch } from '../data/batch.js';
import { NONE, type Backend } from '../kernels/backend.js';
import { getBackend } from '../kernels/index.js';
import { Dense } from '../layers/dense.js';
import { Embedding } from '../layers/embedding.js';
import { GRU } from '../layers/gru.js';
import { LSTM } from '../layers/lstm.js';
import type { Recurrent } from '../layers/recurrent.js';
import { RNN } from '../layers/rnn.js';
import { crossEntropyRaw, mseRaw } from '../train/losses.js';
import { parseModelConfig, type ModelConfig } from './config.js';
import { ParamStore, type StateDict } from './params.js';

export interface ModelOptions {
  backend?: Backend;
  seed?: number;
}

/** Arena offsets of one forward pass. */
interface Pass {
  batch: Batch;
  out: number; // [rows, K] head output (values or logits)
  rows: number;
}

export class SequenceModel {
  readonly config: ModelConfig;
  readonly backend: Backend;
  readonly embedding: Embedding | null;
  readonly rnn: Recurrent;
  readonly head: Dense;
  private readonly store: ParamStore;
  private readonly ws: Workspace;
  private pass: Pass | undefined;
  private carry: { B: number; h: number; c: number } | undefined;

  constructor(config: unknown, opts: ModelOptions = {}) {
    const c = parseModelConfig(config);
    if (c.input.type === 'tokens' && !c.input.vocabulary) throw new ValueError('model config: input.vocabulary is missing (build it from the training data with completeConfig)');
    if (c.output.type === 'classification' && !c.output.classes) throw new ValueError('model config: output.classes is missing (collect them from the training data with completeConfig)');
    if (c.output.mode === 'next' && c.rnn.bidirectional) throw new ValueError('model config: next-step prediction cannot be bidirectional (the backward direction would see the future)');
    this.config = c;
    this.backend = opts.backend ?? getBackend();
    const rng = opts.seed === undefined ? defaultRng() : new Rng(opts.seed);
    const module = { backend: this.backend, seed: rng.nextU32() };
    const { input, rnn, output } = c;
    this.embedding = input.type === 'tokens'
      ? new Embedding({ numEmbeddings: input.vocabulary!.length, embeddingDim: input.embeddingDim, paddingIdx: 0 }, module)
      : null;
    const inputSize = input.type === 'tokens' ? input.embeddingDim : input.size;
    const common = { inputSize, hiddenSize: rnn.hiddenSize, numLayers: rnn.numLayers ?? 1, bidirectional: rnn.bidirectional ?? false, dropout: rnn.dropout ?? 0 };
    this.rnn = rnn.cell === 'lstm' ? new LSTM({ ...common, projSize: rnn.projSize ?? 0 }, module)
      : rnn.cell === 'gru' ? new GRU(common, module)
      : new RNN({ ...common, nonlinearity: rnn.nonlinearity ?? 'tanh' }, module);
    const outFeatures = output.type === 'classification' ? output.classes!.length
      : output.mode === 'next' ? inputSize : output.size ?? 1;
    this.head = new Dense({ inFeatures: this.rnn.outputFeatures, outFeatures }, module);
    const specs = [
      ...(this.embedding ? this.embedding.paramSpecs().map((s) => ({ ...s, name: `embedding.${s.name}` })) : []),
      ...this.rnn.paramSpecs().map((s) => ({ ...s, name: `rnn.${s.name}` })),
      ...this.head.paramSpecs().map((s) => ({ ...s, name: `head.${s.name}` })),
    ];
    this.store = new ParamStore(this.backend, specs, rng);
    this.embedding?.bind(this.store, 'embedding.');
    this.rnn.bind(this.store, 'rnn.');
    this.head.bind(this.store, 'head.');
    this.ws = new Workspace(this.backend.arena);
  }

  /** Numbers the head predicts per row (classes for classification). */
  get outputSize(): number {
    return this.head.outFeatures;
  }

  get classes(): string[] | undefined {
    return this.config.output.classes;
  }

  parameters(): ParamStore {
    return this.store;
  }

  stateDict(): StateDict {
    return this.store.stateDict();
  }

  gradDict(): StateDict {
    return this.store.gradDict();
  }

  loadStateDict(dict: Parameters<ParamStore['loadStateDict']>[0]): void {
    this.store.loadStateDict(dict);
  }

  get parameterCount(): number {
    return this.store.names().reduce((n, name) => n + this.store.shape(name).reduce((a, b) => a * b, 1), 0);
  }

  train(mode = true): this {
    this.rnn.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Forget the state carried between batches (truncated BPTT). */
  resetState(): void {
    this.carry = undefined;
  }

  /**
   * Forward a batch; returns the head output [rows, K] as an arena offset
   * (rows = B for sequence mode, T·B otherwise). With `carry`, the final
   * state of the previous call (same batch size) is this call's initial state.
   */
  forward(batch: Batch, opts: { carry?: boolean } = {}): { out: number; rows: number } {
    const { steps: T, size: B } = batch;
    const b = this.backend;
    let xin: number;
    if (this.embedding) xin = this.embedding.forwardRaw(batch.tokens!);
    else {
      xin = this.ws.get('x', batch.x!.length);
      b.arena.heap.set(batch.x!, xin);
    }
    const lengths = batch.lengths.every((l) => l === T) ? null : batch.lengths;
    const carried = opts.carry && this.carry?.B === B ? this.carry : undefined;
    const { y, hn, cn } = this.rnn.forwardRaw(xin, T, B, lengths, carried?.h ?? NONE, carried?.c ?? NONE);
    if (opts.carry) {
      const LD = this.rnn.numLayers * this.rnn.numDirections;
      const hSize = LD * B * (this.rnn.outputFeatures / this.rnn.numDirections);
      const cSize = cn === NONE ? 0 : LD * B * this.rnn.hiddenSize;
      const h = this.ws.get('carryH', hSize);
      const c = cn === NONE ? NONE : this.ws.get('carryC', cSize);
      b.copy(hSize, hn, h);
      if (cn !== NONE) b.copy(cSize, cn, c);
      this.carry = { B, h, c };
    }
    const F = this.rnn.outputFeatures;
    let hin: number;
    let rows: number;
    if (this.config.output.mode === 'sequence') {
      rows = B;
      hin = this.ws.get('pooled', B * F);
      const heap = b.arena.heap;
      if ((this.config.output.pooling ?? 'last') === 'last') {
        // PyTorch's h_n of the last layer: forward state at each sequence's end, backward state at t = 0.
        const D = this.rnn.numDirections;
        const O = F / D;
        const L = this.rnn.numLayers;
        for (let bb = 0; bb < B; bb++) {
          for (let d = 0; d < D; d++) {
            const src = hn + (((L - 1) * D + d) * B + bb) * O;
            heap.copyWithin(hin + bb * F + d * O, src, src + O);
          }
        }
      } else {
        heap.fill(0, hin, hin + B * F);
        for (let bb = 0; bb < B; bb++) {
          const len = batch.lengths[bb]!;
          for (let t = 0; t < len; t++) for (let j = 0; j < F; j++) heap[hin + bb * F + j]! += heap[y + (t * B + bb) * F + j]! / len;
        }
      }
    } else {
      rows = T * B;
      hin = y;
    }
    const out = this.head.forwardRaw(hin, rows);
    this.pass = { batch, out, rows };
    return { out, rows };
  }

  /** Loss of the last forward against the batch targets; writes ∂loss/∂output for backward. */
  loss(): number {
    const pass = this.pass;
    if (!pass) throw new ValueError('loss() called before forward()');
    const { batch, out, rows } = pass;
    const K = this.outputSize;
    const dout = this.ws.get('dout', rows * K);
    if (this.config.output.type === 'classification') {
      if (!batch.yCls) throw new ValueError('the batch has no class targets');
      const probs = this.ws.get('probs', rows * K);
      return crossEntropyRaw(this.backend, rows, K, out, batch.yCls, probs, dout);
    }
    if (!batch.yReg) throw new ValueError('the batch has no regression targets');
    const target = this.ws.get('target', rows * K);
    this.backend.arena.heap.set(batch.yReg, target);
    const mask = this.rowMask(batch, rows);
    return mseRaw(this.backend, rows, K, out, target, mask, dout);
  }

  /** Per head row, 1 if it is a real step (not padding); null when all are. */
  private rowMask(batch: Batch, rows: number): Uint8Array | null {
    if (this.config.output.mode === 'sequence' || batch.lengths.every((l) => l === batch.steps)) return null;
    const mask = new Uint8Array(rows);
    const B = batch.size;
    for (let t = 0; t < batch.steps; t++) for (let b = 0; b < B; b++) mask[t * B + b] = t < batch.lengths[b]! ? 1 : 0;
    return mask;
  }

  /** Back-propagate the last loss into the parameter gradients (added). */
  backward(): void {
    const pass = this.pass;
    if (!pass) throw new ValueError('backward() called before forward()');
    const { batch } = pass;
    const { steps: T, size: B } = batch;
    const dout = this.ws.get('dout', pass.rows * this.outputSize);
    const dh = this.head.backwardRaw(dout);
    const F = this.rnn.outputFeatures;
    const wantDx = this.embedding !== null; // features need no gradient
    let dx: number;
    if (this.config.output.mode === 'sequence') {
      // Offsets first, then the heap view: an allocation may grow (replace) the heap.
      if ((this.config.output.pooling ?? 'last') === 'last') {
        const D = this.rnn.numDirections;
        const O = F / D;
        const L = this.rnn.numLayers;
        const dhn = this.ws.get('dhn', L * D * B * O);
        const heap = this.backend.arena.heap;
        heap.fill(0, dhn, dhn + L * D * B * O);
        for (let bb = 0; bb < B; bb++) {
          for (let d = 0; d < D; d++) heap.copyWithin(dhn + (((L - 1) * D + d) * B + bb) * O, dh + bb * F + d * O, dh + bb * F + (d + 1) * O);
        }
        dx = this.rnn.backwardRaw(NONE, dhn, NONE, wantDx).dx;
      } else {
        const dy = this.ws.get('dy', T * B * F);
        const heap = this.backend.arena.heap;
        for (let t = 0; t < T; t++) {
          for (let bb = 0; bb < B; bb++) {
            const len = batch.lengths[bb]!;
            for (let j = 0; j < F; j++) heap[dy + (t * B + bb) * F + j] = t < len ? heap[dh + bb * F + j]! / len : 0;
          }
        }
        dx = this.rnn.backwardRaw(dy, NONE, NONE, wantDx).dx;
      }
    } else dx = this.rnn.backwardRaw(dh, NONE, NONE, wantDx).dx;
    this.embedding?.backwardRaw(dx);
  }

  /** The head output of the last forward as plain arrays: values, or class probabilities. */
  outputs(): Float32Array {
    const pass = this.pass;
    if (!pass) throw new ValueError('outputs() called before forward()');
    const K = this.outputSize;
    if (this.config.output.type === 'regression') return Float32Array.from(this.backend.arena.heap.subarray(pass.out, pass.out + pass.rows * K));
    const probs = this.ws.get('probs', pass.rows * K);
    this.backend.softmaxCrossEntropy(pass.rows, K, pass.out, new Int32Array(pass.rows).fill(-1), probs, NONE, 0);
    // Read the heap after the allocation above: growing the arena replaces it.
    return Float32Array.from(this.backend.arena.heap.subarray(probs, probs + pass.rows * K));
  }
}
