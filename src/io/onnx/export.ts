// lstmkit → ONNX: writes a SequenceModel as an ONNX graph that onnxruntime
// (or any ONNX runtime) runs with the same results:
//
//   x [batch, steps, features]  (or tokens [batch, steps] → Gather from the embedding table)
//   lengths [batch] (int32)     → sequence_lens of every recurrent operator
//   → (Transpose to the operators' layout) → LSTM / GRU / RNN per layer, with
//     the directions' outputs merged (Transpose + Reshape) between layers
//   → the head: per sequence Gemm on what the pooling reads — the last
//     layer's final states Y_h ('hn'); its output at each sequence's last step
//     ('lastOutput': GatherND at lengths - 1, or the last step without
//     lengths); the mean over each sequence's steps ('mean': the sum divided
//     by the lengths); their maximum ('max': ReduceMax over time, the padded
//     steps masked to -inf by Less(Range(steps), lengths) and Where) — per
//     step MatMul + Add
//   → y (values or logits); classifiers also give probabilities (Softmax)
//
// Layout 0 keeps the recurrent operators time-major ([steps, batch, ·], the
// layout every runtime supports); layout 1 makes them batch-first. The graph's
// input and output are batch-first unless `batchFirst: false`. The config (and
// any preprocessing) travels in the model's metadata, so importing the file
// back gives the same lstmkit model.

import { ValueError } from '../../core/errors.js';
import type { PoolingKind } from '../../layers/pooling.js';
import { poolingOf } from '../../model/config.js';
import type { SequenceModel } from '../../model/model.js';
import { gateCount } from '../../kernels/backend.js';
import { toOnnxGates } from './gates.js';
import { META_CONFIG, META_PREPROCESSING } from './import.js';
import { ONNX_OPSETS } from './opsets.js';
import { DataType, encodeModelProto, floatTensor, int64Tensor } from './proto.js';

export { ONNX_OPSETS } from './opsets.js';

export interface OnnxExportOptions {
  /** The recurrent operators' layout attribute: 0 time-major (default), 1 batch-first. */
  layout?: 0 | 1;
  /** The graph's input and output are [batch, steps, ·] (default) or [steps, batch, ·]. */
  batchFirst?: boolean;
  /** Add the int32 `lengths` input that feeds sequence_lens, so padded batches are exact (default true). */
  lengths?: boolean;
  /** The ONNX operator set, 14 (default) to 21. */
  opset?: number;
  /** Preprocessing to keep in the metadata (scalers, tokenizer), JSON. */
  preprocessing?: unknown;
}

/** AttributeProto.AttributeType values. */
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7, STRINGS: 8 } as const;

type Attr = number | number[] | string | string[] | { float: number };

