// The recurrent operators of an ONNX graph — LSTM, GRU and RNN nodes — as the
// layers of a SequenceModel. Each node is checked against what lstmkit's
// layers compute (activations, clip, input_forget, linear_before_reset,
// peepholes, zero initial states, sequence_lens from a graph input) and
// recorded in the ImportState as a RecurrentOp; its outputs become
// activations that say which layer and direction each feature holds. Once
// the graph is read, recurrentWeights gives the layers' weights under
// PyTorch's names, gates reordered by ./gates.ts.

import { describeShape } from '../../core/errors.js';
import { gateCount } from '../../kernels/backend.js';
import { toTorchGates, type Cell } from './gates.js';
import type { NodeCtx, OpEval } from './node.js';
import type { ImportState, RecurrentOp } from './state.js';
import { describeAxes, describeRuns, describeValue, shapeText, width, type Act, type Axis, type Dim, type Ref, type Value } from './values.js';

const DEFAULT_ACTIVATIONS: Record<Cell, string[]> = { lstm: ['sigmoid', 'tanh', 'tanh'], gru: ['sigmoid', 'tanh'], rnn: ['tanh'] };

/** The recurrent operators, by op_type. */
export const RECURRENT_OPS: ReadonlyMap<string, OpEval> = new Map<string, OpEval>([
  ['LSTM', (state, ctx, ins) => recurrent(state, ctx, 'lstm', ins)],
  ['GRU', (state, ctx, ins) => recurrent(state, ctx, 'gru', ins)],
  ['RNN', (state, ctx, ins) => recurrent(state, ctx, 'rnn', ins)],
]);

/**
 * One recurrent node: checked, recorded as the layer after the one its X comes from, and its outputs (Y, Y_h, and Y_c
 * for an LSTM) given as activations of that layer.
 */
