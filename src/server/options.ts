// What a server is told: which models, and the limits that hold under abuse.
// Every limit has a default a small deployment can keep.

import type { FastifyServerOptions } from 'fastify';
import { positiveInt, ValueError } from '../core/errors.js';
import type { ModelFileContents } from '../io/modelfile.js';

export interface ServerLimits {
  /** Gather concurrent requests into one forward pass (default true). */
  batching: boolean;
  /** How long the oldest waiting request waits for others to join its pass, in ms (default 2). */
  batchDelayMs: number;
  /** Sequences per forward pass at most (default 64). */
  maxBatchSize: number;
  /** Sequences waiting per model at most; past it, 503 with Retry-After (default 512). */
  maxQueue: number;
  /** Sequences in one request at most (default 64). */
  maxInstances: number;
  /** Steps (tokens, rows) of one sequence at most, and tokens of a prime (default 2048). */
  maxSteps: number;
  /** Request body size at most, in bytes (default 1 MiB). */
  maxBodyBytes: number;
  /**
   * Memory one forward pass may use, in bytes (default 256 MiB): a pass holds
   * at most this many bytes' worth of padded steps for its model, and larger
   * batches (or requests) run as several passes. The arena keeps its largest
   * size, so this bounds the process's memory.
   */
  maxPassBytes: number;
  /** Tokens one generated sample may have at most (default 1000). */
  maxGenerateLength: number;
  /** Samples one generate request may ask for at most (default 8). */
  maxSamples: number;
  /** Generations running at once per language model, each on its own copy of the model (default 2). */
  generateConcurrency: number;
  /** Sequence-to-sequence models: the widest beam a request may ask for (default 16). */
  maxBeam: number;
  /**
   * Sequence-to-sequence models: source tokens at most (default: the model's
   * input.maxLength, else 256). Never more than the model's input.maxLength or maxSteps.
   */
  maxSourceLength?: number;
  /** Sequence-to-sequence models: output tokens at most, the cap on a request's maxLength (default 256). */
  maxOutputLength: number;
  /** A request not answered within this many ms gets a 504 (default 30000). */
  timeoutMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  batching: true,
  batchDelayMs: 2,
  maxBatchSize: 64,
  maxQueue: 512,
  maxInstances: 64,
  maxSteps: 2048,
  maxBodyBytes: 1 << 20,
  maxPassBytes: 256 << 20,
  maxGenerateLength: 1000,
  maxSamples: 8,
  generateConcurrency: 2,
  maxBeam: 16,
  maxOutputLength: 256,
  timeoutMs: 30_000,
};

/** Source tokens a sequence-to-sequence model accepts when neither the server nor the model says (maxSourceLength). */
export const DEFAULT_SOURCE_LENGTH = 256;

export interface ServerOptions extends Partial<ServerLimits> {
  /** A model file or run directory. */
  model?: string;
  /** A directory of model files (*.lstmkit) and run directories, each served under its name. */
  modelsDir?: string;
  /** Models already in memory, by name (for embedding the server and for tests). */
  modelContents?: Record<string, ModelFileContents>;
  /** Fastify's logger option (default: off). */
  logger?: FastifyServerOptions['logger'];
  /** Node.js and process metrics (memory, CPU, event-loop lag, GC) in /metrics (default true). */
  defaultMetrics?: boolean;
  /** Told of each model of `modelsDir` that cannot be served (the others are); default: nothing. */
  onSkippedModel?: (skipped: { path: string; reason: string }) => void;
}

/** The limits with defaults filled in, checked. */
export function resolveLimits(o: Partial<ServerLimits>): ServerLimits {
  const limits: ServerLimits = { ...DEFAULT_LIMITS };
  for (const key of [...Object.keys(DEFAULT_LIMITS), 'maxSourceLength'] as (keyof ServerLimits)[]) {
    const v = o[key];
    if (v !== undefined) (limits as unknown as Record<string, unknown>)[key] = v;
  }
  const counts = [
    'maxBatchSize', 'maxQueue', 'maxInstances', 'maxSteps', 'maxBodyBytes', 'maxPassBytes',
    'maxGenerateLength', 'maxSamples', 'generateConcurrency', 'maxBeam', 'maxOutputLength', 'timeoutMs',
  ] as const;
  for (const key of counts) positiveInt(limits[key], key, 'server option');
  if (limits.maxSourceLength !== undefined) positiveInt(limits.maxSourceLength, 'maxSourceLength', 'server option');
  if (!(limits.batchDelayMs >= 0 && limits.batchDelayMs <= 1000)) {
    throw new ValueError(`server option batchDelayMs must be between 0 and 1000 ms, got ${limits.batchDelayMs}`);
  }
  if (typeof limits.batching !== 'boolean') throw new ValueError('server option batching must be true or false');
  if (limits.maxInstances > limits.maxQueue) {
    throw new ValueError(
      `maxInstances (${limits.maxInstances}) cannot exceed maxQueue (${limits.maxQueue}): such a request could never be queued`,
    );
  }
  return limits;
}
