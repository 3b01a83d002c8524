// The recurrent stack shared by LSTM, GRU and RNN: layers × directions of one
// cell kind, PyTorch's options and state-dict names, dropout between layers,
// packed-sequence lengths. Each direction of each layer is one backend call
// over all time steps (input projection as one multiply, then only the
// recurrent product per step).

import { ShapeError, ValueError, assertFinite, describeShape } from '../core/errors.js';
import { checkShape, tensor, type Tensor } from '../core/tensor.js';
import {
  NONE, gateCount, recurrentSavedSize, recurrentScratchSize,
  type CellKind, type RecurrentWeights,
} from '../kernels/backend.js';
import { uniformInit, type ParamSpec } from '../model/params.js';
import { Module, type ModuleOptions } from './module.js';

export type { ModuleOptions };

export interface RecurrentOptions {
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  bias?: boolean;
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last, in training mode. */
  dropout?: number;
  bidirectional?: boolean;
}

export interface ForwardOptions {
  /** True length of each sequence in the batch (packed sequences); default: all full. */
  lengths?: readonly number[];
}

/** Arena offsets of one forward pass, for models that chain layers inside the arena. */
export interface RawOutput {
  y: number; // [T, B, D·O]
  hn: number; // [L·D, B, O]
  cn: number; // [L·D, B, H] (LSTM) or NONE
}

