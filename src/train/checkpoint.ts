// Checkpoints: the trainer's state in a model file's trainer section, so a
// killed run resumes exactly — optimizer moments and step, schedule, the
// shuffling and dropout generators, early-stopping counters, the best
// weights so far and the history. The layout is the one lstmkit has always
// written (metadata "trainer"; tensors __optimizer__.<i> and
// __trainer__.bestParams), so older checkpoints resume too.

import { Type } from '@sinclair/typebox';
import { FormatError } from '../core/errors.js';
import { checked, type TrainerSection } from '../io/modelfile.js';
import type { OptimizerState } from './optimizers.js';
import type { EpochLog } from './trainer.js';

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

const Count = Type.Integer({ minimum: 0 });
/** A generator's state: four 32-bit words and its spare normal (null when it has none: JSON writes NaN as null). */
const Generator = Type.Array(Type.Union([Type.Number(), Type.Null()]), { minItems: 4, maxItems: 5 });

/** The JSON part of a checkpoint's trainer section (tensors apart), as trainerSection writes it. */
const TrainerStateSchema = Type.Object({
  epoch: Count,
  optimizer: Type.Object({ name: Type.String(), step: Count, lr: Type.Number({ minimum: 0 }), buffers: Count }),
  schedule: Type.Record(Type.String(), Type.Number()),
  rng: Generator,
  modelRng: Generator,
  bestScore: Type.Union([Type.Number(), Type.Null()]),
  bestEpoch: Count,
  badEpochs: Count,
  history: Type.Array(Type.Object({ epoch: Count, loss: Type.Number() })),
});

const OPTIMIZER_PREFIX = '__optimizer__.';
const BEST_PARAMS = '__trainer__.bestParams';

/** The trainer section of a checkpoint file. */
export function trainerSection(state: TrainerState): TrainerSection {
  const { optimizer, bestParams, ...rest } = state;
  const tensors: Record<string, Float32Array> = {};
  optimizer.buffers.forEach((b, i) => (tensors[`${OPTIMIZER_PREFIX}${i}`] = b));
  if (bestParams) tensors[BEST_PARAMS] = bestParams;
  const optimizerState = {
    name: optimizer.name, step: optimizer.step, lr: optimizer.lr, buffers: optimizer.buffers.length,
  };
  return { state: { ...rest, optimizer: optimizerState }, tensors };
}

/** The trainer state a checkpoint file holds. */
export function trainerStateOf(section: TrainerSection, source: string): TrainerState {
  const saved = checked(TrainerStateSchema, section.state, `${source}: metadata trainer`) as
    Omit<TrainerState, 'optimizer' | 'bestParams'> & { optimizer: { name: string; step: number; lr: number; buffers: number } };
  const buffers: Float32Array[] = [];
  for (const [name, data] of Object.entries(section.tensors)) {
    if (name.startsWith(OPTIMIZER_PREFIX)) buffers[Number(name.slice(OPTIMIZER_PREFIX.length))] = data;
  }
  const held = Array.from(buffers).filter(Boolean).length; // Array.from turns holes into undefined
  if (buffers.length !== saved.optimizer.buffers || held !== buffers.length) {
    throw new FormatError(`${source}: the checkpoint lists ${saved.optimizer.buffers} optimizer buffers but holds ${held}`);
  }
  return { ...saved, optimizer: { ...saved.optimizer, buffers }, bestParams: section.tensors[BEST_PARAMS] ?? null };
}
