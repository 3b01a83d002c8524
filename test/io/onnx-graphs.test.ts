// ONNX graphs beyond what torch.onnx.export writes: each unsupported
// operator, attribute or input is refused with a FormatError that names it
// (never silently dropped), and the unusual graphs lstmkit can express exactly
// (reverse-only and mixed-direction layers) match onnxruntime.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { FormatError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import type { ModelConfig } from '../../src/model/config.js';
import { SequenceModel } from '../../src/model/model.js';
import { exportOnnx } from '../../src/io/onnx/export.js';
import { importOnnx, loadOnnxModel } from '../../src/io/onnx/import.js';
import { decodeModelProto, encodeModelProto, floatTensor, int64Tensor, type OnnxModel, type OnnxNode } from '../../src/io/onnx/proto.js';
import { assertClose } from '../helpers/fixtures.js';
import { maskSteps, runModel, runOrt, type PlainInput } from '../helpers/onnx.js';

type Pooling = 'hn' | 'lastOutput' | 'mean' | 'max';

function config(
  cell: 'lstm' | 'gru' | 'rnn', opts: { layers?: number; bidirectional?: boolean; mode?: 'sequence' | 'step'; pooling?: Pooling } = {},
): ModelConfig {
  return {
    input: { type: 'features', size: 3 },
    rnn: { cell, hiddenSize: 4, numLayers: opts.layers ?? 1, bidirectional: opts.bidirectional ?? false },
    output: opts.mode === 'step'
      ? { mode: 'step', type: 'regression', size: 2 }
      : { mode: 'sequence', type: 'regression', size: 2, ...opts.pooling && { pooling: opts.pooling } },
  };
}

function exported(cfg: ModelConfig, seed = 1): Uint8Array {
  return exportOnnx(new SequenceModel(cfg, { seed }));
}

/** Decode, change, encode: a graph lstmkit did not write. */
function edit(bytes: Uint8Array, change: (m: OnnxModel & { graph: NonNullable<OnnxModel['graph']> }) => void): Uint8Array {
  const m = decodeModelProto(bytes, 'edit') as OnnxModel & { graph: NonNullable<OnnxModel['graph']> };
  change(m);
  return encodeModelProto(m as unknown as Record<string, unknown>);
}

function op(m: { graph: { node: OnnxNode[] } }, type: string, k = 0): OnnxNode {
  const n = m.graph.node.filter((x) => x.op_type === type)[k];
  assert.ok(n, `the graph has a ${type} node`);
  return n;
}

function input(n: OnnxNode, k: number, name: string): void {
  while (n.input.length <= k) n.input.push('');
  n.input[k] = name;
}

