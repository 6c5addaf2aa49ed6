// TSDL lexer: turns the bytes of a CTF 1.8 metadata text into tokens, in one linear pass.
//
// Contract: `lex(bytes)` returns every token of the text followed by one `eof` token, or throws an
// LttError('CTF_METADATA') naming the line of the first lexical error. It follows babeltrace2's
// lexer: `/* */` and `//` comments, whitespace `[ \t\r\n]`, C integer literals (decimal, octal,
// hex, with U/L suffixes; a value beyond 64 bits is an error), string and character literals with C
// escapes (an unknown escape is an error), and identifiers. Keywords come out as `id` tokens: the
// parser decides what they mean, because TSDL also accepts keywords as words of dotted expressions.
// Whether an identifier is a type name depends on declarations, so that is also the parser's job.
// The lexer works on bytes (not a decoded JS string) so that escaped bytes such as `\xc3\xa9` and
// raw UTF-8 both end up as the same decoded string value.

import { LttError } from '../../errors.js';

export type TokenKind = 'id' | 'int' | 'str' | 'char' | 'punct' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Identifier or punctuation text; decoded value for string/char literals; source text for ints. */
  readonly text: string;
  /** Integer literal value (kind 'int'). */
  readonly value?: bigint;
  /** 1-based line of the token's first character. */
  readonly line: number;
}

const MAX_U64 = (1n << 64n) - 1n;
const utf8 = new TextDecoder('utf-8');

function isIdStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function lexError(line: number, what: string): LttError {
  return new LttError('CTF_METADATA', `metadata line ${line}: ${what}`);
}

// babeltrace accepts these suffixes only (a lone `L` is not one of them).
const INT_SUFFIXES = new Set(['u', 'ul', 'ull', 'lu', 'llu']);

