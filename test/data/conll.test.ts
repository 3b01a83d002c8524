// Tagged sentences: CoNLL columns (blank lines, -DOCSTART-, CRLF, tabs, chosen
// columns), JSONL tagging records, reading by extension, and every error
// message with its file and line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError, parseConll, parseSentences, parseTaggedJsonl, parseWordVectors, ValueError } from '../../src/index.js';
import { readTaggedFile } from '../../src/data/jsonlfile.js';

/** A DataError whose message is exactly `message` (the file and line prefix included). */
const dataError = (message: string) => (e: Error) => {
  assert.ok(e instanceof DataError, `expected a DataError, got ${e.name}: ${e.message}`);
  assert.equal(e.message, message);
  return true;
};

const CONLL2003 = [
  '-DOCSTART- -X- -X- O',
  '',
  'EU NNP B-NP B-ORG',
  'rejects VBZ B-VP O',
  'German JJ B-NP B-MISC',
  '',
  'Peter NNP B-NP B-PER',
  'Blackburn NNP I-NP I-PER',
  '',
].join('\n');

test('CoNLL-2003: -DOCSTART- and the blank after it skipped, the last column the tag, each sentence with its first line', () => {
  assert.deepEqual(parseConll(CONLL2003, { file: 'train.conll' }), [
    { line: 3, tokens: ['EU', 'rejects', 'German'], tags: ['B-ORG', 'O', 'B-MISC'], tokenPerLine: true },
    { line: 7, tokens: ['Peter', 'Blackburn'], tags: ['B-PER', 'I-PER'], tokenPerLine: true },
  ]);
});

test('chosen columns: the chunk tag (column 2), or the token elsewhere than first', () => {
  const chunks = parseConll(CONLL2003, { column: 2 });
  assert.deepEqual(chunks.map((s) => s.tags), [['B-NP', 'B-VP', 'B-NP'], ['B-NP', 'I-NP']]);
  const posAsToken = parseConll(CONLL2003, { tokenColumn: 1 });
  assert.deepEqual(posAsToken[1]!.tokens, ['NNP', 'NNP']);
  assert.deepEqual(posAsToken[1]!.tags, ['B-PER', 'I-PER']);
  assert.deepEqual(parseConll('B-PER Ann\n', { column: 0, tokenColumn: 1 }), [{ line: 1, tokens: ['Ann'], tags: ['B-PER'], tokenPerLine: true }]);
});

test('CRLF, tabs and runs of spaces, leading and trailing blanks, several blank lines, a byte-order mark, no final newline', () => {
  const text = '\uFEFF\r\n\r\nAnn\tB-PER\r\n  Lee \t  I-PER  \r\n\r\n \t\r\n\r\nsaw O\r\nit O';
  assert.deepEqual(parseConll(text), [
    { line: 3, tokens: ['Ann', 'Lee'], tags: ['B-PER', 'I-PER'], tokenPerLine: true },
    { line: 8, tokens: ['saw', 'it'], tags: ['O', 'O'], tokenPerLine: true },
  ]);
  // Only spaces and tabs split columns: a no-break space stays inside its token.
  assert.deepEqual(parseConll('New\u00a0York B-LOC\n')[0]!.tokens, ['New\u00a0York']);
});

test('a -DOCSTART- line inside a sentence ends it; several documents', () => {
  const text = '-DOCSTART- O\n\na O\nb O\n-DOCSTART- O\n\nc B-X\n\n-DOCSTART- O\n\n-DOCSTART- O\nd O\n';
  assert.deepEqual(parseConll(text).map((s) => [s.line, s.tokens.join(' ')]), [[3, 'a b'], [7, 'c'], [12, 'd']]);
});

