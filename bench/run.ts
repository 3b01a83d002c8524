// `npm run bench`: lstmkit against its peers on the shared workloads.
//
//   npm run bench                        every workload, every peer (about half an hour)
//   npm run bench -- --quick             a fast smoke run (few iterations; not for the README)
//   npm run bench -- --only lstmkit,pytorch,train-medium
//                                        only these peers and/or workloads
//   npm run bench -- --only seq2seq      every seq2seq workload (training; greedy and beam decoding):
//                                        lstmkit against PyTorch, the only peer with a seq2seq model
//   npm run bench -- --only tagger       every tagger workload (BiLSTM-CRF training; tagging 64
//                                        sentences a batch and one at a time): lstmkit against PyTorch
//   npm run bench -- --memory [--steps 1000]
//                                        lstmkit's RSS and arena bytes over 1,000 training steps
//                                        (train-small and train-medium at the largest thread count;
//                                        add --only train-large or --threads 1,2 for more)
//   npm run bench -- --only tfjs-cpu,train-large --merge
//                                        measure again and replace those figures in latest.json
//                                        (the table's header names the re-run)
//   options: --workloads FILE (default bench/workloads.json), --threads 1,2
//
// Each peer runs in its own child process, one workload at a time: warm-up,
// then timed iterations, medians. Prints markdown tables (every figure, and
// lstmkit's ratio to each peer in the workload's unit) and writes the same as
// JSON to bench/results/<date>.json, and bench/results/latest.json for a full
// run. A peer that is not installed is reported as such, never estimated.
// Nothing here asserts a time; the tests never run it.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_WORKLOADS, ROOT, isSeq2Seq, isTagger, loadWorkloads, parseArgs, unavailable, unitOf, workloadFlops,
  type Measurement, type Workload,
} from './common.js';

const PYTHON = '/usr/bin/python3';
const DIST = join(ROOT, 'dist', 'bench');
const RESULTS = join(ROOT, 'bench', 'results');
/** A child still running after this long is stopped and reported as failed. */
const CHILD_TIMEOUT_MS = 30 * 60 * 1000;

interface Options {
  quick: boolean;
  memory: boolean;
  /** With --only: put the new figures into bench/results/latest.json in place of the old ones. */
  merge: boolean;
  only: string[];
  threads: number[];
  /** --threads was given (the memory mode otherwise runs the largest count only). */
  threadsGiven: boolean;
  workloadsPath: string;
  steps: number;
}

const PEERS = ['lstmkit', 'pytorch', 'onnxruntime', 'tfjs-wasm', 'tfjs-cpu', 'brain.js'] as const;
type Peer = (typeof PEERS)[number];

function options(): Options {
  const { flags, values } = parseArgs(process.argv.slice(2));
  const threads = (values.get('threads') ?? '1,2').split(',').map(Number);
  if (threads.some((t) => !Number.isInteger(t) || t < 1)) throw new Error(`--threads takes a list of positive integers, got ${values.get('threads')}`);
  const only = (values.get('only') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return {
    quick: flags.has('quick'), memory: flags.has('memory'), merge: flags.has('merge'), only, threads, threadsGiven: values.has('threads'),
    workloadsPath: values.get('workloads') ?? DEFAULT_WORKLOADS, steps: Number(values.get('steps') ?? 1000),
  };
}

// ---- children ------------------------------------------------------------------

interface ChildResult {
  records: Measurement[];
  code: number | null;
  stderr: string;
  seconds: number;
  /** One-minute load average when the child started and when it ended (other work on the machine). */
  load: [number, number];
}

/** Run one child; its `@@bench` lines are the results, the rest is echoed (dimmed) as log. */
function runChild(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ChildResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const loadBefore = loadavg()[0]!;
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const records: Measurement[] = [];
    let stderr = '';
    let buffered = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith('@@bench ')) records.push(JSON.parse(line.slice(8)) as Measurement);
        else if (line.trim()) process.stderr.write(`    | ${line}\n`);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (err) => {
      stderr += String(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      for (const m of records) m.extra = { ...m.extra, loadAverage: [loadBefore, loadavg()[0]!] };
      resolve({
        records, code, stderr, seconds: (performance.now() - started) / 1000, load: [loadBefore, loadavg()[0]!],
      });
    });
  });
}

