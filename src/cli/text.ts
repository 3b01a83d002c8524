// The text commands: `lstmkit classify train|eval|predict`, `lstmkit
// generate train|eval` and `lstmkit sample`. Thin faces on
// tasks/classifier.ts and tasks/generator.ts: files in, model files and
// tables out.

import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '../core/errors.js';
import { type JsonlRecord } from '../data/jsonl.js';
import { readJsonl } from '../data/jsonlfile.js';
import { writeFileAtomic } from '../io/atomic.js';
import { BEST, LAST, readModelFile } from '../io/modelpath.js';
import type { Trainer } from '../train/trainer.js';
import type { AnyModel } from '../model/models.js';
import type { TrainConfig } from '../model/config.js';
import { TextClassifier, type LabelledText, type TextClassifierOptions } from '../tasks/classifier.js';
import { TextGenerator, type GeneratorEpochLog, type TextGeneratorOptions } from '../tasks/generator.js';
import { formatConfusion, formatMetrics } from './common.js';

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

function note(text: string): void {
  process.stderr.write(text + '\n');
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, expected a text file' : (e as Error).message, path);
  }
}

// ---------------------------------------------------------------- classify

/** {"text", "label"} or {"x", "y"} per line. */
function labelledTexts(records: readonly JsonlRecord[], file: string, requireLabel: boolean): LabelledText[] {
  return records.map(({ line, value }) => {
    const text = value.text ?? value.x;
    if (typeof text !== 'string') {
      const got = JSON.stringify(text)?.slice(0, 40) ?? 'nothing';
      throw new DataError(`expected a "text" (or "x") field holding a string, got ${got}`, file, line);
    }
    const label = value.label ?? value.y;
    if (label === undefined || label === null) {
      if (requireLabel) throw new DataError('missing field "label" (or "y")', file, line);
      return { text, label: '' };
    }
    if (typeof label !== 'string' && typeof label !== 'number' && typeof label !== 'boolean') {
      throw new DataError(`"label" must be a string or number, got ${JSON.stringify(label).slice(0, 40)}`, file, line);
    }
    return { text, label };
  });
}

async function loadClassifier(path: string): Promise<{ classifier: TextClassifier; path: string }> {
  const contents = await readModelFile(path);
  return { classifier: TextClassifier.fromModelFile(contents, { source: contents.path }), path: contents.path };
}

export interface ClassifyTrainArgs {
  data: string;
  val?: string;
  out: string;
  tokenizer: 'char' | 'word';
  maxLength?: number;
  maxVocab?: number;
  minCount?: number;
  lowercase: boolean;
  embeddingDim?: number;
  hiddenSize?: number;
  layers?: number;
  bidirectional: boolean;
  pooling?: 'mean' | 'last';
  epochs?: number;
  batchSize?: number;
  lr?: number;
  valFraction: number;
  seed?: number;
  json?: boolean;
}

