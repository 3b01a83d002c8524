// Loading the compiled kernels (dist/wasm/*.wasm, built by
// scripts/build-wasm.mjs) and probing what this JavaScript engine supports.
// Nothing here imports a Node module statically, so browsers can load it.

/** The exports of assembly/index.ts. Pointers are byte addresses; `0` is "none". */
export interface Kernels {
  heapBase(): number;
  packSize(): number;
  packedSize(K: number, N: number): number;
  packPanels(transB: boolean, b: number, ldb: number, K: number, N: number, dst: number, p0: number, p1: number): void;
  packUnitPanels(transB: boolean, b: number, ldb: number, K: number, N: number, dst: number,
                 gates: number, H: number, j0: number, j1: number): void;
  gemm(transA: boolean, transB: boolean, K: number, a: number, lda: number, b: number, ldb: number,
       c: number, ldc: number, accumulate: boolean, m0: number, m1: number, n0: number, n1: number, pack: number): void;
  addBias(rows: number, cols: number, x: number, ld: number, bias: number, bias2: number): void;
  sumRows(rows: number, x: number, ld: number, out: number, out2: number, c0: number, c1: number, acc: number): void;
  copy(n: number, src: number, dst: number): void;
  fill(n: number, dst: number, value: number): void;
  mul(n: number, a: number, b: number, out: number): void;
  axpy(n: number, alpha: number, x: number, y: number): void;
  scale(n: number, x: number, alpha: number): void;
  sumSquares(n: number, x: number): number;
  clamp(n: number, x: number, limit: number): void;
  allFinite(n: number, x: number): number;
  softmaxCrossEntropy(rows: number, classes: number, logits: number, targets: number, probs: number,
                      dlogits: number, scale: number): number;
  attendForward(B: number, S: number, H: number, D: number, query: number, keys: number, values: number,
                lengths: number, weights: number, context: number): void;
  adam(n: number, param: number, grad: number, m: number, v: number, beta1: number, oneMinusBeta1: number,
       beta2: number, oneMinusBeta2: number, eps: number, weightDecay: number, decoupled: boolean, decay: number,
       stepSize: number, bc2Sqrt: number): void;
  lstmForward(T: number, B: number, H: number, O: number, reverse: boolean, lengths: number, mask: number, saved: number,
              y: number, ldy: number, h0: number, c0: number, hn: number, cn: number, whh: number, whr: number,
              inPlace: boolean, b0: number, b1: number, j0: number, j1: number, sync: number, threads: number): void;
  lstmBackward(T: number, B: number, H: number, O: number, reverse: boolean, lengths: number, mask: number, saved: number,
               dy: number, ldy: number, dhn: number, dcn: number, scratch: number, whh: number, whr: number,
               inPlace: boolean, b0: number, b1: number): void;
  gruForward(T: number, B: number, H: number, reverse: boolean, lengths: number, mask: number, saved: number, y: number, ldy: number,
             h0: number, hn: number, whh: number, bhh: number, inPlace: boolean, b0: number, b1: number,
             j0: number, j1: number, sync: number, threads: number): void;
  gruBackward(T: number, B: number, H: number, reverse: boolean, lengths: number, mask: number, saved: number,
              dy: number, ldy: number, dhn: number, scratch: number, whh: number,
              inPlace: boolean, b0: number, b1: number): void;
  rnnForward(T: number, B: number, H: number, reverse: boolean, relu: boolean, lengths: number, mask: number, saved: number,
             y: number, ldy: number, h0: number, hn: number, whh: number, inPlace: boolean, b0: number, b1: number,
             j0: number, j1: number, sync: number, threads: number): void;
  rnnBackward(T: number, B: number, H: number, reverse: boolean, relu: boolean, lengths: number, mask: number, saved: number,
              dy: number, ldy: number, dhn: number, scratch: number, whh: number,
              inPlace: boolean, b0: number, b1: number): void;
  expf32(x: number): number;
  sigmoidf32(x: number): number;
  tanhf32(x: number): number;
  sigmoidVec(n: number, src: number, dst: number): void;
  tanhVec(n: number, src: number, dst: number): void;
}

