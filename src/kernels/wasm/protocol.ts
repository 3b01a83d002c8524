// The wire between the calling thread and its workers: one Int32Array of
// control words and one Float64Array of arguments, both shared. Counters
// only ever increase, so a wake-up cannot be lost: a worker waits for its
// `seq` word to move past the last job it ran, the caller for `done` to
// reach the job it posted.

/** Int32 words per worker in the control block (64 bytes: no false sharing). */
export const CTL_STRIDE = 16;
/** Job counter, bumped by the caller to post a job. */
export const SEQ = 0;
/** Last job finished, written by the worker. */
export const DONE = 1;
/** Worker state: STARTING, READY, FAILED. */
export const STATE = 2;
/** 1 while the worker sleeps in Atomics.wait (the caller must notify). */
export const SLEEPING = 3;

export const STARTING = 0;
export const READY = 1;
export const FAILED = 2;

/** Float64 words per worker in the argument block: kernel index, argument count, arguments. */
export const ARG_STRIDE = 64;

/**
 * Polls of a control word before sleeping in Atomics.wait: a few tens of
 * microseconds, enough to catch the next job of a training step without a
 * system call, short enough not to steal a shared core for long.
 */
export const SPIN = 20000;

export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  args: SharedArrayBuffer;
  index: number;
}
