// Traces of the recurrent layers: the gates and states each layer and
// direction computed, checked against the cell equations recomputed in
// Float64 from the layer's own weights, step by step, and against the gates
// PyTorch computes for the same weights and packed inputs (fixtures); an
// untraced forward gives the same outputs; the last layer's h is the output.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GRU, LSTM, RNN, Rng, tensor, type Tensor } from '../../src/index.js';
import { listFixtures, loadFixture, type JsonTensor } from '../helpers/fixtures.js';

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** W x + b for row-major W [rows, cols]. */
function affine(W: ArrayLike<number>, b: ArrayLike<number> | undefined, x: ArrayLike<number>, rows: number, cols: number, from = 0): number[] {
  return Array.from({ length: rows }, (_, r) => {
    let s = b ? b[from + r]! : 0;
    for (let c = 0; c < cols; c++) s += W[(from + r) * cols + c]! * x[c]!;
    return s;
  });
}

const at = (t: Tensor, step: number, b: number, B: number, n: number): number[] => Array.from(t.data.subarray((step * B + b) * n, (step * B + b + 1) * n));

function close(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  for (let j = 0; j < want.length; j++) {
    assert.ok(Math.abs(got[j]! - want[j]!) <= 2e-5 + 2e-5 * Math.abs(want[j]!), `${what}[${j}]: traced ${got[j]}, recomputed ${want[j]}`);
  }
}

const cases = [
  { name: 'LSTM, 2 layers, bidirectional, ragged lengths', cell: 'lstm' as const, layers: 2, bidirectional: true, projSize: 0 },
  { name: 'LSTM with a projection', cell: 'lstm' as const, layers: 1, bidirectional: true, projSize: 2 },
  { name: 'GRU, 2 layers, bidirectional', cell: 'gru' as const, layers: 2, bidirectional: true, projSize: 0 },
  { name: 'RNN', cell: 'rnn' as const, layers: 1, bidirectional: false, projSize: 0 },
];

for (const c of cases) {
  test(`trace: ${c.name} — every gate and state is what the cell equations give`, () => {
    const [I, H, T, B] = [3, 4, 5, 3];
    const lengths = [5, 2, 4];
    const common = { inputSize: I, hiddenSize: H, numLayers: c.layers, bidirectional: c.bidirectional };
    const layer = c.cell === 'lstm' ? new LSTM({ ...common, projSize: c.projSize }, { seed: 4 })
      : c.cell === 'gru' ? new GRU(common, { seed: 4 }) : new RNN(common, { seed: 4 });
    const rng = new Rng(9);
    const x = tensor(Float32Array.from({ length: T * B * I }, () => rng.range(-1, 1)), [T, B, I]);
    const plain = layer.forward(x, {}, { lengths });
    const traced = layer.forward(x, {}, { lengths, trace: true });
    assert.deepEqual(traced.output.data, plain.output.data, 'tracing changes no output');
    const trace = traced.trace!;
    const D = c.bidirectional ? 2 : 1;
    const O = c.projSize || H;
    assert.equal(trace.length, c.layers * D);
    const w = layer.stateDict();
    let input = (t: number, b: number): number[] => at(x, t, b, B, I);
    for (let l = 0; l < c.layers; l++) {
      const inSize = l === 0 ? I : D * O;
      for (let d = 0; d < D; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        const tr = trace[l * D + d]!;
        assert.deepEqual(tr.h.shape, [T, B, O]);
        for (let b = 0; b < B; b++) {
          const L = lengths[b]!;
          let hPrev = Array.from({ length: O }, () => 0);
          let cPrev = Array.from({ length: H }, () => 0);
          for (let k = 0; k < L; k++) {
            const t = d === 1 ? L - 1 - k : k;
            const xt = input(t, b);
            const gi = (from: number, n: number) => affine(w[`weight_ih${sfx}`]!, w[`bias_ih${sfx}`], xt, n, inSize, from);
            const gh = (from: number, n: number) => affine(w[`weight_hh${sfx}`]!, w[`bias_hh${sfx}`], hPrev, n, O, from);
            const where = `layer ${l} direction ${d} sentence ${b} step ${t}`;
            let h: number[];
            if (c.cell === 'lstm') {
              const pre = gi(0, 4 * H).map((v, j) => v + gh(0, 4 * H)[j]!);
              const i = pre.slice(0, H).map(sigmoid);
              const f = pre.slice(H, 2 * H).map(sigmoid);
              const g = pre.slice(2 * H, 3 * H).map(Math.tanh);
              const o = pre.slice(3 * H).map(sigmoid);
              const cNew = cPrev.map((cp, j) => f[j]! * cp + i[j]! * g[j]!);
              const r = cNew.map((v, j) => o[j]! * Math.tanh(v));
              h = c.projSize ? affine(w[`weight_hr${sfx}`]!, undefined, r, O, H) : r;
              for (const [name, want] of [['i', i], ['f', f], ['g', g], ['o', o], ['c', cNew]] as const) {
                close(`${where} ${name}`, at(tr[name]!, t, b, B, H), want);
              }
              cPrev = cNew;
            } else if (c.cell === 'gru') {
              const xi = gi(0, 3 * H);
              const hh = gh(0, 3 * H);
              const r = Array.from({ length: H }, (_, j) => sigmoid(xi[j]! + hh[j]!));
              const z = Array.from({ length: H }, (_, j) => sigmoid(xi[H + j]! + hh[H + j]!));
              const n = Array.from({ length: H }, (_, j) => Math.tanh(xi[2 * H + j]! + r[j]! * hh[2 * H + j]!));
              h = n.map((v, j) => (1 - z[j]!) * v + z[j]! * hPrev[j]!);
              for (const [name, want] of [['r', r], ['z', z], ['n', n]] as const) close(`${where} ${name}`, at(tr[name]!, t, b, B, H), want);
            } else {
              h = gi(0, H).map((v, j) => Math.tanh(v + gh(0, H)[j]!));
            }
            close(`${where} h`, at(tr.h, t, b, B, O), h);
            hPrev = at(tr.h, t, b, B, O); // the next step starts from the traced state, as the forward did
          }
          for (let t = L; t < T; t++) assert.ok(at(tr.h, t, b, B, O).every((v) => v === 0), 'padded steps are zeros');
        }
      }
      const below = trace.slice(l * D, l * D + D);
      input = (t, b) => below.flatMap((tr) => at(tr.h, t, b, B, O));
    }
    // The last layer's h, directions side by side, is the output.
    const top = trace.slice((c.layers - 1) * D);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) assert.deepEqual(top.flatMap((tr) => at(tr.h, t, b, B, O)), at(plain.output, t, b, B, D * O));
  });
}

