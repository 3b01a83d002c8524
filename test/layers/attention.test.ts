// Attention against central finite differences in Float64 (dot, general, additive; unequal memory lengths),
// padded memory steps weighted exactly 0, and its errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attention, Rng, tensor, type AttentionKind, type Tensor } from '../../src/index.js';
import { ReferenceBackend } from '../../src/internals.js';
import { checkGradient } from '../helpers/gradcheck.js';

function random(rng: Rng, shape: number[]): Tensor {
  return tensor(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
}

for (const kind of ['dot', 'general', 'additive'] as AttentionKind[]) {
  test(`gradient check: ${kind} attention, unequal memory lengths`, () => {
    const backend = new ReferenceBackend('float64');
    const [B, T, S, Hq] = [3, 2, 4, 3];
    const Dm = kind === 'dot' ? Hq : 5;
    const att = new Attention({ kind, querySize: Hq, memorySize: Dm }, { backend, seed: 1 });
    const rng = new Rng(2);
    const query = random(rng, [B, T, Hq]);
    const memory = random(rng, [B, S, Dm]);
    const r = random(rng, [B, T, Dm]);
    const lengths = [4, 2, 3];
    const loss = (): number => {
      const { context } = att.forward(query, memory, { lengths });
      let s = 0;
      for (let i = 0; i < context.data.length; i++) s += context.data[i]! * r.data[i]!;
      return s;
    };
    const { weights } = att.forward(query, memory, { lengths });
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) for (let s = lengths[b]!; s < S; s++) assert.equal(weights.data[(b * T + t) * S + s], 0, 'a padded step gets weight 0');
    }
    att.zeroGrad();
    const { dQuery, dMemory } = att.backward(r);
    const grads = att.gradDict();
    const check = (what: string, values: Float64Array | Float32Array, analytic: ArrayLike<number>): void =>
      checkGradient(what, values, analytic, loss, { atol: 1e-8, rtol: 1e-6 });
    check('query', query.data, dQuery.data);
    check('memory', memory.data, dMemory.data);
    // Padded memory steps get no gradient.
    for (let b = 0; b < B; b++) for (let s = lengths[b]!; s < S; s++) for (let j = 0; j < Dm; j++) assert.equal(dMemory.data[(b * S + s) * Dm + j], 0);
    const params = att.parameters();
    const heap = backend.arena.heap;
    for (const name of params.names()) {
      const at = params.offset(name);
      const n = params.shape(name).reduce((a, b) => a * b, 1);
      check(name, heap.subarray(at, at + n), grads[name]!);
    }
    assert.deepEqual(params.names(), kind === 'general' ? ['weight'] : kind === 'additive' ? ['query.weight', 'key.weight', 'v.weight'] : []);
  });
}

test('attention errors say what is wrong', () => {
  assert.throws(() => new Attention({ kind: 'dot', querySize: 3, memorySize: 4 }), /'dot' scores need the query \(3\) and the memory \(4\) to have one size/);
  assert.throws(() => new Attention({ kind: 'luong' as AttentionKind, querySize: 3, memorySize: 3 }), /kind must be 'dot', 'general' or 'additive'/);
  const att = new Attention({ kind: 'general', querySize: 2, memorySize: 3 });
  const four = tensor(new Float32Array(4), [1, 2, 2]);
  assert.throws(() => att.forward(four, four), /memory has shape \[1, 2, 2\], expected \[1, steps, 3\]/);
});
