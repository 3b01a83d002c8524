// HDF5 files — Keras's .h5 files and the model.weights.h5 inside a .keras
// archive — read with jsfive, a pure-JavaScript, read-only HDF5 reader (no
// WebAssembly, no file system: the same code in Node and browsers). Only what
// Keras writes is read: groups, attributes (strings and numbers) and
// contiguous float datasets; chunked or compressed datasets are refused.
//
// jsfive reads whatever a file declares. A hostile file can make it read one
// structure forever (a B-tree whose children are one node, over and over;
// a heap block that continues into itself), copy the file many times over, or
// allocate what a dataset's declared shape says. So every call into jsfive
// runs under a meter, and each failure is a FormatError naming the file:
//
//   - jsfive's every read of a structure (a signature, a name, a heap block)
//     copies bytes out of the file with ArrayBuffer.prototype.slice; the file
//     is handed to jsfive as a MeteredBuffer, whose slice counts the reads,
//     the bytes copied, and how often each offset is read (a structure read
//     again and again is a cycle), and stops past the limits (Hdf5Limits);
//   - variable-length strings are decoded from a heap object without a copy,
//     so decoding is metered separately (the bytes count as copied);
//   - a dataset's dtype, shape and layout are checked before its values are
//     read: float numbers, stored contiguously, no more bytes than the file;
//   - a clock bounds the time spent reading structures, the backstop for work
//     between two reads that the counts do not see.
//
// Anything jsfive throws (strings, TypeErrors of its assertions, RangeErrors
// of reads past the end) becomes a FormatError too.

import { Dataset, File, Group } from 'jsfive';
import { FormatError, describeShape } from '../core/errors.js';
import { isHdf5 } from './npz.js';

export interface Hdf5Limits {
  /** Bytes copied out of the file in all (default 64 MiB + 16 × the file). */
  maxCopiedBytes?: number;
  /** Reads of structures in all (default 100 000 + the file's bytes / 8). */
  maxReads?: number;
  /** Reads at one offset of the file in one step of reading (default 8); more is a structure that points back at itself. */
  maxRepeats?: number;
  /** Milliseconds spent reading structures (default 10 s + 10 ms per MB of file). */
  timeoutMs?: number;
}

export interface Hdf5Floats {
  shape: number[];
  /** NumPy's dtype string: '<f4', '>f8', '<f2', … */
  dtype: string;
  data: Float32Array;
}

const LAYOUT_MESSAGE = 0x0008;
const FILTER_MESSAGE = 0x000b;

class Meter {
  reads = 0;
  copied = 0;
  readonly repeats = new Map<number, number>();
  /** The first limit passed: every later read fails too (jsfive catches some errors and carries on). */
  error: FormatError | null = null;
  /** Milliseconds spent in earlier steps, and when the current one began. */
  private spent = 0;
  private began = 0;

  constructor(readonly root: ArrayBuffer, readonly source: string, private readonly limits: Required<Hdf5Limits>) {}

  /** A step of reading (a group, its attributes, a dataset) begins: it reads each structure a few times at most. */
  begin(): void {
    this.repeats.clear();
    this.began = performance.now();
  }

  end(): void {
    this.spent += performance.now() - this.began;
  }

  /** One read of `length` bytes at `offset` of `buffer` (null: a decode, not a read of a structure). */
  charge(buffer: ArrayBuffer | null, offset: number, length: number): void {
    if (this.error) throw this.error;
    this.reads += 1;
    this.copied += length;
    const { maxReads, maxCopiedBytes, maxRepeats, timeoutMs } = this.limits;
    let over: string | null = null;
    if (buffer === this.root) {
      const seen = (this.repeats.get(offset) ?? 0) + 1;
      this.repeats.set(offset, seen);
      if (seen > maxRepeats) over = `the structure at byte ${offset} is read more than ${maxRepeats} times (it points back at itself)`;
    }
    if (this.reads > maxReads) over = `reading it takes more than ${maxReads} reads of its structures`;
    if (this.copied > maxCopiedBytes) over = `reading it copies more than ${maxCopiedBytes} bytes`;
    if (!over && this.spent + performance.now() - this.began > timeoutMs) over = `reading its structures takes more than ${timeoutMs} ms`;
    if (over) {
      this.error = new FormatError(`${this.source}: not a readable HDF5 file: ${over}; refused`);
      throw this.error;
    }
  }
}