function lastLines(text: string, n = 3): string {
  return text.trim().split('\n').filter((l) => !/^\s*at /.test(l)).slice(-n).join(' / ').slice(0, 400);
}

/** The child's records, or one 'failed' record that says why. */
function collect(result: ChildResult, peer: string, w: Workload, variant: string): Measurement[] {
  if (result.records.length > 0) return result.records;
  const why = result.code === null ? `stopped after ${CHILD_TIMEOUT_MS / 60000} minutes` : `exit code ${result.code}`;
  return [unavailable(peer, w, variant, 'failed', `${why}: ${lastLines(result.stderr) || 'no output'}`)];
}

function nodeChild(script: string, args: string[], extraNodeFlags: string[] = []): Promise<ChildResult> {
  return runChild(process.execPath, [...extraNodeFlags, join(DIST, script), ...args]);
}

/** PyTorch's environment: OpenBLAS picks its own kernel (no forced core type), one BLAS pool the size of torch's. */
function torchEnv(threads: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads),
  };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

function variantOf(threads: number): string {
  return threads === 1 ? '1 thread' : `${threads} threads`;
}

// ---- one workload ---------------------------------------------------------------

interface Context {
  o: Options;
  common: string[]; // --workloads … [--quick]
  exportDir: string | undefined; // lstmkit's weights for the inference and seq2seq workloads (+ model.onnx for inference)
  torchAvailable: boolean;
}

async function runPeer(ctx: Context, peer: Peer, w: Workload): Promise<Measurement[]> {
  const args = ['--workload', w.name, ...ctx.common];
  const out: Measurement[] = [];
  switch (peer) {
    case 'lstmkit':
      for (const t of ctx.o.threads) out.push(...collect(await nodeChild('lstmkit.js', [...args, '--threads', String(t)]), peer, w, variantOf(t)));
      break;
    case 'pytorch':
      for (const t of ctx.o.threads) {
        if (!ctx.torchAvailable) {
          out.push(unavailable(peer, w, variantOf(t), 'not installed', `${PYTHON} cannot import torch: apt-get install python3-torch libopenblas0-pthread`));
          continue;
        }
        // lstmkit's weights (inference: and its output; seq2seq: its loss or decoded outputs;
        // tagger: and the batches, its loss or tags) to check against.
        const weights = w.kind !== 'train' && ctx.exportDir ? ['--weights', join(ctx.exportDir, w.name)] : [];
        const r = await runChild(PYTHON, [join(ROOT, 'bench', 'torch_bench.py'), ...args, '--threads', String(t), ...weights], torchEnv(t));
        out.push(...collect(r, peer, w, variantOf(t)));
      }
      break;
    case 'onnxruntime':
      if (w.kind !== 'infer') break; // inference only (and no seq2seq model)
      for (const t of ctx.o.threads) {
        const dir = ctx.exportDir ? join(ctx.exportDir, w.name) : '';
        out.push(...collect(await nodeChild('onnxruntime.js', [...args, '--threads', String(t), '--onnx', dir]), peer, w, variantOf(t)));
      }
      break;
    case 'tfjs-wasm':
    case 'tfjs-cpu': {
      if (isSeq2Seq(w) || isTagger(w)) break; // the LSTM workloads only
      const backend = peer === 'tfjs-wasm' ? 'wasm' : 'cpu';
      out.push(...collect(await nodeChild('tfjs.js', [...args, '--backend', backend]), peer, w, backend));
      break;
    }
    case 'brain.js':
      if (isSeq2Seq(w) || isTagger(w)) break;
      out.push(...collect(await nodeChild('brain.js', args), peer, w, 'LSTMTimeStep'));
      break;
  }
  return out;
}

/**
 * Write lstmkit's weights of each inference and seq2seq workload once, before
 * timing, for PyTorch to load (and check its output against lstmkit's); the
 * inference models also go to ONNX (through PyTorch) for onnxruntime.
 */
