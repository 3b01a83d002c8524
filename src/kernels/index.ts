// Which backend runs the kernels. One default for the process; every module
// also takes a `backend` option.

import type { Backend } from './backend.js';
import { ReferenceBackend } from './reference.js';

let current: Backend | undefined;

/** The default backend (created on first use). */
export function getBackend(): Backend {
  current ??= new ReferenceBackend('float32');
  return current;
}

export function setBackend(backend: Backend): void {
  current = backend;
}