/** Kernels a worker can be asked to run, by index (the pool's wire format). */
export const POOL_KERNELS = [
  'gemm', 'packPanels', 'packUnitPanels', 'sumRows', 'adam',
  'lstmForward', 'lstmBackward', 'gruForward', 'gruBackward', 'rnnForward', 'rnnBackward',
] as const satisfies readonly (keyof Kernels)[];
export type PoolKernel = (typeof POOL_KERNELS)[number];

/** Largest memory the shared build declares (wasm32: 4 GiB). */
export const MAX_PAGES = 65536;

/** Which build: `shared` imports a shared memory (threads), `single` a plain one. */
export type Flavor = 'shared' | 'single';

const FILES: Record<Flavor, string> = { shared: 'lstmkit', single: 'lstmkit-single' };

/**
 * Where the build puts a flavor, relative to this file (dist/src/kernels/wasm/ → dist/wasm/);
 * `fma`: its relaxed-SIMD twin, whose multiplies use fused multiply-add.
 */
export function wasmUrl(flavor: Flavor, fma = false): URL {
  return new URL(`../../../wasm/${FILES[flavor]}${fma ? '-fma' : ''}.wasm`, import.meta.url);
}

/**
 * tfjs's probe: a function returning `i8x16.popcnt(i8x16.splat(0))`. Engines
 * without SIMD reject the module.
 */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

export function simdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/**
 * A function returning `f32x4.relaxed_madd` of three zero vectors. Engines
 * without relaxed SIMD (Safari; Node 20 unless run with
 * --experimental-wasm-relaxed-simd) reject the module.
 */
const FMA_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 133, 2, 11,
]);

function validatesFma(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(FMA_PROBE);
  } catch {
    return false;
  }
}

let fma: boolean | undefined;

/**
 * True where the relaxed-SIMD build runs. Node 20's V8 has relaxed SIMD
 * behind a flag (Node 22 and current browsers run it by default): the first
 * call sets that flag for the process. It only lets modules that use the
 * relaxed instructions validate; nothing else changes.
 */
export function fmaSupported(): boolean {
  if (fma !== undefined) return fma;
  fma = validatesFma();
  if (!fma) {
    const v8 = nodeBuiltin<{ setFlagsFromString(flags: string): void }>('node:v8');
    if (v8) {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      fma = validatesFma();
    }
  }
  return fma;
}

/** True where workers can share a WebAssembly.Memory (Node; cross-origin isolated browsers). */
export function sharedMemorySupported(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  const g = globalThis as { crossOriginIsolated?: boolean };
  if (g.crossOriginIsolated === false) return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

interface NodeFs {
  readFileSync(path: URL): Uint8Array<ArrayBuffer>;
}

/** Node's built-in modules without a static import (Node ≥ 20.16). */
export function nodeBuiltin<T>(name: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return proc?.getBuiltinModule?.(name) as T | undefined;
}

/** Compiled modules by file. */
const compiled = new Map<string, WebAssembly.Module>();

/** The compiled module, synchronously (Node only); undefined where that is impossible. */
export function loadModuleSync(flavor: Flavor, fma = false): WebAssembly.Module | undefined {
  const url = wasmUrl(flavor, fma);
  const cached = compiled.get(url.href);
  if (cached) return cached;
  const fs = nodeBuiltin<NodeFs>('node:fs');
  if (!fs) return undefined;
  const module = new WebAssembly.Module(fs.readFileSync(url));
  compiled.set(url.href, module);
  return module;
}

/** The compiled module, asynchronously: fetch in browsers, the file system in Node. */
export async function loadModule(flavor: Flavor, url: URL | string = wasmUrl(flavor)): Promise<WebAssembly.Module> {
  const key = typeof url === 'string' ? new URL(url, import.meta.url).href : url.href;
  const cached = compiled.get(key);
  if (cached) return cached;
  let module: WebAssembly.Module;
  const fs = nodeBuiltin<NodeFs>('node:fs');
  const target = typeof url === 'string' ? new URL(url, import.meta.url) : url;
  if (fs && target.protocol === 'file:') module = new WebAssembly.Module(fs.readFileSync(target));
  else {
    const response = await fetch(target);
    if (!response.ok) throw new Error(`lstmkit: cannot load ${target.href}: HTTP ${response.status}`);
    module = await WebAssembly.compile(await response.arrayBuffer());
  }
  compiled.set(key, module);
  return module;
}
