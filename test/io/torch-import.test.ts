// PyTorch import: state_dicts of torch modules (written by the shipped
// scripts/torch_to_safetensors.py) become lstmkit models whose outputs match
// PyTorch's on sequences of different lengths; every mismatch of names,
// shapes or dtypes is an error naming the tensor.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { StateDictError, ValueError } from '../../src/core/errors.js';
import { decodeSafetensors, type SafetensorsFile, type SafetensorsTensor } from '../../src/io/safetensors.js';
import { importTorch, parseRenames } from '../../src/io/torch.js';
import type { ModelConfig } from '../../src/model/config.js';
import { FIXTURES, assertClose, listFixtures } from '../helpers/fixtures.js';
import { flat, outputsOn } from '../helpers/imported.js';

interface TorchCase {
  arch: ModelConfig;
  rename?: Record<string, string>;
  inputs: unknown[][];
  outputs: unknown[];
}

const DIR = join(FIXTURES, 'torch_import');

function load(name: string): { doc: TorchCase; file: SafetensorsFile } {
  const doc = JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as TorchCase;
  const file = decodeSafetensors(new Uint8Array(readFileSync(join(DIR, `${name}.safetensors`))), { source: `${name}.safetensors` });
  return { doc, file };
}

/**
 * Record `x` values: feature steps as they are, token ids as the vocabulary's strings
 * (ids as strings when it has none).
 */
export function recordInputs(arch: ModelConfig, inputs: readonly unknown[][]): unknown[] {
  if (arch.input.type !== 'tokens') return [...inputs];
  const vocabulary = arch.input.vocabulary;
  return inputs.map((ids) => (ids as number[]).map((id) => (vocabulary ? vocabulary[id]! : String(id))));
}

function refused(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StateDictError || err instanceof ValueError, `a StateDictError, got ${String(err)}`);
    for (const f of fragments) assert.ok((err as Error).message.includes(f), `"${(err as Error).message}" should mention ${f}`);
    return true;
  });
}

const cases = listFixtures('torch_import').map((f) => f.replace(/\.json$/, ''));

test('the torch import fixtures are all there', () => {
  assert.deepEqual(cases, [
    'gru_2layer_step', 'gru_embedding_mean_renamed', 'lstm_2layer_bidir_classes', 'lstm_embedding_classes',
    'lstm_proj_nobias', 'lstm_sequence', 'rnn_relu_bidir_step_classes',
  ]);
});

for (const name of cases) {
  test(`PyTorch import matches PyTorch: ${name}`, () => {
    const { doc, file } = load(name);
    const { model } = importTorch(file, doc.arch, { source: name, ...(doc.rename ? { rename: doc.rename } : {}) });
    const got = outputsOn(model, recordInputs(doc.arch, doc.inputs));
    let worst = { maxAbs: 0, maxRel: 0 };
    doc.outputs.forEach((expected, b) => {
      const d = assertClose(got[b]!, flat(expected), `${name} sequence ${b}`, 1e-5, 1e-6);
      worst = { maxAbs: Math.max(worst.maxAbs, d.maxAbs), maxRel: Math.max(worst.maxRel, d.maxRel) };
    });
    console.log(`${name}: max abs diff ${worst.maxAbs.toExponential(2)}, max rel ${worst.maxRel.toExponential(2)}`);
    // Imported weights are the file's, bit for bit (after renaming).
    const dict = model.stateDict();
    for (const [original, t] of Object.entries(file.tensors)) {
      const renamed = doc.rename
        ? Object.entries(doc.rename).reduce((n, [from, to]) => (n.startsWith(`${from}.`) ? `${to}.${n.slice(from.length + 1)}` : n), original)
        : original;
      assert.deepEqual(dict[renamed], t.data, renamed);
    }
  });
}

test('defaults fill the vocabulary and classes from the tensors; given ones are kept', () => {
  const renamed = load('gru_embedding_mean_renamed');
  const a = importTorch(renamed.file, renamed.doc.arch, { rename: renamed.doc.rename! });
  assert.deepEqual((a.model.config.input as { vocabulary: string[] }).vocabulary, ['0', '1', '2', '3', '4', '5', '6']);
  assert.ok(a.notes.some((n) => n.includes('tokens are named by their ids')));
  const classes = load('rnn_relu_bidir_step_classes');
  const b = importTorch(classes.file, classes.doc.arch);
  assert.deepEqual(b.model.config.output.classes, ['0', '1', '2']);
  const given = load('lstm_2layer_bidir_classes');
  assert.deepEqual(importTorch(given.file, given.doc.arch).model.config.output.classes, ['neg', 'neu', 'pos']);
});

test('bias=False imports as zero biases, with a note', () => {
  const { doc, file } = load('lstm_proj_nobias');
  const { model, notes } = importTorch(file, doc.arch);
  assert.ok(model.stateDict()['rnn.bias_ih_l0']!.every((v) => v === 0));
  assert.ok(model.stateDict()['head.bias']!.every((v) => v === 0));
  assert.equal(notes.length, 2);
});