export async function classifyTrainCommand(args: ClassifyTrainArgs): Promise<void> {
  const train = labelledTexts(await readJsonl(args.data), args.data, true);
  const validation = args.val ? labelledTexts(await readJsonl(args.val), args.val, true) : undefined;
  const trainConfig: TrainConfig = {};
  if (args.epochs !== undefined) trainConfig.epochs = args.epochs;
  if (args.batchSize !== undefined) trainConfig.batchSize = args.batchSize;
  if (args.lr !== undefined) trainConfig.optimizer = { name: 'adam', lr: args.lr };
  if (args.seed !== undefined) trainConfig.seed = args.seed;
  if (!validation && args.valFraction > 0) trainConfig.validationSplit = args.valFraction;
  const options: TextClassifierOptions = {
    tokenizer: args.tokenizer, lowercase: args.lowercase, bidirectional: args.bidirectional, train: trainConfig,
  };
  if (args.maxLength !== undefined) options.maxLength = args.maxLength;
  if (args.maxVocab !== undefined) options.maxVocabulary = args.maxVocab;
  if (args.minCount !== undefined) options.minCount = args.minCount;
  if (args.embeddingDim !== undefined) options.embeddingDim = args.embeddingDim;
  if (args.hiddenSize !== undefined) options.hiddenSize = args.hiddenSize;
  if (args.layers !== undefined) options.numLayers = args.layers;
  if (args.pooling !== undefined) options.pooling = args.pooling;
  const classifier = new TextClassifier(options);
  const bestPath = join(args.out, BEST);
  const lastPath = join(args.out, LAST);
  const started = Date.now();
  const training = (trainer: Trainer<AnyModel>) => ({
    data: args.data, validation: args.val ?? (args.valFraction > 0 ? `${args.valFraction} of ${args.data}` : null),
    epochs: trainer.epochsDone, savedAt: new Date().toISOString(),
  });
  let announced = false;
  await classifier.fit(train, {
    ...(validation ? { validation } : {}),
    checkpoint: { dir: args.out, training },
    callbacks: {
      onBatchEnd: () => {
        if (announced || args.json) return;
        announced = true;
        const m = classifier.model;
        const units = classifier.tokenizer === 'word' ? 'words' : 'characters';
        note(
          `training ${m.parameterCount.toLocaleString()} parameters on ${train.length} texts: ${m.classes!.length} classes, ` +
          `vocabulary of ${classifier.vocabulary.length} ${units} (${m.backend.name} backend)`,
        );
      },
      onEpochEnd: (log) => {
        if (args.json) {
          out(JSON.stringify({
            epoch: log.epoch, epochs: log.epochs, loss: log.loss,
            val: log.val ? { ...log.val, confusion: undefined } : null, seconds: log.seconds, best: log.best,
          }));
        } else {
          const val = log.val
            ? `  val_loss ${log.val.loss.toFixed(4)}  val_acc ${log.val.accuracy!.toFixed(4)}  val_macroF1 ${log.val.macroF1!.toFixed(4)}`
            : '';
          note(`epoch ${log.epoch}/${log.epochs}  loss ${log.loss.toFixed(4)}${val}  ${log.seconds.toFixed(1)} s${log.best ? '  *best' : ''}`);
        }
      },
    },
  });
  if (!args.json) note(`done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${bestPath} (best), ${lastPath} (last epoch)`);
}

export async function classifyEvalCommand(model: string, args: { data: string; json?: boolean }): Promise<void> {
  const { classifier, path } = await loadClassifier(model);
  const data = labelledTexts(await readJsonl(args.data), args.data, true);
  const m = classifier.evaluate(data);
  if (args.json) {
    out(JSON.stringify({ model: path, data: args.data, ...m }));
    return;
  }
  out(`${path} on ${args.data} (${m.count} texts)`);
  out(formatMetrics({ accuracy: m.accuracy, macroF1: m.macroF1, loss: m.loss }));
  out('\n' + formatConfusion(m.classes, m.confusion));
}

export async function classifyPredictCommand(
  model: string, args: { data?: string; text?: string[]; out?: string },
): Promise<void> {
  if ((args.data === undefined) === (args.text === undefined)) throw new DataError('give either --data <file.jsonl> or --text "…" (one or more)');
  const { classifier } = await loadClassifier(model);
  const texts = args.text ?? labelledTexts(await readJsonl(args.data!), args.data!, false).map((t) => t.text);
  const predictions = classifier.predict(texts);
  const lines = predictions.map((p) => JSON.stringify(p)).join('\n') + '\n';
  if (!args.out) {
    process.stdout.write(lines);
    return;
  }
  const stream = createWriteStream(args.out);
  await new Promise<void>((resolve, reject) => {
    stream.on('error', (e) => reject(new DataError(e.message, args.out)));
    stream.end(lines, () => resolve());
  });
}

// ---------------------------------------------------------------- generate

export interface GenerateTrainArgs {
  out: string;
  lines?: boolean;
  tokenizer: 'char' | 'word';
  lowercase?: boolean;
  embeddingDim?: number;
  hiddenSize?: number;
  layers?: number;
  dropout?: number;
  tbptt?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  val?: string;
  valFraction: number;
  patience?: number;
  seed?: number;
  json?: boolean;
}

/** `epoch03-val1.234.lstmkit`: the epoch and its validation bits per token (train bits without validation). */
export function checkpointName(log: GeneratorEpochLog): string {
  const epoch = String(log.epoch).padStart(2, '0');
  return log.val ? `epoch${epoch}-val${log.val.bitsPerToken.toFixed(3)}.lstmkit` : `epoch${epoch}-train${log.bitsPerToken.toFixed(3)}.lstmkit`;
}

