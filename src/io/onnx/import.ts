// ONNX → lstmkit: reads an ONNX model of recurrent layers (LSTM, GRU or RNN
// operators, forward, reverse or bidirectional, layout 0 or 1, with or
// without sequence_lens) followed by a dense head (MatMul + Add or Gemm), as
// torch.onnx.export writes them, and gives the SequenceModel config and its
// weights under PyTorch's names.
//
// The graph is followed symbolically (./values.ts) from its input to the
// chosen output; only the nodes that output depends on are read. Every
// operator, attribute and input either maps exactly onto the model or is
// refused with a FormatError naming the node — nothing is silently dropped.

import { FormatError } from '../../core/errors.js';
import { parseModelConfig, type ModelConfig } from '../../model/config.js';
import type { ModelOptions } from '../../model/model.js';
import type { SequenceModel } from '../../model/model.js';
import { FORMAT_VERSION, modelFromFile } from '../modelfile.js';
import { CONSTANT_OPS } from './constant-ops.js';
import { HEAD_OPS, identityHead } from './head-ops.js';
import { NodeCtx, type OpEval } from './node.js';
import {
  DataType, dataTypeName, decodeModelProto, decodeTensor,
  type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxValueInfo,
} from './proto.js';
import { RECURRENT_OPS, recurrentWeights } from './recurrent.js';
import { SHAPE_OPS } from './shape-ops.js';
import { ImportState } from './state.js';
import { constantValue, describeAxes, describeRuns, describeValue, width, type Act, type Axis, type Ref, type Run, type Value } from './values.js';

export interface OnnxImportOptions {
  /** The file name, for messages. */
  source?: string;
  /** The graph output to import (default: the first). */
  output?: string;
  /** Import the head as a classifier with these labels (one per output). */
  classes?: string[];
  /** Import the head as a classifier (labels "0", "1", …) even if the graph has no Softmax. */
  classification?: boolean;
  /** Token strings of an embedding input, one per row of the table (index 0 padding, 1 unknown). */
  vocabulary?: string[];
  /** A per-step graph predicts the next step of a stream (output.mode 'next'). */
  next?: boolean;
}

export interface OnnxImport {
  config: ModelConfig;
  /** Parameters under lstmkit's (PyTorch's) names and shapes. */
  weights: Record<string, { shape: number[]; data: Float32Array }>;
  /** Preprocessing an lstmkit export stored in the file's metadata. */
  preprocessing?: unknown;
  /** How the graph input is laid out: [batch, steps, ·] (true) or [steps, batch, ·]. */
  batchFirst: boolean;
  /** What the import did that a user may want to know (ignored outputs, zero directions, …). */
  notes: string[];
}

/** Metadata keys an lstmkit export writes (and the importer reads back). */
export const META_CONFIG = 'lstmkit.config';
export const META_PREPROCESSING = 'lstmkit.preprocessing';

/** Every operator lstmkit follows, by op_type. */
const OPERATORS: ReadonlyMap<string, OpEval> = new Map([...RECURRENT_OPS, ...CONSTANT_OPS, ...SHAPE_OPS, ...HEAD_OPS]);

/** Import an ONNX model (the bytes of a .onnx file). */
export function importOnnx(bytes: Uint8Array, opts: OnnxImportOptions = {}): OnnxImport {
  const source = opts.source ?? '<onnx>';
  const model = decodeModelProto(bytes, source);
  return new Importer(model, source, opts).run();
}

/** Import an ONNX model straight into a SequenceModel. */
export function loadOnnxModel(bytes: Uint8Array, opts: OnnxImportOptions = {}, modelOpts: ModelOptions = {}): { model: SequenceModel; imported: OnnxImport } {
  const imported = importOnnx(bytes, opts);
  const contents = { config: imported.config, weights: imported.weights, formatVersion: FORMAT_VERSION };
  return { model: modelFromFile(contents, modelOpts, opts.source ?? '<onnx>'), imported };
}

class Importer {
  private readonly graph: OnnxGraph;
  private readonly values = new Map<string, Value>();
  private readonly state: ImportState;

