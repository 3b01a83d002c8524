// The routes of one model: GET its description, POST predict (dynamically
// batched), POST generate for language models (optionally streamed as
// Server-Sent Events). Each route carries its model's own JSON Schemas, so
// Fastify validates an instance against the exact input contract before
// anything is queued, and the OpenAPI document shows that contract.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PassThrough } from 'node:stream';
import type { ModelFileContents } from '../io/modelfile.js';
import { ModelConfigSchema, Seq2SeqConfigSchema, TaggerConfigSchema } from '../model/config.js';
import type { SampleEvent, SampleRequest, TextGenerator } from '../tasks/generator.js';
import type { Batcher, Slots } from './batcher.js';
import { ErrorBodySchema, HttpError, invalid } from './errors.js';
import type { ServerMetrics } from './metrics.js';
import { Seq2SeqInfoSchema } from './seq2seq.js';
import { TaggerInfoSchema } from './tagger.js';
import { InstanceFailure, type Prepared, type TaskAdapter } from './tasks.js';
import type { ServerLimits } from './options.js';

export interface ServedModel {
  name: string;
  sha256: string;
  contents: ModelFileContents;
  adapter: TaskAdapter;
  batcher: Batcher<Prepared, unknown>;
  /** Padded steps per forward pass at most (from --max-pass-memory and the model's size). */
  maxPassSteps: number;
  /** Generation slots, each with a model of its own (language models only). */
  samplers?: Slots<TextGenerator>;
  /** The URL paths of its routes. */
  paths: { info: string; predict: string; generate?: string };
}

export interface RouteContext {
  limits: ServerLimits;
  metrics: ServerMetrics;
  version: string;
}

const errors = {
  400: ErrorBodySchema, 404: ErrorBodySchema, 413: ErrorBodySchema, 415: ErrorBodySchema,
  500: ErrorBodySchema, 503: ErrorBodySchema, 504: ErrorBodySchema,
};

const schemaOf = { type: 'object', description: 'a JSON Schema', additionalProperties: true } as const;

/**
 * The answer of GET /v1/models/{name};
 * `config` is the model config's own schema (TypeBox, shared with the library and the CLI): a sequence model's, a seq2seq model's or a tagger's.
 */
export const ModelInfoSchema = {
  type: 'object',
  required: ['name', 'task', 'version', 'input', 'output', 'config'],
  properties: {
    name: { type: 'string' },
    task: {
      type: 'string',
      enum: [
        'forecast', 'text-classifier', 'text-generator', 'seq2seq', 'tagger',
        'sequence-regression', 'sequence-classification', 'step-regression', 'step-classification', 'next-step',
      ],
    },
    summary: { type: 'string' },
    version: {
      type: 'object',
      properties: {
        sha256: { type: 'string', description: 'of the model file: changes exactly when weights, config or preprocessing do' },
        format: { type: 'integer' },
        lstmkit: { type: 'string' },
      },
    },
    parameters: { type: 'integer' },
    endpoints: { type: 'object', additionalProperties: { type: 'string' } },
    input: {
      type: 'object',
      properties: { schema: schemaOf, example: {}, maxInstances: { type: 'integer' }, maxSteps: { type: 'integer' }, maxBodyBytes: { type: 'integer' } },
    },
    output: { type: 'object', properties: { schema: schemaOf } },
    generate: {
      type: ['object', 'null'],
      properties: { defaultLength: { type: 'integer' }, maxLength: { type: 'integer' }, maxSamples: { type: 'integer' }, tokenizer: { type: 'string' } },
    },
    seq2seq: Seq2SeqInfoSchema,
    tagger: TaggerInfoSchema,
    batching: { type: 'object', additionalProperties: true },
    // Any model the server takes: a SequenceModel's config alone would document a tagger's or a seq2seq model's wrongly.
    config: { description: 'the model config', anyOf: [ModelConfigSchema, Seq2SeqConfigSchema, TaggerConfigSchema] },
    preprocessing: { description: 'what the recipe stored to rebuild its inputs (scalers, text normalization), or null' },
    training: { description: 'training facts stored with the model, or null' },
  },
} as const;

/** Aborts when the client goes away before its response is written. */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** What GET /v1/models/{name} answers: the input contract, the task, the version. */
export function describeModel(m: ServedModel, ctx: RouteContext): Record<string, unknown> {
  const { limits } = ctx;
  const a = m.adapter;
  return {
    name: m.name,
    task: a.task,
    summary: a.summary,
    version: { sha256: m.sha256, format: m.contents.formatVersion, lstmkit: ctx.version },
    parameters: a.model.parameterCount,
    endpoints: m.paths,
    input: {
      schema: a.instanceSchema, example: a.example,
      maxInstances: limits.maxInstances, maxSteps: limits.maxSteps, maxBodyBytes: limits.maxBodyBytes,
    },
    output: { schema: a.predictionSchema },
    generate: a.generate ? {
      defaultLength: a.generate.defaultLength, maxLength: limits.maxGenerateLength, maxSamples: limits.maxSamples,
      tokenizer: a.generate.tokenizer,
    } : null,
    seq2seq: a.seq2seq ?? null,
    tagger: a.tagger ?? null,
    batching: {
      enabled: limits.batching, maxBatchSize: limits.maxBatchSize, maxDelayMs: limits.batchDelayMs,
      maxPassSteps: m.maxPassSteps, maxQueue: limits.maxQueue, timeoutMs: limits.timeoutMs,
    },
    config: m.contents.config,
    preprocessing: withoutPaths(m.contents.preprocessing ?? null),
    training: withoutPaths(m.contents.training ?? null),
  };
}

