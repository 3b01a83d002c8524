// The definition of `lstmkit serve`: its options, the server's default limits
// and help. The action imports ../serve.js when it runs, so help and the
// other commands do not load the HTTP server.

import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_LIMITS, DEFAULT_SOURCE_LENGTH } from '../../server/options.js';
import type { ServeArgs } from '../serve.js';
import { positiveInt } from '../args.js';

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

export function registerServeCommand(program: Command): Command {
  const d = DEFAULT_LIMITS;
  return program.command('serve')
    .description('HTTP inference server: predict (dynamically batched; seq2seq with beam search), generate, model metadata, /metrics, /openapi.json')
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
    .addOption(
      new Option('--max-pass-memory <size>', 'memory one forward pass may use; bigger batches run as several passes')
        .argParser(bytes).default(d.maxPassBytes, '256mb'),
    )
    .option('--max-generate-length <n>', 'tokens per generated sample at most', positiveInt, d.maxGenerateLength)
    .option('--max-samples <n>', 'samples per generate request at most', positiveInt, d.maxSamples)
    .option('--generate-concurrency <n>', 'generations running at once per language model', positiveInt, d.generateConcurrency)
    .option('--max-beam <n>', 'seq2seq: beam width a request may ask for at most', positiveInt, d.maxBeam)
    .option(
      '--max-source-length <n>',
      `seq2seq: source tokens at most (default: the model's input.maxLength, else ${DEFAULT_SOURCE_LENGTH})`, positiveInt,
    )
    .option('--max-output-length <n>', 'seq2seq: output tokens at most (the cap on a request\'s maxLength)', positiveInt, d.maxOutputLength)
    .option('--timeout <ms>', 'per-request deadline: later requests get 504', positiveInt, d.timeoutMs)
    .option('--shutdown-timeout <ms>', 'on SIGTERM, how long requests in flight may take before the process exits anyway', positiveInt, 30_000)
    .option('--threads <n>', 'compute threads (default: cores, at most 8; LSTMKIT_THREADS)', positiveInt)
    .addOption(
      new Option('--log-level <level>', 'server log level (JSON lines on stdout)')
        .choices(['silent', 'fatal', 'error', 'warn', 'info', 'debug']).default('warn'),
    )
    .action(async (model: string | undefined, o: ServeArgs) => (await import('../serve.js')).serveCommand(model, o));
}
