// lstmkit train: config + JSONL in, a run directory with best.lstmkit and
// last.lstmkit (a checkpoint that --resume continues exactly) out.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { encodeRecords, type Example } from '../data/encode.js';
import type { JsonlRecord } from '../data/jsonl.js';
import { readJsonl, readPairRecords } from '../data/jsonlfile.js';
import { encodePairs, type PairExample } from '../data/pairs.js';
import { BEST, LAST } from '../io/runfiles.js';
import { completeConfig, completeSeq2SeqConfig, SEQ2SEQ_DEFAULTS, type ModelConfig, type TrainConfig } from '../model/config.js';
import { buildModel, isSeq2Seq, type AnyModel } from '../model/models.js';
import { Seq2SeqModel } from '../model/seq2seq.js';
import { Trainer, type EpochLog } from '../train/trainer.js';
import { readAnyConfig } from './common.js';

export interface TrainArgs {
  config: string;
  data: string;
  val?: string;
  out: string;
  resume?: boolean;
  json?: boolean;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
}

function describeVal(log: EpochLog, monitor: string): string {
  if (!log.val) return '';
  const m = log.val as unknown as Record<string, number>;
  const extra = monitor !== 'loss' && m[monitor] !== undefined ? ` val_${monitor} ${m[monitor]!.toFixed(4)}`
    : m.accuracy !== undefined ? ` val_acc ${m.accuracy.toFixed(4)}`
    : m.tokenErrorRate !== undefined ? ` val_ter ${m.tokenErrorRate.toFixed(4)} val_ser ${m.sequenceErrorRate!.toFixed(4)}`
    : ` val_mse ${m.mse!.toFixed(5)}`;
  return ` val_loss ${log.val.loss.toFixed(5)}${extra}`;
}

/** A data file's records as the model reads them: pairs (JSONL or TSV) for seq2seq, JSONL otherwise. */
async function readFor(model: AnyModel | 'seq2seq' | 'sequence', path: string): Promise<JsonlRecord[]> {
  return (model === 'seq2seq' || model instanceof Seq2SeqModel) ? readPairRecords(path) : readJsonl(path);
}

function encodeFor(model: AnyModel, records: readonly JsonlRecord[], file: string): Example[] | PairExample[] {
  return model instanceof Seq2SeqModel
    ? encodePairs(records, model.config, { file, requireTarget: true })
    : encodeRecords(records, model.config, { file, requireTarget: true });
}

export async function trainCommand(args: TrainArgs): Promise<void> {
  let config = await readAnyConfig(args.config);
  // A seq2seq config's training defaults (completeSeq2SeqConfig writes the same into the model file).
  const train: TrainConfig = { ...(isSeq2Seq(config) ? structuredClone(SEQ2SEQ_DEFAULTS.train) : {}), ...config.train };
  if (args.epochs !== undefined) train.epochs = args.epochs;
  if (args.batchSize !== undefined) train.batchSize = args.batchSize;
  if (args.seed !== undefined) train.seed = args.seed;
  if (args.lr !== undefined) train.optimizer = { name: 'adam', ...train.optimizer, lr: args.lr };
  config = { ...config, train };
  const records = await readFor(isSeq2Seq(config) ? 'seq2seq' : 'sequence', args.data);
  const lastPath = join(args.out, LAST);
  const bestPath = join(args.out, BEST);
  const seed = train.seed ?? 0;
  let trainer: Trainer<AnyModel>;
  const checkpointed = await stat(lastPath).then(() => true, () => false);
  if (args.resume && !checkpointed && !args.json) console.error(`--resume: ${lastPath} does not exist (no checkpoint to continue); starting a new run`);
  if (args.resume && checkpointed) {
    trainer = await Trainer.resume(lastPath, train, { seed });
    if (!args.json) console.error(`resuming ${lastPath} after epoch ${trainer.epochsDone}`);
  } else {
    const complete = isSeq2Seq(config) ? completeSeq2SeqConfig(config, records, args.data) : completeConfig(config, records, args.data);
    trainer = new Trainer<AnyModel>(buildModel(complete, { seed }), train);
  }
  const model = trainer.model;
  const examples = encodeFor(model, records, args.data);
  const validation = args.val ? encodeFor(model, await readFor(model, args.val), args.val) : undefined;
  const started = Date.now();
  const training = (trainer: Trainer<AnyModel>) => ({
    data: args.data, validation: args.val ?? null, epochs: trainer.epochsDone,
    history: trainer.history.map(({ epoch, loss, val, lr }) => ({ epoch, loss, valLoss: val?.loss ?? null, lr })),
    savedAt: new Date().toISOString(),
  });
  const tty = process.stderr.isTTY && !args.json;
  const bar = tty ? new cliProgress.SingleBar({
    format: 'epoch {epoch}/{epochs} |{bar}| {value}/{total} batches  loss {loss}  {val}  {sps} seq/s  ETA {eta_formatted}',
    hideCursor: true, stream: process.stderr,
  }, cliProgress.Presets.shades_classic) : undefined;
  let epochStart = Date.now();
  let seen = 0;
  try {
    if (!args.json) {
      const { name, threads } = model.backend;
      console.error(
        `training ${model.parameterCount.toLocaleString()} parameters on ${examples.length} sequences ` +
        `(${name} backend, ${threads} thread${threads > 1 ? 's' : ''})`,
      );
    }
    await trainer.fit(examples, {
      ...(validation ? { validation } : {}),
      checkpoint: { dir: args.out, training },
      callbacks: {
        onBatchEnd: (b) => {
          if (!bar) return;
          if (b.batch === 1) {
            epochStart = Date.now();
            seen = 0;
            bar.start(b.batches, 0, { epoch: b.epoch, epochs: trainer.epochs, loss: '-', val: '', sps: '-' });
          }
          seen += b.sequences;
          const seconds = Math.max(1e-3, (Date.now() - epochStart) / 1000);
          bar.update(b.batch, { loss: b.loss.toFixed(5), sps: Math.round(seen / seconds) });
        },
        onEpochEnd: (log) => {
          if (args.json) {
            process.stdout.write(JSON.stringify({
              epoch: log.epoch, epochs: log.epochs, loss: log.loss, val: log.val ? { ...log.val, confusion: undefined } : null,
              lr: log.lr, seconds: log.seconds, sequencesPerSecond: log.sequencesPerSecond, best: log.best,
            }) + '\n');
          } else if (bar) {
            bar.update({ val: describeVal(log, trainer.monitor) });
            bar.stop();
          } else {
            console.error(
              `epoch ${log.epoch}/${log.epochs}  loss ${log.loss.toFixed(5)}${describeVal(log, trainer.monitor)}  ` +
              `${Math.round(log.sequencesPerSecond)} seq/s  ${log.seconds.toFixed(1)} s${log.best ? '  *best' : ''}`,
            );
          }
        },
      },
    });
  } finally {
    bar?.stop();
  }
  if (!args.json) {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.error(`done in ${seconds} s: ${bestPath} (best, epoch ${trainer.bestEpoch}), ${lastPath} (checkpoint)`);
  }
}

export type { ModelConfig };
