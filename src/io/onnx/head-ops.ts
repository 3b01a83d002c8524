// The ONNX operators of the dense head and of what may come between it and
// the recurrent layers: MatMul and Gemm (the head's weight), Add and Sub (its
// bias), ReduceMean, ReduceSum and Div (a mean over time), ReduceMax (a
// maximum over time), Softmax and LogSoftmax (a classifier's output). Add,
// Sub, Mul and Div of integer constants are the shape arithmetic of
// torch.onnx.export's glue; the lengths minus one index each sequence's last
// step (./lengths-ops.ts).

import { describeShape } from '../../core/errors.js';
import { directionAxisHint } from './head-reads.js';
import { seqArithmetic } from './lengths-ops.js';
import type { NodeCtx, OpEval } from './node.js';
import type { ImportState } from './state.js';
import { normalizeAxis, takeFloat, transposeIndex } from './tensors.js';
import {
  describeAxes, describeValue, mapRefs, symPlus, tagTime, width,
  type Act, type Dim, type Head, type Run, type Time, type Value,
} from './values.js';

/** The operators of the head and the pooling before it, by op_type. */
export const HEAD_OPS: ReadonlyMap<string, OpEval> = new Map<string, OpEval>([
  ['MatMul', (state, ctx, ins) => [matmul(state, ctx, ctx.input(ins, 0), ctx.input(ins, 1))]],
  ['Gemm', (state, ctx, ins) => [gemm(state, ctx, ins)]],
  ['Add', (state, ctx, ins) => [arithmetic(state, ctx, 'Add', ctx.input(ins, 0), ctx.input(ins, 1))]],
  ['Sub', (state, ctx, ins) => [arithmetic(state, ctx, 'Sub', ctx.input(ins, 0), ctx.input(ins, 1))]],
  ['Mul', (state, ctx, ins) => [arithmetic(state, ctx, 'Mul', ctx.input(ins, 0), ctx.input(ins, 1))]],
  ['Div', (state, ctx, ins) => [arithmetic(state, ctx, 'Div', ctx.input(ins, 0), ctx.input(ins, 1))]],
  ['Softmax', (state, ctx, ins) => [softmax(state, ctx, 'Softmax', ctx.input(ins, 0))]],
  ['LogSoftmax', (state, ctx, ins) => [softmax(state, ctx, 'LogSoftmax', ctx.input(ins, 0))]],
  ['ReduceMean', (state, ctx, ins) => [reduce(state, ctx, 'ReduceMean', ctx.input(ins, 0), ins[1])]],
  ['ReduceSum', (state, ctx, ins) => [reduce(state, ctx, 'ReduceSum', ctx.input(ins, 0), ins[1])]],
  ['ReduceMax', (state, ctx, ins) => [reduce(state, ctx, 'ReduceMax', ctx.input(ins, 0), ins[1])]],
]);

const SECOND_HEAD = 'a second dense layer after the head (an nn.Linear on an nn.Linear); lstmkit\'s model has one nn.Linear head';

function features(state: ImportState, ctx: NodeCtx, act: Act): Run[] {
  if (act.padFill !== undefined) {
    throw ctx.fail(`reads an output whose padded steps are filled with ${act.padFill}; lstmkit follows that mask only into a maximum over time`);
  }
  const last = act.axes[act.axes.length - 1];
  if (!last || last.kind !== 'F') throw ctx.fail(`its input ${describeAxes(act.axes, state.sym)} does not end in a feature axis`);
  if (act.axes.some((a) => a.kind === 'S')) {
    throw ctx.fail(`its input is ${describeAxes(act.axes, state.sym)}${directionAxisHint(act.axes)}; lstmkit's head reads features [batch, features]`);
  }
  return last.runs;
}

function newHead(
  state: ImportState, ctx: NodeCtx, act: Act, weight: Float32Array, K: number, bias: Float32Array | null,
): Act {
  if (act.head) throw ctx.fail(SECOND_HEAD);
  ctx.noSoftmax(act);
  const runs = features(state, ctx, act);
  const head: Head = { weight, bias: bias ?? new Float32Array(K), runs, K };
  return { ...act, axes: [...act.axes.slice(0, -1), { kind: 'K', size: K }], head };
}

/** An identity head over the features (for graphs that end at the recurrent features, or add a bias to them). */
export function identityHead(state: ImportState, ctx: NodeCtx, act: Act): Act {
  const F = width(features(state, ctx, act));
  const weight = new Float32Array(F * F);
  for (let k = 0; k < F; k++) weight[k * F + k] = 1;
  return newHead(state, ctx, act, weight, F, null);
}

