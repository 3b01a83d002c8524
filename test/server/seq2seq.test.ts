// Sequence-to-sequence models over HTTP: predictions are what `transduce`
// gives (greedy, beam, n-best, attention) in the shape `lstmkit predict`
// writes; concurrent requests that decode alike share one transduce call and
// answer as they do alone; every bad field is a 400 naming it; the OpenAPI
// document and /v1/models describe the model; `lstmkit serve` serves one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeModelFile, encodeModelFile, encodePairs, modelFromFile, Rng, Seq2Seq, Seq2SeqModel, transduce,
  type DecodeOptions, type ModelFileContents,
} from '../../src/index.js';
import { bytesPerStep } from '../../src/server/app.js';
import { errorOf, serve, tempDir, type Running } from './helpers.js';

// Reversal of short words, trained for a moment: enough for outputs that end in <eos>.
const rng = new Rng(5);
const word = (): string => Array.from({ length: 2 + rng.int(5) }, () => 'abcdefgh'[rng.int(8)]).join('');
const pairs = Array.from({ length: 400 }, () => {
  const x = word();
  return { x, y: [...x].reverse().join('') };
});
const recipe = new Seq2Seq({
  embeddingDim: 12, hiddenSize: 16, maxSourceLength: 12,
  train: { epochs: 3, batchSize: 32, optimizer: { name: 'adam', lr: 0.02 }, seed: 1 },
});
await recipe.fit(pairs);
const bytes = recipe.toModelFile();
const contents = decodeModelFile(bytes);

/** An untrained one-to-many model: a vector in, tokens out, no attention. */
const vectorContents: ModelFileContents = decodeModelFile(encodeModelFile(new Seq2SeqModel({
  input: { type: 'vector', size: 3 },
  output: { mode: 'seq2seq', vocabulary: ['<pad>', '<unk>', '<bos>', '<eos>', 'x', 'y', 'z'], hiddenSize: 3, maxLength: 6, format: 'tokens' },
}, { seed: 2 })));

type Source = string | string[] | number[];

/** What `lstmkit predict` writes for these sources, from transduce on a model of its own. */
function expected(file: ModelFileContents, sources: Source[], opts: DecodeOptions = {}): unknown[] {
  const model = modelFromFile(file) as Seq2SeqModel;
  const examples = encodePairs(sources.map((x, line) => ({ line, value: { x } })), model.config, { file: 'sources', requireTarget: false });
  return transduce(model, examples, opts).map(({ y, score, nbest, attention }) => ({
    y, score, ...(nbest ? { nbest: nbest.map((n) => ({ y: n.y, score: n.score })) } : {}), ...(attention ? { attention } : {}),
  }));
}

interface Output {
  y: string;
  score: number;
  nbest?: { y: string; score: number }[];
  attention?: number[][];
}

async function predict(s: Running, body: unknown, path = '/v1/models/rev/predict'): Promise<Output[]> {
  const res = await s.post(path, body);
  assert.equal(res.status, 200, await res.clone().text());
  const answer = (await res.json()) as { predictions?: Output[]; prediction?: Output };
  return answer.predictions ?? [answer.prediction!];
}

test('seq2seq predict: what transduce gives, greedy and beam 3 with n-best and attention, in the CLI\'s shape', async () => {
  const s = await serve({ modelContents: { rev: contents, vec: vectorContents } });
  try {
    // A text, one with a token the vocabulary lacks (z: <unk>), an array of tokens.
    const sources: Source[] = ['abc', 'hgfedcba', 'zz', ['b', 'a', 'd']];
    const options: DecodeOptions[] = [{}, { beam: 3, nbest: 2, attention: true }, { beam: 4, lengthPenalty: 0, maxLength: 3 }];
    for (const opts of options) {
      const got = await predict(s, { instances: sources, ...opts });
      assert.deepEqual(got, expected(contents, sources, opts), JSON.stringify(opts));
      for (const p of got) assert.ok(Number.isFinite(p.score));
    }
    const [beamed] = await predict(s, { x: 'cafe', beam: 3, nbest: 2, attention: true });
    assert.equal(beamed!.nbest!.length, 2);
    assert.equal(beamed!.nbest![0]!.y, beamed!.y);
    assert.equal(beamed!.attention!.length, [...beamed!.y].length + 1); // a row per output token and <eos>
    for (const row of beamed!.attention!) assert.equal(row.length, 4);
    // Unknown tokens are <unk>, as the pair reader reads them.
    assert.deepEqual(await predict(s, { x: 'zz' }), await predict(s, { x: ['<unk>', '<unk>'] }));
    // A vector-input model: the numbers in, tokens out.
    const vectors = [[0.5, -1, 2], [0, 0, 0]];
    assert.deepEqual(await predict(s, { instances: vectors, beam: 2 }, '/v1/models/vec/predict'), expected(vectorContents, vectors, { beam: 2 }));
  } finally {
    await s.close();
  }
});

