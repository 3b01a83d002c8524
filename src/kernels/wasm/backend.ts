// The WebAssembly SIMD backend: the arena lives in a WebAssembly.Memory, so
// kernels read and write the buffers the layers hand them (element offsets ×
// 4 = byte pointers) with no copying. A recurrent layer direction is one
// call: the input projection as one multiply, the whole time loop inside
// WebAssembly, the weight gradients as multiplies after it. Large multiplies
// are split across a worker pool by rows or column panels, recurrent loops by
// batch rows for whole sequences; every element is computed by one thread in
// a fixed order, so results are bit-identical for any thread count.

import { Arena, Workspace, type HeapStorage } from '../../core/arena.js';
import { LstmkitError } from '../../core/errors.js';
import { median } from '../../core/stats.js';
import {
  NONE, gateCount, type AdamArgs, type Backend, type CellKind, type RecurrentBackward, type RecurrentForward,
} from '../backend.js';
import { MAX_PAGES, type Flavor, type Kernels } from './module.js';
import { WorkerPool, type Job } from './pool.js';

const PAGE = 65536;

/** Multiply-adds below which a product runs on one thread (waking workers costs microseconds). */
const PARALLEL_THRESHOLD = 1 << 19;
/** runTimed: calls judged per way, calls before it is judged, and how often the slower way is tried again. */
const TIMING_WINDOW = 9;
const MIN_TIMINGS = 3;
const EXPLORE_EVERY = 16;

/** A forward loop split by hidden units: each thread's [j0, j1) of H (see unitSplit). */
interface UnitSplit {
  H: number;
  parts: [number, number][];
}

interface UnitTimings {
  split: number[];
  alone: number[];
  calls: number;
}
/**
 * Whether a recurrent loop reads its weights in place each step, or packs
 * them once per call into panels for the 4×8 and 1×24 kernels. Packing
 * costs about one product's worth of memory traffic, and the packed
 * kernels run faster per step (measured on the infer-latency workload,
 * batch 1 × 100 steps: 2.6 ms packed against 2.7 ms in place on one thread,
 * 1.5 against 2.0 ms on two), so only short loops of small batches —
 * a sampled token, a short request — read in place. Chosen by the whole
 * batch and sequence, never by a thread's share, so results do not
 * depend on the thread count.
 */
function readsInPlace(steps: number, batch: number): boolean {
  return batch < 4 && steps < 16;
}

/** The arena's storage: the module's memory, grown by whole pages. */
class WasmStorage implements HeapStorage {
  constructor(readonly memory: WebAssembly.Memory, private readonly maxPages: number) {}

  buffer(): ArrayBufferLike {
    return this.memory.buffer;
  }

  grow(bytes: number): void {
    const have = this.memory.buffer.byteLength / PAGE;
    const need = Math.ceil(bytes / PAGE);
    if (need <= have) return;
    if (need > this.maxPages) {
      const maximum = (this.maxPages * PAGE / 2 ** 20).toFixed(0);
      throw new LstmkitError(`wasm backend: the heap needs ${(bytes / 2 ** 20).toFixed(0)} MiB, more than its ${maximum} MiB maximum`);
    }
    const pages = Math.min(this.maxPages, Math.max(need, Math.ceil(have * 1.5)));
    this.memory.grow(pages - have);
  }
}

export interface WasmBackendOptions {
  /** Threads kernels may use, the calling one included (default 1). */
  threads?: number;
  /** Initial heap size in bytes (grows as needed). */
  initialBytes?: number;
  /**
   * Multiply-adds from which a product or recurrent loop is split across
   * threads (default 2^19; pointwise work splits from a quarter of it). Tests
   * set 1 to split everything.
   */
  parallelThreshold?: number;
  /** The module is the relaxed-SIMD build (fused multiply-add); for backendInfo. */
  fma?: boolean;
}

/** Byte pointer of an element offset; NONE becomes 0 ("none" to the kernels). */
function ptr(offset: number): number {
  return offset === NONE ? 0 : offset * 4;
}

/** Split [0, n) into at most `parts` contiguous ranges whose bounds are multiples of `align`. */
function ranges(n: number, parts: number, align: number): [number, number][] {
  const chunk = Math.ceil(n / parts / align) * align;
  const out: [number, number][] = [];
  for (let start = 0; start < n; start += chunk) out.push([start, Math.min(n, start + chunk)]);
  return out;
}