/** The meter of the jsfive call in progress (calls are synchronous, so one at a time). */
let active: Meter | null = null;

/** The file as jsfive sees it: every slice is a metered read (slices of slices too, via Symbol.species). */
class MeteredBuffer extends ArrayBuffer {
  override slice(begin?: number, end?: number): ArrayBuffer {
    const out = super.slice(begin, end);
    active?.charge(this, begin ?? 0, out.byteLength);
    return out;
  }
}

/** What jsfive threw, in words. */
function explain(e: unknown): string {
  if (typeof e === 'string') return e.replace(/^[A-Za-z]+\('?(.*?)'?\)$/, '$1').replace(/"/g, '');
  if (!(e instanceof Error)) return String(e);
  if (e instanceof TypeError && /thing is not a function/.test(e.message)) return 'a structure fails a consistency check';
  if (e instanceof RangeError) {
    if (/call stack/i.test(e.message)) return 'structures nest too deeply or point back at themselves';
    if (/length|allocation|size/i.test(e.message)) return `a declared size is impossible (${e.message})`;
    return 'a structure points past the end of the file (truncated?)';
  }
  return `${e.name}: ${e.message}`.slice(0, 200);
}

function stripNul(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(/\0+$/, '');
  if (Array.isArray(v)) return v.map(stripNul);
  return v;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * A read-only view of an HDF5 file: groups, attributes and float datasets by
 * path ('model_weights/lstm'). Every failure is a FormatError naming the file.
 */
export class Hdf5Reader {
  private readonly meter: Meter;
  private readonly nodes = new Map<string, Group | Dataset | null>();
  private readonly metered = new WeakSet<object>();

  private constructor(private readonly bytes: Uint8Array, readonly source: string, limits: Hdf5Limits) {
    const buffer = new MeteredBuffer(bytes.byteLength);
    new Uint8Array(buffer).set(bytes);
    const mb = bytes.byteLength / 1e6;
    this.meter = new Meter(buffer, source, {
      maxCopiedBytes: limits.maxCopiedBytes ?? 64 * 2 ** 20 + 16 * bytes.byteLength,
      maxReads: limits.maxReads ?? 100_000 + Math.floor(bytes.byteLength / 8),
      maxRepeats: limits.maxRepeats ?? 8,
      timeoutMs: limits.timeoutMs ?? 10_000 + Math.ceil(10 * mb),
    });
    this.nodes.set('', this.run('its superblock and root group', () => new File(buffer, source)));
  }

  /** Open a file's bytes (checked: the HDF5 signature at byte 0, as h5py writes it). */
  static open(bytes: Uint8Array, source: string, limits: Hdf5Limits = {}): Hdf5Reader {
    if (!isHdf5(bytes)) throw new FormatError(`${source}: not an HDF5 file (no \\x89HDF signature)`);
    return new Hdf5Reader(bytes, source, limits);
  }

  /** Run a jsfive call under the meter; whatever it throws becomes a FormatError. */
  private run<T>(what: string, fn: () => T): T {
    const previous = active;
    const outer = previous !== this.meter;
    active = this.meter;
    if (outer) this.meter.begin();
    try {
      const out = fn();
      if (this.meter.error) throw this.meter.error;
      return out;
    } catch (e) {
      if (this.meter.error) throw this.meter.error;
      if (e instanceof FormatError) throw e;
      throw new FormatError(`${this.source}: ${what}: not a readable HDF5 file (${explain(e)})`);
    } finally {
      if (outer) this.meter.end();
      active = previous;
    }
  }

  private node(path: string): Group | Dataset | null {
    const parts = path.split('/').filter((p) => p !== '');
    let at = '';
    let node = this.nodes.get('')!;
    for (const name of parts) {
      const next = at ? `${at}/${name}` : name;
      let child = this.nodes.get(next);
      if (child === undefined) {
        const parent = node;
        child = parent instanceof Group
          ? this.run(`the object ${next}`, () => (parent.keys.includes(name) ? parent.get(name) : null))
          : null;
        this.nodes.set(next, child);
      }
      if (child === null) return null;
      node = child;
      at = next;
    }
    return node;
  }

  /** What is at `path`: a group, a dataset, or nothing. */
  kind(path: string): 'group' | 'dataset' | null {
    const node = this.node(path);
    return node instanceof Group ? 'group' : node instanceof Dataset ? 'dataset' : null;
  }

  private group(path: string): Group {
    const node = this.node(path);
    if (!(node instanceof Group)) throw new FormatError(`${this.source}: ${node ? `${path} is a dataset, expected a group` : `has no group ${path}`}`);
    return node;
  }

  /** The names in a group, in jsfive's (the file's) order. */
  names(path: string): string[] {
    return this.group(path).keys;
  }

  /** A group's attributes; fixed-length strings lose their NUL padding. */
  attributes(path: string): Record<string, unknown> {
    const group = this.group(path);
    const where = path ? `the attributes of ${path}` : 'the attributes of the root group';
    return this.run(where, () => {
      const objects = group._dataobjects;
      if (!this.metered.has(objects)) {
        // A variable-length string is decoded from its heap object without a copy: meter it here.
        const original = objects._vlen_size_and_data;
        objects._vlen_size_and_data = (buf, offset) => {
          const out = original.call(objects, buf, offset);
          active?.charge(null, 0, out[1]?.byteLength ?? 0);
          return out;
        };
        this.metered.add(objects);
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(group.attrs)) out[k] = stripNul(v);
      return out;
    });
  }

  /** A float dataset's values as float32, after checking its dtype, shape and layout. */
  floats(path: string): Hdf5Floats {
    const node = this.node(path);
    if (!(node instanceof Dataset)) throw new FormatError(`${this.source}: ${node ? `${path} is a group, expected a dataset` : `has no dataset ${path}`}`);
    return this.run(`the dataset ${path}`, () => {
      const dtype = node.dtype;
      const kind = typeof dtype === 'string' ? /^[<>|=]?f([248])$/.exec(dtype) : null;
      if (!kind) {
        const shown = typeof dtype === 'string' ? `'${dtype}'` : JSON.stringify(dtype);
        throw new FormatError(`${this.source}: ${path} holds ${shown}, expected floating-point numbers (float16, float32 or float64)`);
      }
      const shape = node.shape;
      if (!Array.isArray(shape) || shape.length > 32 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw new FormatError(`${this.source}: ${path} has no valid shape (${JSON.stringify(shape)?.slice(0, 60)})`);
      }
      const count = product(shape);
      const bytes = count * Number(kind[1]);
      if (!Number.isSafeInteger(bytes) || bytes > this.bytes.byteLength) {
        throw new FormatError(
          `${this.source}: ${path} declares shape ${describeShape(shape)} of ${dtype} (${bytes} bytes), more than the file's ${this.bytes.byteLength} bytes`,
        );
      }
      this.checkContiguous(node, path);
      const values = node.value;
      if (!Array.isArray(values) || values.length !== count || values.some((v) => typeof v !== 'number')) {
        throw new FormatError(`${this.source}: ${path} has no values for its shape ${describeShape(shape)} (never written?)`);
      }
      return { shape: [...shape], dtype: dtype as string, data: Float32Array.from(values as number[]) };
    });
  }

  /** Refuse compact, chunked and filtered datasets (HDF5 spec IV.A.2.i, the layout message; IV.A.2.l, filters). */
  private checkContiguous(node: Dataset, path: string): void {
    const msgs = node._dataobjects.msgs;
    if (msgs.some((m) => m.get('type') === FILTER_MESSAGE)) {
      throw new FormatError(`${this.source}: ${path} is compressed (an HDF5 filter pipeline); lstmkit reads the uncompressed datasets Keras writes`);
    }
    const layout = msgs.find((m) => m.get('type') === LAYOUT_MESSAGE);
    const at = layout?.get('offset_to_message') ?? -1;
    if (!(at >= 0 && at + 2 < this.bytes.byteLength)) throw new FormatError(`${this.source}: ${path} has no data layout message`);
    const version = this.bytes[at]!;
    const kind = version === 1 || version === 2 ? this.bytes[at + 2]! : version === 3 || version === 4 ? this.bytes[at + 1]! : -1;
    if (kind === 1) return;
    const how = ['stored compactly in its header', 'stored contiguously', 'stored in chunks', 'a virtual dataset'][kind] ?? `of layout version ${version}`;
    throw new FormatError(`${this.source}: ${path} is ${how}; lstmkit reads the contiguous datasets Keras writes`);
  }
}
