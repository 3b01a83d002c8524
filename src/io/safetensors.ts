// The safetensors format (https://github.com/huggingface/safetensors), read and
// written with no dependencies and no Node APIs, so it runs in browsers too.
//
//   8 bytes   N, the header length, a little-endian u64
//   N bytes   a UTF-8 JSON object, padded with spaces:
//             {"__metadata__": {string: string},                 (optional)
//              name: {"dtype": "F32", "shape": [4, 8], "data_offsets": [begin, end]}, ...}
//   the rest  the data section; offsets are relative to its start, the
//             tensors cover it exactly, without gaps or overlaps
//
// Every tensor is little-endian and row-major. The reader treats the file as
// hostile: every number is checked before it is used, every byte range is
// checked against the file, and anything wrong is a FormatError that names the
// file and the tensor. Decoding never allocates more than the file holds
// (twice that for F16 and BF16 widened to float32).

import { FormatError, ShapeError, ValueError, describeShape } from '../core/errors.js';

/** The element types lstmkit reads and writes (safetensors also has F8 and smaller, which it does not). */
export type SafetensorsDtype = 'BOOL' | 'U8' | 'I8' | 'I16' | 'U16' | 'F16' | 'BF16' | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64';

export type SafetensorsData =
  | Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /**
   * The values, as the typed array of the dtype: Float32Array for F32,
   * BigInt64Array for I64, Uint8Array for BOOL and U8, and so on. F16 and BF16
   * decode to Float32Array (or their raw bits in a Uint16Array with
   * `halfAs: 'raw'`); to encode them, give either.
   */
  data: SafetensorsData;
}

export interface SafetensorsFile {
  tensors: Record<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

export interface SafetensorsHeaderEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** [begin, end) in bytes, relative to `dataStart`. */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  /** Entries in the order of their data. */
  tensors: Record<string, SafetensorsHeaderEntry>;
  metadata: Record<string, string>;
  /** Byte offset of the data section in the file: 8 + N. */
  dataStart: number;
}

export interface DecodeOptions {
  /** The file name, for messages. */
  source?: string;
  /** Refuse any tensor larger than this many bytes (default 2 GiB). */
  maxTensorBytes?: number;
  /** F16 and BF16 as Float32Array (default) or as their raw bits in a Uint16Array. */
  halfAs?: 'float32' | 'raw';
}

/** The reference implementation's limit: larger headers are refused unparsed. */
export const MAX_HEADER_BYTES = 100_000_000;
const DEFAULT_MAX_TENSOR_BYTES = 2 ** 31;
/** A real header nests three deep (root, tensor, shape). */
const MAX_JSON_DEPTH = 32;

interface DtypeInfo {
  size: number;
  /** Object.prototype.toString tags of the arrays accepted when encoding. */
  arrays: readonly string[];
  view: (buffer: ArrayBuffer) => SafetensorsData;
}

const DTYPES: Record<SafetensorsDtype, DtypeInfo> = {
  BOOL: { size: 1, arrays: ['Uint8Array'], view: (b) => new Uint8Array(b) },
  U8: { size: 1, arrays: ['Uint8Array'], view: (b) => new Uint8Array(b) },
  I8: { size: 1, arrays: ['Int8Array'], view: (b) => new Int8Array(b) },
  I16: { size: 2, arrays: ['Int16Array'], view: (b) => new Int16Array(b) },
  U16: { size: 2, arrays: ['Uint16Array'], view: (b) => new Uint16Array(b) },
  F16: { size: 2, arrays: ['Float32Array', 'Uint16Array'], view: (b) => new Uint16Array(b) },
  BF16: { size: 2, arrays: ['Float32Array', 'Uint16Array'], view: (b) => new Uint16Array(b) },
  I32: { size: 4, arrays: ['Int32Array'], view: (b) => new Int32Array(b) },
  U32: { size: 4, arrays: ['Uint32Array'], view: (b) => new Uint32Array(b) },
  F32: { size: 4, arrays: ['Float32Array'], view: (b) => new Float32Array(b) },
  F64: { size: 8, arrays: ['Float64Array'], view: (b) => new Float64Array(b) },
  I64: { size: 8, arrays: ['BigInt64Array'], view: (b) => new BigInt64Array(b) },
  U64: { size: 8, arrays: ['BigUint64Array'], view: (b) => new BigUint64Array(b) },
};

