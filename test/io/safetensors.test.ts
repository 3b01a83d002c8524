// The safetensors reader and writer: conformance with the format, bit-exact
// round trips, interop with files PyTorch wrote, and a fuzz test of hostile
// files (every one decodes to something consistent or throws a FormatError).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';

import { FormatError, ShapeError, ValueError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import {
  decodeSafetensors,
  decodeSafetensorsHeader,
  encodeSafetensors,
  f16ToFloat32,
  float32ToBf16,
  float32ToF16,
  bf16ToFloat32,
  MAX_HEADER_BYTES,
  type SafetensorsDtype,
  type SafetensorsTensor,
} from '../../src/io/safetensors.js';
import { FIXTURES } from '../helpers/fixtures.js';

const SIZES: Record<SafetensorsDtype, number> = {
  BOOL: 1, U8: 1, I8: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function hex(data: ArrayBufferView): string {
  return Buffer.from(bytesOf(data)).toString('hex');
}

/** A file by hand: header text (padded to 8 unless told not to) and a data section. */
function rawFile(header: string | Uint8Array | object, data: Uint8Array | number = 0, pad = true): Uint8Array {
  let json = header instanceof Uint8Array ? Buffer.from(header) : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  if (pad && json.length % 8 !== 0) json = Buffer.concat([json, Buffer.alloc(8 - (json.length % 8), 0x20)]);
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

function headerText(file: Uint8Array): string {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return Buffer.from(file.subarray(8, 8 + n)).toString('utf8');
}

/** Throws a FormatError whose message contains every fragment. */
function assertRefused(file: Uint8Array, ...fragments: string[]): void {
  assert.throws(
    () => decodeSafetensors(file, { source: 'bad.safetensors' }),
    (err: unknown) => {
      assert.ok(err instanceof FormatError, `expected a FormatError, got ${String(err)}`);
      assert.ok(err.message.startsWith('bad.safetensors: '), err.message);
      for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" should mention "${f}"`);
      return true;
    },
  );
}

function f32Bits(...bits: number[]): Float32Array {
  return new Float32Array(new Uint32Array(bits).buffer);
}

// ------------------------------------------------------------ conformance

test('encode: the header is the reference JSON, padded with spaces to 8 bytes', () => {
  const file = encodeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } });
  const json = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
  assert.equal(json.length, 64); // a multiple of 8: no padding
  assert.equal(new DataView(file.buffer).getBigUint64(0, true), 64n);
  assert.equal(headerText(file), json);
  assert.equal(file.length, 8 + 64 + 24);
  assert.deepEqual(Array.from(new Float32Array(file.slice(72).buffer)), [0, 1, 2, 3, 4, 5]);

  const padded = encodeSafetensors({ attn0: { dtype: 'F32', shape: [1, 1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } });
  assert.equal(new DataView(padded.buffer).getBigUint64(0, true), 72n);
  assert.equal(headerText(padded), '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ');

  const empty = encodeSafetensors({});
  assert.deepEqual(Array.from(empty), [8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 32, 32, 32, 32, 32, 32]);
  assert.deepEqual(decodeSafetensors(empty), { tensors: {}, metadata: {} });

  const meta = encodeSafetensors({}, { framework: 'pt' });
  assert.equal(headerText(meta), '{"__metadata__":{"framework":"pt"}}     ');
});

test('encode: largest elements first, then by name; every tensor aligned to its element size', () => {
  const file = encodeSafetensors({
    b: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
    a: { dtype: 'F16', shape: [1], data: new Uint16Array([0x3c00]) },
    z: { dtype: 'F64', shape: [1], data: new Float64Array([1]) },
    c: { dtype: 'F32', shape: [3], data: new Float32Array(3) },
    '10': { dtype: 'I64', shape: [1], data: new BigInt64Array([5n]) },
    '2': { dtype: 'F32', shape: [1], data: new Float32Array(1) },
  });
  const header = decodeSafetensorsHeader(file);
  assert.deepEqual(Object.keys(JSON.parse(headerText(file)) as object).length, 6);
  const order = [...headerText(file).matchAll(/"([^"]+)":\{"dtype"/g)].map((m) => m[1]);
  assert.deepEqual(order, ['10', 'z', '2', 'c', 'a', 'b']); // header order = data order, "10" < "z" as strings
  assert.equal(header.dataStart % 8, 0);
  let end = 0;
  for (const name of order) {
    const e = header.tensors[name!]!;
    assert.equal(e.dataOffsets[0], end, `${name} starts where the previous ended`);
    assert.equal((header.dataStart + e.dataOffsets[0]) % SIZES[e.dtype], 0, `${name} is aligned`);
    end = e.dataOffsets[1];
  }
});

test('decode: the reader sorts by offset, whatever the header order, and keeps zero-size tensors', () => {
  const data = new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]);
  const file = rawFile({
    second: { dtype: 'I32', shape: [1], data_offsets: [4, 8] },
    empty: { dtype: 'F32', shape: [0, 5], data_offsets: [4, 4] },
    first: { dtype: 'I32', shape: [], data_offsets: [0, 4] },
    again: { dtype: 'F64', shape: [3, 0], data_offsets: [4, 4] },
  }, data);
  const { tensors } = decodeSafetensors(file);
  assert.deepEqual(Object.keys(tensors), ['first', 'empty', 'again', 'second']); // ties keep header order
  assert.deepEqual(tensors.first, { dtype: 'I32', shape: [], data: new Int32Array([1]) });
  assert.deepEqual(tensors.second, { dtype: 'I32', shape: [1], data: new Int32Array([2]) });
  assert.deepEqual(tensors.empty, { dtype: 'F32', shape: [0, 5], data: new Float32Array(0) });
  // JSON whitespace and an unpadded header are fine.
  const loose = rawFile('{ "x" : { "dtype" : "U8" , "shape" : [ 2 ] , "data_offsets" : [ 0 , 2 ] } }\n\t', new Uint8Array([7, 9]), false);
  assert.deepEqual(decodeSafetensors(loose).tensors.x!.data, new Uint8Array([7, 9]));
});

