// C printf("%g") for doubles, byte for byte as glibc prints it (precision 6, round-half-even on the exact binary
// value, trailing zeros removed, exponent with at least two digits, "nan"/"-nan"/"inf"/"-inf"/"-0").
//
// Contract: formatG(v) returns what `printf("%g", v)` prints; writeG(b, p, v) writes the same bytes at b[p].

import { DIGIT_PAIRS, writeUint32 } from './output-writer.js';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/**
 * Sign of (x - d * 10^k), exactly, for a finite x > 0 and integers d, k: x is M * 2^E with an integer mantissa M,
 * so both sides become integers.
 */
function compareExact(x: number, d: number, k: number): number {
  f64[0] = x;
  const hi = u32[1]!;
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(u32[0]!);
  let e = -1074;
  if (biased !== 0) {
    m |= 1n << 52n;
    e = biased - 1075;
  }
  let left = e >= 0 ? m << BigInt(e) : m;
  let right = BigInt(d);
  if (e < 0) right <<= BigInt(-e);
  if (k >= 0) right *= 10n ** BigInt(k);
  else left *= 10n ** BigInt(-k);
  return left > right ? 1 : left < right ? -1 : 0;
}

/** Digits 0..9 of the 7 significant digits "d.dddddd" at the start of s, as one integer. */
function sevenDigits(s: string): number {
  let n = s.charCodeAt(0) - 48;
  for (let i = 2; i < 8; i++) n = n * 10 + s.charCodeAt(i) - 48;
  return n;
}

/** |v| (finite, non-zero) correctly rounded to 6 significant digits (half to even): d in [1e5, 1e6], v ~ d * 10^(exp-5). */
function roundExact(abs: number): { d: number; exp: number } {
  // toExponential rounds the exact binary value (ECMAScript spec), so 7 digits r7 are exact to half a unit. Rounding
  // r7 to 6 digits gives the right answer unless its 7th digit is 5: then the 6-digit tie point is r7 itself and
  // the exact value decides (above, below, or on it: then half to even, as glibc).
  const s = abs.toExponential(6);
  const exp = Number(s.slice(9));
  const d7 = sevenDigits(s);
  const seventh = d7 % 10;
  let d = (d7 - seventh) / 10;
  if (seventh > 5) d++;
  else if (seventh === 5) {
    // Parsing r7 back gives the double nearest to it: a different double tells the side at once.
    const back = Number(s);
    const side = back !== abs ? (abs > back ? 1 : -1) : compareExact(abs, d7, exp - 6);
    if (side > 0 || (side === 0 && d % 2 === 1)) d++;
  }
  return { d, exp };
}

// 10^-40 .. 10^40, each the double nearest to the power (parsed, so correctly rounded).
const POW10_BIAS = 40;
const POW10 = Float64Array.from({ length: 2 * POW10_BIAS + 1 }, (_, i) => Number(`1e${i - POW10_BIAS}`));

/** The value writeGScratch() prints (a double handed over in a typed array is not boxed, an argument is). */
const scratchValue = new Float64Array(1);
const scratchWords = new Uint32Array(scratchValue.buffer);

/** Writes printf("%g", v) as ASCII at b[p] (room for 13 bytes); returns the new position. */
export function writeG(b: Uint8Array, p: number, v: number): number {
  scratchValue[0] = v;
  return writeGScratch(b, p);
}

/** writeG() of the float of `size` bits (32 or 64) at byte `off` of `dv`. */
export function writeGFrom(b: Uint8Array, p: number, dv: DataView, off: number, size: number, le: boolean): number {
  scratchValue[0] = size === 64 ? dv.getFloat64(off, le) : dv.getFloat32(off, le);
  return writeGScratch(b, p);
}

