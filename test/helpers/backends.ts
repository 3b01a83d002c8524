// Backends for tests. The suites under test/ use getBackend(), which honours
// LSTMKIT_BACKEND=wasm|reference and LSTMKIT_THREADS=N, so one command runs a
// whole suite on either backend:
//   LSTMKIT_BACKEND=reference node --test dist/test/
//   LSTMKIT_BACKEND=wasm LSTMKIT_THREADS=2 node --test dist/test/
// Kernel tests compare a wasm backend against the reference one buffer by
// buffer: `Twin` keeps the same data at (different) offsets in both arenas.

import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import type { Backend } from '../../src/kernels/backend.js';
import { createBackend } from '../../src/kernels/index.js';
import { ReferenceBackend } from '../../src/kernels/reference.js';
import { WasmBackend } from '../../src/kernels/wasm/backend.js';

const cache = new Map<string, WasmBackend>();

/**
 * A wasm backend with `threads` threads, shared by the tests of one file.
 * `split: true` lowers the parallel threshold to 1 so every kernel that can
 * split does, even on tiny sizes (the tails of the split are tested too).
 */
export function wasmBackend(threads: number, split = false): WasmBackend {
  const key = `${threads}:${split}`;
  let backend = cache.get(key);
  if (!backend) {
    if (split) {
      const base = wasmBackend(threads);
      backend = new WasmBackend(base.module, base.flavor, { threads, parallelThreshold: 1 });
    } else {
      const made = createBackend({ backend: 'wasm', threads });
      assert.ok(made instanceof WasmBackend, 'the wasm backend is available (npm run build compiles it)');
      backend = made;
    }
    cache.set(key, backend);
  }
  return backend;
}

/** The backends kernel tests run on: one thread, and two threads splitting everything. */
export function wasmVariants(): { label: string; backend: WasmBackend }[] {
  return [
    { label: '1 thread', backend: wasmBackend(1) },
    { label: '2 threads', backend: wasmBackend(2, true) },
  ];
}

/** A buffer living in both arenas. */
export interface TwinBuf {
  ref: number;
  fast: number;
  n: number;
}

/** The same buffers in a reference backend and a fast one. */
export class Twin {
  readonly ref = new ReferenceBackend('float32');
  constructor(readonly fast: Backend) {}

  /** A buffer holding `data` in both arenas. */
  put(data: ArrayLike<number>): TwinBuf {
    const n = data.length;
    const ref = this.ref.arena.alloc(n);
    const fast = this.fast.arena.alloc(n);
    this.ref.arena.heap.set(data, ref);
    this.fast.arena.heap.set(data, fast);
    return { ref, fast, n };
  }

  /** A buffer of n elements filled with garbage (kernels must overwrite what they own). */
  junk(n: number, value = Number.NaN): TwinBuf {
    return this.put(new Float32Array(n).fill(value));
  }

  read(buf: TwinBuf, start = 0, count = buf.n - start): { ref: Float32Array; fast: Float32Array } {
    return {
      ref: Float32Array.from(this.ref.arena.view(buf.ref + start, count)),
      fast: Float32Array.from(this.fast.arena.view(buf.fast + start, count)),
    };
  }

  /** Give every buffer back to both arenas. */
  release(...bufs: TwinBuf[]): void {
    for (const b of bufs) {
      this.ref.arena.release(b.ref);
      this.fast.arena.release(b.fast);
    }
  }
}

export function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.range(-scale, scale);
  return out;
}

/**
 * |actual - expected| ≤ atol + rtol·|expected| element-wise, or per-element
 * bounds; NaN matches NaN only. Names the worst element on failure.
 */
export function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string,
                           rtol: number, atol: number | ArrayLike<number>): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    const bound = (typeof atol === 'number' ? atol : atol[i]!) + rtol * Math.abs(e);
    const excess = Math.abs(a - e) - bound;
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) assert.fail(`${what}: [${worst}] is ${actual[worst]}, expected ${expected[worst]}`);
}

/** Exactly equal, bit for bit (NaN payloads aside). */
export function assertIdentical(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i]) && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) {
      assert.fail(`${what}: [${i}] is ${actual[i]}, expected exactly ${expected[i]}`);
    }
  }
}
