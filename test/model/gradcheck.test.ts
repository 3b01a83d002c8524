// Gradient checks of whole config models: the gradient of the model's loss
// with respect to every parameter against central finite differences of that
// loss, in Float64 on the reference backend. Covers what sits between the
// layers: last-state and mean pooling over unequal lengths, bidirectional
// stacks, the embedding (padding index 0) and a per-step head with padded
// steps masked out of the loss. The model is driven only through runModel.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, SequenceModel, type ModelConfig } from '../../src/index.js';
import { ReferenceBackend } from '../../src/internals.js';
import { runModel, type ModelData } from '../helpers/model.js';

const EPS = 1e-6;
/** |numeric − analytic| may be at most ATOL + RTOL·|numeric|. Float64 differences land near 1e-10. */
const ATOL = 1e-8;
const RTOL = 1e-6;
/** Tensors with more entries than this are checked on a seeded random sample of this many. */
const SAMPLE = 60;

interface Case {
  name: string;
  config: ModelConfig;
  lengths: number[];
  seed: number;
}

const vocabulary = ['<pad>', '<unk>', 'a', 'b', 'c', 'd'];

const cases: Case[] = [
  {
    name: 'BiLSTM 2 layers, last state, unequal lengths, regression',
    config: {
      input: { type: 'features', size: 3 }, rnn: { cell: 'lstm', hiddenSize: 4, numLayers: 2, bidirectional: true },
      output: { mode: 'sequence', type: 'regression', size: 2, pooling: 'last' },
    },
    lengths: [5, 2, 4],
    seed: 1,
  },
  {
    name: 'BiLSTM 2 layers, mean pooling, unequal lengths, regression',
    config: {
      input: { type: 'features', size: 2 }, rnn: { cell: 'lstm', hiddenSize: 3, numLayers: 2, bidirectional: true },
      output: { mode: 'sequence', type: 'regression', size: 2, pooling: 'mean' },
    },
    lengths: [3, 5, 1],
    seed: 2,
  },
  {
    name: "BiLSTM 2 layers, out[:, -1] at each sequence's last step ('lastOutput'), unequal lengths",
    config: {
      input: { type: 'features', size: 2 }, rnn: { cell: 'lstm', hiddenSize: 3, numLayers: 2, bidirectional: true },
      output: { mode: 'sequence', type: 'regression', size: 2, pooling: 'lastOutput' },
    },
    lengths: [4, 1, 5],
    seed: 8,
  },
  {
    name: 'BiGRU, max over the valid steps, unequal lengths',
    config: {
      input: { type: 'features', size: 3 }, rnn: { cell: 'gru', hiddenSize: 3, bidirectional: true },
      output: { mode: 'sequence', type: 'regression', size: 2, pooling: 'max' },
    },
    lengths: [2, 5, 3],
    seed: 9,
  },
  {
    name: 'BiGRU 2 layers, last state, unequal lengths',
    config: {
      input: { type: 'features', size: 2 }, rnn: { cell: 'gru', hiddenSize: 3, numLayers: 2, bidirectional: true },
      output: { mode: 'sequence', type: 'regression', size: 1, pooling: 'last' },
    },
    lengths: [4, 1, 3],
    seed: 3,
  },
  {
    name: 'projected BiLSTM 2 layers, mean pooling',
    config: {
      input: { type: 'features', size: 2 }, rnn: { cell: 'lstm', hiddenSize: 4, numLayers: 2, bidirectional: true, projSize: 2 },
      output: { mode: 'sequence', type: 'regression', size: 2, pooling: 'mean' },
    },
    lengths: [4, 2, 3],
    seed: 4,
  },
  {
    name: 'embedding (padding 0) → BiGRU, last state, classification',
    config: {
      input: { type: 'tokens', embeddingDim: 3, vocabulary }, rnn: { cell: 'gru', hiddenSize: 3, bidirectional: true },
      output: { mode: 'sequence', type: 'classification', classes: ['x', 'y', 'z'], pooling: 'last' },
    },
    lengths: [2, 5, 3],
    seed: 5,
  },
  {
    name: 'embedding → BiLSTM, step classification, padded steps masked',
    config: {
      input: { type: 'tokens', embeddingDim: 3, vocabulary }, rnn: { cell: 'lstm', hiddenSize: 3, bidirectional: true },
      output: { mode: 'step', type: 'classification', classes: ['O', 'B', 'I'] },
    },
    lengths: [5, 3, 1],
    seed: 6,
  },
  {
    name: 'tanh RNN 2 layers bidirectional, step regression, padded steps masked',
    config: {
      input: { type: 'features', size: 2 }, rnn: { cell: 'rnn', hiddenSize: 3, numLayers: 2, bidirectional: true },
      output: { mode: 'step', type: 'regression', size: 2 },
    },
    lengths: [4, 4, 2],
    seed: 7,
  },
];

