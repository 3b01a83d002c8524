import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addingProblem, temporalOrder } from '../../src/data/synthetic.js';
import { encodeRecords } from '../../src/data/encode.js';
import { completeConfig, type ModelConfig } from '../../src/model/config.js';
import { parseJsonl } from '../../src/data/jsonl.js';
import { Rng } from '../../src/core/rng.js';
import { SequenceModel } from '../../src/model/model.js';
import { Trainer } from '../../src/train/trainer.js';
import { ReduceLROnPlateau } from '../../src/train/schedules.js';
import { predictModel } from '../../src/train/evaluate.js';


function records(items: unknown[]) {
  return parseJsonl(items.map((r) => JSON.stringify(r)).join('\n'), 'mem.jsonl');
}

test('an LSTM learns the adding problem (T = 10) well below the mean-predictor MSE', async () => {
  const data = records(addingProblem(1500, 10, new Rng(1)));
  const config: ModelConfig = { input: { type: 'features', size: 2 }, rnn: { cell: 'lstm', hiddenSize: 16 }, output: { mode: 'sequence', type: 'regression' } };
  const examples = encodeRecords(data, config, { file: 'mem.jsonl', requireTarget: true });
  const model = new SequenceModel(config, { seed: 3 });
  const trainer = new Trainer(model, { epochs: 10, batchSize: 32, optimizer: { name: 'adam', lr: 0.01 }, validationSplit: 0.1, clipNorm: 5 });
  const history = await trainer.fit(examples);
  const last = history[history.length - 1]!;
  assert.ok(last.val!.mse! < 0.05, `validation MSE ${last.val!.mse}`);
  assert.ok(history[0]!.loss > last.loss);
});

test('same seed, same losses, bit for bit', async () => {
  const run = async (): Promise<number[]> => {
    const data = records(addingProblem(100, 8, new Rng(2)));
    const config: ModelConfig = {
      input: { type: 'features', size: 2 }, rnn: { cell: 'gru', hiddenSize: 8, numLayers: 2, dropout: 0.2 },
      output: { mode: 'sequence', type: 'regression' },
    };
    const model = new SequenceModel(config, { seed: 5 });
    const trainer = new Trainer(model, { epochs: 3, batchSize: 16, seed: 9 });
    const losses: number[] = [];
    await trainer.fit(encodeRecords(data, config, { file: 'm', requireTarget: true }), { callbacks: { onBatchEnd: (l) => losses.push(l.loss) } });
    return losses;
  };
  assert.deepEqual(await run(), await run());
});

test('token classification: temporal order with a bidirectional LSTM, predictions with labels', async () => {
  const data = records(temporalOrder(400, 12, new Rng(4)));
  const base: ModelConfig = {
    input: { type: 'tokens', embeddingDim: 8 }, rnn: { cell: 'lstm', hiddenSize: 16, bidirectional: true },
    output: { mode: 'sequence', type: 'classification' },
  };
  const config = completeConfig(base, data, 'mem.jsonl');
  assert.deepEqual(config.output.classes, ['XX', 'XY', 'YX', 'YY']);
  const examples = encodeRecords(data, config, { file: 'mem.jsonl', requireTarget: true });
  const model = new SequenceModel(config, { seed: 1 });
  const trainer = new Trainer(model, { epochs: 15, batchSize: 16, optimizer: { name: 'adam', lr: 0.01 } });
  await trainer.fit(examples.slice(0, 320));
  const metrics = trainer.evaluate(examples.slice(320));
  assert.ok(metrics.accuracy! > 0.9, `accuracy ${metrics.accuracy}`);
  const p = predictModel(model, examples.slice(320, 322));
  assert.equal(typeof (p[0] as { label: string }).label, 'string');
});