// ------------------------------------------------------------- round trips

test('round trip: every dtype bit for bit, with -0, denormals, Inf and NaN payloads', () => {
  const f32 = f32Bits(
    0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffbfffff,
    0x3f800000,
  );
  const f64 = new Float64Array(new BigUint64Array([
    0n, 1n << 63n, 1n, 0x7ff0000000000000n, 0x7ff0000000000001n, 0xfff8000000000abcn, 0x3ff0000000000000n,
  ]).buffer);
  const all16 = new Uint16Array(65536).map((_, i) => i);
  const tensors: Record<string, SafetensorsTensor> = {
    f32: { dtype: 'F32', shape: [2, 5], data: f32 },
    f64: { dtype: 'F64', shape: [7], data: f64 },
    f16: { dtype: 'F16', shape: [256, 256], data: all16 },
    bf16: { dtype: 'BF16', shape: [65536], data: all16 },
    i64: { dtype: 'I64', shape: [4], data: new BigInt64Array([-(2n ** 63n), -1n, 2n ** 53n + 1n, 2n ** 63n - 1n]) },
    u64: { dtype: 'U64', shape: [2], data: new BigUint64Array([0n, 2n ** 64n - 1n]) },
    i32: { dtype: 'I32', shape: [3], data: new Int32Array([-(2 ** 31), 0, 2 ** 31 - 1]) },
    u32: { dtype: 'U32', shape: [2], data: new Uint32Array([0, 2 ** 32 - 1]) },
    i16: { dtype: 'I16', shape: [2], data: new Int16Array([-32768, 32767]) },
    u16: { dtype: 'U16', shape: [2], data: new Uint16Array([0, 65535]) },
    i8: { dtype: 'I8', shape: [2], data: new Int8Array([-128, 127]) },
    u8: { dtype: 'U8', shape: [2], data: new Uint8Array([0, 255]) },
    bool: { dtype: 'BOOL', shape: [1, 3], data: new Uint8Array([1, 0, 1]) },
    scalar: { dtype: 'F32', shape: [], data: new Float32Array([-0]) },
    empty: { dtype: 'I64', shape: [0], data: new BigInt64Array(0) },
  };
  const file = encodeSafetensors(tensors);
  const raw = decodeSafetensors(file, { halfAs: 'raw' });
  for (const [name, t] of Object.entries(tensors)) {
    const back = raw.tensors[name]!;
    assert.equal(back.dtype, t.dtype, name);
    assert.deepEqual(back.shape, t.shape, name);
    assert.equal(Object.prototype.toString.call(back.data), Object.prototype.toString.call(t.data), name);
    assert.equal(hex(back.data), hex(t.data), `${name} bits`);
  }
  // Widened to float32 (the default), F16 and BF16 re-encode to the same bits.
  const wide = decodeSafetensors(file);
  assert.ok(wide.tensors.f16!.data instanceof Float32Array);
  assert.equal(wide.tensors.f16!.dtype, 'F16');
  assert.deepEqual(encodeSafetensors(wide.tensors), file);
});

