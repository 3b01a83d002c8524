// lstmkit on one workload, as a child of bench/run.ts.
//
//   node dist/bench/lstmkit.js --workload train-medium --threads 2 [--quick]
//       train: Trainer.step on a SequenceModel (LSTM stack → Dense head on the
//       last step's hidden state, MSE, backward, clipNorm 5, Adam), reported in
//       sequences/s; infer: batch-1 forward in eval mode, ms per sequence.
//       Extra: arena peak bytes, GFLOP/s of the input-projection multiply and of
//       the whole step, and where the step's time goes (a phase profile).
//   node dist/bench/lstmkit.js --peak --threads N
//       GFLOP/s of the backend's gemm on 512×512×512 (the machine's measured peak).
//   node dist/bench/lstmkit.js --memory --workload W --threads N [--steps 1000]
//       RSS and arena bytes over that many training steps (run with --expose-gc).
//   node dist/bench/lstmkit.js --export DIR --workload W
//       The model's weights, an input and lstmkit's output, for PyTorch to load
//       and export to ONNX (bench/torch_bench.py), so every peer of the
//       inference workload runs the same weights; for a seq2seq workload, the
//       weights and the first step's loss or the decoded outputs (bench/seq2seq.ts).
//
// The seq2seq workloads (seq2seq-train: seq/s; seq2seq-decode: words/s) run
// through bench/seq2seq.ts, the tagger workloads (tagger-train: sent/s;
// tagger-tag: tokens/s) through bench/tagger.ts.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Batch } from '../src/data/batch.js';
import type { Backend } from '../src/kernels/backend.js';
import { backendInfo, createBackend, setBackend } from '../src/kernels/index.js';
import { WasmBackend } from '../src/kernels/wasm/backend.js';
import { SequenceModel } from '../src/model/model.js';
import { BatchRunner } from '../src/model/runner.js';
import { Workspace } from '../src/core/arena.js';
import { mseArena } from '../src/train/losses.js';
import type { ArenaTensor } from '../src/core/tensor.js';
import { clipGradNorm } from '../src/train/clip.js';
import { Trainer } from '../src/train/trainer.js';
import {
  childArgs, emit, figureOf, findWorkload, flatWeights, isSeq2Seq, isTagger, lstmWorkload, median, parseArgs, peakRssMiB, randomFloats, runChild,
  timeIterations, timingOptions, unitOf, workloadFlops, type LstmWorkload, type Measurement, type Seq2SeqWorkload, type TaggerWorkload,
} from './common.js';
import { benchSeq2Seq, exportSeq2Seq } from './seq2seq.js';
import { benchTagger, exportTagger } from './tagger.js';

const PEER = 'lstmkit';
const MiB = 2 ** 20;

function variantName(threads: number): string {
  return threads === 1 ? '1 thread' : `${threads} threads`;
}

function makeBackend(threads: number): Backend {
  const backend = createBackend({ backend: 'wasm', threads });
  setBackend(backend);
  return backend;
}

function makeModel(w: LstmWorkload, backend: Backend): SequenceModel {
  const config = {
    input: { type: 'features', size: w.input },
    rnn: { cell: 'lstm', hiddenSize: w.hidden, numLayers: w.layers },
    output: { mode: 'sequence', type: 'regression', size: w.output, pooling: 'last' },
  };
  return new SequenceModel(config, { backend, seed: 1 });
}

/** One fixed batch of random inputs and targets, time-major as the engine wants. */
function makeBatchOf(w: LstmWorkload, size: number): Batch {
  return {
    steps: w.seq, size,
    x: randomFloats(w.seq * size * w.input, 11), // [T, B, I]
    tokens: null,
    lengths: new Int32Array(size).fill(w.seq),
    yReg: randomFloats(size * w.output, 12), // [B, out]
    yCls: null,
    indices: [],
  };
}

/** Median GFLOP/s of backend.gemm on one shape (operands carved from the arena, released after). */
function gemmGflops(
  backend: Backend, transA: boolean, transB: boolean, M: number, N: number, K: number, seconds: number,
): number {
  const arena = backend.arena;
  const a = arena.alloc(M * K);
  const b = arena.alloc(K * N);
  const c = arena.alloc(M * N);
  const heap = arena.heap;
  heap.set(randomFloats(M * K, 3), a);
  heap.set(randomFloats(K * N, 4), b);
  const lda = transA ? M : K;
  const ldb = transB ? K : N;
  const samples = timeIterations(() => backend.gemm(transA, transB, M, N, K, a, lda, b, ldb, c, N, false), {
    warmupIters: 3, warmupSeconds: Math.min(0.5, seconds / 4), minIters: 5, minSeconds: seconds,
    maxIters: 5000, maxSeconds: seconds * 2,
  });
  for (const off of [c, b, a]) arena.release(off);
  return (2 * M * N * K) / median(samples) / 1e9;
}

