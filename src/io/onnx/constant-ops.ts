// The ONNX operators that make constants and shape vectors — Constant, Shape,
// Cast, ConstantOfShape, Expand — and the ones that pass a value through,
// Identity and Dropout (in training mode too: at inference dropout is the
// identity). torch.onnx.export builds the shapes of reshapes and
// the zero initial states with them; the importer computes what they give,
// symbolic dimensions of the input's axes included (./values.ts).

import { describeShape } from '../../core/errors.js';
import type { NodeCtx, OpEval } from './node.js';
import { DataType, dataTypeName, decodeTensor } from './proto.js';
import type { ImportState } from './state.js';
import { sizeOfShape, slicePositions } from './tensors.js';
import { axisSize, constantValue, describeValue, sameDim, shapeText, type Dim, type Value } from './values.js';

/** The operators of constants, shape vectors and pass-throughs, by op_type. */
export const CONSTANT_OPS: ReadonlyMap<string, OpEval> = new Map<string, OpEval>([
  ['Constant', (_, ctx) => [constantNode(ctx)]],
  ['Identity', (_, ctx, ins) => {
    ctx.allow();
    return [ctx.input(ins, 0)];
  }],
  ['Dropout', (state, ctx, ins) => dropout(state, ctx, ins)],
  ['Cast', (_, ctx, ins) => [cast(ctx, ctx.input(ins, 0))]],
  ['Shape', (state, ctx, ins) => [shape(state, ctx, ctx.input(ins, 0))]],
  ['ConstantOfShape', (_, ctx, ins) => [constantOfShape(ctx, ctx.input(ins, 0))]],
  ['Expand', (state, ctx, ins) => [expand(state, ctx, ctx.input(ins, 0), ctx.input(ins, 1))]],
]);

function constantNode(ctx: NodeCtx): Value {
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

/**
 * Dropout in inference is the identity; a mask output, if the graph names one, is nothing a SequenceModel has.
 * torch.onnx.export in training mode (TrainingMode.TRAINING, or PRESERVE of a model not put in eval()) writes
 * nn.Dropout with training_mode = true: a model imported for inference reads it as the identity too, and says so.
 */
function dropout(state: ImportState, ctx: NodeCtx, ins: (Value | undefined)[]): (Value | undefined)[] {
  ctx.allow('ratio', 'seed', 'is_test');
  const mode = ins[2];
  if (mode !== undefined && !(mode.kind === 'int' && mode.data.length === 1 && typeof mode.data[0] === 'number')) {
    throw ctx.fail(`training_mode is ${describeValue(mode)}, not a constant`);
  }
  if (mode !== undefined && mode.data[0] !== 0) {
    state.notes.push(
      `${ctx.where.slice(state.source.length + 2)} is dropout in training mode (the model was exported without model.eval()); ` +
      'it is imported as the identity, which is what dropout is at inference',
    );
  }
  if (ctx.node.output[1]) return [ctx.input(ins, 0), { kind: 'input', name: `${ctx.node.output[1]} (a dropout mask)` }];
  return [ctx.input(ins, 0)];
}

function cast(ctx: NodeCtx, v: Value): Value {
  ctx.allow('to', 'saturate', 'round_mode');
  const to = ctx.int('to');
  // PyTorch casts a mask (~mask) to BOOL before Where.
  if (v.kind === 'mask') return to === DataType.BOOL ? v : ctx.refuse('casts a mask of steps to numbers; lstmkit follows a mask in Where only');
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
    case 'steps': return toInt ? v : ctx.refuse('casts the step indices to a float');
    case 'rows': return toInt ? v : ctx.refuse('casts indices of rows to a float');
    case 'zeros': return toFloat ? v : ctx.refuse('casts zeros to an integer type');
    case 'act': return toFloat ? v : ctx.refuse('casts an activation to an integer type');
    case 'tokens': return toInt ? v : ctx.refuse('casts the token ids to a float');
    case 'input': throw ctx.fail(`casts graph input '${v.name}', which a SequenceModel has no place for`);
  }
}

function shape(state: ImportState, ctx: NodeCtx, v: Value): Value {
  ctx.allow('start', 'end');
  let dims: Dim[];
  if (v.kind === 'float' || v.kind === 'int') dims = v.shape;
  else if (v.kind === 'zeros') dims = v.shape;
  else if (v.kind === 'act' || v.kind === 'tokens') dims = v.axes.map(axisSize);
  else if (v.kind === 'lengths' || v.kind === 'steps' || v.kind === 'mask' || v.kind === 'rows') {
    dims = v.shape.map((d) => (
      d === 'B' ? (batchSym(state) ?? ctx.refuse('takes the shape of the lengths before the batch axis is known'))
        : d === 'T' ? (v.kind === 'steps' ? v.sym : timeSym(state) ?? ctx.refuse('takes the shape of a mask before the time axis is known')) : d
    ));
  }
  else throw ctx.fail(`takes the shape of graph input '${v.name}', which a SequenceModel has no place for`);
  const start = ctx.int('start', 0);
  const end = ctx.int('end', dims.length);
  const positions = slicePositions(dims.length, start, end, 1, ctx.where);
  return { kind: 'int', shape: [positions.length], data: positions.map((p) => dims[p]!) };
}

function batchSym(state: ImportState): string | undefined {
  for (const [s, r] of state.sym.role) if (r === 'B') return s;
  return undefined;
}

function timeSym(state: ImportState): string | undefined {
  for (const [s, r] of state.sym.role) if (r === 'T') return s;
  return undefined;
}

function constantOfShape(ctx: NodeCtx, shapeV: Value): Value {
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
  return value!.kind === 'float'
    ? { kind: 'float', shape: dims, data: new Float32Array(n).fill(v) }
    : { kind: 'int', shape: dims, data: Array.from({ length: n }, () => v) };
}

function expand(state: ImportState, ctx: NodeCtx, v: Value, shapeV: Value): Value {
  ctx.allow();
  if (shapeV.kind !== 'int') throw ctx.fail('the shape is not a known integer vector');
  const zero = v.kind === 'zeros' || (v.kind === 'float' && v.data.every((x) => x === 0));
  if (!zero) throw ctx.fail('expands something other than zeros; lstmkit follows Expand only for the zero initial states');
  const from = (v as { shape: Dim[] }).shape;
  const to = shapeV.data;
  const rank = Math.max(from.length, to.length);
  const shape: Dim[] = [];
  let traced: number | undefined;
  for (let k = 0; k < rank; k++) {
    const a = from[k - (rank - from.length)] ?? 1;
    const b = to[k - (rank - to.length)] ?? 1;
    if (typeof a === 'number' && typeof b === 'string' && !sameDim(a, b, state.sym)) {
      // torch 1.13 exports a packed sequence's zero initial state at the batch size it traced, expanded to the batch
      // axis: onnxruntime runs such a file at that batch size only. Zeros are zeros at any size, as in the model.
      traced = a;
      shape.push(b);
      continue;
    }
    shape.push(a === 1 ? b : b === 1 ? a : sameDim(a, b, state.sym) ? a : ctx.refuse(`cannot broadcast ${shapeText(from)} to ${shapeText(to)}`));
  }
  const note = `the graph expands zero initial states of ${traced} sequences (the batch size the export traced, as torch 1.13 does for ` +
    `packed sequences) to the batch axis: onnxruntime runs the file at batch size ${traced} only; the imported model runs any batch size`;
  if (traced !== undefined && !state.notes.includes(note)) state.notes.push(note);
  return { kind: 'zeros', shape };
}
