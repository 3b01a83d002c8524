// Load test of `lstmkit serve` (autocannon, 127.0.0.1 only, bounded in time):
// requests per second and p50 / p99 latency with and without dynamic
// batching, for a mid-size model (LSTM, 8 features, hidden 128, 2 layers,
// sequences of 50 steps, one sequence per request). Each mode runs in a
// fresh server process; RSS comes from the server's own /metrics after the
// warm-up and after the timed run. Prints a markdown table; asserts nothing.
//
//   npm run bench:serve                                  15 s per mode, 32 connections
//   npm run bench:serve -- --duration 5 --connections 64 --threads 1 --delays 0,2,5
//   npm run bench:serve -- --recovery [--overload 900]   p50 / p99 before, during and
//       1, 10 and 30 s after an overload of that many connections (the queue fills:
//       503s), batching on: does the server come back at once?
//
// --threads is the server's compute threads (default 1: autocannon needs the
// other core of a two-core machine); --delays the batching windows in ms
// besides the unbatched run.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { encodeModelFile } from '../src/io/modelfile.js';
import { SequenceModel } from '../src/model/model.js';
import { Rng } from '../src/core/rng.js';
import { createServer } from '../src/server/app.js';

const FEATURES = 8;
const HIDDEN = 128;
const LAYERS = 2;
const STEPS = 50;

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

