// lstmkit train: config + JSONL in, a run directory with best.lstmkit and
// last.lstmkit (a checkpoint that --resume continues exactly) out.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { encodeRecords } from '../data/encode.js';
import { readJsonl } from '../data/jsonlfile.js';
import { BEST, LAST } from '../io/runfiles.js';
import { completeConfig, type ModelConfig, type TrainConfig } from '../model/config.js';
import { SequenceModel } from '../model/model.js';
import { Trainer, type EpochLog } from '../train/trainer.js';
import { readModelConfig } from './common.js';

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
  const extra = monitor !== 'loss' && m[monitor] !== undefined
    ? ` val_${monitor} ${m[monitor]!.toFixed(4)}`
    : m.accuracy !== undefined ? ` val_acc ${m.accuracy.toFixed(4)}` : ` val_mse ${m.mse!.toFixed(5)}`;
  return ` val_loss ${log.val.loss.toFixed(5)}${extra}`;
}

export async function trainCommand(args: TrainArgs): Promise<void> {
  let config = await readModelConfig(args.config);
  const train: TrainConfig = { ...config.train };
  if (args.epochs !== undefined) train.epochs = args.epochs;
  if (args.batchSize !== undefined) train.batchSize = args.batchSize;
  if (args.seed !== undefined) train.seed = args.seed;
  if (args.lr !== undefined) train.optimizer = { name: 'adam', ...train.optimizer, lr: args.lr };
  config = { ...config, train };
  const records = await readJsonl(args.data);
  const lastPath = join(args.out, LAST);
  const bestPath = join(args.out, BEST);
  const seed = train.seed ?? 0;
  let trainer: Trainer;
  const checkpointed = await stat(lastPath).then(() => true, () => false);
  if (args.resume && !checkpointed && !args.json) console.error(`--resume: ${lastPath} does not exist (no checkpoint to continue); starting a new run`);
  if (args.resume && checkpointed) {
    trainer = await Trainer.resume(lastPath, train, { seed });
    if (!args.json) console.error(`resuming ${lastPath} after epoch ${trainer.epochsDone}`);
  } else {
    trainer = new Trainer(new SequenceModel(completeConfig(config, records, args.data), { seed }), train);
  }
  const model = trainer.model;
  const examples = encodeRecords(records, model.config, { file: args.data, requireTarget: true });
  const validation = args.val
    ? encodeRecords(await readJsonl(args.val), model.config, { file: args.val, requireTarget: true })
    : undefined;
  const started = Date.now();
  const training = (trainer: Trainer) => ({
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
