// `lstmkit import onnx` and `lstmkit export onnx` (through commander, as
// src/cli/main.ts wires them): a torch.onnx.export file becomes an lstmkit
// model file, which becomes an ONNX file again that onnxruntime runs with
// PyTorch's outputs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';

import { DataError, FormatError, MismatchError } from '../../src/core/errors.js';
import { loadModel } from '../../src/io/modelpath.js';
import { registerOnnxCommands } from '../../src/cli/commands/interchange.js';
import { tempDir } from '../helpers/cli.js';
import { FIXTURES, assertClose, loadFixture, type JsonTensor } from '../helpers/fixtures.js';
import { runOrt } from '../helpers/onnx.js';

async function lstmkit(lines: string[], ...args: string[]): Promise<void> {
  const p = new Command('lstmkit').exitOverride();
  p.command('import').description('an existing import command, as main.ts has').command('torch');
  registerOnnxCommands(p, { log: (line) => void lines.push(line) });
  for (const c of p.commands) {
    for (const s of c.commands) s.exitOverride().configureOutput({ writeErr: (t) => void lines.push(t) });
  }
  await p.parseAsync(['node', 'lstmkit', ...args]);
}

test('import onnx, then export onnx: onnxruntime gives PyTorch\'s outputs', async () => {
  const dir = tempDir();
  const lines: string[] = [];
  const source = join(FIXTURES, 'onnx', 'lstm_2layer_bidir_steps.onnx');
  const model = join(dir, 'model.lstmkit');
  await lstmkit(lines, 'import', 'onnx', source, '--out', model);
  assert.ok(existsSync(model));
  assert.match(lines.join('\n'), /model\.lstmkit: 3 features → bidirectional LSTM 2×5 → step regression \(2 values\)/);
  const { contents } = await loadModel(model);
  assert.deepEqual(contents.training, { ...(contents.training as object), importedFrom: { format: 'onnx', file: 'lstm_2layer_bidir_steps.onnx' } });

  const onnx = join(dir, 'model.onnx');
  lines.length = 0;
  await lstmkit(lines, 'export', 'onnx', model, '--out', onnx, '--no-lengths');
  assert.match(lines.join('\n'), /inputs: {2}x \[batch, steps, 3\] float32\n {2}outputs: y \[batch, steps, 2\]/);
  const fx = loadFixture<{ runs: { x: JsonTensor; y: JsonTensor }[] }>('onnx', 'lstm_2layer_bidir_steps.json');
  const { readFileSync } = await import('node:fs');
  for (const run of fx.runs) {
    const [B, T, F] = run.x.shape as [number, number, number];
    const input = { data: run.x.data, B, T, F, batchFirst: true };
    const y = (await runOrt(new Uint8Array(readFileSync(onnx)), input, false)).y!;
    const diff = assertClose(y, run.y.data, 'PyTorch → ONNX → lstmkit → ONNX → onnxruntime', 1e-5, 1e-5);
    console.log(`  B=${B} T=${T}: max abs diff ${diff.maxAbs.toExponential(2)}`);
  }
});

test('the PyTorch BiLSTM classifier, fc(out[:, -1, :]): imported, exported again, onnxruntime gives PyTorch\'s outputs', async () => {
  const dir = tempDir();
  const lines: string[] = [];
  const model = join(dir, 'classifier.lstmkit');
  await lstmkit(lines, 'import', 'onnx', join(FIXTURES, 'onnx', 'lstm_bidir_classifier.onnx'), '--out', model);
  assert.match(lines.join('\n'), /4 features → bidirectional LSTM 5 → sequence regression \(3 values, head on out\[:, -1\]\)/);
  const onnx = join(dir, 'classifier.onnx');
  await lstmkit(lines, 'export', 'onnx', model, '--out', onnx);
  const fx = loadFixture<{ runs: { x: JsonTensor; y: JsonTensor }[] }>('onnx', 'lstm_bidir_classifier.json');
  const { readFileSync } = await import('node:fs');
  for (const run of fx.runs) {
    const [B, T, F] = run.x.shape as [number, number, number];
    const y = (await runOrt(new Uint8Array(readFileSync(onnx)), { data: run.x.data, B, T, F, batchFirst: true })).y!;
    const diff = assertClose(y, run.y.data, 'PyTorch → ONNX → lstmkit → ONNX (GatherND at lengths - 1) → onnxruntime', 1e-5, 1e-5);
    console.log(`  B=${B} T=${T}: max abs diff ${diff.maxAbs.toExponential(2)}`);
  }
});

