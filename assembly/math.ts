// Fast, accurate exp, sigmoid and tanh for f32x4 vectors, with scalar twins
// that perform exactly the same operations (so a value gets the same bits
// whether it sits in a SIMD lane or in a tail). Error: about 2e-7 relative
// over the whole range (Cephes polynomials), well inside float32 parity.

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
// exp(x) is clamped to x in [-87, 88] so 2^n stays a normal float.
const EXP_MIN: f32 = -87.0;
const EXP_MAX: f32 = 88.0;
// Adding 1.5·2^23 rounds a float of magnitude < 2^22 to an integer (to
// nearest, ties to even, as `nearest` does), and leaves that integer in the
// low mantissa bits: n and its i32 come from one add and one subtract.
const ROUND: f32 = 12582912.0;
const ROUND_BITS: i32 = 0x4b400000;
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;
// tanh(x) = x + x·z·Q(z), z = x², for |x| < 0.625.
const TANH_SMALL: f32 = 0.625;
const Q0: f32 = -5.70498872745e-3;
const Q1: f32 = 2.06390887954e-2;
const Q2: f32 = -5.37397155531e-2;
const Q3: f32 = 1.33314422036e-1;
const Q4: f32 = -3.33332819422e-1;

// @ts-ignore: decorator
@inline function splat(x: f32): v128 {
  return f32x4.splat(x);
}

// @ts-ignore: decorator
@inline export function vexp(v: v128): v128 {
  // pmax/pmin (x86 maxps/minps) keep a NaN x as NaN, like max/min, and
  // compile to one instruction each instead of V8's NaN-exact sequences.
  const x = f32x4.pmin(f32x4.pmax(v, splat(EXP_MIN)), splat(EXP_MAX));
  const t = f32x4.add(f32x4.mul(x, splat(LOG2E)), splat(ROUND));
  const n = f32x4.sub(t, splat(ROUND));
  let r = f32x4.sub(x, f32x4.mul(n, splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, splat(LN2_LO)));
  const z = f32x4.mul(r, r);
  let y = f32x4.add(f32x4.mul(splat(P0), r), splat(P1));
  y = f32x4.add(f32x4.mul(y, r), splat(P2));
  y = f32x4.add(f32x4.mul(y, r), splat(P3));
  y = f32x4.add(f32x4.mul(y, r), splat(P4));
  y = f32x4.add(f32x4.mul(y, r), splat(P5));
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), r), splat(1.0));
  const scale = i32x4.shl(i32x4.add(i32x4.sub(t, i32x4.splat(ROUND_BITS)), i32x4.splat(127)), 23);
  return f32x4.mul(y, scale);
}

// @ts-ignore: decorator
@inline export function sexp(v: f32): f32 {
  const x = min<f32>(max<f32>(v, EXP_MIN), EXP_MAX);
  const t = x * LOG2E + ROUND;
  const n = t - ROUND;
  let r = x - n * LN2_HI;
  r = r - n * LN2_LO;
  const z = r * r;
  let y = P0 * r + P1;
  y = y * r + P2;
  y = y * r + P3;
  y = y * r + P4;
  y = y * r + P5;
  y = y * z + r + 1.0;
  const scale = reinterpret<f32>((reinterpret<i32>(t) - ROUND_BITS + 127) << 23);
  return y * scale;
}

/** 1 / (1 + e^-x) */
// @ts-ignore: decorator
@inline export function vsigmoid(x: v128): v128 {
  return f32x4.div(splat(1.0), f32x4.add(splat(1.0), vexp(f32x4.neg(x))));
}

// @ts-ignore: decorator
@inline export function ssigmoid(x: f32): f32 {
  return 1.0 / (1.0 + sexp(-x));
}

// @ts-ignore: decorator
@inline export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  // Large |x|: 1 - 2 / (e^{2|x|} + 1), sign restored.
  const e = vexp(f32x4.add(ax, ax));
  const big = f32x4.sub(splat(1.0), f32x4.div(splat(2.0), f32x4.add(e, splat(1.0))));
  const signed = v128.or(big, v128.and(x, i32x4.splat(<i32>0x80000000)));
  // Small |x|: odd polynomial, accurate near 0 where the formula above cancels.
  const z = f32x4.mul(x, x);
  let q = f32x4.add(f32x4.mul(splat(Q0), z), splat(Q1));
  q = f32x4.add(f32x4.mul(q, z), splat(Q2));
  q = f32x4.add(f32x4.mul(q, z), splat(Q3));
  q = f32x4.add(f32x4.mul(q, z), splat(Q4));
  const small = f32x4.add(x, f32x4.mul(f32x4.mul(x, z), q));
  return v128.bitselect(small, signed, f32x4.lt(ax, splat(TANH_SMALL)));
}

// @ts-ignore: decorator
@inline export function stanh(x: f32): f32 {
  const ax = abs<f32>(x);
  if (ax < TANH_SMALL) {
    const z = x * x;
    let q = Q0 * z + Q1;
    q = q * z + Q2;
    q = q * z + Q3;
    q = q * z + Q4;
    return x + x * z * q;
  }
  const e = sexp(ax + ax);
  const big: f32 = 1.0 - 2.0 / (e + 1.0);
  return reinterpret<f32>(reinterpret<u32>(big) | (reinterpret<u32>(x) & 0x80000000));
}

/** exp for JS-side checks of the approximation (and of its scalar twin). */
export function expf32(x: f32): f32 {
  return sexp(x);
}

export function sigmoidf32(x: f32): f32 {
  return ssigmoid(x);
}

export function tanhf32(x: f32): f32 {
  return stanh(x);
}

/** Vector versions on `n` floats at `src` into `dst` (byte pointers), to test lanes against tails. */
export function sigmoidVec(n: i32, src: usize, dst: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), vsigmoid(v128.load(src + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), ssigmoid(load<f32>(src + (<usize>i << 2))));
}

export function tanhVec(n: i32, src: usize, dst: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), vtanh(v128.load(src + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), stanh(load<f32>(src + (<usize>i << 2))));
}

/**
 * Natural log in float64 for x > 0 (finite), without lookup tables (the
 * module keeps no static data): x = m·2^e with m in [√½, √2), then
 * log m = 2·atanh(s), s = (m-1)/(m+1), |s| < 0.172, by its odd series.
 */
export function logf64(x: f64): f64 {
  let bits = reinterpret<u64>(x);
  let e = <i32>(bits >> 52) - 1023;
  if (e == -1023) {
    // Subnormal: scale into the normal range first.
    bits = reinterpret<u64>(x * 18014398509481984.0); // 2^54
    e = <i32>(bits >> 52) - 1023 - 54;
  }
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000); // [1, 2)
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e += 1;
  }
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  // atanh(s)/s = 1 + s²/3 + s⁴/5 + … ; 11 terms reach 1e-18 at |s| = 0.172.
  let p = 1.0 / 21;
  p = p * s2 + 1.0 / 19;
  p = p * s2 + 1.0 / 17;
  p = p * s2 + 1.0 / 15;
  p = p * s2 + 1.0 / 13;
  p = p * s2 + 1.0 / 11;
  p = p * s2 + 1.0 / 9;
  p = p * s2 + 1.0 / 7;
  p = p * s2 + 1.0 / 5;
  p = p * s2 + 1.0 / 3;
  p = p * s2 + 1.0;
  return <f64>e * 0.6931471805599453 + 2 * s * p;
}
