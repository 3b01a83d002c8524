// LSTM over all time steps for batch rows b0 … b1-1: the whole loop runs here.
// Layouts are those of the reference backend (src/kernels/reference.ts):
//   saved: gates [T,B,4H] (activated i,f,g,o) · hprev [T,B,O] · cprev [T,B,H] · c [T,B,H] · r [T,B,H]
//   scratch: dgates [T,B,4H] · dh [B,O] · dc [B,H] · dr [B,H] · dhs [T,B,O]
// Before the loop the caller has put x·W_ihᵀ + b_ih + b_hh into gates and
// packed the recurrent weights (see gemm.ts). Pointers are bytes; 0 = none.
// mask: recurrent dropout's [B, O] on h_{t-1} in W_hh·h (hprev holds it masked), or 0.

import { stepProduct, stepColumns } from './gemm';
import { vsigmoid, vtanh, ssigmoid, stanh } from './math';
import { el, row, active, activeEnd, zero, initRows, addActiveRows, barrier, copyUnits, initUnits, maskUnits, maskActiveRows } from './rows';

/**
 * Units j0 … j1-1 of one row of gates (g points at gate i of unit j0; f, g, o
 * follow H floats apart): activate in place, c = f⊙c + i⊙g, r = o⊙tanh(c).
 * Writes c to cOut and cState, r to rOut (and hOut unless 0).
 */
function cellForward(n: i32, H: i32, g: usize, cState: usize, cOut: usize, rOut: usize, hOut: usize): void {
  const gf = el(g, H), gg = el(g, 2 * H), go = el(g, 3 * H);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const i = vsigmoid(v128.load(el(g, j)));
    const f = vsigmoid(v128.load(el(gf, j)));
    const c0 = vtanh(v128.load(el(gg, j)));
    const o = vsigmoid(v128.load(el(go, j)));
    v128.store(el(g, j), i);
    v128.store(el(gf, j), f);
    v128.store(el(gg, j), c0);
    v128.store(el(go, j), o);
    const c = f32x4.add(f32x4.mul(f, v128.load(el(cState, j))), f32x4.mul(i, c0));
    v128.store(el(cOut, j), c);
    v128.store(el(cState, j), c);
    const r = f32x4.mul(o, vtanh(c));
    v128.store(el(rOut, j), r);
    if (hOut != 0) v128.store(el(hOut, j), r);
  }
  for (; j < n; j++) {
    const i = ssigmoid(load<f32>(el(g, j)));
    const f = ssigmoid(load<f32>(el(gf, j)));
    const c0 = stanh(load<f32>(el(gg, j)));
    const o = ssigmoid(load<f32>(el(go, j)));
    store<f32>(el(g, j), i);
    store<f32>(el(gf, j), f);
    store<f32>(el(gg, j), c0);
    store<f32>(el(go, j), o);
    const c = f * load<f32>(el(cState, j)) + i * c0;
    store<f32>(el(cOut, j), c);
    store<f32>(el(cState, j), c);
    const r = o * stanh(c);
    store<f32>(el(rOut, j), r);
    if (hOut != 0) store<f32>(el(hOut, j), r);
  }
}

/**
 * Forward over all steps for batch rows b0 … b1-1 and hidden units j0 … j1-1.
 * whh: W_hh as op(B) of h·W_hhᵀ (K = O, N = 4H); whr: W_hr likewise (K = H,
 * N = O), or 0; both packed, or in place (see stepProduct). Threads split either the batch (whole
 * sequences, no synchronisation) or, for small batches, the hidden units:
 * then each step starts with a barrier on `sync` (0: none) among `threads`,
 * units are multiples of 8 (whole panels of every gate), and there is no
 * projection. Each step reads h from hprev[t], its saved copy, so a thread
 * may write its units of the next h while others still read this one.
 */
