// Span metrics: chunks as conlleval reads them, worked by hand from its
// startOfChunk/endOfChunk (BIO, IOB1, and BIOES with the S-/E- rules conlleval
// ports add), invalid transitions per scheme, and the accumulator and report
// against what conlleval.pl printed (make_conlleval_fixtures.py).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSpanReport, invalidTransitions, SpanAccumulator, spansOf, ValueError, type Span, type SpanScheme } from '../../src/index.js';
import { loadFixture } from '../helpers/fixtures.js';

const tags = (s: string) => s.split(' ');
/** Spans written `TYPE start end`, comma-separated. */
const spans = (s: string): Span[] =>
  (s ? s.split(', ').map((x) => x.split(' ')).map(([type, start, end]) => ({ type: type!, start: +start!, end: +end! })) : []);
const refuses = (f: () => unknown, pattern: RegExp) => assert.throws(f, (e: Error) => e instanceof ValueError && pattern.test(e.message));

// conlleval.pl (2004-01-26), the previous tag → this tag, a sentence starting and ending as O:
//   endOfChunk:   B→B, B→O, I→B, I→O, E→E, E→I, E→O, or prev not O and prev type ≠ type;
//   startOfChunk: B→B, I→B, O→B, O→I, E→E, E→I, O→E, or tag not O and prev type ≠ type.
test('BIO chunks by conlleval\'s rules: a stray I- opens a chunk, a type change closes one and opens the next', () => {
  const cases: [string, string, string][] = [
    // seqeval's README example (default, conlleval-compatible mode): I-NP I-NP reads as one NP, so it matches B-NP I-NP.
    ['I-NP I-NP O', 'NP 0 2', 'O→I starts; I→I same type neither; I→O ends'],
    ['B-NP I-NP O', 'NP 0 2', 'O→B starts; B→I same type neither; I→O ends'],
    ['B-PER I-PER O B-LOC', 'PER 0 2, LOC 3 4', "seqeval's get_entities example; the last chunk ends at the sentence's end (→O)"],
    ['O I-PER B-PER I-PER I-PER', 'PER 1 2, PER 2 5', 'O→I starts; I→B ends and starts'],
    ['B-PER B-PER', 'PER 0 1, PER 1 2', 'B→B ends and starts'],
    ['B-PER I-LOC I-LOC', 'PER 0 1, LOC 1 3', 'B-PER→I-LOC: type change ends and starts'],
    ['I-LOC I-PER', 'LOC 0 1, PER 1 2', 'I-LOC→I-PER: type change'],
    ['B-ORG I-ORG O I-ORG', 'ORG 0 2, ORG 3 4', 'I→O ends; O→I starts a second ORG'],
    ['O B-MISC I-MISC', 'MISC 1 3', 'closed by the sentence end'],
    ['B-A-B I-A-B I-A', 'A-B 0 2, A 2 3', 'the type is all after the first hyphen (conlleval 2004: /^([^-]*)-(.*)$/)'],
    ['O O', '', 'no chunks'],
    ['', '', 'an empty sentence'],
  ];
  for (const [input, expected, why] of cases) {
    const seq = input ? tags(input) : [];
    assert.deepEqual(spansOf(seq, 'BIO'), spans(expected), `${input}: ${why}`);
    assert.deepEqual(spansOf(seq), spans(expected), `${input}: BIO is the default`);
  }
});

test('IOB1: B- only separates adjacent chunks of one type; conlleval reads it with the same rules as BIO', () => {
  // O→I starts; I→I continues; I-PER→B-PER ends and starts; I→O ends; O→I starts; I-LOC→B-LOC ends and starts.
  const iob1 = tags('I-PER I-PER B-PER I-PER O I-LOC I-LOC B-LOC');
  const expected = spans('PER 0 2, PER 2 4, LOC 5 7, LOC 7 8');
  assert.deepEqual(spansOf(iob1, 'IOB1'), expected);
  assert.deepEqual(spansOf(iob1, 'BIO'), expected);
  // The same chunks in BIO: the only difference is in which transitions each scheme calls valid.
  const bio = tags('B-PER I-PER B-PER I-PER O B-LOC I-LOC B-LOC');
  assert.deepEqual(spansOf(bio, 'BIO'), expected);
  assert.equal(invalidTransitions(iob1, 'IOB1'), 0);
  assert.equal(invalidTransitions(iob1, 'BIO'), 2, 'I-PER first, I-LOC after O');
  assert.equal(invalidTransitions(bio, 'BIO'), 0);
  assert.equal(invalidTransitions(bio, 'IOB1'), 2, 'B-PER first, B-LOC after O');
});

