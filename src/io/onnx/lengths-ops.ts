// The ONNX operators a head uses to respect each sequence's own length —
// the way lstmkit's export writes the heads 'lastOutput' and 'max' of a
// padded batch, and the ways PyTorch code writes them:
//
//   GatherND(out, lengths - 1, batch_dims=1)     each sequence's last step
//   Gather(Flatten(out), arange(batch)·steps     the same, as torch.onnx.export
//          + lengths - 1)                        writes out[arange(B), lengths - 1]
//   Where(Range(steps) < lengths, out, -inf)     the padded steps masked out
//                                                before a ReduceMax over time
//
// The lengths (a graph input, ./values.ts 'lengths') take part in integer
// arithmetic (minus one), casts and reshapes; Range over the time axis gives
// the step indices ('steps'), over the batch axis the rows ('rows'); Less /
// Greater (or their negations) of steps and lengths give a mask of the valid
// or the padded steps ('mask'), which Where applies to an activation.
// Everything else is refused, naming the node.

import type { NodeCtx, OpEval } from './node.js';
import type { ImportState } from './state.js';
import {
  broadcastSeqDims, describeAxes, describeValue, parseSym, seqDimsFit, tagTime, type Dim, type SeqDim, type Value,
} from './values.js';

/** The operators of lengths, step indices and masks, by op_type. */
export const LENGTHS_OPS: ReadonlyMap<string, OpEval> = new Map<string, OpEval>([
  ['Range', (state, ctx, ins) => [range(state, ctx, ctx.input(ins, 0), ctx.input(ins, 1), ctx.input(ins, 2))]],
  ['Less', (_, ctx, ins) => [compare(ctx, ctx.input(ins, 0), ctx.input(ins, 1), true)]],
  ['Greater', (_, ctx, ins) => [compare(ctx, ctx.input(ins, 1), ctx.input(ins, 0), true)]],
  ['GreaterOrEqual', (_, ctx, ins) => [compare(ctx, ctx.input(ins, 0), ctx.input(ins, 1), false)]],
  ['LessOrEqual', (_, ctx, ins) => [compare(ctx, ctx.input(ins, 1), ctx.input(ins, 0), false)]],
  ['Not', (_, ctx, ins) => [not(ctx, ctx.input(ins, 0))]],
  ['Where', (state, ctx, ins) => [where(state, ctx, ctx.input(ins, 0), ctx.input(ins, 1), ctx.input(ins, 2))]],
  ['GatherND', (state, ctx, ins) => [gatherND(state, ctx, ctx.input(ins, 0), ctx.input(ins, 1))]],
]);

/**
 * Integer arithmetic on per-sequence indices: lengths ± c (`lengths - 1` is each sequence's last step), and the rows of
 * a flattened [batch·steps] axis, arange(batch) · steps + lengths - 1. Null where neither side is such an index.
 */
export function seqArithmetic(ctx: NodeCtx, op: string, a: Value, b: Value): Value | null {
  const scalar = (v: Value): Dim | null => (v.kind === 'int' && v.data.length === 1 ? v.data[0]! : null);
  const ones = (v: Value): 1[] => ('shape' in v ? (v.shape as unknown[]).map(() => 1) : []);
  if (a.kind === 'lengths' || (b.kind === 'lengths' && op === 'Add' && a.kind !== 'rows')) {
    const [len, c, sign] = a.kind === 'lengths' ? [a, b, op === 'Sub' ? -1 : 1] : [b as Extract<Value, { kind: 'lengths' }>, a, 1];
    const n = scalar(c);
    if (c.kind === 'rows' && op === 'Add') return seqArithmetic(ctx, op, c, len);
    if ((op !== 'Add' && op !== 'Sub') || typeof n !== 'number') return null;
    if (len.float) throw ctx.fail(`${op} of the lengths as floats; lstmkit follows integer lengths minus one (each sequence's last step)`);
    return { ...len, shape: broadcastSeqDims(len.shape, ones(c)) as ('B' | 1)[], offset: (len.offset ?? 0) + sign * n };
  }
  if (a.kind !== 'rows' && b.kind !== 'rows') return null;
  const [rows, other] = a.kind === 'rows' ? [a, b] : [b as Extract<Value, { kind: 'rows' }>, a];
  const n = scalar(other);
  const shape = (v: Value): ('B' | 1)[] => broadcastSeqDims(rows.shape, 'shape' in v ? v.shape as SeqDim[] : []) as ('B' | 1)[];
  if (op === 'Mul' && n !== null && rows.lengths === null && rows.offset === 0) {
    const stride = rows.stride === 1 ? n : n === 1 ? rows.stride : typeof n === 'number' && typeof rows.stride === 'number' ? n * rows.stride : null;
    if (stride !== null) return { ...rows, stride, shape: shape(other) };
  }
  if (op === 'Add' && other.kind === 'lengths' && !other.float && rows.lengths === null) {
    return { ...rows, lengths: other.input, offset: rows.offset + (other.offset ?? 0), shape: shape(other) };
  }
  if ((op === 'Add' || (op === 'Sub' && a.kind === 'rows')) && typeof n === 'number') {
    return { ...rows, offset: rows.offset + (op === 'Sub' ? -n : n), shape: shape(other) };
  }
  throw ctx.fail(`${op} of ${describeValue(a)} and ${describeValue(b)}; lstmkit follows arange(batch) · steps + lengths - 1 only`);
}