test('per-step tagging with padding and next-step streams train without error', async () => {
  const tagData = records([{ x: [1, 2, 3], y: ['a', 'b', 'a'] }, { x: [4, 5], y: ['b', 'b'] }, { x: [6], y: ['a'] }]);
  const tagConfig = completeConfig({
    input: { type: 'features', size: 1 }, rnn: { cell: 'rnn', hiddenSize: 4 }, output: { mode: 'step', type: 'classification' },
  }, tagData, 'm');
  const tagModel = new SequenceModel(tagConfig, { seed: 1 });
  await new Trainer(tagModel, { epochs: 2, batchSize: 3 }).fit(encodeRecords(tagData, tagConfig, { file: 'm', requireTarget: true }));
  const p = predictModel(tagModel, encodeRecords(tagData, tagConfig, { file: 'm', requireTarget: false }));
  assert.equal((p[1] as { labels: string[] }).labels.length, 2);

  const text = records([{ x: 'hello world, hello lstm. '.repeat(20) }]);
  const lmConfig = completeConfig({
    input: { type: 'tokens', embeddingDim: 8 }, rnn: { cell: 'lstm', hiddenSize: 16 }, output: { mode: 'next', type: 'classification' },
  }, text, 'm');
  const lm = new SequenceModel(lmConfig, { seed: 2 });
  const trainer = new Trainer(lm, { epochs: 8, batchSize: 4, tbptt: 16, optimizer: { name: 'adam', lr: 0.02 } });
  const history = await trainer.fit(encodeRecords(text, lmConfig, { file: 'm', requireTarget: true }));
  assert.ok(history[history.length - 1]!.loss < history[0]!.loss * 0.7, `${history.map((h) => h.loss.toFixed(3))}`);
});

test('early stopping stops after `patience` epochs without improvement and restores the best weights', async () => {
  const data = records(addingProblem(200, 6, new Rng(8)));
  const config: ModelConfig = { input: { type: 'features', size: 2 }, rnn: { cell: 'lstm', hiddenSize: 8 }, output: { mode: 'sequence', type: 'regression' } };
  const examples = encodeRecords(data, config, { file: 'm', requireTarget: true });
  const model = new SequenceModel(config, { seed: 1 });
  // A learning rate this large makes validation loss bounce, so improvement stops early.
  const trainer = new Trainer(model, { epochs: 40, batchSize: 8, optimizer: { name: 'sgd', lr: 0.5 }, earlyStopping: { patience: 2 }, validationSplit: 0.25 });
  const history = await trainer.fit(examples);
  const bestEpoch = trainer.getState().bestEpoch;
  assert.ok(history.length < 40, 'stopped early');
  assert.equal(history.length, bestEpoch + 3, 'stops after patience + 1 epochs without improvement');
  const best = Math.min(...history.map((h) => h.val!.loss));
  const split = Trainer.split(examples, 0.25, 0);
  assert.equal(trainer.evaluate(split.validation).loss, best, 'the restored weights score the best validation loss');
});

test('a NaN or infinite loss stops training with a DivergenceError naming epoch and batch', async () => {
  const data = records(addingProblem(64, 5, new Rng(9)));
  const config: ModelConfig = { input: { type: 'features', size: 2 }, rnn: { cell: 'gru', hiddenSize: 4 }, output: { mode: 'sequence', type: 'regression' } };
  const examples = encodeRecords(data, config, { file: 'm', requireTarget: true });
  const model = new SequenceModel(config, { seed: 1 });
  const trainer = new Trainer(model, { epochs: 5, batchSize: 8, optimizer: { name: 'sgd', lr: 0.1 } });
  const checkpoints: number[] = [];
  await assert.rejects(
    trainer.fit(examples, {
      callbacks: {
        onEpochEnd: (log) => {
          checkpoints.push(log.epoch);
          trainer.optimizer.lr = 1e30; // the next epoch diverges
        },
      },
    }),
    (e: unknown) => e instanceof Error && e.name === 'DivergenceError' && /loss is (NaN|Infinity) at epoch 2, batch \d+/.test(e.message),
  );
  assert.deepEqual(checkpoints, [1], 'the epoch that diverged never reached its checkpoint');
});

test('a plateau schedule goes the way the monitored metric improves: up for accuracy, down for the loss', () => {
  const config = completeConfig({
    input: { type: 'features', size: 1 }, rnn: { cell: 'lstm', hiddenSize: 2 }, output: { mode: 'sequence', type: 'classification', classes: ['a', 'b'] },
  }, [], 'none');
  const trainer = (monitor: 'accuracy' | 'loss') => new Trainer(new SequenceModel(config, { seed: 1 }), {
    monitor, optimizer: { name: 'adam', lr: 0.01 }, schedule: { name: 'plateau', factor: 0.5, patience: 0 },
  });
  assert.equal((trainer('loss').schedule as ReduceLROnPlateau).mode, 'min');
  const t = trainer('accuracy');
  assert.equal((t.schedule as ReduceLROnPlateau).mode, 'max');
  // Rising accuracy keeps the rate; an epoch without a rise halves it.
  t.schedule!.step(0.5);
  t.schedule!.step(0.6);
  assert.equal(t.optimizer.lr, 0.01);
  t.schedule!.step(0.6);
  assert.equal(t.optimizer.lr, 0.005);
});
