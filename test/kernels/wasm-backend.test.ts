// The wasm backend as a whole: bit-identical results run after run and for
// any thread count, the pool really running on two threads, the build without
// shared memory (browsers that are not cross-origin isolated), backend
// selection by option and environment, and a process that used the pool
// exiting on its own.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Rng } from '../../src/core/rng.js';
import { NONE, recurrentSavedSize, recurrentScratchSize, type Backend, type CellKind } from '../../src/kernels/backend.js';
import { backendInfo, createBackend } from '../../src/kernels/index.js';
import { WasmBackend } from '../../src/kernels/wasm/backend.js';
import { fmaSupported, loadModuleSync } from '../../src/kernels/wasm/module.js';
import { ROOT } from '../helpers/fixtures.js';
import { Twin, assertIdentical, assertNear, randomArray, wasmBackend } from '../helpers/backends.js';

/** A layer-sized forward + backward and a large product; every output, concatenated. */
function workload(backend: Backend, cell: CellKind, seed: number, batch = 16, steps = 10): Float32Array {
  const rng = new Rng(seed);
  const arena = backend.arena;
  const [T, B, I, H] = [steps, batch, 32, 64];
  const G = (cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1) * H;
  const put = (n: number, scale = 1): number => {
    const off = arena.alloc(n);
    arena.heap.set(randomArray(rng, n, scale), off);
    return off;
  };
  const sizes = { steps: T, batch: B, hidden: H, output: H, proj: false };
  const w = { wih: put(G * I, 0.1), whh: put(G * H, 0.1), bih: put(G, 0.1), bhh: put(G, 0.1), whr: NONE };
  const dw = { wih: arena.alloc(G * I), whh: arena.alloc(G * H), bih: arena.alloc(G), bhh: arena.alloc(G), whr: NONE };
  const x = put(T * B * I);
  const y = arena.alloc(T * B * H);
  const hn = arena.alloc(B * H);
  const cn = cell === 'lstm' ? arena.alloc(B * H) : NONE;
  const saved = arena.alloc(recurrentSavedSize(cell, sizes));
  const scratch = arena.alloc(recurrentScratchSize(cell, sizes));
  const dy = put(T * B * H);
  const dx = arena.alloc(T * B * I);
  const dh0 = arena.alloc(B * H);
  const lengths = Int32Array.from({ length: B }, (_, b) => T - (b % 4));
  const shape = { steps: T, batch: B, input: I, hidden: H, output: H, reverse: seed % 2 === 1, lengths };
  backend.recurrentForward(cell, { ...shape, w, x, ldx: I, h0: NONE, c0: NONE, y, ldy: H, hn, cn, saved });
  backend.recurrentBackward(cell, {
    ...shape, w, dw, x, ldx: I, h0: NONE, c0: NONE, saved, dy, ldy: H, dhn: NONE, dcn: NONE,
    dx, ldDx: I, accumulateDx: false, dh0, dc0: NONE, scratch,
  });
  const [M, N, K] = [64, 1024, 320];
  const a = put(M * K);
  const b = put(N * K);
  const c = arena.alloc(M * N);
  backend.gemm(false, true, M, N, K, a, K, b, K, c, N, false);
  const parts = [y, hn, dx, dh0, dw.wih, dw.whh, dw.bih, dw.bhh, c].map((off, i) => {
    const n = [T * B * H, B * H, T * B * I, B * H, G * I, G * H, G, G, M * N][i]!;
    return Float32Array.from(arena.view(off, n));
  });
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

for (const cell of ['lstm', 'gru', 'rnn_tanh'] as const) {
  test(`${cell}: bit-identical run after run, and on 1 or 2 threads`, () => {
    const one = wasmBackend(1);
    const two = wasmBackend(2);
    const first = workload(two, cell, 1);
    assert.equal(two.threads, 2, 'the pool started: two threads share the work');
    assertIdentical(workload(two, cell, 1), first, `${cell} 2 threads, second run`);
    assertIdentical(workload(one, cell, 1), first, `${cell} 1 thread vs 2 threads`);
    assertIdentical(workload(wasmBackend(2, true), cell, 1), first, `${cell} split everything`);
    // Batch 1: the forward loop splits the hidden units across threads.
    const split = wasmBackend(2, true);
    const single = workload(split, cell, 5, 1);
    assertIdentical(workload(split, cell, 5, 1), single, `${cell} batch 1, 2 threads, second run`);
    assertIdentical(workload(one, cell, 5, 1), single, `${cell} batch 1, 1 thread vs 2 threads`);
    // Long enough that W_hh is packed: each thread packs the panels of its own units.
    assertIdentical(workload(split, cell, 6, 1, 20), workload(one, cell, 6, 1, 20), `${cell} batch 1, 20 steps, 1 thread vs 2 threads`);
  });
}

test('the build without shared memory (single-threaded) computes the same', () => {
  const fma = wasmBackend(1).fma;
  const module = loadModuleSync('single', fma);
  assert.ok(module);
  const single = new WasmBackend(module, 'single', { threads: 4, fma });
  assert.equal(single.threads, 1, 'no threads without shared memory');
  assert.ok(!(single.arena.buffer instanceof SharedArrayBuffer));
  assertIdentical(workload(single, 'lstm', 3), workload(wasmBackend(1), 'lstm', 3), 'single vs shared build');
  const twin = new Twin(single);
  const rng = new Rng(4);
  const a = twin.put(randomArray(rng, 7 * 9));
  const b = twin.put(randomArray(rng, 9 * 5));
  const c = twin.junk(7 * 5);
  twin.ref.gemm(false, false, 7, 5, 9, a.ref, 9, b.ref, 5, c.ref, 5, false);
  twin.fast.gemm(false, false, 7, 5, 9, a.fast, 9, b.fast, 5, c.fast, 5, false);
  const out = twin.read(c);
  assertNear(out.fast, out.ref, 'single-build gemm', 1e-5, 1e-6);
});

test('the fused multiply-add build agrees with the plain one to float32 precision', { skip: !fmaSupported() && 'this engine runs no relaxed SIMD' }, () => {
  const plain = new WasmBackend(loadModuleSync('shared', false)!, 'shared', { threads: 2, parallelThreshold: 1 });
  const fused = new WasmBackend(loadModuleSync('shared', true)!, 'shared', { threads: 2, parallelThreshold: 1, fma: true });
  for (const cell of ['lstm', 'gru', 'rnn_tanh'] as const) {
    for (const batch of [1, 5]) {
      const want = workload(plain, cell, 3, batch);
      const got = workload(fused, cell, 3, batch);
      // Both builds are checked against the reference backend elsewhere; here only against each other.
      // Sums of 320 unit-sized products that cancel to ~0.01 differ by a few 1e-6 between two roundings.
      assertNear(got, want, `${cell} batch ${batch}: fma vs plain`, 2e-5, 1e-5);
      assert.ok(got.some((v, i) => v !== want[i]), `${cell} batch ${batch}: the FMA build rounds differently, so it did run`);
    }
  }
  plain.dispose();
  fused.dispose();
});

test('the heap grows past its initial size and keeps its contents', () => {
  const backend = createBackend({ backend: 'wasm', threads: 1 });
  const first = backend.arena.alloc(1000);
  backend.fill(1000, first, 3);
  const big = backend.arena.alloc(40 * 2 ** 20 / 4); // 40 MiB: more than the initial 16
  backend.fill(10, big, 1);
  assert.equal(backend.sumSquares(1000, first), 9000);
  assert.equal(backend.sumSquares(10, big), 10);
});

test('createBackend and backendInfo', () => {
  const ref = createBackend({ backend: 'reference' });
  assert.equal(ref.name, 'reference');
  assert.deepEqual(backendInfo(ref), { name: 'reference', simd: false, fma: false, threads: 1 });
  const wasm = createBackend({ backend: 'wasm', threads: 3, fma: true });
  assert.deepEqual(backendInfo(wasm), { name: 'wasm', simd: true, fma: fmaSupported(), threads: 3 });
  assert.deepEqual(backendInfo(createBackend({ backend: 'wasm', threads: 1, fma: false })), { name: 'wasm', simd: true, fma: false, threads: 1 });
  assert.throws(() => createBackend({ backend: 'wasm', threads: 0 }), /threads must be a positive integer/);
  assert.throws(() => createBackend({ backend: 'gpu' as never }), /expected wasm, reference or auto/);
});

const run = promisify(execFile);
const INDEX = join(ROOT, 'dist', 'src', 'kernels', 'index.js');

/** Run a snippet in a fresh Node process with extra environment variables. */
async function child(code: string, env: Record<string, string>): Promise<string> {
  const script = `import { getBackend, backendInfo } from ${JSON.stringify(INDEX)};\n${code}`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, LSTMKIT_BACKEND: '', LSTMKIT_THREADS: '', ...env },
    timeout: 60_000,
  });
  return stdout.trim();
}

