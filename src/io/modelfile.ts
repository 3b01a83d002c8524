// The lstmkit model file: a safetensors file whose tensors are the model's
// parameters (PyTorch-style names, F32) and whose string metadata holds the
// format and version, the architecture config, preprocessing (scalers,
// tokenizer), training metadata, and — in a checkpoint — a trainer section:
// JSON under the metadata key "trainer" and tensors named `__…` (optimizer
// moments, best weights). The file format knows nothing of the trainer: the
// section is carried as it comes (src/train/checkpoint.ts reads and writes it).

import { FormatError } from '../core/errors.js';
import { parseModelConfig, type ModelConfig } from '../model/config.js';
import { SequenceModel, type ModelOptions } from '../model/model.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from './safetensors.js';

export const FORMAT = 'lstmkit';
/** Bump when the layout changes; older versions keep loading. */
export const FORMAT_VERSION = 1;

/** A checkpoint's trainer section: JSON state and named tensors (names start with `__`). */
export interface TrainerSection {
  state: unknown;
  tensors: Record<string, Float32Array>;
}

export interface ModelFileContents {
  config: ModelConfig;
  weights: Record<string, { shape: number[]; data: Float32Array }>;
  /** Task-specific preprocessing (scalers, windowing, tokenizer), JSON. */
  preprocessing?: unknown;
  /** Free-form training facts: epochs, metrics, data files, time. */
  training?: unknown;
  /** Present in checkpoints: what the trainer needs to resume exactly. */
  trainer?: TrainerSection;
  formatVersion: number;
}

/** What a model file holds besides the weights and config. */
export interface ModelFileExtra {
  preprocessing?: unknown;
  training?: unknown;
  trainer?: TrainerSection;
}

const SECTION_PREFIX = '__';

export function encodeModelFile(model: SequenceModel, extra: ModelFileExtra = {}): Uint8Array {
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
    metadata.trainer = JSON.stringify(extra.trainer.state);
    for (const [name, data] of Object.entries(extra.trainer.tensors)) {
      if (!name.startsWith(SECTION_PREFIX)) throw new FormatError(`trainer tensor ${name} must be named ${SECTION_PREFIX}…`);
      tensors[name] = { dtype: 'F32', shape: [data.length], data };
    }
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
  if (meta.format !== FORMAT) {
    throw new FormatError(`${source}: not an lstmkit model file (metadata format is ${JSON.stringify(meta.format)}, expected "${FORMAT}")`);
  }
  const version = Number(meta.format_version);
  if (!Number.isInteger(version) || version < 1) {
    throw new FormatError(`${source}: format_version ${JSON.stringify(meta.format_version)} is not a version number`);
  }
  if (version > FORMAT_VERSION) {
    throw new FormatError(
      `${source}: made by a newer lstmkit (model format ${version}); this lstmkit reads formats up to ${FORMAT_VERSION} — upgrade lstmkit`,
    );
  }
  let config: ModelConfig;
  try {
    config = parseModelConfig(json(meta, 'config', source), `${source}: config`);
  } catch (e) {
    throw new FormatError((e as Error).message);
  }
  const weights: ModelFileContents['weights'] = {};
  const sectionTensors: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(file.tensors)) {
    if (t.dtype !== 'F32' || !(t.data instanceof Float32Array)) {
      throw new FormatError(`${source}: tensor ${name} has dtype ${t.dtype}; lstmkit model files hold F32`);
    }
    if (name.startsWith(SECTION_PREFIX)) sectionTensors[name] = t.data;
    else weights[name] = { shape: t.shape, data: t.data };
  }
  const out: ModelFileContents = { config, weights, formatVersion: version };
  const preprocessing = json(meta, 'preprocessing', source);
  if (preprocessing !== undefined) out.preprocessing = preprocessing;
  const training = json(meta, 'training', source);
  if (training !== undefined) out.training = training;
  const trainer = json(meta, 'trainer', source);
  if (trainer !== undefined) out.trainer = { state: trainer, tensors: sectionTensors };
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
