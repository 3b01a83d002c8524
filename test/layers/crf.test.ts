// The CRF layer: PyTorch fixtures (test/fixtures/make_crf_fixtures.py), central finite differences in Float64,
// Viterbi, log Z and marginals against brute force over every tag path, the BIO / BIOES constraints, and its errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CRF, Rng, tensor, type CRFOptions, type StateDict, type Tensor } from '../../src/index.js';
import { ReferenceBackend } from '../../src/internals.js';
import { assertClose, listFixtures, loadFixture, type JsonTensor } from '../helpers/fixtures.js';
import { checkGradient } from '../helpers/gradcheck.js';

interface CrfFixture {
  name: string;
  numTags: number;
  constraints?: CRFOptions['constraints'];
  stateDict: Record<string, JsonTensor>;
  emissions: JsonTensor;
  lengths: number[];
  tags: number[][];
  logLikelihood: number[];
  loss: number;
  dEmissions: JsonTensor;
  grads: Record<string, JsonTensor>;
  viterbi: number[][];
  marginals: JsonTensor;
}

const PARAMS = ['start_transitions', 'end_transitions', 'transitions'];

for (const file of listFixtures('torch/crf')) {
  const fx = loadFixture<CrfFixture>('torch', 'crf', file);
  test(`PyTorch parity: CRF ${fx.name}`, (ctx) => {
    const crf = new CRF({ numTags: fx.numTags, ...(fx.constraints ? { constraints: fx.constraints } : {}) });
    crf.loadStateDict(fx.stateDict);
    const emissions = tensor(fx.emissions.data, fx.emissions.shape);
    const opts = { lengths: fx.lengths };
    const report: string[] = [];
    const check = (actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void => {
      const d = assertClose(actual, expected, `${fx.name} ${what}`);
      report.push(`${what} ${d.maxAbs.toExponential(1)}`);
    };
    crf.zeroGrad();
    const { loss, dEmissions } = crf.nll(emissions, fx.tags, opts);
    check([loss], [fx.loss], 'loss');
    check(crf.logLikelihood(emissions, fx.tags, opts), fx.logLikelihood, 'logLikelihood');
    check(dEmissions.data, fx.dEmissions.data, 'dEmissions');
    const grads = crf.gradDict();
    for (const name of PARAMS) check(grads[name]!, fx.grads[name]!.data, `d${name}`);
    check(crf.marginals(emissions, opts).data, fx.marginals.data, 'marginals');
    assert.deepEqual(crf.decode(emissions, opts), fx.viterbi);
    // The same tags padded to T in one flat Int32Array [B, T].
    const [B, T] = fx.emissions.shape as [number, number, number];
    const flat = new Int32Array(B * T).fill(-1);
    fx.tags.forEach((row, b) => flat.set(row, b * T));
    assert.deepEqual(crf.logLikelihood(emissions, flat, opts), crf.logLikelihood(emissions, fx.tags, opts));
    ctx.diagnostic(`max abs diff: ${report.join(', ')}`);
  });
}

function randomTensor(rng: Rng, shape: number[], scale = 1): Tensor {
  return tensor(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * rng.normal()), shape);
}

/** A CRF with random parameters of scale 1 (its own init is ±0.1, too small to test transitions). */
function randomCrf(rng: Rng, opts: CRFOptions, backend = new ReferenceBackend('float64')): CRF {
  const crf = new CRF(opts, { backend, seed: 1 });
  const K = opts.numTags;
  crf.loadStateDict({ start_transitions: randomTensor(rng, [K]), end_transitions: randomTensor(rng, [K]), transitions: randomTensor(rng, [K, K]) });
  return crf;
}

const BIOES = ['O', 'B-X', 'I-X', 'E-X', 'S-X', 'B-Y', 'I-Y', 'E-Y', 'S-Y'];
const BIO = ['O', 'B-X', 'I-X', 'B-Y', 'I-Y'];

/** The schemes' rules, written out apart from the layer's masks: may `to` follow `from` (undefined: the start / end)? */
function allowed(scheme: 'BIO' | 'BIOES', from: string | undefined, to: string | undefined): boolean {
  const p = (tag: string | undefined): string => tag?.[0] ?? '^';
  const same = from !== undefined && to !== undefined && from.slice(2) === to.slice(2);
  if (scheme === 'BIO') return p(to) !== 'I' || ((p(from) === 'B' || p(from) === 'I') && same);
  if (p(from) === 'B' || p(from) === 'I') return (p(to) === 'I' || p(to) === 'E') && same;
  return p(to) !== 'I' && p(to) !== 'E';
}

