// Errors the server answers with: an HTTP status, a stable code (gRPC's
// names, as TensorFlow Serving uses them), a message, and the field of the
// request at fault. The JSON body is TensorFlow Serving's `{"error": "…"}`
// with `code` and `field` added, so clients written for it keep working.
// A library error about what a client sent (a DataError from an encoder)
// becomes a 400 naming the instance, or the part of it, at fault (asInvalid).

import { DataError, LstmkitError } from '../core/errors.js';

export type ErrorCode =
  | 'invalid_argument' // 400: the request is malformed or does not fit the model
  | 'not_found' // 404: no such route or model
  | 'method_not_allowed' // 405
  | 'payload_too_large' // 413: body over --max-body
  | 'unsupported_media_type' // 415: not application/json
  | 'resource_exhausted' // 503 + Retry-After: the queue is full
  | 'unavailable' // 503: shutting down
  | 'deadline_exceeded' // 504: the request did not finish within --timeout
  | 'cancelled' // the client went away (counted in /metrics; nobody is left to send it to)
  | 'internal'; // 500: a bug

export interface ErrorBody {
  error: string;
  code: ErrorCode;
  /** The request field at fault, as a path: `instances[2][7]`, `temperature`. */
  field?: string;
}

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    /** Seconds, for 503: when to try again. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }

  body(): ErrorBody {
    return this.field === undefined
      ? { error: this.message, code: this.code }
      : { error: this.message, code: this.code, field: this.field };
  }
}

/** A 400 naming the field. */
export function invalid(field: string, message: string): HttpError {
  return new HttpError(400, 'invalid_argument', `${field}: ${message}`, field);
}

/** A DataError's message without the `file:line: ` prefix it was given. */
export function reason(e: DataError): string {
  const prefix = e.file === undefined ? '' : `${e.file}${e.line === undefined ? '' : `:${e.line}`}: `;
  return e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
}

/**
 * A 400 from an encoder's message about the record field `x`: "x[3] has 7
 * features" about instance `instances[2]` becomes "instances[2][3] has 7
 * features", naming instances[2][3].
 */
function recordError(field: string, message: string): HttpError {
  const m = /^x((?:\[\d+\])*)(?=[\s,:;])/.exec(message);
  if (!m) return invalid(field, message);
  const at = field + m[1]!;
  return new HttpError(400, 'invalid_argument', at + message.slice(m[0].length), at);
}

/** Run `f`; a user-facing lstmkit error becomes a 400 naming `field`. */
export function asInvalid<T>(field: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DataError) throw recordError(field, reason(e));
    if (e instanceof LstmkitError) throw invalid(field, e.message);
    throw e;
  }
}

/** `/instances/0/3` (ajv's instancePath) → `instances[0][3]`. */
export function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

/** The JSON schema of an error body, for the OpenAPI document. */
export const ErrorBodySchema = {
  type: 'object',
  description: 'An error: a message that names the field at fault, a stable code, and the field.',
  required: ['error', 'code'],
  properties: {
    error: { type: 'string' },
    code: {
      type: 'string',
      enum: [
        'invalid_argument', 'not_found', 'method_not_allowed', 'payload_too_large', 'unsupported_media_type',
        'resource_exhausted', 'unavailable', 'deadline_exceeded', 'internal',
      ],
    },
    field: { type: 'string' },
  },
} as const;
