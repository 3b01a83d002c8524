// Typed errors. Every message says what was expected, what came, and where.

export class LstmkitError extends Error {
  override name = 'LstmkitError';
}

/** A tensor or array has the wrong shape or size. */
export class ShapeError extends LstmkitError {
  override name = 'ShapeError';
}

/** A value is out of range, NaN, or otherwise invalid (options, data, configs). */
export class ValueError extends LstmkitError {
  override name = 'ValueError';
}

/** A state dict or model file has a missing, unknown or mismatched tensor. */
export class StateDictError extends LstmkitError {
  override name = 'StateDictError';
}

/** A file or line of user data is malformed; names the file and line. */
export class DataError extends LstmkitError {
  override name = 'DataError';
  constructor(message: string, readonly file?: string, readonly line?: number) {
    super(file === undefined ? message : `${file}${line === undefined ? '' : `:${line}`}: ${message}`);
  }
}

/** A model file (lstmkit, safetensors, ONNX, Keras) is corrupt, hostile or unsupported. */
export class FormatError extends LstmkitError {
  override name = 'FormatError';
}

/** An imported model does not reproduce the outputs its source framework gave (lstmkit import --check). */
export class MismatchError extends LstmkitError {
  override name = 'MismatchError';
}

/** Training produced a NaN or Inf. */
export class DivergenceError extends LstmkitError {
  override name = 'DivergenceError';
}

export function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** The largest finite float32: a larger number becomes Infinity in the engine's buffers. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** Why a number cannot enter a float32 buffer ('' when it can). */
export function float32Problem(v: number): string {
  if (!Number.isFinite(v)) return `is ${v}; expected a finite number`;
  if (Math.abs(v) > FLOAT32_MAX) return `is ${v}, beyond float32's range (±3.4e38); expected a finite number`;
  return '';
}

/** Throws a ValueError naming `where` and the first index that is not finite in float32. */
export function assertFinite(data: ArrayLike<number>, where: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (Number.isFinite(v) && Math.abs(v) <= FLOAT32_MAX) continue;
    throw new ValueError(`${where}[${i}] ${float32Problem(v)}`);
  }
}

/** A positive integer option, or a ValueError naming it (and where it belongs: `where: field must be …`). */
export function positiveInt(value: unknown, field: string, where?: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ValueError(`${where ? `${where}: ` : ''}${field} must be a positive integer, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}