function pathAllowed(scheme: 'BIO' | 'BIOES', names: string[], path: readonly number[]): boolean {
  const tags = [undefined, ...path.map((y) => names[y]), undefined];
  return tags.slice(1).every((to, i) => allowed(scheme, tags[i], to));
}

/** A gold path drawn among the allowed ones (any path without constraints). */
function randomPath(rng: Rng, K: number, L: number, names?: string[], scheme?: 'BIO' | 'BIOES'): number[] {
  for (;;) {
    const path = Array.from({ length: L }, () => Math.floor(rng.uniform() * K));
    if (!names || pathAllowed(scheme!, names, path)) return path;
  }
}

const gradCases: { label: string; opts: CRFOptions }[] = [
  { label: 'no constraints', opts: { numTags: 4 } },
  { label: 'BIOES', opts: { numTags: 9, constraints: { scheme: 'BIOES', tags: BIOES } } },
];
for (const { label, opts } of gradCases) {
  test(`gradient check: CRF (${label}), unequal lengths, Float64 central differences`, () => {
    const rng = new Rng(7);
    const crf = randomCrf(rng, opts);
    const K = opts.numTags;
    const lengths = [4, 2, 1];
    const emissions = randomTensor(rng, [3, 4, K], 2);
    const c = opts.constraints;
    const tags = lengths.map((L) => randomPath(rng, K, L, c && [...c.tags], c?.scheme));
    const loss = (): number => crf.nll(emissions, tags, { lengths }).loss;
    crf.zeroGrad();
    const { dEmissions } = crf.nll(emissions, tags, { lengths });
    const grads: StateDict = crf.gradDict();
    const check = (what: string, values: Float64Array | Float32Array, analytic: ArrayLike<number>): void =>
      checkGradient(what, values, analytic, loss, { atol: 1e-7, rtol: 1e-6 });
    check('emissions', emissions.data, dEmissions.data);
    const params = crf.parameters();
    const heap = crf.backend.arena.heap;
    for (const name of PARAMS) check(name, heap.subarray(params.offset(name), params.offset(name) + grads[name]!.length), grads[name]!);
    // nll adds into the gradients, as every backward does.
    crf.zeroGrad();
    crf.nll(emissions, tags, { lengths });
    crf.nll(emissions, tags, { lengths });
    assertClose(crf.gradDict().transitions!, grads.transitions!.map((g) => 2 * g), 'twice the transitions gradient', 1e-12, 1e-12);
  });
}

/** Every path of length L over K tags, its score under the CRF's state dict (−∞ where the constraints forbid it). */
function* allPaths(K: number, L: number): Generator<number[]> {
  const path = Array.from({ length: L }, () => 0);
  for (;;) {
    yield [...path];
    let t = L - 1;
    while (t >= 0 && path[t] === K - 1) path[t--] = 0;
    if (t < 0) return;
    path[t]! += 1;
  }
}

function pathScore(sd: StateDict, x: Tensor, b: number, path: number[], K: number): number {
  const T = x.shape[1]!;
  let score = sd.start_transitions![path[0]!]! + sd.end_transitions![path[path.length - 1]!]!;
  path.forEach((y, t) => (score += x.data[(b * T + t) * K + y]! + (t > 0 ? sd.transitions![path[t - 1]! * K + y]! : 0)));
  return score;
}

