// Matrix multiply C[M,N] (+)= op(A)[M,K] · op(B)[K,N] on float32, with
// WebAssembly SIMD. All pointers are byte addresses; leading dimensions are
// in elements.
//
// op(B) is packed into panels of 8 columns (K×8 floats each, contiguous);
// a 4×8 register block (8 f32x4 accumulators) walks a panel with 4 splat
// loads of A and 2 vector loads of B per k. Rows that do not fill a block of
// 4 use a 1×32 kernel (4 panels side by side), the fast shape for
// matrix-vector products. Each C element is always summed in the same order
// (C, then k = 0, 1, …), whatever the blocking or the split across threads,
// so results do not depend on how the work is cut.

/** Rows of k packed at a time (a panel slice stays in L1). */
export const KC: i32 = 256;
/** Columns packed at a time. */
export const NC: i32 = 1024;
/** Rows of A walked against one packed block (A slice stays in L2). */
const MC: i32 = 128;

/** Floats a pack buffer for `gemm` needs. */
export function packSize(): i32 {
  return KC * NC;
}

/** Floats the packed form of a K×N operand takes (N rounded up to 8). */
export function packedSize(K: i32, N: i32): i32 {
  return K * ((N + 7) & ~7);
}

// ---- packing ---------------------------------------------------------------

/**
 * Pack op(B)[k0:k0+kb, n0:n0+nb] into panels at `dst`: panel p holds columns
 * n0+8p … n0+8p+7 as kb rows of 8 floats (zero-padded past nb).
 * op(B)[k, j] = B[k·ldb + j], or B[j·ldb + k] when transB.
 */
export function packB(transB: bool, b: usize, ldb: i32, k0: i32, kb: i32, n0: i32, nb: i32, dst: usize): void {
  if (transB) packTransposed(b, ldb, k0, kb, n0, nb, dst, 0, (nb + 7) >> 3);
  else packPlain(b, ldb, k0, kb, n0, nb, dst, 0, (nb + 7) >> 3);
}

/** Panels p0 ≤ p < p1 only (threads can share the work of one packing). */
export function packPanels(transB: bool, b: usize, ldb: i32, K: i32, N: i32, dst: usize, p0: i32, p1: i32): void {
  if (transB) packTransposed(b, ldb, 0, K, 0, N, dst, p0, p1);
  else packPlain(b, ldb, 0, K, 0, N, dst, p0, p1);
}

