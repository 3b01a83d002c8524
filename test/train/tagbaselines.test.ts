// The tagging baselines on hand-made corpora: the most-frequent-tag tagger's
// ties and unknown words, the bigram HMM's probabilities, its Viterbi path
// against brute-force enumeration of every tag sequence, and its unknown
// words; the accuracy helper's counts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BigramHmm, MostFrequentTagger, Rng, tagAccuracy, unknownWordClass, type TokensAndTags } from '../../src/index.js';

/** "the/D dog/N" → { tokens, tags } */
const sentence = (text: string): TokensAndTags => {
  const pairs = text.split(' ').map((t) => t.split('/') as [string, string]);
  return { tokens: pairs.map((p) => p[0]), tags: pairs.map((p) => p[1]) };
};
const corpus = (...lines: string[]): TokensAndTags[] => lines.map(sentence);

test('unknownWordClass: digits, hyphens, capitals, suffixes, else UNK', () => {
  const cases: [string, string][] = [
    ['1960s', 'UNK-num'], ['re-enter', 'UNK-hyphen'], ['Fulton', 'UNK-cap'], ['Kennedys', 'UNK-cap-s'], ['running', 'UNK-ing'],
    ['walked', 'UNK-ed'], ['quickly', 'UNK-ly'], ['nation', 'UNK-tion'], ['dogs', 'UNK-s'], ['is', 'UNK'], ['zyx', 'UNK'],
  ];
  for (const [word, cls] of cases) assert.equal(unknownWordClass(word), cls, word);
});

test('MostFrequentTagger: each word its most frequent tag; ties to the tag more frequent overall, then by code point', () => {
  const train = corpus('run/V fast/R', 'run/N fast/A', 'run/N', 'walk/V', 'walk/N', 'go/V', 'go/N', 'go/V', 'x/B', 'x/A', 'x/C', 'x/C', 'y/B', 'y/A');
  // overall: V 4, N 4, A 3, B 2, C 2, R 1; the most frequent is N (a tie with V, N first by code point)
  const tagger = new MostFrequentTagger(train);
  assert.equal(tagger.overall, 'N');
  // run N 2 : V 1; walk N : V tied, and tied overall → N; go V 2 : N 1; x C 2; y B : A tied → A, more frequent overall; fast R : A → A
  const words = ['run', 'walk', 'go', 'x', 'y', 'fast'];
  assert.deepEqual(tagger.tag(words), ['N', 'N', 'V', 'C', 'A', 'A']);
  // the same counts in another order give the same tags
  const reversed = new MostFrequentTagger(train.map((s) => ({ tokens: [...s.tokens].reverse(), tags: [...s.tags].reverse() })).reverse());
  assert.deepEqual(reversed.tag(words), tagger.tag(words));
});

test('MostFrequentTagger: unknown words get the overall tag, or the tag of the words seen once of their shape', () => {
  const train = corpus('the/D dog/N barks/V', 'the/D dog/N ran/V', 'the/D Smith/P ran/V', 'the/D cat/N walked/V', 'the/D Jones/P ran/V');
  const overall = new MostFrequentTagger(train, { unknown: 'overall' });
  const shape = new MostFrequentTagger(train);
  assert.equal(overall.overall, 'D');
  assert.deepEqual(overall.tag(['the', 'Brown', 'talked']), ['D', 'D', 'D']);
  // seen once: barks (UNK-s → V), Smith and Jones (UNK-cap → P), cat (UNK → N), walked (UNK-ed → V)
  assert.deepEqual(shape.tag(['the', 'Brown', 'talked', 'hat', '1961']), ['D', 'P', 'V', 'N', 'D']);
});

test('BigramHmm: transition rows are add-one smoothed distributions; the boundary cannot follow itself', () => {
  const hmm = new BigramHmm(corpus('a/X b/Y', 'b/Y b/Y a/X', 'c/Z'));
  const T = hmm.tags.length;
  assert.deepEqual(hmm.tags, ['Y', 'X', 'Z']);
  for (let from = 0; from <= T; from++) {
    const row = hmm.logTransition.subarray(from * (T + 1), (from + 1) * (T + 1));
    assert.ok(Math.abs(row.reduce((s, v) => s + Math.exp(v), 0) - 1) < 1e-12, `row ${from}`);
  }
  assert.equal(hmm.logTransition[T * (T + 1) + T], -Infinity);
  // from Y: Y→Y 1, Y→X 1, Y→end 1 of 3, plus 4 outcomes: P(X | Y) = 2 / 7
  assert.ok(Math.abs(hmm.logTransition[1]! /* row Y (0), column X (1) */ - Math.log(2 / 7)) < 1e-12);
});

/** Every tag sequence's log joint probability; the best one and its score. */
function bruteForce(hmm: BigramHmm, words: string[]): { score: number; tags: string[] } {
  let best = { score: -Infinity, tags: [] as string[] };
  const n = words.length;
  const T = hmm.tags.length;
  for (let code = 0; code < T ** n; code++) {
    const tags = Array.from({ length: n }, (_, i) => hmm.tags[Math.floor(code / T ** i) % T]!);
    const score = hmm.logJoint(words, tags);
    if (score > best.score) best = { score, tags };
  }
  return best;
}