/**
 * A model file's facts as clients may see them: an absolute path (where the training data lay on the machine
 * that trained it) becomes its file name, so the server does not show its or another machine's file system.
 */
export function withoutPaths(value: unknown): unknown {
  if (typeof value === 'string') return /^(\/|~\/|[A-Za-z]:[\\/]|\\\\)/.test(value) ? value.split(/[\\/]/).pop() ?? '' : value;
  if (Array.isArray(value)) return value.map(withoutPaths);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutPaths(v)]));
  return value;
}

export function registerModelRoutes(
  app: FastifyInstance, m: ServedModel, ctx: RouteContext, paths: { info: string; predict: string; generate?: string },
): void {
  const { limits, metrics } = ctx;
  const a = m.adapter;
  const tags = [`model ${m.name}`];

  app.get(paths.info, {
    schema: {
      summary: `Describe model "${m.name}" (${a.task})`,
      description: 'The task, the input contract (a JSON Schema of one instance, limits), the output schema, the config ' +
        'and the version (SHA-256 of the model file).',
      tags,
      response: { 200: ModelInfoSchema },
    },
  }, async () => describeModel(m, ctx));

  const instances = { type: 'array', minItems: 1, maxItems: limits.maxInstances, items: a.instanceSchema };
  const options = a.options;
  app.post(paths.predict, {
    schema: {
      summary: `Predict with model "${m.name}" (${a.task})`,
      description: `${a.summary}. Send many sequences as \`instances\` (answered as \`predictions\`, in order) ` +
        'or one as `x` (answered as `prediction`). Concurrent requests are batched into one forward pass' +
        (options ? `; the other fields (${Object.keys(options.properties).join(', ')}) hold for every instance of the request.` : '.'),
      tags,
      body: {
        type: 'object',
        additionalProperties: false,
        properties: { instances, x: a.instanceSchema, ...options?.properties },
        examples: [{ instances: [a.example] }, ...(options ? [{ instances: [a.example], ...options.example }] : [])],
      },
      response: {
        200: {
          type: 'object',
          properties: { predictions: { type: 'array', items: a.predictionSchema }, prediction: a.predictionSchema },
        },
        ...errors,
      },
    },
  }, async (request: FastifyRequest, reply: FastifyReply) => {
    const body = request.body as { instances?: unknown[]; x?: unknown } & Record<string, unknown>;
    const single = body.x !== undefined;
    if (single === (body.instances !== undefined)) {
      throw single
        ? invalid('x', 'give x (one sequence) or instances (several), not both')
        : new HttpError(400, 'invalid_argument', 'instances: missing; give instances (an array of sequences) or x (one sequence)', 'instances');
    }
    const list = single ? [body.x] : body.instances!;
    const read = options?.read(body);
    const items = list.map((instance, i) => {
      const field = single ? 'x' : `instances[${i}]`;
      const prepared = a.prepare(instance, field, read);
      if (prepared.steps > limits.maxSteps) throw invalid(field, `has ${prepared.steps} steps; this server accepts at most ${limits.maxSteps} (--max-steps)`);
      return prepared;
    });
    const outputs = await m.batcher.submit(items, clientGone(reply));
    const failure = outputs.find((o) => o instanceof InstanceFailure);
    if (failure) throw (failure as InstanceFailure).error;
    metrics.sequences.inc({ model: m.name }, outputs.length);
    return single ? { prediction: outputs[0] } : { predictions: outputs };
  });

  const g = a.generate;
  if (!g || !paths.generate || !m.samplers) return;
  const samplers = m.samplers;
  app.post(paths.generate, {
    schema: {
      summary: `Generate text with language model "${m.name}"`,
      description: 'Samples continuing `prime`, one token at a time from softmax(logits / temperature), ' +
        'optionally from the top-k tokens only, from a seeded generator: the same request gives the same text. ' +
        'With `stream: true` the answer is Server-Sent Events: `prime`, `token` (the text to append), `end` per sample, ' +
        'then `done` with the body a non-streamed request gets, or `error`.',
      tags,
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          prime: { type: 'string', description: 'Text the model reads first; each sample continues it and includes it.' },
          length: {
            type: 'integer', minimum: 1, maximum: limits.maxGenerateLength,
            description: `Tokens to draw after the prime (default ${g.defaultLength}).`,
          },
          temperature: {
            type: 'number', minimum: 0, maximum: 100,
            description: 'Below 1 sharper, above 1 flatter, 0 always the most likely token (default 1).',
          },
          topK: { type: 'integer', minimum: 0, description: 'Draw only from the k most likely tokens (default 0: all).' },
          seed: { type: 'integer', minimum: 0, maximum: 4294967295, description: 'Seed of the draws (default 0).' },
          count: {
            type: 'integer', minimum: 1, maximum: limits.maxSamples,
            description: 'Samples, drawn one after another from one seeded stream (default 1).',
          },
          stream: { type: 'boolean', description: 'Answer with Server-Sent Events as tokens are drawn (default false).' },
        },
        examples: [{ prime: typeof a.example === 'string' ? a.example : '', length: 50, temperature: 0.8, topK: 10, seed: 1 }],
      },
      response: {
        200: {
          description: 'The samples; with stream: true, Server-Sent Events instead',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  samples: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        text: { type: 'string' }, tokens: { type: 'integer' }, finishReason: { type: 'string', enum: ['length', 'eos'] },
                      },
                    },
                  },
                },
              },
            },
            'text/event-stream': {
              schema: {
                type: 'string',
                description: 'events prime {sample, text}, token {sample, text}, end {sample, text, tokens, finishReason}, ' +
                  'done {samples}, error {error, code}',
              },
            },
          },
        },
        ...errors,
      },
    },
  }, async (request: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const deadline = started + limits.timeoutMs;
    const body = request.body as Partial<SampleRequest> & { stream?: boolean };
    const req: SampleRequest = {
      prime: body.prime ?? '', length: body.length ?? Math.min(g.defaultLength, limits.maxGenerateLength),
      temperature: body.temperature ?? 1, topK: body.topK ?? 0, seed: body.seed ?? 0, count: body.count ?? 1,
    };
    const primeTokens = g.countTokens(req.prime);
    if (primeTokens > limits.maxSteps) throw invalid('prime', `has ${primeTokens} tokens; this server accepts at most ${limits.maxSteps} (--max-steps)`);
    const signal = clientGone(reply);
    const sampler = await samplers.acquire(Math.max(1, deadline - performance.now()), signal);
    let released = false;
    const release = (): void => {
      if (!released) samplers.release(sampler);
      released = true;
    };
    if (!body.stream) {
      try {
        const samples = await drive(sampler, req, deadline, signal, () => {});
        metrics.generatedTokens.inc({ model: m.name }, samples.reduce((n, s) => n + s.tokens, 0));
        return { samples };
      } finally {
        release();
      }
    }
    const stream = new PassThrough();
    // A client that leaves mid-stream destroys the stream; later writes are dropped, never thrown.
    stream.on('error', () => {});
    const send = (event: string, data: unknown): void => {
      if (!stream.destroyed && stream.writable) stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    void (async () => {
      try {
        const samples = await drive(sampler, req, deadline, signal, (e) => {
          if (e.type === 'end') send('end', { sample: e.sample, text: e.text, tokens: e.tokens, finishReason: e.finishReason });
          else send(e.type, { sample: e.sample, text: e.text });
        });
        metrics.generatedTokens.inc({ model: m.name }, samples.reduce((n, s) => n + s.tokens, 0));
        send('done', { samples });
      } catch (e) {
        const err = e instanceof HttpError ? e : new HttpError(500, 'internal', 'generation failed');
        if (!(e instanceof HttpError)) request.log.error(e);
        metrics.errors.inc({ code: err.code });
        send('error', err.body());
      } finally {
        release();
        stream.end();
      }
    })();
    return reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .send(stream);
  });
}

