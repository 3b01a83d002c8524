// Corrupt and hostile Keras files (.keras archives, .h5 files): every one is
// refused with a FormatError that names the file, or imports into a model
// whose weights are finite — no other exception, no crash, no hang, no
// runaway allocation. Mutations of real files (bit flips, truncation, spliced
// garbage) are seeded, so a failure names the seed that reproduces it; the
// hostile files are built by hand from the fixtures: declared sizes far past
// the file, counts in the billions, B-trees whose children repeat.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { File } from 'jsfive';

import { FormatError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { Hdf5Reader } from '../../src/io/hdf5.js';
import { importKeras } from '../../src/io/keras.js';
import { readKerasFiles, type KerasSource } from '../../src/io/kerasfiles.js';
import { FIXTURES } from '../helpers/fixtures.js';

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, 'keras', name)));
}

/** Import, and accept only a FormatError naming one of the files, or a model whose weights are finite. */
function importOrRefuse(model: KerasSource, weights: KerasSource | undefined, what: string): 'imported' | 'refused' {
  const started = performance.now();
  try {
    const files = readKerasFiles(model, weights);
    const { model: imported } = importKeras(files.modelJson, files.arrays, { source: model.source, weightsSource: files.weightsSource });
    for (const [name, data] of Object.entries(imported.stateDict())) assert.ok(data.every(Number.isFinite), `${what}: ${name} is finite`);
    return 'imported';
  } catch (e) {
    if (!(e instanceof FormatError)) assert.fail(`${what}: threw ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
    const named = [model.source, weights?.source].some((s) => s !== undefined && e.message.startsWith(`${s}: `));
    assert.ok(named, `${what}: ${e.message}`);
    return 'refused';
  } finally {
    const ms = performance.now() - started;
    assert.ok(ms < 5000, `${what}: took ${ms.toFixed(0)} ms`);
  }
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
    default: { // an extreme byte: sizes, counts and addresses become huge or zero
      const bytes = Uint8Array.from(base);
      bytes[at] = [0x00, 0x7f, 0x80, 0xff][rng.int(4)]!;
      return { bytes, how: `set byte ${at} to ${bytes[at]}` };
    }
  }
}

/** [label, the file to mutate, the model file given with it (weights only)] */
const BASES: [string, string, string | undefined][] = [
  ['fuzz.keras', 'lstm_regression.keras', undefined],
  ['fuzz.h5', 'bigru_embedding_keras2.h5', undefined],
  ['fuzz.h5', 'bilstm_stacked_softmax.h5', undefined],
  ['fuzz.weights.h5', 'gru_functional_keras2_sigmoid.weights.h5', 'gru_functional_keras2_sigmoid.model.json'],
];

for (const [label, name, modelName] of BASES) {
  test(`fuzz: 250 mutations of ${name} import or are refused with a FormatError naming the file`, { timeout: 300_000 }, () => {
    const base = fixture(name);
    const model = modelName ? { bytes: fixture(modelName), source: modelName } : undefined;
    const run = (bytes: Uint8Array, what: string) => {
      const file = { bytes, source: label };
      return model ? importOrRefuse(model, file, what) : importOrRefuse(file, undefined, what);
    };
    assert.equal(run(base, `${name} unchanged`), 'imported');
    const counts = { imported: 0, refused: 0 };
    for (let seed = 0; seed < 250; seed++) {
      const { bytes, how } = mutate(base, new Rng(seed));
      counts[run(bytes, `${name}, seed ${seed} (${how})`)]++;
    }
    console.log(`  ${name}: ${counts.imported} imported, ${counts.refused} refused`);
    assert.ok(counts.refused > 0);
  });
}

test('fuzz: every truncation of an .h5 file, and random bytes behind the HDF5 signature, are refused', { timeout: 300_000 }, () => {
  const base = fixture('gru_functional_keras2_sigmoid.h5');
  for (let at = 0; at < base.length; at += 97) {
    assert.equal(importOrRefuse({ bytes: base.slice(0, at), source: 'cut.h5' }, undefined, `truncated at ${at}`), 'refused');
  }
  const rng = new Rng(7);
  for (let k = 0; k < 200; k++) {
    const bytes = Uint8Array.from({ length: 8 + rng.int(4000) }, () => rng.int(256));
    bytes.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(importOrRefuse({ bytes, source: 'random.h5' }, undefined, `random bytes #${k}`), 'refused');
  }
});

