// lstmkit train: config + JSONL in, a run directory with best.lstmkit and
// last.lstmkit (a checkpoint that --resume continues exactly) out.

import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { DataError, DivergenceError } from '../core/errors.js';
import { encodeRecords } from '../data/encode.js';
import { readJsonl } from '../data/jsonlfile.js';
import { BEST, LAST, loadModel, saveModel } from '../io/modelpath.js';
import type { ModelConfig, TrainConfig } from '../model/config.js';
import { SequenceModel } from '../model/model.js';
import { Trainer, type EpochLog } from '../train/trainer.js';
import { completeConfig, readModelConfig } from './common.js';

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
  const extra = monitor !== 'loss' && m[monitor] !== undefined ? ` val_${monitor} ${m[monitor]!.toFixed(4)}` : m.accuracy !== undefined ? ` val_acc ${m.accuracy.toFixed(4)}` : ` val_mse ${m.mse!.toFixed(5)}`;
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
  await mkdir(args.out, { recursive: true });
  const lastPath = join(args.out, LAST);
  const bestPath = join(args.out, BEST);
  let model: SequenceModel;
  let trainer: Trainer;
  const seed = train.seed ?? 0;
  if (args.resume && (await exists(lastPath))) {
    const { model: resumed, contents } = await loadModel(lastPath, { seed });
    if (!contents.trainer) throw new DataError('holds no trainer state; it is not a checkpoint to resume from', lastPath);
    model = resumed;
    config = { ...model.config, train };
    trainer = new Trainer(model, train);
    trainer.setState(contents.trainer);
    if (!args.json) console.error(`resuming ${lastPath} after epoch ${trainer.epochsDone}`);
  } else {
    config = completeConfig(config, records, args.data);
    model = new SequenceModel(config, { seed });
    trainer = new Trainer(model, train);
  }
  const examples = encodeRecords(records, model.config, { file: args.data, requireTarget: true });
  const validation = args.val ? encodeRecords(await readJsonl(args.val), model.config, { file: args.val, requireTarget: true }) : undefined;
  const started = Date.now();
  const training = () => ({ data: args.data, validation: args.val ?? null, epochs: trainer.epochsDone, history: trainer.history.map(({ epoch, loss, val, lr }) => ({ epoch, loss, valLoss: val?.loss ?? null, lr })), savedAt: new Date().toISOString() });
  const tty = process.stderr.isTTY && !args.json;
  const bar = tty ? new cliProgress.SingleBar({
    format: 'epoch {epoch}/{epochs} |{bar}| {value}/{total} batches  loss {loss}  {val}  {sps} seq/s  ETA {eta_formatted}',
    hideCursor: true, stream: process.stderr,
  }, cliProgress.Presets.shades_classic) : undefined;
  let epochStart = Date.now();
  let seen = 0;
  try {
    if (!args.json) console.error(`training ${model.parameterCount.toLocaleString()} parameters on ${examples.length} sequences (${model.backend.name} backend, ${model.backend.threads} thread${model.backend.threads > 1 ? 's' : ''})`);
    await trainer.fit(examples, {
      ...(validation ? { validation } : {}),
      callbacks: {
        onBatchEnd: (b) => {
          if (!bar) return;
          if (b.batch === 1) {
            epochStart = Date.now();
            seen = 0;
            bar.start(b.batches, 0, { epoch: b.epoch, epochs: trainer.epochs, loss: '-', val: '', sps: '-' });
          }
          seen += b.sequences;
          bar.update(b.batch, { loss: b.loss.toFixed(5), sps: Math.round(seen / Math.max(1e-3, (Date.now() - epochStart) / 1000)) });
        },
        onEpochEnd: async (log) => {
          // Checkpoint first: if the process dies after this line, --resume starts at the next epoch.
          await saveModel(lastPath, model, { training: training(), trainer: trainer.getState() });
          if (log.best) await saveBest(bestPath, model, trainer, training());
          if (args.json) {
            process.stdout.write(JSON.stringify({ epoch: log.epoch, epochs: log.epochs, loss: log.loss, val: log.val ? { ...log.val, confusion: undefined } : null, lr: log.lr, seconds: log.seconds, sequencesPerSecond: log.sequencesPerSecond, best: log.best }) + '\n');
          } else if (bar) {
            bar.update({ val: describeVal(log, trainer.monitor) });
            bar.stop();
          } else {
            console.error(`epoch ${log.epoch}/${log.epochs}  loss ${log.loss.toFixed(5)}${describeVal(log, trainer.monitor)}  ${Math.round(log.sequencesPerSecond)} seq/s  ${log.seconds.toFixed(1)} s${log.best ? '  *best' : ''}`);
          }
        },
      },
    });
  } catch (e) {
    bar?.stop();
    if (e instanceof DivergenceError) {
      throw new DivergenceError(`${e.message}. The last good checkpoint is kept: ${(await exists(lastPath)) ? lastPath : '(none yet: it diverged in the first epoch)'}`);
    }
    throw e;
  }
  // Early stopping restored the best weights; write best.lstmkit from them either way.
  await saveBest(bestPath, model, trainer, training());
  if (!args.json) console.error(`done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${bestPath} (best, epoch ${trainer.getState().bestEpoch}), ${lastPath} (checkpoint)`);
}

/** best.lstmkit holds the best weights seen, without trainer state. */
async function saveBest(path: string, model: SequenceModel, trainer: Trainer, training: unknown): Promise<void> {
  const store = model.parameters();
  const heap = model.backend.arena.heap;
  const current = Float32Array.from(heap.subarray(store.data, store.data + store.size));
  model.backend.arena.heap.set(trainer.bestParams(), store.data);
  try {
    await saveModel(path, model, { training });
  } finally {
    model.backend.arena.heap.set(current, store.data);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export type { ModelConfig };
