// Limits that hold under load, dynamic batching seen from outside, several
// models from a directory, and graceful shutdown (in process and on SIGTERM).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classifierConfig, classifierPre, contentsOf, errorOf, regressionConfig, serve, tempDir, writeModel, type Running } from './helpers.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/index.js';

const seq = [[0.1, 1], [0.5, 0], [0.9, 1]];

/** Poll /metrics until a line matches. */
async function untilMetric(s: Running, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (pattern.test(await (await s.get('/metrics')).text())) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`/metrics never matched ${pattern}`);
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

test('a full queue answers 503 with Retry-After at once, and the queued requests still succeed', async () => {
  const s = await serve({
    modelContents: { m: contentsOf(regressionConfig) }, maxQueue: 2, maxInstances: 2, batchDelayMs: 300,
  });
  try {
    const queued = s.post('/v1/predict', { instances: [seq, seq] });
    await untilMetric(s, /lstmkit_queue_sequences\{model="m"\} 2/);
    const refused = await s.post('/v1/predict', { x: seq });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    const e = await errorOf(refused);
    assert.equal(e.code, 'resource_exhausted');
    assert.match(e.error, /queue is full \(2 sequences waiting, at most 2\)/);
    assert.equal((await queued).status, 200);
    assert.match(await (await s.get('/metrics')).text(), /lstmkit_errors_total\{code="resource_exhausted"\} 1/);
  } finally {
    await s.close();
  }
});

test('a request not answered within --timeout gets 504', async () => {
  const s = await serve({ modelContents: { m: contentsOf(regressionConfig) }, timeoutMs: 40, batchDelayMs: 1000 });
  try {
    const e = await errorOf(await s.post('/v1/predict', { x: seq }));
    assert.deepEqual([e.status, e.code], [504, 'deadline_exceeded']);
    assert.equal((await s.get('/healthz')).status, 200);
  } finally {
    await s.close();
  }
});

test('dynamic batching: concurrent requests share forward passes; without it each has its own', async () => {
  for (const batching of [true, false]) {
    const s = await serve({ modelContents: { m: contentsOf(regressionConfig) }, batching, batchDelayMs: 50 });
    try {
      const alone = (await (await s.post('/v1/predict', { x: seq })).json()) as { prediction: number };
      const answers = await Promise.all(Array.from({ length: 12 }, () => (
        s.post('/v1/predict', { x: seq }).then((r) => r.json() as Promise<{ prediction: number }>)
      )));
      for (const a of answers) assert.ok(Math.abs(a.prediction - alone.prediction) < 1e-6, 'a batched prediction differs from the one alone');
      const text = await (await s.get('/metrics')).text();
      const passes = metric(text, 'lstmkit_batch_size_count{model="m"}');
      assert.equal(metric(text, 'lstmkit_batch_size_sum{model="m"}'), 13);
      if (batching) assert.ok(passes <= 5, `batching: 13 sequences took ${passes} passes`);
      else assert.equal(passes, 13);
    } finally {
      await s.close();
    }
  }
});

test('--max-pass-memory splits big batches into several forward passes, with the same predictions', async () => {
  const s = await serve({ modelContents: { m: contentsOf(regressionConfig) }, maxPassBytes: 4 * 1024, maxSteps: 10 });
  try {
    // 8·8 + 2 = 66 floats per padded step: 15 steps per pass, so two 3-step sequences… five of them per pass.
    const info = (await (await s.get('/v1/model')).json()) as { batching: { maxPassSteps: number } };
    assert.equal(info.batching.maxPassSteps, 15);
    const alone = (await (await s.post('/v1/predict', { x: seq })).json()) as { prediction: number };
    const many = (await (await s.post('/v1/predict', { instances: Array.from({ length: 12 }, () => seq) })).json()) as { predictions: number[] };
    for (const p of many.predictions) assert.ok(Math.abs(p - alone.prediction) < 1e-6);
    const text = await (await s.get('/metrics')).text();
    assert.equal(metric(text, 'lstmkit_batch_size_count{model="m"}'), 1 + 3);
    assert.equal(metric(text, 'lstmkit_batch_size_sum{model="m"}'), 13);
  } finally {
    await s.close();
  }
});