export abstract class Recurrent extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;

  protected abstract readonly cell: CellKind;
  /** Size of the state fed back and emitted (projSize for a projected LSTM). */
  protected readonly outputSize: number;
  protected readonly projSize: number;

  private last: {
    T: number; B: number; lengths: Int32Array | null;
    inputs: number[]; h0: number; c0: number; ys: number[]; masks: number[]; saved: number[];
  } | undefined;

  constructor(opts: RecurrentOptions & { projSize?: number }, module: ModuleOptions = {}) {
    super(module);
    const name = this.constructor.name;
    const positiveInt = (v: unknown, field: string): number => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ValueError(`${name}: ${field} must be a positive integer, got ${String(v)}`);
      return v;
    };
    this.inputSize = positiveInt(opts.inputSize, 'inputSize');
    this.hiddenSize = positiveInt(opts.hiddenSize, 'hiddenSize');
    this.numLayers = positiveInt(opts.numLayers ?? 1, 'numLayers');
    this.bias = opts.bias ?? true;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = opts.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new ValueError(`${name}: dropout must be in [0, 1), got ${this.dropout}`);
    this.bidirectional = opts.bidirectional ?? false;
    this.projSize = opts.projSize ?? 0;
    if (!Number.isInteger(this.projSize) || this.projSize < 0 || (this.projSize > 0 && this.projSize >= this.hiddenSize)) {
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

  /** Parameter names and shapes in PyTorch's order and with PyTorch's default init. */
  paramSpecs(): ParamSpec[] {
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

  private sizes(T: number, B: number): { steps: number; batch: number; hidden: number; output: number; proj: boolean } {
    return { steps: T, batch: B, hidden: this.hiddenSize, output: this.outputSize, proj: this.projSize > 0 };
  }

  /**
   * Forward over arena buffers: x [T, B, I] at `x`; h0 [L·D, B, O] and c0
   * [L·D, B, H] or NONE. Keeps what backward needs. Offsets returned are owned
   * by this layer and valid until its next forward.
   */
  forwardRaw(x: number, T: number, B: number, lengths: Int32Array | null, h0 = NONE, c0 = NONE): RawOutput {
    const { numLayers: L, numDirections: D, hiddenSize: H, outputSize: O } = this;
    const lstm = this.cell === 'lstm';
    const F = D * O;
    const hn = this.ws.get('hn', L * D * B * O);
    const cn = lstm ? this.ws.get('cn', L * D * B * H) : NONE;
    const ys: number[] = [];
    const masks: number[] = [];
    const saved: number[] = [];
    const inputs: number[] = [];
    const savedSize = recurrentSavedSize(this.cell, this.sizes(T, B));
    let input = x;
    let inSize = this.inputSize;
    for (let l = 0; l < L; l++) {
      const y = this.ws.get(`y${l}`, T * B * F);
      ys.push(y);
      inputs.push(input);
      for (let d = 0; d < D; d++) {
        const k = l * D + d;
        const s = this.ws.get(`saved${k}`, savedSize);
        saved.push(s);
        this.backend.recurrentForward(this.cell, {
          steps: T, batch: B, input: inSize, hidden: H, output: O, reverse: d === 1, lengths,
          w: this.weights(l, d, false),
          x: input, ldx: inSize,
          h0: h0 === NONE ? NONE : h0 + k * B * O,
          c0: c0 === NONE ? NONE : c0 + k * B * H,
          y: y + d * O, ldy: F,
          hn: hn + k * B * O,
          cn: lstm ? cn + k * B * H : NONE,
          saved: s,
        });
      }
      input = y;
      inSize = F;
      if (l < L - 1 && this.training && this.dropout > 0) {
        // Inverted dropout: the next layer reads y ⊙ mask, mask ∈ {0, 1/(1-p)}.
        const mask = this.ws.get(`mask${l}`, T * B * F);
        const dropped = this.ws.get(`dropped${l}`, T * B * F);
        const heap = this.backend.arena.heap;
        const keep = 1 / (1 - this.dropout);
        for (let i = 0; i < T * B * F; i++) heap[mask + i] = this.rng.uniform() < this.dropout ? 0 : keep;
        this.backend.mul(T * B * F, y, mask, dropped);
        masks.push(mask);
        input = dropped;
      } else masks.push(NONE);
    }
    this.last = { T, B, lengths, inputs, h0, c0, ys, masks, saved };
    return { y: ys[L - 1]!, hn, cn };
  }

  /**
   * Back-propagation through time over arena buffers. dy [T, B, D·O], dhn
   * [L·D, B, O], dcn [L·D, B, H] may each be NONE. Adds into the parameter
   * gradients; returns offsets of dx [T, B, I] (NONE unless wantDx: the
   * input's gradient is one large multiply that data inputs do not need),
   * dh0 and dc0 (owned by this layer).
   */
  backwardRaw(dy: number, dhn = NONE, dcn = NONE, wantDx = true): { dx: number; dh0: number; dc0: number } {
    const last = this.last;
    if (!last) throw new ValueError(`${this.constructor.name}.backward called before forward`);
    const { numLayers: L, numDirections: D, hiddenSize: H, outputSize: O } = this;
    const { T, B } = last;
    const lstm = this.cell === 'lstm';
    const F = D * O;
    const scratch = this.ws.get('scratch', recurrentScratchSize(this.cell, this.sizes(T, B)));
    const dh0 = this.ws.get('dh0', L * D * B * O);
    const dc0 = lstm ? this.ws.get('dc0', L * D * B * H) : NONE;
    let dyl = dy;
    let dx = NONE;
    for (let l = L - 1; l >= 0; l--) {
      const inSize = l === 0 ? this.inputSize : F;
      const input = last.inputs[l]!;
      dx = l > 0 || wantDx ? this.ws.get(`dx${l}`, T * B * inSize) : NONE;
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
          dh0: dh0 + k * B * O,
          dc0: lstm ? dc0 + k * B * H : NONE,
          scratch,
        });
      }
      const mask = l > 0 ? last.masks[l - 1]! : NONE;
      if (mask !== NONE && dx !== NONE) this.backend.mul(T * B * inSize, dx, mask, dx);
      dyl = dx;
    }
    return { dx, dh0, dc0 };
  }

  // ---- the torch.nn-like face: tensors in, tensors out -----------------------

  /**
   * x: [B, T, I] when batchFirst, else [T, B, I]. Returns the output
   * ([B, T, D·O] or [T, B, D·O]) and the final states h [L·D, B, O] and
   * (LSTM) c [L·D, B, H], as PyTorch does.
   */
  protected forwardTensors(x: Tensor, h0: Tensor | undefined, c0: Tensor | undefined, opts: ForwardOptions): { output: Tensor; h: Tensor; c: Tensor | undefined } {
    const name = this.constructor.name;
    if (x.shape.length !== 3) throw new ShapeError(`${name}: input has shape ${describeShape(x.shape)}, expected 3 dimensions ${this.batchFirst ? '[batch, steps, features]' : '[steps, batch, features]'}`);
    const [d0, d1] = x.shape as [number, number, number];
    const T = this.batchFirst ? d1 : d0;
    const B = this.batchFirst ? d0 : d1;
    checkShape(x, this.batchFirst ? [B, T, this.inputSize] : [T, B, this.inputSize], `${name} input`);
    assertFinite(x.data, `${name} input`);
    const LD = this.numLayers * this.numDirections;
    const lengths = opts.lengths === undefined ? null : this.checkLengths(opts.lengths, T, B);
    const xs = this.ws.get('x', T * B * this.inputSize);
    this.toTimeMajor(x.data, xs, T, B, this.inputSize);
    const h0Off = h0 ? this.stateIn(h0, 'h0', [LD, B, this.outputSize]) : NONE;
    const c0Off = c0 ? this.stateIn(c0, 'c0', [LD, B, this.hiddenSize]) : NONE;
    const raw = this.forwardRaw(xs, T, B, lengths, h0Off, c0Off);
    const F = this.outputFeatures;
    const output = this.fromTimeMajor(raw.y, T, B, F);
    const heap = this.backend.arena.heap;
    const h = tensor(heap.slice(raw.hn, raw.hn + LD * B * this.outputSize), [LD, B, this.outputSize]);
    const c = raw.cn === NONE ? undefined : tensor(heap.slice(raw.cn, raw.cn + LD * B * this.hiddenSize), [LD, B, this.hiddenSize]);
    return { output, h, c };
  }

  protected backwardTensors(dOutput: Tensor | undefined, dh: Tensor | undefined, dc: Tensor | undefined): { dx: Tensor; dh0: Tensor; dc0: Tensor | undefined } {
    const last = this.last;
    const name = this.constructor.name;
    if (!last) throw new ValueError(`${name}.backward called before forward`);
    const { T, B } = last;
    const F = this.outputFeatures;
    const LD = this.numLayers * this.numDirections;
    let dy = NONE;
    if (dOutput) {
      checkShape(dOutput, this.batchFirst ? [B, T, F] : [T, B, F], `${name} output gradient`);
      dy = this.ws.get('dy', T * B * F);
      this.toTimeMajor(dOutput.data, dy, T, B, F);
    }
    const dhn = dh ? this.stateIn(dh, 'dh', [LD, B, this.outputSize]) : NONE;
    const dcn = dc ? this.stateIn(dc, 'dc', [LD, B, this.hiddenSize]) : NONE;
    const raw = this.backwardRaw(dy, dhn, dcn);
    const heap = this.backend.arena.heap;
    return {
      dx: this.fromTimeMajor(raw.dx, T, B, this.inputSize),
      dh0: tensor(heap.slice(raw.dh0, raw.dh0 + LD * B * this.outputSize), [LD, B, this.outputSize]),
      dc0: raw.dc0 === NONE ? undefined : tensor(heap.slice(raw.dc0, raw.dc0 + LD * B * this.hiddenSize), [LD, B, this.hiddenSize]),
    };
  }

  private checkLengths(lengths: readonly number[], T: number, B: number): Int32Array {
    const name = this.constructor.name;
    if (lengths.length !== B) throw new ShapeError(`${name}: lengths has ${lengths.length} entries, the batch has ${B} sequences`);
    lengths.forEach((len, b) => {
      if (!Number.isInteger(len) || len < 1 || len > T) throw new ValueError(`${name}: lengths[${b}] is ${len}, expected an integer in [1, ${T}]`);
    });
    return Int32Array.from(lengths);
  }

  private stateIn(t: Tensor, what: string, shape: number[]): number {
    const name = this.constructor.name;
    checkShape(t, shape, `${name} ${what}`);
    assertFinite(t.data, `${name} ${what}`);
    const off = this.ws.get(what, t.data.length);
    this.backend.arena.heap.set(t.data, off);
    return off;
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
  private fromTimeMajor(src: number, T: number, B: number, F: number): Tensor {
    const heap = this.backend.arena.heap;
    if (!this.batchFirst) return tensor(heap.slice(src, src + T * B * F), [T, B, F]);
    const out = heap.slice(0, T * B * F);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const from = src + (t * B + b) * F;
        out.set(heap.subarray(from, from + F), (b * T + t) * F);
      }
    }
    return tensor(out, [B, T, F]);
  }

  override dispose(): void {
    super.dispose();
    this.last = undefined;
  }
}