// ---------------------------------------------------------- hostile files

/** Where an object's header messages are, by jsfive (an honest reader of the unmodified file). */
function messages(bytes: Uint8Array, path: string): { type: number; offset: number }[] {
  const file = new File(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  const node = path ? file.get(path)! : file;
  return node._dataobjects.msgs.map((m) => ({ type: m.get('type')!, offset: m.get('offset_to_message')! }));
}

const pad8 = (n: number): number => Math.ceil(n / 8) * 8;

/** The offset of the first dimension of an attribute's dataspace (attribute message version 1, dataspace version 1). */
function attributeDims(bytes: Uint8Array, path: string, name: string): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  for (const m of messages(bytes, path).filter((x) => x.type === 0x000c)) {
    assert.equal(bytes[m.offset], 1, 'attribute message version 1');
    const nameSize = view.getUint16(m.offset + 2, true);
    const typeSize = view.getUint16(m.offset + 4, true);
    const found = new TextDecoder().decode(bytes.subarray(m.offset + 8, m.offset + 8 + nameSize)).replace(/\0+$/, '');
    if (found !== name) continue;
    const space = m.offset + 8 + pad8(nameSize) + pad8(typeSize);
    assert.equal(bytes[space], 1, 'dataspace version 1');
    assert.ok(bytes[space + 1]! >= 1, 'a simple dataspace');
    return space + 8;
  }
  throw new Error(`no attribute ${name} at ${path}`);
}

function hostile(bytes: Uint8Array, source: string, ...fragments: string[]): void {
  const started = performance.now();
  assert.throws(() => {
    const files = readKerasFiles({ bytes, source });
    importKeras(files.modelJson, files.arrays, { source });
  }, (e: unknown) => {
    assert.ok(e instanceof FormatError, `expected a FormatError, got ${e instanceof Error ? e.stack : String(e)}`);
    assert.ok(e.message.startsWith(`${source}: `), e.message);
    for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" should mention "${f}"`);
    return true;
  });
  assert.ok(performance.now() - started < 5000, `${source} took ${(performance.now() - started).toFixed(0)} ms`);
}

test('hostile: a weight whose declared shape is far larger than the file', () => {
  const base = fixture('gru_functional_keras2_sigmoid.h5');
  const path = 'model_weights/gru/gru/gru_cell/kernel:0';
  const space = messages(base, path).find((m) => m.type === 0x0001)!.offset;
  assert.equal(base[space], 1, 'dataspace version 1');
  for (const dims of [[2 ** 31, 15], [65536, 65536], [0xffffffff, 0xffffffff]]) {
    const bytes = Uint8Array.from(base);
    const view = new DataView(bytes.buffer);
    dims.forEach((d, i) => view.setBigUint64(space + 8 + 8 * i, BigInt(d), true));
    hostile(bytes, 'huge.h5', path, 'more than the file');
  }
});

test('hostile: name lists and strings whose declared counts are in the billions', () => {
  const cases: [string, string, string][] = [
    ['bigru_embedding_keras2.h5', 'model_weights', 'layer_names'],
    ['bigru_embedding_keras2.h5', 'model_weights/dense', 'weight_names'],
    ['hdf5_cases.h5', '', 'fixed'], // fixed-length strings at the root, read with model_config
    ['hdf5_cases.h5', '', 'vlen_list'], // variable-length strings: references into a heap
  ];
  for (const [name, path, attribute] of cases) {
    for (const count of [2 ** 32 - 1, 2 ** 40, 1e6]) {
      const bytes = fixture(name);
      new DataView(bytes.buffer).setBigUint64(attributeDims(bytes, path, attribute), BigInt(count), true);
      hostile(bytes, 'counts.h5', 'not a readable HDF5 file');
    }
  }
});

