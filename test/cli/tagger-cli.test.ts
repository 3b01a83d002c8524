// `lstmkit train / eval / tag / predict` with a BiLSTM-CRF tagger config,
// through the real command: CoNLL sentences in, a run directory out, span
// metrics with conlleval's report, tags with spans and character offsets; and
// bad input (an unknown tag at evaluation, ragged tokens and tags, an empty
// sentence, a sentence over the length limit, a malformed CoNLL line) gets
// one line naming the file and line, and exit status 1.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/index.js';
import { run, tempDir } from '../helpers/cli.js';

const dir = tempDir();
const rng = new Rng(5);
const names = ['Ann', 'Bob', 'Lee', 'Kim', 'Rae', 'Sue', 'Tom', 'Uma', 'Zed', 'Ida'];
const words = ['saw', 'met', 'and', 'the', 'a', 'dog', 'ran', 'to', 'with', 'it'];

/** A sentence of lowercase words and names; a run of names is one PER span (B-PER, I-PER …). */
function sentence(): [string, string][] {
  const out: [string, string][] = [];
  const n = 3 + rng.int(6);
  while (out.length < n) {
    const afterName = out.length > 0 && out[out.length - 1]![1] !== 'O'; // two runs of names never touch: they would read as one
    if (!afterName && rng.uniform() < 0.35) {
      const len = 1 + rng.int(2);
      for (let i = 0; i < len; i++) out.push([names[rng.int(names.length)]!, i === 0 ? 'B-PER' : 'I-PER']);
    } else out.push([words[rng.int(words.length)]!, 'O']);
  }
  return out;
}
const conll = (n: number): string => Array.from({ length: n }, () => sentence().map(([w, t]) => `${w} ${t}`).join('\n')).join('\n\n') + '\n';
writeFileSync(join(dir, 'train.conll'), conll(400));
writeFileSync(join(dir, 'dev.conll'), conll(60));
writeFileSync(join(dir, 'c.json'), JSON.stringify({
  input: { type: 'tokens', embeddingDim: 8, maxLength: 12, chars: { embeddingDim: 8, hiddenSize: 8 } },
  rnn: { cell: 'lstm', hiddenSize: 16, bidirectional: true },
  output: { mode: 'step', type: 'classification', crf: true },
  train: { epochs: 6, batchSize: 16, optimizer: { name: 'adam', lr: 0.02 }, monitor: 'f1', seed: 1 },
}));
const runDir = join(dir, 'run');

