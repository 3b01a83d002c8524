// PyTorch import: a state_dict saved as safetensors (by the `safetensors`
// package, or by scripts/torch_to_safetensors.py, which needs only PyTorch)
// and an lstmkit config describing the architecture become an lstmkit model.
//
// lstmkit stores weights as PyTorch does, so nothing is transposed or
// reordered: the tensors are those of a torch module with three attributes,
//
//   embedding  torch.nn.Embedding        embedding.weight [V, E]
//   rnn        torch.nn.LSTM / GRU / RNN  rnn.weight_ih_l{k}[_reverse] [G·H, I], …
//   head       torch.nn.Linear           head.weight [out, in], head.bias [out]
//
// and `rename` maps other module names onto these (fc → head). Every tensor
// must be one the config implies, with its shape; anything else is a
// StateDictError naming the tensor.

import { StateDictError, ValueError, describeShape } from '../core/errors.js';
import { gateCount } from '../kernels/backend.js';
import { parseModelConfig, parseTaggerConfig, type ModelConfig } from '../model/config.js';
import { parameterCountOf, SequenceModel, type ModelOptions } from '../model/model.js';
import { TaggerModel, taggerParameterCount } from '../model/tagger.js';
import type { SafetensorsFile, SafetensorsTensor } from './safetensors.js';

export interface TorchImportOptions {
  /** The weights file, for messages. */
  source?: string;
  /**
   * Module paths to rename before matching, e.g. { lstm: 'rnn', fc: 'head' }
   * or { 'model.encoder': 'rnn' }; '' as the target drops the prefix
   * ({ module: '' } for a DataParallel state_dict).
   */
  rename?: Record<string, string>;
  model?: ModelOptions;
}

export interface ImportedTorchModel {
  model: SequenceModel;
  notes: string[];
}

export interface ImportedTorchTagger {
  model: TaggerModel;
  notes: string[];
}

const MODULES = ['embedding', 'rnn', 'head'] as const;

function renamed(name: string, rename: Record<string, string>): string {
  // The longest matching module path wins.
  const froms = Object.keys(rename).sort((a, b) => b.length - a.length);
  for (const from of froms) {
    if (name.startsWith(`${from}.`)) {
      const to = rename[from]!;
      const rest = name.slice(from.length + 1);
      return to === '' ? rest : `${to}.${rest}`;
    }
  }
  return name;
}

function toFloat32(name: string, t: SafetensorsTensor, source: string): Float32Array {
  if (t.data instanceof Float32Array) return t.data; // F32, and F16 / BF16 widened by the reader
  if (t.data instanceof Float64Array) return Float32Array.from(t.data);
  throw new StateDictError(`${source}: tensor ${name} has dtype ${t.dtype}; expected floating-point weights (F32, F16, BF16 or F64)`);
}

/** What decides a tensor's shape, for the message when it is wrong. */
function shapeHint(name: string, config: ModelConfig): string {
  const { rnn } = config;
  if (name === 'embedding.weight') return '[vocabulary size, input.embeddingDim]';
  const outputs = config.output.type === 'classification' ? 'number of output.classes' : 'output.size';
  if (name === 'head.weight') return `[${outputs}, features of the last recurrent layer]`;
  if (name === 'head.bias') return `[${outputs}]`;
  const g = gateCount(rnn.cell);
  const rows = g === 1 ? 'rnn.hiddenSize' : `${g}·rnn.hiddenSize (rnn.cell '${rnn.cell}')`;
  if (name.includes('weight_ih_l0')) return `[${rows}, ${config.input.type === 'tokens' ? 'input.embeddingDim' : 'input.size'}]`;
  if (name.includes('weight_ih')) return `[${rows}, outputs of the layer below]`;
  if (name.includes('weight_hh')) return `[${rows}, ${rnn.projSize ? 'rnn.projSize' : 'rnn.hiddenSize'}]`;
  if (name.includes('weight_hr')) return '[rnn.projSize, rnn.hiddenSize]';
  if (name.includes('bias_')) return `[${rows}]`;
  return '';
}

/** A guess at which cell made a recurrent weight whose rows do not fit. */
function cellHint(name: string, shape: readonly number[], config: ModelConfig): string {
  if (!name.startsWith('rnn.') || name.includes('weight_hr')) return '';
  const rows = shape[0]!;
  const H = config.rnn.hiddenSize;
  const fits = (['lstm', 'gru', 'rnn'] as const).filter((c) => c !== config.rnn.cell && rows === gateCount(c) * H);
  return fits.length ? `; ${rows} rows are ${gateCount(fits[0]!)}×${H}, as a ${fits[0]!.toUpperCase()} has — is rnn.cell right?` : '';
}

