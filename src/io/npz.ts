// NumPy's .npy and .npz files, read with no Node APIs (browsers too).
//
// .npy (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
//
//   6 bytes   magic "\x93NUMPY"
//   2 bytes   format version, major and minor (1.0, 2.0 or 3.0)
//   2 or 4    header length N, little-endian (u16 in 1.0, u32 in 2.0 and 3.0)
//   N bytes   a Python dict literal, ASCII (UTF-8 in 3.0), padded with spaces
//             and ended by '\n': {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
//   the rest  the elements, C order (or Fortran order when it says so)
//
// .npz is a zip archive of .npy files, one per array, named `<key>.npy`, as
// np.savez (stored) and np.savez_compressed (deflated) write it. The zip is
// read by fflate; the .npy parsing is ours. Everything read is checked
// before it is used: a bad file is a FormatError naming the file and entry.

import { unzipSync } from 'fflate';
import { FormatError, describeShape } from '../core/errors.js';

export interface NpyArray {
  /** The entry name without `.npy` (the key np.load gives it). */
  name: string;
  /** NumPy's dtype string as written, e.g. '<f4'. */
  dtype: string;
  shape: number[];
  /** The elements in C (row-major) order, as float32. */
  data: Float32Array;
}

/** Refuse archives that would unpack to more than this (default 2 GiB). */
const DEFAULT_MAX_BYTES = 2 ** 31;
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04]; // PK\3\4
const ZIP_EMPTY_MAGIC = [0x50, 0x4b, 0x05, 0x06]; // an archive with no entries
const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

export function isZip(bytes: Uint8Array): boolean {
  return startsWith(bytes, ZIP_MAGIC) || startsWith(bytes, ZIP_EMPTY_MAGIC);
}

export function isHdf5(bytes: Uint8Array): boolean {
  return startsWith(bytes, HDF5_MAGIC);
}

/** The entries of a zip archive, in archive order, with a limit on what they unpack to. */
export function unzipEntries(
  bytes: Uint8Array, source: string, opts: { only?: (name: string) => boolean; maxBytes?: number } = {},
): [string, Uint8Array][] {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!isZip(bytes)) throw new FormatError(`${source}: not a zip archive (an .npz file is one)`);
  let total = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (info) => {
        if (info.name.endsWith('/') || (opts.only && !opts.only(info.name))) return false;
        total += info.originalSize;
        if (total > maxBytes) throw new FormatError(`${source}: unpacks to more than ${maxBytes} bytes; refused`);
        return true;
      },
    });
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(`${source}: not a readable zip archive (${(e as Error).message})`);
  }
  return Object.entries(files);
}

/** The names of a zip archive's entries, without unpacking any. */
export function zipEntryNames(bytes: Uint8Array, source: string): string[] {
  const names: string[] = [];
  unzipEntries(bytes, source, {
    only: (name) => {
      names.push(name);
      return false;
    },
  });
  return names;
}

