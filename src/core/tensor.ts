// The public tensor: a plain flat array and a shape, row-major.

import type { Floats } from './arena.js';
import { ShapeError, describeShape } from './errors.js';

export interface Tensor {
  data: Floats;
  shape: number[];
}

export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/** A tensor over `data` (a Float32Array is used as is; other arrays are copied to Float32). */
export function tensor(data: Floats | ArrayLike<number>, shape: readonly number[]): Tensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`tensor: shape ${describeShape(shape)} has a dimension that is not a non-negative integer`);
  }
  const floats = data instanceof Float32Array || data instanceof Float64Array ? data : Float32Array.from(data);
  if (floats.length !== sizeOf(shape)) {
    throw new ShapeError(`tensor: shape ${describeShape(shape)} needs ${sizeOf(shape)} values, got ${floats.length}`);
  }
  return { data: floats, shape: [...shape] };
}

export function zeros(shape: readonly number[]): Tensor {
  return tensor(new Float32Array(sizeOf(shape)), shape);
}

/** [A, C, F] → [C, A, F]: batch-first ↔ time-major (Float64, so any input converts exactly). */
export function swapLeadingAxes(src: ArrayLike<number>, A: number, C: number, F = 1): Float64Array {
  const out = new Float64Array(A * C * F);
  for (let a = 0; a < A; a++) {
    for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) out[(c * A + a) * F + f] = src[(a * C + c) * F + f]!;
  }
  return out;
}

/** Throws a ShapeError unless `t` has exactly `expected` (entries of -1 match anything). */
export function checkShape(t: Tensor, expected: readonly number[], what: string): void {
  const ok = t.shape.length === expected.length && expected.every((d, i) => d === -1 || d === t.shape[i]);
  if (!ok) {
    const want = expected.map((d) => (d === -1 ? '*' : String(d))).join(', ');
    throw new ShapeError(`${what} has shape ${describeShape(t.shape)}, expected [${want}]`);
  }
  if (t.data.length !== sizeOf(t.shape)) {
    throw new ShapeError(`${what} has shape ${describeShape(t.shape)} but ${t.data.length} values`);
  }
}

/**
 * A tensor inside a backend's arena: an element offset and a shape
 * (row-major; sequences time-major, [T, B, F]). Modules hand these to each
 * other so no data is copied between them; a module's outputs are its own
 * buffers, valid until its next forward. Read one out with `readArena`.
 */
export interface ArenaTensor {
  readonly offset: number;
  readonly shape: readonly number[];
}

export function arenaTensor(offset: number, shape: readonly number[]): ArenaTensor {
  return { offset, shape: [...shape] };
}

/** Integer indices (token ids) and their shape, row-major. */
export interface Indices {
  data: Int32Array;
  shape: readonly number[];
}