function isDtype(name: string): name is SafetensorsDtype {
  return Object.prototype.hasOwnProperty.call(DTYPES, name);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const METADATA_KEY = '__metadata__';

// ---------------------------------------------------------------- encoding

/**
 * The safetensors file holding `tensors` and `metadata`. Tensors are laid out
 * by element size (largest first), then by name, so each one starts aligned to
 * its element size; the header lists them in that order and is padded with
 * spaces to a multiple of 8 bytes, as the reference implementation does.
 */
export function encodeSafetensors(
  tensors: Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors);
  for (const name of names) checkText(name, `tensor name ${JSON.stringify(name)}`);
  if (names.includes(METADATA_KEY)) throw new ValueError(`safetensors: "${METADATA_KEY}" is reserved and cannot name a tensor`);
  const parts: { name: string; tensor: SafetensorsTensor; info: DtypeInfo; bytes: Uint8Array }[] = [];
  for (const name of names) {
    const tensor = tensors[name]!;
    if (!isDtype(tensor.dtype)) {
      throw new ValueError(`safetensors: tensor ${name} has dtype ${JSON.stringify(tensor.dtype)}; expected one of ${Object.keys(DTYPES).join(', ')}`);
    }
    const info = DTYPES[tensor.dtype];
    const tag = Object.prototype.toString.call(tensor.data).slice(8, -1);
    if (!info.arrays.includes(tag)) {
      throw new ValueError(`safetensors: tensor ${name} of dtype ${tensor.dtype} has a ${tag}; expected a ${info.arrays.join(' or ')}`);
    }
    for (const d of tensor.shape) {
      if (!Number.isSafeInteger(d) || d < 0) {
        throw new ShapeError(`safetensors: tensor ${name} has shape ${describeShape(tensor.shape)}; dimensions must be non-negative integers`);
      }
    }
    const count = tensor.shape.reduce((a, d) => a * d, 1);
    if (count !== tensor.data.length) {
      throw new ShapeError(`safetensors: tensor ${name} has shape ${describeShape(tensor.shape)} (${count} values) but ${tensor.data.length} values`);
    }
    parts.push({ name, tensor, info, bytes: toLittleEndianBytes(tensor, tag === 'Float32Array') });
  }
  parts.sort((a, b) => b.info.size - a.info.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  // Build the JSON by hand so the key order is the data order (a JS object
  // would move integer-like names such as "0" to the front).
  const entries: string[] = [];
  if (metadata !== undefined) {
    const fields: string[] = [];
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new ValueError(`safetensors: metadata ${JSON.stringify(key)} is a ${typeof value}; values must be strings`);
      checkText(key, `metadata key ${JSON.stringify(key)}`);
      checkText(value, `metadata ${JSON.stringify(key)}`);
      fields.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
    }
    entries.push(`${JSON.stringify(METADATA_KEY)}:{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const { name, tensor, bytes } of parts) {
    const begin = offset;
    offset += bytes.length;
    entries.push(`${JSON.stringify(name)}:{"dtype":"${tensor.dtype}","shape":[${tensor.shape.join(',')}],"data_offsets":[${begin},${offset}]}`);
  }
  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;

  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength % 2 ** 32, true);
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const { bytes } of parts) {
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/** Names and metadata must be well-formed Unicode, or other readers refuse the file. */
function checkText(text: string, what: string): void {
  if (/\p{Cs}/u.test(text)) throw new ValueError(`safetensors: ${what} contains a lone surrogate`);
}

function toLittleEndianBytes(tensor: SafetensorsTensor, isFloat32: boolean): Uint8Array {
  let data = tensor.data;
  if (isFloat32 && (tensor.dtype === 'F16' || tensor.dtype === 'BF16')) {
    const values = data as Float32Array;
    data = tensor.dtype === 'F16' ? float32ToF16(values) : float32ToBf16(values);
  }
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const copy = bytes.slice();
  swapBytes(copy, DTYPES[tensor.dtype].size);
  return copy;
}

// ---------------------------------------------------------------- decoding

/** Every tensor and the metadata of a safetensors file, copied out into fresh, aligned typed arrays. */
export function decodeSafetensors(bytes: Uint8Array, options: DecodeOptions = {}): SafetensorsFile {
  const header = decodeSafetensorsHeader(bytes, options);
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, entry] of Object.entries(header.tensors)) {
    const [begin, end] = entry.dataOffsets;
    // A fresh buffer, so the typed array is aligned (a Node Buffer's slice() would be a view).
    const raw = new Uint8Array(end - begin);
    raw.set(bytes.subarray(header.dataStart + begin, header.dataStart + end));
    const size = DTYPES[entry.dtype].size;
    if (!LITTLE_ENDIAN) swapBytes(raw, size);
    let data = DTYPES[entry.dtype].view(raw.buffer);
    if (options.halfAs !== 'raw' && data instanceof Uint16Array) {
      if (entry.dtype === 'F16') data = f16ToFloat32(data);
      else if (entry.dtype === 'BF16') data = bf16ToFloat32(data);
    }
    setOwn(tensors, name, { dtype: entry.dtype, shape: entry.shape, data });
  }
  return { tensors, metadata: header.metadata };
}

/**
 * The checked header of a safetensors file, without copying any data: every
 * entry's dtype, shape and byte range agree, and the ranges tile the data
 * section exactly.
 */
export function decodeSafetensorsHeader(bytes: Uint8Array, options: DecodeOptions = {}): SafetensorsHeader {
  const source = options.source ?? 'safetensors';
  const fail: (message: string) => never = (message) => {
    throw new FormatError(`${source}: ${message}`);
  };
  const maxTensorBytes = options.maxTensorBytes ?? DEFAULT_MAX_TENSOR_BYTES;

  if (bytes.length < 8) fail(`the file has ${bytes.length} bytes; a safetensors file starts with an 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32; // exact below 2^53
  if (headerLength > MAX_HEADER_BYTES) fail(`header length ${headerLength} is over the limit of ${MAX_HEADER_BYTES} bytes; not a safetensors file?`);
  if (8 + headerLength > bytes.length) {
    fail(`header length ${headerLength} runs past the end of the file (${bytes.length} bytes); the file is truncated or not safetensors`);
  }
  if (headerLength < 2 || bytes[8] !== 0x7b) fail(`the header must be a JSON object starting with '{'`);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;

  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    fail('the header is not valid UTF-8');
  }
  let root: JsonValue = null;
  try {
    root = new JsonParser(text).parseDocument();
  } catch (err) {
    if (err instanceof JsonSyntaxError) fail(`the header is not valid JSON: ${err.message}`);
    throw err;
  }
  if (!(root instanceof Map)) return fail('the header is not a JSON object');

  const metadata: Record<string, string> = {};
  const tensors: (SafetensorsHeaderEntry & { name: string })[] = [];
  for (const [name, value] of root) {
    if (name === METADATA_KEY) {
      if (!(value instanceof Map)) fail(`${METADATA_KEY} is ${describeJson(value)}; expected an object of strings`);
      for (const [key, item] of value) {
        if (typeof item !== 'string') fail(`${METADATA_KEY}: ${JSON.stringify(key)} is ${describeJson(item)}; metadata values must be strings`);
        setOwn(metadata, key, item);
      }
      continue;
    }
    const where = `tensor ${label(name)}`;
    if (!(value instanceof Map)) return fail(`${where}: the entry is ${describeJson(value)}; expected {dtype, shape, data_offsets}`);
    for (const key of value.keys()) {
      if (key !== 'dtype' && key !== 'shape' && key !== 'data_offsets') {
        fail(`${where}: unknown key ${JSON.stringify(key)}; expected dtype, shape, data_offsets`);
      }
    }
    const dtype = value.get('dtype');
    if (typeof dtype !== 'string') return fail(`${where}: dtype is ${describeJson(dtype)}; expected a string`);
    if (!isDtype(dtype)) return fail(`${where}: dtype ${JSON.stringify(dtype)} is not supported; expected one of ${Object.keys(DTYPES).join(', ')}`);
    const shape = integers(value.get('shape'), `${where}: shape`, fail);
    const offsets = integers(value.get('data_offsets'), `${where}: data_offsets`, fail);
    if (offsets.length !== 2) fail(`${where}: data_offsets has ${offsets.length} numbers; expected [begin, end]`);
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLength) {
      fail(`${where}: data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes); the file is truncated or corrupt`);
    }
    const held = end - begin;
    const size = DTYPES[dtype].size;
    const needed = byteSize(shape, size);
    if (needed !== held) {
      const need = Number.isFinite(needed) ? String(needed) : 'more than 2^53';
      fail(`${where}: data_offsets [${begin}, ${end}] hold ${held} bytes, shape ${describeShape(shape)} of ${dtype} needs ${need}`);
    }
    if (held > maxTensorBytes) fail(`${where}: ${held} bytes is more than the limit of ${maxTensorBytes} (maxTensorBytes)`);
    tensors.push({ name, dtype, shape, dataOffsets: [begin, end] });
  }

  // The ranges must tile the data section: sorted, each begins where the last ended.
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let covered = 0;
  let previous: string | undefined;
  for (const t of tensors) {
    const [begin, end] = t.dataOffsets;
    if (begin < covered) fail(`tensor ${label(t.name)}: data_offsets [${begin}, ${end}] overlap tensor ${label(previous)}, which ends at ${covered}`);
    if (begin > covered) {
      const after = previous === undefined ? 'the start of the data' : `tensor ${label(previous)}`;
      fail(`tensor ${label(t.name)}: data_offsets [${begin}, ${end}] leave a gap of ${begin - covered} bytes after ${after}`);
    }
    covered = end;
    previous = t.name;
  }
  if (covered !== dataLength) {
    fail(`the tensors cover ${covered} bytes of data but the file holds ${dataLength}; ${dataLength - covered} bytes belong to no tensor`);
  }

  const entries: Record<string, SafetensorsHeaderEntry> = {};
  for (const { name, dtype, shape, dataOffsets } of tensors) setOwn(entries, name, { dtype, shape, dataOffsets });
  return { tensors: entries, metadata, dataStart };
}

