// Simple pointwise kernels and reductions over float32 buffers (byte pointers,
// counts in elements). A SIMD body of 4 lanes, then a scalar tail.

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** x[r, :cols] += bias[:cols] (+ bias2[:cols] when bias2 != 0), rows ld elements apart. */
export function addBias(rows: i32, cols: i32, x: usize, ld: i32, bias: usize, bias2: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = x + <usize>r * (<usize>ld << 2);
    let j = 0;
    if (bias2 == 0) {
      for (; j + 4 <= cols; j += 4) v128.store(at(row, j), f32x4.add(v128.load(at(row, j)), v128.load(at(bias, j))));
      for (; j < cols; j++) store<f32>(at(row, j), load<f32>(at(row, j)) + load<f32>(at(bias, j)));
    } else {
      // (x + b1) + b2, the order of two separate additions.
      for (; j + 4 <= cols; j += 4) {
        v128.store(at(row, j), f32x4.add(f32x4.add(v128.load(at(row, j)), v128.load(at(bias, j))), v128.load(at(bias2, j))));
      }
      for (; j < cols; j++) store<f32>(at(row, j), load<f32>(at(row, j)) + load<f32>(at(bias, j)) + load<f32>(at(bias2, j)));
    }
  }
}

/**
 * out[j] += Σ_r x[r, j] for j in [c0, c1), and out2[j] += the same sum when
 * out2 != 0: each column summed in float64, rows in order, then added to out
 * in float64 and rounded once (exactly what the reference backend computes).
 * Rows are read in order (contiguously) into `acc`, float64 scratch for
 * c1 - c0 sums (8-byte aligned).
 */
export function sumRows(rows: i32, x: usize, ld: i32, out: usize, out2: usize, c0: i32, c1: i32, acc: usize): void {
  const n = c1 - c0;
  if (n <= 0) return;
  memory.fill(acc, 0, <usize>n << 3);
  const n4 = n & ~3;
  let p = at(x, c0);
  const ldBytes = <usize>ld << 2;
  for (let r = 0; r < rows; r++) {
    let j = 0;
    for (; j < n4; j += 4) {
      const v = v128.load(at(p, j));
      const a = acc + (<usize>j << 3);
      v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(v)));
      v128.store(a, f64x2.add(v128.load(a, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3))), 16);
    }
    for (; j < n; j++) {
      const a = acc + (<usize>j << 3);
      store<f64>(a, load<f64>(a) + <f64>load<f32>(at(p, j)));
    }
    p += ldBytes;
  }
  for (let j = 0; j < n; j++) {
    const sum = load<f64>(acc + (<usize>j << 3));
    const o = at(out, c0 + j);
    store<f32>(o, <f32>(<f64>load<f32>(o) + sum));
    if (out2 != 0) {
      const o2 = at(out2, c0 + j);
      store<f32>(o2, <f32>(<f64>load<f32>(o2) + sum));
    }
  }
}

export function copy(n: i32, src: usize, dst: usize): void {
  memory.copy(dst, src, <usize>n << 2);
}

export function fill(n: i32, dst: usize, value: f32): void {
  if (value == 0 && reinterpret<u32>(value) == 0) {
    memory.fill(dst, 0, <usize>n << 2);
    return;
  }
  const v = f32x4.splat(value);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), v);
  for (; i < n; i++) store<f32>(at(dst, i), value);
}

export function mul(n: i32, a: usize, b: usize, out: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(out, i), f32x4.mul(v128.load(at(a, i)), v128.load(at(b, i))));
  for (; i < n; i++) store<f32>(at(out, i), load<f32>(at(a, i)) * load<f32>(at(b, i)));
}

export function axpy(n: i32, alpha: f32, x: usize, y: usize): void {
  const va = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.add(v128.load(at(y, i)), f32x4.mul(va, v128.load(at(x, i)))));
  for (; i < n; i++) store<f32>(at(y, i), load<f32>(at(y, i)) + alpha * load<f32>(at(x, i)));
}

export function scale(n: i32, x: usize, alpha: f32): void {
  const va = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(x, i), f32x4.mul(v128.load(at(x, i)), va));
  for (; i < n; i++) store<f32>(at(x, i), load<f32>(at(x, i)) * alpha);
}

/** Σ x[i]², squares and sums in float64. */
export function sumSquares(n: i32, x: usize): f64 {
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(at(x, i));
    const a = f64x2.promote_low_f32x4(v);
    const b = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
    lo = f64x2.add(lo, f64x2.mul(a, a));
    hi = f64x2.add(hi, f64x2.mul(b, b));
  }
  const both = f64x2.add(lo, hi);
  let s = f64x2.extract_lane(both, 0) + f64x2.extract_lane(both, 1);
  for (; i < n; i++) {
    const v = <f64>load<f32>(at(x, i));
    s += v * v;
  }
  return s;
}

/** x = clamp(x, -limit, limit); NaN stays NaN. */
export function clamp(n: i32, x: usize, limit: f32): void {
  const hi = f32x4.splat(limit), lo = f32x4.splat(-limit);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(x, i), f32x4.min(f32x4.max(v128.load(at(x, i)), lo), hi));
  for (; i < n; i++) store<f32>(at(x, i), min<f32>(max<f32>(load<f32>(at(x, i)), -limit), limit));
}

/** 1 when every element is finite (exponent bits not all ones), else 0. */
export function allFinite(n: i32, x: usize): i32 {
  const mask = i32x4.splat(0x7f800000);
  let bad = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    bad = v128.or(bad, i32x4.eq(v128.and(v128.load(at(x, i)), mask), mask));
    if ((i & 1023) == 0 && v128.any_true(bad)) return 0;
  }
  if (v128.any_true(bad)) return 0;
  for (; i < n; i++) if ((load<u32>(at(x, i)) & 0x7f800000) == 0x7f800000) return 0;
  return 1;
}