function attr(n: OnnxNode, a: Record<string, unknown>): void {
  n.attribute = n.attribute.filter((x) => x.name !== a.name);
  n.attribute.push(a as unknown as OnnxNode['attribute'][number]);
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The import fails with a FormatError whose message names the file and contains every fragment. */
function assertRefused(bytes: Uint8Array, fragments: (string | RegExp)[], opts: { output?: string } = {}): void {
  assert.throws(() => importOnnx(bytes, { source: 'bad.onnx', ...opts }), (e: unknown) => {
    assert.ok(e instanceof FormatError, `expected a FormatError, got ${String(e)}`);
    assert.ok(e.message.startsWith('bad.onnx: '), e.message);
    for (const f of fragments) assert.ok(typeof f === 'string' ? e.message.includes(f) : f.test(e.message), `"${e.message}" should mention ${String(f)}`);
    if (process.env.LSTMKIT_SHOW_REFUSALS) console.log(`  ${e.message}`);
    return true;
  });
}

const LSTM = exported(config('lstm'));
const GRU = exported(config('gru'));
const RNN = exported(config('rnn'));
const LAST = exported(config('lstm', { bidirectional: true, pooling: 'lastOutput' }));
const MAX = exported(config('gru', { bidirectional: true, pooling: 'max' }));

/** Replace an initializer (by its name's start) with another tensor of the same name. */
function initializer(m: Parameters<Parameters<typeof edit>[1]>[0], prefix: string, make: (name: string) => Record<string, unknown>): void {
  const list = m.graph.initializer;
  const k = list.findIndex((t) => t.name?.startsWith(prefix));
  assert.ok(k >= 0, `an initializer ${prefix}`);
  list[k] = make(list[k]!.name!) as never;
}

interface Refusal {
  name: string;
  base: Uint8Array;
  change: Parameters<typeof edit>[1];
  expect: (string | RegExp)[];
}

const REFUSALS: Refusal[] = [
  { name: 'LSTM clip', base: LSTM, change: (m) => attr(op(m, 'LSTM'), { name: 'clip', type: 'FLOAT', f: 3 }), expect: ["(LSTM)", 'clip'] },
  { name: 'LSTM input_forget', base: LSTM, change: (m) => attr(op(m, 'LSTM'), { name: 'input_forget', type: 'INT', i: 1 }), expect: ['input_forget=1'] },
  { name: 'LSTM peepholes', base: LSTM, change: (m) => {
    m.graph.initializer.push(floatTensor('P', [1, 12], new Float32Array(12).fill(0.1)) as never);
    input(op(m, 'LSTM'), 7, 'P');
  }, expect: ['peepholes (input P)'] },
  { name: 'LSTM other activations', base: LSTM, change: (m) => {
    attr(op(m, 'LSTM'), { name: 'activations', type: 'STRINGS', strings: ['Sigmoid', 'Tanh', 'Relu'].map(enc) });
  }, expect: ['activations [Sigmoid, Tanh, Relu]'] },
  { name: 'LSTM HardSigmoid with alpha', base: LSTM, change: (m) => {
    attr(op(m, 'LSTM'), { name: 'activation_alpha', type: 'FLOATS', floats: [0.2] });
  }, expect: ['activation_alpha'] },
  { name: 'LSTM unknown attribute', base: LSTM, change: (m) => {
    attr(op(m, 'LSTM'), { name: 'frobnicate', type: 'INT', i: 1 });
  }, expect: ["attribute 'frobnicate' is not supported"] },
  { name: 'GRU linear_before_reset=0', base: GRU, change: (m) => {
    attr(op(m, 'GRU'), { name: 'linear_before_reset', type: 'INT', i: 0 });
  }, expect: ['(GRU)', 'linear_before_reset=0'] },
  { name: 'RNN sigmoid', base: RNN, change: (m) => {
    attr(op(m, 'RNN'), { name: 'activations', type: 'STRINGS', strings: [enc('Sigmoid')] });
  }, expect: ['(RNN)', 'activations [Sigmoid]'] },
  { name: 'direction', base: LSTM, change: (m) => {
    attr(op(m, 'LSTM'), { name: 'direction', type: 'STRING', s: enc('sideways') });
  }, expect: ["direction 'sideways'"] },
  { name: 'layout 2', base: LSTM, change: (m) => attr(op(m, 'LSTM'), { name: 'layout', type: 'INT', i: 2 }), expect: ['layout 2'] },
  { name: 'initial_h from a graph input', base: LSTM, change: (m) => {
    m.graph.input.push({ name: 'h0', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 1 }, { dim_param: 'batch' }, { dim_value: 4 }] } } } });
    input(op(m, 'LSTM'), 5, 'h0');
  }, expect: ["initial_h is graph input 'h0'", 'zero state'] },
  { name: 'initial_c a learned constant', base: LSTM, change: (m) => {
    m.graph.initializer.push(floatTensor('c0', [1, 1, 4], [0.5, 0, 0, 0]) as never);
    input(op(m, 'LSTM'), 6, 'c0');
  }, expect: ['initial_c is a nonzero constant'] },
  { name: 'sequence_lens a constant', base: LSTM, change: (m) => {
    m.graph.initializer.push({ name: 'lens', dims: [2], data_type: 6, int32_data: [3, 2] } as never);
    input(op(m, 'LSTM'), 4, 'lens');
  }, expect: ['sequence_lens is a constant'] },
  { name: 'an activation before the head', base: LSTM, change: (m) => {
    const gemm = op(m, 'Gemm');
    const at = m.graph.node.indexOf(gemm);
    m.graph.node.splice(at, 0, { name: 'relu', op_type: 'Relu', input: [gemm.input[0]!], output: ['relu_out'], attribute: [] });
    gemm.input[0] = 'relu_out';
  }, expect: ["node 'relu' (Relu)", 'operator Relu is not supported'] },
  { name: 'a second dense layer', base: LSTM, change: (m) => {
    const gemm = op(m, 'Gemm');
    gemm.output[0] = 'y0';
    m.graph.initializer.push(floatTensor('W2', [2, 2], [1, 0, 0, 1]) as never);
    m.graph.node.push({ name: 'fc2', op_type: 'MatMul', input: ['y0', 'W2'], output: ['y'], attribute: [] });
  }, expect: ["node 'fc2' (MatMul)", 'a second dense layer'] },
  { name: 'another domain', base: LSTM, change: (m) => { op(m, 'LSTM').domain = 'com.microsoft'; }, expect: ["operators of domain 'com.microsoft'"] },
  { name: 'opset 6', base: LSTM, change: (m) => { m.opset_import[0]!.version = 6; }, expect: ['opset 6'] },
  { name: 'external data', base: LSTM, change: (m) => {
    const w = m.graph.initializer.find((t) => t.name?.startsWith('/rnn/W'))!;
    delete w.raw_data;
    w.data_location = 'EXTERNAL';
    w.external_data = [{ key: 'location', value: 'weights.bin' }];
  }, expect: ["initializer '/rnn/W_l0'", 'external file'] },
  { name: 'FLOAT16 weights', base: LSTM, change: (m) => {
    m.graph.initializer.find((t) => t.name?.startsWith('/rnn/W'))!.data_type = 10;
  }, expect: ['FLOAT16'] },
  { name: 'W of the wrong shape', base: LSTM, change: (m) => {
    m.graph.initializer.find((t) => t.name?.startsWith('/rnn/W'))!.dims = [1, 8, 6];
  }, expect: ['W has shape [1, 8, 6]', 'expects [1, 16, 3]'] },
  { name: 'raw_data too short', base: LSTM, change: (m) => {
    const w = m.graph.initializer.find((t) => t.name?.startsWith('/rnn/R'))!;
    w.raw_data = w.raw_data!.subarray(0, 10);
  }, expect: ["initializer '/rnn/R_l0'", '10 bytes'] },
  { name: 'a value nothing defines', base: LSTM, change: (m) => { op(m, 'Gemm').input[0] = 'nope'; }, expect: ["reads 'nope'"] },
  { name: 'nodes out of order', base: LSTM, change: (m) => { m.graph.node.reverse(); }, expect: ['topologically sorted'] },
  { name: 'a value written twice', base: LSTM, change: (m) => {
    m.graph.node.push({ name: 'again', op_type: 'Identity', input: ['x'], output: ['y'], attribute: [] });
  }, expect: ["writes 'y', which is already defined"] },
  { name: 'two inputs into the stack', base: LSTM, change: (m) => {
    const dims = [{ dim_param: 'batch' }, { dim_param: 'steps' }, { dim_value: 3 }];
    m.graph.input.push({ name: 'x2', type: { tensor_type: { elem_type: 1, shape: { dim: dims } } } });
    m.graph.node.unshift({ name: 'sum', op_type: 'Add', input: ['x', 'x2'], output: ['xx'], attribute: [] });
    const t = m.graph.node.find((n) => n.input[0] === 'x' && n.op_type === 'Transpose');
    if (t) t.input[0] = 'xx';
    else input(op(m, 'LSTM'), 0, 'xx');
  }, expect: ["several graph inputs ('x', 'x2')"] },
  { name: 'no graph', base: LSTM, change: (m) => { delete (m as { graph?: unknown }).graph; }, expect: ['no graph'] },
  // The heads that read each sequence's own steps, changed into ones that do not.
  { name: 'padding masked with 0 before the max', base: MAX, change: (m) => {
    initializer(m, '/const/minus_inf', (name) => floatTensor(name, [], [0]));
  }, expect: ['(ReduceMax)', 'maximum over steps whose padding is 0'] },
  { name: 'Where on the lengths, not a mask', base: MAX, change: (m) => { op(m, 'Where').input[0] = op(m, 'Unsqueeze').input[0]!; }, expect: [
    '(Where)', 'its condition is the sequence lengths', 'Where only to mask the padded steps',
  ] },
  { name: 'Range over the batch axis', base: MAX, change: (m) => {
    initializer(m, '/const/time_dim', (name) => int64Tensor(name, [], [0]));
  }, expect: ['(Less)', 'compares indices of rows of the batch with the sequence lengths', 'arange(steps) < lengths'] },
  { name: 'GatherND at the lengths, past the last step', base: LAST, change: (m) => {
    initializer(m, '/const/one', (name) => int64Tensor(name, [1], [0]));
  }, expect: ['(GatherND)', 'gathers the sequence lengths from [batch, steps, features:8]', 'indices lengths - 1'] },
  { name: 'layers without sequence_lens, a head that picks by lengths', base: LAST, change: (m) => { op(m, 'LSTM').input[4] = ''; }, expect: [
    "your model's head reads out[arange(batch), lengths - 1], using sequence lengths the recurrent layers do not read",
    'the backward direction starts there', 'pack_padded_sequence',
  ] },
  { name: 'a head on c_n', base: LSTM, change: (m) => {
    const lstm = op(m, 'LSTM');
    lstm.output[2] = 'Y_c';
    m.graph.node.find((n) => n.output[0] === '/head/Y_h_BDH')!.input[0] = 'Y_c';
  }, expect: ["your model's head reads c_n[-1], and c_n is the cell state", 'h_n[-1], out[:, -1], out.mean(dim=1) or out.max(dim=1).values'] },
  { name: 'fc(h_n) of a bidirectional model', base: LAST, change: (m) => {
    const gather = op(m, 'GatherND');
    m.graph.node.splice(m.graph.node.indexOf(gather), 1, {
      name: 'fc_on_h_n', op_type: 'MatMul', input: [op(m, 'LSTM').output[1]!, 'W_t'], output: [gather.output[0]!], attribute: [],
    });
    m.graph.initializer.push(floatTensor('W_t', [4, 8], new Float32Array(32)) as never);
    const gemm = op(m, 'Gemm');
    m.graph.node.splice(m.graph.node.indexOf(gemm), 1);
    m.graph.output[0]!.name = gather.output[0]!;
  }, expect: ["node 'fc_on_h_n' (MatMul)", 'each of the 2 layers and directions of h_n', 'as fc(h_n) does', 'cat(h_n[-2], h_n[-1])'] },
];

