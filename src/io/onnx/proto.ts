// ONNX's protobuf messages, decoded and encoded by protobufjs (light build)
// from the descriptor of the official onnx.proto (./descriptor.ts, generated
// from scripts/onnx/onnx.proto by scripts/onnx-proto.mjs), and the
// conversion of TensorProto to and from typed arrays.
//
// The decoder treats the file as hostile: protobufjs checks every length
// against the buffer, and whatever it throws (truncation, a bad wire type, a
// nesting deep enough to exhaust the stack) becomes a FormatError naming the
// file. Tensor data is checked against its dims before it is read.

import protobuf from 'protobufjs/light.js';
import { FormatError, describeShape } from '../../core/errors.js';
import { ONNX_DESCRIPTOR } from './descriptor.js';

// ------------------------------------------------------------ message shapes
// The fields lstmkit reads and writes, as protobufjs's toObject gives them
// (snake_case as in onnx.proto; int64 as number; absent optional fields absent).

export interface OnnxDim {
  dim_value?: number;
  dim_param?: string;
}

export interface OnnxType {
  tensor_type?: { elem_type?: number; shape?: { dim: OnnxDim[] } };
}

export interface OnnxValueInfo {
  name?: string;
  type?: OnnxType;
  doc_string?: string;
}

export interface OnnxTensorProto {
  dims: number[];
  data_type?: number;
  segment?: unknown;
  float_data: number[];
  int32_data: number[];
  string_data: Uint8Array[];
  int64_data: number[];
  name?: string;
  raw_data?: Uint8Array;
  double_data: number[];
  uint64_data: number[];
  data_location?: string;
  external_data: unknown[];
}

export type OnnxAttributeType = 'UNDEFINED' | 'FLOAT' | 'INT' | 'STRING' | 'TENSOR' | 'GRAPH' | 'SPARSE_TENSOR' | 'TYPE_PROTO'
  | 'FLOATS' | 'INTS' | 'STRINGS' | 'TENSORS' | 'GRAPHS' | 'SPARSE_TENSORS' | 'TYPE_PROTOS';

export interface OnnxAttribute {
  name?: string;
  ref_attr_name?: string;
  type?: OnnxAttributeType;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensorProto;
  g?: unknown;
  floats: number[];
  ints: number[];
  strings: Uint8Array[];
  tensors: unknown[];
  graphs: unknown[];
}

export interface OnnxNode {
  input: string[];
  output: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute: OnnxAttribute[];
}