test('trace before any forward is an error', () => {
  assert.throws(() => new LSTM({ inputSize: 2, hiddenSize: 2 }).trace(), /LSTM.trace called before forward/);
});

test('traces match the gates PyTorch computes for nn.LSTM and nn.GRU over packed sequences (test/fixtures/make_trace_fixtures.py)', () => {
  for (const file of listFixtures('torch/trace')) {
    const f = loadFixture<{
      cell: 'lstm' | 'gru'; inputSize: number; hiddenSize: number; numLayers: number; bidirectional: boolean;
      stateDict: Record<string, JsonTensor>; x: JsonTensor; lengths: number[]; trace: Record<string, JsonTensor>[];
    }>('torch', 'trace', file);
    const opts = { inputSize: f.inputSize, hiddenSize: f.hiddenSize, numLayers: f.numLayers, bidirectional: f.bidirectional };
    const layer = f.cell === 'lstm' ? new LSTM(opts) : new GRU(opts);
    layer.loadStateDict(f.stateDict);
    const { trace } = layer.forward(tensor(Float32Array.from(f.x.data), f.x.shape), {}, { lengths: f.lengths, trace: true });
    assert.equal(trace!.length, f.trace.length);
    const [T, B] = f.x.shape as [number, number, number];
    f.trace.forEach((want, k) => {
      for (const [name, expected] of Object.entries(want)) {
        const got = trace![k]![name as 'h']!;
        assert.deepEqual(got.shape, expected.shape, `${file} ${k} ${name}`);
        const H = expected.shape[2]!;
        for (let t = 0; t < T; t++) {
          for (let b = 0; b < B; b++) {
            if (name === 'c' && t >= f.lengths[b]!) continue; // past its length: the carried state, not compared
            close(`${file} [${k}].${name} step ${t} sequence ${b}`, at(got, t, b, B, H), expected.data.slice((t * B + b) * H, (t * B + b + 1) * H));
          }
        }
      }
    });
  }
});