  constructor(private readonly model: OnnxModel, source: string, private readonly opts: OnnxImportOptions) {
    // The file's own checks, before there is an ImportState to fail in.
    const fail = (message: string): FormatError => new FormatError(`${source}: ${message}`);
    if (!model.graph) throw fail('the file has no graph (is it an ONNX model?)');
    this.graph = model.graph;
    let opset: number | undefined;
    for (const o of model.opset_import) {
      const domain = o.domain ?? '';
      if (domain === '' || domain === 'ai.onnx') opset = o.version ?? 0;
    }
    if (opset === undefined) throw fail('the model imports no version of the default ONNX operator set (opset_import)');
    if (opset < 7) throw fail(`the model uses ONNX opset ${opset}; lstmkit reads opset 7 or later`);
    this.state = new ImportState(source, opset);
  }

  run(): OnnxImport {
    const g = this.graph;
    if (g.sparse_initializer.length > 0) throw this.state.fail('the graph has sparse initializers, which lstmkit does not read');
    const outputs = g.output.map((o) => o.name ?? '');
    if (outputs.length === 0) throw this.state.fail('the graph has no outputs');
    const outName = this.opts.output ?? outputs[0]!;
    if (!outputs.includes(outName)) throw this.state.fail(`the graph has no output '${outName}'; its outputs are ${outputs.map((o) => `'${o}'`).join(', ')}`);
    // A Softmax of the imported output is its class probabilities (lstmkit's exports write both).
    const probabilities = g.node.find((n) => n.op_type === 'Softmax' && (n.domain ?? '') === '' && n.input[0] === outName && n.output.length === 1 && outputs.includes(n.output[0]!));
    if (probabilities) this.state.softmaxSibling = true;
    const others = outputs.filter((o) => o !== outName && o !== probabilities?.output[0]);
    if (others.length) this.state.notes.push(`imported output '${outName}'; the other graph output${others.length > 1 ? 's' : ''} ${others.map((o) => `'${o}'`).join(', ')} ${others.length > 1 ? 'are' : 'is'} not part of the model`);

    // Which nodes the output depends on.
    const producer = new Map<string, number>();
    const initializers = new Set(g.initializer.map((t) => t.name ?? ''));
    g.node.forEach((n, i) => {
      for (const o of n.output) {
        if (o === '') continue;
        if (producer.has(o) || initializers.has(o)) throw this.state.fail(`${this.nodeName(n, i)} writes '${o}', which is already defined; a value has one producer`);
        producer.set(o, i);
      }
    });
    const needed = new Set<number>();
    const stack = [outName];
    while (stack.length) {
      const v = stack.pop()!;
      const i = producer.get(v);
      if (i === undefined || needed.has(i)) continue;
      needed.add(i);
      for (const input of g.node[i]!.input) if (input !== '') stack.push(input);
    }
    const ignored = g.node.filter((n, i) => !needed.has(i) && n !== probabilities);
    if (ignored.length) {
      const list = ignored.slice(0, 6).map((n) => this.nodeName(n, g.node.indexOf(n))).join(', ');
      this.state.notes.push(`${ignored.length} node${ignored.length > 1 ? 's' : ''} that output '${outName}' does not depend on ${ignored.length > 1 ? 'were' : 'was'} not imported: ${list}${ignored.length > 6 ? ', …' : ''}`);
    }

    for (const i of needed) {
      const n = g.node[i]!;
      const domain = n.domain ?? '';
      if (domain !== '' && domain !== 'ai.onnx') throw this.state.fail(`${this.nodeName(n, i)}: operators of domain '${domain}' are not supported`);
    }
    this.defineInputs(needed, producer);
    g.node.forEach((node, i) => {
      if (needed.has(i)) this.evaluate(node, i);
    });
    const out = this.values.get(outName);
    if (out === undefined) throw this.state.fail(`output '${outName}' is not computed by any node`);
    return this.finish(out, outName);
  }

  private nodeName(n: OnnxNode, i: number): string {
    return `node ${n.name ? `'${n.name}'` : `#${i}`} (${n.op_type ?? '?'})`;
  }

  // ------------------------------------------------------------ graph inputs

