// Taggers over HTTP: a BiLSTM-CRF trained for a moment to mark runs of
// capitalised names as PER spans, and an untrained softmax tagger whose tags
// are not spans. Predictions are what tagSentences gives on the same model
// (tags, confidences, spans with character offsets in a text with irregular
// whitespace, or in tokens joined by single spaces); sentences of concurrent
// requests share a forward pass; /v1/model, /v1/models and the OpenAPI
// document describe the model; every bad sentence is a 400 naming it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildModel, completeTaggerConfig, decodeModelFile, encodeModelFile, encodeTagged, modelFromFile, Rng, sentenceOfText, sentenceOfTokens,
  tagSentences, Trainer, type ModelFileContents, type TaggedSentence, type TaggerConfig, type TaggerModel, type TagResult,
} from '../../src/index.js';
import { errorOf, serve, type Running } from './helpers.js';

const rng = new Rng(5);
const names = ['Ann', 'Bob', 'Lee', 'Kim', 'Rae', 'Sue', 'Tom', 'Uma', 'Zed', 'Ida'];
const words = ['saw', 'met', 'and', 'the', 'a', 'dog', 'ran', 'to', 'with', 'it'];

/** Lowercase words and names; a run of names is one PER span (B-PER, I-PER …). */
function sentence(): TaggedSentence {
  const tokens: string[] = [];
  const tags: string[] = [];
  const n = 3 + rng.int(6);
  while (tokens.length < n) {
    const afterName = tags.length > 0 && tags[tags.length - 1] !== 'O'; // two runs of names never touch: they would read as one
    if (!afterName && rng.uniform() < 0.35) {
      const len = 1 + rng.int(2);
      for (let i = 0; i < len; i++) {
        tokens.push(names[rng.int(names.length)]!);
        tags.push(i === 0 ? 'B-PER' : 'I-PER');
      }
    } else {
      tokens.push(words[rng.int(words.length)]!);
      tags.push('O');
    }
  }
  return { line: 1, tokens, tags };
}

async function trained(config: TaggerConfig, sentences: TaggedSentence[], epochs: number): Promise<ModelFileContents> {
  const model = buildModel(completeTaggerConfig(config, sentences, 'train'), { seed: 1 }) as TaggerModel;
  if (epochs > 0) {
    const trainer = new Trainer<TaggerModel>(model, { epochs, batchSize: 16, optimizer: { name: 'adam', lr: 0.03 }, seed: 1 });
    await trainer.fit(encodeTagged(sentences, model.config, { file: 'train', requireTags: true }));
  }
  return decodeModelFile(encodeModelFile(model));
}

const train = Array.from({ length: 240 }, sentence);
const crf = await trained({
  input: { type: 'tokens', embeddingDim: 8, maxLength: 12, chars: { embeddingDim: 6, hiddenSize: 6 } },
  rnn: { cell: 'lstm', hiddenSize: 12, bidirectional: true },
  output: { mode: 'step', type: 'classification', crf: true },
}, train, 4);
// Parts of speech, more or less: tags that mark no spans.
const pos = train.map((s) => ({ ...s, tags: s.tokens.map((t) => (names.includes(t) ? 'PROPN' : t === 'the' || t === 'a' ? 'DET' : 'X')) }));
const softmax = await trained({
  input: { type: 'tokens', embeddingDim: 6, lowercase: true },
  rnn: { cell: 'gru', hiddenSize: 6, bidirectional: true },
  output: { mode: 'step', type: 'classification', crf: false },
}, pos, 0);

type Instance = string | string[];

/** What tagSentences gives for these instances, on a model loaded from the same file. */
function expected(file: ModelFileContents, instances: Instance[]): TagResult[] {
  const sentences = instances.map((x, i) => (typeof x === 'string' ? sentenceOfText(x, i + 1) : sentenceOfTokens(x, i + 1)));
  return tagSentences(modelFromFile(file) as TaggerModel, sentences);
}

async function predict(s: Running, body: unknown, path = '/v1/models/ner/predict'): Promise<TagResult[]> {
  const res = await s.post(path, body);
  assert.equal(res.status, 200, await res.clone().text());
  const answer = (await res.json()) as { predictions?: TagResult[]; prediction?: TagResult };
  return answer.predictions ?? [answer.prediction!];
}

test('tagger predict: tags, CRF marginals and spans with character offsets, as tagSentences gives them', async () => {
  const s = await serve({ modelContents: { ner: crf, pos: softmax } });
  try {
    const text = '  the Ann\t Lee   met\nthe  dog ';
    const instances: Instance[] = [text, ['Kim', 'saw', 'Uma'], 'Bob ran', 'a dog ran to Zed and Ida Sue'];
    const got = await predict(s, { instances });
    assert.deepEqual(got, expected(crf, instances));
    // The model learned the task, so the spans are the names, their offsets into the text as sent.
    assert.deepEqual(got[0]!.tags, ['O', 'B-PER', 'I-PER', 'O', 'O', 'O']);
    assert.deepEqual(got[0]!.spans, [{ type: 'PER', start: 1, end: 3, startChar: 6, endChar: 14, text: 'Ann\t Lee' }]);
    // Tokens: offsets into the tokens joined by single spaces.
    assert.deepEqual(got[1]!.spans!.map((p) => [p.text, p.startChar, p.endChar]), [['Kim', 0, 3], ['Uma', 8, 11]]);
    for (const c of got.flatMap((p) => p.confidence)) assert.ok(c > 0 && c <= 1, String(c));
    // One sentence as x: the same answer as within a list.
    assert.deepEqual(await predict(s, { x: 'Bob ran' }), [got[2]]);

    // A softmax tagger whose tags are not spans: softmax probabilities, no spans field.
    const tokens = ['The', 'dog', 'met', 'Kim'];
    const plain = await predict(s, { instances: [tokens, 'Tom saw a dog'] }, '/v1/models/pos/predict');
    assert.deepEqual(plain, expected(softmax, [tokens, 'Tom saw a dog']));
    assert.ok(plain.every((p) => p.spans === undefined));
  } finally {
    await s.close();
  }
});

