// The HTTP inference server (Fastify). createServer() loads the models and
// returns the Fastify instance, ready to listen (port 0 in tests):
//
//   GET  /healthz                      liveness and readiness
//   GET  /metrics                      Prometheus text format
//   GET  /openapi.json                 OpenAPI 3.1, from the route schemas
//   GET  /v1/models                    the models served
//   GET  /v1/models/{name}             one model: task, input contract, version
//   POST /v1/models/{name}/predict     predictions, dynamically batched
//   POST /v1/models/{name}/generate    language models: sampled text, optionally streamed
//   GET  /v1/model, POST /v1/predict, POST /v1/generate: the same, when one model is served
//
// Every error is JSON naming the field at fault (errors.ts); nothing a client
// sends reaches the process unhandled. close() stops accepting connections,
// answers requests already in flight, then releases the models.

import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import { DataError, LstmkitError } from '../core/errors.js';
import { TAGGER_DEFAULTS, type TaggerConfig } from '../model/config.js';
import { isSeq2Seq, isTagger, type AnyConfig } from '../model/models.js';
import { seq2seqSizes } from '../model/seq2seq.js';
import { Batcher, Slots } from './batcher.js';
import { ErrorBodySchema, fieldPath, HttpError } from './errors.js';
import { ServerMetrics } from './metrics.js';
import { checkModelName, readModelDirectory, readModelSource, type ModelSource } from './models.js';
import { resolveLimits, type ServerLimits, type ServerOptions } from './options.js';
import { registerModelRoutes, type RouteContext, type ServedModel } from './routes.js';
import { adapterFor, type Prepared, type TaskAdapter } from './tasks.js';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function sourcesOf(o: ServerOptions): Promise<ModelSource[]> {
  const sources: ModelSource[] = [];
  if (o.model !== undefined) sources.push(await readModelSource(o.model));
  if (o.modelsDir !== undefined) sources.push(...(await readModelDirectory(o.modelsDir, o.onSkippedModel)));
  for (const [name, contents] of Object.entries(o.modelContents ?? {})) {
    sources.push({ name: checkModelName(name, '<memory>'), contents, path: '<memory>', sha256: '' });
  }
  if (sources.length === 0) throw new DataError('no model to serve: give a model file, or a directory of them (--models)');
  const names = new Set<string>();
  for (const s of sources) {
    if (names.has(s.name)) throw new DataError(`two models are named "${s.name}"`, s.path);
    names.add(s.name);
  }
  return sources;
}

/** A key that could reach an object's prototype if the body were merged into one. */
function poisonedKey(value: unknown): string | undefined {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (!Array.isArray(v)) {
      if (Object.hasOwn(v, '__proto__')) return '__proto__';
      if (Object.hasOwn(v, 'constructor') && typeof (v as { constructor: unknown }).constructor === 'object') return 'constructor';
    }
    for (const child of Object.values(v)) if (typeof child === 'object' && child !== null) stack.push(child);
  }
  return undefined;
}

/**
 * JSON bodies: the parser's own message (with the position) on a syntax error;
 * prototype keys refused, as Fastify's parser does.
 */
