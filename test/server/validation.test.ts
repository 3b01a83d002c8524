// Every way a request can be wrong gets a 4xx with a JSON error that names
// the field; hostile bodies never take the process down.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifierConfig, classifierPre, contentsOf, errorOf, generatorConfig, generatorPre, CHARS, regressionConfig, serve, taggerConfig,
} from './helpers.js';

interface Case {
  name: string;
  path?: string;
  body: unknown;
  contentType?: string;
  status: number;
  code: string;
  field?: string;
  message: RegExp;
}

const cases: Case[] = [
  { name: 'no body', body: '', status: 400, code: 'invalid_argument', field: 'body', message: /empty/ },
  { name: 'not JSON', body: '{"instances": [', status: 400, code: 'invalid_argument', field: 'body', message: /not valid JSON \(.*JSON/ },
  { name: 'not an object', body: [1, 2], status: 400, code: 'invalid_argument', field: 'body', message: /body: must be an object/ },
  { name: 'neither x nor instances', body: {}, status: 400, code: 'invalid_argument', field: 'instances', message: /give instances/ },
  { name: 'both x and instances', body: { x: [[1, 2]], instances: [[[1, 2]]] }, status: 400, code: 'invalid_argument', field: 'x', message: /not both/ },
  {
    name: 'an unknown field', body: { instances: [[[1, 2]]], temperature: 1 },
    status: 400, code: 'invalid_argument', field: 'temperature', message: /not a field/,
  },
  { name: 'instances not an array', body: { instances: 'abc' }, status: 400, code: 'invalid_argument', field: 'instances', message: /must be an array/ },
  { name: 'no instances', body: { instances: [] }, status: 400, code: 'invalid_argument', field: 'instances', message: /has 0 items, fewer than 1/ },
  {
    name: 'too many instances', body: { instances: Array.from({ length: 5 }, () => [[1, 2]]) },
    status: 400, code: 'invalid_argument', field: 'instances', message: /instances: has 5 items, more than 4 \(--max-instances\)/,
  },
  {
    name: 'a step with too few features', body: { instances: [[[1, 2]], [[1, 2], [3]]] },
    status: 400, code: 'invalid_argument', field: 'instances[1][1]',
    message: /instances\[1\]\[1\]: has 1 item, fewer than 2 \(expected 2 numbers\)/,
  },
  {
    name: 'a step with too many features', body: { x: [[1, 2, 3]] },
    status: 400, code: 'invalid_argument', field: 'x[0]', message: /x\[0\]: has 3 items, more than 2 \(expected 2 numbers\)/,
  },
  { name: 'a string for a number', body: { x: [[1, '2']] }, status: 400, code: 'invalid_argument', field: 'x[0][1]', message: /must be a number/ },
  { name: 'null for a number', body: { x: [[1, null]] }, status: 400, code: 'invalid_argument', field: 'x[0][1]', message: /must be a number/ },
  { name: 'a number too large for a float', body: '{"x": [[1, 1e400]]}', status: 400, code: 'invalid_argument', field: 'x[0][1]', message: /must be a number/ },
  {
    name: 'a number finite in float64, beyond float32', body: '{"x": [[1e39, 1e39]]}',
    status: 400, code: 'invalid_argument', field: 'x[0][0]', message: /x\[0\]\[0\] is 1e\+39, beyond float32's range/,
  },
  {
    name: 'an empty sequence', body: { x: [] },
    status: 400, code: 'invalid_argument', field: 'x', message: /x: has 0 items, fewer than 1 \(expected steps of 2 numbers\)/,
  },
  {
    name: 'a sequence over --max-steps', body: { x: Array.from({ length: 11 }, () => [0, 1]) },
    status: 400, code: 'invalid_argument', field: 'x', message: /x: has 11 items, more than 10 \(--max-steps\)/,
  },
  {
    name: 'prototype poisoning', body: '{"x": [[1, 2]], "__proto__": {"polluted": true}}',
    status: 400, code: 'invalid_argument', field: 'body', message: /holds a key named "__proto__", which is refused/,
  },
  { name: 'text/plain', body: 'hello', contentType: 'text/plain', status: 400, code: 'invalid_argument', field: 'body', message: /must be an object/ },
  {
    name: 'an unsupported media type', body: 'a=1', contentType: 'application/x-www-form-urlencoded',
    status: 415, code: 'unsupported_media_type', message: /application\/json/,
  },
  {
    name: 'a body over --max-body', body: { x: Array.from({ length: 10 }, () => [0.123456789, 0.123456789]), pad: 'p'.repeat(600) },
    status: 413, code: 'payload_too_large', message: /larger than 512 bytes/,
  },
  {
    name: 'an unknown model', path: '/v1/models/nope/predict', body: { x: [[1, 2]] },
    status: 404, code: 'not_found', message: /no model named "nope"; this server has "adder"/,
  },
  {
    name: 'generate on a regression model', path: '/v1/generate', body: {},
    status: 404, code: 'not_found', message: /no route POST \/v1\/generate/,
  },
  {
    name: 'generate on a named regression model', path: '/v1/models/adder/generate', body: {},
    status: 404, code: 'not_found', message: /not a language model/,
  },
];

test('invalid predict requests: 4xx with a JSON error naming the field', async () => {
  const s = await serve({
    modelContents: { adder: contentsOf(regressionConfig) }, maxInstances: 4, maxSteps: 10, maxBodyBytes: 512,
  });
  try {
    for (const c of cases) {
      const res = await s.post(c.path ?? '/v1/predict', c.body, c.contentType ? { headers: { 'content-type': c.contentType } } : {});
      const e = await errorOf(res);
      assert.equal(e.status, c.status, `${c.name}: status ${e.status} (${e.error})`);
      assert.equal(e.code, c.code, `${c.name}: code ${e.code} (${e.error})`);
      if (c.field !== undefined) assert.equal(e.field, c.field, `${c.name}: field ${e.field} (${e.error})`);
      assert.match(e.error, c.message, c.name);
    }
    const get = await s.get('/v1/nothing');
    assert.equal((await errorOf(get)).status, 404);
    const wrongMethod = await fetch(`${s.url}/v1/predict`);
    assert.equal((await errorOf(wrongMethod)).code, 'not_found');
    assert.equal((await s.get('/healthz')).status, 200);
  } finally {
    await s.close();
  }
});

test('a sequence whose tokens exceed --max-steps is refused after tokenizing, naming the instance', async () => {
  const s = await serve({ modelContents: { tagger: contentsOf(taggerConfig) }, maxSteps: 5 });
  try {
    const e = await errorOf(await s.post('/v1/predict', { instances: ['the cat', 'the cat sat the cat sat'] }));
    assert.deepEqual([e.status, e.code, e.field], [400, 'invalid_argument', 'instances[1]']);
    assert.match(e.error, /instances\[1\]: has 6 steps; this server accepts at most 5/);
    const tokens = await errorOf(await s.post('/v1/predict', { x: ['the', 3] }));
    assert.deepEqual([tokens.status, tokens.field], [400, 'x[1]']);
    assert.match(tokens.error, /must be a string/);
    const empty = await errorOf(await s.post('/v1/predict', { x: '' }));
    assert.deepEqual([empty.status, empty.field], [400, 'x']);
    assert.match(empty.error, /^x is empty; a sequence needs at least one step/);
  } finally {
    await s.close();
  }
});

test('a text classifier takes texts only', async () => {
  const s = await serve({ modelContents: { sentiment: contentsOf(classifierConfig, classifierPre) } });
  try {
    const e = await errorOf(await s.post('/v1/predict', { instances: ['good', ['good']] }));
    assert.deepEqual([e.status, e.field], [400, 'instances[1]']);
    assert.match(e.error, /must be a string/);
  } finally {
    await s.close();
  }
});

test('invalid generate requests name the field', async () => {
  const s = await serve({
    modelContents: { lm: contentsOf(generatorConfig(CHARS), generatorPre()) },
    maxGenerateLength: 50, maxSamples: 2, maxSteps: 20,
  });
  try {
    const bad: [unknown, string, RegExp][] = [
      [{ temperature: -1 }, 'temperature', /must be >= 0/],
      [{ temperature: 'hot' }, 'temperature', /must be a number/],
      [{ length: 51 }, 'length', /must be <= 50/],
      [{ length: 2.5 }, 'length', /must be an integer/],
      [{ topK: -2 }, 'topK', /must be >= 0/],
      [{ seed: -1 }, 'seed', /must be >= 0/],
      [{ count: 3 }, 'count', /must be <= 2/],
      [{ stream: 'yes' }, 'stream', /must be a boolean/],
      [{ prime: 42 }, 'prime', /must be a string/],
      [{ prime: 'abcdefghij abcdefghij' }, 'prime', /prime: has 21 tokens; this server accepts at most 20/],
      [{ primer: 'a' }, 'primer', /not a field/],
    ];
    for (const [body, field, message] of bad) {
      const e = await errorOf(await s.post('/v1/generate', body));
      assert.equal(e.status, 400, JSON.stringify(body));
      assert.equal(e.field, field, JSON.stringify(body));
      assert.match(e.error, message, JSON.stringify(body));
    }
  } finally {
    await s.close();
  }
});

test('hostile bodies do not crash the process', async () => {
  const s = await serve({
    modelContents: { adder: contentsOf(regressionConfig), sentiment: contentsOf(classifierConfig, classifierPre) },
    maxBodyBytes: 1 << 20,
  });
  try {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const bodies: string[] = [
      `{"x": ${deep}}`,
      `{"instances": ${deep}}`,
      deep,
      '{"x": [[1, 2]], "constructor": {"prototype": {"polluted": true}}}',
      `{"instances": ["${'\\u0000'.repeat(1000)}"]}`,
      `{"instances": ["${'a'.repeat(500_000)}"]}`,
      '{"x": [[NaN, Infinity]]}',
      '\u0000\u0001\u0002',
      '{"x": [[1, 2]]}'.repeat(1000),
    ];
    for (const body of bodies) {
      for (const path of ['/v1/models/adder/predict', '/v1/models/sentiment/predict']) {
        const res = await s.post(path, body);
        assert.ok(res.status >= 200 && res.status < 500, `${path} ${body.slice(0, 40)}: ${res.status}`);
        await res.arrayBuffer();
      }
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((await s.get('/healthz')).status, 200);
  } finally {
    await s.close();
  }
});