/** The multiplies a training step makes through backend.gemm, per layer, with their shapes. */
function stepMultiplies(w: LstmWorkload): { name: string; transA: boolean; transB: boolean; M: number; N: number; K: number; phase: 'forward' | 'backward' }[] {
  const rows = w.seq * w.batch;
  const G = 4 * w.hidden;
  const out: ReturnType<typeof stepMultiplies> = [];
  for (let l = 0; l < w.layers; l++) {
    const I = l === 0 ? w.input : w.hidden;
    out.push({ name: `l${l} input projection [T·B, I]·W_ihᵀ`, transA: false, transB: true, M: rows, N: G, K: I, phase: 'forward' });
    if (w.kind === 'train') {
      out.push({ name: `l${l} dW_ih += dgatesᵀ·x`, transA: true, transB: false, M: G, N: I, K: rows, phase: 'backward' });
      out.push({ name: `l${l} dW_hh += dgatesᵀ·h_prev`, transA: true, transB: false, M: G, N: w.hidden, K: rows, phase: 'backward' });
      // The first layer reads features: the model computes no dx for it.
      if (l > 0) out.push({ name: `l${l} dx = dgates·W_ih`, transA: false, transB: false, M: rows, N: I, K: G, phase: 'backward' });
    }
  }
  return out;
}

/** Where the time of one step goes: phases timed separately, multiplies timed alone at their shapes. */
function profile(
  w: LstmWorkload, backend: Backend, model: SequenceModel, trainer: Trainer | undefined, batch: Batch, quick: boolean,
): Record<string, number> {
  const phases: Record<string, number[]> = { zeroGrad: [], forward: [], loss: [], backward: [], clip: [], adam: [] };
  const iters = quick ? 3 : 20;
  const clock = (name: string, fn: () => void): void => {
    const t0 = performance.now();
    fn();
    phases[name]!.push(performance.now() - t0);
  };
  const runner = new BatchRunner(model);
  const ws = new Workspace(backend.arena);
  for (let i = 0; i < iters + 2; i++) {
    if (trainer) {
      let output: ArenaTensor | undefined;
      let grad: ArenaTensor | undefined;
      clock('zeroGrad', () => model.parameters().zeroGrad());
      clock('forward', () => (output = runner.forward(batch)));
      clock('loss', () => (grad = mseArena(backend, ws, output!, batch.yReg!).grad));
      clock('backward', () => model.backwardArena(grad!));
      clock('clip', () => clipGradNorm(model, 5));
      clock('adam', () => trainer.optimizer.step());
    } else clock('forward', () => runner.forward(batch));
  }
  runner.dispose();
  ws.dispose();
  const ms: Record<string, number> = {};
  for (const [name, xs] of Object.entries(phases)) if (xs.length) ms[`${name}Ms`] = median(xs.slice(2));
  // The big multiplies alone (same backend, same threads), at the shapes the layers use.
  let forwardGemm = 0;
  let backwardGemm = 0;
  const flopsOf = (m: { M: number; N: number; K: number }): number => 2 * m.M * m.N * m.K;
  for (const m of stepMultiplies(w)) {
    const gflops = gemmGflops(backend, m.transA, m.transB, m.M, m.N, m.K, quick ? 0.1 : 0.5);
    const t = flopsOf(m) / gflops / 1e6; // ms
    if (m.phase === 'forward') forwardGemm += t;
    else backwardGemm += t;
  }
  ms.inputProjectionMs = forwardGemm;
  ms.recurrentLoopForwardMs = Math.max(0, (ms.forwardMs ?? 0) - forwardGemm);
  if (trainer) {
    ms.weightGradientAndDxMs = backwardGemm;
    ms.recurrentLoopBackwardMs = Math.max(0, (ms.backwardMs ?? 0) - backwardGemm);
  }
  return ms;
}

