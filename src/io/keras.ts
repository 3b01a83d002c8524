// Keras import: a model's architecture and weights become an lstmkit model
// with the same outputs. The files (read by ./kerasfiles.ts): a .keras archive
// (Keras 3's model.save), a legacy .h5 file (model.save("m.h5")), or the JSON
// of model.to_json() with the weights as an .npz of model.get_weights() (or
// an .h5 of model.save_weights). What the user runs for the last, any Keras:
//
//   open("model.json", "w").write(model.to_json())
//   np.savez("weights.npz", *model.get_weights())
//
// (np.savez("weights.npz", **{w.path: w.numpy() for w in model.weights}) in
// Keras 3 works too, and lets the import check each array's name.)
//
// What maps: [Embedding] → one or more recurrent layers of one kind and size
// (LSTM, GRU with reset_after=True, SimpleRNN; each one Bidirectional with
// merge_mode 'concat', or none) → [GlobalAveragePooling1D] → one Dense head
// (or TimeDistributed(Dense), and an Activation after it), with Dropout
// layers anywhere (identity at inference) and Masking at the input (lstmkit
// runs each sequence at its own length). Anything else is refused with an
// error that names the layer.
//
// The layouts, from Keras's LSTMCell / GRUCell / SimpleRNNCell:
//
//   LSTM       kernel [I, 4H], recurrent_kernel [H, 4H], bias [4H];
//              gate blocks i, f, c, o (PyTorch's i, f, g, o), one bias
//   GRU        kernel [I, 3H], recurrent_kernel [H, 3H], bias [2, 3H] with
//              reset_after=True (row 0 input, row 1 recurrent); blocks z, r, h
//              (PyTorch: r, z, n); h' = z ⊙ h + (1 − z) ⊙ hh, as PyTorch
//   SimpleRNN  kernel [I, H], recurrent_kernel [H, H], bias [H]
//   Dense      kernel [in, out], bias [out]
//   Embedding  embeddings [V, E] (PyTorch's layout)
//
// so each kernel is transposed, gate blocks are reordered, Keras's single
// bias becomes bias_ih with a zero bias_hh, and a missing bias (use_bias=False)
// is zero. unit_forget_bias only initializes, so it does not matter here.

import { FormatError, describeShape } from '../core/errors.js';
import { gateCount } from '../kernels/backend.js';
import type { ModelConfig } from '../model/config.js';
import { SequenceModel, type ModelOptions } from '../model/model.js';
import type { NpyArray } from './npz.js';

type Json = Record<string, unknown>;
type Cell = 'lstm' | 'gru' | 'rnn';

export interface KerasImportOptions {
  /** The architecture file, for messages. */
  source?: string;
  /** The weights file, for messages. */
  weightsSource?: string;
  /** How to write weights that fit, for the message when they do not (default: np.savez of model.get_weights()). */
  weightsHint?: string;
  /** Token strings for the Embedding rows (default: "0", "1", … — the token ids). */
  vocabulary?: string[];
  /**
   * Class labels of a classification head (default: "0", "1", …);
   * with a linear head, makes it a classifier over logits.
   */
  classes?: string[];
  /** A per-step model that predicts the next step (a language model): lstmkit's output mode 'next'. */
  next?: boolean;
  /** How lstmkit splits a string `x` into tokens (input.tokenizer). */
  tokenizer?: 'char' | 'word';
  model?: ModelOptions;
}

export interface ImportedModel {
  model: SequenceModel;
  /** What the import decided that a user should know (defaults filled in, layers skipped). */
  notes: string[];
  /** The Keras head's activation: what Keras's model outputs (values or logits; probabilities; P(class 1)). */
  headActivation: 'linear' | 'softmax' | 'sigmoid';
}

/** One layer of the model, as the JSON gives it. */
export interface KerasLayer {
  className: string;
  name: string;
  config: Json;
}

interface RecurrentLayer {
  layer: KerasLayer;
  /** LSTM, GRU or SimpleRNN (inside Bidirectional, the wrapped class). */
  kerasClass: string;
  stateful: boolean;
  cell: Cell;
  units: number;
  bidirectional: boolean;
  returnSequences: boolean;
  useBias: boolean;
  activation: string;
}

