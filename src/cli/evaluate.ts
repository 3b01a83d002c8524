// lstmkit eval and lstmkit predict.

import { createWriteStream } from 'node:fs';
import { encodeRecords } from '../data/encode.js';
import { readJsonl } from '../data/jsonlfile.js';
import { loadModel } from '../io/modelpath.js';
import { evaluateModel, predictModel } from '../train/evaluate.js';
import { formatConfusion, formatMetrics } from './common.js';

export async function evalCommand(
  modelPath: string, args: { data: string; json?: boolean; batchSize?: number },
): Promise<void> {
  const { model, contents } = await loadModel(modelPath);
  const examples = encodeRecords(await readJsonl(args.data), model.config, { file: args.data, requireTarget: true });
  const tbptt = model.config.output.mode === 'next' ? model.config.train?.tbptt : undefined;
  const metrics = evaluateModel(model, examples, args.batchSize ?? 64, tbptt);
  if (args.json) {
    process.stdout.write(JSON.stringify({ model: contents.path, data: args.data, ...metrics, classes: model.classes }) + '\n');
    return;
  }
  console.log(`${contents.path} on ${args.data} (${examples.length} sequences)`);
  console.log(formatMetrics({ ...metrics, sequences: examples.length }));
  if (metrics.confusion && model.classes) console.log('\n' + formatConfusion(model.classes, metrics.confusion));
}

export async function predictCommand(
  modelPath: string, args: { data: string; out?: string; batchSize?: number },
): Promise<void> {
  const { model } = await loadModel(modelPath);
  const examples = encodeRecords(await readJsonl(args.data), model.config, { file: args.data, requireTarget: false });
  const predictions = predictModel(model, examples, args.batchSize ?? 64);
  const out = args.out ? createWriteStream(args.out) : process.stdout;
  for (const p of predictions) out.write(JSON.stringify({ prediction: p }) + '\n');
  if (args.out) {
    const file = out as ReturnType<typeof createWriteStream>;
    await new Promise<void>((resolve, reject) => file.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }
}