async function prepareExports(ctx: Context, workloads: Workload[]): Promise<void> {
  const toExport = workloads.filter((w) => w.kind !== 'train');
  if (toExport.length === 0) return;
  ctx.exportDir = mkdtempSync(join(tmpdir(), 'lstmkit-bench-'));
  for (const w of toExport) {
    const dir = join(ctx.exportDir, w.name);
    const exported = await nodeChild('lstmkit.js', ['--export', dir, '--workload', w.name, '--workloads', ctx.o.workloadsPath]);
    if (exported.code !== 0) {
      process.stderr.write(`  lstmkit --export ${w.name} failed: ${lastLines(exported.stderr)}\n`);
      continue;
    }
    if (!ctx.torchAvailable || isSeq2Seq(w) || isTagger(w)) continue;
    const r = await runChild(PYTHON, [join(ROOT, 'bench', 'torch_bench.py'), '--export-onnx', dir], torchEnv(1));
    if (r.code !== 0) process.stderr.write(`  torch.onnx.export of ${w.name} failed: ${lastLines(r.stderr)}\n`);
  }
}

async function torchAvailable(): Promise<boolean> {
  if (!existsSync(PYTHON)) return false;
  const r = await runChild(PYTHON, ['-c', 'import torch'], torchEnv(1));
  return r.code === 0;
}

// ---- summary --------------------------------------------------------------------

/** Higher is better for throughput, lower for latency. */
function better(unit: string, a: number, b: number): boolean {
  return unit === 'ms' ? a < b : a > b;
}

function bestOf(ms: Measurement[]): Measurement | undefined {
  let best: Measurement | undefined;
  for (const m of ms) if (m.status === 'ok' && m.figure !== null && (!best || better(m.unit, m.figure, best.figure!))) best = m;
  return best;
}

interface WorkloadSummary {
  workload: string;
  unit: string;
  lstmkit: {
    best: number | null; bestThreads: number | null; byThreads: Record<string, number>; speedup1to2: number | null;
  };
  /** lstmkit's best figure ÷ the peer's best, in the workload's unit (seq/s: >1 is faster; ms: <1 is faster). */
  ratios: Record<string, number | null>;
  peers: Record<string, { best: number | null; variant: string | null; status: string }>;
  gemm: {
    inputProjectionShape: string | null; inputProjectionGflops: Record<string, number>;
    stepGflops: Record<string, number>;
  };
  memory: { arenaPeakMiB: number | null; peakRssMiB: number | null };
  profile: Record<string, number> | null;
}

function summarize(w: Workload, ms: Measurement[]): WorkloadSummary {
  const mine = ms.filter((m) => m.peer === 'lstmkit' && m.workload === w.name);
  const best = bestOf(mine);
  const byThreads: Record<string, number> = {};
  const projGflops: Record<string, number> = {};
  const stepGflops: Record<string, number> = {};
  for (const m of mine) {
    if (m.status !== 'ok' || m.figure === null) continue;
    byThreads[String(m.threads)] = m.figure;
    const e = m.extra ?? {};
    if (typeof e.inputProjectionGflops === 'number') projGflops[String(m.threads)] = e.inputProjectionGflops;
    if (typeof e.stepGflops === 'number') stepGflops[String(m.threads)] = e.stepGflops;
  }
  const one = byThreads['1'];
  const two = byThreads['2'];
  const speedup = one !== undefined && two !== undefined ? (unitOf(w) === 'ms' ? one / two : two / one) : null;
  const peers: WorkloadSummary['peers'] = {};
  const ratios: WorkloadSummary['ratios'] = {};
  for (const peer of PEERS) {
    if (peer === 'lstmkit') continue;
    const theirs = ms.filter((m) => m.peer === peer && m.workload === w.name);
    if (theirs.length === 0) continue;
    const b = bestOf(theirs);
    peers[peer] = { best: b?.figure ?? null, variant: b?.variant ?? null, status: b ? 'ok' : theirs[0]!.status };
    ratios[peer] = b && best ? best.figure! / b.figure! : null;
  }
  const bestExtra = best?.extra ?? {};
  return {
    workload: w.name,
    unit: unitOf(w),
    lstmkit: { best: best?.figure ?? null, bestThreads: best?.threads ?? null, byThreads, speedup1to2: speedup },
    ratios, peers,
    gemm: {
      inputProjectionShape: typeof bestExtra.inputProjectionShape === 'string' ? bestExtra.inputProjectionShape : null,
      inputProjectionGflops: projGflops, stepGflops,
    },
    memory: {
      arenaPeakMiB: typeof bestExtra.arenaPeakBytes === 'number' ? bestExtra.arenaPeakBytes / 2 ** 20 : null,
      peakRssMiB: best?.peakRssMiB ?? null,
    },
    profile: (bestExtra.profile as Record<string, number> | undefined) ?? null,
  };
}

