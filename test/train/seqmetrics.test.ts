// Sequence metrics: edit distance against a naive full-table reference and
// NLTK, error rates and corpus BLEU against the figures make_bleu_fixtures.py
// wrote with NLTK 3.8 (and sacreBLEU, where checkedAgainst says so).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closestReference, corpusBleu, editDistance, Rng, SequenceErrorAccumulator, ValueError } from '../../src/index.js';
import { assertClose, listFixtures, loadFixture } from '../helpers/fixtures.js';

type Tokens = string[];

interface BleuEntry {
  maxOrder: number; smooth: boolean; bleu: number; precisions: number[]; brevityPenalty: number;
  hypothesisLength: number; referenceLength: number; matches: number[]; totals: number[];
  nltkCorpusBleu: number; checkedAgainst: string[];
}
interface CorpusFixture {
  name: string; description: string; hypotheses: Tokens[]; references: Tokens[][]; bleu: BleuEntry[];
  errorRates: {
    tokenErrorRate: number; sequenceErrorRate: number; errors: number; tokens: number; sequenceErrors: number; count: number;
    closest: { index: number; distance: number; length: number }[];
  };
}

const corpora = listFixtures('bleu').filter((f) => f !== 'edit_distance.json').map((f) => loadFixture<CorpusFixture>('bleu', f));
const words = (...sentences: string[]) => sentences.map((s) => (s ? s.split(' ') : []));

/** The whole (|a|+1)·(|b|+1) table: the textbook recurrence, kept as the reference. */
function naiveEditDistance<T>(a: readonly T[], b: readonly T[]): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1), d[i - 1]![j]! + 1, d[i]![j - 1]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

test('editDistance: known pairs, empty inputs, symmetry', () => {
  const chars = (s: string) => [...s];
  for (const [a, b, d] of [['kitten', 'sitting', 3], ['flaw', 'lawn', 2], ['intention', 'execution', 5], ['ab', 'ba', 2], ['abc', 'abc', 0]] as const) {
    assert.equal(editDistance(chars(a), chars(b)), d, `${a} → ${b}`);
    assert.equal(editDistance(chars(b), chars(a)), d, `${b} → ${a}`);
  }
  assert.equal(editDistance([], []), 0);
  assert.equal(editDistance([], ['a', 'b', 'c']), 3);
  assert.equal(editDistance(['a', 'b', 'c'], []), 3);
  assert.equal(editDistance(['T', 'AH', 'M', 'EY', 'T', 'OW'], ['T', 'AH', 'M', 'AA', 'T', 'OW']), 1, 'phonemes are whole tokens');
  assert.equal(editDistance([1, 2, 3], [1, 3]), 1, 'any token type compared with ===');
});

test('editDistance matches nltk.edit_distance on the fixture pairs', () => {
  const { pairs } = loadFixture<{ pairs: { a: Tokens; b: Tokens; distance: number }[] }>('bleu', 'edit_distance.json');
  assert.ok(pairs.length >= 20);
  for (const { a, b, distance } of pairs) assert.equal(editDistance(a, b), distance, `${a.join('')} → ${b.join('')}`);
});

test('editDistance matches the full-table reference on random arrays, both ways round', () => {
  const rng = new Rng(5);
  for (let trial = 0; trial < 400; trial++) {
    const alphabet = 1 + rng.int(4);
    const a = Array.from({ length: rng.int(25) }, () => rng.int(alphabet));
    const b = Array.from({ length: rng.int(25) }, () => rng.int(alphabet));
    const expected = naiveEditDistance(a, b);
    assert.equal(editDistance(a, b), expected, `[${a}] → [${b}]`);
    assert.equal(editDistance(b, a), expected, `[${b}] → [${a}]`);
  }
});

test('closestReference: smallest distance, ties to the shorter reference, then the earlier', () => {
  assert.deepEqual(closestReference(words('a b c d e')[0]!, words('a b c d e f', 'a b c d')), { index: 1, distance: 1, length: 4 });
  assert.deepEqual(closestReference(words('a b')[0]!, words('a c', 'x b', 'a b c')), { index: 0, distance: 1, length: 2 });
  assert.deepEqual(closestReference([], words('a b', 'a', 'b')), { index: 1, distance: 1, length: 1 });
  assert.throws(() => closestReference(['a'], []), (e: Error) => e instanceof ValueError && /no references/.test(e.message));
});

for (const fx of corpora) {
  test(`error rates: ${fx.name}`, () => {
    const acc = new SequenceErrorAccumulator();
    const closest = fx.hypotheses.map((h, s) => acc.add(h, fx.references[s]!));
    const { closest: expectedClosest, ...expected } = fx.errorRates;
    assert.deepEqual(closest, expectedClosest);
    assert.deepEqual(acc.result(), expected);
  });
}

test('error rates by hand: several references, the closest counted, PER and WER', () => {
  const acc = new SequenceErrorAccumulator();
  acc.add(words('T AH M EY T OW')[0]!, words('T AH M AA T OW', 'T AH M EY T OW')); // exact variant: 0 of 6
  acc.add(words('HH AH L UW')[0]!, words('HH AH L OW', 'HH EH L OW')); // 1 substitution of 4
  acc.add([], words('AH')); // 1 deletion of 1
  acc.add(words('K AE T S')[0]!, words('K AE T')); // 1 insertion of 3
  assert.deepEqual(acc.result(), { tokenErrorRate: 3 / 14, sequenceErrorRate: 3 / 4, errors: 3, tokens: 14, sequenceErrors: 3, count: 4 });
});