/** A tensor name for messages: as is when plain, quoted when empty or odd. */
function label(name: string | undefined): string {
  return name !== undefined && /^[\w.\-/:]{1,200}$/.test(name) ? name : JSON.stringify(name?.slice(0, 200));
}

/** Number of bytes `shape` of `size`-byte elements needs; Infinity past 2^53. */
function byteSize(shape: readonly number[], size: number): number {
  if (shape.includes(0)) return 0;
  let bytes = size;
  for (const d of shape) {
    bytes *= d;
    if (bytes > Number.MAX_SAFE_INTEGER) return Infinity;
  }
  return bytes;
}

function integers(value: JsonValue | undefined, where: string, fail: (message: string) => never): number[] {
  if (!Array.isArray(value)) return fail(`${where} is ${describeJson(value)}; expected an array of non-negative integers`);
  return value.map((item, i) => {
    if (typeof item !== 'number' || item < 0 || !Number.isSafeInteger(item)) {
      return fail(`${where}[${i}] is ${describeJson(item)}; expected a non-negative integer below 2^53`);
    }
    return item;
  });
}

/** obj[key] = value, also for keys such as "__proto__". */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let at = 0; at + size <= bytes.length; at += size) bytes.subarray(at, at + size).reverse();
}

// ------------------------------------------------------------ half floats
// Conversions work on the bits, so every value, NaN payloads included,
// survives F16 -> float32 -> F16 and BF16 -> float32 -> BF16 unchanged.

