// The Module: what every layer and model is. As in torch.nn, a module
// registers named parameters and named child modules, so the state-dict
// names fall out of the tree (`rnn.weight_ih_l0`, `head.weight`) and nobody
// writes a name table by hand. The whole tree's parameters live in one
// ParamStore (one parameter block and one gradient block in the arena),
// made by the root the first time a parameter is needed; a child sees its
// slice of it. The tree shares one backend and one random generator (for
// dropout); each module keeps its own workspace for what its backward needs.

import { Workspace } from '../core/arena.js';
import { assertFinite, LstmkitError } from '../core/errors.js';
import { defaultRng, Rng } from '../core/rng.js';
import type { ArenaTensor, Tensor } from '../core/tensor.js';
import type { Backend } from '../kernels/backend.js';
import { getBackend } from '../kernels/index.js';
import { ParamStore, type ParamSpec, type StateDict, type StateDictInput } from './params.js';

export interface ModuleOptions {
  backend?: Backend;
  /** Seed for initialization and dropout; default: the global generator (`manualSeed`). */
  seed?: number;
}

export abstract class Module {
  readonly backend: Backend;
  /** Training mode (dropout on); PyTorch's `train()` / `eval()`. */
  training = true;
  protected readonly ws: Workspace;
  private readonly ownRng: Rng;
  private parent: Module | undefined;
  private name = '';
  private readonly children = new Map<string, Module>();
  private store: ParamStore | undefined;
  /** Arena offsets of this module's parameters and of their gradients, by name (they never move once made). */
  private readonly paramAt = new Map<string, number>();
  private readonly gradAt = new Map<string, number>();

  constructor(opts: ModuleOptions = {}) {
    this.backend = opts.backend ?? getBackend();
    this.ownRng = opts.seed === undefined ? defaultRng() : new Rng(opts.seed);
    this.ws = new Workspace(this.backend.arena);
  }

  /** This module's own parameters (names without prefix), shapes and default initialization. */
  paramSpecs(): ParamSpec[] {
    return [];
  }

  /** Register `child` under `name` (its parameters become `name.…`); returns it. */
  protected addModule<M extends Module>(name: string, child: M): M {
    if (this.store || this.parent?.root.store) throw new LstmkitError(`${this.constructor.name}: add modules before the parameters are made`);
    if (child.store || child.parent) {
      throw new LstmkitError(
        `${this.constructor.name}: ${name} already has parameters or a parent; give each module one parent, before using it`,
      );
    }
    if (child.backend !== this.backend) {
      throw new LstmkitError(`${this.constructor.name}: ${name} runs on another backend; a model's modules share one`);
    }
    if (!/^[A-Za-z0-9_]+$/.test(name) || this.children.has(name)) {
      throw new LstmkitError(`${this.constructor.name}: bad or repeated module name ${JSON.stringify(name)}`);
    }
    child.parent = this;
    child.name = name;
    this.children.set(name, child);
    return child;
  }

  /** The direct children, by name, in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  private get root(): Module {
    return this.parent ? this.parent.root : this;
  }

  /** This module's dotted path from the root, with a trailing dot ('' for the root). */
  private get prefix(): string {
    return this.parent ? `${this.parent.prefix}${this.name}.` : '';
  }

  /** Every parameter of the subtree, depth first (own parameters, then each child's), with dotted names. */
  namedParamSpecs(): ParamSpec[] {
    const specs = this.paramSpecs();
    for (const [name, child] of this.children) specs.push(...child.namedParamSpecs().map((s) => ({ ...s, name: `${name}.${s.name}` })));
    return specs;
  }

  /**
   * Make the tree's parameter store now, initialized from `rng` (the root
   * only; otherwise it is made on first use from the tree's generator).
   */
  protected initParameters(rng: Rng): void {
    if (this.parent || this.store) throw new LstmkitError(`${this.constructor.name}: parameters are made once, by the root module`);
    this.store = ParamStore.allocate(this.backend, this.namedParamSpecs(), rng);
  }

  /** The generator the tree draws from (dropout masks). */
  protected get rng(): Rng {
    return this.root.ownRng;
  }

  private get rootStore(): ParamStore {
    const root = this.root;
    root.store ??= ParamStore.allocate(root.backend, root.namedParamSpecs(), root.ownRng);
    return root.store;
  }

  /** Arena offset of one of this module's own parameters. */
  protected param(name: string): number {
    let at = this.paramAt.get(name);
    if (at === undefined) this.paramAt.set(name, (at = this.rootStore.offset(this.prefix + name)));
    return at;
  }

  /** Arena offset of a parameter's gradient. */
  protected grad(name: string): number {
    let at = this.gradAt.get(name);
    if (at === undefined) this.gradAt.set(name, (at = this.rootStore.gradOffset(this.prefix + name)));
    return at;
  }

  /** The parameters and gradients of this subtree (for optimizers and clipping): one slice of the tree's blocks. */
  parameters(): ParamStore {
    return this.rootStore.view(this.prefix);
  }

  /** Number of parameter values in this subtree. */
  get parameterCount(): number {
    return this.parameters().count;
  }

  stateDict(): StateDict {
    return this.parameters().stateDict();
  }

  gradDict(): StateDict {
    return this.parameters().gradDict();
  }

  loadStateDict(dict: StateDictInput): void {
    this.parameters().loadStateDict(dict);
  }

  zeroGrad(): void {
    this.parameters().zeroGrad();
  }

  /** Training mode for the module and every child (dropout on when true). */
  train(mode = true): this {
    this.training = mode;
    for (const child of this.children.values()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** The tree's generator state (dropout masks), for checkpoints that resume exactly. */
  getRngState(): number[] {
    return this.rng.getState();
  }

  setRngState(state: readonly number[]): void {
    this.rng.setState(state);
  }

  /** Release the workspaces of the module and its children (parameters stay). */
  dispose(): void {
    this.ws.dispose();
    for (const child of this.children.values()) child.dispose();
  }
}

/**
 * A module of one tensor in and one out (Dense, Dropout, activations): the
 * modules Sequential chains. Subclasses write the arena face; the plain-tensor
 * face (copy in, run, copy out) is the same for all of them.
 */
export abstract class TensorModule extends Module {
  /**
   * x → y over arena tensors; y is this module's buffer, valid until its next forward (of the same tape slot:
   * a module run once per step of a loop keeps each step's buffers apart, so backward can run them in reverse).
   */
  abstract forwardArena(x: ArenaTensor, slot?: number): ArenaTensor;

  /**
   * Given dLoss/dy, adds into the parameter gradients and returns dLoss/dx
   * (this module's buffer), or undefined when `wantDx` is false.
   */
  abstract backwardArena(dy: ArenaTensor, wantDx?: boolean, slot?: number): ArenaTensor | undefined;

  /** Plain tensors in and out (fresh arrays). */
  forward(x: Tensor): Tensor {
    assertFinite(x.data, `${this.constructor.name} input`);
    return this.backend.arena.read(this.forwardArena(this.ws.put('input', x.data, x.shape)));
  }

  backward(dy: Tensor): Tensor {
    return this.backend.arena.read(this.backwardArena(this.ws.put('dOutput', dy.data, dy.shape))!);
  }
}
