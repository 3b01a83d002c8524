// The training loop, Keras-fit-like, and the one owner of training control:
// mini-batches (padded, optionally bucketed) or truncated-BPTT streams, the
// loss of the model's outputs against the targets, clipping, an optimizer
// and schedule with PyTorch's semantics, validation metrics, the best
// weights (kept, and restored at the end when asked), early stopping,
// stop(), the NaN guard, checkpoints written into a run directory, and a
// state that a checkpoint resumes exactly.

import { DataError, DivergenceError, ValueError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Batch } from '../data/batch.js';
import type { Example } from '../data/encode.js';
import type { PairBatch, PairExample } from '../data/pairs.js';
import type { TaggedBatch, TaggedExample } from '../data/tagged.js';
import type { MetricName, OptimizerConfig, ScheduleConfig, TrainConfig } from '../model/config.js';
import type { ModelOptions, SequenceModel } from '../model/model.js';
import type { AnyModel } from '../model/models.js';
import { Seq2SeqModel } from '../model/seq2seq.js';
import { TaggerModel } from '../model/tagger.js';
import { trainerSection, trainerStateOf, type TrainerState } from './checkpoint.js';
import type { RunDirectory } from './rundir.js';
import { clipGradNorm, clipGradValue } from './clip.js';
import { higherIsBetter, type Metrics } from './metrics.js';
import { Adam, AdamW, RMSprop, SGD, type Optimizer } from './optimizers.js';
import { CosineAnnealingLR, ReduceLROnPlateau, StepLR, type Schedule } from './schedules.js';
import { Seq2SeqTask } from './seq2seq.js';
import { TaggerTask } from './tagger.js';
import { DEFAULT_TRAIN, SequenceTask, type TrainingTask } from './task.js';

export type { TrainerState };
export { DEFAULT_TRAIN };

/** What a model of each kind trains on, and its batches. */
export type ExampleOf<M extends AnyModel> = M extends Seq2SeqModel ? PairExample : M extends TaggerModel ? TaggedExample : Example;
export type BatchOf<M extends AnyModel> = M extends Seq2SeqModel ? PairBatch : M extends TaggerModel ? TaggedBatch : Batch;

export interface EpochLog {
  epoch: number; // 1-based
  epochs: number;
  loss: number;
  val?: Metrics;
  lr: number;
  seconds: number;
  sequencesPerSecond: number;
  best: boolean;
}

export interface BatchLog {
  epoch: number;
  batch: number; // 1-based
  batches: number;
  loss: number;
  sequences: number;
}

export interface Callbacks {
  onBatchEnd?(log: BatchLog): void;
  /** Awaited after the epoch's checkpoints are written; call trainer.stop() here to end the run. */
  onEpochEnd?(log: EpochLog, trainer: Trainer<AnyModel>): void | Promise<void>;
}

/** Checkpoints in a run directory (Node): `last.lstmkit` after every epoch, `best.lstmkit` for the best weights. */
export interface CheckpointOptions {
  dir: string;
  /** Stored in both files beside the weights (tokenizer, scalers). */
  preprocessing?: unknown;
  /** Free-form training facts for both files, asked for at each write. */
  training?: (trainer: Trainer<AnyModel>) => unknown;
}

export interface FitOptions<E = Example> {
  validation?: readonly E[];
  callbacks?: Callbacks;
  checkpoint?: CheckpointOptions;
  /** Leave the best weights (by train.monitor) in the model at the end; default: when train.earlyStopping is set. */
  restoreBest?: boolean;
}

export function makeOptimizer(model: AnyModel, o: OptimizerConfig = { name: 'adam' }): Optimizer {
  const params = model.parameters();
  switch (o.name) {
    case 'sgd':
      return new SGD(params, {
        lr: o.lr ?? 0.01, momentum: o.momentum ?? 0, nesterov: o.nesterov ?? false, weightDecay: o.weightDecay ?? 0,
      });
    case 'rmsprop':
      return new RMSprop(params, {
        lr: o.lr ?? 0.01, alpha: o.alpha ?? 0.99, eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0,
        momentum: o.momentum ?? 0, centered: o.centered ?? false,
      });
    case 'adamw':
      return new AdamW(params, {
        lr: o.lr ?? 1e-3, betas: o.betas ?? [0.9, 0.999], eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0.01,
      });
    default:
      return new Adam(params, {
        lr: o.lr ?? 1e-3, betas: o.betas ?? [0.9, 0.999], eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0,
      });
  }
}