interface HeadLayer {
  layer: KerasLayer;
  units: number;
  activation: 'linear' | 'softmax' | 'sigmoid';
  useBias: boolean;
}

const CLASS_CELL: Record<string, Cell> = { LSTM: 'lstm', GRU: 'gru', SimpleRNN: 'rnn' };
/** For each PyTorch gate block, the Keras block it comes from. */
const GATE_SOURCE: Record<Cell, readonly number[]> = { lstm: [0, 1, 2, 3], gru: [1, 0, 2], rnn: [0] };
/** Layers that are the identity at inference. */
const PASS_THROUGH = new Set(['Dropout', 'SpatialDropout1D', 'GaussianDropout', 'GaussianNoise', 'AlphaDropout', 'ActivityRegularization']);

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(layer: KerasLayer): string {
  return `layer '${layer.name}' (${layer.className})`;
}

/** An activation's name: Keras writes a string, or for some versions a serialized function object. */
function activationName(v: unknown): string {
  if (v === null || v === undefined) return 'linear';
  if (typeof v === 'string') return v;
  if (isObject(v)) {
    if (typeof v.config === 'string') return v.config;
    if (isObject(v.config) && typeof v.config.name === 'string') return v.config.name;
    if (typeof v.class_name === 'string') return v.class_name;
  }
  return JSON.stringify(v);
}

// ------------------------------------------------------------ the layer list

function toLayer(entry: unknown, where: string): KerasLayer {
  if (!isObject(entry) || typeof entry.class_name !== 'string') throw new FormatError(`${where}: a layer entry without class_name`);
  const config = isObject(entry.config) ? entry.config : {};
  const name = typeof config.name === 'string' ? config.name : typeof entry.name === 'string' ? entry.name : entry.class_name;
  return { className: entry.class_name, name, config };
}

/** Layer names a Keras 2 or Keras 3 inbound node refers to. */
function inboundNames(node: unknown): string[] {
  const names: string[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      if (typeof v[0] === 'string' && typeof v[1] === 'number' && typeof v[2] === 'number') names.push(v[0]);
      else v.forEach(visit);
    } else if (isObject(v)) {
      if (v.class_name === '__keras_tensor__' && isObject(v.config) && Array.isArray(v.config.keras_history)) visit(v.config.keras_history);
      else if ('args' in v) visit(v.args); // Keras 3: {args, kwargs}; a mask in kwargs is not an input
    }
  };
  visit(node);
  return names;
}

/** The layers of a Sequential model, or of a Functional one that is a chain, in order. */
export function kerasLayers(json: unknown, source: string): KerasLayer[] {
  if (!isObject(json) || typeof json.class_name !== 'string') {
    throw new FormatError(`${source}: not a Keras model description (expected the JSON of model.to_json(), with "class_name" and "config")`);
  }
  const kind = json.class_name;
  const config = json.config;
  if (kind === 'Sequential') {
    const list = Array.isArray(config) ? config
      : isObject(config) && Array.isArray(config.layers) ? config.layers
      : null;
    if (!list) throw new FormatError(`${source}: a Sequential model without a layer list`);
    return list.map((e, i) => toLayer(e, `${source}: layers[${i}]`));
  }
  if (kind === 'Functional' || kind === 'Model') {
    if (!isObject(config) || !Array.isArray(config.layers)) throw new FormatError(`${source}: a ${kind} model without a layer list`);
    const entries = config.layers;
    const layers = entries.map((e, i) => toLayer(e, `${source}: layers[${i}]`));
    // Only a chain maps: each layer takes the one before it, once.
    entries.forEach((entry, i) => {
      const nodes = isObject(entry) && Array.isArray(entry.inbound_nodes) ? entry.inbound_nodes : [];
      const layer = layers[i]!;
      if (i === 0) {
        if (nodes.length) throw new FormatError(`${source}: ${describe(layer)} is first but has inputs; expected the model to start with its input`);
        return;
      }
      if (nodes.length !== 1) {
        throw new FormatError(`${source}: ${describe(layer)} is called ${nodes.length} times; lstmkit imports a chain of layers, each used once`);
      }
      const inputs = inboundNames(nodes[0]);
      const previous = layers[i - 1]!.name;
      if (inputs.length !== 1 || inputs[0] !== previous) {
        const takes = inputs.length ? inputs.map((n) => `'${n}'`).join(', ') : 'no input';
        throw new FormatError(
          `${source}: ${describe(layer)} takes ${takes}; lstmkit imports a chain where each layer takes the one before it ('${previous}')`,
        );
      }
    });
    return layers;
  }
  throw new FormatError(`${source}: a Keras '${kind}' is not a model lstmkit imports (expected Sequential, or a Functional model that is a chain of layers)`);
}

