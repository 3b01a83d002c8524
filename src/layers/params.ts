// The parameter store: every parameter of a module tree in one flat block of
// the arena, gradients in a second block with the same offsets. Layers get
// offsets from a size table. Zeroing gradients, clipping and the optimizer
// step are each one loop over one buffer; saving is one copy. A subtree's
// parameters are contiguous (depth-first order), so a child module's view of
// the store is a slice of the same two blocks.

import type { Floats } from '../core/arena.js';
import { StateDictError, describeShape, assertFinite } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { sizeOf } from '../core/tensor.js';
import type { Backend } from '../kernels/backend.js';

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Fills `out` with the initial values. */
  init: (rng: Rng, out: Floats) => void;
}

/** Parameter name -> values (Float32Array; Float64Array on a float64 backend). */
export type StateDict = Record<string, Floats>;

/** What loadStateDict takes: values by name, each a flat array or a tensor with its shape. */
export type StateDictInput = Record<string, ArrayLike<number> | { data: ArrayLike<number>; shape: readonly number[] }>;

interface Entry {
  shape: number[];
  size: number;
  rel: number; // offset inside the block
}

/** Elements a parameter takes in the block: its size rounded up to 16 (64 bytes), so every tensor is aligned. */
function padded(size: number): number {
  return Math.ceil(size / 16) * 16;
}

export class ParamStore {
  /** Elements of the block (aligned sizes). */
  readonly size: number;
  /** Arena offset of the parameter block. */
  readonly data: number;
  /** Arena offset of the gradient block (same layout). */
  readonly grad: number;

  private constructor(
    readonly backend: Backend,
    private readonly entries: Map<string, Entry>,
    data: number,
    grad: number,
    size: number,
  ) {
    this.data = data;
    this.grad = grad;
    this.size = size;
  }

  /** A new store for `specs`, in order, initialized from `rng`. */
  static allocate(backend: Backend, specs: readonly ParamSpec[], rng: Rng): ParamStore {
    const entries = new Map<string, Entry>();
    let size = 0;
    for (const spec of specs) {
      if (entries.has(spec.name)) throw new StateDictError(`parameter ${spec.name} is declared twice`);
      const n = sizeOf(spec.shape);
      entries.set(spec.name, { shape: [...spec.shape], size: n, rel: size });
      size += padded(n);
    }
    const arena = backend.arena;
    const store = new ParamStore(backend, entries, arena.alloc(size), arena.alloc(size), size);
    for (const spec of specs) {
      const e = entries.get(spec.name)!;
      spec.init(rng, arena.view(store.data + e.rel, e.size));
    }
    return store;
  }

  /** The parameters named `prefix…` as a store of their own (the same memory), names without the prefix. */
  view(prefix: string): ParamStore {
    if (prefix === '') return this;
    const entries = new Map<string, Entry>();
    let start = -1;
    let end = 0;
    for (const [name, e] of this.entries) {
      if (!name.startsWith(prefix)) continue;
      if (start < 0) start = e.rel;
      entries.set(name.slice(prefix.length), { ...e, rel: e.rel - start });
      end = e.rel + padded(e.size);
    }
    if (start < 0) start = end = 0;
    return new ParamStore(this.backend, entries, this.data + start, this.grad + start, end - start);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  shape(name: string): number[] {
    return [...this.entry(name).shape];
  }

  /** Number of parameter values (without alignment padding). */
  get count(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.size;
    return n;
  }

  /** Arena offset of a parameter. */
  offset(name: string): number {
    return this.data + this.entry(name).rel;
  }

  /** Arena offset of a parameter's gradient. */
  gradOffset(name: string): number {
    return this.grad + this.entry(name).rel;
  }

  private entry(name: string): Entry {
    const e = this.entries.get(name);
    if (!e) throw new StateDictError(`no parameter named ${name}`);
    return e;
  }

  zeroGrad(): void {
    this.backend.fill(this.size, this.grad, 0);
  }

  /** Copies of every parameter, by name. */
  stateDict(): StateDict {
    return this.dict(this.data);
  }

  /** Copies of every accumulated gradient, by name. */
  gradDict(): StateDict {
    return this.dict(this.grad);
  }

  private dict(base: number): StateDict {
    const out: StateDict = {};
    const heap = this.backend.arena.heap;
    for (const [name, e] of this.entries) out[name] = heap.slice(base + e.rel, base + e.rel + e.size);
    return out;
  }

  /** The whole parameter block, flat (for best-weight snapshots). */
  snapshot(): Float32Array {
    return Float32Array.from(this.backend.arena.heap.subarray(this.data, this.data + this.size));
  }

  /** Write back a block taken by snapshot(). */
  restore(values: ArrayLike<number>): void {
    if (values.length !== this.size) throw new StateDictError(`a parameter snapshot has ${values.length} values, this model's block has ${this.size}`);
    this.backend.arena.heap.set(values, this.data);
  }

  /**
   * Load parameters by name. Every name must be known and every parameter
   * present, with the right number of values (and shape, when given).
   */
  loadStateDict(dict: StateDictInput): void {
    const unknown = Object.keys(dict).filter((k) => !this.entries.has(k));
    if (unknown.length) throw new StateDictError(`unknown parameter(s) ${unknown.join(', ')}; expected ${this.names().join(', ')}`);
    const missing = this.names().filter((k) => !(k in dict));
    if (missing.length) throw new StateDictError(`missing parameter(s) ${missing.join(', ')}`);
    // Check everything before writing anything, so a bad dict changes nothing.
    const values: [Entry, ArrayLike<number>][] = [];
    for (const [name, e] of this.entries) {
      const v = dict[name]!;
      const data = 'shape' in v ? v.data : v;
      if ('shape' in v && (v.shape.length !== e.shape.length || v.shape.some((d, i) => d !== e.shape[i]))) {
        throw new StateDictError(`${name} has shape ${describeShape(v.shape)}, expected ${describeShape(e.shape)}`);
      }
      if (data.length !== e.size) {
        throw new StateDictError(`${name} has ${data.length} values, expected ${e.size} (shape ${describeShape(e.shape)})`);
      }
      assertFinite(data, name);
      values.push([e, data]);
    }
    const heap = this.backend.arena.heap;
    for (const [e, data] of values) heap.set(data, this.data + e.rel);
  }
}

/** PyTorch's default for recurrent layers and Linear: U(-bound, bound). */
export function uniformInit(bound: number): (rng: Rng, out: Floats) => void {
  return (rng, out) => {
    for (let i = 0; i < out.length; i++) out[i] = rng.range(-bound, bound);
  };
}

export function normalInit(std = 1): (rng: Rng, out: Floats) => void {
  return (rng, out) => {
    for (let i = 0; i < out.length; i++) out[i] = std * rng.normal();
  };
}
