// Runtime helpers called by the generated decoders (codegen.ts): bit-level integer reads in both CTF byte
// orders, 64-bit assembly (numbers below 2^53, bigints above), clock-value updates with n-bit wrap, NUL
// search and text decoding.
//
// Contract: positions are in bits from the start of the packet buffer `u8`; callers have already checked
// bounds. Little-endian: value bit i is stream bit p+i, stream bit q being bit q%8 (LSB = 0) of byte q/8.
// Big-endian: value bit n-1-i is stream bit p+i, stream bit q being bit 7-q%8 of byte q/8 (CTF 1.8 §4.1.5).

/** POW2[n] = 2^n as a double (exact for n <= 1023). */
export const POW2: readonly number[] = Array.from({ length: 65 }, (_, n) => 2 ** n);

const TWO32 = 4294967296;

/** Thrown by generated code; the message iterator turns it into an LttError naming the file and offset. */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

/** Unsigned little-endian read of 1..32 bits at any bit position. */
export function rdLE32(u8: Uint8Array, p: number, n: number): number {
  const i = p >>> 3;
  const sh = p & 7;
  const nbytes = (sh + n + 7) >>> 3;
  let v = 0;
  let mul = 1;
  for (let k = 0; k < nbytes; k++) {
    v += u8[i + k]! * mul;
    mul *= 256;
  }
  if (sh !== 0) v = Math.floor(v / POW2[sh]!);
  return v % POW2[n]!;
}

/** Unsigned big-endian read of 1..32 bits at any bit position. */
export function rdBE32(u8: Uint8Array, p: number, n: number): number {
  const i = p >>> 3;
  const sh = p & 7;
  const nbytes = (sh + n + 7) >>> 3;
  let v = 0;
  for (let k = 0; k < nbytes; k++) v = v * 256 + u8[i + k]!;
  const tail = nbytes * 8 - sh - n;
  if (tail !== 0) v = Math.floor(v / POW2[tail]!);
  return v % POW2[n]!;
}

