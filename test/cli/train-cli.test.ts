// The real command line, end to end: train, eval, predict, resume after
// SIGKILL, and one clear line for every user mistake.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addingProblem, Rng, decodeModelFile } from '../../src/index.js';
import { trainerStateOf } from '../../src/internals.js';
import { run, start, tempDir, writeJsonl } from '../helpers/cli.js';

const config = {
  input: { type: 'features', size: 2 },
  rnn: { cell: 'lstm', hiddenSize: 12 },
  output: { mode: 'sequence', type: 'regression' },
  train: { epochs: 3, batchSize: 16, optimizer: { name: 'adam', lr: 0.01 }, seed: 3 },
};

function setup(records = 200, steps = 8): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'model.json'), JSON.stringify(config));
  writeJsonl(join(dir, 'train.jsonl'), addingProblem(records, steps, new Rng(1)));
  writeJsonl(join(dir, 'val.jsonl'), addingProblem(50, steps, new Rng(2)));
  return dir;
}

test('train writes best and last model files; eval and predict read the run directory', async () => {
  const dir = setup();
  const r = await run([
    'train', '--config', join(dir, 'model.json'), '--data', join(dir, 'train.jsonl'), '--val', join(dir, 'val.jsonl'),
    '--out', join(dir, 'run'), '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const epochs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; loss: number; val: { mse: number } });
  assert.deepEqual(epochs.map((e) => e.epoch), [1, 2, 3]);
  assert.ok(epochs.every((e) => Number.isFinite(e.val.mse)));
  assert.deepEqual(readdirSync(join(dir, 'run')).sort(), ['best.lstmkit', 'last.lstmkit']);
  const ev = await run(['eval', join(dir, 'run'), '--data', join(dir, 'val.jsonl'), '--json']);
  assert.equal(ev.code, 0, ev.stderr);
  const metrics = JSON.parse(ev.stdout) as { mse: number; mae: number; rmse: number };
  assert.ok(Math.abs(metrics.rmse - Math.sqrt(metrics.mse)) < 1e-9);
  const text = await run(['eval', join(dir, 'run'), '--data', join(dir, 'val.jsonl')]);
  assert.match(text.stdout, /mse\s+\d/);
  const pr = await run(['predict', join(dir, 'run', 'best.lstmkit'), '--data', join(dir, 'val.jsonl')]);
  assert.equal(pr.code, 0, pr.stderr);
  const lines = pr.stdout.trim().split('\n');
  assert.equal(lines.length, 50);
  assert.equal(typeof (JSON.parse(lines[0]!) as { prediction: number }).prediction, 'number');
});

test('plain progress lines when stderr is not a terminal', async () => {
  const dir = setup(64);
  const r = await run(['train', '--config', join(dir, 'model.json'), '--data', join(dir, 'train.jsonl'), '--out', join(dir, 'run'), '--epochs', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /epoch 1\/2 {2}loss \d\.\d+ .* seq\/s/);
  assert.match(r.stderr, /epoch 2\/2/);
});

/** Epochs a checkpoint file says its run completed. */
function epochsIn(path: string): number {
  const file = decodeModelFile(readFileSync(path));
  return file.trainer ? trainerStateOf(file.trainer, path).epoch : 0;
}

test('a run killed with SIGKILL and resumed ends with the same weights as an uninterrupted run', async () => {
  const dir = setup(1500, 20);
  const args = (out: string) => [
    'train', '--config', join(dir, 'model.json'), '--data', join(dir, 'train.jsonl'), '--val', join(dir, 'val.jsonl'),
    '--out', join(dir, out), '--epochs', '8', '--json',
  ];
  const full = await run(args('full'));
  assert.equal(full.code, 0, full.stderr);

  const killed = start(args('killed'));
  const last = join(dir, 'killed', 'last.lstmkit');
  // Wait until the run has checkpointed at least two epochs, then kill it mid-run.
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      // Checkpoints are written atomically, so whatever is there is whole.
      const epochs = existsSync(last) ? epochsIn(last) : 0;
      if (epochs >= 2 && killed.child.exitCode === null) {
        clearInterval(timer);
        killed.child.kill('SIGKILL');
        resolve();
      } else if (killed.child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error('the run finished before it could be killed'));
      }
    }, 5);
  });
  const k = await killed.done;
  assert.equal(k.signal, 'SIGKILL');
  const doneBefore = epochsIn(last);
  assert.ok(doneBefore >= 2 && doneBefore < 8, `killed after epoch ${doneBefore}`);

  const resumed = await run([...args('killed'), '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const a = decodeModelFile(readFileSync(join(dir, 'full', 'last.lstmkit')));
  const b = decodeModelFile(readFileSync(last));
  assert.equal(epochsIn(last), 8);
  for (const name of Object.keys(a.weights)) assert.deepEqual(b.weights[name]!.data, a.weights[name]!.data, `${name} differs after resume`);
  // The resumed run's next loss is the uninterrupted run's.
  const fullLosses = full.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { loss: number }).loss);
  const resumedLosses = resumed.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { loss: number }).loss);
  assert.deepEqual(resumedLosses, fullLosses.slice(doneBefore));
});

