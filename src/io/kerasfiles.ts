// The files a Keras user has, read into what ./keras.ts maps: the model's
// JSON and its weights in model.get_weights() order.
//
//   model.json          model.to_json()
//   weights.npz         np.savez(path, *model.get_weights()) (or by name)
//   model.keras         Keras 3's model.save("m.keras"): a zip of config.json
//                       (the model's JSON), metadata.json and model.weights.h5
//   m.weights.h5        Keras 3's model.save_weights("m.weights.h5")
//   model.h5            model.save("m.h5"), Keras 2's format (Keras 3 still
//                       writes it): the model's JSON and the weights in one file
//   weights.h5          Keras 2's model.save_weights("w.h5")
//
// The HDF5 layouts (read with ./hdf5.ts):
//
// Keras 3 (keras/src/saving/saving_lib.py; model.weights.h5 and .weights.h5)
// stores each object's own variables at <path>/vars/0, 1, …, in the order the
// object created them, where <path> follows the model's attributes: the
// model's layer list is `layers`, and a layer in it is named by its class in
// snake case, with _1, _2, … for the second and later of a class — not by the
// layer's name (Sequential leaves out its InputLayer, which has no variables).
// A layer's sublayers are under its attributes' names. So, for what lstmkit
// maps:
//
//   Embedding                 layers/embedding/vars/0            embeddings
//   LSTM, GRU, SimpleRNN      layers/lstm/cell/vars/0, 1, 2      kernel, recurrent_kernel, bias
//   Bidirectional             layers/bidirectional/forward_layer/cell/vars/0, 1, 2
//                             then layers/bidirectional/backward_layer/cell/vars/0, 1, 2
//   Dense                     layers/dense/vars/0, 1             kernel, bias
//   TimeDistributed(Dense)    layers/time_distributed/layer/vars/0, 1
//
// (no bias variable with use_bias=False). Keras 2.13–2.15's .keras files
// name the list _layer_checkpoint_dependencies instead of layers; Keras 3
// reads them so, and so does lstmkit. Other groups (optimizer/, the empty
// vars of layers without weights) are not read.
//
// Legacy HDF5 (keras/src/legacy/saving/legacy_h5_format.py, Keras 2's
// hdf5_format.py): the root attribute model_config holds the model's JSON;
// the group model_weights (the root itself in a save_weights file) has the
// attribute layer_names, and each layer's group model_weights/<layer> the
// attribute weight_names, each a dataset at model_weights/<layer>/<weight
// name> (Keras 2: lstm/lstm_cell/kernel:0). An attribute too large for an
// object header is split into layer_names0, layer_names1, …
//
// Everything read is checked; a file that does not fit is a FormatError
// naming it.

import { FormatError } from '../core/errors.js';
import { Hdf5Reader } from './hdf5.js';
import { kerasLayers, type KerasLayer } from './keras.js';
import { decodeNpz, isHdf5, isZip, unzipEntries, zipEntryNames, type NpyArray } from './npz.js';

/** A file's bytes and its name, for messages. */
export interface KerasSource {
  bytes: Uint8Array;
  source: string;
}

export interface KerasFiles {
  /** The model's JSON, as model.to_json() writes it. */
  modelJson: unknown;
  /** The weights, in model.get_weights() order. */
  arrays: NpyArray[];
  /** The file the weights came from (inside an archive: "m.keras: model.weights.h5"). */
  weightsSource: string;
  /** How the user writes weights that fit, for a message when they do not. */
  weightsHint: string;
}

const NPZ_HINT = 'write it with np.savez(path, *model.get_weights()) from the same model';
const SAVE_HINT = 'save the architecture and the weights from the same model';

/** Sublayers whose vars hold a Keras 3 layer's weights, in get_weights() order. */
const VAR_GROUPS: Record<string, readonly string[]> = {
  Embedding: [''],
  Dense: [''],
  LSTM: ['cell'],
  GRU: ['cell'],
  SimpleRNN: ['cell'],
  Bidirectional: ['forward_layer/cell', 'backward_layer/cell'],
  TimeDistributed: ['layer'],
};

/** keras/src/utils/naming.py's to_snake_case: 'SimpleRNN' → 'simple_rnn', 'GlobalAveragePooling1D' → 'global_average_pooling1d'. */
export function snakeCase(name: string): string {
  return name.replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FormatError(`${source}: not valid JSON (${(e as Error).message})`);
  }
}

function describe(layer: KerasLayer): string {
  return `layer '${layer.name}' (${layer.className})`;
}

// ------------------------------------------------------------ HDF5 weights

