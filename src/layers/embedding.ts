// Embedding (torch.nn.Embedding): rows of a table [num, dim] looked up by index.

import { ValueError } from '../core/errors.js';
import { tensor, type Tensor } from '../core/tensor.js';
import { normalInit, type ParamSpec } from '../model/params.js';
import { Module, type ModuleOptions } from './module.js';

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
    for (const field of ['numEmbeddings', 'embeddingDim'] as const) {
      const v = opts[field];
      if (!Number.isInteger(v) || v < 1) throw new ValueError(`Embedding: ${field} must be a positive integer, got ${String(v)}`);
    }
    this.numEmbeddings = opts.numEmbeddings;
    this.embeddingDim = opts.embeddingDim;
    const pad = opts.paddingIdx;
    if (pad !== undefined && (!Number.isInteger(pad) || pad < 0 || pad >= this.numEmbeddings)) {
      throw new ValueError(`Embedding: paddingIdx must be an index in [0, ${this.numEmbeddings}), got ${pad}`);
    }
    this.paddingIdx = pad;
  }

  paramSpecs(): ParamSpec[] {
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

  private check(indices: ArrayLike<number>): Int32Array {
    const out = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const v = indices[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= this.numEmbeddings) {
        throw new ValueError(`Embedding: index [${i}] is ${v}, expected an integer in [0, ${this.numEmbeddings})`);
      }
      out[i] = v;
    }
    return out;
  }

  /** y [n, dim] = table[indices]. The returned offset is owned by the layer. */
  forwardRaw(indices: Int32Array): number {
    const dim = this.embeddingDim;
    const y = this.ws.get('y', indices.length * dim);
    const table = this.param('weight');
    const heap = this.backend.arena.heap;
    for (let n = 0; n < indices.length; n++) heap.copyWithin(y + n * dim, table + indices[n]! * dim, table + (indices[n]! + 1) * dim);
    this.last = { indices };
    return y;
  }

  /** dTable[indices[n]] += dy[n] (never the padding row). */
  backwardRaw(dy: number): void {
    const last = this.last;
    if (!last) throw new ValueError('Embedding.backward called before forward');
    const dim = this.embeddingDim;
    const dTable = this.grad('weight');
    const heap = this.backend.arena.heap;
    last.indices.forEach((index, n) => {
      if (index === this.paddingIdx) return;
      for (let j = 0; j < dim; j++) heap[dTable + index * dim + j]! += heap[dy + n * dim + j]!;
    });
  }

  /** indices of any shape → [...shape, dim]. */
  forward(indices: ArrayLike<number>, shape: readonly number[] = [indices.length]): Tensor {
    const idx = this.check(indices);
    const y = this.forwardRaw(idx);
    return tensor(this.backend.arena.heap.slice(y, y + idx.length * this.embeddingDim), [...shape, this.embeddingDim]);
  }

  backward(dy: Tensor): void {
    const n = this.last?.indices.length ?? 0;
    if (dy.data.length !== n * this.embeddingDim) throw new ValueError(`Embedding: output gradient has ${dy.data.length} values, expected ${n * this.embeddingDim}`);
    const off = this.ws.get('dOutput', dy.data.length);
    this.backend.arena.heap.set(dy.data, off);
    this.backwardRaw(off);
  }
}
