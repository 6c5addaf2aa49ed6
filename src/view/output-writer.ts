// Byte-level output buffer for the sink's text. The generated event printers write literals, numbers and
// (escaped) strings straight into a 1 MiB buffer, which goes out with blocking writes when full: no syscall and
// almost no allocation per event (building each line as a JS string first cost more in GC than the formatting).
//
// Contract: `ensure(n)` before writing at most n bytes with the unchecked writers (`byte`, `lit`, `ascii` of a
// known-short string, `uint9`); `str`/`qstr` check room themselves. `flush()` hands the bytes to the
// flusher; a reader that went away (EPIPE) makes later writes no-ops and sets `closed`. fd 1 is used directly
// (never through process.stdout, which would switch a pipe to non-blocking mode).

import { closeSync, openSync, writeSync } from 'node:fs';

const CAP = 1 << 20;
/** Buffer size; generated printers compare their local position against it. */
export const CAPACITY = CAP;

/** "00" "01" ... "99" as ASCII byte pairs. */
export const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = 48 + Math.floor(i / 10);
  DIGIT_PAIRS[2 * i + 1] = 48 + (i % 10);
}

const HEX_UPPER = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 65, 66, 67, 68, 69, 70];
/** "00" "01" ... "FF" as ASCII byte pairs. */
const HEX_PAIRS = new Uint8Array(512);
for (let i = 0; i < 256; i++) {
  HEX_PAIRS[2 * i] = HEX_UPPER[i >> 4]!;
  HEX_PAIRS[2 * i + 1] = HEX_UPPER[i & 15]!;
}

/** Writes `0x` + a non-negative integer < 2^32 (or the bits of an int32) in upper-case hex at b[p]; returns the new position. */
export function writeHex32(b: Uint8Array, p: number, n: number): number {
  b[p] = 48;
  b[p + 1] = 120;
  p += 2;
  let v = n >>> 0;
  // Digits from the position of the highest set bit.
  const digits = v === 0 ? 1 : (35 - Math.clz32(v)) >>> 2;
  let q = p + digits;
  const end = q;
  while (q - p >= 2) {
    const x = (v & 255) << 1;
    b[--q] = HEX_PAIRS[x + 1]!;
    b[--q] = HEX_PAIRS[x]!;
    v >>>= 8;
  }
  if (q > p) b[--q] = HEX_UPPER[v & 15]!;
  return end;
}

/** Writes `0x` + hi * 2^32 + lo in upper-case hex at b[p] (hi, lo: 32 bits, unsigned or as int32; hi not 0); returns the new position. */
export function writeHex64(b: Uint8Array, p: number, hi: number, lo: number): number {
  let q = writeHex32(b, p, hi) + 8;
  const end = q;
  for (let i = 0; i < 4; i++) {
    const x = (lo & 255) << 1;
    b[--q] = HEX_PAIRS[x + 1]!;
    b[--q] = HEX_PAIRS[x]!;
    lo >>>= 8;
  }
  return end;
}

/**
 * Fast path of qstr(): writes `"s"` at b[p] when s is short printable ASCII needing no escape and returns the new
 * position; returns -1 (nothing meaningful written) otherwise. The caller guarantees 258 bytes of room.
 */
export function writeQuotedPlain(b: Uint8Array, p: number, s: string): number {
  const n = s.length;
  if (n > 256) return -1;
  b[p++] = 34;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x27 || c === 0x3f || c === 0x5c) return -1;
    b[p++] = c;
  }
  b[p++] = 34;
  return p;
}

