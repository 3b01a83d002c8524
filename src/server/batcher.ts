// Dynamic batching, as TensorFlow Serving and Triton do it: requests that
// arrive close together share one forward pass. A request waits at most
// `maxDelayMs` after the oldest waiting one arrived, or less when
// `maxBatchSize` sequences are waiting. The forward pass is synchronous
// (one model, one thread driving it), so requests that arrive while one runs
// join the next. The queue is bounded: past `maxQueue` waiting sequences a
// request is refused at once (the server answers 503 with Retry-After)
// instead of the queue, the memory and the latency growing without bound.
// Every request has a deadline and can be cancelled while it waits. Memory
// is bounded too: a pass holds at most `maxPassSteps` padded steps (sequences
// × the longest), and a request larger than that runs in several passes.

import { HttpError } from './errors.js';

export interface BatcherOptions {
  /** Gather requests into one forward pass (false: one request per pass, in arrival order). */
  batching: boolean;
  /** Sequences per forward pass at most (a single larger request still runs, alone). */
  maxBatchSize: number;
  /** How long the oldest waiting request may wait for others to join it. */
  maxDelayMs: number;
  /** Sequences waiting at most; more are refused. */
  maxQueue: number;
  /** A request not answered within this many milliseconds is dropped with a 504. */
  timeoutMs: number;
  /** Padded steps per pass at most: sequences × the longest one (default: no limit). */
  maxPassSteps?: number;
  /** Steps of one item (default 1). */
  steps?: (item: unknown) => number;
}

export interface BatchStats {
  /** Sequences in the pass. */
  size: number;
  /** Requests in the pass. */
  requests: number;
  /** Seconds the pass took. */
  seconds: number;
  /** Seconds each request of the pass waited in the queue (the first pass of a flush reports them). */
  waits: number[];
}

interface Pending<I, O> {
  items: I[];
  enqueued: number; // performance.now()
  resolve(out: O[]): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
  onAbort?: () => void;
  signal?: AbortSignal;
}

export class Batcher<I, O> {
  private readonly queue: Pending<I, O>[] = [];
  private waiting = 0; // sequences in the queue
  private timer: ReturnType<typeof setTimeout> | undefined;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private closed = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly run: (items: I[]) => O[],
    readonly options: BatcherOptions,
    private readonly onBatch: (stats: BatchStats) => void = () => {},
  ) {}

  /** Sequences waiting for a forward pass. */
  get queued(): number {
    return this.waiting;
  }

  /**
   * Queue `items` (one request's sequences); resolves with their outputs in
   * order. Rejects with an HttpError: 503 when the queue is full or the
   * batcher is closed, 504 past the deadline; 'cancelled' when `signal` aborts.
   */
  submit(items: I[], signal?: AbortSignal): Promise<O[]> {
    const o = this.options;
    if (this.closed) return Promise.reject(new HttpError(503, 'unavailable', 'the server is shutting down', undefined, 1));
    if (this.waiting + items.length > o.maxQueue) {
      const message = `the queue is full (${this.waiting} sequences waiting, at most ${o.maxQueue}); try again shortly`;
      return Promise.reject(new HttpError(503, 'resource_exhausted', message, undefined, 1));
    }
    if (signal?.aborted) return Promise.reject(new HttpError(499, 'cancelled', 'the client went away'));
    return new Promise<O[]>((resolve, reject) => {
      const entry: Pending<I, O> = {
        items, enqueued: performance.now(), resolve, reject,
        timer: setTimeout(() => {
          if (this.remove(entry)) reject(new HttpError(504, 'deadline_exceeded', `not answered within ${o.timeoutMs} ms (the server is busy)`));
        }, o.timeoutMs),
      };
      if (signal) {
        entry.signal = signal;
        entry.onAbort = () => {
          if (this.remove(entry)) reject(new HttpError(499, 'cancelled', 'the client went away'));
        };
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.queue.push(entry);
      this.waiting += items.length;
      this.schedule();
    });
  }

  /** Refuse new requests; those already queued are still answered. */
  close(): void {
    this.closed = true;
  }

  /** Resolves when nothing is waiting. */
  drained(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private remove(entry: Pending<I, O>): boolean {
    const at = this.queue.indexOf(entry);
    if (at < 0) return false;
    this.queue.splice(at, 1);
    this.waiting -= entry.items.length;
    this.settle(entry);
    if (this.queue.length === 0) this.becameIdle();
    return true;
  }

  private settle(entry: Pending<I, O>): void {
    clearTimeout(entry.timer);
    if (entry.onAbort) entry.signal!.removeEventListener('abort', entry.onAbort);
  }

  private becameIdle(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private schedule(): void {
    if (this.immediate || this.queue.length === 0) return;
    const o = this.options;
    const oldest = this.queue[0]!;
    const due = o.maxDelayMs - (performance.now() - oldest.enqueued);
    if (!o.batching || this.waiting >= o.maxBatchSize || due <= 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.immediate = setImmediate(() => this.flush());
    } else this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.schedule();
    }, due);
  }

  /** Forward passes over the requests at the head of the queue: one, unless the memory bound splits it. */
  private flush(): void {
    this.immediate = undefined;
    const o = this.options;
    const stepsOf = o.steps ?? (() => 1);
    const budget = o.maxPassSteps ?? Infinity;
    const taken: Pending<I, O>[] = [];
    let size = 0;
    let longest = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      const nextLongest = Math.max(longest, ...next.items.map(stepsOf));
      const nextSize = size + next.items.length;
      const full = !o.batching || nextSize > o.maxBatchSize || nextSize * nextLongest > budget;
      if (taken.length > 0 && full) break;
      taken.push(this.queue.shift()!);
      size += next.items.length;
      longest = nextLongest;
    }
    if (taken.length === 0) return;
    this.waiting -= size;
    const started = performance.now();
    let waits = taken.map((t) => (started - t.enqueued) / 1000);
    for (const t of taken) this.settle(t);
    const items = taken.flatMap((t) => t.items);
    const outputs: O[] = [];
    let failure: Error | undefined;
    try {
      // Consecutive chunks within the memory bound (one item always fits:
      // it was checked against the sequence-length limit).
      for (let start = 0; start < items.length;) {
        let end = start + 1;
        let chunkLongest = stepsOf(items[start]);
        while (end < items.length && (end + 1 - start) * Math.max(chunkLongest, stepsOf(items[end])) <= budget) {
          chunkLongest = Math.max(chunkLongest, stepsOf(items[end++]));
        }
        const passStarted = performance.now();
        const out = this.run(items.slice(start, end));
        if (out.length !== end - start) throw new Error(`the model returned ${out.length} outputs for ${end - start} inputs`);
        outputs.push(...out);
        const seconds = (performance.now() - passStarted) / 1000;
        this.onBatch({ size: end - start, requests: taken.length, seconds, waits });
        waits = [];
        start = end;
      }
    } catch (e) {
      failure = e instanceof Error ? e : new Error(String(e));
    }
    let at = 0;
    for (const t of taken) {
      if (failure) t.reject(failure);
      else t.resolve(outputs.slice(at, at + t.items.length));
      at += t.items.length;
    }
    if (this.queue.length === 0) this.becameIdle();
    else this.schedule();
  }
}

