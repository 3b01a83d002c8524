// Gradient checks: every layer and loss against central finite differences,
// in Float64 on the reference backend, on small odd sizes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Dense, Embedding, GRU, LSTM, RNN, Rng, crossEntropyLoss, mseLoss, tensor,
  type Recurrent, type Tensor,
} from '../../src/index.js';
import { ReferenceBackend } from '../../src/internals.js';

const EPS = 1e-6;

function randomTensor(rng: Rng, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.normal();
  return tensor(data, shape);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Compares an analytic gradient with (f(v+ε) − f(v−ε)) / 2ε, element by element. */
function checkGradient(
  what: string, values: Float64Array | Float32Array, analytic: ArrayLike<number>, loss: () => number,
): void {
  let worst = 0;
  for (let i = 0; i < values.length; i++) {
    const saved = values[i]!;
    values[i] = saved + EPS;
    const up = loss();
    values[i] = saved - EPS;
    const down = loss();
    values[i] = saved;
    const numeric = (up - down) / (2 * EPS);
    const err = Math.abs(numeric - analytic[i]!) / Math.max(1, Math.abs(numeric));
    worst = Math.max(worst, err);
    assert.ok(err < 1e-6, `${what}[${i}]: analytic ${analytic[i]}, numeric ${numeric}`);
  }
  assert.ok(worst < 1e-6);
}

interface Case {
  name: string;
  make: (backend: ReferenceBackend) => Recurrent;
  lengths?: number[];
  initial?: boolean;
}

const cases: Case[] = [
  {
    name: 'LSTM 2 layers, bidirectional, projected, initial states',
    make: (backend) => new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, projSize: 2 }, { backend, seed: 1 }),
    initial: true,
  },
  {
    name: 'LSTM packed, batch-first',
    make: (backend) => new LSTM({ inputSize: 2, hiddenSize: 3, bidirectional: true, batchFirst: true }, { backend, seed: 2 }),
    lengths: [4, 2, 3], initial: true,
  },
  {
    name: 'GRU 2 layers bidirectional',
    make: (backend) => new GRU({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true }, { backend, seed: 3 }),
    initial: true,
  },
  { name: 'GRU packed', make: (backend) => new GRU({ inputSize: 2, hiddenSize: 3 }, { backend, seed: 4 }), lengths: [1, 4, 3] },
  { name: 'RNN tanh', make: (backend) => new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2 }, { backend, seed: 5 }), initial: true },
  {
    name: 'LSTM 3 layers with dropout 0.4 between them (training mode)',
    make: (backend) => new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 3, dropout: 0.4 }, { backend, seed: 8 }),
  },
  {
    name: 'RNN relu bidirectional packed',
    make: (backend) => new RNN({ inputSize: 3, hiddenSize: 5, nonlinearity: 'relu', bidirectional: true }, { backend, seed: 6 }),
    lengths: [3, 4, 2],
  },
  // Recurrent dropout in training mode: a mask per layer, direction and sequence on h_{t-1} in W_hh·h.
  {
    name: 'LSTM 2 layers, bidirectional, projected, packed, recurrent dropout 0.4 and dropout 0.3 (training mode)',
    make: (backend) => new LSTM({
      inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, projSize: 3, recurrentDropout: 0.4, dropout: 0.3,
    }, { backend, seed: 9 }),
    lengths: [4, 2, 3], initial: true,
  },
  {
    name: 'LSTM with recurrent dropout 0.5 (training mode)',
    make: (backend) => new LSTM({ inputSize: 2, hiddenSize: 4, recurrentDropout: 0.5 }, { backend, seed: 10 }),
    initial: true,
  },
  {
    name: 'GRU 2 layers bidirectional packed, recurrent dropout 0.5 (training mode)',
    make: (backend) => new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, recurrentDropout: 0.5 }, { backend, seed: 11 }),
    lengths: [2, 4, 3], initial: true,
  },
  {
    name: 'RNN tanh 2 layers, recurrent dropout 0.4 (training mode)',
    make: (backend) => new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, recurrentDropout: 0.4 }, { backend, seed: 12 }),
    initial: true,
  },
  {
    name: 'RNN relu bidirectional packed, recurrent dropout 0.3 (training mode)',
    make: (backend) => new RNN({
      inputSize: 3, hiddenSize: 5, nonlinearity: 'relu', bidirectional: true, recurrentDropout: 0.3,
    }, { backend, seed: 13 }),
    lengths: [3, 4, 2], initial: true,
  },
];

