// lstmkit import torch | keras: weights from PyTorch or Keras become an
// lstmkit model file with the same outputs.

import { DataError, ValueError } from '../core/errors.js';
import { importKeras } from '../io/keras.js';
import { readKerasFiles } from '../io/kerasfiles.js';
import { saveModel } from '../io/modelpath.js';
import { decodeSafetensors } from '../io/safetensors.js';
import { importTorch, importTorchTagger, parseRenames } from '../io/torch.js';
import type { SequenceModel } from '../model/model.js';
import { isSeq2Seq, isTagger } from '../model/models.js';
import type { TaggerModel } from '../model/tagger.js';
import { readAnyConfig, readBytes } from './common.js';
import { checkAgainst, checkReport, headReads, type CheckArgs, type CheckResult } from './importcheck.js';

export interface ImportTorchArgs extends CheckArgs {
  /** The architecture: an lstmkit model config (JSON). */
  config: string;
  out: string;
  /** FROM=TO module renames, e.g. fc=head. */
  rename?: string[];
  json?: boolean;
  /** Where the report goes (default: stdout). */
  log?: (line: string) => void;
}

export interface ImportKerasArgs extends CheckArgs {
  out: string;
  /** Token strings, one per Embedding row: a JSON array or one per line. */
  vocabulary?: string;
  /** Class labels of the head: a JSON array or one per line. */
  classes?: string;
  next?: boolean;
  tokenizer?: 'char' | 'word';
  json?: boolean;
  /** Where the report goes (default: stdout). */
  log?: (line: string) => void;
}


/**
 * A list of labels: a JSON array of strings (or numbers), or one per line
 * (as Keras's get_vocabulary() list is often saved: '' for padding first).
 */
export async function readLabels(path: string): Promise<string[]> {
  const text = new TextDecoder().decode(await readBytes(path)).replace(/^\uFEFF/, '');
  const trimmed = text.trim();
  if (trimmed.startsWith('[') && trimmed.endsWith(']')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      value = undefined; // not JSON: a line-per-label file whose first label starts with '['
    }
    if (value !== undefined) {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' || typeof v === 'number')) {
        throw new DataError('expected a JSON array of strings, or one label per line', path);
      }
      return value.map(String);
    }
  }
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function describeModel(model: SequenceModel): string {
  const { input, rnn, output } = model.config;
  const layers = rnn.numLayers ?? 1;
  const inText = input.type === 'tokens' ? `tokens (${input.vocabulary!.length}, embedding ${input.embeddingDim})` : `${input.size} features`;
  const rnnText = `${rnn.bidirectional ? 'bidirectional ' : ''}${rnn.cell.toUpperCase()} ${layers > 1 ? `${layers}×` : ''}${rnn.hiddenSize}`;
  const outText = output.type === 'classification' ? `${output.classes!.length} classes` : `${output.size ?? 1} value${(output.size ?? 1) > 1 ? 's' : ''}`;
  const pooling = output.mode === 'sequence' ? `, ${output.pooling ?? 'last'} state` : '';
  return `${inText} → ${rnnText} → ${output.mode} ${output.type} (${outText}${pooling})`;
}

function report(
  model: SequenceModel, notes: string[], from: string, out: string, checked: CheckResult | null,
  opts: { json?: boolean; log?: (line: string) => void },
): void {
  const log = opts.log ?? ((line: string) => console.log(line));
  if (opts.json) {
    log(JSON.stringify({ out, from, parameters: model.parameterCount, config: model.config, reads: headReads(model.config.output), checked, notes }));
    return;
  }
  log(`${out}: ${describeModel(model)}, ${model.parameterCount.toLocaleString()} parameters, from ${from}`);
  for (const line of checkReport(model, checked)) log(`  ${line}`);
  for (const note of notes) log(`  note: ${note}`);
}

/** lstmkit import torch weights.safetensors --config arch.json --out model.lstmkit (a sequence model or a tagger) */
export async function importTorchCommand(file: string, opts: ImportTorchArgs): Promise<SequenceModel | TaggerModel> {
  const weights = decodeSafetensors(await readBytes(file), { source: file });
  const config = await readAnyConfig(opts.config);
  const rename = parseRenames(opts.rename ?? []);
  const training = { importedFrom: { format: 'pytorch', weights: file, config: opts.config }, savedAt: new Date().toISOString() };
  if (isTagger(config)) {
    if (opts.check || opts.expect) {
      throw new ValueError('--check and --expect compare a sequence model\'s outputs; tag your sentences with lstmkit tag instead');
    }
    const { model, notes } = importTorchTagger(weights, config, { source: file, rename });
    await saveModel(opts.out, model, { training });
    const log = opts.log ?? ((line: string) => console.log(line));
    const tags = model.classes.length;
    if (opts.json) log(JSON.stringify({ out: opts.out, from: file, parameters: model.parameterCount, config: model.config, notes }));
    else {
      log(`${opts.out}: tagger (${tags} tags${model.crf ? ', CRF' : ''}${model.charRnn ? ', character BiLSTM' : ''}), ` +
        `${model.parameterCount.toLocaleString()} parameters, from ${file}`);
      for (const note of notes) log(`  note: ${note}`);
    }
    return model;
  }
  if (isSeq2Seq(config)) throw new ValueError(`${opts.config}: a sequence-to-sequence config; lstmkit import torch takes sequence models and taggers`);
  const { model, notes } = importTorch(weights, config, { source: file, rename });
  // PyTorch's module returns its head's output: logits for a classifier.
  const checked = await checkAgainst(model, opts, { source: file, framework: 'PyTorch', form: 'logits', out: opts.out });
  await saveModel(opts.out, model, { training });
  report(model, notes, file, opts.out, checked, opts);
  return model;
}

/**
 * lstmkit import keras model.keras --out model.lstmkit (or model.h5; or
 * model.json weights.npz, where the weights may also be .h5 or .keras).
 */
export async function importKerasCommand(
  modelFile: string, weightsFile: string | undefined, opts: ImportKerasArgs,
): Promise<SequenceModel> {
  const modelBytes = await readBytes(modelFile);
  const weights = weightsFile ? { bytes: await readBytes(weightsFile), source: weightsFile } : undefined;
  const files = readKerasFiles({ bytes: modelBytes, source: modelFile }, weights);
  const { model, notes, headActivation } = importKeras(files.modelJson, files.arrays, {
    source: modelFile,
    weightsSource: files.weightsSource,
    weightsHint: files.weightsHint,
    ...(opts.vocabulary ? { vocabulary: await readLabels(opts.vocabulary) } : {}),
    ...(opts.classes ? { classes: await readLabels(opts.classes) } : {}),
    ...(opts.next ? { next: true } : {}),
    ...(opts.tokenizer ? { tokenizer: opts.tokenizer } : {}),
  });
  const from = weightsFile ? `${modelFile} + ${weightsFile}` : modelFile;
  // Keras's model returns its head's activation: probabilities after softmax or sigmoid, else values or logits.
  const checked = await checkAgainst(model, opts, {
    source: modelFile, framework: 'Keras', form: headActivation === 'linear' ? 'logits' : 'probabilities',
    sigmoid: headActivation === 'sigmoid', out: opts.out,
  });
  await saveModel(opts.out, model, {
    training: { importedFrom: { format: 'keras', model: modelFile, weights: weightsFile ?? modelFile }, savedAt: new Date().toISOString() },
  });
  report(model, notes, from, opts.out, checked, opts);
  return model;
}