// BIOES, with the rules conlleval ports (seqeval's default mode) add to conlleval's:
//   end also after every E- or S-, and B→S, I→S; start also at every B- and S-, and S→E, S→I.
// conlleval.pl itself knows no S-, and its E- is IOE's: it would read E-LOC B-LOC as one chunk.
test('BIOES chunks: S- is one token, E- closes, and invalid sequences still read leniently', () => {
  const cases: [string, string, string][] = [
    ['S-PER S-PER', 'PER 0 1, PER 1 2', 'after S- a chunk ends; S- starts'],
    ['B-LOC I-LOC E-LOC B-LOC E-LOC', 'LOC 0 3, LOC 3 5', 'B→I→E one chunk; E→B ends and starts'],
    ['O S-ORG O B-PER E-PER', 'ORG 1 2, PER 3 5', 'the usual case'],
    ['B-PER E-PER I-PER E-PER', 'PER 0 2, PER 2 4', 'E→I ends and starts'],
    ['E-ORG E-ORG', 'ORG 0 1, ORG 1 2', 'O→E starts; E→E ends and starts'],
    ['B-PER O', 'PER 0 1', 'B→O ends'],
    ['B-PER I-PER', 'PER 0 2', 'an unclosed chunk ends with the sentence'],
    ['S-PER I-PER E-PER', 'PER 0 1, PER 1 3', 'S→I ends and starts'],
    ['B-PER S-PER', 'PER 0 1, PER 1 2', 'B→S ends and starts'],
    ['B-PER E-LOC', 'PER 0 1, LOC 1 2', 'type change'],
    ['I-MISC E-MISC', 'MISC 0 2', 'O→I starts; I→E same type neither'],
  ];
  for (const [input, expected, why] of cases) assert.deepEqual(spansOf(tags(input), 'BIOES'), spans(expected), `${input}: ${why}`);
});

test('invalidTransitions: each forbidden step counted, the sentence start and end included', () => {
  const cases: [SpanScheme, string, number][] = [
    ['BIO', 'B-PER I-PER O B-LOC', 0],
    ['BIO', 'I-PER I-PER O', 1], // I- first
    ['BIO', 'O I-PER B-LOC I-PER', 2], // I- after O, I-PER after B-LOC
    ['BIO', 'B-PER I-LOC I-LOC', 1], // the type changes inside a chunk, once
    ['IOB1', 'I-PER B-PER O I-LOC', 0],
    ['IOB1', 'B-PER O B-LOC', 2], // B- first, B- after O
    ['IOB1', 'I-PER B-LOC', 1], // B- after another type
    ['BIOES', 'O S-ORG O B-PER I-PER E-PER', 0],
    ['BIOES', 'B-PER E-PER I-PER E-PER', 1], // I- after E-
    ['BIOES', 'E-ORG E-ORG', 2], // E- first, E- after E-
    ['BIOES', 'B-PER O', 1], // B- not closed before O
    ['BIOES', 'B-PER I-PER', 1], // the sentence ends inside a chunk
    ['BIOES', 'S-PER I-PER E-PER', 1], // I- after S-
    ['BIOES', 'B-PER S-PER', 1], // S- inside a chunk
    ['BIOES', 'B-PER E-LOC', 1], // the type changes inside a chunk
    ['BIOES', 'I-PER', 2], // I- first, and the end inside a chunk
  ];
  for (const [scheme, input, expected] of cases) assert.equal(invalidTransitions(tags(input), scheme), expected, `${scheme}: ${input}`);
  assert.equal(invalidTransitions([], 'BIOES'), 0);
});

