// CRF: a linear-chain conditional random field over K tags (Lafferty et al. 2001),
// with pytorch-crf's parameters: start_transitions s [K], end_transitions e [K],
// transitions A [K, K] (row: from tag, column: to tag). For a sequence of length L
// with emissions x [L, K] (a tagger's scores), a tag path y scores
//
//   score(y) = s[y_0] + x_0[y_0] + Σ_{t=1..L-1} (A[y_{t-1}, y_t] + x_t[y_t]) + e[y_{L-1}]
//   log p(y | x) = score(y) − log Z,   log Z = log Σ_y' exp score(y')
//
// In log space the forward algorithm is α_0[k] = s[k] + x_0[k], α_t[k] = x_t[k] + logsumexp_j (α_{t-1}[j] + A[j, k]),
// log Z = logsumexp_k (α_{L-1}[k] + e[k]), but that costs K exp() per (step, tag), K² per step with the pairwise
// marginals: far too slow for K = 188 part-of-speech tags. So it runs in scaled probability space (Rabiner 1989),
// Float64, exp() only O(K²) once per call and O(L·K) per sentence; the K² inner loops are multiply-adds:
//
//   F[j, k] = exp(A[j, k] − m_k),  m_k = max_j A[j, k]         (per column: every tag keeps an entry 1)
//   g_t[k] = x_t[k] + m_k,  ε_t[k] = exp(g_t[k] − max_k g_t)  (per step, ≤ 1, the largest 1)
//   α̂_0 ∝ exp(s + x_0 − max),  α̂_t[k] = ε_t[k] Σ_j α̂_{t-1}[j] F[j, k] / c_t,   each α̂_t normalized to sum 1
//   log Z = max(s + x_0) + log c_0 + Σ_{t≥1} (max_k g_t + log c_t) + max e + log Σ_k α̂_{L-1}[k] exp(e[k] − max e)
//
// The backward β̂_{L-1} ∝ exp(e − max e), β̂_t[j] ∝ Σ_k F[j, k] ε_{t+1}[k] β̂_{t+1}[k] is normalized to sum 1 by its
// own scale (with the forward's, a tag the forward cannot reach could overflow β̂), and the constants cancel in
// the marginals, each step normalized by D_t = Σ_k α̂_t[k] β̂_t[k] (Σ_{j,k} of the pairwise numerator is c_t D_t):
//
//   p(y_t = k) = α̂_t[k] β̂_t[k] / D_t,   p(y_{t-1} = j, y_t = k) = α̂_{t-1}[j] F[j, k] ε_t[k] β̂_t[k] / (c_t D_t)
//
// Every term is a sum of products of numbers ≤ 1, so what underflows is below 1e-308 absolute; while every scale
// (c_t, the backward's, D_t) stays above 1e-100 that is negligible and the result equals the log-space one to
// rounding. A scale below it (every allowed path underflows: emissions hundreds apart against a forbidden
// transition) sends that sentence to the log-space algorithm (log-sum-exp with the max subtracted), kept for it.
// The gradient of the negative log-likelihood is the marginals minus the gold path's counts:
//
//   ∂/∂x_t[k]   = p(y_t = k) − [y_t = k]
//   ∂/∂A[j, k]  = Σ_t p(y_{t-1} = j, y_t = k) − #(j → k)
//   ∂/∂s, ∂/∂e  = the marginals of the first and the last step minus the gold tag's indicator.
//
// nll's `reduction` is pytorch-crf's: the sum over the batch, its mean over sequences, or its mean over real tokens;
// the loss and every gradient are those of the reduced value.
//
// Decoding is Viterbi: the log-space recursion with max for logsumexp, ties to the lower tag.
// Optional BIO / BIOES constraints add −∞ to the forbidden start, end and transition
// scores in every computation (exp gives 0); they are not parameters, so state dicts stay pytorch-crf's.

import { assertFinite, positiveInt, ShapeError, ValueError } from '../core/errors.js';
import { checkShape, tensor, type Tensor } from '../core/tensor.js';
import { Module, type ModuleOptions } from './module.js';
import { uniformInit, type ParamSpec } from './params.js';

export type TagScheme = 'BIO' | 'BIOES';