/** A list-of-names attribute, joined from its chunks (name0, name1, …) when Keras split it. */
function nameList(h5: Hdf5Reader, group: string, name: string, required: boolean): string[] {
  const attrs = h5.attributes(group);
  const where = group ? `${group}'s attribute ${name}` : `the attribute ${name}`;
  let parts: unknown[];
  if (name in attrs) parts = [attrs[name]];
  else {
    parts = [];
    for (let i = 0; `${name}${i}` in attrs; i++) parts.push(attrs[`${name}${i}`]);
    if (!parts.length && required) throw new FormatError(`${h5.source}: has no ${where}; not the weights Keras saves`);
  }
  const names = parts.flatMap((p) => (Array.isArray(p) ? p : [p]));
  if (!names.every((n): n is string => typeof n === 'string')) throw new FormatError(`${h5.source}: ${where} is not a list of names`);
  return names;
}

/** Legacy HDF5: the layers of layer_names in order, each one's weights in weight_names order. */
function legacyWeights(h5: Hdf5Reader, base: string): NpyArray[] {
  const arrays: NpyArray[] = [];
  for (const layer of nameList(h5, base, 'layer_names', true)) {
    const group = base ? `${base}/${layer}` : layer;
    if (h5.kind(group) !== 'group') throw new FormatError(`${h5.source}: layer_names lists '${layer}', but there is no group ${group}`);
    for (const weight of nameList(h5, group, 'weight_names', false)) {
      const { shape, dtype, data } = h5.floats(`${group}/${weight}`);
      arrays.push({ name: weight, dtype, shape, data });
    }
  }
  return arrays;
}

/** Keras 3: the layers of the model's JSON, each one's vars where saving_lib put them. */
function keras3Weights(h5: Hdf5Reader, modelJson: unknown, modelSource: string): NpyArray[] {
  const root = ['layers', '_layer_checkpoint_dependencies'].find((g) => h5.kind(g) === 'group');
  if (!root) throw new FormatError(`${h5.source}: has no layers group; not the weights Keras saves`);
  const used = new Map<string, number>();
  const arrays: NpyArray[] = [];
  for (const layer of kerasLayers(modelJson, modelSource)) {
    const base = snakeCase(layer.className);
    const seen = used.get(base);
    used.set(base, seen === undefined ? 0 : seen + 1);
    const path = `${root}/${seen === undefined ? base : `${base}_${seen + 1}`}`;
    for (const sub of VAR_GROUPS[layer.className] ?? []) {
      const vars = sub ? `${path}/${sub}/vars` : `${path}/vars`;
      if (h5.kind(vars) !== 'group') {
        const present = h5.names(root).join(', ') || 'nothing';
        throw new FormatError(
          `${h5.source}: has no ${vars} for ${describe(layer)} of ${modelSource} (Keras names a layer's weights by its class and place, ` +
          `${root}/<class>[_N]); ${root} holds ${present} — are the model and the weights from the same model?`,
        );
      }
      const names = h5.names(vars);
      const order = names.map(Number).sort((a, b) => a - b);
      if (!order.every((n, i) => n === i)) throw new FormatError(`${h5.source}: ${vars} holds ${names.join(', ')}; expected variables 0, 1, …`);
      for (const i of order) {
        const { shape, dtype, data } = h5.floats(`${vars}/${i}`);
        arrays.push({ name: `${vars}/${i}`, dtype, shape, data });
      }
    }
  }
  return arrays;
}

function hdf5Weights(h5: Hdf5Reader, modelJson: unknown | undefined, modelSource: string): NpyArray[] {
  if (h5.kind('model_weights') === 'group') return legacyWeights(h5, 'model_weights');
  const attrs = h5.attributes('');
  if ('layer_names' in attrs || 'layer_names0' in attrs) return legacyWeights(h5, '');
  if (['layers', '_layer_checkpoint_dependencies'].some((g) => h5.kind(g) === 'group')) {
    if (modelJson === undefined) {
      throw new FormatError(
        `${h5.source}: Keras 3 weights, which are laid out by the model's layers; give the model too (its .keras file or model.to_json())`,
      );
    }
    return keras3Weights(h5, modelJson, modelSource);
  }
  throw new FormatError(`${h5.source}: an HDF5 file without Keras weights (no model_weights or layers group, no layer_names attribute)`);
}

// ------------------------------------------------------------ the files

/** One file: what it holds of a model. */
interface KerasFile {
  /** The model's JSON; throws when the file has none. */
  modelJson(): unknown;
  /** The weights in get_weights() order; the model's JSON places a Keras 3 file's. */
  weights(modelJson: unknown | undefined, modelSource: string): NpyArray[];
  /** Where the weights are, for messages. */
  weightsSource: string;
  weightsHint: string;
  /** The file holds the weights along with the model (.keras, .h5). */
  complete: boolean;
}

