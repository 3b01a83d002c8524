// What the benchmark runner and its peer children share: the workloads, the
// timing loop, the result record and the line protocol. A child prints each
// result as one line `@@bench {json}` on stdout; everything else it prints is
// passed through as log.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../src/core/stats.js';
import type { Module } from '../src/layers/module.js';

export { median };

/** The repository root (this file runs from dist/bench/). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** An LSTM stack with a Dense head: a training step or a batch-1 forward. */
export interface LstmWorkload {
  name: string;
  kind: 'train' | 'infer';
  input: number; // I
  hidden: number; // H
  seq: number; // T
  batch: number; // B
  output: number; // Dense head units
  layers: number; // stacked LSTM layers (default 1)
}

/**
 * The grapheme-to-phoneme shape of examples/g2p.ts: a bidirectional LSTM
 * encoder, an LSTM decoder with general attention and input feeding; one
 * training step (seq2seq-train) or decoding `batch` sources (seq2seq-decode).
 */
export interface Seq2SeqWorkload {
  name: string;
  kind: 'seq2seq-train' | 'seq2seq-decode';
  batch: number; // B: pairs per training step, sources per decoding call
  srcVocab: number; // source tokens, <pad> and <unk> included
  tgtVocab: number; // target tokens, <pad> <unk> <bos> <eos> included
  embedding: number; // Es = Et
  encoderHidden: number; // He per direction (De = 2·He)
  decoderHidden: number; // Hd
  srcLength: [number, number]; // each source's length, drawn uniformly from [min, max]
  tgtLength: [number, number]; // each target's length without <eos>, likewise
  beam: number; // 1: greedy; K: beam search of width K (seq2seq-decode)
  maxLength: number; // seq2seq-decode: tokens decoded per source (<eos> cannot win: every decoding runs this many steps)
}

/**
 * The BiLSTM-CRF tagger of src/model/tagger.ts (word embedding ⊕ character
 * BiLSTM, a BiLSTM encoder, Dense emissions, a CRF): one training step per
 * batch (tagger-train) or forward + Viterbi per batch (tagger-tag), over
 * `sentences` synthetic sentences per timed iteration.
 */
export interface TaggerWorkload {
  name: string;
  kind: 'tagger-train' | 'tagger-tag';
  batch: number; // sentences per batch
  sentences: number; // sentences per timed iteration (a multiple of batch)
  vocab: number; // word vocabulary, <pad> and <unk> included
  embedding: number; // E
  chars: number; // character vocabulary, <pad> and <unk> included
  charEmbedding: number; // Ec
  charHidden: number; // Hc per direction
  hidden: number; // encoder H per direction
  tags: number; // K
  length: [number, number]; // words per sentence, uniformly drawn from [min, max]
  wordLength: [number, number]; // characters per word spelling, likewise
}

export type Workload = LstmWorkload | Seq2SeqWorkload | TaggerWorkload;

export function isSeq2Seq(w: Workload): w is Seq2SeqWorkload {
  return w.kind === 'seq2seq-train' || w.kind === 'seq2seq-decode';
}

export function isTagger(w: Workload): w is TaggerWorkload {
  return w.kind === 'tagger-train' || w.kind === 'tagger-tag';
}

/** `w` as an LSTM workload, or an error naming the peer that has no seq2seq or tagger workload. */
export function lstmWorkload(w: Workload, peer: string): LstmWorkload {
  if (isSeq2Seq(w) || isTagger(w)) throw new Error(`${peer} runs the LSTM workloads only, not ${w.name}`);
  return w;
}

export const DEFAULT_WORKLOADS = join(ROOT, 'bench', 'workloads.json');

