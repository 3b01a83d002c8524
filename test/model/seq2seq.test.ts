// The Seq2Seq model beyond the PyTorch fixtures: gradient checks of every
// variant (attention kinds, tied output, cells, stacked decoder, no attention,
// vector input) against central differences in Float64; decoding one step at
// a time computes what teacher forcing computes; sessions keep rows apart;
// bad configs and inputs get errors that say what is wrong.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Seq2SeqModel, parseSeq2SeqConfig, crossEntropyLoss, greedyDecode, tensor, type Seq2SeqConfig, type Tensor } from '../../src/index.js';
import { ReferenceBackend, seq2seqParameterCount } from '../../src/internals.js';

const EPS = 1e-6;
const ATOL = 1e-8;
const RTOL = 1e-6;
const SAMPLE = 25;

const src = ['<pad>', '<unk>', 'a', 'b', 'c', 'd', 'e'];
const tgt = ['<pad>', '<unk>', '<bos>', '<eos>', 'x', 'y', 'z'];

interface Case {
  name: string;
  config: Seq2SeqConfig;
  seed: number;
}

const tokens = { type: 'tokens' as const, embeddingDim: 3, vocabulary: src };
const cases: Case[] = [
  {
    name: 'BiLSTM 2 layers → 2-layer decoder, general attention, label smoothing',
    config: {
      input: tokens, rnn: { cell: 'lstm', hiddenSize: 3, numLayers: 2, bidirectional: true },
      output: { mode: 'seq2seq', vocabulary: tgt, embeddingDim: 3, hiddenSize: 4, numLayers: 2, attention: 'general' },
      train: { labelSmoothing: 0.1 },
    },
    seed: 1,
  },
  {
    name: 'GRU → additive attention, tied output',
    config: {
      input: tokens, rnn: { cell: 'gru', hiddenSize: 4 },
      output: { mode: 'seq2seq', vocabulary: tgt, embeddingDim: 3, hiddenSize: 3, attention: 'additive', tieEmbeddings: true },
    },
    seed: 2,
  },
  {
    name: 'RNN → dot attention',
    config: { input: tokens, rnn: { cell: 'rnn', hiddenSize: 4 }, output: { mode: 'seq2seq', vocabulary: tgt, attention: 'dot' } },
    seed: 3,
  },
  {
    name: 'BiLSTM → no attention',
    config: {
      input: tokens, rnn: { cell: 'lstm', hiddenSize: 2, bidirectional: true },
      output: { mode: 'seq2seq', vocabulary: tgt, hiddenSize: 3, attention: 'none' },
    },
    seed: 4,
  },
  {
    name: 'BiGRU → general attention, dropout 0.3 (the same masks for every evaluation)',
    config: {
      input: tokens, rnn: { cell: 'gru', hiddenSize: 3, bidirectional: true },
      output: { mode: 'seq2seq', vocabulary: tgt, hiddenSize: 4, attention: 'general', dropout: 0.3 },
    },
    seed: 6,
  },
  {
    name: 'vector → 2-layer decoder',
    config: { input: { type: 'vector', size: 3 }, output: { mode: 'seq2seq', vocabulary: tgt, embeddingDim: 2, hiddenSize: 3, numLayers: 2 } },
    seed: 5,
  },
];

interface Data {
  source: { src: Tensor; srcLengths: number[] } | { vector: Tensor };
  tin: Tensor;
  tout: number[];
}

/** A padded batch of 3: sources of unequal lengths, targets of unequal lengths (tout −1 past <eos>). */
function randomData(rng: Rng, config: Seq2SeqConfig): Data {
  const B = 3;
  const srcLengths = [4, 2, 3];
  const tgtLengths = [3, 5, 2];
  const S = Math.max(...srcLengths);
  const T = Math.max(...tgtLengths);
  const source = config.input.type === 'vector'
    ? { vector: tensor(Array.from({ length: B * config.input.size }, () => rng.normal()), [B, config.input.size]) }
    : {
      src: tensor(Array.from({ length: B * S }, (_, i) => (i % S < srcLengths[Math.floor(i / S)]! ? 1 + rng.int(src.length - 1) : 0)), [B, S]),
      srcLengths,
    };
  const tin: number[] = [];
  const tout: number[] = [];
  for (let b = 0; b < B; b++) {
    const n = tgtLengths[b]! - 1;
    const ys = Array.from({ length: n }, () => 4 + rng.int(tgt.length - 4));
    const row = [2, ...ys];
    const out = [...ys, 3];
    for (let t = 0; t < T; t++) {
      tin.push(t < row.length ? row[t]! : 0);
      tout.push(t < out.length ? out[t]! : -1);
    }
  }
  return { source, tin: tensor(tin, [B, T]), tout };
}

