#!/usr/bin/env node
// The lstmkit command line (commander). User mistakes print one line and
// exit 1; only bugs print a stack trace.
//
// Only the definitions are loaded up front (commander, ./args.js, the
// commands/ modules and the constants their help shows); every action imports
// its implementation when it runs. Loading them all (fastify, protobufjs, the
// wasm backend, the recipes) took about a second, which `lstmkit --help` and
// every command paid before doing anything.

import { Command, Option } from 'commander';
import { LstmkitError } from '../core/errors.js';
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber } from './args.js';
import { registerForecastCommands } from './commands/forecast.js';
import { registerOnnxCommands } from './commands/interchange.js';
import { registerPlaygroundCommand } from './commands/playground.js';
import { registerQuickstartCommand } from './commands/quickstart.js';
import { registerServeCommand } from './commands/serve.js';
import { registerTextCommands } from './commands/text.js';
import type { ImportKerasArgs, ImportTorchArgs } from './import.js';
import type { EvalArgs, PredictArgs, TagArgs } from './evaluate.js';
import type { TrainArgs } from './train.js';

const program = new Command('lstmkit')
  .description('LSTM toolkit: train, evaluate, predict, import, export and serve recurrent models')
  .version('0.1.0')
  .showHelpAfterError();

program.command('demo')
  .description('train a small LSTM on the adding problem and show the loss fall')
  .option('--steps <n>', 'sequence length', positiveInt)
  .option('--epochs <n>', 'epochs', positiveInt)
  .action(async (o: { steps?: number; epochs?: number }) => (await import('./demo.js')).demoCommand(o));

program.command('train')
  .description('train a model from a JSON config on JSONL data')
  .requiredOption('--config <file>', 'model config (JSON)')
  .requiredOption('--data <file>', 'training data (JSONL: {"x": [...], "y": ...} per line; seq2seq also TSV: source<TAB>target)')
  .option('--val <file>', 'validation data (as --data)')
  .option('--out <dir>', 'run directory for best.lstmkit and last.lstmkit', 'run')
  .option('--resume', 'continue from <out>/last.lstmkit')
  .option('--json', 'print one JSON object per epoch')
  .option('--epochs <n>', 'override train.epochs', positiveInt)
  .option('--batch-size <n>', 'override train.batchSize', positiveInt)
  .option('--lr <rate>', 'override the learning rate', positiveNumber)
  .option('--seed <n>', 'override train.seed', (v) => Number.parseInt(v, 10))
  .option('--column <n>', 'taggers: the tag column of CoNLL files, counting from 0 (default: the last)', nonNegativeInt)
  .option('--embeddings <file>', 'taggers: start the word embedding from these vectors (GloVe text format)')
  .action(async (o: TrainArgs) => (await import('./train.js')).trainCommand(o));

program.command('eval')
  .description('metrics of a model (file or run directory) on labelled data')
  .argument('<model>', 'model file or run directory')
  .requiredOption('--data <file>', 'labelled data (JSONL; seq2seq also TSV)')
  .option('--json', 'print the metrics as JSON')
  .option('--beam <n>', 'seq2seq: beam width (1: greedy)', positiveInt)
  .option('--column <n>', 'taggers: the tag column of a CoNLL file, counting from 0 (default: the last)', nonNegativeInt)
  .option('--batch-size <n>', 'sequences per batch', positiveInt)
  .action(async (model: string, o: EvalArgs) => (await import('./evaluate.js')).evalCommand(model, o));

program.command('tag')
  .description('tag sentences with a tagger: tags, confidences and spans with character offsets')
  .argument('<model>', 'tagger model file or run directory')
  .requiredOption('--data <file>', 'sentences: plain text (one per line), CoNLL (.conll, .bio: tokens in column 0) or JSONL ({"x": text or tokens})')
  .option('--out <file>', 'write here instead of stdout')
  .addOption(new Option('--format <kind>', 'how to read --data (default: by its extension)').choices(['text', 'conll', 'jsonl']))
  .addOption(new Option('--output <kind>', 'one JSON object per sentence, or CoNLL lines token<TAB>tag').choices(['jsonl', 'conll']).default('jsonl'))
  .option('--batch-size <n>', 'sentences per batch', positiveInt)
  .action(async (model: string, o: TagArgs) => (await import('./evaluate.js')).tagCommand(model, o));