interface Criterion {
  what: string;
  target: string;
  measured: string;
  met: boolean | null;
}

/** The targets of issue 3 (lstmkit ÷ peer, in the workload's unit). */
function criteria(summaries: WorkloadSummary[]): Criterion[] {
  const out: Criterion[] = [];
  const get = (w: string) => summaries.find((s) => s.workload === w);
  const check = (workload: string, peer: string, what: string, ok: (r: number) => boolean, target: string): void => {
    const r = get(workload)?.ratios[peer];
    if (get(workload) === undefined || !(peer in (get(workload)?.ratios ?? {}))) return;
    out.push({ what, target, measured: r == null ? 'not measured' : `${r.toFixed(2)}×`, met: r == null ? null : ok(r) });
  };
  check('train-small', 'pytorch', 'train-small: lstmkit seq/s ÷ PyTorch', (r) => r >= 1.5, '≥ 1.5×');
  check('train-medium', 'pytorch', 'train-medium: lstmkit seq/s ÷ PyTorch', (r) => r >= 0.8, '≥ 0.8×');
  check('train-large', 'pytorch', 'train-large: lstmkit seq/s ÷ PyTorch', (r) => r >= 0.8, '≥ 0.8×');
  check('infer-latency', 'onnxruntime', 'infer-latency: lstmkit ms ÷ onnxruntime', (r) => r <= 1.5, '≤ 1.5×');
  check('train-medium', 'tfjs-wasm', 'train-medium: lstmkit seq/s ÷ TF.js (wasm)', (r) => r >= 20, '≥ 20×');
  check('train-medium', 'brain.js', 'train-medium: lstmkit seq/s ÷ brain.js', (r) => r >= 20, '≥ 20×');
  return out;
}

// ---- printing -------------------------------------------------------------------

function fmt(x: number | null | undefined, digits?: number): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const d = digits ?? (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2);
  return x.toFixed(d);
}

/** lstmkit ÷ peer in the unit, and what it means: seq/s 2.1× = 2.1× faster; ms 0.25× = 4× faster. */
function ratioText(r: number | null, unit: string): string {
  if (r === null) return '—';
  const speed = unit === 'ms' ? 1 / r : r;
  const how = speed >= 1 ? `${fmt(speed, speed >= 100 ? 0 : 2)}× faster` : `${fmt(1 / speed, 2)}× slower`;
  return `${fmt(r, r >= 100 ? 0 : r < 0.1 ? 3 : 2)}× (${how})`;
}

function spread(m: Measurement): string {
  if (m.samples.length < 2) return `n=${m.samples.length}`;
  const per = m.samples.map((s) => (m.unit === 'ms' ? (s * 1000) / m.sequencesPerIteration : m.sequencesPerIteration / s));
  return `n=${m.samples.length}, ${fmt(Math.min(...per))}–${fmt(Math.max(...per))}`;
}

/** What a seq2seq record says about doing the same work: the steps decoded; PyTorch's agreement with lstmkit's weights. */
function checksOf(m: Measurement): string {
  const e = m.extra ?? {};
  let out = typeof e.steps === 'number' ? `, ${e.steps} steps` : '';
  if (typeof e.parameters === 'number' && typeof e.tokens === 'number') out += `, ${e.parameters} parameters, ${e.tokens} tokens`;
  if (typeof e.outputsAsLstmkit === 'string') out += `, outputs as lstmkit's ${e.outputsAsLstmkit}`;
  if (typeof e.firstLossDiffVsLstmkit === 'number') out += `, loss Δ vs lstmkit ${e.firstLossDiffVsLstmkit.toExponential(1)}`;
  return out;
}

