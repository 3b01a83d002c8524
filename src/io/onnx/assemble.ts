// The last step of an ONNX import: from the value the graph's output was
// followed to (./graph.ts), the SequenceModel it describes. The recurrent
// layers must form one stack; the head must read what one of lstmkit's
// poolings reads, or the output at every step (./head-reads.ts); the config is
// built from these and the options, and the weights gathered under PyTorch's
// names. An lstmkit export's metadata, when it describes the same model,
// gives the config what the graph cannot hold (labels, vocabulary, tokenizer,
// training settings) and the preprocessing.

import { FormatError } from '../../core/errors.js';
import { parseModelConfig, poolingOf, type ModelConfig } from '../../model/config.js';
import type { FollowedGraph } from './graph.js';
import { identityHead } from './head-ops.js';
import { directionAxisHint, headPooling, torchReads, type Stack } from './head-reads.js';
import type { OnnxImport, OnnxImportOptions } from './import.js';
import { NodeCtx } from './node.js';
import type { OnnxModel } from './proto.js';
import { recurrentWeights } from './recurrent.js';
import type { ImportState } from './state.js';
import { describeAxes, describeValue, width, type Act, type Axis } from './values.js';

/** Metadata keys an lstmkit export writes (and the importer reads back). */
export const META_CONFIG = 'lstmkit.config';
export const META_PREPROCESSING = 'lstmkit.preprocessing';

/**
 * The SequenceModel config and weights the followed graph's output describes,
 * with what the file's lstmkit metadata adds.
 */
