// Taggers (TaggerModel: a BiLSTM with a softmax or CRF head) on POST
// …/predict: a sentence in — a text, split at whitespace, or an array of
// tokens — and what `lstmkit tag` writes out: its tokens, their tags, each
// tag's confidence (the softmax's probability, or under a CRF the marginal
// p(tag | sentence)), and, when the tags mark spans, the spans with their
// character offsets in the text (for tokens, in the tokens joined by single
// spaces: the text `lstmkit tag` reads from CoNLL columns).
//
// A sentence is checked alone as it arrives, by the encoder the CLI uses
// (same limits, same messages); a forward pass tags the sentences of every
// request in it with one tagSentences call, so a sentence gets what the
// library gives it.

import { sentenceOfText, sentenceOfTokens, type Sentence } from '../data/conll.js';
import { encodeTagged, TAGGED_LIMITS } from '../data/tagged.js';
import { modelFromFile, type ModelFileContents } from '../io/modelfile.js';
import type { TaggerConfig } from '../model/config.js';
import type { TaggerModel } from '../model/tagger.js';
import { schemeOf, tagSentences } from '../train/tagger.js';
import { asInvalid, invalid } from './errors.js';
import type { AdapterOptions, JsonSchema, TaskAdapter } from './tasks.js';

const num = { type: 'number' } as const;
const int = { type: 'integer' } as const;
const str = { type: 'string' } as const;
const strings = { type: 'array', items: str } as const;

/** The `tagger` section of GET /v1/models/{name} (null for other models). */
export const TaggerInfoSchema = {
  type: ['object', 'null'],
  description: 'taggers: the tags, how they mark spans, the head, and the longest sentence',
  properties: {
    tags: { ...strings, description: 'every tag the model gives, in the order of its outputs' },
    scheme: { type: 'string', enum: ['BIO', 'IOB1', 'BIOES', 'none'], description: 'how tags mark spans (none: they do not; no spans are returned)' },
    crf: { type: 'boolean', description: 'a CRF head (confidence is the marginal of the tag) rather than a softmax per token' },
    chars: { type: 'boolean', description: 'whether a character BiLSTM reads each word (unknown words still get a spelling)' },
    lowercase: { type: 'boolean', description: 'whether words are looked up in lower case' },
    maxLength: { ...int, description: 'the longest sentence in tokens (input.maxLength; --max-steps when lower)' },
  },
} as const;

function predictionSchemaOf(spans: boolean): JsonSchema {
  const span: JsonSchema = {
    type: 'object',
    required: ['type', 'start', 'end', 'startChar', 'endChar', 'text'],
    properties: {
      type: { ...str, description: 'the span\'s type: its tags without the B-/I-/E-/S- prefix' },
      start: { ...int, description: 'its first token' },
      end: { ...int, description: 'one past its last token' },
      startChar: { ...int, description: 'its first character in the text (UTF-16 code units)' },
      endChar: { ...int, description: 'one past its last character' },
      text: { ...str, description: 'the text from startChar to endChar' },
    },
  };
  return {
    type: 'object',
    required: ['tokens', 'tags', 'confidence', ...(spans ? ['spans'] : [])],
    properties: {
      tokens: { ...strings, description: 'the sentence\'s tokens' },
      tags: { ...strings, description: 'a tag per token' },
      confidence: {
        type: 'array', items: num,
        description: 'per token, the probability of its tag: the softmax\'s, or under a CRF the marginal p(tag | sentence)',
      },
      ...(spans ? { spans: { type: 'array', items: span, description: 'the spans the tags mark, in order' } } : {}),
    },
  };
}

/** The sentence of an instance (validated by its schema: a string, or an array of whitespace-free tokens). */
function sentenceOf(instance: unknown): Sentence {
  return typeof instance === 'string' ? sentenceOfText(instance, 0) : sentenceOfTokens(instance as string[], 0);
}

export function taggerAdapter(contents: ModelFileContents<TaggerConfig>, source: string, opts: AdapterOptions): TaskAdapter {
  const model = modelFromFile(contents, {}, source) as TaggerModel;
  const { input } = model.config;
  const scheme = schemeOf(model);
  const maxLength = Math.min(input.maxLength ?? TAGGED_LIMITS.maxLength, opts.maxSteps);
  const words = input.vocabulary!.slice(2, 6);
  return {
    task: 'tagger',
    summary: `a sentence in, a tag per token with its confidence${scheme ? ', and the spans the tags mark with their character offsets' : ''} out`,
    instanceSchema: {
      description: `a text, split at whitespace (offsets count in it), or an array of tokens (offsets count in the tokens joined by single spaces); ` +
        `at most ${maxLength} tokens`,
      type: ['string', 'array'],
      items: { type: 'string', pattern: '^\\S+$', description: 'a non-empty string without whitespace (a token)' },
      minItems: 1, maxItems: maxLength,
    },
    predictionSchema: predictionSchemaOf(scheme !== null),
    example: words.join(' '),
    model,
    tagger: {
      tags: model.classes, scheme: scheme ?? 'none', crf: model.crf !== null, chars: input.chars !== undefined,
      lowercase: input.lowercase === true, maxLength,
    },
    prepare(instance, field) {
      const sentence = sentenceOf(instance);
      if (sentence.tokens.length === 0) throw invalid(field, 'the text has no tokens (it is empty or only whitespace); a sentence needs at least one');
      // The CLI's encoder says what is wrong with a sentence the model cannot read (over input.maxLength).
      asInvalid(field, () => encodeTagged([{ line: 0, tokens: sentence.tokens, tags: [] }], model.config, { file: field, requireTags: false }));
      return { item: sentence, steps: sentence.tokens.length };
    },
    predict: (items) => tagSentences(model, items as Sentence[], { batchSize: Math.max(1, items.length), file: 'instances' }),
  };
}