function resultsTable(workloads: Workload[], ms: Measurement[], summaries: WorkloadSummary[]): string {
  const lines = [
    '| workload | peer | configuration | figure | unit | lstmkit ratio | spread (n, min–max) |',
    '|---|---|---|---:|---|---|---|',
  ];
  for (const w of workloads) {
    const s = summaries.find((x) => x.workload === w.name)!;
    for (const m of ms.filter((x) => x.workload === w.name)) {
      let ratio = '—';
      if (m.peer === 'lstmkit') {
        if (m.threads !== null && m.threads > 1 && s.lstmkit.byThreads['1'] && m.figure !== null) {
          const one = s.lstmkit.byThreads['1'];
          ratio = `${fmt(unitOf(w) === 'ms' ? one / m.figure : m.figure / one, 2)}× vs 1 thread`;
        }
      } else if (m.status === 'ok' && m.figure !== null && s.lstmkit.best !== null) ratio = ratioText(s.lstmkit.best / m.figure, m.unit);
      const figure = m.status === 'ok' ? fmt(m.figure) : m.status;
      const config = m.note && m.status !== 'ok' ? `${m.variant}: ${m.note}` : `${m.variant}${checksOf(m)}`;
      lines.push(`| ${w.name} | ${m.peer} | ${config} | ${figure} | ${m.unit} | ${ratio} | ${m.status === 'ok' ? spread(m) : ''} |`);
    }
  }
  return lines.join('\n');
}

function lstmkitTable(summaries: WorkloadSummary[], peak: Record<string, number>): string {
  const lines = [
    `| workload | best | 1→2 threads | input projection (shape) GFLOP/s 1T / 2T | whole step GFLOP/s 1T / 2T | arena peak MiB | peak RSS MiB |`,
    '|---|---:|---:|---|---|---:|---:|',
  ];
  for (const s of summaries) {
    if (s.lstmkit.best === null) continue;
    const g = s.gemm;
    lines.push(`| ${s.workload} | ${fmt(s.lstmkit.best)} ${s.unit} (${s.lstmkit.bestThreads} T) | ${fmt(s.lstmkit.speedup1to2, 2)}× | `
      + `${g.inputProjectionShape ? `${g.inputProjectionShape}: ${fmt(g.inputProjectionGflops['1'])} / ${fmt(g.inputProjectionGflops['2'])}` : '—'} | `
      + `${fmt(g.stepGflops['1'])} / ${fmt(g.stepGflops['2'])} | ${fmt(s.memory.arenaPeakMiB)} | ${fmt(s.memory.peakRssMiB)} |`);
  }
  const peaks = Object.entries(peak).map(([k, v]) => `${k}: ${fmt(v)}`).join(', ');
  lines.push('', `Measured peak of the same gemm, 512×512×512: ${peaks || 'not measured'} GFLOP/s.`);
  return lines.join('\n');
}

function profileTable(summaries: WorkloadSummary[]): string {
  const cols: [string, string][] = [
    ['inputProjectionMs', 'input projection'], ['recurrentLoopForwardMs', 'forward loop'],
    ['recurrentLoopBackwardMs', 'backward loop'], ['weightGradientAndDxMs', 'dW, dx multiplies'],
    ['lossMs', 'loss'], ['clipMs', 'clip'], ['adamMs', 'Adam'], ['zeroGradMs', 'zero grad'],
  ];
  const lines = [
    `| workload | ${cols.map(([, n]) => n).join(' | ')} | step (sum) |`,
    `|---|${cols.map(() => '---:').join('|')}|---:|`,
  ];
  for (const s of summaries) {
    const p = s.profile;
    if (!p) continue;
    const sum = (p.forwardMs ?? 0) + (p.backwardMs ?? 0) + (p.lossMs ?? 0) + (p.clipMs ?? 0) + (p.adamMs ?? 0)
      + (p.zeroGradMs ?? 0);
    lines.push(`| ${s.workload} (${s.lstmkit.bestThreads} T) | ${cols.map(([k]) => fmt(p[k])).join(' | ')} | ${fmt(sum)} |`);
  }
  return lines.join('\n');
}

function criteriaTable(cs: Criterion[]): string {
  const lines = ['| target | wanted | measured | met |', '|---|---|---|---|'];
  for (const c of cs) lines.push(`| ${c.what} | ${c.target} | ${c.measured} | ${c.met === null ? '—' : c.met ? 'yes' : 'no'} |`);
  return lines.join('\n');
}

