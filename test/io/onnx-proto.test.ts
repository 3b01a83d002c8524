// The ONNX protobuf layer: the committed descriptor is the one protobufjs
// makes from the official onnx.proto, and real files decode and re-encode
// without loss.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { decodeModelProto, decodeTensor, encodeModelProto, floatTensor, int64Tensor } from '../../src/io/onnx/proto.js';
import { FIXTURES, ROOT } from '../helpers/fixtures.js';

test('src/io/onnx/descriptor.ts is generated from the official onnx.proto (node scripts/onnx-proto.mjs --check)', () => {
  const proto = readFileSync(join(ROOT, 'scripts', 'onnx', 'onnx.proto'), 'utf8');
  assert.match(proto, /SPDX-License-Identifier: Apache-2\.0/);
  assert.match(proto, /^package onnx;$/m);
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'onnx-proto.mjs'), '--check'], { stdio: 'pipe' });
});

test('a torch.onnx.export file decodes, and re-encodes to an equal model', () => {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'onnx', 'lstm_2layer_bidir.onnx')));
  const model = decodeModelProto(bytes, 'lstm_2layer_bidir.onnx');
  assert.equal(model.ir_version, 7);
  assert.deepEqual(model.opset_import.map((o) => o.version), [14]);
  assert.equal(model.producer_name, 'pytorch');
  const lstm = model.graph!.node.filter((n) => n.op_type === 'LSTM');
  assert.equal(lstm.length, 2);
  assert.deepEqual(lstm[0]!.attribute.map((a) => [a.name, a.type]), [['direction', 'STRING'], ['hidden_size', 'INT']]);
  const encoded = encodeModelProto(model as unknown as Record<string, unknown>);
  const again = encodeModelProto(decodeModelProto(encoded, 'again') as unknown as Record<string, unknown>);
  assert.ok(Buffer.from(again).equals(Buffer.from(encoded)), 'decode ∘ encode is the identity');
  assert.equal(encoded.length, bytes.length, 'no field lost or added');
});

test('tensors: raw_data and typed fields, little-endian, every element checked', () => {
  const f = floatTensor('f', [2, 2], [1.5, -0, 3e-39, -2]);
  const decodedF = decodeTensor(decodeModelProto(encodeModelProto({ graph: { initializer: [f] } }), 't').graph!.initializer[0]!, 'f');
  assert.equal(decodedF.kind, 'float');
  assert.deepEqual(Array.from(decodedF.data), [1.5, -0, Math.fround(3e-39), -2]);
  const i = int64Tensor('i', [3], [-1, 2 ** 40, 0]);
  const decodedI = decodeTensor(decodeModelProto(encodeModelProto({ graph: { initializer: [i] } }), 't').graph!.initializer[0]!, 'i');
  assert.deepEqual(decodedI, { kind: 'int', shape: [3], data: [-1, 2 ** 40, 0] });
  const initializer = [
    { name: 'd', dims: [2], data_type: 11, double_data: [0.25, 1e300] },
    { name: 'n', dims: [2], data_type: 7, int64_data: [5, -7] },
  ];
  const typed = decodeModelProto(encodeModelProto({ graph: { initializer } }), 't').graph!.initializer;
  assert.deepEqual(Array.from(decodeTensor(typed[0]!, 'd').data), [0.25, Infinity]);
  assert.deepEqual(decodeTensor(typed[1]!, 'n').data, [5, -7]);
});