function archiveFile(bytes: Uint8Array, source: string, names: string[]): KerasFile {
  const wanted = new Set(['config.json', 'model.weights.h5']);
  let entries: Map<string, Uint8Array> | null = null;
  const entry = (name: string): Uint8Array | undefined => {
    entries ??= new Map(unzipEntries(bytes, source, { only: (n) => wanted.has(n) }));
    return entries.get(name);
  };
  const weightsSource = `${source}: model.weights.h5`;
  return {
    weightsSource,
    weightsHint: SAVE_HINT,
    complete: true,
    modelJson() {
      const config = entry('config.json');
      if (!config) throw new FormatError(`${source}: a .keras archive without config.json`);
      return parseJson(new TextDecoder().decode(config), `${source}: config.json`);
    },
    weights(modelJson, modelSource) {
      const h5 = entry('model.weights.h5');
      if (!h5) {
        if (names.includes('model.weights.npz')) {
          throw new FormatError(
            `${source}: its weights are model.weights.npz (weights_format="npz"), NumPy object arrays that need pickle, which lstmkit does not run; ` +
            'save with the default weights_format="h5"',
          );
        }
        if (names.includes('model.weights.json')) {
          throw new FormatError(`${source}: its weights are sharded (model.weights.json and shards); save the model without max_shard_size`);
        }
        throw new FormatError(`${source}: a .keras archive without model.weights.h5`);
      }
      const reader = Hdf5Reader.open(h5, weightsSource);
      return hdf5Weights(reader, modelJson ?? this.modelJson(), modelJson === undefined ? source : modelSource);
    },
  };
}

function hdf5File(bytes: Uint8Array, source: string): KerasFile {
  const h5 = Hdf5Reader.open(bytes, source);
  return {
    weightsSource: source,
    weightsHint: SAVE_HINT,
    complete: true,
    modelJson() {
      const config = h5.attributes('').model_config;
      if (config === undefined) {
        throw new FormatError(
          `${source}: an HDF5 file without model_config, so weights only (model.save_weights); ` +
          `give the model too: lstmkit import keras model.json ${source}`,
        );
      }
      const text = Array.isArray(config) && config.length === 1 ? config[0] : config;
      if (typeof text !== 'string') throw new FormatError(`${source}: the attribute model_config is not a JSON string`);
      return parseJson(text, `${source}: model_config`);
    },
    weights(modelJson, modelSource) {
      return hdf5Weights(h5, modelJson, modelSource);
    },
  };
}

function jsonFile(bytes: Uint8Array, source: string): KerasFile {
  return {
    weightsSource: source,
    weightsHint: NPZ_HINT,
    complete: false,
    modelJson: () => parseJson(new TextDecoder().decode(bytes), source),
    weights() {
      throw new FormatError(`${source}: not a weights file (an .npz, .h5 or .keras file)`);
    },
  };
}

function npzFile(bytes: Uint8Array, source: string): KerasFile {
  return {
    weightsSource: source,
    weightsHint: NPZ_HINT,
    complete: false,
    modelJson() {
      throw new FormatError(`${source}: an .npz of weights, not a model; give the model (model.to_json() or a .keras file) first`);
    },
    weights: () => decodeNpz(bytes, source),
  };
}

/** What a file is, by its first bytes: a zip (.keras or .npz), HDF5 (.h5) or text (JSON). */
function openKerasFile(bytes: Uint8Array, source: string): KerasFile {
  if (isHdf5(bytes)) return hdf5File(bytes, source);
  if (isZip(bytes)) {
    const names = zipEntryNames(bytes, source);
    const keras = names.some((n) => n === 'config.json' || n.startsWith('model.weights.'));
    return keras ? archiveFile(bytes, source, names) : npzFile(bytes, source);
  }
  return jsonFile(bytes, source);
}

/** The model's JSON from model.to_json() output, a .keras archive's config.json, or a legacy .h5 file's model_config. */
export function readKerasModelJson(bytes: Uint8Array, source = '<keras model>'): unknown {
  return openKerasFile(bytes, source).modelJson();
}

/**
 * The weights in model.get_weights() order from an .npz, a .keras archive, or
 * an .h5 file (legacy, or Keras 3's save_weights, whose layout needs the
 * model's JSON).
 */
export function readKerasWeights(bytes: Uint8Array, source = '<weights>', modelJson?: unknown, modelSource = '<keras model>'): NpyArray[] {
  return openKerasFile(bytes, source).weights(modelJson, modelSource);
}

/**
 * A model and its weights: one file that holds both (.keras, a legacy .h5),
 * or the model (also model.to_json()) and a weights file (.npz, .h5, .keras).
 */
export function readKerasFiles(model: KerasSource, weights?: KerasSource): KerasFiles {
  const modelFile = openKerasFile(model.bytes, model.source);
  const modelJson = modelFile.modelJson();
  const weightsFile = weights ? openKerasFile(weights.bytes, weights.source) : modelFile;
  if (!weights && !modelFile.complete) {
    throw new FormatError(
      `${model.source}: the architecture alone; give the weights too (lstmkit import keras ${model.source} weights.npz), ` +
      'or a .keras or .h5 file, which holds both',
    );
  }
  return {
    modelJson,
    arrays: weightsFile.weights(modelJson, model.source),
    weightsSource: weightsFile.weightsSource,
    weightsHint: weightsFile.weightsHint,
  };
}