function machine(): Record<string, unknown> {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version, platform: `${process.platform} ${process.arch}`,
  };
}

function dateStamp(): string {
  return new Date().toISOString().slice(0, 10);
}

function write(name: string, json: unknown, markdown: string): string {
  mkdirSync(RESULTS, { recursive: true });
  const path = join(RESULTS, `${name}.json`);
  writeFileSync(path, JSON.stringify(json, null, 1) + '\n');
  writeFileSync(join(RESULTS, `${name}.md`), markdown + '\n');
  return path;
}

function commandLine(): string {
  const args = process.argv.slice(2);
  return `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
}

// ---- modes ----------------------------------------------------------------------

async function memoryMode(o: Options, workloads: Workload[]): Promise<void> {
  const started = new Date();
  const records: Measurement[] = [];
  // train-large takes hours for 1,000 steps on two cores: it runs when named with --only.
  const train = workloads.filter((w) => w.kind === 'train' && (o.only.includes(w.name) || w.name !== 'train-large'));
  const threads = o.threadsGiven ? o.threads : [Math.max(...o.threads)];
  for (const w of train) {
    for (const t of threads) {
      process.stderr.write(`memory: ${w.name}, ${variantOf(t)}, ${o.steps} steps\n`);
      const r = await nodeChild(
        'lstmkit.js',
        ['--memory', '--workload', w.name, '--workloads', o.workloadsPath, '--threads', String(t), '--steps', String(o.steps)],
        ['--expose-gc'],
      );
      records.push(...collect(r, 'lstmkit', w, `${o.steps} steps, ${variantOf(t)}`));
    }
  }
  const lines = [
    `lstmkit memory over ${o.steps} training steps (${started.toISOString()}, \`${commandLine()}\`), from step 10 to the last:`, '',
    '| workload | configuration | RSS growth MiB | JS heap growth MiB | arena growth bytes | arena peak MiB | peak RSS MiB | verdict |',
    '|---|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const m of records) {
    const e = m.extra ?? {};
    const trace = (e.trace as { arenaPeakBytes: number }[] | undefined) ?? [];
    const arenaPeak = trace.length ? trace[trace.length - 1]!.arenaPeakBytes / 2 ** 20 : null;
    const note = m.status === 'ok' ? m.note : `${m.status}: ${m.note}`;
    lines.push(
      `| ${m.workload} | ${m.variant} | ${fmt(e.rssGrowthMiB as number)} | ${fmt(e.heapGrowthMiB as number)} | ` +
      `${String(e.arenaGrowthBytes ?? '—')} | ${fmt(arenaPeak)} | ${fmt(m.peakRssMiB)} | ${note} |`,
    );
  }
  const markdown = lines.join('\n');
  console.log(markdown);
  const json = { schema: 1, kind: 'memory', date: started.toISOString(), command: commandLine(), machine: machine(), steps: o.steps, measurements: records };
  const name = `${dateStamp()}-memory`;
  const path = write(name, json, markdown);
  if (o.only.length === 0) write('latest-memory', json, markdown);
  console.log(`\nwrote ${path}`);
}