test('train a BiLSTM-CRF on CoNLL, eval prints conlleval\'s report, tag writes tags, confidences and spans with offsets', async () => {
  const trained = await run(['train', '--config', join(dir, 'c.json'), '--data', join(dir, 'train.conll'), '--val', join(dir, 'dev.conll'), '--out', runDir]);
  assert.equal(trained.code, 0, trained.stderr);
  assert.match(trained.stderr, /val_f1 \d\.\d{4}/);

  const evaluated = await run(['eval', runDir, '--data', join(dir, 'dev.conll')]);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  assert.match(evaluated.stdout, /spans \(BIO, conlleval's rules\)\nprocessed \d+ tokens with \d+ phrases; found: \d+ phrases; correct: \d+\./);
  assert.match(evaluated.stdout, /PER: precision: +\d+\.\d\d%; recall: +\d+\.\d\d%; FB1: +\d+\.\d\d {2}\d+/);
  assert.match(evaluated.stdout, /invalid BIO transitions in the output: 0 /);
  assert.match(evaluated.stdout, /actual \\ predicted/);
  const json = await run(['eval', runDir, '--data', join(dir, 'dev.conll'), '--json']);
  const m = JSON.parse(json.stdout) as { accuracy: number; f1: number; invalidTransitions: number; types: { type: string }[] };
  assert.ok(m.f1 > 0.95 && m.accuracy > 0.97, json.stdout);
  assert.equal(m.invalidTransitions, 0);
  assert.deepEqual(m.types.map((t) => t.type), ['PER']);

  writeFileSync(join(dir, 'in.txt'), 'the  Ann Lee met the dog\n\nBob ran\n');
  const tagged = await run(['tag', runDir, '--data', join(dir, 'in.txt')]);
  assert.equal(tagged.code, 0, tagged.stderr);
  const lines = tagged.stdout.trim().split('\n').map((l) => JSON.parse(l) as {
    tokens: string[]; tags: string[]; confidence: number[];
    spans: { type: string; start: number; end: number; startChar: number; endChar: number; text: string }[];
  });
  assert.equal(lines.length, 2);
  assert.deepEqual(lines[0]!.tags, ['O', 'B-PER', 'I-PER', 'O', 'O', 'O']);
  assert.deepEqual(lines[0]!.spans, [{ type: 'PER', start: 1, end: 3, startChar: 5, endChar: 12, text: 'Ann Lee' }]);
  assert.deepEqual(lines[1]!.spans.map((s) => s.text), ['Bob']);
  for (const p of lines.flatMap((l) => l.confidence)) assert.ok(p > 0 && p <= 1);
  const asConll = await run(['tag', runDir, '--data', join(dir, 'in.txt'), '--output', 'conll']);
  assert.equal(asConll.stdout, 'the\tO\nAnn\tB-PER\nLee\tI-PER\nmet\tO\nthe\tO\ndog\tO\n\nBob\tB-PER\nran\tO\n\n');
  // predict reads JSONL with texts or token lists, and writes the same objects.
  writeFileSync(join(dir, 'in.jsonl'), '{"x": ["Kim", "saw", "Uma"]}\n');
  const predicted = await run(['predict', runDir, '--data', join(dir, 'in.jsonl')]);
  const { spans } = JSON.parse(predicted.stdout) as { spans: { text: string; startChar: number }[] };
  assert.deepEqual(spans.map((s) => [s.text, s.startChar]), [['Kim', 0], ['Uma', 8]]);
});

test('bad input: one line naming the file and line, exit status 1', async () => {
  const fails = async (args: string[], message: RegExp) => {
    const r = await run(args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /); // no stack trace
  };
  const write = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const unknownTag = write('unknown.conll', 'Ann B-PER\nsaw O\n\nBob B-ORG\n');
  await fails(['eval', runDir, '--data', unknownTag], /unknown\.conll:4: token 0 \("Bob"\) has the tag "B-ORG", which the model does not know/);
  const ragged = write('ragged.jsonl', '{"x": ["Ann", "saw"], "y": ["B-PER"]}\n');
  await fails(['eval', runDir, '--data', ragged], /ragged\.jsonl:1: x has 2 tokens but y has 1 tags; expected one tag per token/);
  const empty = write('empty.jsonl', '{"x": ["Ann"], "y": ["B-PER"]}\n{"x": [], "y": []}\n');
  await fails(['eval', runDir, '--data', empty], /empty\.jsonl:2: x and y are empty: a sentence needs at least one token/);
  const long = write('long.conll', Array.from({ length: 13 }, () => 'saw O').join('\n') + '\n');
  await fails(['eval', runDir, '--data', long], /long\.conll:1: the sentence has 13 tokens, over the model's limit of 12 \(input\.maxLength\)/);
  const malformed = write('bad.conll', 'Ann B-PER\nsaw\n');
  await fails(['train', '--config', join(dir, 'c.json'), '--data', malformed, '--out', join(dir, 'bad-run')],
    /bad\.conll:2: expected at least 2 columns \(token in column 0 … tag in the last, counting from 0\), found 1/);
  const longText = write('long.txt', Array.from({ length: 13 }, () => 'saw').join(' ') + '\n');
  await fails(['tag', runDir, '--data', longText], /long\.txt:1: the sentence has 13 tokens, over the model's limit of 12/);
  await fails(['tag', runDir, '--data', write('blank.jsonl', '{"x": "   "}\n')], /blank\.jsonl:1: the sentence is empty/);
});
