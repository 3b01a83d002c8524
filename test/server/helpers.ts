// Models for the server tests (small, seeded, untrained unless a recipe
// needs fitting) and a server on a random port of 127.0.0.1.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { decodeModelFile, encodeModelFile, SequenceModel, type ModelConfig, type ModelFileContents } from '../../src/index.js';
import { createServer } from '../../src/server/app.js';
import type { ServerOptions } from '../../src/server/options.js';

export const CHARS = ['<pad>', '<unk>', ...'abcdefghij .'.split('')];

export function contentsOf(config: ModelConfig, preprocessing?: unknown, seed = 1): ModelFileContents {
  const model = new SequenceModel(config, { seed });
  return decodeModelFile(encodeModelFile(model, preprocessing === undefined ? {} : { preprocessing }));
}

/** Sequence regression over 2 features: the adding problem's shape. */
export const regressionConfig: ModelConfig = {
  input: { type: 'features', size: 2 },
  rnn: { cell: 'lstm', hiddenSize: 8 },
  output: { mode: 'sequence', type: 'regression' },
};

/** A tagger: a tag per step of a word sequence. */
export const taggerConfig: ModelConfig = {
  input: { type: 'tokens', embeddingDim: 4, vocabulary: ['<pad>', '<unk>', 'the', 'cat', 'sat'], tokenizer: 'word' },
  rnn: { cell: 'gru', hiddenSize: 6, bidirectional: true },
  output: { mode: 'step', type: 'classification', classes: ['DET', 'NOUN', 'VERB'] },
};

export const classifierConfig: ModelConfig = {
  input: { type: 'tokens', embeddingDim: 4, vocabulary: ['<pad>', '<unk>', 'good', 'bad', 'film', '!'], tokenizer: 'word', maxLength: 20 },
  rnn: { cell: 'lstm', hiddenSize: 6, bidirectional: true },
  output: { mode: 'sequence', type: 'classification', classes: ['neg', 'pos'], pooling: 'mean' },
};
export const classifierPre = { task: 'text-classifier', version: 1, lowercase: true, splitPunctuation: true };

export function generatorConfig(vocabulary: string[], tokenizer: 'char' | 'word' = 'char'): ModelConfig {
  return {
    input: { type: 'tokens', embeddingDim: 5, vocabulary, tokenizer },
    rnn: { cell: 'lstm', hiddenSize: 12 },
    output: { mode: 'next', type: 'classification', classes: vocabulary },
  };
}
export const generatorPre = (unit: 'text' | 'lines' = 'text') => ({ task: 'text-generator', version: 1, unit, lowercase: false, splitPunctuation: false });

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'lstmkit-server-'));
}

export function writeModel(dir: string, name: string, contents: ModelFileContents): string {
  const model = new SequenceModel(contents.config, { seed: 0 });
  model.loadStateDict(contents.weights);
  const path = join(dir, name);
  const extra = contents.preprocessing === undefined ? {} : { preprocessing: contents.preprocessing };
  writeFileSync(path, encodeModelFile(model, extra));
  return path;
}

export interface Running {
  app: FastifyInstance;
  url: string;
  post(path: string, body: unknown, init?: RequestInit): Promise<Response>;
  get(path: string): Promise<Response>;
  close(): Promise<void>;
}

/** A server on 127.0.0.1, a free port. */
export async function serve(options: ServerOptions): Promise<Running> {
  const app = await createServer({ defaultMetrics: false, ...options });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    url,
    post: (path, body, init = {}) => fetch(url + path, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body), ...init,
    }),
    get: (path) => fetch(url + path),
    close: () => app.close(),
  };
}

/** The body of an error answer, checked for its shape. */
export async function errorOf(res: Response): Promise<{ status: number; error: string; code: string; field?: string }> {
  const body = (await res.json()) as { error: string; code: string; field?: string };
  if (typeof body.error !== 'string' || typeof body.code !== 'string') throw new Error(`not an error body: ${JSON.stringify(body)}`);
  return { status: res.status, ...body };
}