/** The schedule a config names; a plateau watches the monitored metric, so it goes the way that metric improves. */
function makeSchedule(opt: Optimizer, s: ScheduleConfig | undefined, epochs: number, monitor: MetricName): Schedule | undefined {
  if (!s) return undefined;
  if (s.name === 'step') return new StepLR(opt, s.stepSize, s.gamma ?? 0.1);
  if (s.name === 'cosine') return new CosineAnnealingLR(opt, s.tMax ?? epochs, s.etaMin ?? 0);
  const mode = higherIsBetter(monitor) ? 'max' : 'min';
  return new ReduceLROnPlateau(opt, { mode, factor: s.factor ?? 0.1, patience: s.patience ?? 10, minLr: s.minLr ?? 0 });
}

/**
 * Trains a SequenceModel on Examples or a Seq2SeqModel on PairExamples (the
 * type parameter follows the model given), through the model's task.
 */
export class Trainer<M extends AnyModel = SequenceModel> {
  readonly config: TrainConfig;
  readonly optimizer: Optimizer;
  readonly schedule: Schedule | undefined;
  readonly epochs: number;
  readonly batchSize: number;
  readonly monitor: MetricName;
  private readonly task: TrainingTask<ExampleOf<M>, BatchOf<M>>;
  private readonly rng: Rng;
  private state: Omit<TrainerState, 'optimizer' | 'schedule' | 'rng' | 'modelRng'>;
  private stopRequested = false;

  constructor(readonly model: M, config: TrainConfig = {}) {
    this.config = config;
    this.epochs = config.epochs ?? DEFAULT_TRAIN.epochs;
    this.batchSize = config.batchSize ?? DEFAULT_TRAIN.batchSize;
    this.monitor = config.monitor ?? 'loss';
    const task = model instanceof Seq2SeqModel ? new Seq2SeqTask(model, config)
      : model instanceof TaggerModel ? new TaggerTask(model, config)
      : new SequenceTask(model as SequenceModel, config);
    this.task = task as unknown as TrainingTask<ExampleOf<M>, BatchOf<M>>;
    this.task.checkMonitor(this.monitor);
    this.rng = new Rng(config.seed ?? DEFAULT_TRAIN.seed);
    this.optimizer = makeOptimizer(model, config.optimizer);
    this.schedule = makeSchedule(this.optimizer, config.schedule, this.epochs, this.monitor);
    this.state = { epoch: 0, bestScore: null, bestEpoch: 0, badEpochs: 0, bestParams: null, history: [] };
  }

  /** A trainer that continues the run a checkpoint (a run's last.lstmkit) was written by, exactly. */
  static async resume(path: string, config: TrainConfig, opts: ModelOptions = {}): Promise<Trainer<AnyModel>> {
    const { loadModel } = await import('../io/modelpath.js');
    const { model, contents } = await loadModel(path, opts);
    if (!contents.trainer) throw new DataError('holds no trainer state; it is not a checkpoint to resume from', contents.path);
    const trainer = new Trainer<AnyModel>(model, config);
    trainer.setState(trainerStateOf(contents.trainer, contents.path));
    return trainer;
  }

  /** Ask a running fit to stop after the current epoch. */
  stop(): void {
    this.stopRequested = true;
  }

  get history(): EpochLog[] {
    return this.state.history;
  }

  get epochsDone(): number {
    return this.state.epoch;
  }

  /** The epoch whose weights are the best so far (0 before the first). */
  get bestEpoch(): number {
    return this.state.bestEpoch;
  }

  getState(): TrainerState {
    return {
      ...this.state,
      history: [...this.state.history],
      optimizer: this.optimizer.getState(),
      schedule: this.schedule?.getState() ?? {},
      rng: this.rng.getState(),
      modelRng: this.model.getRngState(),
    };
  }

  setState(s: TrainerState): void {
    this.optimizer.setState(s.optimizer);
    this.schedule?.setState(s.schedule);
    this.rng.setState(s.rng);
    this.model.setRngState(s.modelRng);
    this.state = {
      epoch: s.epoch, bestScore: s.bestScore, bestEpoch: s.bestEpoch, badEpochs: s.badEpochs,
      bestParams: s.bestParams, history: [...s.history],
    };
  }

  /** The best parameters seen (by the monitored metric), or the current ones. */
  bestParams(): Float32Array {
    return this.state.bestParams ?? this.model.parameters().snapshot();
  }

  /** Hold out the last `fraction` of a seeded shuffle for validation. */
  static split<E>(examples: readonly E[], fraction: number, seed = 0): { train: E[]; validation: E[] } {
    const order = new Rng(seed ^ 0x5a17).shuffle(examples.map((_, i) => i));
    const cut = Math.round(examples.length * (1 - fraction));
    return {
      train: order.slice(0, cut).map((i) => examples[i]!),
      validation: order.slice(cut).map((i) => examples[i]!),
    };
  }

