// The long-range tasks of the 1997 LSTM paper, from the command line: an LSTM
// and a plain tanh RNN trained the same way on the same data.
//
//   npm run example:long-range            (builds first)
//
// Writes runs/long-range/<task>/{train,val,test}.jsonl and <cell>.json, trains
// each with `lstmkit train`, evaluates with `lstmkit eval`, and prints a table
// of steps, wall time and test metrics.

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, addingProblem, temporalOrder } from 'lstmkit';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const out = join(root, 'runs', 'long-range');

function writeJsonl(path: string, records: unknown[]): void {
  writeFileSync(path, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

interface Task {
  name: string;
  make: (count: number, rng: Rng) => unknown[];
  counts: [number, number, number];
  input: object;
  output: object;
  train: object;
  metric: 'mse' | 'accuracy';
  chance: string;
}

const T = Number(process.env.STEPS ?? 100);
const tasks: Task[] = [
  {
    name: `adding-T${T}`,
    make: (n, rng) => addingProblem(n, T, rng),
    counts: [10000, 1000, 1000],
    input: { type: 'features', size: 2 },
    output: { mode: 'sequence', type: 'regression' },
    train: { epochs: 20, batchSize: 32, optimizer: { name: 'adam', lr: 0.005 }, clipNorm: 5, seed: 1 },
    metric: 'mse',
    chance: 'predicting the mean: MSE ≈ 0.167',
  },
  {
    name: `temporal-order-T${T}`,
    make: (n, rng) => temporalOrder(n, T, rng),
    counts: [10000, 1000, 1000],
    input: { type: 'tokens', embeddingDim: 8 },
    output: { mode: 'sequence', type: 'classification' },
    train: { epochs: 20, batchSize: 32, optimizer: { name: 'adam', lr: 0.005 }, clipNorm: 5, seed: 1 },
    metric: 'accuracy',
    chance: 'chance: accuracy 0.25',
  },
];

const rows: string[] = [];
for (const task of tasks) {
  const dir = join(out, task.name);
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(1997);
  const [nTrain, nVal, nTest] = task.counts;
  writeJsonl(join(dir, 'train.jsonl'), task.make(nTrain, rng));
  writeJsonl(join(dir, 'val.jsonl'), task.make(nVal, rng));
  writeJsonl(join(dir, 'test.jsonl'), task.make(nTest, rng));
  for (const cell of ['lstm', 'rnn'] as const) {
    const config = { input: task.input, rnn: { cell, hiddenSize: 32 }, output: task.output, train: task.train };
    writeFileSync(join(dir, `${cell}.json`), JSON.stringify(config, null, 2));
    const started = Date.now();
    console.log(`\n== ${task.name}: ${cell.toUpperCase()} ==`);
    execFileSync(process.execPath, [
      cli, 'train', '--config', join(dir, `${cell}.json`), '--data', join(dir, 'train.jsonl'), '--val', join(dir, 'val.jsonl'),
      '--out', join(dir, cell),
    ], { stdio: 'inherit' });
    const seconds = (Date.now() - started) / 1000;
    const evaluated = execFileSync(process.execPath, [cli, 'eval', join(dir, cell), '--data', join(dir, 'test.jsonl'), '--json'], { encoding: 'utf8' });
    const metrics = JSON.parse(evaluated) as Record<string, number>;
    const epochs = (task.train as { epochs: number }).epochs;
    const steps = epochs * Math.ceil(nTrain / 32);
    rows.push(
      `| ${task.name} | ${cell.toUpperCase()} | ${steps} | ${seconds.toFixed(0)} s | ${task.metric} ${metrics[task.metric]!.toFixed(4)} | ${task.chance} |`,
    );
  }
}
console.log('\n| task | model | optimizer steps | wall time | test | baseline |\n|---|---|---|---|---|---|');
console.log(rows.join('\n'));
