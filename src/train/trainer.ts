// The training loop, Keras-fit-like: mini-batches (padded, optionally
// bucketed) or truncated-BPTT streams, clipping, an optimizer and schedule
// with PyTorch's semantics, validation metrics, early stopping with the best
// weights restored, callbacks, and a state that checkpoints resume exactly.

import { DivergenceError, ValueError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { batchIndices, makeBatch, streamBatches, type Batch } from '../data/batch.js';
import type { Example } from '../data/encode.js';
import type { MetricName, OptimizerConfig, ScheduleConfig, TrainConfig } from '../model/config.js';
import type { SequenceModel } from '../model/model.js';
import { clipGradNorm, clipGradValue } from './clip.js';
import { higherIsBetter, MetricAccumulator, type Metrics } from './metrics.js';
import { Adam, AdamW, RMSprop, SGD, type Optimizer, type OptimizerState } from './optimizers.js';
import { CosineAnnealingLR, ReduceLROnPlateau, StepLR, type Schedule } from './schedules.js';

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
  /** Awaited: a checkpoint written here is on disk before the next epoch starts. */
  onEpochEnd?(log: EpochLog, trainer: Trainer): void | Promise<void>;
}

/** Everything needed to continue a run exactly where it stopped. */
export interface TrainerState {
  epoch: number; // epochs completed
  optimizer: OptimizerState;
  schedule: Record<string, number>;
  rng: number[];
  modelRng: number[];
  bestScore: number | null;
  bestEpoch: number;
  badEpochs: number;
  /** The best parameters so far (flat, in store order). */
  bestParams: Float32Array | null;
  history: EpochLog[];
}

export const DEFAULT_TRAIN = { epochs: 10, batchSize: 32, shuffle: true, bucketByLength: false, seed: 0 } as const;

export function makeOptimizer(model: SequenceModel, o: OptimizerConfig = { name: 'adam' }): Optimizer {
  const params = model.parameters();
  switch (o.name) {
    case 'sgd':
      return new SGD(params, { lr: o.lr ?? 0.01, momentum: o.momentum ?? 0, nesterov: o.nesterov ?? false, weightDecay: o.weightDecay ?? 0 });
    case 'rmsprop':
      return new RMSprop(params, { lr: o.lr ?? 0.01, alpha: o.alpha ?? 0.99, eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0, momentum: o.momentum ?? 0, centered: o.centered ?? false });
    case 'adamw':
      return new AdamW(params, { lr: o.lr ?? 1e-3, betas: o.betas ?? [0.9, 0.999], eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0.01 });
    default:
      return new Adam(params, { lr: o.lr ?? 1e-3, betas: o.betas ?? [0.9, 0.999], eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0 });
  }
}

function makeSchedule(opt: Optimizer, s: ScheduleConfig | undefined, epochs: number): Schedule | undefined {
  if (!s) return undefined;
  if (s.type === 'step') return new StepLR(opt, s.stepSize, s.gamma ?? 0.1);
  if (s.type === 'cosine') return new CosineAnnealingLR(opt, s.tMax ?? epochs, s.etaMin ?? 0);
  return new ReduceLROnPlateau(opt, { factor: s.factor ?? 0.1, patience: s.patience ?? 10, minLr: s.minLr ?? 0 });
}

export class Trainer {
  readonly config: TrainConfig;
  readonly optimizer: Optimizer;
  readonly schedule: Schedule | undefined;
  readonly epochs: number;
  readonly batchSize: number;
  readonly monitor: MetricName;
  private readonly rng: Rng;
  private state: Omit<TrainerState, 'optimizer' | 'schedule' | 'rng' | 'modelRng'>;
  private stopRequested = false;

