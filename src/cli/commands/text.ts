// The definitions of the text commands, `lstmkit classify train|eval|predict`,
// `lstmkit generate train|eval` and `lstmkit sample`: names, options, defaults
// and help. Each action imports ../text.js when it runs, so help and the
// other commands do not load the classifier and the generator.

import { InvalidArgumentError, Option, type Command } from 'commander';
import type { ClassifyTrainArgs, GenerateTrainArgs, SampleArgs } from '../text.js';
import { positiveInt, nonNegativeInt, positiveNumber, nonNegativeNumber } from '../args.js';

const fraction = (v: string): number => {
  const n = Number(v);
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError('expected a fraction in [0, 1)');
  return n;
};

export function registerTextCommands(program: Command): void {
  const classify = program.command('classify').description('text classification: train, evaluate and predict with a (Bi)LSTM over words or characters');

  classify.command('train')
    .description('train on JSONL texts ({"text": "...", "label": "..."} per line); writes <out>/best.lstmkit and last.lstmkit')
    .requiredOption('--data <file>', 'training texts (JSONL)')
    .option('--val <file>', 'validation texts (JSONL); otherwise --val-fraction of the training texts')
    .option('--val-fraction <f>', 'seeded fraction held out for validation when no --val is given (0: none)', fraction, 0.1)
    .option('--out <dir>', 'run directory', 'run')
    .addOption(new Option('--tokenizer <kind>', 'words or characters').choices(['word', 'char']).default('word'))
    .option('--max-length <n>', 'keep the first n tokens of a text (default 300)', positiveInt)
    .option('--max-vocab <n>', 'vocabulary size, <pad> and <unk> included (default 20000)', positiveInt)
    .option('--min-count <n>', 'rarer tokens become <unk> (default 2 for words, 1 for characters)', positiveInt)
    .option('--no-lowercase', 'keep letter case')
    .option('--embedding-dim <n>', 'embedding size (default 64)', positiveInt)
    .option('--hidden-size <n>', 'LSTM units per direction (default 64)', positiveInt)
    .option('--layers <n>', 'stacked LSTM layers (default 1)', positiveInt)
    .option('--no-bidirectional', 'a forward LSTM only')
    .addOption(new Option('--pooling <kind>', 'what the head reads: the mean or max over steps, h_n (the final states; also last) or out[:, -1] (default mean)')
      .choices(['mean', 'max', 'hn', 'last', 'lastOutput']))
    .option('--epochs <n>', 'epochs (default 5)', positiveInt)
    .option('--batch-size <n>', 'texts per batch (default 32)', positiveInt)
    .option('--lr <rate>', 'Adam learning rate (default 0.003)', positiveNumber)
    .option('--seed <n>', 'seed of initialization, shuffling and the split (default 0)', nonNegativeInt)
    .option('--json', 'one JSON object per epoch on stdout')
    .action(async (o: ClassifyTrainArgs) => (await import('../text.js')).classifyTrainCommand(o));

  classify.command('eval')
    .description('accuracy, macro-F1 and the confusion matrix on labelled JSONL texts')
    .argument('<model>', 'model file or run directory')
    .requiredOption('--data <file>', 'labelled texts (JSONL)')
    .option('--json', 'print the metrics as JSON')
    .action(async (model: string, o: { data: string; json?: boolean }) => (await import('../text.js')).classifyEvalCommand(model, o));

  classify.command('predict')
    .description('the label and every class probability, one JSON line per text')
    .argument('<model>', 'model file or run directory')
    .option('--data <file>', 'texts (JSONL with "text")')
    .option('--text <text...>', 'texts on the command line')
    .option('--out <file>', 'write here instead of stdout')
    .action(async (model: string, o: { data?: string; text?: string[]; out?: string }) => (await import('../text.js')).classifyPredictCommand(model, o));

  const generate = program.command('generate').description('character- or word-level language models (char-rnn style)');

  generate.command('train')
    .description('train on a text file; writes <out>/epochNN-val<bits>.lstmkit per epoch and best.lstmkit')
    .argument('<text-file>', 'UTF-8 text')
    .option('--out <dir>', 'run directory', 'run')
    .option('--lines', 'every line is its own sequence ending with <eos> (names, titles); sampling stops at <eos>')
    .addOption(new Option('--tokenizer <kind>', 'characters or words').choices(['char', 'word']).default('char'))
    .option('--lowercase', 'lowercase the text first')
    .option('--embedding-dim <n>', 'embedding size (default 32)', positiveInt)
    .option('--hidden-size <n>', 'LSTM units (default 128)', positiveInt)
    .option('--layers <n>', 'stacked LSTM layers (default 1)', positiveInt)
    .option('--dropout <p>', 'dropout between layers', fraction)
    .option('--tbptt <n>', 'steps per truncated-BPTT window (default 64)', positiveInt)
    .option('--epochs <n>', 'epochs (default 10)', positiveInt)
    .option('--batch-size <n>', 'lanes of the stream, or lines per batch (default 32)', positiveInt)
    .option('--lr <rate>', 'Adam learning rate (default 0.002)', positiveNumber)
    .option('--val <file>', 'validation text; otherwise --val-fraction of the text')
    .option('--val-fraction <f>', 'held out for validation: the end of the text, or a seeded sample of lines (0: none)', fraction, 0.1)
    .option('--patience <n>', 'stop after n epochs without a better validation loss', nonNegativeInt)
    .option('--seed <n>', 'seed (default 0)', nonNegativeInt)
    .option('--json', 'one JSON object per epoch on stdout')
    .action(async (file: string, o: GenerateTrainArgs) => (await import('../text.js')).generateTrainCommand(file, o));

  generate.command('eval')
    .description('bits per character (or word) of a model on a text file')
    .argument('<model>', 'model file or run directory')
    .argument('<text-file>', 'UTF-8 text')
    .option('--json', 'print the metrics as JSON')
    .action(async (model: string, file: string, o: { json?: boolean }) => (await import('../text.js')).generateEvalCommand(model, file, o));

  program.command('sample')
    .description('sample text from a language model trained with `lstmkit generate train`')
    .argument('<model>', 'model file or run directory')
    .option('--prime <text>', 'text the model reads first; the sample continues it')
    .option('--temperature <t>', 'softmax temperature (0: always the most likely)', nonNegativeNumber, 1)
    .option('--top-k <k>', 'draw from the k most likely tokens only (0: all)', nonNegativeInt, 0)
    .option('--length <n>', 'tokens to generate (lines: the most before <eos>; default 200, lines 40)', positiveInt)
    .option('--seed <n>', 'seed: the same seed gives the same sample', nonNegativeInt, 0)
    .option('--count <n>', 'number of samples', positiveInt, 1)
    .option('--json', 'print {"samples": [...]}')
    .action(async (model: string, o: SampleArgs) => (await import('../text.js')).sampleCommand(model, o));
}