test('concurrent requests that decode alike share one transduce call; each gets the outputs it gets alone', async () => {
  const alone = await serve({ modelContents: { rev: contents }, batching: false });
  // Eight sources in all: the pass starts when the eighth arrives.
  const together = await serve({ modelContents: { rev: contents }, maxBatchSize: 8, batchDelayMs: 1000 });
  try {
    // Sources of distinct lengths within each group, so their order in a batch is the same whatever order they arrive in.
    const requests = [
      { x: 'ab' }, { x: 'bcd' }, { x: 'cdef' }, { instances: ['defgh', 'efghab'] },
      { x: 'ab', beam: 3, nbest: 2 }, { x: 'fedcba', beam: 3, nbest: 2 }, { x: 'gah', beam: 3, nbest: 2 },
    ];
    const single: Output[][] = [];
    for (const r of requests) single.push(await predict(alone, r));
    const batched = await Promise.all(requests.map((r) => predict(together, r)));
    const metrics = await (await together.get('/metrics')).text();
    assert.match(metrics, /lstmkit_batch_size_count\{model="rev"\} 1\n/, 'the eight sources share one forward pass');
    assert.match(metrics, /lstmkit_batch_size_sum\{model="rev"\} 8\n/);
    // The same outputs; scores agree to float32 rounding, not bit for bit: the matrix kernels sum in another order
    // for fewer than four rows than for more, and a source alone decodes on 1 (greedy) or 3 (beam 3) rows.
    batched.forEach((outputs, i) => outputs.forEach((b, k) => {
      const a = single[i]![k]!;
      assert.equal(b.y, a.y);
      assert.deepEqual(b.nbest?.map((n) => n.y), a.nbest?.map((n) => n.y));
      assert.ok(Math.abs(b.score - a.score) < 1e-6, `request ${i}: ${b.score} batched, ${a.score} alone`);
    }));
    // Bit for bit what one transduce call over each group gives.
    assert.deepEqual(batched.slice(0, 4).flat(), expected(contents, ['ab', 'bcd', 'cdef', 'defgh', 'efghab']));
    assert.deepEqual(batched.slice(4).flat(), expected(contents, ['ab', 'fedcba', 'gah'], { beam: 3, nbest: 2 }));
  } finally {
    await alone.close();
    await together.close();
  }
});

test('the memory bound of a forward pass counts each source as beam × its longer side', async () => {
  // Outputs of at most 10 tokens: a greedy source costs 10 padded steps, a source with beam 4 costs 40, and a pass holds 40.
  const s = await serve({ modelContents: { rev: contents }, maxSteps: 20, maxOutputLength: 10, maxPassBytes: 40 * bytesPerStep(contents.config) });
  try {
    const info = (await (await s.get('/v1/model')).json()) as { batching: { maxPassSteps: number } };
    assert.equal(info.batching.maxPassSteps, 40);
    const sources = ['ab', 'bcd', 'cdef', 'gah'];
    assert.deepEqual(await predict(s, { instances: sources }), expected(contents, sources, { maxLength: 10 }));
    const beamed = await predict(s, { instances: sources, beam: 4 });
    assert.deepEqual(beamed.map((p) => p.y), (expected(contents, sources, { beam: 4, maxLength: 10 }) as Output[]).map((p) => p.y));
    const metrics = await (await s.get('/metrics')).text();
    assert.match(metrics, /lstmkit_batch_size_count\{model="rev"\} 5\n/, 'one pass for the greedy request, four for the beams');
  } finally {
    await s.close();
  }
});

