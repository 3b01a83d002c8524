// ONNX export: lstmkit models written as ONNX run in onnxruntime (the real
// runtime, onnxruntime-node) and give lstmkit's outputs, for LSTM, GRU and
// RNN, uni- and bidirectional, 1 to 3 layers, per sequence (every pooling:
// h_n, out[:, -1] at each sequence's last step, mean, max) and per step,
// features and tokens, regression and classification, on padded batches
// through sequence_lens (the padding holds garbage, which must not matter).
// Exported files import back into the same model.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';

import { ValueError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import type { ModelConfig } from '../../src/model/config.js';
import { SequenceModel } from '../../src/model/model.js';
import { exportOnnx, type OnnxExportOptions } from '../../src/io/onnx/export.js';
import { importOnnx, loadOnnxModel } from '../../src/io/onnx/import.js';
import { decodeModelProto, encodeModelProto } from '../../src/io/onnx/proto.js';
import { assertClose } from '../helpers/fixtures.js';
import { maskSteps, runModel, runOrt, type PlainInput } from '../helpers/onnx.js';

const VOCAB = ['<pad>', '<unk>', 'a', 'b', 'c', 'd', 'e', 'f', 'g'];

interface Case {
  name: string;
  config: ModelConfig;
  options?: OnnxExportOptions;
}

const features = (size: number): ModelConfig['input'] => ({ type: 'features', size });
const tokens: ModelConfig['input'] = { type: 'tokens', embeddingDim: 4, vocabulary: VOCAB, tokenizer: 'char' };

const CASES: Case[] = [
  {
    name: 'LSTM, per sequence',
    config: { input: features(3), rnn: { cell: 'lstm', hiddenSize: 5 }, output: { mode: 'sequence', type: 'regression', size: 2 } },
  },
  {
    name: 'LSTM, 2 layers bidirectional, per sequence',
    config: {
      input: features(4), rnn: { cell: 'lstm', hiddenSize: 6, numLayers: 2, bidirectional: true },
      output: { mode: 'sequence', type: 'regression', size: 3 },
    },
  },
  {
    name: 'LSTM bidirectional, per step, time-major',
    config: {
      input: features(3), rnn: { cell: 'lstm', hiddenSize: 5, bidirectional: true }, output: { mode: 'step', type: 'regression', size: 2 },
    },
    options: { batchFirst: false },
  },
  {
    name: 'LSTM, tokens, classifier',
    config: {
      input: tokens, rnn: { cell: 'lstm', hiddenSize: 6, numLayers: 2 },
      output: { mode: 'sequence', type: 'classification', classes: ['neg', 'neu', 'pos'] },
    },
  },
  {
    name: 'LSTM, next step',
    config: { input: features(2), rnn: { cell: 'lstm', hiddenSize: 7 }, output: { mode: 'next', type: 'regression' } },
  },
  {
    name: 'GRU, per step',
    config: { input: features(4), rnn: { cell: 'gru', hiddenSize: 5 }, output: { mode: 'step', type: 'regression', size: 2 } },
  },
  {
    name: 'GRU, 2 layers bidirectional, mean',
    config: {
      input: features(3), rnn: { cell: 'gru', hiddenSize: 6, numLayers: 2, bidirectional: true },
      output: { mode: 'sequence', type: 'regression', size: 1, pooling: 'mean' },
    },
  },
  {
    name: 'GRU bidirectional, tokens, per-step tagger',
    config: {
      input: tokens, rnn: { cell: 'gru', hiddenSize: 5, bidirectional: true },
      output: { mode: 'step', type: 'classification', classes: ['O', 'B', 'I'] },
    },
  },
  {
    name: 'RNN tanh, per sequence',
    config: { input: features(3), rnn: { cell: 'rnn', hiddenSize: 7 }, output: { mode: 'sequence', type: 'regression', size: 2 } },
  },
  {
    name: 'RNN relu, 2 layers bidirectional, per step',
    config: {
      input: features(3), rnn: { cell: 'rnn', hiddenSize: 5, numLayers: 2, bidirectional: true, nonlinearity: 'relu' },
      output: { mode: 'step', type: 'regression', size: 3 },
    },
  },
  {
    name: 'RNN bidirectional, mean, time-major',
    config: {
      input: features(2), rnn: { cell: 'rnn', hiddenSize: 6, bidirectional: true },
      output: { mode: 'sequence', type: 'regression', size: 2, pooling: 'mean' },
    },
    options: { batchFirst: false },
  },
  {
    name: 'LSTM bidirectional, out[:, -1] (lastOutput)',
    config: {
      input: features(3), rnn: { cell: 'lstm', hiddenSize: 5, bidirectional: true },
      output: { mode: 'sequence', type: 'regression', size: 2, pooling: 'lastOutput' },
    },
  },
  {
    name: 'GRU 2 layers bidirectional, tokens, lastOutput classifier, time-major',
    config: {
      input: tokens, rnn: { cell: 'gru', hiddenSize: 4, numLayers: 2, bidirectional: true },
      output: { mode: 'sequence', type: 'classification', classes: ['neg', 'pos'], pooling: 'lastOutput' },
    },
    options: { batchFirst: false },
  },
  {
    name: 'RNN relu 3 layers, lastOutput, opset 21',
    config: {
      input: features(2), rnn: { cell: 'rnn', hiddenSize: 5, numLayers: 3, nonlinearity: 'relu' },
      output: { mode: 'sequence', type: 'regression', size: 2, pooling: 'lastOutput' },
    },
    options: { opset: 21 },
  },
  {
    name: 'LSTM bidirectional, max',
    config: {
      input: features(3), rnn: { cell: 'lstm', hiddenSize: 5, bidirectional: true },
      output: { mode: 'sequence', type: 'regression', size: 3, pooling: 'max' },
    },
  },
  {
    name: 'GRU 3 layers, max classifier, time-major',
    config: {
      input: features(4), rnn: { cell: 'gru', hiddenSize: 4, numLayers: 3 },
      output: { mode: 'sequence', type: 'classification', classes: ['a', 'b', 'c'], pooling: 'max' },
    },
    options: { batchFirst: false },
  },
  {
    name: 'RNN tanh 2 layers bidirectional, max, opset 18',
    config: {
      input: features(3), rnn: { cell: 'rnn', hiddenSize: 4, numLayers: 2, bidirectional: true },
      output: { mode: 'sequence', type: 'regression', size: 2, pooling: 'max' },
    },
    options: { opset: 18 },
  },
  {
    name: 'LSTM bidirectional, opset 18',
    config: {
      input: features(3), rnn: { cell: 'lstm', hiddenSize: 4, bidirectional: true },
      output: { mode: 'sequence', type: 'regression', size: 2, pooling: 'mean' },
    },
    options: { opset: 18 },
  },
];

const B = 4;
const T = 6;
const LENGTHS = [6, 3, 5, 1];

/** A padded batch whose padding holds garbage (sequence_lens must make it irrelevant). */
function inputFor(
  config: ModelConfig, batchFirst: boolean, seed: number, lengths: readonly number[] = LENGTHS,
): PlainInput {
  const rng = new Rng(seed);
  const F = config.input.type === 'features' ? config.input.size : 0;
  const data = config.input.type === 'features'
    ? Float32Array.from({ length: B * T * F }, () => rng.range(-2, 2))
    : Float64Array.from({ length: B * T }, () => 2 + Math.floor(rng.uniform() * (VOCAB.length - 2)));
  return { data, B, T, F, batchFirst, lengths };
}

/** Scale weights up from PyTorch's small init so the cells leave their linear range. */
function livelyModel(config: ModelConfig, seed: number): SequenceModel {
  const model = new SequenceModel(config, { seed });
  const dict = model.stateDict();
  for (const [name, w] of Object.entries(dict)) if (name.startsWith('rnn.')) for (let i = 0; i < w.length; i++) w[i]! *= 2.5;
  model.loadStateDict(dict);
  return model;
}

for (const [k, c] of CASES.entries()) {
  test(`export ${c.name}: onnxruntime gives lstmkit's outputs on a padded batch`, async () => {
    const model = livelyModel(c.config, 100 + k);
    const bytes = exportOnnx(model, c.options);
    const input = inputFor(c.config, c.options?.batchFirst ?? true, 200 + k);
    const ours = runModel(model, input);
    const theirs = await runOrt(bytes, input);
    const classifier = c.config.output.type === 'classification';
    const got = classifier ? theirs.probabilities! : theirs.y!;
    assert.ok(got, 'onnxruntime returned the output');
    const K = model.outputSize;
    const perStep = c.config.output.mode !== 'sequence';
    const diff = assertClose(perStep ? maskSteps(got, input, K) : got, ours, c.name, 1e-5, 1e-5);
    console.log(`  ${c.name}: max abs diff ${diff.maxAbs.toExponential(2)}`);

    // The file imports back into the same model: same config, the very same weights.
    const imported = importOnnx(bytes, { source: c.name });
    assert.deepEqual(imported.config, model.config);
    assert.deepEqual(imported.notes, []);
    const dict = model.stateDict();
    assert.deepEqual(Object.keys(imported.weights).sort(), Object.keys(dict).sort());
    for (const [name, w] of Object.entries(imported.weights)) {
      assert.deepEqual(w.data, Float32Array.from(dict[name]!), name);
    }
  });
}

const named = (name: string): Case => CASES.find((c) => c.name === name) ?? assert.fail(`no case ${name}`);

test('export without the lengths input: full-length batches, onnxruntime agrees', async () => {
  const cases = [
    CASES[1]!, CASES[6]!, CASES[9]!, named('LSTM bidirectional, out[:, -1] (lastOutput)'), named('RNN relu 3 layers, lastOutput, opset 21'),
    named('LSTM bidirectional, max'), named('RNN tanh 2 layers bidirectional, max, opset 18'),
  ];
  for (const [k, c] of cases.entries()) {
    const model = livelyModel(c.config, 300 + k);
    const bytes = exportOnnx(model, { ...c.options, lengths: false, batchFirst: true });
    const input = inputFor(c.config, true, 400 + k, Array.from({ length: B }, () => T));
    const ours = runModel(model, input);
    const theirs = await runOrt(bytes, input, false);
    const diff = assertClose(theirs.y!, ours, `${c.name} without lengths`, 1e-5, 1e-5);
    console.log(`  ${c.name} without lengths: max abs diff ${diff.maxAbs.toExponential(2)}`);
    const back = importOnnx(bytes);
    assert.deepEqual(back.config, model.config);
    for (const [name, w] of Object.entries(back.weights)) assert.deepEqual(w.data, Float32Array.from(model.stateDict()[name]!), name);
  }
});

test('the graph alone says the pooling: each head imports as itself with the metadata removed', () => {
  for (const pooling of ['hn', 'lastOutput', 'mean', 'max'] as const) {
    for (const lengths of [true, false]) {
      const config: ModelConfig = {
        input: features(3), rnn: { cell: 'gru', hiddenSize: 4, bidirectional: true },
        output: { mode: 'sequence', type: 'regression', size: 2, pooling },
      };
      const model = new SequenceModel(config, { seed: 9 });
      const m = decodeModelProto(exportOnnx(model, { lengths }), 'export');
      m.metadata_props = [];
      const imported = importOnnx(encodeModelProto(m as unknown as Record<string, unknown>));
      assert.equal(imported.config.output.pooling, pooling, `${pooling}, lengths ${lengths}`);
      for (const [name, w] of Object.entries(imported.weights)) assert.deepEqual(w.data, Float32Array.from(model.stateDict()[name]!), name);
    }
  }
});

test('layout 1 (batch-first recurrent operators): written, refused by onnxruntime\'s CPU kernels, imported back exactly', async () => {
  const cases = [CASES[1]!, CASES[2]!, CASES[7]!, named('LSTM bidirectional, out[:, -1] (lastOutput)'), named('LSTM bidirectional, max')];
  for (const [k, c] of cases.entries()) {
    for (const batchFirst of [true, false]) {
      const model = livelyModel(c.config, 500 + k);
      const bytes = exportOnnx(model, { layout: 1, batchFirst });
      const { model: back, imported } = loadOnnxModel(bytes);
      assert.equal(imported.batchFirst, batchFirst);
      assert.deepEqual(imported.config, model.config);
      const input = inputFor(c.config, batchFirst, 600 + k);
      assert.deepEqual(runModel(back, input), runModel(model, input), `${c.name}, layout 1`);
    }
  }
  const bytes = exportOnnx(livelyModel(CASES[0]!.config, 1), { layout: 1 });
  await assert.rejects(ort.InferenceSession.create(bytes, { logSeverityLevel: 4 }), /layout/);
});

test('export refuses what ONNX cannot hold, naming it', () => {
  const proj = new SequenceModel(
    { input: features(3), rnn: { cell: 'lstm', hiddenSize: 6, projSize: 2 }, output: { mode: 'sequence', type: 'regression', size: 1 } },
    { seed: 1 },
  );
  assert.throws(() => exportOnnx(proj), (e: unknown) => e instanceof ValueError && /projSize/.test(e.message));
  const plain = new SequenceModel(CASES[0]!.config, { seed: 1 });
  assert.throws(() => exportOnnx(plain, { opset: 13 }), (e: unknown) => e instanceof ValueError && /opset/.test(e.message));
  assert.throws(() => exportOnnx(plain, { layout: 2 as 0 }), (e: unknown) => e instanceof ValueError && /layout/.test(e.message));
});

test('export keeps preprocessing and the full config in the metadata', () => {
  const config: ModelConfig = { ...CASES[0]!.config, rnn: { cell: 'lstm', hiddenSize: 5, dropout: 0.2, numLayers: 2 }, train: { epochs: 3 } };
  const model = new SequenceModel(config, { seed: 3 });
  const preprocessing = { scaler: { mean: [1, 2, 3], std: [0.5, 1, 2] } };
  const imported = importOnnx(exportOnnx(model, { preprocessing }));
  assert.deepEqual(imported.config, model.config);
  assert.deepEqual(imported.preprocessing, preprocessing);
});
