// lstmkit train: config + JSONL in, a run directory with best.lstmkit and
// last.lstmkit (a checkpoint that --resume continues exactly) out.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { encodeRecords, type Example } from '../data/encode.js';
import type { JsonlRecord } from '../data/jsonl.js';
import type { TaggedSentence } from '../data/conll.js';
import { readJsonl, readPairRecords, readTaggedFile, readWordVectors } from '../data/jsonlfile.js';
import { encodeTagged, type TaggedExample } from '../data/tagged.js';
import { encodePairs, type PairExample } from '../data/pairs.js';
import { BEST, LAST } from '../io/runfiles.js';
import { ValueError } from '../core/errors.js';
import { completeConfig, completeSeq2SeqConfig, completeTaggerConfig, SEQ2SEQ_DEFAULTS, type ModelConfig, type TrainConfig } from '../model/config.js';
import { buildModel, isSeq2Seq, isTagger, type AnyConfig, type AnyModel } from '../model/models.js';
import { Seq2SeqModel } from '../model/seq2seq.js';
import { TaggerModel } from '../model/tagger.js';
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
  /** Taggers: the tag column of CoNLL files, counting from 0 (default: the last). */
  column?: number;
  /** Taggers: word vectors to start the embedding from (GloVe text: a word and its numbers per line). */
  embeddings?: string;
}

function describeVal(log: EpochLog, monitor: string): string {
  if (!log.val) return '';
  const m = log.val as unknown as Record<string, number>;
  const extra = monitor !== 'loss' && m[monitor] !== undefined ? ` val_${monitor} ${m[monitor]!.toFixed(4)}`
    : m.f1 !== undefined ? ` val_acc ${m.accuracy!.toFixed(4)} val_f1 ${m.f1.toFixed(4)}`
    : m.accuracy !== undefined ? ` val_acc ${m.accuracy.toFixed(4)}`
    : m.tokenErrorRate !== undefined ? ` val_ter ${m.tokenErrorRate.toFixed(4)} val_ser ${m.sequenceErrorRate!.toFixed(4)}`
    : ` val_mse ${m.mse!.toFixed(5)}`;
  return ` val_loss ${log.val.loss.toFixed(5)}${extra}`;
}

type Kind = 'seq2seq' | 'tagger' | 'sequence';

function kindOf(model: AnyModel | AnyConfig): Kind {
  const config = 'config' in model ? model.config : model;
  return isSeq2Seq(config) ? 'seq2seq' : isTagger(config) ? 'tagger' : 'sequence';
}

/** A data file as the model reads it: pairs (JSONL or TSV) for seq2seq, tagged sentences (CoNLL or JSONL) for a tagger, JSONL otherwise. */
async function readFor(kind: Kind, path: string, args: TrainArgs): Promise<JsonlRecord[] | TaggedSentence[]> {
  if (kind === 'tagger') return readTaggedFile(path, args.column !== undefined ? { column: args.column } : {});
  return kind === 'seq2seq' ? readPairRecords(path) : readJsonl(path);
}

function encodeFor(model: AnyModel, data: JsonlRecord[] | TaggedSentence[], file: string): Example[] | PairExample[] | TaggedExample[] {
  if (model instanceof TaggerModel) return encodeTagged(data as TaggedSentence[], model.config, { file, requireTags: true });
  const records = data as JsonlRecord[];
  return model instanceof Seq2SeqModel
    ? encodePairs(records, model.config, { file, requireTarget: true })
    : encodeRecords(records, model.config, { file, requireTarget: true });
}

function complete(config: AnyConfig, data: JsonlRecord[] | TaggedSentence[], file: string): AnyConfig {
  if (isSeq2Seq(config)) return completeSeq2SeqConfig(config, data as JsonlRecord[], file);
  if (isTagger(config)) return completeTaggerConfig(config, data as TaggedSentence[], file);
  return completeConfig(config, data as JsonlRecord[], file);
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
  const kind = kindOf(config);
  if (kind !== 'tagger' && (args.column !== undefined || args.embeddings)) throw new ValueError('--column and --embeddings are for taggers');
  const records = await readFor(kind, args.data, args);
  const lastPath = join(args.out, LAST);
  const bestPath = join(args.out, BEST);
  const seed = train.seed ?? 0;
  let trainer: Trainer<AnyModel>;
  const checkpointed = await stat(lastPath).then(() => true, () => false);
  if (args.resume && !checkpointed && !args.json) console.error(`--resume: ${lastPath} does not exist (no checkpoint to continue); starting a new run`);
  if (args.resume && checkpointed) {
    if (args.embeddings) throw new ValueError('--embeddings starts a new run; a resumed run keeps its trained vectors');
    trainer = await Trainer.resume(lastPath, train, { seed });
    if (!args.json) console.error(`resuming ${lastPath} after epoch ${trainer.epochsDone}`);
  } else {
    const model = buildModel(complete(config, records, args.data), { seed });
    if (args.embeddings && model instanceof TaggerModel) {
      const found = model.setWordVectors(await readWordVectors(args.embeddings));
      const words = model.config.input.vocabulary!.length;
      if (!args.json) console.error(`${args.embeddings}: vectors for ${found.toLocaleString()} of ${words.toLocaleString()} words`);
    }
    trainer = new Trainer<AnyModel>(model, train);
  }
  const model = trainer.model;
  const examples = encodeFor(model, records, args.data);
  const validation = args.val ? encodeFor(model, await readFor(kindOf(model), args.val, args), args.val) : undefined;
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
