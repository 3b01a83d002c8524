// Adam / AdamW over a flat float32 buffer, PyTorch's formula:
//   m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²
//   p -= stepSize · m / (sqrt(v) / sqrt(bc2) + eps),  stepSize = lr / bc1

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/**
 * weightDecay with decoupled = 0 adds wd·p to the gradient (Adam's L2);
 * decoupled = 1 scales p by decay = 1 - lr·wd first (AdamW). The caller
 * computes 1 - β1, 1 - β2, decay, stepSize and sqrt(bc2) in float64 and each
 * is rounded to float32 once, as PyTorch passes its scalars.
 */
export function adam(n: i32, param: usize, grad: usize, m: usize, v: usize,
                     beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, eps: f32,
                     weightDecay: f32, decoupled: bool, decay: f32, stepSize: f32, bc2Sqrt: f32): void {
  const vb1 = f32x4.splat(beta1), vb1c = f32x4.splat(oneMinusBeta1);
  const vb2 = f32x4.splat(beta2), vb2c = f32x4.splat(oneMinusBeta2);
  const veps = f32x4.splat(eps), vwd = f32x4.splat(weightDecay), vdecay = f32x4.splat(decay);
  const vstep = f32x4.splat(stepSize), vbc2 = f32x4.splat(bc2Sqrt);
  const l2 = weightDecay != 0 && !decoupled;
  const dec = weightDecay != 0 && decoupled;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let g = v128.load(at(grad, i));
    let w = v128.load(at(param, i));
    if (dec) w = f32x4.mul(w, vdecay);
    if (l2) g = f32x4.add(g, f32x4.mul(vwd, w));
    const mm = f32x4.add(f32x4.mul(vb1, v128.load(at(m, i))), f32x4.mul(vb1c, g));
    const vv = f32x4.add(f32x4.mul(vb2, v128.load(at(v, i))), f32x4.mul(f32x4.mul(vb2c, g), g));
    v128.store(at(m, i), mm);
    v128.store(at(v, i), vv);
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vv), vbc2), veps);
    v128.store(at(param, i), f32x4.sub(w, f32x4.mul(vstep, f32x4.div(mm, denom))));
  }
  for (; i < n; i++) {
    let g = load<f32>(at(grad, i));
    let w = load<f32>(at(param, i));
    if (dec) w = w * decay;
    if (l2) g = g + weightDecay * w;
    const mm = beta1 * load<f32>(at(m, i)) + oneMinusBeta1 * g;
    const vv = beta2 * load<f32>(at(v, i)) + oneMinusBeta2 * g * g;
    store<f32>(at(m, i), mm);
    store<f32>(at(v, i), vv);
    const denom = sqrt<f32>(vv) / bc2Sqrt + eps;
    store<f32>(at(param, i), w - stepSize * (mm / denom));
  }
}
