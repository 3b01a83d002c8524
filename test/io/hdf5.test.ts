// The HDF5 reader (src/io/hdf5.ts, over jsfive) on files h5py wrote in its
// default format and in the newest (test/fixtures/make_keras_files.py): what
// Keras writes is read, the rest refused by name. Hostile files are in
// hdf5-fuzz.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { File } from 'jsfive';

import { FormatError } from '../../src/core/errors.js';
import { Hdf5Reader } from '../../src/io/hdf5.js';
import { FIXTURES } from '../helpers/fixtures.js';

function open(name: string): Hdf5Reader {
  return Hdf5Reader.open(new Uint8Array(readFileSync(join(FIXTURES, 'keras', name))), name);
}

function refused(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FormatError, `a FormatError, got ${String(e)}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" should mention ${f}`);
    return true;
  });
}

for (const name of ['hdf5_cases.h5', 'hdf5_latest.h5']) {
  test(`HDF5 ${name}: attributes, groups and float datasets of every width and byte order`, () => {
    const h5 = open(name);
    assert.deepEqual(h5.attributes(''), { fixed: ['ab', 'c'], vlen: 'text', vlen_list: ['one', 'two', 'three'], number: 2.5 });
    assert.deepEqual(new Set(h5.names('floats')), new Set(['f2', 'f4_big', 'f8', 'scalar', 'empty']));
    assert.equal(h5.kind('floats'), 'group');
    assert.equal(h5.kind('floats/f8'), 'dataset');
    assert.equal(h5.kind('floats/nothing'), null);
    assert.equal(h5.kind('floats/f8/deeper'), null);
    const read = (path: string) => {
      const { shape, dtype, data } = h5.floats(path);
      return { shape, dtype, data: Array.from(data) };
    };
    assert.deepEqual(read('floats/f2'), { shape: [3], dtype: '<f2', data: [1, -2, 0.5] });
    assert.deepEqual(read('floats/f4_big'), { shape: [2, 3], dtype: '>f4', data: [0, 1, 2, 3, 4, 5] });
    assert.deepEqual(read('floats/f8'), { shape: [1, 1], dtype: '<f8', data: [Math.fround(1e-3)] });
    assert.deepEqual(read('floats/scalar'), { shape: [], dtype: '<f4', data: [7] });
    assert.deepEqual(read('floats/empty'), { shape: [0, 4], dtype: '<f4', data: [] });
  });

  test(`HDF5 ${name}: integers, chunked and compressed datasets, groups and missing paths are refused by name`, () => {
    const h5 = open(name);
    refused(() => h5.floats('refused/ints'), `${name}: refused/ints holds '<i4'`, 'floating-point');
    refused(() => h5.floats('refused/chunked'), 'refused/chunked is stored in chunks');
    refused(() => h5.floats('refused/compressed'), 'refused/compressed is compressed');
    refused(() => h5.floats('refused/a_group'), 'refused/a_group is a group');
    refused(() => h5.floats('refused/none'), 'has no dataset refused/none');
    refused(() => h5.names('floats/f2'), 'floats/f2 is a dataset');
    refused(() => h5.attributes('nowhere'), 'has no group nowhere');
  });
}

test('HDF5: a file that is not HDF5 is refused before jsfive sees it', () => {
  refused(() => Hdf5Reader.open(new TextEncoder().encode('{"not": "hdf5"}'), 'm.h5'), 'm.h5: not an HDF5 file');
  refused(() => Hdf5Reader.open(new Uint8Array(0), 'empty.h5'), 'empty.h5: not an HDF5 file');
});

test('jsfive still has the internals the reader meters and checks (its version is pinned)', () => {
  const bytes = readFileSync(join(FIXTURES, 'keras', 'hdf5_cases.h5'));
  const file = new File(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  assert.equal(typeof file._dataobjects._vlen_size_and_data, 'function');
  const dataset = file.get('floats/f8');
  assert.ok(dataset && 'shape' in dataset);
  const types = dataset._dataobjects.msgs.map((m) => m.get('type'));
  assert.ok(types.includes(8), 'a layout message (type 8) in the dataset header');
  assert.ok(dataset._dataobjects.msgs.every((m) => typeof m.get('offset_to_message') === 'number'));
  const pkg = JSON.parse(readFileSync(join(FIXTURES, '..', '..', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  assert.match(pkg.dependencies.jsfive!, /^\d+\.\d+\.\d+$/, 'jsfive pinned to one version');
});
