// Token-by-token sampling from a TextGenerator, as a JavaScript generator, so
// the server can stream each token, yield to other requests between tokens,
// and stop at a deadline. It draws exactly what TextGenerator.sample() draws
// (same prime handling, banned tokens, <eos>, seeded stream; a test holds the
// two equal). Seam: when the recipe offers a streaming sampler, use it here.

import { Rng } from '../core/rng.js';
import type { Batch } from '../data/batch.js';
import { pickToken, type TextGenerator } from '../tasks/generator.js';
import { encodeTokens, EOS, PAD, textTokens, UNK, vocabularyIndex } from '../tasks/vocabulary.js';

export interface SampleRequest {
  prime: string;
  length: number;
  temperature: number;
  topK: number;
  seed: number;
  count: number;
}

export type SampleEvent =
  /** The start of sample `sample`: the prime as shown (or the start token when there is none). */
  | { type: 'prime'; sample: number; text: string }
  /** One more token; the texts of a sample's events, joined, are the sample. */
  | { type: 'token'; sample: number; text: string }
  /** A sample is complete: why it stopped ('length' or 'eos') and how many tokens it drew. */
  | { type: 'end'; sample: number; text: string; tokens: number; finishReason: 'length' | 'eos' };

/** Feed tokens with the state carried; the logits after the last one. */
function feed(generator: TextGenerator, tokens: Int32Array): Float64Array {
  const model = generator.model;
  const T = tokens.length;
  const batch: Batch = { steps: T, size: 1, x: null, tokens, lengths: Int32Array.of(T), yReg: null, yCls: null, indices: [0] };
  const { out, rows } = model.forward(batch, { carry: true });
  const K = model.outputSize;
  return Float64Array.from(model.backend.arena.heap.subarray(out + (rows - 1) * K, out + rows * K));
}

/**
 * Samples continuing `prime`, one event per step. The caller must run it to
 * the end or call return() (the model's state is reset either way), and must
 * not use the generator's model for anything else meanwhile.
 */
export function* sampleSteps(generator: TextGenerator, req: SampleRequest): Generator<SampleEvent, string[], void> {
  const vocab = generator.vocabulary;
  const index = vocabularyIndex(vocab);
  const model = generator.model;
  const banned = new Uint8Array(model.outputSize);
  banned[index.get(PAD) ?? 0] = 1;
  banned[index.get(UNK) ?? 1] = 1;
  const eos = index.get(EOS);
  const primeTokens = encodeTokens(textTokens(req.prime, generator.tokenizer, generator.normalization), vocab);
  let context: Int32Array;
  let shown = req.prime;
  if (generator.unit === 'lines') context = Int32Array.of(eos ?? 0, ...primeTokens);
  else if (primeTokens.length) context = primeTokens;
  else {
    const start = index.get('\n') ?? 2;
    context = Int32Array.of(start);
    if (vocab[start] !== '\n') shown = vocab[start] ?? '';
  }
  const joiner = generator.tokenizer === 'char' ? '' : ' ';
  const rng = new Rng(req.seed);
  const samples: string[] = [];
  model.eval();
  try {
    for (let n = 0; n < req.count; n++) {
      model.resetState();
      yield { type: 'prime', sample: n, text: shown };
      let text = shown;
      let logits = feed(generator, context);
      let drawn = 0;
      let finishReason: 'length' | 'eos' = 'length';
      for (let i = 0; i < req.length; i++) {
        const next = pickToken(logits, req.temperature, req.topK, banned, rng);
        if (next === eos) {
          finishReason = 'eos';
          break;
        }
        const piece = (text && joiner ? joiner : '') + vocab[next]!;
        text += piece;
        drawn++;
        yield { type: 'token', sample: n, text: piece };
        if (i + 1 < req.length) logits = feed(generator, Int32Array.of(next));
      }
      samples.push(text);
      yield { type: 'end', sample: n, text, tokens: drawn, finishReason };
    }
  } finally {
    model.train();
    model.resetState();
  }
  return samples;
}
