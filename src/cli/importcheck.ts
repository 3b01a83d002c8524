// lstmkit import … --check x.jsonl --expect y.json: the imported model runs on
// the inputs of x.jsonl, and the import is refused — no model file written —
// unless it gives the outputs the user's own PyTorch, Keras or ONNX code gave
// for them (y.json). Without --check, the report says which reading of the
// recurrent output the head assumed: where an import that raises no error
// most often goes wrong (h_n or the mean, say).
//
// y.json is a JSON array with one entry per line of x.jsonl: what the source
// model returns for that sequence alone,
//
//   sequence models   a number (one output) or an array of the K outputs
//   per-step models   an array over the sequence's own steps (no padding),
//                     each a number (one output) or an array of K outputs
//
// and a leading dimension of 1 (the model run on a batch of one) is taken
// too. Classifiers: a PyTorch head gives logits (nn.Linear's output), a Keras
// model probabilities (its softmax; for one sigmoid unit, one number per
// output: P(class 1)), an ONNX graph either. The other forms — logits,
// probabilities, log-probabilities — are recognised and accepted with a note
// that says which it was.
//
// Every value must be within 1e-4 + 1e-4·|expected| (numpy.isclose with rtol
// = atol = 1e-4): the same float32 model computed in another order differs by
// about 1e-7, a wrong weight or reading by far more.

import { DataError, MismatchError, ValueError } from '../core/errors.js';
import { encodeRecords } from '../data/encode.js';
import type { JsonlRecord } from '../data/jsonl.js';
import { readJsonl } from '../data/jsonlfile.js';
import { poolingOf, type ModelConfig } from '../model/config.js';
import type { SequenceModel } from '../model/model.js';
import { runBatches } from '../train/evaluate.js';
import { readJsonFile } from './common.js';

export const CHECK_TOLERANCE = 1e-4;
const TOLERANCE_TEXT = '1e-4 + 1e-4·|expected|';

/** What a sequence head reads of the recurrent outputs, for each pooling kind of the config. */
const POOLED: Record<ReturnType<typeof poolingOf>, string> = {
  hn: 'h_n (the final state of each direction)',
  lastOutput: "out[:, -1] (the output at each sequence's last step, both directions as they stand there)",
  mean: 'the mean of the outputs over the valid steps',
  max: 'the maximum of the outputs over the valid steps',
};

/** Which reading of the recurrent output the head assumes, in words: "the head reads h_n (…)". */
export function headReads(output: ModelConfig['output']): string {
  return `the head reads ${output.mode === 'sequence' ? POOLED[poolingOf(output)] : "every step's output"}`;
}

export type OutputForm = 'values' | 'logits' | 'probabilities' | 'log-probabilities';

export interface CheckSpec {
  /** The imported file: messages start with it. */
  source: string;
  /** Whose outputs y.json holds, for messages: 'PyTorch', 'Keras', 'the ONNX graph'. */
  framework: string;
  /** A classifier's outputs as the source model returns them; null: not known (any form is taken without a note). */
  form: 'logits' | 'probabilities' | null;
  /** Keras's single sigmoid unit: an output may be one number, P(class 1) (or its logit), for lstmkit's two classes. */
  sigmoid?: boolean;
  /** The model file the import would write, for the refusal. */
  out?: string;
}

export interface CheckResult {
  xFile: string;
  yFile: string;
  sequences: number;
  values: number;
  largest: number;
  form: OutputForm;
  note: string | null;
}

/** The model's outputs (values or logits) per sequence: one row of K, or one per step. */
function rawOutputs(model: SequenceModel, records: readonly JsonlRecord[], xFile: string): Float32Array[][] {
  const examples = encodeRecords(records, model.config, { file: xFile, requireTarget: false });
  const K = model.outputSize;
  const perStep = model.config.output.mode !== 'sequence';
  const out: Float32Array[][] = examples.map(() => []);
  runBatches(model, examples, { batchSize: 64, shift: false }, (batch, output) => {
    const y = model.backend.arena.read(output).data;
    const B = batch.size;
    batch.indices.forEach((index, b) => {
      const row = (r: number) => Float32Array.from(y.subarray(r * K, (r + 1) * K));
      out[index] = perStep ? Array.from({ length: batch.lengths[b]! }, (_, t) => row(t * B + b)) : [row(b)];
    });
  });
  return out;
}