function recurrent(state: ImportState, ctx: NodeCtx, cell: Cell, ins: (Value | undefined)[]): (Value | undefined)[] {
  const op = cell.toUpperCase();
  const own = cell === 'lstm' ? ['input_forget'] : cell === 'gru' ? ['linear_before_reset'] : [];
  ctx.allow('activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'layout', ...own);
  if (ctx.attr('clip')) throw ctx.fail(`attribute clip (cell clipping at ${ctx.float('clip', 0)}) is not supported: PyTorch's and lstmkit's ${op} do not clip`);
  if (cell === 'lstm' && ctx.int('input_forget', 0) !== 0) throw ctx.fail('attribute input_forget=1 (coupled input and forget gates) is not supported');
  if (cell === 'gru' && ctx.int('linear_before_reset', 0) !== 1) {
    throw ctx.fail(
      'linear_before_reset=0 (the ONNX default, Keras reset_after=False) applies the reset gate before the recurrent weights; ' +
      'PyTorch\'s and lstmkit\'s GRU apply it after (linear_before_reset=1), so this GRU cannot be imported exactly',
    );
  }
  const direction = ctx.str('direction', 'forward');
  if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional') {
    throw ctx.fail(`direction '${direction}' is not forward, reverse or bidirectional`);
  }
  const D = direction === 'bidirectional' ? 2 : 1;
  const layout = ctx.int('layout', 0);
  if (layout !== 0 && layout !== 1) throw ctx.fail(`layout ${layout} is not 0 or 1`);
  if (ctx.attr('activation_alpha') || ctx.attr('activation_beta')) {
    throw ctx.fail('attributes activation_alpha / activation_beta (parameters of other activations) are not supported');
  }
  let nonlinearity: 'tanh' | 'relu' = 'tanh';
  if (ctx.attr('activations')) {
    const acts = ctx.strs('activations').map((s) => s.toLowerCase());
    const per = DEFAULT_ACTIVATIONS[cell].length;
    if (acts.length !== per * D) throw ctx.fail(`activations lists ${acts.length} functions; ${op} ${direction} takes ${per * D}`);
    const first = acts.slice(0, per);
    const same = acts.slice(per).every((x, k) => x === first[k]);
    if (cell === 'rnn' && first[0] === 'relu' && same) nonlinearity = 'relu';
    else if (!same || first.some((x, k) => x !== DEFAULT_ACTIVATIONS[cell][k])) {
      const supported = cell === 'rnn'
        ? 'Tanh or Relu'
        : DEFAULT_ACTIVATIONS[cell].map((s) => s[0]!.toUpperCase() + s.slice(1)).join(', ');
      throw ctx.fail(`activations [${ctx.strs('activations').join(', ')}] are not supported: lstmkit's ${op} uses ${supported}`);
    }
  }
  const maxInputs = cell === 'lstm' ? 8 : 6;
  if (ins.length > maxInputs) throw ctx.fail(`has ${ins.length} inputs; ${op} takes at most ${maxInputs}`);
  if (ctx.node.output.length > (cell === 'lstm' ? 3 : 2)) throw ctx.fail(`has ${ctx.node.output.length} outputs; ${op} has ${cell === 'lstm' ? 3 : 2}`);

  // X: the model input or the previous layer's output sequence, [T, B, I] (layout 0) or [B, T, I].
  const x = ctx.activation(ctx.input(ins, 0), 'X');
  if (x.padFill !== undefined) throw ctx.fail(`X has its padded steps filled with ${x.padFill}; a recurrent layer reads the output as it is`);
  if (x.head || x.softmax || x.axes.length !== 3 || x.axes[0]!.kind !== 'seq' || x.axes[1]!.kind !== 'seq' || x.axes[2]!.kind !== 'F') {
    const expected = layout === 0 ? '[steps, batch, features]' : '[batch, steps, features]';
    throw ctx.fail(
      `X is ${describeAxes(x.axes, state.sym)}; expected ${expected} of the model input or a previous layer's output sequence`,
    );
  }
  const [first, second] = [x.axes[0]!.sym, x.axes[1]!.sym];
  bind(state, ctx, layout === 0 ? first : second, 'T');
  bind(state, ctx, layout === 0 ? second : first, 'B');
  if (state.dataInput && state.dataInput.batchFirst === undefined) state.dataInput.batchFirst = state.sym.role.get('in0') === 'B';
  const inputRuns = x.axes[2]!.runs;
  const refs = inputRuns.map((r) => r.ref!);
  let layer: number;
  if (refs.every((r) => r.what === 'x' && r.time === 'all')) layer = 0;
  else if (refs.every((r) => r.what === 'Y' && r.time === 'all' && r.layer === refs[0]!.layer)) layer = refs[0]!.layer + 1;
  else throw ctx.fail(`X holds ${describeRuns(inputRuns)}; a recurrent layer reads the model input or the whole output sequence of one previous layer`);
  const clash = state.ops.find((o) => o.layer === layer);
  if (clash) throw ctx.fail(`reads the same input as ${clash.where}: a SequenceModel is one stack of layers, not parallel branches`);

  // Weights.
  const I = width(inputRuns);
  const W = floatConst(ctx, ins[1], 'W');
  const R = floatConst(ctx, ins[2], 'R');
  const G = gateCount(cell);
  if (W.shape.length !== 3 || R.shape.length !== 3) throw ctx.fail(`W ${describeShape(W.shape)} and R ${describeShape(R.shape)} must be 3-D`);
  const H = ctx.attr('hidden_size') ? ctx.int('hidden_size') : R.shape[2]!;
  if (!(H >= 1)) throw ctx.fail(`hidden_size ${H} is not a positive size`);
  const want = (name: string, got: readonly number[], shape: number[]): void => {
    if (got.length !== shape.length || got.some((d, k) => d !== shape[k])) {
      throw ctx.fail(
        `${name} has shape ${describeShape(got)}; ${op} ${direction} with hidden_size ${H} reading ${I} features expects ${describeShape(shape)}`,
      );
    }
  };
  want('W', W.shape, [D, G * H, I]);
  want('R', R.shape, [D, G * H, H]);
  let B: Float32Array | null = null;
  if (ins[3] !== undefined) {
    const b = floatConst(ctx, ins[3], 'B');
    want('B', b.shape, [D, 2 * G * H]);
    B = b.data;
  }
  let lengths: string | null = null;
  const seqLens = ins[4];
  if (seqLens !== undefined) {
    if (seqLens.kind !== 'lengths' || seqLens.float || seqLens.shape.length !== 1) {
      throw ctx.fail(`sequence_lens is ${describeValue(seqLens)}; lstmkit reads sequence lengths from an integer graph input [batch]`);
    }
    lengths = seqLens.input;
  }
  const stateShape = layout === 0 ? [D, 'B', H] : ['B', D, H];
  zeroState(ctx, ins[5], 'initial_h', stateShape);
  if (cell === 'lstm') {
    zeroState(ctx, ins[6], 'initial_c', stateShape);
    const P = ins[7];
    if (P !== undefined) {
      if (!(P.kind === 'float' && P.data.every((v) => v === 0)) && P.kind !== 'zeros') {
        throw ctx.fail('peepholes (input P) are not supported: PyTorch\'s and lstmkit\'s LSTM have none');
      }
      state.notes.push(`${ctx.where.slice(state.source.length + 2)}: its peephole weights P are all zero, which is an LSTM without peepholes`);
    }
  }

  const where = ctx.where.slice(state.source.length + 2);
  state.ops.push({
    where, cell, layer, direction, hidden: H, nonlinearity, inputRuns, W: W.data, R: R.data, B, lengths,
  });
  const dirs = direction === 'forward' ? [0] : direction === 'reverse' ? [1] : [0, 1];
  const slots = (what: 'Y' | 'h' | 'c'): Axis => ({ kind: 'S', slots: dirs.map((dir): Ref => ({ what, layer, dir, time: 'all' })) });
  const T: Axis = { kind: 'seq', sym: layout === 0 ? first : second };
  const Bx: Axis = { kind: 'seq', sym: layout === 0 ? second : first };
  const F: Axis = { kind: 'F', runs: [{ ref: null, from: 0, to: H }] };
  const act = (axes: Axis[]): Act => ({ kind: 'act', axes, head: null, softmax: null, embedding: x.embedding });
  const Y = act(layout === 0 ? [T, slots('Y'), Bx, F] : [Bx, T, slots('Y'), F]);
  const finalState = (what: 'h' | 'c'): Act => act(layout === 0 ? [slots(what), Bx, F] : [Bx, slots(what), F]);
  return cell === 'lstm' ? [Y, finalState('h'), finalState('c')] : [Y, finalState('h')];
}

