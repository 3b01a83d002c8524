import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crossEntropyLoss, mseLoss, tensor } from '../../src/index.js';
import { assertClose, loadFixture, type JsonTensor } from '../helpers/fixtures.js';

interface LossFixture {
  pred?: JsonTensor; target?: JsonTensor; mask?: JsonTensor;
  logits?: JsonTensor; targets?: JsonTensor | number[];
  loss: number; grad: JsonTensor;
}
const fx = loadFixture<Record<string, LossFixture>>('torch', 'losses.json');
const t = (j: JsonTensor) => tensor(j.data, j.shape);
const ints = (j: JsonTensor | number[]) => (Array.isArray(j) ? j : j.data);

for (const name of ['mse', 'mse_masked']) {
  test(`${name} matches PyTorch`, () => {
    const f = fx[name]!;
    const { loss, grad } = mseLoss(t(f.pred!), t(f.target!), f.mask ? { mask: f.mask.data } : {});
    assertClose([loss], [f.loss], 'loss');
    assertClose(grad.data, f.grad.data, 'grad');
  });
}

for (const name of ['cross_entropy', 'cross_entropy_masked', 'cross_entropy_extreme']) {
  test(`${name} matches PyTorch`, () => {
    const f = fx[name]!;
    const { loss, grad, probs } = crossEntropyLoss(t(f.logits!), ints(f.targets!));
    assertClose([loss], [f.loss], 'loss');
    assertClose(grad.data, f.grad.data, 'grad');
    assert.ok(probs.data.every(Number.isFinite));
  });
}

test('a fully masked batch gives loss 0 and zero gradients, not NaN', () => {
  const { loss, grad } = mseLoss(tensor([1, 2], [2, 1]), tensor([0, 0], [2, 1]), { mask: [0, 0] });
  assert.equal(loss, 0);
  assert.deepEqual([...grad.data], [0, 0]);
  const ce = crossEntropyLoss(tensor([1, 2, 3, 4], [2, 2]), [-1, -1]);
  assert.equal(ce.loss, 0);
  assert.ok(ce.grad.data.every((v) => v === 0));
});

test('a target class out of range is a clear error', () => {
  assert.throws(() => crossEntropyLoss(tensor([1, 2], [1, 2]), [2]), /target \[0\] is class 2, but there are 2 classes/);
});
