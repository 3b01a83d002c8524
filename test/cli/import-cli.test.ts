// `lstmkit import torch` and `lstmkit import keras` through the command
// functions: files in, a model file out, which loads back with the imported
// weights bit for bit and the outputs PyTorch / Keras gave.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { importKerasCommand, importTorchCommand, readLabels } from '../../src/cli/import.js';
import { DataError, LstmkitError } from '../../src/core/errors.js';
import { loadModel } from '../../src/io/modelpath.js';
import type { SequenceModel } from '../../src/model/model.js';
import { run, tempDir } from '../helpers/cli.js';
import { FIXTURES, assertClose } from '../helpers/fixtures.js';
import { flat, outputsOn } from '../helpers/imported.js';

/** A report sink: the lines a command printed. */
function collector(): { log: (line: string) => void; text: () => string } {
  const lines: string[] = [];
  return { log: (line) => lines.push(line), text: () => lines.join('\n') };
}

function sameWeights(a: SequenceModel, b: SequenceModel): void {
  const da = a.stateDict();
  const db = b.stateDict();
  assert.deepEqual(Object.keys(db), Object.keys(da));
  for (const name of Object.keys(da)) assert.equal(Buffer.from(db[name]!.buffer).toString('hex'), Buffer.from(da[name]!.buffer).toString('hex'), name);
}

test('lstmkit import torch: safetensors + arch.json (+ --rename) → a model file that loads back exactly', async () => {
  const dir = tempDir();
  const fixture = JSON.parse(readFileSync(join(FIXTURES, 'torch_import', 'gru_embedding_mean_renamed.json'), 'utf8')) as {
    arch: unknown; rename: Record<string, string>; inputs: number[][]; outputs: number[][];
  };
  const arch = join(dir, 'arch.json');
  writeFileSync(arch, JSON.stringify(fixture.arch));
  const out = join(dir, 'model.lstmkit');
  const weights = join(FIXTURES, 'torch_import', 'gru_embedding_mean_renamed.safetensors');
  const report = collector();
  const rename = Object.entries(fixture.rename).map(([f, t]) => `${f}=${t}`);
  const imported = await importTorchCommand(weights, { config: arch, out, rename, log: report.log });
  const stdout = report.text();
  assert.match(stdout, /model\.lstmkit: tokens \(7, embedding 3\) → bidirectional GRU 4 → sequence regression \(1 value, mean state\)/);
  assert.match(stdout, /note: tokens are named by their ids/);
  const { model, contents } = await loadModel(out);
  sameWeights(imported, model);
  assert.deepEqual((contents.training as { importedFrom: { format: string } }).importedFrom.format, 'pytorch');
  const got = outputsOn(model, fixture.inputs.map((ids) => ids.map(String)));
  fixture.outputs.forEach((y, b) => assertClose(got[b]!, flat(y), `sequence ${b}`, 1e-5, 1e-6));
});

test('lstmkit import torch: errors name the file and the tensor', async () => {
  const dir = tempDir();
  const arch = join(dir, 'arch.json');
  writeFileSync(arch, JSON.stringify({
    input: { type: 'features', size: 3 }, rnn: { cell: 'lstm', hiddenSize: 6 }, output: { mode: 'sequence', type: 'regression', size: 2 },
  }));
  const weights = join(FIXTURES, 'torch_import', 'lstm_sequence.safetensors');
  await assert.rejects(
    importTorchCommand(weights, { config: arch, out: join(dir, 'm.lstmkit'), log: () => {} }),
    (e: unknown) => e instanceof LstmkitError
      && /lstm_sequence\.safetensors: tensor rnn\.weight_ih_l0 has shape \[20, 3\], but the config implies \[24, 3\]/.test((e as Error).message),
  );
  await assert.rejects(
    importTorchCommand(join(dir, 'nope.safetensors'), { config: arch, out: join(dir, 'm.lstmkit'), log: () => {} }),
    (e: unknown) => e instanceof DataError && /nope\.safetensors: no such file/.test((e as Error).message),
  );
});