async function bench(): Promise<void> {
  const { workload, threads, quick } = childArgs();
  if (isSeq2Seq(workload) || isTagger(workload)) return modelWorkload(workload, threads, quick);
  const w = workload;
  const backend = makeBackend(threads);
  const info = backendInfo(backend);
  const model = makeModel(w, backend);
  const extra: Record<string, unknown> = { backend: info, parameters: model.parameterCount };
  let samples: number[];
  let perIteration: number;
  let trainer: Trainer | undefined;
  let batch: Batch;
  if (w.kind === 'train') {
    trainer = new Trainer(model, { optimizer: { name: 'adam', lr: 1e-3 }, clipNorm: 5 });
    batch = makeBatchOf(w, w.batch);
    const t = trainer;
    const b = batch;
    samples = timeIterations(() => void t.step(b), timingOptions(quick));
    perIteration = w.batch;
  } else {
    model.eval();
    batch = makeBatchOf(w, 1);
    const b = batch;
    const runner = new BatchRunner(model);
    let sink = 0;
    samples = timeIterations(() => {
      const y = runner.forward(b);
      sink += backend.arena.read(y).data[0]!;
    }, timingOptions(quick));
    extra.checksum = sink;
    perIteration = 1;
  }
  const figure = figureOf(w, samples, perIteration);
  const flops = workloadFlops(w);
  const stepFlops = w.kind === 'train' ? flops.train : flops.forward;
  extra.stepGflops = stepFlops / median(samples) / 1e9;
  const proj = stepMultiplies(w)[0]!;
  extra.inputProjectionShape = `${proj.M}×${proj.N}×${proj.K}`;
  extra.inputProjectionGflops = gemmGflops(backend, proj.transA, proj.transB, proj.M, proj.N, proj.K, quick ? 0.2 : 1);
  // The per-step recurrent product [B, H]·W_hhᵀ as a stand-alone multiply (inside the loop the kernel packs W_hh once).
  extra.recurrentProductShape = `${w.batch}×${4 * w.hidden}×${w.hidden}`;
  extra.recurrentProductGflops = gemmGflops(backend, false, true, w.kind === 'train' ? w.batch : 1, 4 * w.hidden, w.hidden, quick ? 0.2 : 1);
  extra.profile = profile(w, backend, model, trainer, batch, quick);
  extra.arenaPeakBytes = backend.arena.peakBytes;
  extra.arenaLiveBytes = backend.arena.liveBytes;
  if (backend instanceof WasmBackend) extra.wasmMemoryBytes = backend.arena.buffer.byteLength;
  const rss = peakRssMiB();
  const m: Measurement = {
    peer: PEER, workload: w.name, variant: variantName(info.threads), threads: info.threads, status: 'ok',
    figure, unit: unitOf(w), samples, sequencesPerIteration: perIteration, peakRssMiB: rss, extra,
  };
  if (info.threads !== threads) m.note = `asked for ${threads} threads, runs ${info.threads}`;
  emit(m);
}

/**
 * A seq2seq workload (a training step, seq/s; decoding a batch of sources, words/s)
 * or a tagger workload (training, sent/s; tagging, tokens/s).
 */
function modelWorkload(w: Seq2SeqWorkload | TaggerWorkload, threads: number, quick: boolean): void {
  const backend = makeBackend(threads);
  const info = backendInfo(backend);
  const { figure, samples, per, extra } = isTagger(w) ? benchTagger(w, backend, quick) : benchSeq2Seq(w, backend, quick);
  extra.backend = info;
  extra.arenaPeakBytes = backend.arena.peakBytes;
  const m: Measurement = {
    peer: PEER, workload: w.name, variant: variantName(info.threads), threads: info.threads, status: 'ok',
    figure, unit: unitOf(w), samples, sequencesPerIteration: per, peakRssMiB: peakRssMiB(), extra,
  };
  if (info.threads !== threads) m.note = `asked for ${threads} threads, runs ${info.threads}`;
  emit(m);
}

/** The machine's measured peak: gemm 512×512×512 (C = A·B), as in shared/bench/WASM-NOTES.md. */
async function peak(): Promise<void> {
  const { values, flags } = parseArgs(process.argv.slice(2));
  const threads = Number(values.get('threads') ?? 1);
  const backend = makeBackend(threads);
  const gflops = gemmGflops(backend, false, false, 512, 512, 512, flags.has('quick') ? 0.3 : 2);
  emit({
    peer: PEER, workload: 'peak gemm 512×512×512', variant: variantName(backend.threads), threads: backend.threads, status: 'ok',
    figure: gflops, unit: 'GFLOP/s', samples: [], sequencesPerIteration: 0, peakRssMiB: peakRssMiB(),
  });
}

