// The tagger beyond the PyTorch fixtures: gradients of every variant (softmax
// or CRF head, with or without the character BiLSTM, dropout, GRU) against
// central differences in Float64; words spelled once per batch; decoding
// (argmax, Viterbi under BIO constraints) with confidences that are
// probabilities; pretrained word vectors; configs a tagger is told apart by;
// bad configs get errors that say what is wrong.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  completeTaggerConfig, encodeTagged, isTaggerConfig, makeTaggedBatch, parseAnyConfig, TaggerModel, taggerLoss, type TaggedSentence, type TaggerConfig,
} from '../../src/index.js';
import { ReferenceBackend, taggerParameterCount, Workspace } from '../../src/internals.js';
import { checkGradient } from '../helpers/gradcheck.js';

const SAMPLE = 20;

const sentences: TaggedSentence[] = [
  { line: 1, tokens: ['Ann', 'met', 'Bob', 'Lee', '.'], tags: ['B-PER', 'O', 'B-PER', 'I-PER', 'O'] },
  { line: 2, tokens: ['Bob', 'ran'], tags: ['B-PER', 'O'] },
  { line: 3, tokens: ['Lee', 'met', 'Ann', 'in', 'Rome', 'today'], tags: ['B-PER', 'O', 'B-PER', 'O', 'B-LOC', 'O'] },
];

function configOf(o: { crf: boolean; chars: boolean; dropout?: number; cell?: 'lstm' | 'gru' }): TaggerConfig {
  return completeTaggerConfig({
    input: { type: 'tokens', embeddingDim: 3, ...(o.chars ? { chars: { embeddingDim: 2, hiddenSize: 2 } } : {}) },
    rnn: { cell: o.cell ?? 'lstm', hiddenSize: 3, bidirectional: true },
    output: { mode: 'step', type: 'classification', crf: o.crf, ...(o.dropout ? { dropout: o.dropout } : {}) },
  }, sentences, 'train');
}

const variants = [
  { name: 'softmax, word embedding only', crf: false, chars: false },
  { name: 'softmax, character BiLSTM, dropout 0.3', crf: false, chars: true, dropout: 0.3 },
  { name: 'CRF with BIO constraints, character BiLSTM', crf: true, chars: true },
  { name: 'CRF, GRU encoder, dropout 0.2', crf: true, chars: false, dropout: 0.2, cell: 'gru' as const },
];

for (const v of variants) {
  test(`gradients by central differences in Float64: ${v.name}`, () => {
    const config = configOf(v);
    const model = new TaggerModel(config, { backend: new ReferenceBackend('float64'), seed: 3 });
    const examples = encodeTagged(sentences, config, { file: 'train', requireTags: true });
    const chars = config.input.chars ? { vocabulary: config.input.chars.vocabulary!, maxLength: 24 } : null;
    const batch = makeTaggedBatch(examples, [0, 1, 2], chars);
    const rngState = model.getRngState();
    const ws = new Workspace(model.backend.arena);
    const loss = (grad: boolean): number => {
      model.setRngState(rngState); // the same dropout masks every time
      const emissions = model.forwardArena({ words: batch.words, steps: batch.steps, lengths: batch.lengths, chars: batch.chars });
      const r = taggerLoss(model, ws, emissions, batch.tags!, batch.lengths, { grad });
      if (grad) model.backwardArena(r.grad!);
      return r.loss;
    };
    model.zeroGrad();
    loss(true);
    const grads = model.gradDict();
    const params = model.stateDict(); // copies, perturbed and loaded below
    assert.equal(model.parameterCount, taggerParameterCount(config));
    for (const [name, values] of Object.entries(params)) {
      const analytic = grads[name]!;
      const picks = Array.from({ length: Math.min(SAMPLE, values.length) }, (_, i) => Math.floor((i * values.length) / Math.min(SAMPLE, values.length)));
      const sub = Float64Array.from(picks, (i) => values[i]!);
      const subGrad = picks.map((i) => analytic[i]!);
      checkGradient(name, sub, subGrad, () => {
        picks.forEach((i, j) => (values[i] = sub[j]!));
        model.loadStateDict(params);
        return loss(false);
      }, { atol: 1e-8, rtol: 1e-6 });
      picks.forEach((i, j) => (values[i] = sub[j]!));
      model.loadStateDict(params);
    }
  });
}

test('a batch spells each distinct word once and points every token at its spelling', () => {
  const config = configOf({ crf: false, chars: true });
  const examples = encodeTagged(sentences, config, { file: 'train', requireTags: true });
  const batch = makeTaggedBatch(examples, [0, 2], { vocabulary: config.input.chars!.vocabulary!, maxLength: 24 });
  const c = batch.chars!;
  // Ann met Bob Lee . | Lee met Ann in Rome today: 8 distinct words.
  assert.equal(c.words, 8);
  assert.equal(c.steps, 5); // "today"
  const spelled = (n: number): string => Array.from({ length: c.lengths[n]! }, (_, j) => config.input.chars!.vocabulary![c.ids[j * c.words + n]!]).join('');
  const B = 2;
  for (let t = 0; t < batch.steps; t++) {
    for (let b = 0; b < B; b++) {
      const n = c.index[t * B + b]!;
      const sentence = sentences[[0, 2][b]!]!;
      if (t < sentence.tokens.length) assert.equal(spelled(n), sentence.tokens[t]);
      else assert.equal(n, -1);
    }
  }
});

