// lstmkit serve: the HTTP inference server on a model file, a run directory,
// or a directory of models. SIGTERM or SIGINT stops it gracefully: no new
// connections, requests in flight answered, then exit; a second signal, or
// --shutdown-timeout passing, ends it at once.

import { ValueError } from '../core/errors.js';
import { createBackend, setBackend } from '../kernels/index.js';
import { createServer } from '../server/app.js';
import type { ServerOptions } from '../server/options.js';

export interface ServeArgs {
  models?: string;
  port: number;
  host: string;
  batching: boolean;
  batchDelay: number;
  maxBatchSize: number;
  maxQueue: number;
  maxInstances: number;
  maxSteps: number;
  maxBody: number;
  maxPassMemory: number;
  maxGenerateLength: number;
  maxSamples: number;
  generateConcurrency: number;
  maxBeam: number;
  maxSourceLength?: number;
  maxOutputLength: number;
  timeout: number;
  shutdownTimeout: number;
  threads?: number;
  logLevel: string;
}

export async function serveCommand(model: string | undefined, args: ServeArgs): Promise<void> {
  if (model === undefined && args.models === undefined) {
    throw new ValueError('serve: give a model file or run directory, or a directory of models with --models');
  }
  if (args.threads !== undefined) setBackend(createBackend({ threads: args.threads }));
  const options: ServerOptions = {
    batching: args.batching, batchDelayMs: args.batchDelay, maxBatchSize: args.maxBatchSize, maxQueue: args.maxQueue,
    maxInstances: args.maxInstances, maxSteps: args.maxSteps, maxBodyBytes: args.maxBody,
    maxPassBytes: args.maxPassMemory, maxGenerateLength: args.maxGenerateLength, maxSamples: args.maxSamples,
    generateConcurrency: args.generateConcurrency, maxBeam: args.maxBeam, maxOutputLength: args.maxOutputLength,
    ...(args.maxSourceLength !== undefined ? { maxSourceLength: args.maxSourceLength } : {}),
    timeoutMs: args.timeout,
    logger: args.logLevel === 'silent' ? false : { level: args.logLevel },
    ...(model !== undefined ? { model } : {}),
    ...(args.models !== undefined ? { modelsDir: args.models } : {}),
    onSkippedModel: ({ path, reason }) => {
      const why = reason.startsWith(path) ? reason.slice(path.length).replace(/^:\s*/, '') : reason;
      console.error(`lstmkit serve: skipped ${path}: ${why}`);
    },
  };
  const app = await createServer(options);
  let address: string;
  try {
    address = await app.listen({ port: args.port, host: args.host });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ValueError(`serve: port ${args.port} on ${args.host} is in use; pick another with --port`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ValueError(`serve: cannot listen on ${args.host}: no such local address`);
    if (code === 'EACCES') throw new ValueError(`serve: not allowed to listen on port ${args.port} (ports below 1024 need privileges)`);
    throw e;
  }
  type Listing = { models: { name: string; task: string; endpoints: Record<string, string> }[] };
  const listing = (await app.inject({ method: 'GET', url: '/v1/models' })).json<Listing>();
  for (const m of listing.models) {
    console.error(`serving "${m.name}" (${m.task}): ${Object.values(m.endpoints).map((p) => `${address}${p}`).join('  ')}`);
  }
  const batching = args.batching ? `on, ${args.batchDelay} ms, ≤ ${args.maxBatchSize} sequences` : 'off';
  console.error(`lstmkit serve on ${address}  (batching ${batching}; /metrics, /openapi.json, /healthz)`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.error(`lstmkit serve: ${signal} again, exiting now`);
      process.exit(1);
    }
    stopping = true;
    console.error(`lstmkit serve: ${signal}, finishing requests in flight (at most ${args.shutdownTimeout} ms)`);
    const force = setTimeout(() => {
      console.error('lstmkit serve: shutdown timeout passed; closing the remaining connections');
      app.server.closeAllConnections();
      process.exit(1);
    }, args.shutdownTimeout);
    force.unref();
    app.close().then(() => {
      clearTimeout(force);
      process.exit(0);
    }, (err: unknown) => {
      console.error(`lstmkit serve: error while closing: ${String(err)}`);
      process.exit(1);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
