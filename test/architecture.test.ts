// The map of src/ as the code keeps it: each folder imports only the folders
// below it, so a layer knows kernels but never the trainer, the trainer
// knows models but never the command line, and nothing imports the command
// line or the server. Type-only and on-demand imports count too. The
// playground takes everything from the public API ('lstmkit').

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from './helpers/fixtures.js';

/** Bottom to top. A file may import its own folder and the folders before it. */
const LAYERS = ['core', 'kernels', 'data', 'layers', 'model', 'io', 'train', 'tasks', 'report', 'server', 'cli'];
/** The public faces (src/index.ts, src/internals.ts) sit above the library and below the command line and server. */
const FACES = ['index.ts', 'internals.ts'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports: static imports and exports, and import(). */
function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\sfrom\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) found.push(m[1] ?? m[2]!);
  return found;
}

/** The layer of a path under src/: its first folder, or the face it is. */
function layerOf(path: string): string {
  const parts = relative(join(ROOT, 'src'), path).split(/[\\/]/);
  return parts.length === 1 ? 'face' : parts[0]!;
}

function rank(layer: string): number {
  if (layer === 'face') return LAYERS.indexOf('report') + 0.5;
  return LAYERS.indexOf(layer);
}

test('src/: every import points down the map (core, kernels, data, layers, model, io, train, tasks, report, server, cli)', () => {
  const wrong: string[] = [];
  for (const file of files(join(ROOT, 'src'))) {
    const from = layerOf(file);
    assert.ok(from === 'face' ? FACES.includes(relative(join(ROOT, 'src'), file)) : LAYERS.includes(from), `${relative(ROOT, file)} is in no layer of the map`);
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const to = layerOf(resolve(dirname(file), spec));
      if (to === from) continue;
      if (!(rank(to) < rank(from))) wrong.push(`${relative(ROOT, file)} (${from}) imports ${spec} (${to})`);
    }
  }
  assert.deepEqual(wrong, [], `imports that run up the map:\n${wrong.join('\n')}`);
});

test('the playground imports lstmkit by its name, never its files', () => {
  const wrong: string[] = [];
  for (const file of files(join(ROOT, 'web', 'src'))) {
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('lstmkit/') || spec.includes('/src/')) wrong.push(`${relative(ROOT, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('the map test sees imports of every kind', () => {
  const source = "import { a } from './x.js';\nimport type { B } from '../y.js';\nexport { c } from './z.js';\nconst m = await import('../w.js');";
  assert.deepEqual(specifiers(source), ['./x.js', '../y.js', './z.js', '../w.js']);
});