const bruteCases: { label: string; opts: CRFOptions; lengths: number[] }[] = [
  { label: 'K 3', opts: { numTags: 3 }, lengths: [5, 3, 1] },
  { label: 'BIO K 5', opts: { numTags: 5, constraints: { scheme: 'BIO', tags: BIO } }, lengths: [4, 2, 1] },
];
for (const { label, opts, lengths } of bruteCases) {
  test(`Viterbi, log-likelihood and marginals equal brute force over every path (${label})`, () => {
    const K = opts.numTags;
    const T = Math.max(...lengths);
    const c = opts.constraints;
    for (let seed = 1; seed <= 5; seed++) {
      const rng = new Rng(seed);
      const crf = randomCrf(rng, opts);
      const emissions = randomTensor(rng, [lengths.length, T, K], 2);
      const sd = crf.stateDict();
      const paths = crf.decode(emissions, { lengths });
      const marginals = crf.marginals(emissions, { lengths });
      const tags = lengths.map((L) => randomPath(rng, K, L, c && [...c.tags], c?.scheme));
      const ll = crf.logLikelihood(emissions, tags, { lengths });
      lengths.forEach((L, b) => {
        let best: number[] = [];
        let bestScore = -Infinity;
        let z = 0;
        const counts = new Float64Array(T * K);
        for (const path of allPaths(K, L)) {
          if (c && !pathAllowed(c.scheme, [...c.tags], path)) continue;
          const score = pathScore(sd, emissions, b, path, K);
          if (score > bestScore) [best, bestScore] = [path, score];
          z += Math.exp(score);
          path.forEach((y, t) => (counts[t * K + y]! += Math.exp(score)));
        }
        assert.deepEqual(paths[b], best, `seed ${seed}, sequence ${b}: Viterbi`);
        assertClose([ll[b]!], [pathScore(sd, emissions, b, tags[b]!, K) - Math.log(z)], `seed ${seed}, sequence ${b}: log-likelihood`, 1e-12, 1e-12);
        const m = marginals.data.subarray(b * T * K, (b + 1) * T * K);
        assertClose(m, counts.map((n) => n / z), `seed ${seed}, sequence ${b}: marginals`, 1e-10, 1e-12);
        for (let t = 0; t < T; t++) {
          const sum = Array.from(m.subarray(t * K, (t + 1) * K)).reduce((a, v) => a + v, 0);
          assert.ok(Math.abs(sum - (t < L ? 1 : 0)) < 1e-12, `seed ${seed}, sequence ${b}, step ${t}: marginals sum to ${sum}`);
        }
      });
    }
  });
}

test('BIO / BIOES: decode never leaves the scheme, even against large emissions; forbidden scores get no gradient', () => {
  for (const [scheme, names] of [['BIO', BIO], ['BIOES', BIOES]] as const) {
    const rng = new Rng(3);
    const K = names.length;
    const crf = randomCrf(rng, { numTags: K, constraints: { scheme, tags: names } }, new ReferenceBackend('float32'));
    const emissions = randomTensor(rng, [16, 12, K], 20);
    const lengths = Array.from({ length: 16 }, (_, b) => 1 + (b % 12));
    for (const [b, path] of crf.decode(emissions, { lengths }).entries()) {
      assert.equal(path.length, lengths[b]);
      assert.ok(pathAllowed(scheme, names, path), `${scheme} sequence ${b}: ${path.map((y) => names[y]).join(' ')}`);
    }
    const tags = lengths.map((L) => randomPath(rng, K, L, names, scheme));
    crf.zeroGrad();
    crf.nll(emissions, tags, { lengths });
    const dTrans = crf.gradDict().transitions!;
    for (let j = 0; j < K; j++) {
      for (let k = 0; k < K; k++) if (!allowed(scheme, names[j], names[k])) assert.equal(dTrans[j * K + k], 0, `${names[j]} → ${names[k]}`);
    }
  }
});

test('Viterbi ties go to the lower tag, at every step', () => {
  const crf = new CRF({ numTags: 4 });
  crf.loadStateDict({ start_transitions: [0, 1, 1, 0], end_transitions: [0, 0, 0, 0], transitions: new Float32Array(16) });
  const x = tensor([0, 0, 0, 0, 3, 1, 3, 3, 2, 2, 2, 2], [1, 3, 4]); // step 0: tags 1, 2 tie; step 1: 0, 2, 3; step 2: all
  assert.deepEqual(crf.decode(x), [[1, 0, 0]]);
});

test('CRF parameters are pytorch-crf\'s, initialized in ±0.1', () => {
  const crf = new CRF({ numTags: 6 }, { seed: 5 });
  const sd = crf.stateDict();
  assert.deepEqual(Object.keys(sd), PARAMS);
  assert.deepEqual(crf.parameters().shape('transitions'), [6, 6]);
  assert.equal(crf.parameterCount, 6 + 6 + 36);
  for (const name of PARAMS) assert.ok(sd[name]!.every((v) => Math.abs(v) <= 0.1) && sd[name]!.some((v) => v !== 0), name);
});

