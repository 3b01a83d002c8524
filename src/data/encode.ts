// From JSONL records to encoded examples, following the model config:
// numbers per step, tokens to indices, labels to class indices, and targets
// in the shape the head predicts. Every error names the file and line.

import { DataError } from '../core/errors.js';
import type { InputConfig, ModelConfig, OutputConfig } from '../model/config.js';
import type { JsonlRecord } from './jsonl.js';

export const PAD = '<pad>';
export const UNK = '<unk>';

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

/** Split a text into tokens the way the input config says. */
export function tokenize(text: string, tokenizer: 'char' | 'word' = 'char'): string[] {
  return tokenizer === 'char' ? Array.from(text) : text.split(/\s+/).filter((t) => t !== '');
}

function rawTokens(x: unknown, input: Extract<InputConfig, { type: 'tokens' }>, file: string, line: number): string[] {
  let tokens: string[];
  if (typeof x === 'string') tokens = tokenize(x, input.tokenizer ?? 'char');
  else if (Array.isArray(x) && x.every((t) => typeof t === 'string')) tokens = x as string[];
  else throw new DataError('x must be a string or an array of token strings for a model with token input', file, line);
  return input.maxLength ? tokens.slice(0, input.maxLength) : tokens;
}

/** A vocabulary from training records: padding, unknown, then tokens by frequency (ties alphabetical). */
export function buildVocabulary(records: readonly JsonlRecord[], input: Extract<InputConfig, { type: 'tokens' }>, file: string, maxSize = Infinity): string[] {
  const counts = new Map<string, number>();
  for (const r of records) for (const t of rawTokens(r.value.x, input, file, r.line)) counts.set(t, (counts.get(t) ?? 0) + 1);
  const sorted = [...counts.entries()].filter(([t]) => t !== PAD && t !== UNK).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return [PAD, UNK, ...sorted.slice(0, Math.max(0, maxSize - 2)).map(([t]) => t)];
}

function labelOf(v: unknown, file: string, line: number, where: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new DataError(`${where} must be a class label (a string or number), got ${JSON.stringify(v)?.slice(0, 40)}`, file, line);
}

/** Class labels seen in training records, sorted (numbers numerically). */
export function collectClasses(records: readonly JsonlRecord[], output: OutputConfig, file: string): string[] {
  const seen = new Set<string>();
  for (const r of records) {
    const y = r.value.y;
    if (output.mode === 'step') {
      if (!Array.isArray(y)) throw new DataError('y must be an array of per-step labels', file, r.line);
      y.forEach((v, t) => seen.add(labelOf(v, file, r.line, `y[${t}]`)));
    } else seen.add(labelOf(y, file, r.line, 'y'));
  }
  const labels = [...seen];
  const numeric = labels.every((l) => l.trim() !== '' && Number.isFinite(Number(l)));
  return labels.sort((a, b) => (numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0));
}

/** Fill vocabulary and classes from the training data where the config leaves them out. */
export function completeConfig(config: ModelConfig, records: readonly JsonlRecord[], file: string): ModelConfig {
  const out: ModelConfig = structuredClone(config);
  if (out.input.type === 'tokens' && !out.input.vocabulary) out.input.vocabulary = buildVocabulary(records, out.input, file);
  if (out.output.type === 'classification' && !out.output.classes) {
    if (out.output.mode === 'next') out.output.classes = (out.input as { vocabulary: string[] }).vocabulary;
    else out.output.classes = collectClasses(records, out.output, file);
    if (out.output.classes.length < 2) throw new DataError(`found only ${out.output.classes.length} class label(s) in the training data; classification needs at least 2`, file);
  }
  return out;
}

function numberAt(v: unknown, file: string, line: number, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DataError(`${where} must be a finite number, got ${JSON.stringify(v)?.slice(0, 40) ?? 'nothing'}`, file, line);
  return v;
}

/** A vector of `size` numbers from a number (size 1) or an array. */
function vector(v: unknown, size: number, file: string, line: number, where: string, out: Float32Array, at: number): void {
  if (typeof v === 'number' && size === 1) {
    out[at] = numberAt(v, file, line, where);
    return;
  }
  if (!Array.isArray(v)) throw new DataError(`${where} must be ${size === 1 ? 'a number' : `an array of ${size} numbers`}, got ${JSON.stringify(v)?.slice(0, 40) ?? 'nothing'}`, file, line);
  if (v.length !== size) throw new DataError(`${where} has ${v.length} ${size === 1 ? 'values' : 'features'}, the model expects ${size}`, file, line);
  v.forEach((e, j) => (out[at + j] = numberAt(e, file, line, `${where}[${j}]`)));
}

export interface EncodeOptions {
  file: string;
  /** Require y (training and evaluation); predictions do not. */
  requireTarget: boolean;
}

/** Encode one record. The config must be complete (vocabulary and classes filled in). */
export function encodeRecord(record: JsonlRecord, config: ModelConfig, opts: EncodeOptions): Example {
  const { file } = opts;
  const { line, value } = record;
  const { input, output } = config;
  let steps: number;
  let x: Float32Array | null = null;
  let tokens: Int32Array | null = null;
  if (!('x' in value)) throw new DataError('missing field "x" (the input sequence)', file, line);
  if (input.type === 'tokens') {
    const vocab = input.vocabulary!;
    const index = vocabIndex(vocab);
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
      if (!Array.isArray(y) || y.length !== steps) throw new DataError(`y must be an array of ${steps} per-step targets (one per step of x), got ${Array.isArray(y) ? y.length : typeof y}`, file, line);
      example.yReg = new Float32Array(steps * size);
      y.forEach((v, t) => vector(v, size, file, line, `y[${t}]`, example.yReg!, t * size));
    }
  } else {
    const classes = classIndex(output.classes!);
    const toClass = (v: unknown, where: string): number => {
      const label = labelOf(v, file, line, where);
      const k = classes.get(label);
      if (k === undefined) throw new DataError(`${where} is the label ${JSON.stringify(label)}, which the model does not know (its classes: ${output.classes!.slice(0, 10).join(', ')}${output.classes!.length > 10 ? ', …' : ''})`, file, line);
      return k;
    };
    if (output.mode === 'sequence') example.yCls = Int32Array.of(toClass(y, 'y'));
    else {
      if (!Array.isArray(y) || y.length !== steps) throw new DataError(`y must be an array of ${steps} per-step labels (one per step of x), got ${Array.isArray(y) ? y.length : typeof y}`, file, line);
      example.yCls = Int32Array.from(y, (v, t) => toClass(v, `y[${t}]`));
    }
  }
  return example;
}

const vocabCache = new WeakMap<readonly string[], Map<string, number>>();
function vocabIndex(vocab: readonly string[]): Map<string, number> {
  let m = vocabCache.get(vocab);
  if (!m) vocabCache.set(vocab, (m = new Map(vocab.map((t, i) => [t, i]))));
  return m;
}
const classIndex = vocabIndex;

export function encodeRecords(records: readonly JsonlRecord[], config: ModelConfig, opts: EncodeOptions): Example[] {
  return records.map((r) => encodeRecord(r, config, opts));
}
