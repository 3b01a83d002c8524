// The wasm attention step (scores, masked softmax, context) and tanh against
// the reference backend, on odd feature sizes that leave SIMD tails (and D
// over 16 that runs the 16-wide body several times), rows shorter than the
// memory, and junk in the outputs that the kernel must overwrite.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { Twin, assertNear, randomArray, wasmVariants } from '../helpers/backends.js';

/** [B, S, H, D] */
const SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 1], [3, 5, 7, 9], [5, 11, 13, 37], [4, 7, 33, 3], [2, 9, 256, 256], [7, 3, 5, 67],
];

for (const { label, backend } of wasmVariants()) {
  test(`attendForward matches the reference, ${label}`, () => {
    const twin = new Twin(backend);
    const rng = new Rng(7);
    for (const [B, S, H, D] of SHAPES) {
      // Row 0 runs every step, row 1 (when there is one) just one; the rest at random.
      const lengths = Int32Array.from({ length: B }, (_, b) => (b === 0 ? S : b === 1 ? 1 : 1 + rng.int(S)));
      const query = twin.put(randomArray(rng, B * H, 1));
      const keys = twin.put(randomArray(rng, S * B * H, 1));
      const values = twin.put(randomArray(rng, S * B * D, 2));
      const weights = twin.junk(B * S);
      const context = twin.junk(B * D);
      for (const k of [twin.ref, twin.fast]) {
        const [q, kk, v, w, c] = k === twin.ref
          ? [query.ref, keys.ref, values.ref, weights.ref, context.ref]
          : [query.fast, keys.fast, values.fast, weights.fast, context.fast];
        k.attendForward(B, S, H, D, q, kk, v, lengths, w, c);
      }
      const what = `${label} B=${B} S=${S} H=${H} D=${D}`;
      const w = twin.read(weights);
      assertNear(w.fast, w.ref, `${what} weights`, 1e-5, 1e-6);
      for (let b = 0; b < B; b++) {
        let sum = 0;
        for (let s = 0; s < S; s++) {
          const a = w.fast[b * S + s]!;
          if (s >= lengths[b]!) assert.equal(a, 0, `${what}: row ${b} step ${s} is past its length ${lengths[b]}`);
          sum += a;
        }
        assert.ok(Math.abs(sum - 1) < 1e-5, `${what}: row ${b}'s weights sum to ${sum}`);
      }
      const c = twin.read(context);
      assertNear(c.fast, c.ref, `${what} context`, 1e-5, 1e-5);
      twin.release(query, keys, values, weights, context);
    }
  });

  test(`tanh matches Math.tanh, in place and not, ${label}`, () => {
    const twin = new Twin(backend);
    const rng = new Rng(8);
    for (const n of [1, 3, 4, 5, 17, 67, 1001]) {
      const x = twin.put(randomArray(rng, n, 6));
      const y = twin.junk(n);
      twin.ref.tanh(n, x.ref, y.ref);
      twin.fast.tanh(n, x.fast, y.fast);
      const out = twin.read(y);
      assertNear(out.fast, out.ref, `${label} tanh n=${n}`, 1e-6, 1e-7);
      twin.ref.tanh(n, x.ref, x.ref);
      twin.fast.tanh(n, x.fast, x.fast);
      const inPlace = twin.read(x);
      assertNear(inPlace.fast, out.ref, `${label} tanh in place n=${n}`, 1e-6, 1e-7);
      twin.release(x, y);
    }
  });
}