/** A B-tree of three levels, each node's children one node repeated `width` times, in place of the root group's. */
function repeatingBTree(base: Uint8Array, width: number): Uint8Array {
  const find = (needle: number[]): number => base.findIndex((_, i) => needle.every((b, j) => base[i + j] === b));
  const tree = find([0x54, 0x52, 0x45, 0x45]); // 'TREE': the root group's symbol table B-tree (h5py's default format)
  const baseView = new DataView(base.buffer, base.byteOffset);
  assert.equal(base[tree + 5], 0, 'a leaf');
  const leafChild = baseView.getBigUint64(tree + 24 + 8, true);
  const size = (n: number) => 24 + 16 * n + 8;
  const [a, b, c] = [base.length, base.length + size(width), base.length + 2 * size(width)];
  const out = new Uint8Array(c + size(1));
  out.set(base);
  const view = new DataView(out.buffer);
  const node = (at: number, level: number, children: bigint[]) => {
    out.set([0x54, 0x52, 0x45, 0x45, 0, level], at);
    view.setUint16(at + 6, children.length, true);
    view.setBigInt64(at + 8, -1n, true);
    view.setBigInt64(at + 16, -1n, true);
    children.forEach((child, i) => view.setBigUint64(at + 32 + 16 * i, child, true));
  };
  node(a, 2, Array.from({ length: width }, () => BigInt(b)));
  node(b, 1, Array.from({ length: width }, () => BigInt(c)));
  node(c, 0, [leafChild]);
  for (let i = 0; i + 8 <= base.length; i++) if (i !== tree && view.getBigUint64(i, true) === BigInt(tree)) view.setBigUint64(i, BigInt(a), true);
  return out;
}

test('hostile: a B-tree whose children are one node, 65 535 times over (4 billion reads for a naive reader), is refused fast', () => {
  const bytes = repeatingBTree(fixture('gru_functional_keras2_sigmoid.h5'), 65535);
  hostile(bytes, 'btree.h5', 'is read more than 8 times', 'points back at itself');
  // A small one fools nobody either: its nodes repeat.
  hostile(repeatingBTree(fixture('gru_functional_keras2_sigmoid.h5'), 20), 'small.h5', 'points back at itself');
});

test('hostile: the meter stops reading past its limits, and a stopped reader stays stopped', () => {
  const bytes = fixture('bilstm_stacked_softmax.h5');
  assert.throws(() => Hdf5Reader.open(bytes, 'few.h5', { maxReads: 3 }), /few\.h5: not a readable HDF5 file: reading it takes more than 3 reads/);
  assert.throws(() => Hdf5Reader.open(bytes, 'small.h5', { maxCopiedBytes: 64 }), /small\.h5: .*copies more than 64 bytes/);
  assert.throws(() => Hdf5Reader.open(bytes, 'slow.h5', { timeoutMs: 0 }), /slow\.h5: .*takes more than 0 ms/);
  let reads = 1;
  let h5: Hdf5Reader | null = null;
  while (!h5) {
    try {
      h5 = Hdf5Reader.open(bytes, 'stopped.h5', { maxReads: reads });
    } catch {
      reads += 1;
    }
  }
  const stopped = /stopped\.h5: not a readable HDF5 file: reading it takes more than \d+ reads/;
  assert.throws(() => h5.attributes(''), stopped);
  assert.throws(() => h5.names('model_weights'), stopped);
  assert.throws(() => h5.floats('model_weights/dense_1/sequential_1/dense_1/kernel'), stopped);
});
