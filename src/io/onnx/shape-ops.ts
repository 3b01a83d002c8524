// The ONNX operators that move data between axes — Gather (and an
// embedding's lookup), Unsqueeze, Squeeze, Concat, Slice, Transpose, Reshape,
// Flatten — on constants (through ./tensors.ts), and on activations, whose
// labelled axes (./values.ts) they rearrange: picking the first or last time
// step, merging the directions into the features, keeping some features.
// What a SequenceModel cannot express is refused here, naming the node.

import { describeShape } from '../../core/errors.js';
import { gatherRows, reshapeSeq } from './lengths-ops.js';
import type { NodeCtx, OpEval } from './node.js';
import type { ImportState } from './state.js';
import {
  concatIndex, gatherIndex, normalizeAxis, resolveReshape, sizeOfShape, slicePositions, sliceIndex, take, takeFloat,
  transposeIndex,
} from './tensors.js';
import {
  axisSize, describeAxes, fillRuns, mergeAxes, mergeBatchTime, parseSym, pickRuns, shapeText, staticSize, tagTime, width,
  type Act, type Axis, type Dim, type SeqDim, type Value,
} from './values.js';

const BIG = 2 ** 31 - 1;

/** The operators that rearrange axes, by op_type. */
export const SHAPE_OPS: ReadonlyMap<string, OpEval> = new Map<string, OpEval>([
  ['Gather', (state, ctx, ins) => [gather(state, ctx, ctx.input(ins, 0), ctx.input(ins, 1))]],
  ['Unsqueeze', (_, ctx, ins) => [unsqueeze(ctx, ctx.input(ins, 0), ctx.axes(ins[1], 'axes'))]],
  ['Squeeze', (state, ctx, ins) => {
    const data = ctx.input(ins, 0);
    const axes = ins[1] === undefined && ctx.attr('axes') === undefined ? null : ctx.axes(ins[1], 'axes');
    return [squeeze(state, ctx, data, axes)];
  }],
  ['Concat', (state, ctx, ins) => [concat(state, ctx, ins.filter((v): v is Value => v !== undefined))]],
  ['Slice', (state, ctx, ins) => [slice(state, ctx, ins)]],
  ['Transpose', (_, ctx, ins) => [transpose(ctx, ctx.input(ins, 0))]],
  ['Reshape', (state, ctx, ins) => [reshape(state, ctx, ctx.input(ins, 0), ctx.input(ins, 1))]],
  ['Flatten', (state, ctx, ins) => [flatten(state, ctx, ctx.input(ins, 0))]],
]);

function gather(state: ImportState, ctx: NodeCtx, data: Value, indices: Value): Value {
  ctx.allow('axis');
  const axis = ctx.int('axis', 0);
  if (indices.kind === 'tokens') {
    // An embedding: rows of a constant table picked by the token ids.
    if (data.kind !== 'float' || data.shape.length !== 2) throw ctx.fail('picks token ids from something other than a constant 2-D table');
    if (normalizeAxis(axis, 2, ctx.where) !== 0) throw ctx.fail('an embedding gathers rows (axis 0)');
    if (state.embedding) throw ctx.fail('a second embedding of the token ids; a SequenceModel has one');
    const [rows, dim] = data.shape as [number, number];
    if (rows < 2 || dim < 1) throw ctx.fail(`the embedding table ${describeShape(data.shape)} needs at least 2 rows and 1 column`);
    state.embedding = { table: data.data, rows, dim };
    const features: Axis = { kind: 'F', runs: [{ ref: { what: 'x', layer: -1, dir: 0, time: 'all' }, from: 0, to: dim }] };
    return { kind: 'act', axes: [...indices.axes, features], head: null, softmax: null, embedding: true };
  }
  if (indices.kind === 'rows') return gatherRows(state, ctx, data, axis, indices);
  if (indices.kind !== 'int' || indices.data.some((d) => typeof d !== 'number')) {
    if (indices.kind === 'int' && data.kind === 'act') return gatherAct(state, ctx, data, axis, indices.data, indices.shape);
    throw ctx.fail('the indices are not constant');
  }
  const idx = indices.data as number[];
  if (data.kind === 'int' || data.kind === 'float') {
    const g = gatherIndex(data.shape, axis, idx, indices.shape, ctx.where);
    return data.kind === 'int'
      ? { kind: 'int', shape: g.shape, data: take(data.data, g.index) }
      : { kind: 'float', shape: g.shape, data: takeFloat(data.data, g.index) };
  }
  if (data.kind === 'act') return gatherAct(state, ctx, data, axis, idx, indices.shape);
  throw ctx.fail(`gathers from a ${data.kind === 'input' ? `graph input '${data.name}'` : data.kind} value, which lstmkit does not follow`);
}