/**
 * A counting semaphore with a bounded, deadline-aware waiting line: for work
 * that cannot be batched (token-by-token generation), at most `slots` run at
 * once and at most `maxWaiting` wait.
 */
export class Slots<S> {
  private readonly free: S[];
  private readonly line: { grant(slot: S): void }[] = [];
  private busy = 0;
  private closed = false;
  private idle: (() => void)[] = [];

  constructor(slots: S[], private readonly maxWaiting: number) {
    this.free = [...slots];
  }

  get waiting(): number {
    return this.line.length;
  }

  get running(): number {
    return this.busy;
  }

  acquire(timeoutMs: number, signal?: AbortSignal): Promise<S> {
    if (this.closed) return Promise.reject(new HttpError(503, 'unavailable', 'the server is shutting down', undefined, 1));
    const slot = this.free.pop();
    if (slot !== undefined) {
      this.busy++;
      return Promise.resolve(slot);
    }
    if (this.line.length >= this.maxWaiting) {
      const message = `all generation slots are busy and ${this.line.length} requests wait (at most ${this.maxWaiting}); try again shortly`;
      return Promise.reject(new HttpError(503, 'resource_exhausted', message, undefined, 1));
    }
    return new Promise<S>((resolve, reject) => {
      const leave = (err: Error): void => {
        const at = this.line.indexOf(waiter);
        if (at < 0) return;
        this.line.splice(at, 1);
        done();
        reject(err);
      };
      const onAbort = (): void => leave(new HttpError(499, 'cancelled', 'the client went away'));
      const timer = setTimeout(() => leave(new HttpError(504, 'deadline_exceeded', `not started within ${timeoutMs} ms (the server is busy)`)), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter = {
        grant: (s: S) => {
          done();
          this.busy++;
          resolve(s);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.line.push(waiter);
    });
  }

  release(slot: S): void {
    this.busy--;
    const next = this.line.shift();
    if (next) next.grant(slot);
    else {
      this.free.push(slot);
      if (this.busy === 0) for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  close(): void {
    this.closed = true;
  }

  /** Resolves when nothing runs or waits. */
  drained(): Promise<void> {
    if (this.busy === 0 && this.line.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }
}
