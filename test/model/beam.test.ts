// Beam search over a Seq2Seq model: beam 1 is greedy decoding; a beam as wide
// as every sequence finds the exhaustive best (brute force with teacher
// forcing); a narrow beam keeps what a plain reference search over
// teacher-forced log-probabilities keeps, and scores at least what greedy
// does; n-best lists are distinct and sorted, each hypothesis's
// log-probability, score and attention those teacher forcing gives its
// tokens; a batch decodes as its sources do one by one, and twice alike; bad
// options are refused, naming the field. Weights are scaled by 3 so the
// distributions are peaky and beam and greedy part ways.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Seq2SeqModel, beamSearch, greedyDecode, tensor, type DecodeSource, type Seq2SeqConfig } from '../../src/index.js';

const BOS = 2;
const EOS = 3;
const srcVocab = ['<pad>', '<unk>', 'a', 'b', 'c', 'd', 'e'];
const tgtVocab = ['<pad>', '<unk>', '<bos>', '<eos>', 'x', 'y', 'z', 'w'];
const tokens = { type: 'tokens' as const, embeddingDim: 4, vocabulary: srcVocab };

const configs: { name: string; config: Seq2SeqConfig }[] = [
  {
    name: 'LSTM → general attention',
    config: { input: tokens, rnn: { cell: 'lstm', hiddenSize: 5 }, output: { mode: 'seq2seq', vocabulary: tgtVocab, embeddingDim: 4, hiddenSize: 5 } },
  },
  {
    name: 'BiGRU → 2-layer decoder, additive attention, tied output',
    config: {
      input: tokens, rnn: { cell: 'gru', hiddenSize: 3, bidirectional: true },
      output: { mode: 'seq2seq', vocabulary: tgtVocab, embeddingDim: 4, hiddenSize: 4, numLayers: 2, attention: 'additive', tieEmbeddings: true },
    },
  },
  {
    name: 'LSTM → no attention',
    config: { input: tokens, rnn: { cell: 'lstm', hiddenSize: 4 }, output: { mode: 'seq2seq', vocabulary: tgtVocab, attention: 'none' } },
  },
  {
    name: 'vector → decoder',
    config: { input: { type: 'vector', size: 3 }, output: { mode: 'seq2seq', vocabulary: tgtVocab, embeddingDim: 3, hiddenSize: 4 } },
  },
];

/** A model with its random weights times `scale`. */
function peakyModel(config: Seq2SeqConfig, seed: number, scale = 3): Seq2SeqModel {
  const model = new Seq2SeqModel(config, { seed });
  const dict = model.stateDict();
  for (const values of Object.values(dict)) values.forEach((v, i) => (values[i] = v * scale));
  model.loadStateDict(dict);
  return model;
}

/** B sources of unequal lengths (token rows padded with 0), or B random vectors. */
function randomSource(config: Seq2SeqConfig, B: number, seed: number): DecodeSource {
  const rng = new Rng(seed);
  if (config.input.type === 'vector') {
    const F = config.input.size;
    return { vector: tensor(Array.from({ length: B * F }, () => rng.normal()), [B, F]) };
  }
  const lengths = Int32Array.from({ length: B }, (_, b) => 1 + ((b * 3 + seed) % 5));
  const S = Math.max(...lengths);
  const data = Int32Array.from({ length: B * S }, (_, i) => (i % S < lengths[Math.floor(i / S)]! ? 1 + rng.int(srcVocab.length - 1) : 0));
  return { src: { data, shape: [B, S] }, lengths };
}

/** Source row b alone, cut to its own length. */
function sourceRow(source: DecodeSource, b: number): DecodeSource {
  if ('vector' in source) {
    const F = source.vector.shape[1]!;
    return { vector: tensor(source.vector.data.slice(b * F, (b + 1) * F), [1, F]) };
  }
  const S = source.src.shape[1]!;
  const n = source.lengths[b]!;
  return { src: { data: source.src.data.slice(b * S, b * S + n), shape: [1, n] }, lengths: Int32Array.from([n]) };
}

interface Forced {
  logProb: number;
  /** Per token, the log-probabilities of every token at that step. */
  steps: number[][];
  /** Per token, the attention weights (null without attention). */
  attention: number[][] | null;
}

