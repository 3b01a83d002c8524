// The wasm pointwise kernels, reductions, softmax cross-entropy and Adam
// against the reference backend, on lengths that leave SIMD tails; and the
// accuracy of the fast sigmoid / tanh against the exact functions.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { NONE } from '../../src/kernels/backend.js';
import { Twin, assertIdentical, assertNear, randomArray, wasmBackend, wasmVariants } from '../helpers/backends.js';

const LENGTHS = [1, 3, 4, 5, 8, 13, 17, 33, 67, 1001];

for (const { label, backend } of wasmVariants()) {
  test(`pointwise kernels match the reference, ${label}`, () => {
    const twin = new Twin(backend);
    const rng = new Rng(21);
    for (const n of LENGTHS) {
      const x = twin.put(randomArray(rng, n, 3));
      const y = twin.put(randomArray(rng, n, 3));
      const out = twin.junk(n);
      for (const be of ['ref', 'fast'] as const) {
        const k = be === 'ref' ? twin.ref : twin.fast;
        k.mul(n, x[be], y[be], out[be]);
        k.axpy(n, -0.37, x[be], y[be]);
        k.scale(n, x[be], 1.7);
        k.clamp(n, x[be], 2.5);
      }
      const check = (buf: typeof x, what: string): void => {
        const r = twin.read(buf);
        assertNear(r.fast, r.ref, `${label} n=${n} ${what}`, 1e-6, 1e-7);
      };
      check(out, 'mul');
      check(y, 'axpy');
      check(x, 'scale + clamp');
      // Squares summed in float64 on both sides: only the order of the sum differs.
      const fresh = twin.put(randomArray(rng, n, 3));
      const sq = { ref: twin.ref.sumSquares(n, fresh.ref), fast: twin.fast.sumSquares(n, fresh.fast) };
      assert.ok(Math.abs(sq.ref - sq.fast) <= 1e-13 * sq.ref, `sumSquares n=${n}: ${sq.fast} vs ${sq.ref}`);
      twin.release(fresh);
      twin.ref.fill(n, out.ref, 0.25);
      twin.fast.fill(n, out.fast, 0.25);
      check(out, 'fill');
      twin.ref.fill(n, out.ref, 0);
      twin.fast.fill(n, out.fast, 0);
      check(out, 'fill 0');
      twin.ref.copy(n, y.ref, out.ref);
      twin.fast.copy(n, y.fast, out.fast);
      check(out, 'copy');
      twin.release(x, y, out);
    }
  });

  test(`allFinite finds a NaN or infinity anywhere, ${label}`, () => {
    const k = backend;
    for (const n of LENGTHS) {
      const off = k.arena.alloc(n);
      k.fill(n, off, 1);
      assert.equal(k.allFinite(n, off), true);
      for (const pos of [0, n - 1, Math.floor(n / 2)]) {
        for (const bad of [Number.NaN, Infinity, -Infinity]) {
          k.arena.heap[off + pos] = bad;
          assert.equal(k.allFinite(n, off), false, `n=${n} ${bad} at ${pos}`);
          k.arena.heap[off + pos] = 1;
        }
      }
      k.arena.heap[off + n - 1] = 3e38; // large but finite
      assert.equal(k.allFinite(n, off), true);
      k.arena.release(off);
    }
  });

  test(`addBias and sumRows match the reference, ${label}`, () => {
    const twin = new Twin(backend);
    const rng = new Rng(22);
    for (const [rows, cols] of [[1, 1], [3, 5], [17, 13], [64, 67], [300, 1030]] as const) {
      const ld = cols + 3;
      const x = twin.put(randomArray(rng, rows * ld));
      const bias = twin.put(randomArray(rng, cols));
      const sums = twin.put(randomArray(rng, cols));
      for (const be of ['ref', 'fast'] as const) {
        const k = be === 'ref' ? twin.ref : twin.fast;
        k.addBias(rows, cols, x[be], ld, bias[be]);
        k.sumRows(rows, cols, x[be], ld, sums[be]);
      }
      const rx = twin.read(x);
      assertIdentical(rx.fast, rx.ref, `addBias ${rows}x${cols}`);
      const rs = twin.read(sums);
      // Both sum each column in float64, rows in order: identical.
      assertIdentical(rs.fast, rs.ref, `sumRows ${rows}x${cols}`);
      twin.release(x, bias, sums);
    }
  });

  test(`softmax cross-entropy matches the reference, ${label}`, () => {
    const twin = new Twin(backend);
    const rng = new Rng(23);
    for (const [rows, classes] of [[1, 1], [3, 2], [5, 7], [9, 13], [4, 67], [2, 1000]] as const) {
      const logits = twin.put(randomArray(rng, rows * classes, 8));
      const targets = Int32Array.from({ length: rows }, (_, r) => (r % 3 === 1 ? -1 : rng.int(classes)));
      const probs = twin.junk(rows * classes);
      const dlogits = twin.junk(rows * classes);
      const loss = {
        ref: twin.ref.softmaxCrossEntropy(rows, classes, logits.ref, targets, probs.ref, dlogits.ref, 0.5),
        fast: twin.fast.softmaxCrossEntropy(rows, classes, logits.fast, targets, probs.fast, dlogits.fast, 0.5),
      };
      const what = `${rows}x${classes}`;
      assert.ok(Math.abs(loss.fast - loss.ref) <= 1e-6 * Math.max(1, Math.abs(loss.ref)), `${what} loss ${loss.fast} vs ${loss.ref}`);
      const p = twin.read(probs);
      assertNear(p.fast, p.ref, `${what} probs`, 1e-6, 1e-9);
      const d = twin.read(dlogits);
      assertNear(d.fast, d.ref, `${what} dlogits`, 1e-6, 1e-7);
      // Without dlogits only the probabilities are written.
      const none = {
        ref: twin.ref.softmaxCrossEntropy(rows, classes, logits.ref, targets, probs.ref, NONE, 1),
        fast: twin.fast.softmaxCrossEntropy(rows, classes, logits.fast, targets, probs.fast, NONE, 1),
      };
      assert.ok(Math.abs(none.fast - none.ref) <= 1e-6 * Math.max(1, Math.abs(none.ref)));
      twin.release(logits, probs, dlogits);
    }
  });

  test(`adam and adamw match the reference, ${label}`, () => {
    const twin = new Twin(backend);
    const rng = new Rng(24);
    for (const n of [5, 67, 100_003]) {
      for (const [weightDecay, decoupled] of [[0, false], [0.01, false], [0.1, true]] as const) {
        const param = twin.put(randomArray(rng, n));
        const grad = twin.put(randomArray(rng, n, 0.1));
        const m = twin.put(randomArray(rng, n, 0.01));
        const v = twin.put(randomArray(rng, n, 0.001).map(Math.abs));
        for (let step = 1; step <= 3; step++) {
          for (const be of ['ref', 'fast'] as const) {
            const k = be === 'ref' ? twin.ref : twin.fast;
            k.adam({
              n, param: param[be], grad: grad[be], m: m[be], v: v[be], lr: 1e-2, beta1: 0.9, beta2: 0.999,
              eps: 1e-8, weightDecay, decoupled, step,
            });
          }
        }
        const what = `n=${n} wd=${weightDecay} decoupled=${decoupled}`;
        for (const [name, buf] of [['param', param], ['m', m], ['v', v]] as const) {
          const r = twin.read(buf);
          assertNear(r.fast, r.ref, `${what} ${name}`, 1e-5, 1e-7);
        }
        twin.release(param, grad, m, v);
      }
    }
  });
}