export class WasmBackend implements Backend {
  readonly name: string = 'wasm';
  readonly arena: Arena;
  /** The module's exports on this thread (for tests and diagnostics). */
  readonly kernels: Kernels;
  readonly flavor: Flavor;
  /** The multiplies use fused multiply-add (the relaxed-SIMD build). */
  readonly fma: boolean;
  /** The compiled kernels (another backend can be made from the same module). */
  readonly module: WebAssembly.Module;
  private readonly memory: WebAssembly.Memory;
  private readonly ws: Workspace;
  private readonly requestedThreads: number;
  private pool: WorkerPool | undefined;
  private poolTried = false;
  private readonly gemmMin: number;
  private readonly pointwiseMin: number;
  /** Recent milliseconds per step of forward loops split by units and on one thread, per shape (see runTimed). */
  private readonly unitTimings = new Map<string, UnitTimings>();

  /**
   * @param module the compiled kernels of `flavor` ('shared' for threads).
   */
  constructor(module: WebAssembly.Module, flavor: Flavor, opts: WasmBackendOptions = {}) {
    this.module = module;
    this.flavor = flavor;
    this.fma = opts.fma ?? false;
    const threads = opts.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1) throw new LstmkitError(`wasm backend: threads must be a positive integer, got ${threads}`);
    this.requestedThreads = flavor === 'shared' ? threads : 1;
    this.gemmMin = opts.parallelThreshold ?? PARALLEL_THRESHOLD;
    this.pointwiseMin = Math.ceil(this.gemmMin / 4);
    const initial = Math.max(16, Math.ceil((opts.initialBytes ?? 16 * 2 ** 20) / PAGE));
    this.memory = flavor === 'shared'
      ? new WebAssembly.Memory({ initial, maximum: MAX_PAGES, shared: true })
      : new WebAssembly.Memory({ initial });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.kernels = instance.exports as unknown as Kernels;
    this.arena = new Arena('float32', new WasmStorage(this.memory, MAX_PAGES), Math.max(1024, this.kernels.heapBase()));
    this.ws = new Workspace(this.arena);
  }

  /** Threads the kernels use (1 when workers could not be started). */
  get threads(): number {
    if (this.requestedThreads === 1) return 1;
    return this.poolTried && !this.pool?.size ? 1 : this.requestedThreads;
  }

  /** Stop the worker pool (the backend keeps working on the calling thread). */
  dispose(): void {
    this.pool?.close();
    this.pool = undefined;
    this.poolTried = true;
  }

  /** The pool, started on first use; undefined when running single-threaded. */
  private workers(): WorkerPool | undefined {
    if (this.requestedThreads === 1) return undefined;
    if (!this.poolTried) {
      this.poolTried = true;
      this.pool = WorkerPool.start(this.module, this.memory, this.requestedThreads - 1);
    }
    return this.pool?.size ? this.pool : undefined;
  }

  /**
   * Run jobs across the calling thread and the workers (one job: just call
   * it). Without workers the jobs run one after another here, or `alone`
   * instead when they must run at the same time (they wait for each other).
   */
  private run(jobs: Job[], alone?: Job): void {
    const pool = jobs.length > 1 ? this.workers() : undefined;
    if (pool && jobs.length <= pool.size + 1) {
      try {
        pool.run(jobs, this.kernels);
        return;
      } catch (err) {
        if (this.pool?.size) throw err;
        // The pool broke down: redo everything on this thread (jobs are idempotent).
      }
    }
    for (const job of alone && jobs.length > 1 ? [alone] : jobs) {
      (this.kernels[job.kernel] as (...a: (number | boolean)[]) => unknown)(...job.args);
    }
  }

  /** Threads worth using for `work` units, given a minimum per split. */
  private split(work: number, min: number): number {
    return work >= min ? this.threads : 1;
  }

  /** The pack buffer of thread t (bytes). */
  private packBuffer(t: number): number {
    return this.ws.get(`pack${t}`, this.kernels.packSize()) * 4;
  }

  // ---- gemm ------------------------------------------------------------------

  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number,
       a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: boolean): void {
    if (M <= 0 || N <= 0) return;
    const threads = this.split(M * N * K, this.gemmMin);
    const args = (m0: number, m1: number, n0: number, n1: number, t: number): Job => ({
      kernel: 'gemm',
      args: [transA, transB, K, a * 4, lda, b * 4, ldb, c * 4, ldc, accumulate, m0, m1, n0, n1, this.packBuffer(t)],
    });
    if (threads === 1) {
      this.run([args(0, M, 0, N, 0)]);
      return;
    }
    // Column panels when C is wide: each thread packs only its own part of
    // op(B). Rows when C is tall: each thread packs all of op(B), which is
    // small against its share of the product.
    const panels = Math.ceil(N / 8);
    const byColumns = panels >= 2 * threads && (N >= M || M < 4 * threads);
    const jobs = byColumns
      ? ranges(panels, threads, 1).map(([p0, p1], t) => args(0, M, p0 * 8, Math.min(N, p1 * 8), t))
      : ranges(M, threads, 4).map(([m0, m1], t) => args(m0, m1, 0, N, t));
    this.run(jobs);
  }

  /**
   * Pack op(B) [K, N] into panels in the named slot and return its byte
   * pointer. The threads share the panels out evenly, or, for a loop split
   * by `units` (gate-major columns, N / H gates), by the same units: each
   * thread packs the panels it will read every step, into its own cache.
   */
  private packWeights(slot: string, transB: boolean, b: number, ldb: number, K: number, N: number,
                      units: UnitSplit | null = null): number {
    const dst = this.ws.get(slot, this.kernels.packedSize(K, N)) * 4;
    if (units) {
      const { H, parts } = units;
      this.run(parts.map(([j0, j1]) => ({ kernel: 'packUnitPanels' as const, args: [transB, b * 4, ldb, K, N, dst, N / H, H, j0, j1] })));
      return dst;
    }
    const panels = Math.ceil(N / 8);
    const threads = this.split(K * N, this.pointwiseMin);
    this.run(ranges(panels, threads, 1).map(([p0, p1]) => ({
      kernel: 'packPanels' as const, args: [transB, b * 4, ldb, K, N, dst, p0, p1],
    })));
    return dst;
  }

  private lengthsPointer(lengths: Int32Array | null, batch: number): number {
    if (lengths === null) return 0;
    if (lengths.length < batch) throw new LstmkitError(`wasm backend: lengths has ${lengths.length} entries, the batch has ${batch}`);
    const off = this.ws.get('lengths', batch);
    this.arena.ints.set(lengths.subarray(0, batch), off);
    return off * 4;
  }

  /**
   * The hidden units of each thread when a forward loop of a batch too small
   * to split by rows is split by units instead (whole panels of 8 of every
   * gate; one barrier per step), or null when it runs otherwise.
   */
  private unitSplit(T: number, B: number, H: number, G: number, K: number): UnitSplit | null {
    const threads = this.split(T * B * G * K, this.gemmMin);
    if (threads <= 1 || B >= threads || H % 8 !== 0) return null;
    // At least 32 units a thread, so a step's share outweighs its barrier.
    const unitThreads = Math.min(threads, Math.floor(H / 32));
    return unitThreads > 1 ? { H, parts: ranges(H, unitThreads, 8) } : null;
  }

  /**
   * How a recurrent loop is split: by batch rows (whole sequences, no
   * barrier) when the batch has a row for every thread, else by `units`
   * (forward loops only; see unitSplit) when given; each job gets
   * [b0, b1, j0, j1, sync, threads] (backward: [b0, b1]) appended to `args`.
   */
  private recurrentJobs(kernel: Job['kernel'], args: (number | boolean)[], T: number, B: number, H: number,
                        G: number, K: number, backward: boolean,
                        units: UnitSplit | null = null): { jobs: Job[]; alone: Job } {
    const tail = backward ? (b0: number, b1: number) => [b0, b1] : (b0: number, b1: number) => [b0, b1, 0, H, 0, 1];
    const alone: Job = { kernel, args: [...args, ...tail(0, B)] };
    const threads = this.split(T * B * G * K, this.gemmMin);
    if (threads > 1 && B >= threads) {
      // Multiples of 4 rows keep each part on the 4×8 kernel when the batch allows.
      const parts = ranges(B, threads, B >= 4 * threads ? 4 : 1);
      return { jobs: parts.map(([b0, b1]) => ({ kernel, args: [...args, ...tail(b0, b1)] })), alone };
    }
    if (units) {
      const sync = this.ws.get('sync', 16);
      this.arena.ints[sync] = 0;
      const jobs = units.parts.map(([j0, j1]): Job => ({
        kernel, args: [...args, 0, B, j0, j1, sync * 4, units.parts.length],
      }));
      return { jobs, alone };
    }
    return { jobs: [alone], alone };
  }

  // ---- recurrent layers --------------------------------------------------------

  recurrentForward(cell: CellKind, p: RecurrentForward): void {
    const { steps: T, batch: B, input: I, hidden: H, output: O } = p;
    const G = gateCount(cell) * H;
    const rows = T * B;
    const rnn = cell === 'rnn_tanh' || cell === 'rnn_relu';
    // The input projection of every step at once: [T·B, I] · W_ihᵀ (+ biases).
    const pre = rnn ? p.saved + rows * H : p.saved; // RNN: after hprev [T, B, H]
    this.gemm(false, true, rows, G, I, p.x, p.ldx, p.w.wih, I, pre, G, false);
    const hiddenBias = cell === 'gru' ? NONE : p.w.bhh; // GRU adds b_hh inside r ⊙ (W_hn h + b_hn)
    const first = p.w.bih !== NONE ? p.w.bih : hiddenBias;
    const second = p.w.bih !== NONE ? hiddenBias : NONE;
    if (first !== NONE && rows > 0) this.kernels.addBias(rows, G, pre * 4, G, first * 4, ptr(second));
    const K = cell === 'lstm' ? O : H;
    // The recurrent weights as op(B) of h·W_hhᵀ: packed once for the whole
    // loop, or read in place by short loops of small batches (readsInPlace).
    const inPlace = readsInPlace(T, B);
    // LSTMs with a projection (W_hr) need all of h before the next step: no unit split.
    const units = cell === 'lstm' && p.w.whr !== NONE ? null : this.unitSplit(T, B, H, G, K);
    const whh = inPlace ? p.w.whh * 4 : this.packWeights('whh', true, p.w.whh, K, K, G, units);
    const lengths = this.lengthsPointer(p.lengths, B);
    // Recurrent dropout: the kernels keep h_{t-1} ⊙ mask in hprev, which every product of a step reads.
    const mask = ptr(p.recurrentMask ?? NONE);
    const head = [T, B, H] as const;
    let split: { jobs: Job[]; alone: Job };
    if (cell === 'lstm') {
      const whr = p.w.whr === NONE ? 0 : inPlace ? p.w.whr * 4 : this.packWeights('whr', true, p.w.whr, H, H, O);
      split = this.recurrentJobs('lstmForward', [...head, O, p.reverse, lengths, mask, p.saved * 4, p.y * 4, p.ldy,
        ptr(p.h0), ptr(p.c0), p.hn * 4, p.cn * 4, whh, whr, inPlace], T, B, H, G, K, false, units);
    } else if (cell === 'gru') {
      split = this.recurrentJobs('gruForward', [...head, p.reverse, lengths, mask, p.saved * 4, p.y * 4, p.ldy,
        ptr(p.h0), p.hn * 4, whh, ptr(p.w.bhh), inPlace], T, B, H, G, K, false, units);
    } else {
      split = this.recurrentJobs('rnnForward', [...head, p.reverse, cell === 'rnn_relu', lengths, mask, p.saved * 4, p.y * 4, p.ldy,
        ptr(p.h0), p.hn * 4, whh, inPlace], T, B, H, G, K, false, units);
    }
    if (units) this.runTimed(`${cell}:${B}:${H}:${K}`, T, split.jobs, split.alone);
    else this.run(split.jobs, split.alone);
  }

  /**
   * A forward loop split by hidden units waits at a barrier every step: fast
   * when every thread has a core, slower than one thread when the machine is
   * oversubscribed (a descheduled thread holds up the others). So both ways
   * are timed per shape and the faster one is used, the other one tried again
   * every EXPLORE_EVERY calls. Each way is judged by the median of its last
   * TIMING_WINDOW calls, so one call that a page fault, a compile thread or a
   * collector stalls does not switch it. Results are bit-identical either way.
   */
  private runTimed(shape: string, steps: number, jobs: Job[], alone: Job): void {
    let t = this.unitTimings.get(shape);
    if (!t) this.unitTimings.set(shape, (t = { split: [], alone: [], calls: 0 }));
    t.calls++;
    const explore = t.calls % EXPLORE_EVERY === 0;
    const splitFaster = t.alone.length < MIN_TIMINGS || t.split.length < MIN_TIMINGS
      || median(t.split) <= median(t.alone);
    const useSplit = splitFaster !== explore;
    const start = performance.now();
    if (useSplit) this.run(jobs, alone);
    else this.run([alone]);
    const window = useSplit ? t.split : t.alone;
    window.push((performance.now() - start) / Math.max(1, steps)); // per step: sequences differ in length
    if (window.length > TIMING_WINDOW) window.shift();
  }

  recurrentBackward(cell: CellKind, p: RecurrentBackward): void {
    const { steps: T, batch: B, input: I, hidden: H, output: O } = p;
    const G = gateCount(cell) * H;
    const rows = T * B;
    const lstm = cell === 'lstm';
    const K = lstm ? O : H; // width of the state fed back
    const inPlace = readsInPlace(T, B);
    const whh = inPlace ? p.w.whh * 4 : this.packWeights('whh', false, p.w.whh, K, G, K);
    const lengths = this.lengthsPointer(p.lengths, B);
    const mask = ptr(p.recurrentMask ?? NONE);
    const head = [T, B, H] as const;
    const loop = (kernel: Job['kernel'], args: (number | boolean)[]): void => {
      const split = this.recurrentJobs(kernel, args, T, B, H, G, K, true);
      this.run(split.jobs, split.alone);
    };
    // Where the loop leaves its results (layouts of recurrentSavedSize / recurrentScratchSize).
    let dxg: number; //   [T, B, G] feeds W_ih, b_ih, x
    let dhg: number; //   [T, B, G] feeds W_hh, b_hh
    let hprev: number; // [T, B, K], masked under recurrent dropout as W_hh saw it
    let dh: number; //    [B, K]
    if (lstm) {
      const whr = p.w.whr === NONE ? 0 : inPlace ? p.w.whr * 4 : this.packWeights('whr', false, p.w.whr, H, O, H);
      loop('lstmBackward', [...head, O, p.reverse, lengths, mask, p.saved * 4, ptr(p.dy), p.ldy,
        ptr(p.dhn), ptr(p.dcn), p.scratch * 4, whh, whr, inPlace]);
      dxg = dhg = p.scratch;
      hprev = p.saved + rows * G;
      dh = p.scratch + rows * G;
    } else if (cell === 'gru') {
      loop('gruBackward', [...head, p.reverse, lengths, mask, p.saved * 4, ptr(p.dy), p.ldy,
        ptr(p.dhn), p.scratch * 4, whh, inPlace]);
      dxg = p.scratch;
      dhg = p.scratch + rows * G;
      hprev = p.saved + rows * G;
      dh = dhg + rows * G;
    } else {
      loop('rnnBackward', [...head, p.reverse, cell === 'rnn_relu', lengths, mask, p.saved * 4, ptr(p.dy), p.ldy,
        ptr(p.dhn), p.scratch * 4, whh, inPlace]);
      dxg = dhg = p.scratch;
      hprev = p.saved;
      dh = p.scratch + rows * H;
    }
    // Weight and input gradients over all steps as single multiplies.
    this.gemm(true, false, G, I, rows, dxg, G, p.x, p.ldx, p.dw.wih, I, true);
    this.gemm(true, false, G, K, rows, dhg, G, hprev, K, p.dw.whh, K, true);
    // Bias gradients: column sums of dxg and dhg (one pass when they are the same buffer).
    const { bih, bhh } = p.dw;
    if (dxg === dhg && bih !== NONE && bhh !== NONE) this.columnSums(rows, G, dxg, G, bih, bhh);
    else {
      if (bih !== NONE) this.columnSums(rows, G, dxg, G, bih, NONE);
      if (bhh !== NONE) this.columnSums(rows, G, dhg, G, bhh, NONE);
    }
    if (p.dx !== NONE) this.gemm(false, false, rows, I, G, dxg, G, p.w.wih, I, p.dx, p.ldDx, p.accumulateDx);
    if (p.dh0 !== NONE) this.copy(B * K, dh, p.dh0);
    if (lstm && p.dc0 !== NONE) this.copy(B * H, dh + B * O, p.dc0);
    if (lstm && p.w.whr !== NONE) {
      const rs = p.saved + rows * (G + O + 2 * H); // r [T, B, H]
      const dhs = p.scratch + rows * G + B * (O + 2 * H); // every step's dh [T, B, O]
      this.gemm(true, false, O, H, rows, dhs, O, rs, H, p.dw.whr, H, true);
    }
  }

  // ---- pointwise and reductions ------------------------------------------------

  addBias(rows: number, cols: number, x: number, ld: number, bias: number): void {
    this.kernels.addBias(rows, cols, x * 4, ld, bias * 4, 0);
  }

  sumRows(rows: number, cols: number, x: number, ld: number, out: number): void {
    this.columnSums(rows, cols, x, ld, out, NONE);
  }

  /** out (and out2 unless NONE) += the column sums of x [rows, cols]; threads split the columns. */
  private columnSums(rows: number, cols: number, x: number, ld: number, out: number, out2: number): void {
    if (cols <= 0) return;
    const acc = this.ws.get('sums', 2 * cols) * 4; // float64 scratch, one per column
    const threads = this.split(rows * cols, this.pointwiseMin);
    this.run(ranges(cols, threads, 4).map(([c0, c1]) => ({
      kernel: 'sumRows' as const, args: [rows, x * 4, ld, out * 4, ptr(out2), c0, c1, acc + c0 * 8],
    })));
  }

  copy(n: number, src: number, dst: number): void {
    if (n > 0 && src !== dst) this.kernels.copy(n, src * 4, dst * 4);
  }

  fill(n: number, dst: number, value: number): void {
    if (n > 0) this.kernels.fill(n, dst * 4, value);
  }

  mul(n: number, a: number, b: number, out: number): void {
    this.kernels.mul(n, a * 4, b * 4, out * 4);
  }

  axpy(n: number, alpha: number, x: number, y: number): void {
    this.kernels.axpy(n, alpha, x * 4, y * 4);
  }

  scale(n: number, x: number, alpha: number): void {
    this.kernels.scale(n, x * 4, alpha);
  }

  sumSquares(n: number, x: number): number {
    return this.kernels.sumSquares(n, x * 4);
  }

  clamp(n: number, x: number, limit: number): void {
    this.kernels.clamp(n, x * 4, limit);
  }

  allFinite(n: number, x: number): boolean {
    return this.kernels.allFinite(n, x * 4) !== 0;
  }

  softmaxCrossEntropy(rows: number, classes: number, logits: number, targets: Int32Array,
                      probs: number, dlogits: number, scale: number): number {
    if (rows <= 0) return 0;
    if (targets.length < rows) throw new LstmkitError(`softmaxCrossEntropy: ${targets.length} targets for ${rows} rows`);
    const off = this.ws.get('targets', rows);
    this.arena.ints.set(targets.subarray(0, rows), off);
    return this.kernels.softmaxCrossEntropy(rows, classes, logits * 4, off * 4, probs * 4, ptr(dlogits), scale);
  }

  attendForward(B: number, S: number, H: number, D: number, query: number, keys: number, values: number,
                lengths: Int32Array, weights: number, context: number): void {
    if (B <= 0) return;
    if (lengths.length < B) throw new LstmkitError(`attendForward: ${lengths.length} lengths for ${B} rows`);
    const off = this.ws.get('attendLengths', B);
    this.arena.ints.set(lengths.subarray(0, B), off);
    this.kernels.attendForward(B, S, H, D, query * 4, keys * 4, values * 4, off * 4, weights * 4, context * 4);
  }

  tanh(n: number, x: number, y: number): void {
    if (n > 0) this.kernels.tanhVec(n, x * 4, y * 4);
  }

  adam(a: AdamArgs): void {
    const bc1 = 1 - Math.pow(a.beta1, a.step);
    const bc2 = 1 - Math.pow(a.beta2, a.step);
    const decay = 1 - a.lr * a.weightDecay;
    const threads = this.split(a.n, this.pointwiseMin);
    this.run(ranges(a.n, threads, 16).map(([i0, i1]) => ({
      kernel: 'adam' as const,
      args: [i1 - i0, (a.param + i0) * 4, (a.grad + i0) * 4, (a.m + i0) * 4, (a.v + i0) * 4,
        a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, a.eps, a.weightDecay, a.decoupled, decay,
        a.lr / bc1, Math.sqrt(bc2)],
    })));
  }
}
