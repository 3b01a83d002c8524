// The README's runnable examples run: their losses fall, their names are PyTorch's.

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

test('examples/modules.ts: a module tree of your own, a config model by hand and by the Trainer, resumed', () => {
  const out = execFileSync(process.execPath, [join(ROOT, 'dist', 'examples', 'modules.js')], { encoding: 'utf8' });
  assert.match(out, /an Encoder of your own: rnn\.weight_ih_l0, .*, proj\.0\.weight, proj\.0\.bias\n/);
  assert.match(out, /a config model: rnn\.weight_ih_l0, .*, head\.weight, head\.bias\n/);
  const trained = [...out.matchAll(/trainer, epoch \d+ {2}loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
  assert.equal(trained.length, 3);
  assert.ok(trained[2]! < trained[0]!, out);
  assert.match(out, /resumed after epoch 3: epochs 4, 5, val \d/);
});