  constructor(readonly model: SequenceModel, config: TrainConfig = {}) {
    this.config = config;
    this.epochs = config.epochs ?? DEFAULT_TRAIN.epochs;
    this.batchSize = config.batchSize ?? DEFAULT_TRAIN.batchSize;
    this.monitor = config.monitor ?? 'loss';
    const kind = model.config.output.type;
    if (kind === 'regression' && higherIsBetter(this.monitor)) throw new ValueError(`train.monitor '${this.monitor}' is a classification metric; this model is a regression`);
    if (kind === 'classification' && ['mse', 'mae', 'rmse'].includes(this.monitor)) throw new ValueError(`train.monitor '${this.monitor}' is a regression metric; this model is a classification`);
    this.rng = new Rng(config.seed ?? DEFAULT_TRAIN.seed);
    this.optimizer = makeOptimizer(model, config.optimizer);
    this.schedule = makeSchedule(this.optimizer, config.schedule, this.epochs);
    this.state = { epoch: 0, bestScore: null, bestEpoch: 0, badEpochs: 0, bestParams: null, history: [] };
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

  getState(): TrainerState {
    return {
      ...this.state,
      history: [...this.state.history],
      optimizer: this.optimizer.getState(),
      schedule: this.schedule?.getState() ?? {},
      rng: this.rng.getState(),
      modelRng: this.model.rnn.getRngState(),
    };
  }

  setState(s: TrainerState): void {
    this.optimizer.setState(s.optimizer);
    this.schedule?.setState(s.schedule);
    this.rng.setState(s.rng);
    this.model.rnn.setRngState(s.modelRng);
    this.state = { epoch: s.epoch, bestScore: s.bestScore, bestEpoch: s.bestEpoch, badEpochs: s.badEpochs, bestParams: s.bestParams, history: [...s.history] };
  }

  /** The best parameters seen (by the monitored metric), or the current ones. */
  bestParams(): Float32Array {
    return this.state.bestParams ?? this.currentParams();
  }

  private currentParams(): Float32Array {
    const store = this.model.parameters();
    return Float32Array.from(this.model.backend.arena.heap.subarray(store.data, store.data + store.size));
  }

  private setParams(values: Float32Array): void {
    const store = this.model.parameters();
    this.model.backend.arena.heap.set(values, store.data);
  }

  /** Hold out the last `fraction` of a seeded shuffle for validation. */
  static split(examples: readonly Example[], fraction: number, seed = 0): { train: Example[]; validation: Example[] } {
    const order = new Rng(seed ^ 0x5a17).shuffle(examples.map((_, i) => i));
    const cut = Math.round(examples.length * (1 - fraction));
    return { train: order.slice(0, cut).map((i) => examples[i]!), validation: order.slice(cut).map((i) => examples[i]!) };
  }

  private get streaming(): boolean {
    return this.model.config.output.mode === 'next' && this.config.tbptt !== undefined;
  }

  private epochBatches(train: readonly Example[]): Batch[] {
    if (this.streaming) return streamBatches(train, this.model.config, this.batchSize, this.config.tbptt!);
    const groups = batchIndices(train, {
      batchSize: this.batchSize,
      shuffle: this.config.shuffle ?? DEFAULT_TRAIN.shuffle,
      bucketByLength: this.config.bucketByLength ?? DEFAULT_TRAIN.bucketByLength,
      rng: this.rng,
    });
    return groups.map((g) => makeBatch(train, g, this.model.config));
  }

  /** One optimizer step on one batch; returns the loss. */
  step(batch: Batch, where = ''): number {
    const model = this.model;
    model.parameters().zeroGrad();
    model.forward(batch, { carry: this.streaming });
    const loss = model.loss();
    if (!Number.isFinite(loss)) throw new DivergenceError(`training diverged: the loss is ${loss}${where}; lower the learning rate or clip gradients (train.clipNorm)`);
    model.backward();
    if (this.config.clipValue !== undefined) clipGradValue(model, this.config.clipValue);
    if (this.config.clipNorm !== undefined) clipGradNorm(model, this.config.clipNorm);
    this.optimizer.step();
    return loss;
  }

  async fit(train: readonly Example[], opts: { validation?: readonly Example[]; callbacks?: Callbacks } = {}): Promise<EpochLog[]> {
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
    this.stopRequested = false;
    for (let epoch = this.state.epoch + 1; epoch <= this.epochs && !this.stopRequested; epoch++) {
      const started = performance.now();
      model.train();
      model.resetState();
      const batches = this.epochBatches(trainSet);
      let lossSum = 0;
      let sequences = 0;
      batches.forEach((batch, k) => {
        const loss = this.step(batch, ` at epoch ${epoch}, batch ${k + 1}`);
        lossSum += loss * batch.size;
        sequences += batch.size;
        opts.callbacks?.onBatchEnd?.({ epoch, batch: k + 1, batches: batches.length, loss, sequences: batch.size });
      });
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
        this.state.bestParams = this.currentParams();
      } else this.state.badEpochs++;
      const log: EpochLog = {
        epoch, epochs: this.epochs, loss: trainLoss, ...(val ? { val } : {}), lr: this.optimizer.lr,
        seconds: (performance.now() - started) / 1000, sequencesPerSecond: sequences / trainSeconds, best: improved,
      };
      this.schedule?.step(score);
      this.state.epoch = epoch;
      this.state.history.push(log);
      const patience = this.config.earlyStopping?.patience;
      if (patience !== undefined && this.state.badEpochs > patience) this.stopRequested = true;
      await opts.callbacks?.onEpochEnd?.(log, this);
    }
    if (this.config.earlyStopping && this.state.bestParams) this.setParams(this.state.bestParams);
    return this.state.history;
  }

  /** Loss and metrics over examples (evaluation mode: no dropout, no state carried). */
  evaluate(examples: readonly Example[]): Metrics {
    const model = this.model;
    return evaluateModel(model, examples, this.batchSize, this.streaming ? this.config.tbptt! : undefined);
  }
}

/** Loss and metrics of a model over examples. `tbptt`: evaluate as a stream in windows. */
export function evaluateModel(model: SequenceModel, examples: readonly Example[], batchSize = 32, tbptt?: number): Metrics {
  const cfg = model.config;
  const K = model.outputSize;
  const acc = new MetricAccumulator(cfg.output.type, cfg.output.type === 'classification' ? K : 0);
  model.eval();
  model.resetState();
  const batches = tbptt !== undefined && cfg.output.mode === 'next'
    ? streamBatches(examples, cfg, batchSize, tbptt)
    : batchIndices(examples, { batchSize, shuffle: false, bucketByLength: false, rng: new Rng(0) }).map((g) => makeBatch(examples, g, cfg));
  for (const batch of batches) {
    model.forward(batch, { carry: tbptt !== undefined });
    const loss = model.loss();
    const outputs = model.outputs();
    if (cfg.output.type === 'classification') {
      const counted = batch.yCls!.reduce((n, v) => n + (v >= 0 ? 1 : 0), 0);
      acc.addLoss(loss, counted);
      acc.addClassification(outputs, batch.yCls!, K);
    } else {
      const perStep = cfg.output.mode !== 'sequence';
      const rows = outputs.length / K;
      const mask = perStep ? rowMask(batch) : null;
      acc.addLoss(loss, mask ? mask.reduce((a, b) => a + b, 0) : rows);
      acc.addRegression(outputs, batch.yReg!, K, mask);
    }
  }
  model.train();
  return acc.result();
}

function rowMask(batch: Batch): Uint8Array {
  const mask = new Uint8Array(batch.steps * batch.size);
  for (let t = 0; t < batch.steps; t++) for (let b = 0; b < batch.size; b++) mask[t * batch.size + b] = t < batch.lengths[b]! ? 1 : 0;
  return mask;
}