export interface CRFOptions {
  numTags: number;
  /** Forbid the transitions a tagging scheme rules out; `tags` names each tag index ('O', 'B-PER', 'I-PER', …). */
  constraints?: { scheme: TagScheme; tags: readonly string[] };
}

export interface CRFInputOptions {
  /** Each sequence's length, in [1, T]; default: all T. */
  lengths?: ArrayLike<number>;
}

/** How nll combines the batch's losses (pytorch-crf's reduction, less 'none': logLikelihood gives each sequence's). */
export type CRFReduction = 'sum' | 'mean' | 'token_mean';

export interface CRFLossOptions extends CRFInputOptions {
  /** 'sum' over the batch (default), 'mean' over its sequences, 'token_mean' over its real tokens (Σ lengths). */
  reduction?: CRFReduction;
}

/** Below this a scaled-space normalizer may have lost terms to underflow: the sentence goes to log space. */
const MIN_SCALE = 1e-100;

/** One batch's scores in Float64, constraints applied: −∞ where forbidden. */
interface Scores {
  start: Float64Array; // [K]
  end: Float64Array; // [K]
  trans: Float64Array; // [K, K], from × to
}

/** The scores exponentiated once per call for the scaled algorithm (header: F, m, exp(e − max e)). */
interface Exponentiated {
  colMax: Float64Array; // [K] m_k = max_j A[j, k], −∞ for a tag that nothing may precede
  trans: Float64Array; // [K, K] F = exp(A − m), 0 where forbidden
  endMax: number;
  end: Float64Array; // [K] exp(e − max e)
}

/** log Σ_i exp(a[ai + i·as] + b[bi + i·bs]) over i < n, the max subtracted first; −∞ when every term is. */
function logSumExp(n: number, a: ArrayLike<number>, ai: number, as: number, b: ArrayLike<number>, bi: number, bs: number): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, a[ai + i * as]! + b[bi + i * bs]!);
  if (max === -Infinity) return max;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(a[ai + i * as]! + b[bi + i * bs]! - max);
  return max + Math.log(sum);
}

/** The index of the largest a[ai + i·as] + b[bi + i·bs] (the lowest index on ties) and its value. */
function argMax(n: number, a: ArrayLike<number>, ai: number, as: number, b: ArrayLike<number>, bi: number, bs: number): [number, number] {
  let best = 0;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = a[ai + i * as]! + b[bi + i * bs]!;
    if (v > max) [best, max] = [i, v];
  }
  return [best, max];
}

export class CRF extends Module {
  readonly numTags: number;
  readonly constraints: { scheme: TagScheme; tags: readonly string[] } | undefined;
  private readonly startMask: Float64Array; // [K], 0 or −∞
  private readonly endMask: Float64Array; // [K]
  private readonly transMask: Float64Array; // [K, K]

  constructor(opts: CRFOptions, module: ModuleOptions = {}) {
    super(module);
    const K = (this.numTags = positiveInt(opts.numTags, 'numTags', 'CRF'));
    this.startMask = new Float64Array(K);
    this.endMask = new Float64Array(K);
    this.transMask = new Float64Array(K * K);
    this.constraints = opts.constraints && { scheme: opts.constraints.scheme, tags: [...opts.constraints.tags] };
    if (this.constraints) this.buildMasks(this.constraints.scheme, this.constraints.tags);
  }

  override paramSpecs(): ParamSpec[] {
    const K = this.numTags;
    const init = uniformInit(0.1); // pytorch-crf: nn.init.uniform_(-0.1, 0.1)
    return [
      { name: 'start_transitions', shape: [K], init },
      { name: 'end_transitions', shape: [K], init },
      { name: 'transitions', shape: [K, K], init },
    ];
  }

