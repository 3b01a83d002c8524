// The lstmkit model file: a safetensors file whose tensors are the model's
// parameters (PyTorch-style names, F32) and whose string metadata holds the
// format and version, the architecture config, preprocessing (scalers,
// tokenizer), training metadata, and — in a checkpoint — the trainer state
// with the optimizer moments as extra tensors.

import { FormatError } from '../core/errors.js';
import { parseModelConfig, type ModelConfig } from '../model/config.js';
import { SequenceModel, type ModelOptions } from '../model/model.js';
import type { TrainerState } from '../train/trainer.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from './safetensors.js';

export const FORMAT = 'lstmkit';
/** Bump when the layout changes; older versions keep loading. */
export const FORMAT_VERSION = 1;

export interface ModelFileContents {
  config: ModelConfig;
  weights: Record<string, { shape: number[]; data: Float32Array }>;
  /** Task-specific preprocessing (scalers, windowing, tokenizer), JSON. */
  preprocessing?: unknown;
  /** Free-form training facts: epochs, metrics, data files, time. */
  training?: unknown;
  /** Present in checkpoints: everything `--resume` needs. */
  trainer?: TrainerState;
  formatVersion: number;
}

const OPTIMIZER_PREFIX = '__optimizer__.';
const BEST_PARAMS = '__trainer__.bestParams';

export function encodeModelFile(model: SequenceModel, extra: { preprocessing?: unknown; training?: unknown; trainer?: TrainerState } = {}): Uint8Array {
  const tensors: Record<string, SafetensorsTensor> = {};
  const store = model.parameters();
  const dict = model.stateDict();
  for (const name of store.names()) tensors[name] = { dtype: 'F32', shape: store.shape(name), data: Float32Array.from(dict[name]!) };
  const metadata: Record<string, string> = {
    format: FORMAT,
    format_version: String(FORMAT_VERSION),
    config: JSON.stringify(model.config),
  };
  if (extra.preprocessing !== undefined) metadata.preprocessing = JSON.stringify(extra.preprocessing);
  if (extra.training !== undefined) metadata.training = JSON.stringify(extra.training);
  if (extra.trainer) {
    const { optimizer, bestParams, ...rest } = extra.trainer;
    metadata.trainer = JSON.stringify({ ...rest, optimizer: { name: optimizer.name, step: optimizer.step, lr: optimizer.lr, buffers: optimizer.buffers.length } });
    optimizer.buffers.forEach((b, i) => (tensors[`${OPTIMIZER_PREFIX}${i}`] = { dtype: 'F32', shape: [b.length], data: b }));
    if (bestParams) tensors[BEST_PARAMS] = { dtype: 'F32', shape: [bestParams.length], data: bestParams };
  }
  return encodeSafetensors(tensors, metadata);
}

function json(metadata: Record<string, string>, key: string, source: string): unknown {
  const text = metadata[key];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new FormatError(`${source}: metadata "${key}" is not valid JSON`);
  }
}

export function decodeModelFile(bytes: Uint8Array, source = '<model>'): ModelFileContents {
  const file = decodeSafetensors(bytes, { source });
  const meta = file.metadata;
  if (meta.format !== FORMAT) throw new FormatError(`${source}: not an lstmkit model file (metadata format is ${JSON.stringify(meta.format)}, expected "${FORMAT}")`);
  const version = Number(meta.format_version);
  if (!Number.isInteger(version) || version < 1) throw new FormatError(`${source}: format_version ${JSON.stringify(meta.format_version)} is not a version number`);
  if (version > FORMAT_VERSION) throw new FormatError(`${source}: made by a newer lstmkit (model format ${version}); this lstmkit reads formats up to ${FORMAT_VERSION} — upgrade lstmkit`);
  let config: ModelConfig;
  try {
    config = parseModelConfig(json(meta, 'config', source), `${source}: config`);
  } catch (e) {
    throw new FormatError((e as Error).message);
  }
  const weights: ModelFileContents['weights'] = {};
  const optimizerBuffers: Float32Array[] = [];
  let bestParams: Float32Array | null = null;
  for (const [name, t] of Object.entries(file.tensors)) {
    if (t.dtype !== 'F32' || !(t.data instanceof Float32Array)) throw new FormatError(`${source}: tensor ${name} has dtype ${t.dtype}; lstmkit model files hold F32`);
    if (name.startsWith(OPTIMIZER_PREFIX)) optimizerBuffers[Number(name.slice(OPTIMIZER_PREFIX.length))] = t.data;
    else if (name === BEST_PARAMS) bestParams = t.data;
    else weights[name] = { shape: t.shape, data: t.data };
  }
  const out: ModelFileContents = { config, weights, formatVersion: version };
  const preprocessing = json(meta, 'preprocessing', source);
  if (preprocessing !== undefined) out.preprocessing = preprocessing;
  const training = json(meta, 'training', source);
  if (training !== undefined) out.training = training;
  const trainer = json(meta, 'trainer', source) as (Omit<TrainerState, 'optimizer' | 'bestParams'> & { optimizer: { name: string; step: number; lr: number; buffers: number } }) | undefined;
  if (trainer) {
    if (optimizerBuffers.length !== trainer.optimizer.buffers || optimizerBuffers.some((b) => b === undefined)) {
      throw new FormatError(`${source}: the checkpoint lists ${trainer.optimizer.buffers} optimizer buffers but holds ${optimizerBuffers.filter(Boolean).length}`);
    }
    out.trainer = { ...trainer, optimizer: { ...trainer.optimizer, buffers: optimizerBuffers }, bestParams };
  }
  return out;
}

/** A model with the file's weights loaded (names and shapes checked). */
export function modelFromFile(contents: ModelFileContents, opts: ModelOptions = {}, source = '<model>'): SequenceModel {
  const model = new SequenceModel(contents.config, opts);
  try {
    model.loadStateDict(contents.weights);
  } catch (e) {
    throw new FormatError(`${source}: ${(e as Error).message}`);
  }
  return model;
}
