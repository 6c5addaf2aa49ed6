// C printf("%g") for doubles, byte for byte as glibc prints it (precision 6, round-half-even on the exact binary
// value, trailing zeros removed, exponent with at least two digits, "nan"/"-nan"/"inf"/"-inf"/"-0").
//
// Contract: formatG(v) returns what `printf("%g", v)` prints; writeG(b, p, v) writes the same bytes at b[p].

import { writeUint32 } from './output-writer.js';

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
const POW10 = Array.from({ length: 2 * POW10_BIAS + 1 }, (_, i) => Number(`1e${i - POW10_BIAS}`));

/** Writes printf("%g", v) as ASCII at b[p] (room for 13 bytes); returns the new position. */
export function writeG(b: Uint8Array, p: number, v: number): number {
  if (v !== v) {
    // The sign bit of a NaN decides between "nan" and "-nan".
    f64[0] = v;
    if (u32[1]! >>> 31) b[p++] = 45;
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
    f64[0] = v;
    let k = 5 - Math.floor((((u32[1]! >>> 20) & 0x7ff) - 1023) * 0.3010299956639812);
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
  if (d === 1_000_000) {
    d = 100_000;
    exp++;
  }
  if (exp < -4 || exp >= 6) {
    while (d % 10 === 0) d /= 10;
    if (d < 10) b[p++] = 48 + d;
    else {
      // The digits one byte further, then the first one moved before the point.
      p = writeUint32(b, p + 1, d);
      const first = p - digitCount(d);
      b[first - 1] = b[first]!;
      b[first] = 46;
    }
    b[p++] = 101;
    b[p++] = exp < 0 ? 45 : 43;
    const ae = exp < 0 ? -exp : exp;
    if (ae < 10) {
      b[p++] = 48;
      b[p++] = 48 + ae;
      return p;
    }
    return writeUint32(b, p, ae);
  }
  // Fixed notation with 6 significant digits: d * 10^(exp - 5), trailing fraction zeros removed.
  let fracDigits = 5 - exp;
  while (fracDigits > 0 && d % 10 === 0) {
    d /= 10;
    fracDigits--;
  }
  if (fracDigits === 0) return writeUint32(b, p, d);
  const n = digitCount(d);
  if (n > fracDigits) {
    const end = writeUint32(b, p, d);
    for (let i = end; i > end - fracDigits; i--) b[i] = b[i - 1]!;
    b[end - fracDigits] = 46;
    return end + 1;
  }
  b[p++] = 48;
  b[p++] = 46;
  for (let i = n; i < fracDigits; i++) b[p++] = 48;
  return writeUint32(b, p, d);
}

function digitCount(d: number): number {
  return d < 10 ? 1 : d < 100 ? 2 : d < 1000 ? 3 : d < 10000 ? 4 : d < 100000 ? 5 : 6;
}

const scratch = Buffer.alloc(16);

export function formatG(v: number): string {
  return scratch.toString('latin1', 0, writeG(scratch, 0, v));
}