  /**
   * −log p(tags | emissions) over the batch, reduced as opts.reduction says (default: the sum), and its gradient:
   * dEmissions [B, T, K] (zeros at padded steps) is returned, the parameters' gradients are added into the module's.
   */
  nll(emissions: Tensor, tags: readonly (readonly number[])[] | Int32Array, opts: CRFLossOptions = {}): { loss: number; dEmissions: Tensor } {
    const reduction = checkReduction(opts.reduction);
    const { B, T, lengths } = this.check(emissions, opts);
    const gold = this.checkTags(tags, B, T, lengths);
    const K = this.numTags;
    const s = this.scores();
    const E = exponentiate(s, K);
    const x = emissions.data; // [B, T, K]
    const dx = this.backend.arena.floats(B * T * K); // [B, T, K]
    const dStart = new Float64Array(K);
    const dEnd = new Float64Array(K);
    const dTrans = new Float64Array(K * K);
    const p = new Float64Array(T * K); // one sequence's marginals [L, K]
    const factor = reduction === 'sum' ? 1 : 1 / (reduction === 'mean' ? B : lengths.reduce((n, L) => n + L, 0));
    let loss = 0;
    for (let b = 0; b < B; b++) {
      const L = lengths[b]!;
      const at = b * T * K; // x_t[k] = x[at + t·K + k]
      const logZ = expectedCounts(s, E, x, at, L, K, p, dTrans);
      loss += logZ - goldScore(s, x, at, gold, b * T, L, K);
      for (let t = 0; t < L; t++) {
        const y = gold[b * T + t]!;
        for (let k = 0; k < K; k++) dx[at + t * K + k] = factor * (p[t * K + k]! - (k === y ? 1 : 0));
      }
      for (let k = 0; k < K; k++) {
        dStart[k]! += p[k]!;
        dEnd[k]! += p[(L - 1) * K + k]!;
      }
      for (let t = 1; t < L; t++) dTrans[gold[b * T + t - 1]! * K + gold[b * T + t]!]! -= 1;
      dStart[gold[b * T]!]! -= 1;
      dEnd[gold[b * T + L - 1]!]! -= 1;
    }
    this.addGrad('start_transitions', dStart, factor);
    this.addGrad('end_transitions', dEnd, factor);
    this.addGrad('transitions', dTrans, factor);
    return { loss: factor * loss, dEmissions: tensor(dx, [B, T, K]) };
  }

  /** log p(tags | emissions) of each sequence [B] (pytorch-crf's reduction 'none'; sum or average them as needed). */
  logLikelihood(emissions: Tensor, tags: readonly (readonly number[])[] | Int32Array, opts: CRFInputOptions = {}): Float64Array {
    const { B, T, lengths } = this.check(emissions, opts);
    const gold = this.checkTags(tags, B, T, lengths);
    const s = this.scores();
    const K = this.numTags;
    const E = exponentiate(s, K);
    const x = emissions.data;
    return Float64Array.from({ length: B }, (_, b) => {
      const L = lengths[b]!;
      const logZ = scaledForward(s, E, x, b * T * K, L, K)?.logZ ?? forwardBackward(s, x, b * T * K, L, K, false).logZ;
      return goldScore(s, x, b * T * K, gold, b * T, L, K) - logZ;
    });
  }

  /** The most likely tag path of each sequence (Viterbi), each as long as its sequence. */
  decode(emissions: Tensor, opts: CRFInputOptions = {}): number[][] {
    const { B, T, lengths } = this.check(emissions, opts);
    const s = this.scores();
    const K = this.numTags;
    const x = emissions.data;
    const paths: number[][] = [];
    for (let b = 0; b < B; b++) {
      const L = lengths[b]!;
      const at = b * T * K;
      const delta = new Float64Array(L * K); // [L, K] best score of a path ending in k at t
      const back = new Int32Array(L * K); // [L, K] its tag at t − 1
      for (let k = 0; k < K; k++) delta[k] = s.start[k]! + x[at + k]!;
      for (let t = 1; t < L; t++) {
        for (let k = 0; k < K; k++) {
          const [j, best] = argMax(K, delta, (t - 1) * K, 1, s.trans, k, K);
          back[t * K + k] = j;
          delta[t * K + k] = best + x[at + t * K + k]!;
        }
      }
      const path = Array.from({ length: L }, () => 0);
      path[L - 1] = argMax(K, delta, (L - 1) * K, 1, s.end, 0, 1)[0];
      for (let t = L - 1; t > 0; t--) path[t - 1] = back[t * K + path[t]!]!;
      paths.push(path);
    }
    return paths;
  }

