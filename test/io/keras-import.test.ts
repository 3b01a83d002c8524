// Keras import: model.to_json() + an .npz of model.get_weights() become
// lstmkit models whose outputs match Keras's. The fixtures are built by
// test/fixtures/make_keras_fixtures.py from Keras's documented equations and
// layout (Keras itself cannot be installed here). Every architecture that does
// not map exactly is refused with an error naming the layer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';

import { FormatError } from '../../src/core/errors.js';
import { importKeras, type KerasImportOptions } from '../../src/io/keras.js';
import { readKerasModelJson, readKerasWeights } from '../../src/io/kerasfiles.js';
import { decodeNpz, parseNpy, unzipEntries, type NpyArray } from '../../src/io/npz.js';
import { FIXTURES, assertClose } from '../helpers/fixtures.js';
import { flat, outputsOn } from '../helpers/imported.js';

const DIR = join(FIXTURES, 'keras');

interface KerasCase {
  model: unknown;
  arrays: NpyArray[];
  options: KerasImportOptions;
  inputs: unknown[][];
  outputs: unknown[];
}

function load(name: string): KerasCase {
  const model = readKerasModelJson(new Uint8Array(readFileSync(join(DIR, `${name}.model.json`))), `${name}.model.json`);
  const arrays = readKerasWeights(new Uint8Array(readFileSync(join(DIR, `${name}.weights.npz`))), `${name}.weights.npz`);
  const io = JSON.parse(readFileSync(join(DIR, `${name}.io.json`), 'utf8')) as { options: KerasImportOptions; inputs: unknown[][]; outputs: unknown[] };
  return { model, arrays, ...io };
}

/** A deep copy of a fixture's model JSON to break on purpose. */
function modelCopy(name: string): { layers: Record<string, unknown>[]; json: Record<string, unknown> } {
  const json = structuredClone(load(name).model) as { config: { layers: Record<string, unknown>[] } };
  return { layers: json.config.layers, json: json as unknown as Record<string, unknown> };
}

function configOf(layer: Record<string, unknown>): Record<string, unknown> {
  return layer.config as Record<string, unknown>;
}

function refused(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof FormatError, `a FormatError, got ${String(err)}`);
    for (const f of fragments) assert.ok((err as Error).message.includes(f), `"${(err as Error).message}" should mention ${f}`);
    return true;
  });
}

const CASES: Record<string, (c: KerasCase) => void> = {
  lstm_regression: () => {},
  bilstm_stacked_softmax: () => {},
  gru_embedding_step: () => {},
  gru_functional_keras2_sigmoid: () => {},
  simplernn_relu_mean: () => {},
  bigru_embedding_keras2: () => {},
  lstm_language_model: () => {},
};

for (const name of Object.keys(CASES)) {
  test(`Keras import matches Keras's equations: ${name}`, () => {
    const c = load(name);
    const { model } = importKeras(c.model, c.arrays, { ...c.options, source: name });
    const vocabulary = c.options.vocabulary;
    const xs = model.config.input.type === 'tokens'
      ? c.inputs.map((ids) => (ids as number[]).map((id) => (vocabulary ? vocabulary[id]! : String(id))))
      : c.inputs;
    const got = outputsOn(model, xs);
    const binary = model.outputSize === 2 && flat(c.outputs[0]).length * 2 === got[0]!.length;
    let worst = { maxAbs: 0, maxRel: 0 };
    c.outputs.forEach((expected, b) => {
      // One sigmoid unit p becomes the two class probabilities [1 − p, p].
      const want = binary ? flat(expected).flatMap((p) => [1 - p, p]) : flat(expected);
      const d = assertClose(got[b]!, want, `${name} sequence ${b}`, 1e-5, 1e-6);
      worst = { maxAbs: Math.max(worst.maxAbs, d.maxAbs), maxRel: Math.max(worst.maxRel, d.maxRel) };
    });
    console.log(`${name}: max abs diff ${worst.maxAbs.toExponential(2)}, max rel ${worst.maxRel.toExponential(2)}`);
  });
}