  private defineInputs(needed: Set<number>, producer: Map<string, number>): void {
    const g = this.graph;
    for (const t of g.initializer) this.values.set(t.name ?? '', constantValue(decodeTensor(t, `${this.state.source}: initializer '${t.name ?? ''}'`)));
    const inputs = new Map<string, OnnxValueInfo>();
    for (const v of g.input) if (!this.values.has(v.name ?? '')) inputs.set(v.name ?? '', v);

    // The data input is the graph input the recurrent operators' X depends on.
    const data = new Set<string>();
    for (const i of needed) {
      const n = g.node[i]!;
      if (!RECURRENT_OPS.has(n.op_type ?? '') || (n.domain ?? '') !== '') continue;
      const seen = new Set<string>();
      const todo = [n.input[0] ?? ''];
      while (todo.length) {
        const v = todo.pop()!;
        if (v === '' || seen.has(v)) continue;
        seen.add(v);
        if (inputs.has(v)) data.add(v);
        const p = producer.get(v);
        if (p === undefined) continue;
        const pn = g.node[p]!;
        // Through a recurrent operator, the data flows from its X only.
        todo.push(...(RECURRENT_OPS.has(pn.op_type ?? '') ? pn.input.slice(0, 1) : pn.input));
      }
    }
    if (data.size > 1) throw this.state.fail(`the recurrent layers read several graph inputs (${[...data].sort().map((d) => `'${d}'`).join(', ')}); a SequenceModel has one input`);
    for (const [name, info] of inputs) {
      const tt = info.type?.tensor_type;
      const dims = tt?.shape?.dim;
      const elem = tt?.elem_type ?? 0;
      const integer = elem === DataType.INT64 || elem === DataType.INT32;
      if (data.has(name)) {
        const describe = `graph input '${name}' is ${dims ? `${dataTypeName(elem)} of rank ${dims.length}` : 'of unknown shape'}`;
        if (elem === DataType.FLOAT && dims?.length === 3) {
          const features = dims[2]!.dim_value;
          if (features === undefined || features < 1) throw this.state.fail(`graph input '${name}' has no fixed number of features (its last dimension is ${dims[2]!.dim_param ?? 'unknown'})`);
          this.staticSizes(dims);
          this.state.dataInput = { name, tokens: false, features };
          this.values.set(name, { kind: 'act', axes: [{ kind: 'seq', sym: 'in0' }, { kind: 'seq', sym: 'in1' }, { kind: 'F', runs: [{ ref: { what: 'x', layer: -1, dir: 0, time: 'all' }, from: 0, to: features }] }], head: null, softmax: null, embedding: false });
        } else if (integer && dims?.length === 2) {
          this.staticSizes(dims);
          this.state.dataInput = { name, tokens: true, features: 0 };
          this.values.set(name, { kind: 'tokens', input: name, axes: [{ kind: 'seq', sym: 'in0' }, { kind: 'seq', sym: 'in1' }] });
        } else {
          throw this.state.fail(`${describe}; lstmkit reads float32 [batch, steps, features] or integer token ids [batch, steps]`);
        }
      } else if (integer && dims?.length === 1) {
        this.values.set(name, { kind: 'lengths', input: name, float: false, shape: ['B'] });
      } else {
        this.values.set(name, { kind: 'input', name });
      }
    }
  }

  private staticSizes(dims: { dim_value?: number }[]): void {
    dims.slice(0, 2).forEach((d, k) => {
      if (d.dim_value !== undefined && d.dim_value > 0) this.state.sym.size.set(`in${k}`, d.dim_value);
    });
  }

  // --------------------------------------------------------------- nodes

  private evaluate(node: OnnxNode, index: number): void {
    const where = `${this.state.source}: ${this.nodeName(node, index)}`;
    const ctx = new NodeCtx(node, where);
    const domain = node.domain ?? '';
    if (domain !== '' && domain !== 'ai.onnx') throw ctx.fail(`operators of domain '${domain}' are not supported`);
    const ins = node.input.map((name) => {
      if (name === '') return undefined;
      const v = this.values.get(name);
      if (v === undefined) throw ctx.fail(`reads '${name}', which no earlier node, initializer or graph input defines (is the graph topologically sorted?)`);
      return v;
    });
    const op = node.op_type ?? '';
    const evaluate = OPERATORS.get(op);
    if (evaluate === undefined) throw ctx.fail(`operator ${op} is not supported: lstmkit imports LSTM, GRU and RNN layers with a dense head (MatMul/Add or Gemm) and the shape operators around them`);
    const outs = evaluate(this.state, ctx, ins);
    node.output.forEach((name, k) => {
      if (name === '') return;
      const v = outs[k];
      if (v !== undefined) this.values.set(name, v);
    });
  }