/** A number or rectangular nested arrays of finite numbers: its shape and values in order. */
function tensorOf(v: unknown, where: string, depth = 0): { shape: number[]; values: number[] } {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new DataError(`${where} holds ${v}; expected finite numbers`);
    return { shape: [], values: [v] };
  }
  if (!Array.isArray(v) || depth > 4) {
    throw new DataError(`${where} holds ${JSON.stringify(v)?.slice(0, 40) ?? 'nothing'}; expected a number, or arrays of numbers`);
  }
  const parts = v.map((e, i) => tensorOf(e, `${where}[${i}]`, depth + 1));
  const inner = parts[0]?.shape ?? [];
  if (!parts.every((p) => p.shape.length === inner.length && p.shape.every((d, i) => d === inner[i]))) {
    throw new DataError(`${where} is not rectangular (its entries differ in shape)`);
  }
  return { shape: [v.length, ...inner], values: parts.flatMap((p) => p.values) };
}

/** An entry of y.json as rows: one per sequence or per step, each `width` numbers wide. */
function expectedRows(entry: unknown, where: string, steps: number, perStep: boolean, widths: readonly number[]): number[][] {
  const { shape: full, values } = tensorOf(entry, where);
  let shape = full;
  while (shape.length > (perStep ? 2 : 1) && shape[0] === 1) shape = shape.slice(1);
  if (perStep && shape.length === 2 && shape[0] === 1 && shape[1] === steps && steps !== 1 && widths.includes(1)) shape = [steps];
  const rows = perStep ? shape[0] ?? -1 : 1;
  const width = perStep ? (shape.length === 1 ? 1 : shape[1] ?? -1) : (shape.length === 0 ? 1 : shape[0]!);
  if (shape.length > (perStep ? 2 : 1) || (perStep && shape.length === 0) || rows !== steps || !widths.includes(width)) {
    const outputs = widths.map((w) => `${w}`).join(' or ');
    const gives = perStep ? `${steps} step${steps === 1 ? '' : 's'} of ${outputs} output${widths[0] === 1 ? '' : 's'}` : `${outputs} outputs`;
    throw new DataError(
      `${where} has shape [${full.join(', ')}], but the imported model gives ${gives} for it ` +
      `(${perStep ? 'an array over the sequence\'s own steps, no padding' : 'a number or an array of outputs'})`,
    );
  }
  return Array.from({ length: rows }, (_, r) => values.slice(r * width, (r + 1) * width));
}

function softmax(row: Float32Array, log: boolean): number[] {
  const max = Math.max(...row);
  const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
  return Array.from(row, (v) => (log ? v - max - Math.log(sum) : Math.exp(v - max) / sum));
}

/** A raw output row in a form, `width` wide (1 for a sigmoid unit: class 1 of two). */
function inForm(row: Float32Array, form: OutputForm, width: number): number[] {
  if (form === 'values') return Array.from(row);
  if (width === 1 && row.length === 2) {
    if (form === 'logits') return [row[1]! - row[0]!];
    return [softmax(row, form === 'log-probabilities')[1]!];
  }
  return form === 'logits' ? Array.from(row) : softmax(row, form === 'log-probabilities');
}

interface Comparison {
  form: OutputForm;
  largest: number;
  largestAt: number;
  failed: number;
  first: { sequence: number; row: number; col: number; got: number; want: number; diff: number } | null;
}

function compare(got: Float32Array[][], want: number[][][], form: OutputForm): Comparison {
  const c: Comparison = { form, largest: 0, largestAt: 0, failed: 0, first: null };
  want.forEach((rows, s) => {
    let bad = false;
    rows.forEach((expected, r) => {
      const mine = inForm(got[s]![r]!, form, expected.length);
      expected.forEach((e, k) => {
        const diff = Math.abs(mine[k]! - e);
        if (!(diff <= c.largest)) {
          c.largest = Number.isNaN(diff) ? Infinity : diff;
          c.largestAt = s;
        }
        if (!(diff <= CHECK_TOLERANCE + CHECK_TOLERANCE * Math.abs(e))) {
          bad = true;
          c.first ??= { sequence: s, row: r, col: k, got: mine[k]!, want: e, diff };
        }
      });
    });
    if (bad) c.failed += 1;
  });
  return c;
}

const num = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(6));

/**
 * Run the imported model on x.jsonl's records and compare with y.json's
 * entries; throws a MismatchError (or a DataError for files that do not fit)
 * naming the first value that differs and the largest difference.
 */
