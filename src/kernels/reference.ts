// The reference backend: plain TypeScript, written to be read. Every fast
// kernel is tested against it. It runs in Float32 (like PyTorch) or Float64
// (for gradient checks against finite differences).

import { Arena, ArrayBufferStorage, type DType, type Floats } from '../core/arena.js';
import {
  NONE, type AdamArgs, type Backend, type CellKind, type RecurrentBackward, type RecurrentForward,
} from './backend.js';

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

export class ReferenceBackend implements Backend {
  readonly name: string = 'reference';
  readonly arena: Arena;
  readonly threads: number = 1;

  constructor(dtype: DType = 'float32', arena?: Arena) {
    this.arena = arena ?? new Arena(dtype, new ArrayBufferStorage());
  }

  protected get heap(): Floats {
    return this.arena.heap;
  }

  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number,
       a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: boolean): void {
    const h = this.heap;
    if (!accumulate) for (let i = 0; i < M; i++) h.fill(0, c + i * ldc, c + i * ldc + N);
    if (M === 0 || N === 0 || K === 0) return;
    if (!transA && !transB) {
      // C[i,:]! += A[i,k] · B[k,:]
      for (let i = 0; i < M; i++) {
        const ci = c + i * ldc;
        for (let k = 0; k < K; k++) {
          const aik = h[a + i * lda + k]!;
          if (aik === 0) continue;
          const bk = b + k * ldb;
          for (let j = 0; j < N; j++) h[ci + j]! += aik * h[bk + j]!;
        }
      }
    } else if (!transA && transB) {
      // C[i,j]! += A[i,:] · B[j,:]
      for (let i = 0; i < M; i++) {
        const ai = a + i * lda;
        for (let j = 0; j < N; j++) {
          const bj = b + j * ldb;
          let sum = 0;
          for (let k = 0; k < K; k++) sum += h[ai + k]! * h[bj + k]!;
          h[c + i * ldc + j]! += sum;
        }
      }
    } else if (transA && !transB) {
      // C[i,:]! += A[k,i] · B[k,:]
      for (let k = 0; k < K; k++) {
        const ak = a + k * lda;
        const bk = b + k * ldb;
        for (let i = 0; i < M; i++) {
          const aki = h[ak + i]!;
          if (aki === 0) continue;
          const ci = c + i * ldc;
          for (let j = 0; j < N; j++) h[ci + j]! += aki * h[bk + j]!;
        }
      }
    } else {
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let sum = 0;
          for (let k = 0; k < K; k++) sum += h[a + k * lda + i]! * h[b + j * ldb + k]!;
          h[c + i * ldc + j]! += sum;
        }
      }
    }
  }

  recurrentForward(cell: CellKind, p: RecurrentForward): void {
    if (cell === 'lstm') this.lstmForward(p);
    else if (cell === 'gru') this.gruForward(p);
    else this.rnnForward(p, cell === 'rnn_relu');
  }

  recurrentBackward(cell: CellKind, p: RecurrentBackward): void {
    if (cell === 'lstm') this.lstmBackward(p);
    else if (cell === 'gru') this.gruBackward(p);
    else this.rnnBackward(p, cell === 'rnn_relu');
  }

  /** gates[T·B, G] = x · W_ihᵀ + b_ih + b_hh: the input projection of every step in one multiply. */
  private inputProjection(p: RecurrentForward, G: number, out: number, withHiddenBias: boolean): void {
    const rows = p.steps * p.batch;
    this.gemm(false, true, rows, G, p.input, p.x, p.ldx, p.w.wih, p.input, out, G, false);
    if (p.w.bih !== NONE) this.addBias(rows, G, out, G, p.w.bih);
    if (withHiddenBias && p.w.bhh !== NONE) this.addBias(rows, G, out, G, p.w.bhh);
  }

  private initState(p: { batch: number }, src: number, dst: number, width: number): void {
    if (src === NONE) this.fill(p.batch * width, dst, 0);
    else this.copy(p.batch * width, src, dst);
  }

  /**
   * Recurrent dropout, backward: dh[b, :] ⊙= mask[b, :] on the rows active at
   * step t, whose dh is just the gradient through W_hh (inactive rows pass
   * theirs through untouched).
   */
  private maskActiveRows(p: RecurrentBackward, t: number, dh: number, mask: number, width: number): void {
    const h = this.heap;
    for (let b = 0; b < p.batch; b++) {
      if (p.lengths !== null && t >= p.lengths[b]!) continue;
      for (let j = 0; j < width; j++) h[dh + b * width + j]! *= h[mask + b * width + j]!;
    }
  }

  // ---- LSTM ----------------------------------------------------------------

  private lstmForward(p: RecurrentForward): void {
    const { steps: T, batch: B, hidden: H, output: O } = p;
    const G = 4 * H;
    const proj = p.w.whr !== NONE;
    const gates = p.saved; //             [T, B, 4H]
    const hprev = gates + T * B * G; //   [T, B, O]
    const cprev = hprev + T * B * O; //   [T, B, H]
    const cs = cprev + T * B * H; //      [T, B, H]
    const rs = cs + T * B * H; //         [T, B, H] (projected only)
    const mask = p.recurrentMask ?? NONE;
    this.inputProjection(p, G, gates, true);
    this.initState(p, p.h0, p.hn, O);
    this.initState(p, p.c0, p.cn, H);
    for (let k = 0; k < T; k++) {
      const t = p.reverse ? T - 1 - k : k;
      const gt = gates + t * B * G;
      const hp = hprev + t * B * O; // h_{t-1} as W_hh sees it: masked under recurrent dropout
      this.copy(B * O, p.hn, hp);
      if (mask !== NONE) this.mul(B * O, hp, mask, hp);
      this.copy(B * H, p.cn, cprev + t * B * H);
      this.gemm(false, true, B, G, O, hp, O, p.w.whh, O, gt, G, true);
      const h = this.heap;
      for (let b = 0; b < B; b++) {
        const g = gt + b * G;
        const yrow = p.y + (t * B + b) * p.ldy;
        const cRow = cs + (t * B + b) * H;
        const active = p.lengths === null || t < p.lengths[b]!;
        if (!active) {
          for (let j = 0; j < H; j++) h[cRow + j] = h[p.cn + b * H + j]!;
          for (let j = 0; j < G; j++) h[g + j] = 0;
          if (proj) for (let j = 0; j < H; j++) h[rs + (t * B + b) * H + j] = 0;
          else for (let j = 0; j < O; j++) h[yrow + j] = 0;
          continue;
        }
        for (let j = 0; j < H; j++) {
          const i = sigmoid(h[g + j]!);
          const f = sigmoid(h[g + H + j]!);
          const gg = Math.tanh(h[g + 2 * H + j]!);
          const o = sigmoid(h[g + 3 * H + j]!);
          h[g + j] = i;
          h[g + H + j] = f;
          h[g + 2 * H + j] = gg;
          h[g + 3 * H + j] = o;
          const c = f * h[p.cn + b * H + j]! + i * gg;
          h[cRow + j] = c;
          h[p.cn + b * H + j] = c;
          const r = o * Math.tanh(h[cRow + j]!);
          if (proj) h[rs + (t * B + b) * H + j] = r;
          else {
            h[yrow + j] = r;
            h[p.hn + b * O + j] = r;
          }
        }
      }
      if (proj) {
        // h = r · W_hrᵀ for the whole step; inactive rows have r = 0 and keep their h.
        this.gemm(false, true, B, O, H, rs + t * B * H, H, p.w.whr, H, p.y + t * B * p.ldy, p.ldy, false);
        const h = this.heap;
        for (let b = 0; b < B; b++) {
          if (p.lengths !== null && t >= p.lengths[b]!) continue;
          for (let j = 0; j < O; j++) h[p.hn + b * O + j] = h[p.y + (t * B + b) * p.ldy + j]!;
        }
      }
    }
  }

  private lstmBackward(p: RecurrentBackward): void {
    const { steps: T, batch: B, input: I, hidden: H, output: O } = p;
    const G = 4 * H;
    const proj = p.w.whr !== NONE;
    const gates = p.saved;
    const hprev = gates + T * B * G;
    const cprev = hprev + T * B * O;
    const cs = cprev + T * B * H;
    const rs = cs + T * B * H;
    const dgates = p.scratch; //         [T, B, 4H]
    const dh = dgates + T * B * G; //    [B, O]
    const dc = dh + B * O; //            [B, H]
    const dr = dc + B * H; //            [B, H]
    const dhs = dr + B * H; //           [T, B, O] (projected only)
    const mask = p.recurrentMask ?? NONE;
    this.initState(p, p.dhn, dh, O);
    this.initState(p, p.dcn, dc, H);
    for (let k = T - 1; k >= 0; k--) {
      const t = p.reverse ? T - 1 - k : k;
      let h = this.heap;
      // dh += dy[t] on active rows.
      for (let b = 0; b < B; b++) {
        if (p.dy === NONE || (p.lengths !== null && t >= p.lengths[b]!)) continue;
        const dyRow = p.dy + (t * B + b) * p.ldy;
        for (let j = 0; j < O; j++) h[dh + b * O + j]! += h[dyRow + j]!;
      }
      let drRows = dh; // the gradient w.r.t. r = o ⊙ tanh(c), [B, H] (rows of O = H unprojected)
      if (proj) {
        const dhsT = dhs + t * B * O;
        for (let b = 0; b < B; b++) {
          const active = p.lengths === null || t < p.lengths[b]!;
          for (let j = 0; j < O; j++) h[dhsT + b * O + j] = active ? h[dh + b * O + j]! : 0;
        }
        this.gemm(false, false, B, H, O, dhsT, O, p.w.whr, H, dr, H, false);
        drRows = dr;
        h = this.heap;
      }
      const gt = gates + t * B * G;
      const dgt = dgates + t * B * G;
      for (let b = 0; b < B; b++) {
        const g = gt + b * G;
        const dg = dgt + b * G;
        if (p.lengths !== null && t >= p.lengths[b]!) {
          for (let j = 0; j < G; j++) h[dg + j] = 0;
          continue; // dh and dc pass through untouched
        }
        for (let j = 0; j < H; j++) {
          const i = h[g + j]!;
          const f = h[g + H + j]!;
          const gg = h[g + 2 * H + j]!;
          const o = h[g + 3 * H + j]!;
          const tc = Math.tanh(h[cs + (t * B + b) * H + j]!);
          const dR = h[drRows + b * H + j]!;
          const dO = dR * tc;
          const dC = h[dc + b * H + j]! + dR * o * (1 - tc * tc);
          h[dg + j] = dC * gg * i * (1 - i);
          h[dg + H + j] = dC * h[cprev + (t * B + b) * H + j]! * f * (1 - f);
          h[dg + 2 * H + j] = dC * i * (1 - gg * gg);
          h[dg + 3 * H + j] = dO * o * (1 - o);
          h[dc + b * H + j] = dC * f;
        }
        for (let j = 0; j < O; j++) h[dh + b * O + j] = 0;
      }
      this.gemm(false, false, B, O, G, dgt, G, p.w.whh, O, dh, O, true);
      if (mask !== NONE) this.maskActiveRows(p, t, dh, mask, O);
    }
    this.finishBackward(p, G, dgates, dgates, hprev, O);
    if (p.dh0 !== NONE) this.copy(B * O, dh, p.dh0);
    if (p.dc0 !== NONE) this.copy(B * H, dc, p.dc0);
    if (proj) this.gemm(true, false, O, H, T * B, dhs, O, rs, H, p.dw.whr, H, true);
    void I;
  }

  /**
   * After the time loop: the weight and bias gradients over all steps as single
   * multiplies, and the input gradient. dxg feeds W_ih and b_ih; dhg feeds W_hh and b_hh.
   */
  private finishBackward(p: RecurrentBackward, G: number, dxg: number, dhg: number, hprev: number, O: number): void {
    const rows = p.steps * p.batch;
    this.gemm(true, false, G, p.input, rows, dxg, G, p.x, p.ldx, p.dw.wih, p.input, true);
    this.gemm(true, false, G, O, rows, dhg, G, hprev, O, p.dw.whh, O, true);
    if (p.dw.bih !== NONE) this.sumRows(rows, G, dxg, G, p.dw.bih);
    if (p.dw.bhh !== NONE) this.sumRows(rows, G, dhg, G, p.dw.bhh);
    if (p.dx !== NONE) {
      this.gemm(false, false, rows, p.input, G, dxg, G, p.w.wih, p.input, p.dx, p.ldDx, p.accumulateDx);
    }
  }

  // ---- GRU -----------------------------------------------------------------

  private gruForward(p: RecurrentForward): void {
    const { steps: T, batch: B, hidden: H } = p;
    const G = 3 * H;
    const gates = p.saved; //            [T, B, 3H]  x-part, then activated r, z, n
    const hprev = gates + T * B * G; //  [T, B, H]
    const hnl = hprev + T * B * H; //    [T, B, H]   W_hn h + b_hn
    const mask = p.recurrentMask ?? NONE;
    const hraw = hnl + T * B * H; //     [T, B, H]   h_{t-1} unmasked (masked only)
    const hg = hraw + (mask === NONE ? 0 : T * B * H); // [B, 3H] W_hh h + b_hh of one step
    this.inputProjection(p, G, gates, false);
    this.initState(p, p.h0, p.hn, H);
    for (let k = 0; k < T; k++) {
      const t = p.reverse ? T - 1 - k : k;
      const hp = hprev + t * B * H; // h_{t-1} as W_hh sees it; z ⊙ h reads the unmasked state
      this.copy(B * H, p.hn, hp);
      if (mask !== NONE) {
        this.copy(B * H, p.hn, hraw + t * B * H);
        this.mul(B * H, hp, mask, hp);
      }
      this.gemm(false, true, B, G, H, hp, H, p.w.whh, H, hg, G, false);
      if (p.w.bhh !== NONE) this.addBias(B, G, hg, G, p.w.bhh);
      const h = this.heap;
      for (let b = 0; b < B; b++) {
        const g = gates + (t * B + b) * G;
        const yrow = p.y + (t * B + b) * p.ldy;
        if (p.lengths !== null && t >= p.lengths[b]!) {
          for (let j = 0; j < G; j++) h[g + j] = 0;
          for (let j = 0; j < H; j++) {
            h[yrow + j] = 0;
            h[hnl + (t * B + b) * H + j] = 0;
          }
          continue;
        }
        for (let j = 0; j < H; j++) {
          const r = sigmoid(h[g + j]! + h[hg + b * G + j]!);
          const z = sigmoid(h[g + H + j]! + h[hg + b * G + H + j]!);
          const hn = h[hg + b * G + 2 * H + j]!;
          const n = Math.tanh(h[g + 2 * H + j]! + r * hn);
          h[g + j] = r;
          h[g + H + j] = z;
          h[g + 2 * H + j] = n;
          h[hnl + (t * B + b) * H + j] = hn;
          const hNew = (1 - z) * n + z * h[p.hn + b * H + j]!;
          h[p.hn + b * H + j] = hNew;
          h[yrow + j] = hNew;
        }
      }
    }
  }

  private gruBackward(p: RecurrentBackward): void {
    const { steps: T, batch: B, hidden: H } = p;
    const G = 3 * H;
    const gates = p.saved;
    const hprev = gates + T * B * G;
    const hnl = hprev + T * B * H;
    const mask = p.recurrentMask ?? NONE;
    const hraw = mask === NONE ? hprev : hnl + T * B * H; // h_{t-1} unmasked, for z ⊙ h
    const dxg = p.scratch; //            [T, B, 3H]  feeds W_ih, b_ih, x
    const dhg = dxg + T * B * G; //      [T, B, 3H]  feeds W_hh, b_hh, h
    const dh = dhg + T * B * G; //       [B, H]
    const dhw = dh + B * H; //           [B, H]      masked only: the gradient through W_hh
    this.initState(p, p.dhn, dh, H);
    for (let k = T - 1; k >= 0; k--) {
      const t = p.reverse ? T - 1 - k : k;
      const h = this.heap;
      for (let b = 0; b < B; b++) {
        const row = t * B + b;
        const g = gates + row * G;
        const dX = dxg + row * G;
        const dH = dhg + row * G;
        if (p.lengths !== null && t >= p.lengths[b]!) {
          for (let j = 0; j < G; j++) h[dX + j] = h[dH + j] = 0;
          continue;
        }
        for (let j = 0; j < H; j++) {
          const dht = h[dh + b * H + j]! + (p.dy === NONE ? 0 : h[p.dy + row * p.ldy + j]!);
          const r = h[g + j]!;
          const z = h[g + H + j]!;
          const n = h[g + 2 * H + j]!;
          const hp = h[hraw + row * H + j]!;
          const dn = dht * (1 - z) * (1 - n * n);
          const dz = dht * (hp - n) * z * (1 - z);
          const dr = dn * h[hnl + row * H + j]! * r * (1 - r);
          h[dX + j] = dr;
          h[dX + H + j] = dz;
          h[dX + 2 * H + j] = dn;
          h[dH + j] = dr;
          h[dH + H + j] = dz;
          h[dH + 2 * H + j] = dn * r;
          h[dh + b * H + j] = dht * z;
        }
      }
      if (mask === NONE) this.gemm(false, false, B, H, G, dhg + t * B * G, G, p.w.whh, H, dh, H, true);
      else {
        // dh = dh_t ⊙ z (the unmasked path) + mask ⊙ (dhg · W_hh).
        this.gemm(false, false, B, H, G, dhg + t * B * G, G, p.w.whh, H, dhw, H, false);
        const hh = this.heap;
        for (let i = 0; i < B * H; i++) hh[dh + i]! += hh[mask + i]! * hh[dhw + i]!;
      }
    }
    this.finishBackward(p, G, dxg, dhg, hprev, H);
    if (p.dh0 !== NONE) this.copy(B * H, dh, p.dh0);
  }

  // ---- RNN -----------------------------------------------------------------

  private rnnForward(p: RecurrentForward, relu: boolean): void {
    const { steps: T, batch: B, hidden: H } = p;
    const hprev = p.saved; //            [T, B, H]
    const hs = hprev + T * B * H; //     [T, B, H]  pre-activation, then h
    const mask = p.recurrentMask ?? NONE;
    this.inputProjection(p, H, hs, true);
    this.initState(p, p.h0, p.hn, H);
    for (let k = 0; k < T; k++) {
      const t = p.reverse ? T - 1 - k : k;
      const hp = hprev + t * B * H; // h_{t-1} as W_hh sees it: masked under recurrent dropout
      this.copy(B * H, p.hn, hp);
      if (mask !== NONE) this.mul(B * H, hp, mask, hp);
      this.gemm(false, true, B, H, H, hp, H, p.w.whh, H, hs + t * B * H, H, true);
      const h = this.heap;
      for (let b = 0; b < B; b++) {
        const row = t * B + b;
        const yrow = p.y + row * p.ldy;
        const active = p.lengths === null || t < p.lengths[b]!;
        for (let j = 0; j < H; j++) {
          if (!active) {
            h[hs + row * H + j] = 0;
            h[yrow + j] = 0;
            continue;
          }
          const pre = h[hs + row * H + j]!;
          const v = relu ? (pre > 0 ? pre : 0) : Math.tanh(pre);
          h[hs + row * H + j] = v;
          h[yrow + j] = v;
          h[p.hn + b * H + j] = v;
        }
      }
    }
  }

  private rnnBackward(p: RecurrentBackward, relu: boolean): void {
    const { steps: T, batch: B, hidden: H } = p;
    const hprev = p.saved;
    const hs = hprev + T * B * H;
    const dpre = p.scratch; //           [T, B, H]
    const dh = dpre + T * B * H; //      [B, H]
    const mask = p.recurrentMask ?? NONE;
    this.initState(p, p.dhn, dh, H);
    for (let k = T - 1; k >= 0; k--) {
      const t = p.reverse ? T - 1 - k : k;
      const h = this.heap;
      for (let b = 0; b < B; b++) {
        const row = t * B + b;
        const active = p.lengths === null || t < p.lengths[b]!;
        for (let j = 0; j < H; j++) {
          if (!active) {
            h[dpre + row * H + j] = 0;
            continue;
          }
          const dht = h[dh + b * H + j]! + (p.dy === NONE ? 0 : h[p.dy + row * p.ldy + j]!);
          const v = h[hs + row * H + j]!;
          h[dpre + row * H + j] = dht * (relu ? (v > 0 ? 1 : 0) : 1 - v * v);
          h[dh + b * H + j] = 0;
        }
      }
      this.gemm(false, false, B, H, H, dpre + t * B * H, H, p.w.whh, H, dh, H, true);
      if (mask !== NONE) this.maskActiveRows(p, t, dh, mask, H);
    }
    this.finishBackward(p, H, dpre, dpre, hprev, H);
    if (p.dh0 !== NONE) this.copy(B * H, dh, p.dh0);
  }

  // ---- pointwise and reductions --------------------------------------------

  addBias(rows: number, cols: number, x: number, ld: number, bias: number): void {
    const h = this.heap;
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) h[x + r * ld + j]! += h[bias + j]!;
  }

  sumRows(rows: number, cols: number, x: number, ld: number, out: number): void {
    const h = this.heap;
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum += h[x + r * ld + j]!;
      h[out + j]! += sum;
    }
  }

  copy(n: number, src: number, dst: number): void {
    if (src !== dst) this.heap.copyWithin(dst, src, src + n);
  }

  fill(n: number, dst: number, value: number): void {
    this.heap.fill(value, dst, dst + n);
  }

  mul(n: number, a: number, b: number, out: number): void {
    const h = this.heap;
    for (let i = 0; i < n; i++) h[out + i] = h[a + i]! * h[b + i]!;
  }

  axpy(n: number, alpha: number, x: number, y: number): void {
    const h = this.heap;
    for (let i = 0; i < n; i++) h[y + i]! += alpha * h[x + i]!;
  }

  scale(n: number, x: number, alpha: number): void {
    const h = this.heap;
    for (let i = 0; i < n; i++) h[x + i]! *= alpha;
  }

  sumSquares(n: number, x: number): number {
    const h = this.heap;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += h[x + i]! * h[x + i]!;
    return sum;
  }

  clamp(n: number, x: number, limit: number): void {
    const h = this.heap;
    for (let i = 0; i < n; i++) h[x + i] = Math.min(limit, Math.max(-limit, h[x + i]!));
  }

  allFinite(n: number, x: number): boolean {
    const h = this.heap;
    for (let i = 0; i < n; i++) if (!Number.isFinite(h[x + i]!)) return false;
    return true;
  }

  softmaxCrossEntropy(rows: number, classes: number, logits: number, targets: Int32Array,
                      probs: number, dlogits: number, scale: number): number {
    const h = this.heap;
    let sum = 0;
    for (let r = 0; r < rows; r++) {
      const l = logits + r * classes;
      const pr = probs + r * classes;
      let max = -Infinity;
      for (let j = 0; j < classes; j++) max = Math.max(max, h[l + j]!);
      let z = 0;
      for (let j = 0; j < classes; j++) z += Math.exp(h[l + j]! - max);
      const logZ = Math.log(z) + max;
      for (let j = 0; j < classes; j++) h[pr + j] = Math.exp(h[l + j]! - logZ);
      const target = targets[r]!;
      if (target >= 0) sum += logZ - h[l + target]!;
      if (dlogits === NONE) continue;
      const d = dlogits + r * classes;
      for (let j = 0; j < classes; j++) {
        h[d + j] = target < 0 ? 0 : (h[pr + j]! - (j === target ? 1 : 0)) * scale;
      }
    }
    return sum;
  }

  attendForward(B: number, S: number, H: number, D: number, query: number, keys: number, values: number,
                lengths: Int32Array, weights: number, context: number): void {
    const h = this.heap;
    for (let b = 0; b < B; b++) {
      const len = lengths[b]!;
      const w = weights + b * S;
      let max = -Infinity;
      for (let s = 0; s < len; s++) {
        const k = keys + (s * B + b) * H;
        let score = 0;
        for (let j = 0; j < H; j++) score += h[query + b * H + j]! * h[k + j]!;
        h[w + s] = score;
        if (score > max) max = score;
      }
      let sum = 0;
      for (let s = 0; s < len; s++) {
        const e = Math.exp(h[w + s]! - max);
        h[w + s] = e;
        sum += e;
      }
      for (let s = 0; s < S; s++) h[w + s] = s < len ? h[w + s]! / sum : 0;
      const c = context + b * D;
      h.fill(0, c, c + D);
      for (let s = 0; s < len; s++) {
        const a = h[w + s]!;
        const m = values + (s * B + b) * D;
        for (let j = 0; j < D; j++) h[c + j]! += a * h[m + j]!;
      }
    }
  }

  tanh(n: number, x: number, y: number): void {
    const h = this.heap;
    for (let i = 0; i < n; i++) h[y + i] = Math.tanh(h[x + i]!);
  }

  adam(a: AdamArgs): void {
    const h = this.heap;
    const bc1 = 1 - Math.pow(a.beta1, a.step);
    const bc2 = 1 - Math.pow(a.beta2, a.step);
    const stepSize = a.lr / bc1;
    const bc2Sqrt = Math.sqrt(bc2);
    for (let i = 0; i < a.n; i++) {
      let g = h[a.grad + i]!;
      let w = h[a.param + i]!;
      if (a.weightDecay !== 0) {
        if (a.decoupled) w *= 1 - a.lr * a.weightDecay;
        else g += a.weightDecay * w;
      }
      const m = (h[a.m + i] = a.beta1 * h[a.m + i]! + (1 - a.beta1) * g);
      const v = (h[a.v + i] = a.beta2 * h[a.v + i]! + (1 - a.beta2) * g * g);
      h[a.param + i] = w - stepSize * m / (Math.sqrt(v) / bc2Sqrt + a.eps);
    }
  }
}