test('several models from a directory, addressed by name, versioned by their SHA-256', async () => {
  const dir = tempDir();
  const models = join(dir, 'models');
  mkdirSync(join(models, 'run-a'), { recursive: true });
  const adder = writeModel(models, 'adder.lstmkit', contentsOf(regressionConfig));
  writeModel(join(models, 'run-a'), 'best.lstmkit', contentsOf(classifierConfig, classifierPre));
  writeModel(models, 'notes.txt', contentsOf(regressionConfig));
  const s = await serve({ modelsDir: models });
  try {
    const list = (await (await s.get('/v1/models')).json()) as { models: { name: string; task: string; version: { sha256: string } }[] };
    assert.deepEqual(list.models.map((m) => [m.name, m.task]), [['adder', 'sequence-regression'], ['run-a', 'text-classifier']]);
    assert.equal(list.models[0]!.version.sha256, createHash('sha256').update(readFileSync(adder)).digest('hex'));
    assert.equal((await s.post('/v1/models/adder/predict', { x: seq })).status, 200);
    const labels = (await (await s.post('/v1/models/run-a/predict', { x: 'good film' })).json()) as { prediction: { label: string } };
    assert.ok(['neg', 'pos'].includes(labels.prediction.label));
    const e = await errorOf(await s.post('/v1/predict', { x: seq }));
    assert.equal(e.status, 404);
    assert.match(e.error, /several models \(adder, run-a\); use \/v1\/models\/\{name\}/);
  } finally {
    await s.close();
  }
  await assert.rejects(serve({ modelsDir: join(dir, 'nowhere') }), /no such directory/);
  await assert.rejects(serve({ modelsDir: join(models, 'run-a', 'best.lstmkit') }), /is not a directory/);
});

test('a client that stalls mid-body is cut off at the request timeout, not 30-90 s later', async () => {
  const s = await serve({ modelContents: { m: contentsOf(regressionConfig) }, timeoutMs: 1000 });
  try {
    const { port } = new URL(s.url);
    const started = performance.now();
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write('POST /v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"x": [');
      });
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds < 3, `the stalled request held its connection ${seconds.toFixed(1)} s against a 1 s timeout`);
    assert.ok(answer === '' || answer.startsWith('HTTP/1.1 408'), answer.slice(0, 80));
  } finally {
    await s.close();
  }
});

test("GET /v1/model shows a model's facts, not the file system of the machine that trained it", async () => {
  const training = { data: '/home/someone/projects/secret/train.jsonl', validation: 'C:\\Users\\someone\\val.jsonl', epochs: 3, note: 'a/b is fine' };
  const s = await serve({ modelContents: { m: { ...contentsOf(regressionConfig), training } } });
  try {
    const info = (await (await s.get('/v1/model')).json()) as { training: Record<string, unknown> };
    assert.deepEqual(info.training, { data: 'train.jsonl', validation: 'val.jsonl', epochs: 3, note: 'a/b is fine' });
  } finally {
    await s.close();
  }
});