/** IEEE half-precision bits -> float32, exactly. */
export function f16ToFloat32(half: Uint16Array): Float32Array {
  const out = new Float32Array(half.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < half.length; i++) {
    const h = half[i]!;
    const sign = (h & 0x8000) << 16;
    const exponent = (h >> 10) & 0x1f;
    let mantissa = h & 0x3ff;
    if (exponent === 0x1f) {
      bits[i] = sign | 0x7f800000 | (mantissa << 13); // Inf or NaN, payload kept
    } else if (exponent !== 0) {
      bits[i] = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa === 0) {
      bits[i] = sign; // ±0
    } else {
      let e = 113; // a subnormal half is a normal float32: shift the leading 1 out
      while ((mantissa & 0x400) === 0) {
        mantissa <<= 1;
        e--;
      }
      bits[i] = sign | (e << 23) | ((mantissa & 0x3ff) << 13);
    }
  }
  return out;
}

/** float32 -> IEEE half-precision bits, rounding to nearest even as PyTorch does. */
export function float32ToF16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const f = bits[i]!;
    const sign = (f >>> 16) & 0x8000;
    const exponent = (f >>> 23) & 0xff;
    const mantissa = f & 0x7fffff;
    const e = exponent - 112; // the half exponent, before rounding
    if (exponent === 0xff) {
      // Inf stays Inf; NaN keeps the top of its payload and stays a NaN.
      const payload = mantissa >>> 13;
      out[i] = sign | 0x7c00 | (mantissa === 0 ? 0 : payload === 0 ? 0x200 : payload);
    } else if (e >= 0x1f) {
      out[i] = sign | 0x7c00; // too large: Inf
    } else if (e >= 1) {
      let h = (e << 10) | (mantissa >>> 13);
      const rest = mantissa & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // a carry may round up to Inf, correctly
      out[i] = sign | h;
    } else if (e >= -10) {
      const full = mantissa | 0x800000;
      const shift = 14 - e; // 14..24
      let h = full >>> shift;
      const rest = full & ((1 << shift) - 1);
      const halfway = 1 << (shift - 1);
      if (rest > halfway || (rest === halfway && (h & 1) === 1)) h++;
      out[i] = sign | h;
    } else {
      out[i] = sign; // below half the smallest subnormal: ±0
    }
  }
  return out;
}

