// Corrupt and hostile ONNX files: every one is refused with a FormatError
// that names the file (or imports into a consistent, finite model) — no
// other exception, no crash, no runaway allocation. Mutations of real files
// (bit flips, truncation, spliced garbage) are seeded, so a failure names the
// seed that reproduces it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { FormatError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { SequenceModel } from '../../src/model/model.js';
import { exportOnnx } from '../../src/io/onnx/export.js';
import { importOnnx, type OnnxImport } from '../../src/io/onnx/import.js';
import { encodeModelProto, floatTensor } from '../../src/io/onnx/proto.js';
import { FIXTURES } from '../helpers/fixtures.js';

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, 'onnx', `${name}.onnx`)));
}

const BASES: [string, Uint8Array][] = [
  ['lstm_1layer', fixture('lstm_1layer')],
  ['lstm_2layer_bidir', fixture('lstm_2layer_bidir')],
  ['gru_2layer_bidir_mean', fixture('gru_2layer_bidir_mean')],
  ['lstmkit tagger', exportOnnx(new SequenceModel({
    input: { type: 'tokens', embeddingDim: 3, vocabulary: ['<pad>', '<unk>', 'a', 'b'] },
    rnn: { cell: 'gru', hiddenSize: 4, bidirectional: true },
    output: { mode: 'step', type: 'classification', classes: ['x', 'y'] },
  }, { seed: 5 }))],
];

/** Import, and accept only a FormatError naming the file or a model whose weights are finite and shaped. */
function importOrRefuse(bytes: Uint8Array, what: string): 'imported' | 'refused' {
  let imported: OnnxImport;
  try {
    imported = importOnnx(bytes, { source: 'fuzz.onnx' });
  } catch (e) {
    if (!(e instanceof FormatError)) assert.fail(`${what}: threw ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
    assert.ok(e.message.startsWith('fuzz.onnx: '), `${what}: ${e.message}`);
    return 'refused';
  }
  for (const [name, w] of Object.entries(imported.weights)) {
    assert.equal(w.data.length, w.shape.reduce((a, b) => a * b, 1), `${what}: ${name} size`);
    assert.ok(w.data.every(Number.isFinite), `${what}: ${name} is finite`);
  }
  // It must also build: the config and the weights agree.
  const model = new SequenceModel(imported.config, { seed: 0 });
  model.loadStateDict(imported.weights);
  return 'imported';
}

function mutate(base: Uint8Array, rng: Rng): { bytes: Uint8Array; how: string } {
  const kind = rng.int(5);
  const at = rng.int(base.length);
  switch (kind) {
    case 0: { // flip bits
      const bytes = Uint8Array.from(base);
      const n = 1 + rng.int(4);
      for (let k = 0; k < n; k++) bytes[rng.int(bytes.length)]! ^= 1 << rng.int(8);
      return { bytes, how: `flip ${n} bits` };
    }
    case 1: return { bytes: base.slice(0, at), how: `truncate at ${at}` };
    case 2: { // overwrite a span with garbage
      const bytes = Uint8Array.from(base);
      const len = 1 + rng.int(16);
      for (let k = 0; k < len && at + k < bytes.length; k++) bytes[at + k] = rng.int(256);
      return { bytes, how: `overwrite ${len} bytes at ${at}` };
    }
    case 3: { // insert garbage
      const junk = Uint8Array.from({ length: 1 + rng.int(8) }, () => rng.int(256));
      const bytes = new Uint8Array(base.length + junk.length);
      bytes.set(base.subarray(0, at));
      bytes.set(junk, at);
      bytes.set(base.subarray(at), at + junk.length);
      return { bytes, how: `insert ${junk.length} bytes at ${at}` };
    }
    default: { // set a byte to a varint-length extreme
      const bytes = Uint8Array.from(base);
      bytes[at] = [0x00, 0x7f, 0x80, 0xff][rng.int(4)]!;
      return { bytes, how: `set byte ${at} to ${bytes[at]}` };
    }
  }
}

for (const [name, base] of BASES) {
  test(`fuzz: 300 mutations of ${name} import or are refused with a FormatError`, () => {
    assert.equal(importOrRefuse(base, `${name} unchanged`), 'imported');
    const counts = { imported: 0, refused: 0 };
    for (let seed = 0; seed < 300; seed++) {
      const { bytes, how } = mutate(base, new Rng(seed));
      counts[importOrRefuse(bytes, `${name}, seed ${seed} (${how})`)]++;
    }
    console.log(`  ${name}: ${counts.imported} imported, ${counts.refused} refused`);
    assert.ok(counts.refused > 0);
  });
}

test('fuzz: random bytes are refused', () => {
  const rng = new Rng(42);
  for (let k = 0; k < 300; k++) {
    const bytes = Uint8Array.from({ length: rng.int(200) }, () => rng.int(256));
    assert.equal(importOrRefuse(bytes, `random bytes #${k}`), 'refused');
  }
});