/**
 * Complete the config from the tensors where it leaves things to them: the
 * vocabulary ("0", "1", … by embedding row) and the class labels ("0", "1",
 * … by head row).
 */
function completeFromTensors(
  config: ModelConfig, tensors: Map<string, SafetensorsTensor>, source: string, notes: string[],
): ModelConfig {
  const out: ModelConfig = structuredClone(config);
  const rowsOf = (name: string, what: string): number => {
    const t = tensors.get(name);
    if (!t) {
      const foreign = [...new Set([...tensors.keys()].map((n) => n.split('.')[0]!))].filter((m) => !MODULES.includes(m as (typeof MODULES)[number]));
      const hint = foreign.length ? `; its modules ${foreign.join(', ')} are not lstmkit's: map them with --rename FROM=TO onto embedding, rnn, head` : '';
      throw new StateDictError(`${source}: tensor ${name} is missing (it gives the ${what})${hint}; the state_dict has ${[...tensors.keys()].join(', ')}`);
    }
    if (t.shape.length !== 2) throw new StateDictError(`${source}: tensor ${name} has shape ${describeShape(t.shape)}; expected 2 dimensions`);
    return t.shape[0]!;
  };
  if (out.input.type === 'tokens' && !out.input.vocabulary) {
    const rows = rowsOf('embedding.weight', 'vocabulary size');
    out.input.vocabulary = Array.from({ length: rows }, (_, i) => String(i));
    notes.push(`tokens are named by their ids "0" … "${rows - 1}" (put input.vocabulary in the config for their strings)`);
  }
  if (out.output.type === 'classification' && !out.output.classes) {
    if (out.output.mode === 'next' && out.input.type === 'tokens') out.output.classes = out.input.vocabulary!;
    else {
      const rows = rowsOf('head.weight', 'number of classes');
      out.output.classes = Array.from({ length: rows }, (_, i) => String(i));
      notes.push(`classes are named "0" … "${rows - 1}" (put output.classes in the config for their labels)`);
    }
  }
  return out;
}

/** The file's tensors by their names after renaming; two that become one name are an error. */
function renamedTensors(file: SafetensorsFile, rename: Record<string, string>, source: string): Map<string, SafetensorsTensor> {
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [original, t] of Object.entries(file.tensors)) {
    const name = renamed(original, rename);
    if (tensors.has(name)) throw new StateDictError(`${source}: two tensors become ${name} after renaming (one is ${original})`);
    tensors.set(name, t);
  }
  return tensors;
}

/**
 * An lstmkit model from a PyTorch state_dict (decoded safetensors) and the
 * lstmkit config of its architecture.
 */
export function importTorch(file: SafetensorsFile, config: unknown, opts: TorchImportOptions = {}): ImportedTorchModel {
  const source = opts.source ?? '<state_dict>';
  const notes: string[] = [];
  const tensors = renamedTensors(file, opts.rename ?? {}, source);
  const complete = completeFromTensors(parseModelConfig(config), tensors, source, notes);
  // A config far larger than the file cannot be right; refuse it before it allocates.
  const held = [...tensors.values()].reduce((n, t) => n + t.data.length, 0);
  if (parameterCountOf(complete) > 2 * held + (1 << 22)) {
    throw new StateDictError(`${source}: the config describes ${parameterCountOf(complete).toLocaleString('en-US')} parameter values, ` +
      `the file holds only ${held.toLocaleString('en-US')} — check rnn.hiddenSize, numLayers and bidirectional against the model that was saved`);
  }
  const model = new SequenceModel(complete, { seed: 0, ...opts.model });
  const store = model.parameters();
  const expected = store.names();

  const unknown = [...tensors.keys()].filter((n) => !store.has(n));
  if (unknown.length) {
    const name = unknown[0]!;
    // A module of the state_dict whose tensors all fit one of lstmkit's modules is that module under another name.
    const renames: string[] = [];
    for (const module of new Set(unknown.map((n) => n.split('.')[0]!))) {
      if (MODULES.includes(module as (typeof MODULES)[number])) continue;
      const rests = unknown.filter((n) => n.startsWith(`${module}.`)).map((n) => n.slice(module.length + 1));
      const owner = MODULES.find((m) => rests.every((r) => store.has(`${m}.${r}`)));
      if (owner) renames.push(`--rename ${module}=${owner}`);
    }
    const module = name.split('.')[0]!;
    const hint = renames.length ? `; if those are lstmkit's modules under other names, rename them (${renames.join(' ')})`
      : MODULES.includes(module as (typeof MODULES)[number])
        ? `; the config implies ${expected.filter((n) => n.startsWith(`${module}.`)).join(', ') || `no ${module}`}`
        : `; lstmkit's modules are ${MODULES.join(', ')}`;
    const more = unknown.length > 1
      ? ` (nor ${unknown.length - 1} more: ${unknown.slice(1, 6).join(', ')}${unknown.length > 6 ? ', …' : ''})`
      : '';
    throw new StateDictError(`${source}: tensor ${name} is not part of the model the config describes${more}${hint}`);
  }

  // PyTorch's bias=False: a layer without biases computes exactly what zero biases compute.
  const missing = expected.filter((n) => !tensors.has(n));
  const rnnBiases = expected.filter((n) => n.startsWith('rnn.bias_'));
  const zeroFilled = new Set<string>();
  if (rnnBiases.length && rnnBiases.every((n) => !tensors.has(n))) {
    rnnBiases.forEach((n) => zeroFilled.add(n));
    notes.push('the recurrent layer has no biases (bias=False): they are zero');
  }
  if (!tensors.has('head.bias') && tensors.has('head.weight')) {
    zeroFilled.add('head.bias');
    notes.push('the head has no bias (bias=False): it is zero');
  }
  const stillMissing = missing.filter((n) => !zeroFilled.has(n));
  if (stillMissing.length) {
    const name = stillMissing[0]!;
    const others = stillMissing.length > 1 ? ` (and ${stillMissing.slice(1).join(', ')})` : '';
    throw new StateDictError(
      `${source}: tensor ${name} ${describeShape(store.shape(name))} is missing${others}; the config implies ${expected.join(', ')}`,
    );
  }

  const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const name of expected) {
    const shape = store.shape(name);
    const t = tensors.get(name);
    if (!t) {
      weights[name] = { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
      continue;
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new StateDictError(
        `${source}: tensor ${name} has shape ${describeShape(t.shape)}, but the config implies ${describeShape(shape)} ` +
        `${shapeHint(name, complete)}${cellHint(name, t.shape, complete)}`,
      );
    }
    weights[name] = { shape, data: toFloat32(name, t, source) };
  }
  try {
    model.loadStateDict(weights);
  } catch (e) {
    throw new StateDictError(`${source}: ${(e as Error).message}`);
  }
  return { model, notes };
}