/** bfloat16 bits -> float32, exactly. */
export function bf16ToFloat32(half: Uint16Array): Float32Array {
  const out = new Float32Array(half.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < half.length; i++) bits[i] = half[i]! << 16;
  return out;
}

/** float32 -> bfloat16 bits, rounding to nearest even as PyTorch does. */
export function float32ToBf16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const f = bits[i]!;
    if ((f & 0x7f800000) === 0x7f800000 && (f & 0x7fffff) !== 0) {
      const top = f >>> 16; // NaN: keep the top of the payload, stay a NaN
      out[i] = (top & 0x7f) === 0 ? top | 0x40 : top;
    } else {
      out[i] = (f + 0x7fff + ((f >>> 16) & 1)) >>> 16;
    }
  }
  return out;
}

// ------------------------------------------------------------------- JSON
// A strict JSON parser for the header. JSON.parse cannot report duplicate
// keys (the format forbids them), would turn a key "__proto__" into a
// prototype, and accepts 1.0 and 1e3 where the format wants integers.

type JsonValue = null | boolean | string | number | JsonFloat | JsonValue[] | JsonObject;
type JsonObject = Map<string, JsonValue>;

/** A number written with a fraction or an exponent: never a valid size or offset. */
class JsonFloat {
  constructor(readonly text: string) {}
}

