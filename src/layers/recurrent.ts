// The recurrent stack shared by LSTM, GRU and RNN: layers × directions of one
// cell kind, PyTorch's options and state-dict names, dropout between layers,
// recurrent dropout (Keras's), packed-sequence lengths. Each direction of
// each layer is one backend call over all time steps (input projection as
// one multiply, then only the recurrent product per step).

import { ShapeError, ValueError, assertFinite, describeShape, positiveInt } from '../core/errors.js';
import { arenaTensor, checkShape, tensor, type ArenaTensor, type Tensor } from '../core/tensor.js';
import {
  NONE, gateCount, recurrentSavedSize, recurrentScratchSize,
  type CellKind, type RecurrentSizes, type RecurrentWeights,
} from '../kernels/backend.js';
import { Module, type ModuleOptions } from './module.js';
import { uniformInit, type ParamSpec } from './params.js';

export type { ModuleOptions };

export interface RecurrentOptions {
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  bias?: boolean;
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last, in training mode. */
  dropout?: number;
  /**
   * Variational recurrent dropout (Gal & Ghahramani; Keras's `recurrent_dropout`):
   * in training mode, each layer and direction draws one mask per sequence
   * and unit per forward, and h_{t-1} is multiplied by it where it feeds
   * W_hh·h at every step (inverted: kept units scaled by 1/(1-p)). The LSTM
   * cell state, the GRU's z ⊙ h and the emitted outputs are not masked.
   * Not a PyTorch option; 0 (the default) changes nothing.
   */
  recurrentDropout?: number;
  bidirectional?: boolean;
}

export interface ForwardOptions {
  /** True length of each sequence in the batch (packed sequences); default: all full. */
  lengths?: readonly number[];
  /** Also return what each layer and direction computed inside: its gates and states at every step (see RecurrentTrace). */
  trace?: boolean;
}

/**
 * What one layer and direction computed at every step, each [T, B, H] (h: [T, B, O]) and indexed by input
 * step, the reverse direction too: LSTM gates i, f, g, o (after their activations), cell state c and hidden
 * state h; GRU r, z, n and h; RNN h. Padded steps of shorter sequences are zeros (c holds its last value).
 */
export type RecurrentTrace = Record<'h', Tensor> & Partial<Record<'i' | 'f' | 'g' | 'o' | 'c' | 'r' | 'z' | 'n', Tensor>>;

/** What a recurrent stack returns: the last layer's output at every step and every layer's final states. */
export interface RecurrentOutput<T> {
  output: T; // [T, B, D·O] (or [B, T, D·O] when batchFirst, in the tensor face)
  h: T; // [L·D, B, O]
  c: T | undefined; // [L·D, B, H] (LSTM) or undefined
  /** With the `trace` option (tensor face): each layer and direction's gates and states. */
  trace?: RecurrentTrace[];
}

/** Options of the arena face's forward: initial states (zeros where left out) and packed lengths. */
export interface RecurrentArenaOptions {
  h0?: ArenaTensor | undefined; // [L·D, B, O]
  c0?: ArenaTensor | undefined; // [L·D, B, H] (LSTM)
  /** The true length of each sequence; null or left out when all run T steps. */
  lengths?: Int32Array | null;
  /**
   * A tape slot, for a layer run once per step of a loop (a decoder): each slot keeps its own buffers and
   * what its backward needs, so backward can run the steps in reverse. Left out: one pass at a time.
   */
  slot?: number | undefined;
}

/** What one forward keeps for its backward. */
interface Pass {
  T: number;
  B: number;
  lengths: Int32Array | null;
  inputs: number[];
  h0: number;
  c0: number;
  masks: number[];
  saved: number[];
  recurrentMasks: number[];
}

/** The workspace name of a buffer of a tape slot ('' suffix outside a loop). */
function slotted(name: string, slot: number | undefined): string {
  return slot === undefined ? name : `${name}@${slot}`;
}

