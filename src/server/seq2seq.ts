// Sequence-to-sequence models on POST …/predict: a source in (a text, split
// as the model splits its sources, or an array of tokens; for a vector-input
// model, its numbers), the output out as `lstmkit predict` writes it:
// {y, score, nbest?: [{y, score}], attention?}. How to decode is said by
// fields of the request beside `instances` (beam, nbest, lengthPenalty,
// maxLength, attention) and holds for all its sources.
//
// Sources are encoded as the pair reader encodes them (encodePairs: a token
// the vocabulary lacks is the unknown token, index 1). The requests of one
// forward pass that decode alike go through one `transduce` call, so their
// encoder runs and beams are batched together; requests that decode
// differently run one call each, within the same pass.

import { encodePairs, type PairExample } from '../data/pairs.js';
import type { Seq2SeqConfig } from '../model/config.js';
import { Seq2SeqModel } from '../model/seq2seq.js';
import { modelFromFile, type ModelFileContents } from '../io/modelfile.js';
import { transduce, type Transduction } from '../train/seq2seq.js';
import { asInvalid, invalid } from './errors.js';
import { DEFAULT_LIMITS, DEFAULT_SOURCE_LENGTH } from './options.js';
import type { AdapterOptions, JsonSchema, TaskAdapter } from './tasks.js';

/** How a request decodes its sources: the body's fields with their defaults filled in. */
export interface DecodeRequest {
  beam: number;
  nbest: number;
  lengthPenalty: number;
  maxLength: number;
  attention: boolean;
}

/** One source, encoded, with how to decode it (`key` tells requests that decode alike). */
interface Source {
  example: PairExample;
  decode: DecodeRequest;
  key: string;
}

const num = { type: 'number' } as const;
const int = { type: 'integer' } as const;
const str = { type: 'string' } as const;

/** The `seq2seq` section of GET /v1/models/{name} (null for other models). */
export const Seq2SeqInfoSchema = {
  type: ['object', 'null'],
  description: 'sequence-to-sequence models: the source and target sides, the attention, decoding defaults and limits',
  properties: {
    mode: { type: 'string', enum: ['seq2seq'] },
    source: {
      type: 'object',
      description: 'tokens: how a source text is split and the vocabulary size; vector: its size',
      properties: { type: { type: 'string', enum: ['tokens', 'vector'] }, tokenizer: str, vocabularySize: int, size: int },
    },
    target: { type: 'object', properties: { tokenizer: str, vocabularySize: int, format: { type: 'string', enum: ['text', 'tokens'] } } },
    attention: { type: 'string', enum: ['dot', 'general', 'additive', 'none'] },
    defaults: { type: 'object', properties: { beam: int, nbest: int, lengthPenalty: num, maxLength: int, attention: { type: 'boolean' } } },
    limits: { type: 'object', properties: { maxBeam: int, maxSourceLength: int, maxOutputLength: int } },
  },
} as const;

/** One output in the shape `lstmkit predict` writes. */
function answer(t: Transduction): Record<string, unknown> {
  return {
    y: t.y, score: t.score,
    ...(t.nbest ? { nbest: t.nbest.map((n) => ({ y: n.y, score: n.score })) } : {}),
    ...(t.attention ? { attention: t.attention } : {}),
  };
}