test('round trip: metadata, odd names (__proto__, integers, unicode) and no prototype pollution', () => {
  const metadata: Record<string, string> = { format: 'pt', '': 'empty key', 'ключ': 'значение ✓', quote: '"\\\n\u0000' };
  Object.defineProperty(metadata, '__proto__', { value: 'not a prototype', enumerable: true });
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const name of ['__proto__', '0', '', 'weight_ih_l0', 'ü/𝔵.weight', 'constructor']) {
    Object.defineProperty(tensors, name, { value: { dtype: 'F32', shape: [1], data: new Float32Array([name.length]) }, enumerable: true });
  }
  const back = decodeSafetensors(encodeSafetensors(tensors, metadata));
  assert.deepEqual(Object.keys(back.tensors).sort(), Object.keys(tensors).sort());
  for (const name of Object.keys(tensors)) {
    assert.deepEqual(back.tensors[name]!.data, new Float32Array([name.length]), name);
  }
  assert.equal(Object.getPrototypeOf(back.tensors), Object.prototype);
  assert.equal(Object.getPrototypeOf(back.metadata), Object.prototype);
  assert.deepEqual(Object.entries(back.metadata).sort(), Object.entries(metadata).sort());
  assert.equal(({} as Record<string, unknown>).dtype, undefined);
  assert.deepEqual(decodeSafetensors(encodeSafetensors(tensors)).metadata, {});
});

test('decode: a Node Buffer at an odd offset gives fresh, aligned arrays', () => {
  const file = encodeSafetensors({ w: { dtype: 'F64', shape: [2], data: new Float64Array([1.5, -2]) } });
  const pool = Buffer.alloc(file.length + 3);
  pool.set(file, 3);
  const shifted = pool.subarray(3);
  const { tensors } = decodeSafetensors(shifted);
  const data = tensors.w!.data;
  assert.deepEqual(data, new Float64Array([1.5, -2]));
  assert.equal(data.byteOffset, 0);
  assert.equal(data.buffer.byteLength, 16, 'the array owns its own buffer, not a view of the file');
  pool.fill(0);
  assert.deepEqual(data, new Float64Array([1.5, -2]), 'a copy, not a view');
});

// ------------------------------------------------------------- half floats

test('F16: every bit pattern widens and narrows back unchanged; known values', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  assert.equal(hex(float32ToF16(f16ToFloat32(all))), hex(all));
  assert.equal(hex(float32ToBf16(bf16ToFloat32(all))), hex(all));
  const known: [number, number][] = [
    [0x3c00, 1], [0xc000, -2], [0x7bff, 65504], [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x0400, 2 ** -14],
    [0x8000, -0], [0x7c00, Infinity], [0xfc00, -Infinity], [0x3555, 0.333251953125],
  ];
  const wide = f16ToFloat32(new Uint16Array(known.map(([h]) => h)));
  known.forEach(([h, v], i) => assert.ok(Object.is(wide[i], v), `0x${h.toString(16)} is ${v}, got ${wide[i]}`));
  assert.ok(Number.isNaN(f16ToFloat32(new Uint16Array([0x7e00]))[0]));
  // Rounding: ties to even, overflow to Inf, underflow to signed zero, NaN stays NaN.
  const narrow = float32ToF16(new Float32Array([
    65519, 65520, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -25, 3 * 2 ** -26, 3 * 2 ** -25, -(2 ** -26), 1e-45, NaN,
  ]));
  assert.deepEqual(
    Array.from(narrow),
    [0x7bff, 0x7c00, 0x3c00, 0x3c02, 0x0000, 0x0001, 0x0002, 0x8000, 0x0000, 0x7e00],
  );
  assert.deepEqual(Array.from(float32ToF16(f32Bits(0x7f800001))), [0x7e00], 'a NaN with only low payload bits stays NaN');
  const bf16 = float32ToBf16(new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4028234663852886e38]));
  assert.deepEqual(Array.from(bf16), [0x3f80, 0x3f82, 0x7f80]);
  assert.deepEqual(Array.from(float32ToBf16(f32Bits(0x7f800001, 0xffc00000))), [0x7fc0, 0xffc0]);
});