async function benchMode(o: Options, workloads: Workload[], peers: Peer[]): Promise<void> {
  const started = new Date();
  const loadStart = loadavg();
  const common = ['--workloads', o.workloadsPath, ...(o.quick ? ['--quick'] : [])];
  const ctx: Context = {
    o, common, exportDir: undefined,
    torchAvailable: peers.includes('pytorch') || peers.includes('onnxruntime') ? await torchAvailable() : false,
  };
  const measurements: Measurement[] = [];
  const peakRecords: Measurement[] = [];
  try {
    // The machine's peak multiply (a --merge re-run keeps the full run's).
    if (!o.merge && peers.includes('lstmkit')) {
      for (const t of o.threads) {
        process.stderr.write(`peak: lstmkit gemm 512³, ${variantOf(t)}\n`);
        const r = await nodeChild('lstmkit.js', ['--peak', '--threads', String(t), ...(o.quick ? ['--quick'] : [])]);
        peakRecords.push(...r.records);
      }
    }
    if (!o.merge && ctx.torchAvailable && peers.includes('pytorch')) {
      for (const t of o.threads) {
        process.stderr.write(`peak: PyTorch (OpenBLAS) sgemm 512³, ${variantOf(t)}\n`);
        const r = await runChild(
          PYTHON, [join(ROOT, 'bench', 'torch_bench.py'), '--peak', '--threads', String(t), ...(o.quick ? ['--quick'] : [])], torchEnv(t),
        );
        peakRecords.push(...r.records);
      }
    }
    if (peers.includes('onnxruntime') || peers.includes('pytorch')) await prepareExports(ctx, workloads);
    for (const w of workloads) {
      for (const peer of peers) {
        process.stderr.write(`${w.name}: ${peer}\n`);
        const records = await runPeer(ctx, peer, w);
        for (const m of records) {
          process.stderr.write(`  ${m.variant}: ${m.status === 'ok' ? `${fmt(m.figure)} ${m.unit}` : `${m.status} (${m.note ?? ''})`}\n`);
        }
        measurements.push(...records);
      }
    }
  } finally {
    if (ctx.exportDir) rmSync(ctx.exportDir, { recursive: true, force: true });
  }
  const doc: BenchDocument = {
    schema: 1, kind: 'bench', date: started.toISOString(), command: commandLine(), quick: o.quick, only: o.only,
    machine: machine(), loadAverage: { start: loadStart, end: loadavg() },
    workloads: workloads.map((w) => ({ ...w, flops: workloadFlops(w) })),
    peak: peakRecords, measurements, summary: [], criteria: [], reruns: [],
  };
  if (o.merge) {
    mergeIntoLatest(doc, workloads, peers);
    return;
  }
  const markdown = render(doc, workloads);
  console.log(markdown);
  const name = `${dateStamp()}${o.quick ? '-quick' : o.only.length ? '-partial' : ''}`;
  const path = write(name, doc, markdown);
  if (!o.quick && o.only.length === 0) write('latest', doc, markdown);
  console.log(`\nwrote ${path}`);
}

interface BenchDocument {
  schema: 1;
  kind: 'bench';
  date: string;
  command: string;
  quick: boolean;
  only: string[];
  machine: Record<string, unknown>;
  loadAverage: { start: number[]; end: number[] };
  workloads: (Workload & { flops: { forward: number; train: number } })[];
  peak: Measurement[];
  measurements: Measurement[];
  summary: WorkloadSummary[];
  criteria: Criterion[];
  /** Peers and workloads measured again after the run (--merge), replacing that run's figures. */
  reruns: { date: string; command: string; loadAverage: { start: number[]; end: number[] }; replaced: string[] }[];
}

/** Fill in the summaries and criteria of `doc`; returns its markdown. */
function render(doc: BenchDocument, workloads: Workload[]): string {
  const { measurements } = doc;
  doc.summary = workloads.map((w) => summarize(w, measurements));
  doc.criteria = criteria(doc.summary);
  const peak: Record<string, number> = {};
  for (const m of doc.peak) {
    if (m.figure !== null) peak[`${m.peer === 'lstmkit' ? 'wasm' : 'native OpenBLAS'} ${m.variant}`] = m.figure;
  }
  const [loadStart, loadEnd] = [doc.loadAverage.start[0], doc.loadAverage.end[0]];
  const header = `lstmkit benchmarks, ${doc.date.slice(0, 16).replace('T', ' ')} UTC, \`${doc.command}\`, `
    + `${String(doc.machine.cpu)} × ${String(doc.machine.cores)}, Node ${String(doc.machine.node)}; `
    + `load average ${fmt(loadStart)} at start, ${fmt(loadEnd)} at end`
    + `${doc.quick ? ' (--quick: few iterations, a smoke run)' : ''}.`;
  const reruns = doc.reruns.map((r) => `Re-run ${r.date.slice(0, 16).replace('T', ' ')} UTC with \`${r.command}\` `
    + `(load average ${fmt(r.loadAverage.start[0])} → ${fmt(r.loadAverage.end[0])}): ${r.replaced.join(', ')}.`);
  return [
    header, ...reruns, '',
    'Training in sequences/s (higher is better), inference in ms per sequence (lower is better), seq2seq decoding in words/s '
      + '(sources decoded per second, higher is better), tagger training in sentences/s (sent/s) and tagging in tokens/s '
      + '(higher is better); medians.',
    'lstmkit ratio = lstmkit\'s best figure ÷ the peer\'s, in the workload\'s unit.', '',
    resultsTable(workloads, measurements, doc.summary), '',
    'lstmkit: threads, multiply speed and memory', '',
    lstmkitTable(doc.summary, peak), '',
    'Where lstmkit\'s time goes (ms per step, best thread count; multiplies timed alone at their shapes, loops = phase − multiplies)', '',
    profileTable(doc.summary), '',
    'Targets of issue 3', '',
    criteriaTable(doc.criteria),
  ].join('\n');
}

