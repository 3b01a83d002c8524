// The dynamic batcher on its own: what shares a forward pass, the bounded
// queue, deadlines and cancellation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher, type BatchStats } from '../../src/server/batcher.js';
import { HttpError } from '../../src/server/errors.js';

function doubler(options: Partial<ConstructorParameters<typeof Batcher>[1]> = {}) {
  const passes: number[][] = [];
  const stats: BatchStats[] = [];
  const batcher = new Batcher<number, number>((items) => {
    passes.push([...items]);
    return items.map((x) => x * 2);
  }, {
    batching: true, maxBatchSize: 8, maxDelayMs: 5, maxQueue: 64, timeoutMs: 1000, ...options,
  }, (s) => stats.push(s));
  return { batcher, passes, stats };
}

test('concurrent requests share one forward pass; each gets its own outputs in order', async () => {
  const { batcher, passes, stats } = doubler();
  const results = await Promise.all([[1], [2, 3], [4]].map((items) => batcher.submit(items)));
  assert.deepEqual(results, [[2], [4, 6], [8]]);
  assert.deepEqual(passes, [[1, 2, 3, 4]]);
  assert.equal(stats[0]!.requests, 3);
  assert.equal(stats[0]!.size, 4);
});

test('without batching every request is its own pass, in arrival order', async () => {
  const { batcher, passes } = doubler({ batching: false });
  await Promise.all([[1], [2, 3], [4]].map((items) => batcher.submit(items)));
  assert.deepEqual(passes, [[1], [2, 3], [4]]);
});

test('a pass holds at most maxBatchSize sequences; a larger request runs alone', async () => {
  const { batcher, passes } = doubler({ maxBatchSize: 3 });
  await Promise.all([[1, 2], [3, 4], [5], [6, 7, 8, 9], [10]].map((items) => batcher.submit(items)));
  assert.deepEqual(passes, [[1, 2], [3, 4, 5], [6, 7, 8, 9], [10]]);
});

test('a full batch runs at once; a partial one waits at most maxDelayMs', async () => {
  const full = doubler({ maxBatchSize: 2, maxDelayMs: 10_000 });
  const t0 = performance.now();
  await full.batcher.submit([1, 2]);
  assert.ok(performance.now() - t0 < 1000);
  const partial = doubler({ maxDelayMs: 40 });
  const t1 = performance.now();
  await partial.batcher.submit([1]);
  const waited = performance.now() - t1;
  assert.ok(waited >= 35 && waited < 1000, `waited ${waited} ms`);
});

test('the queue is bounded: past maxQueue sequences a request is refused with 503 and Retry-After', async () => {
  const { batcher } = doubler({ maxQueue: 4, maxDelayMs: 50 });
  const a = batcher.submit([1, 2, 3]);
  await assert.rejects(batcher.submit([4, 5]), (e: HttpError) => e.statusCode === 503 && e.code === 'resource_exhausted' && e.retryAfter === 1);
  const b = batcher.submit([4]);
  assert.equal(batcher.queued, 4);
  assert.deepEqual(await Promise.all([a, b]), [[2, 4, 6], [8]]);
  assert.equal(batcher.queued, 0);
});

test('a request past its deadline leaves the queue with 504; a cancelled one leaves too', async () => {
  const { batcher, passes } = doubler({ maxDelayMs: 100, timeoutMs: 20 });
  await assert.rejects(batcher.submit([1]), (e: HttpError) => e.statusCode === 504 && e.code === 'deadline_exceeded');
  assert.equal(batcher.queued, 0);
  const slow = doubler({ maxDelayMs: 50 });
  const controller = new AbortController();
  const gone = slow.batcher.submit([1], controller.signal);
  const kept = slow.batcher.submit([2]);
  controller.abort();
  await assert.rejects(gone, (e: HttpError) => e.code === 'cancelled');
  assert.deepEqual(await kept, [4]);
  assert.deepEqual(slow.passes, [[2]]);
  assert.deepEqual(passes, []);
});

test('a failing pass fails its requests and the batcher goes on', async () => {
  let calls = 0;
  const batcher = new Batcher<number, number>((items) => {
    if (calls++ === 0) throw new Error('boom');
    return items;
  }, { batching: true, maxBatchSize: 8, maxDelayMs: 1, maxQueue: 8, timeoutMs: 1000 });
  await assert.rejects(batcher.submit([1]), /boom/);
  assert.deepEqual(await batcher.submit([2]), [2]);
});

test('close() refuses new requests and drained() waits for the queued ones', async () => {
  const { batcher } = doubler({ maxDelayMs: 30 });
  const queued = batcher.submit([1]);
  batcher.close();
  await assert.rejects(batcher.submit([2]), (e: HttpError) => e.statusCode === 503 && e.code === 'unavailable');
  await batcher.drained();
  assert.deepEqual(await queued, [2]);
});

test('memory bound: a pass holds at most maxPassSteps padded steps; a larger request runs as several passes', async () => {
  const passes: number[][] = [];
  const batcher = new Batcher<number, number>((items) => {
    passes.push([...items]);
    return items;
  }, {
    batching: true, maxBatchSize: 64, maxDelayMs: 5, maxQueue: 64, timeoutMs: 1000,
    maxPassSteps: 10, steps: (x) => x as number,
  });
  // Items are their own lengths. Two requests of [3, 3] would pad to 12 steps: they take a pass each.
  // [5, 1, 1, 1] alone pads to 20: it runs as [5, 1] (10) and [1, 1].
  const results = await Promise.all([[3, 3], [3, 3], [5, 1, 1, 1], [10]].map((items) => batcher.submit(items)));
  assert.deepEqual(results, [[3, 3], [3, 3], [5, 1, 1, 1], [10]]);
  assert.deepEqual(passes, [[3, 3], [3, 3], [5, 1], [1, 1], [10]]);
});