test('the configs Keras models map to', () => {
  const config = (name: string, extra: KerasImportOptions = {}) => {
    const c = load(name);
    return importKeras(c.model, c.arrays, { ...c.options, ...extra }).model.config;
  };
  assert.deepEqual(config('lstm_regression'), {
    input: { type: 'features', size: 3 },
    rnn: { cell: 'lstm', hiddenSize: 5, numLayers: 1, bidirectional: false },
    output: { mode: 'sequence', type: 'regression', size: 2, pooling: 'last' },
  });
  assert.deepEqual(config('bilstm_stacked_softmax').rnn, { cell: 'lstm', hiddenSize: 4, numLayers: 2, bidirectional: true });
  assert.deepEqual(config('bilstm_stacked_softmax').output, { mode: 'sequence', type: 'classification', classes: ['low', 'mid', 'high'], pooling: 'last' });
  assert.deepEqual(config('gru_embedding_step').output, { mode: 'step', type: 'regression', size: 2 });
  assert.deepEqual(config('gru_embedding_step').input, { type: 'tokens', embeddingDim: 4, vocabulary: ['0', '1', '2', '3', '4', '5', '6', '7'] });
  assert.deepEqual(config('gru_functional_keras2_sigmoid').output, { mode: 'sequence', type: 'classification', classes: ['no', 'yes'], pooling: 'last' });
  assert.deepEqual(config('simplernn_relu_mean').rnn, { cell: 'rnn', hiddenSize: 5, numLayers: 2, bidirectional: false, nonlinearity: 'relu' });
  assert.equal(config('simplernn_relu_mean').output.pooling, 'mean');
  assert.equal(config('lstm_language_model').output.mode, 'next');
  assert.deepEqual(config('lstm_language_model', { next: false }).output, { mode: 'step', type: 'classification', classes: ['0', '1', '2', '3', '4', '5'] });
  assert.equal((config('bigru_embedding_keras2', { tokenizer: 'word' }).input as { tokenizer: string }).tokenizer, 'word');
});

test('older layouts: a Sequential whose config is the layer list (Keras 2.0), a Functional called Model, an Activation layer after Dense', () => {
  const c = load('bigru_embedding_keras2');
  const list = structuredClone(c.model) as { config: { layers: unknown[] } | unknown[] };
  list.config = (list.config as { layers: unknown[] }).layers;
  const opts = { vocabulary: c.options.vocabulary! };
  assert.deepEqual(
    importKeras(list, c.arrays, opts).model.stateDict(),
    importKeras(c.model, c.arrays, opts).model.stateDict(),
  );
  const f = load('gru_functional_keras2_sigmoid');
  const model = { ...(f.model as object), class_name: 'Model' };
  assert.deepEqual(importKeras(model, f.arrays).model.config, importKeras(f.model, f.arrays).model.config);
  const m = modelCopy('lstm_regression');
  m.layers.push({ class_name: 'Activation', config: { name: 'activation', activation: 'softmax' } });
  assert.equal(importKeras(m.json, load('lstm_regression').arrays).model.config.output.type, 'classification');
});

test('a linear head with classes given reads its outputs as logits', () => {
  const c = load('lstm_regression');
  const { model, notes } = importKeras(c.model, c.arrays, { classes: ['a', 'b'] });
  assert.deepEqual(model.config.output.classes, ['a', 'b']);
  assert.ok(notes.some((n) => n.includes('logits')));
  const [p] = outputsOn(model, [c.inputs[0]]);
  const z = flat(c.outputs[0]);
  const e = z.map((v) => Math.exp(v - Math.max(...z)));
  assertClose(p!, e.map((v) => v / (e[0]! + e[1]!)), 'softmax of the Keras outputs', 1e-5, 1e-6);
});

test('weights named by Keras path are checked against the weight they stand for', () => {
  const c = load('bilstm_stacked_softmax');
  assert.equal(c.arrays[1]!.name, 'sequential_1/bidirectional/forward_lstm/lstm_cell/recurrent_kernel');
  const swapped = [c.arrays[1]!, c.arrays[0]!, ...c.arrays.slice(2)];
  refused(() => importKeras(c.model, swapped), 'recurrent_kernel');
});

