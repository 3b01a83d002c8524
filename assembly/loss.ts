// Softmax cross-entropy over rows of logits [rows, classes].

import { vexp, sexp, logf64 } from './math';

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/**
 * probs = softmax(logits) per row; when dlogits != 0, dlogits = (probs -
 * onehot(target)) · scale, zero on rows whose target is < 0. Returns the
 * summed loss (log Z - logit[target]) of counted rows, in float64.
 */
export function softmaxCrossEntropy(rows: i32, classes: i32, logits: usize, targets: usize,
                                    probs: usize, dlogits: usize, scale: f32): f64 {
  let loss: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const l = logits + <usize>r * (<usize>classes << 2);
    const p = probs + <usize>r * (<usize>classes << 2);
    // Row maximum.
    let vmax = f32x4.splat(-Infinity);
    let j = 0;
    for (; j + 4 <= classes; j += 4) vmax = f32x4.max(vmax, v128.load(at(l, j)));
    let mx = max<f32>(max<f32>(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)),
                      max<f32>(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)));
    for (; j < classes; j++) mx = max<f32>(mx, load<f32>(at(l, j)));
    // e = exp(l - max) into probs, summed in float64.
    const vm = f32x4.splat(mx);
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    j = 0;
    for (; j + 4 <= classes; j += 4) {
      const e = vexp(f32x4.sub(v128.load(at(l, j)), vm));
      v128.store(at(p, j), e);
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(e));
      hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 2, 3)));
    }
    const both = f64x2.add(lo, hi);
    let z = f64x2.extract_lane(both, 0) + f64x2.extract_lane(both, 1);
    for (; j < classes; j++) {
      const e = sexp(load<f32>(at(l, j)) - mx);
      store<f32>(at(p, j), e);
      z += <f64>e;
    }
    const inv = <f32>(1.0 / z);
    const vinv = f32x4.splat(inv);
    j = 0;
    for (; j + 4 <= classes; j += 4) v128.store(at(p, j), f32x4.mul(v128.load(at(p, j)), vinv));
    for (; j < classes; j++) store<f32>(at(p, j), load<f32>(at(p, j)) * inv);
    const target = load<i32>(targets + (<usize>r << 2));
    if (target >= 0) loss += logf64(z) + <f64>mx - <f64>load<f32>(at(l, target));
    if (dlogits == 0) continue;
    const d = dlogits + <usize>r * (<usize>classes << 2);
    if (target < 0) {
      memory.fill(d, 0, <usize>classes << 2);
      continue;
    }
    const vs = f32x4.splat(scale);
    j = 0;
    for (; j + 4 <= classes; j += 4) v128.store(at(d, j), f32x4.mul(v128.load(at(p, j)), vs));
    for (; j < classes; j++) store<f32>(at(d, j), load<f32>(at(p, j)) * scale);
    store<f32>(at(d, target), (load<f32>(at(p, target)) - 1.0) * scale);
  }
  return loss;
}
