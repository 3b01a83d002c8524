// lstmkit serve: the HTTP inference server on a model file, a run directory,
// or a directory of models. SIGTERM or SIGINT stops it gracefully: no new
// connections, requests in flight answered, then exit; a second signal, or
// --shutdown-timeout passing, ends it at once.

import { Command, InvalidArgumentError, Option } from 'commander';
import { ValueError } from '../core/errors.js';
import { createBackend, setBackend } from '../kernels/index.js';
import { createServer } from '../server/app.js';
import { DEFAULT_LIMITS, type ServerOptions } from '../server/options.js';
import { positiveInt } from './args.js';

const port = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535; 0 picks a free one)');
  return n;
};
const milliseconds = (v: string): number => {
  const n = Number(v);
  if (!(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected milliseconds (a number ≥ 0)');
  return n;
};
/** 1048576, 512kb, 4mb, 1gb. */
const bytes = (v: string): number => {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|k|kib|mb|m|mib|gb|g|gib)?$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError('expected a size: bytes, or with kb / mb / gb');
  const unit = (m[2] ?? 'b').toLowerCase();
  const n = Math.round(Number(m[1]) * (unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('g') ? 1024 ** 3 : 1));
  if (n < 1) throw new InvalidArgumentError('expected a size of at least 1 byte');
  return n;
};

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
  timeout: number;
  shutdownTimeout: number;
  threads?: number;
  logLevel: string;
}

export async function serveCommand(model: string | undefined, args: ServeArgs): Promise<void> {
  if (model === undefined && args.models === undefined) throw new ValueError('serve: give a model file or run directory, or a directory of models with --models');
  if (args.threads !== undefined) setBackend(createBackend({ threads: args.threads }));
  const options: ServerOptions = {
    batching: args.batching, batchDelayMs: args.batchDelay, maxBatchSize: args.maxBatchSize, maxQueue: args.maxQueue,
    maxInstances: args.maxInstances, maxSteps: args.maxSteps, maxBodyBytes: args.maxBody, maxPassBytes: args.maxPassMemory, maxGenerateLength: args.maxGenerateLength,
    maxSamples: args.maxSamples, generateConcurrency: args.generateConcurrency, timeoutMs: args.timeout,
    logger: args.logLevel === 'silent' ? false : { level: args.logLevel },
    ...(model !== undefined ? { model } : {}),
    ...(args.models !== undefined ? { modelsDir: args.models } : {}),
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
  const listing = (await app.inject({ method: 'GET', url: '/v1/models' })).json<{ models: { name: string; task: string; endpoints: Record<string, string> }[] }>();
  for (const m of listing.models) {
    console.error(`serving "${m.name}" (${m.task}): ${Object.values(m.endpoints).map((p) => `${address}${p}`).join('  ')}`);
  }
  console.error(`lstmkit serve on ${address}  (batching ${args.batching ? `on, ${args.batchDelay} ms, ≤ ${args.maxBatchSize} sequences` : 'off'}; /metrics, /openapi.json, /healthz)`);

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

export function registerServeCommand(program: Command): Command {
  const d = DEFAULT_LIMITS;
  return program.command('serve')
    .description('HTTP inference server: predict (dynamically batched), generate, model metadata, /metrics, /openapi.json')
    .argument('[model]', 'model file or run directory')
    .option('--models <dir>', 'serve every model in a directory (*.lstmkit files and run directories), each under its name')
    .option('--port <n>', 'port (0: any free one)', port, 8080)
    .option('--host <address>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .option('--no-batching', 'one request per forward pass (no dynamic batching)')
    .option('--batch-delay <ms>', 'how long a request waits for others to join its forward pass', milliseconds, d.batchDelayMs)
    .option('--max-batch-size <n>', 'sequences per forward pass at most', positiveInt, d.maxBatchSize)
    .option('--max-queue <n>', 'sequences waiting per model at most; more get 503 with Retry-After', positiveInt, d.maxQueue)
    .option('--max-instances <n>', 'sequences per request at most', positiveInt, d.maxInstances)
    .option('--max-steps <n>', 'steps (tokens, rows) per sequence, and tokens per prime, at most', positiveInt, d.maxSteps)
    .addOption(new Option('--max-body <size>', 'request body size at most (bytes, or 512kb, 4mb)').argParser(bytes).default(d.maxBodyBytes, '1mb'))
    .addOption(new Option('--max-pass-memory <size>', 'memory one forward pass may use; bigger batches run as several passes').argParser(bytes).default(d.maxPassBytes, '256mb'))
    .option('--max-generate-length <n>', 'tokens per generated sample at most', positiveInt, d.maxGenerateLength)
    .option('--max-samples <n>', 'samples per generate request at most', positiveInt, d.maxSamples)
    .option('--generate-concurrency <n>', 'generations running at once per language model', positiveInt, d.generateConcurrency)
    .option('--timeout <ms>', 'per-request deadline: later requests get 504', positiveInt, d.timeoutMs)
    .option('--shutdown-timeout <ms>', 'on SIGTERM, how long requests in flight may take before the process exits anyway', positiveInt, 30_000)
    .option('--threads <n>', 'compute threads (default: cores, at most 8; LSTMKIT_THREADS)', positiveInt)
    .addOption(new Option('--log-level <level>', 'server log level (JSON lines on stdout)').choices(['silent', 'fatal', 'error', 'warn', 'info', 'debug']).default('warn'))
    .action((model: string | undefined, o: ServeArgs) => serveCommand(model, o));
}