/**
 * A TaggerModel from a PyTorch state_dict and a complete tagger config (vocabularies and classes in it): the
 * state dict is the twin's of test/fixtures/make_tagger_fixtures.py — embedding, char_embedding, char_rnn, rnn,
 * head, crf (pytorch-crf's) — and must hold exactly the tensors the config implies, with their shapes.
 */
export function importTorchTagger(file: SafetensorsFile, config: unknown, opts: TorchImportOptions = {}): ImportedTorchTagger {
  const source = opts.source ?? '<state_dict>';
  const tensors = renamedTensors(file, opts.rename ?? {}, source);
  const parsed = parseTaggerConfig(config);
  const held = [...tensors.values()].reduce((n, t) => n + t.data.length, 0);
  if (taggerParameterCount(parsed) > 2 * held + (1 << 22)) {
    throw new StateDictError(`${source}: the config describes ${taggerParameterCount(parsed).toLocaleString('en-US')} parameter values, ` +
      `the file holds only ${held.toLocaleString('en-US')} — check the config against the model that was saved`);
  }
  const model = new TaggerModel(parsed, { seed: 0, ...opts.model });
  const store = model.parameters();
  const expected = store.names();
  const unknown = [...tensors.keys()].filter((n) => !store.has(n));
  if (unknown.length) {
    throw new StateDictError(`${source}: tensor ${unknown[0]} is not part of the tagger the config describes; it has ${expected.join(', ')}`);
  }
  const missing = expected.filter((n) => !tensors.has(n));
  if (missing.length) {
    const name = missing[0]!;
    throw new StateDictError(`${source}: tensor ${name} ${describeShape(store.shape(name))} is missing; the config implies ${expected.join(', ')}`);
  }
  const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const name of expected) {
    const shape = store.shape(name);
    const t = tensors.get(name)!;
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new StateDictError(`${source}: tensor ${name} has shape ${describeShape(t.shape)}, but the config implies ${describeShape(shape)}`);
    }
    weights[name] = { shape, data: toFloat32(name, t, source) };
  }
  try {
    model.loadStateDict(weights);
  } catch (e) {
    throw new StateDictError(`${source}: ${(e as Error).message}`);
  }
  return { model, notes: [] };
}

/** Parse `from=to` pairs (the CLI's --rename) into a rename map. */
export function parseRenames(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const from = at < 0 ? '' : pair.slice(0, at).replace(/\.$/, '');
    const to = at < 0 ? '' : pair.slice(at + 1).replace(/\.$/, '');
    if (at < 0 || from === '') {
      throw new ValueError(
        `--rename ${JSON.stringify(pair)}: expected FROM=TO, a module path and its lstmkit name (embedding, rnn, head), e.g. fc=head`,
      );
    }
    out[from] = to;
  }
  return out;
}