export abstract class Recurrent extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly recurrentDropout: number;
  readonly bidirectional: boolean;

  protected abstract readonly cell: CellKind;
  /** Size of the state fed back and emitted (projSize for a projected LSTM). */
  protected readonly outputSize: number;
  protected readonly projSize: number;

  /** What each forward kept for its backward, by tape slot (-1: the pass outside any loop). */
  private readonly tape = new Map<number, Pass>();

  constructor(opts: RecurrentOptions & { projSize?: number }, module: ModuleOptions = {}) {
    super(module);
    const name = this.constructor.name;
    this.inputSize = positiveInt(opts.inputSize, 'inputSize', name);
    this.hiddenSize = positiveInt(opts.hiddenSize, 'hiddenSize', name);
    this.numLayers = positiveInt(opts.numLayers ?? 1, 'numLayers', name);
    this.bias = opts.bias ?? true;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = opts.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new ValueError(`${name}: dropout must be in [0, 1), got ${this.dropout}`);
    this.recurrentDropout = opts.recurrentDropout ?? 0;
    if (!(this.recurrentDropout >= 0 && this.recurrentDropout < 1)) {
      throw new ValueError(`${name}: recurrentDropout must be in [0, 1), got ${this.recurrentDropout}`);
    }
    this.bidirectional = opts.bidirectional ?? false;
    this.projSize = opts.projSize ?? 0;
    const badProjSize = !Number.isInteger(this.projSize) || this.projSize < 0
      || (this.projSize > 0 && this.projSize >= this.hiddenSize);
    if (badProjSize) {
      throw new ValueError(`${name}: projSize must be an integer in [0, hiddenSize), got ${this.projSize}`);
    }
    this.outputSize = this.projSize || this.hiddenSize;
  }

  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** Features per step of the output: numDirections × (projSize or hiddenSize). */
  get outputFeatures(): number {
    return this.numDirections * this.outputSize;
  }

  /** Features of one direction's state h: projSize or hiddenSize. */
  get stateSize(): number {
    return this.outputSize;
  }

  /** Whether the cell has a cell state c beside h (LSTM). */
  get hasCellState(): boolean {
    return this.cell === 'lstm';
  }

  /** Parameter names and shapes in PyTorch's order and with PyTorch's default init. */
  override paramSpecs(): ParamSpec[] {
    const G = gateCount(this.cell) * this.hiddenSize;
    const init = uniformInit(1 / Math.sqrt(this.hiddenSize));
    const specs: ParamSpec[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const inSize = l === 0 ? this.inputSize : this.outputFeatures;
      for (let d = 0; d < this.numDirections; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        specs.push({ name: `weight_ih${sfx}`, shape: [G, inSize], init });
        specs.push({ name: `weight_hh${sfx}`, shape: [G, this.outputSize], init });
        if (this.bias) {
          specs.push({ name: `bias_ih${sfx}`, shape: [G], init });
          specs.push({ name: `bias_hh${sfx}`, shape: [G], init });
        }
        if (this.projSize) specs.push({ name: `weight_hr${sfx}`, shape: [this.projSize, this.hiddenSize], init });
      }
    }
    return specs;
  }

  private weights(l: number, d: number, grad: boolean): RecurrentWeights {
    const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
    const at = (name: string): number => (grad ? this.grad(name + sfx) : this.param(name + sfx));
    return {
      wih: at('weight_ih'),
      whh: at('weight_hh'),
      bih: this.bias ? at('bias_ih') : NONE,
      bhh: this.bias ? at('bias_hh') : NONE,
      whr: this.projSize ? at('weight_hr') : NONE,
    };
  }

  private sizes(T: number, B: number, masked: boolean): RecurrentSizes {
    return { steps: T, batch: B, hidden: this.hiddenSize, output: this.outputSize, proj: this.projSize > 0, masked };
  }

  /**
   * Forward over arena tensors, time-major: x [T, B, I]; `lengths` the true
   * length of each sequence (packed sequences), null when all are T; initial
   * states h0 [L·D, B, O] and c0 [L·D, B, H], zeros where left out. Keeps
   * what backward needs. The outputs are this layer's buffers.
   */
  forwardArena(x: ArenaTensor, opts: RecurrentArenaOptions = {}): RecurrentOutput<ArenaTensor> {
    const name = this.constructor.name;
    const { numLayers: L, numDirections: D, hiddenSize: H, outputSize: O } = this;
    if (x.shape.length !== 3 || x.shape[2] !== this.inputSize) {
      throw new ShapeError(`${name}: input has shape ${describeShape(x.shape)}, expected [steps, batch, ${this.inputSize}]`);
    }
    const [T, B] = x.shape as [number, number, number];
    const lengths = opts.lengths ? this.checkLengths(opts.lengths, T, B) : null;
    if (opts.h0) checkArenaShape(opts.h0, [L * D, B, O], `${name} h0`);
    if (opts.c0) checkArenaShape(opts.c0, [L * D, B, H], `${name} c0`);
    const h0 = opts.h0?.offset ?? NONE;
    const c0 = opts.c0?.offset ?? NONE;
    const lstm = this.cell === 'lstm';
    const F = D * O;
    const slot = opts.slot;
    const hn = this.ws.tensor(slotted('hn', slot), [L * D, B, O]);
    const cn = lstm ? this.ws.tensor(slotted('cn', slot), [L * D, B, H]) : undefined;
    const masks: number[] = [];
    const saved: number[] = [];
    const inputs: number[] = [];
    const recurrentMasks: number[] = [];
    const masked = this.training && this.recurrentDropout > 0;
    const savedSize = recurrentSavedSize(this.cell, this.sizes(T, B, masked));
    let input = x.offset;
    let inSize = this.inputSize;
    let y = NONE;
    for (let l = 0; l < L; l++) {
      y = this.ws.get(slotted(`y${l}`, slot), T * B * F);
      inputs.push(input);
      for (let d = 0; d < D; d++) {
        const k = l * D + d;
        const s = this.ws.get(slotted(`saved${k}`, slot), savedSize);
        saved.push(s);
        const recurrentMask = masked ? this.recurrentMask(k, B, slot) : NONE;
        recurrentMasks.push(recurrentMask);
        this.backend.recurrentForward(this.cell, {
          steps: T, batch: B, input: inSize, hidden: H, output: O, reverse: d === 1, lengths,
          w: this.weights(l, d, false),
          x: input, ldx: inSize,
          h0: h0 === NONE ? NONE : h0 + k * B * O,
          c0: c0 === NONE ? NONE : c0 + k * B * H,
          y: y + d * O, ldy: F,
          hn: hn.offset + k * B * O,
          cn: cn ? cn.offset + k * B * H : NONE,
          saved: s,
          recurrentMask,
        });
      }
      input = y;
      inSize = F;
      if (l < L - 1 && this.training && this.dropout > 0) {
        // Inverted dropout: the next layer reads y ⊙ mask, mask ∈ {0, 1/(1-p)}.
        const mask = this.ws.get(slotted(`mask${l}`, slot), T * B * F);
        const dropped = this.ws.get(slotted(`dropped${l}`, slot), T * B * F);
        const heap = this.backend.arena.heap;
        const keep = 1 / (1 - this.dropout);
        const rng = this.rng; // found once: the getter walks to the tree's root
        for (let i = 0; i < T * B * F; i++) heap[mask + i] = rng.uniform() < this.dropout ? 0 : keep;
        this.backend.mul(T * B * F, y, mask, dropped);
        masks.push(mask);
        input = dropped;
      } else masks.push(NONE);
    }
    this.tape.set(slot ?? -1, { T, B, lengths, inputs, h0, c0, masks, saved, recurrentMasks });
    return { output: arenaTensor(y, [T, B, F]), h: hn, c: cn };
  }

  /**
   * Recurrent dropout: direction k's mask [B, O] for this forward, one draw
   * per sequence and unit from the tree's generator, each 0 with probability
   * p and 1/(1-p) otherwise.
   */
  private recurrentMask(k: number, B: number, slot: number | undefined): number {
    const n = B * this.outputSize;
    const mask = this.ws.get(slotted(`recurrentMask${k}`, slot), n);
    const heap = this.backend.arena.heap;
    const p = this.recurrentDropout;
    const keep = 1 / (1 - p);
    const rng = this.rng;
    for (let i = 0; i < n; i++) heap[mask + i] = rng.uniform() < p ? 0 : keep;
    return mask;
  }

  /**
   * Back-propagation through time over arena tensors: the gradients of the
   * loss w.r.t. the output [T, B, D·O] and the final states (each may be left
   * out). Adds into the parameter gradients; returns dx [T, B, I] (unless
   * `wantDx` is false: the input's gradient is one large multiply that data
   * inputs do not need), dh0 and dc0 — this layer's buffers.
   */
  backwardArena(
    grads: { dOutput?: ArenaTensor | undefined; dh?: ArenaTensor | undefined; dc?: ArenaTensor | undefined },
    wantDx = true,
    slot?: number,
  ): { dx: ArenaTensor | undefined; dh0: ArenaTensor; dc0: ArenaTensor | undefined } {
    const last = this.tape.get(slot ?? -1);
    const name = this.constructor.name;
    if (!last) throw new ValueError(`${name}.backward called before forward`);
    const { numLayers: L, numDirections: D, hiddenSize: H, outputSize: O } = this;
    const { T, B } = last;
    const lstm = this.cell === 'lstm';
    const F = D * O;
    if (grads.dOutput) checkArenaShape(grads.dOutput, [T, B, F], `${name} output gradient`);
    if (grads.dh) checkArenaShape(grads.dh, [L * D, B, O], `${name} dh`);
    if (grads.dc) checkArenaShape(grads.dc, [L * D, B, H], `${name} dc`);
    const dhn = grads.dh?.offset ?? NONE;
    const dcn = grads.dc?.offset ?? NONE;
    const masked = last.recurrentMasks.some((m) => m !== NONE);
    const scratch = this.ws.get('scratch', recurrentScratchSize(this.cell, this.sizes(T, B, masked)));
    const dh0 = this.ws.tensor(slotted('dh0', slot), [L * D, B, O]);
    const dc0 = lstm ? this.ws.tensor(slotted('dc0', slot), [L * D, B, H]) : undefined;
    let dyl = grads.dOutput?.offset ?? NONE;
    let dx = NONE;
    for (let l = L - 1; l >= 0; l--) {
      const inSize = l === 0 ? this.inputSize : F;
      const input = last.inputs[l]!;
      dx = l > 0 || wantDx ? this.ws.get(slotted(`dx${l}`, slot), T * B * inSize) : NONE;
      for (let d = 0; d < D; d++) {
        const k = l * D + d;
        this.backend.recurrentBackward(this.cell, {
          steps: T, batch: B, input: inSize, hidden: H, output: O, reverse: d === 1, lengths: last.lengths,
          w: this.weights(l, d, false),
          dw: this.weights(l, d, true),
          x: input, ldx: inSize,
          h0: last.h0 === NONE ? NONE : last.h0 + k * B * O,
          c0: last.c0 === NONE ? NONE : last.c0 + k * B * H,
          saved: last.saved[k]!,
          dy: dyl === NONE ? NONE : dyl + d * O, ldy: F,
          dhn: dhn === NONE ? NONE : dhn + k * B * O,
          dcn: dcn === NONE ? NONE : dcn + k * B * H,
          dx, ldDx: inSize, accumulateDx: d > 0,
          dh0: dh0.offset + k * B * O,
          dc0: dc0 ? dc0.offset + k * B * H : NONE,
          scratch,
          recurrentMask: last.recurrentMasks[k]!,
        });
      }
      const mask = l > 0 ? last.masks[l - 1]! : NONE;
      if (mask !== NONE && dx !== NONE) this.backend.mul(T * B * inSize, dx, mask, dx);
      dyl = dx;
    }
    return { dx: dx === NONE ? undefined : arenaTensor(dx, [T, B, this.inputSize]), dh0, dc0 };
  }

  /**
   * The last forward's trace (one pass at a time, no tape slot), one entry per layer and direction in
   * PyTorch's order (layer 0, layer 0 reverse, layer 1, …): copies of the buffers backward keeps, so they are
   * the very numbers the forward used, and an untraced forward does nothing more.
   */
  trace(): RecurrentTrace[] {
    const last = this.tape.get(-1);
    if (!last) throw new ValueError(`${this.constructor.name}.trace called before forward`);
    const { T, B } = last;
    const { numLayers: L, numDirections: D, hiddenSize: H, outputSize: O } = this;
    const F = D * O;
    const heap = this.backend.arena.heap;
    const TB = T * B;
    /** [T, B, n] columns [at, at + n) of rows `width` wide starting at `base`. */
    const columns = (base: number, width: number, at: number, n: number): Tensor => {
      const out = this.backend.arena.floats(TB * n);
      for (let r = 0; r < TB; r++) out.set(heap.subarray(base + r * width + at, base + r * width + at + n), r * n);
      return tensor(out, [T, B, n]);
    };
    const traces: RecurrentTrace[] = [];
    for (let l = 0; l < L; l++) {
      const y = this.ws.get(`y${l}`, TB * F); // this layer's output, before any dropout between layers
      for (let d = 0; d < D; d++) {
        const gates = last.saved[l * D + d]!;
        const h = columns(y, F, d * O, O);
        if (this.cell === 'lstm') {
          const cs = gates + TB * (4 * H + O + H); // after the gates, h_{t-1} and c_{t-1}: c_t
          const [i, f, g, o] = [0, 1, 2, 3].map((k) => columns(gates, 4 * H, k * H, H)) as [Tensor, Tensor, Tensor, Tensor];
          traces.push({ i, f, g, o, c: columns(cs, H, 0, H), h });
        } else if (this.cell === 'gru') {
          const [r, z, n] = [0, 1, 2].map((k) => columns(gates, 3 * H, k * H, H)) as [Tensor, Tensor, Tensor];
          traces.push({ r, z, n, h });
        } else traces.push({ h });
      }
    }
    return traces;
  }

  // ---- the torch.nn-like face: plain tensors in, fresh tensors out ----------

  /**
   * x: [B, T, I] when batchFirst, else [T, B, I]. Returns the output
   * ([B, T, D·O] or [T, B, D·O]) and the final states h [L·D, B, O] and
   * (LSTM) c [L·D, B, H], as PyTorch does.
   */
  protected forwardTensors(
    x: Tensor, h0: Tensor | undefined, c0: Tensor | undefined, opts: ForwardOptions,
  ): RecurrentOutput<Tensor> {
    const name = this.constructor.name;
    if (x.shape.length !== 3) {
      const layout = this.batchFirst ? '[batch, steps, features]' : '[steps, batch, features]';
      throw new ShapeError(`${name}: input has shape ${describeShape(x.shape)}, expected 3 dimensions ${layout}`);
    }
    const [d0, d1] = x.shape as [number, number, number];
    const T = this.batchFirst ? d1 : d0;
    const B = this.batchFirst ? d0 : d1;
    checkShape(x, this.batchFirst ? [B, T, this.inputSize] : [T, B, this.inputSize], `${name} input`);
    assertFinite(x.data, `${name} input`);
    const LD = this.numLayers * this.numDirections;
    const xs = this.ws.tensor('x', [T, B, this.inputSize]);
    this.toTimeMajor(x.data, xs.offset, T, B, this.inputSize);
    const raw = this.forwardArena(xs, {
      h0: h0 && this.stateIn(h0, 'h0', [LD, B, this.outputSize]),
      c0: c0 && this.stateIn(c0, 'c0', [LD, B, this.hiddenSize]),
      lengths: opts.lengths === undefined ? null : this.checkLengths(opts.lengths, T, B),
    });
    const arena = this.backend.arena;
    return {
      output: this.fromTimeMajor(raw.output), h: arena.read(raw.h), c: raw.c && arena.read(raw.c), ...(opts.trace ? { trace: this.trace() } : {}),
    };
  }

  protected backwardTensors(
    dOutput: Tensor | undefined, dh: Tensor | undefined, dc: Tensor | undefined,
  ): { dx: Tensor; dh0: Tensor; dc0: Tensor | undefined } {
    const last = this.tape.get(-1);
    const name = this.constructor.name;
    if (!last) throw new ValueError(`${name}.backward called before forward`);
    const { T, B } = last;
    const F = this.outputFeatures;
    const LD = this.numLayers * this.numDirections;
    let dy: ArenaTensor | undefined;
    if (dOutput) {
      checkShape(dOutput, this.batchFirst ? [B, T, F] : [T, B, F], `${name} output gradient`);
      dy = this.ws.tensor('dy', [T, B, F]);
      this.toTimeMajor(dOutput.data, dy.offset, T, B, F);
    }
    const raw = this.backwardArena({
      dOutput: dy,
      dh: dh && this.stateIn(dh, 'dh', [LD, B, this.outputSize]),
      dc: dc && this.stateIn(dc, 'dc', [LD, B, this.hiddenSize]),
    });
    const arena = this.backend.arena;
    return { dx: this.fromTimeMajor(raw.dx!), dh0: arena.read(raw.dh0), dc0: raw.dc0 && arena.read(raw.dc0) };
  }

  private checkLengths(lengths: ArrayLike<number>, T: number, B: number): Int32Array {
    const name = this.constructor.name;
    if (lengths.length !== B) throw new ShapeError(`${name}: lengths has ${lengths.length} entries, the batch has ${B} sequences`);
    for (let b = 0; b < B; b++) {
      const len = lengths[b]!;
      if (!Number.isInteger(len) || len < 1 || len > T) throw new ValueError(`${name}: lengths[${b}] is ${len}, expected an integer in [1, ${T}]`);
    }
    return lengths instanceof Int32Array ? lengths : Int32Array.from(lengths);
  }

  private stateIn(t: Tensor, what: string, shape: number[]): ArenaTensor {
    const name = this.constructor.name;
    checkShape(t, shape, `${name} ${what}`);
    assertFinite(t.data, `${name} ${what}`);
    return this.ws.put(what, t.data, shape);
  }

  /** Copy user data into the arena as [T, B, F]. */
  private toTimeMajor(src: ArrayLike<number>, dst: number, T: number, B: number, F: number): void {
    const heap = this.backend.arena.heap;
    if (!this.batchFirst) {
      heap.set(src, dst);
      return;
    }
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const from = (b * T + t) * F;
        const to = dst + (t * B + b) * F;
        for (let f = 0; f < F; f++) heap[to + f] = src[from + f]!;
      }
    }
  }

  /** Copy [T, B, F] out of the arena in the user's layout. */
  private fromTimeMajor(t: ArenaTensor): Tensor {
    const [T, B, F] = t.shape as [number, number, number];
    const heap = this.backend.arena.heap;
    if (!this.batchFirst) return tensor(heap.slice(t.offset, t.offset + T * B * F), [T, B, F]);
    const out = heap.slice(0, T * B * F);
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < T; s++) {
        const from = t.offset + (s * B + b) * F;
        out.set(heap.subarray(from, from + F), (b * T + s) * F);
      }
    }
    return tensor(out, [B, T, F]);
  }

  override dispose(): void {
    super.dispose();
    this.tape.clear();
  }
}

/** Throws a ShapeError unless an arena tensor has exactly `expected`. */
function checkArenaShape(t: ArenaTensor, expected: readonly number[], what: string): void {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(`${what} has shape ${describeShape(t.shape)}, expected ${describeShape(expected)}`);
  }
}