test('F64 and F16 weights are read as float32', () => {
  const { doc, file } = load('lstm_sequence');
  const f64: SafetensorsFile = {
    metadata: {},
    tensors: Object.fromEntries(Object.entries(file.tensors).map(([n, t]) => [
      n, { dtype: 'F64', shape: t.shape, data: Float64Array.from(t.data as Float32Array) },
    ])),
  };
  const a = importTorch(f64, doc.arch).model;
  const b = importTorch(file, doc.arch).model;
  assert.deepEqual(a.stateDict(), b.stateDict());
});

test('a missing tensor is named, with its shape', () => {
  const { doc, file } = load('lstm_2layer_bidir_classes');
  const tensors = { ...file.tensors };
  delete tensors['rnn.weight_hh_l1_reverse'];
  refused(() => importTorch({ ...file, tensors }, doc.arch, { source: 'w.safetensors' }), 'w.safetensors', 'rnn.weight_hh_l1_reverse', '[24, 6]', 'missing');
});

test('one missing bias among others is an error, not zeros', () => {
  const { doc, file } = load('lstm_sequence');
  const tensors = { ...file.tensors };
  delete tensors['rnn.bias_hh_l0'];
  refused(() => importTorch({ ...file, tensors }, doc.arch), 'rnn.bias_hh_l0', 'missing');
});

test('an unknown tensor is named; a module under another name gets a --rename hint', () => {
  const { doc, file } = load('lstm_sequence');
  const extra = { ...file.tensors, 'rnn.weight_ih_l1': file.tensors['rnn.weight_ih_l0']! };
  refused(() => importTorch({ ...file, tensors: extra }, doc.arch), 'rnn.weight_ih_l1', 'not part of the model');
  const renamed = load('gru_embedding_mean_renamed');
  refused(() => importTorch(renamed.file, renamed.doc.arch), 'embedding.weight', 'emb, fc, gru', '--rename');
  const justFc: Record<string, SafetensorsTensor> = { ...file.tensors, 'fc.weight': file.tensors['head.weight']!, 'fc.bias': file.tensors['head.bias']! };
  delete justFc['head.weight'];
  delete justFc['head.bias'];
  refused(() => importTorch({ ...file, tensors: justFc }, doc.arch), 'fc.', '--rename fc=head');
  const other = { ...file.tensors, 'decoder.weight': file.tensors['head.weight']! };
  refused(() => importTorch({ ...file, tensors: other }, doc.arch), 'decoder.weight', '--rename decoder=head');
  const odd = { ...file.tensors, 'scaler.mean': file.tensors['head.bias']! };
  refused(() => importTorch({ ...file, tensors: odd }, doc.arch), 'scaler.mean', 'embedding, rnn, head');
});

test('a wrong shape names the tensor, both shapes and what sets them', () => {
  const { doc, file } = load('lstm_sequence');
  const wider = { ...doc.arch, input: { type: 'features' as const, size: 4 } };
  refused(() => importTorch(file, wider), 'rnn.weight_ih_l0', '[20, 3]', '[20, 4]', 'input.size');
  const regression3 = { ...doc.arch, output: { ...doc.arch.output, size: 3 } };
  refused(() => importTorch(file, regression3), 'head.weight', '[2, 5]', '[3, 5]', 'output.size');
  const gru = { ...doc.arch, rnn: { cell: 'gru' as const, hiddenSize: 5 } };
  refused(() => importTorch(file, gru), 'rnn.weight_ih_l0', 'LSTM');
});

test('an integer tensor is refused by name', () => {
  const { doc, file } = load('lstm_sequence');
  const t = file.tensors['head.bias']!;
  const tensors = { ...file.tensors, 'head.bias': { dtype: 'I32' as const, shape: t.shape, data: new Int32Array(t.shape[0]!) } };
  refused(() => importTorch({ ...file, tensors }, doc.arch), 'head.bias', 'I32');
});

test('a config that is not valid is refused before the weights are read', () => {
  const { file } = load('lstm_sequence');
  assert.throws(
    () => importTorch(file, { input: { type: 'features', size: 3 }, rnn: { cell: 'lstm' }, output: { mode: 'sequence', type: 'regression' } }),
    /hiddenSize/,
  );
});

test('--rename pairs: FROM=TO, an empty TO drops the prefix', () => {
  assert.deepEqual(parseRenames(['fc=head', 'module.lstm=rnn', 'module=']), { fc: 'head', 'module.lstm': 'rnn', module: '' });
  assert.throws(() => parseRenames(['fc']), /FROM=TO/);
  const { doc, file } = load('lstm_sequence');
  const wrapped: SafetensorsFile = { metadata: {}, tensors: Object.fromEntries(Object.entries(file.tensors).map(([n, t]) => [`module.${n}`, t])) };
  const { model } = importTorch(wrapped, doc.arch, { rename: { module: '' } });
  assert.deepEqual(model.stateDict()['head.weight'], file.tensors['head.weight']!.data);
});