  // ----------------------------------------------------------- assembly

  private finish(out: Value, outName: string): OnnxImport {
    const fail = (m: string): never => {
      throw this.state.fail(`output '${outName}' ${m}`);
    };
    if (out.kind !== 'act') fail(out.kind === 'float' || out.kind === 'int' ? 'is a constant: it does not depend on the input' : `is ${describeValue(out)}, not a model output`);
    const result = out as Act;
    if (this.state.ops.length === 0) fail('does not depend on any LSTM, GRU or RNN operator');
    const ops = [...this.state.ops].sort((a, b) => a.layer - b.layer);
    const L = ops.length;
    ops.forEach((o, l) => {
      if (o.layer !== l) fail(`depends on recurrent layers ${ops.map((p) => p.layer).join(', ')}, not a stack 0…${L - 1}`);
    });
    const first = ops[0]!;
    for (const o of ops) {
      if (o.cell !== first.cell) throw this.state.fail(`${o.where} is ${o.cell.toUpperCase()} but ${first.where} is ${first.cell.toUpperCase()}; a SequenceModel stacks one kind of cell`);
      if (o.hidden !== first.hidden) throw this.state.fail(`${o.where} has hidden_size ${o.hidden} but ${first.where} has ${first.hidden}; a SequenceModel's layers share one hidden size`);
      if (o.nonlinearity !== first.nonlinearity) throw this.state.fail(`${o.where} uses ${o.nonlinearity} but ${first.where} uses ${first.nonlinearity}`);
      if (o.lengths !== first.lengths) throw this.state.fail(`${o.where} and ${first.where} differ in sequence_lens (${o.lengths ?? 'none'} vs ${first.lengths ?? 'none'}); give every layer the same lengths or none`);
    }
    const lengths = first.lengths;
    const { cell, hidden: H } = first;
    const bidirectional = ops.some((o) => o.direction !== 'forward');
    const D = bidirectional ? 2 : 1;
    const data = this.state.dataInput!;
    const I = data.tokens ? this.state.embedding?.dim ?? fail('reads token ids without an embedding (Gather from a table)') : data.features;

    // The head and what it reads.
    let act = result;
    if (act.head === null) {
      const ctx = new NodeCtx({ input: [], output: [], attribute: [], op_type: 'output' }, `${this.state.source}: output '${outName}'`);
      act = identityHead(this.state, ctx, act);
      this.state.notes.push(`output '${outName}' is the recurrent features themselves; the model's head is the identity`);
    }
    const head = act.head!;
    const K = head.K;
    const axes = act.axes;
    const role = (a: Axis | undefined): string => (a?.kind === 'seq' ? this.state.sym.role.get(a.sym) ?? '?' : a?.kind ?? '-');
    const shape = axes.map(role).join(',');
    const K_ = result.squeezedK ? '' : ',K';
    let mode: 'sequence' | 'step';
    let batchFirstOut = true;
    if (shape === `B,T${K_}` || shape === `T,B${K_}`) {
      mode = 'step';
      batchFirstOut = shape.startsWith('B');
    } else if (shape === `B${K_}`) mode = 'sequence';
    else return fail(`is ${describeAxes(axes, this.state.sym)}; a SequenceModel outputs [batch, outputs] per sequence or [batch, steps, outputs] per step`);

    // Normalize what the head reads: the forward output at the last step is the forward final state, the backward output at the first step the backward final state (without padding).
    const runs = head.runs.map((r): Run => {
      const ref = r.ref!;
      if (mode === 'sequence' && ref.what === 'Y' && lengths === null && ((ref.dir === 0 && ref.time === 'last') || (ref.dir === 1 && ref.time === 'first'))) {
        return { ...r, ref: { ...ref, what: 'h', time: 'all' } };
      }
      return r;
    });
    const refs = runs.map((r) => r.ref!);
    const lastLayer = (r: Ref): boolean => r.layer === L - 1;
    let pooling: 'last' | 'mean' | undefined;
    const explain = (): string => `the head reads ${describeRuns(runs)}`;
    if (mode === 'step') {
      if (!refs.every((r) => r.what === 'Y' && r.time === 'all' && lastLayer(r))) fail(`is per step, but ${explain()}; a per-step head reads the last layer's output sequence`);
    } else if (refs.every((r) => r.what === 'h' && lastLayer(r))) {
      pooling = 'last';
    } else if (refs.every((r) => r.what === 'Y' && lastLayer(r) && (r.time === 'mean' || r.time === 'meanLen'))) {
      if (lengths !== null && refs.some((r) => r.time === 'mean')) fail('averages the output over all steps, padding included, while the layers read sequence_lens; lstmkit averages over each sequence\'s own steps');
      if (lengths === null && refs.some((r) => r.time === 'meanLen')) fail('divides by sequence lengths the recurrent layers do not use');
      pooling = 'mean';
    } else {
      const hint = refs.some((r) => r.what === 'Y' && (r.time === 'last' || r.time === 'first'))
        ? lengths !== null
          ? ' (with sequence_lens, the last step of the output is padding for shorter sequences; read the final state Y_h instead)'
          : ' (the backward direction\'s output at the last step is its first step, not its final state: read Y_h, or the backward output at step 0)'
        : refs.some((r) => r.what === 'c') ? ' (the cell state cannot feed the head)' : '';
      fail(`cannot be a SequenceModel's output: ${explain()}, but a SequenceModel's head reads the last layer's final states (h_n) or their mean over time${hint}`);
    }

    // Weights under PyTorch's names: the embedding table, the recurrent layers', and the head's, its columns scattered where it reads features in another order (or not at all).
    const weights: OnnxImport['weights'] = {};
    if (this.state.embedding) weights['embedding.weight'] = { shape: [this.state.embedding.rows, this.state.embedding.dim], data: this.state.embedding.table };
    Object.assign(weights, recurrentWeights(this.state, ops, { cell, H, I, D }));
    const F = D * H;
    const read = new Set(runs.flatMap((r) => Array.from({ length: r.to - r.from }, (_, k) => r.ref!.dir * H + r.from + k)));
    if (read.size < F) this.state.notes.push(`the head reads ${read.size} of the ${F} features of the last layer (${describeRuns(runs)}); the others get zero weights`);
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
      if (bad >= 0) throw this.state.fail(`the weights of ${name} hold ${w.data[bad]} (at [${bad}]); a model's weights are finite numbers`);
    }

