// Leaf value formatting of babeltrace2 2.0.4's sink.text.pretty (print.c): string escaping, integers in their
// preferred base with its masking rules, and enumeration label lists.
//
// Contract: pure functions over JS values. Strings are JS strings whose code units are the output's characters
// (the decoder's choice of UTF-8 or Latin-1 decoding is kept: the sink writes the line with the same encoding);
// escaping acts on the C0 controls, DEL and \ ' " ? exactly like print_escape_string() with C iscntrl().

import { utf8 } from '../ctf/decode/bits.js';
import type { EnumFieldClass, EnumMapping } from '../ctf/ir/trace-class.js';

const NEEDS_ESCAPE = /[\x00-\x1f\x7f\\'"?]/;

const CONTROL_ESCAPES: string[] = [];
for (let c = 0; c < 0x20; c++) CONTROL_ESCAPES[c] = '\\x' + c.toString(16).padStart(2, '0');
CONTROL_ESCAPES[0] = '\\0';
CONTROL_ESCAPES[7] = '\\a';
CONTROL_ESCAPES[8] = '\\b';
CONTROL_ESCAPES[27] = '\\e';
CONTROL_ESCAPES[12] = '\\f';
CONTROL_ESCAPES[10] = '\\n';
CONTROL_ESCAPES[13] = '\\r';
CONTROL_ESCAPES[9] = '\\t';
CONTROL_ESCAPES[11] = '\\v';

/** `"` + escaped text + `"`; the text stops at its first NUL like a C string. */
export function quoteString(s: string): string {
  const nul = s.indexOf('\0');
  if (nul >= 0) s = s.slice(0, nul);
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c < 0x20) rep = CONTROL_ESCAPES[c];
    else if (c === 0x7f) rep = '\\x7f';
    else if (c === 0x5c) rep = '\\\\';
    else if (c === 0x27) rep = "\\'";
    else if (c === 0x22) rep = '\\"';
    else if (c === 0x3f) rep = '\\?';
    if (rep !== undefined) {
      out += s.slice(start, i) + rep;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/** Bytes of a text array/sequence up to the first NUL, as a string in the sink's output encoding. */
export function bytesToText(bytes: Uint8Array, latin1: boolean): string {
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.length;
  const view = bytes.subarray(0, end);
  if (latin1) return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('latin1');
  return utf8(view, 0, view.length);
}

/** A text array or sequence value as the decoder may give it: string, bytes, or an array of byte numbers. */
export function textValue(v: unknown, latin1: boolean): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return bytesToText(v, latin1);
  if (Array.isArray(v)) {
    const bytes = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) bytes[i] = Number(v[i]) & 0xff;
    return bytesToText(bytes, latin1);
  }
  return '';
}

const TWO_64 = 1n << 64n;

/** Unsigned 64-bit view of an integer value (two's complement for negatives). */
function asU64(v: number | bigint): bigint {
  const b = typeof v === 'bigint' ? v : BigInt(v);
  return b < 0n ? b + TWO_64 : b;
}

/** printf("0x%llX") after masking to `size` rounded up to a nibble when size < 64. */
export function formatHex(v: number | bigint, size: number): string {
  if (typeof v === 'number' && v >= 0) return '0x' + v.toString(16).toUpperCase();
  let u: bigint;
  if (size < 64) {
    const rounded = (size + 3) & ~3;
    u = BigInt.asUintN(rounded, typeof v === 'bigint' ? v : BigInt(v));
  } else {
    u = asU64(v);
  }
  return '0x' + u.toString(16).toUpperCase();
}

/** printf("0%llo"); signed values masked to `size` rounded up to a multiple of 3 when size < 64. */
export function formatOctal(v: number | bigint, size: number, signed: boolean): string {
  if (typeof v === 'number' && v >= 0) return '0' + v.toString(8);
  let u: bigint;
  if (signed && size < 64) {
    const rounded = Math.floor((size - 1) / 3 + 1) * 3;
    u = BigInt.asUintN(rounded, typeof v === 'bigint' ? v : BigInt(v));
  } else {
    u = asU64(v);
  }
  return '0' + u.toString(8);
}

/** "0b" + exactly `size` binary digits of the value's low bits. */
export function formatBinary(v: number | bigint, size: number): string {
  const u = BigInt.asUintN(size, typeof v === 'bigint' ? v : BigInt(v));
  return '0b' + u.toString(2).padStart(size, '0');
}

export function formatInteger(v: number | bigint, base: number, size: number, signed: boolean): string {
  switch (base) {
    case 16:
      return formatHex(v, size);
    case 8:
      return formatOctal(v, size, signed);
    case 2:
      return formatBinary(v, size);
    default:
      return typeof v === 'number' ? String(v) : v.toString();
  }
}

/** Labels of the mappings whose ranges contain v, in mapping order (2.0.4 list format), quoted and escaped. */
export function enumLabels(mappings: readonly EnumMapping[], v: number | bigint): string {
  const b = typeof v === 'bigint' ? v : BigInt(v);
  let out = '';
  for (const m of mappings) {
    for (const [lo, hi] of m.ranges) {
      if (b >= lo && b <= hi) {
        out += (out === '' ? '' : ', ') + quoteString(m.label);
        break;
      }
    }
  }
  return out === '' ? '<unknown>' : out;
}

/**
 * Per-enum-class formatter with a small cache: most enums see few distinct values, so the label lookup
 * (bigint range tests) runs once per value.
 */
export function makeEnumFormatter(fc: EnumFieldClass, colors: EnumColors | undefined): (v: number | bigint) => string {
  const cache = new Map<number | bigint, string>();
  const c = fc.container;
  return (v) => {
    let s = cache.get(v);
    if (s !== undefined) return s;
    let labels = enumLabels(fc.mappings, v);
    const num = formatInteger(v, c.base, c.size, c.signed);
    if (colors) {
      labels = labels === '<unknown>' ? colors.unknown + labels + colors.reset : colorLabels(fc.mappings, v, colors);
      s = '( ' + labels + ' : container = ' + colors.number + num + colors.reset + ' )';
    } else {
      s = '( ' + labels + ' : container = ' + num + ' )';
    }
    if (cache.size < 4096) cache.set(v, s);
    return s;
  };
}

export interface EnumColors {
  readonly unknown: string;
  readonly label: string;
  readonly number: string;
  readonly reset: string;
}

function colorLabels(mappings: readonly EnumMapping[], v: number | bigint, colors: EnumColors): string {
  const b = typeof v === 'bigint' ? v : BigInt(v);
  const parts: string[] = [];
  for (const m of mappings) {
    if (m.ranges.some(([lo, hi]) => b >= lo && b <= hi)) parts.push(colors.label + quoteString(m.label) + colors.reset);
  }
  return parts.join(', ');
}
