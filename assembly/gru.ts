// GRU (PyTorch's: n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))) over all time
// steps for batch rows b0 … b1-1. Layouts as in src/kernels/reference.ts:
//   saved: gates [T,B,3H] (x-part in, activated r,z,n out) · hprev [T,B,H] · hn [T,B,H] · hraw [T,B,H] · hg [B,3H]
//   scratch: dxg [T,B,3H] · dhg [T,B,3H] · dh [B,H] · dhw [B,H]
// The caller has put x·W_ihᵀ + b_ih into gates and packed W_hh. mask:
// recurrent dropout's [B, H] on h_{t-1} in W_hh·h, or 0. With a mask, hprev
// holds h_{t-1} masked (for W_hh), hraw unmasked (for z ⊙ h), and dhw the
// gradient through W_hh before the mask; without one, neither hraw nor dhw exists.

import { stepProduct, stepColumns } from './gemm';
import { vsigmoid, vtanh, ssigmoid, stanh } from './math';
import { el, row, active, activeEnd, zero, initRows, barrier, copyUnits, initUnits, maskUnits, addMaskedRows } from './rows';

/** Units j0 … j1-1 of one row (pointers at unit j0; gate blocks H floats apart in g, hg and bhh). */
function cellForward(n: i32, H: i32, g: usize, hg: usize, bhh: usize, h: usize, hnOut: usize, y: usize): void {
  const gz = el(g, H), gn = el(g, 2 * H);
  const hz = el(hg, H), hnn = el(hg, 2 * H);
  const one = f32x4.splat(1);
  const zeros = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const br = bhh != 0 ? v128.load(el(bhh, j)) : zeros;
    const bz = bhh != 0 ? v128.load(el(bhh, H + j)) : zeros;
    const bn = bhh != 0 ? v128.load(el(bhh, 2 * H + j)) : zeros;
    const r = vsigmoid(f32x4.add(v128.load(el(g, j)), f32x4.add(v128.load(el(hg, j)), br)));
    const z = vsigmoid(f32x4.add(v128.load(el(gz, j)), f32x4.add(v128.load(el(hz, j)), bz)));
    const hn = f32x4.add(v128.load(el(hnn, j)), bn);
    const c = vtanh(f32x4.add(v128.load(el(gn, j)), f32x4.mul(r, hn)));
    v128.store(el(g, j), r);
    v128.store(el(gz, j), z);
    v128.store(el(gn, j), c);
    v128.store(el(hnOut, j), hn);
    const hNew = f32x4.add(f32x4.mul(f32x4.sub(one, z), c), f32x4.mul(z, v128.load(el(h, j))));
    v128.store(el(h, j), hNew);
    v128.store(el(y, j), hNew);
  }
  for (; j < n; j++) {
    const br: f32 = bhh != 0 ? load<f32>(el(bhh, j)) : 0;
    const bz: f32 = bhh != 0 ? load<f32>(el(bhh, H + j)) : 0;
    const bn: f32 = bhh != 0 ? load<f32>(el(bhh, 2 * H + j)) : 0;
    const r = ssigmoid(load<f32>(el(g, j)) + (load<f32>(el(hg, j)) + br));
    const z = ssigmoid(load<f32>(el(gz, j)) + (load<f32>(el(hz, j)) + bz));
    const hn = load<f32>(el(hnn, j)) + bn;
    const c = stanh(load<f32>(el(gn, j)) + r * hn);
    store<f32>(el(g, j), r);
    store<f32>(el(gz, j), z);
    store<f32>(el(gn, j), c);
    store<f32>(el(hnOut, j), hn);
    const hNew = (<f32>1 - z) * c + z * load<f32>(el(h, j));
    store<f32>(el(h, j), hNew);
    store<f32>(el(y, j), hNew);
  }
}

/**
 * Forward for batch rows b0 … b1-1 and hidden units j0 … j1-1 (see
 * lstmForward for the two ways threads split the work). whh: W_hh packed as
 * op(B) of h·W_hhᵀ (K = H, N = 3H), packed or in place. bhh: b_hh or 0.
 */
export function gruForward(T: i32, B: i32, H: i32, reverse: bool, lengths: usize, mask: usize,
                           saved: usize, y: usize, ldy: i32, h0: usize, hn: usize,
                           whh: usize, bhh: usize, inPlace: bool, b0: i32, b1: i32, j0: i32, j1: i32, sync: usize, threads: i32): void {
  const G = 3 * H;
  const TB = T * B;
  const gates = saved;
  const hprev = row(gates, TB, G);
  const hnl = row(hprev, TB, H);
  const hraw = row(hnl, TB, H);
  const hg = mask != 0 ? row(hraw, TB, H) : hraw;
  const rows = b1 - b0;
  const units = j1 - j0;
  if (rows <= 0 || units <= 0) return;
  initUnits(hn, h0, H, b0, b1, j0, j1);
  for (let k = 0; k < T; k++) {
    const t = reverse ? T - 1 - k : k;
    const slab = t * B + b0;
    if (mask == 0) copyUnits(row(hprev, t * B, H), hn, H, b0, b1, j0, j1);
    else {
      copyUnits(row(hraw, t * B, H), hn, H, b0, b1, j0, j1);
      maskUnits(row(hprev, t * B, H), hn, mask, H, b0, b1, j0, j1);
    }
    barrier(sync, threads * (k + 1));
    // Rows from `end` on have ended: no product (their hg is never read).
    const end = activeEnd(lengths, t, b0, b1);
    const live = end - b0;
    const h = row(hprev, slab, H);
    if (live > 0) {
      if (units == H) stepProduct(live, G, H, h, H, whh, H, inPlace, true, row(hg, b0, G), G, false);
      else {
        for (let gate = 0; gate < 3; gate++) {
          const col = gate * H + j0; // a multiple of 8: whole panels
          stepProduct(live, units, H, h, H, stepColumns(whh, col, H, H, inPlace, true), H, inPlace, true, el(row(hg, b0, G), col), G, false);
        }
      }
    }
    for (let b = b0; b < b1; b++) {
      const r = t * B + b;
      const g = row(gates, r, G);
      if (!active(lengths, b, t)) {
        for (let gate = 0; gate < 3; gate++) zero(el(g, gate * H + j0), units);
        zero(el(row(y, r, ldy), j0), units);
        zero(el(row(hnl, r, H), j0), units);
        continue;
      }
      cellForward(units, H, el(g, j0), el(row(hg, b, G), j0), bhh != 0 ? el(bhh, j0) : 0, el(row(hn, b, H), j0),
                  el(row(hnl, r, H), j0), el(row(y, r, ldy), j0));
    }
  }
}