test('CRF errors say what is wrong', () => {
  const crf = new CRF({ numTags: 3 });
  const x = tensor(new Float32Array(2 * 4 * 3), [2, 4, 3]);
  const tags = [[0, 1, 2, 0], [1, 1]];
  const lengths = [4, 2];
  assert.throws(() => crf.nll(tensor(new Float32Array(8), [2, 4]), tags), /CRF: emissions \[batch, steps, tags\] has shape \[2, 4\], expected \[\*, \*, 3\]/);
  assert.throws(() => crf.decode(tensor(new Float32Array(2 * 4 * 5), [2, 4, 5])), /expected \[\*, \*, 3\]/);
  const nan = tensor(new Float32Array(24), [2, 4, 3]);
  nan.data[7] = Number.NaN;
  assert.throws(() => crf.marginals(nan), /CRF: emissions\[7\] is NaN/);
  assert.throws(() => crf.nll(x, tags, { lengths: [4, 0] }), /CRF: lengths\[1\] is 0, expected an integer in \[1, 4\]/);
  assert.throws(() => crf.nll(x, tags, { lengths: [5, 2] }), /CRF: lengths\[0\] is 5, expected an integer in \[1, 4\]/);
  assert.throws(() => crf.decode(x, { lengths: [4] }), /CRF: 1 lengths for a batch of 2/);
  assert.throws(() => crf.nll(x, tags), /CRF: tags\[1\] has 2 tags, expected its length 4/);
  assert.throws(() => crf.nll(x, [[0, 1, 2, 0], [1, 1, 0]], { lengths }), /CRF: tags\[1\] has 3 tags, expected its length 2 \(or 4\)/);
  assert.throws(() => crf.nll(x, [[0, 1, 2, 0]], { lengths }), /CRF: tags has 1 sequences, expected 2/);
  assert.throws(() => crf.nll(x, [[0, 1, 3, 0], [1, 1]], { lengths }), /CRF: tags\[0\]\[2\] is 3, expected a tag in \[0, 3\)/);
  assert.throws(() => crf.nll(x, [[0, 1, 2, 0], [1, -1]], { lengths }), /CRF: tags\[1\]\[1\] is -1/);
  assert.throws(() => crf.logLikelihood(x, new Int32Array(7), { lengths }), /CRF: tags has 7 values, expected 2 × 4/);

  const bio = new CRF({ numTags: 5, constraints: { scheme: 'BIO', tags: BIO } });
  const x5 = tensor(new Float32Array(2 * 3 * 5), [2, 3, 5]);
  assert.throws(() => bio.nll(x5, [[0, 1, 2], [0, 0, 4]]), /CRF: tags\[1\] goes from "O" at step 1 to "I-Y" at step 2, which BIO forbids/);
  assert.throws(() => bio.nll(x5, [[0, 1, 2], [1, 2, 4]]), /CRF: tags\[1\] goes from "I-X" at step 1 to "I-Y" at step 2/);
  assert.throws(() => bio.nll(x5, [[2, 2, 2], [0, 0, 0]]), /CRF: tags\[0\] starts with "I-X", which BIO forbids/);
  const bioes = new CRF({ numTags: 9, constraints: { scheme: 'BIOES', tags: BIOES } });
  const x9 = tensor(new Float32Array(3 * 9), [1, 3, 9]);
  assert.throws(() => bioes.nll(x9, [[0, 1, 2]]), /CRF: tags\[0\] ends with "I-X" at step 2, which BIOES forbids/);
  assert.throws(() => bioes.nll(x9, [[3, 0, 0]]), /CRF: tags\[0\] starts with "E-X"/);
  assert.throws(() => bioes.nll(x9, [[4, 7, 0]]), /CRF: tags\[0\] goes from "S-X" at step 0 to "E-Y" at step 1, which BIOES forbids/);
  assert.doesNotThrow(() => bioes.nll(x9, [[1, 2, 3]]));

  assert.throws(() => new CRF({ numTags: 0 }), /CRF: numTags must be a positive integer, got 0/);
  assert.throws(() => new CRF({ numTags: 3, constraints: { scheme: 'BIO', tags: ['O', 'B-X'] } }), /constraints.tags names 2 tags, expected numTags = 3/);
  const sTag = { scheme: 'BIO', tags: ['O', 'S-X'] } as const;
  assert.throws(() => new CRF({ numTags: 2, constraints: sTag }), /constraints.tags\[1\] is "S-X"; a BIO tag is 'O' or B-X, I-X/);
  assert.throws(() => new CRF({ numTags: 1, constraints: { scheme: 'IOB2' as 'BIO', tags: ['O'] } }), /scheme must be 'BIO' or 'BIOES', got "IOB2"/);
});

/** log Σ exp v, the max subtracted first; −∞ when every term is. */
function logSumExp(v: number[]): number {
  const max = Math.max(...v);
  return max === -Infinity ? max : max + Math.log(v.reduce((sum, a) => sum + Math.exp(a - max), 0));
}