for (const r of REFUSALS) {
  test(`refused: ${r.name}`, () => assertRefused(edit(r.base, r.change), r.expect));
}

test('refused: an output that does not depend on the input, and an output that does not exist', () => {
  const bytes = edit(LSTM, (m) => {
    m.graph.node.push({ name: 'c', op_type: 'Identity', input: ['head.bias'], output: ['c'], attribute: [] });
    m.graph.output.push({ name: 'c' });
  });
  assertRefused(bytes, ["output 'c' is a constant"], { output: 'c' });
  assertRefused(bytes, ["no output 'nope'", "'y', 'c'"], { output: 'nope' });
  // The first output still imports; the other one is named in the notes.
  const ok = importOnnx(bytes);
  assert.ok(ok.notes.some((n) => n.includes("'c'")), ok.notes.join('\n'));
});

// ------------------------------------------------------ supported oddities

const B = 3;
const T = 5;

function padded(seed: number): PlainInput {
  const rng = new Rng(seed);
  const data = Float32Array.from({ length: B * T * 3 }, () => rng.range(-2, 2));
  return { data, B, T, F: 3, batchFirst: true, lengths: [5, 2, 4] };
}

for (const [name, cfg, reversed] of [
  ['a reverse-only LSTM, per sequence', config('lstm'), [0]],
  ['a reverse-only GRU, per step', config('gru', { mode: 'step' }), [0]],
  ['a forward LSTM layer under a reverse one, per step', config('lstm', { layers: 2, mode: 'step' }), [1]],
  ['a reverse RNN layer under a forward one, per sequence', config('rnn', { layers: 2 }), [0]],
] as const) {
  test(`${name}: imported as bidirectional with zero directions, matches onnxruntime`, async () => {
    const bytes = edit(exported(cfg, 7), (m) => {
      for (const k of reversed) attr(op(m, cfg.rnn.cell.toUpperCase(), k), { name: 'direction', type: 'STRING', s: enc('reverse') });
    });
    const { model, imported } = loadOnnxModel(bytes);
    assert.equal(imported.config.rnn.bidirectional, true);
    assert.ok(imported.notes.some((n) => n.includes('zero weights')), imported.notes.join('\n'));
    const input = padded(11);
    const ours = runModel(model, input);
    const theirs = (await runOrt(bytes, input)).y!;
    const diff = assertClose(cfg.output.mode === 'step' ? maskSteps(theirs, input, 2) : theirs, ours, name, 1e-5, 1e-5);
    console.log(`  ${name}: max abs diff ${diff.maxAbs.toExponential(2)}`);
  });
}

