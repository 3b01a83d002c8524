// Dense (torch.nn.Linear): y = x · Wᵀ + b, weight [out, in], bias [out].

import { positiveInt, ShapeError, ValueError, describeShape } from '../core/errors.js';
import { sizeOf, type ArenaTensor } from '../core/tensor.js';
import { TensorModule, type ModuleOptions } from './module.js';
import { uniformInit, type ParamSpec } from './params.js';

export interface DenseOptions {
  inFeatures: number;
  outFeatures: number;
  bias?: boolean;
}

export class Dense extends TensorModule {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
  /** What each forward kept for its backward, by tape slot (-1 outside a loop; see RecurrentArenaOptions.slot). */
  private readonly tape = new Map<number, { x: ArenaTensor; rows: number }>();

  constructor(opts: DenseOptions, module: ModuleOptions = {}) {
    super(module);
    this.inFeatures = positiveInt(opts.inFeatures, 'inFeatures', 'Dense');
    this.outFeatures = positiveInt(opts.outFeatures, 'outFeatures', 'Dense');
    this.bias = opts.bias ?? true;
  }

  override paramSpecs(): ParamSpec[] {
    // PyTorch: kaiming_uniform(a=√5) on the weight and U(±1/√in) on the bias, both bound 1/√in.
    const init = uniformInit(1 / Math.sqrt(this.inFeatures));
    const specs: ParamSpec[] = [{ name: 'weight', shape: [this.outFeatures, this.inFeatures], init }];
    if (this.bias) specs.push({ name: 'bias', shape: [this.outFeatures], init });
    return specs;
  }

  /** y [..., out] = x [..., in] · Wᵀ + b. */
  forwardArena(x: ArenaTensor, slot?: number): ArenaTensor {
    if (x.shape[x.shape.length - 1] !== this.inFeatures) {
      throw new ShapeError(`Dense: input has shape ${describeShape(x.shape)}, expected last dimension ${this.inFeatures}`);
    }
    const rows = sizeOf(x.shape) / this.inFeatures;
    const y = this.ws.tensor(slot === undefined ? 'y' : `y@${slot}`, [...x.shape.slice(0, -1), this.outFeatures]);
    this.backend.gemm(
      false, true, rows, this.outFeatures, this.inFeatures,
      x.offset, this.inFeatures, this.param('weight'), this.inFeatures, y.offset, this.outFeatures, false,
    );
    if (this.bias) this.backend.addBias(rows, this.outFeatures, y.offset, this.outFeatures, this.param('bias'));
    this.tape.set(slot ?? -1, { x, rows });
    return y;
  }

  /** Adds dW, db; returns dx [..., in], or undefined when not wanted. */
  backwardArena(dy: ArenaTensor, wantDx = true, slot?: number): ArenaTensor | undefined {
    const last = this.tape.get(slot ?? -1);
    if (!last) throw new ValueError('Dense.backward called before forward');
    const { x, rows } = last;
    if (sizeOf(dy.shape) !== rows * this.outFeatures) {
      throw new ShapeError(`Dense: output gradient has shape ${describeShape(dy.shape)}, expected ${rows} rows of ${this.outFeatures}`);
    }
    const b = this.backend;
    b.gemm(
      true, false, this.outFeatures, this.inFeatures, rows,
      dy.offset, this.outFeatures, x.offset, this.inFeatures, this.grad('weight'), this.inFeatures, true,
    );
    if (this.bias) b.sumRows(rows, this.outFeatures, dy.offset, this.outFeatures, this.grad('bias'));
    if (!wantDx) return undefined;
    const dx = this.ws.tensor(slot === undefined ? 'dx' : `dx@${slot}`, x.shape);
    b.gemm(
      false, false, rows, this.inFeatures, this.outFeatures,
      dy.offset, this.outFeatures, this.param('weight'), this.inFeatures, dx.offset, this.inFeatures, false,
    );
    return dx;
  }
}

/** torch.nn's name for Dense. */
export { Dense as Linear };