// ------------------------------------------------------------ the plan

function boolean(layer: KerasLayer, key: string, fallback: boolean): boolean {
  const v = layer.config[key];
  return typeof v === 'boolean' ? v : fallback;
}

function positive(layer: KerasLayer, key: string, source: string): number {
  const v = layer.config[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new FormatError(`${source}: ${describe(layer)} has ${key} ${JSON.stringify(v)}; expected a positive integer`);
  }
  return v;
}

/** Check one recurrent layer (inside Bidirectional or not) and describe it. */
function recurrentOf(layer: KerasLayer, source: string, where = describe(layer)): Omit<RecurrentLayer, 'layer' | 'bidirectional'> {
  const cell = CLASS_CELL[layer.className];
  if (!cell) throw new FormatError(`${source}: ${where} is not a recurrent layer lstmkit maps (LSTM, GRU, SimpleRNN)`);
  const units = positive(layer, 'units', source);
  const activation = activationName(layer.config.activation ?? 'tanh');
  if (cell === 'rnn') {
    if (activation !== 'tanh' && activation !== 'relu') {
      throw new FormatError(`${source}: ${where} has activation '${activation}'; lstmkit's RNN cell is tanh or relu`);
    }
  } else {
    if (activation !== 'tanh') {
      throw new FormatError(`${source}: ${where} has activation '${activation}'; lstmkit's ${layer.className} uses tanh, as PyTorch does`);
    }
    const recurrent = activationName(layer.config.recurrent_activation);
    if (recurrent !== 'sigmoid') {
      throw new FormatError(
        `${source}: ${where} has recurrent_activation '${recurrent}'; lstmkit's gates use the exact sigmoid ` +
        '(Keras 2\'s old default hard_sigmoid is a different function)',
      );
    }
  }
  if (cell === 'gru' && layer.config.reset_after !== true) {
    throw new FormatError(
      `${source}: ${where} has reset_after=False, which applies the reset gate before the recurrent product; ` +
      'lstmkit\'s GRU (PyTorch\'s and cuDNN\'s) applies it after (Keras\'s reset_after=True)',
    );
  }
  if (boolean(layer, 'return_state', false)) {
    throw new FormatError(`${source}: ${where} has return_state=True; lstmkit imports a chain of layers whose outputs feed the next`);
  }
  if (boolean(layer, 'time_major', false)) throw new FormatError(`${source}: ${where} has time_major=True; lstmkit imports batch-major Keras layers`);
  if (layer.config.lora_rank) {
    throw new FormatError(
      `${source}: ${where} has LoRA weights (lora_rank ${JSON.stringify(layer.config.lora_rank)}); merge them into the kernel before exporting`,
    );
  }
  return {
    kerasClass: layer.className, stateful: boolean(layer, 'stateful', false), cell, units,
    returnSequences: boolean(layer, 'return_sequences', false), useBias: boolean(layer, 'use_bias', true), activation,
  };
}