test('LSTMKIT_BACKEND and LSTMKIT_THREADS choose the default backend', { timeout: 120_000 }, async () => {
  const info = (env: Record<string, string>) => child('console.log(JSON.stringify(backendInfo()));', env).then((s) => JSON.parse(s) as unknown);
  const fma = fmaSupported(); // a new process finds the same (and on Node 20 sets the same V8 flag)
  assert.deepEqual(await info({ LSTMKIT_BACKEND: 'reference' }), { name: 'reference', simd: false, fma: false, threads: 1 });
  assert.deepEqual(await info({ LSTMKIT_BACKEND: 'wasm', LSTMKIT_THREADS: '2', LSTMKIT_FMA: '' }), { name: 'wasm', simd: true, fma, threads: 2 });
  assert.deepEqual(await info({ LSTMKIT_THREADS: '1', LSTMKIT_FMA: '0' }), { name: 'wasm', simd: true, fma: false, threads: 1 });
  await assert.rejects(info({ LSTMKIT_THREADS: 'many' }), /LSTMKIT_THREADS is "many"/);
  await assert.rejects(info({ LSTMKIT_FMA: 'yes' }), /LSTMKIT_FMA is "yes", expected 0 or 1/);
});

test('a process that used the worker pool exits by itself', { timeout: 120_000 }, async () => {
  // A large product runs on both threads; then the script ends without closing anything.
  const out = await child(`
    const b = getBackend();
    const n = 256;
    const a = b.arena.alloc(n * n), c = b.arena.alloc(n * n);
    b.fill(n * n, a, 1);
    b.gemm(false, false, n, n, n, a, n, a, n, c, n, false);
    console.log(b.threads, b.arena.heap[c]);`, { LSTMKIT_BACKEND: 'wasm', LSTMKIT_THREADS: '2' });
  assert.equal(out, '2 256');
});