/** Writes a non-negative integer < 2^32 (or an int32 standing for its bits unsigned) in decimal at b[p]; returns the new position. */
export function writeUint32(b: Uint8Array, p: number, n: number): number {
  let v = n >>> 0;
  if (v < 10) {
    b[p] = 48 + v;
    return p + 1;
  }
  if (v < 100) {
    b[p] = DIGIT_PAIRS[2 * v]!;
    b[p + 1] = DIGIT_PAIRS[2 * v + 1]!;
    return p + 2;
  }
  const digits = v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1000000 ? 6 : v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
  let q = p + digits;
  const end = q;
  // Two digits per division.
  while (v >= 100) {
    const d = (v / 100) >>> 0;
    const r = (v - d * 100) << 1;
    b[--q] = DIGIT_PAIRS[r + 1]!;
    b[--q] = DIGIT_PAIRS[r]!;
    v = d;
  }
  if (v >= 10) {
    b[--q] = DIGIT_PAIRS[2 * v + 1]!;
    b[--q] = DIGIT_PAIRS[2 * v]!;
  } else b[--q] = 48 + v;
  return end;
}
/** Writes exactly 9 digits, zero padded, of n < 1e9 at b[p]; returns the new position. */
export function writeUint9(b: Uint8Array, p: number, n: number): number {
  // Two digits per division (this runs twice per event: timestamp and delta).
  let v = n >>> 0;
  let q = (v / 100) >>> 0;
  let r = (v - q * 100) << 1;
  b[p + 8] = DIGIT_PAIRS[r + 1]!;
  b[p + 7] = DIGIT_PAIRS[r]!;
  v = q;
  q = (v / 100) >>> 0;
  r = (v - q * 100) << 1;
  b[p + 6] = DIGIT_PAIRS[r + 1]!;
  b[p + 5] = DIGIT_PAIRS[r]!;
  v = q;
  q = (v / 100) >>> 0;
  r = (v - q * 100) << 1;
  b[p + 4] = DIGIT_PAIRS[r + 1]!;
  b[p + 3] = DIGIT_PAIRS[r]!;
  v = q;
  q = (v / 100) >>> 0;
  r = (v - q * 100) << 1;
  b[p + 2] = DIGIT_PAIRS[r + 1]!;
  b[p + 1] = DIGIT_PAIRS[r]!;
  b[p] = 48 + (q % 10);
  return p + 9;
}

/**
 * Bytes packed four to a little-endian word, for short texts copied into every line (a timestamp's `HH:MM:SS.`,
 * a packet context's text, enum labels): a store per word costs much less than a store per byte.
 */
export interface PackedBytes {
  readonly words: Uint32Array;
  /** The number of bytes (the last word's unused bytes are zero). */
  readonly length: number;
}

export function packBytes(k: Uint8Array): PackedBytes {
  const words = new Uint32Array((k.length + 3) >>> 2);
  for (let i = 0; i < k.length; i++) words[i >>> 2]! |= k[i]! << (8 * (i & 3));
  return { words, length: k.length };
}

/**
 * Writes `k` at d[q] and returns the position after it. Up to 3 bytes after it are overwritten too (the caller's
 * room covers them; what is written next overwrites them, and bytes past the position are never flushed).
 */
export function writePacked(d: DataView, q: number, k: PackedBytes): number {
  const w = k.words;
  for (let i = 0; i < w.length; i++) d.setUint32(q + 4 * i, w[i]!, true);
  return q + k.length;
}

/** Room kept free so that a whole line's fixed parts never need a check. */
export const LINE_SLACK = 4096;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Escapes of the C0 controls as print_escape_string() writes them. */
const CONTROL_ESCAPES: Uint8Array[] = [];
for (let c = 0; c < 0x20; c++) CONTROL_ESCAPES[c] = Buffer.from('\\x' + c.toString(16).padStart(2, '0'), 'latin1');
for (const [c, e] of [
  [0, '\\0'],
  [7, '\\a'],
  [8, '\\b'],
  [27, '\\e'],
  [12, '\\f'],
  [10, '\\n'],
  [13, '\\r'],
  [9, '\\t'],
  [11, '\\v'],
] as const) {
  CONTROL_ESCAPES[c] = Buffer.from(e, 'latin1');
}

export type Flusher = (data: Uint8Array) => void;

export class OutputWriter {
  buf: Uint8Array = Buffer.allocUnsafe(CAP);
  /** A DataView of `buf` (generated printers write 4-byte literal chunks with it); replaced along with buf. */
  dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  pos = 0;
  readonly latin1: boolean;
  closed = false;

