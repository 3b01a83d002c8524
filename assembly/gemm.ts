// Matrix multiply C[M,N] (+)= op(A)[M,K] · op(B)[K,N] on float32, with
// WebAssembly SIMD. All pointers are byte addresses; leading dimensions are
// in elements.
//
// op(B) is packed into panels of 8 columns (K×8 floats each, contiguous);
// a 4×8 register block (8 f32x4 accumulators) walks a panel with 4 splat
// loads of A and 2 vector loads of B per k. Rows that do not fill a block of
// 4 use a 1×24 kernel (3 panels side by side), the fast shape for
// matrix-vector products. Each C element is always summed in the same order
// (C, then k = 0, 1, …), whatever the blocking or the split across threads,
// so results do not depend on how the work is cut.

/** Rows of k packed at a time (a panel slice stays in L1). */
export const KC: i32 = 256;
/** Columns packed at a time. */
export const NC: i32 = 1024;
/** Rows of A walked against one packed block (A slice stays in L2). */
const MC: i32 = 128;

/** Floats a pack buffer for `gemm` needs: a KC×NC block of op(B), an MC×KC block of op(A). */
export function packSize(): i32 {
  return KC * NC + MC * KC;
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

/**
 * The panels of units j0 … j1-1 (multiples of 8) of each of `gates` gates of
 * H units: what one thread of a loop split by units reads every step, so it
 * packs them itself, into its own cache.
 */
export function packUnitPanels(transB: bool, b: usize, ldb: i32, K: i32, N: i32, dst: usize, gates: i32, H: i32, j0: i32, j1: i32): void {
  for (let g = 0; g < gates; g++) packPanels(transB, b, ldb, K, N, dst, (g * H + j0) >> 3, (g * H + j1) >> 3);
}

function packPlain(b: usize, ldb: i32, k0: i32, kb: i32, n0: i32, nb: i32, dst: usize, p0: i32, p1: i32): void {
  const panelBytes = <usize>kb << 5;
  const step = <usize>ldb << 2;
  for (let p = p0; p < p1; p++) {
    const cols = min<i32>(8, nb - (p << 3));
    let out = dst + <usize>p * panelBytes;
    let src = b + ((<usize>k0 * ldb + n0 + (p << 3)) << 2);
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

/**
 * acc + a·b. The FMA build (`--enable relaxed-simd`) fuses it into one
 * rounding where the hardware can; the plain build multiplies, then adds.
 * Either way every C element is summed in the same order.
 */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

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
    c00 = madd(av, b0, c00);
    c01 = madd(av, b1, c01);
    av = v128.load32_splat(a1);
    c10 = madd(av, b0, c10);
    c11 = madd(av, b1, c11);
    av = v128.load32_splat(a2);
    c20 = madd(av, b0, c20);
    c21 = madd(av, b1, c21);
    av = v128.load32_splat(a3);
    c30 = madd(av, b0, c30);
    c31 = madd(av, b1, c31);
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

/**
 * One row of C over 3 full panels (24 columns): C[1, 24] (+)= a[K] · panels.
 * Three panels, not four: V8 loads every B vector of a step before its
 * multiply-adds, and 8 accumulators + 8 loads + the splat are more than
 * the 16 vector registers, so a 1×32 kernel kept an accumulator on the
 * stack (measured: 26–30 GFLOP/s against 38–44 for 1×24 on one core).
 */
function kernel1x24(K: i32, a: usize, ks: usize, bp: usize, panelBytes: usize, c: usize, load: bool): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0);
  let s3 = f32x4.splat(0), s4 = f32x4.splat(0), s5 = f32x4.splat(0);
  if (load) {
    s0 = v128.load(c); s1 = v128.load(c, 16); s2 = v128.load(c, 32);
    s3 = v128.load(c, 48); s4 = v128.load(c, 64); s5 = v128.load(c, 80);
  }
  // One pointer walks panel 0; the others are fixed distances from it.
  const end = bp + (<usize>K << 5);
  const d1 = panelBytes, d2 = 2 * panelBytes;
  for (let p = bp; p < end; p += 32) {
    const av = v128.load32_splat(a);
    s0 = madd(av, v128.load(p), s0);
    s1 = madd(av, v128.load(p, 16), s1);
    s2 = madd(av, v128.load(p + d1), s2);
    s3 = madd(av, v128.load(p + d1, 16), s3);
    s4 = madd(av, v128.load(p + d2), s4);
    s5 = madd(av, v128.load(p + d2, 16), s5);
    a += ks;
  }
  v128.store(c, s0); v128.store(c, s1, 16); v128.store(c, s2, 32);
  v128.store(c, s3, 48); v128.store(c, s4, 64); v128.store(c, s5, 80);
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
    s0 = madd(av, v128.load(bp), s0);
    s1 = madd(av, v128.load(bp, 16), s1);
    a += ks;
    bp += 32;
  }
  storePart(c, s0, cols);
  storePart(c + 16, s1, cols - 4);
}

