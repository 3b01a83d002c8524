// Pairs for seq2seq models: texts or token arrays on either side, TSV lines,
// vocabularies with the reserved tokens first, batches with <bos>/<eos> and
// padding in place, and errors that name the file, line and field.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError } from '../../src/core/errors.js';
import { parseJsonl } from '../../src/data/jsonl.js';
import { encodePairs, makePairBatch, pairVocabularies, parseTsvPairs, targetText, type PairSpec } from '../../src/data/pairs.js';
import { completeSeq2SeqConfig, type Seq2SeqConfig } from '../../src/model/config.js';

const spec = (input: PairSpec['input'], output: PairSpec['output'] = {}): PairSpec => ({ input, output });

test('texts and token arrays on either side; the vocabularies put the reserved tokens first', () => {
  const records = parseJsonl([
    '{"x": "abc", "y": ["EY1", "B", "IY0"]}',
    '{"x": ["a", "c"], "y": ["EY1", "S", "IY1"]}',
  ].join('\n'), 'p.jsonl');
  const s = spec({ type: 'tokens' });
  const v = pairVocabularies(records, s, 'p.jsonl');
  assert.deepEqual(v.input, ['<pad>', '<unk>', 'a', 'c', 'b']);
  assert.deepEqual(v.output, ['<pad>', '<unk>', '<bos>', '<eos>', 'EY1', 'B', 'IY0', 'IY1', 'S']);
  const examples = encodePairs(records, spec({ type: 'tokens', vocabulary: v.input! }, { vocabulary: v.output }), { file: 'p.jsonl', requireTarget: true });
  assert.deepEqual(Array.from(examples[0]!.src!), [2, 4, 3]);
  assert.deepEqual(Array.from(examples[1]!.tgt!), [4, 8, 7]);
  // A token the vocabulary lacks is <unk> (index 1), as is the convention.
  const unknown = encodePairs(parseJsonl('{"x": "az", "y": "q"}'), spec({ type: 'tokens', vocabulary: v.input! }, { vocabulary: v.output }), {
    file: 'q.jsonl', requireTarget: true,
  });
  assert.deepEqual(Array.from(unknown[0]!.src!), [2, 1]);
  assert.deepEqual(Array.from(unknown[0]!.tgt!), [1]);
});

test('a batch is time-major: <bos> y in, y <eos> out, sources padded with 0 and targets with -1', () => {
  const examples = [
    { steps: 3, src: Int32Array.from([5, 6, 7]), vector: null, tgt: Int32Array.from([9]) },
    { steps: 1, src: Int32Array.from([8]), vector: null, tgt: Int32Array.from([10, 11]) },
  ];
  const b = makePairBatch(examples, [0, 1]);
  assert.equal(b.srcSteps, 3);
  assert.deepEqual(Array.from(b.src!), [5, 8, 6, 0, 7, 0]);
  assert.deepEqual(Array.from(b.srcLengths!), [3, 1]);
  assert.equal(b.tgtSteps, 3);
  assert.deepEqual(Array.from(b.tin), [2, 2, 9, 10, 0, 11]);
  assert.deepEqual(Array.from(b.tout), [9, 10, 3, 11, -1, 3]);
});

test('TSV pairs: source<TAB>target per line, or a source alone; CRLF and blank lines are fine, a line with two tabs is named', () => {
  const records = parseTsvPairs('cat\tK AE1 T\r\n\ndog\tD AO1 G\nbird\n', 'w.tsv');
  assert.deepEqual(records.map((r) => [r.line, r.value]), [[1, { x: 'cat', y: 'K AE1 T' }], [3, { x: 'dog', y: 'D AO1 G' }], [4, { x: 'bird' }]]);
  assert.throws(() => parseTsvPairs('a\tb\tc\n', 'w.tsv'), (e: Error) => e instanceof DataError && /w\.tsv:1: .*found 2 tabs/.test(e.message));
});

test('bad pairs get errors naming the file, line and field', () => {
  const s = spec({ type: 'tokens', vocabulary: ['<pad>', '<unk>', 'a'], maxLength: 4 }, { vocabulary: ['<pad>', '<unk>', '<bos>', '<eos>', 'x'] });
  const bad = (line: string, pattern: RegExp): void => {
    assert.throws(() => encodePairs(parseJsonl(line, 'b.jsonl'), s, { file: 'b.jsonl', requireTarget: true }),
      (e: Error) => e instanceof DataError && pattern.test(e.message), line);
  };
  bad('{"x": "", "y": "x"}', /b\.jsonl:1: x is empty: a source needs at least one token/);
  bad('{"x": "aaaaa", "y": "x"}', /b\.jsonl:1: x has 5 tokens, more than input\.maxLength \(4\)/);
  bad('{"x": 3, "y": "x"}', /x must be a text or an array of token strings, got number/);
  bad('{"x": ["a", 1], "y": "x"}', /x must be a text or an array of token strings, got an array that is not all strings/);
  bad('{"x": "a", "y": {"t": 1}}', /y must be a text or an array of token strings, got object/);
  bad('{"x": "a"}', /the record has no y \(the target; in TSV, source<TAB>target\)/);
  bad('{"y": "x"}', /the record has no x \(the source\)/);
  const vector = spec({ type: 'vector', size: 2 }, { vocabulary: ['<pad>', '<unk>', '<bos>', '<eos>', 'x'] });
  const badVector = (line: string, pattern: RegExp): void => {
    assert.throws(() => encodePairs(parseJsonl(line, 'v.jsonl'), vector, { file: 'v.jsonl', requireTarget: true }), pattern, line);
  };
  badVector('{"x": [1], "y": "x"}', /v\.jsonl:1: x must be an array of 2 numbers \(the input vector\), got 1 numbers/);
  badVector('{"x": [1, "a"], "y": "x"}', /x\[1\] must be a finite number, got "a"/);
  badVector('{"x": [1, 1e39], "y": "x"}', /x\[1\] is 1e\+39, beyond float32's range/);
});

test('completing a seq2seq config fills both vocabularies and how outputs are written', () => {
  const config: Seq2SeqConfig = {
    input: { type: 'tokens', embeddingDim: 4 }, rnn: { cell: 'lstm', hiddenSize: 8 }, output: { mode: 'seq2seq', tokenizer: 'word' },
  };
  const texts = completeSeq2SeqConfig(config, parseJsonl('{"x": "ab", "y": "hello world"}'), 'c.jsonl');
  assert.deepEqual(texts.output.vocabulary, ['<pad>', '<unk>', '<bos>', '<eos>', 'hello', 'world']);
  assert.equal(texts.output.format, 'text');
  const arrays = completeSeq2SeqConfig(config, parseJsonl('{"x": "ab", "y": ["K", "AE1"]}'), 'c.jsonl');
  assert.equal(arrays.output.format, 'tokens');
  assert.throws(() => completeSeq2SeqConfig(config, parseJsonl('{"x": "ab", "y": ""}'), 'c.jsonl'), /c\.jsonl: the training targets hold no tokens/);
  assert.deepEqual(targetText([4, 5, 3], texts.output.vocabulary!, 'word'), { tokens: ['hello', 'world'], text: 'hello world' });
});
