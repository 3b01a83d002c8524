// The wasm gemm against the reference one: every transpose case, with and
// without accumulation, on sizes that run several SIMD passes and leave tails
// (and past the KC = 256, NC = 1024 packing blocks), strided operands, on one
// thread and on two threads splitting by rows or by column panels.

import { test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { Twin, assertNear, randomArray, wasmVariants } from '../helpers/backends.js';

const SIZES = [1, 3, 4, 5, 8, 13, 17, 33, 67];

/** One product on both backends; the tolerance is per element, from Σ|a·b|. */
function checkGemm(twin: Twin, rng: Rng, transA: boolean, transB: boolean, M: number, N: number, K: number,
                   accumulate: boolean, pad: number, what: string): void {
  // Leading dimensions with `pad` extra columns: a kernel that ignores them fails.
  const lda = (transA ? M : K) + pad;
  const ldb = (transB ? K : N) + pad;
  const ldc = N + pad;
  const aRows = transA ? K : M;
  const bRows = transB ? N : K;
  const A = randomArray(rng, aRows * lda);
  const B = randomArray(rng, bRows * ldb);
  const C = randomArray(rng, M * ldc);
  const a = twin.put(A);
  const b = twin.put(B);
  const c = twin.put(C);
  twin.ref.gemm(transA, transB, M, N, K, a.ref, lda, b.ref, ldb, c.ref, ldc, accumulate);
  twin.fast.gemm(transA, transB, M, N, K, a.fast, lda, b.fast, ldb, c.fast, ldc, accumulate);
  // Error bound: float32 rounding of a length-K sum, relative to Σ|terms|.
  const absA = twin.put(A.map(Math.abs));
  const absB = twin.put(B.map(Math.abs));
  const bound = twin.put(C.map(Math.abs));
  twin.ref.gemm(transA, transB, M, N, K, absA.ref, lda, absB.ref, ldb, bound.ref, ldc, accumulate);
  const scale = twin.read(bound).ref.map((v) => 1e-6 + 2e-7 * (K + 2) * v);
  const out = twin.read(c);
  assertNear(out.fast, out.ref, what, 0, scale);
  twin.release(a, b, c, absA, absB, bound);
}

for (const { label, backend } of wasmVariants()) {
  test(`gemm: all transposes and odd sizes, ${label}`, () => {
    const twin = new Twin(backend);
    const rng = new Rng(7);
    for (const M of SIZES) for (const N of SIZES) for (const K of SIZES) {
      for (const transA of [false, true]) for (const transB of [false, true]) {
        const accumulate = (M + N + K) % 2 === 0;
        const pad = (M * N + K) % 3;
        checkGemm(twin, rng, transA, transB, M, N, K, accumulate,
          pad, `${M}x${N}x${K} transA=${transA} transB=${transB} acc=${accumulate}`);
      }
    }
  });

  test(`gemm: accumulate on and off, ${label}`, () => {
    const twin = new Twin(backend);
    const rng = new Rng(8);
    for (const [M, N, K] of [[5, 13, 17], [17, 33, 4], [4, 8, 67], [1, 67, 33]] as const) {
      for (const transA of [false, true]) for (const transB of [false, true]) for (const accumulate of [false, true]) {
        checkGemm(twin, rng, transA, transB, M, N, K, accumulate, 1, `${M}x${N}x${K} ${transA}/${transB} acc=${accumulate}`);
      }
    }
  });

  test(`gemm: large shapes across packing blocks and thread splits, ${label}`, () => {
    const twin = new Twin(backend);
    const rng = new Rng(9);
    const shapes = [
      [64, 1030, 70], [70, 90, 600], [3, 2100, 259], [130, 17, 257], [2, 300, 1030], [33, 1025, 5],
    ] as const;
    for (const [M, N, K] of shapes) {
      for (const transA of [false, true]) for (const transB of [false, true]) {
        checkGemm(twin, rng, transA, transB, M, N, K, transA !== transB, 0, `${M}x${N}x${K} ${transA}/${transB}`);
      }
    }
  });

  test(`gemm: K = 0 and empty products, ${label}`, () => {
    const twin = new Twin(backend);
    const rng = new Rng(10);
    for (const accumulate of [false, true]) {
      checkGemm(twin, rng, false, true, 5, 9, 0, accumulate, 0, `K=0 acc=${accumulate}`);
      checkGemm(twin, rng, true, false, 0, 9, 4, accumulate, 0, `M=0 acc=${accumulate}`);
      checkGemm(twin, rng, true, false, 3, 0, 4, accumulate, 0, `N=0 acc=${accumulate}`);
    }
  });
}
