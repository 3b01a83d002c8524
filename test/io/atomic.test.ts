// writeFileAtomic: the target holds the old content or the new, never a mix,
// even when the writer is killed mid-write; no temporary file is left behind
// by a write that finishes or fails.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { writeFileAtomic } from '../../src/io/atomic.js';

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'lstmkit-atomic-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A recognisable payload: every byte of the file says which version it is. */
function payload(version: number, bytes: number): Uint8Array {
  return new Uint8Array(bytes).fill(version);
}

function assertWhole(content: Uint8Array, versions: readonly number[], sizes: readonly number[], what: string): void {
  const first = content[0];
  assert.ok(first !== undefined && versions.includes(first), `${what}: starts with ${first}`);
  assert.equal(content.length, sizes[versions.indexOf(first)], `${what}: a whole file of version ${first}`);
  assert.ok(content.every((b) => b === first), `${what}: a mix of versions`);
}

test('writeFileAtomic: creates and replaces files, bytes and strings, leaving no temporary files', async (t) => {
  const dir = scratch(t);
  const path = join(dir, 'model.lstmkit');
  await writeFileAtomic(path, payload(1, 1000));
  assert.deepEqual(new Uint8Array(readFileSync(path)), payload(1, 1000));
  await writeFileAtomic(path, 'hello ✓');
  assert.equal(readFileSync(path, 'utf8'), 'hello ✓');
  await writeFileAtomic(path, new Uint8Array(0));
  assert.equal(readFileSync(path).length, 0);
  assert.deepEqual(readdirSync(dir), ['model.lstmkit']);
});

test('writeFileAtomic: keeps the mode of the file it replaces and writes through a symlink', async (t) => {
  const dir = scratch(t);
  const path = join(dir, 'run.json');
  writeFileSync(path, 'old');
  chmodSync(path, 0o640);
  await writeFileAtomic(path, 'new');
  assert.equal(statSync(path).mode & 0o777, 0o640);
  const link = join(dir, 'latest.json');
  symlinkSync('run.json', link);
  await writeFileAtomic(link, 'newer');
  assert.equal(readFileSync(path, 'utf8'), 'newer');
  assert.equal(readFileSync(link, 'utf8'), 'newer');
  assert.deepEqual(readdirSync(dir).sort(), ['latest.json', 'run.json']);
});

test('writeFileAtomic: on failure the target is untouched and the temporary file removed', async (t) => {
  const dir = scratch(t);
  // The rename fails: the target is a non-empty directory.
  const target = join(dir, 'taken');
  mkdirSync(target);
  writeFileSync(join(target, 'inside'), 'keep');
  await assert.rejects(writeFileAtomic(target, 'x'));
  assert.deepEqual(readdirSync(dir), ['taken']);
  assert.equal(readFileSync(join(target, 'inside'), 'utf8'), 'keep');
  // The directory does not exist.
  await assert.rejects(writeFileAtomic(join(dir, 'missing', 'file'), 'x'), { code: 'ENOENT' });
  assert.deepEqual(readdirSync(dir), ['taken']);
});

test('writeFileAtomic: readers during rewrites always see a whole old or new file', async (t) => {
  const dir = scratch(t);
  const path = join(dir, 'state.bin');
  const sizes = [0, 300_000, 200_000, 100_000];
  await writeFileAtomic(path, payload(1, sizes[1]!));
  let writing = true;
  const writer = (async () => {
    for (let i = 0; i < 30; i++) await writeFileAtomic(path, payload(1 + (i % 3), sizes[1 + (i % 3)]!));
    writing = false;
  })();
  let reads = 0;
  while (writing) {
    assertWhole(new Uint8Array(await readFile(path)), [1, 2, 3], [sizes[1]!, sizes[2]!, sizes[3]!], `read ${reads}`);
    reads++;
  }
  await writer;
  assert.ok(reads > 0);
  assert.deepEqual(readdirSync(dir), ['state.bin']);
});

test('writeFileAtomic: a writer killed mid-write leaves the old or the new file, whole', { timeout: 60_000 }, async (t) => {
  const dir = scratch(t);
  const path = join(dir, 'checkpoint.bin');
  const module = new URL('../../src/io/atomic.js', import.meta.url).href;
  const oldSize = 1 << 20;
  const newSize = 24 << 20;
  for (let round = 0; round < 6; round++) {
    writeFileSync(path, payload(1, oldSize));
    // The child writes 24 MB atomically, over and over, until it is killed.
    const child = spawn(process.execPath, ['--input-type=module', '-e', `
      const { writeFileAtomic } = await import(${JSON.stringify(module)});
      const data = new Uint8Array(${newSize}).fill(2);
      process.stdout.write('ready\\n');
      for (;;) await writeFileAtomic(${JSON.stringify(path)}, data);
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.stdout.once('data', () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, 5 + round * 15));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    assertWhole(new Uint8Array(readFileSync(path)), [1, 2], [oldSize, newSize], `round ${round}`);
    // A killed writer can leave its temporary file, never a broken target; clear it for the next round.
    for (const name of readdirSync(dir)) if (name !== 'checkpoint.bin') rmSync(join(dir, name));
  }
});
