// Recurrent dropout (Keras's recurrent_dropout) at the layer level: the masks
// the layer draws (one per layer, direction and sequence, about p of them
// zero, fresh every training forward, the same one in backward), eval mode
// and p = 0 bit for bit the plain layer, the wasm backend against the
// reference with the masks on, and errors that name the option. What a mask
// does inside a call is tested in test/kernels/recurrent.test.ts; gradients
// in gradcheck.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GRU, LSTM, RNN, Rng, ValueError, tensor, type Recurrent, type Tensor } from '../../src/index.js';
import { NONE, type Backend, type CellKind, type RecurrentBackward, type RecurrentForward } from '../../src/kernels/backend.js';
import { ReferenceBackend } from '../../src/kernels/reference.js';
import { assertNear, wasmVariants } from '../helpers/backends.js';

function randomTensor(rng: Rng, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: n }, () => rng.normal()), shape);
}

/** The bytes of a float32 array, to compare bit for bit. */
function bits(a: ArrayLike<number>): string {
  return Buffer.from(Float32Array.from(a).buffer).toString('hex');
}

type Layer = LSTM | GRU | RNN;

/** Forward and backward once; every output and gradient, in order. */
function runOnce(layer: Layer, x: Tensor, rng: Rng, lengths?: number[]): Record<string, Float32Array> {
  const LD = layer.numLayers * layer.numDirections;
  const B = x.shape[1]!;
  const T = x.shape[0]!;
  const fwd = lengths ? { lengths } : {};
  const out: { output: Tensor; h: Tensor; c?: Tensor } = layer instanceof LSTM ? layer.forward(x, {}, fwd) : layer.forward(x, {}, fwd);
  const dOut = randomTensor(rng, [T, B, layer.outputFeatures]);
  const dh = randomTensor(rng, [LD, B, layer.stateSize]);
  layer.zeroGrad();
  const back = layer instanceof LSTM
    ? layer.backward(dOut, { dh, dc: randomTensor(rng, [LD, B, layer.hiddenSize]) })
    : layer.backward(dOut, { dh });
  const result: Record<string, Float32Array> = {
    output: Float32Array.from(out.output.data), h: Float32Array.from(out.h.data), dx: Float32Array.from(back.dx.data),
    dh0: Float32Array.from(back.dh0.data),
  };
  if (out.c) result.c = Float32Array.from(out.c.data);
  for (const [name, g] of Object.entries(layer.gradDict())) result[`d${name}`] = Float32Array.from(g);
  return result;
}

const MAKERS: { name: string; make: (opts: { recurrentDropout?: number }, backend?: Backend) => Layer }[] = [
  {
    name: 'LSTM 2 layers bidirectional projected',
    make: (o, backend) => new LSTM({ inputSize: 3, hiddenSize: 6, numLayers: 2, bidirectional: true, projSize: 4, dropout: 0.25, ...o },
      { seed: 1, ...(backend ? { backend } : {}) }),
  },
  {
    name: 'GRU 2 layers bidirectional',
    make: (o, backend) => new GRU({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, dropout: 0.25, ...o },
      { seed: 2, ...(backend ? { backend } : {}) }),
  },
  { name: 'RNN tanh', make: (o, backend) => new RNN({ inputSize: 3, hiddenSize: 7, ...o }, { seed: 3, ...(backend ? { backend } : {}) }) },
  {
    name: 'RNN relu bidirectional',
    make: (o, backend) => new RNN({ inputSize: 3, hiddenSize: 4, nonlinearity: 'relu', bidirectional: true, ...o },
      { seed: 4, ...(backend ? { backend } : {}) }),
  },
];