for (const c of cases) {
  test(`gradient check: ${c.name}`, () => {
    const backend = new ReferenceBackend('float64');
    const layer = c.make(backend);
    const rng = new Rng(7);
    const T = 4;
    const B = 3;
    const x = randomTensor(rng, layer.batchFirst ? [B, T, layer.inputSize] : [T, B, layer.inputSize]);
    const LD = layer.numLayers * layer.numDirections;
    const O = layer.outputFeatures / layer.numDirections;
    const isLstm = layer instanceof LSTM;
    const h0 = c.initial ? randomTensor(rng, [LD, B, O]) : undefined;
    const c0 = c.initial && isLstm ? randomTensor(rng, [LD, B, layer.hiddenSize]) : undefined;
    const rOut = randomTensor(rng, layer.batchFirst ? [B, T, layer.outputFeatures] : [T, B, layer.outputFeatures]);
    const rH = randomTensor(rng, [LD, B, O]);
    const rC = randomTensor(rng, [LD, B, layer.hiddenSize]);
    const fwd = c.lengths ? { lengths: c.lengths } : {};
    // Dropout (between layers and recurrent) draws its masks from the layer's generator: replaying its state replays the masks.
    // (Parameters are created, from the same generator, on first use: create them first.)
    layer.stateDict();
    const rngState = layer.getRngState();
    const run = (): { output: Tensor; h: Tensor; c?: Tensor } => {
      layer.setRngState(rngState);
      if (layer instanceof LSTM) return layer.forward(x, { ...(h0 ? { h: h0 } : {}), ...(c0 ? { c: c0 } : {}) }, fwd);
      return (layer as GRU).forward(x, h0 ? { h: h0 } : {}, fwd);
    };
    const loss = (): number => {
      const out = run();
      return dot(out.output.data, rOut.data) + dot(out.h.data, rH.data) + (out.c ? dot(out.c.data, rC.data) : 0);
    };
    run();
    const grads = layer instanceof LSTM
      ? layer.backward(rOut, { dh: rH, dc: rC })
      : (layer as GRU).backward(rOut, { dh: rH });
    checkGradient('x', x.data, grads.dx.data, loss);
    if (h0) checkGradient('h0', h0.data, grads.dh0.data, loss);
    if (c0 && 'dc0' in grads) checkGradient('c0', c0.data, (grads.dc0 as Tensor).data, loss);
    const analytic = layer.gradDict();
    const params = layer.stateDict();
    for (const [name, values] of Object.entries(params)) {
      checkGradient(name, values, analytic[name]!, () => {
        layer.loadStateDict(params);
        return loss();
      });
    }
  });
}

test('gradient check: Dense and Embedding', () => {
  const backend = new ReferenceBackend('float64');
  const rng = new Rng(11);
  const dense = new Dense({ inFeatures: 5, outFeatures: 3 }, { backend, seed: 1 });
  const x = randomTensor(rng, [4, 5]);
  const r = randomTensor(rng, [4, 3]);
  const loss = (): number => dot(dense.forward(x).data, r.data);
  loss();
  const dx = dense.backward(r);
  checkGradient('x', x.data, dx.data, loss);
  const params = dense.stateDict();
  const analytic = dense.gradDict();
  for (const [name, values] of Object.entries(params)) {
    checkGradient(name, values, analytic[name]!, () => (dense.loadStateDict(params), loss()));
  }

  const emb = new Embedding({ numEmbeddings: 6, embeddingDim: 3, paddingIdx: 0 }, { backend, seed: 2 });
  const indices = [1, 0, 5, 1, 2];
  const re = randomTensor(rng, [5, 3]);
  const embLoss = (): number => dot(emb.forward(indices).data, re.data);
  embLoss();
  emb.backward(re);
  const table = emb.stateDict();
  const dTable = emb.gradDict().weight!;
  // The padding row gets no gradient by definition; check the others numerically.
  checkGradient('weight', table.weight!.subarray(3), dTable.subarray(3), () => (emb.loadStateDict(table), embLoss()));
  assert.deepEqual([...dTable.subarray(0, 3)], [0, 0, 0]);
});

test('gradient check: MSE and cross-entropy with masks', () => {
  const backend = new ReferenceBackend('float64');
  const rng = new Rng(12);
  const pred = randomTensor(rng, [5, 3]);
  const target = randomTensor(rng, [5, 3]);
  const mask = [1, 0, 1, 1, 0];
  const mse = mseLoss(pred, target, { mask, backend });
  checkGradient('mse', pred.data, mse.grad.data, () => mseLoss(pred, target, { mask, backend }).loss);
  const logits = randomTensor(rng, [6, 4]);
  const targets = [3, -1, 0, 2, 1, -1];
  const ce = crossEntropyLoss(logits, targets, { backend });
  checkGradient('cross-entropy', logits.data, ce.grad.data, () => crossEntropyLoss(logits, targets, { backend }).loss);
});