  /** p(y_t = k | emissions) [B, T, K], each token's tags summing to 1 (zeros at padded steps). */
  marginals(emissions: Tensor, opts: CRFInputOptions = {}): Tensor {
    const { B, T, lengths } = this.check(emissions, opts);
    const s = this.scores();
    const K = this.numTags;
    const E = exponentiate(s, K);
    const out = this.backend.arena.floats(B * T * K); // [B, T, K]
    const p = new Float64Array(T * K); // one sequence's marginals [L, K]
    for (let b = 0; b < B; b++) {
      const L = lengths[b]!;
      expectedCounts(s, E, emissions.data, b * T * K, L, K, p);
      out.set(p.subarray(0, L * K), b * T * K);
    }
    return tensor(out, [B, T, K]);
  }

  // ---- helpers ----------------------------------------------------------------

  /** The parameters in Float64 with the constraints' −∞ added. */
  private scores(): Scores {
    const read = (name: string, mask: Float64Array): Float64Array => {
      const at = this.param(name);
      const heap = this.backend.arena.heap;
      return Float64Array.from(mask, (m, i) => heap[at + i]! + m);
    };
    return { start: read('start_transitions', this.startMask), end: read('end_transitions', this.endMask), trans: read('transitions', this.transMask) };
  }

  /** Adds factor · d into the parameter's gradient. */
  private addGrad(name: string, d: Float64Array, factor: number): void {
    const at = this.grad(name);
    const heap = this.backend.arena.heap;
    for (let i = 0; i < d.length; i++) heap[at + i]! += factor * d[i]!;
  }

  /** Emissions [B, T, K], finite, and lengths in [1, T] (default T). */
  private check(emissions: Tensor, opts: CRFInputOptions): { B: number; T: number; lengths: Int32Array } {
    checkShape(emissions, [-1, -1, this.numTags], 'CRF: emissions [batch, steps, tags]');
    assertFinite(emissions.data, 'CRF: emissions');
    const [B, T] = emissions.shape as [number, number, number];
    const given = opts.lengths;
    if (given && given.length !== B) throw new ShapeError(`CRF: ${given.length} lengths for a batch of ${B}`);
    const lengths = Int32Array.from({ length: B }, (_, b) => {
      const L = given ? given[b]! : T;
      if (!Number.isInteger(L) || L < 1 || L > T) throw new ValueError(`CRF: lengths[${b}] is ${L}, expected an integer in [1, ${T}]`);
      return L;
    });
    return { B, T, lengths };
  }

  /** The gold tags as [B, T] (padded steps 0): rows of each sequence's length (or of T), tags in [0, K), allowed paths. */
  private checkTags(tags: readonly (readonly number[])[] | Int32Array, B: number, T: number, lengths: Int32Array): Int32Array {
    const K = this.numTags;
    const gold = new Int32Array(B * T); // [B, T]
    if (tags instanceof Int32Array) {
      if (tags.length !== B * T) throw new ShapeError(`CRF: tags has ${tags.length} values, expected ${B} × ${T}`);
    } else if (tags.length !== B) throw new ShapeError(`CRF: tags has ${tags.length} sequences, expected ${B}`);
    for (let b = 0; b < B; b++) {
      const L = lengths[b]!;
      const row = tags instanceof Int32Array ? tags.subarray(b * T, (b + 1) * T) : tags[b]!;
      if (row.length !== L && row.length !== T) throw new ShapeError(`CRF: tags[${b}] has ${row.length} tags, expected its length ${L} (or ${T})`);
      for (let t = 0; t < L; t++) {
        const y = row[t]!;
        if (!Number.isInteger(y) || y < 0 || y >= K) throw new ValueError(`CRF: tags[${b}][${t}] is ${y}, expected a tag in [0, ${K})`);
        gold[b * T + t] = y;
      }
      if (this.constraints) this.checkPath(gold.subarray(b * T, b * T + L), b);
    }
    return gold;
  }

  private checkPath(path: Int32Array, b: number): void {
    const { scheme, tags } = this.constraints!;
    const K = this.numTags;
    const name = (t: number): string => JSON.stringify(tags[path[t]!]);
    const L = path.length;
    if (this.startMask[path[0]!] === -Infinity) throw new ValueError(`CRF: tags[${b}] starts with ${name(0)}, which ${scheme} forbids`);
    for (let t = 1; t < L; t++) {
      if (this.transMask[path[t - 1]! * K + path[t]!] === -Infinity) {
        throw new ValueError(`CRF: tags[${b}] goes from ${name(t - 1)} at step ${t - 1} to ${name(t)} at step ${t}, which ${scheme} forbids`);
      }
    }
    if (this.endMask[path[L - 1]!] === -Infinity) throw new ValueError(`CRF: tags[${b}] ends with ${name(L - 1)} at step ${L - 1}, which ${scheme} forbids`);
  }