/** Teacher forcing of token sequences for source row b: each one's log-probability, and per token the step's log-probabilities and attention. */
function teacherForced(model: Seq2SeqModel, source: DecodeSource, b: number, seqs: number[][]): Forced[] {
  const M = seqs.length;
  const T = Math.max(...seqs.map((s) => s.length));
  const tin = tensor(seqs.flatMap((s) => Array.from({ length: T }, (_, t) => (t === 0 ? BOS : t < s.length ? s[t - 1]! : 0))), [M, T]);
  let input: Parameters<Seq2SeqModel['forward']>[0];
  if ('vector' in source) {
    const F = source.vector.shape[1]!;
    input = { vector: tensor(Array.from({ length: M }, () => Array.from(source.vector.data.slice(b * F, (b + 1) * F))).flat(), [M, F]) };
  } else {
    const S = source.src.shape[1]!;
    const row = Array.from(source.src.data.slice(b * S, (b + 1) * S));
    input = { src: tensor(Array.from({ length: M }, () => row).flat(), [M, S]), srcLengths: Array.from({ length: M }, () => source.lengths[b]!) };
  }
  const { logits, attention } = model.forward(input, tin);
  const V = logits.shape[2]!;
  const S = attention?.shape[2] ?? 0;
  return seqs.map((seq, m) => {
    const steps = seq.map((_, t) => {
      const row = Array.from(logits.data.subarray((m * T + t) * V, (m * T + t + 1) * V));
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((sum, v) => sum + Math.exp(v - max), 0));
      return row.map((v) => v - lse);
    });
    const logProb = seq.reduce((sum, token, t) => sum + steps[t]![token]!, 0);
    const rows = attention ? seq.map((_, t) => Array.from(attention.data.subarray((m * T + t) * S, (m * T + t + 1) * S))) : null;
    return { logProb, steps, attention: rows };
  });
}

/** Every output of at most maxLength tokens: <eos> last, or maxLength tokens without one. */
function allSequences(V: number, maxLength: number): number[][] {
  const out: number[][] = [];
  const grow = (prefix: number[]): void => {
    out.push([...prefix, EOS]);
    for (let v = 0; v < V; v++) {
      if (v === EOS) continue;
      if (prefix.length + 1 === maxLength) out.push([...prefix, v]);
      else grow([...prefix, v]);
    }
  };
  grow([]);
  return out;
}

const key = (tokens: number[]): string => tokens.join(' ');

/** Every prefix of up to n tokens without <eos>, and for each the next token's log-probabilities (teacher forcing for source row b). */
function nextLogProbs(model: Seq2SeqModel, source: DecodeSource, b: number, V: number, n: number): Map<string, number[]> {
  const prefixes: number[][] = [[]];
  for (let i = 0; prefixes[i] && prefixes[i]!.length < n; i++) for (let v = 0; v < V; v++) if (v !== EOS) prefixes.push([...prefixes[i]!, v]);
  const forced = teacherForced(model, source, b, prefixes.map((p) => [...p, 0]));
  return new Map(prefixes.map((p, i) => [key(p), forced[i]!.steps[p.length]!]));
}

/** What a reference search met that a shortcut would get wrong: <eos> past the first K before the beam filled, steps past K finished. */
interface Met {
  eosPastK: number;
  onPastK: number;
}

/**
 * Beam search as the brief states it, plainly, over a table of next-token
 * log-probabilities: rank every extension of the alive hypotheses (ties to
 * the earlier hypothesis, then the lower token); an <eos> among the first K
 * finishes; the first K others stay alive; stop at maxLength, or once K are
 * finished and the best alive hypothesis scored at its current length does
 * not beat the worst kept score.
 */
