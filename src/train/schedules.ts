// Learning-rate schedules with torch.optim.lr_scheduler's semantics: call
// `step()` after each epoch (ReduceLROnPlateau: `step(validationLoss)`); the
// optimizer's lr is then the rate for the next epoch.

import type { Optimizer } from './optimizers.js';

export interface Schedule {
  step(metric?: number): void;
  getState(): Record<string, number>;
  setState(state: Record<string, number>): void;
}

/** lr = base · gamma^⌊epoch / stepSize⌋. */
export class StepLR implements Schedule {
  private epoch = 0;
  private readonly baseLr: number;
  constructor(private readonly opt: Optimizer, readonly stepSize: number, readonly gamma = 0.1) {
    this.baseLr = opt.lr;
  }
  step(): void {
    this.epoch++;
    this.opt.lr = this.baseLr * Math.pow(this.gamma, Math.floor(this.epoch / this.stepSize));
  }
  getState(): Record<string, number> {
    return { epoch: this.epoch };
  }
  setState(s: Record<string, number>): void {
    this.epoch = s.epoch ?? 0;
  }
}

/** Cosine annealing from the base rate to etaMin over tMax epochs (PyTorch's recursive form). */
export class CosineAnnealingLR implements Schedule {
  private epoch = 0;
  private readonly baseLr: number;
  constructor(private readonly opt: Optimizer, readonly tMax: number, readonly etaMin = 0) {
    this.baseLr = opt.lr;
  }
  step(): void {
    const e = ++this.epoch;
    const { tMax, etaMin } = this;
    const lr = this.opt.lr;
    if ((e - 1 - tMax) % (2 * tMax) === 0) {
      this.opt.lr = lr + ((this.baseLr - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2;
    } else {
      this.opt.lr = ((1 + Math.cos((Math.PI * e) / tMax)) / (1 + Math.cos((Math.PI * (e - 1)) / tMax)))
        * (lr - etaMin) + etaMin;
    }
  }
  getState(): Record<string, number> {
    return { epoch: this.epoch };
  }
  setState(s: Record<string, number>): void {
    this.epoch = s.epoch ?? 0;
  }
}

export interface PlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  /** Relative improvement that counts (threshold_mode 'rel'). */
  threshold?: number;
  cooldown?: number;
  minLr?: number;
}

/** Multiply the rate by `factor` once the metric has not improved for more than `patience` epochs. */
export class ReduceLROnPlateau implements Schedule {
  private best: number;
  private badEpochs = 0;
  private cooldownLeft = 0;
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly cooldown: number;
  readonly minLr: number;

  constructor(private readonly opt: Optimizer, o: PlateauOptions = {}) {
    this.mode = o.mode ?? 'min';
    this.factor = o.factor ?? 0.1;
    this.patience = o.patience ?? 10;
    this.threshold = o.threshold ?? 1e-4;
    this.cooldown = o.cooldown ?? 0;
    this.minLr = o.minLr ?? 0;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  step(metric?: number): void {
    if (metric === undefined || !Number.isFinite(metric)) return;
    const better = this.mode === 'min' ? metric < this.best * (1 - this.threshold) : metric > this.best * (1 + this.threshold);
    if (better) {
      this.best = metric;
      this.badEpochs = 0;
    } else this.badEpochs++;
    if (this.cooldownLeft > 0) {
      this.cooldownLeft--;
      this.badEpochs = 0;
    }
    if (this.badEpochs > this.patience) {
      const lr = Math.max(this.opt.lr * this.factor, this.minLr);
      if (this.opt.lr - lr > 1e-8) this.opt.lr = lr;
      this.cooldownLeft = this.cooldown;
      this.badEpochs = 0;
    }
  }
  getState(): Record<string, number> {
    return { best: this.best, badEpochs: this.badEpochs, cooldownLeft: this.cooldownLeft };
  }
  setState(s: Record<string, number>): void {
    this.best = s.best ?? this.best;
    this.badEpochs = s.badEpochs ?? 0;
    this.cooldownLeft = s.cooldownLeft ?? 0;
  }
}
