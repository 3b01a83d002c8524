// The arena: every parameter, gradient, activation and workspace is carved
// from one growable heap of floats. Buffers are named by element offsets into
// it, never by typed-array views, so a backend can put the heap inside a
// WebAssembly.Memory and hand offsets straight to its kernels.

import { describeShape, LstmkitError, ShapeError } from './errors.js';
import { sizeOf, tensor, type ArenaTensor, type Tensor } from './tensor.js';

export type DType = 'float32' | 'float64';
export type Floats = Float32Array | Float64Array;

/** Where the arena's bytes live: a plain ArrayBuffer, or a WebAssembly.Memory. */
export interface HeapStorage {
  /** The current backing buffer (it may be replaced when the heap grows). */
  buffer(): ArrayBufferLike;
  /** Make the buffer at least `bytes` long; offsets already handed out stay valid. */
  grow(bytes: number): void;
}

/** Elements are aligned to 64 bytes, a cache line and a multiple of every SIMD width. */
const ALIGN_BYTES = 64;

export class ArrayBufferStorage implements HeapStorage {
  private buf: ArrayBuffer;
  constructor(bytes = 1 << 20) {
    this.buf = new ArrayBuffer(bytes);
  }
  buffer(): ArrayBuffer {
    return this.buf;
  }
  grow(bytes: number): void {
    if (bytes <= this.buf.byteLength) return;
    const size = Math.max(bytes, Math.ceil(this.buf.byteLength * 1.5));
    const next = new ArrayBuffer(size);
    new Uint8Array(next).set(new Uint8Array(this.buf));
    this.buf = next;
  }
}

interface Block {
  offset: number; // elements
  count: number; // elements
}

export class Arena {
  readonly dtype: DType;
  readonly bytesPerElement: number;
  private readonly storage: HeapStorage;
  private readonly alignElements: number;
  private top: number; // first element never handed out
  private readonly free: Block[] = []; // sorted by offset, coalesced
  private readonly live = new Map<number, number>(); // offset -> count
  private cachedBuffer: ArrayBufferLike | undefined;
  private cachedHeap: Floats | undefined;
  private cachedInts: Int32Array | undefined;
  /** The largest `top` reached, in bytes: the arena's peak footprint. */
  peakBytes = 0;

  /**
   * @param baseBytes bytes at the start of the storage the arena must not touch
   *   (a wasm module's static data and stack).
   */
  constructor(dtype: DType = 'float32', storage: HeapStorage = new ArrayBufferStorage(), baseBytes = 0) {
    this.dtype = dtype;
    this.bytesPerElement = dtype === 'float32' ? 4 : 8;
    this.storage = storage;
    this.alignElements = ALIGN_BYTES / this.bytesPerElement;
    this.top = Math.ceil(baseBytes / ALIGN_BYTES) * this.alignElements;
  }

  /** The whole heap as floats; refetch after any `alloc` (growth may replace it). */
  get heap(): Floats {
    this.refresh();
    return this.cachedHeap!;
  }

  /** The same bytes as 32-bit integers (for float32 arenas; index = element offset). */
  get ints(): Int32Array {
    this.refresh();
    return this.cachedInts!;
  }

  get buffer(): ArrayBufferLike {
    return this.storage.buffer();
  }

  private refresh(): void {
    const buf = this.storage.buffer();
    if (buf === this.cachedBuffer && this.cachedHeap!.byteLength === buf.byteLength) return;
    this.cachedBuffer = buf;
    this.cachedHeap = this.dtype === 'float32' ? new Float32Array(buf) : new Float64Array(buf);
    this.cachedInts = new Int32Array(buf);
  }