function referenceBeam(table: Map<string, number[]>, K: number, maxLength: number, alpha: number, met: Met): { tokens: number[]; score: number }[] {
  let alive = [{ tokens: [] as number[], logProb: 0 }];
  let finished: { tokens: number[]; score: number }[] = [];
  const finish = (tokens: number[], logProb: number): void => {
    finished.push({ tokens, score: logProb / tokens.length ** alpha });
    finished = finished.map((f, i) => ({ f, i })).sort((p, q) => q.f.score - p.f.score || p.i - q.i).map((p) => p.f).slice(0, K);
  };
  for (let t = 0; t < maxLength; t++) {
    const candidates = alive.flatMap((h) => table.get(key(h.tokens))!.map((lp, v) => ({ tokens: [...h.tokens, v], logProb: h.logProb + lp })));
    candidates.sort((p, q) => q.logProb - p.logProb); // stable: the earlier hypothesis, then the lower token
    alive = [];
    for (const [i, c] of candidates.entries()) {
      if (alive.length === K) break;
      if (c.tokens[t] !== EOS) alive.push(c);
      else if (i < K) finish(c.tokens, c.logProb);
      else met.eosPastK++;
    }
    if (t + 1 === maxLength) for (const h of alive) finish(h.tokens, h.logProb);
    else if (finished.length === K && alive[0]!.logProb / (t + 1) ** alpha <= finished[K - 1]!.score) break;
    else if (finished.length === K) met.onPastK++;
  }
  return finished;
}

test('beam 1 decodes as greedy does: the same tokens, log-probabilities, scores and attention', () => {
  for (const [i, c] of configs.entries()) {
    const model = peakyModel(c.config, 10 + i);
    const source = randomSource(c.config, 5, i);
    for (const lengthPenalty of [0, 1, 0.6]) {
      const greedy = greedyDecode(model, source, { maxLength: 9, lengthPenalty, attention: true });
      const beam = beamSearch(model, source, { beam: 1, maxLength: 9, lengthPenalty, attention: true });
      assert.deepEqual(beam.map((list) => list.length), greedy.map(() => 1), c.name);
      assert.deepEqual(beam.map((list) => list[0]), greedy, `${c.name}, α = ${lengthPenalty}`);
    }
  }
});

test('greedy and beam scores are logProb / length^α, length counting <eos>', () => {
  const model = peakyModel(configs[0]!.config, 3);
  const source = randomSource(configs[0]!.config, 4, 1);
  for (const d of [...greedyDecode(model, source, { lengthPenalty: 0.7 }), ...beamSearch(model, source, { beam: 3, nbest: 3, lengthPenalty: 0.7 }).flat()]) {
    assert.equal(d.score, d.logProb / d.tokens.length ** 0.7);
    assert.ok(!('attention' in d));
  }
  for (const d of greedyDecode(model, source)) assert.equal(d.score, d.logProb / d.tokens.length);
});

test('a beam as wide as every output finds the exhaustive best and n-best (brute force over teacher forcing)', () => {
  const tiny = ['<pad>', '<unk>', '<bos>', '<eos>', 'x', 'y'];
  const maxLength = 3;
  const all = allSequences(tiny.length, maxLength);
  assert.equal(all.length, 1 + 5 + 25 + 125);
  const nbest = 6;
  for (const [i, c] of configs.entries()) {
    const config = { ...c.config, output: { ...c.config.output, vocabulary: tiny } };
    const model = peakyModel(config, 20 + i);
    const source = randomSource(config, 3, 7 + i);
    for (const lengthPenalty of [0, 1]) {
      const beam = beamSearch(model, source, { beam: all.length, nbest, maxLength, lengthPenalty });
      beam.forEach((list, b) => {
        const forced = teacherForced(model, source, b, all);
        const ranked = all.map((tokens, j) => ({ tokens, score: forced[j]!.logProb / tokens.length ** lengthPenalty }))
          .sort((p, q) => q.score - p.score);
        assert.ok(ranked[0]!.score - ranked[1]!.score > 1e-4, `${c.name} row ${b}: the best two outputs are too close to tell apart`);
        assert.deepEqual(list[0]!.tokens, ranked[0]!.tokens, `${c.name} row ${b}, α = ${lengthPenalty}`);
        assert.equal(list.length, nbest);
        // Below the best, near-ties may swap: each rank's score must be the exhaustive one of that rank.
        list.forEach((d, r) => assert.ok(Math.abs(d.score - ranked[r]!.score) < 1e-5, `${c.name} row ${b} rank ${r}: ${d.score} vs ${ranked[r]!.score}`));
      });
    }
  }
});