  /**
   * BIO: I-X only after B-X or I-X, never first. BIOES: after B-X or I-X only I-X or E-X; after E-, S- or O
   * only O, B- or S-; the first tag is not I- or E-, the last not B- or I-.
   */
  private buildMasks(scheme: TagScheme, names: readonly string[]): void {
    if (scheme !== 'BIO' && scheme !== 'BIOES') throw new ValueError(`CRF: constraints.scheme must be 'BIO' or 'BIOES', got ${JSON.stringify(scheme)}`);
    const K = this.numTags;
    if (names.length !== K) throw new ShapeError(`CRF: constraints.tags names ${names.length} tags, expected numTags = ${K}`);
    const tags = names.map((name, i) => {
      const m = /^([BIES])-(.+)$/.exec(name);
      const prefix = name === 'O' ? 'O' : m?.[1];
      if (!prefix || !scheme.includes(prefix)) {
        const forms = scheme === 'BIO' ? 'B-X, I-X' : 'B-X, I-X, E-X, S-X';
        throw new ValueError(`CRF: constraints.tags[${i}] is ${JSON.stringify(name)}; a ${scheme} tag is 'O' or ${forms}`);
      }
      return { prefix, type: m?.[2] ?? '' };
    });
    const inside = (p: string): boolean => p === 'B' || p === 'I'; // a chunk is open after it
    for (let j = 0; j < K; j++) {
      const from = tags[j]!;
      for (let k = 0; k < K; k++) {
        const to = tags[k]!;
        const continues = (to.prefix === 'I' || to.prefix === 'E') && inside(from.prefix) && from.type === to.type;
        const opens = to.prefix !== 'I' && to.prefix !== 'E'; // O, B- or S-
        const ok = scheme === 'BIO' ? opens || continues : inside(from.prefix) ? continues : opens;
        if (!ok) this.transMask[j * K + k] = -Infinity;
      }
      if (from.prefix === 'I' || from.prefix === 'E') this.startMask[j] = -Infinity;
      if (scheme === 'BIOES' && inside(from.prefix)) this.endMask[j] = -Infinity;
    }
  }
}

function checkReduction(reduction: unknown = 'sum'): CRFReduction {
  if (reduction === 'sum' || reduction === 'mean' || reduction === 'token_mean') return reduction;
  throw new ValueError(`CRF: reduction must be 'sum', 'mean' or 'token_mean', got ${JSON.stringify(reduction)}`);
}

function exponentiate(s: Scores, K: number): Exponentiated {
  const colMax = new Float64Array(K).fill(-Infinity);
  for (let j = 0; j < K; j++) for (let k = 0; k < K; k++) colMax[k] = Math.max(colMax[k]!, s.trans[j * K + k]!);
  // A column without an allowed entry stays 0 (−∞ − −∞ would be NaN).
  const trans = Float64Array.from(s.trans, (a, i) => (a === -Infinity ? 0 : Math.exp(a - colMax[i % K]!)));
  const endMax = s.end.reduce((m, e) => Math.max(m, e), -Infinity);
  return { colMax, trans, endMax, end: s.end.map((e) => Math.exp(e - endMax)) };
}

/**
 * One sequence's marginals p(y_t = k) into p [L, K] and its pairwise marginals added into pairs [K, K] (when given);
 * returns log Z. Scaled space, or log space when a scale underflows.
 */
function expectedCounts(
  s: Scores, E: Exponentiated, x: ArrayLike<number>, at: number, L: number, K: number, p: Float64Array, pairs?: Float64Array,
): number {
  const fwd = scaledForward(s, E, x, at, L, K);
  const beta = fwd && scaledBackward(E, fwd.emit, L, K);
  const norm = fwd && beta && stepNorms(fwd.alpha, beta, L, K);
  if (!fwd || !beta || !norm) return logSpaceCounts(s, x, at, L, K, p, pairs);
  for (let t = 0; t < L; t++) {
    for (let k = 0; k < K; k++) p[t * K + k] = (fwd.alpha[t * K + k]! * beta[t * K + k]!) / norm[t]!;
  }
  if (pairs) addPairs(E, fwd, beta, norm, L, K, pairs);
  return fwd.logZ;
}