function bidirectionalOf(layer: KerasLayer, source: string): RecurrentLayer {
  const merge = layer.config.merge_mode === undefined ? 'concat' : layer.config.merge_mode;
  if (merge !== 'concat') {
    throw new FormatError(
      `${source}: ${describe(layer)} has merge_mode ${JSON.stringify(merge)}; only 'concat' maps onto a bidirectional layer (PyTorch's and lstmkit's)`,
    );
  }
  const forward = toLayer(layer.config.layer, `${source}: ${describe(layer)}`);
  const f = recurrentOf(forward, source, `${describe(layer)}: its ${forward.className}`);
  if (boolean(forward, 'go_backwards', false)) throw new FormatError(`${source}: ${describe(layer)}: the forward ${forward.className} has go_backwards=True`);
  if (layer.config.backward_layer !== undefined && layer.config.backward_layer !== null) {
    const backward = toLayer(layer.config.backward_layer, `${source}: ${describe(layer)}`);
    const b = recurrentOf(backward, source, `${describe(layer)}: its backward ${backward.className}`);
    const unlike = backward.className !== forward.className || b.units !== f.units || b.useBias !== f.useBias
      || b.activation !== f.activation || b.returnSequences !== f.returnSequences;
    if (unlike) {
      throw new FormatError(
        `${source}: ${describe(layer)} has a backward layer unlike its forward one ` +
        `(${backward.className} ${b.units} units vs ${forward.className} ${f.units}); lstmkit's two directions are the same cell`,
      );
    }
    if (!boolean(backward, 'go_backwards', false)) throw new FormatError(`${source}: ${describe(layer)}: its backward layer does not have go_backwards=True`);
  }
  return { layer, bidirectional: true, ...f };
}

interface Plan {
  embedding: { layer: KerasLayer; vocab: number; dim: number } | null;
  recurrent: RecurrentLayer[];
  pooling: 'last' | 'mean';
  head: HeadLayer;
  /** Input features per step when the JSON says (InputLayer or batch_input_shape). */
  declaredFeatures: number | null;
  notes: string[];
}

function declaredFeatures(layer: KerasLayer): number | null {
  for (const key of ['batch_shape', 'batch_input_shape']) {
    let shape = layer.config[key];
    if (isObject(shape) && Array.isArray(shape.items)) shape = shape.items; // Keras 2 TensorShape
    if (Array.isArray(shape) && shape.length === 3 && typeof shape[2] === 'number') return shape[2];
  }
  return null;
}

function headOf(layer: KerasLayer, source: string): HeadLayer {
  const units = positive(layer, 'units', source);
  const activation = activationName(layer.config.activation);
  if (layer.config.lora_rank) throw new FormatError(`${source}: ${describe(layer)} has LoRA weights; merge them into the kernel before exporting`);
  if (activation !== 'linear' && activation !== 'softmax' && activation !== 'sigmoid') {
    throw new FormatError(
      `${source}: ${describe(layer)} has activation '${activation}'; ` +
      'lstmkit\'s head is one Dense layer that is linear or softmax (or sigmoid with one unit)',
    );
  }
  return { layer, units, activation, useBias: boolean(layer, 'use_bias', true) };
}

