// Embedding (torch.nn.Embedding): rows of a table [num, dim] looked up by index.

import { positiveInt, ValueError } from '../core/errors.js';
import type { ArenaTensor, Tensor } from '../core/tensor.js';
import { Module, type ModuleOptions } from './module.js';
import { normalInit, type ParamSpec } from './params.js';

export interface EmbeddingOptions {
  numEmbeddings: number;
  embeddingDim: number;
  /** This index maps to a zero row that gets no gradient (padding). */
  paddingIdx?: number;
}

export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | undefined;
  private last: { indices: Int32Array } | undefined;

  constructor(opts: EmbeddingOptions, module: ModuleOptions = {}) {
    super(module);
    this.numEmbeddings = positiveInt(opts.numEmbeddings, 'numEmbeddings', 'Embedding');
    this.embeddingDim = positiveInt(opts.embeddingDim, 'embeddingDim', 'Embedding');
    const pad = opts.paddingIdx;
    if (pad !== undefined && (!Number.isInteger(pad) || pad < 0 || pad >= this.numEmbeddings)) {
      throw new ValueError(`Embedding: paddingIdx must be an index in [0, ${this.numEmbeddings}), got ${pad}`);
    }
    this.paddingIdx = pad;
  }

  override paramSpecs(): ParamSpec[] {
    const normal = normalInit(1);
    const pad = this.paddingIdx;
    const dim = this.embeddingDim;
    return [{
      name: 'weight',
      shape: [this.numEmbeddings, dim],
      init: (rng, out) => {
        normal(rng, out);
        if (pad !== undefined) out.fill(0, pad * dim, (pad + 1) * dim);
      },
    }];
  }

  /** Throws a ValueError naming the first index that is not a row of the table. */
  private check(indices: ArrayLike<number>): void {
    for (let i = 0; i < indices.length; i++) {
      const v = indices[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= this.numEmbeddings) {
        throw new ValueError(`Embedding: index [${i}] is ${v}, expected an integer in [0, ${this.numEmbeddings})`);
      }
    }
  }

  /** y [...shape, dim] = table[indices]. */
  forwardArena(indices: Int32Array, shape: readonly number[] = [indices.length]): ArenaTensor {
    this.check(indices);
    if (shape.reduce((a, b) => a * b, 1) !== indices.length) {
      throw new ValueError(`Embedding: ${indices.length} indices do not fill shape [${shape.join(', ')}]`);
    }
    const dim = this.embeddingDim;
    const y = this.ws.tensor('y', [...shape, dim]);
    const table = this.param('weight');
    const heap = this.backend.arena.heap;
    for (let n = 0; n < indices.length; n++) {
      const row = table + indices[n]! * dim;
      heap.copyWithin(y.offset + n * dim, row, row + dim);
    }
    this.last = { indices };
    return y;
  }

  /** dTable[indices[n]] += dy[n] (never the padding row). */
  backwardArena(dy: ArenaTensor): void {
    const last = this.last;
    if (!last) throw new ValueError('Embedding.backward called before forward');
    const dim = this.embeddingDim;
    if (dy.shape[dy.shape.length - 1] !== dim || dy.shape.reduce((a, b) => a * b, 1) !== last.indices.length * dim) {
      throw new ValueError(`Embedding: output gradient has ${dy.shape.reduce((a, b) => a * b, 1)} values, expected ${last.indices.length * dim}`);
    }
    const dTable = this.grad('weight');
    const heap = this.backend.arena.heap;
    last.indices.forEach((index, n) => {
      if (index === this.paddingIdx) return;
      for (let j = 0; j < dim; j++) heap[dTable + index * dim + j]! += heap[dy.offset + n * dim + j]!;
    });
  }

  /** indices of any shape → [...shape, dim] (a fresh tensor). */
  forward(indices: ArrayLike<number>, shape: readonly number[] = [indices.length]): Tensor {
    this.check(indices);
    return this.backend.arena.read(this.forwardArena(Int32Array.from(indices), shape));
  }

  backward(dy: Tensor): void {
    const n = this.last?.indices.length ?? 0;
    if (dy.data.length !== n * this.embeddingDim) {
      throw new ValueError(`Embedding: output gradient has ${dy.data.length} values, expected ${n * this.embeddingDim}`);
    }
    this.backwardArena(this.ws.put('dOutput', dy.data, [n, this.embeddingDim]));
  }
}