function cellBackward(H: i32, g: usize, hp: usize, hnl: usize, dy: usize, dh: usize, dX: usize, dH: usize): void {
  const one = f32x4.splat(1);
  const zeros = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= H; j += 4) {
    const dht = f32x4.add(v128.load(el(dh, j)), dy != 0 ? v128.load(el(dy, j)) : zeros);
    const r = v128.load(el(g, j));
    const z = v128.load(el(g, H + j));
    const n = v128.load(el(g, 2 * H + j));
    const h = v128.load(el(hp, j));
    const dn = f32x4.mul(f32x4.mul(dht, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
    const dz = f32x4.mul(f32x4.mul(dht, f32x4.sub(h, n)), f32x4.mul(z, f32x4.sub(one, z)));
    const dr = f32x4.mul(f32x4.mul(dn, v128.load(el(hnl, j))), f32x4.mul(r, f32x4.sub(one, r)));
    v128.store(el(dX, j), dr);
    v128.store(el(dX, H + j), dz);
    v128.store(el(dX, 2 * H + j), dn);
    v128.store(el(dH, j), dr);
    v128.store(el(dH, H + j), dz);
    v128.store(el(dH, 2 * H + j), f32x4.mul(dn, r));
    v128.store(el(dh, j), f32x4.mul(dht, z));
  }
  for (; j < H; j++) {
    const dht = load<f32>(el(dh, j)) + (dy != 0 ? load<f32>(el(dy, j)) : <f32>0);
    const r = load<f32>(el(g, j));
    const z = load<f32>(el(g, H + j));
    const n = load<f32>(el(g, 2 * H + j));
    const h = load<f32>(el(hp, j));
    const dn = (dht * (1 - z)) * (1 - n * n);
    const dz = (dht * (h - n)) * (z * (1 - z));
    const dr = (dn * load<f32>(el(hnl, j))) * (r * (1 - r));
    store<f32>(el(dX, j), dr);
    store<f32>(el(dX, H + j), dz);
    store<f32>(el(dX, 2 * H + j), dn);
    store<f32>(el(dH, j), dr);
    store<f32>(el(dH, H + j), dz);
    store<f32>(el(dH, 2 * H + j), dn * r);
    store<f32>(el(dh, j), dht * z);
  }
}

/** whh: W_hh as op(B) of dhg·W_hh (K = 3H, N = H), packed or in place. */
export function gruBackward(T: i32, B: i32, H: i32, reverse: bool, lengths: usize, mask: usize,
                            saved: usize, dy: usize, ldy: i32, dhn: usize, scratch: usize,
                            whh: usize, inPlace: bool, b0: i32, b1: i32): void {
  const G = 3 * H;
  const TB = T * B;
  const gates = saved;
  const hprev = row(gates, TB, G);
  const hnl = row(hprev, TB, H);
  const hp = mask != 0 ? row(hnl, TB, H) : hprev; // h_{t-1} unmasked, for z ⊙ h
  const dxg = scratch;
  const dhg = row(dxg, TB, G);
  const dh = row(dhg, TB, G);
  const dhw = row(dh, B, H);
  const rows = b1 - b0;
  if (rows <= 0) return;
  initRows(dh, dhn, H, b0, b1);
  for (let k = T - 1; k >= 0; k--) {
    const t = reverse ? T - 1 - k : k;
    const slab = t * B + b0;
    for (let b = b0; b < b1; b++) {
      const r = t * B + b;
      if (!active(lengths, b, t)) {
        zero(row(dxg, r, G), G);
        zero(row(dhg, r, G), G);
        continue;
      }
      cellBackward(H, row(gates, r, G), row(hp, r, H), row(hnl, r, H), dy != 0 ? row(dy, r, ldy) : 0,
                   row(dh, b, H), row(dxg, r, G), row(dhg, r, G));
    }
    // Ended rows (from `end` on) have dhg = 0 (kept for dW): they would add nothing to dh.
    const end = activeEnd(lengths, t, b0, b1);
    const live = end - b0;
    if (live <= 0) continue;
    if (mask == 0) stepProduct(live, H, G, row(dhg, slab, G), G, whh, H, inPlace, false, row(dh, b0, H), H, true);
    else {
      // dh = dh_t ⊙ z (the unmasked path, written above) + mask ⊙ (dhg · W_hh).
      stepProduct(live, H, G, row(dhg, slab, G), G, whh, H, inPlace, false, row(dhw, b0, H), H, false);
      addMaskedRows(dh, mask, dhw, H, b0, end);
    }
  }
}
