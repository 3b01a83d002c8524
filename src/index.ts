// lstmkit's whole public API.

export { LstmkitError, ShapeError, ValueError, StateDictError, DataError, FormatError, DivergenceError } from './core/errors.js';
export { Rng, manualSeed } from './core/rng.js';
export { tensor, zeros, sizeOf, type Tensor } from './core/tensor.js';
export { Arena, type DType, type Floats } from './core/arena.js';
export { NONE, type Backend, type CellKind } from './kernels/backend.js';
export { ReferenceBackend } from './kernels/reference.js';
export { getBackend, setBackend } from './kernels/index.js';
export { ParamStore, type ParamSpec, type StateDict } from './model/params.js';
export { Recurrent, type RecurrentOptions, type ModuleOptions, type ForwardOptions } from './layers/recurrent.js';
export { LSTM, type LSTMOptions } from './layers/lstm.js';
export { GRU, type GRUOptions } from './layers/gru.js';
export { RNN, type RNNOptions } from './layers/rnn.js';
export { Module } from './layers/module.js';
export { Dense, Linear, type DenseOptions } from './layers/dense.js';
export { Embedding, type EmbeddingOptions } from './layers/embedding.js';
export { mseLoss, crossEntropyLoss } from './train/losses.js';
export { Optimizer, SGD, Adam, AdamW, RMSprop, type OptimizerState, type Parameterized, type SGDOptions, type AdamOptions, type RMSpropOptions } from './train/optimizers.js';
export { clipGradNorm, clipGradValue } from './train/clip.js';
export { StepLR, CosineAnnealingLR, ReduceLROnPlateau, type Schedule, type PlateauOptions } from './train/schedules.js';