// ------------------------------------------------------- PyTorch interop

interface FixtureTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  hex: string;
  float32_hex?: string;
}
interface Fixture {
  metadata: Record<string, string>;
  tensors: Record<string, FixtureTensor>;
}

function loadPair(name: string): { file: Uint8Array; expected: Fixture } {
  const dir = join(FIXTURES, 'safetensors');
  const file = readFileSync(join(dir, `${name}.safetensors`));
  const expected = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as Fixture;
  return { file, expected };
}

function checkAgainstTorch(name: string): void {
  const { file, expected } = loadPair(name);
  const raw = decodeSafetensors(file, { source: `${name}.safetensors`, halfAs: 'raw' });
  const wide = decodeSafetensors(file, { source: `${name}.safetensors` });
  assert.deepEqual(raw.metadata, expected.metadata);
  assert.deepEqual(Object.keys(raw.tensors).sort(), Object.keys(expected.tensors).sort());
  for (const [key, want] of Object.entries(expected.tensors)) {
    const got = raw.tensors[key]!;
    assert.equal(got.dtype, want.dtype, key);
    assert.deepEqual(got.shape, want.shape, key);
    assert.equal(hex(got.data), want.hex, `${key}: bytes as torch wrote them`);
    if (want.float32_hex !== undefined) assert.equal(hex(wide.tensors[key]!.data), want.float32_hex, `${key}: widened as torch widens`);
  }
  // Our writer lays the file out exactly as scripts/torch_to_safetensors.py does.
  assert.deepEqual(encodeSafetensors(wide.tensors, wide.metadata), new Uint8Array(file));
}

test('interop: the dtype zoo written by PyTorch decodes bit for bit and re-encodes byte for byte', () => {
  checkAgainstTorch('dtypes');
  const { tensors } = decodeSafetensors(loadPair('dtypes').file);
  assert.deepEqual(tensors['f32.arange']!.data, Float32Array.from({ length: 24 }, (_, i) => i));
  assert.deepEqual(tensors['f32.arange']!.shape, [2, 3, 4]);
  assert.deepEqual(tensors.i64!.data, new BigInt64Array([-(2n ** 63n), -1n, 0n, 1n, 2n ** 53n + 1n, 2n ** 63n - 1n]));
  assert.deepEqual(tensors.scalar, { dtype: 'F32', shape: [], data: new Float32Array([3.5]) });
  assert.deepEqual(tensors.empty, { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) });
  assert.deepEqual(tensors.bool!.data, new Uint8Array([1, 0, 1]));
});

test('interop: float32 -> F16 / BF16 rounds exactly as torch .half() / .bfloat16()', () => {
  const { tensors } = loadPair('dtypes').expected;
  const bytes = (h: string): ArrayBuffer => new Uint8Array(Buffer.from(h, 'hex')).buffer;
  const src = new Float32Array(bytes(tensors.half_source!.hex));
  assert.equal(src.length, tensors.half_source!.shape[0]);
  // Every value rounds to torch's bits, except that NaN may come out as any NaN
  // (torch itself writes 0x7fc0 or 0xffff for a bfloat16 NaN, by code path).
  for (const [dtype, ours] of [['f16', float32ToF16(src)], ['bf16', float32ToBf16(src)]] as const) {
    const theirs = new Uint16Array(bytes(tensors[dtype]!.hex));
    const wide = dtype === 'f16' ? f16ToFloat32 : bf16ToFloat32;
    const [a, b] = [wide(ours), wide(theirs)];
    for (let i = 0; i < src.length; i++) {
      if (Number.isNaN(src[i])) assert.ok(Number.isNaN(a[i]) && Number.isNaN(b[i]), `${dtype}[${i}]: NaN stays NaN`);
      else assert.equal(ours[i], theirs[i], `${dtype}[${i}]: ${src[i]} -> 0x${ours[i]!.toString(16)}, torch 0x${theirs[i]!.toString(16)}`);
    }
  }
});

