// lstmkit's public API: what users build, train, save and run models with.
// Engine internals (backends, the arena, batching) are under 'lstmkit/internals'.

// Errors, seeds, tensors, and the choice of compute backend.
export { LstmkitError, ShapeError, ValueError, StateDictError, DataError, FormatError, DivergenceError } from './core/errors.js';
export { Rng, manualSeed } from './core/rng.js';
export { tensor, zeros, sizeOf, type Tensor, type ArenaTensor, type Indices } from './core/tensor.js';
export { initBackend, setBackend, backendInfo, type BackendName, type BackendOptions, type BackendInfo } from './kernels/index.js';

// Layers: modules with PyTorch's names, options and state dicts.
export { Module, TensorModule, type ModuleOptions } from './layers/module.js';
export type { ParamStore, ParamSpec, StateDict, StateDictInput } from './layers/params.js';
export { LSTM, type LSTMOptions } from './layers/lstm.js';
export { GRU, type GRUOptions } from './layers/gru.js';
export { RNN, type RNNOptions } from './layers/rnn.js';
export { Recurrent, type RecurrentOptions, type ForwardOptions, type RecurrentOutput, type RecurrentTrace } from './layers/recurrent.js';
export { Dense, Linear, type DenseOptions } from './layers/dense.js';
export { Embedding, type EmbeddingOptions } from './layers/embedding.js';
export { Dropout } from './layers/dropout.js';
export { Activation, type ActivationKind } from './layers/activation.js';
export { Sequential } from './layers/sequential.js';
export { Pooling, type PoolingKind } from './layers/pooling.js';
export { Attention, type AttentionKind, type AttentionOptions } from './layers/attention.js';
export { CRF, type CRFOptions, type CRFInputOptions, type CRFLossOptions, type CRFReduction, type TagScheme } from './layers/crf.js';

// Models from configs.
export {
  parseModelConfig, completeConfig, ModelConfigSchema,
  type ModelConfig, type TrainConfig, type InputConfig, type RnnConfig, type OutputConfig,
} from './model/config.js';
export { SequenceModel, type ModelOptions } from './model/model.js';
export {
  parseSeq2SeqConfig, completeSeq2SeqConfig, SEQ2SEQ_DEFAULTS, Seq2SeqConfigSchema, type Seq2SeqConfig, type Seq2SeqOutputConfig,
} from './model/config.js';
export {
  parseTaggerConfig, completeTaggerConfig, isTaggerConfig, TaggerConfigSchema, TAGGER_DEFAULTS, type TaggerConfig,
} from './model/config.js';
export { TaggerModel, type TaggerInput, type TagPaths } from './model/tagger.js';
export { buildModel, parseAnyConfig, type AnyModel, type AnyConfig } from './model/models.js';
export { Seq2SeqModel, DecodeSession, TiedOutput, type Seq2SeqInput } from './model/seq2seq.js';
export { greedyDecode, beamSearch, type BeamSearchOptions, type DecodeSource, type Decoded } from './model/decode.js';

// Training: losses, optimizers, clipping, schedules, the trainer, evaluation and prediction, sequence metrics.
export { mseLoss, crossEntropyLoss } from './train/losses.js';
export {
  Optimizer, SGD, Adam, AdamW, RMSprop,
  type OptimizerState, type Parameterized, type SGDOptions, type AdamOptions, type RMSpropOptions,
} from './train/optimizers.js';
export { clipGradNorm, clipGradValue } from './train/clip.js';
export { StepLR, CosineAnnealingLR, ReduceLROnPlateau, type Schedule, type PlateauOptions } from './train/schedules.js';
export {
  Trainer, type EpochLog, type BatchLog, type Callbacks, type FitOptions, type CheckpointOptions, type ExampleOf,
} from './train/trainer.js';
export type { TrainerState } from './train/checkpoint.js';
export { evaluateModel, predictModel, type Prediction } from './train/evaluate.js';
export type { Metrics } from './train/metrics.js';
export {
  editDistance, closestReference, SequenceErrorAccumulator, corpusBleu,
  type ClosestReference, type SequenceErrors, type BleuOptions, type BleuScore,
} from './train/seqmetrics.js';
export {
  spansOf, invalidTransitions, SpanAccumulator, formatSpanReport,
  type SpanScheme, type Span, type SpanScores, type TypeScores, type SpanMetrics,
} from './train/spanmetrics.js';
export {
  MostFrequentTagger, BigramHmm, unknownWordClass, tagAccuracy, type TokensAndTags, type BaselineTagger, type MostFrequentTagOptions, type TagAccuracy,
} from './train/tagbaselines.js';
export {
  TaggerTask, taggerLoss, evaluateTagger, tagExamples, tagSentences, type Tagged, type TagResult, type TextSpan,
} from './train/tagger.js';
export {
  evaluateSeq2Seq, transduce, decodeExamples, type DecodeOptions, type Transduction, type Transduced,
} from './train/seq2seq.js';

