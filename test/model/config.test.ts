// A config mistake says which field, what it may be, and what came: the choices of a choice, the fields of
// an object when a key is misspelt; schedules are named as optimizers are (name), and older files' type still reads.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseModelConfig, ValueError } from '../../src/index.js';

const base = { input: { type: 'features', size: 1 }, rnn: { cell: 'lstm', hiddenSize: 2 }, output: { mode: 'sequence', type: 'regression' } };
const wrong = (change: Record<string, unknown>, message: RegExp) =>
  assert.throws(() => parseModelConfig({ ...base, ...change }), (e: unknown) => e instanceof ValueError && message.test((e as Error).message));

test('config errors name the field and the choices', () => {
  wrong({ rnn: { cell: 'lstmm', hiddenSize: 2 } }, /^config: rnn\.cell must be 'lstm', 'gru' or 'rnn'; got "lstmm"$/);
  wrong({ train: { optimizer: { name: 'adamx' } } }, /train\.optimizer\.name must be 'adam', 'adamw', 'sgd' or 'rmsprop'; got "adamx"/);
  const schedules = /train\.schedule must be \{ name: 'step', stepSize, gamma\? \}, \{ name: 'cosine', tMax\?, etaMin\? \} or \{ name: 'plateau'/;
  wrong({ train: { schedule: { name: 'cosinee' } } }, schedules);
  wrong({ train: { schedule: { name: 'step', stepSize: 2, gama: 0.5 } } }, /train\.schedule has no field 'gama' \(its fields: name, stepSize, gamma\)/);
  wrong({ train: { schedule: { name: 'step' } } }, /train\.schedule\.stepSize is missing/);
  wrong({ train: { batchsize: 3 } }, /train has no field 'batchsize' \(its fields: epochs, batchSize,/);
  wrong({ input: { type: 'feature', size: 2 } }, /input must be \{ type: 'features', size \} or \{ type: 'tokens', embeddingDim, vocabulary\?/);
  wrong({ rnn: { cell: 'gru', hiddenSize: 0 } }, /rnn\.hiddenSize expected integer to be greater or equal to 1, got 0/);
});

test("schedules take name, as optimizers do; a config written with the older 'type' reads the same", () => {
  const named = parseModelConfig({ ...base, train: { schedule: { name: 'cosine', tMax: 3 } } });
  const older = parseModelConfig({ ...base, train: { schedule: { type: 'cosine', tMax: 3 } } });
  assert.deepEqual(older.train, named.train);
  assert.deepEqual(named.train?.schedule, { name: 'cosine', tMax: 3 });
});
