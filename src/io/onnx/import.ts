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

import { FormatError, describeShape } from '../../core/errors.js';
import { parseModelConfig, type ModelConfig } from '../../model/config.js';
import type { ModelOptions } from '../../model/model.js';
import type { SequenceModel } from '../../model/model.js';
import { FORMAT_VERSION, modelFromFile } from '../modelfile.js';
import { NodeCtx } from './node.js';
import { RECURRENT_OPS, recurrentWeights } from './recurrent.js';
import { ImportState } from './state.js';
import {
  DataType, dataTypeName, decodeModelProto, decodeTensor,
  type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxValueInfo,
} from './proto.js';
import {
  concatIndex, gatherIndex, normalizeAxis, resolveReshape, sizeOfShape, slicePositions, sliceIndex, take, takeFloat, transposeIndex,
} from './tensors.js';
import {
  axisSize, constantValue, describeAxes, describeRuns, describeValue, fillRuns, mapRefs, mergeAxes, parseSym, pickRuns, sameDim, shapeText, staticSize, symPlus, tagTime, width,
  type Act, type Axis, type Dim, type Head, type Ref, type Run, type Time, type Value,
} from './values.js';

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

const BIG = 2 ** 31 - 1;

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
    const outs = this.apply(ctx, node.op_type ?? '', ins);
    node.output.forEach((name, k) => {
      if (name === '') return;
      const v = outs[k];
      if (v !== undefined) this.values.set(name, v);
    });
  }

  private apply(ctx: NodeCtx, op: string, ins: (Value | undefined)[]): (Value | undefined)[] {
    switch (op) {
      case 'LSTM':
      case 'GRU':
      case 'RNN':
        return RECURRENT_OPS.get(op)!(this.state, ctx, ins);
      case 'Constant': return [this.constantNode(ctx)];
      case 'Identity':
        ctx.allow();
        return [ctx.input(ins, 0)];
      case 'Dropout': {
        ctx.allow('ratio', 'seed', 'is_test');
        if (ins[2] !== undefined && !(ins[2].kind === 'int' && ins[2].data.every((v) => v === 0))) throw ctx.fail('training_mode must be false (dropout in inference is the identity)');
        if (ctx.node.output[1]) return [ctx.input(ins, 0), { kind: 'input', name: `${ctx.node.output[1]} (a dropout mask)` }];
        return [ctx.input(ins, 0)];
      }
      case 'Cast': return [this.cast(ctx, ctx.input(ins, 0))];
      case 'Shape': return [this.shape(ctx, ctx.input(ins, 0))];
      case 'Gather': return [this.gather(ctx, ctx.input(ins, 0), ctx.input(ins, 1))];
      case 'Unsqueeze': return [this.unsqueeze(ctx, ctx.input(ins, 0), ctx.axes(ins[1], 'axes'))];
      case 'Squeeze': return [this.squeeze(ctx, ctx.input(ins, 0), ins[1] === undefined && ctx.attr('axes') === undefined ? null : ctx.axes(ins[1], 'axes'))];
      case 'Concat': return [this.concat(ctx, ins.filter((v): v is Value => v !== undefined))];
      case 'Slice': return [this.slice(ctx, ins)];
      case 'Transpose': return [this.transpose(ctx, ctx.input(ins, 0))];
      case 'Reshape': return [this.reshape(ctx, ctx.input(ins, 0), ctx.input(ins, 1))];
      case 'Flatten': return [this.flatten(ctx, ctx.input(ins, 0))];
      case 'ConstantOfShape': return [this.constantOfShape(ctx, ctx.input(ins, 0))];
      case 'Expand': return [this.expand(ctx, ctx.input(ins, 0), ctx.input(ins, 1))];
      case 'MatMul': return [this.matmul(ctx, ctx.input(ins, 0), ctx.input(ins, 1))];
      case 'Gemm': return [this.gemm(ctx, ins)];
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div':
        return [this.arithmetic(ctx, op, ctx.input(ins, 0), ctx.input(ins, 1))];
      case 'Softmax':
      case 'LogSoftmax':
        return [this.softmax(ctx, op, ctx.input(ins, 0))];
      case 'ReduceMean':
      case 'ReduceSum':
        return [this.reduce(ctx, op, ctx.input(ins, 0), ins[1])];
      default:
        throw ctx.fail(`operator ${op} is not supported: lstmkit imports LSTM, GRU and RNN layers with a dense head (MatMul/Add or Gemm) and the shape operators around them`);
    }
  }

  // ------------------------------------------------------------ constants

  private constantNode(ctx: NodeCtx): Value {
    const a = ctx.node.attribute;
    if (a.length !== 1) throw ctx.fail(`expected exactly one value attribute, got ${a.length}`);
    const attr = a[0]!;
    switch (attr.name) {
      case 'value': return constantValue(decodeTensor(ctx.tensorAttr(attr), `${ctx.where}: value`));
      case 'value_float': return { kind: 'float', shape: [], data: Float32Array.of(ctx.floatAttr(attr)) };
      case 'value_floats': return { kind: 'float', shape: [attr.floats.length], data: Float32Array.from(attr.floats) };
      case 'value_int': return { kind: 'int', shape: [], data: [ctx.intAttr(attr)] };
      case 'value_ints': return { kind: 'int', shape: [attr.ints.length], data: attr.ints.slice() };
      default: throw ctx.fail(`attribute '${attr.name ?? ''}' is not supported`);
    }
  }

  private cast(ctx: NodeCtx, v: Value): Value {
    ctx.allow('to', 'saturate', 'round_mode');
    const to = ctx.int('to');
    const toFloat = to === DataType.FLOAT || to === DataType.DOUBLE;
    const toInt = to === DataType.INT64 || to === DataType.INT32;
    if (!toFloat && !toInt) throw ctx.fail(`casts to ${dataTypeName(to)}; lstmkit follows casts to FLOAT, DOUBLE, INT32 and INT64 only`);
    switch (v.kind) {
      case 'int':
        if (toInt) return v;
        if (v.data.some((d) => typeof d !== 'number')) throw ctx.fail('casts a symbolic dimension to a float');
        return { kind: 'float', shape: v.shape, data: Float32Array.from(v.data as number[]) };
      case 'float':
        if (toFloat) return v;
        return { kind: 'int', shape: v.shape, data: Array.from(v.data, (x) => Math.trunc(x)) };
      case 'lengths': return { ...v, float: toFloat };
      case 'zeros': return toFloat ? v : ctx.refuse('casts zeros to an integer type');
      case 'act': return toFloat ? v : ctx.refuse('casts an activation to an integer type');
      case 'tokens': return toInt ? v : ctx.refuse('casts the token ids to a float');
      case 'input': throw ctx.fail(`casts graph input '${v.name}', which a SequenceModel has no place for`);
    }
  }

  private shape(ctx: NodeCtx, v: Value): Value {
    ctx.allow('start', 'end');
    let dims: Dim[];
    if (v.kind === 'float' || v.kind === 'int') dims = v.shape;
    else if (v.kind === 'zeros') dims = v.shape;
    else if (v.kind === 'act' || v.kind === 'tokens') dims = v.axes.map(axisSize);
    else if (v.kind === 'lengths') dims = v.shape.map((d) => (d === 'B' ? (this.batchSym() ?? ctx.refuse('takes the shape of the lengths before the batch axis is known')) : d));
    else throw ctx.fail(`takes the shape of graph input '${v.name}', which a SequenceModel has no place for`);
    const start = ctx.int('start', 0);
    const end = ctx.int('end', dims.length);
    const positions = slicePositions(dims.length, start, end, 1, ctx.where);
    return { kind: 'int', shape: [positions.length], data: positions.map((p) => dims[p]!) };
  }

  private batchSym(): string | undefined {
    for (const [s, r] of this.state.sym.role) if (r === 'B') return s;
    return undefined;
  }

  private constantOfShape(ctx: NodeCtx, shapeV: Value): Value {
    ctx.allow('value');
    if (shapeV.kind !== 'int') throw ctx.fail('the shape is not a known integer vector');
    const attr = ctx.attr('value');
    const value = attr === undefined ? null : decodeTensor(ctx.tensorAttr(attr), `${ctx.where}: value`);
    if (value && value.data.length !== 1) throw ctx.fail('value must hold one element');
    const v = value ? value.data[0]! : 0;
    if (v === 0 && (value === null || value.kind === 'float')) return { kind: 'zeros', shape: shapeV.data.slice() };
    const dims = shapeV.data.map((d) => (typeof d === 'number' ? d : ctx.refuse('fills a tensor of symbolic shape with something other than float zeros')));
    const n = sizeOfShape(dims);
    if (n > 2 ** 24) throw ctx.fail(`shape ${describeShape(dims)} is too large`);
    return value!.kind === 'float' ? { kind: 'float', shape: dims, data: new Float32Array(n).fill(v) } : { kind: 'int', shape: dims, data: new Array<number>(n).fill(v) };
  }

  private expand(ctx: NodeCtx, v: Value, shapeV: Value): Value {
    ctx.allow();
    if (shapeV.kind !== 'int') throw ctx.fail('the shape is not a known integer vector');
    const zero = v.kind === 'zeros' || (v.kind === 'float' && v.data.every((x) => x === 0));
    if (!zero) throw ctx.fail('expands something other than zeros; lstmkit follows Expand only for the zero initial states');
    const from = (v as { shape: Dim[] }).shape;
    const to = shapeV.data;
    const rank = Math.max(from.length, to.length);
    const shape: Dim[] = [];
    for (let k = 0; k < rank; k++) {
      const a = from[k - (rank - from.length)] ?? 1;
      const b = to[k - (rank - to.length)] ?? 1;
      shape.push(a === 1 ? b : b === 1 ? a : sameDim(a, b, this.state.sym) ? a : ctx.refuse(`cannot broadcast ${shapeText(from)} to ${shapeText(to)}`));
    }
    return { kind: 'zeros', shape };
  }

  // ---------------------------------------------------------- shape ops

  private gather(ctx: NodeCtx, data: Value, indices: Value): Value {
    ctx.allow('axis');
    const axis = ctx.int('axis', 0);
    if (indices.kind === 'tokens') {
      // An embedding: rows of a constant table picked by the token ids.
      if (data.kind !== 'float' || data.shape.length !== 2) throw ctx.fail('picks token ids from something other than a constant 2-D table');
      if (normalizeAxis(axis, 2, ctx.where) !== 0) throw ctx.fail('an embedding gathers rows (axis 0)');
      if (this.state.embedding) throw ctx.fail('a second embedding of the token ids; a SequenceModel has one');
      const [rows, dim] = data.shape as [number, number];
      if (rows < 2 || dim < 1) throw ctx.fail(`the embedding table ${describeShape(data.shape)} needs at least 2 rows and 1 column`);
      this.state.embedding = { table: data.data, rows, dim };
      return { kind: 'act', axes: [...indices.axes, { kind: 'F', runs: [{ ref: { what: 'x', layer: -1, dir: 0, time: 'all' }, from: 0, to: dim }] }], head: null, softmax: null, embedding: true };
    }
    if (indices.kind !== 'int' || indices.data.some((d) => typeof d !== 'number')) {
      if (indices.kind === 'int' && data.kind === 'act') return this.gatherAct(ctx, data, axis, indices.data, indices.shape);
      throw ctx.fail('the indices are not constant');
    }
    const idx = indices.data as number[];
    if (data.kind === 'int' || data.kind === 'float') {
      const g = gatherIndex(data.shape, axis, idx, indices.shape, ctx.where);
      return data.kind === 'int' ? { kind: 'int', shape: g.shape, data: take(data.data, g.index) } : { kind: 'float', shape: g.shape, data: takeFloat(data.data, g.index) };
    }
    if (data.kind === 'act') return this.gatherAct(ctx, data, axis, idx, indices.shape);
    throw ctx.fail(`gathers from a ${data.kind === 'input' ? `graph input '${data.name}'` : data.kind} value, which lstmkit does not follow`);
  }

  private gatherAct(ctx: NodeCtx, act: Act, axis: number, idx: Dim[], idxShape: number[]): Act {
    ctx.noHead(act);
    const a = normalizeAxis(axis, act.axes.length, ctx.where);
    const ax = act.axes[a]!;
    if (idxShape.length > 1 || (idx.length !== 1 && ax.kind !== 'S' && ax.kind !== 'F')) throw ctx.fail(`gathers ${idx.length} entries along ${describeAxes([ax], this.state.sym)}, which lstmkit does not follow`);
    const scalar = idxShape.length === 0;
    const replace = (axes: Axis[]): Act => ({ ...act, axes: [...act.axes.slice(0, a), ...axes, ...act.axes.slice(a + 1)] });
    if (ax.kind === 'seq') {
      if (this.state.sym.role.get(ax.sym) !== 'T') throw ctx.fail(`selects from the ${this.state.sym.role.get(ax.sym) === 'B' ? 'batch' : 'sequence'} axis, which a SequenceModel cannot express`);
      const time = this.timeIndex(ctx, ax.sym, idx[0]!);
      return tagTime(replace(scalar ? [] : [{ kind: 'one' }]), time, ctx.where);
    }
    const numeric = idx.map((d) => (typeof d === 'number' ? d : ctx.refuse('a symbolic index of a fixed-size axis')));
    if (ax.kind === 'one') {
      if (numeric[0] !== 0 && numeric[0] !== -1) throw ctx.fail(`index ${numeric[0]} of an axis of size 1`);
      return replace(scalar ? [] : [ax]);
    }
    if (ax.kind === 'S') {
      const g = gatherIndex([ax.slots.length], 0, numeric, idxShape, ctx.where);
      const slots = take(ax.slots, g.index);
      if (!scalar) return replace([{ kind: 'S', slots }]);
      // One direction picked: the features of the per-direction axis are now that slot's.
      const slot = slots[0]!;
      return { ...act, axes: act.axes.filter((_, k) => k !== a).map((x) => (x.kind === 'F' ? { kind: 'F', runs: fillRuns(x.runs, slot) } : x)) };
    }
    if (ax.kind === 'F' && !scalar) {
      const g = gatherIndex([width(ax.runs)], 0, numeric, idxShape, ctx.where);
      return replace([{ kind: 'F', runs: pickRuns(ax.runs, Array.from(g.index)) }]);
    }
    throw ctx.fail(`selects a single element of ${describeAxes([ax], this.state.sym)}, which a SequenceModel cannot express`);
  }

  /** Which time step an index of the time axis names: the first, or the last. */
  private timeIndex(ctx: NodeCtx, sym: string, index: Dim): 'first' | 'last' {
    if (typeof index === 'string') {
      const p = parseSym(index);
      if (p.sym === sym && p.offset === -1) return 'last';
      throw ctx.fail(`selects time step ${index}; lstmkit follows the first or the last step only`);
    }
    const T = this.state.sym.size.get(sym);
    if (index === 0) return 'first';
    if (index === -1 || (T !== undefined && index === T - 1)) return 'last';
    throw ctx.fail(`selects time step ${index}; lstmkit follows the first or the last step only`);
  }

  private unsqueeze(ctx: NodeCtx, v: Value, axes: number[]): Value {
    ctx.allow('axes');
    const rankOf = (n: number): number => n + axes.length;
    if (v.kind === 'int' || v.kind === 'float') {
      const shape = this.insertOnes(ctx, v.shape, axes, rankOf(v.shape.length)) as number[];
      return { ...v, shape };
    }
    if (v.kind === 'zeros') return { kind: 'zeros', shape: this.insertOnes(ctx, v.shape, axes, rankOf(v.shape.length)) };
    if (v.kind === 'lengths') return { ...v, shape: this.insertOnes(ctx, v.shape, axes, rankOf(v.shape.length)) as ('B' | 1)[] };
    const act = ctx.activation(v, 'the input');
    ctx.noSoftmax(act);
    const rank = rankOf(act.axes.length);
    const norm = axes.map((x) => normalizeAxis(x, rank, ctx.where)).sort((a, b) => a - b);
    const out = act.axes.slice();
    for (const x of norm) out.splice(x, 0, { kind: 'one' });
    return { ...act, axes: out };
  }

  private insertOnes<T>(ctx: NodeCtx, shape: readonly T[], axes: number[], rank: number): (T | 1)[] {
    const norm = axes.map((x) => normalizeAxis(x, rank, ctx.where)).sort((a, b) => a - b);
    if (new Set(norm).size !== norm.length) throw ctx.fail('repeats an axis');
    const out: (T | 1)[] = shape.slice();
    for (const x of norm) out.splice(x, 0, 1);
    return out;
  }

  private squeeze(ctx: NodeCtx, v: Value, axes: number[] | null): Value {
    ctx.allow('axes');
    if (v.kind === 'int' || v.kind === 'float' || v.kind === 'zeros' || v.kind === 'lengths') {
      const shape = v.shape as Dim[];
      const norm = axes === null ? shape.flatMap((d, k) => (d === 1 ? [k] : [])) : axes.map((x) => normalizeAxis(x, shape.length, ctx.where));
      for (const k of norm) if (shape[k] !== 1) throw ctx.fail(`squeezes axis ${k} of size ${shape[k]}`);
      const kept = shape.filter((_, k) => !norm.includes(k));
      return { ...v, shape: kept } as Value;
    }
    const act = ctx.activation(v, 'the input');
    ctx.noSoftmax(act);
    const norm = axes === null
      ? act.axes.flatMap((a, k) => (a.kind === 'one' || (a.kind === 'S' && a.slots.length === 1) || (a.kind === 'K' && a.size === 1) ? [k] : []))
      : axes.map((x) => normalizeAxis(x, act.axes.length, ctx.where));
    let out = act;
    let squeezedK = false;
    for (const k of norm) {
      const a = act.axes[k]!;
      if (a.kind === 'one') continue;
      if (a.kind === 'S' && a.slots.length === 1) {
        const slot = a.slots[0]!;
        out = { ...out, axes: out.axes.map((x) => (x.kind === 'F' ? { kind: 'F', runs: fillRuns(x.runs, slot) } : x)) };
        continue;
      }
      if (a.kind === 'K' && a.size === 1) {
        squeezedK = true;
        continue;
      }
      throw ctx.fail(`squeezes ${describeAxes([a], this.state.sym)}, which is not of size 1`);
    }
    const axesOut = out.axes.filter((_, k) => !norm.includes(k));
    return squeezedK ? { ...out, axes: axesOut, squeezedK: true } : { ...out, axes: axesOut };
  }

  private concat(ctx: NodeCtx, ins: Value[]): Value {
    ctx.allow('axis');
    const axis = ctx.int('axis');
    if (ins.length === 0) throw ctx.fail('has no inputs');
    if (ins.every((v) => v.kind === 'int')) {
      const vs = ins as Extract<Value, { kind: 'int' }>[];
      const c = concatIndex(vs.map((v) => v.shape), axis, ctx.where);
      return { kind: 'int', shape: c.shape, data: Array.from(c.index, (i, o) => vs[c.part[o]!]!.data[i]!) };
    }
    if (ins.every((v) => v.kind === 'float')) {
      const vs = ins as Extract<Value, { kind: 'float' }>[];
      const c = concatIndex(vs.map((v) => v.shape), axis, ctx.where);
      return { kind: 'float', shape: c.shape, data: Float32Array.from(c.index, (i, o) => vs[c.part[o]!]!.data[i]!) };
    }
    if (ins.every((v) => v.kind === 'zeros' || (v.kind === 'float' && v.data.every((x) => x === 0)))) {
      const shapes = ins.map((v) => (v as { shape: Dim[] }).shape);
      const a = normalizeAxis(axis, shapes[0]!.length, ctx.where);
      const total = shapes.reduce<Dim>((n, s) => (typeof n === 'number' && typeof s[a] === 'number' ? n + (s[a] as number) : ctx.refuse('concatenates zeros along a symbolic axis')), 0);
      return { kind: 'zeros', shape: shapes[0]!.map((d, k) => (k === a ? total : d)) };
    }
    const acts = ins.map((v, k) => ctx.activation(v, `input ${k}`));
    const rank = acts[0]!.axes.length;
    if (acts.some((x) => x.axes.length !== rank)) throw ctx.fail('concatenates activations of different ranks');
    for (const x of acts) ctx.noHead(x);
    const a = normalizeAxis(axis, rank, ctx.where);
    for (let k = 0; k < rank; k++) {
      if (k === a) continue;
      const first = JSON.stringify(acts[0]!.axes[k]);
      if (acts.some((x) => JSON.stringify(x.axes[k]) !== first)) {
        throw ctx.fail(`concatenates ${acts.map((x) => describeAxes(x.axes, this.state.sym)).join(' and ')} whose axis ${k} differs`);
      }
    }
    const along = acts.map((x) => x.axes[a]!);
    let merged: Axis;
    if (along.every((x) => x.kind === 'F')) merged = { kind: 'F', runs: along.flatMap((x) => (x as Extract<Axis, { kind: 'F' }>).runs) };
    else if (along.every((x) => x.kind === 'S')) merged = { kind: 'S', slots: along.flatMap((x) => (x as Extract<Axis, { kind: 'S' }>).slots) };
    else throw ctx.fail(`concatenates along ${describeAxes(along, this.state.sym)}, which a SequenceModel cannot express`);
    return { ...acts[0]!, axes: acts[0]!.axes.map((x, k) => (k === a ? merged : x)), embedding: acts.some((x) => x.embedding) };
  }

  private slice(ctx: NodeCtx, ins: (Value | undefined)[]): Value {
    const data = ctx.input(ins, 0);
    let starts: Dim[];
    let ends: Dim[];
    let axes: number[] | null;
    let steps: number[] | null;
    if (ins.length > 1 || this.state.opset >= 10) {
      ctx.allow();
      const vec = (k: number, what: string): Dim[] | null => {
        const v = ins[k];
        if (v === undefined) return null;
        if (v.kind !== 'int' || v.shape.length !== 1) throw ctx.fail(`${what} is not a constant integer vector`);
        return v.data;
      };
      starts = vec(1, 'starts') ?? ctx.refuse('starts are missing');
      ends = vec(2, 'ends') ?? ctx.refuse('ends are missing');
      axes = vec(3, 'axes')?.map((d) => (typeof d === 'number' ? d : ctx.refuse('symbolic axes'))) ?? null;
      steps = vec(4, 'steps')?.map((d) => (typeof d === 'number' ? d : ctx.refuse('symbolic steps'))) ?? null;
    } else {
      ctx.allow('starts', 'ends', 'axes');
      starts = ctx.ints('starts');
      ends = ctx.ints('ends');
      axes = ctx.attr('axes') ? ctx.ints('axes') : null;
      steps = null;
    }
    const rank = data.kind === 'act' ? data.axes.length : data.kind === 'int' || data.kind === 'float' || data.kind === 'zeros' ? data.shape.length : 0;
    const ax = (axes ?? starts.map((_, k) => k)).map((x) => normalizeAxis(x, rank, ctx.where));
    if (ends.length !== starts.length || ax.length !== starts.length || (steps && steps.length !== starts.length)) throw ctx.fail('starts, ends, axes and steps differ in length');
    if (data.kind === 'int' || data.kind === 'float') {
      const positions: (number[] | undefined)[] = [];
      ax.forEach((a, k) => {
        const s = starts[k]!;
        const e = ends[k]!;
        if (typeof s !== 'number' || typeof e !== 'number') throw ctx.fail('slices a constant with symbolic bounds');
        positions[a] = slicePositions(data.shape[a]!, s, e, steps?.[k] ?? 1, ctx.where);
      });
      const g = sliceIndex(data.shape, positions, ctx.where);
      return data.kind === 'int' ? { kind: 'int', shape: g.shape, data: take(data.data, g.index) } : { kind: 'float', shape: g.shape, data: takeFloat(data.data, g.index) };
    }
    if (data.kind === 'zeros') {
      const shape = data.shape.slice();
      ax.forEach((a, k) => {
        const d = shape[a]!;
        const s = starts[k]!;
        const e = ends[k]!;
        if (typeof d === 'number' && typeof s === 'number' && typeof e === 'number') shape[a] = slicePositions(d, s, e, steps?.[k] ?? 1, ctx.where).length;
        else shape[a] = '?';
      });
      return { kind: 'zeros', shape };
    }
    let act = ctx.activation(data, 'the input');
    ctx.noHead(act);
    ax.forEach((a, k) => {
      if ((steps?.[k] ?? 1) !== 1) throw ctx.fail('slices with a step other than 1');
      act = this.sliceAct(ctx, act, a, starts[k]!, ends[k]!);
    });
    return act;
  }

  private sliceAct(ctx: NodeCtx, act: Act, a: number, start: Dim, end: Dim): Act {
    const ax = act.axes[a]!;
    const replace = (x: Axis): Act => ({ ...act, axes: act.axes.map((y, k) => (k === a ? x : y)) });
    if (ax.kind === 'seq') {
      const bound = (d: Dim): number => {
        if (typeof d === 'number') return d >= BIG ? BIG : d <= -BIG ? -BIG : d;
        const p = parseSym(d);
        if (p.sym !== ax.sym || p.offset > 0) throw ctx.fail(`slices with bound ${d}, which lstmkit does not follow`);
        return p.offset === 0 ? BIG : p.offset;
      };
      const s = bound(start);
      const e = bound(end);
      const n = this.state.sym.size.get(ax.sym);
      const all = (s === 0 || s <= -BIG) && e === BIG;
      if (all || (n !== undefined && slicePositions(n, s, e, 1, ctx.where).length === n)) return act;
      if (this.state.sym.role.get(ax.sym) !== 'T') throw ctx.fail(`slices the ${this.state.sym.role.get(ax.sym) === 'B' ? 'batch' : 'sequence'} axis, which a SequenceModel cannot express`);
      let time: 'first' | 'last' | null = s === -1 && e === BIG ? 'last' : s === 0 && e === 1 ? 'first' : null;
      if (time === null && n !== undefined) {
        const p = slicePositions(n, s, e, 1, ctx.where);
        time = p.length === 1 && p[0] === 0 ? 'first' : p.length === 1 && p[0] === n - 1 ? 'last' : null;
      }
      if (time === null) throw ctx.fail(`slices time steps ${start}:${end}; lstmkit follows the first or the last step only`);
      return tagTime(replace({ kind: 'one' }), time, ctx.where);
    }
    const size = axisSize(ax) as number;
    const s = typeof start === 'number' ? start : ctx.refuse('slices a fixed-size axis with a symbolic bound');
    const e = typeof end === 'number' ? end : ctx.refuse('slices a fixed-size axis with a symbolic bound');
    const p = slicePositions(size, s, e, 1, ctx.where);
    if (p.length === size) return act;
    if (ax.kind === 'S') return replace({ kind: 'S', slots: p.map((i) => ax.slots[i]!) });
    if (ax.kind === 'F') {
      if (p.length === 0) throw ctx.fail('slices away every feature');
      return replace({ kind: 'F', runs: pickRuns(ax.runs, p) });
    }
    throw ctx.fail(`slices ${describeAxes([ax], this.state.sym)}, which a SequenceModel cannot express`);
  }

  private transpose(ctx: NodeCtx, v: Value): Value {
    ctx.allow('perm');
    const rank = v.kind === 'act' || v.kind === 'tokens' ? v.axes.length : v.kind === 'int' || v.kind === 'float' || v.kind === 'zeros' ? v.shape.length : -1;
    if (rank < 0) throw ctx.fail(`transposes a ${v.kind === 'input' ? `graph input '${v.name}'` : v.kind} value, which lstmkit does not follow`);
    const perm = ctx.attr('perm') ? ctx.ints('perm') : Array.from({ length: rank }, (_, k) => rank - 1 - k);
    if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, k) => p !== k)) throw ctx.fail(`perm ${describeShape(perm)} is not a permutation of ${rank} axes`);
    if (v.kind === 'int' || v.kind === 'float') {
      const g = transposeIndex(v.shape, perm, ctx.where);
      return v.kind === 'int' ? { kind: 'int', shape: g.shape, data: take(v.data, g.index) } : { kind: 'float', shape: g.shape, data: takeFloat(v.data, g.index) };
    }
    if (v.kind === 'zeros') return { kind: 'zeros', shape: perm.map((p) => v.shape[p]!) };
    if (v.kind === 'tokens') return { ...v, axes: perm.map((p) => v.axes[p]!) };
    const act = v as Act;
    ctx.noSoftmax(act);
    return { ...act, axes: perm.map((p) => act.axes[p]!) };
  }

  private reshape(ctx: NodeCtx, v: Value, shapeV: Value): Value {
    ctx.allow('allowzero');
    if (shapeV.kind !== 'int' || shapeV.shape.length !== 1) throw ctx.fail('the target shape is not a known integer vector');
    const allowZero = ctx.int('allowzero', 0) === 1;
    const target = shapeV.data;
    if (v.kind === 'int' || v.kind === 'float') {
      const t = target.map((d) => (typeof d === 'number' ? d : ctx.refuse('reshapes a constant to a symbolic shape')));
      return { ...v, shape: resolveReshape(v.shape, t, allowZero, ctx.where) } as Value;
    }
    const act = ctx.activation(v, 'the input');
    ctx.noHead(act);
    if (allowZero && target.includes(0)) throw ctx.fail('reshapes to a zero-size dimension');
    const dims = target.map((d, k) => {
      if (d !== 0) return d;
      const ax = act.axes[k];
      if (!ax) throw ctx.fail(`shape ${shapeText(target)} copies dim ${k} of a rank-${act.axes.length} tensor`);
      return axisSize(ax);
    });
    return { ...act, axes: this.regroup(ctx, act.axes, dims) };
  }

  /** The axes of a reshape: each target dim takes one input axis, merges a direction axis with its features, or adds or drops a unit axis. */
  private regroup(ctx: NodeCtx, axes: readonly Axis[], dims: readonly Dim[]): Axis[] {
    const fail = (): never => ctx.refuse(`reshapes ${describeAxes(axes, this.state.sym)} to ${shapeText(dims)}, which lstmkit does not follow`);
    const unknown = dims.indexOf(-1);
    if (dims.filter((d) => d === -1).length > 1) fail();
    const left = unknown < 0 ? dims.length : unknown;
    const out: Axis[] = [];
    let i = 0;
    const matchFrom = (d: Dim, at: number, step: 1 | -1): [Axis, number] => {
      let k = at;
      if (d === 1) {
        const here = axes[k];
        if (here && here.kind === 'one') return [here, k + step];
        return [{ kind: 'one' }, k];
      }
      while (axes[k]?.kind === 'one') k += step;
      const one = axes[k];
      if (one && this.fits(one, d)) return [one, k + step];
      const pair = step === 1 ? [axes[k], axes[k + 1]] : [axes[k - 1], axes[k]];
      if (pair[0] && pair[1]) {
        const merged = mergeAxes(pair as Axis[]);
        if (merged && this.fits(merged, d)) return [merged, k + 2 * step];
      }
      return fail();
    };
    for (let j = 0; j < left; j++) {
      const [ax, next] = matchFrom(dims[j]!, i, 1);
      out.push(ax);
      i = next;
    }
    if (unknown < 0) {
      if (axes.slice(i).some((a) => a.kind !== 'one')) fail();
      return out;
    }
    const tail: Axis[] = [];
    let r = axes.length - 1;
    for (let j = dims.length - 1; j > unknown; j--) {
      const [ax, next] = matchFrom(dims[j]!, r, -1);
      tail.unshift(ax);
      r = next;
    }
    if (r + 1 < i) fail();
    const middle = mergeAxes(axes.slice(i, r + 1)) ?? fail();
    return [...out, middle, ...tail];
  }

  /** Whether a reshape target dim is this axis: a symbol only its own sequence axis, a number a fixed size (or a sequence axis the graph fixes to it). */
  private fits(axis: Axis, d: Dim): boolean {
    if (typeof d === 'string') return axis.kind === 'seq' && axis.sym === d;
    const size = axisSize(axis);
    return typeof size === 'number' ? size === d : staticSize(size, this.state.sym) === d;
  }

  private flatten(ctx: NodeCtx, v: Value): Value {
    ctx.allow('axis');
    const axis = ctx.int('axis', 1);
    if (v.kind === 'int' || v.kind === 'float') {
      const a = axis < 0 ? axis + v.shape.length : axis;
      return { ...v, shape: [sizeOfShape(v.shape.slice(0, a)), sizeOfShape(v.shape.slice(a))] } as Value;
    }
    const act = ctx.activation(v, 'the input');
    ctx.noHead(act);
    const a = axis < 0 ? axis + act.axes.length : axis;
    if (a < 0 || a > act.axes.length) throw ctx.fail(`axis ${axis} is out of range`);
    const first = mergeAxes(act.axes.slice(0, a));
    const second = mergeAxes(act.axes.slice(a));
    if (!first || !second) throw ctx.fail(`flattens ${describeAxes(act.axes, this.state.sym)} at axis ${axis}, which lstmkit does not follow`);
    return { ...act, axes: [first, second] };
  }

  // ----------------------------------------------------------- the head

  private features(ctx: NodeCtx, act: Act): Run[] {
    const last = act.axes[act.axes.length - 1];
    if (!last || last.kind !== 'F') throw ctx.fail(`its input ${describeAxes(act.axes, this.state.sym)} does not end in a feature axis`);
    if (act.axes.some((a) => a.kind === 'S')) throw ctx.fail(`its input ${describeAxes(act.axes, this.state.sym)} still has a direction axis (merge the directions first)`);
    return last.runs;
  }

  private newHead(ctx: NodeCtx, act: Act, weight: Float32Array, K: number, bias: Float32Array | null): Act {
    if (act.head) throw ctx.fail('a second dense layer; a SequenceModel has one dense head');
    ctx.noSoftmax(act);
    const runs = this.features(ctx, act);
    const head: Head = { weight, bias: bias ?? new Float32Array(K), runs, K };
    return { ...act, axes: [...act.axes.slice(0, -1), { kind: 'K', size: K }], head };
  }

  /** An identity head over the features (for graphs that end at the recurrent features, or add a bias to them). */
  private identityHead(ctx: NodeCtx, act: Act): Act {
    const F = width(this.features(ctx, act));
    const weight = new Float32Array(F * F);
    for (let k = 0; k < F; k++) weight[k * F + k] = 1;
    return this.newHead(ctx, act, weight, F, null);
  }

  private matmul(ctx: NodeCtx, a: Value, b: Value): Value {
    ctx.allow();
    if (a.kind === 'act' && a.head) throw ctx.fail('a second dense layer; a SequenceModel has one dense head');
    if (a.kind !== 'act') throw ctx.fail(a.kind === 'float' && b.kind === 'act' ? 'multiplies a constant by an activation (the weight comes first); lstmkit follows x·W' : 'multiplies values that are not an activation and a constant weight');
    if (b.kind !== 'float' || b.shape.length !== 2) throw ctx.fail(`the weight is not a constant matrix${b.kind === 'float' ? ` (shape ${describeShape(b.shape)})` : ''}`);
    const [F, K] = b.shape as [number, number];
    const runs = this.features(ctx, a);
    if (width(runs) !== F) throw ctx.fail(`multiplies ${width(runs)} features by a ${describeShape(b.shape)} weight`);
    const weight = takeFloat(b.data, transposeIndex(b.shape, [1, 0], ctx.where).index); // [K, F]
    return this.newHead(ctx, a, weight, K, null);
  }

  private gemm(ctx: NodeCtx, ins: (Value | undefined)[]): Value {
    ctx.allow('alpha', 'beta', 'transA', 'transB');
    const a = ctx.input(ins, 0);
    const b = ctx.input(ins, 1);
    const c = ins[2];
    if (ctx.int('transA', 0) !== 0) throw ctx.fail('transA=1 (a transposed activation) is not supported');
    const act = ctx.activation(a, 'A');
    if (act.head) throw ctx.fail('a second dense layer; a SequenceModel has one dense head');
    if (act.axes.length !== 2) throw ctx.fail(`A is ${describeAxes(act.axes, this.state.sym)}; Gemm takes a matrix`);
    if (b.kind !== 'float' || b.shape.length !== 2) throw ctx.fail('B is not a constant matrix');
    const alpha = ctx.float('alpha', 1);
    const beta = ctx.float('beta', 1);
    const transB = ctx.int('transB', 0) === 1;
    const [K, F] = (transB ? b.shape : [b.shape[1]!, b.shape[0]!]) as [number, number];
    const runs = this.features(ctx, act);
    if (width(runs) !== F) throw ctx.fail(`multiplies ${width(runs)} features by a ${describeShape(b.shape)} weight${transB ? ' (transposed)' : ''}`);
    const weight = transB ? Float32Array.from(b.data) : takeFloat(b.data, transposeIndex(b.shape, [1, 0], ctx.where).index);
    if (alpha !== 1) for (let i = 0; i < weight.length; i++) weight[i]! *= alpha;
    let bias: Float32Array | null = null;
    if (c !== undefined) {
      bias = this.biasOf(ctx, c, K, 2);
      if (beta !== 1) for (let i = 0; i < K; i++) bias[i]! *= beta;
    }
    return this.newHead(ctx, act, weight, K, bias);
  }

  /** A constant that broadcasts along the last axis only, as K values. */
  private biasOf(ctx: NodeCtx, v: Value, K: number, rank: number): Float32Array {
    if (v.kind !== 'float') throw ctx.fail(`the bias is not a float constant${v.kind === 'act' ? ' (adds two activations)' : ''}`);
    const s = v.shape;
    const last = s.length ? s[s.length - 1]! : 1;
    if (s.length > rank || s.slice(0, -1).some((d) => d !== 1) || (last !== K && last !== 1)) {
      throw ctx.fail(`the bias of shape ${describeShape(s)} does not broadcast along the ${K} outputs only`);
    }
    return last === K ? Float32Array.from(v.data) : new Float32Array(K).fill(v.data[0]!);
  }

  private arithmetic(ctx: NodeCtx, op: string, a: Value, b: Value): Value {
    ctx.allow();
    if (a.kind === 'int' && b.kind === 'int') return this.intArithmetic(ctx, op, a, b);
    if (op === 'Div' && a.kind === 'act') return this.divide(ctx, a, b);
    if (op === 'Add' || op === 'Sub') {
      const [act, c, sign] = a.kind === 'act' ? [a, b, op === 'Sub' ? -1 : 1] : b.kind === 'act' && op === 'Add' ? [b, a, 1] : [null, null, 0];
      if (act && c) {
        ctx.noSoftmax(act);
        const withHead = act.head ? act : this.identityHead(ctx, act);
        const head = withHead.head!;
        const bias = this.biasOf(ctx, c, head.K, withHead.axes.length);
        return { ...withHead, head: { ...head, bias: head.bias.map((x, k) => x + sign * bias[k]!) } };
      }
    }
    throw ctx.fail(`${op} of ${describeValue(a)} and ${describeValue(b)} is not part of a model lstmkit can express`);
  }

  private intArithmetic(ctx: NodeCtx, op: string, a: Extract<Value, { kind: 'int' }>, b: Extract<Value, { kind: 'int' }>): Value {
    const n = Math.max(a.data.length, b.data.length);
    if ((a.data.length !== n && a.data.length !== 1) || (b.data.length !== n && b.data.length !== 1) || a.shape.length > 1 || b.shape.length > 1) {
      throw ctx.fail('integer arithmetic on tensors that are not scalars or vectors');
    }
    const data = Array.from({ length: n }, (_, i): Dim => {
      const x = a.data[a.data.length === 1 ? 0 : i]!;
      const y = b.data[b.data.length === 1 ? 0 : i]!;
      if (typeof x === 'number' && typeof y === 'number') {
        const r = op === 'Add' ? x + y : op === 'Sub' ? x - y : op === 'Mul' ? x * y : y === 0 ? ctx.refuse('divides by zero') : Math.trunc(x / y);
        if (!Number.isSafeInteger(r)) throw ctx.fail('integer arithmetic out of range');
        return r;
      }
      if (op === 'Add' && typeof y === 'number') return symPlus(x, y, ctx.where);
      if (op === 'Add' && typeof x === 'number') return symPlus(y, x, ctx.where);
      if (op === 'Sub' && typeof y === 'number') return symPlus(x, -y, ctx.where);
      if ((op === 'Mul' || op === 'Div') && y === 1) return x;
      if (op === 'Mul' && x === 1) return y;
      return ctx.refuse(`computes ${op} of symbolic dimensions ${x} and ${y}`);
    });
    return { kind: 'int', shape: a.shape.length >= b.shape.length ? a.shape : b.shape, data };
  }

  /** A sum over time divided by the sequence lengths (or by a fixed number of steps) is the mean. */
  private divide(ctx: NodeCtx, act: Act, by: Value): Value {
    const times = new Set<Time>();
    mapRefs(act, (r) => (times.add(r.time), r));
    if (times.size !== 1 || !times.has('sum') || act.head) throw ctx.fail('divides an activation, which lstmkit follows only to turn a sum over time into a mean');
    if (by.kind === 'lengths') {
      if (!by.float) throw ctx.fail('divides by integer lengths');
      // Broadcast: the lengths' batch axis must meet the activation's batch axis.
      const rank = Math.max(act.axes.length, by.shape.length);
      for (let k = 0; k < rank; k++) {
        const d = by.shape[k - (rank - by.shape.length)];
        const ax = act.axes[k - (rank - act.axes.length)];
        if (d === 'B' && !(ax?.kind === 'seq' && this.state.sym.role.get(ax.sym) === 'B')) throw ctx.fail('the lengths do not line up with the batch axis');
      }
      this.state.sym.hasLengths = true;
      return mapRefs(act, (r) => ({ ...r, time: 'meanLen' }));
    }
    if (by.kind === 'float' && by.data.length === 1) {
      const T = [...this.state.sym.role].find(([, r]) => r === 'T')?.[0];
      const steps = T === undefined ? undefined : this.state.sym.size.get(T);
      if (steps !== undefined && by.data[0] === steps) return mapRefs(act, (r) => ({ ...r, time: 'mean' }));
      throw ctx.fail(`divides a sum over time by ${by.data[0]}, which is not the (fixed) number of steps`);
    }
    throw ctx.fail(`divides a sum over time by ${describeValue(by)}`);
  }

  private softmax(ctx: NodeCtx, op: 'Softmax' | 'LogSoftmax', v: Value): Value {
    ctx.allow('axis');
    const act0 = ctx.activation(v, 'the input');
    ctx.noSoftmax(act0);
    const act = act0.head ? act0 : this.identityHead(ctx, act0);
    const rank = act.axes.length;
    const axis = normalizeAxis(ctx.int('axis', this.state.opset >= 13 ? -1 : 1), rank, ctx.where);
    if (axis !== rank - 1 || act.axes[axis]!.kind !== 'K') throw ctx.fail(`takes the ${op} over axis ${axis} of ${describeAxes(act.axes, this.state.sym)}; lstmkit's classifier takes it over the outputs (the last axis)`);
    return { ...act, softmax: op };
  }

  private reduce(ctx: NodeCtx, op: 'ReduceMean' | 'ReduceSum', v: Value, axesInput: Value | undefined): Value {
    ctx.allow('axes', 'keepdims', 'noop_with_empty_axes');
    const act = ctx.activation(v, 'the input');
    ctx.noHead(act);
    const axes = ctx.axes(axesInput, 'axes').map((a) => normalizeAxis(a, act.axes.length, ctx.where));
    const keep = ctx.int('keepdims', 1) === 1;
    const ax = axes.length === 1 ? act.axes[axes[0]!]! : undefined;
    if (!ax || ax.kind !== 'seq' || this.state.sym.role.get(ax.sym) !== 'T') {
      throw ctx.fail(`${op} over ${axes.length ? describeAxes(axes.map((a) => act.axes[a]!), this.state.sym) : 'every axis'}; lstmkit follows a mean over the time axis only`);
    }
    const a = axes[0]!;
    const reduced: Act = { ...act, axes: keep ? act.axes.map((x, k) => (k === a ? { kind: 'one' } : x)) : act.axes.filter((_, k) => k !== a) };
    return tagTime(reduced, op === 'ReduceMean' ? 'mean' : 'sum', ctx.where);
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
      act = this.identityHead(ctx, act);
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