for (const { name, make } of MAKERS) {
  test(`recurrent dropout: fresh masks every training forward; eval mode is the plain layer, bit for bit: ${name}`, () => {
    const x = randomTensor(new Rng(5), [6, 3, 3]);
    const dropped = make({ recurrentDropout: 0.5 });
    const plain = make({});
    plain.loadStateDict(dropped.stateDict());
    plain.eval();
    const reference = runOnce(plain, x, new Rng(6));
    const a = runOnce(dropped, x, new Rng(6));
    const b = runOnce(dropped, x, new Rng(6));
    assert.notEqual(bits(a.output!), bits(reference.output!), 'training mode masks h_{t-1}');
    assert.notEqual(bits(a.output!), bits(b.output!), 'a fresh mask on every training forward');
    dropped.eval();
    const evaluated = runOnce(dropped, x, new Rng(6));
    assert.deepEqual(Object.keys(evaluated), Object.keys(reference));
    for (const key of Object.keys(reference)) assert.equal(bits(evaluated[key]!), bits(reference[key]!), `eval mode: ${key}`);
  });

  test(`recurrentDropout 0 is the layer without the option, bit for bit, and draws nothing: ${name}`, () => {
    const x = randomTensor(new Rng(7), [5, 4, 3]);
    const zero = make({ recurrentDropout: 0 });
    const without = make({});
    const lengths = [5, 2, 4, 1];
    for (let round = 0; round < 2; round++) {
      const a = runOnce(zero, x, new Rng(8), lengths);
      const b = runOnce(without, x, new Rng(8), lengths);
      for (const key of Object.keys(b)) assert.equal(bits(a[key]!), bits(b[key]!), `training mode, round ${round}: ${key}`);
      assert.deepEqual(zero.getRngState(), without.getRngState(), 'the same draws (inter-layer dropout only)');
    }
  });
}

/** A reference backend that keeps a copy of every recurrent mask it is handed. */
class MaskSpy extends ReferenceBackend {
  forwardMasks: Float64Array[] = [];
  backwardMasks: Float64Array[] = [];
  unmasked = 0;

  private grab(p: RecurrentForward | RecurrentBackward, into: Float64Array[]): void {
    const mask = p.recurrentMask ?? NONE;
    if (mask === NONE) this.unmasked++;
    else into.push(Float64Array.from(this.arena.view(mask, p.batch * p.output)));
  }

  override recurrentForward(cell: CellKind, p: RecurrentForward): void {
    this.grab(p, this.forwardMasks);
    super.recurrentForward(cell, p);
  }

  override recurrentBackward(cell: CellKind, p: RecurrentBackward): void {
    this.grab(p, this.backwardMasks);
    super.recurrentBackward(cell, p);
  }
}

test('recurrent dropout masks: one [B, O] per layer and direction, 0 or 1/(1-p), about p of them 0, fresh each forward, the same in backward', () => {
  const p = 0.3;
  const spy = new MaskSpy('float32');
  // O is projSize for a projected LSTM: the mask is on the state fed back.
  const lstm = new LSTM({ inputSize: 2, hiddenSize: 40, projSize: 25, numLayers: 2, bidirectional: true, recurrentDropout: p }, { backend: spy, seed: 1 });
  const B = 64;
  const x = randomTensor(new Rng(2), [3, B, 2]);
  lstm.forward(x);
  assert.equal(spy.forwardMasks.length, 4, 'a mask per layer and direction');
  assert.equal(spy.unmasked, 0);
  const keep = Math.fround(1 / (1 - p));
  let zeros = 0;
  let count = 0;
  for (const mask of spy.forwardMasks) {
    assert.equal(mask.length, B * 25);
    assert.ok(mask.every((v) => v === 0 || v === keep), 'each element 0 or 1/(1-p)');
    zeros += mask.filter((v) => v === 0).length;
    count += mask.length;
  }
  // 6400 draws: the standard deviation of the fraction is 0.006.
  assert.ok(Math.abs(zeros / count - p) < 0.03, `fraction of zeros ${zeros / count}, expected about ${p}`);
  // Every sequence gets its own mask: rows differ.
  const first = spy.forwardMasks[0]!;
  assert.notEqual(bits(first.subarray(0, 25)), bits(first.subarray(25, 50)));
  // Directions and layers get their own masks.
  const distinct = new Set(spy.forwardMasks.map((m) => bits(m)));
  assert.equal(distinct.size, 4);
  // Backward gets each direction's mask of that forward (layers run last to first).
  lstm.backward(randomTensor(new Rng(3), [3, B, 50]));
  const forwardOrder = spy.forwardMasks.map((m) => bits(m));
  const backwardOrder = spy.backwardMasks.map((m) => bits(m));
  assert.deepEqual(backwardOrder, [...forwardOrder.slice(2), ...forwardOrder.slice(0, 2)]);
  // The next forward draws new masks.
  lstm.forward(x);
  assert.equal(spy.forwardMasks.length, 8);
  for (let i = 0; i < 4; i++) assert.notEqual(bits(spy.forwardMasks[4 + i]!), forwardOrder[i]);
  // Eval mode: no mask at all.
  lstm.eval();
  lstm.forward(x);
  assert.equal(spy.forwardMasks.length, 8);
  assert.equal(spy.unmasked, 4);
});

