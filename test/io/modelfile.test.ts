// The lstmkit model file: lstmkit → file → lstmkit is bit-exact (weights,
// config, extras and outputs), encoding is deterministic, and files this
// lstmkit cannot read — a newer format_version, another format — get a clear
// error naming the file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { FormatError, LstmkitError } from '../../src/core/errors.js';
import { FORMAT_VERSION, decodeModelFile, encodeModelFile, modelFromFile } from '../../src/io/modelfile.js';
import { loadModel, saveModel } from '../../src/io/modelpath.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import type { ModelConfig } from '../../src/model/config.js';
import { SequenceModel } from '../../src/model/model.js';
import { tempDir } from '../helpers/cli.js';
import { outputsOn } from '../helpers/imported.js';

const CONFIGS: Record<string, ModelConfig> = {
  'projected bidirectional 2-layer LSTM, classes': {
    input: { type: 'features', size: 3 },
    rnn: { cell: 'lstm', hiddenSize: 7, numLayers: 2, bidirectional: true, projSize: 3 },
    output: { mode: 'sequence', type: 'classification', classes: ['a', 'b', 'c'] },
  },
  'GRU over tokens, per step': {
    input: { type: 'tokens', embeddingDim: 4, vocabulary: ['<pad>', '<unk>', 'x', 'y', 'z'], tokenizer: 'char' },
    rnn: { cell: 'gru', hiddenSize: 5 },
    output: { mode: 'step', type: 'regression', size: 2 },
    train: { epochs: 3, optimizer: { name: 'adam', lr: 0.01 } },
  },
  'relu RNN, mean pooling': {
    input: { type: 'features', size: 2 },
    rnn: { cell: 'rnn', hiddenSize: 6, nonlinearity: 'relu' },
    output: { mode: 'sequence', type: 'regression', pooling: 'mean' },
  },
};

const INPUTS: Record<string, unknown[]> = {
  'projected bidirectional 2-layer LSTM, classes': [[[1, 2, 3], [0.5, -1, 2]], [[0, 1, -1]]],
  'GRU over tokens, per step': ['xyzzy', 'zx', 'q'],
  'relu RNN, mean pooling': [[[1, 2], [3, -4], [0.25, 0.5]], [[-1, 1]]],
};

/** The bytes of a float32 array, to compare bit for bit (−0 and NaN patterns included). */
function bits(a: ArrayLike<number>): string {
  return Buffer.from(Float32Array.from(a).buffer).toString('hex');
}

function assertSameModel(a: SequenceModel, b: SequenceModel, inputs: unknown[]): void {
  assert.deepEqual(b.config, a.config);
  const da = a.stateDict();
  const db = b.stateDict();
  assert.deepEqual(Object.keys(db), Object.keys(da));
  for (const name of Object.keys(da)) assert.equal(bits(db[name]!), bits(da[name]!), name);
  const ya = outputsOn(a, inputs);
  const yb = outputsOn(b, inputs);
  ya.forEach((y, i) => assert.equal(bits(yb[i]!), bits(y), `outputs of sequence ${i}`));
}

for (const [label, config] of Object.entries(CONFIGS)) {
  test(`round trip lstmkit → file → lstmkit is bit-exact: ${label}`, () => {
    const model = new SequenceModel(config, { seed: 11 });
    const extras = { preprocessing: { scaler: { mean: [0.1, -0.2], std: [1.5, 2] } }, training: { epochs: 4, note: 'ünïcode ✓' } };
    const bytes = encodeModelFile(model, extras);
    const contents = decodeModelFile(bytes, 'm.lstmkit');
    assert.equal(contents.formatVersion, FORMAT_VERSION);
    assert.deepEqual(contents.preprocessing, extras.preprocessing);
    assert.deepEqual(contents.training, extras.training);
    const loaded = modelFromFile(contents, { seed: 99 }, 'm.lstmkit');
    assert.ok(loaded instanceof SequenceModel);
    assertSameModel(model, loaded, INPUTS[label]!);
    // Writing the loaded model again gives the same bytes.
    assert.equal(Buffer.from(encodeModelFile(loaded, extras)).toString('hex'), Buffer.from(bytes).toString('hex'));
  });
}

