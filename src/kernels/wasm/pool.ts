// A pool of worker_threads sharing the kernels' WebAssembly.Memory. The
// calling thread posts one job per worker, runs its own share, then waits
// for the workers; a job is a kernel name and its numeric arguments, so
// workers touch raw memory only. Workers spin briefly before sleeping, so
// the jobs of one training step reach them without a system call, and are
// unref'd: the pool never keeps the process alive.

import { POOL_KERNELS, nodeBuiltin, type Kernels, type PoolKernel } from './module.js';
import {
  ARG_STRIDE, CTL_STRIDE, DONE, FAILED, READY, SEQ, SLEEPING, SPIN, STARTING, STATE, type WorkerInit,
} from './protocol.js';

export interface Job {
  kernel: PoolKernel;
  args: readonly (number | boolean)[];
}

interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
  on(event: 'error', listener: (err: unknown) => void): void;
}

interface WorkerThreads {
  Worker: new (
    code: string, options: { eval: true; execArgv: string[]; workerData: WorkerInit & { url: string } },
  ) => NodeWorker;
}

/**
 * Each worker starts from this bootstrap, which loads worker.js and marks the
 * worker FAILED if that fails (the calling thread, blocked while it waits,
 * could not receive an 'error' event). execArgv is emptied: the worker needs
 * no flags, and some (--input-type, --eval) would stop it from starting.
 */
const BOOTSTRAP = `const { workerData } = require('node:worker_threads');
import(workerData.url).catch(() => {
  const ctl = new Int32Array(workerData.control);
  const at = workerData.index * ${CTL_STRIDE} + ${STATE};
  Atomics.store(ctl, at, ${FAILED});
  Atomics.notify(ctl, at);
});`;

const KERNEL_INDEX = new Map<string, number>(POOL_KERNELS.map((name, i) => [name, i]));

/** How long start() waits for a worker to instantiate the module. */
const START_TIMEOUT_MS = 20_000;

export class WorkerPool {
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private readonly seq: number[];
  private closed = false;

  private constructor(private readonly handles: NodeWorker[], control: SharedArrayBuffer, args: SharedArrayBuffer) {
    this.ctl = new Int32Array(control);
    this.args = new Float64Array(args);
    this.seq = handles.map(() => 0);
  }

  /** Workers available besides the calling thread. */
  get size(): number {
    return this.closed ? 0 : this.handles.length;
  }

  /**
   * Start `count` workers on `memory` and wait until each has instantiated
   * the module (synchronously: Node's main thread may block). Undefined when
   * workers are unavailable here (no worker_threads) or fail to start.
   */
  static start(module: WebAssembly.Module, memory: WebAssembly.Memory, count: number): WorkerPool | undefined {
    const threads = nodeBuiltin<WorkerThreads>('node:worker_threads');
    if (!threads || count < 1) return undefined;
    const control = new SharedArrayBuffer(count * CTL_STRIDE * 4);
    const args = new SharedArrayBuffer(count * ARG_STRIDE * 8);
    const ctl = new Int32Array(control);
    const url = new URL('./worker.js', import.meta.url).href;
    const handles: NodeWorker[] = [];
    try {
      for (let index = 0; index < count; index++) {
        const worker = new threads.Worker(BOOTSTRAP, {
          eval: true, execArgv: [], workerData: { module, memory, control, args, index, url },
        });
        worker.on('error', () => {
          Atomics.store(ctl, index * CTL_STRIDE + STATE, FAILED);
          Atomics.notify(ctl, index * CTL_STRIDE + DONE);
        });
        worker.unref();
        handles.push(worker);
      }
    } catch {
      for (const worker of handles) void worker.terminate();
      return undefined;
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let index = 0; index < count; index++) {
      const at = index * CTL_STRIDE + STATE;
      while (Atomics.load(ctl, at) === STARTING && Date.now() < deadline) Atomics.wait(ctl, at, STARTING, 50);
      if (Atomics.load(ctl, at) !== READY) {
        for (const worker of handles) void worker.terminate();
        return undefined;
      }
    }
    return new WorkerPool(handles, control, args);
  }

  /**
   * Run jobs[0] on the calling thread (with `self`, its own instance) and
   * jobs[i] on worker i-1, and return when all are done. At most size + 1 jobs.
   */
  run(jobs: readonly Job[], self: Kernels): void {
    const posted = Math.min(jobs.length - 1, this.size);
    for (let w = 0; w < posted; w++) this.post(w, jobs[w + 1]!);
    let error: unknown;
    try {
      const own = jobs[0];
      if (own) (self[own.kernel] as (...a: (number | boolean)[]) => unknown)(...own.args);
    } catch (err) {
      error = err;
    }
    let failed = false;
    for (let w = 0; w < posted; w++) {
      this.await(w);
      if (Atomics.load(this.ctl, w * CTL_STRIDE + STATE) === FAILED) failed = true;
    }
    if (error !== undefined) throw error;
    if (failed) {
      this.close();
      throw new Error('lstmkit: a wasm worker failed; the backend continues on one thread');
    }
  }

  private post(w: number, job: Job): void {
    const a = w * ARG_STRIDE;
    const kernel = KERNEL_INDEX.get(job.kernel)!;
    if (job.args.length > ARG_STRIDE - 2) throw new Error(`lstmkit: too many arguments for ${job.kernel}`);
    this.args[a] = kernel;
    this.args[a + 1] = job.args.length;
    for (let i = 0; i < job.args.length; i++) this.args[a + 2 + i] = +job.args[i]!;
    const c = w * CTL_STRIDE;
    Atomics.store(this.ctl, c + SEQ, ++this.seq[w]!);
    if (Atomics.load(this.ctl, c + SLEEPING) !== 0) Atomics.notify(this.ctl, c + SEQ);
  }

  private await(w: number): void {
    const c = w * CTL_STRIDE;
    const target = this.seq[w]!;
    let spins = 0;
    for (;;) {
      const done = Atomics.load(this.ctl, c + DONE);
      if (done === target || Atomics.load(this.ctl, c + STATE) === FAILED) return;
      if (++spins > SPIN) Atomics.wait(this.ctl, c + DONE, done, 100);
    }
  }

  /** Stop the workers (the pool runs nothing afterwards). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const worker of this.handles) void worker.terminate();
  }
}
