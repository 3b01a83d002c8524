// Small helpers shared by the recurrent kernels: byte arithmetic and the
// per-row bookkeeping of packed sequences.

/** Byte address of element i of the buffer at p. */
// @ts-ignore: decorator
@inline export function el(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** Byte address of row r (of `width` elements) of the buffer at p. */
// @ts-ignore: decorator
@inline export function row(p: usize, r: i32, width: i32): usize {
  return p + ((<usize>r * <usize>width) << 2);
}

/** Whether batch row b is still running at step t (lengths = 0: every row runs all steps). */
// @ts-ignore: decorator
@inline export function active(lengths: usize, b: i32, t: i32): bool {
  return lengths == 0 || t < load<i32>(lengths + (<usize>b << 2));
}

/**
 * One past the last of rows b0 … b1-1 still running at step t (b0 when none
 * is; b1 when lengths = 0): the rows a step's products need. Rows past it are
 * all inactive, so their products would only be discarded; rows before it
 * that are inactive are computed and discarded as before. Either direction:
 * a reversed packed sequence has the same rows active at step t.
 */
export function activeEnd(lengths: usize, t: i32, b0: i32, b1: i32): i32 {
  if (lengths == 0) return b1;
  let e = b1;
  while (e > b0 && load<i32>(lengths + (<usize>(e - 1) << 2)) <= t) e--;
  return e;
}

// @ts-ignore: decorator
@inline export function zero(p: usize, n: i32): void {
  memory.fill(p, 0, <usize>n << 2);
}

/** Rows b0 … b1-1 of a [B, width] state: copied from `src`, or zeros when src is 0. */
export function initRows(dst: usize, src: usize, width: i32, b0: i32, b1: i32): void {
  const bytes = (<usize>(b1 - b0) * <usize>width) << 2;
  if (src == 0) memory.fill(row(dst, b0, width), 0, bytes);
  else memory.copy(row(dst, b0, width), row(src, b0, width), bytes);
}

/** dst[b, :n] += src[b, :n] for rows b0 … b1-1 that are active at step t (rows ld elements apart in src). */
export function addActiveRows(dst: usize, ldDst: i32, src: usize, ldSrc: i32, n: i32, lengths: usize, t: i32, rowBase: i32, b0: i32, b1: i32): void {
  for (let b = b0; b < b1; b++) {
    if (!active(lengths, b, t)) continue;
    const d = row(dst, b, ldDst);
    const s = row(src, rowBase + b, ldSrc);
    let j = 0;
    for (; j + 4 <= n; j += 4) v128.store(el(d, j), f32x4.add(v128.load(el(d, j)), v128.load(el(s, j))));
    for (; j < n; j++) store<f32>(el(d, j), load<f32>(el(d, j)) + load<f32>(el(s, j)));
  }
}

/**
 * Polls of the barrier counter before sleeping on it: about 0.2 ms here
 * (3 ns a poll). A step takes about 10 µs, so a partner this late has lost
 * its core; but waking a thread that slept costs far more than a step on a
 * virtual machine, so 20,000 polls (6 µs) put one call in ten of batch-1
 * inference 0.4–3 ms behind (measured: 90th percentile 1.5–1.7 ms against
 * 1.19–1.21 with this many).
 */
const BARRIER_SPIN: i32 = 600000;

/**
 * Wait until `target` arrivals have been counted at `counter` (an i32 that
 * only grows during one call: step s of n threads waits for n·(s+1)). Only
 * the shared-memory build has threads; elsewhere this is a no-op.
 */
export function barrier(counter: usize, target: i32): void {
  if (ASC_FEATURE_THREADS) {
    if (counter == 0) return;
    atomic.add<i32>(counter, 1);
    atomic.notify(counter);
    let spins = 0;
    let seen = atomic.load<i32>(counter);
    while (seen < target) {
      if (++spins > BARRIER_SPIN) {
        atomic.wait<i32>(counter, seen, 1000000); // 1 ms, then look again
        spins = 0;
      }
      seen = atomic.load<i32>(counter);
    }
  }
}

/** dst[b, j0:j1] = src[b, j0:j1] for rows b0 … b1-1 of two [*, width] buffers. */
export function copyUnits(dst: usize, src: usize, width: i32, b0: i32, b1: i32, j0: i32, j1: i32): void {
  if (j0 == 0 && j1 == width) {
    memory.copy(row(dst, b0, width), row(src, b0, width), (<usize>(b1 - b0) * <usize>width) << 2);
    return;
  }
  for (let b = b0; b < b1; b++) memory.copy(el(row(dst, b, width), j0), el(row(src, b, width), j0), <usize>(j1 - j0) << 2);
}

/** Rows b0 … b1-1, columns j0 … j1-1 of a [B, width] state: from `src`, or zeros when src is 0. */
export function initUnits(dst: usize, src: usize, width: i32, b0: i32, b1: i32, j0: i32, j1: i32): void {
  if (src != 0) {
    copyUnits(dst, src, width, b0, b1, j0, j1);
    return;
  }
  for (let b = b0; b < b1; b++) memory.fill(el(row(dst, b, width), j0), 0, <usize>(j1 - j0) << 2);
}

// ---- recurrent dropout: a mask [B, width] on h_{t-1} where it feeds W_hh ----

/** dst[b, j0:j1] = src[b, j0:j1] ⊙ mask[b, j0:j1] for rows b0 … b1-1 of three [*, width] buffers. */
export function maskUnits(dst: usize, src: usize, mask: usize, width: i32, b0: i32, b1: i32, j0: i32, j1: i32): void {
  for (let b = b0; b < b1; b++) {
    const d = el(row(dst, b, width), j0);
    const s = el(row(src, b, width), j0);
    const m = el(row(mask, b, width), j0);
    const n = j1 - j0;
    let j = 0;
    for (; j + 4 <= n; j += 4) v128.store(el(d, j), f32x4.mul(v128.load(el(s, j)), v128.load(el(m, j))));
    for (; j < n; j++) store<f32>(el(d, j), load<f32>(el(s, j)) * load<f32>(el(m, j)));
  }
}

/**
 * dh[b, :n] ⊙= mask[b, :n] for rows b0 … b1-1 active at step t, whose dh is
 * just the gradient through W_hh (inactive rows pass theirs through).
 */
export function maskActiveRows(dh: usize, mask: usize, n: i32, lengths: usize, t: i32, b0: i32, b1: i32): void {
  for (let b = b0; b < b1; b++) {
    if (active(lengths, b, t)) maskUnits(dh, dh, mask, n, b, b + 1, 0, n);
  }
}

/** dh[b, :n] += mask[b, :n] ⊙ dw[b, :n] for rows b0 … b1-1 (three [*, n] buffers). */
export function addMaskedRows(dh: usize, mask: usize, dw: usize, n: i32, b0: i32, b1: i32): void {
  for (let b = b0; b < b1; b++) {
    const d = row(dh, b, n);
    const m = row(mask, b, n);
    const w = row(dw, b, n);
    let j = 0;
    for (; j + 4 <= n; j += 4) v128.store(el(d, j), f32x4.add(v128.load(el(d, j)), f32x4.mul(v128.load(el(m, j)), v128.load(el(w, j)))));
    for (; j < n; j++) store<f32>(el(d, j), load<f32>(el(d, j)) + load<f32>(el(m, j)) * load<f32>(el(w, j)));
  }
}
