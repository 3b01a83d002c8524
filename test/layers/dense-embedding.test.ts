import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dense, Embedding, ShapeError, ValueError, StateDictError, tensor } from '../../src/index.js';
import { assertClose, loadFixture, type JsonTensor } from '../helpers/fixtures.js';

interface LayerFixture {
  options: Record<string, number>;
  stateDict: Record<string, JsonTensor>;
  x?: JsonTensor;
  indices?: JsonTensor;
  y: JsonTensor;
  dY: JsonTensor;
  grads: Record<string, JsonTensor>;
}
const fx = loadFixture<Record<string, LayerFixture>>('torch', 'layers.json');

test('Dense matches torch.nn.Linear: output and every gradient', () => {
  const f = fx.linear!;
  const dense = new Dense({ inFeatures: f.x!.shape[1]!, outFeatures: f.y.shape[1]! });
  dense.loadStateDict(f.stateDict);
  const y = dense.forward(tensor(f.x!.data, f.x!.shape));
  assert.deepEqual(y.shape, f.y.shape);
  assertClose(y.data, f.y.data, 'y');
  const dx = dense.backward(tensor(f.dY.data, f.dY.shape));
  assertClose(dx.data, f.grads.x!.data, 'dx');
  const g = dense.gradDict();
  assertClose(g.weight!, f.grads.weight!.data, 'dweight');
  assertClose(g.bias!, f.grads.bias!.data, 'dbias');
});

for (const name of ['embedding', 'embedding_padding']) {
  test(`Embedding matches torch.nn.Embedding (${name})`, () => {
    const f = fx[name]!;
    const [num, dim] = f.stateDict.weight!.shape as [number, number];
    const padding = f.options.paddingIdx !== undefined && f.options.paddingIdx !== null;
    const emb = new Embedding({
      numEmbeddings: num, embeddingDim: dim, ...(padding ? { paddingIdx: f.options.paddingIdx } : {}),
    });
    emb.loadStateDict(f.stateDict);
    const y = emb.forward(f.indices!.data, f.indices!.shape);
    assert.deepEqual(y.shape, f.y.shape);
    assertClose(y.data, f.y.data, 'y', 0, 0);
    emb.backward(tensor(f.dY.data, f.dY.shape));
    assertClose(emb.gradDict().weight!, f.grads.weight!.data, 'dweight');
  });
}

test('Embedding pads with a zero row at init', () => {
  const emb = new Embedding({ numEmbeddings: 5, embeddingDim: 3, paddingIdx: 2 }, { seed: 1 });
  assert.deepEqual([...emb.stateDict().weight!.subarray(6, 9)], [0, 0, 0]);
});

test('bad input is a typed error naming what came and what was expected', () => {
  const dense = new Dense({ inFeatures: 4, outFeatures: 2 });
  assert.throws(
    () => dense.forward(tensor(new Float32Array(6), [2, 3])),
    (e: unknown) => e instanceof ShapeError && /expected last dimension 4/.test(e.message),
  );
  assert.throws(() => dense.forward(tensor([1, 2, NaN, 4], [1, 4])), (e: unknown) => e instanceof ValueError && /Dense input\[2\] is NaN/.test(e.message));
  assert.throws(
    () => dense.loadStateDict({ weight: new Float32Array(8) }),
    (e: unknown) => e instanceof StateDictError && /missing parameter\(s\) bias/.test(e.message),
  );
  assert.throws(
    () => dense.loadStateDict({ weight: { data: new Float32Array(8), shape: [4, 2] }, bias: new Float32Array(2) }),
    /weight has shape \[4, 2\], expected \[2, 4\]/,
  );
  assert.throws(
    () => dense.loadStateDict({ weight: new Float32Array(8), bias: new Float32Array(2), extra: new Float32Array(1) }),
    /unknown parameter\(s\) extra/,
  );
  const emb = new Embedding({ numEmbeddings: 3, embeddingDim: 2 });
  assert.throws(() => emb.forward([0, 3]), /index \[1\] is 3, expected an integer in \[0, 3\)/);
  assert.throws(() => new Dense({ inFeatures: 0, outFeatures: 1 }), ValueError);
});
