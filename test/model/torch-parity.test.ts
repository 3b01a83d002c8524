// Whole config models against PyTorch (test/fixtures/make_model_fixtures.py):
// a SequenceModel built from each fixture's config, loaded with PyTorch's
// parameters and run on the same padded batch, gives the same head outputs,
// loss and gradient of every parameter, to 1e-5 relative, 1e-6 absolute.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SequenceModel } from '../../src/index.js';
import { assertClose, listFixtures, loadFixture, type JsonTensor } from '../helpers/fixtures.js';
import { runModel } from '../helpers/model.js';

interface ModelFixture {
  name: string;
  description: string;
  config: unknown;
  stateDict: Record<string, JsonTensor>;
  inputs: JsonTensor;
  lengths: number[];
  targets: JsonTensor;
  outputs: JsonTensor;
  probabilities?: JsonTensor;
  loss: number;
  grads: Record<string, JsonTensor>;
}

const DIR = join('torch', 'models');
const files = listFixtures(DIR);

test('model fixtures are present', () => {
  assert.ok(files.length >= 6, `expected the model fixtures in test/fixtures/${DIR}, found ${files.length}`);
});

for (const file of files) {
  const fx = loadFixture<ModelFixture>(DIR, file);
  test(`PyTorch parity (model): ${fx.name}`, (ctx) => {
    const model = new SequenceModel(fx.config, { seed: 1 }); // the default backend
    const run = runModel(model, fx, { params: fx.stateDict });
    const report: string[] = [];
    const check = (actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void => {
      const d = assertClose(actual, expected, `${fx.name} ${what}`);
      report.push(`${what} ${d.maxAbs.toExponential(1)}`);
    };
    check(run.outputs, fx.outputs.data, 'outputs');
    if (fx.probabilities) check(run.probabilities ?? [], fx.probabilities.data, 'probabilities');
    check([run.loss], [fx.loss], 'loss');
    assert.deepEqual(Object.keys(run.grads).sort(), Object.keys(fx.grads).sort(), `${fx.name}: parameter names`);
    for (const [name, expected] of Object.entries(fx.grads)) check(run.grads[name]!, expected.data, `d${name}`);
    ctx.diagnostic(`max abs diff: ${report.join(', ')}`);
  });
}
