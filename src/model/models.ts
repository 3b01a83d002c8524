// The models a config can describe, and building one from its config: a
// SequenceModel (input → recurrent stack → head) or a Seq2SeqModel
// (encoder–decoder), told apart by output.mode 'seq2seq'.

import { isSeq2SeqConfig, parseModelConfig, parseSeq2SeqConfig, type ModelConfig, type Seq2SeqConfig } from './config.js';
import { parameterCountOf, SequenceModel, type ModelOptions } from './model.js';
import { Seq2SeqModel, seq2seqParameterCount } from './seq2seq.js';

export type AnyModel = SequenceModel | Seq2SeqModel;
export type AnyConfig = ModelConfig | Seq2SeqConfig;

/** Validate a config of either kind. */
export function parseAnyConfig(value: unknown, where = 'config'): AnyConfig {
  return isSeq2SeqConfig(value) ? parseSeq2SeqConfig(value, where) : parseModelConfig(value, where);
}

export function isSeq2Seq(config: AnyConfig): config is Seq2SeqConfig {
  return config.output.mode === 'seq2seq';
}

/** The model a config describes, freshly initialized. */
export function buildModel(config: AnyConfig, opts: ModelOptions = {}): AnyModel {
  return isSeq2Seq(config) ? new Seq2SeqModel(config, opts) : new SequenceModel(config, opts);
}

/** Parameter values the config's model has, worked out without building it. */
export function parameterCountOfAny(config: AnyConfig): number {
  return isSeq2Seq(config) ? seq2seqParameterCount(config) : parameterCountOf(config);
}