function matmul(state: ImportState, ctx: NodeCtx, a: Value, b: Value): Value {
  ctx.allow();
  if (a.kind === 'act' && a.head) throw ctx.fail(SECOND_HEAD);
  if (a.kind !== 'act') {
    throw ctx.fail(a.kind === 'float' && b.kind === 'act'
      ? 'multiplies a constant by an activation (the weight comes first); lstmkit follows x·W'
      : 'multiplies values that are not an activation and a constant weight');
  }
  if (b.kind !== 'float' || b.shape.length !== 2) {
    throw ctx.fail(`the weight is not a constant matrix${b.kind === 'float' ? ` (shape ${describeShape(b.shape)})` : ''}`);
  }
  const [F, K] = b.shape as [number, number];
  const runs = features(state, ctx, a);
  if (width(runs) !== F) throw ctx.fail(`multiplies ${width(runs)} features by a ${describeShape(b.shape)} weight`);
  const weight = takeFloat(b.data, transposeIndex(b.shape, [1, 0], ctx.where).index); // [K, F]
  return newHead(state, ctx, a, weight, K, null);
}

function gemm(state: ImportState, ctx: NodeCtx, ins: (Value | undefined)[]): Value {
  ctx.allow('alpha', 'beta', 'transA', 'transB');
  const a = ctx.input(ins, 0);
  const b = ctx.input(ins, 1);
  const c = ins[2];
  if (ctx.int('transA', 0) !== 0) throw ctx.fail('transA=1 (a transposed activation) is not supported');
  const act = ctx.activation(a, 'A');
  if (act.head) throw ctx.fail(SECOND_HEAD);
  if (act.axes.length !== 2) throw ctx.fail(`A is ${describeAxes(act.axes, state.sym)}; Gemm takes a matrix`);
  if (b.kind !== 'float' || b.shape.length !== 2) throw ctx.fail('B is not a constant matrix');
  const alpha = ctx.float('alpha', 1);
  const beta = ctx.float('beta', 1);
  const transB = ctx.int('transB', 0) === 1;
  const [K, F] = (transB ? b.shape : [b.shape[1]!, b.shape[0]!]) as [number, number];
  const runs = features(state, ctx, act);
  if (width(runs) !== F) throw ctx.fail(`multiplies ${width(runs)} features by a ${describeShape(b.shape)} weight${transB ? ' (transposed)' : ''}`);
  const weight = transB
    ? Float32Array.from(b.data)
    : takeFloat(b.data, transposeIndex(b.shape, [1, 0], ctx.where).index);
  if (alpha !== 1) for (let i = 0; i < weight.length; i++) weight[i]! *= alpha;
  let bias: Float32Array | null = null;
  if (c !== undefined) {
    bias = biasOf(ctx, c, K, 2);
    if (beta !== 1) for (let i = 0; i < K; i++) bias[i]! *= beta;
  }
  return newHead(state, ctx, act, weight, K, bias);
}

/** A constant that broadcasts along the last axis only, as K values. */
function biasOf(ctx: NodeCtx, v: Value, K: number, rank: number): Float32Array {
  if (v.kind !== 'float') throw ctx.fail(`the bias is not a float constant${v.kind === 'act' ? ' (adds two activations)' : ''}`);
  const s = v.shape;
  const last = s.length ? s[s.length - 1]! : 1;
  if (s.length > rank || s.slice(0, -1).some((d) => d !== 1) || (last !== K && last !== 1)) {
    throw ctx.fail(`the bias of shape ${describeShape(s)} does not broadcast along the ${K} outputs only`);
  }
  return last === K ? Float32Array.from(v.data) : new Float32Array(K).fill(v.data[0]!);
}

function arithmetic(state: ImportState, ctx: NodeCtx, op: string, a: Value, b: Value): Value {
  ctx.allow();
  if (a.kind === 'int' && b.kind === 'int') return intArithmetic(ctx, op, a, b);
  const indices = seqArithmetic(ctx, op, a, b);
  if (indices) return indices;
  if (op === 'Div' && a.kind === 'act') return divide(state, ctx, a, b);
  if (op === 'Add' || op === 'Sub') {
    const [act, c, sign] = a.kind === 'act' ? [a, b, op === 'Sub' ? -1 : 1] : b.kind === 'act' && op === 'Add' ? [b, a, 1] : [null, null, 0];
    if (act && c) {
      ctx.noSoftmax(act);
      const withHead = act.head ? act : identityHead(state, ctx, act);
      const head = withHead.head!;
      const bias = biasOf(ctx, c, head.K, withHead.axes.length);
      return { ...withHead, head: { ...head, bias: head.bias.map((x, k) => x + sign * bias[k]!) } };
    }
  }
  throw ctx.fail(`${op} of ${describeValue(a)} and ${describeValue(b)} is not part of a model lstmkit can express`);
}