function parseJson(text: string): unknown {
  if (text.length === 0) throw new HttpError(400, 'invalid_argument', 'body: empty; expected a JSON object', 'body');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, 'invalid_argument', `body: not valid JSON (${(e as Error).message})`, 'body');
  }
  const key = /"(?:__proto__|constructor)"/.test(text) ? poisonedKey(value) : undefined;
  if (key) throw new HttpError(400, 'invalid_argument', `body: holds a key named "${key}", which is refused`, 'body');
  return value;
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** ajv's first complaint as a sentence naming the field (ajv runs with verbose: the schema and data come along). */
function validationError(err: FastifyError, limits: ServerLimits): HttpError {
  type Complaint = NonNullable<FastifyError['validation']>[number] & { data?: unknown; parentSchema?: { description?: string } };
  const first = err.validation?.[0] as Complaint | undefined;
  if (!first) return new HttpError(400, 'invalid_argument', err.message);
  const params = first.params as Record<string, unknown>;
  let field = fieldPath(first.instancePath);
  const expected = first.parentSchema?.description ? ` (expected ${first.parentSchema.description})` : '';
  const count = Array.isArray(first.data) ? first.data.length : 0;
  let problem: string;
  switch (first.keyword) {
    case 'additionalProperties':
      field = field ? `${field}.${String(params.additionalProperty)}` : String(params.additionalProperty);
      problem = 'is not a field this endpoint knows';
      break;
    case 'required':
      field = field ? `${field}.${String(params.missingProperty)}` : String(params.missingProperty);
      problem = 'is missing';
      break;
    case 'type': {
      const withArticle = (t: string): string => (t === 'integer' ? 'an integer' : /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);
      problem = `must be ${String(params.type).split(',').map(withArticle).join(' or ')}`;
      break;
    }
    case 'minItems':
      problem = `has ${plural(count, 'item')}, fewer than ${String(params.limit)}${expected}`;
      break;
    case 'pattern':
      // The schema's description says what the pattern means; the pattern itself is for machines.
      problem = first.parentSchema?.description ? `must be ${first.parentSchema.description}` : first.message ?? 'is invalid';
      break;
    case 'maxItems': {
      const limit = Number(params.limit);
      const flag = first.instancePath === '/instances' && limit === limits.maxInstances ? ' (--max-instances)'
        : limit === limits.maxSteps ? ' (--max-steps)' : '';
      problem = `has ${plural(count, 'item')}, more than ${limit}${flag || expected}`;
      break;
    }
    default:
      problem = first.message ?? 'is invalid';
  }
  return new HttpError(400, 'invalid_argument', `${field || 'body'}: ${problem}`, field || 'body');
}

/** Any error as the HttpError to answer with. */
function toHttpError(err: FastifyError | HttpError | Error, limits: ServerLimits): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as FastifyError;
  if (e.validation) return validationError(e, limits);
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(
        413, 'payload_too_large',
        `the request body is larger than ${limits.maxBodyBytes} bytes (--max-body); send fewer or shorter sequences per request`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
  }
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) return new HttpError(e.statusCode, 'invalid_argument', e.message);
  return new HttpError(500, 'internal', 'internal error (the server logged it)');
}

/**
 * Bytes a forward pass holds per padded step of one sequence, measured on
 * the wasm backend: about 8 floats per hidden unit per layer and direction
 * (gates, states, saved activations), the input, and for per-step heads the
 * logits and probabilities of every step.
 */
export function bytesPerStep(config: AnyConfig): number {
  if (isSeq2Seq(config)) {
    // A source step through the encoder and a target step through the decoder, attention and output projection.
    const { De, Hd, Ld, Vt } = seq2seqSizes(config);
    const S = config.rnn ? 8 * config.rnn.hiddenSize * (config.rnn.numLayers ?? 1) * (config.rnn.bidirectional ? 2 : 1) : 0;
    return 4 * (S + De + 8 * Hd * Ld + 2 * Vt);
  }
  const { input, rnn, output } = config;
  const width = input.type === 'tokens' ? input.embeddingDim : input.size;
  const heads = output.type === 'classification' ? output.classes?.length ?? 2 : output.mode === 'next' ? width : output.size ?? 1;
  const recurrent = 8 * rnn.hiddenSize * (rnn.numLayers ?? 1) * (rnn.bidirectional ? 2 : 1);
  return 4 * (width + recurrent + (output.mode === 'sequence' ? 0 : 2 * heads) + (isTagger(config) ? spellingFloats(config) : 0));
}

/** A tagger's character BiLSTM reads each word of a pass (at most one per step) over up to chars.maxLength steps. */
function spellingFloats(config: TaggerConfig): number {
  const chars = config.input.chars;
  if (!chars) return 0;
  const steps = chars.maxLength ?? TAGGER_DEFAULTS.charMaxLength;
  return steps * ((chars.embeddingDim ?? TAGGER_DEFAULTS.charEmbeddingDim) + 2 * 8 * (chars.hiddenSize ?? TAGGER_DEFAULTS.charHiddenSize));
}