function plan(layers: KerasLayer[], source: string): Plan {
  let embedding: Plan['embedding'] = null;
  const recurrent: RecurrentLayer[] = [];
  let pooling: 'last' | 'mean' | null = null;
  let head: HeadLayer | null = null;
  let features: number | null = null;
  const notes: string[] = [];
  for (const layer of layers) {
    const after = head ? `; it follows the head ${describe(head.layer)}, and lstmkit's head is the last layer` : '';
    if (layer.className === 'InputLayer') {
      features = declaredFeatures(layer);
      continue;
    }
    if (PASS_THROUGH.has(layer.className)) continue;
    if (layer.className === 'Masking') {
      if (recurrent.length || embedding) {
        throw new FormatError(`${source}: ${describe(layer)} comes after the first layer; lstmkit takes a Masking layer only at the input`);
      }
      notes.push(
        `${describe(layer)}: lstmkit feeds each sequence at its own length, so padding is never seen; ` +
        'Keras would also skip all-zero steps inside a sequence',
      );
      features = features ?? declaredFeatures(layer);
      continue;
    }
    if (head) {
      if (layer.className === 'Activation' && head.activation === 'linear') {
        head = headOf({ ...head.layer, config: { ...head.layer.config, activation: layer.config.activation } }, source);
        continue;
      }
      throw new FormatError(`${source}: ${describe(layer)} cannot be imported${after}`);
    }
    // Only the first layer declares the model's input shape (Keras 2's batch_input_shape).
    if (!embedding && !recurrent.length) features = features ?? declaredFeatures(layer);
    switch (layer.className) {
      case 'Embedding': {
        if (embedding || recurrent.length) {
          throw new FormatError(
            `${source}: ${describe(layer)} is not the first layer; lstmkit's embedding comes before the recurrent layers`,
          );
        }
        if (layer.config.lora_rank) throw new FormatError(`${source}: ${describe(layer)} has LoRA weights; merge them before exporting`);
        embedding = { layer, vocab: positive(layer, 'input_dim', source), dim: positive(layer, 'output_dim', source) };
        break;
      }
      case 'LSTM':
      case 'GRU':
      case 'SimpleRNN':
      case 'Bidirectional': {
        if (pooling) throw new FormatError(`${source}: ${describe(layer)} comes after pooling; lstmkit's recurrent layers come before the head`);
        let r: RecurrentLayer;
        if (layer.className === 'Bidirectional') r = bidirectionalOf(layer, source);
        else {
          if (boolean(layer, 'go_backwards', false)) {
            throw new FormatError(
              `${source}: ${describe(layer)} has go_backwards=True outside Bidirectional; lstmkit has no backward-only layer`,
            );
          }
          r = { layer, bidirectional: false, ...recurrentOf(layer, source) };
        }
        if (r.stateful) {
          notes.push(`${describe(layer)} is stateful in Keras; lstmkit starts every sequence from a zero state, as Keras does after reset_states()`);
        }
        const first = recurrent[0];
        const previous = recurrent[recurrent.length - 1];
        if (previous && !previous.returnSequences) {
          throw new FormatError(`${source}: ${describe(layer)} follows ${describe(previous.layer)}, which returns only its last step (return_sequences=False)`);
        }
        if (first) {
          const kind = (x: RecurrentLayer): string =>
            `${x.bidirectional ? 'bidirectional ' : ''}${x.kerasClass} of ${x.units} units${x.cell === 'rnn' ? ` (${x.activation})` : ''}`;
          const unlike = first.cell !== r.cell || first.units !== r.units
            || first.bidirectional !== r.bidirectional || first.activation !== r.activation;
          if (unlike) {
            throw new FormatError(
              `${source}: ${describe(layer)} is a ${kind(r)} but ${describe(first.layer)} is a ${kind(first)}; ` +
              'lstmkit\'s recurrent stack is one cell type and size throughout',
            );
          }
          if (first.useBias !== r.useBias) notes.push(`${describe(layer)} and ${describe(first.layer)} differ in use_bias; the missing biases are zero`);
        }
        recurrent.push(r);
        break;
      }
      case 'GlobalAveragePooling1D': {
        const last = recurrent[recurrent.length - 1];
        if (!last || !last.returnSequences || pooling) {
          throw new FormatError(`${source}: ${describe(layer)} must follow a recurrent layer with return_sequences=True`);
        }
        if ((layer.config.data_format ?? 'channels_last') !== 'channels_last') {
          const format = JSON.stringify(layer.config.data_format);
          throw new FormatError(`${source}: ${describe(layer)} has data_format ${format}; expected channels_last`);
        }
        if (layer.config.keepdims === true) throw new FormatError(`${source}: ${describe(layer)} has keepdims=True`);
        pooling = 'mean';
        break;
      }
      case 'Dense':
      case 'TimeDistributed': {
        const last = recurrent[recurrent.length - 1];
        if (!last) throw new FormatError(`${source}: ${describe(layer)} comes before any recurrent layer; lstmkit's head follows the recurrent stack`);
        let dense = layer;
        if (layer.className === 'TimeDistributed') {
          dense = toLayer(layer.config.layer, `${source}: ${describe(layer)}`);
          if (dense.className !== 'Dense') {
            throw new FormatError(`${source}: ${describe(layer)} wraps a ${dense.className}; lstmkit maps TimeDistributed(Dense) only`);
          }
          if (!last.returnSequences || pooling) {
            throw new FormatError(
              `${source}: ${describe(layer)} needs a sequence: the layer before it returns one vector per sequence`,
            );
          }
          dense = { ...dense, name: layer.name };
        }
        head = headOf(dense, source);
        break;
      }
      default:
        throw new FormatError(
          `${source}: ${describe(layer)} is not a layer lstmkit maps; ` +
          'it imports [Embedding] → LSTM / GRU / SimpleRNN (or Bidirectional of them) → [GlobalAveragePooling1D] → Dense',
        );
    }
  }
  if (!recurrent.length) throw new FormatError(`${source}: the model has no LSTM, GRU or SimpleRNN layer`);
  if (!head) throw new FormatError(`${source}: the model has no Dense head after its recurrent layers; lstmkit's models end in one`);
  return { embedding, recurrent, pooling: pooling ?? 'last', head, declaredFeatures: features, notes };
}

