// Row-wise joins and splits over arena tensors: [a; b] per row, and back.
// The seq2seq decoder feeds [embedding; h̃] this way; the tagger joins each
// word's vector with its characters' summary.

import type { Backend } from '../kernels/backend.js';

/** out[r] = [a[r] (na values); b[r] (nb values)] for r < rows; b = -1 means zeros. */
export function interleave(be: Backend, rows: number, a: number, na: number, b: number, nb: number, out: number): void {
  const w = na + nb;
  for (let r = 0; r < rows; r++) {
    be.copy(na, a + r * na, out + r * w);
    if (b < 0) be.fill(nb, out + r * w + na, 0);
    else be.copy(nb, b + r * nb, out + r * w + na);
  }
}

/** The inverse of interleave: in[r] = [a[r]; b[r]] split into a and b. */
export function deinterleave(be: Backend, rows: number, from: number, na: number, a: number, nb: number, b: number): void {
  const w = na + nb;
  for (let r = 0; r < rows; r++) {
    be.copy(na, from + r * w, a + r * na);
    be.copy(nb, from + r * w + na, b + r * nb);
  }
}
