// Part-of-speech tagging on the Brown corpus: the two baselines a neural
// tagger must beat, trained on the training files and scored on the test
// files (examples/brown.ts: simplified tags, split 80/10/10 by file within
// each genre). Accuracy is per token, overall and on unknown words (words
// not in the training files).
//
// Run: npx tsc -p tsconfig.json && node dist/examples/brown-baselines.js

import { BigramHmm, MostFrequentTagger, tagAccuracy, type TagAccuracy, type TokensAndTags, type BaselineTagger } from '../src/index.js';
import { brownSplits, type BrownFile, type Split } from './brown.js';

const started = performance.now();
const splits = brownSplits();
const sentencesOf = (files: BrownFile[]): TokensAndTags[] => files.flatMap((f) => f.sentences);
const data = { train: sentencesOf(splits.train), validation: sentencesOf(splits.validation), test: sentencesOf(splits.test) };
const tokens = (s: TokensAndTags[]): number => s.reduce((n, x) => n + x.tokens.length, 0);

const tags = new Set<string>();
for (const s of Object.values(data)) for (const x of s) for (const t of x.tags) tags.add(t);
const trainTags = new Set(data.train.flatMap((x) => x.tags));
const loaded = (performance.now() - started) / 1000;
console.log(`Brown corpus: ${tags.size} tags after simplification (${trainTags.size} in training), loaded in ${loaded.toFixed(1)} s`);
for (const split of ['train', 'validation', 'test'] as Split[]) {
  const genres = new Set(splits[split].map((f) => f.genre)).size;
  const [files, sentences] = [String(splits[split].length).padStart(3), String(data[split].length).padStart(6)];
  console.log(`  ${split.padEnd(10)} ${files} files (${genres} genres)  ${sentences} sentences  ${String(tokens(data[split])).padStart(8)} tokens`);
}

const vocabulary = new Set(data.train.flatMap((x) => x.tokens));
const known = (w: string): boolean => vocabulary.has(w);
const percent = (x: number): string => `${(100 * x).toFixed(2)} %`;

function report(name: string, build: () => BaselineTagger): void {
  const t0 = performance.now();
  const tagger = build();
  const t1 = performance.now();
  const rows: [string, TagAccuracy][] = (['validation', 'test'] as const).map((s) => [s, tagAccuracy(tagger, data[s], known)]);
  const t2 = performance.now();
  for (const [split, a] of rows) {
    console.log(
      `  ${name.padEnd(36)} ${split.padEnd(10)} accuracy ${percent(a.accuracy)}  unknown words ${percent(a.unknownAccuracy)} ` +
      `(${a.unknownTotal} tokens, ${percent(a.unknownTotal / a.total)})`,
    );
  }
  console.log(`  ${''.padEnd(36)} trained in ${((t1 - t0) / 1000).toFixed(2)} s, tagged both splits in ${((t2 - t1) / 1000).toFixed(2)} s`);
}

console.log('Baselines (per-token accuracy):');
report('most frequent tag, unknown → nn', () => new MostFrequentTagger(data.train, { unknown: 'overall' }));
report('most frequent tag, unknown by shape', () => new MostFrequentTagger(data.train, { unknown: 'shape' }));
report('bigram HMM, Viterbi', () => new BigramHmm(data.train));
console.log(`Total ${((performance.now() - started) / 1000).toFixed(1)} s`);
