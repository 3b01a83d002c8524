#!/usr/bin/env node
// Compiles the AssemblyScript kernels in assembly/ to WebAssembly:
//   dist/wasm/lstmkit.wasm         shared memory, for threads (Node, cross-origin isolated browsers)
//   dist/wasm/lstmkit-single.wasm  plain memory, for browsers without SharedArrayBuffer
//   dist/wasm/lstmkit-fma.wasm, lstmkit-single-fma.wasm
//                                  the same with relaxed SIMD: the multiplies use fused
//                                  multiply-add (f32x4.relaxed_madd), for engines that run it
// Both import their memory as env.memory and must carry no data segments:
// every worker instantiates the module on the same memory, and a data
// segment would be written again over live data each time.
//
// Usage: node scripts/build-wasm.mjs [--force]

import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'assembly');
const outDir = join(root, 'dist', 'wasm');

const common = [
  join(source, 'index.ts'),
  '-O3', '--noAssert', '--runtime', 'stub', '--use', 'abort=',
  '--enable', 'simd', '--importMemory', '--initialMemory', '1',
];
const shared = ['--enable', 'threads', '--sharedMemory', '--maximumMemory', '65536'];
const relaxed = ['--enable', 'relaxed-simd'];
const targets = [
  { file: 'lstmkit.wasm', flags: shared },
  { file: 'lstmkit-single.wasm', flags: [] },
  { file: 'lstmkit-fma.wasm', flags: [...shared, ...relaxed] },
  { file: 'lstmkit-single-fma.wasm', flags: relaxed },
];

async function newestSource() {
  let newest = (await stat(fileURLToPath(import.meta.url))).mtimeMs;
  for (const name of await readdir(source)) newest = Math.max(newest, (await stat(join(source, name))).mtimeMs);
  return newest;
}

async function upToDate(file, sourceTime) {
  try {
    return (await stat(file)).mtimeMs >= sourceTime;
  } catch {
    return false;
  }
}

/** Section ids of a wasm binary (1 type, 2 import, …, 11 data). */
function sections(bytes) {
  const ids = [];
  let at = 8;
  const leb = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[at++];
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) return result;
    }
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    ids.push({ id, start: at, size });
    at += size;
  }
  return ids;
}

async function main() {
  const force = process.argv.includes('--force');
  await mkdir(outDir, { recursive: true });
  const sourceTime = await newestSource();
  for (const target of targets) {
    const out = join(outDir, target.file);
    if (!force && (await upToDate(out, sourceTime))) continue;
    const { error, stderr } = await asc.main([...common, ...target.flags, '--outFile', out]);
    if (error) {
      process.stderr.write(stderr.toString());
      throw new Error(`build-wasm: ${target.file} failed: ${error.message}`);
    }
    const bytes = await readFile(out);
    const data = sections(bytes).find((s) => s.id === 11);
    if (data && bytes[data.start] !== 0) {
      throw new Error(`build-wasm: ${target.file} has data segments; the kernels must keep no static data`);
    }
    console.log(`build-wasm: ${target.file} (${bytes.length} bytes)`);
  }
}

main().catch((err) => {
  console.error(err.message ?? err);
  process.exit(1);
});