  /** One optimizer step on one batch; returns the loss. */
  step(batch: BatchOf<M>, where = ''): number {
    this.model.parameters().zeroGrad();
    const { loss } = this.task.forward(batch);
    if (!Number.isFinite(loss)) {
      throw new DivergenceError(`training diverged: the loss is ${loss}${where}; lower the learning rate or clip gradients (train.clipNorm)`);
    }
    this.task.backward();
    if (this.config.clipValue !== undefined) clipGradValue(this.model, this.config.clipValue);
    if (this.config.clipNorm !== undefined) clipGradNorm(this.model, this.config.clipNorm);
    this.optimizer.step();
    return loss;
  }

  async fit(train: readonly ExampleOf<M>[], opts: FitOptions<ExampleOf<M>> = {}): Promise<EpochLog[]> {
    if (train.length === 0) throw new ValueError('no training examples');
    let trainSet = train;
    let validation = opts.validation;
    if (!validation && this.config.validationSplit) {
      const split = Trainer.split(train, this.config.validationSplit, this.config.seed ?? 0);
      trainSet = split.train;
      validation = split.validation;
    }
    const model = this.model;
    const higher = higherIsBetter(this.monitor);
    // The run directory's files are Node's: loaded only when asked for, so the trainer runs in browsers.
    const files = opts.checkpoint ? await (await import('./rundir.js')).openRunDirectory(opts.checkpoint) : undefined;
    // A run that early stopping ended stays ended: resuming it trains nothing and rewrites no file.
    const patience = this.config.earlyStopping?.patience;
    this.stopRequested = patience !== undefined && this.state.badEpochs > patience;
    let trained = 0;
    for (let epoch = this.state.epoch + 1; epoch <= this.epochs && !this.stopRequested; epoch++) {
      const started = performance.now();
      model.train();
      this.task.startEpoch();
      const batches = this.task.epochBatches(trainSet, this.rng);
      let lossSum = 0;
      let sequences = 0;
      try {
        batches.forEach((batch, k) => {
          const loss = this.step(batch, ` at epoch ${epoch}, batch ${k + 1}`);
          const size = (batch as { size: number }).size;
          lossSum += loss * size;
          sequences += size;
          opts.callbacks?.onBatchEnd?.({ epoch, batch: k + 1, batches: batches.length, loss, sequences: size });
        });
      } catch (e) {
        if (e instanceof DivergenceError && files) {
          const kept = files.lastWritten ? files.last : '(none yet: it diverged in the first epoch)';
          throw new DivergenceError(`${e.message}. The last good checkpoint is kept: ${kept}`);
        }
        throw e;
      }
      const trainSeconds = (performance.now() - started) / 1000;
      const val = validation?.length ? this.evaluate(validation) : undefined;
      const trainLoss = lossSum / Math.max(1, sequences);
      const score = val ? (this.monitor === 'loss' ? val.loss : val[this.monitor] ?? val.loss) : trainLoss;
      const prev = this.state.bestScore;
      const minDelta = this.config.earlyStopping?.minDelta ?? 0;
      const improved = prev === null || (higher ? score > prev + minDelta : score < prev - minDelta);
      if (improved) {
        this.state.bestScore = score;
        this.state.bestEpoch = epoch;
        this.state.badEpochs = 0;
        this.state.bestParams = model.parameters().snapshot();
      } else this.state.badEpochs++;
      const log: EpochLog = {
        epoch, epochs: this.epochs, loss: trainLoss, ...(val ? { val } : {}), lr: this.optimizer.lr,
        seconds: (performance.now() - started) / 1000, sequencesPerSecond: sequences / trainSeconds, best: improved,
      };
      this.schedule?.step(score);
      this.state.epoch = epoch;
      this.state.history.push(log);
      trained++;
      if (patience !== undefined && this.state.badEpochs > patience) this.stopRequested = true;
      if (files) {
        // The checkpoint first: if the process dies after this line, a resume starts at the next epoch.
        await files.write(files.last, this, { trainer: trainerSection(this.getState()) });
        if (improved) await files.write(files.best, this, {});
      }
      await opts.callbacks?.onEpochEnd?.(log, this);
    }
    const restoreBest = opts.restoreBest ?? this.config.earlyStopping !== undefined;
    if (restoreBest && this.state.bestParams) model.parameters().restore(this.state.bestParams);
    if (files && trained > 0) await this.writeBest(files);
    return this.state.history;
  }

  /** best.lstmkit from the best weights, whatever the model holds now. */
  private async writeBest(files: RunDirectory): Promise<void> {
    const store = this.model.parameters();
    const current = store.snapshot();
    store.restore(this.bestParams());
    try {
      await files.write(files.best, this, {});
    } finally {
      store.restore(current);
    }
  }

  /** Loss and metrics over examples (evaluation mode: no dropout, no state carried in from training). */
  evaluate(examples: readonly ExampleOf<M>[]): Metrics {
    return this.task.evaluate(examples);
  }
}
