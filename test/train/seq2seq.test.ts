// Training seq2seq models through the Trainer, as every model trains: a
// reversal task an attention model learns, a one-to-many task where the
// input vector fixes the text, and a checkpoint that resumes exactly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Rng, SEQ2SEQ_DEFAULTS, Seq2SeqModel, Trainer, completeSeq2SeqConfig, encodePairs, evaluateSeq2Seq, parseJsonl, transduce, type Seq2SeqConfig,
} from '../../src/index.js';
import { tempDir } from '../helpers/cli.js';

/** Strings over a–f, 3–7 letters, and their reversals. */
function reversals(n: number, seed: number): string {
  const rng = new Rng(seed);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = Array.from({ length: 3 + rng.int(5) }, () => 'abcdef'[rng.int(6)]).join('');
    lines.push(JSON.stringify({ x, y: [...x].reverse().join('') }));
  }
  return lines.join('\n');
}

// A learning test (what the defaults train to), not a numeric one: on the plain TypeScript reference backend it takes
// a minute of CI's time and checks nothing the parity and gradient tests do not.
const learning = { skip: process.env.LSTMKIT_BACKEND === 'reference' ? 'a learning test; the reference backend is checked by the numeric tests' : false };

test('an attention model learns to reverse strings with the defaults (a config naming only input, encoder and mode)', learning, async (ctx) => {
  const config: Seq2SeqConfig = {
    input: { type: 'tokens' }, rnn: { cell: 'lstm', hiddenSize: 32, bidirectional: true }, output: { mode: 'seq2seq' },
  };
  const records = parseJsonl(reversals(2000, 1), 'train.jsonl');
  const complete = completeSeq2SeqConfig(config, records, 'train.jsonl');
  const model = new Seq2SeqModel(complete, { seed: 1 });
  const train = encodePairs(records, complete, { file: 'train.jsonl', requireTarget: true });
  const test_ = encodePairs(parseJsonl(reversals(200, 2), 'test.jsonl'), complete, { file: 'test.jsonl', requireTarget: true });
  // The training the config's defaults fill in (Adam 0.002, batches of 64, clip 5, label smoothing 0.1, 10 epochs).
  assert.deepEqual(complete.train, SEQ2SEQ_DEFAULTS.train);
  assert.equal(complete.input.type === 'tokens' && complete.input.embeddingDim, 64);
  const trainer = new Trainer(model, complete.train!);
  const history = await trainer.fit(train);
  const metrics = evaluateSeq2Seq(model, test_);
  ctx.diagnostic(`loss ${history[0]!.loss.toFixed(3)} → ${history.at(-1)!.loss.toFixed(3)}; held-out CER ${metrics.tokenErrorRate!.toFixed(4)}, `
    + `sequence error ${metrics.sequenceErrorRate!.toFixed(4)}`);
  assert.ok(metrics.sequenceErrorRate! < 0.1, `sequence error rate ${metrics.sequenceErrorRate}`);
  // A beam must not lose what greedy finds: a confident model's poor alternatives end early, and they must
  // not fill the beam's list and stop it before the best hypothesis ends (fairseq's stopping rule does).
  const beam = evaluateSeq2Seq(model, test_, { beam: 3 });
  assert.ok(beam.sequenceErrorRate! <= metrics.sequenceErrorRate!, `beam 3: ${beam.sequenceErrorRate} vs greedy ${metrics.sequenceErrorRate}`);
  const [out] = transduce(model, encodePairs(parseJsonl('{"x": "abcfed"}'), complete, { file: 'q', requireTarget: false }), { beam: 3, attention: true });
  assert.equal(out!.y, 'defcba');
  // Reversal attends to the mirrored position: output token t looks hardest at source step n − 1 − t.
  const peaks = out!.attention!.slice(0, 6).map((row) => row.indexOf(Math.max(...row)));
  assert.deepEqual(peaks, [5, 4, 3, 2, 1, 0]);
});

test('one-to-many: the decoder writes the text its input vector fixes', async () => {
  const words = ['cat', 'horse', 'ox', 'zebra'];
  const rng = new Rng(3);
  const lines = Array.from({ length: 400 }, () => {
    const k = rng.int(4);
    return JSON.stringify({ x: words.map((_, j) => (j === k ? 1 : 0) + 0.1 * rng.normal()), y: words[k] });
  });
  const records = parseJsonl(lines.join('\n'), 'v.jsonl');
  const config = completeSeq2SeqConfig({ input: { type: 'vector', size: 4 }, output: { mode: 'seq2seq', hiddenSize: 24 } }, records, 'v.jsonl');
  const model = new Seq2SeqModel(config, { seed: 2 });
  await new Trainer(model, { epochs: 15, batchSize: 16, optimizer: { name: 'adam', lr: 0.01 }, seed: 2 })
    .fit(encodePairs(records, config, { file: 'v.jsonl', requireTarget: true }));
  const queries = words.map((_, k) => JSON.stringify({ x: words.map((_, j) => (j === k ? 1 : 0)) }));
  const out = transduce(model, encodePairs(parseJsonl(queries.join('\n')), config, { file: 'q', requireTarget: false }));
  assert.deepEqual(out.map((o) => o.y), words);
});

test('a seq2seq checkpoint resumes exactly: the same losses as the run that was not stopped', async () => {
  const config = completeSeq2SeqConfig(
    { input: { type: 'tokens', embeddingDim: 8 }, rnn: { cell: 'gru', hiddenSize: 12 }, output: { mode: 'seq2seq', attention: 'additive' } },
    parseJsonl(reversals(200, 4)), 'r.jsonl',
  );
  const examples = encodePairs(parseJsonl(reversals(200, 4)), config, { file: 'r.jsonl', requireTarget: true });
  const train = { epochs: 3, batchSize: 16, labelSmoothing: 0.1, clipNorm: 1, seed: 5 };
  const whole = await new Trainer(new Seq2SeqModel(config, { seed: 5 }), train).fit(examples);
  const dir = tempDir();
  await new Trainer(new Seq2SeqModel(config, { seed: 5 }), { ...train, epochs: 2 }).fit(examples, { checkpoint: { dir } });
  const resumed = await Trainer.resume(`${dir}/last.lstmkit`, train, { seed: 5 });
  assert.ok(resumed.model instanceof Seq2SeqModel);
  const history = await resumed.fit(examples);
  assert.deepEqual(history.map((h) => h.loss), whole.map((h) => h.loss));
});
