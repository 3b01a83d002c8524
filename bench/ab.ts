// Before and after, in one run: this build against another built checkout
// of lstmkit (say, the commit before a restructuring), in one process,
// alternating blocks of training steps (or batch-1 predictions) on the
// shared workloads, so the machine's noise falls on both alike.
//
//   git worktree add ../before <commit> && (cd ../before && npm ci && npm run build)
//   node dist/bench/ab.js --other ../before [--threads 1,2] [--blocks 10] [--workload train-small,infer-latency]
//
// Each build is loaded through its public API (its dist/src/index.js), so
// they share nothing: two backends, two worker pools, two arenas. A figure
// is the median of the blocks; the ratio is this build's time over the other's.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findWorkload, isSeq2Seq, loadWorkloads, lstmWorkload, median, parseArgs, randomFloats, type LstmWorkload } from './common.js';

/** What the benchmark takes from a build's public API (the same in every version since the Trainer has had step()). */
interface Build {
  initBackend(opts: { backend: 'wasm'; threads: number }): Promise<unknown>;
  SequenceModel: new (config: unknown, opts: { backend?: unknown; seed: number }) => { eval(): unknown };
  Trainer: new (model: unknown, config: unknown) => { step(batch: unknown): number };
  predictModel(model: unknown, examples: unknown[], batchSize: number): unknown[];
}

/** One unit of work on a workload: a training step on a fixed batch, or one batch-1 prediction. */
async function workOf(build: Build, w: LstmWorkload, threads: number): Promise<() => void> {
  const backend = await build.initBackend({ backend: 'wasm', threads });
  const config = {
    input: { type: 'features', size: w.input },
    rnn: { cell: 'lstm', hiddenSize: w.hidden, numLayers: w.layers },
    output: { mode: 'sequence', type: 'regression', size: w.output, pooling: 'last' },
  };
  const model = new build.SequenceModel(config, { backend, seed: 1 });
  if (w.kind === 'train') {
    const batch = {
      steps: w.seq, size: w.batch, x: randomFloats(w.seq * w.batch * w.input, 11), tokens: null,
      lengths: new Int32Array(w.batch).fill(w.seq), yReg: randomFloats(w.batch * w.output, 12), yCls: null, indices: [],
    };
    const trainer = new build.Trainer(model, { optimizer: { name: 'adam', lr: 1e-3 }, clipNorm: 5 });
    return () => void trainer.step(batch);
  }
  model.eval();
  const example = { steps: w.seq, x: randomFloats(w.seq * w.input, 11), tokens: null, yReg: null, yCls: null };
  return () => void build.predictModel(model, [example], 1);
}

async function main(): Promise<void> {
  const { values } = parseArgs(process.argv.slice(2));
  const other = values.get('other');
  if (!other) throw new Error('pass --other <path of another built lstmkit checkout>');
  const builds: Record<'this' | 'other', Build> = {
    this: (await import(new URL('../src/index.js', import.meta.url).href)) as Build,
    other: (await import(pathToFileURL(resolve(other, 'dist', 'src', 'index.js')).href)) as Build,
  };
  // The LSTM workloads only: the seq2seq ones have their own model and data (bench/seq2seq.ts).
  const workloads = values.get('workload')?.split(',').map((name) => lstmWorkload(findWorkload(name, values.get('workloads')), 'ab'))
    ?? loadWorkloads(values.get('workloads')).filter((w) => !isSeq2Seq(w)).map((w) => lstmWorkload(w, 'ab'));
  const blocks = Number(values.get('blocks') ?? 10);
  for (const threads of (values.get('threads') ?? '1,2').split(',').map(Number)) {
    for (const w of workloads) {
      const work = { this: await workOf(builds.this, w, threads), other: await workOf(builds.other, w, threads) };
      // Warm up both (V8 tiers code up), then size the blocks to about a quarter of a second each.
      for (let i = 0; i < 3; i++) {
        work.this();
        work.other();
      }
      const t0 = performance.now();
      for (let i = 0; i < 3; i++) work.this();
      const per = Math.max(3, Math.round(750 / Math.max(0.01, performance.now() - t0)));
      const ms: Record<'this' | 'other', number[]> = { this: [], other: [] };
      for (let b = 0; b < blocks; b++) {
        for (const key of b % 2 ? (['other', 'this'] as const) : (['this', 'other'] as const)) {
          const start = performance.now();
          for (let i = 0; i < per; i++) work[key]();
          ms[key].push((performance.now() - start) / per);
        }
      }
      const figure = (t: number): string => (w.kind === 'train' ? `${((w.batch * 1000) / t).toFixed(1)} seq/s` : `${t.toFixed(3)} ms`);
      const ratio = median(ms.this) / median(ms.other);
      console.log(`${w.name.padEnd(14)} ${threads} thread${threads > 1 ? 's' : ' '}  this ${figure(median(ms.this)).padStart(14)}  ` +
        `other ${figure(median(ms.other)).padStart(14)}  time this/other ${ratio.toFixed(3)}  (${blocks} blocks of ${per})`);
    }
  }
  process.exit(0);
}

await main();