// ------------------------------------------------------------ refusals

test('GRU with reset_after=False is refused by name', () => {
  const { layers, json } = modelCopy('gru_embedding_step');
  configOf(layers[2]!).reset_after = false;
  refused(() => importKeras(json, load('gru_embedding_step').arrays, { source: 'm.json' }), 'm.json', "layer 'gru' (GRU)", 'reset_after=False');
});

test('Bidirectional merge modes other than concat are refused by name', () => {
  for (const mode of ['sum', 'ave', 'mul', null]) {
    const { layers, json } = modelCopy('bilstm_stacked_softmax');
    configOf(layers[2]!).merge_mode = mode;
    refused(() => importKeras(json, load('bilstm_stacked_softmax').arrays), "layer 'bidirectional' (Bidirectional)", `merge_mode ${JSON.stringify(mode)}`);
  }
});

test('activations other than Keras defaults (tanh, sigmoid) are refused by name', () => {
  let m = modelCopy('lstm_regression');
  configOf(m.layers[1]!).recurrent_activation = 'hard_sigmoid';
  refused(() => importKeras(m.json, load('lstm_regression').arrays), "layer 'lstm' (LSTM)", 'hard_sigmoid');
  m = modelCopy('lstm_regression');
  configOf(m.layers[1]!).activation = 'relu';
  refused(() => importKeras(m.json, load('lstm_regression').arrays), "layer 'lstm' (LSTM)", "activation 'relu'");
  m = modelCopy('simplernn_relu_mean');
  configOf(m.layers[1]!).activation = 'sigmoid';
  refused(() => importKeras(m.json, load('simplernn_relu_mean').arrays), "layer 'simple_rnn' (SimpleRNN)", 'sigmoid');
});

test('heads other than linear, softmax or one sigmoid unit are refused by name', () => {
  let m = modelCopy('lstm_regression');
  configOf(m.layers[2]!).activation = 'relu';
  refused(() => importKeras(m.json, load('lstm_regression').arrays), "layer 'dense' (Dense)", "activation 'relu'");
  m = modelCopy('lstm_regression');
  configOf(m.layers[2]!).activation = 'sigmoid';
  refused(() => importKeras(m.json, load('lstm_regression').arrays), "layer 'dense' (Dense)", '2 sigmoid units');
  m = modelCopy('lstm_regression');
  m.layers.push({ class_name: 'Dense', config: { name: 'dense_9', units: 1, activation: 'linear' } });
  refused(() => importKeras(m.json, load('lstm_regression').arrays), "layer 'dense_9' (Dense)", "follows the head layer 'dense'");
});

test('layers lstmkit has no counterpart for are refused by name', () => {
  const m = modelCopy('lstm_regression');
  m.layers.splice(1, 0, { class_name: 'Conv1D', config: { name: 'conv1d', filters: 3, kernel_size: 2 } });
  refused(() => importKeras(m.json, load('lstm_regression').arrays), "layer 'conv1d' (Conv1D)", 'not a layer lstmkit maps');
  const pooled = modelCopy('simplernn_relu_mean');
  (pooled.layers[3]!).class_name = 'GlobalMaxPooling1D';
  refused(() => importKeras(pooled.json, load('simplernn_relu_mean').arrays), "layer 'global_average_pooling1d' (GlobalMaxPooling1D)");
});

test('a recurrent stack of mixed sizes or cells is refused, naming both layers', () => {
  const m = modelCopy('simplernn_relu_mean');
  configOf(m.layers[2]!).units = 6;
  refused(() => importKeras(m.json, load('simplernn_relu_mean').arrays), "layer 'simple_rnn_1'", "layer 'simple_rnn'", '6 units', '5 units');
});

