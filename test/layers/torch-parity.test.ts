// Every recurrent fixture made by PyTorch (test/fixtures/make_fixtures.py):
// outputs, final states and every gradient agree to 1e-5 relative, 1e-6 absolute.

import { test } from 'node:test';
import { GRU, LSTM, RNN, tensor, type Tensor } from '../../src/index.js';
import { assertClose, listFixtures, loadFixture, type JsonTensor } from '../helpers/fixtures.js';

interface RecurrentFixture {
  name: string;
  module: 'LSTM' | 'GRU' | 'RNN';
  options: Record<string, unknown>;
  x: JsonTensor;
  lengths?: number[];
  h0?: JsonTensor;
  c0?: JsonTensor;
  stateDict: Record<string, JsonTensor>;
  output: JsonTensor;
  h: JsonTensor;
  c?: JsonTensor;
  dOutput: JsonTensor;
  dh: JsonTensor;
  dc?: JsonTensor;
  grads: Record<string, JsonTensor>;
}

const t = (j: JsonTensor | undefined): Tensor | undefined => (j ? tensor(j.data, j.shape) : undefined);

for (const file of listFixtures('torch').filter((f) => /^(lstm|gru|rnn)_/.test(f))) {
  const fx = loadFixture<RecurrentFixture>('torch', file);
  test(`PyTorch parity: ${fx.name}`, (ctx) => {
    const opts = fx.options as never;
    const module = fx.module === 'LSTM' ? new LSTM(opts) : fx.module === 'GRU' ? new GRU(opts) : new RNN(opts);
    module.loadStateDict(fx.stateDict);
    const fwdOpts = fx.lengths ? { lengths: fx.lengths } : {};
    const report: string[] = [];
    const check = (actual: ArrayLike<number>, expected: JsonTensor, what: string): void => {
      const d = assertClose(actual, expected.data, `${fx.name} ${what}`);
      report.push(`${what} ${d.maxAbs.toExponential(1)}`);
    };
    let dx: Tensor;
    let dh0: Tensor;
    let dc0: Tensor | undefined;
    if (module instanceof LSTM) {
      const state = { ...(fx.h0 ? { h: t(fx.h0)! } : {}), ...(fx.c0 ? { c: t(fx.c0)! } : {}) };
      const { output, h, c } = module.forward(t(fx.x)!, state, fwdOpts);
      check(output.data, fx.output, 'output');
      check(h.data, fx.h, 'h');
      check(c.data, fx.c!, 'c');
      ({ dx, dh0, dc0 } = module.backward(t(fx.dOutput), { dh: t(fx.dh)!, dc: t(fx.dc)! }));
    } else {
      const { output, h } = module.forward(t(fx.x)!, fx.h0 ? { h: t(fx.h0)! } : {}, fwdOpts);
      check(output.data, fx.output, 'output');
      check(h.data, fx.h, 'h');
      ({ dx, dh0 } = module.backward(t(fx.dOutput), { dh: t(fx.dh)! }));
    }
    check(dx.data, fx.grads.x!, 'dx');
    if (fx.grads.h0) check(dh0.data, fx.grads.h0, 'dh0');
    if (fx.grads.c0) check(dc0!.data, fx.grads.c0, 'dc0');
    const grads = module.gradDict();
    for (const name of Object.keys(fx.stateDict)) check(grads[name]!, fx.grads[name]!, `d${name}`);
    ctx.diagnostic(`max abs diff: ${report.join(', ')}`);
  });
}