function writeGScratch(b: Uint8Array, p: number): number {
  let v = scratchValue[0]!;
  if (v !== v) {
    // The sign bit of a NaN decides between "nan" and "-nan".
    if (scratchWords[1]! >>> 31) b[p++] = 45;
    b[p] = 110;
    b[p + 1] = 97;
    b[p + 2] = 110;
    return p + 3;
  }
  if (v < 0 || (v === 0 && 1 / v < 0)) {
    b[p++] = 45;
    v = -v;
  }
  if (v === 0) {
    b[p] = 48;
    return p + 1;
  }
  if (v === Infinity) {
    b[p] = 105;
    b[p + 1] = 110;
    b[p + 2] = 102;
    return p + 3;
  }
  let exp: number;
  let d: number;
  // Fast path: y = v * 10^k scaled into [1e5, 1e6) carries a relative error below 1e-15 (two roundings), so
  // rounding y to an integer is exact unless y lies within 1e-6 of a half: then (rarely) the exact path decides.
  if (v > 1e-30 && v < 1e30) {
    // The binary exponent gives the decimal one to within one (fixed by the loops below).
    // The exponent bits of the value in the scratch (its sign does not matter): no store to read them back.
    let k = 5 - Math.floor((((scratchWords[1]! >>> 20) & 0x7ff) - 1023) * 0.3010299956639812);
    let y = v * POW10[k + POW10_BIAS]!;
    while (y < 1e5) y = v * POW10[++k + POW10_BIAS]!;
    while (y >= 1e6) y = v * POW10[--k + POW10_BIAS]!;
    const floor = Math.floor(y);
    const frac = y - floor;
    if (frac > 0.5 + 1e-6 || frac < 0.5 - 1e-6) {
      d = frac > 0.5 ? floor + 1 : floor;
      exp = 5 - k;
    } else ({ d, exp } = roundExact(v));
  } else ({ d, exp } = roundExact(v));
  // As an int32 from here on: the divisions below are then integer ones.
  d |= 0;
  if (d === 1_000_000) {
    d = 100_000;
    exp++;
  }
  // The 6 digits of d (d >= 10^5) with the point after the first (exponent form) or after exp + 1 of them
  // (fixed, exp >= 0), or after `0.` and -exp - 1 zeros (fixed, exp < 0); then the fraction's trailing zeros and
  // a bare point dropped.
  const sci = exp < -4 || exp >= 6;
  const intDigits = sci ? 1 : exp + 1;
  if (intDigits <= 0) {
    b[p++] = 48;
    b[p++] = 46;
    for (let i = intDigits; i < 0; i++) b[p++] = 48;
  }
  const hi = (d / 10000) | 0;
  const rest = d - hi * 10000;
  const mid = (rest / 100) | 0;
  const lo = (rest - mid * 100) << 1;
  b[p] = DIGIT_PAIRS[2 * hi]!;
  b[p + 1] = DIGIT_PAIRS[2 * hi + 1]!;
  b[p + 2] = DIGIT_PAIRS[2 * mid]!;
  b[p + 3] = DIGIT_PAIRS[2 * mid + 1]!;
  b[p + 4] = DIGIT_PAIRS[lo]!;
  b[p + 5] = DIGIT_PAIRS[lo + 1]!;
  if (intDigits === 6) return p + 6;
  let end = p + 6;
  if (intDigits > 0) {
    for (let i = end; i > p + intDigits; i--) b[i] = b[i - 1]!;
    b[p + intDigits] = 46;
    end++;
  }
  while (b[end - 1] === 48) end--;
  if (b[end - 1] === 46) end--;
  if (!sci) return end;
  b[end++] = 101;
  b[end++] = exp < 0 ? 45 : 43;
  const ae = exp < 0 ? -exp : exp;
  if (ae < 10) {
    b[end] = 48;
    b[end + 1] = 48 + ae;
    return end + 2;
  }
  return writeUint32(b, end, ae);
}

const scratch = Buffer.alloc(16);

export function formatG(v: number): string {
  return scratch.toString('latin1', 0, writeG(scratch, 0, v));
}
