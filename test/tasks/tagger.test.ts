// The Tagger recipe: tagged sentences in, a BiLSTM-CRF out; texts and token
// lists tagged with spans and character offsets; a model file round trip that
// tags the same; bad sentences named by their index.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError, Rng, Tagger, type LabelledSentence } from '../../src/index.js';

const rng = new Rng(8);
const cities = ['Rome', 'Oslo', 'Lima', 'Kyiv', 'Doha'];
const words = ['in', 'to', 'from', 'we', 'flew', 'live', 'the', 'city', 'near', 'old'];
/** Words and city names; a city is a LOC span, "New"/"San" + city is one two-token span. */
function sentence(): LabelledSentence {
  const tokens: string[] = [];
  const tags: string[] = [];
  while (tokens.length < 4 + rng.int(5)) {
    const last = tags[tags.length - 1];
    if ((last === undefined || last === 'O') && rng.uniform() < 0.3) {
      if (rng.uniform() < 0.3) {
        tokens.push(rng.uniform() < 0.5 ? 'New' : 'San', cities[rng.int(cities.length)]!);
        tags.push('B-LOC', 'I-LOC');
      } else {
        tokens.push(cities[rng.int(cities.length)]!);
        tags.push('B-LOC');
      }
    } else {
      tokens.push(words[rng.int(words.length)]!);
      tags.push('O');
    }
  }
  return { tokens, tags };
}
const data = Array.from({ length: 500 }, sentence);

test('the recipe learns BIO spans, tags texts and token lists with offsets, and its model file tags the same', async () => {
  const tagger = new Tagger({
    embeddingDim: 8, hiddenSize: 16, chars: { embeddingDim: 8, hiddenSize: 8 }, train: { epochs: 6, optimizer: { name: 'adam', lr: 0.02 }, seed: 2 },
  });
  const history = await tagger.fit(data.slice(0, 450), { validation: data.slice(450) });
  assert.ok(history.length >= 1);
  assert.equal(tagger.model.config.output.scheme, 'BIO');
  const { metrics, report } = tagger.evaluate(data.slice(450));
  assert.ok(metrics.f1! > 0.95, `F1 ${metrics.f1}`);
  assert.deepEqual(report.types.map((t) => t.type), ['LOC']);
  const [text, tokens] = tagger.tag(['we flew to  New Oslo', ['Lima', 'near', 'Rome']]);
  assert.deepEqual(text!.tags, ['O', 'O', 'O', 'B-LOC', 'I-LOC']);
  assert.deepEqual(text!.spans, [{ type: 'LOC', start: 3, end: 5, startChar: 12, endChar: 20, text: 'New Oslo' }]);
  assert.deepEqual(tokens!.spans!.map((s) => [s.text, s.startChar, s.endChar]), [['Lima', 0, 4], ['Rome', 10, 14]]);
  const loaded = Tagger.fromModelFile(tagger.toModelFile());
  assert.deepEqual(loaded.tag(['we flew to  New Oslo']), [text]);
});

test('bad sentences are named by their index', async () => {
  const tagger = new Tagger({ train: { epochs: 1 } });
  await assert.rejects(tagger.fit([]), /no training sentences/);
  await assert.rejects(tagger.fit([{ tokens: ['a'], tags: ['O'] }, { tokens: ['b', 'c'], tags: ['B-X'] }]),
    (e: Error) => e instanceof DataError && /training sentences:1: the sentence has 2 tokens but 1 tags/.test(e.message));
  await assert.rejects(tagger.fit([{ tokens: 'a b', tags: ['O'] } as unknown as LabelledSentence]), /\[0\]: expected \{tokens: string\[\], tags: string\[\]\}/);
  assert.throws(() => tagger.model, /no model yet/);
});
