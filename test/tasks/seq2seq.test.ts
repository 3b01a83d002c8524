// The Seq2Seq recipe: pairs of texts in, a model out; predict with beam,
// n-best and attention; a model file round trip that decodes the same; and
// bad pairs named by their index.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Seq2Seq, type Pair } from '../../src/index.js';

const rng = new Rng(21);
const word = (): string => Array.from({ length: 2 + rng.int(4) }, () => 'abcdefg'[rng.int(7)]).join('');
/** A word → its letters upper-cased and doubled: a monotonic transduction. */
const pairs: Pair[] = Array.from({ length: 1200 }, () => {
  const x = word();
  return { x, y: [...x].map((c) => c.toUpperCase().repeat(2)).join(' ') };
});

test('the recipe learns a transduction from text pairs, decodes with beam, and its model file decodes the same', async () => {
  const s2s = new Seq2Seq({ target: 'word', embeddingDim: 16, hiddenSize: 32, train: { epochs: 8, optimizer: { name: 'adam', lr: 0.01 }, seed: 3 } });
  const history = await s2s.fit(pairs.slice(0, 1100), { validation: pairs.slice(1100) });
  assert.equal(history.length, 8);
  const m = s2s.evaluate(pairs.slice(1100), { beam: 3 });
  assert.ok(m.sequenceErrorRate! < 0.1, `sequence error rate ${m.sequenceErrorRate}`);
  const [out] = s2s.predict(['fade'], { beam: 3, nbest: 2, attention: true });
  assert.equal(out!.y, 'FF AA DD EE');
  assert.equal(out!.nbest!.length, 2);
  assert.equal(out!.attention!.length, 5); // four tokens and <eos>
  const loaded = Seq2Seq.fromModelFile(s2s.toModelFile());
  assert.deepEqual(loaded.predict(['fade', 'bag'], { beam: 3 }), s2s.predict(['fade', 'bag'], { beam: 3 }));
});

test('bad pairs and options are named', async () => {
  await assert.rejects(new Seq2Seq().fit([]), /no training pairs/);
  await assert.rejects(new Seq2Seq().fit([{ x: 'ab', y: 'c' }, 'ab' as unknown as Pair]), /training pairs: \[1\]: expected \{x, y\}, got "ab"/);
  await assert.rejects(new Seq2Seq().fit([{ x: '', y: 'c' }]), /training pairs:0: x is empty/);
  assert.throws(() => new Seq2Seq({ source: 'bytes' as 'char' }), /source must be 'char' or 'word', got "bytes"/);
  assert.throws(() => new Seq2Seq({ hiddenSize: 0 }), /hiddenSize must be a positive integer, got 0/);
  assert.throws(() => new Seq2Seq().predict(['a']), /no model yet/);
});