function gatherAct(state: ImportState, ctx: NodeCtx, act: Act, axis: number, idx: Dim[], idxShape: number[]): Act {
  ctx.noHead(act);
  const a = normalizeAxis(axis, act.axes.length, ctx.where);
  const ax = act.axes[a]!;
  if (idxShape.length > 1 || (idx.length !== 1 && ax.kind !== 'S' && ax.kind !== 'F')) {
    throw ctx.fail(`gathers ${idx.length} entries along ${describeAxes([ax], state.sym)}, which lstmkit does not follow`);
  }
  const scalar = idxShape.length === 0;
  const replace = (axes: Axis[]): Act => ({
    ...act, axes: [...act.axes.slice(0, a), ...axes, ...act.axes.slice(a + 1)],
  });
  if (ax.kind === 'seq') {
    if (state.sym.role.get(ax.sym) !== 'T') {
      const which = state.sym.role.get(ax.sym) === 'B' ? 'batch' : 'sequence';
      throw ctx.fail(`selects from the ${which} axis, which a SequenceModel cannot express`);
    }
    const time = timeIndex(state, ctx, ax.sym, idx[0]!);
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
  throw ctx.fail(`selects a single element of ${describeAxes([ax], state.sym)}, which a SequenceModel cannot express`);
}

/** Which time step an index of the time axis names: the first, or the last. */
function timeIndex(state: ImportState, ctx: NodeCtx, sym: string, index: Dim): 'first' | 'last' {
  if (typeof index === 'string') {
    const p = parseSym(index);
    if (p.sym === sym && p.offset === -1) return 'last';
    throw ctx.fail(`selects time step ${index}; lstmkit follows the first or the last step only`);
  }
  const T = state.sym.size.get(sym);
  if (index === 0) return 'first';
  if (index === -1 || (T !== undefined && index === T - 1)) return 'last';
  throw ctx.fail(`selects time step ${index}; lstmkit follows the first or the last step only`);
}

function unsqueeze(ctx: NodeCtx, v: Value, axes: number[]): Value {
  ctx.allow('axes');
  const rankOf = (n: number): number => n + axes.length;
  if (v.kind === 'int' || v.kind === 'float') {
    const shape = insertOnes(ctx, v.shape, axes, rankOf(v.shape.length)) as number[];
    return { ...v, shape };
  }
  if (v.kind === 'zeros') return { kind: 'zeros', shape: insertOnes(ctx, v.shape, axes, rankOf(v.shape.length)) };
  if (v.kind === 'lengths' || v.kind === 'steps' || v.kind === 'mask') {
    return { ...v, shape: insertOnes(ctx, v.shape as SeqDim[], axes, rankOf(v.shape.length)) } as Value;
  }
  const act = ctx.activation(v, 'the input');
  ctx.noSoftmax(act);
  const rank = rankOf(act.axes.length);
  const norm = axes.map((x) => normalizeAxis(x, rank, ctx.where)).sort((a, b) => a - b);
  const out = act.axes.slice();
  for (const x of norm) out.splice(x, 0, { kind: 'one' });
  return { ...act, axes: out };
}

function insertOnes<T>(ctx: NodeCtx, shape: readonly T[], axes: number[], rank: number): (T | 1)[] {
  const norm = axes.map((x) => normalizeAxis(x, rank, ctx.where)).sort((a, b) => a - b);
  if (new Set(norm).size !== norm.length) throw ctx.fail('repeats an axis');
  const out: (T | 1)[] = shape.slice();
  for (const x of norm) out.splice(x, 0, 1);
  return out;
}

function squeeze(state: ImportState, ctx: NodeCtx, v: Value, axes: number[] | null): Value {
  ctx.allow('axes');
  if (v.kind === 'int' || v.kind === 'float' || v.kind === 'zeros' || v.kind === 'lengths' || v.kind === 'steps' || v.kind === 'mask') {
    const shape = v.shape as Dim[];
    const norm = axes === null
      ? shape.flatMap((d, k) => (d === 1 ? [k] : []))
      : axes.map((x) => normalizeAxis(x, shape.length, ctx.where));
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
    throw ctx.fail(`squeezes ${describeAxes([a], state.sym)}, which is not of size 1`);
  }
  const axesOut = out.axes.filter((_, k) => !norm.includes(k));
  return squeezedK ? { ...out, axes: axesOut, squeezedK: true } : { ...out, axes: axesOut };
}

function concat(state: ImportState, ctx: NodeCtx, ins: Value[]): Value {
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
    const total = shapes.reduce<Dim>((n, s) => (
      typeof n === 'number' && typeof s[a] === 'number' ? n + (s[a] as number) : ctx.refuse('concatenates zeros along a symbolic axis')
    ), 0);
    return { kind: 'zeros', shape: shapes[0]!.map((d, k) => (k === a ? total : d)) };
  }
  const acts = ins.map((v, k) => ctx.activation(v, `input ${k}`));
  const rank = acts[0]!.axes.length;
  if (acts.some((x) => x.axes.length !== rank)) throw ctx.fail('concatenates activations of different ranks');
  for (const x of acts) ctx.noHead(x);
  if (acts.some((x) => x.padFill !== acts[0]!.padFill)) throw ctx.fail('concatenates outputs of which some have their padded steps masked');
  const a = normalizeAxis(axis, rank, ctx.where);
  for (let k = 0; k < rank; k++) {
    if (k === a) continue;
    const first = JSON.stringify(acts[0]!.axes[k]);
    if (acts.some((x) => JSON.stringify(x.axes[k]) !== first)) {
      throw ctx.fail(`concatenates ${acts.map((x) => describeAxes(x.axes, state.sym)).join(' and ')} whose axis ${k} differs`);
    }
  }
  const along = acts.map((x) => x.axes[a]!);
  let merged: Axis;
  if (along.every((x) => x.kind === 'F')) merged = { kind: 'F', runs: along.flatMap((x) => (x as Extract<Axis, { kind: 'F' }>).runs) };
  else if (along.every((x) => x.kind === 'S')) merged = { kind: 'S', slots: along.flatMap((x) => (x as Extract<Axis, { kind: 'S' }>).slots) };
  else throw ctx.fail(`concatenates along ${describeAxes(along, state.sym)}, which a SequenceModel cannot express`);
  return {
    ...acts[0]!, axes: acts[0]!.axes.map((x, k) => (k === a ? merged : x)), embedding: acts.some((x) => x.embedding),
  };
}