/**
 * C[4·nq rows, nb] (+)= A · packed for nq blocks of 4 rows: block q's row r,
 * step k is at a + q·qStride + r·rs + k·ks (bytes). Panels outer, row blocks
 * inner: the panel stays in L1 while the rows stream from L2.
 */
function rowBlocks(nq: i32, nb: i32, kb: i32, a: usize, qStride: usize, rs: usize, ks: usize,
                   packed: usize, c: usize, ldcBytes: usize, load: bool): void {
  const panelBytes = <usize>kb << 5;
  const panels = (nb + 7) >> 3;
  for (let p = 0; p < panels; p++) {
    const cols = min<i32>(8, nb - (p << 3));
    const bp = packed + <usize>p * panelBytes;
    for (let q = 0; q < nq; q++) {
      kernel4x8(kb, a + <usize>q * qStride, rs, ks, bp, c + (<usize>q << 2) * ldcBytes + (<usize>p << 5), ldcBytes, load, cols);
    }
  }
}

/** Single rows of C (fewer than 4 left): 24 columns per pass, then 8. */
function singleRows(rows: i32, nb: i32, kb: i32, a: usize, rs: usize, ks: usize, packed: usize, c: usize, ldcBytes: usize, load: bool): void {
  const panelBytes = <usize>kb << 5;
  const panels = (nb + 7) >> 3;
  const full = nb >> 3;
  for (let i = 0; i < rows; i++) {
    const ai = a + <usize>i * rs;
    const ci = c + <usize>i * ldcBytes;
    let p = 0;
    for (; p + 3 <= full; p += 3) kernel1x24(kb, ai, ks, packed + <usize>p * panelBytes, panelBytes, ci + (<usize>p << 5), load);
    for (; p < panels; p++) kernel1x8(kb, ai, ks, packed + <usize>p * panelBytes, ci + (<usize>p << 5), load, min<i32>(8, nb - (p << 3)));
  }
}

/**
 * C[mb, nb] (+)= A[mb, kb] · packed, where `packed` holds nb columns as
 * panels of kb×8. A's row r, step k is at a + r·rs + k·ks (bytes); C rows are
 * ldc elements apart. `load` adds into C (else C is overwritten).
 */
export function gemmPacked(mb: i32, nb: i32, kb: i32, a: usize, rs: usize, ks: usize, packed: usize, c: usize, ldc: i32, load: bool): void {
  const ldcBytes = <usize>ldc << 2;
  const m4 = mb & ~3;
  for (let ic = 0; ic < m4; ic += MC) {
    const nq = (min<i32>(m4, ic + MC) - ic) >> 2;
    rowBlocks(nq, nb, kb, a + <usize>ic * rs, rs << 2, rs, ks, packed, c + <usize>ic * ldcBytes, ldcBytes, load);
  }
  singleRows(mb - m4, nb, kb, a + <usize>m4 * rs, rs, ks, packed, c + <usize>m4 * ldcBytes, ldcBytes, load);
}

/**
 * Pack op(A) = Aᵀ rows i0 … i0+4·nq-1, steps k0 … k0+kb-1 (A[k·lda + i]) into
 * blocks of 4 rows: block q holds kb steps of 4 contiguous floats, so the
 * 4×8 kernel reads it sequentially instead of striding lda per step.
 */
function packTransposedA(a: usize, lda: i32, k0: i32, kb: i32, i0: i32, nq: i32, dst: usize): void {
  const row = <usize>lda << 2;
  for (let q = 0; q < nq; q++) {
    let src = a + ((<usize>k0 * lda + i0 + (q << 2)) << 2);
    let out = dst + <usize>q * (<usize>kb << 4);
    for (let k = 0; k < kb; k++) {
      v128.store(out, v128.load(src));
      out += 16;
      src += row;
    }
  }
}

/**
 * One row of C against op(B) read in place (no packing: for fewer than 4
 * rows, packing B would cost as much as the product). a: the row's first
 * element, ks bytes per k. Plain B (row k at b + k·ldb): 32, 8, 4 columns
 * per pass, then single ones. Transposed B (column j at b + j·ldb): dot
 * products, 4 columns at a time with 4 lanes of partial sums each.
 */
