// The README's runnable example runs and its loss falls.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './helpers/fixtures.js';

test('examples/torch-like.ts trains (loss falls) using the package by its name', () => {
  const out = execFileSync(process.execPath, [join(ROOT, 'dist', 'examples', 'torch-like.js')], { encoding: 'utf8' });
  const losses = [...out.matchAll(/loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
  assert.equal(losses.length, 5);
  assert.ok(losses[4]! < losses[0]!, out);
  assert.match(out, /weight_ih_l0, weight_hh_l0/);
});