test('bad seq2seq requests: 400 naming the field, and limits from the server options and the model', async () => {
  const s = await serve({ modelContents: { rev: contents, vec: vectorContents }, maxBeam: 4, maxSourceLength: 8, maxOutputLength: 50 });
  try {
    const bad: [unknown, string, RegExp, string?][] = [
      [{ instances: ['ab', 'c', ''] }, 'instances[2]', /^instances\[2\] is empty: a source needs at least one token/],
      [{ instances: [[]] }, 'instances[0]', /has 0 items, fewer than 1/],
      [{ instances: ['ab', 5] }, 'instances[1]', /must be a string or an array/],
      [{ x: ['a', 3] }, 'x[1]', /must be a string/],
      [{ x: [1, 2], beam: 2 }, 'x[0]', /must be a string/],
      [{ x: 'abcdefghi' }, 'x', /^x: has 9 tokens; this server accepts sources of at most 8 \(--max-source-length\)/],
      [{ x: [...'abcdefghi'] }, 'x', /^x: has 9 items, more than 8/],
      [{ x: 'ab', beam: 0 }, 'beam', /^beam: must be >= 1/],
      [{ x: 'ab', beam: 5 }, 'beam', /^beam: must be <= 4/],
      [{ x: 'ab', beam: 2.5 }, 'beam', /must be an integer/],
      [{ x: 'ab', beam: '3' }, 'beam', /must be an integer/],
      [{ x: 'ab', beam: 2, nbest: 3 }, 'nbest', /^nbest: is 3, more than beam \(2\)/],
      [{ x: 'ab', nbest: 2 }, 'nbest', /^nbest: is 2, more than beam \(1\)/],
      [{ x: 'ab', nbest: 0 }, 'nbest', /must be >= 1/],
      [{ x: 'ab', lengthPenalty: -1 }, 'lengthPenalty', /must be >= 0/],
      [{ x: 'ab', lengthPenalty: 'long' }, 'lengthPenalty', /must be a number/],
      ['{"x": "ab", "lengthPenalty": 1e400}', 'lengthPenalty', /must be a number/],
      [{ x: 'ab', maxLength: 0 }, 'maxLength', /must be >= 1/],
      [{ x: 'ab', maxLength: 51 }, 'maxLength', /must be <= 50/],
      [{ x: 'ab', attention: 'yes' }, 'attention', /must be a boolean/],
      [{ x: 'ab', temperature: 1 }, 'temperature', /not a field/],
      [{ x: [1, 2] }, 'x', /has 2 items, fewer than 3 \(expected 3 numbers/, '/v1/models/vec/predict'],
      [{ x: [1, 2, 3], attention: true }, 'attention', /this model has no attention/, '/v1/models/vec/predict'],
      [{ x: [1, 2, 'a'] }, 'x[2]', /must be a number/, '/v1/models/vec/predict'],
    ];
    for (const [body, field, message, path] of bad) {
      const e = await errorOf(await s.post(path ?? '/v1/models/rev/predict', body));
      const what = JSON.stringify(body);
      assert.deepEqual([e.status, e.code, e.field], [400, 'invalid_argument', field], `${what}: ${e.error}`);
      assert.match(e.error, message, what);
    }
    assert.equal((await s.get('/healthz')).status, 200);
  } finally {
    await s.close();
  }
  // The model's input.maxLength (12) is the default limit, and no server option can raise it; --max-steps lowers it.
  for (const [options, limit, x, message] of [
    [{}, 12, 'abcdefghabcde', /^x has 13 tokens, more than input\.maxLength \(12\)/],
    [{ maxSourceLength: 100 }, 12, 'abcdefghabcde', /^x has 13 tokens, more than input\.maxLength \(12\)/],
    [{ maxSteps: 5 }, 5, 'abcdefg', /^x: has 7 steps; this server accepts at most 5 \(--max-steps\)/],
  ] as const) {
    const t = await serve({ modelContents: { rev: contents }, ...options });
    try {
      const info = (await (await t.get('/v1/model')).json()) as { seq2seq: { limits: { maxSourceLength: number } } };
      assert.equal(info.seq2seq.limits.maxSourceLength, limit);
      const e = await errorOf(await t.post('/v1/predict', { x }));
      assert.deepEqual([e.status, e.field], [400, 'x']);
      assert.match(e.error, message);
    } finally {
      await t.close();
    }
  }
});

test('/openapi.json has the seq2seq request and response schemas; /v1/models and /v1/model describe the model', async () => {
  const s = await serve({ modelContents: { rev: contents, vec: vectorContents } });
  try {
    const doc = (await (await s.get('/openapi.json')).json()) as { paths: Record<string, Record<string, any>> };
    const post = doc.paths['/v1/models/rev/predict']!.post;
    const body = post.requestBody.content['application/json'].schema;
    assert.deepEqual(Object.keys(body.properties), ['instances', 'x', 'beam', 'nbest', 'lengthPenalty', 'maxLength', 'attention']);
    assert.deepEqual([body.properties.beam.type, body.properties.beam.minimum, body.properties.beam.maximum], ['integer', 1, 16]);
    assert.equal(body.properties.maxLength.maximum, 256);
    assert.equal(body.properties.attention.type, 'boolean');
    assert.deepEqual(body.properties.x.type, ['string', 'array']);
    assert.equal(body.properties.x.maxItems, 12);
    const prediction = post.responses['200'].content['application/json'].schema.properties.predictions.items;
    assert.deepEqual(prediction.required, ['y', 'score']);
    assert.deepEqual(Object.keys(prediction.properties), ['y', 'score', 'nbest', 'attention']);
    assert.equal(prediction.properties.y.type, 'string');
    assert.ok(post.responses['400']);
    const vector = doc.paths['/v1/models/vec/predict']!.post;
    assert.equal(vector.requestBody.content['application/json'].schema.properties.x.minItems, 3);
    assert.equal(vector.responses['200'].content['application/json'].schema.properties.prediction.properties.y.type, 'array');

    const list = (await (await s.get('/v1/models')).json()) as { models: { name: string; task: string; seq2seq: any }[] };
    assert.deepEqual(list.models.map((m) => [m.name, m.task]), [['rev', 'seq2seq'], ['vec', 'seq2seq']]);
    const config = contents.config as { input: { vocabulary: string[] }; output: { vocabulary: string[] } };
    const description = {
      mode: 'seq2seq',
      source: { type: 'tokens', tokenizer: 'char', vocabularySize: config.input.vocabulary.length },
      target: { tokenizer: 'char', vocabularySize: config.output.vocabulary.length, format: 'text' },
      attention: 'general',
      defaults: { beam: 1, nbest: 1, lengthPenalty: 1, maxLength: 100, attention: false },
      limits: { maxBeam: 16, maxSourceLength: 12, maxOutputLength: 256 },
    };
    assert.deepEqual(list.models[0]!.seq2seq, description);
    assert.deepEqual(list.models[1]!.seq2seq.source, { type: 'vector', size: 3 });
    assert.equal(list.models[1]!.seq2seq.attention, 'none');
    const info = (await (await s.get('/v1/models/rev')).json()) as Record<string, any>;
    assert.equal(info.task, 'seq2seq');
    assert.deepEqual(info.seq2seq, description);
    assert.equal(info.parameters, recipe.model.parameterCount);
    assert.equal(info.config.output.mode, 'seq2seq');
    assert.equal(info.generate, null);
  } finally {
    await s.close();
  }
});

test('lstmkit serve <seq2seq model file> serves it, with --max-beam', async () => {
  const model = join(tempDir(), 'rev.lstmkit');
  writeFileSync(model, bytes);
  const script = fileURLToPath(new URL('./serve-cli.js', import.meta.url));
  const child = spawn(process.execPath, [script, 'serve', model, '--port', '0', '--max-beam', '3'], {
    env: { ...process.env, LSTMKIT_SERVE_CLI: '1', LSTMKIT_THREADS: '1' }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /lstmkit serve on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      child.on('exit', () => reject(new Error(`serve exited early: ${stderr}`)));
    });
    assert.match(stderr, /serving "rev" \(seq2seq\)/);
    const ask = (body: unknown) => fetch(`${url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const res = await ask({ instances: ['bad', 'cafe'], beam: 3, nbest: 3 });
    assert.equal(res.status, 200);
    const got = ((await res.json()) as { predictions: Output[] }).predictions;
    const want = expected(contents, ['bad', 'cafe'], { beam: 3, nbest: 3 }) as Output[];
    assert.deepEqual(got.map((p) => p.nbest!.map((n) => n.y)), want.map((p) => p.nbest!.map((n) => n.y)));
    assert.match((await errorOf(await ask({ x: 'bad', beam: 4 }))).error, /^beam: must be <= 3/);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  } finally {
    child.kill('SIGKILL');
  }
});
