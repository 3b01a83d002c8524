// What the ONNX importer learns as it follows a graph, shared by its parts:
// the operator evaluation fills it in node by node (the symbols' roles, the
// embedding, the recurrent layers, notes), and the model assembly builds the
// SequenceModel from it once the output is reached.

import { FormatError } from '../../core/errors.js';
import type { Cell } from './gates.js';
import type { Run, Symbols } from './values.js';

/** A recurrent operator (LSTM, GRU or RNN) of the graph: one layer of the model, its weights still in ONNX's layout. */
export interface RecurrentOp {
  where: string;
  cell: Cell;
  layer: number;
  direction: 'forward' | 'reverse' | 'bidirectional';
  hidden: number;
  nonlinearity: 'tanh' | 'relu';
  /** Where each input feature of the operator comes from. */
  inputRuns: Run[];
  /** As in ONNX: W [D, G·H, I], R [D, G·H, H], B [D, 2·G·H] or null. */
  W: Float32Array;
  R: Float32Array;
  B: Float32Array | null;
  lengths: string | null;
}

/** One import's state: made when the graph is opened, filled while it is followed, read by the assembly. */
export class ImportState {
  /**
   * What the symbolic dimensions stand for (time or batch, once a recurrent operator reads them), and their sizes
   * where the graph fixes them.
   */
  readonly sym: Symbols = { role: new Map(), size: new Map() };
  /** The lengths inputs the head divides, masks or indexes by (the recurrent layers must read the same as sequence_lens). */
  readonly headLengths = new Set<string>();
  /** The recurrent operators read so far, one per layer. */
  readonly ops: RecurrentOp[] = [];
  /** What the import did that a user may want to know (OnnxImport.notes). */
  readonly notes: string[] = [];
  /** A Softmax of the imported output is also a graph output: its class probabilities. */
  softmaxSibling = false;
  /** The table the token ids are gathered from, for a model of tokens. */
  embedding: { table: Float32Array; rows: number; dim: number } | null = null;
  /** The graph input the recurrent layers read; whether it is batch-first is known once the first of them reads it. */
  dataInput: { name: string; tokens: boolean; features: number; batchFirst?: boolean } | null = null;

  constructor(readonly source: string, readonly opset: number) {}

  /** An error naming the file. */
  fail(message: string): FormatError {
    return new FormatError(`${this.source}: ${message}`);
  }
}