test('fast sigmoid and tanh stay within 1e-6 relative of the exact functions', () => {
  const k = wasmBackend(1).kernels;
  const rng = new Rng(25);
  let worstSigmoid = 0;
  let worstTanh = 0;
  const xs: number[] = [0, -0, 1e-30, -1e-20, 1e-8, 3e-5, 0.625, -0.625, 0.6249999, 9, 20, -20, 85, -85];
  for (let i = 0; i < 200_000; i++) xs.push(rng.range(-1, 1) * [1, 5, 20, 85][i % 4]!);
  for (const raw of xs) {
    const x = Math.fround(raw);
    const sigmoid = 1 / (1 + Math.exp(-x));
    worstSigmoid = Math.max(worstSigmoid, Math.abs(k.sigmoidf32(x) - sigmoid) / sigmoid);
    const tanh = Math.tanh(x);
    if (tanh !== 0) worstTanh = Math.max(worstTanh, Math.abs(k.tanhf32(x) - tanh) / Math.abs(tanh));
    else assert.equal(k.tanhf32(x), 0);
  }
  assert.ok(worstSigmoid < 1e-6, `sigmoid: worst relative error ${worstSigmoid}`);
  assert.ok(worstTanh < 1e-6, `tanh: worst relative error ${worstTanh}`);
  // Saturation: no NaN or overflow far out, NaN stays NaN.
  for (const x of [-1e30, -1000, -100, 100, 1000, 1e30]) {
    assert.ok(Math.abs(k.tanhf32(x) - Math.sign(x)) === 0, `tanh(${x})`);
    const s = k.sigmoidf32(x);
    assert.ok(s >= 0 && s <= 1 && Math.abs(s - 1 / (1 + Math.exp(-x))) < 1e-37, `sigmoid(${x}) = ${s}`);
  }
  assert.ok(Number.isNaN(k.sigmoidf32(Number.NaN)) && Number.isNaN(k.tanhf32(Number.NaN)));
});

test('SIMD lanes and scalar tails of sigmoid and tanh give the same bits', () => {
  const backend = wasmBackend(1);
  const k = backend.kernels;
  const rng = new Rng(26);
  const n = 4099; // 1024 vectors and a tail of 3
  const src = backend.arena.alloc(n);
  const dst = backend.arena.alloc(n);
  const xs = randomArray(rng, n, 12);
  backend.arena.heap.set(xs, src);
  for (const [vec, scalar] of [[k.sigmoidVec, k.sigmoidf32], [k.tanhVec, k.tanhf32]] as const) {
    vec(n, src * 4, dst * 4);
    const out = backend.arena.view(dst, n);
    for (let i = 0; i < n; i++) assert.ok(Object.is(out[i], Math.fround(scalar(xs[i]!))), `x = ${xs[i]} at ${i}`);
  }
  backend.arena.release(src);
  backend.arena.release(dst);
});