function lossOf(model: Seq2SeqModel, data: Data, ls: number, backward: boolean, rngState?: number[]): number {
  if (rngState) model.setRngState(rngState); // dropout draws the same masks every time
  const { logits } = model.forward(data.source, data.tin);
  const { loss, grad } = crossEntropyLoss(logits, data.tout, { backend: model.backend, labelSmoothing: ls });
  if (backward) model.backward(grad);
  return loss;
}

for (const c of cases) {
  test(`seq2seq gradient check: ${c.name}`, (ctx) => {
    const backend = new ReferenceBackend('float64');
    const model = new Seq2SeqModel(c.config, { backend, seed: c.seed });
    const rng = new Rng(100 + c.seed);
    const data = randomData(rng, c.config);
    const ls = c.config.train?.labelSmoothing ?? 0;
    const rngState = model.getRngState();
    model.zeroGrad();
    const loss = lossOf(model, data, ls, true, rngState);
    assert.ok(Number.isFinite(loss) && loss > 0, `loss ${loss}`);
    const grads = model.gradDict();
    const params = model.stateDict();
    let checked = 0;
    let worst = 0;
    for (const [name, values] of Object.entries(params)) {
      const all = Array.from({ length: values.length }, (_, i) => i);
      rng.shuffle(all);
      for (const i of all.slice(0, SAMPLE)) {
        const saved = values[i]!;
        const at = (v: number): number => {
          values[i] = v;
          model.loadStateDict(params);
          return lossOf(model, data, ls, false, rngState);
        };
        const numeric = (at(saved + EPS) - at(saved - EPS)) / (2 * EPS);
        at(saved);
        const diff = Math.abs(numeric - grads[name]![i]!);
        assert.ok(diff <= ATOL + RTOL * Math.abs(numeric), `${c.name}: ${name}[${i}] analytic ${grads[name]![i]}, numeric ${numeric}`);
        worst = Math.max(worst, diff);
        checked++;
      }
    }
    ctx.diagnostic(`${checked} entries of ${Object.keys(params).length} tensors, max abs diff ${worst.toExponential(1)}`);
  });
}

test('decoding one step at a time computes what teacher forcing computes', () => {
  for (const c of cases) {
    const model = new Seq2SeqModel(c.config, { seed: c.seed }).eval(); // no dropout in the teacher-forced forward
    const data = randomData(new Rng(7), c.config);
    const source = 'vector' in data.source
      ? { vector: data.source.vector }
      : { src: { data: Int32Array.from(data.source.src.data), shape: data.source.src.shape }, lengths: Int32Array.from(data.source.srcLengths) };
    const decoded = greedyDecode(model, source, { maxLength: 6, attention: true });
    // Teacher forcing on <bos> + the greedy tokens predicts the same tokens, with the same log-probabilities.
    const T = Math.max(...decoded.map((d) => d.tokens.length));
    const B = decoded.length;
    const tin = tensor(decoded.flatMap((d) => Array.from({ length: T }, (_, t) => (t === 0 ? 2 : d.tokens[t - 1] ?? 0))), [B, T]);
    const { logits, attention } = model.forward(data.source, tin);
    const V = tgt.length;
    decoded.forEach((d, b) => {
      let logProb = 0;
      d.tokens.forEach((token, t) => {
        const row = Array.from(logits.data.subarray((b * T + t) * V, (b * T + t + 1) * V));
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
        assert.equal(row.indexOf(max), token, `${c.name}: row ${b} step ${t}`);
        logProb += row[token]! - lse;
        if (attention) {
          const S = attention.shape[2]!;
          const a = Array.from(attention.data.subarray((b * T + t) * S, (b * T + t + 1) * S));
          // Decoding gives the weights over the source's own steps; the padded ones are 0 in the batch.
          const n = 'vector' in source ? 0 : source.lengths[b]!;
          assert.equal(d.attention![t]!.length, n, `${c.name}: attention [${b}, ${t}] over ${d.attention![t]!.length} steps`);
          a.forEach((v, s) => assert.ok(Math.abs(v - (s < n ? d.attention![t]![s]! : 0)) < 1e-6, `${c.name}: attention [${b}, ${t}, ${s}]`));
        }
      });
      assert.ok(Math.abs(logProb - d.logProb) < 1e-4, `${c.name}: row ${b} log-probability ${d.logProb} vs ${logProb}`);
    });
  }
});

