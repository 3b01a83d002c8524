// The wasm recurrent kernels (one call per layer direction, the whole time
// loop in WebAssembly) against the reference backend: every cell, odd sizes,
// batch 1 and larger, reverse, packed lengths, projection, missing biases and
// states, interleaved outputs, on one thread and two threads splitting the
// batch (or, for batch 1, the hidden units). Forward outputs, final states, the saved activations (the layout
// backward relies on), input and state gradients and every weight gradient.

import { test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { NONE, gateCount, recurrentSavedSize, recurrentScratchSize, type CellKind, type RecurrentWeights } from '../../src/kernels/backend.js';
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

const LSTM_PROJ: Case[] = [
  { T: 5, B: 3, I: 7, H: 13, P: 5, states: true },
  { T: 6, B: 4, I: 4, H: 17, P: 16, reverse: true, lengths: [6, 3, 1, 5], ldyPad: 16, accumulateDx: true },
  { T: 4, B: 1, I: 9, H: 8, P: 3, noDy: true, states: true, bias: false },
];

interface Buffers {
  w: Record<keyof RecurrentWeights, TwinBuf | undefined>;
  dw: Record<keyof RecurrentWeights, TwinBuf | undefined>;
  x: TwinBuf; h0?: TwinBuf; c0?: TwinBuf; y: TwinBuf; hn: TwinBuf; cn?: TwinBuf; saved: TwinBuf;
  dy?: TwinBuf; dhn?: TwinBuf; dcn?: TwinBuf; dx: TwinBuf; dh0: TwinBuf; dc0?: TwinBuf; scratch: TwinBuf;
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
  const sizes = { steps: T, batch: B, hidden: H, output: O, proj: P > 0 };
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
  const side = (which: 'ref' | 'fast') => {
    const at = (buf: TwinBuf | undefined): number => (buf ? buf[which] : NONE);
    const w = (set: Buffers['w']): RecurrentWeights => ({ wih: at(set.wih), whh: at(set.whh), bih: at(set.bih), bhh: at(set.bhh), whr: at(set.whr) });
    const shape = { steps: T, batch: B, input: I, hidden: H, output: O, reverse: c.reverse ?? false, lengths };
    const backend = which === 'ref' ? twin.ref : twin.fast;
    backend.recurrentForward(cell, {
      ...shape, w: w(weights), x: at(b.x), ldx: I, h0: at(b.h0), c0: at(b.c0),
      y: at(b.y), ldy, hn: at(b.hn), cn: at(b.cn), saved: at(b.saved),
    });
    backend.recurrentBackward(cell, {
      ...shape, w: w(weights), dw: w(grads), x: at(b.x), ldx: I, h0: at(b.h0), c0: at(b.c0), saved: at(b.saved),
      dy: at(b.dy), ldy, dhn: at(b.dhn), dcn: at(b.dcn), dx: at(b.dx), ldDx: I, accumulateDx: c.accumulateDx ?? false,
      dh0: at(b.dh0), dc0: at(b.dc0), scratch: at(b.scratch),
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
  }
  test(`recurrent lstm with projection matches the reference, ${label}`, () => {
    const twin = new Twin(backend);
    const rng = new Rng(12);
    for (const c of LSTM_PROJ) checkCell(twin, 'lstm', c, rng, label);
  });
}
