// Attention (Luong et al. 2015; Bahdanau et al. 2015): a query — a decoder's
// hidden state h [B, Hq] — reads a memory — an encoder's outputs M [S, B, Dm],
// time-major — as a softmax over its valid steps:
//
//   'dot'       score_s = h · M_s                               (needs Hq == Dm)
//   'general'   score_s = h · (W M_s),  weight [Hq, Dm]
//   'additive'  score_s = v · tanh(query(h) + key(M_s)),  query [Hq, Hq], key [Hq, Dm], v [1, Hq]
//
//   a = softmax(score) with padded memory steps (s ≥ length) at exactly 0,
//   context = Σ_s a_s · M_s                                     [B, Dm]
//
// A decoder calls it once per step: prepare(memory, lengths) once per batch
// (the keys W·M or key(M) are one multiply over all steps), then forwardStep
// per step, backwardStep per step in reverse, and finishBackward for the
// memory's gradient. Each step is a tape slot, kept apart for backward.

import { ShapeError, ValueError, describeShape } from '../core/errors.js';
import { swapLeadingAxes, tensor, type ArenaTensor, type Tensor } from '../core/tensor.js';
import { Dense } from './dense.js';
import { Module, type ModuleOptions } from './module.js';
import { uniformInit, type ParamSpec } from './params.js';

export type AttentionKind = 'dot' | 'general' | 'additive';

export interface AttentionOptions {
  kind: AttentionKind;
  /** Features of the query (the decoder's hidden size). */
  querySize: number;
  /** Features of a memory step (the encoder's output features). */
  memorySize: number;
}

/** What one step kept for its backward. */
interface Step {
  query: ArenaTensor; // [B, Hq]
  weights: ArenaTensor; // [B, S]
  hidden: ArenaTensor | undefined; // 'additive': tanh(query(h) + key(M)) [S, B, Hq]
}

export class Attention extends Module {
  readonly kind: AttentionKind;
  readonly querySize: number;
  readonly memorySize: number;
  private readonly query: Dense | undefined;
  private readonly key: Dense | undefined;
  private readonly v: Dense | undefined;
  private memory: { values: ArenaTensor; keys: ArenaTensor; lengths: Int32Array } | undefined;
  private readonly tape = new Map<number, Step>();
  /** Query steps of the last plain-tensor forward. */
  private steps = 0;
  private dKeys: ArenaTensor | undefined;
  private dMemory: ArenaTensor | undefined;

  constructor(opts: AttentionOptions, module: ModuleOptions = {}) {
    super(module);
    const { kind, querySize, memorySize } = opts;
    if (kind !== 'dot' && kind !== 'general' && kind !== 'additive') {
      throw new ValueError(`Attention: kind must be 'dot', 'general' or 'additive', got ${JSON.stringify(kind)}`);
    }
    if (kind === 'dot' && querySize !== memorySize) {
      throw new ValueError(`Attention: 'dot' scores need the query (${querySize}) and the memory (${memorySize}) to have one size; use 'general'`);
    }
    this.kind = kind;
    this.querySize = querySize;
    this.memorySize = memorySize;
    if (kind === 'additive') {
      const dense = (inFeatures: number, outFeatures: number) => new Dense({ inFeatures, outFeatures, bias: false }, { backend: this.backend });
      this.query = this.addModule('query', dense(querySize, querySize));
      this.key = this.addModule('key', dense(memorySize, querySize));
      this.v = this.addModule('v', dense(querySize, 1));
    }
  }

  override paramSpecs(): ParamSpec[] {
    if (this.kind !== 'general') return [];
    return [{ name: 'weight', shape: [this.querySize, this.memorySize], init: uniformInit(1 / Math.sqrt(this.memorySize)) }];
  }

  /** The memory for a batch: M [S, B, Dm] (an encoder's buffer, read until finishBackward) and each sequence's length. */
  prepare(memory: ArenaTensor, lengths: Int32Array): void {
    if (memory.shape.length !== 3 || memory.shape[2] !== this.memorySize) {
      throw new ShapeError(`Attention: memory has shape ${describeShape(memory.shape)}, expected [steps, batch, ${this.memorySize}]`);
    }
    const [S, B] = memory.shape as [number, number, number];
    if (lengths.length !== B || lengths.some((l) => l < 1 || l > S)) throw new ValueError(`Attention: lengths must be ${B} integers in [1, ${S}]`);
    let keys = memory;
    if (this.kind === 'general') {
      keys = this.ws.tensor('keys', [S, B, this.querySize]);
      this.backend.gemm(false, true, S * B, this.querySize, this.memorySize, memory.offset, this.memorySize,
        this.param('weight'), this.memorySize, keys.offset, this.querySize, false);
    } else if (this.key) keys = this.key.forwardArena(memory);
    this.memory = { values: memory, keys, lengths };
    this.tape.clear();
    this.dKeys = undefined;
    this.dMemory = undefined;
  }

