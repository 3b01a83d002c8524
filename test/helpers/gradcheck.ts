// A gradient check by central differences, shared by the layer tests.

import assert from 'node:assert/strict';

/**
 * Compares an analytic gradient with (f(v+ε) − f(v−ε)) / 2ε for each element
 * of `values` (restored after), f read by `loss()`: each difference must be
 * at most atol + rtol·|numeric|.
 */
export function checkGradient(
  what: string, values: Float64Array | Float32Array, analytic: ArrayLike<number>, loss: () => number,
  tolerance: { atol: number; rtol: number }, eps = 1e-6,
): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    values[i] = v + eps;
    const up = loss();
    values[i] = v - eps;
    const down = loss();
    values[i] = v;
    const numeric = (up - down) / (2 * eps);
    assert.ok(
      Math.abs(numeric - analytic[i]!) <= tolerance.atol + tolerance.rtol * Math.abs(numeric),
      `${what}[${i}]: analytic ${analytic[i]}, numeric ${numeric}`,
    );
  }
}
