// ONNX → lstmkit: reads an ONNX model of recurrent layers (LSTM, GRU or RNN
// operators, forward, reverse or bidirectional, layout 0 or 1, with or
// without sequence_lens) followed by a dense head (MatMul + Add or Gemm) on
// h_n, out[:, -1] (each sequence's last step), the mean or the maximum over
// time, or every step, as torch.onnx.export writes them, and gives the
// SequenceModel config and its weights under PyTorch's names.
//
// The graph is followed symbolically (./values.ts) from its input to the
// chosen output; only the nodes that output depends on are read. Every
// operator, attribute and input either maps exactly onto the model or is
// refused with a FormatError naming the node — nothing is silently dropped.
//
// This module is the public API; the work is split by job:
//   ./graph.ts          follows the graph: the output, the nodes it depends
//                       on, the graph inputs, each node by its operator
//   ./constant-ops.ts   the glue operators' evaluation: constants and shape
//   ./shape-ops.ts      vectors, ops that rearrange axes, the head with the
//   ./head-ops.ts       pooling before it, and the lengths, step indices and
//   ./lengths-ops.ts    masks of a head that respects each sequence's length
//   ./recurrent.ts      LSTM, GRU and RNN nodes as layers, and their weights
//                       under PyTorch's names
//   ./assemble.ts       the SequenceModel config and weights from the output
//   ./head-reads.ts     what the head reads, in PyTorch's words, as a pooling
//   ./state.ts          what the parts share (ImportState), and ./node.ts
//                       one node's attributes and inputs (NodeCtx)

import type { ModelConfig } from '../../model/config.js';
import type { ModelOptions } from '../../model/model.js';
import type { SequenceModel } from '../../model/model.js';
import { FORMAT_VERSION, sequenceModelFromFile } from '../modelfile.js';
import { assembleModel } from './assemble.js';
import { followGraph } from './graph.js';
import { decodeModelProto } from './proto.js';

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
export { META_CONFIG, META_PREPROCESSING } from './assemble.js';

/** Import an ONNX model (the bytes of a .onnx file). */
export function importOnnx(bytes: Uint8Array, opts: OnnxImportOptions = {}): OnnxImport {
  const source = opts.source ?? '<onnx>';
  const model = decodeModelProto(bytes, source);
  return assembleModel(model, opts, followGraph(model, source, opts.output));
}

/** Import an ONNX model straight into a SequenceModel. */
export function loadOnnxModel(
  bytes: Uint8Array, opts: OnnxImportOptions = {}, modelOpts: ModelOptions = {},
): { model: SequenceModel; imported: OnnxImport } {
  const imported = importOnnx(bytes, opts);
  const contents = { config: imported.config, weights: imported.weights, formatVersion: FORMAT_VERSION };
  return { model: sequenceModelFromFile(contents, modelOpts, opts.source ?? '<onnx>', 'ONNX import'), imported };
}