  /**
   * For decoding only: the prepared memory with each source repeated K times
   * in a row (row b·K + k reads source b), so beam search encodes each source
   * once and its K hypotheses attend to copies. Clears what backward needs.
   */
  repeatRows(K: number): void {
    const mem = this.memory;
    if (!mem) throw new ValueError('Attention: prepare(memory, lengths) comes before repeatRows');
    const values = this.ws.repeatRows('repeatedValues', mem.values, K);
    const keys = mem.keys === mem.values ? values : this.ws.repeatRows('repeatedKeys', mem.keys, K);
    const lengths = Int32Array.from({ length: mem.lengths.length * K }, (_, r) => mem.lengths[Math.floor(r / K)]!);
    this.memory = { values, keys, lengths };
    this.tape.clear();
    this.dKeys = undefined;
    this.dMemory = undefined;
  }

  /** One step: query [B, Hq] (kept until backward) → context [B, Dm] and weights [B, S], this slot's buffers. */
  forwardStep(query: ArenaTensor, slot: number): { context: ArenaTensor; weights: ArenaTensor } {
    const mem = this.memory;
    if (!mem) throw new ValueError('Attention: prepare(memory, lengths) comes before the steps');
    const [S, B] = mem.values.shape as [number, number, number];
    const Hq = this.querySize;
    const Dm = this.memorySize;
    if (query.shape.length !== 2 || query.shape[0] !== B || query.shape[1] !== Hq) {
      throw new ShapeError(`Attention: query has shape ${describeShape(query.shape)}, expected [${B}, ${Hq}]`);
    }
    const weights = this.ws.tensor(`weights@${slot}`, [B, S]);
    const context = this.ws.tensor(`context@${slot}`, [B, Dm]);
    if (this.kind !== 'additive') {
      this.backend.attendForward(B, S, Hq, Dm, query.offset, mem.keys.offset, mem.values.offset, mem.lengths, weights.offset, context.offset);
      this.tape.set(slot, { query, weights, hidden: undefined });
      return { context, weights };
    }
    // 'additive': scores from v · tanh(q + k), then the same masked softmax and context, in JavaScript.
    const q = this.query!.forwardArena(query, slot); // [B, Hq]
    const hidden = this.ws.tensor(`hidden@${slot}`, [S, B, Hq]);
    let heap = this.backend.arena.heap;
    for (let s = 0; s < S; s++) {
      for (let b = 0; b < B; b++) {
        const at = (s * B + b) * Hq;
        for (let j = 0; j < Hq; j++) heap[hidden.offset + at + j] = Math.tanh(heap[q.offset + b * Hq + j]! + heap[mem.keys.offset + at + j]!);
      }
    }
    const scores = this.v!.forwardArena(hidden, slot); // [S, B, 1]
    heap = this.backend.arena.heap; // the product may have grown the arena
    const w = weights.offset;
    for (let b = 0; b < B; b++) {
      const len = mem.lengths[b]!;
      let max = -Infinity;
      for (let s = 0; s < len; s++) {
        const score = heap[scores.offset + s * B + b]!;
        heap[w + b * S + s] = score;
        if (score > max) max = score;
      }
      let sum = 0;
      for (let s = 0; s < len; s++) {
        const e = Math.exp(heap[w + b * S + s]! - max);
        heap[w + b * S + s] = e;
        sum += e;
      }
      for (let s = 0; s < S; s++) heap[w + b * S + s] = s < len ? heap[w + b * S + s]! / sum : 0;
      const c = context.offset + b * Dm;
      heap.fill(0, c, c + Dm);
      for (let s = 0; s < len; s++) {
        const a = heap[w + b * S + s]!;
        const m = mem.values.offset + (s * B + b) * Dm;
        for (let j = 0; j < Dm; j++) heap[c + j]! += a * heap[m + j]!;
      }
    }
    this.tape.set(slot, { query, weights, hidden });
    return { context, weights };
  }

