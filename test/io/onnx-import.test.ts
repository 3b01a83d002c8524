// ONNX import against files torch.onnx.export wrote (test/fixtures/onnx/,
// made by test/fixtures/make_onnx_fixtures.py): LSTM (1 layer; 2 layers
// bidirectional), GRU and RNN models with a Linear head on the last step, the
// final states, the mean over time or every step, with and without dynamic
// axes. The imported models' outputs match PyTorch's, and their weights are
// the PyTorch state_dict's, exactly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { FormatError } from '../../src/core/errors.js';
import { importOnnx, loadOnnxModel } from '../../src/io/onnx/import.js';
import { FIXTURES, assertClose, listFixtures, loadFixture, type JsonTensor } from '../helpers/fixtures.js';
import { runModel } from '../helpers/onnx.js';

interface OnnxFixture {
  name: string;
  options: {
    cell: 'LSTM' | 'GRU' | 'RNN';
    input?: number;
    vocab?: number;
    embed?: number;
    hidden: number;
    layers: number;
    bidir: boolean;
    nonlinearity?: string;
    batch_first: boolean;
    head: 'last' | 'hn' | 'mean' | 'steps' | 'hn_backward' | 'ends';
    softmax?: boolean;
    squeeze?: boolean;
    out: number;
    dynamic: boolean;
  };
  stateDict: Record<string, JsonTensor>;
  runs: { x: JsonTensor; y: JsonTensor }[];
  /** The model cannot be a SequenceModel: the import fails with this message. */
  refuse?: string;
}

const CASES = listFixtures('onnx').map((f) => f.replace(/\.json$/, ''));

function onnxBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, 'onnx', `${name}.onnx`)));
}

test('the fixtures cover LSTM (1 and 2 layers, bidirectional), GRU and RNN', () => {
  for (const name of ['lstm_1layer', 'lstm_2layer_bidir', 'gru_1layer_steps', 'rnn_tanh']) assert.ok(CASES.includes(name), name);
});

for (const name of CASES) {
  const fx = loadFixture<OnnxFixture>('onnx', `${name}.json`);
  if (fx.refuse !== undefined) {
    test(`import ${name}.onnx: refused, saying why`, () => {
      assert.throws(() => importOnnx(onnxBytes(name), { source: `${name}.onnx` }), (e: unknown) => {
        assert.ok(e instanceof FormatError, String(e));
        assert.ok(e.message.startsWith(`${name}.onnx: `), e.message);
        assert.ok(e.message.includes(fx.refuse!), `"${e.message}" should say "${fx.refuse}"`);
        return true;
      });
    });
    continue;
  }
  test(`import ${name}.onnx: outputs match PyTorch`, () => {
    const o = fx.options;
    const { model, imported } = loadOnnxModel(onnxBytes(name), { source: `${name}.onnx` });
    const cfg = imported.config;
    assert.equal(cfg.rnn.cell, o.cell.toLowerCase());
    assert.equal(cfg.rnn.hiddenSize, o.hidden);
    assert.equal(cfg.rnn.numLayers, o.layers);
    assert.equal(cfg.rnn.bidirectional, o.bidir);
    assert.equal(cfg.output.mode, o.head === 'steps' ? 'step' : 'sequence');
    if (o.head !== 'steps') assert.equal(cfg.output.pooling, o.head === 'mean' ? 'mean' : 'last');
    assert.equal(cfg.output.type, o.softmax ? 'classification' : 'regression');
    assert.equal(imported.batchFirst, o.batch_first);
    if (o.cell === 'RNN') assert.equal(cfg.rnn.nonlinearity, o.nonlinearity ?? 'tanh');

    // The weights are the state_dict's (fc → head).
    // A head that reads only the backward state gets zero columns for the forward one.
    const dict = model.stateDict();
    for (const [key, t] of Object.entries(fx.stateDict)) {
      const ours = key.replace(/^fc\./, 'head.');
      assert.ok(ours in dict, `${ours} imported`);
      const theirs = t.data.map(Math.fround);
      if (o.head === 'hn_backward' && key === 'fc.weight') {
        const [K, H] = t.shape as [number, number];
        const rows = Array.from({ length: K }, (_, k) => Array.from(dict[ours]!.subarray(k * 2 * H, (k + 1) * 2 * H)));
        assert.deepEqual(rows.map((r) => r.slice(0, H)), rows.map(() => Array.from({ length: H }, () => 0)), 'no weight on the forward state');
        assert.deepEqual(rows.flatMap((r) => r.slice(H)), theirs, 'the backward state\'s weights are fc.weight');
        continue;
      }
      assert.deepEqual(Array.from(dict[ours]!), theirs, `${ours} equals PyTorch's ${key}`);
    }

    for (const [k, run] of fx.runs.entries()) {
      const tokens = o.vocab !== undefined;
      const [d0, d1] = run.x.shape as [number, number];
      const B = o.batch_first ? d0 : d1;
      const T = o.batch_first ? d1 : d0;
      const y = runModel(model, { data: run.x.data, B, T, F: tokens ? 0 : run.x.shape[2]!, batchFirst: o.batch_first });
      const diff = assertClose(y, run.y.data, `${name} run ${k} (B=${B}, T=${T})`, 1e-5, 1e-5);
      console.log(`  ${name} run ${k}: max abs diff ${diff.maxAbs.toExponential(2)}`);
    }
  });
}

test('import notes what a user may want to know, and nothing for a plain export', () => {
  const notes = (name: string): string[] => importOnnx(onnxBytes(name), { source: `${name}.onnx` }).notes;
  assert.deepEqual(notes('lstm_2layer_bidir'), []);
  assert.deepEqual(notes('gru_1layer_steps'), []);
  assert.match(notes('lstm_tokens').join('\n'), /vocabulary is not in the file/);
  assert.match(notes('gru_bidir_hn_backward').join('\n'), /reads 4 of the 8 features .* zero weights/);
  // Labels and a vocabulary given by the caller.
  const imported = importOnnx(onnxBytes('lstm_tokens'), { classes: ['a', 'b', 'c'], vocabulary: ['<pad>', '<unk>', ...'abcdefghij'] });
  assert.deepEqual(imported.config.output, { mode: 'sequence', type: 'classification', classes: ['a', 'b', 'c'], pooling: 'last' });
  assert.match(imported.notes.join('\n'), /outputs logits/);
  assert.throws(
    () => importOnnx(onnxBytes('lstm_tokens'), { source: 't.onnx', classes: ['a', 'b'] }),
    /t\.onnx: 2 class labels given for a head with 3 outputs/,
  );
});
