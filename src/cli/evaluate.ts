// lstmkit eval, predict and tag, for sequence models, seq2seq models and taggers.

import { DataError } from '../core/errors.js';
import { encodeRecords } from '../data/encode.js';
import { readJsonl, readPairRecords, readSentences, readTaggedFile } from '../data/jsonlfile.js';
import { encodeTagged } from '../data/tagged.js';
import { writeFileAtomic } from '../io/atomic.js';
import { encodePairs } from '../data/pairs.js';
import { loadModel } from '../io/modelpath.js';
import { Seq2SeqModel } from '../model/seq2seq.js';
import { TaggerModel } from '../model/tagger.js';
import { formatSpanReport } from '../train/spanmetrics.js';
import { evaluateTagger, schemeOf, tagSentences } from '../train/tagger.js';
import { evaluateModel, predictModel } from '../train/evaluate.js';
import { evaluateSeq2Seq, transduce } from '../train/seq2seq.js';
import { formatConfusion, formatMetrics } from './common.js';

export interface EvalArgs {
  data: string;
  /** Taggers: the tag column of a CoNLL file (default: the last). */
  column?: number;
  json?: boolean;
  batchSize?: number;
  beam?: number;
}

export interface PredictArgs {
  data: string;
  out?: string;
  batchSize?: number;
  beam?: number;
  nbest?: number;
  lengthPenalty?: number;
  maxLength?: number;
  attention?: boolean;
}

/** Decoding options from the command line, only those given. */
function decodeOptions(args: PredictArgs): Parameters<typeof transduce>[2] {
  return {
    ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}),
    ...(args.beam !== undefined ? { beam: args.beam } : {}),
    ...(args.nbest !== undefined ? { nbest: args.nbest } : {}),
    ...(args.lengthPenalty !== undefined ? { lengthPenalty: args.lengthPenalty } : {}),
    ...(args.maxLength !== undefined ? { maxLength: args.maxLength } : {}),
    ...(args.attention ? { attention: true } : {}),
  };
}

export async function evalCommand(modelPath: string, args: EvalArgs): Promise<void> {
  const { model, contents } = await loadModel(modelPath);
  let metrics: Record<string, unknown>;
  let sequences: number;
  if (model instanceof TaggerModel) {
    await evalTagger(model, contents.path, args);
    return;
  }
  if (model instanceof Seq2SeqModel) {
    const examples = encodePairs(await readPairRecords(args.data), model.config, { file: args.data, requireTarget: true });
    sequences = examples.length;
    metrics = { ...evaluateSeq2Seq(model, examples, decodeOptions(args)) };
  } else {
    const examples = encodeRecords(await readJsonl(args.data), model.config, { file: args.data, requireTarget: true });
    sequences = examples.length;
    const tbptt = model.config.output.mode === 'next' ? model.config.train?.tbptt : undefined;
    metrics = { ...evaluateModel(model, examples, args.batchSize ?? 64, tbptt), classes: model.classes };
  }
  if (args.json) {
    process.stdout.write(JSON.stringify({ model: contents.path, data: args.data, ...metrics }) + '\n');
    return;
  }
  console.log(`${contents.path} on ${args.data} (${sequences} sequences${args.beam ? `, beam ${args.beam}` : ''})`);
  console.log(formatMetrics({ ...metrics, sequences }));
  const { confusion, classes } = metrics as { confusion?: number[][]; classes?: string[] };
  if (confusion && classes) console.log('\n' + formatConfusion(classes, confusion));
}

export async function predictCommand(modelPath: string, args: PredictArgs): Promise<void> {
  const { model } = await loadModel(modelPath);
  let lines: string[];
  if (model instanceof TaggerModel) {
    lines = tagSentences(model, await readSentences(args.data), { batchSize: args.batchSize ?? 64, file: args.data }).map((r) => JSON.stringify(r));
  } else if (model instanceof Seq2SeqModel) {
    const examples = encodePairs(await readPairRecords(args.data), model.config, { file: args.data, requireTarget: false });
    lines = transduce(model, examples, decodeOptions(args)).map(({ y, score, nbest, attention }) => JSON.stringify({
      y, score, ...(nbest ? { nbest: nbest.map((n) => ({ y: n.y, score: n.score })) } : {}), ...(attention ? { attention } : {}),
    }));
  } else {
    const examples = encodeRecords(await readJsonl(args.data), model.config, { file: args.data, requireTarget: false });
    lines = predictModel(model, examples, args.batchSize ?? 64).map((p) => JSON.stringify({ prediction: p }));
  }
  await writeLines(lines, args.out);
}

