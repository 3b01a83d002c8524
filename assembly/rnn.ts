// Elman RNN (tanh or relu) over all time steps for batch rows b0 … b1-1.
// Layouts as in src/kernels/reference.ts:
//   saved: hprev [T,B,H] · h [T,B,H] (pre-activation in, h out)
//   scratch: dpre [T,B,H] · dh [B,H]
// The caller has put x·W_ihᵀ + b_ih + b_hh into the h block and packed W_hh.
// mask: recurrent dropout's [B, H] on h_{t-1} in W_hh·h (hprev holds it masked), or 0.

import { stepProduct, stepColumns } from './gemm';
import { vtanh, stanh } from './math';
import { el, row, active, activeEnd, zero, initRows, barrier, copyUnits, initUnits, maskUnits, maskActiveRows } from './rows';

function activate(H: i32, relu: bool, pre: usize, h: usize, y: usize): void {
  const zeros = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= H; j += 4) {
    const p = v128.load(el(pre, j));
    const v = relu ? v128.and(p, f32x4.gt(p, zeros)) : vtanh(p);
    v128.store(el(pre, j), v);
    v128.store(el(h, j), v);
    v128.store(el(y, j), v);
  }
  for (; j < H; j++) {
    const p = load<f32>(el(pre, j));
    const v: f32 = relu ? (p > 0 ? p : 0) : stanh(p);
    store<f32>(el(pre, j), v);
    store<f32>(el(h, j), v);
    store<f32>(el(y, j), v);
  }
}

/**
 * Forward for batch rows b0 … b1-1 and hidden units j0 … j1-1 (see
 * lstmForward for the two ways threads split the work). whh: W_hh packed as
 * op(B) of h·W_hhᵀ (K = H, N = H), packed or in place.
 */
export function rnnForward(T: i32, B: i32, H: i32, reverse: bool, relu: bool, lengths: usize, mask: usize,
                           saved: usize, y: usize, ldy: i32, h0: usize, hn: usize,
                           whh: usize, inPlace: bool, b0: i32, b1: i32, j0: i32, j1: i32, sync: usize, threads: i32): void {
  const TB = T * B;
  const hprev = saved;
  const hs = row(hprev, TB, H);
  const rows = b1 - b0;
  const units = j1 - j0;
  if (rows <= 0 || units <= 0) return;
  initUnits(hn, h0, H, b0, b1, j0, j1);
  for (let k = 0; k < T; k++) {
    const t = reverse ? T - 1 - k : k;
    const slab = t * B + b0;
    if (mask == 0) copyUnits(row(hprev, t * B, H), hn, H, b0, b1, j0, j1);
    else maskUnits(row(hprev, t * B, H), hn, mask, H, b0, b1, j0, j1);
    barrier(sync, threads * (k + 1));
    // Rows from `end` on have ended: no product (their h is zeroed below).
    const live = activeEnd(lengths, t, b0, b1) - b0;
    if (live > 0) {
      stepProduct(live, units, H, row(hprev, slab, H), H, stepColumns(whh, j0, H, H, inPlace, true), H, inPlace, true,
                  el(row(hs, slab, H), j0), H, true);
    }
    for (let b = b0; b < b1; b++) {
      const r = t * B + b;
      if (!active(lengths, b, t)) {
        zero(el(row(hs, r, H), j0), units);
        zero(el(row(y, r, ldy), j0), units);
        continue;
      }
      activate(units, relu, el(row(hs, r, H), j0), el(row(hn, b, H), j0), el(row(y, r, ldy), j0));
    }
  }
}

function derivative(H: i32, relu: bool, h: usize, dy: usize, dh: usize, dpre: usize): void {
  const one = f32x4.splat(1);
  const zeros = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= H; j += 4) {
    const dht = f32x4.add(v128.load(el(dh, j)), dy != 0 ? v128.load(el(dy, j)) : zeros);
    const v = v128.load(el(h, j));
    const d = relu ? v128.and(dht, f32x4.gt(v, zeros)) : f32x4.mul(dht, f32x4.sub(one, f32x4.mul(v, v)));
    v128.store(el(dpre, j), d);
  }
  for (; j < H; j++) {
    const dht = load<f32>(el(dh, j)) + (dy != 0 ? load<f32>(el(dy, j)) : <f32>0);
    const v = load<f32>(el(h, j));
    store<f32>(el(dpre, j), relu ? (v > 0 ? dht : 0) : dht * (1 - v * v));
  }
  zero(dh, H);
}

/** whh: W_hh as op(B) of dpre·W_hh (K = H, N = H), packed or in place. */
export function rnnBackward(T: i32, B: i32, H: i32, reverse: bool, relu: bool, lengths: usize, mask: usize,
                            saved: usize, dy: usize, ldy: i32, dhn: usize, scratch: usize,
                            whh: usize, inPlace: bool, b0: i32, b1: i32): void {
  const TB = T * B;
  const hs = row(saved, TB, H);
  const dpre = scratch;
  const dh = row(dpre, TB, H);
  const rows = b1 - b0;
  if (rows <= 0) return;
  initRows(dh, dhn, H, b0, b1);
  for (let k = T - 1; k >= 0; k--) {
    const t = reverse ? T - 1 - k : k;
    const slab = t * B + b0;
    for (let b = b0; b < b1; b++) {
      const r = t * B + b;
      if (!active(lengths, b, t)) {
        zero(row(dpre, r, H), H);
        continue;
      }
      derivative(H, relu, row(hs, r, H), dy != 0 ? row(dy, r, ldy) : 0, row(dh, b, H), row(dpre, r, H));
    }
    // Ended rows (from activeEnd on) have dpre = 0 (kept for dW): they would add nothing to dh.
    const live = activeEnd(lengths, t, b0, b1) - b0;
    if (live > 0) stepProduct(live, H, H, row(dpre, slab, H), H, whh, H, inPlace, false, row(dh, b0, H), H, true);
    if (mask != 0) maskActiveRows(dh, mask, H, lengths, t, b0, b1);
  }
}