test('interop: a PyTorch nn.LSTM state_dict converted by scripts/torch_to_safetensors.py', () => {
  checkAgainstTorch('lstm');
  const { tensors, metadata } = decodeSafetensors(loadPair('lstm').file);
  assert.equal(metadata.format, 'pt');
  assert.deepEqual(tensors.weight_ih_l0!.shape, [16, 3]);
  assert.deepEqual(tensors.weight_ih_l1_reverse!.shape, [16, 8]);
  assert.deepEqual(tensors.weight_hh_l1!.shape, [16, 4]);
  assert.deepEqual(tensors.bias_hh_l0_reverse!.shape, [16]);
  assert.ok(tensors.weight_ih_l0!.data instanceof Float32Array);
});

// ---------------------------------------------------------- encoder errors

test('encode: refuses bad input with typed errors', () => {
  const f = new Float32Array(4);
  assert.throws(() => encodeSafetensors({ w: { dtype: 'F32', shape: [2, 3], data: f } }), ShapeError);
  assert.throws(() => encodeSafetensors({ w: { dtype: 'F32', shape: [-1, -4], data: f } }), ShapeError);
  assert.throws(() => encodeSafetensors({ w: { dtype: 'F32', shape: [2.5], data: f } }), ShapeError);
  assert.throws(() => encodeSafetensors({ w: { dtype: 'F64', shape: [4], data: f } }), /F64 has a Float32Array; expected a Float64Array/);
  assert.throws(() => encodeSafetensors({ w: { dtype: 'F8_E4M3' as SafetensorsDtype, shape: [4], data: f } }), ValueError);
  assert.throws(() => encodeSafetensors({ __metadata__: { dtype: 'F32', shape: [4], data: f } }), ValueError);
  assert.throws(() => encodeSafetensors({}, { epochs: 3 as unknown as string }), /values must be strings/);
  assert.throws(() => encodeSafetensors({ 'w\ud800': { dtype: 'F32', shape: [4], data: f } }), /lone surrogate/);
  // Typed arrays from another realm (a vm context, an iframe) are recognised too.
  const foreign = runInNewContext('new Float32Array([1, 0.5, -2])') as Float32Array;
  const file = encodeSafetensors({ h: { dtype: 'F16', shape: [3], data: foreign }, f: { dtype: 'F32', shape: [3], data: foreign } });
  assert.deepEqual(decodeSafetensors(file).tensors.h!.data, new Float32Array([1, 0.5, -2]));
  assert.deepEqual(decodeSafetensors(file).tensors.f!.data, new Float32Array([1, 0.5, -2]));
});

// ----------------------------------------------------------- hostile files