/** Child mode: one server, its URL on stdout, until SIGTERM. */
async function child(model: string, batching: boolean, delay: number): Promise<void> {
  const app = await createServer({ model, batching, batchDelayMs: delay, logger: false });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(JSON.stringify({ url }) + '\n');
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

function startServer(
  model: string, batching: boolean, delay: number, threads: string,
): Promise<{ proc: ChildProcess; url: string }> {
  const script = fileURLToPath(import.meta.url);
  const proc = spawn(process.execPath, [script, '--child', model, '--batching', String(batching), '--delay', String(delay)], {
    env: { ...process.env, LSTMKIT_THREADS: threads }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve({ proc, url: (JSON.parse(line) as { url: string }).url });
    });
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function metrics(url: string): Promise<{ rss: number; passes: number; sequences: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? NaN);
  return {
    rss: value(/^process_resident_memory_bytes (\S+)$/m),
    passes: value(/^lstmkit_batch_size_count\{model="model"\} (\S+)$/m),
    sequences: value(/^lstmkit_batch_size_sum\{model="model"\} (\S+)$/m),
  };
}

function load(url: string, body: string, connections: number, duration: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}/v1/predict`, method: 'POST', headers: { 'content-type': 'application/json' }, body,
    connections, duration, pipelining: 1, timeout: 10,
  });
}

interface Row {
  mode: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
  meanBatch: number;
  rssWarm: number;
  rssAfter: number;
}

async function main(): Promise<void> {
  const duration = Number(flag('duration', '15'));
  const connections = Number(flag('connections', '32'));
  const threads = flag('threads', '1');
  const delays = flag('delays', '2').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'lstmkit-serve-bench-'));
  const model = join(dir, 'model.lstmkit');
  const config = {
    input: { type: 'features', size: FEATURES },
    rnn: { cell: 'lstm', hiddenSize: HIDDEN, numLayers: LAYERS },
    output: { mode: 'sequence', type: 'regression' },
  } as const;
  const built = new SequenceModel(config, { seed: 1 });
  writeFileSync(model, encodeModelFile(built));
  const rng = new Rng(2);
  const step = (): number[] => Array.from({ length: FEATURES }, () => Math.round(rng.uniform() * 1e4) / 1e4);
  const body = JSON.stringify({ x: Array.from({ length: STEPS }, step) });
  // Nothing outlives its time: the whole run is bounded.
  const budget = setTimeout(() => {
    console.error('serve-load: over its time budget, stopping');
    process.exit(2);
  }, (duration + 30) * (delays.length + 1) * 1000);
  budget.unref();

  console.log(`lstmkit serve load test, ${new Date().toISOString().slice(0, 10)}: ` +
    `LSTM ${FEATURES}→${HIDDEN}×${LAYERS} layers, ${STEPS} steps, ${built.parameterCount.toLocaleString()} parameters; ` +
    `one sequence per request; autocannon ${connections} connections × ${duration} s per mode; server threads ${threads}; ` +
    `${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at start; Node ${process.version}`);
  const rows: Row[] = [];
  const modes: [string, boolean, number][] = [
    ['no batching', false, 0],
    ...delays.map((d): [string, boolean, number] => [`batching, ${d} ms window`, true, d]),
  ];
  for (const [mode, batching, delay] of modes) {
    const { proc, url } = await startServer(model, batching, delay, threads);
    try {
      await load(url, body, connections, 3); // warm-up: JIT, arena growth
      const warm = await metrics(url);
      // RSS every 5 s of the run, to see whether memory stays flat.
      const samples: number[] = [];
      const sampler = setInterval(() => void metrics(url).then((m) => samples.push(m.rss), () => {}), 5000);
      const r = await load(url, body, connections, duration);
      clearInterval(sampler);
      const after = await metrics(url);
      console.log(`${mode}: RSS every 5 s: ${[warm.rss, ...samples, after.rss].map((b) => (b / 2 ** 20).toFixed(0)).join(', ')} MB`);
      rows.push({
        mode, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99,
        errors: r.errors + r.timeouts + r.non2xx, requests: r.requests.total,
        meanBatch: (after.sequences - warm.sequences) / Math.max(1, after.passes - warm.passes),
        rssWarm: warm.rss, rssAfter: after.rss,
      });
    } finally {
      proc.kill('SIGTERM');
      await new Promise((resolve) => proc.once('exit', resolve));
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
  console.log('\n| mode | req/s | p50 | p99 | errors | mean batch | RSS after warm-up → after run |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) {
    console.log(
      `| ${r.mode} | ${r.rps.toFixed(0)} | ${r.p50} ms | ${r.p99} ms | ${r.errors} of ${r.requests} | ` +
      `${r.meanBatch.toFixed(1)} | ${mb(r.rssWarm)} → ${mb(r.rssAfter)} |`,
    );
  }
}

/** Latency before, during and after an overload, in one server. */
async function recovery(): Promise<void> {
  const connections = Number(flag('connections', '32'));
  const overload = Number(flag('overload', '900'));
  const threads = flag('threads', '2');
  const dir = mkdtempSync(join(tmpdir(), 'lstmkit-serve-recovery-'));
  const model = join(dir, 'model.lstmkit');
  const config = {
    input: { type: 'features', size: FEATURES }, rnn: { cell: 'lstm', hiddenSize: HIDDEN, numLayers: LAYERS }, output: { mode: 'sequence', type: 'regression' },
  } as const;
  writeFileSync(model, encodeModelFile(new SequenceModel(config, { seed: 1 })));
  const body = JSON.stringify({ x: Array.from({ length: STEPS }, (_, t) => Array.from({ length: FEATURES }, (_, f) => Math.sin(t + f))) });
  const { proc, url } = await startServer(model, true, 2, threads);
  const show = (label: string, r: autocannon.Result): void => console.log(
    `| ${label} | ${r.requests.average.toFixed(0)} | ${r.latency.p50} ms | ${r.latency.p99} ms | ${r.non2xx + r.errors + r.timeouts} |`,
  );
  try {
    console.log(`lstmkit serve, overload and recovery: ${connections} connections, then ${overload} for 20 s; server threads ${threads}; ` +
      `load average ${loadavg()[0]!.toFixed(1)} at start; Node ${process.version}\n`);
    console.log('| phase | req/s | p50 | p99 | non-2xx and errors |\n| --- | ---: | ---: | ---: | ---: |');
    await load(url, body, connections, 3); // warm-up
    show(`before, ${connections} connections`, await load(url, body, connections, 5));
    show(`overload, ${overload} connections`, await load(url, body, overload, 20));
    for (const wait of [1, 10, 30]) {
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      show(`${wait} s after`, await load(url, body, connections, 5));
    }
  } finally {
    proc.kill('SIGTERM');
    await new Promise((resolve) => proc.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--child')) {
  await child(flag('child', ''), flag('batching', 'true') === 'true', Number(flag('delay', '2')));
} else if (process.argv.includes('--recovery')) {
  await recovery();
} else {
  await main();
}