/** Yield to other requests after this long of sampling. */
const SLICE_MS = 4;

/**
 * Run a sampling to the end, yielding to the event loop every few milliseconds;
 * stops at the deadline or when the client goes.
 */
async function drive(
  sampler: TextGenerator, req: SampleRequest, deadline: number, signal: AbortSignal, emit: (e: SampleEvent) => void,
): Promise<{ text: string; tokens: number; finishReason: 'length' | 'eos' }[]> {
  const steps = sampler.sampleSteps(req);
  const samples: { text: string; tokens: number; finishReason: 'length' | 'eos' }[] = [];
  let slice = performance.now();
  try {
    for (;;) {
      const next = steps.next();
      if (next.done) return samples;
      const e = next.value;
      if (e.type === 'end') samples.push({ text: e.text, tokens: e.tokens, finishReason: e.finishReason });
      emit(e);
      const now = performance.now();
      if (now - slice >= SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        slice = performance.now();
        if (signal.aborted) throw new HttpError(499, 'cancelled', 'the client went away');
        if (slice > deadline) {
          throw new HttpError(
            504, 'deadline_exceeded',
            `generation did not finish within the server's timeout (drew ${samples.length} of ${req.count} samples); ask for fewer tokens`,
          );
        }
      }
    }
  } finally {
    steps.return([]);
  }
}
