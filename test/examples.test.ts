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

test('examples/brown.ts: tags simplified as issue 16 asks; every genre in every part of the split by file', async () => {
  const { parseBrown, simplifyTag, splitFiles } = await import('../examples/brown.js');
  const { DataError } = await import('../src/index.js');
  const cases: [string, string][] = [
    ['nn-tl', 'nn'], ['nn-tl-hl', 'nn'], ['jj-nc', 'jj'], ['fw-in+at-tl', 'in+at'], ['fw-in+at-t', 'in+at'], ['ppss+ber-n', 'ppss+ber'],
    ['---hl', '--'], ['--', '--'], ['ppss+md', 'ppss+md'], ['md*', 'md*'], ['*-hl', '*'], ['fw-*', '*'], ['nil', 'nil'],
  ];
  for (const [tag, simple] of cases) assert.equal(simplifyTag(tag), simple, tag);
  assert.deepEqual(parseBrown("\n\n\tThe/at-tl 1/2/cd ./.\n\n\n\tI'll/ppss+md\n"), [
    { line: 3, tokens: ['The', '1/2', '.'], tags: ['at', 'cd', '.'] }, { line: 6, tokens: ["I'll"], tags: ['ppss+md'] },
  ]);
  assert.throws(() => parseBrown('The/at dog\n', 'ca01'), (e: Error) => e instanceof DataError && /ca01:1: a token without a tag: "dog"/.test(e.message));
  // the corpus's 500 names, genre by genre: a 44, b 27, c 17, d 17, e 36, f 48, g 75, h 30, j 80, k 29, l 24, m 6, n 29, p 29, r 9
  const sizes: [string, number][] = [['a', 44], ['b', 27], ['c', 17], ['d', 17], ['e', 36], ['f', 48], ['g', 75], ['h', 30], ['j', 80],
    ['k', 29], ['l', 24], ['m', 6], ['n', 29], ['p', 29], ['r', 9]];
  const names = sizes.flatMap(([g, n]) => Array.from({ length: n }, (_, i) => `c${g}${String(i + 1).padStart(2, '0')}`));
  const split = splitFiles(names);
  for (const [g] of sizes) {
    for (const part of ['train', 'validation', 'test']) assert.ok(names.some((f) => f[1] === g && split.get(f) === part), `${g} in ${part}`);
  }
  const count = (part: string): number => names.filter((f) => split.get(f) === part).length;
  assert.deepEqual([count('train'), count('validation'), count('test')], [396, 52, 52]);
  assert.deepEqual([...splitFiles([...names].reverse())].sort(), [...split].sort(), 'the split does not depend on the order of the names');
});