export function assembleModel(
  model: OnnxModel, opts: OnnxImportOptions, { state, outName, out }: FollowedGraph,
): OnnxImport {
  const fail = (m: string): never => {
    throw state.fail(`output '${outName}' ${m}`);
  };
  if (out.kind !== 'act') {
    fail(out.kind === 'float' || out.kind === 'int'
      ? 'is a constant: it does not depend on the input'
      : `is ${describeValue(out)}, not a model output`);
  }
  const result = out as Act;
  if (state.ops.length === 0) fail('does not depend on any LSTM, GRU or RNN operator');
  const ops = [...state.ops].sort((a, b) => a.layer - b.layer);
  const L = ops.length;
  ops.forEach((o, l) => {
    if (o.layer !== l) fail(`depends on recurrent layers ${ops.map((p) => p.layer).join(', ')}, not a stack 0…${L - 1}`);
  });
  const first = ops[0]!;
  for (const o of ops) {
    if (o.cell !== first.cell) {
      throw state.fail(
        `${o.where} is ${o.cell.toUpperCase()} but ${first.where} is ${first.cell.toUpperCase()}; a SequenceModel stacks one kind of cell`,
      );
    }
    if (o.hidden !== first.hidden) {
      throw state.fail(
        `${o.where} has hidden_size ${o.hidden} but ${first.where} has ${first.hidden}; a SequenceModel's layers share one hidden size`,
      );
    }
    if (o.nonlinearity !== first.nonlinearity) throw state.fail(`${o.where} uses ${o.nonlinearity} but ${first.where} uses ${first.nonlinearity}`);
    if (o.lengths !== first.lengths) {
      throw state.fail(
        `${o.where} and ${first.where} differ in sequence_lens (${o.lengths ?? 'none'} vs ${first.lengths ?? 'none'}); ` +
        'give every layer the same lengths or none',
      );
    }
  }
  const lengths = first.lengths;
  const { cell, hidden: H } = first;
  const bidirectional = ops.some((o) => o.direction !== 'forward');
  const D = bidirectional ? 2 : 1;
  const data = state.dataInput!;
  const I = data.tokens ? state.embedding?.dim ?? fail('reads token ids without an embedding (Gather from a table)') : data.features;

  // The head and what it reads.
  let act = result;
  if (act.head === null) {
    const ctx = new NodeCtx({ input: [], output: [], attribute: [], op_type: 'output' }, `${state.source}: output '${outName}'`);
    act = identityHead(state, ctx, act);
    state.notes.push(`output '${outName}' is the recurrent features themselves; the model's head is the identity`);
  }
  const head = act.head!;
  const K = head.K;
  const axes = act.axes;
  const role = (a: Axis | undefined): string => (a?.kind === 'seq' ? state.sym.role.get(a.sym) ?? '?' : a?.kind ?? '-');
  const shape = axes.map(role).join(',');
  const K_ = result.squeezedK ? '' : ',K';
  let mode: 'sequence' | 'step';
  let batchFirstOut = true;
  if (shape === `B,T${K_}` || shape === `T,B${K_}`) {
    mode = 'step';
    batchFirstOut = shape.startsWith('B');
  } else if (shape === `B${K_}`) mode = 'sequence';
  else {
    return fail(
      `is ${describeAxes(axes, state.sym)}${directionAxisHint(axes)}; ` +
      'lstmkit\'s model outputs [batch, outputs] per sequence or [batch, steps, outputs] per step',
    );
  }

  // What the head reads, as a pooling (or every step); refused in PyTorch's words otherwise.
  const stack: Stack = { cell, L, D, H, lengths, batchFirst: data.batchFirst ?? true };
  const { pooling, runs } = headPooling(state, stack, mode === 'step', head.runs, (m) => {
    throw state.fail(m);
  });

  // Weights under PyTorch's names: the embedding table, the recurrent layers', and the head's, its columns scattered
  // where it reads features in another order (or not at all).
  const weights: OnnxImport['weights'] = {};
  if (state.embedding) weights['embedding.weight'] = { shape: [state.embedding.rows, state.embedding.dim], data: state.embedding.table };
  Object.assign(weights, recurrentWeights(state, ops, { cell, H, I, D }));
  const F = D * H;
  const read = new Set(runs.flatMap((r) => (
    Array.from({ length: r.to - r.from }, (_, k) => r.ref!.dir * H + r.from + k)
  )));
  if (read.size < F) {
    state.notes.push(`the head reads ${torchReads(head.runs, stack)}: ${read.size} of the ${F} features of the last layer; the others get zero weights`);
  }
  const headWeight = new Float32Array(K * F);
  const Fin = width(runs);
  let c = 0;
  for (const r of runs) {
    for (let pos = r.from; pos < r.to; pos++, c++) {
      const e = r.ref!.dir * H + pos;
      for (let k = 0; k < K; k++) headWeight[k * F + e]! += head.weight[k * Fin + c]!;
    }
  }
  weights['head.weight'] = { shape: [K, F], data: headWeight };
  weights['head.bias'] = { shape: [K], data: Float32Array.from(head.bias) };
  for (const [name, w] of Object.entries(weights)) {
    const bad = w.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw state.fail(`the weights of ${name} hold ${w.data[bad]} (at [${bad}]); a model's weights are finite numbers`);
  }

  // The config: from the graph and the options; an lstmkit export's metadata adds what the graph cannot hold
  // (labels, vocabulary, tokenizer, training settings).
  const softmax = act.softmax ?? (state.softmaxSibling ? 'Softmax' : null);
  let classes = opts.classes;
  const classification = classes !== undefined || opts.classification === true || softmax !== null;
  if (classification) {
    if (K < 2) fail(`has ${K} output; a classifier needs at least 2 classes`);
    classes ??= Array.from({ length: K }, (_, k) => String(k));
    if (classes.length !== K) throw state.fail(`${classes.length} class labels given for a head with ${K} outputs`);
    if (act.softmax === 'LogSoftmax') state.notes.push('the graph outputs log-probabilities (LogSoftmax); the imported classifier outputs probabilities');
  }
  const next = opts.next === true;
  if (next && mode !== 'step') throw state.fail('the next-step mode needs a per-step output');
  let input: ModelConfig['input'];
  if (data.tokens) {
    const rows = state.embedding!.rows;
    const vocabulary = opts.vocabulary ?? ['<pad>', '<unk>', ...Array.from({ length: rows - 2 }, (_, k) => String(k + 2))];
    if (vocabulary.length !== rows) throw state.fail(`${vocabulary.length} vocabulary tokens given for an embedding of ${rows} rows`);
    input = { type: 'tokens', embeddingDim: I, vocabulary, tokenizer: 'word' };
  } else input = { type: 'features', size: I };
  if (next && (classification ? !data.tokens || K !== state.embedding!.rows : data.tokens || K !== I)) {
    const predicted = data.tokens ? `${state.embedding!.rows} tokens` : `${I} features`;
    throw state.fail(`the next-step mode predicts the input (${predicted}), but the head has ${K} outputs`);
  }
  const output: ModelConfig['output'] = { mode: next ? 'next' : mode, type: classification ? 'classification' : 'regression' };
  if (classification) output.classes = classes!;
  else if (!next) output.size = K;
  if (pooling) output.pooling = pooling;
  const rnn: ModelConfig['rnn'] = { cell, hiddenSize: H, numLayers: L, bidirectional };
  if (cell === 'rnn') rnn.nonlinearity = first.nonlinearity;
  let config: ModelConfig;
  try {
    config = parseModelConfig({ input, rnn, output }, `${state.source}: imported config`);
  } catch (e) {
    throw new FormatError((e as Error).message);
  }
  const meta = metadata(model, state);
  let fromMeta = false;
  if (meta.config !== undefined) {
    if (sameArchitecture(meta.config, config)) {
      config = adopt(meta.config, opts);
      fromMeta = true;
    } else state.notes.push(`the file's lstmkit metadata describes another model than its graph (edited after export?); it was ignored`);
  }
  if (!fromMeta && data.tokens && !opts.vocabulary) {
    state.notes.push(
      `the vocabulary is not in the file: tokens are named by their ids ("2" … "${state.embedding!.rows - 1}"; 0 is padding, 1 unknown), ` +
      'split on whitespace',
    );
  }
  if (config.output.type === 'classification' && softmax === null) {
    state.notes.push('the graph outputs logits; the imported classifier outputs their softmax (probabilities)');
  }
  if (mode === 'step' && data.batchFirst !== batchFirstOut) {
    const layout = (batchFirst: boolean | undefined): string => (batchFirst ? 'batch-first' : 'time-major');
    state.notes.push(`the graph's output is ${layout(batchFirstOut)} while its input is ${layout(data.batchFirst)}`);
  }
  const imported: OnnxImport = { config, weights, batchFirst: data.batchFirst ?? true, notes: state.notes };
  if (meta.preprocessing !== undefined) imported.preprocessing = meta.preprocessing;
  return imported;
}

