// rnn.recurrentDropout in a model config: validated with the field named,
// wired into the recurrent stack, trained with (the loss falls), off when
// evaluating, and kept by the model file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { ValueError } from '../../src/core/errors.js';
import { addingProblem } from '../../src/data/synthetic.js';
import { encodeRecords } from '../../src/data/encode.js';
import { parseJsonl } from '../../src/data/jsonl.js';
import { decodeModelFile, encodeModelFile, modelFromFile } from '../../src/io/modelfile.js';
import { parseModelConfig, type ModelConfig } from '../../src/model/config.js';
import { SequenceModel } from '../../src/model/model.js';
import { Trainer } from '../../src/train/trainer.js';
import { outputsOn } from '../helpers/imported.js';

function config(cell: 'lstm' | 'gru' | 'rnn', recurrentDropout: number): ModelConfig {
  return {
    input: { type: 'features', size: 2 },
    rnn: { cell, hiddenSize: 16, numLayers: 2, bidirectional: true, recurrentDropout },
    output: { mode: 'sequence', type: 'regression' },
  };
}

/** The bytes of a float32 array, to compare bit for bit. */
function bits(a: ArrayLike<number>): string {
  return Buffer.from(Float32Array.from(a).buffer).toString('hex');
}

test('rnn.recurrentDropout outside [0, 1) is refused, naming the field', () => {
  for (const bad of [1, -0.5, 'x', null]) {
    const c = { ...config('lstm', 0), rnn: { cell: 'lstm', hiddenSize: 4, recurrentDropout: bad } };
    assert.throws(() => parseModelConfig(c), (e: unknown) => e instanceof ValueError && /rnn\.recurrentDropout/.test((e as Error).message));
    assert.throws(() => new SequenceModel(c), /rnn\.recurrentDropout/);
  }
  assert.equal(parseModelConfig(config('gru', 0.5)).rnn.recurrentDropout, 0.5);
});

for (const cell of ['lstm', 'gru', 'rnn'] as const) {
  test(`a ${cell} config with recurrentDropout learns, evaluates without masks, and keeps it in the model file`, async () => {
    const text = addingProblem(512, 6, new Rng(1)).map((r) => JSON.stringify(r)).join('\n');
    const c = config(cell, 0.3);
    const examples = encodeRecords(parseJsonl(text, 'mem.jsonl'), c, { file: 'mem.jsonl', requireTarget: true });
    const model = new SequenceModel(c, { seed: 2 });
    assert.equal(model.rnn.recurrentDropout, 0.3);
    const trainer = new Trainer(model, { epochs: 10, batchSize: 16, optimizer: { name: 'adam', lr: 0.01 }, clipNorm: 5, seed: 3 });
    const history = await trainer.fit(examples);
    const first = history[0]!.loss;
    const last = history[history.length - 1]!.loss;
    // Predicting the mean scores 1/6 (the variance of a sum of two uniforms); 0.04 or less was measured.
    assert.ok(last < 0.1 && last < first / 2, `training loss ${first} → ${last}`);

    // Evaluation is deterministic (no masks) and equals the same weights without the option.
    const inputs = [[[0.5, 1], [0.25, 0], [0.75, 1]], [[0.1, 0], [0.2, 1]]];
    model.eval();
    const plain = new SequenceModel(config(cell, 0), { seed: 4 });
    plain.loadStateDict(model.stateDict());
    plain.eval();
    const y = outputsOn(model, inputs);
    assert.deepEqual(outputsOn(model, inputs).map(bits), y.map(bits));
    assert.deepEqual(outputsOn(plain, inputs).map(bits), y.map(bits));

    // The model file keeps the option and the weights, bit for bit.
    const loaded = modelFromFile(decodeModelFile(encodeModelFile(model), 'm.lstmkit'), { seed: 5 }, 'm.lstmkit');
    assert.ok(loaded instanceof SequenceModel);
    assert.deepEqual(loaded.config, model.config);
    assert.equal(loaded.config.rnn.recurrentDropout, 0.3);
    assert.equal(loaded.rnn.recurrentDropout, 0.3);
    loaded.eval();
    assert.deepEqual(outputsOn(loaded, inputs).map(bits), y.map(bits));
  });
}
