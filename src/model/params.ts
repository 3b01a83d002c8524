// The parameter store: every parameter of a model in one flat block of the
// arena, gradients in a second block with the same offsets. Layers get
// offsets from a size table. Zeroing gradients, clipping and the optimizer
// step are each one loop over one buffer; saving is one copy.

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

interface Entry {
  shape: number[];
  size: number;
  rel: number; // offset inside the block
}

export class ParamStore {
  readonly size: number;
  /** Arena offset of the parameter block. */
  readonly data: number;
  /** Arena offset of the gradient block (same layout). */
  readonly grad: number;
  private readonly entries = new Map<string, Entry>();

  constructor(readonly backend: Backend, specs: readonly ParamSpec[], rng: Rng) {
    let size = 0;
    for (const spec of specs) {
      if (this.entries.has(spec.name)) throw new StateDictError(`parameter ${spec.name} is declared twice`);
      const n = sizeOf(spec.shape);
      this.entries.set(spec.name, { shape: [...spec.shape], size: n, rel: size });
      size += Math.ceil(n / 16) * 16; // keep each tensor 64-byte aligned
    }
    this.size = size;
    const arena = backend.arena;
    this.data = arena.alloc(size);
    this.grad = arena.alloc(size);
    for (const spec of specs) {
      const e = this.entries.get(spec.name)!;
      spec.init(rng, arena.view(this.data + e.rel, e.size));
    }
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

  /**
   * Load parameters by name. Every name must be known and every parameter
   * present, with the right number of values (and shape, when given).
   */
  loadStateDict(dict: Record<string, ArrayLike<number> | { data: ArrayLike<number>; shape: readonly number[] }>): void {
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
