import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GRU, LSTM, Rng, tensor } from '../../src/index.js';

const rng = new Rng(3);
const x = tensor(Float32Array.from({ length: 5 * 2 * 3 }, () => rng.normal()), [5, 2, 3]);

test('dropout between layers applies in training mode only, as in PyTorch', () => {
  const lstm = new LSTM({ inputSize: 3, hiddenSize: 6, numLayers: 2, dropout: 0.5 }, { seed: 1 });
  const plain = new LSTM({ inputSize: 3, hiddenSize: 6, numLayers: 2 }, { seed: 2 });
  plain.loadStateDict(lstm.stateDict());
  const a = lstm.forward(x).output.data;
  const b = lstm.forward(x).output.data;
  assert.notDeepEqual(a, b, 'fresh masks on every training forward');
  lstm.eval();
  const c = lstm.forward(x).output.data;
  assert.deepEqual(c, plain.forward(x).output.data, 'no dropout in eval mode');
  assert.deepEqual(c, lstm.forward(x).output.data);
});

test('dropout never touches the last layer output (one layer: no effect)', () => {
  const gru = new GRU({ inputSize: 3, hiddenSize: 4, dropout: 0.9 }, { seed: 1 });
  assert.deepEqual(gru.forward(x).output.data, gru.forward(x).output.data);
});