test('return_state, go_backwards outside Bidirectional and a middle layer without return_sequences are refused', () => {
  let m = modelCopy('lstm_regression');
  configOf(m.layers[1]!).return_state = true;
  refused(() => importKeras(m.json, load('lstm_regression').arrays), "layer 'lstm' (LSTM)", 'return_state');
  m = modelCopy('lstm_regression');
  configOf(m.layers[1]!).go_backwards = true;
  refused(() => importKeras(m.json, load('lstm_regression').arrays), "layer 'lstm' (LSTM)", 'go_backwards');
  m = modelCopy('simplernn_relu_mean');
  configOf(m.layers[1]!).return_sequences = false;
  refused(() => importKeras(m.json, load('simplernn_relu_mean').arrays), "layer 'simple_rnn_1'", 'return_sequences=False');
});

test('a Functional model that is not a chain is refused by name', () => {
  const m = modelCopy('gru_functional_keras2_sigmoid');
  (m.layers[2]!).inbound_nodes = [[['input_1', 0, 0, {}]]];
  refused(() => importKeras(m.json, load('gru_functional_keras2_sigmoid').arrays), "layer 'dense' (Dense)", "takes 'input_1'");
  refused(() => importKeras({ class_name: 'Conv1D', config: {} }, []), "'Conv1D' is not a model");
  refused(() => importKeras([1, 2], []), 'not a Keras model description');
});

test('weights that do not fit the architecture name the array and the layer', () => {
  const c = load('lstm_regression');
  refused(
    () => importKeras(c.model, c.arrays.slice(0, 4), { weightsSource: 'w.npz' }),
    'w.npz', 'holds 4 arrays', 'has 5 weights', "layer 'dense' (Dense) bias",
  );
  const swapped = [c.arrays[0]!, { ...c.arrays[2]!, name: 'arr_1' }, { ...c.arrays[1]!, name: 'arr_2' }, ...c.arrays.slice(3)];
  refused(
    () => importKeras(c.model, swapped, { weightsSource: 'w.npz' }),
    'w.npz: arr_1 has shape [20]', "layer 'lstm' (LSTM) recurrent_kernel should be [5, 20]",
  );
  const m = modelCopy('lstm_regression');
  configOf(m.layers[0]!).batch_shape = [null, 7, 4];
  refused(() => importKeras(m.json, c.arrays), 'arr_0 has shape [3, 20]', 'kernel should be [4, 20]');
  const nan = c.arrays.map((a) => ({ ...a, data: Float32Array.from(a.data) }));
  nan[1]!.data[7] = NaN;
  refused(() => importKeras(c.model, nan, { weightsSource: 'w.npz' }), "w.npz: arr_1 (layer 'lstm' (LSTM) recurrent_kernel) holds NaN at [7]");
});

test('vocabulary and class lists must fit the layers', () => {
  const c = load('gru_embedding_step');
  refused(() => importKeras(c.model, c.arrays, { vocabulary: ['a', 'b'] }), 'vocabulary has 2 tokens', 'input_dim 8');
  const d = load('bilstm_stacked_softmax');
  refused(() => importKeras(d.model, d.arrays, { classes: ['x', 'y'] }), '2 class labels', '3 units');
  const r = load('lstm_regression');
  refused(() => importKeras(r.model, r.arrays, { next: true }), 'per-step model');
});

// ------------------------------------------------------------ files

test('a .keras archive gives its config.json; a broken weights file inside it is named', () => {
  const text = readFileSync(join(DIR, 'lstm_regression.model.json'));
  const archive = zipSync({
    'metadata.json': strToU8('{"keras_version": "3.3.3"}'),
    'config.json': new Uint8Array(text),
    'model.weights.h5': new Uint8Array([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0]),
  });
  assert.deepEqual(readKerasModelJson(archive, 'm.keras'), JSON.parse(text.toString()));
  refused(() => readKerasWeights(archive, 'm.keras'), 'm.keras: model.weights.h5', 'not a readable HDF5 file');
  refused(() => readKerasWeights(new Uint8Array([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0]), 'w.h5'), 'w.h5', 'not a readable HDF5 file');
  refused(() => readKerasModelJson(strToU8('{"class_name": '), 'm.json'), 'm.json', 'not valid JSON');
});

// ------------------------------------------------------------ .npy and .npz