test('tags outside the scheme, and unknown schemes, are a ValueError naming the tag', () => {
  refuses(() => spansOf(tags('O S-PER')), /spansOf: tags\[1\] is "S-PER"; a BIO tag is 'O' or B-X, I-X/);
  refuses(() => spansOf(tags('B-PER E-PER'), 'IOB1'), /tags\[1\] is "E-PER"; a IOB1 tag is 'O' or I-X, B-X/);
  refuses(() => spansOf(['PER']), /tags\[0\] is "PER"/);
  refuses(() => spansOf(['B-']), /tags\[0\] is "B-"/);
  refuses(() => spansOf(['o'], 'BIOES'), /tags\[0\] is "o"; a BIOES tag is 'O' or B-X, I-X, E-X, S-X/);
  refuses(() => invalidTransitions(['X-PER'], 'BIO'), /invalidTransitions: tags\[0\] is "X-PER"/);
  refuses(() => spansOf(['O'], 'IOB2' as SpanScheme), /spansOf: scheme must be 'BIO', 'IOB1' or 'BIOES', got "IOB2"/);
  refuses(() => new SpanAccumulator('IOBES' as SpanScheme), /SpanAccumulator: scheme must be/);
});

test('SpanAccumulator by hand: exact matches of type, start and end; per type; accuracy; confusion; invalid predictions', () => {
  const acc = new SpanAccumulator('BIO');
  // gold PER 0-2, LOC 3-4; predicted PER 0-2 (correct), ORG 3-4 (wrong type).
  acc.add(tags('B-PER I-PER O B-LOC'), tags('B-PER I-PER O B-ORG'));
  // gold LOC 0-1; predicted LOC 0-1 (a stray I- opens it: correct), PER 2-3 (spurious). I-LOC first is invalid in BIO.
  acc.add(tags('B-LOC O O'), tags('I-LOC O B-PER'));
  const m = acc.result();
  // 3 gold, 4 predicted, 2 correct: P = 1/2, R = 2/3, F1 = 2PR/(P+R) = 4/7. Tokens 3/4 + 1/3 = 4/7.
  // conlleval.pl on these two sentences printed the report below, word for word.
  assert.deepEqual([m.support, m.predicted, m.correct, m.tokens, m.correctTokens, m.sentences], [3, 4, 2, 7, 4, 2]);
  assert.equal(m.precision, 1 / 2);
  assert.equal(m.recall, 2 / 3);
  assert.ok(Math.abs(m.f1 - 4 / 7) < 1e-15);
  assert.equal(m.accuracy, 4 / 7);
  assert.deepEqual(m.types.map((t) => [t.type, t.support, t.predicted, t.correct, t.precision, t.recall]), [
    ['LOC', 2, 1, 1, 1, 0.5],
    ['ORG', 0, 1, 0, 0, 0],
    ['PER', 1, 2, 1, 0.5, 1],
  ]);
  assert.deepEqual(m.types.map((t) => t.f1), [2 / 3, 0, 2 / 3]);
  assert.deepEqual(m.confusion.labels, ['B-LOC', 'B-ORG', 'B-PER', 'I-LOC', 'I-PER', 'O']);
  assert.deepEqual(m.confusion.counts, [
    // B-LOC B-ORG B-PER I-LOC I-PER O   (predicted) ← gold
    [0, 1, 0, 1, 0, 0], // B-LOC
    [0, 0, 0, 0, 0, 0], // B-ORG
    [0, 0, 1, 0, 0, 0], // B-PER
    [0, 0, 0, 0, 0, 0], // I-LOC
    [0, 0, 0, 0, 1, 0], // I-PER
    [0, 0, 1, 0, 0, 2], // O
  ]);
  assert.deepEqual([m.invalidTransitions, m.invalidSentences, m.scheme], [1, 1, 'BIO']);
  assert.equal(formatSpanReport(m), [
    'processed 7 tokens with 3 phrases; found: 4 phrases; correct: 2.',
    'accuracy:  57.14%; precision:  50.00%; recall:  66.67%; FB1:  57.14',
    '              LOC: precision: 100.00%; recall:  50.00%; FB1:  66.67  1',
    '              ORG: precision:   0.00%; recall:   0.00%; FB1:   0.00  1',
    '              PER: precision:  50.00%; recall: 100.00%; FB1:  66.67  2',
    '',
  ].join('\n'));
});

