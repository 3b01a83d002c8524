// A pool worker (Node worker_threads): instantiates the kernel module on the
// shared memory and runs the jobs the calling thread posts, on raw memory
// only. Started by pool.ts; never imported by the library itself.

import { workerData } from 'node:worker_threads';
import { POOL_KERNELS } from './module.js';
import { ARG_STRIDE, CTL_STRIDE, DONE, FAILED, READY, SEQ, SLEEPING, SPIN, STATE, type WorkerInit } from './protocol.js';

const init = workerData as WorkerInit;
const ctl = new Int32Array(init.control);
const args = new Float64Array(init.args);
const base = init.index * CTL_STRIDE;
const argBase = init.index * ARG_STRIDE;

type Kernel = (...a: number[]) => unknown;
let kernels: Kernel[];
try {
  const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
  kernels = POOL_KERNELS.map((name) => instance.exports[name] as Kernel);
  Atomics.store(ctl, base + STATE, READY);
} catch {
  kernels = [];
  Atomics.store(ctl, base + STATE, FAILED);
}
Atomics.notify(ctl, base + STATE);

let seen = 0;
const call: number[] = [];
for (;;) {
  let spins = 0;
  while (Atomics.load(ctl, base + SEQ) === seen) {
    if (++spins < SPIN) continue;
    Atomics.store(ctl, base + SLEEPING, 1);
    Atomics.wait(ctl, base + SEQ, seen);
    Atomics.store(ctl, base + SLEEPING, 0);
    spins = 0;
  }
  seen = Atomics.load(ctl, base + SEQ);
  const kernel = kernels[args[argBase]!];
  const count = args[argBase + 1]!;
  call.length = count;
  for (let i = 0; i < count; i++) call[i] = args[argBase + 2 + i]!;
  try {
    if (!kernel) throw new Error('no such kernel');
    kernel(...call);
  } catch {
    Atomics.store(ctl, base + STATE, FAILED);
  }
  Atomics.store(ctl, base + DONE, seen);
  Atomics.notify(ctl, base + DONE);
}