/** Lines to a file (written whole, or not at all) or to stdout. */
async function writeLines(lines: readonly string[], out: string | undefined): Promise<void> {
  if (out) await writeFileAtomic(out, lines.map((l) => l + '\n').join(''));
  else for (const line of lines) process.stdout.write(line + '\n');
}

/** A tagger's metrics: token accuracy and loss; spans (conlleval's report) when the tags mark them; the commonest confusions. */
async function evalTagger(model: TaggerModel, path: string, args: EvalArgs): Promise<void> {
  const sentences = await readTaggedFile(args.data, args.column !== undefined ? { column: args.column } : {});
  const examples = encodeTagged(sentences, model.config, { file: args.data, requireTags: true });
  const { metrics, report } = evaluateTagger(model, examples, { batchSize: args.batchSize ?? 64 });
  const scheme = schemeOf(model);
  const classes = model.classes;
  if (args.json) {
    const spans = scheme ? { scheme, types: report.types, invalidSentences: report.invalidSentences } : {};
    process.stdout.write(JSON.stringify({ model: path, data: args.data, ...metrics, ...spans, classes }) + '\n');
    return;
  }
  const tokens = examples.reduce((a, e) => a + e.steps, 0);
  console.log(`${path} on ${args.data} (${examples.length} sentences, ${tokens} tokens)`);
  console.log(formatMetrics({ loss: metrics.loss, accuracy: metrics.accuracy }));
  if (scheme) {
    console.log(`\nspans (${scheme}, conlleval's rules)\n${formatSpanReport(report).trimEnd()}`);
    console.log(`invalid ${scheme} transitions in the output: ${report.invalidTransitions} (in ${report.invalidSentences} sentences)`);
  }
  const confusion = metrics.confusion!;
  if (classes.length <= 12) console.log('\n' + formatConfusion(classes, confusion));
  else console.log('\n' + formatTopConfusions(classes, confusion, 15));
}

/** The `n` most frequent confusions, gold → predicted, with their counts (a full matrix of many tags is unreadable). */
function formatTopConfusions(classes: readonly string[], confusion: number[][], n: number): string {
  const pairs = confusion.flatMap((row, g) => row.flatMap((count, p) => (g !== p && count > 0 ? [{ g, p, count }] : [])));
  pairs.sort((a, b) => b.count - a.count || a.g - b.g || a.p - b.p);
  const top = pairs.slice(0, n);
  if (top.length === 0) return 'no confusions';
  const w = Math.max(...top.map(({ g }) => classes[g]!.length));
  return [`most frequent confusions (gold → predicted), ${top.length} of ${pairs.length}:`,
    ...top.map(({ g, p, count }) => `  ${classes[g]!.padEnd(w)} → ${classes[p]!.padEnd(w)}  ${count}`)].join('\n');
}

export interface TagArgs {
  data: string;
  out?: string;
  format?: 'conll' | 'jsonl' | 'text';
  /** Output: one JSON object per sentence (default), or CoNLL columns token, tag. */
  output?: 'jsonl' | 'conll';
  batchSize?: number;
}

/** lstmkit tag: each sentence's tags, their confidences and its spans (with character offsets), as JSONL or CoNLL. */
export async function tagCommand(modelPath: string, args: TagArgs): Promise<void> {
  const { model, contents } = await loadModel(modelPath);
  if (!(model instanceof TaggerModel)) {
    throw new DataError('holds no tagger (a step-mode model with output.crf or input.chars); use lstmkit predict', contents.path);
  }
  const results = tagSentences(model, await readSentences(args.data, args.format), { batchSize: args.batchSize ?? 64, file: args.data });
  const lines = args.output === 'conll'
    ? results.map((r) => r.tokens.map((t, i) => `${t}\t${r.tags[i]}`).join('\n') + '\n')
    : results.map((r) => JSON.stringify(r));
  await writeLines(lines, args.out);
}