/** A .npy file by hand, as numpy.lib.format writes version 1.0 or 2.0. */
function npy(header: string, data: Uint8Array, major = 1): Uint8Array {
  const prefix = major === 1 ? 10 : 12;
  let text = header;
  while ((prefix + text.length + 1) % 64 !== 0) text += ' ';
  text += '\n';
  const out = new Uint8Array(prefix + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(strToU8(text), prefix);
  out.set(data, prefix + text.length);
  return out;
}

function bytes(values: number[], kind: 'f2' | 'f4' | 'f8', little = true): Uint8Array {
  const size = kind === 'f2' ? 2 : kind === 'f4' ? 4 : 8;
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (kind === 'f4') view.setFloat32(i * 4, v, little);
    else if (kind === 'f8') view.setFloat64(i * 8, v, little);
    else view.setUint16(i * 2, v, little); // raw half bits
  });
  return out;
}

test('.npy: float32 / float64 / float16, either byte order, C and Fortran order, versions 1 and 2', () => {
  const c = parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", bytes([1, 2, 3, 4, 5, 6], 'f4')), 'a');
  assert.deepEqual(c.shape, [2, 3]);
  assert.deepEqual(Array.from(c.data), [1, 2, 3, 4, 5, 6]);
  const f = parseNpy(npy("{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }", bytes([1, 4, 2, 5, 3, 6], 'f8', false), 2), 'b');
  assert.deepEqual(Array.from(f.data), [1, 2, 3, 4, 5, 6]);
  const h = parseNpy(npy("{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }", bytes([0x3c00, 0xc000, 0x0001], 'f2')), 'c');
  assert.deepEqual(Array.from(h.data), [1, -2, 2 ** -24]);
  const scalar = parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", bytes([7.5], 'f4')), 'd');
  assert.deepEqual([scalar.shape, Array.from(scalar.data)], [[], [7.5]]);
});

test('.npy: what is not a float array, or does not add up, is a FormatError naming the entry', () => {
  const ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  refused(
    () => parseNpy(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(16)), 'ids', 'w.npz'),
    'w.npz: ids', "'<i8'", 'not a float array',
  );
  refused(() => parseNpy(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", new Uint8Array(8)), 'rec'), 'rec', 'structured');
  refused(() => parseNpy(npy(ok, new Uint8Array(7)), 'short'), 'short', 'needs 8 bytes', 'holds 7');
  refused(() => parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", new Uint8Array(8)), 'neg'), 'neg', 'not a tuple of sizes');
  refused(() => parseNpy(npy(ok, new Uint8Array(8), 4), 'v4'), 'v4', 'version 4');
  refused(() => parseNpy(strToU8('PK not npy'), 'x'), 'x', 'magic');
  const truncated = npy(ok, new Uint8Array(8)).subarray(0, 30);
  refused(() => parseNpy(truncated, 't'), 't', 'runs past the end');
});

test('.npz: entries in archive order, stored or deflated; other content is refused', () => {
  const a = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", bytes([1], 'f4'));
  const b = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", bytes([2], 'f4'));
  const stored = zipSync({ 'arr_0.npy': [a, { level: 0 }], 'arr_1.npy': [b, { level: 6 }] });
  assert.deepEqual(decodeNpz(stored, 'w.npz').map((x) => [x.name, x.data[0]]), [['arr_0', 1], ['arr_1', 2]]);
  refused(() => decodeNpz(zipSync({ 'notes.txt': strToU8('hi') }), 'w.npz'), 'w.npz', 'notes.txt', 'not a .npy array');
  refused(() => decodeNpz(strToU8('plain text'), 'w.npz'), 'w.npz', 'not a zip archive');
  refused(() => unzipEntries(stored, 'w.npz', { maxBytes: 100 }), 'w.npz', 'unpacks to more than 100 bytes');
  const broken = stored.slice(0, stored.length - 30);
  refused(() => decodeNpz(broken, 'w.npz'), 'w.npz');
});

test('arr_N weights are taken in numeric order, whatever the archive order', () => {
  const c = load('lstm_regression');
  const reversed = [...c.arrays].reverse();
  const a = importKeras(c.model, reversed).model.stateDict();
  const b = importKeras(c.model, c.arrays).model.stateDict();
  assert.deepEqual(a, b);
});