test('the parameter count worked out from a config is the built model\'s', () => {
  for (const c of cases) assert.equal(seq2seqParameterCount(parseSeq2SeqConfig(c.config)), new Seq2SeqModel(c.config).parameterCount, c.name);
});

test('a decoding session repeats each source for beams and keeps rows of one source together', () => {
  const model = new Seq2SeqModel(cases[0]!.config, { seed: 1 });
  const srcRows = { data: Int32Array.from([2, 3, 4, 0, 5, 6, 0, 0]), shape: [2, 4] };
  const session = model.startDecoding({ src: srcRows, lengths: Int32Array.from([3, 2]) }, { beams: 3 });
  assert.equal(session.rows, 6);
  const { logProbs } = session.step(new Int32Array(6).fill(2));
  const V = tgt.length;
  for (let r = 0; r < 6; r++) {
    const first = Math.floor(r / 3) * 3;
    for (let v = 0; v < V; v++) assert.equal(logProbs[r * V + v], logProbs[first * V + v], `row ${r} repeats row ${first}`);
  }
  session.reorder(Int32Array.from([2, 2, 0, 5, 3, 3]));
  assert.throws(() => session.reorder(Int32Array.from([3, 1, 2, 3, 4, 5])), /row 0 cannot continue row 3/);
  // A model decodes one session at a time: another session or a forward makes this one stale, loudly.
  const other = model.startDecoding({ src: srcRows, lengths: Int32Array.from([4, 1]) });
  assert.throws(() => session.step(new Int32Array(6).fill(2)), /stale/);
  other.dispose();
  session.dispose();
  assert.equal(model.training, true, 'the model is back in training mode');
  assert.throws(() => model.startDecoding({ src: srcRows, lengths: Int32Array.from([3, 2]) }, { beams: 0 }), /beams must be a positive integer/);
  const short = { data: Int32Array.from([2, 3]), shape: [2, 4] };
  assert.throws(() => model.startDecoding({ src: short, lengths: Int32Array.from([1, 1]) }), /src has shape \[2, 4\] and 2 indices/);
  assert.throws(() => model.startDecoding({ src: srcRows, lengths: Int32Array.from([3, 5]) }), /lengths must be 2 integers in \[1, 4\], got \[3, 5\]/);
});

test('seq2seq configs and inputs that cannot work are refused, saying why', () => {
  const base = cases[0]!.config;
  const output = base.output;
  assert.throws(() => new Seq2SeqModel({ ...base, output: { ...output, attention: 'dot' } }), /'dot' attention needs the decoder's hiddenSize \(4\)/);
  const tied = { ...base, output: { ...output, tieEmbeddings: true } };
  assert.throws(() => new Seq2SeqModel(tied), /tieEmbeddings needs output.embeddingDim \(3\) == output.hiddenSize \(4\)/);
  const swapped = { ...base, output: { ...output, vocabulary: ['<pad>', '<bos>', '<unk>', '<eos>', 'x'] } };
  assert.throws(() => new Seq2SeqModel(swapped), /must start with <pad>, <unk>, <bos>, <eos>/);
  assert.throws(() => new Seq2SeqModel({ ...base, rnn: undefined }), /rnn \(the encoder\) is missing/);
  assert.throws(() => new Seq2SeqModel({ input: { type: 'vector', size: 3 }, output: { ...output, attention: 'general' } }), /vector input has none/);
  const model = new Seq2SeqModel(base, { seed: 1 });
  const s = tensor([2, 3, 4], [1, 3]);
  assert.throws(() => model.forward({ src: s }, tensor([2, 9], [1, 2])), /index \[1\] is 9, expected an integer in \[0, 7\)/);
  assert.throws(() => model.forward({ src: s }, tensor([2, 0.5], [1, 2])), /tin\[0\]\[1\] is 0.5, expected a token index/);
  assert.throws(() => model.forward({ src: s, srcLengths: [4] }, tensor([2, 4], [1, 2])), /source lengths must be 1 integers in \[1, 3\]/);
});
