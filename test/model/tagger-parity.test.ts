// The TaggerModel against its PyTorch twin (test/fixtures/make_tagger_fixtures.py):
// a BiLSTM(-CRF) tagger as a PyTorch user writes it (character BiLSTM final
// states, pack_padded_sequence, the CRF's forward algorithm in log space, Viterbi).
// A model built from each fixture's config and loaded with the twin's state
// dict, run on the fixture's sentences (encoded and batched as training does),
// gives the same emissions, loss, gradient of every parameter, decoded paths
// and probabilities (CRF marginals or softmax), to 1e-5 relative, 1e-6
// absolute. The twin's state dict, as a .safetensors file, also imports
// through importTorchTagger (importTorch's counterpart for tagger configs)
// into a model that gives the same emissions and paths.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeSafetensors, encodeTagged, makeTaggedBatch, TaggerModel, taggerLoss, tensor, type TaggedSentence, type TaggerConfig,
} from '../../src/index.js';
import { Workspace } from '../../src/internals.js';
import { importTorchTagger } from '../../src/io/torch.js';
import { assertClose, FIXTURES, listFixtures, loadFixture, type JsonTensor } from '../helpers/fixtures.js';

interface TaggerFixture {
  name: string;
  description: string;
  config: TaggerConfig;
  params: Record<string, JsonTensor>;
  sentences: { tokens: string[]; tags: string[] }[];
  /** [B, T] word ids, 0 padded. */
  words: JsonTensor;
  lengths: number[];
  /** [B, T] tag ids, -1 padded. */
  tags: JsonTensor;
  /** [B, T, K]. */
  emissions: JsonTensor;
  loss: number;
  grads: Record<string, JsonTensor>;
  paths: number[][];
  /** [B, T, K] CRF marginals or softmax probabilities, 0 at padded steps. */
  probs: JsonTensor;
}

const DIR = join('torch', 'tagger');
const files = listFixtures(DIR);

/** [T, B, K] time-major to [B, T, K] batch-first. */
function batchFirst(x: ArrayLike<number>, T: number, B: number, K: number): number[] {
  const out = Array.from({ length: T * B * K }, () => 0);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) out[(b * T + t) * K + k] = x[(t * B + b) * K + k]!;
  return out;
}

function batchOf(fx: TaggerFixture) {
  const config = fx.config;
  const sentences: TaggedSentence[] = fx.sentences.map((s, i) => ({ line: i + 1, tokens: s.tokens, tags: s.tags }));
  const examples = encodeTagged(sentences, config, { file: fx.name, requireTags: true });
  const chars = config.input.chars ? { vocabulary: config.input.chars.vocabulary!, maxLength: config.input.chars.maxLength ?? 24 } : null;
  return makeTaggedBatch(examples, examples.map((_, i) => i), chars);
}

test('tagger fixtures are present', () => {
  assert.ok(files.length >= 3, `expected the tagger fixtures in test/fixtures/${DIR}, found ${files.length}`);
});

for (const file of files) {
  const fx = loadFixture<TaggerFixture>(DIR, file);

  test(`PyTorch parity (tagger): ${fx.name}`, (ctx) => {
    const model = new TaggerModel(fx.config, { seed: 1 });
    model.loadStateDict(fx.params);
    const batch = batchOf(fx);
    const { steps: T, size: B } = batch;
    const K = fx.config.output.classes!.length;
    assert.deepEqual(fx.emissions.shape, [B, T, K]);
    // The batch is the twin's: the same word ids, lengths and tags.
    assert.deepEqual(batchFirst(batch.words, T, B, 1), fx.words.data, 'word ids');
    assert.deepEqual(Array.from(batch.lengths), fx.lengths, 'lengths');
    assert.deepEqual(batchFirst(batch.tags!, T, B, 1), fx.tags.data, 'tag ids');
    if (fx.config.input.chars) assert.ok(batch.chars!.words < fx.lengths.reduce((a, l) => a + l, 0), 'words repeat: fewer spelled than tokens');

    const report: string[] = [];
    const check = (actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void => {
      const d = assertClose(actual, expected, `${fx.name} ${what}`, 1e-5, 1e-6);
      report.push(`${what} ${d.maxAbs.toExponential(1)}`);
    };

    model.train();
    model.zeroGrad();
    const emissions = model.forwardArena({ words: batch.words, steps: T, lengths: batch.lengths, chars: batch.chars });
    assert.deepEqual(emissions.shape, [T, B, K]);
    const scores = batchFirst(model.backend.arena.view(emissions.offset, T * B * K), T, B, K);
    check(scores, fx.emissions.data, 'emissions');

    const { paths, confidence } = model.decodeArena(emissions, batch.lengths);
    assert.deepEqual(paths, fx.paths, `${fx.name}: decoded paths`);
    const expectedConfidence = fx.paths.flatMap((path, b) => path.map((k, t) => fx.probs.data[(b * T + t) * K + k]!));
    check(confidence.flat(), expectedConfidence, 'confidence');
    if (model.crf) {
      const marginals = model.crf.marginals(tensor(scores, [B, T, K]), { lengths: batch.lengths });
      check(marginals.data, fx.probs.data, 'marginals');
    }

    const ws = new Workspace(model.backend.arena);
    const { loss, grad } = taggerLoss(model, ws, emissions, batch.tags!, batch.lengths);
    check([loss], [fx.loss], 'loss');
    model.backwardArena(grad!);
    const grads = model.gradDict();
    assert.deepEqual(Object.keys(grads).sort(), Object.keys(fx.grads).sort(), `${fx.name}: parameter names`);
    for (const [name, expected] of Object.entries(fx.grads)) check(grads[name]!, expected.data, `d${name}`);
    ctx.diagnostic(`max abs diff: ${report.join(', ')}`);
  });

  test(`PyTorch import (tagger): ${fx.name}`, () => {
    const path = join(FIXTURES, DIR, file.replace(/\.json$/, '.safetensors'));
    const { model } = importTorchTagger(decodeSafetensors(new Uint8Array(readFileSync(path)), { source: path }), fx.config, { source: path });
    const batch = batchOf(fx);
    const { steps: T, size: B } = batch;
    const K = fx.config.output.classes!.length;
    model.eval();
    const emissions = model.forwardArena({ words: batch.words, steps: T, lengths: batch.lengths, chars: batch.chars });
    assertClose(batchFirst(model.backend.arena.view(emissions.offset, T * B * K), T, B, K), fx.emissions.data, `${fx.name} imported emissions`);
    assert.deepEqual(model.decodeArena(emissions, batch.lengths, { confidence: false }).paths, fx.paths, `${fx.name}: imported model's paths`);
  });
}
