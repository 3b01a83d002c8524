// lstmkit/internals: the engine under the public API, for benchmarks, tests
// and people extending lstmkit with kernels or modules of their own. It
// changes between versions without notice; everything a model needs from
// it is reachable through the public API ('lstmkit').

export { Arena, Workspace, ArrayBufferStorage, type DType, type Floats, type HeapStorage } from './core/arena.js';
export { arenaTensor } from './core/tensor.js';
export {
  NONE, gateCount, recurrentSavedSize, recurrentScratchSize,
  type Backend, type CellKind, type RecurrentShape, type RecurrentSizes, type RecurrentWeights,
  type RecurrentForward, type RecurrentBackward, type AdamArgs,
} from './kernels/backend.js';
export { ReferenceBackend } from './kernels/reference.js';
export { WasmBackend, type WasmBackendOptions } from './kernels/wasm/backend.js';
export { createBackend, getBackend } from './kernels/index.js';
export { ParamStore, uniformInit, normalInit } from './layers/params.js';
export { batchSpecOf } from './model/config.js';
export { BatchRunner } from './model/runner.js';
export type { ModelInput, ModelState } from './model/model.js';
export { seq2seqParameterCount, seq2seqSizes, type Seq2SeqSizes } from './model/seq2seq.js';
export { taggerParameterCount } from './model/tagger.js';
export { makeBatch, batchIndices, streamBatches, stepMask, type Batch, type BatchSpec } from './data/batch.js';
export { mseArena, crossEntropyArena, softmaxArena, type LossResult } from './train/losses.js';
export { runBatches, type RunOptions } from './train/evaluate.js';
export { trainerSection, trainerStateOf } from './train/checkpoint.js';