/** Range(start, limit, delta): of constants, a constant; 0, 1, …, steps-1 over the time axis, the step indices. */
function range(state: ImportState, ctx: NodeCtx, start: Value, limit: Value, delta: Value): Value {
  ctx.allow();
  const scalar = (v: Value, what: string): Dim => {
    if (v.kind !== 'int' || v.data.length !== 1) throw ctx.fail(`${what} is ${describeValue(v)}, not an integer scalar`);
    return v.data[0]!;
  };
  const [s, l, d] = [scalar(start, 'start'), scalar(limit, 'limit'), scalar(delta, 'delta')];
  if (typeof s === 'number' && typeof l === 'number' && typeof d === 'number') {
    const n = d === 0 ? -1 : Math.max(0, Math.ceil((l - s) / d));
    if (n < 0 || n > 2 ** 24) throw ctx.fail(`Range(${s}, ${l}, ${d}) is not a range lstmkit computes`);
    return { kind: 'int', shape: [n], data: Array.from({ length: n }, (_, k) => s + k * d) };
  }
  const p = typeof l === 'string' ? parseSym(l) : null;
  if (s !== 0 || d !== 1 || p === null || p.offset !== 0) {
    throw ctx.fail(`Range(${s}, ${l}, ${d}) over a symbolic size; lstmkit follows the step indices 0 … steps-1 only`);
  }
  const role = state.sym.role.get(p.sym);
  if (role === 'B') return { kind: 'rows', stride: 1, lengths: null, offset: 0, shape: ['B'] };
  if (role !== 'T') throw ctx.fail(`Range over axis ${p.sym} of the input, which no recurrent layer reads as its time or batch axis`);
  return { kind: 'steps', sym: p.sym, shape: ['T'] };
}

/** steps < lengths: the valid steps (valid = true); steps >= lengths: the padded ones. */
function compare(ctx: NodeCtx, steps: Value, lengths: Value, valid: boolean): Value {
  ctx.allow();
  if (steps.kind !== 'steps' || lengths.kind !== 'lengths' || lengths.float || (lengths.offset ?? 0) !== 0) {
    const [a, b] = valid ? [steps, lengths] : [lengths, steps];
    throw ctx.fail(
      `compares ${describeValue(a)} with ${describeValue(b)}; lstmkit follows comparisons of the step indices with the lengths ` +
      '(arange(steps) < lengths, a mask of the valid steps)',
    );
  }
  const shape = broadcastSeqDims(steps.shape, lengths.shape);
  if (shape === null || !shape.includes('B') || !shape.includes('T')) {
    throw ctx.fail('compares the step indices with the lengths along the same axis; a mask is [batch, steps] (or [steps, batch])');
  }
  return { kind: 'mask', input: lengths.input, valid, shape };
}

function not(ctx: NodeCtx, v: Value): Value {
  ctx.allow();
  if (v.kind !== 'mask') throw ctx.fail(`negates ${describeValue(v)}; lstmkit follows Not of a mask of the valid steps only`);
  return { ...v, valid: !v.valid };
}

/**
 * Where(mask, out, fill): the padded steps of the output replaced by `fill`. A fill of -1 or less is below every output
 * of an LSTM, GRU or RNN (tanh and the gates keep them in [-1, 1], relu at 0 or more), so the maximum over time is
 * the maximum over each sequence's valid steps, as lstmkit's 'max' pooling takes it.
 */
function where(state: ImportState, ctx: NodeCtx, cond: Value, x: Value, y: Value): Value {
  ctx.allow();
  if (cond.kind !== 'mask') {
    throw ctx.fail(
      `its condition is ${describeValue(cond)}; lstmkit follows Where only to mask the padded steps (a comparison of arange(steps) with the lengths)`,
    );
  }
  const [kept, fill] = cond.valid ? [x, y] : [y, x];
  const act = ctx.activation(kept, cond.valid ? 'the value where the mask holds' : 'the value where the mask does not hold');
  ctx.noHead(act);
  if (act.padFill !== undefined) throw ctx.fail('masks an output whose padded steps are masked already');
  if (fill.kind !== 'float' || fill.data.length === 0 || fill.data.some((v) => v !== fill.data[0])) {
    throw ctx.fail(`fills the padded steps with ${describeValue(fill)}; lstmkit follows one constant fill value (-inf before a maximum)`);
  }
  if (fill.shape.length > act.axes.length || !seqDimsFit(cond.shape, act.axes, state.sym)) {
    throw ctx.fail(`its mask does not line up with the batch and time axes of ${describeAxes(act.axes, state.sym)}`);
  }
  if (!act.axes.some((a) => a.kind === 'seq' && state.sym.role.get(a.sym) === 'T')) throw ctx.fail('masks an output without a time axis');
  state.headLengths.add(cond.input);
  return { ...act, padFill: fill.data[0]! };
}