/** Create the server with its models loaded; call listen() on it (port 0 picks a free port). */
export async function createServer(options: ServerOptions = {}): Promise<FastifyInstance> {
  const limits = resolveLimits(options);
  const sources = await sourcesOf(options);
  const version = packageVersion();
  const served: ServedModel[] = [];
  let inFlight = 0;
  const metrics = new ServerMetrics({
    queueDepth: () => Object.fromEntries(served.map((m) => [m.name, m.batcher.queued])),
    inFlight: () => inFlight,
    ...(options.defaultMetrics !== undefined ? { defaultMetrics: options.defaultMetrics } : {}),
  });

  const adapters = new Map<ModelSource, TaskAdapter>();
  for (const source of sources) {
    try {
      adapters.set(source, adapterFor(source.contents, source.path === '<memory>' ? source.name : source.path, {
        maxSteps: limits.maxSteps, maxBeam: limits.maxBeam, maxOutputLength: limits.maxOutputLength,
        ...(limits.maxSourceLength !== undefined ? { maxSourceLength: limits.maxSourceLength } : {}),
      }));
    } catch (e) {
      // One bad model of a directory never takes the others down; a model named on its own is an error.
      if (!(e instanceof LstmkitError) || !source.fromDirectory) throw e;
      options.onSkippedModel?.({ path: source.path, reason: e.message });
    }
  }
  if (adapters.size === 0) throw new DataError('no model to serve: every model of the directory failed to load', options.modelsDir);
  const single = adapters.size === 1;
  for (const [source, adapter] of adapters) {
    const name = source.name;
    const stepBytes = bytesPerStep(source.contents.config);
    const maxPassSteps = Math.max(limits.maxSteps, Math.floor(limits.maxPassBytes / stepBytes));
    const batcher = new Batcher<Prepared, unknown>((items) => adapter.predict(items.map((p) => p.item)), {
      batching: limits.batching, maxBatchSize: limits.maxBatchSize, maxDelayMs: limits.batchDelayMs,
      maxQueue: limits.maxQueue, timeoutMs: limits.timeoutMs,
      maxPassSteps, steps: (p) => (p as Prepared).cost ?? (p as Prepared).steps,
    }, (stats) => {
      metrics.batchSize.observe({ model: name }, stats.size);
      metrics.batchSeconds.observe({ model: name }, stats.seconds);
      for (const w of stats.waits) metrics.queueWait.observe({ model: name }, w);
    });
    const base = `/v1/models/${name}`;
    const m: ServedModel = {
      name, sha256: source.sha256, contents: source.contents, adapter, batcher, maxPassSteps,
      paths: { info: base, predict: `${base}/predict` },
    };
    if (adapter.generate) {
      const generate = adapter.generate;
      const samplers = Array.from({ length: limits.generateConcurrency }, () => generate.newSampler());
      m.samplers = new Slots(samplers, limits.maxQueue);
      m.paths.generate = `${base}/generate`;
    }
    metrics.modelInfo.set({ model: name, task: adapter.task, sha256: source.sha256 }, 1);
    served.push(m);
  }

  const app = Fastify({
    logger: options.logger ?? false,
    // Per-request log lines would cost more than a forward pass; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.maxBodyBytes,
    // Receiving the request counts against the deadline (slow-body clients). Node checks that deadline only
    // every connectionsCheckingInterval (30 s by default), so a stalled body held its connection 60-90 s
    // against a 30 s timeout: check every second, or sooner for short timeouts.
    serverFactory: (handler) => createHttpServer({
      requestTimeout: limits.timeoutMs,
      headersTimeout: limits.timeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.timeoutMs / 4))),
    }, handler),
    // A request that reaches a closing server (pipelined on an open
    // connection) gets the batcher's JSON 503, not Fastify's own.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // No type coercion ("3" is not 3) and no silent removal of unknown fields: both are 400s naming the field.
    ajv: {
      customOptions: {
        coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, allowUnionTypes: true,
        verbose: true,
      },
    },
  });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJson(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  // Response schemas document the answers; JSON.stringify writes them (no field is silently dropped).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'lstmkit inference server',
        version,
        description: 'Predictions and generated text from lstmkit models. Errors are JSON: {"error": message naming the field, "code", "field"}.',
      },
    },
  });

  const ctx: RouteContext = { limits, metrics, version };

  app.addHook('onRequest', async (_request, reply) => {
    inFlight++;
    reply.raw.once('close', () => inFlight--);
  });
  // While closing, answers tell the client to close its connection, and
  // connections left idle are closed, so close() does not wait on keep-alive.
  let closing = false;
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing && !reply.raw.headersSent) void reply.header('connection', 'close');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    if (closing) setImmediate(() => app.server.closeIdleConnections());
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    const e = toHttpError(err, limits);
    if (e.statusCode >= 500 && e.code === 'internal') request.log.error({ err }, 'request failed');
    metrics.errors.inc({ code: e.code });
    if (e.retryAfter !== undefined) void reply.header('retry-after', String(e.retryAfter));
    return reply.code(e.statusCode).type('application/json; charset=utf-8').send(e.body());
  });

  app.setNotFoundHandler((request, reply) => {
    const names = served.map((m) => m.name);
    const name = /^\/v1\/models\/([^/]+)/.exec(request.url)?.[1];
    let message = `no route ${request.method} ${request.url.split('?')[0]}`;
    if (name !== undefined && !names.includes(decodeURIComponent(name))) {
      message = `no model named "${decodeURIComponent(name)}"; this server has ${names.map((n) => `"${n}"`).join(', ')}`;
    } else if (name !== undefined && request.url.endsWith('/generate')) {
      message = `model "${name}" is not a language model; /generate serves text-generator models only`;
    } else if (!single && /^\/v1\/(model|predict|generate)\b/.test(request.url)) {
      message = `this server has several models (${names.join(', ')}); use /v1/models/{name}/…`;
    }
    const e = new HttpError(404, 'not_found', message);
    metrics.errors.inc({ code: e.code });
    return reply.code(404).send(e.body());
  });

  app.get('/healthz', {
    schema: {
      summary: 'Liveness and readiness', tags: ['server'],
      response: {
        200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] }, models: { type: 'array', items: { type: 'string' } } } },
        503: ErrorBodySchema,
      },
    },
  }, async () => ({ status: 'ok', models: served.map((m) => m.name) }));

  app.get('/metrics', {
    schema: { summary: 'Prometheus metrics (text exposition format)', tags: ['server'], response: { 200: { type: 'string' } } },
  }, async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/v1/models', {
    schema: {
      summary: 'The models served', tags: ['server'],
      response: { 200: { type: 'object', properties: { models: { type: 'array', items: { type: 'object', additionalProperties: true } } } } },
    },
  }, async () => ({
    models: served.map((m) => ({
      name: m.name, task: m.adapter.task, summary: m.adapter.summary,
      version: { sha256: m.sha256, format: m.contents.formatVersion }, endpoints: m.paths,
      ...(m.adapter.seq2seq ? { seq2seq: m.adapter.seq2seq } : {}),
      ...(m.adapter.tagger ? { tagger: m.adapter.tagger } : {}),
    })),
  }));

  for (const m of served) {
    registerModelRoutes(app, m, ctx, m.paths);
    if (single) registerModelRoutes(app, m, ctx, { info: '/v1/model', predict: '/v1/predict', ...(m.paths.generate ? { generate: '/v1/generate' } : {}) });
  }

  // Graceful shutdown: Fastify stops accepting connections and answers new
  // requests on open ones with 503; requests in flight finish; then this.
  app.addHook('preClose', async () => {
    closing = true;
    for (const m of served) {
      m.batcher.close();
      m.samplers?.close();
    }
  });
  app.addHook('onClose', async () => {
    await Promise.all(served.flatMap((m) => [m.batcher.drained(), m.samplers?.drained() ?? Promise.resolve()]));
    metrics.registry.clear();
  });

  return app;
}