    // The config: from the graph and the options; an lstmkit export's metadata adds what the graph cannot hold (labels, vocabulary, tokenizer, training settings).
    const softmax = act.softmax ?? (this.state.softmaxSibling ? 'Softmax' : null);
    let classes = this.opts.classes;
    const classification = classes !== undefined || this.opts.classification === true || softmax !== null;
    if (classification) {
      if (K < 2) fail(`has ${K} output; a classifier needs at least 2 classes`);
      classes ??= Array.from({ length: K }, (_, k) => String(k));
      if (classes.length !== K) throw this.state.fail(`${classes.length} class labels given for a head with ${K} outputs`);
      if (act.softmax === 'LogSoftmax') this.state.notes.push('the graph outputs log-probabilities (LogSoftmax); the imported classifier outputs probabilities');
    }
    const next = this.opts.next === true;
    if (next && mode !== 'step') throw this.state.fail('the next-step mode needs a per-step output');
    let input: ModelConfig['input'];
    if (data.tokens) {
      const rows = this.state.embedding!.rows;
      const vocabulary = this.opts.vocabulary ?? ['<pad>', '<unk>', ...Array.from({ length: rows - 2 }, (_, k) => String(k + 2))];
      if (vocabulary.length !== rows) throw this.state.fail(`${vocabulary.length} vocabulary tokens given for an embedding of ${rows} rows`);
      input = { type: 'tokens', embeddingDim: I, vocabulary, tokenizer: 'word' };
    } else input = { type: 'features', size: I };
    if (next && (classification ? !data.tokens || K !== this.state.embedding!.rows : data.tokens || K !== I)) {
      throw this.state.fail(`the next-step mode predicts the input (${data.tokens ? `${this.state.embedding!.rows} tokens` : `${I} features`}), but the head has ${K} outputs`);
    }
    const output: ModelConfig['output'] = { mode: next ? 'next' : mode, type: classification ? 'classification' : 'regression' };
    if (classification) output.classes = classes!;
    else if (!next) output.size = K;
    if (pooling) output.pooling = pooling;
    const rnn: ModelConfig['rnn'] = { cell, hiddenSize: H, numLayers: L, bidirectional };
    if (cell === 'rnn') rnn.nonlinearity = first.nonlinearity;
    let config: ModelConfig;
    try {
      config = parseModelConfig({ input, rnn, output }, `${this.state.source}: imported config`);
    } catch (e) {
      throw new FormatError((e as Error).message);
    }
    const meta = this.metadata();
    let fromMeta = false;
    if (meta.config !== undefined) {
      if (sameArchitecture(meta.config, config)) {
        config = adopt(meta.config, this.opts);
        fromMeta = true;
      } else this.state.notes.push(`the file's lstmkit metadata describes another model than its graph (edited after export?); it was ignored`);
    }
    if (!fromMeta && data.tokens && !this.opts.vocabulary) {
      this.state.notes.push(`the vocabulary is not in the file: tokens are named by their ids ("2" … "${this.state.embedding!.rows - 1}"; 0 is padding, 1 unknown), split on whitespace`);
    }
    if (config.output.type === 'classification' && softmax === null) this.state.notes.push('the graph outputs logits; the imported classifier outputs their softmax (probabilities)');
    if (mode === 'step' && data.batchFirst !== batchFirstOut) this.state.notes.push(`the graph's output is ${batchFirstOut ? 'batch-first' : 'time-major'} while its input is ${data.batchFirst ? 'batch-first' : 'time-major'}`);
    const imported: OnnxImport = { config, weights, batchFirst: data.batchFirst ?? true, notes: this.state.notes };
    if (meta.preprocessing !== undefined) imported.preprocessing = meta.preprocessing;
    return imported;
  }

  private metadata(): { config?: ModelConfig; preprocessing?: unknown } {
    const out: { config?: ModelConfig; preprocessing?: unknown } = {};
    for (const p of this.model.metadata_props) {
      if (p.key !== META_CONFIG && p.key !== META_PREPROCESSING) continue;
      let value: unknown;
      try {
        value = JSON.parse(p.value ?? '');
      } catch {
        throw this.state.fail(`metadata "${p.key}" is not valid JSON`);
      }
      if (p.key === META_CONFIG) {
        try {
          out.config = parseModelConfig(value, `${this.state.source}: metadata "${META_CONFIG}"`);
        } catch (e) {
          throw new FormatError((e as Error).message);
        }
      } else out.preprocessing = value;
    }
    return out;
  }
}