function bind(state: ImportState, ctx: NodeCtx, s: string, role: 'T' | 'B'): void {
  const had = state.sym.role.get(s);
  const axis = (r: 'T' | 'B'): string => (r === 'T' ? 'time' : 'batch');
  if (had !== undefined && had !== role) {
    throw ctx.fail(`reads as ${axis(role)} the axis an earlier recurrent operator read as ${axis(had)}`);
  }
  for (const [other, r] of state.sym.role) {
    if (other !== s && r === role) throw ctx.fail(`reads a different ${axis(role)} axis than an earlier recurrent operator`);
  }
  state.sym.role.set(s, role);
}

function floatConst(ctx: NodeCtx, v: Value | undefined, name: string): { shape: number[]; data: Float32Array } {
  if (v === undefined) throw ctx.fail(`input ${name} is missing`);
  if (v.kind !== 'float') throw ctx.fail(`input ${name} is ${describeValue(v)}; lstmkit imports constant weights (initializers)`);
  return v;
}

function zeroState(ctx: NodeCtx, v: Value | undefined, name: string, shape: Dim[]): void {
  if (v === undefined) return;
  if (v.kind === 'input') throw ctx.fail(`${name} is graph input '${v.name}'; a SequenceModel starts every sequence from a zero state`);
  const zero = v.kind === 'zeros' || (v.kind === 'float' && v.data.every((x) => x === 0));
  if (!zero) {
    const what = v.kind === 'float' ? 'a nonzero constant (a learned initial state)' : describeValue(v);
    throw ctx.fail(`${name} is ${what}; a SequenceModel starts every sequence from a zero state`);
  }
  const got = (v as { shape: Dim[] }).shape;
  const ok = got.length === 3 && got.every((d, k) => typeof d !== 'number' || typeof shape[k] !== 'number' || d === shape[k]);
  if (!ok) throw ctx.fail(`${name} has shape ${shapeText(got)}; expected ${shapeText(shape.map((d) => (d === 'B' ? 'batch' : d)))}`);
}