/**
 * The batch's nll (summed), its gradients, the marginals and each log-likelihood straight from the log-space
 * recursions (log-sum-exp per term): the reference the layer's scaled-space algorithm must match.
 */
function logSpaceReference(crf: CRF, x: Tensor, tags: number[][], lengths: number[]): {
  loss: number; dx: Float64Array; grads: Record<string, Float64Array>; marginals: Float64Array; ll: number[];
} {
  const K = crf.numTags;
  const [B, T] = x.shape as [number, number, number];
  const sd = crf.stateDict();
  const c = crf.constraints;
  const ok = (from: number | undefined, to: number | undefined): boolean =>
    !c || allowed(c.scheme, from === undefined ? undefined : c.tags[from], to === undefined ? undefined : c.tags[to]);
  const start = (k: number): number => (ok(undefined, k) ? sd.start_transitions![k]! : -Infinity);
  const end = (k: number): number => (ok(k, undefined) ? sd.end_transitions![k]! : -Infinity);
  const trans = (j: number, k: number): number => (ok(j, k) ? sd.transitions![j * K + k]! : -Infinity);
  const tagList = Array.from({ length: K }, (_, k) => k);
  const out = { loss: 0, dx: new Float64Array(B * T * K), marginals: new Float64Array(B * T * K), ll: [] as number[] };
  const grads = { start_transitions: new Float64Array(K), end_transitions: new Float64Array(K), transitions: new Float64Array(K * K) };
  for (let b = 0; b < B; b++) {
    const L = lengths[b]!;
    const y = tags[b]!;
    const e = (t: number, k: number): number => x.data[(b * T + t) * K + k]!;
    const alpha: number[][] = [tagList.map((k) => start(k) + e(0, k))];
    for (let t = 1; t < L; t++) alpha.push(tagList.map((k) => e(t, k) + logSumExp(tagList.map((j) => alpha[t - 1]![j]! + trans(j, k)))));
    const beta: number[][] = [];
    beta[L - 1] = tagList.map(end);
    for (let t = L - 2; t >= 0; t--) beta[t] = tagList.map((j) => logSumExp(tagList.map((k) => trans(j, k) + e(t + 1, k) + beta[t + 1]![k]!)));
    const logZ = logSumExp(tagList.map((k) => alpha[L - 1]![k]! + end(k)));
    let gold = start(y[0]!) + end(y[L - 1]!);
    for (let t = 0; t < L; t++) gold += e(t, y[t]!) + (t > 0 ? trans(y[t - 1]!, y[t]!) : 0);
    out.ll.push(gold - logZ);
    out.loss += logZ - gold;
    for (let t = 0; t < L; t++) {
      for (const k of tagList) {
        const p = Math.exp(alpha[t]![k]! + beta[t]![k]! - logZ);
        out.marginals[(b * T + t) * K + k] = p;
        out.dx[(b * T + t) * K + k] = p - (k === y[t] ? 1 : 0);
        if (t === 0) grads.start_transitions[k]! += p - (k === y[0] ? 1 : 0);
        if (t === L - 1) grads.end_transitions[k]! += p - (k === y[L - 1] ? 1 : 0);
        if (t === 0) continue;
        for (const j of tagList) grads.transitions[j * K + k]! += Math.exp(alpha[t - 1]![j]! + trans(j, k) + e(t, k) + beta[t]![k]! - logZ);
      }
      if (t > 0) grads.transitions[y[t - 1]! * K + y[t]!]! -= 1;
    }
  }
  return { ...out, grads };
}

/** The layer's loss, gradients, marginals and log-likelihoods against logSpaceReference, all to rtol. */
function assertMatchesLogSpace(crf: CRF, x: Tensor, tags: number[][], lengths: number[], label: string, rtol: number, atol: number): void {
  const ref = logSpaceReference(crf, x, tags, lengths);
  crf.zeroGrad();
  const { loss, dEmissions } = crf.nll(x, tags, { lengths });
  assertClose([loss], [ref.loss], `${label}: loss`, rtol, atol);
  assertClose(dEmissions.data, ref.dx, `${label}: dEmissions`, rtol, atol);
  const grads = crf.gradDict();
  for (const name of PARAMS) assertClose(grads[name]!, ref.grads[name]!, `${label}: d${name}`, rtol, atol);
  assertClose(crf.marginals(x, { lengths }).data, ref.marginals, `${label}: marginals`, rtol, atol);
  assertClose(crf.logLikelihood(x, tags, { lengths }), ref.ll, `${label}: logLikelihood`, rtol, atol);
}