/** The scaled forward pass: α̂ [L, K], ε [L, K] (row 0 unused), c [L] and log Z; undefined when a scale underflows. */
function scaledForward(s: Scores, E: Exponentiated, x: ArrayLike<number>, at: number, L: number, K: number): {
  alpha: Float64Array; emit: Float64Array; scale: Float64Array; logZ: number;
} | undefined {
  const alpha = new Float64Array(L * K); // [L, K]
  const emit = new Float64Array(L * K); // [L, K]
  const scale = new Float64Array(L);
  let first = -Infinity;
  for (let k = 0; k < K; k++) first = Math.max(first, s.start[k]! + x[at + k]!);
  for (let k = 0; k < K; k++) alpha[k] = Math.exp(s.start[k]! + x[at + k]! - first);
  let logZ = first;
  for (let t = 0; t < L; t++) {
    if (t > 0) logZ += forwardStep(E, x, at, t, K, alpha, emit);
    const c = (scale[t] = normalize(alpha, t * K, K));
    if (!(c >= MIN_SCALE)) return undefined;
    logZ += Math.log(c);
  }
  let last = 0; // Σ_k α̂_{L-1}[k] exp(e[k] − max e)
  for (let k = 0; k < K; k++) last += alpha[(L - 1) * K + k]! * E.end[k]!;
  if (!(last >= MIN_SCALE)) return undefined;
  logZ += E.endMax + Math.log(last);
  return Number.isFinite(logZ) ? { alpha, emit, scale, logZ } : undefined;
}

/** α̂_t c_t (unnormalized) and ε_t from α̂_{t-1}; returns max_k g_t, the log of the factor taken out. */
function forwardStep(E: Exponentiated, x: ArrayLike<number>, at: number, t: number, K: number, alpha: Float64Array, emit: Float64Array): number {
  let max = -Infinity;
  for (let k = 0; k < K; k++) max = Math.max(max, x[at + t * K + k]! + E.colMax[k]!);
  for (let k = 0; k < K; k++) emit[t * K + k] = Math.exp(x[at + t * K + k]! + E.colMax[k]! - max);
  const F = E.trans;
  const row = t * K;
  // Row by row: Σ_j α̂_{t-1}[j] F[j, ·] reads F in memory order.
  for (let j = 0; j < K; j++) {
    const a = alpha[row - K + j]!;
    if (a === 0) continue;
    for (let k = 0, jk = j * K; k < K; k++, jk++) alpha[row + k]! += a * F[jk]!;
  }
  for (let k = 0; k < K; k++) alpha[row + k]! *= emit[row + k]!;
  return max;
}

/** The scaled backward pass β̂ [L, K], each step normalized to sum 1; undefined when a scale underflows. */
function scaledBackward(E: Exponentiated, emit: Float64Array, L: number, K: number): Float64Array | undefined {
  const beta = new Float64Array(L * K); // [L, K]
  beta.set(E.end, (L - 1) * K);
  normalize(beta, (L - 1) * K, K); // Σ exp(e − max e) ≥ 1
  const F = E.trans;
  const w = new Float64Array(K); // ε_{t+1} β̂_{t+1}
  for (let t = L - 2; t >= 0; t--) {
    for (let k = 0; k < K; k++) w[k] = emit[(t + 1) * K + k]! * beta[(t + 1) * K + k]!;
    for (let j = 0; j < K; j++) {
      let sum = 0;
      for (let k = 0, jk = j * K; k < K; k++, jk++) sum += F[jk]! * w[k]!;
      beta[t * K + j] = sum;
    }
    if (!(normalize(beta, t * K, K) >= MIN_SCALE)) return undefined;
  }
  return beta;
}

/** D_t = Σ_k α̂_t[k] β̂_t[k] of each step [L]; undefined when one underflows. */
function stepNorms(alpha: Float64Array, beta: Float64Array, L: number, K: number): Float64Array | undefined {
  const norm = new Float64Array(L);
  for (let t = 0; t < L; t++) {
    let d = 0;
    for (let k = 0; k < K; k++) d += alpha[t * K + k]! * beta[t * K + k]!;
    if (!(d >= MIN_SCALE)) return undefined;
    norm[t] = d;
  }
  return norm;
}