// Data: readers, records to examples, tokenizers and vocabularies, series and windows.
export { parseJsonl, type JsonlRecord } from './data/jsonl.js';
export { encodeRecord, encodeRecords, type Example, type RecordSpec } from './data/encode.js';
export {
  encodePairs, parseTsvPairs, pairVocabularies, makePairBatch, BOS, type PairExample, type PairBatch, type PairSpec,
} from './data/pairs.js';
export {
  PAD, UNK, EOS, tokenize, normalizeText, textTokens, buildVocabulary, encodeTokens, sortLabels,
  type TokenizerKind, type TextNormalization, type VocabularyOptions,
} from './data/vocabulary.js';
export {
  parseConll, parseTaggedJsonl, taggedSentences, parseWordVectors, parseSentences, sentenceOfText, sentenceOfTokens,
  type TaggedSentence, type ConllOptions, type Sentence,
} from './data/conll.js';
export {
  encodeTagged, makeTaggedBatch, taggedVocabularies, wordChars, type TaggedExample, type TaggedBatch, type CharBatch, type TaggedSpec,
} from './data/tagged.js';
export { parseCsv, tableFromRecords, columnIndex, numericColumn, formatCsv, type CsvTable } from './data/csv.js';
export {
  parseDate, formatDate, inferFrequency, addPeriods, describeFrequency, parseFrequency, defaultSeason, seasonPhase,
  type Frequency,
} from './data/dates.js';
export { Scaler, type ScalerKind, type ScalerState } from './data/scaler.js';
export { buildSeries, type TimeSeries, type SeriesOptions, type GapPolicy } from './data/timeseries.js';
export { windowOrigins, inputWindow, windowExamples, type WindowSpec } from './data/window.js';
export { addingProblem, temporalOrder } from './data/synthetic.js';

// Model files, and models from and to PyTorch, Keras and ONNX.
export { encodeModelFile, decodeModelFile, modelFromFile, FORMAT_VERSION, type ModelFileContents, type ModelFileExtra } from './io/modelfile.js';
export { saveModel, loadModel, readModelFile } from './io/modelpath.js';
export { encodeSafetensors, decodeSafetensors, type SafetensorsTensor, type SafetensorsFile } from './io/safetensors.js';
export { importTorch, parseRenames, type TorchImportOptions, type ImportedTorchModel } from './io/torch.js';
export { importKeras, type KerasImportOptions, type ImportedModel } from './io/keras.js';
export { readKerasFiles, readKerasModelJson, readKerasWeights, type KerasFiles, type KerasSource } from './io/kerasfiles.js';
export { decodeNpz, parseNpy, type NpyArray } from './io/npz.js';
export { importOnnx, loadOnnxModel, type OnnxImport, type OnnxImportOptions } from './io/onnx/import.js';
export { exportOnnx, type OnnxExportOptions } from './io/onnx/export.js';

// Recipes and their reports.
export {
  Forecaster, DEFAULT_FORECAST_TRAIN,
  type ForecasterOptions, type ForecasterModelOptions, type ForecastEvaluation, type Forecast,
} from './tasks/forecaster.js';
export type { ForecastPreprocessing, TargetTransform } from './tasks/forecastdata.js';
export { naiveForecast, seasonalNaiveForecast, seasonalNaiveScale, forecastErrors, ErrorAccumulator, type ErrorMetrics } from './tasks/baselines.js';
export { Seq2Seq, SEQ2SEQ_TRAIN_DEFAULTS, type Seq2SeqOptions, type Pair } from './tasks/seq2seq.js';
export { Tagger, TAGGER_TRAIN_DEFAULTS, type TaggerOptions, type LabelledSentence } from './tasks/tagger.js';
export {
  TextClassifier, CLASSIFIER_TRAIN_DEFAULTS,
  type TextClassifierOptions, type LabelledText, type ClassPrediction, type ClassifierMetrics, type ClassifierPreprocessing,
} from './tasks/classifier.js';
export {
  TextGenerator, splitText, splitLines, textLines, pickToken, GENERATOR_TRAIN_DEFAULTS,
  type TextGeneratorOptions, type GeneratorFitOptions, type GeneratorCallbacks, type GeneratorEpochLog,
  type SampleOptions, type SampleRequest, type SampleEvent, type LanguageModelMetrics,
  type GeneratorPreprocessing, type TextUnit,
} from './tasks/generator.js';
export { BigramModel, type BigramOptions, type BigramSmoothing } from './tasks/bigram.js';
export { formatEvaluation, evaluationChart, forecastChart, forecastRows } from './report/forecast.js';
export { renderSvg, renderHtml, renderChart, type ChartSpec, type ChartSeries, type ChartSegment, type ChartSection } from './report/chart.js';