export function checkImport(
  model: SequenceModel, records: readonly JsonlRecord[], xFile: string, expected: unknown, yFile: string, spec: CheckSpec,
): CheckResult {
  if (!Array.isArray(expected)) throw new DataError(`expected a JSON array, one entry per line of ${xFile}`, yFile);
  if (expected.length !== records.length) {
    throw new DataError(`holds ${expected.length} entries, but ${xFile} has ${records.length} sequences; one entry per line`, yFile);
  }
  const got = rawOutputs(model, records, xFile);
  const { output } = model.config;
  const classify = output.type === 'classification';
  const K = model.outputSize;
  const widths = spec.sigmoid && K === 2 ? [1, 2] : [K];
  const perStep = output.mode !== 'sequence';
  const want = expected.map((entry, i) =>
    expectedRows(entry, `${yFile}: entry ${i + 1} (${xFile} line ${records[i]!.line})`, got[i]!.length, perStep, widths));

  const primary: OutputForm = classify ? spec.form ?? 'logits' : 'values';
  const forms: OutputForm[] = classify ? [primary, ...(['logits', 'probabilities', 'log-probabilities'] as const).filter((f) => f !== primary)] : [primary];
  const results = forms.map((f) => compare(got, want, f));
  const values = want.reduce((n, rows) => n + rows.reduce((m, r) => m + r.length, 0), 0);
  const passed = results.find((r) => r.failed === 0);
  if (passed) {
    let note: string | null = null;
    if (passed.form !== primary) note = `${yFile} holds ${passed.form}, not the ${primary} ${spec.framework} gives; they match as ${passed.form}`;
    else if (classify && spec.form === null) note = `${yFile} holds ${passed.form}`;
    return { xFile, yFile, sequences: records.length, values, largest: passed.largest, form: passed.form, note };
  }

  // The reading closest to y.json is the one to report.
  const r = results.reduce((a, b) => (b.largest < a.largest ? b : a));
  const f = r.first!;
  const steps = got[f.sequence]!.length;
  const where = [
    perStep ? `step ${f.row + 1} of ${steps}` : '',
    classify ? `class "${output.classes![want[f.sequence]![f.row]!.length === 1 ? 1 : f.col]}"` : K > 1 ? `output ${f.col}` : '',
  ].filter((s) => s).join(', ');
  const compared = classify ? `, compared as ${r.form}` : '';
  throw new MismatchError(
    `${spec.source}: the imported model does not reproduce ${yFile} (${spec.framework}'s outputs): ` +
    `${xFile} line ${records[f.sequence]!.line}${where ? ` (${where})` : ''} gives ${num(f.got)}, ${yFile} ${num(f.want)} ` +
    `(difference ${f.diff.toExponential(1)}, beyond ${TOLERANCE_TEXT}); ` +
    `largest difference ${r.largest.toExponential(1)} (line ${records[r.largestAt]!.line}); ` +
    `${r.failed} of ${records.length} sequences differ${compared}; ${headReads(output)}` +
    `${spec.out ? `; ${spec.out} not written` : ''}`,
  );
}

export interface CheckArgs {
  /** Inputs (JSONL with "x"). */
  check?: string;
  /** What the source model gave for them (a JSON array). */
  expect?: string;
}

/** The check of the command's --check and --expect, or null without them. */
export async function checkAgainst(model: SequenceModel, args: CheckArgs, spec: CheckSpec): Promise<CheckResult | null> {
  if (args.check === undefined && args.expect === undefined) return null;
  if (args.check === undefined || args.expect === undefined) {
    throw new ValueError('--check x.jsonl and --expect y.json go together: the inputs, and the outputs your own model gave for them');
  }
  const records = await readJsonl(args.check);
  const expected = await readJsonFile(args.expect);
  return checkImport(model, records, args.check, expected, args.expect, spec);
}

/** The report's lines on the head's reading and the check (or the hint to run one). */
export function checkReport(model: SequenceModel, checked: CheckResult | null): string[] {
  const lines = [headReads(model.config.output)];
  if (!checked) {
    lines.push("hint: compare it with your own model's outputs: --check x.jsonl --expect y.json (see the README)");
    return lines;
  }
  lines.push(
    `checked: ${checked.sequences} sequence${checked.sequences === 1 ? '' : 's'} of ${checked.xFile} give ${checked.yFile} ` +
    `(${checked.values} values, largest difference ${checked.largest.toExponential(1)}; tolerance ${TOLERANCE_TEXT})`,
  );
  if (checked.note) lines.push(`note: ${checked.note}`);
  return lines;
}