function rowTimesB(transB: bool, K: i32, a: usize, ks: usize, b: usize, ldb: i32, c: usize, nb: i32, addC: bool): void {
  const step = <usize>ldb << 2;
  let j = 0;
  if (!transB) {
    for (; j + 32 <= nb; j += 32) {
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      let s4 = f32x4.splat(0), s5 = f32x4.splat(0), s6 = f32x4.splat(0), s7 = f32x4.splat(0);
      const cj = c + (<usize>j << 2);
      if (addC) {
        s0 = v128.load(cj); s1 = v128.load(cj, 16); s2 = v128.load(cj, 32); s3 = v128.load(cj, 48);
        s4 = v128.load(cj, 64); s5 = v128.load(cj, 80); s6 = v128.load(cj, 96); s7 = v128.load(cj, 112);
      }
      let ak = a;
      let bk = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        const av = v128.load32_splat(ak);
        s0 = madd(av, v128.load(bk), s0);
        s1 = madd(av, v128.load(bk, 16), s1);
        s2 = madd(av, v128.load(bk, 32), s2);
        s3 = madd(av, v128.load(bk, 48), s3);
        s4 = madd(av, v128.load(bk, 64), s4);
        s5 = madd(av, v128.load(bk, 80), s5);
        s6 = madd(av, v128.load(bk, 96), s6);
        s7 = madd(av, v128.load(bk, 112), s7);
        ak += ks;
        bk += step;
      }
      v128.store(cj, s0); v128.store(cj, s1, 16); v128.store(cj, s2, 32); v128.store(cj, s3, 48);
      v128.store(cj, s4, 64); v128.store(cj, s5, 80); v128.store(cj, s6, 96); v128.store(cj, s7, 112);
    }
    for (; j + 4 <= nb; j += 4) {
      const cj = c + (<usize>j << 2);
      let s = addC ? v128.load(cj) : f32x4.splat(0);
      let ak = a;
      let bk = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        s = madd(v128.load32_splat(ak), v128.load(bk), s);
        ak += ks;
        bk += step;
      }
      v128.store(cj, s);
    }
    for (; j < nb; j++) {
      const cj = c + (<usize>j << 2);
      let s: f32 = addC ? load<f32>(cj) : 0;
      let ak = a;
      let bk = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        s += load<f32>(ak) * load<f32>(bk);
        ak += ks;
        bk += step;
      }
      store<f32>(cj, s);
    }
    return;
  }
  const k4 = K & ~3;
  for (; j < nb; j += 4) {
    const cols = min<i32>(4, nb - j);
    // Columns past nb reuse the last one (their sums are discarded).
    const b0 = b + <usize>j * step;
    const b1 = cols > 1 ? b0 + step : b0;
    const b2 = cols > 2 ? b1 + step : b1;
    const b3 = cols > 3 ? b2 + step : b2;
    let d0 = f32x4.splat(0), d1 = f32x4.splat(0), d2 = f32x4.splat(0), d3 = f32x4.splat(0);
    let ak = a;
    for (let k = 0; k < k4; k += 4) {
      // Four steps of a: one load when contiguous (ks = 4), gathered otherwise.
      let av: v128;
      if (ks == 4) av = v128.load(ak);
      else {
        av = v128.load32_zero(ak);
        av = v128.load_lane<f32>(ak + ks, av, 1);
        av = v128.load_lane<f32>(ak + 2 * ks, av, 2);
        av = v128.load_lane<f32>(ak + 3 * ks, av, 3);
      }
      const off = <usize>k << 2;
      d0 = madd(av, v128.load(b0 + off), d0);
      d1 = madd(av, v128.load(b1 + off), d1);
      d2 = madd(av, v128.load(b2 + off), d2);
      d3 = madd(av, v128.load(b3 + off), d3);
      ak += 4 * ks;
    }
    // Horizontal sums: lanes (0+1) + (2+3) of each column, then the k tail in order.
    let s0 = (f32x4.extract_lane(d0, 0) + f32x4.extract_lane(d0, 1)) + (f32x4.extract_lane(d0, 2) + f32x4.extract_lane(d0, 3));
    let s1 = (f32x4.extract_lane(d1, 0) + f32x4.extract_lane(d1, 1)) + (f32x4.extract_lane(d1, 2) + f32x4.extract_lane(d1, 3));
    let s2 = (f32x4.extract_lane(d2, 0) + f32x4.extract_lane(d2, 1)) + (f32x4.extract_lane(d2, 2) + f32x4.extract_lane(d2, 3));
    let s3 = (f32x4.extract_lane(d3, 0) + f32x4.extract_lane(d3, 1)) + (f32x4.extract_lane(d3, 2) + f32x4.extract_lane(d3, 3));
    for (let k = k4; k < K; k++) {
      const av = load<f32>(ak);
      const off = <usize>k << 2;
      s0 += av * load<f32>(b0 + off);
      s1 += av * load<f32>(b1 + off);
      s2 += av * load<f32>(b2 + off);
      s3 += av * load<f32>(b3 + off);
      ak += ks;
    }
    const cj = c + (<usize>j << 2);
    store<f32>(cj, addC ? load<f32>(cj) + s0 : s0);
    if (cols > 1) store<f32>(cj, addC ? load<f32>(cj, 4) + s1 : s1, 4);
    if (cols > 2) store<f32>(cj, addC ? load<f32>(cj, 8) + s2 : s2, 8);
    if (cols > 3) store<f32>(cj, addC ? load<f32>(cj, 12) + s3 : s3, 12);
  }
}