/** The workloads of bench/workloads.json (a copy of the project's shared workloads), or of `path`, in file order. */
export function loadWorkloads(path = DEFAULT_WORKLOADS): Workload[] {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`cannot read the workloads at ${path} (${(err as Error).message}); pass --workloads <file>`);
  }
  const out: Workload[] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (name === 'about' || typeof value !== 'object' || value === null) continue;
    const w = value as Record<string, unknown>;
    const int = (field: string, fallback?: number): number => {
      const v = w[field] ?? fallback;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`workload ${name}: ${field} must be a positive integer, got ${String(v)}`);
      return v;
    };
    const range = (field: string): [number, number] => {
      const v = w[field];
      const ok = Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x) && x >= 1) && v[0] <= v[1];
      if (!ok) throw new Error(`workload ${name}: ${field} must be [min, max], positive integers, got ${JSON.stringify(v)}`);
      return [v[0] as number, v[1] as number];
    };
    if (w.kind === 'train' || w.kind === 'infer') {
      out.push({
        name, kind: w.kind, input: int('input'), hidden: int('hidden'), seq: int('seq'),
        batch: int('batch'), output: int('output'), layers: int('layers', 1),
      });
    } else if (w.kind === 'seq2seq-train' || w.kind === 'seq2seq-decode') {
      out.push({
        name, kind: w.kind, batch: int('batch'), srcVocab: int('srcVocab'), tgtVocab: int('tgtVocab'),
        embedding: int('embedding'), encoderHidden: int('encoderHidden'), decoderHidden: int('decoderHidden'),
        srcLength: range('srcLength'), tgtLength: range('tgtLength'), beam: int('beam', 1),
        maxLength: w.kind === 'seq2seq-decode' ? int('maxLength') : 0,
      });
    } else if (w.kind === 'tagger-train' || w.kind === 'tagger-tag') {
      const batch = int('batch');
      const sentences = int('sentences');
      if (sentences % batch !== 0) throw new Error(`workload ${name}: sentences (${sentences}) must be a multiple of batch (${batch})`);
      out.push({
        name, kind: w.kind, batch, sentences, vocab: int('vocab'), embedding: int('embedding'), chars: int('chars'),
        charEmbedding: int('charEmbedding'), charHidden: int('charHidden'), hidden: int('hidden'), tags: int('tags'),
        length: range('length'), wordLength: range('wordLength'),
      });
    } else throw new Error(`workload ${name}: kind must be train, infer, seq2seq-train, seq2seq-decode, tagger-train or tagger-tag, got ${String(w.kind)}`);
  }
  return out;
}

export function findWorkload(name: string, path?: string): Workload {
  const w = loadWorkloads(path).find((x) => x.name === name);
  if (!w) throw new Error(`no workload named ${name}`);
  return w;
}

/**
 * Multiply-add FLOPs (2 per multiply-add) of one pass over the workload:
 * forward = input projection + recurrent product per step + the head;
 * a training step is forward + backward, backward doing twice the forward's
 * multiplies (weight gradients and input/state gradients).
 */
export function workloadFlops(w: Workload): { forward: number; train: number } {
  if (isSeq2Seq(w)) return seq2seqFlops(w);
  if (isTagger(w)) return taggerFlops(w);
  let forward = 0;
  const rows = w.seq * w.batch;
  for (let l = 0; l < w.layers; l++) {
    const inSize = l === 0 ? w.input : w.hidden;
    forward += 2 * rows * 4 * w.hidden * (inSize + w.hidden);
  }
  forward += 2 * w.batch * w.hidden * w.output;
  return { forward, train: 3 * forward };
}

/**
 * The same count for a seq2seq workload, at the mean lengths: forward = the
 * encoder (both directions), the bridges, the attention keys (once per
 * batch) and per decoder step the LSTM, scores, context, combine and output
 * projection, for `batch` rows (training: teacher forcing over the target
 * and its <eos>) or `batch`·`beam` rows (decoding: maxLength steps).
 */
function seq2seqFlops(w: Seq2SeqWorkload): { forward: number; train: number } {
  const S = (w.srcLength[0] + w.srcLength[1]) / 2;
  const E = w.embedding;
  const He = w.encoderHidden;
  const De = 2 * He;
  const Hd = w.decoderHidden;
  const decode = w.kind === 'seq2seq-decode';
  const T = decode ? w.maxLength : (w.tgtLength[0] + w.tgtLength[1]) / 2 + 1;
  const rows = decode ? w.batch * w.beam : w.batch;
  const encoder = S * 2 * 4 * He * (E + He) + 2 * De * Hd + S * De * Hd;
  const step = 4 * Hd * (E + 2 * Hd) + 2 * S * De + Hd * (De + Hd) + Hd * w.tgtVocab;
  // A beam search encodes each source once per hypothesis row (lstmkit); counted once per source here.
  const forward = 2 * (w.batch * encoder + rows * T * step);
  return { forward, train: 3 * forward };
}

/**
 * The same count for a tagger workload per timed iteration, at the mean
 * sentence and word lengths: per token the character BiLSTM over its spelling
 * (an upper bound: lstmkit spells each distinct word of a batch once), the
 * encoder (both directions) and the head; the CRF's K² per token is included.
 */
