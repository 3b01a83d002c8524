// One attention step over a time-major memory: scores of a query against
// each valid step's key, a softmax over those steps (padded steps get weight
// exactly 0), and the weighted sum of the steps' values.

import { sexp } from './math';

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/**
 * For each row b < B, with len = lengths[b] (int32, 1 ≤ len ≤ S):
 *   weights[b, s] = softmax_s(query[b] · keys[s, b])  for s < len, 0 for s ≥ len
 *   context[b]    = Σ_{s<len} weights[b, s] · values[s, b]
 * query [B, H], keys [S, B, H], values [S, B, D], weights [B, S], context [B, D]
 * (byte pointers). Dots and the context accumulate in float32, the softmax's
 * sum in float64.
 */
export function attendForward(B: i32, S: i32, H: i32, D: i32, query: usize, keys: usize, values: usize,
                              lengths: usize, weights: usize, context: usize): void {
  const keyStep = <usize>B * (<usize>H << 2); // bytes from keys[s, b] to keys[s + 1, b]
  const valueStep = <usize>B * (<usize>D << 2);
  for (let b = 0; b < B; b++) {
    const len = load<i32>(lengths + (<usize>b << 2));
    const q = query + <usize>b * (<usize>H << 2);
    const w = weights + <usize>b * (<usize>S << 2);
    // Scores and their maximum.
    let mx: f32 = -Infinity;
    let k = keys + <usize>b * (<usize>H << 2);
    for (let s = 0; s < len; s++) {
      let acc = f32x4.splat(0);
      let j = 0;
      for (; j + 4 <= H; j += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(at(q, j)), v128.load(at(k, j))));
      let score = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
      for (; j < H; j++) score += load<f32>(at(q, j)) * load<f32>(at(k, j));
      store<f32>(at(w, s), score);
      mx = max<f32>(mx, score);
      k += keyStep;
    }
    // Masked softmax.
    let sum: f64 = 0;
    for (let s = 0; s < len; s++) {
      const e = sexp(load<f32>(at(w, s)) - mx);
      store<f32>(at(w, s), e);
      sum += <f64>e;
    }
    const inv = <f32>(1.0 / sum);
    for (let s = 0; s < len; s++) store<f32>(at(w, s), load<f32>(at(w, s)) * inv);
    if (len < S) memory.fill(at(w, len), 0, <usize>(S - len) << 2);
    // Context: 16 features at a time in registers over the valid steps, then 4, then one.
    const c = context + <usize>b * (<usize>D << 2);
    const v0 = values + <usize>b * (<usize>D << 2);
    let j = 0;
    for (; j + 16 <= D; j += 16) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let v = at(v0, j);
      for (let s = 0; s < len; s++) {
        const a = v128.load32_splat(at(w, s));
        a0 = f32x4.add(a0, f32x4.mul(a, v128.load(v)));
        a1 = f32x4.add(a1, f32x4.mul(a, v128.load(v, 16)));
        a2 = f32x4.add(a2, f32x4.mul(a, v128.load(v, 32)));
        a3 = f32x4.add(a3, f32x4.mul(a, v128.load(v, 48)));
        v += valueStep;
      }
      v128.store(at(c, j), a0);
      v128.store(at(c, j), a1, 16);
      v128.store(at(c, j), a2, 32);
      v128.store(at(c, j), a3, 48);
    }
    for (; j + 4 <= D; j += 4) {
      let a0 = f32x4.splat(0);
      let v = at(v0, j);
      for (let s = 0; s < len; s++) {
        a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(at(w, s)), v128.load(v)));
        v += valueStep;
      }
      v128.store(at(c, j), a0);
    }
    for (; j < D; j++) {
      let a: f32 = 0;
      let v = at(v0, j);
      for (let s = 0; s < len; s++) {
        a += load<f32>(at(w, s)) * load<f32>(v);
        v += valueStep;
      }
      store<f32>(at(c, j), a);
    }
  }
}
