// lstmkit eval and lstmkit predict, for sequence models and seq2seq models.

import { createWriteStream } from 'node:fs';
import { encodeRecords } from '../data/encode.js';
import { readJsonl, readPairRecords } from '../data/jsonlfile.js';
import { encodePairs } from '../data/pairs.js';
import { loadModel } from '../io/modelpath.js';
import { Seq2SeqModel } from '../model/seq2seq.js';
import { evaluateModel, predictModel } from '../train/evaluate.js';
import { evaluateSeq2Seq, transduce } from '../train/seq2seq.js';
import { formatConfusion, formatMetrics } from './common.js';

export interface EvalArgs {
  data: string;
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
  if (model instanceof Seq2SeqModel) {
    const examples = encodePairs(await readPairRecords(args.data), model.config, { file: args.data, requireTarget: false });
    lines = transduce(model, examples, decodeOptions(args)).map(({ y, score, nbest, attention }) => JSON.stringify({
      y, score, ...(nbest ? { nbest: nbest.map((n) => ({ y: n.y, score: n.score })) } : {}), ...(attention ? { attention } : {}),
    }));
  } else {
    const examples = encodeRecords(await readJsonl(args.data), model.config, { file: args.data, requireTarget: false });
    lines = predictModel(model, examples, args.batchSize ?? 64).map((p) => JSON.stringify({ prediction: p }));
  }
  const out = args.out ? createWriteStream(args.out) : process.stdout;
  for (const line of lines) out.write(line + '\n');
  if (args.out) {
    const file = out as ReturnType<typeof createWriteStream>;
    await new Promise<void>((resolve, reject) => file.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }
}