// Not a theorem (the greedy path can fall out of a beam whose other hypotheses
// extend better), but what a working search does on these models; a search
// that stops too early or drops hypotheses falls below greedy.
test('a beam of 4 scores at least what greedy does (α = 0), and better somewhere', () => {
  let better = 0;
  for (const [i, c] of configs.entries()) {
    for (const seed of [1, 2, 3]) {
      const model = peakyModel(c.config, 30 + 3 * i + seed);
      const source = randomSource(c.config, 6, seed);
      const greedy = greedyDecode(model, source, { maxLength: 10, lengthPenalty: 0 });
      const beam = beamSearch(model, source, { beam: 4, maxLength: 10, lengthPenalty: 0 });
      greedy.forEach((g, b) => {
        assert.ok(beam[b]![0]!.score >= g.score, `${c.name} seed ${seed} row ${b}: beam ${beam[b]![0]!.score} < greedy ${g.score}`);
        if (beam[b]![0]!.score > g.score + 1e-9) better++;
      });
    }
  }
  assert.ok(better >= 5, `beam beat greedy on only ${better} sources`);
});

test('n-best lists: distinct, best score first, each one\'s log-probability and attention those teacher forcing gives it', () => {
  for (const [i, c] of configs.entries()) {
    const model = peakyModel(c.config, 40 + i);
    const source = randomSource(c.config, 4, 11 + i);
    const maxLength = 7;
    for (const lengthPenalty of [0, 1]) {
      const lists = beamSearch(model, source, { beam: 5, nbest: 4, maxLength, lengthPenalty, attention: true });
      lists.forEach((list, b) => {
        const where = `${c.name} row ${b}, α = ${lengthPenalty}`;
        assert.equal(list.length, 4, where);
        assert.equal(new Set(list.map((d) => key(d.tokens))).size, list.length, `${where}: a hypothesis twice`);
        for (let r = 1; r < list.length; r++) assert.ok(list[r - 1]!.score >= list[r]!.score, `${where}: rank ${r} outscores rank ${r - 1}`);
        const forced = teacherForced(model, source, b, list.map((d) => d.tokens));
        list.forEach((d, r) => {
          const eos = d.tokens.indexOf(EOS);
          assert.ok(eos === d.tokens.length - 1 || (eos === -1 && d.tokens.length === maxLength), `${where} rank ${r}: ${key(d.tokens)}`);
          assert.ok(Math.abs(d.logProb - forced[r]!.logProb) < 1e-4, `${where} rank ${r}: log-probability ${d.logProb} vs ${forced[r]!.logProb}`);
          assert.equal(d.attention!.length, c.config.output.attention === 'none' || c.config.input.type === 'vector' ? 0 : d.tokens.length, where);
          d.attention!.forEach((row, t) => {
            const sum = row.reduce((s, v) => s + v, 0);
            assert.ok(Math.abs(sum - 1) < 1e-5, `${where} rank ${r} step ${t}: the weights sum to ${sum}`);
            row.forEach((v, s) => assert.ok(Math.abs(v - forced[r]!.attention![t]![s]!) < 1e-5, `${where} rank ${r}: attention [${t}, ${s}]`));
          });
        });
      });
    }
  }
});

test('a batch decodes as each source alone, and the same call twice gives the same lists', () => {
  for (const [i, c] of configs.entries()) {
    const model = peakyModel(c.config, 50 + i);
    const source = randomSource(c.config, 5, 3 + i);
    const opts = { beam: 4, nbest: 3, maxLength: 8, attention: true };
    const batch = beamSearch(model, source, opts);
    assert.deepEqual(beamSearch(model, source, opts), batch, c.name);
    batch.forEach((list, b) => {
      const alone = beamSearch(model, sourceRow(source, b), opts)[0]!;
      // The same hypotheses; the numbers to float32 rounding (one source encodes as one row, where the
      // multiply sums in another order than for a block of rows). Attention covers the source's own steps.
      assert.deepEqual(list.map((d) => d.tokens), alone.map((d) => d.tokens), `${c.name} row ${b}`);
      const n = 'vector' in source ? 0 : source.lengths[b]!;
      list.forEach((d, r) => {
        const a = alone[r]!;
        assert.ok(Math.abs(d.score - a.score) < 1e-5 && Math.abs(d.logProb - a.logProb) < 1e-5, `${c.name} row ${b} rank ${r}: ${d.score} vs ${a.score}`);
        d.attention!.forEach((row, t) => {
          assert.equal(row.length, n, `${c.name} row ${b}: attention over ${row.length} steps`);
          row.forEach((v, s) => assert.ok(Math.abs(v - a.attention![t]![s]!) < 1e-5, `${c.name} row ${b} rank ${r}: attention [${t}, ${s}]`));
        });
      });
    });
  }
});