function taggerFlops(w: TaggerWorkload): { forward: number; train: number } {
  const tokens = w.sentences * (w.length[0] + w.length[1]) / 2;
  const C = (w.wordLength[0] + w.wordLength[1]) / 2;
  const chars = C * 2 * 4 * w.charHidden * (w.charEmbedding + w.charHidden);
  const F = w.embedding + 2 * w.charHidden;
  const encoder = 2 * 4 * w.hidden * (F + w.hidden);
  const perToken = chars + encoder + 2 * w.hidden * w.tags + w.tags * w.tags;
  const forward = 2 * tokens * perToken;
  return { forward, train: 3 * forward };
}

/** seq/s, ms and words/s for workloads; GFLOP/s for the peak multiply; MiB for the memory check. */
export type Unit = 'seq/s' | 'ms' | 'words/s' | 'sent/s' | 'tokens/s' | 'GFLOP/s' | 'MiB';

export type Status = 'ok' | 'not installed' | 'failed' | 'n/a' | 'skipped';

/** One figure of one peer on one workload in one configuration. */
export interface Measurement {
  peer: string;
  workload: string;
  /** The configuration: '1 thread', '2 threads', 'wasm (SIMD, 1 thread)', … */
  variant: string;
  threads: number | null;
  status: Status;
  /**
   * seq/s for training (higher is better), ms per sequence for inference
   * (lower is better), words/s for decoding (sources decoded per second, higher is better).
   */
  figure: number | null;
  unit: Unit;
  /** Seconds of each timed iteration. */
  samples: number[];
  /** Sequences (decoding: sources; tagging: tokens) per timed iteration. */
  sequencesPerIteration: number;
  /** Peak resident set of the child process, MiB. */
  peakRssMiB: number | null;
  note?: string;
  /** Peer-specific detail: library versions, GFLOP/s, arena bytes, a profile. */
  extra?: Record<string, unknown>;
}

export function emit(m: Measurement): void {
  process.stdout.write(`@@bench ${JSON.stringify(m)}\n`);
}

export function unitOf(w: Workload): Unit {
  switch (w.kind) {
    case 'infer': return 'ms';
    case 'seq2seq-decode': return 'words/s';
    case 'tagger-train': return 'sent/s';
    case 'tagger-tag': return 'tokens/s';
    default: return 'seq/s';
  }
}

/** A record for a peer that could not run, with the reason. */
export function unavailable(peer: string, w: Workload, variant: string, status: Status, note: string): Measurement {
  return {
    peer, workload: w.name, variant, threads: null, status, figure: null, unit: unitOf(w), samples: [],
    sequencesPerIteration: w.batch, peakRssMiB: null, note,
  };
}

export interface TimingOptions {
  /** Warm-up: at least this many iterations … */
  warmupIters: number;
  /** … and at least this many seconds (V8 and wasm tier up; caches fill). */
  warmupSeconds: number;
  /** Timed: at least this many iterations … */
  minIters: number;
  /** … and at least this many seconds, */
  minSeconds: number;
  /** stopping at this many iterations, */
  maxIters: number;
  /** or once this many seconds have passed (after minIters). */
  maxSeconds: number;
}

export function timingOptions(quick: boolean): TimingOptions {
  return quick
    ? { warmupIters: 1, warmupSeconds: 0.2, minIters: 2, minSeconds: 0.5, maxIters: 50, maxSeconds: 3 }
    : { warmupIters: 2, warmupSeconds: 2, minIters: 5, minSeconds: 5, maxIters: 500, maxSeconds: 40 };
}

const now = (): number => performance.now() / 1000;

/**
 * The timing plan, once for both loops below: it yields to ask for one run
 * of the step, is sent that run's seconds, and returns the timed samples.
 */
function* schedule(o: TimingOptions): Generator<void, number[], number> {
  let start = now();
  let slowest = 0;
  for (let i = 0; i < o.warmupIters || now() - start < o.warmupSeconds; i++) {
    slowest = Math.max(slowest, yield);
    // One iteration that takes long is warm enough.
    if (slowest > o.maxSeconds / 2) break;
  }
  const minIters = minItersFor(o, slowest);
  const samples: number[] = [];
  start = now();
  while (samples.length < minIters || (now() - start < o.minSeconds && samples.length < o.maxIters)) {
    samples.push(yield);
    if (samples.length >= minIters && now() - start > o.maxSeconds) break;
  }
  return samples;
}

