// Optimizers with PyTorch's update rules (torch.optim, single-tensor path).
// Parameters, gradients and every moment are parallel flat buffers in the
// arena, so each step is one loop per buffer.

import { ValueError } from '../core/errors.js';
import type { Backend } from '../kernels/backend.js';
import type { ParamStore } from '../layers/params.js';

/** Anything that owns parameters: a ParamStore, a layer, a model. */
export type Parameterized = ParamStore | { parameters(): ParamStore };

export function storesOf(params: Parameterized | readonly Parameterized[]): ParamStore[] {
  const list = Array.isArray(params) ? params : [params as Parameterized];
  return list.map((p) => ('parameters' in p ? p.parameters() : p));
}

/** Optimizer state for checkpoints: the step count and every moment buffer. */
export interface OptimizerState {
  name: string;
  step: number;
  lr: number;
  buffers: Float32Array[];
}

export abstract class Optimizer {
  /** The learning rate of the next step (schedules change it). */
  lr: number;
  /** Steps taken. */
  stepCount = 0;
  protected readonly stores: ParamStore[];
  protected readonly backend: Backend;
  /** Per store, the arena offsets of its moment buffers (same layout as the parameters). */
  protected readonly moments: number[][];

  constructor(params: Parameterized | readonly Parameterized[], lr: number, momentCount: number) {
    if (!(lr >= 0)) throw new ValueError(`${this.constructor.name}: lr must be a non-negative number, got ${lr}`);
    this.lr = lr;
    this.stores = storesOf(params);
    const first = this.stores[0];
    if (!first) throw new ValueError(`${this.constructor.name}: no parameters to optimize`);
    this.backend = first.backend;
    this.moments = this.stores.map((s) => Array.from({ length: momentCount }, () => s.backend.arena.alloc(s.size)));
  }

  zeroGrad(): void {
    for (const s of this.stores) s.zeroGrad();
  }

  step(): void {
    this.stepCount++;
    this.stores.forEach((s, i) => this.update(s, this.moments[i]!));
  }

  protected abstract update(store: ParamStore, moments: number[]): void;

  getState(): OptimizerState {
    const heap = this.backend.arena.heap;
    const buffers: Float32Array[] = [];
    this.stores.forEach((s, i) => {
      for (const m of this.moments[i]!) buffers.push(Float32Array.from(heap.subarray(m, m + s.size)));
    });
    return { name: this.constructor.name, step: this.stepCount, lr: this.lr, buffers };
  }

  setState(state: OptimizerState): void {
    const expected = this.moments.reduce((n, m) => n + m.length, 0);
    if (state.name !== this.constructor.name || state.buffers.length !== expected) {
      throw new ValueError(`optimizer state is for ${state.name} with ${state.buffers.length} buffers; this is ${this.constructor.name} with ${expected}`);
    }
    const heap = this.backend.arena.heap;
    let k = 0;
    this.stores.forEach((s, i) => {
      for (const m of this.moments[i]!) {
        const b = state.buffers[k++]!;
        if (b.length !== s.size) throw new ValueError(`optimizer buffer ${k - 1} has ${b.length} values, expected ${s.size}`);
        heap.set(b, m);
      }
    });
    this.stepCount = state.step;
    this.lr = state.lr;
  }
}

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;

  constructor(params: Parameterized | readonly Parameterized[], o: SGDOptions) {
    super(params, o.lr, 1);
    this.momentum = o.momentum ?? 0;
    this.dampening = o.dampening ?? 0;
    this.nesterov = o.nesterov ?? false;
    this.weightDecay = o.weightDecay ?? 0;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) throw new ValueError('SGD: nesterov needs momentum > 0 and dampening 0');
  }

  protected update(s: ParamStore, [buf]: number[]): void {
    const h = this.backend.arena.heap;
    const first = this.stepCount === 1;
    for (let i = 0; i < s.size; i++) {
      const p = s.data + i;
      let g = h[s.grad + i]! + this.weightDecay * h[p]!;
      if (this.momentum !== 0) {
        const b = first ? g : this.momentum * h[buf! + i]! + (1 - this.dampening) * g;
        h[buf! + i] = b;
        g = this.nesterov ? g + this.momentum * b : b;
      }
      h[p] = h[p]! - this.lr * g;
    }
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class Adam extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  protected readonly decoupled: boolean = false;

  constructor(params: Parameterized | readonly Parameterized[], o: AdamOptions = {}) {
    super(params, o.lr ?? 1e-3, 2);
    this.betas = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
  }

  protected update(s: ParamStore, [m, v]: number[]): void {
    this.backend.adam({
      n: s.size, param: s.data, grad: s.grad, m: m!, v: v!, lr: this.lr,
      beta1: this.betas[0], beta2: this.betas[1], eps: this.eps,
      weightDecay: this.weightDecay, decoupled: this.decoupled, step: this.stepCount,
    });
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter); PyTorch's default weightDecay 0.01. */
export class AdamW extends Adam {
  protected override readonly decoupled = true;
  constructor(params: Parameterized | readonly Parameterized[], o: AdamOptions = {}) {
    super(params, { weightDecay: 0.01, ...o });
  }
}

export interface RMSpropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
}

export class RMSprop extends Optimizer {
  readonly alpha: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly momentum: number;
  readonly centered: boolean;

  constructor(params: Parameterized | readonly Parameterized[], o: RMSpropOptions = {}) {
    super(params, o.lr ?? 1e-2, 3);
    this.alpha = o.alpha ?? 0.99;
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
    this.momentum = o.momentum ?? 0;
    this.centered = o.centered ?? false;
  }

  protected update(s: ParamStore, [sq, avgGrad, buf]: number[]): void {
    const h = this.backend.arena.heap;
    const a = this.alpha;
    for (let i = 0; i < s.size; i++) {
      const p = s.data + i;
      const g = h[s.grad + i]! + this.weightDecay * h[p]!;
      const v = (h[sq! + i] = a * h[sq! + i]! + (1 - a) * g * g);
      let avg: number;
      if (this.centered) {
        const ga = (h[avgGrad! + i] = a * h[avgGrad! + i]! + (1 - a) * g);
        avg = Math.sqrt(v - ga * ga) + this.eps;
      } else avg = Math.sqrt(v) + this.eps;
      if (this.momentum > 0) {
        const b = (h[buf! + i] = this.momentum * h[buf! + i]! + g / avg);
        h[p] = h[p]! - this.lr * b;
      } else h[p] = h[p]! - (this.lr * g) / avg;
    }
  }
}
