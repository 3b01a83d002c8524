// What a graph's head reads, in the words of the PyTorch code that wrote it,
// and which of lstmkit's poolings (src/layers/pooling.ts) that is:
//
//   h_n[-1], cat(h_n[-2], h_n[-1])              'hn'
//   out[:, -1] (out[-1] time-major), or each    'lastOutput'
//   sequence's last step with sequence lengths
//   out.mean(dim=1), or sum / lengths           'mean'
//   out.max(dim=1).values, padding masked       'max'
//
// out is the last layer's output sequence ([batch, steps, directions·H]
// batch-first), h_n its final hidden states. A head that reads something
// else — c_n, an inner layer, out[:, -1] of padded sequences, a mean over
// the padding — is refused in those words, saying what lstmkit's head reads.

import type { PoolingKind } from '../../layers/pooling.js';
import type { Cell } from './gates.js';
import type { ImportState } from './state.js';
import type { Axis, Ref, Run, Time } from './values.js';

/** The recurrent stack the head sits on, as the importer found it. */
export interface Stack {
  cell: Cell;
  /** Layers, directions, units per direction. */
  L: number;
  D: number;
  H: number;
  /** The graph input the layers read as sequence_lens, if any. */
  lengths: string | null;
  /** Whether the model's input (and so out) is [batch, steps, ·]. */
  batchFirst: boolean;
}

/**
 * Why a head's input still has an axis of layers and directions, in PyTorch's words: fc(h_n) applies the head to
 * each of them (the most common way to get there); '' when it has none.
 */
export function directionAxisHint(axes: readonly Axis[]): string {
  const slots = axes.find((a): a is Extract<Axis, { kind: 'S' }> => a.kind === 'S');
  if (!slots) return '';
  const what = slots.slots.every((r) => r.what === 'h' || r.what === 'c') ? slots.slots[0]!.what : null;
  return what
    ? ` (the head is applied to each of the ${slots.slots.length} layers and directions of ${what}_n, as fc(${what}_n) does; ` +
      'read h_n[-1], or cat(h_n[-2], h_n[-1]) of a bidirectional model)'
    : ' (it still has an axis of directions: merge them into the features, as out of nn.LSTM has them)';
}

/** "a 2-layer bidirectional LSTM", "an RNN". */
export function describeStack(s: Stack): string {
  const name = s.cell.toUpperCase();
  const words = [s.L > 1 ? `${s.L}-layer` : '', s.D === 2 ? 'bidirectional' : '', name].filter((w) => w !== '').join(' ');
  return `${/^[aeiouLR]/.test(words) ? 'an' : 'a'} ${words}`;
}

/** What lstmkit's head can read, in PyTorch's words for this stack. */
function choices(s: Stack): string {
  const dim = s.batchFirst ? 1 : 0;
  const hn = s.D === 2 ? 'cat(h_n[-2], h_n[-1])' : 'h_n[-1]';
  return `${hn}, ${lastStep(s)}, out.mean(dim=${dim}) or out.max(dim=${dim}).values of the last layer`;
}

function lastStep(s: Stack): string {
  return s.batchFirst ? 'out[:, -1]' : 'out[-1]';
}

/** How the PyTorch code indexes `base` at a time step (or reduces it over time), with a feature slice. */
function timed(s: Stack, base: string, time: Time, slice: string): string {
  const dim = s.batchFirst ? 1 : 0;
  const at = (step: string): string => (s.batchFirst ? `${base}[:, ${step}${slice && `, ${slice}`}]` : `${base}[${step}${slice && `, :, ${slice}`}]`);
  const then = slice && `[:, ${slice}]`;
  switch (time) {
    case 'all': return slice ? `${base}[..., ${slice}]` : base;
    case 'first': return at('0');
    case 'last': return at('-1');
    case 'lastLen': return `${base}[${s.batchFirst ? 'arange(batch), lengths - 1' : 'lengths - 1, arange(batch)'}]${then}`;
    case 'mean': return `${base}.mean(dim=${dim})${then}`;
    case 'sum': return `${base}.sum(dim=${dim})${then}`;
    case 'meanLen': return `(${base}.sum(dim=${dim}) / lengths)${then}`;
    case 'max': return `${base}.max(dim=${dim}).values${then}`;
    case 'maxLen': return `${base}.masked_fill(padding, -inf).max(dim=${dim}).values${then}`;
  }
}

/** Consecutive feature positions as slices ("0:4", ":4", "4:"), none for all `n`. */
function slices(positions: readonly number[], n: number): string[] {
  const out: [number, number][] = [];
  for (const p of positions) {
    const last = out[out.length - 1];
    if (last && last[1] === p) last[1]++;
    else out.push([p, p + 1]);
  }
  if (out.length === 1 && out[0]![0] === 0 && out[0]![1] === n) return [''];
  return out.map(([a, b]) => `${a === 0 ? '' : a}:${b === n ? '' : b}`);
}

/**
 * What the head reads, as PyTorch code writes it: "out[:, -1]", "cat(h_n[-2], h_n[-1])", "out.mean(dim=1)[:, 4:]", …
 * Features of the output sequence are numbered as in out (forward units, then backward); h_n and c_n are indexed
 * as PyTorch stacks them (layer · directions + direction, from the end for the last layer).
 */