test('recurrentDropout 0 in training mode hands the kernels no mask and draws nothing from the generator', () => {
  const spy = new MaskSpy('float32');
  const x = randomTensor(new Rng(4), [4, 3, 2]);
  for (const layer of [
    new LSTM({ inputSize: 2, hiddenSize: 5, projSize: 3, numLayers: 2, bidirectional: true, recurrentDropout: 0 }, { backend: spy, seed: 1 }),
    new GRU({ inputSize: 2, hiddenSize: 5, numLayers: 2, recurrentDropout: 0 }, { backend: spy, seed: 2 }),
    new RNN({ inputSize: 2, hiddenSize: 5, bidirectional: true }, { backend: spy, seed: 3 }),
  ]) {
    layer.stateDict(); // parameters first: they are drawn from the same generator
    const before = layer.getRngState();
    const out = layer instanceof LSTM ? layer.forward(x) : layer.forward(x);
    layer.backward(tensor(new Float32Array(out.output.data.length).fill(1), out.output.shape));
    assert.deepEqual(layer.getRngState(), before, `${layer.constructor.name}: no draws`);
  }
  assert.equal(spy.forwardMasks.length + spy.backwardMasks.length, 0);
  assert.equal(spy.unmasked, 2 * (4 + 2 + 2));
});

for (const { label, backend } of wasmVariants()) {
  test(`recurrent dropout on the wasm backend matches the reference, layers and directions and packed lengths: ${label}`, () => {
    for (const { name, make } of MAKERS) {
      const ref = make({ recurrentDropout: 0.4 }, new ReferenceBackend('float32'));
      const fast = make({ recurrentDropout: 0.4 }, backend);
      for (const [T, B, lengths] of [[5, 1, undefined], [7, 5, [7, 3, 6, 1, 7]], [17, 2, [17, 9]]] as const) {
        // The same seed: the same parameters, and the same masks drawn.
        const x = randomTensor(new Rng(T * B), [T, B, 3]);
        const want = runOnce(ref, x, new Rng(9), lengths ? [...lengths] : undefined);
        const got = runOnce(fast, x, new Rng(9), lengths ? [...lengths] : undefined);
        for (const key of Object.keys(want)) assertNear(got[key]!, want[key]!, `${name} T=${T} B=${B}: ${key}`, 2e-5, 2e-5);
      }
      assert.deepEqual(fast.getRngState(), ref.getRngState());
      fast.dispose();
    }
  });
}

test('recurrentDropout outside [0, 1) is a ValueError naming the option', () => {
  for (const bad of [1, -0.1, Number.NaN, 1.5]) {
    for (const make of [
      (): Recurrent => new LSTM({ inputSize: 2, hiddenSize: 3, recurrentDropout: bad }),
      (): Recurrent => new GRU({ inputSize: 2, hiddenSize: 3, recurrentDropout: bad }),
      (): Recurrent => new RNN({ inputSize: 2, hiddenSize: 3, recurrentDropout: bad }),
    ]) {
      assert.throws(make, (e: unknown) => e instanceof ValueError && /recurrentDropout must be in \[0, 1\), got/.test((e as Error).message));
    }
  }
});
