// Language models: /generate draws what TextGenerator.sample draws (same
// seed, same text), streamed as Server-Sent Events on request; /predict gives
// the next-token distribution.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextGenerator } from '../../src/tasks/generator.js';
import { CHARS, contentsOf, errorOf, generatorConfig, generatorPre, serve } from './helpers.js';

interface Sample {
  text: string;
  tokens: number;
  finishReason: 'length' | 'eos';
}

function events(text: string): { event: string; data: any }[] {
  return text.split('\n\n').filter((b) => b.trim() !== '').map((block) => {
    const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
    const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null');
    return { event, data };
  });
}

const WORDS = ['<pad>', '<unk>', 'the', 'cat', 'sat', 'on', 'mat', '.'];
const models = {
  chars: contentsOf(generatorConfig(CHARS), generatorPre('text'), 3),
  words: contentsOf(generatorConfig(WORDS, 'word'), generatorPre('text'), 4),
  lines: contentsOf(generatorConfig([...CHARS.slice(0, 2), '<eos>', ...CHARS.slice(2)]), generatorPre('lines'), 5),
};

test('generate: the same samples as TextGenerator.sample, for text and line models, chars and words', async () => {
  const s = await serve({ modelContents: models });
  try {
    const requests = [
      { prime: 'abc', length: 30, temperature: 0.8, topK: 5, seed: 7 },
      { prime: '', length: 25, temperature: 1.3, seed: 2, count: 3 },
      { prime: 'j. a', length: 10, temperature: 0 },
      {},
    ];
    for (const [name, contents] of Object.entries(models)) {
      const generator = TextGenerator.fromModelFile(contents);
      for (const req of requests) {
        const wordPrime = name === 'words' && 'prime' in req ? { ...req, prime: req.prime ? 'the cat' : '' } : req;
        const res = await s.post(`/v1/models/${name}/generate`, wordPrime);
        assert.equal(res.status, 200, await res.clone().text());
        const body = (await res.json()) as { samples: Sample[] };
        const expected = generator.sample(wordPrime);
        assert.deepEqual(body.samples.map((x) => x.text), expected, `${name} ${JSON.stringify(wordPrime)}`);
        for (const sample of body.samples) {
          assert.ok(sample.finishReason === 'eos' || sample.tokens === ((wordPrime as { length?: number }).length ?? (name === 'lines' ? 40 : 200)));
        }
      }
    }
    const info = (await (await s.get('/v1/models/lines')).json()) as { task: string; generate: { defaultLength: number }; endpoints: Record<string, string> };
    assert.equal(info.task, 'text-generator');
    assert.equal(info.generate.defaultLength, 40);
    assert.equal(info.endpoints.generate, '/v1/models/lines/generate');
  } finally {
    await s.close();
  }
});

test('generate with stream: true sends prime, token, end and done events that add up to the samples', async () => {
  const s = await serve({ modelContents: { chars: models.chars } });
  try {
    const req = { prime: 'ab', length: 40, temperature: 0.9, seed: 11, count: 2 };
    const res = await s.post('/v1/generate', { ...req, stream: true });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const list = events(await res.text());
    const expected = TextGenerator.fromModelFile(models.chars).sample(req);
    const built = ['', ''];
    for (const e of list.filter((e) => e.event === 'prime' || e.event === 'token')) built[e.data.sample] += e.data.text;
    assert.deepEqual(built, expected);
    assert.deepEqual(list.filter((e) => e.event === 'end').map((e) => e.data.text), expected);
    const last = list[list.length - 1]!;
    assert.equal(last.event, 'done');
    assert.deepEqual(last.data.samples.map((x: Sample) => x.text), expected);
    assert.equal(list.filter((e) => e.event === 'token').length, 80);
    const metrics = await (await s.get('/metrics')).text();
    assert.match(metrics, /lstmkit_generated_tokens_total\{model="chars"\} 80/);
  } finally {
    await s.close();
  }
});

test('predict on a language model gives the next-token distribution over the vocabulary', async () => {
  const s = await serve({ modelContents: { chars: models.chars } });
  try {
    const body = (await (await s.post('/v1/predict', { instances: ['abc', 'j'] })).json()) as {
      predictions: { label: string; probabilities: Record<string, number> }[];
    };
    for (const p of body.predictions) {
      assert.deepEqual(Object.keys(p.probabilities), CHARS);
      assert.ok(Math.abs(Object.values(p.probabilities).reduce((a, b) => a + b, 0) - 1) < 1e-5);
    }
    const greedy = TextGenerator.fromModelFile(models.chars).sample({ prime: 'abc', length: 1, temperature: 0 })[0]!;
    const best = body.predictions[0]!;
    // The most likely next token, unless that is <pad> or <unk>, which sampling never draws.
    if (!best.label.startsWith('<')) assert.equal(greedy, 'abc' + best.label);
    const e = await errorOf(await s.post('/v1/predict', { x: '' }));
    assert.deepEqual([e.status, e.field], [400, 'x']);
  } finally {
    await s.close();
  }
});

test('generations beyond --generate-concurrency wait; beyond the queue they get 503; a client that leaves frees its slot', async () => {
  const s = await serve({
    modelContents: { chars: models.chars }, generateConcurrency: 1, maxQueue: 1, maxInstances: 1,
    maxGenerateLength: 1000,
  });
  try {
    // A long streamed generation holds the only slot once its first event arrives.
    const leaving = new AbortController();
    const first = await s.post('/v1/generate', { length: 1000, count: 8, stream: true }, { signal: leaving.signal });
    const reader = first.body!.getReader();
    assert.match(new TextDecoder().decode((await reader.read()).value), /^event: prime/);
    const waiting = s.post('/v1/generate', { length: 5 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const refused = await s.post('/v1/generate', { length: 5 });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal((await errorOf(refused)).code, 'resource_exhausted');
    leaving.abort();
    await reader.cancel().catch(() => {});
    // The waiting request gets the slot the departed client left.
    assert.equal((await waiting).status, 200);
    assert.match(await (await s.get('/metrics')).text(), /lstmkit_errors_total\{code="cancelled"\} 1/);
  } finally {
    await s.close();
  }
});

test('a generation past the deadline ends with 504, or an error event when streamed', async () => {
  // 64 × 4,000 tokens take far longer than 30 ms on any machine (the small model draws a few µs a token).
  const s = await serve({
    modelContents: { chars: models.chars }, timeoutMs: 30, maxGenerateLength: 4000, maxSamples: 64,
  });
  try {
    const e = await errorOf(await s.post('/v1/generate', { length: 4000, count: 64 }));
    assert.deepEqual([e.status, e.code], [504, 'deadline_exceeded']);
    const res = await s.post('/v1/generate', { length: 4000, count: 64, stream: true });
    assert.equal(res.status, 200);
    const list = events(await res.text());
    const last = list[list.length - 1]!;
    assert.equal(last.event, 'error');
    assert.equal(last.data.code, 'deadline_exceeded');
    // The slot was given back: a short generation still runs.
    assert.equal((await s.post('/v1/generate', { length: 3 })).status, 200);
  } finally {
    await s.close();
  }
});