/** A padded batch, batch-first; feature steps past a length hold noise (they must not count). */
function randomData(rng: Rng, config: ModelConfig, lengths: number[]): ModelData {
  const B = lengths.length;
  const T = Math.max(...lengths);
  const valid = (b: number, t: number): boolean => t < lengths[b]!;
  const { input, output } = config;
  const step = output.mode === 'step';
  let inputs: ModelData['inputs'];
  if (input.type === 'tokens') {
    const V = input.vocabulary!.length;
    const data = Array.from({ length: B * T }, (_, i) => (valid(Math.floor(i / T), i % T) ? 1 + rng.int(V - 1) : 0));
    inputs = { shape: [B, T], data };
  } else {
    inputs = { shape: [B, T, input.size], data: Array.from({ length: B * T * input.size }, () => rng.normal()) };
  }
  let targets: ModelData['targets'];
  if (output.type === 'classification') {
    const K = output.classes!.length;
    targets = step
      ? {
        shape: [B, T],
        data: Array.from({ length: B * T }, (_, i) => (valid(Math.floor(i / T), i % T) ? rng.int(K) : -1)),
      }
      : { shape: [B], data: Array.from({ length: B }, () => rng.int(K)) };
  } else {
    const K = output.size ?? 1;
    targets = step
      ? {
        shape: [B, T, K],
        data: Array.from({ length: B * T * K }, (_, i) => (
          valid(Math.floor(i / (T * K)), Math.floor(i / K) % T) ? rng.normal() : 0
        )),
      }
      : { shape: [B, K], data: Array.from({ length: B * K }, () => rng.normal()) };
  }
  return { inputs, lengths, targets };
}

/** All indices of a tensor, or a seeded sample of SAMPLE distinct ones. */
function entriesToCheck(rng: Rng, n: number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (n <= SAMPLE) return all;
  rng.shuffle(all);
  return all.slice(0, SAMPLE).sort((a, b) => a - b);
}

for (const c of cases) {
  test(`model gradient check: ${c.name}`, (ctx) => {
    const backend = new ReferenceBackend('float64');
    const model = new SequenceModel(c.config, { backend, seed: c.seed });
    const rng = new Rng(100 + c.seed);
    const data = randomData(rng, c.config, c.lengths);
    const params = model.stateDict(); // Float64Arrays, perturbed in place below
    const run = runModel(model, data, { params });
    assert.ok(Number.isFinite(run.loss) && run.loss > 0, `loss ${run.loss}`);
    const loss = (): number => runModel(model, data, { params, backward: false }).loss;
    let checked = 0;
    let worst = 0;
    let largest = 0;
    for (const [name, values] of Object.entries(params)) {
      const analytic = run.grads[name]!;
      assert.equal(analytic.length, values.length, `${name}: gradient size`);
      for (const i of entriesToCheck(rng, values.length)) {
        const saved = values[i]!;
        values[i] = saved + EPS;
        const up = loss();
        values[i] = saved - EPS;
        const down = loss();
        values[i] = saved;
        const numeric = (up - down) / (2 * EPS);
        const diff = Math.abs(numeric - analytic[i]!);
        assert.ok(diff <= ATOL + RTOL * Math.abs(numeric), `${c.name}: ${name}[${i}] analytic ${analytic[i]}, numeric ${numeric}`);
        worst = Math.max(worst, diff);
        largest = Math.max(largest, Math.abs(numeric));
        checked++;
      }
    }
    ctx.diagnostic(
      `${checked} entries of ${Object.keys(params).length} tensors, ` +
      `largest gradient ${largest.toExponential(1)}, max abs diff ${worst.toExponential(1)}`,
    );
  });
}