test('SpanAccumulator: the seqeval README example (F1 0.5), a BIOES corpus, and nothing added', () => {
  const acc = new SpanAccumulator();
  acc.add(tags('O O O B-MISC I-MISC I-MISC O'), tags('O O B-MISC I-MISC I-MISC I-MISC O'));
  acc.add(tags('B-PER I-PER O'), tags('B-PER I-PER O'));
  const m = acc.result();
  assert.deepEqual([m.precision, m.recall, m.f1, m.accuracy], [0.5, 0.5, 0.5, 8 / 10]);

  const bioes = new SpanAccumulator('BIOES');
  // gold PER 0-2, LOC 3-4; predicted PER 0-1 (B→S: B-PER alone), PER 1-2, LOC 3-4. One invalid step (S- after B-).
  bioes.add(tags('B-PER E-PER O S-LOC'), tags('B-PER S-PER O S-LOC'));
  const b = bioes.result();
  assert.deepEqual([b.support, b.predicted, b.correct, b.invalidTransitions], [2, 3, 1, 1]);
  assert.deepEqual(b.types.map((t) => [t.type, t.precision, t.recall]), [['LOC', 1, 1], ['PER', 0, 0]]);

  const none = new SpanAccumulator().result();
  assert.deepEqual([none.precision, none.recall, none.f1, none.accuracy, none.tokens, none.types], [0, 0, 0, 0, 0, []]);
  assert.deepEqual(none.confusion, { labels: [], counts: [] });
  assert.equal(formatSpanReport(none), 'processed 0 tokens with 0 phrases; found: 0 phrases; correct: 0.\n');
});

test('SpanAccumulator refuses ragged sentences and tags outside its scheme, and counts nothing of them', () => {
  const acc = new SpanAccumulator('BIO');
  acc.add(['B-PER'], ['B-PER']);
  refuses(() => acc.add(tags('B-PER I-PER O'), tags('B-PER O')),
    /SpanAccumulator.add: sentence 1 has 3 gold tags but 2 predicted; expected one predicted tag per token/);
  refuses(() => acc.add(['O'], ['S-PER']), /SpanAccumulator.add: sentence 1, predicted tags\[0\] is "S-PER"; a BIO tag is 'O' or B-X, I-X/);
  refuses(() => acc.add(['E-PER'], ['O']), /sentence 1, gold tags\[0\] is "E-PER"/);
  const m = acc.result();
  assert.deepEqual([m.sentences, m.tokens, m.support, m.confusion.labels], [1, 1, 1, ['B-PER']]);
});

interface ConllevalCorpus {
  name: string; gold: string[][]; predicted: string[][]; goldSpans: Span[][];
  report: string; tokens: number; support: number; found: number; correct: number;
}

for (const fx of loadFixture<{ corpora: ConllevalCorpus[] }>('spans', 'conlleval.json').corpora) {
  test(`conlleval.pl's figures and report: ${fx.name}`, () => {
    fx.gold.forEach((g, s) => {
      assert.deepEqual(spansOf(g, 'BIO'), fx.goldSpans[s], `sentence ${s}: ${g.join(' ')}`);
      assert.deepEqual(spansOf(g, 'IOB1'), fx.goldSpans[s], `sentence ${s} as IOB1`);
    });
    const acc = new SpanAccumulator('BIO');
    fx.gold.forEach((g, s) => acc.add(g, fx.predicted[s]!));
    const m = acc.result();
    assert.deepEqual([m.tokens, m.support, m.predicted, m.correct], [fx.tokens, fx.support, fx.found, fx.correct]);
    assert.equal(formatSpanReport(m), fx.report);
    assert.equal(m.confusion.counts.flat().reduce((a, b) => a + b, 0), m.tokens);
    assert.equal(m.confusion.labels.reduce((sum, _, i) => sum + m.confusion.counts[i]![i]!, 0), m.correctTokens);
  });
}

test('formatSpanReport rounds as conlleval\'s printf: an exact tie goes to the even digit, where toFixed goes up', () => {
  const base = new SpanAccumulator().result();
  // perl -e 'printf "%6.2f|%6.2f|%6.2f", 100*97/800, 100*1/160, 100*3/160' prints " 12.12|  0.62|  1.88".
  const accuracy = (correctTokens: number, tokens: number) => formatSpanReport({ ...base, tokens, correctTokens }).split('\n')[1]!.slice(0, 17);
  assert.deepEqual([accuracy(97, 800), accuracy(1, 160), accuracy(3, 160), accuracy(2, 3)], [
    'accuracy:  12.12%', 'accuracy:   0.62%', 'accuracy:   1.88%', 'accuracy:  66.67%',
  ]);
});
