// The Seq2Seq model (encoder–decoder, Luong attention, input feeding) against
// PyTorch (test/fixtures/make_seq2seq_fixtures.py): a model built from each
// fixture's config, loaded with PyTorch's parameters and run with teacher
// forcing on the same padded batch, gives the same logits, attention weights,
// label-smoothed loss and gradient of every parameter, to 1e-5 relative, 1e-6
// absolute; its greedy decode of the same sources gives the same token ids.
//
// The fixtures' own consistency is checked too (shapes, padding, greedy ends).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Seq2SeqModel, crossEntropyLoss, greedyDecode, tensor } from '../../src/index.js';
import { assertClose, listFixtures, loadFixture, type JsonTensor } from '../helpers/fixtures.js';

const BOS = 2;
const EOS = 3;

interface Seq2SeqConfig {
  input: { type: 'tokens'; embeddingDim: number; vocabulary: string[] } | { type: 'vector'; size: number };
  rnn?: { cell: 'lstm' | 'gru' | 'rnn'; hiddenSize: number; numLayers: number; bidirectional: boolean };
  output: {
    mode: 'seq2seq'; vocabulary: string[]; embeddingDim: number; hiddenSize: number; numLayers: number;
    attention: 'dot' | 'general' | 'additive' | 'none'; tieEmbeddings: boolean;
  };
  train: { labelSmoothing: number };
}

interface Seq2SeqFixture {
  name: string;
  description: string;
  config: Seq2SeqConfig;
  /** Every parameter under lstmkit's names (src_embedding.weight, encoder.*, bridge_h.*, ..., out.*). */
  params: Record<string, JsonTensor>;
  inputs: {
    /** Source token ids [B, S], padded with 0 (token input). */
    src?: JsonTensor;
    /** [B] true source lengths (token input). */
    srcLengths?: number[];
    /** The feature vector [B, F] (one-to-many). */
    vector?: JsonTensor;
    /** Decoder inputs [B, T]: <bos> y1 … yn, padded with 0. */
    tin: JsonTensor;
    /** Targets [B, T]: y1 … yn <eos>, padded with -1. */
    tout: JsonTensor;
    /** [B] n + 1. */
    tgtLengths: number[];
  };
  /** [B, T, Vt], every step (padded target steps too). */
  logits: JsonTensor;
  /** [B, T, S], the attention weights (absent for one-to-many). */
  attention?: JsonTensor;
  loss: number;
  labelSmoothing: number;
  grads: Record<string, JsonTensor>;
  /** The greedy decoder's step budget. */
  maxLength: number;
  /** Per sequence, the emitted ids: <bos> not listed, <eos> listed when emitted (then last). */
  greedy: number[][];
}

interface Seq2SeqRun {
  /** [B, T, Vt], batch-first, row-major. */
  logits: number[];
  /** [B, T, S]; undefined without attention. */
  attention?: number[];
  loss: number;
  /** ∂loss/∂parameter by lstmkit's name. */
  grads: Record<string, ArrayLike<number>>;
  /** The greedy decode of the same sources, as the fixture lists it. */
  greedy: number[][];
}

/**
 * The one place the test drives the Seq2Seq model: built from fx.config and
 * loaded with fx.params; teacher forcing on fx.inputs and the label-smoothed
 * cross-entropy against tout, back-propagated from zeroed gradients; then, in
 * eval mode, a greedy decode of the same sources for at most fx.maxLength steps.
 */
function runSeq2Seq(fx: Seq2SeqFixture): Seq2SeqRun {
  const model = new Seq2SeqModel(fx.config, { seed: 1 });
  model.loadStateDict(fx.params);
  const { inputs } = fx;
  const tin = tensor(inputs.tin.data, inputs.tin.shape);
  const source = inputs.vector
    ? { vector: tensor(inputs.vector.data, inputs.vector.shape) }
    : { src: tensor(inputs.src!.data, inputs.src!.shape), srcLengths: inputs.srcLengths! };
  model.zeroGrad();
  const { logits, attention } = model.forward(source, tin);
  const { loss, grad } = crossEntropyLoss(logits, inputs.tout.data, { labelSmoothing: fx.labelSmoothing });
  model.backward(grad);
  const grads = model.gradDict();
  const decodeSource = inputs.vector
    ? { vector: tensor(inputs.vector.data, inputs.vector.shape) }
    : { src: { data: Int32Array.from(inputs.src!.data), shape: inputs.src!.shape }, lengths: Int32Array.from(inputs.srcLengths!) };
  const greedy = greedyDecode(model, decodeSource, { maxLength: fx.maxLength }).map((d) => d.tokens);
  return {
    logits: Array.from(logits.data),
    ...(attention ? { attention: Array.from(attention.data) } : {}),
    loss,
    grads,
    greedy,
  };
}