program.command('predict')
  .description('one JSON line of predictions per input line')
  .argument('<model>', 'model file or run directory')
  .requiredOption('--data <file>', 'inputs (JSONL with "x"; seq2seq also TSV)')
  .option('--out <file>', 'write here instead of stdout')
  .option('--beam <n>', 'seq2seq: beam width (1: greedy)', positiveInt)
  .option('--nbest <n>', 'seq2seq: also list the n best outputs with their scores (at most --beam)', positiveInt)
  .option('--length-penalty <a>', 'seq2seq: beam scores are log-probability / length^a (default 1)', nonNegativeNumber)
  .option('--max-length <n>', 'seq2seq: longest output in tokens (default: the model\'s output.maxLength)', positiveInt)
  .option('--attention', 'seq2seq: add each output\'s attention over the source (one row per output token)')
  .option('--batch-size <n>', 'sequences per batch', positiveInt)
  .action(async (model: string, o: PredictArgs) => (await import('./evaluate.js')).predictCommand(model, o));

registerForecastCommands(program);
registerTextCommands(program);
registerServeCommand(program);
registerPlaygroundCommand(program);
registerQuickstartCommand(program);

const imports = program.command('import').description('turn PyTorch, Keras or ONNX models into lstmkit model files');

imports.command('torch')
  .description('a PyTorch state_dict (safetensors) and an lstmkit config')
  .argument('<weights>', 'state_dict as .safetensors (scripts/torch_to_safetensors.py writes it)')
  .requiredOption('--config <file>', 'the architecture: an lstmkit model config (JSON)')
  .requiredOption('--out <file>', 'model file to write')
  .option('--rename <from=to...>', 'map module names onto embedding, rnn, head (fc=head; module= drops a prefix)')
  .option('--check <x.jsonl>', 'inputs to run the imported model on (JSONL with "x"); with --expect')
  .option('--expect <y.json>', 'what your PyTorch model gave for them (a JSON array, one entry per line); no file is written if they differ')
  .option('--json', 'print the report as JSON')
  .action(async (weights: string, o: ImportTorchArgs) => {
    const { importTorchCommand } = await import('./import.js');
    await importTorchCommand(weights, o);
  });

imports.command('keras')
  .description('a Keras model: a .keras or .h5 file, or model.to_json() and its weights')
  .argument('<model>', 'a .keras archive, an .h5 file of model.save, or model.to_json() output')
  .argument('[weights]', 'weights, if not in <model>: .npz of model.get_weights(), .h5 of model.save_weights, or .keras')
  .requiredOption('--out <file>', 'model file to write')
  .option('--vocabulary <file>', 'token strings of the Embedding rows (JSON array or one per line)')
  .option('--classes <file>', 'class labels of the head (JSON array or one per line)')
  .option('--next', 'a per-step model that predicts the next step')
  .addOption(new Option('--tokenizer <kind>', 'how texts are split').choices(['char', 'word']))
  .option('--check <x.jsonl>', 'inputs to run the imported model on (JSONL with "x"); with --expect')
  .option('--expect <y.json>', 'what your Keras model gave for them (a JSON array, one entry per line); no file is written if they differ')
  .option('--json', 'print the report as JSON')
  .action(async (model: string, weights: string | undefined, o: ImportKerasArgs) => {
    const { importKerasCommand } = await import('./import.js');
    await importKerasCommand(model, weights, o);
  });

registerOnnxCommands(program);

program.command('info')
  .description('the compute backend, SIMD, fused multiply-add and threads in use')
  .action(async () => {
    const { backendInfo } = await import('../kernels/index.js');
    const info = backendInfo();
    const fma = info.fma ? 'yes (relaxed SIMD)' : 'no';
    console.log(
      `backend  ${info.name}\nsimd     ${info.simd ? 'yes' : 'no'}\nfma      ${fma}\nthreads  ${info.threads}` +
      `${info.fallback ? `\nfallback ${info.fallback}` : ''}\nnode     ${process.version}`,
    );
    console.log('\nchoose with LSTMKIT_BACKEND=wasm|reference, LSTMKIT_THREADS=N and LSTMKIT_FMA=0|1');
  });

// A reader that stops early (`lstmkit predict … | head -3`) closes the pipe: that ends the output, not in an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

// An action's promise, its import of the implementation included, is the one
// parseAsync awaits, so a user mistake thrown there lands here as before.
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof LstmkitError) {
    process.stderr.write(`lstmkit: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
