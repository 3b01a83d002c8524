// Following an ONNX graph for the importer: it picks the output to import,
// finds the nodes that output depends on (noting the ones it does not), gives
// the initializers and graph inputs their values (the data input, sequence
// lengths, constants), and evaluates the needed nodes in order, each by its
// operator's OpEval: ./recurrent.ts for LSTM, GRU and RNN, ./constant-ops.ts,
// ./shape-ops.ts, ./head-ops.ts and ./lengths-ops.ts for the rest. What it learns on the way
// is in the ImportState it returns with the output's value.

import { FormatError } from '../../core/errors.js';
import { CONSTANT_OPS } from './constant-ops.js';
import { HEAD_OPS } from './head-ops.js';
import { LENGTHS_OPS } from './lengths-ops.js';
import { NodeCtx, type OpEval } from './node.js';
import { DataType, dataTypeName, decodeTensor, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxValueInfo } from './proto.js';
import { RECURRENT_OPS } from './recurrent.js';
import { SHAPE_OPS } from './shape-ops.js';
import { ImportState } from './state.js';
import { constantValue, type Value } from './values.js';

/** Every operator lstmkit follows, by op_type. */
const OPERATORS: ReadonlyMap<string, OpEval> = new Map([...RECURRENT_OPS, ...CONSTANT_OPS, ...SHAPE_OPS, ...HEAD_OPS, ...LENGTHS_OPS]);

/** The graph followed to the output to import. */
export interface FollowedGraph {
  state: ImportState;
  outName: string;
  /** The output's value: for a model, an activation through the head. */
  out: Value;
}

/**
 * Follow `model`'s graph from its input to `output` (default: its first output),
 * evaluating the nodes that output depends on.
 */