  /**
   * @param reuse the flusher is done with the bytes when it returns (synchronous writes): the buffer is
   *   reused after a flush instead of replaced (no 1 MiB allocation per flush).
   */
  constructor(
    private readonly flusher: Flusher,
    encoding: 'utf8' | 'latin1',
    private readonly onClose: () => void = () => {},
    private readonly reuse = false,
  ) {
    this.latin1 = encoding === 'latin1';
  }

  static stdout(encoding: 'utf8' | 'latin1'): OutputWriter {
    let w: OutputWriter;
    const flusher = (d: Uint8Array): void => {
      if (!writeAllFd(1, d)) w.closed = true;
    };
    w = new OutputWriter(flusher, encoding, undefined, true);
    return w;
  }

  /** -w PATH: create or truncate the file (throws the fs error on failure). */
  static file(path: string, encoding: 'utf8' | 'latin1'): OutputWriter {
    const fd = openSync(path, 'w');
    return new OutputWriter((d) => void writeAllFd(fd, d), encoding, () => closeSync(fd), true);
  }

  /** Collects everything into memory (tests). */
  static memory(encoding: 'utf8' | 'latin1' = 'utf8'): OutputWriter & { text(): string } {
    const parts: Buffer[] = [];
    const w = new OutputWriter((d) => parts.push(Buffer.from(d)), encoding) as OutputWriter & { text(): string };
    w.text = () => {
      w.flush();
      return Buffer.concat(parts).toString(encoding);
    };
    return w;
  }