function slice(state: ImportState, ctx: NodeCtx, ins: (Value | undefined)[]): Value {
  const data = ctx.input(ins, 0);
  let starts: Dim[];
  let ends: Dim[];
  let axes: number[] | null;
  let steps: number[] | null;
  if (ins.length > 1 || state.opset >= 10) {
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
  if (ends.length !== starts.length || ax.length !== starts.length || (steps && steps.length !== starts.length)) {
    throw ctx.fail('starts, ends, axes and steps differ in length');
  }
  if (data.kind === 'int' || data.kind === 'float') {
    const positions: (number[] | undefined)[] = [];
    ax.forEach((a, k) => {
      const s = starts[k]!;
      const e = ends[k]!;
      if (typeof s !== 'number' || typeof e !== 'number') throw ctx.fail('slices a constant with symbolic bounds');
      positions[a] = slicePositions(data.shape[a]!, s, e, steps?.[k] ?? 1, ctx.where);
    });
    const g = sliceIndex(data.shape, positions, ctx.where);
    return data.kind === 'int'
      ? { kind: 'int', shape: g.shape, data: take(data.data, g.index) }
      : { kind: 'float', shape: g.shape, data: takeFloat(data.data, g.index) };
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
    act = sliceAct(state, ctx, act, a, starts[k]!, ends[k]!);
  });
  return act;
}

function sliceAct(state: ImportState, ctx: NodeCtx, act: Act, a: number, start: Dim, end: Dim): Act {
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
    const n = state.sym.size.get(ax.sym);
    const all = (s === 0 || s <= -BIG) && e === BIG;
    if (all || (n !== undefined && slicePositions(n, s, e, 1, ctx.where).length === n)) return act;
    if (state.sym.role.get(ax.sym) !== 'T') {
      const which = state.sym.role.get(ax.sym) === 'B' ? 'batch' : 'sequence';
      throw ctx.fail(`slices the ${which} axis, which a SequenceModel cannot express`);
    }
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
  throw ctx.fail(`slices ${describeAxes([ax], state.sym)}, which a SequenceModel cannot express`);
}