test('the first step extends one of a source\'s K identical rows: the n-best are distinct from the first token on', () => {
  const model = peakyModel(configs[0]!.config, 60);
  const source = randomSource(configs[0]!.config, 2, 5);
  const lists = beamSearch(model, source, { beam: 4, nbest: 4, maxLength: 1, lengthPenalty: 0 });
  const V = tgtVocab.length;
  lists.forEach((list, b) => {
    // At maxLength 1 the hypotheses are the best 4 first tokens (<eos> among them only if in the top 4).
    const first = teacherForced(model, source, b, Array.from({ length: V }, (_, v) => [v])).map((f, v) => ({ v, lp: f.logProb }));
    first.sort((p, q) => q.lp - p.lp || p.v - q.v);
    assert.deepEqual(list.map((d) => d.tokens), first.slice(0, 4).map((f) => [f.v]), `row ${b}`);
  });
});

test('a narrow beam keeps what the plain statement of beam search keeps (a reference over teacher-forced log-probabilities)', (ctx) => {
  const tiny = ['<pad>', '<unk>', '<bos>', '<eos>', 'x', 'y'];
  const V = tiny.length;
  const maxLength = 5;
  const met: Met = { eosPastK: 0, onPastK: 0 };
  let differ = 0;
  for (const [i, c] of configs.entries()) {
    const config = { ...c.config, output: { ...c.config.output, vocabulary: tiny } };
    for (const seed of [0, 1, 2]) {
      const model = peakyModel(config, 70 + 3 * i + seed);
      const source = randomSource(config, 3, seed + i);
      const tables = [0, 1, 2].map((b) => nextLogProbs(model, source, b, V, maxLength - 1));
      for (const K of [2, 3, 4]) {
        for (const alpha of [0, 1]) {
          const lists = beamSearch(model, source, { beam: K, nbest: K, maxLength, lengthPenalty: alpha });
          lists.forEach((list, b) => {
            const expected = referenceBeam(tables[b]!, K, maxLength, alpha, met);
            const where = `${c.name} seed ${seed} row ${b}, beam ${K}, α = ${alpha}`;
            assert.deepEqual(list.map((d) => d.tokens), expected.map((e) => e.tokens), where);
            list.forEach((d, r) => assert.ok(Math.abs(d.score - expected[r]!.score) < 1e-5, where));
            if (key(list[0]!.tokens) !== key(greedyDecode(model, sourceRow(source, b), { maxLength })[0]!.tokens)) differ++;
          });
        }
      }
    }
  }
  // The searches met the cases a shortcut gets wrong.
  ctx.diagnostic(`beam ≠ greedy ${differ} times; <eos> past the first K ${met.eosPastK} times; ${met.onPastK} steps past K finished`);
  assert.ok(differ >= 10 && met.eosPastK >= 10 && met.onPastK >= 10);
});

test('beam search refuses bad options, naming the field', () => {
  const model = peakyModel(configs[0]!.config, 1);
  const source = randomSource(configs[0]!.config, 2, 1);
  const refuses = (opts: Parameters<typeof beamSearch>[2], message: RegExp): void => {
    assert.throws(() => beamSearch(model, source, opts), (e: Error) => e.name === 'ValueError' && message.test(e.message), JSON.stringify(opts));
  };
  refuses({ beam: 0 }, /^beamSearch: beam must be a positive integer, got 0$/);
  refuses({ beam: 2.5 }, /beam must be a positive integer, got 2.5/);
  refuses({ beam: 3, nbest: 0 }, /nbest must be a positive integer, got 0/);
  refuses({ beam: 3, nbest: 1.5 }, /nbest must be a positive integer, got 1.5/);
  refuses({ beam: 3, nbest: 5 }, /^beamSearch: nbest \(5\) cannot exceed beam \(3\)$/);
  refuses({ beam: 3, maxLength: 0 }, /maxLength must be a positive integer, got 0/);
  refuses({ beam: 3, lengthPenalty: -1 }, /lengthPenalty must be a finite number ≥ 0, got -1/);
  refuses({ beam: 3, lengthPenalty: NaN }, /lengthPenalty must be a finite number ≥ 0/);
  assert.throws(() => greedyDecode(model, source, { maxLength: 0 }), /decode: maxLength must be a positive integer, got 0/);
});

