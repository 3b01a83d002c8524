// Loading PyTorch fixtures and comparing tensors, reporting the largest
// difference per tensor.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

export interface JsonTensor {
  shape: number[];
  data: number[];
}

/** The repository root (tests run from dist/test/..). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

export function loadFixture<T = Record<string, unknown>>(...parts: string[]): T {
  return JSON.parse(readFileSync(join(FIXTURES, ...parts), 'utf8')) as T;
}

export function listFixtures(dir: string): string[] {
  return readdirSync(join(FIXTURES, dir)).filter((f) => f.endsWith('.json')).sort();
}

export interface Diff {
  maxAbs: number;
  maxRel: number;
}

/**
 * Every element within atol + rtol·|expected|; the message names the tensor
 * and its largest differences.
 */
export function assertClose(
  actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-5, atol = 1e-6,
): Diff {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} values, expected ${expected.length}`);
  let maxAbs = 0;
  let maxRel = 0;
  let worst = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const diff = Math.abs(a - e);
    if (!(diff <= atol + rtol * Math.abs(e))) worst = worst < 0 ? i : worst;
    maxAbs = Math.max(maxAbs, diff);
    if (e !== 0) maxRel = Math.max(maxRel, diff / Math.abs(e));
    if (Number.isNaN(a)) maxAbs = Infinity;
  }
  if (worst >= 0) {
    assert.fail(
      `${what}: [${worst}] is ${actual[worst]}, expected ${expected[worst]} ` +
      `(max abs diff ${maxAbs.toExponential(2)}, max rel ${maxRel.toExponential(2)})`,
    );
  }
  return { maxAbs, maxRel };
}