test('user mistakes get one clear line naming the file and line, and exit 1', async () => {
  const dir = setup(40);
  const cfg = join(dir, 'model.json');
  const expectError = async (args: string[], pattern: RegExp): Promise<void> => {
    const r = await run(args);
    assert.equal(r.code, 1, `expected exit 1 for ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  };
  await expectError(['train', '--config', cfg, '--data', join(dir, 'missing.jsonl'), '--out', join(dir, 'r')], /missing\.jsonl: no such file/);
  writeFileSync(join(dir, 'bad.jsonl'), '{"x": [[1, 0]], "y": 1}\n{"x": [[1, 0]], "y": 1\n');
  await expectError(['train', '--config', cfg, '--data', join(dir, 'bad.jsonl'), '--out', join(dir, 'r')], /bad\.jsonl:2: not valid JSON/);
  writeJsonl(join(dir, 'width.jsonl'), [{ x: [[1, 0], [2, 0]], y: 1 }, { x: [[1, 0], [2, 0, 3]], y: 1 }]);
  await expectError(
    ['train', '--config', cfg, '--data', join(dir, 'width.jsonl'), '--out', join(dir, 'r')],
    /width\.jsonl:2: x\[1\] has 3 features, the model expects 2/,
  );
  writeFileSync(join(dir, 'badcfg.json'), JSON.stringify({ ...config, rnn: { cell: 'lstm', hiddenSize: -3 } }));
  await expectError(
    ['train', '--config', join(dir, 'badcfg.json'), '--data', join(dir, 'train.jsonl'), '--out', join(dir, 'r')],
    /badcfg\.json: rnn\.hiddenSize .*got -3/,
  );

  const clsCfg = join(dir, 'cls.json');
  writeFileSync(clsCfg, JSON.stringify({
    input: { type: 'features', size: 1 }, rnn: { cell: 'gru', hiddenSize: 4 }, output: { mode: 'sequence', type: 'classification' },
    train: { epochs: 1 },
  }));
  writeJsonl(join(dir, 'cls.jsonl'), [{ x: [1, 2], y: 'up' }, { x: [2, 1], y: 'down' }]);
  const ok = await run(['train', '--config', clsCfg, '--data', join(dir, 'cls.jsonl'), '--out', join(dir, 'cls')]);
  assert.equal(ok.code, 0, ok.stderr);
  writeJsonl(join(dir, 'cls-test.jsonl'), [{ x: [1, 2], y: 'up' }, { x: [1, 2], y: 'sideways' }]);
  await expectError(
    ['eval', join(dir, 'cls'), '--data', join(dir, 'cls-test.jsonl')],
    /cls-test\.jsonl:2: y is the label "sideways", which the model does not know/,
  );
  await expectError(['eval', join(dir, 'nowhere'), '--data', join(dir, 'cls-test.jsonl')], /nowhere: no such model file or run directory/);
});

test('a diverging run exits 1 with one line and no checkpoint from the bad epoch', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...config, train: { epochs: 3, batchSize: 4, optimizer: { name: 'sgd', lr: 1 } } }));
  writeJsonl(join(dir, 'huge.jsonl'), Array.from({ length: 16 }, (_, i) => ({ x: [[i, 1], [1, 0]], y: 1e30 })));
  const r = await run(['train', '--config', join(dir, 'model.json'), '--data', join(dir, 'huge.jsonl'), '--out', join(dir, 'run')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /lstmkit: training diverged: the loss is (NaN|Infinity) at epoch 1, batch \d+.*last good checkpoint/);
  assert.ok(!existsSync(join(dir, 'run', 'last.lstmkit')));
});

test('predict into a reader that stops early (| head) ends quietly; --resume without a checkpoint says it starts anew', async () => {
  const dir = setup(200, 5);
  const fresh = await run(['train', '--config', join(dir, 'model.json'), '--data', join(dir, 'train.jsonl'), '--out', join(dir, 'run'), '--resume']);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.match(fresh.stderr, /--resume: .*last\.lstmkit does not exist \(no checkpoint to continue\); starting a new run/);
  const many = join(dir, 'many.jsonl');
  writeJsonl(many, addingProblem(20000, 5, new Rng(3)));
  const predict = start(['predict', join(dir, 'run'), '--data', many]);
  const first = await new Promise<string>((resolve) => predict.child.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
  predict.child.stdout!.destroy(); // the reader goes away, as `head -1` does
  const r = await predict.done;
  assert.match(first, /^\{"prediction":/);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /EPIPE|Error/);
});
