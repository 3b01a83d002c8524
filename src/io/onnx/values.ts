// What the ONNX importer knows about each value of a graph. It does not run
// the graph; it follows it symbolically from the input to the output:
//
//   float / int   a constant (weights, shape vectors); int entries may be
//                 symbolic dimensions ("in0", "in1-1") of the graph input
//   zeros         a float tensor of zeros, perhaps of symbolic shape (the
//                 initial states torch.onnx.export builds with Shape,
//                 ConstantOfShape and Expand)
//   lengths       the graph input of sequence lengths (sequence_lens),
//                 perhaps cast, reshaped or minus one (each last step)
//   steps         0, 1, …, steps-1 along the time axis (Range over it)
//   rows          an index per sequence b into the batch and time axes
//                 flattened into one: b·stride, plus its length, plus an
//                 offset (out[torch.arange(batch), lengths - 1] as PyTorch
//                 writes it)
//   mask          which steps of each sequence are valid (steps < lengths),
//                 or which are padding
//   tokens        the graph input of token ids
//   act           an activation: a tensor whose axes are labelled — the two
//                 sequence axes of the input (time and batch, known once a
//                 recurrent operator reads them), a direction axis of a
//                 recurrent output, a feature axis that records where every
//                 feature comes from (input feature k, unit k of the output
//                 sequence or final state of layer l, direction d, at which
//                 time step), or the outputs of the dense head
//
// Each supported op maps values to values; anything a SequenceModel cannot
// express is refused where it happens, naming the node.

import { FormatError, describeShape } from '../../core/errors.js';
import type { DecodedTensor } from './proto.js';

/** A dimension: a number, or a symbol of the graph input's axes ("in0", "in1"), perhaps with an offset ("in1-1"). */
export type Dim = number | string;

/**
 * Which time step(s) of a sequence a feature holds: every step, step 0, step T-1, the mean, sum or maximum over all T
 * steps, or over each sequence's own steps (its sum divided by its length, its maximum with the padding masked out,
 * the step at its length minus one).
 */
export type Time = 'all' | 'first' | 'last' | 'mean' | 'sum' | 'max' | 'meanLen' | 'maxLen' | 'lastLen';

/**
 * Where a feature comes from: the model input, or layer `layer`'s output sequence (Y) or final state (h, c) in
 * direction `dir` (1 = backward).
 */
export interface Ref {
  what: 'x' | 'Y' | 'h' | 'c';
  layer: number;
  dir: number;
  time: Time;
}

/** Features from..to-1 of `ref`; a null ref stands for each slot of the direction axis. */
export interface Run {
  ref: Ref | null;
  from: number;
  to: number;
}

export type Axis =
  | { kind: 'seq'; sym: string }
  | { kind: 'S'; slots: Ref[] }
  | { kind: 'F'; runs: Run[] }
  | { kind: 'one' }
  | { kind: 'K'; size: number }
  /** The batch and time axes flattened into one, batch-major (Flatten of [batch, steps, …]). */
  | { kind: 'BT'; batch: string; time: string };

/** The dense head: out = weight · features + bias, with weight [K, features] (PyTorch's Linear layout). */
export interface Head {
  weight: Float32Array;
  bias: Float32Array;
  runs: Run[];
  K: number;
}

export interface Act {
  kind: 'act';
  axes: Axis[];
  head: Head | null;
  /** The output passed through Softmax or LogSoftmax over the head's outputs. */
  softmax: 'Softmax' | 'LogSoftmax' | null;
  embedding: boolean;
  /** A head of one output whose output axis was squeezed away (`fc(h).squeeze(-1)`). */
  squeezedK?: boolean;
  /** The padded steps (past each sequence's length) were filled with this value (Where with a lengths mask). */
  padFill?: number;
}

/** Where a per-sequence integer tensor's axes lie: batch, time, or a unit axis. */
export type SeqDim = 'B' | 'T' | 1;

export type Value =
  | { kind: 'float'; shape: number[]; data: Float32Array }
  | { kind: 'int'; shape: number[]; data: Dim[] }
  | { kind: 'zeros'; shape: Dim[] }
  | { kind: 'lengths'; input: string; float: boolean; shape: ('B' | 1)[]; offset?: number }
  | { kind: 'steps'; sym: string; shape: ('T' | 1)[] }
  | { kind: 'rows'; stride: Dim; lengths: string | null; offset: number; shape: ('B' | 1)[] }
  | { kind: 'mask'; input: string; valid: boolean; shape: SeqDim[] }
  | { kind: 'tokens'; input: string; axes: Axis[] }
  | { kind: 'input'; name: string }
  | Act;

