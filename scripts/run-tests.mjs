// Runs every dist/test/**/*.test.js with node's test runner. Files whose
// results depend on the compute backend — kernels, layers, models, losses and
// optimizers, the importers' and exporters' numbers — run three times: on the
// default backend (WebAssembly SIMD where it runs, with the fused
// multiply-add kernels where relaxed SIMD runs), on the plain SIMD kernels
// (LSTMKIT_FMA=0: what Safari and the playground run), and on the reference
// backend, so the PyTorch fixtures hold on each. The rest — formats, data,
// recipes, the command line, the server, the browser page, the map of the
// code — exercise no kernel of their own and run once, on the default.
// (Node 20's --test has no globs, and given a directory it would also run
// the helper modules.) Pass paths to run only those; LSTMKIT_BACKEND set in
// the environment runs one backend only.

import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The test files (or folders of them, under dist/test/) whose numbers depend on the backend. */
const PER_BACKEND = [
  'kernels/', 'layers/', 'model/', 'train/',
  'io/torch-import', 'io/keras-import', 'io/onnx-import', 'io/onnx-graphs', 'io/onnx-export', 'io/onnx-fuzz', 'io/legacy',
];

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.js') ? [path] : [];
  }).sort();
}

const files = process.argv.length > 2 ? process.argv.slice(2).flatMap((p) => (statSync(p).isDirectory() ? find(p) : [p])) : find('dist/test');
const perBackend = files.filter((f) => PER_BACKEND.some((p) => relative(join('dist', 'test'), f).replace(/\\/g, '/').startsWith(p)));
const runs = process.env.LSTMKIT_BACKEND
  ? [{ backend: process.env.LSTMKIT_BACKEND, files }]
  : [
    { backend: 'auto', files },
    { backend: 'wasm', fma: '0', files: perBackend },
    { backend: 'reference', files: perBackend },
  ];

let failed = false;
for (const run of runs) {
  if (run.files.length === 0) continue;
  console.log(`\n# backend: ${run.backend}${run.fma === '0' ? ' without FMA' : ''} (${run.files.length} test files)`);
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...run.files], {
    stdio: 'inherit',
    env: { ...process.env, LSTMKIT_BACKEND: run.backend, LSTMKIT_FMA: run.fma ?? process.env.LSTMKIT_FMA ?? '' },
  });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