test('an all-zero peephole input is an LSTM without peepholes (noted)', () => {
  const bytes = edit(LSTM, (m) => {
    m.graph.initializer.push(floatTensor('P', [1, 12], new Float32Array(12)) as never);
    input(op(m, 'LSTM'), 7, 'P');
  });
  const imported = importOnnx(bytes);
  assert.ok(imported.notes.some((n) => n.includes('peephole')), imported.notes.join('\n'));
});

test('the graph output can be the recurrent features themselves (an identity head)', () => {
  const bytes = edit(LSTM, (m) => {
    const gemm = m.graph.node.findIndex((n) => n.op_type === 'Gemm');
    const features = m.graph.node[gemm]!.input[0]!;
    m.graph.node.splice(gemm, 1, { name: 'id', op_type: 'Identity', input: [features], output: ['y'], attribute: [] });
  });
  const { model, imported } = loadOnnxModel(bytes);
  assert.equal(imported.config.output.size, 4);
  const input = padded(3);
  const original = new SequenceModel(config('lstm'), { seed: 1 });
  // The identity head gives the final states: the original head applied to them is the original output.
  const states = runModel(model, input);
  const W = original.stateDict()['head.weight']!;
  const b = original.stateDict()['head.bias']!;
  const expected = runModel(original, input);
  const got = Float32Array.from({ length: B * 2 }, (_, i) => {
    const [row, k] = [Math.floor(i / 2), i % 2];
    let s = b[k]!;
    for (let f = 0; f < 4; f++) s += W[k * 4 + f]! * states[row * 4 + f]!;
    return s;
  });
  assertClose(got, expected, 'identity head', 1e-5, 1e-6);
});