test('error rates at the edges: nothing added, empty references, no references', () => {
  const none = new SequenceErrorAccumulator().result();
  assert.ok(Number.isNaN(none.tokenErrorRate) && Number.isNaN(none.sequenceErrorRate) && none.count === 0);
  const exact = new SequenceErrorAccumulator();
  exact.add([], [[]]);
  assert.deepEqual(exact.result(), { tokenErrorRate: 0, sequenceErrorRate: 0, errors: 0, tokens: 0, sequenceErrors: 0, count: 1 });
  const inserted = new SequenceErrorAccumulator();
  inserted.add(['a', 'b'], [[], ['x', 'y', 'z']]); // both at distance 2: the empty one is the shorter
  assert.deepEqual(inserted.result(), { tokenErrorRate: Infinity, sequenceErrorRate: 1, errors: 2, tokens: 0, sequenceErrors: 1, count: 1 });
  const acc = new SequenceErrorAccumulator();
  acc.add(['a'], [['a']]);
  assert.throws(() => acc.add(['b'], []), (e: Error) => e instanceof ValueError && e.message.includes('hypothesis 1 has no references'));
  assert.equal(acc.result().count, 1, 'a refused hypothesis is not counted');
});

for (const fx of corpora) {
  test(`corpusBleu matches the reference figures: ${fx.name}`, () => {
    for (const e of fx.bleu) {
      const what = `${fx.name} maxOrder ${e.maxOrder}${e.smooth ? ' smoothed' : ''}`;
      const got = corpusBleu(fx.hypotheses, fx.references, { maxOrder: e.maxOrder, smooth: e.smooth });
      assert.deepEqual([got.matches, got.totals], [e.matches, e.totals], `${what}: matches, totals`);
      assert.deepEqual([got.hypothesisLength, got.referenceLength], [e.hypothesisLength, e.referenceLength], `${what}: c, r`);
      assertClose(got.precisions, e.precisions, `${what}: precisions`, 1e-12, 0);
      assertClose([got.brevityPenalty], [e.brevityPenalty], `${what}: brevity penalty`, 1e-12, 0);
      assertClose([got.bleu], [e.bleu], `${what}: bleu`, 1e-12, 0);
      assert.ok(e.checkedAgainst.length > 0, `${what}: the fixture names what it was checked against`);
    }
  });
}

test('corpusBleu by hand: Papineni et al.\'s clipping and a brevity penalty', () => {
  // "the" seven times; "the" is at most twice in one reference: p1 = 2/7; no bigram matches, so BLEU 0.
  const clipped = corpusBleu(words('the the the the the the the'), [words('the cat is on the mat', 'there is a cat on the mat')]);
  assert.deepEqual([clipped.matches, clipped.totals, clipped.bleu], [[2, 0, 0, 0], [7, 6, 5, 4], 0]);
  // Smoothed: p = 2/7, 1/7, 1/6, 1/5; BP = 1 (c = r = 7, the tie 6 vs 6 in length is moot).
  const smoothed = corpusBleu(words('the the the the the the the'), [words('the cat is on the mat', 'there is a cat on the mat')], { smooth: true });
  assertClose([smoothed.bleu], [Math.pow((2 / 7) * (1 / 7) * (1 / 6) * (1 / 5), 1 / 4)], 'smoothed bleu', 1e-14, 0);
  // Every n-gram matches; c = 5 + 4 = 9 against r = 4 (the tie 4 vs 6 for 5 tokens goes to 4) + 9 = 13.
  const short = corpusBleu(words('a b c d e', 'a b c d'), [words('a b c d e f', 'a b c d'), words('a b c d e f g h i')]);
  assert.deepEqual([short.hypothesisLength, short.referenceLength, short.precisions], [9, 13, [1, 1, 1, 1]]);
  assertClose([short.bleu], [Math.exp(1 - 13 / 9)], 'bleu = BP', 1e-14, 0);
});

test('corpusBleu: n-grams are whole token tuples, whatever the tokens contain', () => {
  const got = corpusBleu([['a', 'b,c', '"']], [[['a,b', 'c', '"']]], { maxOrder: 2 });
  assert.deepEqual([got.matches, got.totals], [[1, 0], [3, 2]]);
});

test('corpusBleu refuses what has no BLEU, naming it', () => {
  const refuses = (f: () => unknown, pattern: RegExp) => assert.throws(f, (e: Error) => e instanceof ValueError && pattern.test(e.message));
  refuses(() => corpusBleu([['a']], []), /1 hypotheses but 0 reference lists/);
  refuses(() => corpusBleu([], []), /no hypotheses/);
  refuses(() => corpusBleu([['a'], ['b']], [[['a']], []]), /hypothesis 1 has no references/);
  refuses(() => corpusBleu([['a']], [[['a']]], { maxOrder: 0 }), /corpusBleu: maxOrder must be a positive integer, got 0/);
  refuses(() => corpusBleu([['a']], [[['a']]], { maxOrder: 2.5 }), /maxOrder must be a positive integer, got 2.5/);
});