export async function generateTrainCommand(file: string, args: GenerateTrainArgs): Promise<void> {
  const text = await readText(file);
  const validation = args.val ? await readText(args.val) : undefined;
  const trainConfig: TrainConfig = {};
  if (args.epochs !== undefined) trainConfig.epochs = args.epochs;
  if (args.batchSize !== undefined) trainConfig.batchSize = args.batchSize;
  if (args.lr !== undefined) trainConfig.optimizer = { name: 'adam', lr: args.lr };
  if (args.seed !== undefined) trainConfig.seed = args.seed;
  const options: TextGeneratorOptions = {
    unit: args.lines ? 'lines' : 'text', tokenizer: args.tokenizer, lowercase: args.lowercase ?? false, train: trainConfig,
  };
  if (args.embeddingDim !== undefined) options.embeddingDim = args.embeddingDim;
  if (args.hiddenSize !== undefined) options.hiddenSize = args.hiddenSize;
  if (args.layers !== undefined) options.numLayers = args.layers;
  if (args.dropout !== undefined) options.dropout = args.dropout;
  if (args.tbptt !== undefined) options.tbptt = args.tbptt;
  const generator = new TextGenerator(options);
  await mkdir(args.out, { recursive: true });
  const bestPath = join(args.out, BEST);
  const per = `bits/${generator.tokenizer === 'char' ? 'char' : 'word'}`;
  const started = Date.now();
  let announced = false;
  const facts = (epoch: number, loss: number, val: unknown) => ({
    data: file, validation: args.val ?? (args.valFraction > 0 ? `the last ${args.valFraction} of ${file}` : null),
    epoch, loss, val, savedAt: new Date().toISOString(),
  });
  await generator.fit(text, {
    ...(validation !== undefined ? { validation } : args.valFraction > 0 ? { validationSplit: args.valFraction } : {}),
    ...(args.patience !== undefined ? { patience: args.patience } : {}),
    checkpoint: {
      dir: args.out,
      training: (trainer) => ({ data: file, epochs: trainer.epochsDone, savedAt: new Date().toISOString() }),
    },
    callbacks: {
      onBatchEnd: (b) => {
        if (!announced && !args.json) {
          announced = true;
          const m = generator.model;
          const sequences = generator.unit === 'lines'
            ? 'one sequence per line'
            : `one stream, truncated BPTT over ${m.config.train?.tbptt} steps`;
          note(
            `training ${m.parameterCount.toLocaleString()} parameters on ${file}: ${sequences}, ` +
            `vocabulary of ${generator.vocabulary.length}, ${b.batches} batches per epoch (${m.backend.name} backend)`,
          );
        }
      },
      onEpochEnd: async (log, g) => {
        // A snapshot of every epoch, named by its validation bits, beside the trainer's best and last.
        const path = join(args.out, checkpointName(log));
        await writeFileAtomic(path, g.toModelFile({ training: facts(log.epoch, log.loss, log.val ?? null) }));
        if (args.json) out(JSON.stringify({ ...log, checkpoint: path }));
        else {
          const val = log.val ? `  val ${log.val.bitsPerToken.toFixed(4)} ${per}` : '';
          note(
            `epoch ${log.epoch}/${log.epochs}  train ${log.bitsPerToken.toFixed(4)} ${per}${val}  ` +
            `${log.seconds.toFixed(1)} s  ${path}${log.best ? '  *best' : ''}`,
          );
        }
      },
    },
  });
  if (!args.json) note(`done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${bestPath} (best)`);
}

async function loadGenerator(path: string): Promise<{ generator: TextGenerator; path: string }> {
  const contents = await readModelFile(path);
  return { generator: TextGenerator.fromModelFile(contents, { source: contents.path }), path: contents.path };
}

export async function generateEvalCommand(model: string, file: string, args: { json?: boolean }): Promise<void> {
  const { generator, path } = await loadGenerator(model);
  const m = generator.evaluate(await readText(file));
  if (args.json) {
    out(JSON.stringify({ model: path, data: file, ...m }));
    return;
  }
  out(`${path} on ${file} (${m.tokens} ${generator.tokenName}s predicted)`);
  out(formatMetrics({ [`bitsPer${generator.tokenName === 'character' ? 'Character' : 'Word'}`]: m.bitsPerToken, loss: m.loss, perplexity: m.perplexity }));
}

export interface SampleArgs {
  prime?: string;
  temperature: number;
  topK: number;
  length?: number;
  seed: number;
  count: number;
  json?: boolean;
}

export async function sampleCommand(model: string, args: SampleArgs): Promise<void> {
  const { generator } = await loadGenerator(model);
  const samples = generator.sample({
    temperature: args.temperature, topK: args.topK, seed: args.seed, count: args.count,
    ...(args.prime !== undefined ? { prime: args.prime } : {}),
    ...(args.length !== undefined ? { length: args.length } : {}),
  });
  if (args.json) out(JSON.stringify({ samples }));
  else out(samples.join(generator.unit === 'lines' ? '\n' : '\n\n'));
}