/** What symbols stand for, learned from the first recurrent operator, and their fixed sizes if the graph gives them. */
export interface Symbols {
  role: Map<string, 'T' | 'B'>;
  size: Map<string, number>;
}

export function width(runs: readonly Run[]): number {
  return runs.reduce((n, r) => n + r.to - r.from, 0);
}

export function axisSize(axis: Axis): Dim {
  switch (axis.kind) {
    case 'seq': return axis.sym;
    case 'S': return axis.slots.length;
    case 'F': return width(axis.runs);
    case 'one': return 1;
    case 'K': return axis.size;
    case 'BT': return `${axis.batch}*${axis.time}`;
  }
}

export function staticSize(d: Dim, sym: Symbols): number | undefined {
  return typeof d === 'number' ? d : sym.size.get(d);
}

export function sameDim(a: Dim, b: Dim, sym: Symbols): boolean {
  if (a === b) return true;
  const x = staticSize(a, sym);
  return x !== undefined && x === staticSize(b, sym);
}

const TIME_WORDS: Record<Time, string> = {
  all: '', first: ', first step', last: ', last step', mean: ', mean over time', sum: ', sum over time', max: ', maximum over time',
  meanLen: ', mean over each sequence\'s steps', maxLen: ', maximum over each sequence\'s steps', lastLen: ', each sequence\'s last step',
};

export function describeRef(r: Ref, H?: number): string {
  const time = TIME_WORDS[r.time];
  if (r.what === 'x') return `model input${time}`;
  const dir = r.dir === 1 ? 'backward' : 'forward';
  const what = r.what === 'Y' ? 'output sequence' : r.what === 'h' ? 'final hidden state' : 'final cell state';
  return `layer ${r.layer} ${dir} ${what}${time}${H === undefined ? '' : ` (${H} units)`}`;
}

export function describeRuns(runs: readonly Run[]): string {
  return runs.map((r) => `${r.ref ? describeRef(r.ref) : 'each direction'} [${r.from}:${r.to}]`).join(' + ');
}

export function describeAxes(axes: readonly Axis[], sym: Symbols): string {
  return `[${axes.map((a) => {
    if (a.kind === 'seq') return sym.role.get(a.sym) === 'T' ? 'steps' : sym.role.get(a.sym) === 'B' ? 'batch' : a.sym;
    if (a.kind === 'S') return `directions:${a.slots.length}`;
    if (a.kind === 'F') return `features:${width(a.runs)}`;
    if (a.kind === 'K') return `outputs:${a.size}`;
    if (a.kind === 'BT') return 'batch·steps';
    return '1';
  }).join(', ')}]`;
}

/** A value in a message: what kind of thing it is ("a constant", "an activation", "graph input 'x'", …). */
export function describeValue(v: Value): string {
  if (v.kind === 'act') return v.head ? 'the head output' : 'an activation';
  if (v.kind === 'input') return `graph input '${v.name}'`;
  if (v.kind === 'steps') return 'the step indices (a Range over the time axis)';
  if (v.kind === 'rows') return 'indices of rows of the batch';
  if (v.kind === 'mask') return `a mask of the ${v.valid ? 'valid' : 'padded'} steps`;
  if (v.kind === 'lengths') return `the sequence lengths${v.offset ? ` ${v.offset < 0 ? '-' : '+'} ${Math.abs(v.offset)}` : ''}`;
  return v.kind === 'float' || v.kind === 'int' ? 'a constant' : v.kind;
}

/**
 * Broadcast the axis roles of per-sequence integer tensors (lengths [batch, 1], steps [steps], …) as ONNX does,
 * aligned at the right; null where a batch axis would meet a time axis.
 */