/**
 * The product of one recurrent step: C[rows, nb] (+)= A[rows, K] · op(W),
 * A's rows lda elements apart. W is either packed into panels (see packB),
 * or, for batches of fewer than 4 rows, read in place, W[j·ldw + k] when
 * transW else W[k·ldw + j] (packing would cost more than it saves there).
 * `w` points at column 0 of this product: see stepColumns.
 */
export function stepProduct(rows: i32, nb: i32, K: i32, a: usize, lda: i32, w: usize, ldw: i32,
                            inPlace: bool, transW: bool, c: usize, ldc: i32, addC: bool): void {
  if (!inPlace) {
    gemmPacked(rows, nb, K, a, <usize>lda << 2, 4, w, c, ldc, addC);
    return;
  }
  for (let i = 0; i < rows; i++) {
    rowTimesB(transW, K, a + ((<usize>i * lda) << 2), 4, w, ldw, c + ((<usize>i * ldc) << 2), nb, addC);
  }
}

/** Where column `col` of op(W) starts, for stepProduct (col a multiple of 8 when packed). */
// @ts-ignore: decorator
@inline export function stepColumns(w: usize, col: i32, K: i32, ldw: i32, inPlace: bool, transW: bool): usize {
  if (!inPlace) return w + <usize>(col >> 3) * (<usize>K << 5);
  return transW ? w + ((<usize>col * ldw) << 2) : w + (<usize>col << 2);
}

/**
 * The block C[m0:m1, n0:n1] of C[M,N] (+)= op(A)·op(B), packing op(B) (and
 * op(A) when transposed) into `pack` (packSize() floats, private to the
 * calling thread). Threads that share one product call this with disjoint
 * blocks.
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
  if (m1 - m0 < 4) {
    // Matrix-vector shapes: B in place, every column once per row.
    const bCols = transB ? b + <usize>n0 * (<usize>ldb << 2) : b + (<usize>n0 << 2);
    for (let i = m0; i < m1; i++) {
      rowTimesB(transB, K, a + <usize>i * rs, ks, bCols, ldb, c + <usize>i * ldcBytes + (<usize>n0 << 2), n1 - n0, accumulate);
    }
    return;
  }
  const packA = pack + (<usize>(KC * NC) << 2);
  // K in equal blocks of at most KC (K = 320: two of 160, not 256 and 64).
  const kBlocks = (K + KC - 1) / KC;
  const kStep = (K + kBlocks - 1) / kBlocks;
  for (let jc = n0; jc < n1; jc += NC) {
    const nb = min<i32>(NC, n1 - jc);
    const cBlock = c + (<usize>jc << 2);
    for (let pc = 0; pc < K; pc += kStep) {
      const kb = min<i32>(kStep, K - pc);
      const load = accumulate || pc > 0;
      packB(transB, b, ldb, pc, kb, jc, nb, pack);
      if (!transA) {
        gemmPacked(m1 - m0, nb, kb, a + <usize>m0 * rs + <usize>pc * ks, rs, ks, pack, cBlock + <usize>m0 * ldcBytes, ldc, load);
        continue;
      }
      for (let ic = m0; ic < m1; ic += MC) {
        const mb = min<i32>(MC, m1 - ic);
        const nq = mb >> 2;
        const cRows = cBlock + <usize>ic * ldcBytes;
        if (nq > 0) {
          packTransposedA(a, lda, pc, kb, ic, nq, packA);
          rowBlocks(nq, nb, kb, packA, <usize>kb << 4, 4, 16, pack, cRows, ldcBytes, load);
        }
        const i4 = ic + (nq << 2);
        singleRows(mb - (nq << 2), nb, kb, a + <usize>i4 * rs + <usize>pc * ks, rs, ks, pack, c + <usize>i4 * ldcBytes + (<usize>jc << 2), ldcBytes, load);
      }
    }
  }
}
