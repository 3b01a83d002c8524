// Every endpoint of a real server on a random port, over HTTP: predictions
// equal the library's, in the shape of each task; model metadata, health,
// Prometheus metrics and the OpenAPI document.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRecord, modelFromFile, predictModel, SequenceModel } from '../../src/index.js';
import { TextClassifier } from '../../src/tasks/classifier.js';
import { classifierConfig, classifierPre, contentsOf, regressionConfig, serve, taggerConfig } from './helpers.js';

const seqA = [[0.1, 1], [0.5, 0], [0.9, 1]];
const seqB = [[0.3, 0], [0.2, 1], [0.4, 0], [0.8, 1], [0.6, 0]];

test('predict: instances in, predictions out, equal to predictModel; x in, prediction out', async () => {
  const contents = contentsOf(regressionConfig);
  const s = await serve({ modelContents: { adder: contents } });
  try {
    const model = modelFromFile(contents);
    assert.ok(model instanceof SequenceModel);
    const examples = [seqA, seqB].map((x) => encodeRecord({ line: 1, value: { x } }, model.config, { file: 't', requireTarget: false }));
    const expected = predictModel(model, examples) as number[];
    const res = await s.post('/v1/predict', { instances: [seqA, seqB] });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = (await res.json()) as { predictions: number[] };
    assert.equal(body.predictions.length, 2);
    body.predictions.forEach((p, i) => assert.ok(Math.abs(p - expected[i]!) < 1e-6, `prediction ${i}: ${p} vs ${expected[i]}`));
    const one = (await (await s.post('/v1/models/adder/predict', { x: seqB })).json()) as { prediction: number };
    assert.ok(Math.abs(one.prediction - expected[1]!) < 1e-6);
  } finally {
    await s.close();
  }
});

test('model metadata: task, input contract, version; the list of models; health', async () => {
  const s = await serve({ modelContents: { adder: contentsOf(regressionConfig) }, maxSteps: 100, maxInstances: 8 });
  try {
    const info = (await (await s.get('/v1/model')).json()) as Record<string, any>;
    assert.equal(info.name, 'adder');
    assert.equal(info.task, 'sequence-regression');
    assert.deepEqual(info.config.input, { type: 'features', size: 2 });
    assert.equal(info.input.maxSteps, 100);
    assert.equal(info.input.maxInstances, 8);
    assert.equal(info.input.schema.items.minItems, 2);
    assert.equal(info.output.schema.type, 'number');
    assert.equal(typeof info.version.lstmkit, 'string');
    assert.equal(info.version.format, 1);
    assert.equal(info.parameters, 8 * 4 * (2 + 8) + 2 * 4 * 8 + 8 + 1);
    assert.deepEqual(info.endpoints, { info: '/v1/models/adder', predict: '/v1/models/adder/predict' });
    assert.equal(info.generate, null);
    assert.deepEqual(await (await s.get('/v1/models/adder')).json(), info);
    const list = (await (await s.get('/v1/models')).json()) as { models: { name: string; task: string }[] };
    assert.deepEqual(list.models.map((m) => [m.name, m.task]), [['adder', 'sequence-regression']]);
    const health = await s.get('/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok', models: ['adder'] });
  } finally {
    await s.close();
  }
});

test('a text classifier answers labels and probabilities, as TextClassifier.predict does', async () => {
  const contents = contentsOf(classifierConfig, classifierPre);
  const s = await serve({ modelContents: { sentiment: contents } });
  try {
    const texts = ['Good film!', 'bad, BAD film', ''];
    const expected = TextClassifier.fromModelFile(contents).predict(texts);
    const body = (await (await s.post('/v1/predict', { instances: texts })).json()) as {
      predictions: { label: string; probabilities: Record<string, number> }[];
    };
    assert.equal(body.predictions.length, 3);
    body.predictions.forEach((p, i) => {
      assert.equal(p.label, expected[i]!.label);
      for (const c of ['neg', 'pos']) assert.ok(Math.abs(p.probabilities[c]! - expected[i]!.probabilities[c]!) < 1e-6);
    });
    const info = (await (await s.get('/v1/model')).json()) as { task: string };
    assert.equal(info.task, 'text-classifier');
  } finally {
    await s.close();
  }
});

test('a plain step-classification model (a tagger) answers a tag and probabilities per step', async () => {
  const s = await serve({ modelContents: { tagger: contentsOf(taggerConfig) } });
  try {
    const body = (await (await s.post('/v1/predict', { instances: ['the cat sat', ['the', 'dog']] })).json()) as {
      predictions: { labels: string[]; probabilities: Record<string, number>[] }[];
    };
    assert.equal(body.predictions[0]!.labels.length, 3);
    assert.equal(body.predictions[1]!.labels.length, 2);
    for (const p of body.predictions) {
      for (const [t, label] of p.labels.entries()) {
        assert.ok(['DET', 'NOUN', 'VERB'].includes(label));
        const probs = p.probabilities[t]!;
        assert.ok(Math.abs(Object.values(probs).reduce((a, b) => a + b, 0) - 1) < 1e-5);
      }
    }
    assert.equal(((await (await s.get('/v1/model')).json()) as { task: string }).task, 'step-classification');
  } finally {
    await s.close();
  }
});

