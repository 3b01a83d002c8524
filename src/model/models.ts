// The models a config can describe, and building one from its config: a
// SequenceModel (input → recurrent stack → head), a Seq2SeqModel
// (encoder–decoder; output.mode 'seq2seq') or a TaggerModel (step mode
// naming output.crf or input.chars).

import {
  isSeq2SeqConfig, isTaggerConfig, parseModelConfig, parseSeq2SeqConfig, parseTaggerConfig, type ModelConfig, type Seq2SeqConfig, type TaggerConfig,
} from './config.js';
import { parameterCountOf, SequenceModel, type ModelOptions } from './model.js';
import { Seq2SeqModel, seq2seqParameterCount } from './seq2seq.js';
import { TaggerModel, taggerParameterCount } from './tagger.js';

export type AnyModel = SequenceModel | Seq2SeqModel | TaggerModel;
export type AnyConfig = ModelConfig | Seq2SeqConfig | TaggerConfig;

/** Validate a config of either kind. */
export function parseAnyConfig(value: unknown, where = 'config'): AnyConfig {
  if (isSeq2SeqConfig(value)) return parseSeq2SeqConfig(value, where);
  return isTaggerConfig(value) ? parseTaggerConfig(value, where) : parseModelConfig(value, where);
}

export function isSeq2Seq(config: AnyConfig): config is Seq2SeqConfig {
  return config.output.mode === 'seq2seq';
}

export function isTagger(config: AnyConfig): config is TaggerConfig {
  return isTaggerConfig(config);
}

/** The model a config describes, freshly initialized. */
export function buildModel(config: AnyConfig, opts: ModelOptions = {}): AnyModel {
  if (isSeq2Seq(config)) return new Seq2SeqModel(config, opts);
  return isTagger(config) ? new TaggerModel(config, opts) : new SequenceModel(config, opts);
}

/** Parameter values the config's model has, worked out without building it. */
export function parameterCountOfAny(config: AnyConfig): number {
  if (isSeq2Seq(config)) return seq2seqParameterCount(config);
  return isTagger(config) ? taggerParameterCount(config) : parameterCountOf(config);
}