export function lex(src: Uint8Array): Token[] {
  const tokens: Token[] = [];
  const n = src.length;
  // One byte-per-char view of the whole text: identifiers and numbers are ASCII, and slicing it is
  // much cheaper than building strings from byte arrays token by token.
  const text = Buffer.from(src.buffer, src.byteOffset, src.byteLength).toString('latin1');
  let i = 0;
  let line = 1;

  while (i < n) {
    const c = src[i]!;
    // Whitespace.
    if (c === 0x20 || c === 0x09 || c === 0x0d) {
      i++;
      continue;
    }
    if (c === 0x0a) {
      line++;
      i++;
      continue;
    }
    // Comments.
    if (c === 0x2f && src[i + 1] === 0x2a) {
      i += 2;
      for (;;) {
        // An unterminated comment just ends the text (babeltrace's flex scanner does the same).
        if (i >= n) break;
        const d = src[i]!;
        if (d === 0x0a) line++;
        else if (d === 0x2a && src[i + 1] === 0x2f) {
          i += 2;
          break;
        }
        i++;
      }
      continue;
    }
    if (c === 0x2f && src[i + 1] === 0x2f) {
      let j = i;
      while (j < n && src[j] !== 0x0a) j++;
      // babeltrace's `//` rule needs the ending newline; without it the `/` is an invalid character.
      if (j >= n) throw lexError(line, 'invalid character "/"');
      i = j;
      continue;
    }
    // Identifiers and keywords.
    if (isIdStart(c)) {
      const start = i;
      i++;
      while (i < n && (isIdStart(src[i]!) || isDigit(src[i]!))) i++;
      // `L"..."` is a wide string literal, which babeltrace refuses.
      if (i - start === 1 && c === 0x4c && (src[i] === 0x22 || src[i] === 0x27)) {
        throw lexError(line, 'wide string literals are not supported');
      }
      tokens.push({ kind: 'id', text: text.slice(start, i), line });
      continue;
    }
    // Integer literals.
    if (isDigit(c)) {
      const start = i;
      let value = 0n;
      // Digits beyond what 64 bits can hold make the value overflow without converting (a huge
      // literal must not cost quadratic BigInt parsing).
      const toBig = (prefix: string, digits: string, maxDigits: number): bigint => {
        const d = digits.replace(/^0+/, '');
        return d.length > maxDigits ? MAX_U64 + 1n : d.length === 0 ? 0n : BigInt(prefix + d);
      };
      if (c === 0x30 && (src[i + 1] === 0x78 || src[i + 1] === 0x58)) {
        i += 2;
        const ds = i;
        while (i < n && isHex(src[i]!)) i++;
        if (i === ds) throw lexError(line, 'invalid hexadecimal constant');
        value = toBig('0x', text.slice(ds, i), 16);
      } else if (c === 0x30) {
        i++;
        const ds = i;
        while (i < n && src[i]! >= 0x30 && src[i]! <= 0x37) i++;
        value = toBig('0o', text.slice(ds, i), 22);
        if (i < n && isDigit(src[i]!)) throw lexError(line, 'invalid octal constant');
      } else {
        while (i < n && isDigit(src[i]!)) i++;
        value = toBig('', text.slice(start, i), 20);
      }
      const ss = i;
      while (i < n && (src[i] === 0x75 || src[i] === 0x55 || src[i] === 0x6c || src[i] === 0x4c)) i++;
      if (i > ss) {
        const raw = text.slice(ss, i);
        const suffix = raw.toLowerCase();
        // Mixed-case `lL` is not a valid suffix in C, nor in babeltrace's list.
        if (!INT_SUFFIXES.has(suffix) || /lL|Ll/.test(raw)) {
          throw lexError(line, `invalid integer suffix "${raw}"`);
        }
      }
      if (i < n && (isIdStart(src[i]!) || isDigit(src[i]!))) {
        throw lexError(line, 'invalid integer constant');
      }
      const lit = text.slice(start, i);
      if (value > MAX_U64) {
        const shown = lit.length > 40 ? `${lit.slice(0, 40)}...` : lit;
        throw lexError(line, `integer constant ${shown} does not fit in 64 bits`);
      }
      tokens.push({ kind: 'int', text: lit, value, line });
      continue;
    }
    // String and character literals.
    if (c === 0x22 || c === 0x27) {
      const delim = c;
      const startLine = line;
      i++;
      // Fast path: plain ASCII without escapes is a slice of the text.
      let j = i;
      while (j < n && src[j] !== delim && src[j] !== 0x5c && src[j]! < 0x80 && src[j] !== 0 && src[j] !== 0x0a) j++;
      if (j < n && src[j] === delim) {
        tokens.push({ kind: delim === 0x22 ? 'str' : 'char', text: text.slice(i, j), line: startLine });
        i = j + 1;
        continue;
      }
      const bytes: number[] = [];
      for (;;) {
        if (i >= n) throw lexError(startLine, 'unterminated string literal');
        const d = src[i]!;
        if (d === delim) {
          i++;
          break;
        }
        if (d === 0) throw lexError(line, 'NUL byte in string literal');
        if (d === 0x0a) line++;
        if (d !== 0x5c) {
          bytes.push(d);
          i++;
          continue;
        }
        // Escape sequence.
        i++;
        if (i >= n) throw lexError(startLine, 'unterminated string literal');
        const e = src[i]!;
        i++;
        switch (e) {
          case 0x61: bytes.push(7); break; // \a
          case 0x62: bytes.push(8); break; // \b
          case 0x66: bytes.push(12); break; // \f
          case 0x6e: bytes.push(10); break; // \n
          case 0x72: bytes.push(13); break; // \r
          case 0x74: bytes.push(9); break; // \t
          case 0x76: bytes.push(11); break; // \v
          case 0x5c: case 0x27: case 0x22: case 0x3f: bytes.push(e); break;
          case 0x78: { // \xHHH: babeltrace takes up to 3 hex digits and keeps the low byte
            const ds = i;
            while (i < n && i - ds < 3 && isHex(src[i]!)) i++;
            if (i === ds) throw lexError(line, 'invalid \\x escape in string literal');
            bytes.push(parseInt(text.slice(ds, i), 16) & 0xff);
            break;
          }
          default:
            if (e >= 0x30 && e <= 0x37) { // \ooo (up to 3 octal digits)
              const ds = i - 1;
              while (i < n && i - ds < 3 && src[i]! >= 0x30 && src[i]! <= 0x37) i++;
              bytes.push(parseInt(text.slice(ds, i), 8) & 0xff);
              break;
            }
            throw lexError(line, `invalid escape sequence "\\${String.fromCharCode(e)}" in string literal`);
        }
      }
      tokens.push({ kind: delim === 0x22 ? 'str' : 'char', text: utf8.decode(new Uint8Array(bytes)), line: startLine });
      continue;
    }
    // Punctuation.
    let p: string | undefined;
    switch (c) {
      case 0x5b: p = '['; break;
      case 0x5d: p = ']'; break;
      case 0x28: p = '('; break;
      case 0x29: p = ')'; break;
      case 0x7b: p = '{'; break;
      case 0x7d: p = '}'; break;
      case 0x2a: p = '*'; break;
      case 0x2b: p = '+'; break;
      case 0x3c: p = '<'; break;
      case 0x3e: p = '>'; break;
      case 0x3b: p = ';'; break;
      case 0x3d: p = '='; break;
      case 0x2c: p = ','; break;
      case 0x2d: p = src[i + 1] === 0x3e ? '->' : '-'; break;
      case 0x3a: p = src[i + 1] === 0x3d ? ':=' : ':'; break;
      case 0x2e: p = src[i + 1] === 0x2e && src[i + 2] === 0x2e ? '...' : '.'; break;
    }
    if (p === undefined) {
      const shown = c >= 0x20 && c < 0x7f ? `"${String.fromCharCode(c)}"` : `0x${c.toString(16).padStart(2, '0')}`;
      throw lexError(line, `invalid character ${shown}`);
    }
    tokens.push({ kind: 'punct', text: p, line });
    i += p.length;
  }
  tokens.push({ kind: 'eof', text: '<end of metadata>', line });
  return tokens;
}
