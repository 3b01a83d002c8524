// Runs every dist/test/**/*.test.js with node's test runner three times: on
// the default backend (WebAssembly SIMD where it runs, with the fused
// multiply-add kernels where relaxed SIMD runs), on the plain SIMD kernels
// (LSTMKIT_FMA=0: what Safari and the playground run), and on the reference
// backend, so the whole suite, PyTorch fixtures included, holds on each.
// (Node 20's --test has no globs, and given a directory it would also run
// the helper modules.) Pass paths to run only those; LSTMKIT_BACKEND set in
// the environment runs one backend only.

import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.js') ? [path] : [];
  }).sort();
}

const files = process.argv.length > 2 ? process.argv.slice(2).flatMap((p) => (statSync(p).isDirectory() ? find(p) : [p])) : find('dist/test');
// The browser test does not depend on the Node backend; it runs once.
const nodeOnly = files.filter((f) => !f.includes(`${join('test', 'web')}`));
const runs = process.env.LSTMKIT_BACKEND
  ? [{ backend: process.env.LSTMKIT_BACKEND, files }]
  : [
    { backend: 'auto', files },
    { backend: 'wasm', fma: '0', files: nodeOnly },
    { backend: 'reference', files: nodeOnly },
  ];

let failed = false;
for (const run of runs) {
  console.log(`\n# backend: ${run.backend}${run.fma === '0' ? ' without FMA' : ''} (${run.files.length} test files)`);
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...run.files], {
    stdio: 'inherit',
    env: { ...process.env, LSTMKIT_BACKEND: run.backend, LSTMKIT_FMA: run.fma ?? process.env.LSTMKIT_FMA ?? '' },
  });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