const DIR = join('torch', 'seq2seq');
const files = listFixtures(DIR);
const size = (t: JsonTensor): number => t.shape.reduce((a, b) => a * b, 1);

test('seq2seq fixtures are present', () => {
  assert.ok(files.length >= 5, `expected the seq2seq fixtures in test/fixtures/${DIR}, found ${files.length}`);
});

for (const file of files) {
  const fx = loadFixture<Seq2SeqFixture>(DIR, file);

  test(`seq2seq fixture is consistent: ${fx.name}`, () => {
    const { config, inputs } = fx;
    const B = inputs.tgtLengths.length;
    const T = Math.max(...inputs.tgtLengths);
    const Vt = config.output.vocabulary.length;
    assert.deepEqual(inputs.tin.shape, [B, T]);
    assert.deepEqual(inputs.tout.shape, [B, T]);
    assert.deepEqual(fx.logits.shape, [B, T, Vt]);
    assert.equal(fx.labelSmoothing, config.train.labelSmoothing);
    assert.deepEqual(Object.keys(fx.grads), Object.keys(fx.params), 'a gradient for every parameter');
    for (const [name, p] of Object.entries(fx.params)) {
      assert.deepEqual(fx.grads[name]!.shape, p.shape, name);
      assert.equal(p.data.length, size(p), name);
    }
    for (let b = 0; b < B; b++) {
      const n = inputs.tgtLengths[b]! - 1;
      const tin = inputs.tin.data.slice(b * T, (b + 1) * T);
      const tout = inputs.tout.data.slice(b * T, (b + 1) * T);
      assert.deepEqual(tin, [BOS, ...tout.slice(0, n), ...Array<number>(T - n - 1).fill(0)], `${fx.name} tin[${b}]`);
      assert.equal(tout[n], EOS);
      assert.ok(tout.slice(n + 1).every((v) => v === -1), `${fx.name} tout[${b}] padded with -1`);
    }
    if (config.input.type === 'vector') {
      assert.deepEqual(inputs.vector?.shape, [B, config.input.size]);
      assert.equal(fx.attention, undefined);
      assert.equal(config.output.attention, 'none');
    } else {
      const S = inputs.src!.shape[1]!;
      assert.deepEqual(inputs.src!.shape, [B, S]);
      assert.deepEqual(fx.attention!.shape, [B, T, S]);
      // Each a_t sums to 1 over the valid source steps and is exactly 0 on the padded ones.
      for (let b = 0; b < B; b++) {
        const len = inputs.srcLengths![b]!;
        for (let t = 0; t < T; t++) {
          const row = fx.attention!.data.slice((b * T + t) * S, (b * T + t + 1) * S);
          assert.ok(row.slice(len).every((v) => v === 0), `${fx.name} a[${b}, ${t}] on padded source steps`);
          assert.ok(Math.abs(row.reduce((x, y) => x + y, 0) - 1) < 1e-6, `${fx.name} a[${b}, ${t}] sums to 1`);
        }
      }
    }
    assert.equal(fx.greedy.length, B);
    for (const seq of fx.greedy) {
      assert.ok(seq.length >= 1 && seq.length <= fx.maxLength, `${fx.name} greedy length ${seq.length}`);
      assert.ok(seq.slice(0, -1).every((id) => id !== EOS), `${fx.name} greedy stops at the first <eos>`);
      assert.ok(seq.length === fx.maxLength || seq.at(-1) === EOS, `${fx.name} greedy ends at <eos> or maxLength`);
    }
  });

  test(`PyTorch parity (seq2seq): ${fx.name}`, (ctx) => {
    const run = runSeq2Seq(fx);
    const report: string[] = [];
    const check = (actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void => {
      const d = assertClose(actual, expected, `${fx.name} ${what}`, 1e-5, 1e-6);
      report.push(`${what} ${d.maxAbs.toExponential(1)}`);
    };
    check(run.logits, fx.logits.data, 'logits');
    if (fx.attention) check(run.attention ?? [], fx.attention.data, 'attention');
    else assert.equal(run.attention, undefined, `${fx.name}: no attention without an encoder`);
    check([run.loss], [fx.loss], 'loss');
    assert.deepEqual(Object.keys(run.grads).sort(), Object.keys(fx.grads).sort(), `${fx.name}: parameter names`);
    for (const [name, expected] of Object.entries(fx.grads)) check(run.grads[name]!, expected.data, `d${name}`);
    ctx.diagnostic(`max abs diff: ${report.join(', ')}`);
    assert.deepEqual(run.greedy, fx.greedy, `${fx.name}: greedy decode`);
  });
}