test('decode: refuses hostile headers with a FormatError naming the problem', () => {
  const entry = (over: object = {}): object => ({ dtype: 'F32', shape: [2], data_offsets: [0, 8], ...over });
  const good = rawFile({ w: entry() }, 8);
  assert.equal(decodeSafetensors(good).tensors.w!.data.length, 2);

  assertRefused(new Uint8Array(5), 'has 5 bytes');
  const long = good.slice();
  new DataView(long.buffer).setUint32(0, good.length, true);
  assertRefused(long, `header length ${good.length}`, 'runs past the end');
  const absurd = good.slice();
  new DataView(absurd.buffer).setUint32(0, MAX_HEADER_BYTES + 1, true);
  assertRefused(absurd, 'over the limit');
  const huge = good.slice();
  new DataView(huge.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
  assertRefused(huge, 'over the limit');

  assertRefused(rawFile('{"w": {"dtype": "F32",', 8), 'not valid JSON');
  assertRefused(rawFile('{"w": 1} trailing'), 'not valid JSON', 'after the end');
  assertRefused(rawFile('[1, 2]'), "starting with '{'");
  assertRefused(rawFile(' {}'), "starting with '{'");
  assertRefused(rawFile(''), "starting with '{'");
  assertRefused(rawFile(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 'not valid UTF-8');
  const badUtf8 = rawFile('{"w":1}');
  badUtf8[10] = 0xc3;
  assertRefused(badUtf8, 'not valid UTF-8');
  assertRefused(rawFile('{"a":'.repeat(100) + '1' + '}'.repeat(100)), 'nesting deeper');
  assertRefused(rawFile('{"w\\ud800": 1}'), 'lone surrogate');

  assertRefused(rawFile({ w: entry({ data_offsets: [0, 16] }) }, 8), 'tensor w: data_offsets [0, 16] run past the end of the data (8 bytes)');
  assertRefused(rawFile({ w: entry({ data_offsets: [8, 0] }) }, 8), 'end before they begin');
  assertRefused(rawFile({ w: entry({ data_offsets: [0, 8, 9] }) }, 8), 'data_offsets has 3 numbers');
  assertRefused(rawFile({ w: entry({ data_offsets: [0, -8] }) }, 8), 'data_offsets[1] is -8');
  assertRefused(rawFile({ w: entry({ data_offsets: 'all' }) }, 8), 'data_offsets is "all"');
  assertRefused(rawFile('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8.0]}}', 8), 'data_offsets[1] is 8.0');
  assertRefused(
    rawFile({ weight_ih_l0: { dtype: 'F32', shape: [4, 8], data_offsets: [0, 100] } }, 100),
    'tensor weight_ih_l0: data_offsets [0, 100] hold 100 bytes, shape [4, 8] of F32 needs 128',
  );
  assertRefused(rawFile({ w: entry({ shape: [1e9, 1e9] }) }, 8), 'shape [1000000000, 1000000000] of F32 needs more than 2^53');
  assertRefused(rawFile('{"w":{"dtype":"F32","shape":[1e3],"data_offsets":[0,8]}}', 8), 'shape[0] is 1e3');
  assertRefused(rawFile('{"w":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,8]}}', 8), 'below 2^53');
  assertRefused(rawFile({ w: entry({ shape: [-2, -1] }) }, 8), 'shape[0] is -2');
  assertRefused(rawFile({ w: entry({ shape: [2.5] }) }, 8), 'shape[0] is 2.5');
  assertRefused(rawFile({ w: entry({ shape: ['2'] }) }, 8), 'shape[0] is "2"');
  assertRefused(rawFile({ w: entry({ shape: null }) }, 8), 'shape is null');
  assertRefused(rawFile({ w: entry({ dtype: 'F128' }) }, 8), 'dtype "F128" is not supported');
  assertRefused(rawFile({ w: entry({ dtype: 'F8_E4M3' }) }, 8), 'dtype "F8_E4M3" is not supported');
  assertRefused(rawFile({ w: entry({ dtype: 4 }) }, 8), 'dtype is 4');
  assertRefused(rawFile({ w: { shape: [2], data_offsets: [0, 8] } }, 8), 'dtype is missing');
  assertRefused(rawFile({ w: entry({ strides: [1] }) }, 8), 'unknown key "strides"');
  assertRefused(rawFile({ w: [1, 2] }, 8), 'tensor w: the entry is an array');
  assertRefused(rawFile({ '': entry({ dtype: 'X' }) }, 8), 'tensor "": dtype "X"');
  assertRefused(rawFile({ 'a b\n': entry({ dtype: 'X' }) }, 8), 'tensor "a b\\n": dtype "X"');
  assertRefused(rawFile('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 8), 'duplicate key "w"');
  assertRefused(rawFile('{"w":{"dtype":"F32","dtype":"F64","shape":[2],"data_offsets":[0,8]}}', 8), 'duplicate key "dtype"');
  assertRefused(rawFile('{"__metadata__":{"a":"1","a":"2"}}'), 'duplicate key "a"');
  assertRefused(rawFile({ __metadata__: { epochs: 3 } }), '"epochs" is 3; metadata values must be strings');
  assertRefused(rawFile({ __metadata__: ['a'] }), '__metadata__ is an array');

  const two = (a: number[], b: number[], bytes: number): Uint8Array =>
    rawFile({ a: { dtype: 'U8', shape: [a[1]! - a[0]!], data_offsets: a }, b: { dtype: 'U8', shape: [b[1]! - b[0]!], data_offsets: b } }, bytes);
  assertRefused(two([0, 6], [4, 8], 8), 'tensor b: data_offsets [4, 8] overlap tensor a, which ends at 6');
  assertRefused(two([0, 4], [0, 4], 4), 'overlap');
  assertRefused(two([0, 3], [4, 8], 8), 'tensor b: data_offsets [4, 8] leave a gap of 1 bytes after tensor a');
  assertRefused(two([2, 4], [4, 8], 8), 'leave a gap of 2 bytes after the start of the data');
  assertRefused(two([0, 4], [4, 8], 9), '1 bytes belong to no tensor');
  assertRefused(rawFile({}, 3), 'the tensors cover 0 bytes of data but the file holds 3');

  assert.throws(() => decodeSafetensors(rawFile({ w: entry() }, 8), { maxTensorBytes: 4 }), /8 bytes is more than the limit of 4/);
  const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).length;
  const proto = decodeSafetensors(rawFile('{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"__metadata__":{"__proto__":"x"}}', 1));
  assert.equal(Object.getOwnPropertyNames(Object.prototype).length, prototypeBefore);
  assert.equal(Object.getPrototypeOf(proto.tensors), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(proto.tensors, '__proto__')?.value.shape, [1]);
  assert.equal(Object.getOwnPropertyDescriptor(proto.metadata, '__proto__')?.value, 'x');
});

// ------------------------------------------------------------------- fuzz

/** What a decoded file must satisfy: sizes agree, nothing larger than the file. */
function assertConsistent(file: Uint8Array, decoded: ReturnType<typeof decodeSafetensors>): void {
  let bytes = 0;
  for (const [name, t] of Object.entries(decoded.tensors)) {
    assert.ok(t.dtype in SIZES, name);
    assert.ok(t.shape.every((d) => Number.isSafeInteger(d) && d >= 0), name);
    assert.equal(t.data.length, t.shape.reduce((a, d) => a * d, 1), name);
    bytes += t.data.length * SIZES[t.dtype];
  }
  assert.ok(bytes <= file.length, 'the tensors hold no more bytes than the file');
  for (const v of Object.values(decoded.metadata)) assert.equal(typeof v, 'string');
}

function decodeOrRefuse(file: Uint8Array, what: string): boolean {
  let decoded;
  try {
    decoded = decodeSafetensors(file, { source: 'fuzz' });
  } catch (err) {
    if (!(err instanceof FormatError)) assert.fail(`${what}: threw ${String(err)} (${(err as Error)?.name}), not a FormatError`);
    return false;
  }
  assertConsistent(file, decoded);
  return true;
}

function smallValidFile(): Uint8Array {
  return encodeSafetensors(
    {
      w: { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, -0, 7]) },
      b: { dtype: 'F16', shape: [3], data: new Uint16Array([0x3c00, 0x7e00, 0x0001]) },
      n: { dtype: 'I64', shape: [1], data: new BigInt64Array([-5n]) },
      m: { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
      e: { dtype: 'F32', shape: [0], data: new Float32Array(0) },
    },
    { format: 'pt', step: '12' },
  );
}

test('fuzz: a valid file truncated at every length is refused', () => {
  const file = smallValidFile();
  assert.ok(decodeOrRefuse(file, 'the whole file'));
  for (let length = 0; length < file.length; length++) {
    assert.equal(decodeOrRefuse(file.subarray(0, length), `truncated to ${length}`), false, `truncated to ${length} bytes must be refused`);
  }
});

test('fuzz: thousands of seeded random mutations decode consistently or throw FormatError', { timeout: 120_000 }, () => {
  const rng = new Rng(20240505);
  const base = smallValidFile();
  const headerEnd = 8 + Number(new DataView(base.buffer).getBigUint64(0, true));
  const interesting = [
    0x00, 0xff, 0x7f, 0x80, 0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x2d, 0x30, 0x31, 0x39, 0x65, 0x2e, 0x5c, 0x20,
  ];
  let accepted = 0;
  const cases = 4000;
  for (let n = 0; n < cases; n++) {
    let file = base.slice();
    const edits = 1 + rng.int(4);
    const log: string[] = [];
    for (let k = 0; k < edits; k++) {
      // Most edits land in the header, where the parsing is.
      const inHeader = rng.uniform() < 0.8;
      const at = inHeader ? rng.int(Math.min(headerEnd, file.length)) : rng.int(file.length);
      switch (rng.int(7)) {
        case 0:
          file[at] = file[at]! ^ (1 << rng.int(8));
          log.push(`flip@${at}`);
          break;
        case 1:
          file[at] = rng.int(256);
          log.push(`byte@${at}`);
          break;
        case 2:
          file[at] = interesting[rng.int(interesting.length)]!;
          log.push(`char@${at}`);
          break;
        case 3:
          file = file.slice(0, rng.int(file.length + 1));
          log.push(`truncate@${file.length}`);
          break;
        case 4: {
          const len = 1 + rng.int(16);
          const chunk = file.slice(at, at + len);
          const out = new Uint8Array(file.length + chunk.length);
          out.set(file.subarray(0, at));
          out.set(chunk, at);
          out.set(file.subarray(at), at + chunk.length);
          file = out;
          log.push(`dup@${at}+${len}`);
          break;
        }
        case 5: {
          const len = 1 + rng.int(8);
          file = new Uint8Array(Buffer.concat([file.subarray(0, at), file.subarray(at + len)]));
          log.push(`cut@${at}+${len}`);
          break;
        }
        default:
          if (file.length >= 8) {
            const lengths = [0, 1, headerEnd - 8 + 8, headerEnd - 16, file.length, rng.nextU32(), 2 ** 32 - 1];
            new DataView(file.buffer, file.byteOffset).setUint32(0, lengths[rng.int(lengths.length)]! >>> 0, true);
            if (rng.uniform() < 0.2) new DataView(file.buffer, file.byteOffset).setUint32(4, rng.nextU32(), true);
          }
          log.push('length');
      }
    }
    if (decodeOrRefuse(file, `case ${n} (${log.join(', ')})`)) accepted++;
  }
  // Sanity: the mutations are not all fatal (payload bit flips, for example, stay valid).
  assert.ok(accepted > 20 && accepted < cases, `accepted ${accepted} of ${cases}`);
});

test('fuzz: random headers of hostile values decode consistently or throw FormatError', { timeout: 120_000 }, () => {
  const rng = new Rng(77);
  const pick = <T>(items: readonly T[]): T => items[rng.int(items.length)]!;
  const numbers = [0, 1, 2, 3, 4, 8, 16, -1, 2.5, 1e9, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 64, 1e300, '8', null, true];
  const dtypes = ['F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'U8', 'BOOL', 'I8', 'U64', 'F8_E5M2', 'f32', '', 7];
  let accepted = 0;
  for (let n = 0; n < 3000; n++) {
    const dataBytes = rng.int(40);
    const header: Record<string, unknown> = {};
    const count = rng.int(4);
    let offset = 0;
    for (let t = 0; t < count; t++) {
      const dtype = pick(dtypes);
      const size = typeof dtype === 'string' && dtype in SIZES ? SIZES[dtype as SafetensorsDtype] : 4;
      const rank = rng.int(4);
      // Half the time a plausible entry, else arbitrary numbers everywhere.
      const plausible = rng.uniform() < 0.5;
      const shape = Array.from({ length: rank }, () => (plausible ? 1 + rng.int(3) : pick(numbers)));
      const elements = shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);
      const end = plausible ? offset + elements * size : pick(numbers);
      header[pick(['w', 'b', 'x', `t${t}`, '__metadata__'])] = { dtype, shape, data_offsets: [plausible ? offset : pick(numbers), end] };
      if (typeof end === 'number') offset = end;
    }
    if (rng.uniform() < 0.3) header.__metadata__ = rng.uniform() < 0.7 ? { a: 'b' } : { a: pick(numbers) };
    const data = smallSize(offset) && rng.uniform() < 0.5 ? offset : dataBytes;
    if (decodeOrRefuse(rawFile(header, data), `header ${JSON.stringify(header)} + ${data} bytes`)) accepted++;
  }
  assert.ok(accepted > 100, `accepted ${accepted}`);

  function smallSize(bytes: number): boolean {
    return Number.isSafeInteger(bytes) && bytes >= 0 && bytes < 4096;
  }
});

test('fuzz: absurd sizes are refused before anything is allocated', () => {
  const before = process.memoryUsage().arrayBuffers;
  for (const shape of [[1e9, 1e9], [2 ** 26, 2 ** 26, 2 ** 26], [4294967296], [2 ** 53 - 1], [3, 2 ** 52]]) {
    for (const end of [0, 8, 2 ** 31, 2 ** 53 - 1]) {
      assertRefused(rawFile({ w: { dtype: 'F64', shape, data_offsets: [0, end] } }, 8));
    }
  }
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20, 'no large buffers');
});
