// lstmkit/server: the HTTP inference server as a library (Node only; the
// main entry point stays browser-safe and never imports this).

export { createServer } from './app.js';
export { DEFAULT_LIMITS, resolveLimits, type ServerLimits, type ServerOptions } from './options.js';
export { Batcher, Slots, type BatcherOptions, type BatchStats } from './batcher.js';
export { HttpError, type ErrorBody, type ErrorCode } from './errors.js';
export { adapterFor, taskOf, type TaskAdapter, type TaskName } from './tasks.js';
export { readModelDirectory, readModelSource, type ModelSource } from './models.js';