/** RSS and arena bytes over many training steps: a leak shows as growth after the first steps. */
async function memory(): Promise<void> {
  const { workload, threads, values } = childArgs();
  const w = lstmWorkload(workload, 'the memory check');
  const steps = Number(values.get('steps') ?? 1000);
  const backend = makeBackend(threads);
  const model = makeModel(w, backend);
  const trainer = new Trainer(model, { optimizer: { name: 'adam', lr: 1e-3 }, clipNorm: 5 });
  const batch = makeBatchOf(w, w.batch);
  const gc = (globalThis as { gc?: () => void }).gc;
  const every = Math.max(1, Math.floor(steps / 20));
  const trace: {
    step: number; rssMiB: number; heapUsedMiB: number; arenaPeakBytes: number; arenaLiveBytes: number;
    wasmMemoryBytes: number;
  }[] = [];
  const sample = (step: number): void => {
    gc?.();
    const mem = process.memoryUsage();
    trace.push({
      step, rssMiB: mem.rss / MiB, heapUsedMiB: mem.heapUsed / MiB, arenaPeakBytes: backend.arena.peakBytes,
      arenaLiveBytes: backend.arena.liveBytes, wasmMemoryBytes: backend.arena.buffer.byteLength,
    });
  };
  const started = performance.now();
  for (let s = 1; s <= steps; s++) {
    trainer.step(batch);
    if (s === 10 || s % every === 0) sample(s);
  }
  const seconds = (performance.now() - started) / 1000;
  // Growth is measured from step 10, when every workspace has reached its size.
  const first = trace[0]!;
  const last = trace[trace.length - 1]!;
  const rssGrowth = last.rssMiB - first.rssMiB;
  const heapGrowth = last.heapUsedMiB - first.heapUsedMiB;
  const arenaGrowth = last.arenaPeakBytes - first.arenaPeakBytes + (last.arenaLiveBytes - first.arenaLiveBytes);
  const grew = arenaGrowth !== 0 || last.wasmMemoryBytes !== first.wasmMemoryBytes || rssGrowth > 8 || heapGrowth > 4;
  emit({
    peer: PEER, workload: w.name, variant: `${steps} steps, ${variantName(backend.threads)}`, threads: backend.threads, status: 'ok',
    figure: rssGrowth, unit: 'MiB', samples: [], sequencesPerIteration: w.batch, peakRssMiB: peakRssMiB(),
    note: grew ? 'memory grew' : 'no growth',
    extra: {
      steps, seconds, gcExposed: gc !== undefined, rssGrowthMiB: rssGrowth, heapGrowthMiB: heapGrowth,
      arenaGrowthBytes: arenaGrowth, grew, trace,
    },
  });
}

/** Weights, an input and lstmkit's output of the inference model, for bench/torch_bench.py. */
async function exportModel(): Promise<void> {
  const { values } = parseArgs(process.argv.slice(2));
  const dir = values.get('export')!;
  const workload = findWorkload(values.get('workload') ?? 'infer-latency', values.get('workloads'));
  if (isSeq2Seq(workload)) return exportSeq2Seq(workload, makeBackend(1), dir);
  if (isTagger(workload)) return exportTagger(workload, makeBackend(1), dir);
  const w = workload;
  const backend = makeBackend(1);
  const model = makeModel(w, backend).eval();
  const batch = makeBatchOf(w, 1);
  const y = backend.arena.read(new BatchRunner(model).forward(batch)).data;
  mkdirSync(dir, { recursive: true });
  const { tensors, flat } = flatWeights(model);
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(flat.buffer));
  writeFileSync(join(dir, 'x.bin'), new Uint8Array(batch.x!.buffer, batch.x!.byteOffset, batch.x!.byteLength));
  writeFileSync(join(dir, 'model.json'), JSON.stringify({
    workload: w, tensors, x: { shape: [w.seq, 1, w.input] }, y: { shape: [1, w.output], data: Array.from(y) },
  }));
}

runChild(PEER, async () => {
  const { flags, values } = parseArgs(process.argv.slice(2));
  if (values.has('export')) await exportModel();
  else if (flags.has('peak')) await peak();
  else if (flags.has('memory')) await memory();
  else await bench();
});
