// Keras's own files: .keras archives (Keras 3), legacy .h5 files (Keras 2's
// and Keras 3's model.save("m.h5")) and the .h5 files of save_weights. They
// hold the weights of the numpy fixtures (test/fixtures/make_keras_files.py
// writes them with h5py in Keras's documented layouts; Keras itself cannot be
// installed here), so each import must equal the .npz import bit for bit and
// give the outputs of <name>.io.json.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { strToU8, unzipSync, zipSync } from 'fflate';

import { FormatError } from '../../src/core/errors.js';
import { importKeras, type KerasImportOptions } from '../../src/io/keras.js';
import { readKerasFiles, readKerasModelJson, readKerasWeights, snakeCase, type KerasSource } from '../../src/io/kerasfiles.js';
import type { SequenceModel } from '../../src/model/model.js';
import { FIXTURES, assertClose } from '../helpers/fixtures.js';
import { flat, outputsOn } from '../helpers/imported.js';

const DIR = join(FIXTURES, 'keras');

function file(name: string): KerasSource {
  return { bytes: new Uint8Array(readFileSync(join(DIR, name))), source: name };
}

function io(name: string): { options: KerasImportOptions; inputs: unknown[][]; outputs: unknown[] } {
  return JSON.parse(readFileSync(join(DIR, `${name}.io.json`), 'utf8')) as { options: KerasImportOptions; inputs: unknown[][]; outputs: unknown[] };
}

function refused(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FormatError, `a FormatError, got ${String(e)}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" should mention ${f}`);
    return true;
  });
}

/** The import of the .model.json + .weights.npz pair, the reference. */
function fromNpz(name: string): SequenceModel {
  const files = readKerasFiles(file(`${name}.model.json`), file(`${name}.weights.npz`));
  return importKeras(files.modelJson, files.arrays, io(name).options).model;
}

function checkOutputs(model: SequenceModel, name: string): void {
  const { options, inputs, outputs } = io(name);
  const vocabulary = options.vocabulary;
  const xs = model.config.input.type === 'tokens'
    ? inputs.map((ids) => (ids as number[]).map((id) => (vocabulary ? vocabulary[id]! : String(id))))
    : inputs;
  const got = outputsOn(model, xs);
  const binary = model.outputSize === 2 && flat(outputs[0]).length * 2 === got[0]!.length;
  outputs.forEach((expected, b) => {
    const want = binary ? flat(expected).flatMap((p) => [1 - p, p]) : flat(expected);
    assertClose(got[b]!, want, `${name} sequence ${b}`, 1e-5, 1e-6);
  });
}

const CASES: [string, string, string | undefined][] = [
  // [fixture, model file, weights file]
  ['lstm_regression', 'lstm_regression.keras', undefined],
  ['bilstm_stacked_softmax', 'bilstm_stacked_softmax.keras', undefined],
  ['gru_embedding_step', 'gru_embedding_step.keras', undefined],
  ['simplernn_relu_mean', 'simplernn_relu_mean.keras', undefined],
  ['lstm_language_model', 'lstm_language_model.keras', undefined],
  ['bilstm_stacked_softmax', 'bilstm_stacked_softmax.h5', undefined],
  ['gru_functional_keras2_sigmoid', 'gru_functional_keras2_sigmoid.h5', undefined],
  ['bigru_embedding_keras2', 'bigru_embedding_keras2.h5', undefined],
  ['bigru_embedding_keras2', 'bigru_embedding_keras2.split_names.h5', undefined],
  ['lstm_regression', 'lstm_regression.model.json', 'lstm_regression.weights.h5'],
  ['gru_functional_keras2_sigmoid', 'gru_functional_keras2_sigmoid.model.json', 'gru_functional_keras2_sigmoid.weights.h5'],
  ['gru_embedding_step', 'gru_embedding_step.model.json', 'gru_embedding_step.keras'],
];

for (const [name, modelFile, weightsFile] of CASES) {
  test(`Keras files: ${modelFile}${weightsFile ? ` + ${weightsFile}` : ''} imports as the .npz does, and matches Keras's outputs`, () => {
    const files = readKerasFiles(file(modelFile), weightsFile ? file(weightsFile) : undefined);
    const { model } = importKeras(files.modelJson, files.arrays, { ...io(name).options, source: modelFile, weightsSource: files.weightsSource });
    assert.deepEqual(model.config, fromNpz(name).config);
    assert.deepEqual(model.stateDict(), fromNpz(name).stateDict());
    checkOutputs(model, name);
  });
}