/** Combines an unsigned high part and a 32-bit low part: a number when exact, else a bigint. */
export function combU(hi: number, lo: number): number | bigint {
  if (hi < 2097152) return hi * TWO32 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Combines a signed high part and a 32-bit unsigned low part. */
export function combS(hi: number, lo: number): number | bigint {
  if (hi < 2097152 && hi >= -2097152) return hi * TWO32 + lo;
  return BigInt(hi) * 4294967296n + BigInt(lo);
}

/** 33..64-bit read at any position, either byte order. */
export function rd64(u8: Uint8Array, p: number, n: number, le: boolean, signed: boolean): number | bigint {
  let hi: number;
  let lo: number;
  const hn = n - 32;
  if (le) {
    lo = rdLE32(u8, p, 32);
    hi = rdLE32(u8, p + 32, hn);
  } else {
    hi = rdBE32(u8, p, hn);
    lo = rdBE32(u8, p + hn, 32);
  }
  if (signed) {
    if (hi >= POW2[hn - 1]!) hi -= POW2[hn]!;
    return combS(hi, lo);
  }
  return combU(hi, lo);
}

const fscratch = new DataView(new ArrayBuffer(8));

/** IEEE 754 float of 32 or 64 bits at any bit position. */
export function rdFloat(u8: Uint8Array, p: number, n: number, le: boolean): number {
  if (n === 32) {
    fscratch.setUint32(0, le ? rdLE32(u8, p, 32) : rdBE32(u8, p, 32));
    return fscratch.getFloat32(0);
  }
  let hi: number;
  let lo: number;
  if (le) {
    lo = rdLE32(u8, p, 32);
    hi = rdLE32(u8, p + 32, 32);
  } else {
    hi = rdBE32(u8, p, 32);
    lo = rdBE32(u8, p + 32, 32);
  }
  fscratch.setUint32(0, hi);
  fscratch.setUint32(4, lo);
  return fscratch.getFloat64(0);
}

/**
 * New clock value after decoding an n-bit (n < 64) field mapped to the clock: replace the low n bits,
 * adding 2^n first when the new low bits are smaller than the current ones (one wrap assumed). Exact
 * with bigints; callers use the inline number fast path when everything stays below 2^53.
 */
export function clockUpdateBig(cur: number | bigint, v: number | bigint, n: number): number | bigint {
  const c = BigInt(cur);
  const nv = BigInt(v);
  const mask = (1n << BigInt(n)) - 1n;
  let r = c;
  if (nv < (c & mask)) r += mask + 1n;
  r = (r & ~mask) | nv;
  r &= 0xffffffffffffffffn;
  return r <= 9007199254740991n ? Number(r) : r;
}

/** Index of the first NUL byte in u8[from, to), or -1. */
export function findNul(u8: Uint8Array, from: number, to: number): number {
  // Short ranges (text arrays, names): a plain loop beats the native call.
  const near = to - from <= 64 ? to : from + 64;
  for (let i = from; i < near; i++) if (u8[i] === 0) return i;
  if (near === to) return -1;
  const j = u8.indexOf(0, near);
  return j < 0 || j >= to ? -1 : j;
}

// ignoreBOM: a byte-order mark is text like any other to babeltrace2, which prints it.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * babeltrace2 copies a string's bytes to its output as they are, valid UTF-8 or not. A byte that is not part
 * of a valid UTF-8 sequence becomes the lone low surrogate U+DC00 + byte (U+DC80..U+DCFF, which no valid
 * UTF-8 decodes to, as Python's surrogateescape), and the view's output writer turns it back into that byte.
 */
export const ESCAPED_BYTE_BASE = 0xdc00;

function decodeEscaped(u8: Uint8Array, a: number, b: number): string {
  let out = '';
  let run = a;
  let i = a;
  while (i < b) {
    const c = u8[i]!;
    let n = 0;
    if (c < 0x80) n = 1;
    else if (c >= 0xc2 && c <= 0xdf) n = 2;
    else if (c >= 0xe0 && c <= 0xef) n = 3;
    else if (c >= 0xf0 && c <= 0xf4) n = 4;
    let ok = n > 0 && i + n <= b;
    for (let k = 1; ok && k < n; k++) ok = (u8[i + k]! & 0xc0) === 0x80;
    if (ok && n >= 3) {
      // No overlong forms, no UTF-16 surrogates, nothing above U+10FFFF (the WHATWG decoder's rules).
      const c1 = u8[i + 1]!;
      if (c === 0xe0) ok = c1 >= 0xa0;
      else if (c === 0xed) ok = c1 < 0xa0;
      else if (c === 0xf0) ok = c1 >= 0x90;
      else if (c === 0xf4) ok = c1 < 0x90;
    }
    if (ok) {
      i += n;
      continue;
    }
    if (i > run) out += utf8Decoder.decode(u8.subarray(run, i));
    out += String.fromCharCode(ESCAPED_BYTE_BASE + c);
    i++;
    run = i;
  }
  if (b > run) out += utf8Decoder.decode(u8.subarray(run, b));
  return out;
}

function decodeUtf8(u8: Uint8Array, a: number, b: number): string {
  try {
    return utf8Decoder.decode(u8.subarray(a, b));
  } catch {
    return decodeEscaped(u8, a, b);
  }
}

/**
 * Short ASCII strings: String.fromCharCode with the bytes as explicit arguments (one allocation, no
 * intermediate strings; much cheaper than TextDecoder for the short names that fill traces).
 */
const SHORT_MAX = 32;
const shortAscii: Array<(u8: Uint8Array, a: number) => string> = [() => ''];
for (let n = 1; n <= SHORT_MAX; n++) {
  const args = Array.from({ length: n }, (_, i) => `u8[a + ${i}]`).join(', ');
  shortAscii.push(new Function('u8', 'a', `return String.fromCharCode(${args});`) as (u8: Uint8Array, a: number) => string);
}

/** UTF-8 bytes u8[a, b) as a string (invalid bytes escaped, see ESCAPED_BYTE_BASE); short ASCII runs avoid the TextDecoder call. */
export function utf8(u8: Uint8Array, a: number, b: number): string {
  const n = b - a;
  if (n <= SHORT_MAX) {
    for (let i = a; i < b; i++) if (u8[i]! >= 0x80) return decodeUtf8(u8, a, b);
    return shortAscii[n]!(u8, a);
  }
  return decodeUtf8(u8, a, b);
}

/** Text array/sequence value: the bytes u8[a, b) up to the first NUL. */
export function text(u8: Uint8Array, a: number, b: number): string {
  const j = findNul(u8, a, b);
  return utf8(u8, a, j < 0 ? b : j);
}

const wideDecoders = new Map<string, InstanceType<typeof TextDecoder>>();

/** CTF 2 UTF-16/32 strings (rare): decoded with TextDecoder where Node supports the encoding. */
export function wideText(u8: Uint8Array, a: number, b: number, encoding: string): string {
  if (encoding === 'utf32le' || encoding === 'utf32be') {
    const le = encoding === 'utf32le';
    let s = '';
    for (let i = a; i + 4 <= b; i += 4) {
      const cp = le
        ? u8[i]! | (u8[i + 1]! << 8) | (u8[i + 2]! << 16) | (u8[i + 3]! << 24)
        : (u8[i]! << 24) | (u8[i + 1]! << 16) | (u8[i + 2]! << 8) | u8[i + 3]!;
      if (cp === 0) break;
      s += String.fromCodePoint(cp >>> 0);
    }
    return s;
  }
  const label = encoding === 'utf16be' ? 'utf-16be' : 'utf-16le';
  let d = wideDecoders.get(label);
  if (!d) {
    d = new TextDecoder(label);
    wideDecoders.set(label, d);
  }
  const s = d.decode(u8.subarray(a, b));
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}