test('next-step and step-regression models answer in their shapes', async () => {
  const s = await serve({
    modelContents: {
      next: contentsOf({ input: { type: 'features', size: 3 }, rnn: { cell: 'lstm', hiddenSize: 5 }, output: { mode: 'next', type: 'regression' } }),
      steps: contentsOf({ input: { type: 'features', size: 1 }, rnn: { cell: 'rnn', hiddenSize: 5 }, output: { mode: 'step', type: 'regression', size: 2 } }),
    },
  });
  try {
    const next = (await (await s.post('/v1/models/next/predict', { x: [[1, 2, 3], [4, 5, 6]] })).json()) as { prediction: number[] };
    assert.equal(next.prediction.length, 3);
    const steps = (await (await s.post('/v1/models/steps/predict', { instances: [[1, [2], 3]] })).json()) as { predictions: number[][][] };
    assert.equal(steps.predictions[0]!.length, 3);
    assert.equal(steps.predictions[0]![0]!.length, 2);
  } finally {
    await s.close();
  }
});

test('/metrics: Prometheus text with requests, latency histogram, batch sizes and errors', async () => {
  const s = await serve({ modelContents: { adder: contentsOf(regressionConfig) }, defaultMetrics: true });
  try {
    await s.post('/v1/predict', { instances: [seqA, seqB, seqA] });
    await s.post('/v1/predict', { instances: [[[1, 2, 3]]] });
    const res = await s.get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /# TYPE lstmkit_http_requests_total counter/);
    assert.match(text, /lstmkit_http_requests_total\{method="POST",route="\/v1\/predict",status="200"\} 1/);
    assert.match(text, /lstmkit_http_requests_total\{method="POST",route="\/v1\/predict",status="400"\} 1/);
    assert.match(text, /# TYPE lstmkit_http_request_duration_seconds histogram/);
    assert.match(text, /lstmkit_http_request_duration_seconds_bucket\{le="\+Inf",method="POST",route="\/v1\/predict"\} 2/);
    assert.match(text, /lstmkit_batch_size_sum\{model="adder"\} 3/);
    assert.match(text, /lstmkit_batch_size_count\{model="adder"\} 1/);
    assert.match(text, /lstmkit_errors_total\{code="invalid_argument"\} 1/);
    assert.match(text, /lstmkit_predicted_sequences_total\{model="adder"\} 3/);
    assert.match(text, /lstmkit_queue_sequences\{model="adder"\} 0/);
    assert.match(text, /lstmkit_model_info\{model="adder",task="sequence-regression",sha256=""\} 1/);
    assert.match(text, /process_resident_memory_bytes \d+/);
  } finally {
    await s.close();
  }
});

test('/openapi.json: OpenAPI 3.1 with every route and the model\'s input contract', async () => {
  const s = await serve({ modelContents: { adder: contentsOf(regressionConfig) } });
  try {
    const doc = (await (await s.get('/openapi.json')).json()) as { openapi: string; info: { version: string }; paths: Record<string, Record<string, any>> };
    assert.equal(doc.openapi, '3.1.0');
    for (const path of ['/healthz', '/metrics', '/v1/models', '/v1/model', '/v1/predict', '/v1/models/adder', '/v1/models/adder/predict']) {
      assert.ok(doc.paths[path], `no ${path} in the document`);
    }
    assert.equal(doc.paths['/openapi.json'], undefined);
    const body = doc.paths['/v1/predict']!.post.requestBody.content['application/json'].schema;
    assert.equal(body.properties.instances.items.items.maxItems, 2);
    assert.ok(doc.paths['/v1/predict']!.post.responses['400']);
  } finally {
    await s.close();
  }
});

test('a model whose preprocessing names a task the server does not know is refused, not guessed at', async () => {
  await assert.rejects(
    serve({ modelContents: { asr: contentsOf(regressionConfig, { task: 'recognizer', version: 1 }) } }),
    /asr: is a "recognizer" model; the server knows forecast, text-classifier, text-generator, seq2seq and tagger models and plain sequence models/,
  );
});

// SequenceModel.outputs() (src/model/model.ts) reads the heap view it took
// before allocating the probabilities; when that allocation grows the arena,
// the first answer is read from a stale view: all-zero probabilities (shared
// memory) or a TypeError (detached buffer). Fix: read `this.backend.arena.heap`
// after `this.ws.get('probs', …)`. This test passes once it is fixed.
test('the first answer that grows the arena equals the next ones', async () => {
  const vocab = ['<pad>', '<unk>', ...Array.from({ length: 2998 }, (_, i) => `w${i}`)];
  const lm = {
    input: { type: 'tokens', embeddingDim: 8, vocabulary: vocab, tokenizer: 'word' }, rnn: { cell: 'lstm', hiddenSize: 16 },
    output: { mode: 'next', type: 'classification', classes: vocab },
  } as const;
  const s = await serve({ modelContents: { lm: contentsOf(lm) } });
  try {
    const text = Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ');
    const ask = async () => (await s.post('/v1/predict', { instances: Array.from({ length: 8 }, () => text) })).text();
    const first = await ask();
    assert.equal(first, await ask());
  } finally {
    await s.close();
  }
});