// ------------------------------------------------------------ weights

/** A weight the plan expects, in the order model.get_weights() lists it. */
interface Expected {
  owner: string;
  weight: 'embeddings' | 'kernel' | 'recurrent_kernel' | 'bias';
  /** null: any size (the input width, learnt from the first kernel). */
  shape: () => (number | null)[];
}

function checkShape(array: NpyArray, e: Expected, source: string): void {
  const want = e.shape();
  const ok = array.shape.length === want.length && want.every((d, i) => d === null || d === array.shape[i]);
  if (!ok) {
    const shown = `[${want.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
    throw new FormatError(`${source}: ${array.name} has shape ${describeShape(array.shape)}, but ${e.owner} ${e.weight} should be ${shown}`);
  }
  // Keras 3 paths and Keras 2 names end in the weight's name: check it when there is one.
  const last = array.name.split('/').pop()!.replace(/:\d+$/, '');
  if (!/^arr_\d+$/.test(array.name) && ['kernel', 'recurrent_kernel', 'bias', 'embeddings'].includes(last) && last !== e.weight) {
    throw new FormatError(
      `${source}: ${array.name} is a ${last}, but ${e.owner} ${e.weight} comes at this place; write the weights in model.get_weights() order`,
    );
  }
  const bad = array.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new FormatError(`${source}: ${array.name} (${e.owner} ${e.weight}) holds ${array.data[bad]} at [${bad}]; a model's weights are finite`);
}

/** Transpose a Keras kernel [rows, G·H] into PyTorch's [G·H, rows] with the gate blocks reordered. */
function transposeGates(kernel: NpyArray, cell: Cell | null, hidden: number): Float32Array {
  const [rows, cols] = kernel.shape as [number, number];
  const order = cell ? GATE_SOURCE[cell] : [0];
  const block = cell ? hidden : cols;
  const out = new Float32Array(rows * cols); // [G·H, rows]
  for (let j = 0; j < cols; j++) {
    const src = order[Math.floor(j / block)]! * block + (j % block);
    for (let i = 0; i < rows; i++) out[j * rows + i] = kernel.data[i * cols + src]!;
  }
  return out;
}

function reorderGates(bias: Float32Array, cell: Cell, hidden: number): Float32Array {
  const order = GATE_SOURCE[cell];
  const out = new Float32Array(bias.length);
  for (let j = 0; j < bias.length; j++) out[j] = bias[order[Math.floor(j / hidden)]! * hidden + (j % hidden)]!;
  return out;
}

// ------------------------------------------------------------ the import

function defaultLabels(count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(i));
}

/**
 * An lstmkit model from a Keras model's JSON and its weights (in
 * model.get_weights() order). Throws a FormatError naming the layer (and
 * the array) for anything that does not map exactly.
 */