test('BigramHmm: Viterbi finds the best tag sequence that brute force finds, on random small corpora', () => {
  const rng = new Rng(7);
  const vocabulary = ['a', 'b', 'c', 'd', 'e', 'Fa', 'gs'];
  const tagNames = ['P', 'Q', 'R', 'S'];
  for (let trial = 0; trial < 20; trial++) {
    const train = Array.from({ length: 12 }, () => {
      const n = 1 + rng.int(5);
      const words = Array.from({ length: n }, () => vocabulary[rng.int(vocabulary.length)]!);
      return { tokens: words, tags: Array.from({ length: n }, () => tagNames[rng.int(3 + (trial % 2))]!) };
    });
    const hmm = new BigramHmm(train);
    for (let k = 0; k < 5; k++) {
      const words = Array.from({ length: 1 + rng.int(5) }, () => [...vocabulary, 'Zed', 'hs', 'q'][rng.int(vocabulary.length + 3)]!);
      const viterbi = hmm.tag(words);
      const best = bruteForce(hmm, words);
      assert.ok(Number.isFinite(best.score), `trial ${trial}: ${words.join(' ')} has a possible tagging`);
      const message = `trial ${trial}: ${words.join(' ')} → ${viterbi.join(' ')}, best ${best.tags.join(' ')}`;
      assert.ok(Math.abs(hmm.logJoint(words, viterbi) - best.score) < 1e-9, message);
    }
  }
  assert.deepEqual(new BigramHmm(corpus('a/X')).tag([]), []);
});

test('BigramHmm: Viterbi ties go to the lower state (the earlier tag of hmm.tags) at every step', () => {
  // X X and Y Y are equally likely, and X Y, Y X less so; X and Y are equally frequent, X first by code point
  const hmm = new BigramHmm(corpus('a/Y b/Y', 'a/X b/X'));
  assert.deepEqual(hmm.tags, ['X', 'Y']);
  assert.equal(hmm.logJoint(['a', 'b'], ['X', 'X']), hmm.logJoint(['a', 'b'], ['Y', 'Y']));
  assert.deepEqual(hmm.tag(['a', 'b']), ['X', 'X']);
  assert.deepEqual(hmm.tag(['a', 'b', 'a', 'b']), ['X', 'X', 'X', 'X']);
  // a tie inside: X Z and Y Z are equally likely, and only Z can end; tags are Z, X, Y
  const inner = new BigramHmm(corpus('a/X b/Z', 'a/Y b/Z'));
  assert.deepEqual(inner.tags, ['Z', 'X', 'Y']);
  assert.deepEqual(inner.tag(['a', 'b']), ['X', 'Z']);
});

test('BigramHmm: rare words stand in for unknown words of their shape; a shape never seen may take any tag', () => {
  const train = corpus(
    'the/D dog/N runs/V', 'the/D dog/N runs/V', 'the/D cat/N runs/V', 'the/D cat/N runs/V', 'the/D fox/N sleeps/V',
    'the/D Smith/P runs/V', 'the/D Jones/P runs/V', 'dog/N runs/V',
  );
  const hmm = new BigramHmm(train);
  // seen once: fox (UNK → N), sleeps (UNK-s → V), Smith, Jones (UNK-cap → P); their own forms are not kept
  assert.equal(hmm.formOf('fox'), 'UNK');
  assert.equal(hmm.formOf('Brown'), 'UNK-cap');
  assert.equal(hmm.formOf('dog'), 'dog');
  assert.deepEqual(hmm.tag(['the', 'Brown', 'runs']), ['D', 'P', 'V']);
  assert.deepEqual(hmm.tag(['the', 'owl', 'sleeps']), ['D', 'N', 'V']);
  assert.deepEqual(hmm.tag(['the', 'dog', 'walks']), ['D', 'N', 'V']);
  // no word seen once with a digit: "1961" is read as "UNK", the class of words seen once with no shape
  assert.equal(hmm.formOf('1961'), 'UNK');
  // a corpus with no rare words at all: an unknown word may be any tag, uniformly, and decoding still works
  const noRare = new BigramHmm(corpus('a/X b/Y', 'a/X b/Y'));
  assert.equal(noRare.emissions.has('UNK'), false);
  assert.deepEqual(noRare.tag(['a', 'zzz']), ['X', 'Y']);
  assert.ok(Number.isFinite(noRare.logJoint(['a', 'zzz'], ['X', 'X'])));
});

test('tagAccuracy: overall and unknown-word counts', () => {
  const tagger = new MostFrequentTagger(corpus('a/X b/Y', 'a/X c/Z'), { unknown: 'overall' });
  const gold = corpus('a/X b/Y', 'd/X e/Y c/Z');
  const known = (w: string): boolean => ['a', 'b', 'c'].includes(w);
  const acc = tagAccuracy(tagger, gold, known);
  assert.deepEqual(acc, { correct: 4, total: 5, accuracy: 0.8, unknownCorrect: 1, unknownTotal: 2, unknownAccuracy: 0.5 });
  assert.throws(() => new BigramHmm([{ tokens: ['a'], tags: [] }]), /1 tokens but 0 tags/);
  assert.throws(() => new MostFrequentTagger([]), /at least one sentence/);
});
