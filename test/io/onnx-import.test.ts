// ONNX import against files torch.onnx.export wrote (test/fixtures/onnx/,
// made by test/fixtures/make_onnx_fixtures.py): LSTM, GRU and RNN models of 1
// to 3 layers, uni- and bidirectional, batch-first and time-major, with a
// Linear head on out[:, -1], h_n, the mean or the maximum over time, or every
// step; with and without dynamic axes, packed sequences (sequence_lens) and
// dropout exported in training mode. The imported models' outputs match
// PyTorch's, their pooling is the one the fixture names, and their weights
// are the PyTorch state_dict's, exactly. Models lstmkit cannot express are
// refused in words that name what the PyTorch code reads.

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
    head: 'last' | 'hn' | 'hn_squeeze' | 'mean' | 'mean_len' | 'max' | 'max_masked' | 'index_last' | 'steps' | 'hn_backward' | 'ends' | 'cn' | 'hn_inner';
    softmax?: boolean;
    squeeze?: boolean;
    out: number;
    dynamic: boolean;
  };
  /** The pooling lstmkit imports the head as (null: per step). */
  pooling: 'hn' | 'lastOutput' | 'mean' | 'max' | null;
  stateDict: Record<string, JsonTensor>;
  /** lstmkit's name for each state_dict key. */
  lstmkitNames: Record<string, string>;
  runs: { x: JsonTensor; lengths?: JsonTensor; y: JsonTensor }[];
  /** The model cannot be a SequenceModel: the import fails with this message. */
  refuse?: string;
}

const CASES = listFixtures('onnx').map((f) => f.replace(/\.json$/, ''));

function onnxBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, 'onnx', `${name}.onnx`)));
}

test('the fixtures cover LSTM, GRU and RNN of 1 to 3 layers, every pooling, packed sequences and training-mode dropout', () => {
  const names = [
    'lstm_1layer', 'lstm_2layer_bidir', 'gru_1layer_steps', 'rnn_tanh', 'lstm_bidir_classifier', 'gru_2layer_bidir_last_timemajor',
    'rnn_3layer_bidir_last', 'lstm_bidir_max', 'gru_3layer_max_timemajor', 'lstm_dropout_train', 'lstm_packed_bidir_hn',
    'gru_packed_bidir_mean_len', 'lstm_packed_bidir_max_masked', 'lstm_packed_bidir_last', 'lstm_packed_bidir_index_last',
    'gru_lengths_index_last', 'rnn_lengths_max_masked',
  ];
  for (const name of names) assert.ok(CASES.includes(name), name);
});

for (const name of CASES) {
  const fx = loadFixture<OnnxFixture>('onnx', `${name}.json`);
  if (fx.refuse !== undefined) {
    test(`import ${name}.onnx: refused, saying why`, () => {
      assert.throws(() => importOnnx(onnxBytes(name), { source: `${name}.onnx` }), (e: unknown) => {
        assert.ok(e instanceof FormatError, String(e));
        assert.ok(e.message.startsWith(`${name}.onnx: `), e.message);
        assert.ok(e.message.includes(fx.refuse!), `"${e.message}" should say "${fx.refuse}"`);
        console.log(`  ${e.message}`);
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
    assert.equal(cfg.output.mode, fx.pooling === null ? 'step' : 'sequence');
    assert.equal(cfg.output.pooling, fx.pooling ?? undefined);
    assert.equal(cfg.output.type, o.softmax ? 'classification' : 'regression');
    assert.equal(imported.batchFirst, o.batch_first);
    if (o.cell === 'RNN') assert.equal(cfg.rnn.nonlinearity, o.nonlinearity ?? 'tanh');

    // The weights are the state_dict's (fc → head).
    // A head that reads only the backward state gets zero columns for the forward one.
    const dict = model.stateDict();
    assert.deepEqual(Object.keys(dict).sort(), Object.values(fx.lstmkitNames).sort());
    for (const [key, t] of Object.entries(fx.stateDict)) {
      const ours = fx.lstmkitNames[key]!;
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
      const lengths = run.lengths?.data;
      const y = runModel(model, { data: run.x.data, B, T, F: tokens ? 0 : run.x.shape[2]!, batchFirst: o.batch_first, ...lengths && { lengths } });
      const diff = assertClose(y, run.y.data, `${name} run ${k} (B=${B}, T=${T}${lengths ? `, lengths ${lengths.join(' ')}` : ''})`, 1e-5, 1e-5);
      console.log(`  ${name} run ${k}: max abs diff ${diff.maxAbs.toExponential(2)}`);
    }
  });
}

test('import notes what a user may want to know, and nothing for a plain export', () => {
  const notes = (name: string): string[] => importOnnx(onnxBytes(name), { source: `${name}.onnx` }).notes;
  assert.deepEqual(notes('lstm_2layer_bidir'), []);
  assert.deepEqual(notes('gru_1layer_steps'), []);
  assert.match(notes('lstm_tokens').join('\n'), /vocabulary is not in the file/);
  assert.match(notes('gru_bidir_hn_backward').join('\n'), /reads h_n\[-1\]: 4 of the 8 features .* zero weights/);
  assert.deepEqual(notes('lstm_bidir_classifier'), []);
  // torch 1.13 writes a packed model's zero initial states at the traced batch size; onnxruntime runs no other.
  assert.deepEqual(notes('lstm_packed_bidir_max_masked'), [
    'the graph expands zero initial states of 3 sequences (the batch size the export traced, as torch 1.13 does for packed sequences) ' +
    'to the batch axis: onnxruntime runs the file at batch size 3 only; the imported model runs any batch size',
  ]);
  // out[:, -1] of a unidirectional stack is h_n[-1]; the note says which reading was taken.
  assert.match(notes('lstm_1layer').join('\n'), /reads out\[:, -1\], imported as pooling 'lastOutput' .*h_n\[-1\]/);
  // Training-mode dropout is the identity at inference, and the import says so for each of the two.
  const dropout = notes('lstm_dropout_train').filter((n) => n.includes('dropout in training mode'));
  assert.equal(dropout.length, 2, dropout.join('\n'));
  assert.match(dropout[0]!, /Dropout\).*without model\.eval\(\).*imported as the identity/);
  // Labels and a vocabulary given by the caller.
  const imported = importOnnx(onnxBytes('lstm_tokens'), { classes: ['a', 'b', 'c'], vocabulary: ['<pad>', '<unk>', ...'abcdefghij'] });
  assert.deepEqual(imported.config.output, { mode: 'sequence', type: 'classification', classes: ['a', 'b', 'c'], pooling: 'hn' });
  assert.match(imported.notes.join('\n'), /outputs logits/);
  assert.throws(
    () => importOnnx(onnxBytes('lstm_tokens'), { source: 't.onnx', classes: ['a', 'b'] }),
    /t\.onnx: 2 class labels given for a head with 3 outputs/,
  );
});