test('one bad model in a directory never stops the others: truncated, lying about its size, an unknown task', async () => {
  const dir = tempDir();
  const good = writeModel(dir, 'good.lstmkit', contentsOf(regressionConfig));
  const bytes = readFileSync(good);
  writeFileSync(join(dir, 'cut.lstmkit'), bytes.subarray(0, bytes.length - 100));
  // The same tensors under a config that claims 2^31 layers: refused in milliseconds, before anything is allocated.
  const file = decodeSafetensors(new Uint8Array(bytes));
  const huge = JSON.parse(file.metadata.config!) as { rnn: { numLayers: number } };
  huge.rnn.numLayers = 2 ** 31;
  writeFileSync(join(dir, 'huge.lstmkit'), encodeSafetensors(file.tensors, { ...file.metadata, config: JSON.stringify(huge) }));
  writeModel(dir, 'odd.lstmkit', contentsOf(regressionConfig, { task: 'translator' }));
  const skipped: { path: string; reason: string }[] = [];
  const started = performance.now();
  const s = await serve({ modelsDir: dir, onSkippedModel: (m) => skipped.push(m) });
  try {
    assert.ok(performance.now() - started < 5000, 'a lying file costs no time');
    const list = (await (await s.get('/v1/models')).json()) as { models: { name: string }[] };
    assert.deepEqual(list.models.map((m) => m.name), ['good']);
    assert.equal((await s.post('/v1/predict', { x: seq })).status, 200);
    assert.deepEqual(skipped.map((m) => basename(m.path)).sort(), ['cut.lstmkit', 'huge.lstmkit', 'odd.lstmkit']);
    assert.match(skipped.find((m) => m.path.endsWith('huge.lstmkit'))!.reason, /the config describes [\d,]+ parameter values .*2147483648 layer/);
    assert.match(skipped.find((m) => m.path.endsWith('odd.lstmkit'))!.reason, /"translator" model/);
  } finally {
    await s.close();
  }
});

test('graceful shutdown: close() lets the requests in flight finish, closes their connections, then stops listening', async () => {
  const s = await serve({ modelContents: { m: contentsOf(regressionConfig) }, batchDelayMs: 300 });
  const inFlight = s.post('/v1/predict', { x: seq });
  // A second client on a raw keep-alive connection, its request queued too.
  const { port } = new URL(s.url);
  const socket = connect(Number(port), '127.0.0.1');
  let raw = '';
  socket.on('data', (d: Buffer) => (raw += d.toString()));
  const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const body = JSON.stringify({ x: seq });
  const request = `POST /v1/predict HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
  socket.write(request);
  await untilMetric(s, /lstmkit_queue_sequences\{model="m"\} 2/);
  const closed = s.close();
  await new Promise((resolve) => setTimeout(resolve, 20));
  socket.write(request); // pipelined on the open connection after close() began: never run
  const res = await inFlight;
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('connection'), 'close');
  assert.equal(typeof ((await res.json()) as { prediction: number }).prediction, 'number');
  await closed;
  await ended;
  const statuses = [...raw.matchAll(/^HTTP\/1\.1 (\d+)/gm)].map((m) => m[1]);
  assert.deepEqual(statuses, ['200'], raw);
  assert.match(raw, /^connection: close/m);
  await assert.rejects(fetch(`${s.url}/healthz`));
});

test('lstmkit serve: SIGTERM finishes the request in flight and exits 0', async () => {
  const dir = tempDir();
  const model = writeModel(dir, 'adder.lstmkit', contentsOf(regressionConfig));
  const script = fileURLToPath(new URL('./serve-cli.js', import.meta.url));
  const child = spawn(process.execPath, [script, 'serve', model, '--port', '0', '--batch-delay', '400'], {
    env: { ...process.env, LSTMKIT_SERVE_CLI: '1', LSTMKIT_THREADS: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
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
    assert.match(stderr, /serving "adder" \(sequence-regression\)/);
    const inFlight = fetch(`${url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ x: seq }) });
    await new Promise((resolve) => setTimeout(resolve, 150));
    child.kill('SIGTERM');
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /SIGTERM, finishing requests in flight/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('lstmkit serve: a missing model or a busy port is one clear line and exit 1', async () => {
  const script = fileURLToPath(new URL('./serve-cli.js', import.meta.url));
  const run = (args: string[]) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [script, 'serve', ...args], { env: { ...process.env, LSTMKIT_SERVE_CLI: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
  const missing = await run(['/nonexistent/model.lstmkit']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^lstmkit: \/nonexistent\/model\.lstmkit: no such model file or run directory\n$/);
  const s = await serve({ modelContents: { m: contentsOf(regressionConfig) } });
  try {
    const dir = tempDir();
    const busy = await run([writeModel(dir, 'm.lstmkit', contentsOf(regressionConfig)), '--port', new URL(s.url).port]);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /port \d+ on 127\.0\.0\.1 is in use; pick another with --port/);
  } finally {
    await s.close();
  }
});
