// Gate orders of the recurrent operators, and the conversion of one
// direction's weights between ONNX's stacked layout and PyTorch's names.
//
//   PyTorch   LSTM i, f, g, o     GRU r, z, n     RNN  (one block)
//   ONNX      LSTM i, o, f, c     GRU z, r, h
//
// ONNX keeps a layer's directions stacked: W [D, G·H, I], R [D, G·H, H] and
// B [D, 2·G·H] = [Wb, Rb] (the input and the recurrent bias of PyTorch's
// bias_ih and bias_hh). The engine only ever sees PyTorch's layout.

/** The config's cell kinds (the plain RNN's nonlinearity does not change its weights). */
export type Cell = 'lstm' | 'gru' | 'rnn';

/** ONNX_ORDER[cell][k] = the PyTorch block that is ONNX block k. */
const ONNX_ORDER: Record<Cell, readonly number[]> = {
  lstm: [0, 3, 1, 2], // i ← i, o ← o, f ← f, c ← g
  gru: [1, 0, 2], // z ← z, r ← r, h ← n
  rnn: [0],
};

/** TORCH_ORDER[cell][j] = the ONNX block that is PyTorch block j. */
const TORCH_ORDER: Record<Cell, readonly number[]> = {
  lstm: [0, 2, 3, 1], // i ← i, f ← f, g ← c, o ← o
  gru: [1, 0, 2],
  rnn: [0],
};

/** Reorder the gate blocks of rows: out block k = in block order[k]; each block is `rows` rows of `cols`. */
function reorder(data: ArrayLike<number>, rows: number, cols: number, order: readonly number[]): Float32Array {
  const block = rows * cols;
  const out = new Float32Array(order.length * block);
  order.forEach((from, k) => {
    for (let i = 0; i < block; i++) out[k * block + i] = data[from * block + i]!;
  });
  return out;
}

/** PyTorch gate order → ONNX gate order (a weight [G·H, cols] or a bias [G·H] with cols = 1). */
export function toOnnxGates(cell: Cell, data: ArrayLike<number>, hidden: number, cols = 1): Float32Array {
  return reorder(data, hidden, cols, ONNX_ORDER[cell]);
}

/** ONNX gate order → PyTorch gate order. */
export function toTorchGates(cell: Cell, data: ArrayLike<number>, hidden: number, cols = 1): Float32Array {
  return reorder(data, hidden, cols, TORCH_ORDER[cell]);
}
