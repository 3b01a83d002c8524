// The definitions of `lstmkit import onnx` and `lstmkit export onnx`.
// `registerOnnxCommands` adds both to a commander program (reusing its
// `import` and `export` commands when they exist). Each action imports
// ../interchange.js when it runs, so help and the other commands do not load
// the ONNX reader and writer.

import { InvalidArgumentError, Option, type Command } from 'commander';
import { ONNX_OPSETS } from '../../io/onnx/opsets.js';
import type { ExportOnnxArgs, ImportOnnxArgs } from '../interchange.js';

const intIn = (lo: number, hi: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new InvalidArgumentError(`expected an integer from ${lo} to ${hi}`);
  return n;
};

/** The parent command named `name`, created if the program has none yet. */
function parent(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}

/**
 * Adds `import onnx <file> --out <model.lstmkit>` and `export onnx <model> --out <file.onnx>`
 * (reports go to `log`, default stdout).
 */
export function registerOnnxCommands(program: Command, options: { log?: (line: string) => void } = {}): void {
  const withLog = <T extends object>(o: T): T => (options.log ? { ...o, log: options.log } : o);
  parent(program, 'import', 'turn models of other frameworks into lstmkit model files')
    .command('onnx')
    .description('an ONNX file of LSTM / GRU / RNN layers with a dense head (e.g. from torch.onnx.export)')
    .argument('<file>', 'the .onnx file')
    .requiredOption('--out <model>', 'the lstmkit model file to write')
    .option('--output <name>', 'the graph output to import (default: the first)')
    .option('--classes <file>', 'class labels of the head (JSON array or one per line): import a classifier')
    .option('--vocabulary <file>', 'token strings, one per embedding row (JSON array or one per line)')
    .option('--next', 'the per-step output predicts the next step')
    .option('--check <x.jsonl>', 'inputs to run the imported model on (JSONL with "x"); with --expect')
    .option('--expect <y.json>', 'what the ONNX graph gave for them (a JSON array, one entry per line); no file is written if they differ')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, o: ImportOnnxArgs) => {
      const { importOnnxCommand } = await import('../interchange.js');
      await importOnnxCommand(file, withLog(o));
    });

  parent(program, 'export', 'write lstmkit models in other formats')
    .command('onnx')
    .description('an ONNX file that onnxruntime runs with lstmkit\'s results')
    .argument('<model>', 'model file or run directory')
    .requiredOption('--out <file>', 'the .onnx file to write')
    .addOption(new Option('--layout <n>', 'recurrent operators\' layout: 0 time-major (runs everywhere) or 1 batch-first').argParser(intIn(0, 1)).default(0))
    .option('--time-major', 'graph input and output as [steps, batch, ·] (default [batch, steps, ·])')
    .option('--no-lengths', 'no lengths input (every sequence full length)')
    .addOption(new Option('--opset <n>', 'ONNX operator set').argParser(intIn(ONNX_OPSETS.min, ONNX_OPSETS.max)).default(ONNX_OPSETS.min))
    .option('--json', 'print the result as JSON')
    .action(async (model: string, o: ExportOnnxArgs) => {
      const { exportOnnxCommand } = await import('../interchange.js');
      await exportOnnxCommand(model, withLog(o));
    });
}