// ---------------------------------------------------------- hostile files

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** Length-delimited fields nested in one another: ids[0] outermost, the innermost empty. Built in linear time. */
function nested(ids: readonly number[]): Uint8Array {
  const sizes = Array.from({ length: ids.length + 1 }, () => 0); // sizes[k] = bytes of field k's body
  for (let k = ids.length - 1; k >= 0; k--) {
    sizes[k] = k === ids.length - 1
      ? 0
      : varint((ids[k + 1]! << 3) | 2).length + varint(sizes[k + 1]!).length + sizes[k + 1]!;
  }
  const total = varint((ids[0]! << 3) | 2).length + varint(sizes[0]!).length + sizes[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  ids.forEach((id, k) => {
    for (const b of [...varint((id << 3) | 2), ...varint(sizes[k]!)]) out[at++] = b;
  });
  return out;
}

function refused(bytes: Uint8Array, ...fragments: string[]): void {
  assert.throws(() => importOnnx(bytes, { source: 'hostile.onnx' }), (e: unknown) => {
    assert.ok(e instanceof FormatError, `expected a FormatError, got ${String(e)}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" should mention "${f}"`);
    return true;
  });
}

test('hostile: empty files, other messages and lengths beyond the end', () => {
  refused(new Uint8Array(0), 'hostile.onnx: ', 'no graph');
  refused(Uint8Array.from([0x3a, 0xff, 0xff, 0xff, 0xff, 0x07]), 'not a valid ONNX file'); // graph of 2 GiB in 6 bytes
  refused(new TextEncoder().encode('{"format": "not protobuf"}'), 'not a valid ONNX file');
});

test('hostile: graphs nested ten thousand deep are refused, not a stack overflow', () => {
  // ModelProto.graph → (GraphProto.node → NodeProto.attribute → AttributeProto.g) × 10 000
  const ids = [7, ...Array.from({ length: 10_000 }, () => [1, 5, 6]).flat()];
  const bytes = nested(ids);
  assert.ok(bytes.length > 100_000);
  refused(bytes, 'not a valid ONNX file', 'depth');
});

const minimal = (
  tensor: Record<string, unknown>, node: Record<string, unknown> | null = null,
): Uint8Array => encodeModelProto({
  ir_version: 7,
  opset_import: [{ domain: '', version: 14 }],
  graph: {
    name: 'g',
    initializer: [tensor],
    node: node ? [node] : [],
    input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'b' }, { dim_param: 't' }, { dim_value: 2 }] } } } }],
    output: [{ name: node ? 'y' : 'w' }],
  },
});

test('hostile: tensors whose dims promise more than the file holds', () => {
  refused(minimal({ name: 'w', dims: [2 ** 40], data_type: 1 }), "initializer 'w'", 'more than');
  refused(minimal({ name: 'w', dims: [65536, 65536, 65536], data_type: 1, raw_data: new Uint8Array(8) }), "initializer 'w'", 'more than');
  refused(minimal({ name: 'w', dims: [-3], data_type: 1 }), "initializer 'w'", 'not a size');
  refused(minimal({ name: 'w', dims: [4], data_type: 1, raw_data: new Uint8Array(12) }), "initializer 'w'", 'holds 3');
  refused(minimal({ name: 'w', dims: [2], data_type: 1, float_data: [1, 2], raw_data: new Uint8Array(8) }), 'both raw_data and typed data');
  refused(minimal({ name: 'w', dims: [1], data_type: 8, string_data: [new Uint8Array(1)] }), 'STRING');
});

test('hostile: shape ops that would allocate without bound are refused', () => {
  refused(minimal(
    { name: 'shape', dims: [3], data_type: 7, int64_data: [100000, 100000, 100000] },
    { name: 'big', op_type: 'ConstantOfShape', input: ['shape'], output: ['y'], attribute: [{ name: 'value', type: 'TENSOR', t: floatTensor('v', [1], [1]) }] },
  ), "node 'big' (ConstantOfShape)", 'too large');
  refused(minimal(
    { name: 'w', dims: [4], data_type: 1, float_data: [1, 2, 3, 4] },
    { name: 'g', op_type: 'Gather', input: ['w', 'w'], output: ['y'], attribute: [] },
  ), "node 'g' (Gather)", 'indices are not constant');
});
