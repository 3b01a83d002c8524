// What the trainer trains: a model together with how its examples become
// batches, the loss of its outputs and its validation metrics. The trainer
// owns everything else (optimizer, clipping, schedule, best weights, early
// stopping, checkpoints); each kind of model brings a task. This file holds
// the interface and the task of SequenceModel (one head over a recurrent
// stack); the seq2seq task is in seq2seq.ts.

import { Workspace } from '../core/arena.js';
import { ValueError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { ArenaTensor } from '../core/tensor.js';
import { batchIndices, makeBatch, stepMask, streamBatches, type Batch, type BatchSpec } from '../data/batch.js';
import type { Example } from '../data/encode.js';
import { batchSpecOf, type MetricName, type TrainConfig } from '../model/config.js';
import type { SequenceModel } from '../model/model.js';
import { BatchRunner } from '../model/runner.js';
import { evaluateModel } from './evaluate.js';
import { crossEntropyArena, mseArena, type LossResult } from './losses.js';
import { checkMonitor, type Metrics } from './metrics.js';

export const DEFAULT_TRAIN = { epochs: 10, batchSize: 32, shuffle: true, bucketByLength: false, seed: 0 } as const;

export interface TrainingTask<E, B> {
  /** Throws a ValueError when `monitor` is not a metric this task reports. */
  checkMonitor(monitor: MetricName): void;
  /** Called at the start of every epoch (a stream's carried state starts over). */
  startEpoch(): void;
  /** One epoch's batches, in an order drawn from `rng`. */
  epochBatches(examples: readonly E[], rng: Rng): B[];
  /** The model's loss on a batch (training mode); keeps what `backward` needs. */
  forward(batch: B): { loss: number; size: number };
  /** Adds the gradient of the last forward's loss into the parameter gradients. */
  backward(): void;
  /** Loss and metrics over examples, in evaluation mode. */
  evaluate(examples: readonly E[]): Metrics;
}

/** The epoch order of examples as every task draws it: shuffled, optionally bucketed by length. */
export function epochOrder(examples: readonly { steps: number }[], config: TrainConfig, rng: Rng): number[][] {
  return batchIndices(examples, {
    batchSize: config.batchSize ?? DEFAULT_TRAIN.batchSize,
    shuffle: config.shuffle ?? DEFAULT_TRAIN.shuffle,
    bucketByLength: config.bucketByLength ?? DEFAULT_TRAIN.bucketByLength,
    rng,
  });
}

/** A SequenceModel's task: padded batches or truncated-BPTT streams, MSE or cross-entropy against the targets. */
export class SequenceTask implements TrainingTask<Example, Batch> {
  private readonly spec: BatchSpec;
  private readonly runner: BatchRunner;
  private readonly ws: Workspace;
  private grad: ArenaTensor | undefined;

  constructor(readonly model: SequenceModel, readonly config: TrainConfig) {
    this.spec = batchSpecOf(model.config);
    this.runner = new BatchRunner(model);
    this.ws = new Workspace(model.backend.arena);
  }

  checkMonitor(monitor: MetricName): void {
    checkMonitor(monitor, this.model.config.output.type);
  }

  /** Next-step mode trained as a stream: state carries across truncated-BPTT windows. */
  get streaming(): boolean {
    return this.model.config.output.mode === 'next' && this.config.tbptt !== undefined;
  }

  startEpoch(): void {
    this.runner.resetState();
  }

  epochBatches(examples: readonly Example[], rng: Rng): Batch[] {
    const batchSize = this.config.batchSize ?? DEFAULT_TRAIN.batchSize;
    if (this.streaming) return streamBatches(examples, this.spec, batchSize, this.config.tbptt!);
    return epochOrder(examples, this.config, rng).map((g) => makeBatch(examples, g, this.spec));
  }

  forward(batch: Batch): { loss: number; size: number } {
    const output = this.runner.forward(batch, { carry: this.streaming });
    const { loss, grad } = this.loss(output, batch);
    this.grad = grad;
    return { loss, size: batch.size };
  }

  backward(): void {
    if (!this.grad) throw new ValueError('backward before forward');
    this.model.backwardArena(this.grad);
  }

  /** The loss of the model's output for a batch against its targets, and the output's gradient. */
  private loss(output: ArenaTensor, batch: Batch): LossResult<ArenaTensor | undefined> {
    const backend = this.model.backend;
    if (this.model.config.output.type === 'classification') {
      if (!batch.yCls) throw new ValueError('the batch has no class targets');
      return crossEntropyArena(backend, this.ws, output, batch.yCls, { labelSmoothing: this.config.labelSmoothing ?? 0 });
    }
    if (!batch.yReg) throw new ValueError('the batch has no regression targets');
    const mask = this.model.config.output.mode === 'sequence' ? null : stepMask(batch);
    return mseArena(backend, this.ws, output, batch.yReg, { mask });
  }

  evaluate(examples: readonly Example[]): Metrics {
    return evaluateModel(this.model, examples, this.config.batchSize ?? DEFAULT_TRAIN.batchSize, this.streaming ? this.config.tbptt! : undefined);
  }
}
