// The model's plain-tensor face: batch-first tensors and lengths in, the head
// output out, backward from a loss's gradient; bad input is a typed error
// naming what came and what was expected.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mseLoss, Rng, SequenceModel, ShapeError, tensor, ValueError } from '../../src/index.js';

const features = {
  input: { type: 'features', size: 2 }, rnn: { cell: 'lstm', hiddenSize: 3, bidirectional: true },
  output: { mode: 'step', type: 'regression', size: 1 },
} as const;
const tokens = {
  input: { type: 'tokens', embeddingDim: 2, vocabulary: ['<pad>', '<unk>', 'a', 'b'] }, rnn: { cell: 'gru', hiddenSize: 3 },
  output: { mode: 'sequence', type: 'classification', classes: ['x', 'y'] },
} as const;

test('forward: batch-first in, [B, T, K] per step out; the padded steps do not reach the real ones', () => {
  const model = new SequenceModel(features, { seed: 1 });
  const rng = new Rng(2);
  const x = tensor(Float32Array.from({ length: 2 * 4 * 2 }, () => rng.normal()), [2, 4, 2]);
  // Sequence 1 alone, two steps: the same outputs as in the padded batch.
  const alone = model.forward({ x: tensor(x.data.slice(8, 12), [1, 2, 2]) });
  const y = model.forward({ x }, { lengths: [4, 2] });
  assert.deepEqual(y.shape, [2, 4, 1]);
  assert.ok(Math.abs(alone.data[0]! - y.data[4]!) < 1e-6 && Math.abs(alone.data[1]! - y.data[5]!) < 1e-6);
  const { grad } = mseLoss(y, tensor(new Float32Array(8), [2, 4, 1]));
  model.zeroGrad();
  model.backward(grad);
  assert.ok(Object.values(model.gradDict()).some((g) => g.some((v) => v !== 0)));
});

test('bad input to forward and backward is a typed error that says what came', () => {
  const model = new SequenceModel(features, { seed: 1 });
  const x = tensor(new Float32Array(2 * 3 * 2), [2, 3, 2]);
  assert.throws(
    () => model.forward({ x: tensor(new Float32Array(6), [2, 3]) }),
    (e: unknown) => e instanceof ShapeError && /expected \[batch, steps, features\]/.test((e as Error).message),
  );
  assert.throws(() => model.forward({ x: tensor(new Float32Array(18), [2, 3, 3]) }), /x has 3 features per step, the model expects 2/);
  assert.throws(
    () => model.forward({ x }, { lengths: [3, 4] }),
    (e: unknown) => e instanceof ValueError && /lengths must be 2 integers in \[1, 3\], got \[3, 4\]/.test((e as Error).message),
  );
  assert.throws(() => model.forward({ x }, { lengths: [3, 1.5] }), /lengths must be 2 integers/);
  assert.throws(() => model.forward({ x: tensor([1, 2, NaN, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]) }), /x\[2\] is NaN/);
  assert.throws(() => model.forward({ tokens: tensor([2, 3], [1, 2]) }), /reads numbers per step \(x\), not tokens/);
  model.forward({ x });
  assert.throws(() => model.backward(tensor(new Float32Array(6), [2, 3])), /output gradient has shape \[2, 3\], expected \[2, 3, 1\]/);

  const lm = new SequenceModel(tokens, { seed: 1 });
  assert.deepEqual(lm.forward({ tokens: tensor([2, 3, 0, 3, 0, 0], [2, 3]) }, { lengths: [2, 1] }).shape, [2, 2]);
  assert.throws(() => lm.forward({ tokens: tensor([2, 3.5], [1, 2]) }), /tokens\[0\]\[1\] is 3.5, expected a token index/);
  assert.throws(() => lm.forward({ tokens: tensor([2, 4], [1, 2]) }), /index \[1\] is 4, expected an integer in \[0, 4\)/);
  assert.throws(() => lm.forward({ x }), /reads tokens, not numbers per step/);
});