export function torchReads(runs: readonly Run[], s: Stack): string {
  const parts: string[] = [];
  const groups = new Map<string, { ref: Ref; positions: number[] }>();
  for (const r of runs) {
    const ref = r.ref!;
    const state = ref.what === 'h' || ref.what === 'c';
    const key = `${ref.what}|${ref.layer}|${ref.time}|${state ? ref.dir : ''}`;
    const g = groups.get(key) ?? { ref, positions: [] };
    groups.set(key, g);
    for (let p = r.from; p < r.to; p++) g.positions.push(state ? p : ref.dir * s.H + p);
  }
  for (const { ref, positions } of groups.values()) {
    if (ref.what === 'h' || ref.what === 'c') {
      const k = ref.layer * s.D + ref.dir;
      const name = `${ref.what}_n[${ref.layer === s.L - 1 ? k - s.L * s.D : k}]`;
      for (const sl of slices(positions, s.H)) parts.push(sl ? `${name}[:, ${sl}]` : name);
    } else {
      const base = ref.what === 'x' ? 'x' : 'out';
      const n = ref.what === 'x' ? Math.max(...positions) + 1 : s.D * s.H;
      for (const sl of slices(positions, n)) parts.push(timed(s, base, ref.time, sl));
    }
  }
  return parts.length === 1 ? parts[0]! : `cat(${parts.join(', ')})`;
}

/**
 * The pooling a per-sequence head's reads are, with the reads as the weights are built from them (an output read at
 * the step where a direction ends is that direction's h_n); otherwise a refusal in PyTorch's words. A per-step head
 * (pooling null) must read out itself.
 */
export function headPooling(
  state: ImportState, s: Stack, perStep: boolean, runs: readonly Run[], fail: (m: string) => never,
): { pooling: PoolingKind | null; runs: Run[] } {
  const refs = runs.map((r) => r.ref!);
  const reads = torchReads(runs, s);
  const yours = `your model's head reads ${reads}`;
  if (refs.some((r) => r.what === 'x')) fail(`${yours}: the input itself; lstmkit's head reads the recurrent layers' outputs`);
  if (refs.some((r) => r.what === 'c')) {
    fail(`${yours}, and c_n is the cell state; lstmkit's head reads hidden states: ${choices(s)}`);
  }
  const inner = refs.find((r) => r.layer !== s.L - 1);
  if (inner) {
    fail(`${yours}, from layer ${inner.layer} of ${describeStack(s)} (layers count from 0); lstmkit's head reads the last layer, layer ${s.L - 1}`);
  }
  if (perStep) {
    if (!refs.every((r) => r.what === 'Y' && r.time === 'all')) {
      fail(`the output is per step, but ${yours}; a per-step head reads out, the output at every step`);
    }
    return { pooling: null, runs: runs.slice() };
  }
  const withLengths = s.lengths !== null;
  const dim = s.batchFirst ? 1 : 0;
  const times = new Set(refs.map((r) => (r.what === 'Y' ? r.time : null)));
  if (withLengths) {
    if (times.has('last')) fail(`with sequence lengths, ${lastStep(s)} is padding for shorter sequences; read h_n, or index each sequence's last step`);
    if (times.has('mean')) {
      fail(`with sequence lengths, out.mean(dim=${dim}) averages the padding too; lstmkit averages each sequence's own steps (out.sum(dim=${dim}) / lengths)`);
    }
    if (times.has('max')) {
      fail(
        `with sequence lengths, out.max(dim=${dim}) takes the padding (zeros) in, which wins wherever a sequence's outputs are negative; ` +
        'mask the padded steps to -inf first (out.masked_fill(padding, float(\'-inf\')))',
      );
    }
    const other = [...state.headLengths].find((l) => l !== s.lengths);
    if (other !== undefined) fail(`${yours} with lengths '${other}', but the recurrent layers read '${s.lengths}' as their sequence lengths`);
  } else if (state.headLengths.size > 0 || times.has('meanLen') || times.has('maxLen') || times.has('lastLen')) {
    // Without sequence_lens the layers run over the padding too. A forward direction's output at a valid step has not
    // read it yet, so each sequence's last step and its maximum over valid steps are still exact; a backward direction
    // starts in the padding, and a sum over time adds the outputs there.
    if (s.D === 2 || times.has('meanLen')) {
      fail(
        `${yours}, using sequence lengths the recurrent layers do not read (no sequence_lens: they run over the padding, ` +
        `${s.D === 2 ? 'and the backward direction starts there' : 'and the sum adds their outputs there'}); ` +
        'pack the sequences (pack_padded_sequence) for the layers too',
      );
    }
  }
  const allY = (...ok: Time[]): boolean => refs.every((r) => r.what === 'Y' && ok.includes(r.time));
  const lengthsRead = withLengths || state.headLengths.size > 0;
  if (allY(lengthsRead ? 'lastLen' : 'last')) {
    if (s.D === 1 && !lengthsRead) {
      state.notes.push(`the head reads ${reads}, imported as pooling 'lastOutput' (for a unidirectional stack it is h_n[-1], the same numbers)`);
    }
    return { pooling: 'lastOutput', runs: runs.slice() };
  }
  // Where a direction ends, its output is its final state: the forward direction's at each sequence's last step, the
  // backward direction's at step 0 (it reads from the end back to the start).
  const normalized = runs.map((r): Run => {
    const ref = r.ref!;
    const end = ref.what === 'Y' && ((ref.dir === 0 && ref.time === (lengthsRead ? 'lastLen' : 'last')) || (ref.dir === 1 && ref.time === 'first'));
    return end ? { ...r, ref: { ...ref, what: 'h', time: 'all' } } : r;
  });
  if (normalized.every((r) => r.ref!.what === 'h')) return { pooling: 'hn', runs: normalized };
  if (allY(withLengths ? 'meanLen' : 'mean')) return { pooling: 'mean', runs: runs.slice() };
  if (allY(lengthsRead ? 'maxLen' : 'max')) return { pooling: 'max', runs: runs.slice() };
  const hint = times.has('sum') ? ' (a sum over time is not among them; the mean is)' : '';
  return fail(`${yours}; lstmkit's head reads one of ${choices(s)}${hint}`);
}
