// BiLSTM taggers on the Brown corpus (examples/brown.ts: simplified tags,
// split 80/10/10 by file within each genre), beside the baselines of
// examples/brown-baselines.ts:
//
//   pos  part-of-speech tagging: word embedding ⊕ character BiLSTM → BiLSTM → softmax,
//        per-token accuracy on the test files, and on unknown words (not in the training files);
//   np   proper-noun phrases as named spans: BIO tags from runs of proper-noun tags (every
//        simplified tag beginning "np": np, np$, nps, nps$, np+bez, …; adjacent ones are one
//        span), the same network with a softmax head and with a CRF; span F1 (conlleval's
//        rules) and how many invalid BIO transitions (O → I-NP) each one outputs.
//
// Words are looked up in lower case (their characters keep their case), and
// words seen once in training share the unknown word's vector, so that vector
// is trained. Each model trains with Adam, halving the rate after an epoch
// without a better validation score, keeps the weights of its best epoch,
// and is scored once on the test files. Runs go to runs/brown/<name>/ (best.lstmkit
// there is a model file `lstmkit eval`, `lstmkit tag` and `lstmkit serve` read; test.conll
// holds the test files in CoNLL columns).
//
// Run: npm run example:brown                  (baselines, then every tagger)
//      node dist/examples/brown-tagger.js --task pos|np|all --epochs N --quick

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  completeTaggerConfig, encodeTagged, SpanAccumulator, tagExamples, TaggerModel, Trainer,
  type TaggedExample, type TaggedSentence, type TaggerConfig,
} from '../src/index.js';
import { brownSplits, type BrownFile } from './brown.js';