  /** dLoss/dcontext [B, Dm] of a step → dLoss/dquery [B, Hq] (this slot's buffer); the memory's share is kept for finishBackward. */
  backwardStep(dContext: ArenaTensor, slot: number): ArenaTensor {
    const mem = this.memory;
    const step = this.tape.get(slot);
    if (!mem || !step) throw new ValueError('Attention.backwardStep called before that step ran forward');
    const [S, B] = mem.values.shape as [number, number, number];
    const Hq = this.querySize;
    const Dm = this.memorySize;
    this.dMemory ??= this.zeros('dMemory', [S, B, Dm]);
    if (this.kind !== 'dot') this.dKeys ??= this.zeros('dKeys', [S, B, Hq]);
    const dScores = this.ws.tensor(`dScores@${slot}`, [S, B, 1]);
    const dQuery = this.zeros(`dQuery@${slot}`, [B, Hq]);
    const dKeys = this.kind === 'dot' ? this.dMemory : this.dKeys!;
    const heap = this.backend.arena.heap;
    const w = step.weights.offset;
    for (let b = 0; b < B; b++) {
      const len = mem.lengths[b]!;
      const dc = dContext.offset + b * Dm;
      // d weight_s = dcontext · M_s; the memory gets weight_s · dcontext.
      let dot = 0;
      for (let s = 0; s < len; s++) {
        const m = mem.values.offset + (s * B + b) * Dm;
        const dm = this.dMemory.offset + (s * B + b) * Dm;
        const a = heap[w + b * S + s]!;
        let da = 0;
        for (let j = 0; j < Dm; j++) {
          da += heap[dc + j]! * heap[m + j]!;
          heap[dm + j]! += a * heap[dc + j]!;
        }
        heap[dScores.offset + s * B + b] = da;
        dot += a * da;
      }
      // Through the softmax: dscore_s = a_s (da_s − Σ a da).
      for (let s = 0; s < S; s++) {
        const at = dScores.offset + s * B + b;
        heap[at] = s < len ? heap[w + b * S + s]! * (heap[at]! - dot) : 0;
      }
      if (this.kind === 'additive') continue;
      for (let s = 0; s < len; s++) {
        const g = heap[dScores.offset + s * B + b]!;
        const k = mem.keys.offset + (s * B + b) * Hq;
        const dk = dKeys.offset + (s * B + b) * Hq;
        for (let j = 0; j < Hq; j++) {
          heap[dQuery.offset + b * Hq + j]! += g * heap[k + j]!;
          heap[dk + j]! += g * heap[step.query.offset + b * Hq + j]!;
        }
      }
    }
    if (this.kind !== 'additive') return dQuery;
    // score = v · tanh(q + k): back through v, then tanh; q gets the sum over steps, each key its own.
    const dHidden = this.v!.backwardArena(dScores, true, slot)!; // [S, B, Hq]
    const dq = this.zeros(`dq@${slot}`, [B, Hq]);
    const h = step.hidden!.offset;
    const grown = this.backend.arena.heap; // the allocations above may have grown the arena
    for (let s = 0; s < S; s++) {
      for (let b = 0; b < B; b++) {
        const at = (s * B + b) * Hq;
        if (s >= mem.lengths[b]!) continue;
        for (let j = 0; j < Hq; j++) {
          const t = grown[h + at + j]!;
          const g = grown[dHidden.offset + at + j]! * (1 - t * t);
          grown[dq.offset + b * Hq + j]! += g;
          grown[dKeys.offset + at + j]! += g;
        }
      }
    }
    return this.query!.backwardArena(dq, true, slot)!;
  }

  /** After every step's backward: the memory's gradient [S, B, Dm] (and the key weights' gradients, added). */
  finishBackward(): ArenaTensor {
    const mem = this.memory;
    if (!mem) throw new ValueError('Attention.finishBackward called before prepare');
    const [S, B] = mem.values.shape as [number, number, number];
    const dMemory = this.dMemory ?? this.zeros('dMemory', [S, B, this.memorySize]);
    if (this.kind === 'general' && this.dKeys) {
      // keys = M · Wᵀ: dW += dKeysᵀ · M, dM += dKeys · W.
      const rows = S * B;
      this.backend.gemm(true, false, this.querySize, this.memorySize, rows, this.dKeys.offset, this.querySize,
        mem.values.offset, this.memorySize, this.grad('weight'), this.memorySize, true);
      this.backend.gemm(false, false, rows, this.memorySize, this.querySize, this.dKeys.offset, this.querySize,
        this.param('weight'), this.memorySize, dMemory.offset, this.memorySize, true);
    } else if (this.kind === 'additive' && this.dKeys) {
      const dm = this.key!.backwardArena(this.dKeys)!;
      this.backend.axpy(S * B * this.memorySize, 1, dm.offset, dMemory.offset);
    }
    return dMemory;
  }