  /** Reserve `count` elements (zero-filled); returns the element offset. */
  alloc(count: number): number {
    if (!Number.isInteger(count) || count < 0) throw new LstmkitError(`arena: cannot allocate ${count} elements`);
    const size = Math.max(this.alignElements, Math.ceil(count / this.alignElements) * this.alignElements);
    let offset = -1;
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i]!;
      if (block.count >= size) {
        offset = block.offset;
        if (block.count === size) this.free.splice(i, 1);
        else {
          block.offset += size;
          block.count -= size;
        }
        break;
      }
    }
    if (offset < 0) {
      offset = this.top;
      this.top += size;
      const bytes = this.top * this.bytesPerElement;
      this.storage.grow(bytes);
      this.peakBytes = Math.max(this.peakBytes, bytes);
    }
    this.live.set(offset, size);
    this.heap.fill(0, offset, offset + size);
    return offset;
  }

  /** Return a block to the arena. */
  release(offset: number): void {
    const count = this.live.get(offset);
    if (count === undefined) throw new LstmkitError(`arena: offset ${offset} is not a live block`);
    this.live.delete(offset);
    let i = 0;
    while (i < this.free.length && this.free[i]!.offset < offset) i++;
    this.free.splice(i, 0, { offset, count });
    // Coalesce with the next and previous blocks.
    const next = this.free[i + 1];
    if (next && offset + count === next.offset) {
      this.free[i]!.count += next.count;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev && prev.offset + prev.count === offset) {
      prev.count += this.free[i]!.count;
      this.free.splice(i, 1);
    }
  }

  /** A view of `count` elements at `offset` (valid until the next alloc). */
  view(offset: number, count: number): Floats {
    return this.heap.subarray(offset, offset + count);
  }

  /** A zeroed host array of `n` elements of this arena's float type (Float64 for gradient checks). */
  floats(n: number): Floats {
    return this.dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  }

  /** A copy of an arena tensor's values, as a plain tensor. */
  read(t: ArenaTensor): Tensor {
    return tensor(this.heap.slice(t.offset, t.offset + sizeOf(t.shape)), t.shape);
  }

  /** Bytes handed out and not released. */
  get liveBytes(): number {
    let total = 0;
    for (const count of this.live.values()) total += count;
    return total * this.bytesPerElement;
  }
}

/**
 * Named scratch buffers owned by one layer, grown only when a larger size is
 * asked for, so a layer stops allocating once it has seen its largest batch.
 */
export class Workspace {
  private readonly slots = new Map<string, { offset: number; count: number }>();
  constructor(private readonly arena: Arena) {}

  /** An offset with room for `count` elements; contents are unspecified. */
  get(name: string, count: number): number {
    const slot = this.slots.get(name);
    if (slot && slot.count >= count) return slot.offset;
    if (slot) this.arena.release(slot.offset);
    const offset = this.arena.alloc(count);
    this.slots.set(name, { offset, count });
    return offset;
  }

  /** A buffer of `shape` (contents unspecified), as an arena tensor. */
  tensor(name: string, shape: readonly number[]): ArenaTensor {
    return { offset: this.get(name, sizeOf(shape)), shape: [...shape] };
  }

  /** `data` copied into the slot `name`, as an arena tensor of `shape`. */
  put(name: string, data: ArrayLike<number>, shape: readonly number[]): ArenaTensor {
    if (data.length !== sizeOf(shape)) throw new ShapeError(`a tensor of shape ${describeShape(shape)} needs ${sizeOf(shape)} values, got ${data.length}`);
    const t = this.tensor(name, shape);
    this.arena.heap.set(data, t.offset);
    return t;
  }

  /**
   * `t` [..., B, F] with each row repeated K times in a row, into the slot
   * `name`: [..., B·K, F], row b·K + k is row b (a beam's K hypotheses of
   * one source read the same encoding).
   */
  repeatRows(name: string, t: ArenaTensor, K: number): ArenaTensor {
    const n = t.shape.length;
    if (n < 2) throw new ShapeError(`repeatRows: a tensor of shape ${describeShape(t.shape)} has no rows of features`);
    const B = t.shape[n - 2]!;
    const F = t.shape[n - 1]!;
    const out = this.tensor(name, [...t.shape.slice(0, n - 2), B * K, F]);
    const heap = this.arena.heap;
    const blocks = sizeOf(t.shape) / (B * F);
    for (let i = 0; i < blocks; i++) {
      for (let b = 0; b < B; b++) {
        const from = t.offset + (i * B + b) * F;
        for (let k = 0; k < K; k++) heap.copyWithin(out.offset + ((i * B + b) * K + k) * F, from, from + F);
      }
    }
    return out;
  }

  /** Release every slot. */
  dispose(): void {
    for (const slot of this.slots.values()) this.arena.release(slot.offset);
    this.slots.clear();
  }
}
