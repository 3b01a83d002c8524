// Hostile and bad inputs end in a typed error that names the file, field or line — in milliseconds, before
// anything large is allocated — and nothing is left half-done: lying model files, bad metadata, numbers beyond
// float32, the temporary files of killed writes, and resuming a run that early stopping had ended.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addingProblem, decodeModelFile, decodeSafetensors, encodeRecords, encodeSafetensors, FormatError, loadModel, modelFromFile,
  parseCsv, parseJsonl, Rng, SequenceModel, TextClassifier, Trainer, DataError, numericColumn,
} from '../../src/index.js';
import { removeStaleTemps } from '../../src/io/atomic.js';
import { FIXTURES } from '../helpers/fixtures.js';

const legacy = readFileSync(join(FIXTURES, 'legacy', 'b-best.lstmkit'));

/** The legacy classifier's file with its metadata changed. */
function withMetadata(change: (meta: Record<string, string>) => void): Uint8Array {
  const file = decodeSafetensors(new Uint8Array(legacy));
  const meta = { ...file.metadata };
  change(meta);
  return encodeSafetensors(file.tensors, meta);
}

test('a config that lies about its size is refused before anything is built', () => {
  for (const [field, value] of [['numLayers', 2 ** 31], ['hiddenSize', 10000]] as const) {
    const bytes = withMetadata((m) => {
      const config = JSON.parse(m.config!) as { rnn: Record<string, number> };
      config.rnn[field] = value;
      m.config = JSON.stringify(config);
    });
    const started = performance.now();
    assert.throws(() => modelFromFile(decodeModelFile(bytes, 'lie.lstmkit'), {}, 'lie.lstmkit'),
      (e: unknown) => e instanceof FormatError
        && /^lie\.lstmkit: the config describes [\d,]+ parameter values .* the file holds 179$/.test((e as Error).message));
    assert.ok(performance.now() - started < 1000);
  }
});

test('metadata that is not what a model file holds is a FormatError naming the field, not a TypeError', () => {
  const cases: [(m: Record<string, string>) => void, RegExp][] = [
    [(m) => (m.preprocessing = JSON.stringify({ task: { toString: 1 } })), /metadata preprocessing: task expected string/],
    [(m) => (m.preprocessing = JSON.stringify({ task: 'text-classifier', lowercase: 'yes' })), /preprocessing: lowercase expected boolean/],
    [(m) => (m.preprocessing = '[1, 2]'), /metadata preprocessing: \(root\) expected object/],
  ];
  for (const [change, message] of cases) {
    assert.throws(() => TextClassifier.fromModelFile(decodeModelFile(withMetadata(change), 'bad.lstmkit'), { source: 'bad.lstmkit' }),
      (e: unknown) => e instanceof FormatError && message.test((e as Error).message), String(message));
  }
});

test('a checkpoint whose trainer state is not one is a FormatError on resume', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lstmkit-hostile-'));
  const bytes = readFileSync(join(FIXTURES, 'legacy', 'a-epoch2-last.lstmkit'));
  const file = decodeSafetensors(new Uint8Array(bytes));
  const cases = [
    ['{}', /metadata trainer: \w+ is missing/],
    ['{"epoch": 2, "optimizer": 5}', /metadata trainer: \w+ (must be|is missing|expected)/],
  ] as const;
  for (const [state, message] of cases) {
    const path = join(dir, 'last.lstmkit');
    writeFileSync(path, encodeSafetensors(file.tensors, { ...file.metadata, trainer: state }));
    await assert.rejects(Trainer.resume(path, { epochs: 3 }), (e: unknown) => e instanceof FormatError && message.test((e as Error).message));
  }
});

test('numbers beyond float32 are data errors naming the file, line and field, not NaN losses', () => {
  const records = parseJsonl('{"x": [[1, 2]], "y": 1}\n{"x": [[1e39, 2]], "y": 1}\n', 'big.jsonl');
  const model = new SequenceModel({
    input: { type: 'features', size: 2 }, rnn: { cell: 'gru', hiddenSize: 2 }, output: { mode: 'sequence', type: 'regression' },
  });
  assert.throws(() => encodeRecords(records, model.config, { file: 'big.jsonl', requireTarget: true }),
    (e: unknown) => e instanceof DataError && (e as Error).message.startsWith("big.jsonl:2: x[0][0] is 1e+39, beyond float32's range"));
  const table = parseCsv('date,v\n2020-01,1\n2020-02,1e300\n', 'big.csv');
  assert.throws(() => numericColumn(table, 'v'), /big\.csv:3: column "v" is 1e\+300, beyond float32's range/);
});

test("a killed write's temporary files are removed when a run directory is opened again; a live writer's stay", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lstmkit-temps-'));
  writeFileSync(join(dir, '.last.lstmkit.999999.0123456789ab.tmp'), 'half');
  writeFileSync(join(dir, `.best.lstmkit.${process.pid}.0123456789ab.tmp`), 'in progress');
  writeFileSync(join(dir, 'notes.tmp'), 'mine');
  assert.deepEqual(await removeStaleTemps(dir), ['.last.lstmkit.999999.0123456789ab.tmp']);
  assert.deepEqual(readdirSync(dir).sort(), [`.best.lstmkit.${process.pid}.0123456789ab.tmp`, 'notes.tmp']);
});

test('resuming a run that early stopping ended trains nothing and rewrites no file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lstmkit-stopped-'));
  const config = { input: { type: 'features', size: 2 }, rnn: { cell: 'lstm', hiddenSize: 4 }, output: { mode: 'sequence', type: 'regression' } } as const;
  const records = parseJsonl(addingProblem(120, 5, new Rng(1)).map((r) => JSON.stringify(r)).join('\n'), 'adding');
  const examples = encodeRecords(records, config, { file: 'adding', requireTarget: true });
  // Far too high a learning rate: validation stops improving at once, so patience 0 ends the run early.
  const train = { epochs: 30, batchSize: 8, optimizer: { name: 'sgd', lr: 3 }, earlyStopping: { patience: 0 }, validationSplit: 0.3, clipNorm: 1 } as const;
  const history = await new Trainer(new SequenceModel(config, { seed: 1 }), train).fit(examples, { checkpoint: { dir } });
  assert.ok(history.length < 30, 'stopped early');
  const stamp = (name: string) => statSync(join(dir, name)).mtimeMs;
  const before = [stamp('last.lstmkit'), stamp('best.lstmkit')];
  const resumed = await Trainer.resume(join(dir, 'last.lstmkit'), train);
  const again = await resumed.fit(examples, { checkpoint: { dir } });
  assert.equal(again.length, history.length);
  assert.deepEqual([stamp('last.lstmkit'), stamp('best.lstmkit')], before);
  const { contents } = await loadModel(dir);
  assert.deepEqual(Object.keys(contents.weights), Object.keys(decodeModelFile(readFileSync(join(dir, 'best.lstmkit'))).weights));
});