test('sentences of concurrent requests share a forward pass and get what they get alone', async () => {
  const together = await serve({ modelContents: { ner: crf }, maxBatchSize: 4, batchDelayMs: 1000 });
  try {
    const requests: Instance[][] = [['Ann saw Bob'], [['the', 'dog', 'met', 'Lee', 'Kim']], ['it ran', 'Uma and Zed ran with the dog']];
    const batched = await Promise.all(requests.map((instances) => predict(together, { instances })));
    const metrics = await (await together.get('/metrics')).text();
    assert.match(metrics, /lstmkit_batch_size_count\{model="ner"\} 1\n/, 'the four sentences share one forward pass');
    batched.forEach((answers, i) => answers.forEach((a, k) => {
      const [alone] = expected(crf, [requests[i]![k]!]);
      assert.deepEqual(a.tags, alone!.tags);
      assert.deepEqual(a.spans, alone!.spans);
      // The same to float32 rounding: the matrix kernels sum in another order for a batch of one.
      a.confidence.forEach((c, t) => assert.ok(Math.abs(c - alone!.confidence[t]!) < 1e-5, `${c} vs ${alone!.confidence[t]}`));
    }));
  } finally {
    await together.close();
  }
});

test('/v1/model, /v1/models and the OpenAPI document describe a tagger', async () => {
  const s = await serve({ modelContents: { ner: crf } });
  try {
    const info = (await (await s.get('/v1/model')).json()) as {
      task: string; summary: string; tagger: Record<string, unknown>;
      input: { schema: { maxItems: number; description: string }; example: string }; output: { schema: { required: string[] } };
    };
    assert.equal(info.task, 'tagger');
    assert.deepEqual(info.tagger, { tags: ['B-PER', 'I-PER', 'O'], scheme: 'BIO', crf: true, chars: true, lowercase: false, maxLength: 12 });
    assert.equal(info.input.schema.maxItems, 12);
    assert.match(info.input.schema.description, /tokens joined by single spaces/);
    assert.deepEqual(info.output.schema.required, ['tokens', 'tags', 'confidence', 'spans']);
    assert.match(info.summary, /character offsets/);
    // The documented example is an instance the model takes.
    assert.equal((await predict(s, { x: info.input.example }, '/v1/predict')).length, 1);
    const models = (await (await s.get('/v1/models')).json()) as { models: { task: string; tagger?: { scheme: string } }[] };
    assert.equal(models.models[0]!.task, 'tagger');
    assert.equal(models.models[0]!.tagger?.scheme, 'BIO');
    const doc = JSON.stringify(await (await s.get('/openapi.json')).json());
    const documented = [
      'under a CRF the marginal p(tag | sentence)', 'a non-empty string without whitespace (a token)', 'tokens joined by single spaces',
      '"crf":{"type":"boolean"}', // the config's schema is a tagger's too
    ];
    for (const said of documented) {
      assert.ok(doc.includes(said), said);
    }
  } finally {
    await s.close();
  }
});

test('a bad sentence is a 400 naming its instance and what is wrong', async () => {
  const s = await serve({ modelContents: { ner: crf } });
  const long = Array.from({ length: 13 }, () => 'dog');
  const cases: { body: unknown; field: string; message: RegExp }[] = [
    { body: { instances: ['Ann ran', ''] }, field: 'instances[1]', message: /instances\[1\]: the text has no tokens \(it is empty or only whitespace\)/ },
    { body: { x: ' \t\n ' }, field: 'x', message: /x: the text has no tokens/ },
    { body: { instances: [[]] }, field: 'instances[0]', message: /instances\[0\]: has 0 items, fewer than 1/ },
    { body: { instances: ['ok', ['Ann', '']] }, field: 'instances[1][1]', message: /instances\[1\]\[1\]: must be a non-empty string without whitespace/ },
    { body: { x: ['Ann', 'Lee Kim'] }, field: 'x[1]', message: /x\[1\]: must be a non-empty string without whitespace/ },
    { body: { x: ['Ann', 3] }, field: 'x[1]', message: /x\[1\]: must be a string/ },
    { body: { x: 7 }, field: 'x', message: /x: must be a string or an array/ },
    {
      body: { instances: ['Ann', long.join(' ')] }, field: 'instances[1]',
      message: /instances\[1\]: the sentence has 13 tokens, over the model's limit of 12 \(input.maxLength\)/,
    },
    { body: { instances: [long] }, field: 'instances[0]', message: /instances\[0\]: has 13 items, more than 12 \(expected .*at most 12 tokens\)/ },
  ];
  try {
    for (const c of cases) {
      const e = await errorOf(await s.post('/v1/predict', c.body));
      assert.equal(e.status, 400, JSON.stringify(c.body));
      assert.equal(e.code, 'invalid_argument');
      assert.equal(e.field, c.field);
      assert.match(e.error, c.message);
    }
    // The server is still up and answers.
    assert.equal((await predict(s, { x: 'Ann ran' }, '/v1/predict')).length, 1);
  } finally {
    await s.close();
  }
});
