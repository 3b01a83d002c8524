// The README's main job: train a CO2 forecaster, serve it and the playground,
// answer a prediction over real HTTP.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, tempDir } from '../helpers/cli.js';

const skip = process.env.LSTMKIT_BACKEND === 'reference' ? 'trains for a minute on the reference backend; the wasm run covers it' : false;

test('lstmkit quickstart trains, serves and answers the curl request it prints', { skip }, async () => {
  const out = tempDir();
  const r = await run(['quickstart', '--check', '--port', '0', '--playground-port', '0', '--out', out]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /LSTM\s+\d+\.\d+\s+\d+\.\d+\s+0\.\d+/, 'a MASE below 1 for the LSTM');
  assert.match(r.stdout, /curl -s http:\/\/127\.0\.0\.1:\d+\/v1\/predict .* -d @.*request\.json/);
  const answer = /POST \/v1\/predict → 200 (.*)/.exec(r.stdout);
  assert.ok(answer, r.stdout);
  const body = JSON.parse(answer[1]!) as { predictions: { dates: string[]; values: number[] }[] };
  assert.equal(body.predictions[0]!.values.length, 12);
  assert.ok(body.predictions[0]!.values.every((v) => v > 380 && v < 460), 'CO2 in ppm');
});
