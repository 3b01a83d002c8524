// Optimizer steps, clipping and schedules against torch.optim fixtures:
// same gradients in, same parameters out, to 1e-6.

import { test } from 'node:test';
import {
  Adam, AdamW, CosineAnnealingLR, RMSprop, ReduceLROnPlateau, SGD, StepLR,
  clipGradNorm, clipGradValue, Rng, type Optimizer,
} from '../../src/index.js';
import { getBackend, ParamStore } from '../../src/internals.js';
import { assertClose, loadFixture } from '../helpers/fixtures.js';

interface OptimFixture {
  p0: number[];
  grads: number[][];
  configs: { name: string; optimizer: string; args: Record<string, unknown>; steps: number[][] }[];
  clip_norm: { maxNorm: number; grads: number[][]; totalNorm: number; clipped: number[][] };
  clip_value: { clipValue: number; grads: number[][]; clipped: number[][] };
  schedulers: {
    name: string; scheduler: string; baseLr: number; epochs?: number; args: Record<string, number>;
    valLosses?: number[]; lrs: number[];
  }[];
}
const fx = loadFixture<OptimFixture>('torch', 'optim.json');

function storeWith(values: number[][]): ParamStore {
  const store = ParamStore.allocate(getBackend(), values.map((v, i) => ({ name: `p${i}`, shape: [v.length], init: () => {} })), new Rng(0));
  store.loadStateDict(Object.fromEntries(values.map((v, i) => [`p${i}`, v])));
  return store;
}

function setGrads(store: ParamStore, values: number[][]): void {
  const heap = store.backend.arena.heap;
  values.forEach((v, i) => heap.set(v, store.gradOffset(`p${i}`)));
}

function make(store: ParamStore, name: string, a: Record<string, unknown>): Optimizer {
  const n = (k: string) => a[k] as number;
  switch (name) {
    case 'SGD':
      return new SGD(store, {
        lr: n('lr'), momentum: n('momentum') ?? 0, dampening: n('dampening') ?? 0, nesterov: (a.nesterov as boolean) ?? false,
        weightDecay: n('weight_decay') ?? 0,
      });
    case 'Adam':
      return new Adam(store, { lr: n('lr'), betas: a.betas as [number, number], eps: n('eps'), weightDecay: n('weight_decay') });
    case 'AdamW':
      return new AdamW(store, { lr: n('lr'), betas: a.betas as [number, number], eps: n('eps'), weightDecay: n('weight_decay') });
    case 'RMSprop':
      return new RMSprop(store, {
        lr: n('lr'), alpha: n('alpha'), eps: n('eps'), weightDecay: n('weight_decay'), momentum: n('momentum'), centered: a.centered as boolean,
      });
    default:
      throw new Error(`unknown optimizer ${name}`);
  }
}

for (const c of fx.configs) {
  test(`${c.name} matches torch.optim.${c.optimizer} over ${c.steps.length} steps`, () => {
    const store = storeWith([fx.p0]);
    const opt = make(store, c.optimizer, c.args);
    c.steps.forEach((expected, k) => {
      setGrads(store, [fx.grads[k]!]);
      opt.step();
      assertClose(store.stateDict().p0!, expected, `${c.name} step ${k + 1}`, 1e-6, 1e-6);
    });
  });
}

test('clipGradNorm matches torch.nn.utils.clip_grad_norm_', () => {
  const f = fx.clip_norm;
  const store = storeWith(f.grads.map((g) => g.map(() => 0)));
  setGrads(store, f.grads);
  const norm = clipGradNorm(store, f.maxNorm);
  assertClose([norm], [f.totalNorm], 'total norm', 1e-6, 1e-6);
  const g = store.gradDict();
  f.clipped.forEach((expected, i) => assertClose(g[`p${i}`]!, expected, `clipped p${i}`, 1e-6, 1e-6));
});

test('clipGradValue matches torch.nn.utils.clip_grad_value_', () => {
  const f = fx.clip_value;
  const store = storeWith(f.grads.map((g) => g.map(() => 0)));
  setGrads(store, f.grads);
  clipGradValue(store, f.clipValue);
  const g = store.gradDict();
  f.clipped.forEach((expected, i) => assertClose(g[`p${i}`]!, expected, `clipped p${i}`, 0, 0));
});

for (const s of fx.schedulers) {
  test(`${s.scheduler} matches torch.optim.lr_scheduler`, () => {
    const opt = new SGD(storeWith([[0]]), { lr: s.baseLr });
    const lrs: number[] = [];
    if (s.scheduler === 'ReduceLROnPlateau') {
      const sched = new ReduceLROnPlateau(opt, {
        mode: 'min', factor: s.args.factor!, patience: s.args.patience!, threshold: s.args.threshold!, cooldown: s.args.cooldown!,
        minLr: s.args.min_lr!,
      });
      for (const loss of s.valLosses!) {
        sched.step(loss);
        lrs.push(opt.lr);
      }
    } else {
      const sched = s.scheduler === 'StepLR' ? new StepLR(opt, s.args.step_size!, s.args.gamma!) : new CosineAnnealingLR(opt, s.args.T_max!, s.args.eta_min!);
      for (let e = 0; e < s.epochs!; e++) {
        lrs.push(opt.lr);
        sched.step();
      }
    }
    assertClose(lrs, s.lrs, `${s.name} lrs`, 1e-12, 1e-15);
  });
}