/** Whether a config (from an lstmkit export's metadata) describes the model read from the graph. */
function sameArchitecture(meta: ModelConfig, graph: ModelConfig): boolean {
  const [a, b] = [meta, graph];
  if (a.input.type !== b.input.type) return false;
  if (a.input.type === 'features' && b.input.type === 'features' && a.input.size !== b.input.size) return false;
  if (a.input.type === 'tokens' && b.input.type === 'tokens' && (a.input.embeddingDim !== b.input.embeddingDim || a.input.vocabulary?.length !== b.input.vocabulary?.length)) return false;
  const r = (c: ModelConfig): string => JSON.stringify([c.rnn.cell, c.rnn.hiddenSize, c.rnn.numLayers ?? 1, c.rnn.bidirectional ?? false, c.rnn.projSize ?? 0, c.rnn.cell === 'rnn' ? c.rnn.nonlinearity ?? 'tanh' : '']);
  if (r(a) !== r(b)) return false;
  const outputs = (c: ModelConfig): number => (c.output.type === 'classification' ? c.output.classes?.length ?? 0 : c.output.mode === 'next' ? (c.input.type === 'features' ? c.input.size : 0) : c.output.size ?? 1);
  const mode = a.output.mode === 'next' ? 'step' : a.output.mode;
  return mode === b.output.mode && outputs(a) === outputs(b)
    && (a.output.type === b.output.type || (a.output.type === 'classification') !== (b.output.type === 'classification'))
    && (a.output.mode !== 'sequence' || (a.output.pooling ?? 'last') === (b.output.pooling ?? 'last'));
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