export function broadcastSeqDims(a: readonly SeqDim[], b: readonly SeqDim[]): SeqDim[] | null {
  const rank = Math.max(a.length, b.length);
  const out: SeqDim[] = [];
  for (let k = 0; k < rank; k++) {
    const x = a[k - (rank - a.length)] ?? 1;
    const y = b[k - (rank - b.length)] ?? 1;
    if (x !== 1 && y !== 1 && x !== y) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/**
 * Whether per-sequence roles line up with an activation's axes under broadcasting (aligned at the right):
 * each 'B' on its batch axis, each 'T' on its time axis, and both present.
 */
export function seqDimsFit(dims: readonly SeqDim[], axes: readonly Axis[], sym: Symbols): boolean {
  if (dims.length > axes.length || !dims.includes('B') || !dims.includes('T')) return false;
  return dims.every((d, k) => {
    if (d === 1) return true;
    const ax = axes[k + axes.length - dims.length]!;
    return ax.kind === 'seq' && sym.role.get(ax.sym) === d;
  });
}

/** The constant value of a decoded tensor (an initializer or a Constant node). */
export function constantValue(t: DecodedTensor): Value {
  return t.kind === 'float' ? { kind: 'float', shape: t.shape, data: t.data } : { kind: 'int', shape: t.shape, data: t.data };
}

/** Replace every ref of an activation (direction slots and feature runs). */
export function mapRefs(act: Act, f: (r: Ref) => Ref): Act {
  const axes = act.axes.map((a): Axis => {
    if (a.kind === 'S') return { kind: 'S', slots: a.slots.map(f) };
    if (a.kind === 'F') return { kind: 'F', runs: a.runs.map((r) => ({ ...r, ref: r.ref ? f(r.ref) : null })) };
    return a;
  });
  return { ...act, axes };
}

/** The time axis is gone (a step picked, or reduced): tag every feature with what it holds now. */
export function tagTime(act: Act, time: Time, where: string): Act {
  return mapRefs(act, (r) => {
    if (r.time !== 'all') throw new FormatError(`${where}: ${describeRef(r)} has no time axis left`);
    return { ...r, time };
  });
}

/** Fill the per-direction runs of a feature axis with one slot's ref. */
export function fillRuns(runs: readonly Run[], slot: Ref): Run[] {
  return runs.map((r) => ({ ...r, ref: r.ref ?? slot }));
}

/** Keep features `positions` of a feature axis (in that order), merging neighbours into runs. */
export function pickRuns(runs: readonly Run[], positions: readonly number[]): Run[] {
  const flat: { ref: Ref | null; at: number }[] = [];
  for (const r of runs) for (let i = r.from; i < r.to; i++) flat.push({ ref: r.ref, at: i });
  const out: Run[] = [];
  for (const p of positions) {
    const f = flat[p]!;
    const last = out[out.length - 1];
    if (last && last.ref === f.ref && last.to === f.at) last.to++;
    else out.push({ ref: f.ref, from: f.at, to: f.at + 1 });
  }
  return out;
}

/**
 * The single feature axis merged from `axes`
 * (a direction axis followed by per-direction features, unit axes dropped), or null.
 */
export function mergeAxes(axes: readonly Axis[]): Axis | null {
  const real = axes.filter((a) => a.kind !== 'one');
  if (real.length === 0) return { kind: 'one' };
  if (real.length === 1) return real[0]!;
  const [s, f] = real as [Axis, Axis];
  if (real.length === 2 && s.kind === 'S' && f.kind === 'F') {
    return { kind: 'F', runs: s.slots.flatMap((slot) => fillRuns(f.runs, slot)) };
  }
  return null;
}

/** The batch and time axes [batch, steps] flattened into one axis (batch-major), or null. */
export function mergeBatchTime(axes: readonly Axis[], sym: Symbols): Axis | null {
  const real = axes.filter((a) => a.kind !== 'one');
  const [b, t] = real;
  if (real.length !== 2 || b?.kind !== 'seq' || t?.kind !== 'seq') return null;
  return sym.role.get(b.sym) === 'B' && sym.role.get(t.sym) === 'T' ? { kind: 'BT', batch: b.sym, time: t.sym } : null;
}

/** Parse a symbolic dimension "in1-1" into its symbol and offset. */
export function parseSym(d: string): { sym: string; offset: number } {
  const m = /^(.*?)([+-]\d+)?$/.exec(d)!;
  return { sym: m[1]!, offset: m[2] === undefined ? 0 : Number(m[2]) };
}

export function symPlus(d: Dim, n: number, where: string): Dim {
  if (typeof d === 'number') return d + n;
  const { sym, offset } = parseSym(d);
  const o = offset + n;
  if (!Number.isSafeInteger(o)) throw new FormatError(`${where}: dimension arithmetic out of range`);
  return o === 0 ? sym : `${sym}${o > 0 ? '+' : ''}${o}`;
}

export function shapeText(shape: readonly Dim[]): string {
  return describeShape(shape as number[]);
}
