// From JSONL records to encoded examples, following a description of the
// input (numbers per step, or tokens and their vocabulary) and of the target
// (values or class labels, per sequence, per step or the next step): tokens
// to indices, labels to class indices, targets in the shape the head
// predicts. A model config's `input` and `output` are such a description.
// Every error names the file and line.

import { DataError, FLOAT32_MAX, float32Problem } from '../core/errors.js';
import type { JsonlRecord } from './jsonl.js';
import { buildVocabulary as vocabularyOf, PAD, sortLabels, tokenize, UNK, vocabularyIndex, type TokenizerKind } from './vocabulary.js';

/** Numbers per step, or tokens (from a text or an array of token strings). */
export type RecordInput =
  | { type: 'features'; size: number }
  | { type: 'tokens'; vocabulary?: string[] | undefined; tokenizer?: TokenizerKind | undefined; maxLength?: number | undefined };

/** What `y` is: values or labels, per sequence, per step, or (mode 'next') the input's own next step. */
export interface RecordOutput {
  mode: 'sequence' | 'step' | 'next';
  type: 'regression' | 'classification';
  size?: number | undefined;
  classes?: string[] | undefined;
}

/** How records are read: the input and the target. */
export interface RecordSpec {
  input: RecordInput;
  output: RecordOutput;
}

/** One encoded sequence. */
export interface Example {
  steps: number;
  /** [steps, features] for numeric input. */
  x: Float32Array | null;
  /** [steps] token indices for token input. */
  tokens: Int32Array | null;
  /** Regression targets: [size] (sequence) or [steps, size] (step / next). */
  yReg: Float32Array | null;
  /** Class targets: [1] (sequence) or [steps] (step / next); -1 = none. */
  yCls: Int32Array | null;
  /** Where it came from, for messages. */
  source?: { file: string; line: number };
}

function rawTokens(x: unknown, input: Extract<RecordInput, { type: 'tokens' }>, file: string, line: number): string[] {
  let tokens: string[];
  if (typeof x === 'string') tokens = tokenize(x, input.tokenizer ?? 'char');
  else if (Array.isArray(x) && x.every((t) => typeof t === 'string')) tokens = x as string[];
  else throw new DataError('x must be a string or an array of token strings for a model with token input', file, line);
  return input.maxLength ? tokens.slice(0, input.maxLength) : tokens;
}

/** A vocabulary from training records: padding, unknown, then tokens by frequency (ties in code-point order). */
export function recordVocabulary(records: readonly JsonlRecord[], input: Extract<RecordInput, { type: 'tokens' }>, file: string): string[] {
  return vocabularyOf(records.map((r) => rawTokens(r.value.x, input, file, r.line)), { reserved: [PAD, UNK] });
}

function labelOf(v: unknown, file: string, line: number, where: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new DataError(`${where} must be a class label (a string or number), got ${JSON.stringify(v)?.slice(0, 40)}`, file, line);
}

/** Class labels seen in training records, sorted (numbers numerically). */
export function collectClasses(records: readonly JsonlRecord[], output: RecordOutput, file: string): string[] {
  const seen = new Set<string>();
  for (const r of records) {
    const y = r.value.y;
    if (output.mode === 'step') {
      if (!Array.isArray(y)) throw new DataError('y must be an array of per-step labels', file, r.line);
      y.forEach((v, t) => seen.add(labelOf(v, file, r.line, `y[${t}]`)));
    } else seen.add(labelOf(y, file, r.line, 'y'));
  }
  return sortLabels(seen);
}

/** A number from a record, finite in float32, or a DataError naming the file, line and field. */
export function numberAt(v: unknown, file: string, line: number, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new DataError(`${where} must be a finite number, got ${JSON.stringify(v)?.slice(0, 40) ?? 'nothing'}`, file, line);
  }
  if (Math.abs(v) > FLOAT32_MAX) throw new DataError(`${where} ${float32Problem(v)}`, file, line);
  return v;
}