/** The IR version that goes with an opset (onnx/helper.py's VERSION_TABLE). */
function irVersion(opset: number): number {
  return opset <= 14 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

class GraphBuilder {
  readonly nodes: Record<string, unknown>[] = [];
  readonly initializers: Record<string, unknown>[] = [];
  private readonly used = new Set<string>();

  unique(name: string): string {
    let n = name;
    for (let k = 1; this.used.has(n); k++) n = `${name}_${k}`;
    this.used.add(n);
    return n;
  }

  float(name: string, shape: readonly number[], data: ArrayLike<number>): string {
    const n = this.unique(name);
    this.initializers.push(floatTensor(n, shape, data));
    return n;
  }

  /** An int64 vector initializer, or a scalar (`scalar`: one value, shape []). */
  int64(name: string, data: readonly number[], scalar = false): string {
    const n = this.unique(name);
    this.initializers.push(int64Tensor(n, scalar ? [] : [data.length], data));
    return n;
  }

  node(op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): string[] {
    const name = this.unique(`/${op}_${this.nodes.length}`);
    const attribute = Object.entries(attrs).map(([key, v]) => {
      if (typeof v === 'number') return { name: key, type: AttributeType.INT, i: v };
      if (typeof v === 'string') return { name: key, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
      if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return { name: key, type: AttributeType.INTS, ints: v };
      if (Array.isArray(v)) {
        const strings = (v as string[]).map((s) => new TextEncoder().encode(s));
        return { name: key, type: AttributeType.STRINGS, strings };
      }
      return { name: key, type: AttributeType.FLOAT, f: v.float };
    });
    const outs = outputs.map((o) => (o === '' ? '' : this.used.has(o) ? this.unique(o) : (this.used.add(o), o)));
    this.nodes.push({ name, op_type: op, input: inputs, output: outs, attribute });
    return outs;
  }

  one(op: string, inputs: string[], output: string, attrs: Record<string, Attr> = {}): string {
    return this.node(op, inputs, [output], attrs)[0]!;
  }
}

/** What the per-sequence head's pooling reads from: the last layer's Y_h, and its merged output sequence. */
interface PoolInputs {
  lastYh: string;
  /** Y merged to [steps, batch, D·H] or [batch, steps, D·H] (currentBatchFirst). */
  current: string;
  currentBatchFirst: boolean;
  layout: 0 | 1;
  withLengths: boolean;
  opset: number;
  /** Transpose `current` to batch-first or time-major (a no-op where it is already). */
  toLayout: (value: string, batchFirst: boolean) => string;
}

/** The pooled features [batch, D·H] the head reads, for each pooling; with lengths, each sequence's own steps only. */
function pool(g: GraphBuilder, pooling: PoolingKind, p: PoolInputs): string {
  const timeAxis = p.currentBatchFirst ? 1 : 0;
  const overTime = (op: 'ReduceMean' | 'ReduceMax', input: string, axis: number, output: string): string => (p.opset >= 18
    ? g.one(op, [input, g.int64('/const/time_axis', [axis])], output, { keepdims: 0 })
    : g.one(op, [input], output, { axes: [axis], keepdims: 0 }));
  const lengthsInt64 = (): string => g.one('Cast', ['lengths'], '/head/lengths_int64', { to: DataType.INT64 });
  switch (pooling) {
    case 'hn': {
      // Y_h [D, B, H] (layout 0) or [B, D, H] → [B, D·H]: forward final state, then backward.
      const bdh = p.layout === 0 ? g.one('Transpose', [p.lastYh], '/head/Y_h_BDH', { perm: [1, 0, 2] }) : p.lastYh;
      return g.one('Reshape', [bdh, g.int64('/const/flatten_directions', [0, -1])], '/head/final_states');
    }
    case 'mean': {
      if (!p.withLengths) return overTime('ReduceMean', p.current, timeAxis, '/head/mean_over_steps');
      const sum = g.one('ReduceSum', [p.current, g.int64('/const/time_axis', [timeAxis])], '/head/sum_over_steps', { keepdims: 0 });
      const lengthsF = g.one('Cast', ['lengths'], '/head/lengths_float', { to: DataType.FLOAT });
      const column = g.one('Unsqueeze', [lengthsF, g.int64('/const/axis_1', [1])], '/head/lengths_column');
      return g.one('Div', [sum, column], '/head/mean_over_steps');
    }
    case 'lastOutput': {
      if (!p.withLengths) return g.one('Gather', [p.current, g.int64('/const/last_step', [-1], true)], '/head/last_step', { axis: timeAxis });
      // Each sequence's step lengths - 1 of [B, T, D·H]: GatherND with one index per sequence.
      const seq = p.toLayout(p.current, true);
      const last = g.one('Sub', [lengthsInt64(), g.int64('/const/one', [1])], '/head/last_steps');
      const index = g.one('Unsqueeze', [last, g.int64('/const/axis_1', [1])], '/head/last_step_index');
      return g.one('GatherND', [seq, index], '/head/last_step', { batch_dims: 1 });
    }
    case 'max': {
      if (!p.withLengths) return overTime('ReduceMax', p.current, timeAxis, '/head/max_over_steps');
      // The padded steps (the recurrent operators leave zeros there) must not win: mask them to -inf first.
      const seq = p.toLayout(p.current, true);
      const steps = g.one('Gather', [g.one('Shape', [seq], '/head/shape'), g.int64('/const/time_dim', [1], true)], '/head/steps', { axis: 0 });
      const range = g.one('Range', [g.int64('/const/zero', [0], true), steps, g.int64('/const/step', [1], true)], '/head/step_indices');
      const column = g.one('Unsqueeze', [lengthsInt64(), g.int64('/const/axis_1', [1])], '/head/lengths_column');
      const valid = g.one('Less', [range, column], '/head/valid_steps');
      const mask = g.one('Unsqueeze', [valid, g.int64('/const/axis_2', [2])], '/head/valid_steps_mask');
      const masked = g.one('Where', [mask, seq, g.float('/const/minus_inf', [], [-Infinity])], '/head/padding_masked');
      return overTime('ReduceMax', masked, 1, '/head/max_over_steps');
    }
  }
}

function tensorType(elem: number, dims: (number | string)[]): Record<string, unknown> {
  return { tensor_type: { elem_type: elem, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } };
}

/** The ONNX file (bytes) of a model. */
export function exportOnnx(model: SequenceModel, opts: OnnxExportOptions = {}): Uint8Array {
  const config = model.config;
  const layout = opts.layout ?? 0;
  const batchFirst = opts.batchFirst ?? true;
  const withLengths = opts.lengths ?? true;
  const opset = opts.opset ?? 14;
  if (layout !== 0 && layout !== 1) throw new ValueError(`ONNX export: layout must be 0 or 1, got ${String(layout)}`);
  if (!Number.isInteger(opset) || opset < ONNX_OPSETS.min || opset > ONNX_OPSETS.max) {
    throw new ValueError(
      `ONNX export: opset must be an integer from ${ONNX_OPSETS.min} (the first with the recurrent operators' layout attribute) ` +
      `to ${ONNX_OPSETS.max}, got ${opset}`,
    );
  }
  const { cell, hiddenSize: H } = config.rnn;
  if (config.rnn.projSize) {
    throw new ValueError(
      `ONNX export: ONNX's LSTM has no projection, so a model with rnn.projSize (${config.rnn.projSize}) cannot be exported`,
    );
  }
  const L = config.rnn.numLayers ?? 1;
  const D = config.rnn.bidirectional ? 2 : 1;
  const G = gateCount(cell);
  const dict = model.stateDict();
  const weight = (name: string): ArrayLike<number> => {
    const w = dict[name];
    if (!w) throw new ValueError(`ONNX export: the model has no parameter ${name}`);
    return w;
  };
  const g = new GraphBuilder();
  const inputs: Record<string, unknown>[] = [];
  const seqDims = (inner: (number | string)[]): (number | string)[] => (batchFirst ? ['batch', 'steps', ...inner] : ['steps', 'batch', ...inner]);

  // Input (and embedding).
  let current: string;
  let inputSize: number;
  if (config.input.type === 'tokens') {
    const vocab = config.input.vocabulary!.length;
    inputSize = config.input.embeddingDim;
    g.unique('tokens');
    inputs.push({ name: 'tokens', type: tensorType(DataType.INT64, seqDims([])), doc_string: 'token ids (0 = padding, 1 = unknown)' });
    const table = g.float('embedding.weight', [vocab, inputSize], weight('embedding.weight'));
    current = g.one('Gather', [table, 'tokens'], '/embedding/output');
  } else {
    inputSize = config.input.size;
    g.unique('x');
    inputs.push({ name: 'x', type: tensorType(DataType.FLOAT, seqDims([inputSize])), doc_string: 'input sequences, zero padded' });
    current = 'x';
  }
  if (withLengths) {
    g.unique('lengths');
    inputs.push({ name: 'lengths', type: tensorType(DataType.INT32, ['batch']), doc_string: 'true length of each sequence (1 … steps)' });
  }
  let currentBatchFirst = batchFirst;
  const toLayout = (value: string, wantBatchFirst: boolean, rank = 3): string => {
    if (currentBatchFirst === wantBatchFirst) return value;
    currentBatchFirst = wantBatchFirst;
    const perm = [1, 0, ...Array.from({ length: rank - 2 }, (_, k) => k + 2)];
    return g.one('Transpose', [value], `${value}/transposed`, { perm });
  };
  const opBatchFirst = layout === 1;
  let merge = '';

  // The recurrent stack.
  const op = cell.toUpperCase();
  let lastYh = '';
  for (let l = 0; l < L; l++) {
    const X = toLayout(current, opBatchFirst);
    const inSize = l === 0 ? inputSize : D * H;
    const W = new Float32Array(D * G * H * inSize);
    const R = new Float32Array(D * G * H * H);
    const Bias = new Float32Array(D * 2 * G * H);
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      W.set(toOnnxGates(cell, weight(`rnn.weight_ih${sfx}`), H, inSize), d * G * H * inSize);
      R.set(toOnnxGates(cell, weight(`rnn.weight_hh${sfx}`), H, H), d * G * H * H);
      Bias.set(toOnnxGates(cell, weight(`rnn.bias_ih${sfx}`), H), d * 2 * G * H);
      Bias.set(toOnnxGates(cell, weight(`rnn.bias_hh${sfx}`), H), d * 2 * G * H + G * H);
    }
    const attrs: Record<string, Attr> = { hidden_size: H };
    if (D === 2) attrs.direction = 'bidirectional';
    if (layout === 1) attrs.layout = 1;
    if (cell === 'gru') attrs.linear_before_reset = 1;
    if (cell === 'rnn' && (config.rnn.nonlinearity ?? 'tanh') === 'relu') attrs.activations = Array.from({ length: D }, () => 'Relu');
    const [Y, Yh] = g.node(op, [
      X,
      g.float(`/rnn/W_l${l}`, [D, G * H, inSize], W),
      g.float(`/rnn/R_l${l}`, [D, G * H, H], R),
      g.float(`/rnn/B_l${l}`, [D, 2 * G * H], Bias),
      withLengths ? 'lengths' : '',
    ], [`/rnn/${op}_l${l}/Y`, `/rnn/${op}_l${l}/Y_h`], attrs);
    lastYh = Yh!;
    if (l === L - 1 && config.output.mode === 'sequence' && poolingOf(config.output) === 'hn') break;
    // Y is [T, D, B, H] (layout 0) or [B, T, D, H]: directions next to features, then merged.
    const seq = layout === 0 ? g.one('Transpose', [Y!], `/rnn/${op}_l${l}/Y_TBDH`, { perm: [0, 2, 1, 3] }) : Y!;
    merge ||= g.int64('/const/merge_directions', [0, 0, -1]);
    current = g.one('Reshape', [seq, merge], `/rnn/output_l${l}`);
    currentBatchFirst = opBatchFirst;
  }

  // The head.
  const K = model.outputSize;
  const F = D * H;
  const headW = weight('head.weight');
  const headB = g.float('head.bias', [K], weight('head.bias'));
  const output = config.output;
  let y: string;
  let yDims: (number | string)[];
  if (output.mode === 'sequence') {
    const pooled = pool(g, poolingOf(output), { lastYh, current, currentBatchFirst, layout, withLengths, opset, toLayout });
    y = g.one('Gemm', [pooled, g.float('head.weight', [K, F], headW), headB], 'y', { transB: 1 });
    yDims = ['batch', K];
  } else {
    const seq = toLayout(current, batchFirst);
    const wT = new Float32Array(F * K); // [F, K]
    for (let k = 0; k < K; k++) for (let f = 0; f < F; f++) wT[f * K + k] = headW[k * F + f]!;
    const mm = g.one('MatMul', [seq, g.float('head.weight_t', [F, K], wT)], '/head/matmul');
    y = g.one('Add', [mm, headB], 'y');
    yDims = seqDims([K]);
  }
  const outputs: Record<string, unknown>[] = [{
    name: y,
    type: tensorType(DataType.FLOAT, yDims),
    doc_string: output.type === 'classification' ? 'logits, one per class' : 'predicted values',
  }];
  if (output.type === 'classification') {
    const p = g.one('Softmax', [y], 'probabilities', { axis: -1 });
    outputs.push({ name: p, type: tensorType(DataType.FLOAT, yDims), doc_string: `class probabilities (${output.classes!.join(', ')})` });
  }

  const metadata = [{ key: META_CONFIG, value: JSON.stringify(config) }];
  if (opts.preprocessing !== undefined) {
    metadata.push({ key: META_PREPROCESSING, value: JSON.stringify(opts.preprocessing) });
  }
  return encodeModelProto({
    ir_version: irVersion(opset),
    opset_import: [{ domain: '', version: opset }],
    producer_name: 'lstmkit',
    graph: {
      name: 'lstmkit',
      node: g.nodes,
      initializer: g.initializers,
      input: inputs,
      output: outputs,
      doc_string: `${op} ${L} layer${L > 1 ? 's' : ''}${D === 2 ? ', bidirectional' : ''}, hidden ${H}; ${output.mode} ${output.type}`,
    },
    metadata_props: metadata,
  });
}
