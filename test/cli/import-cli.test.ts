// `lstmkit import torch` and `lstmkit import keras` through the command
// functions: files in, a model file out, which loads back with the imported
// weights bit for bit and the outputs PyTorch / Keras gave.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { importKerasCommand, importTorchCommand, readLabels } from '../../src/cli/import.js';
import { DataError, LstmkitError, MismatchError } from '../../src/core/errors.js';
import { loadModel } from '../../src/io/modelpath.js';
import { SequenceModel } from '../../src/model/model.js';
import { TaggerModel } from '../../src/model/tagger.js';
import { sentenceOfTokens } from '../../src/data/conll.js';
import { tagSentences } from '../../src/train/tagger.js';
import { run, tempDir } from '../helpers/cli.js';
import { FIXTURES, assertClose } from '../helpers/fixtures.js';
import { flat, outputsOn } from '../helpers/imported.js';

/** A report sink: the lines a command printed. */
function collector(): { log: (line: string) => void; text: () => string } {
  const lines: string[] = [];
  return { log: (line) => lines.push(line), text: () => lines.join('\n') };
}

function sameWeights(a: { stateDict(): Record<string, Float32Array | Float64Array> }, b: { stateDict(): Record<string, Float32Array | Float64Array> }): void {
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
  assert.ok(model instanceof SequenceModel);
  sameWeights(imported, model);
  assert.deepEqual((contents.training as { importedFrom: { format: string } }).importedFrom.format, 'pytorch');
  const got = outputsOn(model, fixture.inputs.map((ids) => ids.map(String)));
  fixture.outputs.forEach((y, b) => assertClose(got[b]!, flat(y), `sequence ${b}`, 1e-5, 1e-6));
});

