// Which backend runs the kernels. One default for the process; every module
// also takes a `backend` option.
//
// The default is the WebAssembly SIMD backend wherever SIMD works, with as
// many threads as the machine has cores (at most 8), else the reference
// backend. `LSTMKIT_BACKEND=wasm|reference|auto` and `LSTMKIT_THREADS=N`
// override it, and so do the options of createBackend / initBackend.
// getBackend() is synchronous (Node compiles the small module on the spot);
// browsers call `await initBackend()` first, which fetches it.

import { ValueError } from '../core/errors.js';
import type { Backend } from './backend.js';
import { ReferenceBackend } from './reference.js';
import { WasmBackend } from './wasm/backend.js';
import {
  loadModule, loadModuleSync, nodeBuiltin, sharedMemorySupported, simdSupported, type Flavor,
} from './wasm/module.js';

export type BackendName = 'wasm' | 'reference';

export interface BackendOptions {
  /** 'auto' (default): wasm where WebAssembly SIMD works, else reference. */
  backend?: BackendName | 'auto';
  /** Threads for the wasm backend, the calling one included (default: cores, at most 8). */
  threads?: number;
  /** Where to fetch the kernels from (initBackend in browsers); default: the package's dist/wasm/. */
  wasmUrl?: URL | string;
}

export interface BackendInfo {
  name: string;
  simd: boolean;
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

function resolve(opts: BackendOptions): { backend: BackendName | 'auto'; threads: number } {
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
  return { backend, threads: threads ?? defaultThreads() };
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
  const { backend, threads } = resolve(opts);
  fallback = undefined;
  if (backend === 'reference') return new ReferenceBackend('float32');
  let reason: string;
  if (!simdSupported()) reason = 'this JavaScript engine has no WebAssembly SIMD';
  else {
    const flavor = flavorFor(threads);
    try {
      const module = loadModuleSync(flavor);
      if (module) return new WasmBackend(module, flavor, { threads });
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
  const { backend, threads } = resolve(opts);
  if (backend !== 'reference' && simdSupported()) {
    const flavor = flavorFor(threads);
    try {
      const module = await loadModule(flavor, opts.wasmUrl);
      fallback = undefined;
      current = new WasmBackend(module, flavor, { threads });
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
  const info: BackendInfo = { name: backend.name, simd: backend instanceof WasmBackend, threads: backend.threads };
  if (backend === current && fallback !== undefined) info.fallback = fallback;
  return info;
}