export function lstmForward(T: i32, B: i32, H: i32, O: i32, reverse: bool, lengths: usize, mask: usize,
                            saved: usize, y: usize, ldy: i32, h0: usize, c0: usize, hn: usize, cn: usize,
                            whh: usize, whr: usize, inPlace: bool, b0: i32, b1: i32, j0: i32, j1: i32, sync: usize, threads: i32): void {
  const G = 4 * H;
  const TB = T * B;
  const gates = saved;
  const hprev = row(gates, TB, G);
  const cprev = row(hprev, TB, O);
  const cs = row(cprev, TB, H);
  const rs = row(cs, TB, H);
  const proj = whr != 0;
  const rows = b1 - b0;
  const units = j1 - j0;
  if (rows <= 0 || units <= 0) return;
  const oJ0 = proj ? 0 : j0, oJ1 = proj ? O : j1; // columns of h this thread owns
  initUnits(hn, h0, O, b0, b1, oJ0, oJ1);
  initUnits(cn, c0, H, b0, b1, j0, j1);
  for (let k = 0; k < T; k++) {
    const t = reverse ? T - 1 - k : k;
    const slab = t * B + b0; // first row of this thread's part of step t
    if (mask == 0) copyUnits(row(hprev, t * B, O), hn, O, b0, b1, oJ0, oJ1);
    else maskUnits(row(hprev, t * B, O), hn, mask, O, b0, b1, oJ0, oJ1);
    copyUnits(row(cprev, t * B, H), cn, H, b0, b1, j0, j1);
    barrier(sync, threads * (k + 1));
    // Rows from `end` on have ended: no product (their gates are zeroed below).
    const end = activeEnd(lengths, t, b0, b1);
    const live = end - b0;
    const h = row(hprev, slab, O);
    if (live > 0) {
      if (units == H) stepProduct(live, G, O, h, O, whh, O, inPlace, true, row(gates, slab, G), G, true);
      else {
        for (let gate = 0; gate < 4; gate++) {
          const col = gate * H + j0; // a multiple of 8: whole panels
          stepProduct(live, units, O, h, O, stepColumns(whh, col, O, O, inPlace, true), O, inPlace, true, el(row(gates, slab, G), col), G, true);
        }
      }
    }
    for (let b = b0; b < b1; b++) {
      const r = t * B + b;
      const g = row(gates, r, G);
      if (!active(lengths, b, t)) {
        memory.copy(el(row(cs, r, H), j0), el(row(cn, b, H), j0), <usize>units << 2);
        for (let gate = 0; gate < 4; gate++) zero(el(g, gate * H + j0), units);
        if (proj) zero(row(rs, r, H), H);
        else zero(el(row(y, r, ldy), j0), units);
        continue;
      }
      if (proj) cellForward(H, H, g, row(cn, b, H), row(cs, r, H), row(rs, r, H), 0);
      else cellForward(units, H, el(g, j0), el(row(cn, b, H), j0), el(row(cs, r, H), j0), el(row(y, r, ldy), j0), el(row(hn, b, O), j0));
    }
    if (proj) {
      // h = r·W_hrᵀ for the step; inactive rows have r = 0 (so y = 0) and keep their h.
      if (live > 0) stepProduct(live, O, H, row(rs, slab, H), H, whr, H, inPlace, true, row(y, slab, ldy), ldy, false);
      for (let b = end; b < b1; b++) zero(row(y, t * B + b, ldy), O);
      for (let b = b0; b < b1; b++) {
        if (active(lengths, b, t)) memory.copy(row(hn, b, O), row(y, t * B + b, ldy), <usize>O << 2);
      }
    }
  }
}