/** Seconds of each timed iteration of `fn`, after warm-up. */
export function timeIterations(fn: () => void, o: TimingOptions): number[] {
  const plan = schedule(o);
  for (let step = plan.next(0); ; ) {
    if (step.done) return step.value;
    const t0 = now();
    fn();
    step = plan.next(now() - t0);
  }
}

/**
 * Iterations slower than the time budget get fewer repeats (the spread
 * column shows n): 3 past it, 1 past four times it (a peer whose one
 * training step takes minutes), 1 with --quick.
 */
function minItersFor(o: TimingOptions, warmupSeconds: number): number {
  if (warmupSeconds <= o.maxSeconds) return o.minIters;
  if (o.minIters <= 2 || warmupSeconds > 4 * o.maxSeconds) return 1;
  return Math.min(o.minIters, 3);
}

/** Async variant for peers whose step is a promise. */
export async function timeIterationsAsync(fn: () => Promise<void>, o: TimingOptions): Promise<number[]> {
  const plan = schedule(o);
  for (let step = plan.next(0); ; ) {
    if (step.done) return step.value;
    const t0 = now();
    await fn();
    step = plan.next(now() - t0);
  }
}

/** The figure of a workload from per-iteration seconds: median seq/s or words/s, or median ms per sequence. */
export function figureOf(w: Workload, samples: readonly number[], sequencesPerIteration: number): number {
  const s = median(samples);
  return unitOf(w) === 'ms' ? (s * 1000) / sequencesPerIteration : sequencesPerIteration / s;
}

/** Peak resident set of this process so far, MiB. */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Deterministic pseudo-random floats in [-1, 1) (a small LCG: peers need not share a generator). */
export function randomFloats(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** `--name value` and `--flag` arguments. */
export function parseArgs(argv: readonly string[]): { flags: Set<string>; values: Map<string, string> } {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) values.set(a.slice(2, eq), a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) values.set(a.slice(2), argv[++i]!);
    else flags.add(a.slice(2));
  }
  return { flags, values };
}

/** Common arguments of a peer child: --workload NAME [--workloads FILE] [--threads N] [--quick]. */
export function childArgs(argv: readonly string[] = process.argv.slice(2)): {
  workload: Workload; threads: number; quick: boolean; values: Map<string, string>; flags: Set<string>;
} {
  const { flags, values } = parseArgs(argv);
  const name = values.get('workload');
  if (!name) throw new Error('--workload NAME is required');
  const path = values.get('workloads');
  const workload = findWorkload(name, path);
  const threads = Number(values.get('threads') ?? 1);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be a positive integer, got ${values.get('threads')}`);
  return { workload, threads, quick: flags.has('quick'), values, flags };
}

/** Run a child's main, turning an uncaught error into a 'failed' record and exit code 1. */
export function runChild(peer: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`${peer}: ${message}\n`);
      process.exit(1);
    },
  );
}

/** A model's weights as one Float32Array, with each tensor's name, shape and offset (what the PyTorch twins read). */
export function flatWeights(model: Module): { tensors: { name: string; shape: number[]; offset: number }[]; flat: Float32Array } {
  const dict = model.stateDict();
  const store = model.parameters();
  const tensors: { name: string; shape: number[]; offset: number }[] = [];
  let total = 0;
  for (const name of Object.keys(dict)) {
    tensors.push({ name, shape: [...store.shape(name)], offset: total });
    total += dict[name]!.length;
  }
  const flat = new Float32Array(total);
  for (const t of tensors) flat.set(dict[t.name]!, t.offset);
  return { tensors, flat };
}

/** What a model workload runs per timed iteration: the work, the sequences it covers, and its own report. */
export interface Work {
  run: () => void;
  per: number;
  report: () => Record<string, unknown>;
}

/**
 * Time a seq2seq or tagger workload's iterations: its figure in its unit, and beside it the parameter count, the
 * work's report and the multiply speed of a training step (`training`) or a forward.
 */
export function measureWork(
  w: Workload, parameters: number, work: Work, training: boolean, quick: boolean,
): { figure: number; samples: number[]; per: number; extra: Record<string, unknown> } {
  const samples = timeIterations(work.run, timingOptions(quick));
  const flops = workloadFlops(w);
  return {
    figure: figureOf(w, samples, work.per), samples, per: work.per,
    extra: { parameters, ...work.report(), stepGflops: (training ? flops.train : flops.forward) / median(samples) / 1e9 },
  };
}

