// The wasm recurrent kernels (one call per layer direction, the whole time
// loop in WebAssembly) against the reference backend: every cell, odd sizes,
// batch 1 and larger, reverse, packed lengths, projection, missing biases and
// states, interleaved outputs, recurrent-dropout masks, on one thread and two
// threads splitting the batch (or, for batch 1, the hidden units), with W_hh
// read in place and packed. Forward outputs, final states, the saved
// activations (the layout backward relies on), input and state gradients and
// every weight gradient. And what a recurrent mask means, on the reference
// backend: per sequence, W_hh with its columns scaled by the mask.

import { test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import assert from 'node:assert/strict';
import {
  NONE, gateCount, recurrentSavedSize, recurrentScratchSize, type Backend, type CellKind, type RecurrentWeights,
} from '../../src/kernels/backend.js';
import { ReferenceBackend } from '../../src/kernels/reference.js';
import { Twin, assertNear, randomArray, wasmVariants, type TwinBuf } from '../helpers/backends.js';

interface Case {
  T: number;
  B: number;
  I: number;
  H: number;
  /** LSTM projection size (0: none). */
  P?: number;
  reverse?: boolean;
  lengths?: number[];
  bias?: boolean;
  /** Initial states given (else zeros), final-state gradients given (else none). */
  states?: boolean;
  /** No output gradient (only the final states feed the loss). */
  noDy?: boolean;
  /** Extra row stride of y / dy, like the interleaved directions of a bidirectional layer. */
  ldyPad?: number;
  accumulateDx?: boolean;
  /** Recurrent dropout: a mask [B, O] of this drop probability (each 0 or 1/(1-p)). */
  mask?: number;
}

const CASES: Case[] = [
  { T: 5, B: 1, I: 3, H: 5 },
  { T: 7, B: 3, I: 13, H: 17, reverse: true, lengths: [7, 2, 5], states: true, ldyPad: 3, accumulateDx: true },
  { T: 4, B: 9, I: 8, H: 33, bias: false, lengths: [4, 1, 3, 4, 2, 4, 4, 1, 3], states: true },
  { T: 6, B: 5, I: 67, H: 4, noDy: true, states: true, reverse: true },
  { T: 3, B: 1, I: 1, H: 1, states: true },
  { T: 9, B: 8, I: 5, H: 12, lengths: [9, 9, 8, 6, 5, 3, 2, 1], ldyPad: 12 },
  // Batch 1 with H a multiple of 8: two threads split the hidden units (a barrier per step).
  { T: 6, B: 1, I: 5, H: 72, states: true },
  { T: 5, B: 1, I: 3, H: 64, reverse: true, lengths: [3], ldyPad: 16, noDy: true },
];

// With a recurrent mask. W_hh is read in place when B < 4 and T < 16, else
// packed; two threads split B ≥ 2 by rows, batch 1 with H a multiple of 8 by units.
const MASKED: Case[] = [
  { T: 5, B: 1, I: 3, H: 5, mask: 0.3, states: true },
  { T: 7, B: 3, I: 13, H: 17, reverse: true, lengths: [7, 2, 5], states: true, ldyPad: 17, accumulateDx: true, mask: 0.4 },
  { T: 4, B: 9, I: 8, H: 33, bias: false, lengths: [4, 1, 3, 4, 2, 4, 4, 1, 3], states: true, mask: 0.5 },
  { T: 17, B: 6, I: 5, H: 12, lengths: [17, 16, 9, 17, 1, 3], ldyPad: 12, mask: 0.5 },
  { T: 6, B: 5, I: 7, H: 4, noDy: true, states: true, reverse: true, mask: 0.6 },
  { T: 6, B: 1, I: 5, H: 72, states: true, mask: 0.3 },
  { T: 16, B: 1, I: 4, H: 64, reverse: true, lengths: [11], ldyPad: 64, states: true, mask: 0.25 },
  { T: 18, B: 2, I: 3, H: 40, lengths: [18, 7], states: true, mask: 0.5 },
];

const LSTM_PROJ: Case[] = [
  { T: 5, B: 3, I: 7, H: 13, P: 5, states: true },
  { T: 6, B: 4, I: 4, H: 17, P: 16, reverse: true, lengths: [6, 3, 1, 5], ldyPad: 16, accumulateDx: true },
  { T: 4, B: 1, I: 9, H: 8, P: 3, noDy: true, states: true, bias: false },
  // With a recurrent mask on the projected state [B, P].
  { T: 5, B: 3, I: 7, H: 13, P: 5, states: true, mask: 0.3 },
  { T: 17, B: 4, I: 4, H: 17, P: 16, reverse: true, lengths: [17, 3, 1, 12], ldyPad: 16, accumulateDx: true, mask: 0.5 },
  { T: 4, B: 1, I: 9, H: 8, P: 3, noDy: true, states: true, bias: false, mask: 0.4 },
  { T: 16, B: 1, I: 3, H: 24, P: 7, states: true, mask: 0.4 },
];

/** A recurrent-dropout mask: each element 0 with probability p, else 1/(1-p); at least one of each. */
function dropoutMask(rng: Rng, n: number, p: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform() < p ? 0 : 1 / (1 - p);
  if (n > 1 && out.every((v) => v === out[0])) out[0] = out[0] === 0 ? 1 / (1 - p) : 0;
  return out;
}

interface Buffers {
  w: Record<keyof RecurrentWeights, TwinBuf | undefined>;
  dw: Record<keyof RecurrentWeights, TwinBuf | undefined>;
  x: TwinBuf; h0?: TwinBuf; c0?: TwinBuf; y: TwinBuf; hn: TwinBuf; cn?: TwinBuf; saved: TwinBuf;
  dy?: TwinBuf; dhn?: TwinBuf; dcn?: TwinBuf; dx: TwinBuf; dh0: TwinBuf; dc0?: TwinBuf; scratch: TwinBuf; mask?: TwinBuf;
}

function checkCell(twin: Twin, cell: CellKind, c: Case, rng: Rng, label: string): void {
  const { T, B, I, H } = c;
  const lstm = cell === 'lstm';
  const P = c.P ?? 0;
  const O = P || H;
  const G = gateCount(cell) * H;
  const bias = c.bias ?? true;
  const ldy = O + (c.ldyPad ?? 0);
  const lengths = c.lengths ? Int32Array.from(c.lengths) : null;
  const sizes = { steps: T, batch: B, hidden: H, output: O, proj: P > 0, masked: c.mask !== undefined };
  const weightShapes: Record<keyof RecurrentWeights, number> = {
    wih: G * I, whh: G * O, bih: bias ? G : 0, bhh: bias ? G : 0, whr: P ? P * H : 0,
  };
  const wScale = 1 / Math.sqrt(H);
  const weights = {} as Buffers['w'];
  const grads = {} as Buffers['dw'];
  for (const key of Object.keys(weightShapes) as (keyof RecurrentWeights)[]) {
    const n = weightShapes[key];
    weights[key] = n ? twin.put(randomArray(rng, n, wScale)) : undefined;
    grads[key] = n ? twin.put(randomArray(rng, n, 0.1)) : undefined; // backward adds into them
  }
  const b: Buffers = {
    w: weights,
    dw: grads,
    x: twin.put(randomArray(rng, T * B * I)),
    y: twin.junk(T * B * ldy),
    hn: twin.junk(B * O),
    saved: twin.junk(recurrentSavedSize(cell, sizes)),
    dx: twin.put(randomArray(rng, T * B * I)),
    dh0: twin.junk(B * O),
    scratch: twin.junk(recurrentScratchSize(cell, sizes)),
  };
  if (c.states) {
    b.h0 = twin.put(randomArray(rng, B * O));
    if (lstm) b.c0 = twin.put(randomArray(rng, B * H));
    b.dhn = twin.put(randomArray(rng, B * O));
    if (lstm) b.dcn = twin.put(randomArray(rng, B * H));
  }
  if (lstm) {
    b.cn = twin.junk(B * H);
    b.dc0 = twin.junk(B * H);
  }
  if (!c.noDy) b.dy = twin.put(randomArray(rng, T * B * ldy));
  if (c.mask !== undefined) b.mask = twin.put(dropoutMask(rng, B * O, c.mask));
  const side = (which: 'ref' | 'fast') => {
    const at = (buf: TwinBuf | undefined): number => (buf ? buf[which] : NONE);
    const w = (set: Buffers['w']): RecurrentWeights => ({ wih: at(set.wih), whh: at(set.whh), bih: at(set.bih), bhh: at(set.bhh), whr: at(set.whr) });
    const shape = { steps: T, batch: B, input: I, hidden: H, output: O, reverse: c.reverse ?? false, lengths };
    const backend = which === 'ref' ? twin.ref : twin.fast;
    backend.recurrentForward(cell, {
      ...shape, w: w(weights), x: at(b.x), ldx: I, h0: at(b.h0), c0: at(b.c0),
      y: at(b.y), ldy, hn: at(b.hn), cn: at(b.cn), saved: at(b.saved), recurrentMask: at(b.mask),
    });
    backend.recurrentBackward(cell, {
      ...shape, w: w(weights), dw: w(grads), x: at(b.x), ldx: I, h0: at(b.h0), c0: at(b.c0), saved: at(b.saved),
      dy: at(b.dy), ldy, dhn: at(b.dhn), dcn: at(b.dcn), dx: at(b.dx), ldDx: I, accumulateDx: c.accumulateDx ?? false,
      dh0: at(b.dh0), dc0: at(b.dc0), scratch: at(b.scratch), recurrentMask: at(b.mask),
    });
  };
  side('ref');
  side('fast');
  const what = `${label} ${cell} ${JSON.stringify(c)}`;
  const compare = (name: string, buf: TwinBuf | undefined, start = 0, count?: number): void => {
    if (!buf) return;
    const out = twin.read(buf, start, count);
    // y rows carry ldyPad junk columns that neither backend writes: both stay NaN.
    assertNear(out.fast, out.ref, `${what}: ${name}`, 2e-5, 2e-6);
  };
  compare('y', b.y);
  compare('hn', b.hn);
  compare('cn', b.cn);
  // Saved activations, minus the GRU's per-step workspace at the end.
  compare('saved', b.saved, 0, cell === 'gru' ? b.saved.n - B * G : b.saved.n);
  compare('dx', b.dx);
  compare('dh0', b.dh0);
  compare('dc0', b.dc0);
  for (const key of Object.keys(grads) as (keyof RecurrentWeights)[]) compare(`d${key}`, grads[key]);
  const all = [...Object.values(weights), ...Object.values(grads), ...Object.values(b).filter((v): v is TwinBuf => typeof v === 'object' && 'fast' in v)];
  twin.release(...all.filter((v): v is TwinBuf => v !== undefined));
}

const CELLS: CellKind[] = ['lstm', 'gru', 'rnn_tanh', 'rnn_relu'];

for (const { label, backend } of wasmVariants()) {
  for (const cell of CELLS) {
    test(`recurrent ${cell} forward and backward match the reference, ${label}`, () => {
      const twin = new Twin(backend);
      const rng = new Rng(11);
      for (const c of CASES) checkCell(twin, cell, c, rng, label);
    });
    test(`recurrent ${cell} with a recurrent-dropout mask matches the reference, ${label}`, () => {
      const twin = new Twin(backend);
      const rng = new Rng(13);
      for (const c of MASKED) checkCell(twin, cell, c, rng, label);
    });
  }
  test(`recurrent lstm with projection matches the reference, ${label}`, () => {
    const twin = new Twin(backend);
    const rng = new Rng(12);
    for (const c of LSTM_PROJ) checkCell(twin, 'lstm', c, rng, label);
  });
}

/** Everything one forward and backward call gives, read back. */
interface Ran {
  y: Float64Array; hn: Float64Array; cn: Float64Array; dx: Float64Array; dh0: Float64Array; dc0: Float64Array;
  dw: Record<keyof RecurrentWeights, Float64Array>;
}

/** Rows [b] of a [T, B, n] array, as [T, 1, n]. */
function timeRows(a: ArrayLike<number>, T: number, B: number, n: number, b: number): Float64Array {
  const out = new Float64Array(T * n);
  for (let t = 0; t < T; t++) for (let j = 0; j < n; j++) out[t * n + j] = a[(t * B + b) * n + j]!;
  return out;
}

/**
 * What a recurrent mask means (Keras's recurrent_dropout): h_{t-1} ⊙ mask
 * feeds W_hh·h, and nothing else is masked. So for each sequence b alone,
 * the masked call equals an unmasked one whose W_hh has column j scaled by
 * mask[b, j] — outputs, states, input and state gradients — and the masked
 * call's weight gradients are the sums over sequences of theirs, dW_hh's
 * columns scaled back by each sequence's mask. In Float64 on the reference.
 */
function checkMaskMeaning(cell: CellKind, c: Case, rng: Rng): void {
  const backend: Backend = new ReferenceBackend('float64');
  const { T, B, I, H } = c;
  const P = c.P ?? 0;
  const O = P || H;
  const G = gateCount(cell) * H;
  const lstm = cell === 'lstm';
  const arena = backend.arena;
  const put = (data: ArrayLike<number>): number => {
    const off = arena.alloc(Math.max(1, data.length));
    arena.heap.set(data, off);
    return off;
  };
  const read = (off: number, n: number): Float64Array => Float64Array.from(arena.view(off, n));
  const shapes: Record<keyof RecurrentWeights, number> = { wih: G * I, whh: G * O, bih: G, bhh: G, whr: P * H };
  const weights = Object.fromEntries(Object.entries(shapes).map(([k, n]) => [k, randomArray(rng, n, 0.6)])) as Record<keyof RecurrentWeights, Float32Array>;
  const x = randomArray(rng, T * B * I);
  const h0 = randomArray(rng, B * O);
  const c0 = randomArray(rng, B * H);
  const dy = randomArray(rng, T * B * O);
  const dhn = randomArray(rng, B * O);
  const dcn = randomArray(rng, B * H);
  const mask = dropoutMask(rng, B * O, c.mask!);
  const lengths = c.lengths ?? Array.from({ length: B }, () => T);

  const call = (n: number, data: { x: ArrayLike<number>; h0: ArrayLike<number>; c0: ArrayLike<number>; dy: ArrayLike<number>;
    dhn: ArrayLike<number>; dcn: ArrayLike<number>; whh: ArrayLike<number>; mask: ArrayLike<number> | null; lengths: number[] }): Ran => {
    const masked = data.mask !== null;
    const sizes = { steps: T, batch: n, hidden: H, output: O, proj: P > 0, masked };
    const w = {} as RecurrentWeights;
    const dw = {} as RecurrentWeights;
    for (const k of Object.keys(shapes) as (keyof RecurrentWeights)[]) {
      w[k] = shapes[k] ? put(k === 'whh' ? data.whh : weights[k]) : NONE;
      dw[k] = shapes[k] ? put(new Float64Array(shapes[k])) : NONE;
    }
    const buf = { y: put(new Float64Array(T * n * O)), hn: put(new Float64Array(n * O)), cn: put(new Float64Array(n * H)),
      dx: put(new Float64Array(T * n * I)), dh0: put(new Float64Array(n * O)), dc0: put(new Float64Array(n * H)) };
    const shape = { steps: T, batch: n, input: I, hidden: H, output: O, reverse: c.reverse ?? false, lengths: Int32Array.from(data.lengths) };
    const xs = put(data.x);
    const h0s = put(data.h0);
    const c0s = lstm ? put(data.c0) : NONE;
    const saved = put(new Float64Array(recurrentSavedSize(cell, sizes)));
    const recurrentMask = data.mask ? put(data.mask) : NONE;
    backend.recurrentForward(cell, {
      ...shape, w, x: xs, ldx: I, h0: h0s, c0: c0s, y: buf.y, ldy: O, hn: buf.hn, cn: lstm ? buf.cn : NONE, saved, recurrentMask,
    });
    backend.recurrentBackward(cell, {
      ...shape, w, dw, x: xs, ldx: I, h0: h0s, c0: c0s, saved, dy: put(data.dy), ldy: O, dhn: put(data.dhn),
      dcn: lstm ? put(data.dcn) : NONE, dx: buf.dx, ldDx: I, accumulateDx: false, dh0: buf.dh0, dc0: lstm ? buf.dc0 : NONE,
      scratch: put(new Float64Array(recurrentScratchSize(cell, sizes))), recurrentMask,
    });
    const grads = Object.fromEntries(Object.entries(shapes).map(([k, size]) => [k, read(dw[k as keyof RecurrentWeights], size)]));
    return {
      y: read(buf.y, T * n * O), hn: read(buf.hn, n * O), cn: read(buf.cn, n * H), dx: read(buf.dx, T * n * I),
      dh0: read(buf.dh0, n * O), dc0: read(buf.dc0, n * H), dw: grads as Ran['dw'],
    };
  };

  const what = `${cell} ${JSON.stringify(c)}`;
  const near = (a: ArrayLike<number>, e: ArrayLike<number>, name: string): void => assertNear(a, e, `${what}: ${name}`, 1e-9, 1e-12);
  const all = call(B, { x, h0, c0, dy, dhn, dcn, whh: weights.whh, mask, lengths });
  const sums = Object.fromEntries(Object.entries(shapes).map(([k, n]) => [k, new Float64Array(n)])) as Ran['dw'];
  for (let b = 0; b < B; b++) {
    const m = mask.subarray(b * O, (b + 1) * O);
    const whh = Float64Array.from(weights.whh, (v, i) => v * m[i % O]!);
    const one = call(1, {
      x: timeRows(x, T, B, I, b), h0: h0.subarray(b * O, (b + 1) * O), c0: c0.subarray(b * H, (b + 1) * H),
      dy: timeRows(dy, T, B, O, b), dhn: dhn.subarray(b * O, (b + 1) * O), dcn: dcn.subarray(b * H, (b + 1) * H),
      whh, mask: null, lengths: [lengths[b]!],
    });
    near(timeRows(all.y, T, B, O, b), one.y, `y of sequence ${b}`);
    near(all.hn.subarray(b * O, (b + 1) * O), one.hn, `hn of sequence ${b}`);
    near(timeRows(all.dx, T, B, I, b), one.dx, `dx of sequence ${b}`);
    near(all.dh0.subarray(b * O, (b + 1) * O), one.dh0, `dh0 of sequence ${b}`);
    if (lstm) {
      near(all.cn.subarray(b * H, (b + 1) * H), one.cn, `cn of sequence ${b}`);
      near(all.dc0.subarray(b * H, (b + 1) * H), one.dc0, `dc0 of sequence ${b}`);
    }
    for (const k of Object.keys(shapes) as (keyof RecurrentWeights)[]) {
      for (let i = 0; i < shapes[k]; i++) sums[k][i]! += one.dw[k][i]! * (k === 'whh' ? m[i % O]! : 1);
    }
  }
  for (const k of Object.keys(shapes) as (keyof RecurrentWeights)[]) near(all.dw[k], sums[k], `d${k}`);
  // Not vacuous: the mask drops some units and keeps others.
  assert.ok(mask.some((v) => v === 0) && mask.some((v) => v !== 0), `${what}: the mask drops some units and keeps some`);
}

for (const cell of CELLS) {
  test(`a recurrent mask is, per sequence, W_hh with its columns scaled by it (reference, Float64): ${cell}`, () => {
    const rng = new Rng(14);
    const cases: Case[] = [
      { T: 5, B: 3, I: 4, H: 6, lengths: [5, 2, 4], mask: 0.5 },
      { T: 4, B: 2, I: 3, H: 5, reverse: true, lengths: [3, 4], mask: 0.4 },
      ...(cell === 'lstm' ? [{ T: 4, B: 3, I: 2, H: 6, P: 4, lengths: [4, 1, 3], mask: 0.5 }] : []),
    ];
    for (const c of cases) checkMaskMeaning(cell, c, rng);
  });
}