test('import onnx with labels: --classes and --vocabulary files, --json report', async () => {
  const dir = tempDir();
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'classes.txt'), 'neg\nneu\npos\n');
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(['<pad>', '<unk>', ...'abcdefghij'.split('')]));
  const lines: string[] = [];
  const model = join(dir, 'tokens.lstmkit');
  await lstmkit(
    lines, 'import', 'onnx', join(FIXTURES, 'onnx', 'lstm_tokens.onnx'), '--out', model,
    '--classes', join(dir, 'classes.txt'), '--vocabulary', join(dir, 'vocab.json'), '--json',
  );
  const report = JSON.parse(lines[0]!) as {
    config: { output: { classes: string[] }; input: { vocabulary: string[] } }; notes: string[];
  };
  assert.deepEqual(report.config.output.classes, ['neg', 'neu', 'pos']);
  assert.equal(report.config.input.vocabulary[2], 'a');
  assert.ok(report.notes.some((n) => n.includes('logits')), report.notes.join('\n'));
});

test('the commands refuse bad files with typed errors (main prints them as one line)', async () => {
  const dir = tempDir();
  const lines: string[] = [];
  await assert.rejects(lstmkit(lines, 'import', 'onnx', join(dir, 'missing.onnx'), '--out', join(dir, 'x.lstmkit')), DataError);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'junk.onnx'), 'not an onnx file at all');
  await assert.rejects(lstmkit(lines, 'import', 'onnx', join(dir, 'junk.onnx'), '--out', join(dir, 'x.lstmkit')), FormatError);
  assert.ok(!existsSync(join(dir, 'x.lstmkit')));
  await assert.rejects(lstmkit(lines, 'export', 'onnx', join(dir, 'junk.onnx'), '--out', join(dir, 'x.onnx'), '--opset', '9'), /opset|integer from 14/);
});

test('import onnx --check x.jsonl --expect y.json: the graph\'s own outputs pass; one changed value refuses the import', async () => {
  const dir = tempDir();
  const { writeFileSync } = await import('node:fs');
  const fx = loadFixture<{ runs: { x: JsonTensor; y: JsonTensor }[] }>('onnx', 'gru_2layer_bidir_mean.json');
  const { x, y } = fx.runs[0]!;
  const [T, B, F] = x.shape as [number, number, number]; // time-major, as the graph was exported
  const K = y.shape[1]!;
  const xs = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => x.data.slice((t * B + b) * F, (t * B + b + 1) * F)));
  const ys = Array.from({ length: B }, (_, b) => y.data.slice(b * K, (b + 1) * K));
  writeFileSync(join(dir, 'x.jsonl'), xs.map((s) => JSON.stringify({ x: s })).join('\n') + '\n');
  writeFileSync(join(dir, 'y.json'), JSON.stringify(ys));
  const source = join(FIXTURES, 'onnx', 'gru_2layer_bidir_mean.onnx');
  const lines: string[] = [];
  const check = ['--check', join(dir, 'x.jsonl'), '--expect', join(dir, 'y.json')];
  await lstmkit(lines, 'import', 'onnx', source, '--out', join(dir, 'ok.lstmkit'), ...check);
  assert.match(lines.join('\n'), /\n {2}the head reads the mean of the outputs over the valid steps\n {2}checked: 2 sequences of .*x\.jsonl give/);
  ys[1]![0]! += 0.01;
  writeFileSync(join(dir, 'y.json'), JSON.stringify(ys));
  await assert.rejects(
    lstmkit(lines, 'import', 'onnx', source, '--out', join(dir, 'off.lstmkit'), ...check),
    (e: unknown) => e instanceof MismatchError && /gru_2layer_bidir_mean\.onnx: .*\(the ONNX graph's outputs\): .*x\.jsonl line 2 gives/.test(e.message),
  );
  assert.ok(!existsSync(join(dir, 'off.lstmkit')));
});