/** Adds Σ_t p(y_{t-1} = j, y_t = k) = α̂_{t-1}[j] F[j, k] · ε_t[k] β̂_t[k] / (c_t D_t) into pairs [K, K]. */
function addPairs(
  E: Exponentiated, fwd: { alpha: Float64Array; emit: Float64Array; scale: Float64Array }, beta: Float64Array, norm: Float64Array,
  L: number, K: number, pairs: Float64Array,
): void {
  const { alpha, emit, scale } = fwd;
  const F = E.trans;
  const w = new Float64Array(K);
  for (let t = 1; t < L; t++) {
    const d = scale[t]! * norm[t]!;
    for (let k = 0; k < K; k++) w[k] = (emit[t * K + k]! * beta[t * K + k]!) / d;
    for (let j = 0; j < K; j++) {
      const a = alpha[(t - 1) * K + j]!;
      if (a === 0) continue;
      for (let k = 0, jk = j * K; k < K; k++, jk++) pairs[jk]! += a * F[jk]! * w[k]!;
    }
  }
}

/** Divides a[at .. at + n) by its sum; returns the sum (NaN or 0 left as they are, for the caller's check). */
function normalize(a: Float64Array, at: number, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a[at + i]!;
  if (sum > 0 && Number.isFinite(sum)) for (let i = 0; i < n; i++) a[at + i]! /= sum;
  return sum;
}

/** expectedCounts in log space (log-sum-exp per term): the fallback for the sentences whose scales underflow. */
function logSpaceCounts(s: Scores, x: ArrayLike<number>, at: number, L: number, K: number, p: Float64Array, pairs?: Float64Array): number {
  const { alpha, beta, logZ } = forwardBackward(s, x, at, L, K);
  for (let t = 0; t < L; t++) {
    for (let k = 0; k < K; k++) {
      p[t * K + k] = Math.exp(alpha[t * K + k]! + beta[t * K + k]! - logZ);
      if (t === 0 || !pairs) continue;
      const v = x[at + t * K + k]! + beta[t * K + k]! - logZ;
      for (let j = 0; j < K; j++) pairs[j * K + k]! += Math.exp(alpha[(t - 1) * K + j]! + s.trans[j * K + k]! + v);
    }
  }
  return logZ;
}

/** α [L, K], β [L, K] and log Z of one sequence whose emissions are x[at + t·K + k] (β only when asked). */
function forwardBackward(s: Scores, x: ArrayLike<number>, at: number, L: number, K: number, wantBeta = true): {
  alpha: Float64Array; beta: Float64Array; logZ: number;
} {
  const alpha = new Float64Array(L * K); // [L, K]
  for (let k = 0; k < K; k++) alpha[k] = s.start[k]! + x[at + k]!;
  for (let t = 1; t < L; t++) {
    for (let k = 0; k < K; k++) alpha[t * K + k] = x[at + t * K + k]! + logSumExp(K, alpha, (t - 1) * K, 1, s.trans, k, K);
  }
  const logZ = logSumExp(K, alpha, (L - 1) * K, 1, s.end, 0, 1);
  const beta = new Float64Array(wantBeta ? L * K : 0); // [L, K]
  if (!wantBeta) return { alpha, beta, logZ };
  beta.set(s.end, (L - 1) * K);
  const next = new Float64Array(K); // x_{t+1} + β_{t+1}
  for (let t = L - 2; t >= 0; t--) {
    for (let k = 0; k < K; k++) next[k] = x[at + (t + 1) * K + k]! + beta[(t + 1) * K + k]!;
    for (let j = 0; j < K; j++) beta[t * K + j] = logSumExp(K, s.trans, j * K, 1, next, 0, 1);
  }
  return { alpha, beta, logZ };
}

/** score(y) of the gold path gold[g + t], emissions x[at + t·K + k]. */
function goldScore(s: Scores, x: ArrayLike<number>, at: number, gold: Int32Array, g: number, L: number, K: number): number {
  let score = s.start[gold[g]!]! + s.end[gold[g + L - 1]!]!;
  for (let t = 0; t < L; t++) {
    const y = gold[g + t]!;
    score += x[at + t * K + y]!;
    if (t > 0) score += s.trans[gold[g + t - 1]! * K + y]!;
  }
  return score;
}