function intArithmetic(ctx: NodeCtx, op: string, a: Extract<Value, { kind: 'int' }>, b: Extract<Value, { kind: 'int' }>): Value {
  const n = Math.max(a.data.length, b.data.length);
  const mismatched = (a.data.length !== n && a.data.length !== 1) || (b.data.length !== n && b.data.length !== 1);
  if (mismatched || a.shape.length > 1 || b.shape.length > 1) {
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
function divide(state: ImportState, ctx: NodeCtx, act: Act, by: Value): Value {
  const times = new Set<Time>();
  mapRefs(act, (r) => (times.add(r.time), r));
  if (times.size !== 1 || !times.has('sum') || act.head) {
    throw ctx.fail('divides an activation, which lstmkit follows only to turn a sum over time into a mean');
  }
  if (by.kind === 'lengths') {
    if (!by.float) throw ctx.fail('divides by integer lengths');
    // Broadcast: the lengths' batch axis must meet the activation's batch axis.
    const rank = Math.max(act.axes.length, by.shape.length);
    for (let k = 0; k < rank; k++) {
      const d = by.shape[k - (rank - by.shape.length)];
      const ax = act.axes[k - (rank - act.axes.length)];
      if (d === 'B' && !(ax?.kind === 'seq' && state.sym.role.get(ax.sym) === 'B')) throw ctx.fail('the lengths do not line up with the batch axis');
    }
    state.headLengths.add(by.input);
    return mapRefs(act, (r) => ({ ...r, time: 'meanLen' }));
  }
  if (by.kind === 'float' && by.data.length === 1) {
    const T = [...state.sym.role].find(([, r]) => r === 'T')?.[0];
    const steps = T === undefined ? undefined : state.sym.size.get(T);
    if (steps !== undefined && by.data[0] === steps) return mapRefs(act, (r) => ({ ...r, time: 'mean' }));
    throw ctx.fail(`divides a sum over time by ${by.data[0]}, which is not the (fixed) number of steps`);
  }
  throw ctx.fail(`divides a sum over time by ${describeValue(by)}`);
}

function softmax(state: ImportState, ctx: NodeCtx, op: 'Softmax' | 'LogSoftmax', v: Value): Value {
  ctx.allow('axis');
  const act0 = ctx.activation(v, 'the input');
  ctx.noSoftmax(act0);
  const act = act0.head ? act0 : identityHead(state, ctx, act0);
  const rank = act.axes.length;
  const axis = normalizeAxis(ctx.int('axis', state.opset >= 13 ? -1 : 1), rank, ctx.where);
  if (axis !== rank - 1 || act.axes[axis]!.kind !== 'K') {
    throw ctx.fail(
      `takes the ${op} over axis ${axis} of ${describeAxes(act.axes, state.sym)}; lstmkit's classifier takes it over the outputs (the last axis)`,
    );
  }
  return { ...act, softmax: op };
}

type Reduce = 'ReduceMean' | 'ReduceSum' | 'ReduceMax';

/**
 * A mean, sum or maximum over the time axis. A maximum over an output whose padded steps were filled with -1 or less
 * (./lengths-ops.ts) is the maximum over each sequence's own steps.
 */
function reduce(state: ImportState, ctx: NodeCtx, op: Reduce, v: Value, axesInput: Value | undefined): Value {
  ctx.allow('axes', 'keepdims', 'noop_with_empty_axes');
  const act = ctx.activation(v, 'the input');
  ctx.noHead(act);
  const fill = act.padFill;
  if (fill !== undefined && (op !== 'ReduceMax' || fill > -1)) {
    throw ctx.fail(
      op === 'ReduceMax'
        ? `takes the maximum over steps whose padding is ${fill}, which can exceed the outputs; lstmkit follows a fill of -inf (or -1 and less)`
        : `takes the ${op === 'ReduceMean' ? 'mean' : 'sum'} of an output whose padded steps are filled with ${fill}`,
    );
  }
  const axes = ctx.axes(axesInput, 'axes').map((a) => normalizeAxis(a, act.axes.length, ctx.where));
  const keep = ctx.int('keepdims', 1) === 1;
  const ax = axes.length === 1 ? act.axes[axes[0]!]! : undefined;
  if (!ax || ax.kind !== 'seq' || state.sym.role.get(ax.sym) !== 'T') {
    const over = axes.length ? describeAxes(axes.map((a) => act.axes[a]!), state.sym) : 'every axis';
    throw ctx.fail(`${op} over ${over}; lstmkit follows a mean or a maximum over the time axis only`);
  }
  const a = axes[0]!;
  const reduced: Act = { ...act, axes: keep ? act.axes.map((x, k) => (k === a ? { kind: 'one' } : x)) : act.axes.filter((_, k) => k !== a) };
  delete reduced.padFill;
  return tagTime(reduced, op === 'ReduceMean' ? 'mean' : op === 'ReduceSum' ? 'sum' : fill === undefined ? 'max' : 'maxLen', ctx.where);
}