/** A vector of `size` numbers from a number (size 1) or an array. */
function vector(
  v: unknown, size: number, file: string, line: number, where: string, out: Float32Array, at: number,
): void {
  if (typeof v === 'number' && size === 1) {
    out[at] = numberAt(v, file, line, where);
    return;
  }
  if (!Array.isArray(v)) {
    const expected = size === 1 ? 'a number' : `an array of ${size} numbers`;
    throw new DataError(`${where} must be ${expected}, got ${JSON.stringify(v)?.slice(0, 40) ?? 'nothing'}`, file, line);
  }
  if (v.length !== size) throw new DataError(`${where} has ${v.length} ${size === 1 ? 'values' : 'features'}, the model expects ${size}`, file, line);
  v.forEach((e, j) => (out[at + j] = numberAt(e, file, line, `${where}[${j}]`)));
}

export interface EncodeOptions {
  file: string;
  /** Require y (training and evaluation); predictions do not. */
  requireTarget: boolean;
}

/** Encode one record. The spec must be complete (vocabulary and classes filled in). */
export function encodeRecord(record: JsonlRecord, spec: RecordSpec, opts: EncodeOptions): Example {
  const { file } = opts;
  const { line, value } = record;
  const { input, output } = spec;
  let steps: number;
  let x: Float32Array | null = null;
  let tokens: Int32Array | null = null;
  if (!('x' in value)) throw new DataError('missing field "x" (the input sequence)', file, line);
  if (input.type === 'tokens') {
    const vocab = input.vocabulary!;
    const index = vocabularyIndex(vocab);
    const raw = rawTokens(value.x, input, file, line);
    steps = raw.length;
    tokens = Int32Array.from(raw, (t) => index.get(t) ?? 1);
  } else {
    if (!Array.isArray(value.x)) throw new DataError(`x must be an array of steps, got ${typeof value.x}`, file, line);
    steps = value.x.length;
    x = new Float32Array(steps * input.size);
    value.x.forEach((s, t) => vector(s, input.size, file, line, `x[${t}]`, x!, t * input.size));
  }
  if (steps === 0) throw new DataError('x is empty; a sequence needs at least one step', file, line);
  const example: Example = { steps, x, tokens, yReg: null, yCls: null, source: { file, line } };
  if (output.mode === 'next') {
    if (steps < 2 && opts.requireTarget) throw new DataError('next-step prediction needs sequences of at least 2 steps', file, line);
    return example; // targets come from x itself, shifted by one step
  }
  if (!('y' in value)) {
    if (opts.requireTarget) throw new DataError('missing field "y" (the target)', file, line);
    return example;
  }
  const y = value.y;
  if (output.type === 'regression') {
    const size = output.size ?? 1;
    if (output.mode === 'sequence') {
      example.yReg = new Float32Array(size);
      vector(y, size, file, line, 'y', example.yReg, 0);
    } else {
      if (!Array.isArray(y) || y.length !== steps) {
        const got = Array.isArray(y) ? y.length : typeof y;
        throw new DataError(`y must be an array of ${steps} per-step targets (one per step of x), got ${got}`, file, line);
      }
      example.yReg = new Float32Array(steps * size);
      y.forEach((v, t) => vector(v, size, file, line, `y[${t}]`, example.yReg!, t * size));
    }
  } else {
    const classes = classIndex(output.classes!);
    const toClass = (v: unknown, where: string): number => {
      const label = labelOf(v, file, line, where);
      const k = classes.get(label);
      if (k === undefined) {
        const known = `${output.classes!.slice(0, 10).join(', ')}${output.classes!.length > 10 ? ', …' : ''}`;
        throw new DataError(`${where} is the label ${JSON.stringify(label)}, which the model does not know (its classes: ${known})`, file, line);
      }
      return k;
    };
    if (output.mode === 'sequence') example.yCls = Int32Array.of(toClass(y, 'y'));
    else {
      if (!Array.isArray(y) || y.length !== steps) {
        const got = Array.isArray(y) ? y.length : typeof y;
        throw new DataError(`y must be an array of ${steps} per-step labels (one per step of x), got ${got}`, file, line);
      }
      example.yCls = Int32Array.from(y, (v, t) => toClass(v, `y[${t}]`));
    }
  }
  return example;
}

const classIndex = vocabularyIndex;

export function encodeRecords(records: readonly JsonlRecord[], spec: RecordSpec, opts: EncodeOptions): Example[] {
  return records.map((r) => encodeRecord(r, spec, opts));
}
