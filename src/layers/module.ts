// What every layer shares: a backend, a seeded generator, named workspace
// buffers, and parameters in a ParamStore — its own, or a model's shared one
// under a name prefix.

import { Workspace } from '../core/arena.js';
import { defaultRng, Rng } from '../core/rng.js';
import type { Backend } from '../kernels/backend.js';
import { getBackend } from '../kernels/index.js';
import { ParamStore, type ParamSpec, type StateDict } from '../model/params.js';

export interface ModuleOptions {
  backend?: Backend;
  /** Seed for initialization and dropout; default: the global generator (`manualSeed`). */
  seed?: number;
}

export abstract class Module {
  readonly backend: Backend;
  /** Training mode (dropout on); PyTorch's `train()` / `eval()`. */
  training = true;
  protected readonly rng: Rng;
  protected readonly ws: Workspace;
  private store: ParamStore | undefined;
  private prefix = '';

  constructor(module: ModuleOptions) {
    this.backend = module.backend ?? getBackend();
    this.rng = module.seed === undefined ? defaultRng() : new Rng(module.seed);
    this.ws = new Workspace(this.backend.arena);
  }

  /** Parameter names (without prefix), shapes and default initialization. */
  abstract paramSpecs(): ParamSpec[];

  /** Use parameters from `store` under `prefix` (a model shares one store among its layers). */
  bind(store: ParamStore, prefix = ''): void {
    this.store = store;
    this.prefix = prefix;
  }

  protected get params(): ParamStore {
    this.store ??= new ParamStore(this.backend, this.paramSpecs(), this.rng);
    return this.store;
  }

  /** Arena offset of a parameter. */
  protected param(name: string): number {
    return this.params.offset(this.prefix + name);
  }

  /** Arena offset of a parameter's gradient. */
  protected grad(name: string): number {
    return this.params.gradOffset(this.prefix + name);
  }

  /** The store holding this layer's parameters and gradients (for optimizers). */
  parameters(): ParamStore {
    return this.params;
  }

  stateDict(): StateDict {
    return this.params.stateDict();
  }

  gradDict(): StateDict {
    return this.params.gradDict();
  }

  loadStateDict(dict: Parameters<ParamStore['loadStateDict']>[0]): void {
    this.params.loadStateDict(dict);
  }

  zeroGrad(): void {
    this.params.zeroGrad();
  }

  train(mode = true): this {
    this.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** The generator's state (dropout masks), for checkpoints that resume exactly. */
  getRngState(): number[] {
    return this.rng.getState();
  }

  setRngState(state: readonly number[]): void {
    this.rng.setState(state);
  }

  /** Release this layer's workspace (parameters stay with their store). */
  dispose(): void {
    this.ws.dispose();
  }
}