test('the scaled-space forward-backward equals the log-space one to rounding, long sentences and large scores included', () => {
  const cases: { label: string; opts: CRFOptions; scale: number; lengths: number[] }[] = [
    { label: 'K 20, emissions of scale 25', opts: { numTags: 20 }, scale: 25, lengths: [60, 17, 1, 40] },
    { label: 'BIOES, emissions of scale 20', opts: { numTags: 9, constraints: { scheme: 'BIOES', tags: BIOES } }, scale: 20, lengths: [60, 5, 1, 33] },
    { label: 'BIO, emissions of scale 3', opts: { numTags: 5, constraints: { scheme: 'BIO', tags: BIO } }, scale: 3, lengths: [200, 2] },
  ];
  for (const { label, opts, scale, lengths } of cases) {
    const rng = new Rng(11);
    const crf = randomCrf(rng, opts);
    const K = opts.numTags;
    const emissions = randomTensor(rng, [lengths.length, Math.max(...lengths), K], scale);
    const tags = crf.decode(emissions, { lengths }); // an allowed path (drawing one at random would take long at 200 steps)
    // The reference's exp(α + β − log Z) itself rounds |log Z| ≈ 1500 at ε: ~1e-12 absolute, hence atol.
    assertMatchesLogSpace(crf, emissions, tags, lengths, label, 1e-12, 5e-12);
  }
});

test('a sentence whose every allowed path underflows in scaled space falls back to log space, still exact', () => {
  // O scores 800 at step 0 and I-X 800 at step 1, but O → I-X is forbidden: against the best tag of each step every
  // allowed path is e^-800 smaller, so the scaled forward's scale c_1 underflows to 0 (only O O and B-X I-X count).
  const crf = new CRF({ numTags: 3, constraints: { scheme: 'BIO', tags: ['O', 'B-X', 'I-X'] } }, { backend: new ReferenceBackend('float64') });
  crf.loadStateDict({ start_transitions: [0, 0, 0], end_transitions: [0, 0, 0], transitions: new Float64Array(9) });
  const x = tensor([800, 0.5, 0, 1, 0, 800, 0, 0, 0, 0, 0, 0], [2, 2, 3]);
  const tags = [[0, 0], [1, 2]];
  const lengths = [2, 1];
  assertMatchesLogSpace(crf, x, tags, lengths, 'fallback', 1e-12, 1e-13);
  const m = crf.marginals(x, { lengths }).data;
  assert.ok(m[0]! > 0.1 && m[1]! > 0.1, `both allowed paths keep their mass: ${m.slice(0, 3).join(', ')}`);
});

test('nll reduction: mean divides the loss and every gradient by the batch, token_mean by the real tokens', () => {
  const rng = new Rng(5);
  const K = 4;
  const crf = randomCrf(rng, { numTags: K });
  const lengths = [5, 2, 3];
  const x = randomTensor(rng, [3, 5, K], 2);
  const tags = lengths.map((L) => randomPath(rng, K, L));
  const run = (reduction?: 'sum' | 'mean' | 'token_mean'): { loss: number; dx: Float32Array | Float64Array; grads: StateDict } => {
    crf.zeroGrad();
    const { loss, dEmissions } = crf.nll(x, tags, reduction ? { lengths, reduction } : { lengths });
    return { loss, dx: dEmissions.data, grads: crf.gradDict() };
  };
  const sum = run();
  assert.deepEqual(run('sum'), sum);
  for (const [reduction, n] of [['mean', 3], ['token_mean', 10]] as const) {
    const r = run(reduction);
    assertClose([r.loss], [sum.loss / n], `${reduction}: loss`, 1e-14, 0);
    assertClose(r.dx, sum.dx.map((g) => g / n), `${reduction}: dEmissions`, 1e-14, 1e-16);
    for (const name of PARAMS) assertClose(r.grads[name]!, sum.grads[name]!.map((g) => g / n), `${reduction}: d${name}`, 1e-14, 1e-16);
  }
  assert.throws(() => crf.nll(x, tags, { lengths, reduction: 'avg' as 'mean' }), /CRF: reduction must be 'sum', 'mean' or 'token_mean', got "avg"/);
  assert.throws(() => crf.nll(x, tags, { lengths, reduction: 'none' as 'sum' }), /got "none"/);
});
