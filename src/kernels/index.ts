// Which backend runs the kernels. One default for the process; every module
// also takes a `backend` option.
//
// The default is the WebAssembly SIMD backend wherever SIMD works, with as
// many threads as the machine has cores (at most 8), else the reference
// backend. Where the engine runs relaxed SIMD (Node 22+, Chrome, Firefox;
// Node 20, whose V8 keeps it behind a flag that lstmkit sets for the
// process when it first makes a backend), the multiplies use fused multiply-add. `LSTMKIT_BACKEND=wasm|reference|auto`,
// `LSTMKIT_THREADS=N` and `LSTMKIT_FMA=0|1` override it, and so do the
// options of createBackend / initBackend.
// getBackend() is synchronous (Node compiles the small module on the spot);
// browsers call `await initBackend()` first, which fetches it.

import { ValueError } from '../core/errors.js';
import type { Backend } from './backend.js';
import { ReferenceBackend } from './reference.js';
import { WasmBackend } from './wasm/backend.js';
import {
  fmaSupported, loadModule, loadModuleSync, nodeBuiltin, sharedMemorySupported, simdSupported, wasmUrl, type Flavor,
} from './wasm/module.js';

export type BackendName = 'wasm' | 'reference';

export interface BackendOptions {
  /** 'auto' (default): wasm where WebAssembly SIMD works, else reference. */
  backend?: BackendName | 'auto';
  /** Threads for the wasm backend, the calling one included (default: cores, at most 8). */
  threads?: number;
  /**
   * Fused multiply-add kernels (the relaxed-SIMD build) where the engine runs
   * them (default true; LSTMKIT_FMA=0 turns them off). They are as exact as
   * the plain ones, but round differently, so a run is bit-for-bit
   * reproducible only on the same build.
   */
  fma?: boolean;
  /** Where to fetch the kernels from (initBackend in browsers); default: the package's dist/wasm/ (the plain build). */
  wasmUrl?: URL | string;
}

export interface BackendInfo {
  name: string;
  simd: boolean;
  /** The multiplies use fused multiply-add (relaxed SIMD). */
  fma: boolean;
  threads: number;
  /** Why the reference backend runs although wasm was allowed (auto). */
  fallback?: string;
}

let current: Backend | undefined;
let fallback: string | undefined;

function env(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const value = proc?.env?.[name];
  return value === undefined || value === '' ? undefined : value;
}

function resolve(opts: BackendOptions): { backend: BackendName | 'auto'; threads: number; fma: boolean } {
  const backend = opts.backend ?? env('LSTMKIT_BACKEND') ?? 'auto';
  if (backend !== 'auto' && backend !== 'wasm' && backend !== 'reference') {
    throw new ValueError(`LSTMKIT_BACKEND is "${backend}", expected wasm, reference or auto`);
  }
  let threads = opts.threads;
  const fromEnv = env('LSTMKIT_THREADS');
  if (threads === undefined && fromEnv !== undefined) {
    threads = Number(fromEnv);
    if (!Number.isInteger(threads) || threads < 1) throw new ValueError(`LSTMKIT_THREADS is "${fromEnv}", expected a positive integer`);
  }
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new ValueError(`threads must be a positive integer, got ${threads}`);
  }
  let fma = opts.fma;
  const fmaEnv = env('LSTMKIT_FMA');
  if (fma === undefined && fmaEnv !== undefined) {
    if (fmaEnv !== '0' && fmaEnv !== '1') throw new ValueError(`LSTMKIT_FMA is "${fmaEnv}", expected 0 or 1`);
    fma = fmaEnv === '1';
  }
  return { backend, threads: threads ?? defaultThreads(), fma: backend !== 'reference' && (fma ?? true) && fmaSupported() };
}

function defaultThreads(): number {
  const os = nodeBuiltin<{ availableParallelism?: () => number; cpus: () => unknown[] }>('node:os');
  const cores = os ? (os.availableParallelism?.() ?? os.cpus().length) : 1;
  return Math.max(1, Math.min(8, cores));
}

function flavorFor(threads: number): Flavor {
  return threads > 1 && sharedMemorySupported() ? 'shared' : 'single';
}

function explain(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A new backend, synchronously. With backend 'wasm' it throws when the wasm
 * backend cannot run here; with 'auto' it falls back to the reference one.
 */
export function createBackend(opts: BackendOptions = {}): Backend {
  const { backend, threads, fma } = resolve(opts);
  fallback = undefined;
  if (backend === 'reference') return new ReferenceBackend('float32');
  let reason: string;
  if (!simdSupported()) reason = 'this JavaScript engine has no WebAssembly SIMD';
  else {
    const flavor = flavorFor(threads);
    try {
      const module = loadModuleSync(flavor, fma);
      if (module) return new WasmBackend(module, flavor, { threads, fma });
      reason = 'the kernels can only be loaded asynchronously here: call initBackend() first';
    } catch (err) {
      reason = `the kernels did not load (${explain(err)}); run \`npm run build\``;
    }
  }
  if (backend === 'wasm') throw new ValueError(`wasm backend unavailable: ${reason}`);
  fallback = reason;
  return new ReferenceBackend('float32');
}

/**
 * Make the default backend, loading the kernels asynchronously where needed
 * (browsers), and return it. Later getBackend() calls return it.
 */
export async function initBackend(opts: BackendOptions = {}): Promise<Backend> {
  const { backend, threads, fma: fmaWanted } = resolve(opts);
  if (backend !== 'reference' && simdSupported()) {
    const flavor = flavorFor(threads);
    const fma = fmaWanted && opts.wasmUrl === undefined; // a given URL is loaded as it is
    try {
      const module = await loadModule(flavor, opts.wasmUrl ?? wasmUrl(flavor, fma));
      fallback = undefined;
      current = new WasmBackend(module, flavor, { threads, fma });
      return current;
    } catch (err) {
      if (backend === 'wasm') throw new ValueError(`wasm backend unavailable: the kernels did not load (${explain(err)})`);
    }
  }
  current = createBackend(opts);
  return current;
}

/** The default backend (created on first use). */
export function getBackend(): Backend {
  current ??= createBackend();
  return current;
}

export function setBackend(backend: Backend): void {
  current = backend;
  fallback = undefined;
}

/** What runs the kernels: for `lstmkit info` and bug reports. */
export function backendInfo(backend: Backend = getBackend()): BackendInfo {
  const wasm = backend instanceof WasmBackend;
  const info: BackendInfo = { name: backend.name, simd: wasm, fma: wasm && backend.fma, threads: backend.threads };
  if (backend === current && fallback !== undefined) info.fallback = fallback;
  return info;
}
