// lstmkit import onnx | export onnx: ONNX files to lstmkit model files and
// back (commands/interchange.ts defines the commands).

import { basename } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { sequenceModelFromFile } from '../io/modelfile.js';
import { readModelFile, saveModel } from '../io/modelpath.js';
import { exportOnnx, ONNX_OPSETS } from '../io/onnx/export.js';
import { loadOnnxModel } from '../io/onnx/import.js';
import { poolingOf } from '../model/config.js';
import type { SequenceModel } from '../model/model.js';
import { readLabels } from './import.js';
import { readBytes } from './common.js';
import { checkAgainst, checkReport, headReads, type CheckArgs } from './importcheck.js';

export interface ImportOnnxArgs extends CheckArgs {
  out: string;
  /** The graph output to import (default: the first). */
  output?: string;
  /** Class labels of the head: a JSON array or one per line. */
  classes?: string;
  /** Token strings, one per embedding row: a JSON array or one per line. */
  vocabulary?: string;
  /** The per-step graph predicts the next step. */
  next?: boolean;
  json?: boolean;
  /** Where the report goes (default: stdout). */
  log?: (line: string) => void;
}

export interface ExportOnnxArgs {
  out: string;
  /** The recurrent operators' layout attribute (default 0; onnxruntime runs only 0). */
  layout?: 0 | 1;
  /** Graph input and output as [steps, batch, ·] instead of [batch, steps, ·]. */
  timeMajor?: boolean;
  /** false: no `lengths` input (every sequence is full length). */
  lengths?: boolean;
  opset?: number;
  json?: boolean;
  log?: (line: string) => void;
}

/** What each pooling reads, as PyTorch code writes it. */
const HEAD_READS: Record<ReturnType<typeof poolingOf>, string> = {
  hn: 'h_n', lastOutput: 'out[:, -1]', mean: 'the mean over steps', max: 'the max over steps',
};

function describe(model: SequenceModel): string {
  const { input, rnn, output } = model.config;
  const layers = rnn.numLayers ?? 1;
  const inText = input.type === 'tokens' ? `tokens (${input.vocabulary!.length}, embedding ${input.embeddingDim})` : `${input.size} features`;
  const nonlinearity = rnn.cell === 'rnn' ? ` (${rnn.nonlinearity ?? 'tanh'})` : '';
  const cell = `${rnn.bidirectional ? 'bidirectional ' : ''}${rnn.cell.toUpperCase()}${nonlinearity} ` +
    `${layers > 1 ? `${layers}×` : ''}${rnn.hiddenSize}`;
  const outText = output.type === 'classification' ? `${output.classes!.length} classes` : `${model.outputSize} value${model.outputSize > 1 ? 's' : ''}`;
  const pooling = output.mode === 'sequence' ? `, head on ${HEAD_READS[poolingOf(output)]}` : '';
  return `${inText} → ${cell} → ${output.mode} ${output.type} (${outText}${pooling})`;
}

/** lstmkit import onnx model.onnx --out model.lstmkit */
export async function importOnnxCommand(file: string, opts: ImportOnnxArgs): Promise<SequenceModel> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const { model, imported } = loadOnnxModel(await readBytes(file), {
    source: file,
    ...(opts.output ? { output: opts.output } : {}),
    ...(opts.classes ? { classes: await readLabels(opts.classes) } : {}),
    ...(opts.vocabulary ? { vocabulary: await readLabels(opts.vocabulary) } : {}),
    ...(opts.next ? { next: true } : {}),
  });
  // A graph's classifier output may be logits, probabilities or log-probabilities: the check takes any.
  const checked = await checkAgainst(model, opts, { source: file, framework: 'the ONNX graph', form: null, out: opts.out });
  await saveModel(opts.out, model, {
    ...(imported.preprocessing !== undefined ? { preprocessing: imported.preprocessing } : {}),
    training: { importedFrom: { format: 'onnx', file: basename(file) }, savedAt: new Date().toISOString() },
  });
  if (opts.json) {
    log(JSON.stringify({
      out: opts.out, from: file, parameters: model.parameterCount, config: model.config,
      batchFirst: imported.batchFirst, reads: headReads(model.config.output), checked, notes: imported.notes,
    }));
  } else {
    log(`${opts.out}: ${describe(model)}, ${model.parameterCount.toLocaleString()} parameters, from ${file}`);
    for (const line of checkReport(model, checked)) log(`  ${line}`);
    for (const note of imported.notes) log(`  note: ${note}`);
  }
  return model;
}

/** lstmkit export onnx model.lstmkit --out model.onnx */
export async function exportOnnxCommand(modelPath: string, opts: ExportOnnxArgs): Promise<Uint8Array> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const contents = await readModelFile(modelPath);
  const model = sequenceModelFromFile(contents, {}, contents.path, 'lstmkit export onnx');
  const batchFirst = !opts.timeMajor;
  const withLengths = opts.lengths ?? true;
  const bytes = exportOnnx(model, {
    layout: opts.layout ?? 0,
    batchFirst,
    lengths: withLengths,
    ...(opts.opset !== undefined ? { opset: opts.opset } : {}),
    ...(contents.preprocessing !== undefined ? { preprocessing: contents.preprocessing } : {}),
  });
  await writeFileAtomic(opts.out, bytes);
  const { input, output } = model.config;
  const seq = (inner: string): string => (batchFirst ? `[batch, steps${inner}]` : `[steps, batch${inner}]`);
  const inputs = [
    input.type === 'tokens' ? `tokens ${seq('')} int64` : `x ${seq(`, ${input.size}`)} float32`,
    ...(withLengths ? ['lengths [batch] int32'] : []),
  ];
  const shape = output.mode === 'sequence' ? `[batch, ${model.outputSize}]` : seq(`, ${model.outputSize}`);
  const outputs = output.type === 'classification' ? [`y ${shape} (logits)`, `probabilities ${shape}`] : [`y ${shape}`];
  if (opts.json) {
    log(JSON.stringify({
      out: opts.out, from: contents.path, bytes: bytes.length, opset: opts.opset ?? ONNX_OPSETS.min,
      layout: opts.layout ?? 0, inputs, outputs,
    }));
  } else {
    log(`${opts.out}: ${describe(model)}, ONNX opset ${opts.opset ?? ONNX_OPSETS.min}, ${bytes.length.toLocaleString()} bytes, from ${contents.path}`);
    log(`  inputs:  ${inputs.join(', ')}`);
    log(`  outputs: ${outputs.join(', ')}`);
    if ((opts.layout ?? 0) === 1) log('  note: layout 1 (batch-first recurrent operators) is standard ONNX, but onnxruntime\'s CPU kernels run only layout 0');
  }
  return bytes;
}