export interface OnnxGraph {
  node: OnnxNode[];
  name?: string;
  initializer: OnnxTensorProto[];
  sparse_initializer: unknown[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  value_info: OnnxValueInfo[];
}

export interface OnnxOpset {
  domain?: string;
  version?: number;
}

export interface OnnxModel {
  ir_version?: number;
  opset_import: OnnxOpset[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: number;
  doc_string?: string;
  graph?: OnnxGraph;
  metadata_props: { key?: string; value?: string }[];
  functions: unknown[];
}

// --------------------------------------------------------------- the codec

let modelType: protobuf.Type | undefined;

function ModelProto(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(ONNX_DESCRIPTOR).lookupType('onnx.ModelProto');
  return modelType;
}

/** Decode an ONNX model (a serialized ModelProto); anything malformed is a FormatError. */
export function decodeModelProto(bytes: Uint8Array, source: string): OnnxModel {
  const type = ModelProto();
  try {
    const message = type.decode(bytes);
    return type.toObject(message, { longs: Number, enums: String, arrays: true, defaults: false }) as OnnxModel;
  } catch (e) {
    const why = e instanceof RangeError && /call stack/i.test(e.message) ? 'messages nested too deeply' : (e as Error).message;
    throw new FormatError(`${source}: not a valid ONNX file (protobuf: ${why})`);
  }
}

/** Encode a ModelProto given as a plain object (field names as in onnx.proto; enums by name or number). */
export function encodeModelProto(model: Record<string, unknown>): Uint8Array {
  const type = ModelProto();
  return type.encode(type.fromObject(model)).finish();
}

// ----------------------------------------------------------------- tensors

/** TensorProto.DataType values lstmkit reads or writes. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  DOUBLE: 11,
} as const;

const DATA_TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING',
  9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16',
};

export function dataTypeName(type: number | undefined): string {
  return DATA_TYPE_NAMES[type ?? 0] ?? `data type ${type}`;
}

/** A decoded tensor: float tensors as Float32Array, integer and bool tensors as numbers. */
export type DecodedTensor =
  | { kind: 'float'; shape: number[]; data: Float32Array }
  | { kind: 'int'; shape: number[]; data: number[] };

/** Refuse anything larger: lstmkit's models are far smaller, and a hostile header must not make us allocate. */
const MAX_ELEMENTS = 2 ** 28;

/** Number of elements of `dims`, every dim checked; `what` names the tensor. */
export function elementCount(dims: readonly number[], what: string): number {
  let count = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new FormatError(`${what} has dims ${describeShape(dims)}: ${d} is not a size`);
    count *= d;
    if (count > MAX_ELEMENTS) throw new FormatError(`${what} has dims ${describeShape(dims)}, more than ${MAX_ELEMENTS} elements`);
  }
  return count;
}

/** Read a TensorProto (raw_data or the typed fields); `what` names it in errors. */
export function decodeTensor(t: OnnxTensorProto, what: string): DecodedTensor {
  if (t.data_location === 'EXTERNAL' || t.external_data.length > 0) {
    throw new FormatError(`${what} keeps its data in an external file (external_data); lstmkit reads self-contained ONNX files only`);
  }
  if (t.segment !== undefined) throw new FormatError(`${what} is a segment of a tensor (TensorProto.segment), which lstmkit does not read`);
  const shape = t.dims.slice();
  const count = elementCount(shape, what);
  const type = t.data_type ?? 0;
  const raw = t.raw_data;
  const size = ({
    [DataType.FLOAT]: 4, [DataType.DOUBLE]: 8, [DataType.INT32]: 4, [DataType.INT64]: 8,
    [DataType.INT8]: 1, [DataType.UINT8]: 1, [DataType.BOOL]: 1,
  } as Record<number, number>)[type];
  if (size === undefined) {
    throw new FormatError(`${what} has data type ${dataTypeName(type)}; lstmkit reads FLOAT, DOUBLE, INT64, INT32, INT8, UINT8 and BOOL tensors`);
  }
  const field: readonly number[] = type === DataType.FLOAT ? t.float_data
    : type === DataType.DOUBLE ? t.double_data
    : type === DataType.INT64 ? t.int64_data
    : t.int32_data; // INT32, INT8, UINT8, BOOL are stored in int32_data
  if (raw !== undefined && raw.length > 0 && field.length > 0) throw new FormatError(`${what} has both raw_data and typed data`);
  const got = raw !== undefined && raw.length > 0 ? raw.length / size : field.length;
  if (got !== count) {
    const holds = Number.isInteger(got) ? got : `${raw!.length} bytes, not a whole number of`;
    throw new FormatError(`${what} has dims ${describeShape(shape)} (${count} elements) but holds ${holds} ${dataTypeName(type)} values`);
  }
  const view = raw !== undefined && raw.length > 0 ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  if (type === DataType.FLOAT || type === DataType.DOUBLE) {
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      data[i] = !view ? field[i]!
        : type === DataType.FLOAT ? view.getFloat32(i * 4, true)
        : view.getFloat64(i * 8, true);
    }
    return { kind: 'float', shape, data };
  }
  const data = Array.from({ length: count }, (_, i) => !view ? field[i]!
    : type === DataType.INT64 ? Number(view.getBigInt64(i * 8, true))
    : type === DataType.INT32 ? view.getInt32(i * 4, true)
    : type === DataType.INT8 ? view.getInt8(i)
    : view.getUint8(i));
  return { kind: 'int', shape, data };
}

function littleEndian(
  values: ArrayLike<number>, bytesPer: 4 | 8, write: (view: DataView, at: number, v: number) => void,
): Uint8Array {
  const out = new Uint8Array(values.length * bytesPer);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) write(view, i * bytesPer, values[i]!);
  return out;
}

/** A FLOAT TensorProto (raw_data, little-endian). */
export function floatTensor(name: string, shape: readonly number[], data: ArrayLike<number>): Record<string, unknown> {
  const raw = littleEndian(data, 4, (v, at, x) => v.setFloat32(at, x, true));
  return { name, dims: [...shape], data_type: DataType.FLOAT, raw_data: raw };
}

/** An INT64 TensorProto (raw_data, little-endian). */
export function int64Tensor(name: string, shape: readonly number[], data: readonly number[]): Record<string, unknown> {
  const raw = littleEndian(data, 8, (v, at, x) => v.setBigInt64(at, BigInt(x), true));
  return { name, dims: [...shape], data_type: DataType.INT64, raw_data: raw };
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

export function text(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? '' : utf8.decode(bytes);
}
