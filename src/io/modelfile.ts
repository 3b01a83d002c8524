// The lstmkit model file: a safetensors file whose tensors are the model's
// parameters (PyTorch-style names, F32) and whose string metadata holds the
// format and version, the architecture config, preprocessing (scalers,
// tokenizer), training metadata, and — in a checkpoint — a trainer section:
// JSON under the metadata key "trainer" and tensors named `__…` (optimizer
// moments, best weights). The file format knows nothing of the trainer: the
// section is carried as it comes (src/train/checkpoint.ts reads and writes it).

import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { FormatError } from '../core/errors.js';
import { validate } from '../core/validate.js';
import type { ModelConfig } from '../model/config.js';
import { SequenceModel, type ModelOptions } from '../model/model.js';
import { buildModel, isSeq2Seq, parameterCountOfAny, parseAnyConfig, type AnyConfig, type AnyModel } from '../model/models.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from './safetensors.js';

export const FORMAT = 'lstmkit';
/** Bump when the layout changes; older versions keep loading. */
export const FORMAT_VERSION = 1;

/** A checkpoint's trainer section: JSON state and named tensors (names start with `__`). */
export interface TrainerSection {
  state: unknown;
  tensors: Record<string, Float32Array>;
}

export interface ModelFileContents<C extends AnyConfig = AnyConfig> {
  /** The architecture: a SequenceModel's config, or a Seq2SeqModel's (output.mode 'seq2seq'). */
  config: C;
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

/** What every recipe's preprocessing has in common: an object, naming its recipe (each recipe checks the rest). */
const PreprocessingSchema = Type.Object({ task: Type.Optional(Type.String()), version: Type.Optional(Type.Integer({ minimum: 1 })) });

/** Validate metadata; a mismatch is a FormatError naming the file and field. */
export function checked<S extends TSchema>(schema: S, value: unknown, where: string): Static<S> {
  try {
    return validate(schema, value, where);
  } catch (e) {
    throw new FormatError((e as Error).message);
  }
}

export function encodeModelFile(model: AnyModel, extra: ModelFileExtra = {}): Uint8Array {
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
  let config: AnyConfig;
  try {
    config = parseAnyConfig(json(meta, 'config', source), `${source}: config`);
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
  if (preprocessing !== undefined) out.preprocessing = checked(PreprocessingSchema, preprocessing, `${source}: metadata preprocessing`);
  const training = json(meta, 'training', source);
  if (training !== undefined) out.training = training;
  const trainer = json(meta, 'trainer', source);
  if (trainer !== undefined) out.trainer = { state: trainer, tensors: sectionTensors };
  return out;
}

/** A model with the file's weights loaded (sizes checked before anything is allocated, then names and shapes). */
export function modelFromFile(contents: ModelFileContents, opts: ModelOptions = {}, source = '<model>'): AnyModel {
  checkParameterCount(contents.config, Object.values(contents.weights).reduce((n, w) => n + w.data.length, 0), source);
  const model = buildModel(contents.config, opts);
  try {
    model.loadStateDict(contents.weights);
  } catch (e) {
    throw new FormatError(`${source}: ${(e as Error).message}`);
  }
  return model;
}

/** The contents of a file that must hold a SequenceModel (a recipe, an export): a seq2seq file is refused, naming `use`. */
export function sequenceContents(contents: ModelFileContents, source: string, use: string): ModelFileContents<ModelConfig> {
  if (isSeq2Seq(contents.config)) throw new FormatError(`${source}: holds a sequence-to-sequence model; ${use} takes a sequence model`);
  return contents as ModelFileContents<ModelConfig>;
}

/** A SequenceModel from a file that must hold one (see sequenceContents). */
export function sequenceModelFromFile(contents: ModelFileContents, opts: ModelOptions, source: string, use: string): SequenceModel {
  return modelFromFile(sequenceContents(contents, source, use), opts, source) as SequenceModel;
}

/**
 * A config that describes far more parameter values than the file holds is refused before the model is built:
 * a file whose config claims 2³¹ layers must cost milliseconds, not gigabytes. Within a margin the model is
 * built and loading it names the tensor that is missing or mis-shaped.
 */
export function checkParameterCount(config: AnyConfig, held: number, source: string): void {
  const wanted = parameterCountOfAny(config);
  if (wanted > 2 * held + (1 << 22)) {
    const { rnn } = config;
    const described = rnn
      ? ` (${rnn.cell} hiddenSize ${rnn.hiddenSize}, ${rnn.numLayers ?? 1} layer(s)${rnn.bidirectional ? ', bidirectional' : ''})`
      : '';
    throw new FormatError(
      `${source}: the config describes ${wanted.toLocaleString('en-US')} parameter values${described}, ` +
      `the file holds ${held.toLocaleString('en-US')}`,
    );
  }
}