test('CoNLL errors name the file and line and say what was expected', () => {
  assert.throws(() => parseConll('Ann B-PER\nLee\n', { file: 'a.conll' }),
    dataError('a.conll:2: expected at least 2 columns (token in column 0 … tag in the last, counting from 0), found 1'));
  assert.throws(() => parseConll('Ann NNP B-NP\n', { file: 'b.conll', column: 3 }),
    dataError('b.conll:1: expected at least 4 columns (token in column 0 … tag in column 3, counting from 0), found 3'));
  assert.throws(() => parseConll('x\ty\n', { tokenColumn: 1 }),
    dataError('<input>:1: expected at least 3 columns (token in column 1 … tag in the last, counting from 0), found 2'));
  assert.throws(() => parseConll('\nAnn NNP B-PER\nLee I-PER\n', { file: 'c.conll' }),
    dataError("c.conll:3: found 2 columns, but this sentence began on line 2 with 3; a sentence's lines need the same columns"));
  // A new sentence may have other columns than the one before.
  assert.equal(parseConll('Ann NNP B-PER\n\nLee I-PER\n').length, 2);
  for (const empty of ['', '\n\n', '\r\n \t\r\n', '-DOCSTART- -X- -X- O\n\n']) {
    assert.throws(() => parseConll(empty, { file: 'e.conll' }), dataError('e.conll: no sentences (the file is empty, or has only blank and -DOCSTART- lines)'));
  }
});

test('CoNLL options out of range are a ValueError', () => {
  const refuses = (f: () => unknown, pattern: RegExp) => assert.throws(f, (e: Error) => e instanceof ValueError && pattern.test(e.message));
  refuses(() => parseConll('a O', { column: 0 }), /column and tokenColumn are both 0; the tag needs a column of its own/);
  refuses(() => parseConll('a O', { column: -1 }), /column \(or 'last'\) must be a column index \(an integer from 0\), got -1/);
  refuses(() => parseConll('a O', { tokenColumn: 1.5 }), /tokenColumn must be a column index \(an integer from 0\), got 1.5/);
});

test('JSONL tagging records give the same sentences', () => {
  const text = '{"x": ["EU", "rejects"], "y": ["B-ORG", "O"]}\n\n{"x": ["Peter"], "y": ["B-PER"], "id": 7}\n';
  assert.deepEqual(parseTaggedJsonl(text, 't.jsonl'), [
    { line: 1, tokens: ['EU', 'rejects'], tags: ['B-ORG', 'O'] },
    { line: 3, tokens: ['Peter'], tags: ['B-PER'] },
  ]);
});

test('JSONL tagging errors name the file and line', () => {
  const fails = (line: string, message: string) => assert.throws(() => parseTaggedJsonl(`{"x": ["a"], "y": ["O"]}\n${line}\n`, 't.jsonl'), dataError(message));
  fails('{"x": "a b", "y": ["O", "O"]}', 't.jsonl:2: x must be an array of token strings, got string');
  fails('{"y": ["O"]}', 't.jsonl:2: x must be an array of token strings, got nothing');
  fails('{"x": ["a", 1], "y": ["O", "O"]}', 't.jsonl:2: x must be an array of token strings, got an array that is not all strings');
  fails('{"x": ["a"], "y": null}', 't.jsonl:2: y must be an array of tag strings, got null');
  fails('{"x": ["a"], "y": [0]}', 't.jsonl:2: y must be an array of tag strings, got an array that is not all strings');
  fails('{"x": ["a", "b", "c", "d", "e"], "y": ["O", "O", "O", "O"]}', 't.jsonl:2: x has 5 tokens but y has 4 tags; expected one tag per token');
  fails('{"x": [], "y": []}', 't.jsonl:2: x and y are empty: a sentence needs at least one token');
  fails('[1]', 't.jsonl:2: expected a JSON object like {"x": [...], "y": ...}, got an array');
  assert.throws(() => parseTaggedJsonl('\n', 'e.jsonl'), dataError('e.jsonl: no sentences (the file is empty)'));
});