/**
 * --merge: replace the figures of the peers × workloads just measured in
 * bench/results/latest.json (a workload that a shared machine disturbed,
 * measured again), keep everything else, and say so in the table's header.
 */
function mergeIntoLatest(fresh: BenchDocument, workloads: Workload[], peers: Peer[]): void {
  const latestPath = join(RESULTS, 'latest.json');
  if (!existsSync(latestPath)) throw new Error('--merge: there is no bench/results/latest.json to merge into; run the whole bench first');
  const doc = JSON.parse(readFileSync(latestPath, 'utf8')) as BenchDocument;
  doc.reruns ??= [];
  const names = new Set(workloads.map((w) => w.name));
  const replaced = (m: Measurement): boolean => names.has(m.workload) && (peers as readonly string[]).includes(m.peer);
  const key = (m: Measurement): string => `${m.workload}\u0000${m.peer}`;
  const kept: Measurement[] = [];
  const inserted = new Set<string>();
  // New records take the place of the ones they replace, so the table keeps its order.
  for (const m of doc.measurements) {
    if (!replaced(m)) kept.push(m);
    else if (!inserted.has(key(m))) {
      kept.push(...fresh.measurements.filter((f) => key(f) === key(m)));
      inserted.add(key(m));
    }
  }
  kept.push(...fresh.measurements.filter((f) => !inserted.has(key(f))));
  doc.measurements = kept;
  // Workloads the run had not measured at all (added since) join its list, so the tables show them.
  for (const w of fresh.workloads) if (!doc.workloads.some((x) => x.name === w.name)) doc.workloads.push(w);
  doc.reruns.push({
    date: fresh.date, command: fresh.command, loadAverage: fresh.loadAverage,
    replaced: [...new Set(fresh.measurements.map((m) => `${m.peer} on ${m.workload}`))],
  });
  const all = doc.workloads.map((w) => w as Workload);
  const markdown = render(doc, all);
  console.log(markdown);
  const name = doc.date.slice(0, 10);
  write(name, doc, markdown);
  write('latest', doc, markdown);
  console.log(`\nmerged into ${latestPath} and bench/results/${name}.json`);
}

/** Names --only takes for every workload of a kind. */
const GROUPS: Record<string, (w: Workload) => boolean> = { seq2seq: isSeq2Seq, tagger: isTagger };

async function main(): Promise<void> {
  const o = options();
  const all = loadWorkloads(o.workloadsPath);
  const names = new Set(all.map((w) => w.name));
  for (const item of o.only) {
    if (!names.has(item) && !(item in GROUPS) && !(PEERS as readonly string[]).includes(item)) {
      throw new Error(`--only: ${item} is neither a peer (${PEERS.join(', ')}) nor a workload (${[...names].join(', ')}, `
        + `or ${Object.keys(GROUPS).join(' or ')} for a group of those)`);
    }
  }
  const onlyWorkloads = o.only.flatMap((x) => (x in GROUPS ? all.filter(GROUPS[x]!).map((w) => w.name) : names.has(x) ? [x] : []));
  const onlyPeers = o.only.filter((x) => (PEERS as readonly string[]).includes(x)) as Peer[];
  const workloads = onlyWorkloads.length ? all.filter((w) => onlyWorkloads.includes(w.name)) : all;
  const peers = onlyPeers.length ? PEERS.filter((p) => onlyPeers.includes(p)) : [...PEERS];
  if (o.merge && (o.only.length === 0 || o.quick)) throw new Error('--merge re-measures part of a full run: give --only, and not --quick');
  if (o.memory) await memoryMode(o, workloads);
  else await benchMode(o, workloads, peers);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