export function seq2seqAdapter(contents: ModelFileContents<Seq2SeqConfig>, source: string, opts: AdapterOptions): TaskAdapter {
  const model = modelFromFile(contents, {}, source) as Seq2SeqModel;
  const { input, output } = model.config;
  const maxBeam = opts.maxBeam ?? DEFAULT_LIMITS.maxBeam;
  const maxOutputLength = opts.maxOutputLength ?? DEFAULT_LIMITS.maxOutputLength;
  const modelSourceLength = input.type === 'tokens' ? input.maxLength : undefined;
  // The server's limit, never above what the model reads (encodePairs refuses longer sources) or maxSteps (routes refuse them).
  const serverSourceLength = opts.maxSourceLength ?? modelSourceLength ?? DEFAULT_SOURCE_LENGTH;
  const maxSourceLength = Math.min(serverSourceLength, modelSourceLength ?? Infinity, opts.maxSteps);
  const defaultMaxLength = Math.min(model.maxLength, maxOutputLength);
  const attentionKind = model.sizes.attention;
  const separator = (input.type === 'tokens' ? input.tokenizer ?? 'char' : 'char') === 'word' ? ' ' : '';
  const targetTokenizer = output.tokenizer ?? (input.type === 'tokens' ? input.tokenizer ?? 'char' : 'char');
  const format = output.format ?? 'text';

  const instanceSchema: JsonSchema = input.type === 'tokens'
    ? {
      description: `a text (split into ${separator ? 'words' : 'characters'}) or an array of tokens, at most ${maxSourceLength}`,
      type: ['string', 'array'], items: { type: 'string' }, minItems: 1, maxItems: maxSourceLength,
    }
    : { description: `${input.size} numbers (the input vector)`, type: 'array', items: num, minItems: input.size, maxItems: input.size };
  const y: JsonSchema = format === 'tokens' ? { type: 'array', items: { type: 'string' } } : { type: 'string' };
  const predictionSchema: JsonSchema = {
    type: 'object',
    required: ['y', 'score'],
    properties: {
      y: { ...y, description: format === 'tokens' ? 'the output tokens' : 'the output text' },
      score: { ...num, description: 'log-probability / length^lengthPenalty (<eos> counted): what beam search ranks by' },
      nbest: {
        type: 'array', description: 'with nbest > 1: the best outputs, best first (the first is y)',
        items: { type: 'object', required: ['y', 'score'], properties: { y, score: num } },
      },
      attention: {
        type: 'array', items: { type: 'array', items: num },
        description: 'with attention: true, per output token (its <eos> included), the weights over the source tokens',
      },
    },
  };

  return {
    task: 'seq2seq',
    summary: 'a source sequence in, its output sequence and score out (greedy, or beam search with n-best lists; attention on request)',
    instanceSchema,
    predictionSchema,
    example: input.type === 'tokens' ? input.vocabulary!.slice(2, 6).join(separator) : Array.from({ length: input.size }, () => 0.5),
    model,
    options: {
      properties: {
        beam: { type: 'integer', minimum: 1, maximum: maxBeam, description: 'Hypotheses kept per source (default 1: greedy decoding).' },
        nbest: {
          type: 'integer', minimum: 1, maximum: maxBeam,
          description: 'Outputs per source, listed best first as `nbest` when above 1; at most beam (default 1).',
        },
        lengthPenalty: {
          type: 'number', minimum: 0,
          description: 'α of score = log-probability / length^α (default 1: the mean per token; 0: the log-probability).',
        },
        maxLength: {
          type: 'integer', minimum: 1, maximum: maxOutputLength,
          description: `Longest output in tokens; longer ones are cut there (default ${defaultMaxLength}).`,
        },
        attention: { type: 'boolean', description: 'Add each output\'s attention over its source, one row per output token (default false).' },
      },
      example: { beam: 3, nbest: 2 },
      read(body): DecodeRequest {
        const decode: DecodeRequest = {
          beam: (body.beam as number | undefined) ?? 1,
          nbest: (body.nbest as number | undefined) ?? 1,
          lengthPenalty: (body.lengthPenalty as number | undefined) ?? 1,
          maxLength: (body.maxLength as number | undefined) ?? defaultMaxLength,
          attention: (body.attention as boolean | undefined) ?? false,
        };
        if (decode.nbest > decode.beam) {
          throw invalid('nbest', `is ${decode.nbest}, more than beam (${decode.beam}); a beam of ${decode.beam} finds at most ${decode.beam} outputs`);
        }
        if (decode.attention && attentionKind === 'none') {
          throw invalid('attention', 'this model has no attention (output.attention is \'none\'); leave attention out');
        }
        return decode;
      },
    },
    seq2seq: {
      mode: 'seq2seq',
      source: input.type === 'tokens'
        ? { type: 'tokens', tokenizer: input.tokenizer ?? 'char', vocabularySize: input.vocabulary!.length }
        : { type: 'vector', size: input.size },
      target: { tokenizer: targetTokenizer, vocabularySize: model.targetVocabulary.length, format },
      attention: attentionKind,
      defaults: { beam: 1, nbest: 1, lengthPenalty: 1, maxLength: defaultMaxLength, attention: false },
      limits: { maxBeam, maxSourceLength, maxOutputLength },
    },
    prepare(instance, field, options) {
      const decode = options as DecodeRequest;
      const [example] = asInvalid(field, () => encodePairs([{ line: 0, value: { x: instance } }], model.config, { file: field, requireTarget: false }));
      const steps = example!.src?.length ?? 1;
      if (steps > serverSourceLength) {
        throw invalid(field, `has ${steps} tokens; this server accepts sources of at most ${serverSourceLength} (--max-source-length)`);
      }
      const item: Source = { example: example!, decode, key: JSON.stringify(decode) };
      // Decoding runs the encoder and the decoder on beam rows per source: a pass holds beam × the longer side.
      return { item, steps, cost: decode.beam * Math.max(steps, decode.maxLength) };
    },
    predict(items) {
      const sources = items as Source[];
      const groups = new Map<string, number[]>();
      sources.forEach((s, i) => groups.set(s.key, [...(groups.get(s.key) ?? []), i]));
      const out: unknown[] = [];
      for (const indices of groups.values()) {
        const decode = sources[indices[0]!]!.decode;
        const results = transduce(model, indices.map((i) => sources[i]!.example), { ...decode, batchSize: indices.length });
        indices.forEach((i, k) => (out[i] = answer(results[k]!)));
      }
      return out;
    },
  };
}