test('lstmkit import torch: a BiLSTM-CRF tagger\'s state_dict and its tagger config → a tagger model file that tags as PyTorch did', async () => {
  const dir = tempDir();
  const fixture = JSON.parse(readFileSync(join(FIXTURES, 'torch', 'tagger', 'charbilstm_bilstm_crf_bio.json'), 'utf8')) as {
    config: unknown; sentences: { tokens: string[] }[]; paths: number[][];
  };
  const config = join(dir, 'tagger.json');
  writeFileSync(config, JSON.stringify(fixture.config));
  const out = join(dir, 'tagger.lstmkit');
  const report = collector();
  const weights = join(FIXTURES, 'torch', 'tagger', 'charbilstm_bilstm_crf_bio.safetensors');
  const imported = await importTorchCommand(weights, { config, out, log: report.log });
  assert.match(report.text(), /tagger\.lstmkit: tagger \(5 tags, CRF, character BiLSTM\), \d+ parameters/);
  const { model } = await loadModel(out);
  assert.ok(model instanceof TaggerModel);
  sameWeights(imported, model);
  const tagged = tagSentences(model, fixture.sentences.map((s, i) => sentenceOfTokens(s.tokens, i + 1)));
  assert.deepEqual(tagged.map((t) => t.tags), fixture.paths.map((p) => p.map((k) => model.classes[k])));
  await assert.rejects(importTorchCommand(weights, { config, out: join(dir, 'x.lstmkit'), check: 'x.jsonl', expect: 'y.json' }),
    /--check and --expect compare a sequence model's outputs/);
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
  assert.ok(model instanceof SequenceModel);
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
    assert.ok(model instanceof SequenceModel);
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

// ------------------------------------------------------------ --check x.jsonl --expect y.json

/** A torch_import fixture's inputs as x.jsonl and outputs as y.json, and its architecture with changes. */
function torchCheckFiles(dir: string, name: string, change: (arch: { output: Record<string, unknown> }) => void = () => {}) {
  const fixture = JSON.parse(readFileSync(join(FIXTURES, 'torch_import', `${name}.json`), 'utf8')) as {
    arch: { input: { vocabulary?: string[] }; output: Record<string, unknown> }; rename?: Record<string, string>; inputs: unknown[]; outputs: unknown[];
  };
  const arch = structuredClone(fixture.arch);
  change(arch);
  const vocabulary = arch.input.vocabulary;
  const x = fixture.inputs.map((s) => ({ x: (s as unknown[]).map((t) => (typeof t === 'number' ? (vocabulary ? vocabulary[t]! : String(t)) : t)) }));
  writeFileSync(join(dir, 'arch.json'), JSON.stringify(arch));
  writeFileSync(join(dir, 'x.jsonl'), x.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(join(dir, 'y.json'), JSON.stringify(fixture.outputs));
  return {
    weights: join(FIXTURES, 'torch_import', `${name}.safetensors`),
    args: {
      config: join(dir, 'arch.json'), check: join(dir, 'x.jsonl'), expect: join(dir, 'y.json'),
      rename: Object.entries(fixture.rename ?? {}).map(([f, t]) => `${f}=${t}`),
    },
    outputs: fixture.outputs,
  };
}

test('--check: an import that reproduces PyTorch\'s outputs is written, and the report says so', async () => {
  const dir = tempDir();
  const { weights, args } = torchCheckFiles(dir, 'gru_embedding_mean_renamed');
  const out = join(dir, 'ok.lstmkit');
  const report = collector();
  await importTorchCommand(weights, { ...args, out, log: report.log });
  assert.ok(existsSync(out));
  assert.match(report.text(), /\n {2}the head reads the mean of the outputs over the valid steps\n/);
  assert.match(
    report.text(),
    /\n {2}checked: 5 sequences of .*x\.jsonl give .*y\.json \(5 values, largest difference \d\.\de-\d+; tolerance 1e-4 \+ 1e-4·\|expected\|\)/,
  );
  assert.doesNotMatch(report.text(), /hint:/);
});

test('--check: the PyTorch fixture imported with the wrong pooling is refused, naming the sequence and value, and nothing is written', async () => {
  const dir = tempDir();
  const { weights, args } = torchCheckFiles(dir, 'gru_embedding_mean_renamed', (arch) => (arch.output.pooling = 'last'));
  const out = join(dir, 'wrong.lstmkit');
  await assert.rejects(importTorchCommand(weights, { ...args, out, log: () => {} }), (e: unknown) => {
    assert.ok(e instanceof MismatchError, String(e));
    assert.match(e.message, new RegExp(
      '^.*gru_embedding_mean_renamed\\.safetensors: the imported model does not reproduce .*y\\.json \\(PyTorch\'s outputs\\): ' +
      '.*x\\.jsonl line 1 gives -?\\d\\.\\d+, .*y\\.json -0\\.452532 \\(difference \\d\\.\\de-\\d, beyond 1e-4 \\+ 1e-4·\\|expected\\|\\); ' +
      'largest difference \\d\\.\\de-\\d \\(line \\d\\); \\d of 5 sequences differ; ' +
      'the head reads h_n \\(the final state of each direction\\); .*wrong\\.lstmkit not written$',
    ));
    return true;
  });
  assert.ok(!existsSync(out));
  // The real command: exit 1, one line on stderr.
  const r = await run([
    'import', 'torch', weights, '--config', args.config, ...args.rename.flatMap((x) => ['--rename', x]),
    '--check', args.check, '--expect', args.expect, '--out', out,
  ]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^lstmkit: .*does not reproduce .*not written\n$/);
  assert.ok(!existsSync(out));
});

test('--check: a PyTorch classifier compared with probabilities or log-probabilities instead of logits passes, with a note that says so', async () => {
  const dir = tempDir();
  const { weights, args, outputs } = torchCheckFiles(dir, 'lstm_embedding_classes');
  const report = collector();
  await importTorchCommand(weights, { ...args, out: join(dir, 'p.lstmkit'), log: report.log });
  assert.match(report.text(), /note: .*y\.json holds probabilities, not the logits PyTorch gives; they match as probabilities/);
  const { model } = await loadModel(join(dir, 'p.lstmkit'));
  assert.ok(model instanceof SequenceModel);
  const logits = (outputs as number[][]).map((p) => p.map((v) => Math.log(v)));
  writeFileSync(args.expect, JSON.stringify(logits));
  const again = collector();
  await importTorchCommand(weights, { ...args, out: join(dir, 'l.lstmkit'), log: again.log });
  assert.match(again.text(), /note: .*y\.json holds log-probabilities, not the logits PyTorch gives/);
  assert.equal(model.config.output.type, 'classification');
});

test('--check: a Keras .keras file, a sigmoid unit given as one number, and a value off by 1e-3 refused at its step and output', async () => {
  const dir = tempDir();
  const io = (name: string) => JSON.parse(readFileSync(join(FIXTURES, 'keras', `${name}.io.json`), 'utf8')) as { inputs: unknown[][]; outputs: unknown[] };
  const write = (name: string, outputs: unknown[]) => {
    const { inputs } = io(name);
    const x = inputs.map((s) => ({ x: s.map((t) => (typeof t === 'number' ? String(t) : t)) }));
    writeFileSync(join(dir, `${name}.x.jsonl`), x.map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeFileSync(join(dir, `${name}.y.json`), JSON.stringify(outputs));
    return { check: join(dir, `${name}.x.jsonl`), expect: join(dir, `${name}.y.json`) };
  };
  const cases: [string, string][] = [['gru_functional_keras2_sigmoid', 'gru_functional_keras2_sigmoid.h5'], ['gru_embedding_step', 'gru_embedding_step.keras']];
  for (const [name, file] of cases) {
    const report = collector();
    const out = join(dir, `${name}.lstmkit`);
    await importKerasCommand(join(FIXTURES, 'keras', file), undefined, { ...write(name, io(name).outputs), out, log: report.log });
    assert.match(report.text(), /checked: \d sequences/);
    assert.doesNotMatch(report.text(), /holds probabilities/);
  }
  // Per step: sequence 2 (x line 2), step 3, output 1 off by 1e-3.
  const outputs = structuredClone(io('gru_embedding_step').outputs) as number[][][];
  outputs[1]![2]![1]! += 1e-3;
  const out = join(dir, 'off.lstmkit');
  await assert.rejects(
    importKerasCommand(join(FIXTURES, 'keras', 'gru_embedding_step.keras'), undefined, { ...write('gru_embedding_step', outputs), out, log: () => {} }),
    new RegExp(
      'gru_embedding_step\\.keras: the imported model does not reproduce .* \\(Keras\'s outputs\\): ' +
      '.*x\\.jsonl line 2 \\(step 3 of 3, output 1\\) gives .*difference 1\\.0e-3.*1 of 4 sequences differ; the head reads every step\'s output',
    ),
  );
  assert.ok(!existsSync(out));
});

test('--check: files that do not fit are named; --check needs --expect', async () => {
  const dir = tempDir();
  const { weights, args } = torchCheckFiles(dir, 'lstm_sequence');
  const out = join(dir, 'm.lstmkit');
  const attempt = (expected: unknown) => {
    writeFileSync(args.expect, JSON.stringify(expected));
    return importTorchCommand(weights, { ...args, out, log: () => {} });
  };
  const y = JSON.parse(readFileSync(join(FIXTURES, 'torch_import', 'lstm_sequence.json'), 'utf8')).outputs as number[][];
  const counts = /y\.json: holds \d entries, but .*x\.jsonl has \d sequences/;
  await assert.rejects(attempt(y.slice(1)), (e: unknown) => e instanceof DataError && counts.test(String(e)));
  await assert.rejects(attempt({ y }), /y\.json: expected a JSON array/);
  await assert.rejects(attempt([[1, 2, 3], ...y.slice(1)]), /y\.json: entry 1 \(.*x\.jsonl line 1\) has shape \[3\], but the imported model gives 2 outputs/);
  await assert.rejects(attempt([[1, 'a'], ...y.slice(1)]), /entry 1 .*\[1\] holds "a"/);
  assert.ok(!existsSync(out));
  // A leading dimension of 1 (the model run on a batch of one) is taken.
  await attempt(y.map((v) => [v]));
  assert.ok(existsSync(out));
  const alone = importTorchCommand(weights, { config: args.config, check: args.check, out, log: () => {} });
  await assert.rejects(alone, /--check x\.jsonl and --expect y\.json go together/);
});

test('without --check, the report says what the head reads and how to check it; --json too', async () => {
  const dir = tempDir();
  const { weights, args } = torchCheckFiles(dir, 'rnn_relu_bidir_step_classes');
  const report = collector();
  await importTorchCommand(weights, { config: args.config, out: join(dir, 'a.lstmkit'), log: report.log });
  assert.match(report.text(), /\n {2}the head reads every step's output\n/);
  assert.match(report.text(), /\n {2}hint: compare it with your own model's outputs: --check x\.jsonl --expect y\.json \(see the README\)/);
  const json = collector();
  await importTorchCommand(weights, { ...args, out: join(dir, 'b.lstmkit'), json: true, log: json.log });
  const line = JSON.parse(json.text()) as { reads: string; checked: { sequences: number; form: string } };
  assert.equal(line.reads, "the head reads every step's output");
  assert.deepEqual([line.checked.sequences, line.checked.form], [5, 'probabilities']);
});