export function followGraph(model: OnnxModel, source: string, output: string | undefined): FollowedGraph {
  // The file's own checks, before there is an ImportState to fail in.
  const fail = (message: string): FormatError => new FormatError(`${source}: ${message}`);
  if (!model.graph) throw fail('the file has no graph (is it an ONNX model?)');
  const g = model.graph;
  let opset: number | undefined;
  for (const o of model.opset_import) {
    const domain = o.domain ?? '';
    if (domain === '' || domain === 'ai.onnx') opset = o.version ?? 0;
  }
  if (opset === undefined) throw fail('the model imports no version of the default ONNX operator set (opset_import)');
  if (opset < 7) throw fail(`the model uses ONNX opset ${opset}; lstmkit reads opset 7 or later`);
  const state = new ImportState(source, opset);
  if (g.sparse_initializer.length > 0) throw state.fail('the graph has sparse initializers, which lstmkit does not read');
  const outputs = g.output.map((o) => o.name ?? '');
  if (outputs.length === 0) throw state.fail('the graph has no outputs');
  const outName = output ?? outputs[0]!;
  if (!outputs.includes(outName)) throw state.fail(`the graph has no output '${outName}'; its outputs are ${outputs.map((o) => `'${o}'`).join(', ')}`);
  // A Softmax of the imported output is its class probabilities (lstmkit's exports write both).
  const probabilities = g.node.find((n) => n.op_type === 'Softmax' && (n.domain ?? '') === ''
    && n.input[0] === outName && n.output.length === 1 && outputs.includes(n.output[0]!));
  if (probabilities) state.softmaxSibling = true;
  const others = outputs.filter((o) => o !== outName && o !== probabilities?.output[0]);
  if (others.length) {
    const many = others.length > 1;
    state.notes.push(
      `imported output '${outName}'; the other graph output${many ? 's' : ''} ${others.map((o) => `'${o}'`).join(', ')} ` +
      `${many ? 'are' : 'is'} not part of the model`,
    );
  }

  // Which nodes the output depends on.
  const producer = new Map<string, number>();
  const initializers = new Set(g.initializer.map((t) => t.name ?? ''));
  g.node.forEach((n, i) => {
    for (const o of n.output) {
      if (o === '') continue;
      if (producer.has(o) || initializers.has(o)) throw state.fail(`${nodeName(n, i)} writes '${o}', which is already defined; a value has one producer`);
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
    const list = ignored.slice(0, 6).map((n) => nodeName(n, g.node.indexOf(n))).join(', ');
    const many = ignored.length > 1;
    state.notes.push(
      `${ignored.length} node${many ? 's' : ''} that output '${outName}' does not depend on ${many ? 'were' : 'was'} not imported: ` +
      `${list}${ignored.length > 6 ? ', …' : ''}`,
    );
  }

  for (const i of needed) {
    const n = g.node[i]!;
    const domain = n.domain ?? '';
    if (domain !== '' && domain !== 'ai.onnx') throw state.fail(`${nodeName(n, i)}: operators of domain '${domain}' are not supported`);
  }
  const values = new Map<string, Value>();
  defineInputs(state, g, values, needed, producer);
  g.node.forEach((node, i) => {
    if (needed.has(i)) evaluateNode(state, values, node, i);
  });
  const out = values.get(outName);
  if (out === undefined) throw state.fail(`output '${outName}' is not computed by any node`);
  return { state, outName, out };
}

function nodeName(n: OnnxNode, i: number): string {
  return `node ${n.name ? `'${n.name}'` : `#${i}`} (${n.op_type ?? '?'})`;
}

/**
 * The values of the initializers and the graph inputs;
 * the one input the recurrent layers read is the data (features or token ids).
 */
function defineInputs(
  state: ImportState, g: OnnxGraph, values: Map<string, Value>, needed: Set<number>, producer: Map<string, number>,
): void {
  for (const t of g.initializer) values.set(t.name ?? '', constantValue(decodeTensor(t, `${state.source}: initializer '${t.name ?? ''}'`)));
  const inputs = new Map<string, OnnxValueInfo>();
  for (const v of g.input) if (!values.has(v.name ?? '')) inputs.set(v.name ?? '', v);

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
  if (data.size > 1) {
    const names = [...data].sort().map((d) => `'${d}'`).join(', ');
    throw state.fail(`the recurrent layers read several graph inputs (${names}); a SequenceModel has one input`);
  }
  for (const [name, info] of inputs) {
    const tt = info.type?.tensor_type;
    const dims = tt?.shape?.dim;
    const elem = tt?.elem_type ?? 0;
    const integer = elem === DataType.INT64 || elem === DataType.INT32;
    if (data.has(name)) {
      const describe = `graph input '${name}' is ${dims ? `${dataTypeName(elem)} of rank ${dims.length}` : 'of unknown shape'}`;
      if (elem === DataType.FLOAT && dims?.length === 3) {
        const features = dims[2]!.dim_value;
        if (features === undefined || features < 1) {
          throw state.fail(
            `graph input '${name}' has no fixed number of features (its last dimension is ${dims[2]!.dim_param ?? 'unknown'})`,
          );
        }
        staticSizes(state, dims);
        state.dataInput = { name, tokens: false, features };
        values.set(name, {
          kind: 'act',
          axes: [
            { kind: 'seq', sym: 'in0' }, { kind: 'seq', sym: 'in1' },
            { kind: 'F', runs: [{ ref: { what: 'x', layer: -1, dir: 0, time: 'all' }, from: 0, to: features }] },
          ],
          head: null, softmax: null, embedding: false,
        });
      } else if (integer && dims?.length === 2) {
        staticSizes(state, dims);
        state.dataInput = { name, tokens: true, features: 0 };
        values.set(name, { kind: 'tokens', input: name, axes: [{ kind: 'seq', sym: 'in0' }, { kind: 'seq', sym: 'in1' }] });
      } else {
        throw state.fail(`${describe}; lstmkit reads float32 [batch, steps, features] or integer token ids [batch, steps]`);
      }
    } else if (integer && dims?.length === 1) {
      values.set(name, { kind: 'lengths', input: name, float: false, shape: ['B'] });
    } else {
      values.set(name, { kind: 'input', name });
    }
  }
}

function staticSizes(state: ImportState, dims: { dim_value?: number }[]): void {
  dims.slice(0, 2).forEach((d, k) => {
    if (d.dim_value !== undefined && d.dim_value > 0) state.sym.size.set(`in${k}`, d.dim_value);
  });
}

/** Evaluate one node: read its inputs' values, apply its operator, record its outputs' values. */
function evaluateNode(state: ImportState, values: Map<string, Value>, node: OnnxNode, index: number): void {
  const where = `${state.source}: ${nodeName(node, index)}`;
  const ctx = new NodeCtx(node, where);
  const domain = node.domain ?? '';
  if (domain !== '' && domain !== 'ai.onnx') throw ctx.fail(`operators of domain '${domain}' are not supported`);
  const ins = node.input.map((name) => {
    if (name === '') return undefined;
    const v = values.get(name);
    if (v === undefined) throw ctx.fail(`reads '${name}', which no earlier node, initializer or graph input defines (is the graph topologically sorted?)`);
    return v;
  });
  const op = node.op_type ?? '';
  const evaluate = OPERATORS.get(op);
  if (evaluate === undefined) {
    throw ctx.fail(
      `operator ${op} is not supported: lstmkit imports nn.LSTM, nn.GRU and nn.RNN layers (after an nn.Embedding, perhaps) with one nn.Linear ` +
      'head (MatMul/Add or Gemm), the pooling before it and the shape operators torch.onnx.export writes around them',
    );
  }
  const outs = evaluate(state, ctx, ins);
  node.output.forEach((name, k) => {
    if (name === '') return;
    const v = outs[k];
    if (v !== undefined) values.set(name, v);
  });
}
