// Kernel benchmarks: the wasm backend (1 and N threads) against the
// reference one. Prints the fastest of repeated runs (the machine's steady
// state; a shared machine adds noise above it, not below); asserts nothing.
//   node dist/bench/kernels.js [--quick]

import { Rng } from '../src/core/rng.js';
import { NONE, recurrentSavedSize, recurrentScratchSize, type Backend } from '../src/kernels/backend.js';
import { createBackend } from '../src/kernels/index.js';

const quick = process.argv.includes('--quick');

/** Fastest milliseconds of fn after warm-up (V8 tiers wasm up: Liftoff, then TurboFan). */
function time(fn: () => void, minMs = quick ? 200 : 1000): number {
  for (let i = 0; i < 3; i++) fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < 5 || (performance.now() - start < minMs && samples.length < 200)) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return Math.min(...samples);
}

function fillRandom(backend: Backend, n: number, rng: Rng, scale = 1): number {
  const off = backend.arena.alloc(n);
  const heap = backend.arena.heap;
  for (let i = 0; i < n; i++) heap[off + i] = rng.range(-scale, scale);
  return off;
}

function gemmBench(backend: Backend, M: number, N: number, K: number, transB: boolean): number {
  const rng = new Rng(1);
  const a = fillRandom(backend, M * K, rng);
  const b = fillRandom(backend, K * N, rng);
  const c = backend.arena.alloc(M * N);
  const ms = time(() => backend.gemm(false, transB, M, N, K, a, K, b, transB ? K : N, c, N, false));
  for (const off of [a, b, c]) backend.arena.release(off);
  return (2 * M * N * K) / (ms * 1e6); // GFLOP/s
}

/** One LSTM direction, forward + backward (train-medium: input 64, hidden 256, seq 64, batch 32). */
function lstmBench(backend: Backend, T: number, B: number, I: number, H: number, backward: boolean): number {
  const rng = new Rng(2);
  const G = 4 * H;
  const put = (n: number, s = 0.1) => fillRandom(backend, n, rng, s);
  const w = { wih: put(G * I), whh: put(G * H), bih: put(G), bhh: put(G), whr: NONE };
  const dw = { wih: put(G * I), whh: put(G * H), bih: put(G), bhh: put(G), whr: NONE };
  const sizes = { steps: T, batch: B, hidden: H, output: H, proj: false };
  const x = put(T * B * I, 1);
  const y = backend.arena.alloc(T * B * H);
  const hn = backend.arena.alloc(B * H);
  const cn = backend.arena.alloc(B * H);
  const saved = backend.arena.alloc(recurrentSavedSize('lstm', sizes));
  const scratch = backend.arena.alloc(recurrentScratchSize('lstm', sizes));
  const dy = put(T * B * H, 1);
  const dx = backend.arena.alloc(T * B * I);
  const dh0 = backend.arena.alloc(B * H);
  const dc0 = backend.arena.alloc(B * H);
  const shape = { steps: T, batch: B, input: I, hidden: H, output: H, reverse: false, lengths: null };
  return time(() => {
    backend.recurrentForward('lstm', { ...shape, w, x, ldx: I, h0: NONE, c0: NONE, y, ldy: H, hn, cn, saved });
    if (backward) {
      backend.recurrentBackward('lstm', {
        ...shape, w, dw, x, ldx: I, h0: NONE, c0: NONE, saved, dy, ldy: H, dhn: NONE, dcn: NONE,
        dx, ldDx: I, accumulateDx: false, dh0, dc0, scratch,
      });
    }
  }, quick ? 300 : 2000);
}

const threads = Math.max(2, Number(process.env.LSTMKIT_THREADS ?? 2));
const backends: [string, Backend][] = [
  ['wasm 1 thread', createBackend({ backend: 'wasm', threads: 1 })],
  [`wasm ${threads} threads`, createBackend({ backend: 'wasm', threads })],
];
const reference = createBackend({ backend: 'reference' });

console.log('gemm GFLOP/s (C = A·Bᵀ as the input projection; A·B)');
for (const [M, N, K] of [[64, 1024, 320], [32, 1024, 256], [1, 1024, 256], [512, 512, 512]] as const) {
  const row = backends.map(([name, b]) => `${name}: ${gemmBench(b, M, N, K, true).toFixed(1)} / ${gemmBench(b, M, N, K, false).toFixed(1)}`);
  console.log(`  ${M}x${N}x${K}  ${row.join('   ')}`);
}

console.log('LSTM one direction, input 64, hidden 256, seq 64, batch 32 (train-medium), ms');
const refMs = lstmBench(reference, 64, 32, 64, 256, true);
console.log(`  reference             forward+backward ${refMs.toFixed(1)}`);
for (const [name, b] of backends) {
  const fwd = lstmBench(b, 64, 32, 64, 256, false);
  const both = lstmBench(b, 64, 32, 64, 256, true);
  console.log(`  ${name.padEnd(20)}  forward ${fwd.toFixed(2)}  forward+backward ${both.toFixed(2)}  (${(refMs / both).toFixed(0)}x the reference)`);
}

console.log('LSTM inference, batch 1, input 64, hidden 256, seq 100 (infer-latency), ms');
for (const [name, b] of backends) console.log(`  ${name.padEnd(20)}  ${lstmBench(b, 100, 1, 64, 256, false).toFixed(3)}`);
console.log(`  reference             ${lstmBench(reference, 100, 1, 64, 256, false).toFixed(3)}`);