/** The config and preprocessing an lstmkit export stores in the file's metadata. */
function metadata(model: OnnxModel, state: ImportState): { config?: ModelConfig; preprocessing?: unknown } {
  const out: { config?: ModelConfig; preprocessing?: unknown } = {};
  for (const p of model.metadata_props) {
    if (p.key !== META_CONFIG && p.key !== META_PREPROCESSING) continue;
    let value: unknown;
    try {
      value = JSON.parse(p.value ?? '');
    } catch {
      throw state.fail(`metadata "${p.key}" is not valid JSON`);
    }
    if (p.key === META_CONFIG) {
      try {
        out.config = parseModelConfig(value, `${state.source}: metadata "${META_CONFIG}"`);
      } catch (e) {
        throw new FormatError((e as Error).message);
      }
    } else out.preprocessing = value;
  }
  return out;
}

/** Whether a config (from an lstmkit export's metadata) describes the model read from the graph. */
function sameArchitecture(meta: ModelConfig, graph: ModelConfig): boolean {
  const [a, b] = [meta, graph];
  if (a.input.type !== b.input.type) return false;
  if (a.input.type === 'features' && b.input.type === 'features' && a.input.size !== b.input.size) return false;
  if (
    a.input.type === 'tokens' && b.input.type === 'tokens'
    && (a.input.embeddingDim !== b.input.embeddingDim || a.input.vocabulary?.length !== b.input.vocabulary?.length)
  ) return false;
  const r = (c: ModelConfig): string => JSON.stringify([
    c.rnn.cell, c.rnn.hiddenSize, c.rnn.numLayers ?? 1, c.rnn.bidirectional ?? false, c.rnn.projSize ?? 0,
    c.rnn.cell === 'rnn' ? c.rnn.nonlinearity ?? 'tanh' : '',
  ]);
  if (r(a) !== r(b)) return false;
  const outputs = (c: ModelConfig): number => (
    c.output.type === 'classification' ? c.output.classes?.length ?? 0
      : c.output.mode === 'next' ? (c.input.type === 'features' ? c.input.size : 0)
        : c.output.size ?? 1
  );
  const mode = a.output.mode === 'next' ? 'step' : a.output.mode;
  return mode === b.output.mode && outputs(a) === outputs(b)
    && (a.output.type === b.output.type || (a.output.type === 'classification') !== (b.output.type === 'classification'))
    && (a.output.mode !== 'sequence' || poolingOf(a.output) === poolingOf(b.output));
}

/** The metadata's config, with the labels and vocabulary the caller gave. */
function adopt(meta: ModelConfig, opts: OnnxImportOptions): ModelConfig {
  const config = structuredClone(meta);
  if (opts.classes) {
    config.output = { ...config.output, type: 'classification', classes: opts.classes };
    delete config.output.size;
  }
  if (opts.vocabulary && config.input.type === 'tokens') config.input.vocabulary = opts.vocabulary;
  if (opts.next) {
    config.output = { ...config.output, mode: 'next' };
    delete config.output.size;
  }
  return parseModelConfig(config);
}
