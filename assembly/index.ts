// lstmkit's WebAssembly kernels: every export takes byte pointers into the
// shared memory, sizes and strides, and never allocates. Workers instantiate
// this same module on the same memory; nothing here keeps mutable state in
// globals or static data.

export { packSize, packedSize, packPanels, packUnitPanels, gemm, gemmPacked } from './gemm';
export { addBias, sumRows, copy, fill, mul, axpy, scale, sumSquares, clamp, allFinite } from './pointwise';
export { softmaxCrossEntropy } from './loss';
export { attendForward } from './attention';
export { adam } from './adam';
export { lstmForward, lstmBackward } from './lstm';
export { gruForward, gruBackward } from './gru';
export { rnnForward, rnnBackward } from './rnn';
export { expf32, sigmoidf32, tanhf32, sigmoidVec, tanhVec } from './math';

/** First byte past the module's static data: the arena starts above it. */
export function heapBase(): usize {
  return __heap_base;
}