  private zeros(name: string, shape: number[]): ArenaTensor {
    const t = this.ws.tensor(name, shape);
    const n = shape.reduce((a, b) => a * b, 1);
    this.backend.fill(n, t.offset, 0);
    return t;
  }

  // ---- plain tensors: all query steps at once, batch first ----------------

  /**
   * query [B, T, Hq] and memory [B, S, Dm] (with each sequence's memory length) →
   * context [B, T, Dm] and weights [B, T, S], as fresh tensors.
   */
  forward(query: Tensor, memory: Tensor, opts: { lengths?: ArrayLike<number> } = {}): { context: Tensor; weights: Tensor } {
    const [B, T, Hq] = query.shape as [number, number, number];
    const [B2, S, Dm] = memory.shape as [number, number, number];
    if (query.shape.length !== 3 || Hq !== this.querySize) {
      throw new ShapeError(`Attention: query has shape ${describeShape(query.shape)}, expected [batch, steps, ${this.querySize}]`);
    }
    if (memory.shape.length !== 3 || B2 !== B || Dm !== this.memorySize) {
      throw new ShapeError(`Attention: memory has shape ${describeShape(memory.shape)}, expected [${B}, steps, ${this.memorySize}]`);
    }
    const lengths = Int32Array.from(opts.lengths ?? Array.from({ length: B }, () => S));
    const mem = this.ws.put('memory', swapLeadingAxes(memory.data, B, S, Dm), [S, B, Dm]);
    this.prepare(mem, lengths);
    const context = this.backend.arena.floats(B * T * Dm);
    const weights = this.backend.arena.floats(B * T * S);
    for (let t = 0; t < T; t++) {
      const step = this.backend.arena.floats(B * Hq);
      for (let b = 0; b < B; b++) step.set(query.data.subarray((b * T + t) * Hq, (b * T + t + 1) * Hq), b * Hq);
      const out = this.forwardStep(this.ws.put(`query@${t}`, step, [B, Hq]), t);
      const heap = this.backend.arena.heap;
      for (let b = 0; b < B; b++) {
        context.set(heap.subarray(out.context.offset + b * Dm, out.context.offset + (b + 1) * Dm), (b * T + t) * Dm);
        weights.set(heap.subarray(out.weights.offset + b * S, out.weights.offset + (b + 1) * S), (b * T + t) * S);
      }
    }
    this.steps = T;
    return { context: tensor(context, [B, T, Dm]), weights: tensor(weights, [B, T, S]) };
  }

  /** dLoss/dcontext [B, T, Dm] → dLoss/dquery [B, T, Hq] and dLoss/dmemory [B, S, Dm]; parameter gradients added. */
  backward(dContext: Tensor): { dQuery: Tensor; dMemory: Tensor } {
    const mem = this.memory;
    if (!mem) throw new ValueError('Attention.backward called before forward');
    const [S, B] = mem.values.shape as [number, number, number];
    const T = this.steps;
    const Hq = this.querySize;
    const Dm = this.memorySize;
    const dQuery = this.backend.arena.floats(B * T * Hq);
    for (let t = T - 1; t >= 0; t--) {
      const slice = this.backend.arena.floats(B * Dm);
      for (let b = 0; b < B; b++) slice.set(dContext.data.subarray((b * T + t) * Dm, (b * T + t + 1) * Dm), b * Dm);
      const dq = this.backwardStep(this.ws.put(`dContext@${t}`, slice, [B, Dm]), t);
      const heap = this.backend.arena.heap;
      for (let b = 0; b < B; b++) dQuery.set(heap.subarray(dq.offset + b * Hq, dq.offset + (b + 1) * Hq), (b * T + t) * Hq);
    }
    const dm = this.backend.arena.read(this.finishBackward());
    return { dQuery: tensor(dQuery, [B, T, Hq]), dMemory: tensor(swapLeadingAxes(dm.data, S, B, Dm), [B, S, Dm]) };
  }
}