const { values: args } = parseArgs({
  options: {
    task: { type: 'string', default: 'all' },
    epochs: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
const quick = args.quick === true;
const splits = brownSplits();
const sentencesOf = (files: BrownFile[], n: number): TaggedSentence[] => {
  const all = files.flatMap((f) => f.sentences);
  return quick ? all.slice(0, n) : all;
};
const data = { train: sentencesOf(splits.train, 3000), validation: sentencesOf(splits.validation, 500), test: sentencesOf(splits.test, 500) };
const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;

/** Proper-noun phrases as BIO spans of type NP: a run of tokens whose tag begins "np" is one span. */
function npSpans(s: TaggedSentence): TaggedSentence {
  const proper = s.tags.map((t) => t.startsWith('np'));
  return { ...s, tags: proper.map((p, i) => (!p ? 'O' : i > 0 && proper[i - 1] ? 'I-NP' : 'B-NP')) };
}

function configOf(crf: boolean, epochs: number): TaggerConfig {
  return {
    input: { type: 'tokens', embeddingDim: 100, minCount: 2, lowercase: true, chars: { embeddingDim: 25, hiddenSize: 25 } },
    rnn: { cell: 'lstm', hiddenSize: 128, bidirectional: true },
    output: { mode: 'step', type: 'classification', crf, dropout: 0.3 },
    train: {
      epochs, batchSize: 32, optimizer: { name: 'adam', lr: 0.002 }, clipNorm: 5, bucketByLength: true,
      schedule: { name: 'plateau', factor: 0.5, patience: 0 }, monitor: 'accuracy', earlyStopping: { patience: 3 }, seed: 1,
    },
  };
}

interface Result {
  name: string;
  parameters: number;
  epochs: number;
  bestEpoch: number;
  minutes: number;
  sentencesPerSecond: number;
  accuracy: number;
  unknownAccuracy?: number;
  unknownTokens?: number;
  f1?: number;
  precision?: number;
  recall?: number;
  invalidTransitions?: number;
  invalidSentences?: number;
  tagSeconds: number;
}

async function train(name: string, config: TaggerConfig, sets: { train: TaggedSentence[]; validation: TaggedSentence[]; test: TaggedSentence[] }): Promise<{
  model: TaggerModel; test: TaggedExample[]; result: Omit<Result, 'accuracy' | 'tagSeconds'>;
}> {
  // The tag set is the corpus's (a few rare compound tags occur only outside the training files; never predicted, they count as errors).
  const tags = [...new Set([...sets.train, ...sets.validation, ...sets.test].flatMap((s) => s.tags))].sort();
  const complete = completeTaggerConfig({ ...config, output: { ...config.output, classes: tags } }, sets.train, 'brown train');
  const model = new TaggerModel(complete, { seed: 1 });
  const encode = (s: TaggedSentence[], file: string): TaggedExample[] => encodeTagged(s, complete, { file, requireTags: true });
  const trainer = new Trainer(model, complete.train);
  const dir = join('runs', 'brown', name);
  mkdirSync(dir, { recursive: true });
  // The test files as CoNLL, for `lstmkit eval runs/brown/<name> --data runs/brown/<name>/test.conll`.
  writeFileSync(join(dir, 'test.conll'), sets.test.map((s) => s.tokens.map((w, i) => `${w} ${s.tags[i]}`).join('\n')).join('\n\n') + '\n');
  const { name: backend, threads } = model.backend;
  console.log(`\n${name}: ${model.parameterCount.toLocaleString('en-US')} parameters, ${complete.output.classes!.length} tags, ` +
    `${complete.input.vocabulary!.length.toLocaleString('en-US')} words; ${backend} backend, ${threads} thread(s)`);
  const started = performance.now();
  let trainSeconds = 0;
  const history = await trainer.fit(encode(sets.train, 'train'), {
    validation: encode(sets.validation, 'validation'),
    checkpoint: { dir },
    callbacks: {
      onEpochEnd: (log) => {
        trainSeconds += sets.train.length / log.sequencesPerSecond;
        const v = log.val!;
        const f1 = v.f1 !== undefined ? `  val F1 ${pct(v.f1)}` : '';
        console.log(`epoch ${String(log.epoch).padStart(2)}/${log.epochs}  loss ${log.loss.toFixed(4)}  val acc ${pct(v.accuracy!)}${f1}  ` +
          `${Math.round(log.sequencesPerSecond)} sentences/s  ${log.seconds.toFixed(0)} s${log.best ? '  *best' : ''}`);
      },
    },
  });
  return {
    model, test: encode(sets.test, 'test'),
    result: {
      name, parameters: model.parameterCount, epochs: history.length, bestEpoch: trainer.bestEpoch,
      minutes: (performance.now() - started) / 60000, sentencesPerSecond: (sets.train.length * history.length) / trainSeconds,
    },
  };
}

async function pos(epochs: number): Promise<Result> {
  const { model, test, result } = await train('pos', configOf(false, epochs), data);
  const known = new Set(data.train.flatMap((s) => s.tokens));
  const t0 = performance.now();
  const tagged = tagExamples(model, test, { batchSize: 64 });
  const tagSeconds = (performance.now() - t0) / 1000;
  let [correct, total, unknownCorrect, unknown] = [0, 0, 0, 0];
  tagged.forEach((t, i) => {
    const s = data.test[i]!;
    s.tags.forEach((gold, j) => {
      const ok = t.tags[j] === gold ? 1 : 0;
      correct += ok;
      total++;
      if (!known.has(s.tokens[j]!)) [unknownCorrect, unknown] = [unknownCorrect + ok, unknown + 1];
    });
  });
  const r = { ...result, accuracy: correct / total, unknownAccuracy: unknownCorrect / unknown, unknownTokens: unknown, tagSeconds };
  console.log(`test (best epoch ${r.bestEpoch}): accuracy ${pct(r.accuracy)}, unknown words ${pct(r.unknownAccuracy)} (${unknown} tokens); ` +
    `tagged ${total} tokens in ${tagSeconds.toFixed(1)} s`);
  return r;
}

async function np(crf: boolean, epochs: number): Promise<Result> {
  const sets = { train: data.train.map(npSpans), validation: data.validation.map(npSpans), test: data.test.map(npSpans) };
  const config = configOf(crf, epochs);
  config.train!.monitor = 'f1';
  const { model, test, result } = await train(crf ? 'np-crf' : 'np-softmax', config, sets);
  const t0 = performance.now();
  const tagged = tagExamples(model, test, { batchSize: 64 });
  const tagSeconds = (performance.now() - t0) / 1000;
  const spans = new SpanAccumulator('BIO');
  tagged.forEach((t, i) => spans.add(sets.test[i]!.tags, t.tags));
  const m = spans.result();
  const r = {
    ...result, accuracy: m.accuracy, f1: m.f1, precision: m.precision, recall: m.recall,
    invalidTransitions: m.invalidTransitions, invalidSentences: m.invalidSentences, tagSeconds,
  };
  console.log(`test (best epoch ${r.bestEpoch}): span F1 ${pct(m.f1)} (precision ${pct(m.precision)}, recall ${pct(m.recall)}, ${m.support} spans); ` +
    `${m.invalidTransitions} invalid BIO transitions in ${m.invalidSentences} sentences`);
  return r;
}

const task = args.task!;
if (!['pos', 'np', 'all'].includes(task)) throw new Error(`--task must be pos, np or all, got ${task}`);
const results: Result[] = [];
if (task === 'pos' || task === 'all') results.push(await pos(Number(args.epochs ?? (quick ? 2 : 14))));
if (task === 'np' || task === 'all') {
  for (const crf of [false, true]) results.push(await np(crf, Number(args.epochs ?? (quick ? 2 : 6))));
}
console.log('\nmodel           test                                     epochs (best)  training');
for (const r of results) {
  const score = r.f1 !== undefined
    ? `span F1 ${pct(r.f1)}, ${r.invalidTransitions} invalid`.padEnd(40)
    : `accuracy ${pct(r.accuracy)}, unknown ${pct(r.unknownAccuracy!)}`.padEnd(40);
  const epochs = `${r.epochs} (${r.bestEpoch})`.padEnd(14);
  console.log(`${r.name.padEnd(15)} ${score} ${epochs} ${r.minutes.toFixed(1)} min, ${Math.round(r.sentencesPerSecond)} sentences/s`);
}
writeFileSync(join('runs', 'brown', `results${task === 'all' ? '' : `-${task}`}.json`), JSON.stringify({ quick, results }, null, 2) + '\n');
