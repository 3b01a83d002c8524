// Shape arithmetic for the ONNX importer: Transpose, Gather, Slice, Concat,
// Reshape and broadcasting over small constant tensors (weights and shape
// vectors). Each op computes, for every output element, the flat index of the
// input element it copies; `take` then copies values of any kind (floats,
// integers, or symbolic dimensions like "T").

import { FormatError, describeShape } from '../../core/errors.js';

/** Largest tensor the importer will compute with (constants are weights and shape vectors). */
const MAX_ELEMENTS = 2 ** 24;

export function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function checkSize(shape: readonly number[], where: string): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > MAX_ELEMENTS) throw new FormatError(`${where}: result ${describeShape(shape)} is too large`);
  }
  return n;
}

function strides(shape: readonly number[]): number[] {
  const out = Array.from({ length: shape.length }, () => 1);
  for (let i = shape.length - 2; i >= 0; i--) out[i] = out[i + 1]! * shape[i + 1]!;
  return out;
}

/** Normalize a possibly negative axis of a rank-`rank` tensor. */
export function normalizeAxis(axis: number, rank: number, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new FormatError(`${where}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export interface Indexed {
  shape: number[];
  /** For each output element, the flat index of the input element. */
  index: Int32Array;
}

export function take<T>(data: ArrayLike<T>, index: Int32Array): T[] {
  return Array.from(index, (i) => data[i]!);
}

export function takeFloat(data: Float32Array, index: Int32Array): Float32Array {
  return Float32Array.from(index, (i) => data[i]!);
}

export function transposeIndex(shape: readonly number[], perm: readonly number[], where: string): Indexed {
  const rank = shape.length;
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new FormatError(`${where}: perm ${describeShape(perm)} is not a permutation of ${rank} axes`);
  }
  const outShape = perm.map((p) => shape[p]!);
  const n = checkSize(outShape, where);
  const inStrides = strides(shape);
  const index = new Int32Array(n);
  const pos = Array.from({ length: rank }, () => 0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += pos[k]! * inStrides[perm[k]!]!;
    index[o] = src;
    for (let k = rank - 1; k >= 0; k--) {
      if (++pos[k]! < outShape[k]!) break;
      pos[k] = 0;
    }
  }
  return { shape: outShape, index };
}

/** numpy.take(data, indices, axis): indices of shape `indicesShape` replace the axis. */
export function gatherIndex(
  shape: readonly number[], axis: number, indices: readonly number[], indicesShape: readonly number[], where: string,
): Indexed {
  const a = normalizeAxis(axis, shape.length, where);
  const size = shape[a]!;
  const norm = indices.map((i) => {
    const j = i < 0 ? i + size : i;
    if (!Number.isInteger(j) || j < 0 || j >= size) throw new FormatError(`${where}: index ${i} is out of range for an axis of size ${size}`);
    return j;
  });
  const outer = sizeOfShape(shape.slice(0, a));
  const inner = sizeOfShape(shape.slice(a + 1));
  const outShape = [...shape.slice(0, a), ...indicesShape, ...shape.slice(a + 1)];
  const n = checkSize(outShape, where);
  const index = new Int32Array(n);
  let o = 0;
  for (let p = 0; p < outer; p++) {
    for (const j of norm) for (let q = 0; q < inner; q++) index[o++] = (p * size + j) * inner + q;
  }
  return { shape: outShape, index };
}

/** ONNX Slice semantics for one axis: clamp start and end, return the chosen positions. */
export function slicePositions(size: number, start: number, end: number, step: number, where: string): number[] {
  if (!Number.isInteger(step) || step === 0) throw new FormatError(`${where}: slice step ${step} must be a nonzero integer`);
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + size : start;
  let e = end < 0 ? end + size : end;
  const out: number[] = [];
  if (step > 0) {
    s = clamp(s, 0, size);
    e = clamp(e, 0, size);
    for (let i = s; i < e; i += step) out.push(i);
  } else {
    s = clamp(s, 0, size - 1);
    e = clamp(e, -1, size - 1);
    for (let i = s; i > e; i += step) out.push(i);
  }
  return out;
}

/** Slice along several axes; `positions[axis]` lists the kept positions (undefined keeps all). */
export function sliceIndex(
  shape: readonly number[], positions: readonly (number[] | undefined)[], where: string,
): Indexed {
  const kept = shape.map((d, k) => positions[k] ?? Array.from({ length: d }, (_, i) => i));
  const outShape = kept.map((p) => p.length);
  const n = checkSize(outShape, where);
  const inStrides = strides(shape);
  const index = new Int32Array(n);
  const pos = Array.from({ length: shape.length }, () => 0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let k = 0; k < shape.length; k++) src += kept[k]![pos[k]!]! * inStrides[k]!;
    index[o] = src;
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++pos[k]! < outShape[k]!) break;
      pos[k] = 0;
    }
  }
  return { shape: outShape, index };
}

/** Concatenate along `axis`: for each output element, [which input, flat index in it]. */
export function concatIndex(
  shapes: readonly (readonly number[])[], axis: number, where: string,
): { shape: number[]; part: Int32Array; index: Int32Array } {
  const first = shapes[0]!;
  const a = normalizeAxis(axis, first.length, where);
  for (const s of shapes) {
    if (s.length !== first.length || s.some((d, k) => k !== a && d !== first[k])) {
      throw new FormatError(`${where}: cannot concatenate ${shapes.map(describeShape).join(' and ')} along axis ${axis}`);
    }
  }
  const outShape = first.slice();
  outShape[a] = shapes.reduce((n, s) => n + s[a]!, 0);
  const n = checkSize(outShape, where);
  const outer = sizeOfShape(first.slice(0, a));
  const inner = sizeOfShape(first.slice(a + 1));
  const part = new Int32Array(n);
  const index = new Int32Array(n);
  let o = 0;
  for (let p = 0; p < outer; p++) {
    shapes.forEach((s, k) => {
      const len = s[a]! * inner;
      for (let q = 0; q < len; q++) {
        part[o] = k;
        index[o++] = p * len + q;
      }
    });
  }
  return { shape: outShape, part, index };
}

/** ONNX Reshape of a tensor with a known shape: 0 copies a dim (unless allowzero), -1 is inferred. */
export function resolveReshape(
  shape: readonly number[], target: readonly number[], allowZero: boolean, where: string,
): number[] {
  const total = sizeOfShape(shape);
  const out = target.map((d, k) => {
    if (d === 0 && !allowZero) {
      if (k >= shape.length) throw new FormatError(`${where}: shape ${describeShape(target)} copies dim ${k} of a rank-${shape.length} tensor`);
      return shape[k]!;
    }
    return d;
  });
  const unknown = out.filter((d) => d === -1).length;
  if (unknown > 1 || out.some((d) => !Number.isInteger(d) || d < -1)) throw new FormatError(`${where}: ${describeShape(target)} is not a valid reshape target`);
  if (unknown === 1) {
    const known = out.reduce((a, d) => (d === -1 ? a : a * d), 1);
    if (known === 0 || total % known !== 0) throw new FormatError(`${where}: cannot reshape ${describeShape(shape)} to ${describeShape(target)}`);
    out[out.indexOf(-1)] = total / known;
  }
  if (sizeOfShape(out) !== total) throw new FormatError(`${where}: cannot reshape ${describeShape(shape)} to ${describeShape(target)}`);
  return out;
}
