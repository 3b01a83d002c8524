// Files written by an earlier lstmkit (test/fixtures/legacy, made at commit
// b553839, before models became module trees) still load, predict what that
// version predicted, and a checkpoint of it resumes where its run stopped.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeRecords, loadModel, parseJsonl, predictModel, Trainer, type TrainConfig, SequenceModel } from '../../src/index.js';
import { FIXTURES } from '../helpers/fixtures.js';

const dir = join(FIXTURES, 'legacy');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
  resumedEpoch3Loss: number;
  predictions: { label: string; probabilities: Record<string, number> }[];
};
const records = (name: string) => parseJsonl(readFileSync(join(dir, name), 'utf8'), name);

test('a model file of the earlier version loads and predicts what that version predicted', async () => {
  const { model } = await loadModel(join(dir, 'b-best.lstmkit'));
  assert.ok(model instanceof SequenceModel);
  const examples = encodeRecords(records('texts.jsonl'), model.config, { file: 'texts.jsonl', requireTarget: false });
  const predictions = predictModel(model, examples) as typeof expected.predictions;
  assert.equal(predictions.length, expected.predictions.length);
  predictions.forEach((p, i) => {
    const want = expected.predictions[i]!;
    assert.equal(p.label, want.label, `text ${i}`);
    for (const [label, prob] of Object.entries(want.probabilities)) {
      assert.ok(Math.abs(p.probabilities[label]! - prob) < 1e-6, `text ${i}, ${label}: ${p.probabilities[label]} vs ${prob}`);
    }
  });
});

test("a checkpoint of the earlier version resumes: the next epoch's loss is the one that version's resumed run printed", async () => {
  const config = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as { train: TrainConfig };
  const train: TrainConfig = { ...config.train, epochs: 3 };
  const trainer = await Trainer.resume(join(dir, 'a-epoch2-last.lstmkit'), train, { seed: train.seed ?? 0 });
  assert.equal(trainer.epochsDone, 2);
  assert.ok(trainer.model instanceof SequenceModel);
  const examples = encodeRecords(records('series.jsonl'), trainer.model.config, { file: 'series.jsonl', requireTarget: true });
  const history = await trainer.fit(examples);
  assert.equal(history.length, 3);
  // The same weights, optimizer moments, shuffling and dropout streams: the same loss, up to the backend's rounding
  // (the fixture's figure came from the WebAssembly backend; a lost state would be off by far more).
  const got = history[2]!.loss;
  assert.ok(
    Math.abs(got - expected.resumedEpoch3Loss) <= 1e-5 * Math.abs(expected.resumedEpoch3Loss),
    `epoch 3 loss ${got}, the earlier version's ${expected.resumedEpoch3Loss}`,
  );
});