class JsonSyntaxError extends Error {}

function describeJson(value: JsonValue | undefined): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (value instanceof JsonFloat) return value.text;
  if (value instanceof Map) return 'an object';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}

class JsonParser {
  private at = 0;
  constructor(private readonly text: string) {}

  parseDocument(): JsonValue {
    const value = this.value(0);
    this.skipSpace();
    if (this.at < this.text.length) this.error('unexpected text after the end of the object');
    return value;
  }

  private error(message: string): never {
    throw new JsonSyntaxError(`${message} at character ${this.at}`);
  }

  private skipSpace(): void {
    const text = this.text;
    while (this.at < text.length) {
      const c = text.charCodeAt(this.at);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      this.at++;
    }
  }

  private value(depth: number): JsonValue {
    if (depth > MAX_JSON_DEPTH) this.error(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
    this.skipSpace();
    const c = this.text[this.at];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return value;
      }
    }
    return this.error(c === undefined ? 'unexpected end' : `unexpected ${JSON.stringify(c)}`);
  }

  private object(depth: number): JsonObject {
    const map: JsonObject = new Map();
    this.at++; // {
    this.skipSpace();
    if (this.text[this.at] === '}') {
      this.at++;
      return map;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] !== '"') this.error('expected a string key');
      const key = this.string();
      if (map.has(key)) this.error(`duplicate key ${JSON.stringify(key)}`);
      this.skipSpace();
      if (this.text[this.at] !== ':') this.error("expected ':'");
      this.at++;
      map.set(key, this.value(depth + 1));
      this.skipSpace();
      const c = this.text[this.at++];
      if (c === '}') return map;
      if (c !== ',') this.error("expected ',' or '}'");
    }
  }

  private array(depth: number): JsonValue[] {
    const items: JsonValue[] = [];
    this.at++; // [
    this.skipSpace();
    if (this.text[this.at] === ']') {
      this.at++;
      return items;
    }
    for (;;) {
      items.push(this.value(depth + 1));
      this.skipSpace();
      const c = this.text[this.at++];
      if (c === ']') return items;
      if (c !== ',') this.error("expected ',' or ']'");
    }
  }

  private number(): number | JsonFloat {
    NUMBER.lastIndex = this.at;
    const m = NUMBER.exec(this.text);
    if (m === null) return this.error('malformed number');
    this.at += m[0].length;
    return m[1] === undefined && m[2] === undefined ? Number(m[0]) : new JsonFloat(m[0]);
  }

  private string(): string {
    const text = this.text;
    const start = ++this.at; // after the opening "
    let escaped = false;
    for (;;) {
      STRING_STOP.lastIndex = this.at;
      if (STRING_STOP.exec(text) === null) this.error('unterminated string');
      this.at = STRING_STOP.lastIndex - 1;
      const c = text.charCodeAt(this.at);
      if (c === 0x22) break;
      if (c < 0x20) this.error('control character in a string');
      // A backslash: \" \\ \/ \b \f \n \r \t or \uXXXX.
      const e = text[this.at + 1];
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(this.at + 2, this.at + 6))) this.error('invalid \\u escape');
        this.at += 6;
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
        this.at += 2;
      } else {
        this.error('invalid escape');
      }
      escaped = true;
    }
    const raw = text.slice(start, this.at);
    this.at++; // the closing "
    if (!escaped) return raw; // the text came through a fatal UTF-8 decoder: well-formed
    const value = JSON.parse(`"${raw}"`) as string; // escapes checked above, so this cannot throw
    if (/\p{Cs}/u.test(value)) this.error('lone surrogate in a \\u escape');
    return value;
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/** What ends a plain run of string characters: a quote, a backslash or a control character. */
// oxlint-disable-next-line no-control-regex -- matching raw control characters (JSON forbids them) is the point
const STRING_STOP = /["\\\u0000-\u001f]/g;