function packPlain(b: usize, ldb: i32, k0: i32, kb: i32, n0: i32, nb: i32, dst: usize, p0: i32, p1: i32): void {
  const panelBytes = <usize>kb << 5;
  for (let p = p0; p < p1; p++) {
    const cols = min<i32>(8, nb - (p << 3));
    let out = dst + <usize>p * panelBytes;
    let src = b + ((<usize>k0 * ldb + n0 + (p << 3)) << 2);
    const step = <usize>ldb << 2;
    if (cols == 8) {
      for (let k = 0; k < kb; k++) {
        v128.store(out, v128.load(src));
        v128.store(out, v128.load(src, 16), 16);
        out += 32;
        src += step;
      }
    } else {
      for (let k = 0; k < kb; k++) {
        v128.store(out, f32x4.splat(0));
        v128.store(out, f32x4.splat(0), 16);
        for (let j = 0; j < cols; j++) store<f32>(out + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
        out += 32;
        src += step;
      }
    }
  }
}

// @ts-ignore: decorator
@inline function transpose4(r0: v128, r1: v128, r2: v128, r3: v128, out: usize, stride: usize): void {
  // Columns of the 4×4 block r0..r3 (rows) become rows written `stride` bytes apart.
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(out, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(out + stride, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(out + 2 * stride, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(out + 3 * stride, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

function packTransposed(b: usize, ldb: i32, k0: i32, kb: i32, n0: i32, nb: i32, dst: usize, p0: i32, p1: i32): void {
  const panelBytes = <usize>kb << 5;
  const row = <usize>ldb << 2;
  for (let p = p0; p < p1; p++) {
    const cols = min<i32>(8, nb - (p << 3));
    const out = dst + <usize>p * panelBytes;
    const src = b + ((<usize>(n0 + (p << 3)) * ldb + k0) << 2); // row j of B = column j of op(B)
    let k = 0;
    if (cols == 8) {
      for (; k + 4 <= kb; k += 4) {
        const s = src + (<usize>k << 2);
        const o = out + (<usize>k << 5);
        transpose4(v128.load(s), v128.load(s + row), v128.load(s + 2 * row), v128.load(s + 3 * row), o, 32);
        const s4 = s + 4 * row;
        transpose4(v128.load(s4), v128.load(s4 + row), v128.load(s4 + 2 * row), v128.load(s4 + 3 * row), o + 16, 32);
      }
    }
    for (; k < kb; k++) {
      const o = out + (<usize>k << 5);
      for (let j = 0; j < 8; j++) {
        store<f32>(o + (<usize>j << 2), j < cols ? load<f32>(src + <usize>j * row + (<usize>k << 2)) : 0);
      }
    }
  }
}

// ---- micro kernels ---------------------------------------------------------

// @ts-ignore: decorator
@inline function loadPart(c: usize, n: i32): v128 {
  if (n >= 4) return v128.load(c);
  let v = f32x4.splat(0);
  if (n > 0) v = v128.load_lane<f32>(c, v, 0);
  if (n > 1) v = v128.load_lane<f32>(c, v, 1, 4);
  if (n > 2) v = v128.load_lane<f32>(c, v, 2, 8);
  return v;
}

// @ts-ignore: decorator
@inline function storePart(c: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(c, v);
    return;
  }
  if (n > 0) v128.store_lane<f32>(c, v, 0);
  if (n > 1) v128.store_lane<f32>(c, v, 1, 4);
  if (n > 2) v128.store_lane<f32>(c, v, 2, 8);
}

/**
 * C[4 rows, cols ≤ 8] (+)= A[4 rows, K] · panel. Row r of A starts at a + r·rs
 * and advances ks bytes per k (rs = lda·4, ks = 4 plain; rs = 4, ks = lda·4
 * transposed).
 */
function kernel4x8(K: i32, a: usize, rs: usize, ks: usize, bp: usize, c: usize, ldc: usize, load: bool, cols: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
  if (load) {
    if (cols == 8) {
      c00 = v128.load(c); c01 = v128.load(c, 16);
      c10 = v128.load(c1); c11 = v128.load(c1, 16);
      c20 = v128.load(c2); c21 = v128.load(c2, 16);
      c30 = v128.load(c3); c31 = v128.load(c3, 16);
    } else {
      c00 = loadPart(c, cols); c01 = loadPart(c + 16, cols - 4);
      c10 = loadPart(c1, cols); c11 = loadPart(c1 + 16, cols - 4);
      c20 = loadPart(c2, cols); c21 = loadPart(c2 + 16, cols - 4);
      c30 = loadPart(c3, cols); c31 = loadPart(c3 + 16, cols - 4);
    }
  }
  let a0 = a, a1 = a + rs, a2 = a + 2 * rs, a3 = a + 3 * rs;
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let av = v128.load32_splat(a0);
    c00 = f32x4.add(c00, f32x4.mul(av, b0));
    c01 = f32x4.add(c01, f32x4.mul(av, b1));
    av = v128.load32_splat(a1);
    c10 = f32x4.add(c10, f32x4.mul(av, b0));
    c11 = f32x4.add(c11, f32x4.mul(av, b1));
    av = v128.load32_splat(a2);
    c20 = f32x4.add(c20, f32x4.mul(av, b0));
    c21 = f32x4.add(c21, f32x4.mul(av, b1));
    av = v128.load32_splat(a3);
    c30 = f32x4.add(c30, f32x4.mul(av, b0));
    c31 = f32x4.add(c31, f32x4.mul(av, b1));
    a0 += ks; a1 += ks; a2 += ks; a3 += ks;
    bp += 32;
  }
  if (cols == 8) {
    v128.store(c, c00); v128.store(c, c01, 16);
    v128.store(c1, c10); v128.store(c1, c11, 16);
    v128.store(c2, c20); v128.store(c2, c21, 16);
    v128.store(c3, c30); v128.store(c3, c31, 16);
  } else {
    storePart(c, c00, cols); storePart(c + 16, c01, cols - 4);
    storePart(c1, c10, cols); storePart(c1 + 16, c11, cols - 4);
    storePart(c2, c20, cols); storePart(c2 + 16, c21, cols - 4);
    storePart(c3, c30, cols); storePart(c3 + 16, c31, cols - 4);
  }
}

/** One row of C over 4 full panels (32 columns): C[1, 32] (+)= a[K] · panels. */
function kernel1x32(K: i32, a: usize, ks: usize, bp: usize, panelBytes: usize, c: usize, load: bool): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let s4 = f32x4.splat(0), s5 = f32x4.splat(0), s6 = f32x4.splat(0), s7 = f32x4.splat(0);
  if (load) {
    s0 = v128.load(c); s1 = v128.load(c, 16); s2 = v128.load(c, 32); s3 = v128.load(c, 48);
    s4 = v128.load(c, 64); s5 = v128.load(c, 80); s6 = v128.load(c, 96); s7 = v128.load(c, 112);
  }
  let p0 = bp, p1 = bp + panelBytes, p2 = p1 + panelBytes, p3 = p2 + panelBytes;
  for (let k = 0; k < K; k++) {
    const av = v128.load32_splat(a);
    s0 = f32x4.add(s0, f32x4.mul(av, v128.load(p0)));
    s1 = f32x4.add(s1, f32x4.mul(av, v128.load(p0, 16)));
    s2 = f32x4.add(s2, f32x4.mul(av, v128.load(p1)));
    s3 = f32x4.add(s3, f32x4.mul(av, v128.load(p1, 16)));
    s4 = f32x4.add(s4, f32x4.mul(av, v128.load(p2)));
    s5 = f32x4.add(s5, f32x4.mul(av, v128.load(p2, 16)));
    s6 = f32x4.add(s6, f32x4.mul(av, v128.load(p3)));
    s7 = f32x4.add(s7, f32x4.mul(av, v128.load(p3, 16)));
    a += ks;
    p0 += 32; p1 += 32; p2 += 32; p3 += 32;
  }
  v128.store(c, s0); v128.store(c, s1, 16); v128.store(c, s2, 32); v128.store(c, s3, 48);
  v128.store(c, s4, 64); v128.store(c, s5, 80); v128.store(c, s6, 96); v128.store(c, s7, 112);
}

/** One row of C over one panel: C[1, cols ≤ 8] (+)= a[K] · panel. */
function kernel1x8(K: i32, a: usize, ks: usize, bp: usize, c: usize, load: bool, cols: i32): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
  if (load) {
    s0 = loadPart(c, cols);
    s1 = loadPart(c + 16, cols - 4);
  }
  for (let k = 0; k < K; k++) {
    const av = v128.load32_splat(a);
    s0 = f32x4.add(s0, f32x4.mul(av, v128.load(bp)));
    s1 = f32x4.add(s1, f32x4.mul(av, v128.load(bp, 16)));
    a += ks;
    bp += 32;
  }
  storePart(c, s0, cols);
  storePart(c + 16, s1, cols - 4);
}

/**
 * C[mb, nb] (+)= A[mb, kb] · packed, where `packed` holds nb columns as
 * panels of kb×8. A's row r, step k is at a + r·rs + k·ks (bytes); C rows are
 * ldc elements apart. `load` adds into C (else C is overwritten).
 */
export function gemmPacked(mb: i32, nb: i32, kb: i32, a: usize, rs: usize, ks: usize, packed: usize, c: usize, ldc: i32, load: bool): void {
  const ldcBytes = <usize>ldc << 2;
  const panelBytes = <usize>kb << 5;
  const panels = (nb + 7) >> 3;
  const m4 = mb & ~3;
  for (let ic = 0; ic < m4; ic += MC) {
    const iEnd = min<i32>(m4, ic + MC);
    for (let p = 0; p < panels; p++) {
      const cols = min<i32>(8, nb - (p << 3));
      const bp = packed + <usize>p * panelBytes;
      for (let i = ic; i < iEnd; i += 4) {
        kernel4x8(kb, a + <usize>i * rs, rs, ks, bp, c + <usize>i * ldcBytes + (<usize>p << 5), ldcBytes, load, cols);
      }
    }
  }
  // Leftover rows (all of them when mb < 4): one row at a time, 32 columns per pass.
  const full = nb >> 3;
  for (let i = m4; i < mb; i++) {
    const ai = a + <usize>i * rs;
    const ci = c + <usize>i * ldcBytes;
    let p = 0;
    for (; p + 4 <= full; p += 4) kernel1x32(kb, ai, ks, packed + <usize>p * panelBytes, panelBytes, ci + (<usize>p << 5), load);
    for (; p < panels; p++) kernel1x8(kb, ai, ks, packed + <usize>p * panelBytes, ci + (<usize>p << 5), load, min<i32>(8, nb - (p << 3)));
  }
}

/**
 * The block C[m0:m1, n0:n1] of C[M,N] (+)= op(A)·op(B), packing op(B) into
 * `pack` (packSize() floats, private to the calling thread). Threads that
 * share one product call this with disjoint blocks.
 */
export function gemm(transA: bool, transB: bool, K: i32,
                     a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, accumulate: bool,
                     m0: i32, m1: i32, n0: i32, n1: i32, pack: usize): void {
  if (m1 <= m0 || n1 <= n0) return;
  const ldcBytes = <usize>ldc << 2;
  if (K == 0) {
    if (!accumulate) for (let i = m0; i < m1; i++) memory.fill(c + <usize>i * ldcBytes + (<usize>n0 << 2), 0, <usize>(n1 - n0) << 2);
    return;
  }
  const rs: usize = transA ? 4 : <usize>lda << 2;
  const ks: usize = transA ? <usize>lda << 2 : 4;
  for (let jc = n0; jc < n1; jc += NC) {
    const nb = min<i32>(NC, n1 - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kb = min<i32>(KC, K - pc);
      packB(transB, b, ldb, pc, kb, jc, nb, pack);
      gemmPacked(m1 - m0, nb, kb, a + <usize>m0 * rs + <usize>pc * ks, rs, ks, pack,
                 c + <usize>m0 * ldcBytes + (<usize>jc << 2), ldc, accumulate || pc > 0);
    }
  }
}