  private setBuf(b: Uint8Array): void {
    this.buf = b;
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) {
      this.flush();
      // A single huge item (a string of megabytes) gets a buffer of its own size until the next flush.
      if (n > this.buf.length) this.setBuf(Buffer.allocUnsafe(n));
    }
  }

  flush(): void {
    if (this.pos === 0) return;
    const data = this.buf.subarray(0, this.pos);
    // The flusher may keep the bytes (memory mode): a fresh buffer then; synchronous writers reuse this one.
    this.flusher(data);
    if (!this.reuse || this.buf.length !== CAP) this.setBuf(Buffer.allocUnsafe(CAP));
    this.pos = 0;
  }

  /** Writes out the first `n` buffered bytes (complete lines) and keeps the rest buffered. */
  flushPrefix(n: number): void {
    if (n <= 0) return;
    if (n >= this.pos) {
      this.flush();
      return;
    }
    const rest = Buffer.from(this.buf.subarray(n, this.pos));
    this.flusher(this.buf.subarray(0, n));
    this.setBuf(Buffer.allocUnsafe(Math.max(CAP, rest.length)));
    this.buf.set(rest, 0);
    this.pos = rest.length;
  }

  close(): void {
    this.flush();
    this.onClose();
  }

  byte(c: number): void {
    this.buf[this.pos++] = c;
  }

  /** Pre-encoded literal (room ensured by the caller). */
  lit(k: Uint8Array): void {
    const b = this.buf;
    let p = this.pos;
    const n = k.length;
    // A byte loop beats the native set() call for the short literals of a line (names, separators).
    if (n > 48) {
      b.set(k, p);
      this.pos = p + n;
      return;
    }
    for (let i = 0; i < n; i++) b[p++] = k[i]!;
    this.pos = p;
  }

  /** A string known to be ASCII and short (numbers, timestamps). */
  ascii(s: string): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Non-negative integer < 2^53 in decimal. */
  uint(n: number): void {
    if (n < 10) {
      this.buf[this.pos++] = 48 + n;
      return;
    }
    if (n >= 4294967296) {
      this.ascii(String(n));
      return;
    }
    const b = this.buf;
    let digits = 1;
    for (let t = n; t >= 10; t = (t / 10) >>> 0) digits++;
    let p = this.pos + digits;
    this.pos = p;
    let v = n >>> 0;
    do {
      const q = (v / 10) >>> 0;
      b[--p] = 48 + (v - q * 10);
      v = q;
    } while (v > 0);
  }

  /** %llu / %lld of an integer value (number or bigint). */
  int(v: number | bigint): void {
    if (typeof v === 'number') {
      if (v >= 0) this.uint(v);
      else {
        this.buf[this.pos++] = 45;
        this.uint(-v);
      }
    } else this.ascii(v.toString());
  }

  /** Exactly 9 digits, zero padded (the ns part of timestamps). */
  uint9(n: number): void {
    this.pos = writeUint9(this.buf, this.pos, n);
  }

  /** Any string, encoded in the output encoding. */
  str(s: string): void {
    this.ensure(s.length * 3 + LINE_SLACK);
    const b = this.buf;
    let p = this.pos;
    const latin1 = this.latin1;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80 || latin1) b[p++] = c;
      else {
        p = this.utf8(s, i, c, p);
        i = this.lastIndex;
      }
    }
    this.pos = p;
  }

  /** `"` + the string up to its first NUL, escaped like print_escape_string() + `"`. */
  qstr(s: string): void {
    this.ensure(s.length * 4 + LINE_SLACK);
    const b = this.buf;
    let p = this.pos;
    const latin1 = this.latin1;
    b[p++] = 34;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x40 && c < 0x7f) {
        if (c === 0x5c) {
          b[p++] = 92;
          b[p++] = 92;
        } else b[p++] = c;
      } else if (c >= 0x20 && c < 0x40) {
        if (c === 0x22 || c === 0x27 || c === 0x3f) {
          b[p++] = 92;
          b[p++] = c;
        } else b[p++] = c;
      } else if (c < 0x20) {
        if (c === 0) break;
        const e = CONTROL_ESCAPES[c]!;
        for (let j = 0; j < e.length; j++) b[p++] = e[j]!;
      } else if (c === 0x7f) {
        b[p++] = 92;
        b[p++] = 120;
        b[p++] = 55;
        b[p++] = 102;
      } else if (latin1) b[p++] = c;
      else {
        p = this.utf8(s, i, c, p);
        i = this.lastIndex;
      }
    }
    b[p++] = 34;
    this.pos = p;
  }

  private lastIndex = 0;

  /** UTF-8 of the code point at s[i] (c >= 0x80); sets lastIndex to the last code unit consumed. */
  private utf8(s: string, i: number, c: number, p: number): number {
    const b = this.buf;
    this.lastIndex = i;
    if (c < 0x800) {
      b[p++] = 0xc0 | (c >> 6);
      b[p++] = 0x80 | (c & 63);
      return p;
    }
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        b[p++] = 0xf0 | (cp >> 18);
        b[p++] = 0x80 | ((cp >> 12) & 63);
        b[p++] = 0x80 | ((cp >> 6) & 63);
        b[p++] = 0x80 | (cp & 63);
        this.lastIndex = i + 1;
        return p;
      }
    }
    // A lone U+DC80..U+DCFF is a byte the decoder could not read as UTF-8 (bits.ts ESCAPED_BYTE_BASE): that byte,
    // as babeltrace2 copies it. Other lone surrogates become U+FFFD, as Buffer.from would encode them.
    if (c >= 0xdc80 && c < 0xdd00) {
      b[p++] = c & 0xff;
      return p;
    }
    if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
    b[p++] = 0xe0 | (c >> 12);
    b[p++] = 0x80 | ((c >> 6) & 63);
    b[p++] = 0x80 | (c & 63);
    return p;
  }
}

/** Blocking write of all bytes; false when the reader is gone (EPIPE). */
function writeAllFd(fd: number, data: Uint8Array): boolean {
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off, data.length - off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        // A non-blocking pipe inherited from the parent: wait for the reader instead of spinning.
        Atomics.wait(sleeper, 0, 0, 1);
        continue;
      }
      if (code === 'EPIPE') return false;
      throw err;
    }
  }
  return true;
}

/** Unbuffered stderr line writer (warnings are rare and must not wait for the stdout buffer). */
export function writeStderr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // stderr closed: nothing useful to do.
  }
}
