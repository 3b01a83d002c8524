// Dense (torch.nn.Linear): y = x · Wᵀ + b, weight [out, in], bias [out].

import { ShapeError, ValueError, assertFinite, describeShape } from '../core/errors.js';
import { tensor, type Tensor } from '../core/tensor.js';
import { NONE } from '../kernels/backend.js';
import { uniformInit, type ParamSpec } from '../model/params.js';
import { Module, type ModuleOptions } from './module.js';

export interface DenseOptions {
  inFeatures: number;
  outFeatures: number;
  bias?: boolean;
}

export class Dense extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
  private last: { x: number; rows: number } | undefined;

  constructor(opts: DenseOptions, module: ModuleOptions = {}) {
    super(module);
    for (const field of ['inFeatures', 'outFeatures'] as const) {
      const v = opts[field];
      if (!Number.isInteger(v) || v < 1) throw new ValueError(`Dense: ${field} must be a positive integer, got ${String(v)}`);
    }
    this.inFeatures = opts.inFeatures;
    this.outFeatures = opts.outFeatures;
    this.bias = opts.bias ?? true;
  }

  paramSpecs(): ParamSpec[] {
    // PyTorch: kaiming_uniform(a=√5) on the weight and U(±1/√in) on the bias, both bound 1/√in.
    const init = uniformInit(1 / Math.sqrt(this.inFeatures));
    const specs: ParamSpec[] = [{ name: 'weight', shape: [this.outFeatures, this.inFeatures], init }];
    if (this.bias) specs.push({ name: 'bias', shape: [this.outFeatures], init });
    return specs;
  }

  /** y [rows, out] = x [rows, in] (row stride ldx) · Wᵀ + b. The returned offset is owned by the layer. */
  forwardRaw(x: number, rows: number, ldx = this.inFeatures): number {
    const y = this.ws.get('y', rows * this.outFeatures);
    this.backend.gemm(false, true, rows, this.outFeatures, this.inFeatures, x, ldx, this.param('weight'), this.inFeatures, y, this.outFeatures, false);
    if (this.bias) this.backend.addBias(rows, this.outFeatures, y, this.outFeatures, this.param('bias'));
    this.last = { x: ldx === this.inFeatures ? x : this.packed(x, rows, ldx), rows };
    return y;
  }

  private packed(x: number, rows: number, ldx: number): number {
    const xs = this.ws.get('x', rows * this.inFeatures);
    const heap = this.backend.arena.heap;
    for (let r = 0; r < rows; r++) heap.copyWithin(xs + r * this.inFeatures, x + r * ldx, x + r * ldx + this.inFeatures);
    return xs;
  }

  /** Adds dW, db; returns dx [rows, in] (owned by the layer) or NONE when not wanted. */
  backwardRaw(dy: number, wantDx = true): number {
    const last = this.last;
    if (!last) throw new ValueError('Dense.backward called before forward');
    const { x, rows } = last;
    const b = this.backend;
    b.gemm(true, false, this.outFeatures, this.inFeatures, rows, dy, this.outFeatures, x, this.inFeatures, this.grad('weight'), this.inFeatures, true);
    if (this.bias) b.sumRows(rows, this.outFeatures, dy, this.outFeatures, this.grad('bias'));
    if (!wantDx) return NONE;
    const dx = this.ws.get('dx', rows * this.inFeatures);
    b.gemm(false, false, rows, this.inFeatures, this.outFeatures, dy, this.outFeatures, this.param('weight'), this.inFeatures, dx, this.inFeatures, false);
    return dx;
  }

  /** x: [..., in] → [..., out]. */
  forward(x: Tensor): Tensor {
    const last = x.shape[x.shape.length - 1];
    if (last !== this.inFeatures) throw new ShapeError(`Dense: input has shape ${describeShape(x.shape)}, expected last dimension ${this.inFeatures}`);
    assertFinite(x.data, 'Dense input');
    const rows = x.data.length / this.inFeatures;
    const xs = this.ws.get('input', x.data.length);
    this.backend.arena.heap.set(x.data, xs);
    const y = this.forwardRaw(xs, rows);
    return tensor(this.backend.arena.heap.slice(y, y + rows * this.outFeatures), [...x.shape.slice(0, -1), this.outFeatures]);
  }

  backward(dy: Tensor): Tensor {
    const last = this.last;
    if (!last) throw new ValueError('Dense.backward called before forward');
    if (dy.data.length !== last.rows * this.outFeatures) throw new ShapeError(`Dense: output gradient has shape ${describeShape(dy.shape)}, expected ${last.rows} rows of ${this.outFeatures}`);
    const dys = this.ws.get('dOutput', dy.data.length);
    this.backend.arena.heap.set(dy.data, dys);
    const dx = this.backwardRaw(dys);
    return tensor(this.backend.arena.heap.slice(dx, dx + last.rows * this.inFeatures), [...dy.shape.slice(0, -1), this.inFeatures]);
  }
}

/** torch.nn's name for Dense. */
export { Dense as Linear };