test('Keras 3 names weight groups by class, in order, not by layer name; a legacy file by weight_names', () => {
  assert.deepEqual(['SimpleRNN', 'GlobalAveragePooling1D', 'LSTM', 'TimeDistributed', 'Dense'].map(snakeCase),
    ['simple_rnn', 'global_average_pooling1d', 'lstm', 'time_distributed', 'dense']);
  const keras = readKerasFiles(file('bilstm_stacked_softmax.keras'));
  assert.deepEqual(keras.arrays.map((a) => a.name).slice(0, 4), [
    'layers/bidirectional/forward_layer/cell/vars/0', 'layers/bidirectional/forward_layer/cell/vars/1',
    'layers/bidirectional/forward_layer/cell/vars/2', 'layers/bidirectional/backward_layer/cell/vars/0',
  ]);
  assert.equal(keras.arrays[6]!.name, 'layers/bidirectional_1/forward_layer/cell/vars/0');
  assert.equal(keras.weightsSource, 'bilstm_stacked_softmax.keras: model.weights.h5');
  const legacy = readKerasFiles(file('bigru_embedding_keras2.h5'));
  assert.deepEqual(legacy.arrays.map((a) => a.name).slice(0, 2), ['embedding/embeddings:0', 'bidirectional/forward_gru/gru_cell/kernel:0']);

  // Layers renamed in config.json read the same weights: the names never enter the paths.
  const archive = unzipSync(file('lstm_regression.keras').bytes);
  const config = JSON.parse(new TextDecoder().decode(archive['config.json'])) as { config: { layers: { config: { name: string } }[] } };
  config.config.layers.forEach((l, i) => (l.config.name = `renamed_${i}`));
  const renamed = zipSync({ ...archive, 'config.json': strToU8(JSON.stringify(config)) });
  const files = readKerasFiles({ bytes: renamed, source: 'renamed.keras' });
  assert.deepEqual(importKeras(files.modelJson, files.arrays).model.stateDict(), fromNpz('lstm_regression').stateDict());
});

test('Keras files: what is missing or does not fit is named', () => {
  refused(() => readKerasFiles(file('lstm_regression.model.json')), 'lstm_regression.model.json: the architecture alone', 'give the weights too');
  refused(() => readKerasWeights(file('lstm_regression.weights.h5').bytes, 'w.weights.h5'), 'w.weights.h5: Keras 3 weights', 'give the model too');
  refused(() => readKerasModelJson(file('lstm_regression.weights.h5').bytes, 'w.weights.h5'), 'w.weights.h5: an HDF5 file without model_config');
  refused(() => readKerasModelJson(file('lstm_regression.weights.npz').bytes, 'w.npz'), 'w.npz: an .npz of weights, not a model');
  refused(() => readKerasWeights(file('hdf5_cases.h5').bytes, 'other.h5'), 'other.h5: an HDF5 file without Keras weights');

  // The weights of another model: Keras 3 names the groups it lacks, the legacy count is wrong.
  refused(
    () => readKerasFiles(file('gru_embedding_step.model.json'), file('lstm_regression.keras')),
    'lstm_regression.keras: model.weights.h5: has no layers/embedding/vars', "layer 'embedding' (Embedding)", 'layers holds dense, lstm',
  );
  const other = readKerasFiles(file('lstm_regression.model.json'), file('bigru_embedding_keras2.h5'));
  refused(
    () => importKeras(other.modelJson, other.arrays, { source: 'm.json', weightsSource: other.weightsSource, weightsHint: other.weightsHint }),
    'bigru_embedding_keras2.h5: holds 9 arrays', 'has 5 weights', 'from the same model',
  );

  // Weights formats Keras can write but lstmkit does not read.
  const archive = unzipSync(file('lstm_regression.keras').bytes);
  const npz = zipSync({ 'config.json': archive['config.json']!, 'model.weights.npz': new Uint8Array(4) });
  refused(() => readKerasFiles({ bytes: npz, source: 'npz.keras' }), 'npz.keras: its weights are model.weights.npz', 'pickle');
  const sharded = zipSync({ 'config.json': archive['config.json']!, 'model.weights.json': strToU8('{}') });
  refused(() => readKerasFiles({ bytes: sharded, source: 'sharded.keras' }), 'sharded.keras: its weights are sharded');
  refused(() => readKerasFiles({ bytes: zipSync({ 'metadata.json': strToU8('{}'), 'model.weights.h5': archive['model.weights.h5']! }), source: 'x.keras' }),
    'x.keras: a .keras archive without config.json');
});
