// Sequential (torch.nn.Sequential): one-tensor modules applied in order,
// named '0', '1', … as PyTorch names them (`head.0.weight`). Backward runs
// them in reverse, each adding into its own parameter gradients.

import type { ArenaTensor } from '../core/tensor.js';
import { TensorModule, type ModuleOptions } from './module.js';

export class Sequential extends TensorModule {
  readonly layers: readonly TensorModule[];

  constructor(layers: readonly TensorModule[], module: ModuleOptions = {}) {
    const backend = module.backend ?? layers[0]?.backend;
    super({ ...module, ...(backend ? { backend } : {}) });
    this.layers = layers.map((layer, i) => this.addModule(String(i), layer));
  }

  forwardArena(x: ArenaTensor, slot?: number): ArenaTensor {
    let y = x;
    for (const layer of this.layers) y = layer.forwardArena(y, slot);
    return y;
  }

  backwardArena(dy: ArenaTensor, wantDx = true, slot?: number): ArenaTensor | undefined {
    let d: ArenaTensor | undefined = dy;
    for (let i = this.layers.length - 1; i >= 0 && d; i--) d = this.layers[i]!.backwardArena(d, i > 0 || wantDx, slot);
    return d;
  }
}