test('lstmkit import keras: model.json + weights.npz (+ --vocabulary) → a model file that loads back exactly', async () => {
  const dir = tempDir();
  const name = 'bigru_embedding_keras2';
  const io = JSON.parse(readFileSync(join(FIXTURES, 'keras', `${name}.io.json`), 'utf8')) as {
    options: { vocabulary: string[] }; inputs: number[][]; outputs: number[][];
  };
  // A vocabulary file as Keras's TextVectorization.get_vocabulary() gives it, one per line ('' for padding first).
  const vocab = join(dir, 'vocab.txt');
  writeFileSync(vocab, io.options.vocabulary.join('\n') + '\n');
  const classes = join(dir, 'classes.json');
  writeFileSync(classes, JSON.stringify(['neg', 'neu', 'pos']));
  const out = join(dir, 'model.lstmkit');
  const report = collector();
  const imported = await importKerasCommand(
    join(FIXTURES, 'keras', `${name}.model.json`), join(FIXTURES, 'keras', `${name}.weights.npz`),
    { out, vocabulary: vocab, classes, json: true, log: report.log },
  );
  const stdout = report.text();
  const line = JSON.parse(stdout) as { out: string; parameters: number; config: { output: { classes: string[] } } };
  assert.equal(line.out, out);
  assert.deepEqual(line.config.output.classes, ['neg', 'neu', 'pos']);
  const { model } = await loadModel(out);
  sameWeights(imported, model);
  assert.equal(model.parameterCount, line.parameters);
  const got = outputsOn(model, io.inputs.map((ids) => ids.map((id) => io.options.vocabulary[id]!)));
  io.outputs.forEach((y, b) => assertClose(got[b]!, flat(y), `sequence ${b}`, 1e-5, 1e-6));
});

test('lstmkit import keras: a .keras archive or an .h5 file alone (the real command line)', async () => {
  const dir = tempDir();
  for (const name of ['lstm_regression.keras', 'gru_functional_keras2_sigmoid.h5']) {
    const out = join(dir, `${name}.lstmkit`);
    const r = await run(['import', 'keras', join(FIXTURES, 'keras', name), '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`from .*${name.replace('.', '\\.')}\\n`));
    const { model, contents } = await loadModel(out);
    const io = JSON.parse(readFileSync(join(FIXTURES, 'keras', `${name.split('.')[0]}.io.json`), 'utf8')) as { inputs: number[][][]; outputs: unknown[] };
    const got = outputsOn(model, io.inputs);
    // One sigmoid unit p is the two class probabilities [1 − p, p].
    const want = (y: unknown) => (flat(y).length * 2 === got[0]!.length ? flat(y).flatMap((p) => [1 - p, p]) : flat(y));
    io.outputs.forEach((y, b) => assertClose(got[b]!, want(y), `${name} sequence ${b}`, 1e-5, 1e-6));
    const path = join(FIXTURES, 'keras', name);
    assert.deepEqual((contents.training as { importedFrom: unknown }).importedFrom, { format: 'keras', model: path, weights: path });
  }
  const alone = await run(['import', 'keras', join(FIXTURES, 'keras', 'lstm_regression.model.json'), '--out', join(dir, 'x.lstmkit')]);
  assert.equal(alone.code, 1);
  assert.match(alone.stderr, /^lstmkit: .*lstm_regression\.model\.json: the architecture alone; give the weights too/);
});

test('lstmkit import keras: refusals name the file and the layer', async () => {
  const dir = tempDir();
  const json = JSON.parse(readFileSync(join(FIXTURES, 'keras', 'gru_embedding_step.model.json'), 'utf8')) as {
    config: { layers: { config: Record<string, unknown> }[] };
  };
  json.config.layers[2]!.config.reset_after = false;
  const path = join(dir, 'old_gru.json');
  writeFileSync(path, JSON.stringify(json));
  await assert.rejects(
    importKerasCommand(path, join(FIXTURES, 'keras', 'gru_embedding_step.weights.npz'), { out: join(dir, 'm.lstmkit'), log: () => {} }),
    (e: unknown) => e instanceof LstmkitError && (e as Error).message.startsWith(`${path}: layer 'gru' (GRU) has reset_after=False`),
  );
});

test('label files: a JSON array or one label per line', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.json'), '["x", 2, "z"]');
  writeFileSync(join(dir, 'b.txt'), '\n[UNK]\nthe\r\ncat\n');
  writeFileSync(join(dir, 'c.json'), '[{"a": 1}]');
  assert.deepEqual(await readLabels(join(dir, 'a.json')), ['x', '2', 'z']);
  assert.deepEqual(await readLabels(join(dir, 'b.txt')), ['', '[UNK]', 'the', 'cat']);
  await assert.rejects(readLabels(join(dir, 'c.json')), /c\.json: expected a JSON array of strings/);
});

test('lstmkit import torch: a config that is not valid names its file and field', async () => {
  const dir = tempDir();
  const arch = join(dir, 'arch.json');
  writeFileSync(arch, JSON.stringify({
    input: { type: 'features', size: 3 }, rnn: { cell: 'lstm', hiddenSize: 0 }, output: { mode: 'sequence', type: 'regression' },
  }));
  await assert.rejects(
    importTorchCommand(join(FIXTURES, 'torch_import', 'lstm_sequence.safetensors'), { config: arch, out: join(dir, 'm.lstmkit'), log: () => {} }),
    (e: unknown) => e instanceof DataError && (e as Error).message.startsWith(`${arch}: rnn.hiddenSize`),
  );
});