export function importKeras(
  modelJson: unknown, arrays: readonly NpyArray[], opts: KerasImportOptions = {},
): ImportedModel {
  const source = opts.source ?? '<keras model>';
  const wsource = opts.weightsSource ?? '<weights>';
  const p = plan(kerasLayers(modelJson, source), source);
  const notes = [...p.notes];
  const first = p.recurrent[0]!;
  const { cell, units: hidden, bidirectional } = first;
  const D = bidirectional ? 2 : 1;
  const G = gateCount(cell);

  // What model.get_weights() holds, in order.
  let inputWidth: number | null = p.embedding ? p.embedding.dim : p.declaredFeatures;
  const expected: Expected[] = [];
  if (p.embedding) {
    const { layer, vocab, dim } = p.embedding;
    expected.push({ owner: describe(layer), weight: 'embeddings', shape: () => [vocab, dim] });
  }
  p.recurrent.forEach((r, k) => {
    for (let d = 0; d < (r.bidirectional ? 2 : 1); d++) {
      const owner = r.bidirectional ? `${describe(r.layer)} ${d === 0 ? 'forward' : 'backward'}` : describe(r.layer);
      expected.push({ owner, weight: 'kernel', shape: () => [k === 0 ? inputWidth : D * hidden, G * hidden] });
      expected.push({ owner, weight: 'recurrent_kernel', shape: () => [hidden, G * hidden] });
      if (r.useBias) expected.push({ owner, weight: 'bias', shape: () => (cell === 'gru' ? [2, G * hidden] : [G * hidden]) });
    }
  });
  expected.push({ owner: describe(p.head.layer), weight: 'kernel', shape: () => [D * hidden, p.head.units] });
  if (p.head.useBias) expected.push({ owner: describe(p.head.layer), weight: 'bias', shape: () => [p.head.units] });

  const arrayList = [...arrays];
  if (arrayList.every((a) => /^arr_\d+$/.test(a.name))) arrayList.sort((a, b) => Number(a.name.slice(4)) - Number(b.name.slice(4)));
  if (arrayList.length !== expected.length) {
    const list = expected.map((e) => `${e.owner} ${e.weight}`).join(', ');
    throw new FormatError(
      `${wsource}: holds ${arrayList.length} arrays, but the model in ${source} has ${expected.length} weights (${list}); ` +
      (opts.weightsHint ?? 'write it with np.savez(path, *model.get_weights()) from the same model'),
    );
  }
  const taken = new Map<Expected, NpyArray>();
  expected.forEach((e, i) => {
    const a = arrayList[i]!;
    checkShape(a, e, wsource);
    if (inputWidth === null && e.weight === 'kernel') inputWidth = a.shape[0]!;
    taken.set(e, a);
  });
  let at = 0;
  const next = (): NpyArray => taken.get(expected[at++]!)!;

  // The config.
  const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
  let input: ModelConfig['input'];
  if (p.embedding) {
    const rows = p.embedding.vocab;
    let vocabulary = opts.vocabulary;
    if (vocabulary && vocabulary.length !== rows) {
      throw new FormatError(
        `${source}: the vocabulary has ${vocabulary.length} tokens, but ${describe(p.embedding.layer)} has input_dim ${rows}`,
      );
    }
    if (!vocabulary) {
      vocabulary = defaultLabels(rows);
      notes.push(`tokens are named by their ids "0" … "${rows - 1}" (give --vocabulary for their strings); an unknown token becomes id 1`);
    }
    if (rows < 2) {
      throw new FormatError(
        `${source}: ${describe(p.embedding.layer)} has input_dim ${rows}; lstmkit's vocabulary has at least padding and unknown`,
      );
    }
    input = { type: 'tokens', embeddingDim: p.embedding.dim, vocabulary };
    if (opts.tokenizer) input.tokenizer = opts.tokenizer;
    const e = next();
    weights['embedding.weight'] = { shape: e.shape, data: e.data };
  } else {
    if (opts.vocabulary) throw new FormatError(`${source}: a vocabulary was given, but the model has no Embedding layer (its input is numbers)`);
    input = { type: 'features', size: inputWidth! };
  }

  const last = p.recurrent[p.recurrent.length - 1]!;
  const perStep = last.returnSequences && p.pooling === 'last';
  if (opts.next && !perStep) {
    throw new FormatError(
      `${source}: next-step prediction needs a per-step model (the last recurrent layer with return_sequences=True and no pooling)`,
    );
  }
  const mode: ModelConfig['output']['mode'] = opts.next ? 'next' : perStep ? 'step' : 'sequence';
  const head = p.head;
  let output: ModelConfig['output'];
  const binary = head.activation === 'sigmoid';
  if (binary && head.units !== 1) {
    throw new FormatError(
      `${source}: ${describe(head.layer)} has ${head.units} sigmoid units (independent yes/no outputs); ` +
      'lstmkit\'s classifier picks one class (softmax, or sigmoid with one unit)',
    );
  }
  const classification = head.activation !== 'linear' || opts.classes !== undefined || (opts.next === true && input.type === 'tokens');
  if (classification) {
    const count = binary ? 2 : head.units;
    let classes = opts.classes ?? (opts.next && input.type === 'tokens' ? input.vocabulary : undefined);
    if (classes && classes.length !== count) {
      const has = binary ? 'one sigmoid unit (2 classes)' : `${head.units} units`;
      throw new FormatError(`${source}: ${classes.length} class labels were given, but ${describe(head.layer)} has ${has}`);
    }
    if (!classes) {
      classes = defaultLabels(count);
      notes.push(`classes are named "0" … "${count - 1}" (give --classes for their labels)`);
    }
    if (head.activation === 'linear') notes.push(`${describe(head.layer)} is linear: its outputs are read as logits of a softmax`);
    if (binary) {
      notes.push(
        `${describe(head.layer)} has one sigmoid unit: lstmkit computes it as a softmax over two classes ` +
        `(σ(z) = softmax([0, z])[1]); class "${classes[1]}" is Keras's 1`,
      );
    }
    output = { mode, type: 'classification', classes };
  } else {
    if (mode === 'next' && head.units !== inputWidth) {
      throw new FormatError(
        `${source}: next-step prediction predicts the input: ${describe(head.layer)} has ${head.units} units, the input ${inputWidth} features`,
      );
    }
    output = { mode, type: 'regression', size: head.units };
  }
  if (mode === 'next' && input.type === 'tokens' && output.type === 'classification' && output.classes!.length !== p.embedding!.vocab) {
    throw new FormatError(
      `${source}: next-token prediction predicts a token: ${describe(head.layer)} has ${head.units} units, the vocabulary ${p.embedding!.vocab} tokens`,
    );
  }
  if (mode === 'sequence') output.pooling = p.pooling;
  const rnn: ModelConfig['rnn'] = { cell, hiddenSize: hidden, numLayers: p.recurrent.length, bidirectional };
  if (cell === 'rnn') rnn.nonlinearity = first.activation as 'tanh' | 'relu';
  const config: ModelConfig = { input, rnn, output };

  // The weights, in lstmkit's (PyTorch's) layout.
  const zerosBias = p.recurrent.some((r) => !r.useBias);
  p.recurrent.forEach((r, k) => {
    for (let d = 0; d < D; d++) {
      const sfx = `_l${k}${d === 1 ? '_reverse' : ''}`;
      const kernel = next();
      const recurrentKernel = next();
      weights[`rnn.weight_ih${sfx}`] = { shape: [G * hidden, kernel.shape[0]!], data: transposeGates(kernel, cell, hidden) };
      weights[`rnn.weight_hh${sfx}`] = { shape: [G * hidden, hidden], data: transposeGates(recurrentKernel, cell, hidden) };
      let bih: Float32Array = new Float32Array(G * hidden);
      let bhh: Float32Array = new Float32Array(G * hidden);
      if (r.useBias) {
        const bias = next();
        if (cell === 'gru') {
          bih = reorderGates(bias.data.subarray(0, G * hidden), cell, hidden);
          bhh = reorderGates(bias.data.subarray(G * hidden), cell, hidden);
        } else bih = reorderGates(bias.data, cell, hidden);
      }
      weights[`rnn.bias_ih${sfx}`] = { shape: [G * hidden], data: bih };
      weights[`rnn.bias_hh${sfx}`] = { shape: [G * hidden], data: bhh };
    }
  });
  if (zerosBias) notes.push('recurrent layers with use_bias=False get zero biases');
  const kernel = next();
  const F = D * hidden;
  const headWeight = transposeGates(kernel, null, head.units); // [units, F]
  const headBias = head.useBias ? next().data : new Float32Array(head.units);
  if (binary) {
    // softmax([0, z]) = [1 − σ(z), σ(z)]: class 0 gets a zero row.
    const w = new Float32Array(2 * F);
    w.set(headWeight, F);
    weights['head.weight'] = { shape: [2, F], data: w };
    weights['head.bias'] = { shape: [2], data: Float32Array.of(0, headBias[0]!) };
  } else {
    weights['head.weight'] = { shape: [head.units, F], data: headWeight };
    weights['head.bias'] = { shape: [head.units], data: Float32Array.from(headBias) };
  }

  let model: SequenceModel;
  try {
    model = new SequenceModel(config, { seed: 0, ...opts.model });
  } catch (e) {
    throw new FormatError(`${source}: the model maps to an lstmkit config that is not valid: ${(e as Error).message}`);
  }
  model.loadStateDict(weights);
  return { model, notes, headActivation: head.activation };
}