function transpose(ctx: NodeCtx, v: Value): Value {
  ctx.allow('perm');
  const rank = v.kind === 'act' || v.kind === 'tokens' ? v.axes.length
    : v.kind === 'int' || v.kind === 'float' || v.kind === 'zeros' || v.kind === 'mask' ? v.shape.length : -1;
  if (rank < 0) throw ctx.fail(`transposes a ${v.kind === 'input' ? `graph input '${v.name}'` : v.kind} value, which lstmkit does not follow`);
  const perm = ctx.attr('perm') ? ctx.ints('perm') : Array.from({ length: rank }, (_, k) => rank - 1 - k);
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, k) => p !== k)) {
    throw ctx.fail(`perm ${describeShape(perm)} is not a permutation of ${rank} axes`);
  }
  if (v.kind === 'int' || v.kind === 'float') {
    const g = transposeIndex(v.shape, perm, ctx.where);
    return v.kind === 'int'
      ? { kind: 'int', shape: g.shape, data: take(v.data, g.index) }
      : { kind: 'float', shape: g.shape, data: takeFloat(v.data, g.index) };
  }
  if (v.kind === 'zeros') return { kind: 'zeros', shape: perm.map((p) => v.shape[p]!) };
  if (v.kind === 'mask') return { ...v, shape: perm.map((p) => v.shape[p]!) };
  if (v.kind === 'tokens') return { ...v, axes: perm.map((p) => v.axes[p]!) };
  const act = v as Act;
  ctx.noSoftmax(act);
  return { ...act, axes: perm.map((p) => act.axes[p]!) };
}

function reshape(state: ImportState, ctx: NodeCtx, v: Value, shapeV: Value): Value {
  ctx.allow('allowzero');
  if (shapeV.kind !== 'int' || shapeV.shape.length !== 1) throw ctx.fail('the target shape is not a known integer vector');
  const allowZero = ctx.int('allowzero', 0) === 1;
  const target = shapeV.data;
  if (v.kind === 'int' || v.kind === 'float') {
    const t = target.map((d) => (typeof d === 'number' ? d : ctx.refuse('reshapes a constant to a symbolic shape')));
    return { ...v, shape: resolveReshape(v.shape, t, allowZero, ctx.where) } as Value;
  }
  if (v.kind === 'lengths' || v.kind === 'steps') return reshapeSeq(state, ctx, v, target);
  const act = ctx.activation(v, 'the input');
  ctx.noHead(act);
  if (allowZero && target.includes(0)) throw ctx.fail('reshapes to a zero-size dimension');
  const dims = target.map((d, k) => {
    if (d !== 0) return d;
    const ax = act.axes[k];
    if (!ax) throw ctx.fail(`shape ${shapeText(target)} copies dim ${k} of a rank-${act.axes.length} tensor`);
    return axisSize(ax);
  });
  return { ...act, axes: regroup(state, ctx, act.axes, dims) };
}

/**
 * The axes of a reshape: each target dim takes one input axis,
 * merges a direction axis with its features, or adds or drops a unit axis.
 */
function regroup(state: ImportState, ctx: NodeCtx, axes: readonly Axis[], dims: readonly Dim[]): Axis[] {
  const fail = (): never => ctx.refuse(`reshapes ${describeAxes(axes, state.sym)} to ${shapeText(dims)}, which lstmkit does not follow`);
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
    if (one && fits(state, one, d)) return [one, k + step];
    const pair = step === 1 ? [axes[k], axes[k + 1]] : [axes[k - 1], axes[k]];
    if (pair[0] && pair[1]) {
      const merged = mergeAxes(pair as Axis[]);
      if (merged && fits(state, merged, d)) return [merged, k + 2 * step];
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

/**
 * Whether a reshape target dim is this axis: a symbol only its own sequence axis, a number a fixed size (or a sequence
 * axis the graph fixes to it).
 */
function fits(state: ImportState, axis: Axis, d: Dim): boolean {
  if (typeof d === 'string') return axis.kind === 'seq' && axis.sym === d;
  const size = axisSize(axis);
  return typeof size === 'number' ? size === d : staticSize(size, state.sym) === d;
}

function flatten(state: ImportState, ctx: NodeCtx, v: Value): Value {
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
  const first = mergeAxes(act.axes.slice(0, a)) ?? mergeBatchTime(act.axes.slice(0, a), state.sym);
  const second = mergeAxes(act.axes.slice(a));
  if (!first || !second) throw ctx.fail(`flattens ${describeAxes(act.axes, state.sym)} at axis ${axis}, which lstmkit does not follow`);
  return { ...act, axes: [first, second] };
}