// descr → bytes per element and how to read one element.
const FLOAT_KINDS: Record<string, { size: number; read: (view: DataView, at: number, little: boolean) => number }> = {
  f2: { size: 2, read: (v, at, le) => halfToFloat(v.getUint16(at, le)) },
  f4: { size: 4, read: (v, at, le) => v.getFloat32(at, le) },
  f8: { size: 8, read: (v, at, le) => v.getFloat64(at, le) },
};

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** The header dict, parsed with just enough Python literal syntax for what NumPy writes. */
function parseHeader(text: string, where: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  const body = text.trim();
  if (!body.startsWith('{') || !body.endsWith('}')) throw new FormatError(`${where}: the .npy header is not a dict: ${JSON.stringify(body.slice(0, 80))}`);
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(body);
  if (!descr) {
    const structured = /['"]descr['"]\s*:\s*\[/.test(body);
    throw new FormatError(`${where}: ${structured ? 'a structured (record) array; expected plain float numbers' : 'the .npy header has no descr'}`);
  }
  const order = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(body);
  if (!order) throw new FormatError(`${where}: the .npy header has no fortran_order`);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(body);
  if (!shape) throw new FormatError(`${where}: the .npy header has no shape`);
  const dims = shape[1]!.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const parsed = dims.map((d) => (/^\d+L?$/.test(d) ? Number.parseInt(d, 10) : NaN));
  if (parsed.some((d) => !Number.isSafeInteger(d))) throw new FormatError(`${where}: the .npy shape (${shape[1]}) is not a tuple of sizes`);
  return { descr: descr[1]!, fortranOrder: order[1] === 'True', shape: parsed };
}

/** Parse one .npy file into float32 values in C order. Only float arrays (f2, f4, f8, either byte order) are read. */
export function parseNpy(bytes: Uint8Array, name: string, source = '<npy>'): NpyArray {
  const where = `${source}: ${name}`;
  if (!startsWith(bytes, MAGIC)) throw new FormatError(`${where}: not a .npy array (no \\x93NUMPY magic)`);
  if (bytes.length < 10) throw new FormatError(`${where}: truncated .npy header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new FormatError(`${where}: truncated .npy header`);
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else throw new FormatError(`${where}: .npy format version ${major}.${bytes[7]} is not one lstmkit reads (1.0, 2.0, 3.0)`);
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) throw new FormatError(`${where}: the .npy header (${headerLength} bytes) runs past the end of the entry`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  const { descr, fortranOrder, shape } = parseHeader(header, where);
  const m = /^([<>|=])?([a-zA-Z])(\d+)$/.exec(descr);
  const kind = m ? FLOAT_KINDS[`${m[2]}${m[3]}`] : undefined;
  if (!m || !kind) throw new FormatError(`${where}: dtype '${descr}' is not a float array (expected float16, float32 or float64)`);
  const little = m[1] !== '>';
  let count = 1;
  for (const d of shape) count *= d;
  if (!Number.isSafeInteger(count)) throw new FormatError(`${where}: shape ${describeShape(shape)} is too large`);
  const need = count * kind.size;
  if (bytes.length - dataStart !== need) {
    throw new FormatError(`${where}: shape ${describeShape(shape)} of ${descr} needs ${need} bytes of data, the entry holds ${bytes.length - dataStart}`);
  }
  const data = new Float32Array(count);
  if (descr.endsWith('f4') && little && (bytes.byteOffset + dataStart) % 4 === 0) {
    data.set(new Float32Array(bytes.buffer, bytes.byteOffset + dataStart, count));
  } else {
    for (let i = 0; i < count; i++) data[i] = kind.read(view, dataStart + i * kind.size, little);
  }
  return { name, dtype: descr, shape, data: fortranOrder ? fortranToC(data, shape) : data };
}

/** Reorder column-major elements into row-major. */
function fortranToC(data: Float32Array, shape: readonly number[]): Float32Array {
  if (shape.length < 2) return data;
  const out = new Float32Array(data.length);
  const rank = shape.length;
  const index = Array.from({ length: rank }, () => 0);
  // Walk the C-order output; keep the Fortran-order input offset in step.
  const fStride: number[] = [];
  let s = 1;
  for (let d = 0; d < rank; d++) {
    fStride.push(s);
    s *= shape[d]!;
  }
  for (let i = 0; i < out.length; i++) {
    let at = 0;
    for (let d = 0; d < rank; d++) at += index[d]! * fStride[d]!;
    out[i] = data[at]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
  return out;
}

/** The arrays of an .npz file, in archive order (the order np.savez wrote them). */
export function decodeNpz(bytes: Uint8Array, source = '<npz>'): NpyArray[] {
  const out: NpyArray[] = [];
  for (const [entry, content] of unzipEntries(bytes, source)) {
    if (!entry.endsWith('.npy')) throw new FormatError(`${source}: entry ${entry} is not a .npy array; an .npz file holds only those`);
    out.push(parseNpy(content, entry.slice(0, -'.npy'.length), source));
  }
  return out;
}