/** One row of the backward pointwise step. dR: gradient w.r.t. r = o⊙tanh(c); dc is updated in place. */
function cellBackward(H: i32, g: usize, cPrev: usize, c: usize, dR: usize, dc: usize, dg: usize): void {
  const gf = el(g, H), gg = el(g, 2 * H), go = el(g, 3 * H);
  const df = el(dg, H), dn = el(dg, 2 * H), dout = el(dg, 3 * H);
  const one = f32x4.splat(1);
  let j = 0;
  for (; j + 4 <= H; j += 4) {
    const i = v128.load(el(g, j));
    const f = v128.load(el(gf, j));
    const n = v128.load(el(gg, j));
    const o = v128.load(el(go, j));
    const tc = vtanh(v128.load(el(c, j)));
    const dr = v128.load(el(dR, j));
    const dO = f32x4.mul(dr, tc);
    const dC = f32x4.add(v128.load(el(dc, j)), f32x4.mul(f32x4.mul(dr, o), f32x4.sub(one, f32x4.mul(tc, tc))));
    v128.store(el(dg, j), f32x4.mul(f32x4.mul(dC, n), f32x4.mul(i, f32x4.sub(one, i))));
    v128.store(el(df, j), f32x4.mul(f32x4.mul(dC, v128.load(el(cPrev, j))), f32x4.mul(f, f32x4.sub(one, f))));
    v128.store(el(dn, j), f32x4.mul(f32x4.mul(dC, i), f32x4.sub(one, f32x4.mul(n, n))));
    v128.store(el(dout, j), f32x4.mul(dO, f32x4.mul(o, f32x4.sub(one, o))));
    v128.store(el(dc, j), f32x4.mul(dC, f));
  }
  for (; j < H; j++) {
    const i = load<f32>(el(g, j));
    const f = load<f32>(el(gf, j));
    const n = load<f32>(el(gg, j));
    const o = load<f32>(el(go, j));
    const tc = stanh(load<f32>(el(c, j)));
    const dr = load<f32>(el(dR, j));
    const dO = dr * tc;
    const dC = load<f32>(el(dc, j)) + (dr * o) * (1 - tc * tc);
    store<f32>(el(dg, j), (dC * n) * (i * (1 - i)));
    store<f32>(el(df, j), (dC * load<f32>(el(cPrev, j))) * (f * (1 - f)));
    store<f32>(el(dn, j), (dC * i) * (1 - n * n));
    store<f32>(el(dout, j), dO * (o * (1 - o)));
    store<f32>(el(dc, j), dC * f);
  }
}

/**
 * Back-propagation through time for rows b0 … b1-1, leaving dgates [T,B,4H]
 * (and dhs when projected) for the weight-gradient multiplies after it, and
 * the gradients w.r.t. the initial state in dh, dc. whh: W_hh as op(B) of
 * dgates·W_hh (K = 4H, N = O); whr: W_hr for dhs·W_hr (K = O, N = H); packed
 * or in place (see stepProduct).
 */
export function lstmBackward(T: i32, B: i32, H: i32, O: i32, reverse: bool, lengths: usize, mask: usize,
                             saved: usize, dy: usize, ldy: i32, dhn: usize, dcn: usize, scratch: usize,
                             whh: usize, whr: usize, inPlace: bool, b0: i32, b1: i32): void {
  const G = 4 * H;
  const TB = T * B;
  const gates = saved;
  const hprev = row(gates, TB, G);
  const cprev = row(hprev, TB, O);
  const cs = row(cprev, TB, H);
  const dgates = scratch;
  const dh = row(dgates, TB, G);
  const dc = row(dh, B, O);
  const dr = row(dc, B, H);
  const dhs = row(dr, B, H);
  const proj = whr != 0;
  const rows = b1 - b0;
  if (rows <= 0) return;
  initRows(dh, dhn, O, b0, b1);
  initRows(dc, dcn, H, b0, b1);
  for (let k = T - 1; k >= 0; k--) {
    const t = reverse ? T - 1 - k : k;
    const slab = t * B + b0;
    if (dy != 0) addActiveRows(dh, O, dy, ldy, O, lengths, t, t * B, b0, b1);
    const end = activeEnd(lengths, t, b0, b1); // rows from here on have ended: no products
    const live = end - b0;
    let dR = dh;
    if (proj) {
      for (let b = b0; b < b1; b++) {
        const d = row(dhs, t * B + b, O);
        if (active(lengths, b, t)) memory.copy(d, row(dh, b, O), <usize>O << 2);
        else zero(d, O);
      }
      if (live > 0) stepProduct(live, H, O, row(dhs, slab, O), O, whr, H, inPlace, false, row(dr, b0, H), H, false);
      dR = dr;
    }
    for (let b = b0; b < b1; b++) {
      const r = t * B + b;
      const dg = row(dgates, r, G);
      if (!active(lengths, b, t)) {
        zero(dg, G); // dh and dc pass through untouched
        continue;
      }
      cellBackward(H, row(gates, r, G), row(cprev, r, H), row(cs, r, H), row(dR, b, H), row(dc, b, H), dg);
      zero(row(dh, b, O), O);
    }
    // Ended rows' dgates are zero (kept for dW): they would add nothing to dh.
    if (live > 0) stepProduct(live, O, G, row(dgates, slab, G), G, whh, O, inPlace, false, row(dh, b0, O), O, true);
    if (mask != 0) maskActiveRows(dh, mask, O, lengths, t, b0, b1);
  }
}