test('saveModel / loadModel on disk are bit-exact, including extreme weight values', async () => {
  const config = CONFIGS['relu RNN, mean pooling']!;
  const model = new SequenceModel(config, { seed: 3 });
  const dict = model.stateDict();
  const w = dict['rnn.weight_ih_l0']!;
  w[0] = -0;
  w[1] = 1.401298464324817e-45; // the smallest float32 denormal
  w[2] = 3.4028234663852886e38;
  w[3] = -1.1754943508222875e-38;
  model.loadStateDict(dict);
  const path = join(tempDir(), 'model.lstmkit');
  await saveModel(path, model, { training: { epochs: 1 } });
  const { model: loaded, contents } = await loadModel(path);
  assert.ok(loaded instanceof SequenceModel);
  assert.equal(contents.path, path);
  assert.equal(bits(loaded.stateDict()['rnn.weight_ih_l0']!.subarray(0, 4)), bits([-0, 1.401298464324817e-45, 3.4028234663852886e38, -1.1754943508222875e-38]));
  assertSameModel(model, loaded, INPUTS['relu RNN, mean pooling']!);
});

/** A model file with its metadata changed. */
function withMetadata(model: SequenceModel, change: (meta: Record<string, string>) => void): Uint8Array {
  const file = decodeSafetensors(encodeModelFile(model));
  const metadata = { ...file.metadata };
  change(metadata);
  return encodeSafetensors(file.tensors, metadata);
}

function refused(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof FormatError, `a FormatError, got ${String(err)}`);
    for (const f of fragments) assert.ok((err as Error).message.includes(f), `"${(err as Error).message}" should mention ${f}`);
    return true;
  });
}

test('a model file from a newer lstmkit (format_version above ours) is refused with a clear message', async () => {
  const model = new SequenceModel(CONFIGS['relu RNN, mean pooling']!, { seed: 1 });
  const newer = withMetadata(model, (m) => (m.format_version = String(FORMAT_VERSION + 1)));
  refused(() => decodeModelFile(newer, 'future.lstmkit'), 'future.lstmkit', `model format ${FORMAT_VERSION + 1}`, `up to ${FORMAT_VERSION}`, 'upgrade lstmkit');
  // Through the file system too, as `lstmkit predict future.lstmkit` would.
  const path = join(tempDir(), 'future.lstmkit');
  writeFileSync(path, newer);
  await assert.rejects(
    loadModel(path),
    (err: unknown) => err instanceof LstmkitError && (err as Error).message.includes(path) && (err as Error).message.includes('newer lstmkit'),
  );
});

test('files that are not lstmkit model files name what is wrong', () => {
  const model = new SequenceModel(CONFIGS['relu RNN, mean pooling']!, { seed: 1 });
  refused(() => decodeModelFile(withMetadata(model, (m) => (m.format_version = 'two')), 'm'), 'format_version "two"');
  refused(() => decodeModelFile(withMetadata(model, (m) => (m.format = 'pt')), 'm'), 'not an lstmkit model file', '"pt"');
  refused(() => decodeModelFile(withMetadata(model, (m) => (m.config = '{"input":')), 'm'), 'metadata "config" is not valid JSON');
  refused(() => decodeModelFile(withMetadata(model, (m) => (m.config = JSON.stringify({ ...model.config, rnn: { cell: 'lstm' } }))), 'm'), 'hiddenSize');
  // A tensor missing from the file: loading names it.
  const file = decodeSafetensors(encodeModelFile(model));
  const tensors = { ...file.tensors };
  delete tensors['head.bias'];
  const contents = decodeModelFile(encodeSafetensors(tensors, file.metadata), 'm.lstmkit');
  refused(() => modelFromFile(contents, {}, 'm.lstmkit'), 'm.lstmkit', 'head.bias');
});