test('readTaggedFile reads by extension, with the column options, and names files it cannot read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lstmkit-conll-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const expected = [{ line: 3, tokens: ['EU', 'rejects', 'German'], tags: ['B-ORG', 'O', 'B-MISC'], tokenPerLine: true }];
  for (const ext of ['conll', 'txt', 'BIO']) {
    const path = write(`a.${ext}`, CONLL2003.split('\n').slice(0, 6).join('\n'));
    assert.deepEqual(await readTaggedFile(path), expected, ext);
    assert.deepEqual((await readTaggedFile(path, { column: 2 }))[0]!.tags, ['B-NP', 'B-VP', 'B-NP']);
  }
  const jsonl = write('a.jsonl', '{"x": ["EU", "rejects", "German"], "y": ["B-ORG", "O", "B-MISC"]}\n');
  const { tokenPerLine: _, ...oneLine } = expected[0]!; // a JSONL sentence is on one line
  assert.deepEqual(await readTaggedFile(jsonl), [{ ...oneLine, line: 1 }]);
  const bad = write('b.conll', 'a O\nb\n');
  await assert.rejects(readTaggedFile(bad), dataError(`${bad}:2: expected at least 2 columns (token in column 0 … tag in the last, counting from 0), found 1`));
  const csv = write('c.csv', 'a,O\n');
  await assert.rejects(readTaggedFile(csv),
    dataError(`${csv}: cannot tell the format from the extension .csv; expected .conll, .txt or .bio (CoNLL columns) or .jsonl`));
  await assert.rejects(readTaggedFile(join(dir, 'none.conll')), dataError(`${join(dir, 'none.conll')}: no such file`));
});

test('sentences to tag: plain text with character offsets, token lists joined by spaces, CoNLL tokens with tags ignored', () => {
  const [a, b] = parseSentences('  Ann  met\tBob\n\nrain\r\n', 'text', 'in.txt');
  assert.deepEqual(a, { line: 1, tokens: ['Ann', 'met', 'Bob'], text: '  Ann  met\tBob', offsets: [[2, 5], [7, 10], [11, 14]] });
  assert.deepEqual(b, { line: 3, tokens: ['rain'], text: 'rain', offsets: [[0, 4]] });
  assert.deepEqual(parseSentences('{"x": ["New", "York"]}\n{"x": "a b"}\n', 'jsonl', 'in.jsonl').map((s) => [s.text, s.offsets]), [
    ['New York', [[0, 3], [4, 8]]], ['a b', [[0, 1], [2, 3]]],
  ]);
  assert.deepEqual(parseSentences('Ann B-PER\nran O\n\nx\n', 'conll', 'in.conll').map((s) => s.tokens), [['Ann', 'ran'], ['x']]);
  assert.throws(() => parseSentences('{"x": ["a b"]}\n', 'jsonl', 'q.jsonl'),
    dataError('q.jsonl:1: x must be a text or an array of tokens (non-empty strings without whitespace)'));
  assert.throws(() => parseSentences('{"x": ""}\n', 'jsonl', 'q.jsonl'), dataError('q.jsonl:1: the sentence is empty; a sentence needs at least one token'));
  assert.throws(() => parseSentences('\n \n', 'text', 'e.txt'), dataError('e.txt: no sentences (the file is empty)'));
});

test('word vectors in GloVe\'s text format (and word2vec\'s, with its header line); errors name the line', () => {
  const v = parseWordVectors('the 0.1 -0.2 3e-1\nThe 1 2 3\nthe 9 9 9\n', 'g.txt');
  assert.deepEqual([...v.keys()], ['the', 'The']);
  assert.deepEqual(Array.from(v.get('the')!), [0.1, -0.2, 0.3].map(Math.fround));
  assert.equal(parseWordVectors('2 3\na 1 2 3\nb 4 5 6\n').size, 2);
  assert.throws(() => parseWordVectors('a 1 2\nb 1\n', 'g.txt'), dataError('g.txt:2: found 1 numbers, but the first vector has 2'));
  assert.throws(() => parseWordVectors('a 1 x\n', 'g.txt'), dataError('g.txt:1: number 2 of "a" is "x"'));
  assert.throws(() => parseWordVectors('lonely\n', 'g.txt'), dataError('g.txt:1: expected a word and its numbers, found "lonely"'));
  assert.throws(() => parseWordVectors('\n', 'g.txt'), dataError('g.txt: no word vectors (the file is empty)'));
});