test('longestFirst: rows are the sentences longest first (indices say which), words spelled longest first; the same emissions', () => {
  const config = configOf({ crf: true, chars: true });
  const model = new TaggerModel(config, { seed: 7 });
  const examples = encodeTagged(sentences, config, { file: 'train', requireTags: true });
  const chars = { vocabulary: config.input.chars!.vocabulary!, maxLength: 24 };
  const plain = makeTaggedBatch(examples, [0, 1, 2], chars);
  const sorted = makeTaggedBatch(examples, [0, 1, 2], chars, { longestFirst: true });
  assert.deepEqual(sorted.indices, [2, 0, 1]);
  assert.deepEqual(Array.from(sorted.lengths), [6, 5, 2]);
  for (const c of [plain.chars!, sorted.chars!]) {
    for (let n = 1; n < c.words; n++) assert.ok(c.lengths[n - 1]! >= c.lengths[n]!, 'words longest first');
  }
  model.eval();
  const K = model.classes.length;
  const emissionsOf = (batch: typeof plain): Float32Array => {
    const e = model.forwardArena({ words: batch.words, steps: batch.steps, lengths: batch.lengths, chars: batch.chars });
    return Float32Array.from(model.backend.arena.view(e.offset, batch.steps * batch.size * K));
  };
  const a = emissionsOf(plain);
  const b = emissionsOf(sorted);
  sorted.indices.forEach((i, row) => {
    for (let t = 0; t < sorted.lengths[row]!; t++) {
      for (let k = 0; k < K; k++) assert.ok(Math.abs(b[(t * 3 + row) * K + k]! - a[(t * 3 + i) * K + k]!) < 1e-6, `sentence ${i} step ${t}`);
    }
  });
});

test('decoding: CRF paths obey the BIO constraints, confidences are probabilities, softmax takes each token\'s best', () => {
  for (const crf of [true, false]) {
    const config = configOf({ crf, chars: true });
    const model = new TaggerModel(config, { seed: 5 });
    const examples = encodeTagged(sentences, config, { file: 'train', requireTags: true });
    const batch = makeTaggedBatch(examples, [0, 1, 2], { vocabulary: config.input.chars!.vocabulary!, maxLength: 24 });
    model.eval();
    const emissions = model.forwardArena({ words: batch.words, steps: batch.steps, lengths: batch.lengths, chars: batch.chars });
    const { paths, confidence } = model.decodeArena(emissions, batch.lengths);
    assert.deepEqual(paths.map((p) => p.length), [5, 2, 6]);
    for (const row of confidence) for (const p of row) assert.ok(p > 0 && p <= 1 + 1e-6, `confidence ${p}`);
    const classes = model.classes;
    if (crf) {
      for (const path of paths) {
        path.forEach((k, t) => {
          const tag = classes[k]!;
          if (!tag.startsWith('I-')) return;
          const before = t === 0 ? 'O' : classes[path[t - 1]!]!;
          assert.ok(before.slice(2) === tag.slice(2) && before !== 'O', `${before} → ${tag}`);
        });
      }
    }
  }
});

test('pretrained word vectors: found words take them (as written, else lower case), the rest keep theirs', () => {
  const config = configOf({ crf: false, chars: false });
  const model = new TaggerModel(config, { seed: 1 });
  const before = model.stateDict()['embedding.weight']!.slice();
  const vectors = new Map([['ann', Float32Array.of(1, 2, 3)], ['met', Float32Array.of(4, 5, 6)], ['zzz', Float32Array.of(7, 8, 9)]]);
  assert.equal(model.setWordVectors(vectors), 2);
  const vocab = config.input.vocabulary!;
  const table = model.stateDict()['embedding.weight']!;
  const row = (w: string) => Array.from(table.slice(vocab.indexOf(w) * 3, vocab.indexOf(w) * 3 + 3));
  assert.deepEqual(row('Ann'), [1, 2, 3]);
  assert.deepEqual(row('met'), [4, 5, 6]);
  const bob = vocab.indexOf('Bob') * 3;
  assert.deepEqual(Array.from(table.slice(bob, bob + 3)), Array.from(before.slice(bob, bob + 3)));
  assert.throws(() => model.setWordVectors(new Map([['Ann', Float32Array.of(1, 2)]])), /2 numbers each, the model's embedding 3/);
});

test('a step-mode config is a tagger when it names output.crf or input.chars; tagger configs are checked', () => {
  const base = { input: { type: 'tokens', embeddingDim: 4 }, rnn: { cell: 'lstm', hiddenSize: 4 } };
  assert.equal(isTaggerConfig({ ...base, output: { mode: 'step', type: 'classification', crf: false } }), true);
  assert.equal(isTaggerConfig({ ...base, output: { mode: 'step', type: 'classification' } }), false);
  assert.equal(isTaggerConfig({ input: { ...base.input, chars: {} }, rnn: base.rnn, output: { mode: 'step', type: 'classification' } }), true);
  assert.throws(() => parseAnyConfig({ ...base, output: { mode: 'step', type: 'classification', crf: false, constrain: true, scheme: 'BIO' } }),
    /output.constrain needs output.crf and a BIO or BIOES output.scheme/);
  assert.throws(() => parseAnyConfig({ ...base, output: { mode: 'step', type: 'regression', crf: true } }), /output.type expected 'classification'/);
  assert.throws(() => new TaggerModel({ ...base, output: { mode: 'step', type: 'classification', crf: true } }), /input.vocabulary is missing/);
  // The scheme comes from the tags' form.
  assert.equal(configOf({ crf: true, chars: false }).output.scheme, 'BIO');
  const pos = completeTaggerConfig({ ...base, input: { type: 'tokens', embeddingDim: 4 }, rnn: { cell: 'lstm', hiddenSize: 4 },
    output: { mode: 'step', type: 'classification', crf: false } }, [{ line: 1, tokens: ['a', 'b'], tags: ['DT', 'NN'] }], 'train');
  assert.equal(pos.output.scheme, 'none');
});