/** GatherND(out [batch, steps, …], lengths - 1 [batch, 1], batch_dims=1): each sequence's output at its last step. */
function gatherND(state: ImportState, ctx: NodeCtx, data: Value, indices: Value): Value {
  ctx.allow('batch_dims');
  const act = ctx.activation(data, 'the data');
  ctx.noHead(act);
  const role = (k: number): string | undefined => {
    const ax = act.axes[k];
    return ax?.kind === 'seq' ? state.sym.role.get(ax.sym) : undefined;
  };
  const lastStep = indices.kind === 'lengths' && !indices.float && indices.offset === -1;
  const shape: readonly SeqDim[] = indices.kind === 'lengths' ? indices.shape : [];
  if (!lastStep || ctx.int('batch_dims', 0) !== 1 || role(0) !== 'B' || role(1) !== 'T' || shape.length !== 2 || shape[0] !== 'B' || shape[1] !== 1) {
    throw ctx.fail(
      `gathers ${describeValue(indices)} from ${describeAxes(act.axes, state.sym)}; lstmkit follows GatherND only to pick each sequence's ` +
      'last step: indices lengths - 1 [batch, 1], batch_dims=1, from [batch, steps, …]',
    );
  }
  if (act.padFill !== undefined) throw ctx.fail('picks a step of an output whose padded steps are masked');
  state.headLengths.add(indices.input);
  return tagTime({ ...act, axes: [act.axes[0]!, ...act.axes.slice(2)] }, 'lastLen', ctx.where);
}

/**
 * Gather(Flatten(out) [batch·steps, …], arange(batch) · steps + lengths - 1): each sequence's output at its last step,
 * as torch.onnx.export writes out[torch.arange(batch), lengths - 1].
 */
export function gatherRows(state: ImportState, ctx: NodeCtx, data: Value, axis: number, rows: Extract<Value, { kind: 'rows' }>): Value {
  const act = ctx.activation(data, 'the data');
  ctx.noHead(act);
  const a = axis < 0 ? axis + act.axes.length : axis;
  const ax = act.axes[a];
  const lastSteps = rows.lengths !== null && rows.offset === -1 && rows.shape.length === 1 && rows.shape[0] === 'B';
  if (ax?.kind !== 'BT' || !lastSteps || rows.stride !== ax.time) {
    throw ctx.fail(
      `gathers ${describeValue(rows)} from ${describeAxes(act.axes, state.sym)}; lstmkit follows out[arange(batch), lengths - 1], ` +
      'each sequence\'s last step: a gather of arange(batch) · steps + lengths - 1 from the batch and time axes flattened',
    );
  }
  if (act.padFill !== undefined) throw ctx.fail('picks a step of an output whose padded steps are masked');
  state.headLengths.add(rows.lengths!);
  return tagTime({ ...act, axes: act.axes.map((x, k) => (k === a ? { kind: 'seq', sym: ax.batch } : x)) }, 'lastLen', ctx.where);
}

/** Reshape a per-sequence integer tensor (lengths, step indices): its one non-unit axis stays, unit axes come and go. */
export function reshapeSeq(state: ImportState, ctx: NodeCtx, v: Extract<Value, { kind: 'lengths' | 'steps' }>, target: readonly Dim[]): Value {
  const role = v.kind === 'lengths' ? 'B' : 'T';
  const big = target.filter((d) => d !== 1);
  const d = big[0];
  const sym = typeof d === 'string' ? parseSym(d) : null;
  const same = d === -1 || (d === 0 && v.shape[target.indexOf(0)] === role) || (sym !== null && sym.offset === 0 && state.sym.role.get(sym.sym) === role);
  if (big.length !== 1 || !same || v.shape.filter((x) => x !== 1).length !== 1) {
    throw ctx.fail(`reshapes ${describeValue(v)} to [${target.join(', ')}]; lstmkit follows adding or removing axes of size 1`);
  }
  const shape = target.map((x) => (x === 1 ? 1 : role));
  return v.kind === 'lengths' ? { ...v, shape: shape as ('B' | 1)[] } : { ...v, shape: shape as ('T' | 1)[] };
}
