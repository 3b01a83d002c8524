// `lstmkit train / eval / predict` with a seq2seq config, through the real
// command: TSV pairs in, a run directory out, metrics with error rates, one
// JSON line per input with "y", n-best lists and attention; and bad input
// (an empty source, an over-long source, nbest above the beam, a beam of 0)
// gets one line naming what is wrong.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/index.js';
import { run, tempDir } from '../helpers/cli.js';

const dir = tempDir();
const rng = new Rng(11);
const pairs = Array.from({ length: 900 }, () => {
  const x = Array.from({ length: 3 + rng.int(4) }, () => 'abcde'[rng.int(5)]).join('');
  return `${x}\t${[...x].reverse().join(' ')}`;
});
writeFileSync(join(dir, 'train.tsv'), pairs.slice(0, 800).join('\n') + '\n');
writeFileSync(join(dir, 'val.tsv'), pairs.slice(800).join('\n') + '\n');
writeFileSync(join(dir, 'q.jsonl'), ['{"x": "abcd"}', '{"x": ["e", "a"]}'].join('\n') + '\n');
const config = {
  input: { type: 'tokens', embeddingDim: 12, maxLength: 8 }, rnn: { cell: 'lstm', hiddenSize: 24, bidirectional: true },
  output: { mode: 'seq2seq', tokenizer: 'word' },
  train: { epochs: 12, optimizer: { name: 'adam', lr: 0.01 }, bucketByLength: true, monitor: 'sequenceErrorRate', seed: 1 },
};
writeFileSync(join(dir, 'c.json'), JSON.stringify(config));
const runDir = join(dir, 'run');

test('train on TSV pairs, then eval reports error rates and BLEU, and predict writes "y" per input', async () => {
  const trained = await run(['train', '--config', join(dir, 'c.json'), '--data', join(dir, 'train.tsv'), '--val', join(dir, 'val.tsv'), '--out', runDir]);
  assert.equal(trained.code, 0, trained.stderr);
  assert.match(trained.stderr, /val_sequenceErrorRate \d\.\d{4}/);
  const evaluated = await run(['eval', runDir, '--data', join(dir, 'val.tsv'), '--beam', '3', '--json']);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const m = JSON.parse(evaluated.stdout) as { tokenErrorRate: number; sequenceErrorRate: number; bleu: number; count: number };
  assert.equal(m.count, 100);
  assert.ok(m.sequenceErrorRate < 0.3 && m.tokenErrorRate < 0.1 && m.bleu > 0.7, evaluated.stdout);
  const predicted = await run(['predict', runDir, '--data', join(dir, 'q.jsonl'), '--beam', '4', '--nbest', '2', '--attention']);
  assert.equal(predicted.code, 0, predicted.stderr);
  const lines = predicted.stdout.trim().split('\n').map((l) => JSON.parse(l) as {
    y: string; score: number; nbest: { y: string; score: number }[]; attention: number[][];
  });
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!.y, 'd c b a');
  assert.equal(lines[1]!.y, 'a e');
  for (const l of lines) {
    assert.equal(l.nbest.length, 2);
    assert.equal(l.nbest[0]!.y, l.y);
    assert.ok(l.nbest[0]!.score >= l.nbest[1]!.score);
    // One attention row per output token (its <eos> too), one column per source token.
    assert.equal(l.attention.length, l.y.split(' ').length + 1);
  }
  // Each over its own source, not the batch's longest: "abcd" has 4 columns and "ea" 2, decoded in one batch.
  assert.deepEqual(lines.map((l) => l.attention.map((row) => row.length)), [Array(5).fill(4), Array(3).fill(2)]);
  // A TSV of sources alone (no tab) is what predict reads too.
  writeFileSync(join(dir, 'q.tsv'), 'abcd\nea\n');
  const fromTsv = await run(['predict', runDir, '--data', join(dir, 'q.tsv')]);
  assert.equal(fromTsv.code, 0, fromTsv.stderr);
  assert.deepEqual(fromTsv.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { y: string }).y), ['d c b a', 'a e']);
});

test('bad seq2seq input gets one line naming the field, and no stack trace', async () => {
  const bad = async (args: string[], pattern: RegExp): Promise<void> => {
    const r = await run(args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  };
  writeFileSync(join(dir, 'empty.jsonl'), '{"x": ""}\n');
  writeFileSync(join(dir, 'long.jsonl'), '{"x": "abcdeabcde"}\n');
  await bad(['predict', runDir, '--data', join(dir, 'empty.jsonl')], /empty\.jsonl:1: x is empty: a source needs at least one token/);
  await bad(['predict', runDir, '--data', join(dir, 'long.jsonl')], /long\.jsonl:1: x has 10 tokens, more than input\.maxLength \(8\)/);
  await bad(['predict', runDir, '--data', join(dir, 'q.jsonl'), '--beam', '2', '--nbest', '3'], /nbest \(3\) cannot exceed beam \(2\)/);
  await bad(['predict', runDir, '--data', join(dir, 'q.jsonl'), '--beam', '0'], /--beam <n>' argument '0' is invalid\. expected a positive integer/);
  writeFileSync(join(dir, 'tabs.tsv'), 'ab\tb a\nno tab\n');
  await bad(['eval', runDir, '--data', join(dir, 'tabs.tsv')], /tabs\.tsv:2: the record has no y \(the target; in TSV, source<TAB>target\)/);
  writeFileSync(join(dir, 'tabs2.tsv'), 'ab\tb\ta\n');
  await bad(['predict', runDir, '--data', join(dir, 'tabs2.tsv')], /tabs2\.tsv:1: expected source<TAB>target \(one tab\), found 2 tabs/);
});
