// The forecaster's training defaults. A module of their own, apart from
// forecaster.ts, so the command line's help can show them without loading
// the model code.

import type { TrainConfig } from '../model/config.js';

export const DEFAULT_FORECAST_TRAIN: TrainConfig = {
  epochs: 100, batchSize: 32, optimizer: { name: 'adam', lr: 0.003 }, clipNorm: 1, earlyStopping: { patience: 10 }, seed: 0, shuffle: true,
};