/**
 * The recurrent layers' weights under PyTorch's names (rnn.weight_ih_l0, …, rnn.bias_hh_l1_reverse), gates in
 * PyTorch's order. A layer reads its input features perhaps in another order, or not all of them: W's columns
 * are scattered to the features' places in the model's input (I features) or the previous layer's output (D·H).
 * A direction an operator does not have, in a bidirectional model, gets zero weights.
 */
export function recurrentWeights(
  state: ImportState,
  ops: readonly RecurrentOp[],
  { cell, H, I, D }: { cell: Cell; H: number; I: number; D: number },
): Record<string, { shape: number[]; data: Float32Array }> {
  const G = gateCount(cell);
  const column = (ref: Ref, pos: number, layer: number): number => {
    if (layer === 0) return pos;
    if (D === 1 && ref.dir !== 0) throw state.fail('internal: a backward feature in a unidirectional model');
    return ref.dir * H + pos;
  };
  const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const o of ops) {
    const l = o.layer;
    const inModel = l === 0 ? I : D * H;
    const opDirs = o.direction === 'forward' ? [0] : o.direction === 'reverse' ? [1] : [0, 1];
    const inOp = width(o.inputRuns);
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      const k = opDirs.indexOf(d);
      const wih = new Float32Array(G * H * inModel);
      const whh = new Float32Array(G * H * H);
      let bih = new Float32Array(G * H);
      let bhh = new Float32Array(G * H);
      if (k >= 0) {
        let c = 0;
        for (const r of o.inputRuns) {
          for (let pos = r.from; pos < r.to; pos++, c++) {
            const e = column(r.ref!, pos, l);
            for (let row = 0; row < G * H; row++) wih[row * inModel + e]! += o.W[(k * G * H + row) * inOp + c]!;
          }
        }
        whh.set(o.R.subarray(k * G * H * H, (k + 1) * G * H * H));
        if (o.B) {
          bih = o.B.slice(k * 2 * G * H, k * 2 * G * H + G * H);
          bhh = o.B.slice(k * 2 * G * H + G * H, (k + 1) * 2 * G * H);
        }
      } else {
        const missing = d === 1 ? 'backward' : 'forward';
        state.notes.push(
          `${o.where} has no ${missing} direction; it is imported as a bidirectional layer whose ${missing} direction has zero weights ` +
          '(its output is exactly zero, and nothing reads it)',
        );
      }
      weights[`rnn.weight_ih${sfx}`] = { shape: [G * H, inModel], data: toTorchGates(cell, wih, H, inModel) };
      weights[`rnn.weight_hh${sfx}`] = { shape: [G * H, H], data: toTorchGates(cell, whh, H, H) };
      weights[`rnn.bias_ih${sfx}`] = { shape: [G * H], data: toTorchGates(cell, bih, H) };
      weights[`rnn.bias_hh${sfx}`] = { shape: [G * H], data: toTorchGates(cell, bhh, H) };
    }
  }
  return weights;
}
