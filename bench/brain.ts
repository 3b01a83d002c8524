// brain.js (2.0 beta) on one workload, as a child of bench/run.ts.
//
//   node dist/bench/brain.js --workload train-medium [--quick]
//
// brain.recurrent.LSTMTimeStep with hiddenLayers = [hidden] × layers. It is
// the nearest brain.js has to the workload, not the same computation:
// - it trains one sequence at a time (no batches), so sequences/s is timed
//   over chunks of sequences of the workload's shape;
// - it trains next-step prediction only: each sequence is the T inputs
//   followed by the target vector, and it evaluates its output layer and loss
//   at every step (the workloads have output = input, so the shapes fit);
// - its update is its own RMSprop-like rule with value clipping at 5
//   (clipval), not Adam with global-norm clipping;
// - it runs on plain JavaScript arrays, one thread (its gpu.js peer is used
//   by the feed-forward NeuralNetworkGPU only).
// Inference is net.run on one sequence of T steps.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  childArgs, emit, figureOf, lstmWorkload, peakRssMiB, randomFloats, runChild, timeIterations, timingOptions,
  unavailable, unitOf, type Measurement,
} from './common.js';

interface BrainLSTMTimeStep {
  train(
    data: number[][][], opts: { iterations: number; errorThresh: number; log: boolean },
  ): { error: number; iterations: number };
  run(input: number[][]): ArrayLike<number>;
}
interface Brain {
  recurrent: {
    LSTMTimeStep: new (o: { inputSize: number; hiddenLayers: number[]; outputSize: number }) => BrainLSTMTimeStep;
  };
}

const require = createRequire(import.meta.url);
const PEER = 'brain.js';

/** `count` sequences of `steps` vectors of `size` numbers. */
function sequences(count: number, steps: number, size: number, seed: number): number[][][] {
  const flat = randomFloats(count * steps * size, seed);
  return Array.from({ length: count }, (_, s) => Array.from({ length: steps }, (_, t) => {
    const at = (s * steps + t) * size;
    return Array.from(flat.subarray(at, at + size));
  }));
}

runChild(PEER, async () => {
  const { workload, quick } = childArgs();
  const w = lstmWorkload(workload, PEER);
  const variant = 'LSTMTimeStep, JS, 1 thread';
  if (w.input !== w.output) {
    emit(unavailable(PEER, w, variant, 'n/a', `LSTMTimeStep predicts the next step: it needs output (${w.output}) = input (${w.input})`));
    return;
  }
  let brain: Brain;
  try {
    const name = 'brain.js';
    const mod = (await import(name)) as Brain & { default?: Brain };
    brain = mod.recurrent ? mod : mod.default!;
  } catch (err) {
    emit(unavailable(PEER, w, variant, 'not installed', `${(err as Error).message.split('\n')[0]}; npm install -D brain.js@2.0.0-beta.24`));
    return;
  }
  let version: string | undefined;
  try {
    version = (JSON.parse(readFileSync(require.resolve('brain.js/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    version = undefined;
  }
  const net = new brain.recurrent.LSTMTimeStep({
    inputSize: w.input, hiddenLayers: Array<number>(w.layers).fill(w.hidden), outputSize: w.output,
  });
  const opts = { iterations: 1, errorThresh: 0, log: false };
  const extra: Record<string, unknown> = { brainjs: version };
  let samples: number[];
  let perIteration: number;
  if (w.kind === 'train') {
    // T inputs and the target after them, as one next-step sequence.
    const pool = sequences(w.batch, w.seq + 1, w.input, 11);
    net.train(pool.slice(0, 1), opts); // builds the model
    const t0 = performance.now();
    net.train(pool.slice(1, 2), opts);
    const first = (performance.now() - t0) / 1000;
    // Chunks of about a second (at most one batch): brain.js has no batch, so the chunk only sets the timer's grain.
    perIteration = Math.max(1, Math.min(w.batch, Math.floor((quick ? 0.3 : 1) / first)));
    let at = 0;
    samples = timeIterations(() => {
      const chunk: number[][][] = [];
      for (let k = 0; k < perIteration; k++) chunk.push(pool[(at++) % pool.length]!);
      net.train(chunk, opts);
    }, timingOptions(quick));
    extra.chunk = perIteration;
  } else {
    net.train(sequences(1, w.seq + 1, w.input, 13), opts); // builds the model
    const x = sequences(1, w.seq, w.input, 11)[0]!;
    let sink = 0;
    samples = timeIterations(() => {
      sink += net.run(x)[0]!;
    }, timingOptions(quick));
    extra.checksum = sink;
    perIteration = 1;
  }
  const m: Measurement = {
    peer: PEER, workload: w.name, variant, threads: 1, status: 'ok', figure: figureOf(w, samples, perIteration),
    unit: unitOf(w), samples, sequencesPerIteration: perIteration, peakRssMiB: peakRssMiB(), extra,
  };
  if (w.kind === 'train') m.note = 'per-sequence updates, next-step loss at every step, RMSprop-like + clipval 5 (its nearest to the workload)';
  emit(m);
});
