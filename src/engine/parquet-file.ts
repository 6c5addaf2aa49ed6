// A Parquet file written straight from the import's typed column chunks: PLAIN values, no compression, one data
// page per chunk per column, a row group per ROW_GROUP_ROWS rows. DuckDB reads it through read_parquet (its
// reader is built in), so the big tables skip DuckDB's insert path (50–60 ns per value whatever the route): here
// a chunk's page is its bytes, copied.
//
// Contract: `ParquetFile.create(path, columns)`; `chunk(cols, n)` writes the first n rows of each column
// (`Column` of column-chunk.ts: values at their row, a validity bit per row; the caller clears them after);
// `close()` writes the last row group and the footer. Every column is OPTIONAL: int32 → INT32, int64 → INT64,
// uint64 → INT64 (UINT_64), double → DOUBLE, boolean → BOOLEAN, varchar → BYTE_ARRAY (UTF8). Integer columns
// carry min/max statistics per row group, so that DuckDB skips row groups outside a filter's range.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { Column, ColumnSpec } from './column-chunk.js';

/** Rows per row group: DuckDB scans a file's row groups in parallel, and skips them by their statistics. */
const ROW_GROUP_ROWS = 122_880;

// Thrift compact protocol field types.
const T_I32 = 5;
const T_I64 = 6;
const T_BINARY = 8;
const T_LIST = 9;
const T_STRUCT = 12;

/** A Thrift compact protocol writer (the encoding of Parquet's footer and page headers). */
class Thrift {
  private buf = Buffer.allocUnsafe(256);
  len = 0;
  private last: number[] = [];
  private fid = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  varint(v: number): void {
    // Non-negative, below 2^53.
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }
  zigzag(v: number): void {
    this.varint(v >= 0 ? 2 * v : -2 * v - 1);
  }
  private field(id: number, type: number): void {
    const d = id - this.fid;
    if (d > 0 && d <= 15) this.byte((d << 4) | type);
    else {
      this.byte(type);
      this.zigzag(id);
    }
    this.fid = id;
  }
  i32(id: number, v: number): void {
    this.field(id, T_I32);
    this.zigzag(v);
  }
  i64(id: number, v: number): void {
    this.field(id, T_I64);
    this.zigzag(v);
  }
  binary(id: number, b: Uint8Array): void {
    this.field(id, T_BINARY);
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  string(id: number, s: string): void {
    this.binary(id, Buffer.from(s, 'utf8'));
  }
  /** A list field header: `n` elements of `type` follow (structs: begin()/end() each). */
  list(id: number, type: number, n: number): void {
    this.field(id, T_LIST);
    if (n < 15) this.byte((n << 4) | type);
    else {
      this.byte(0xf0 | type);
      this.varint(n);
    }
  }
  /** A list element's value (no field header). */
  elemI32(v: number): void {
    this.zigzag(v);
  }
  elemString(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  /** A struct: as a field (id) or as a list element (id undefined). */
  begin(id?: number): void {
    if (id !== undefined) this.field(id, T_STRUCT);
    this.last.push(this.fid);
    this.fid = 0;
  }
  end(): void {
    this.byte(0);
    this.fid = this.last.pop()!;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }
  reset(): void {
    this.len = 0;
    this.fid = 0;
    this.last = [];
  }
}

// Parquet's enums.
const TYPE: Record<ColumnSpec['kind'], number> = { boolean: 0, int32: 1, int64: 2, uint64: 2, double: 5, varchar: 6 };
const PLAIN = 0;
const RLE = 3;
const UTF8 = 0;
const UINT_64 = 14;
const OPTIONAL = 1;

interface ChunkMeta {
  offset: number;
  size: number;
  values: number;
  min: bigint | undefined;
  max: bigint | undefined;
  nulls: number;
}

/** Statistics' 8- or 4-byte little-endian value. */
function statBytes(kind: ColumnSpec['kind'], v: bigint): Buffer {
  const b = Buffer.alloc(kind === 'int32' ? 4 : 8);
  if (kind === 'int32') b.writeInt32LE(Number(v));
  else if (kind === 'uint64') b.writeBigUInt64LE(v);
  else b.writeBigInt64LE(v);
  return b;
}

const SIGN = 0x80000000 | 0;
/** What minMax32() and minMax64() found: min and max, or the min's high and low words, then the max's. */
const EXTREMES = new Int32Array(4);

// The statistics' loops, apart from the bigints made of their results: in one function with them, the loop's
// optimized code (compiled on its first, long call) left it at each call's end for want of feedback on the
// bigint calls. Every compare is of int32s (small integers to V8).

/** Min and max of the valid rows of an int32 column into EXTREMES[0..1]; false when no row is valid. */
function minMax32(v32: Int32Array, valid: Uint32Array, n: number, all: boolean): boolean {
  let lo = 0x7fffffff;
  let hi = -0x80000000;
  let any = false;
  for (let r = 0; r < n; r++) {
    if (!all && (valid[r >>> 5]! & (1 << (r & 31))) === 0) continue;
    const v = v32[r]! | 0;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    any = true;
  }
  EXTREMES[0] = lo;
  EXTREMES[1] = hi;
  return any;
}

/**
 * Min and max of the valid rows of a 64-bit column (two int32 words per row), compared exactly (a double rounds
 * times in ns), in one pass: the extreme high word, and the extreme low word among the rows of that high word.
 * Words compared unsigned are flipped by their sign bit first (the low words; with `flip`, the high words of
 * uint64), which orders them as signed int32s. Into EXTREMES (flipped words); false when no row is valid.
 */
function minMax64(v32: Int32Array, valid: Uint32Array, n: number, all: boolean, flip: number): boolean {
  let hMin = 0x7fffffff;
  let hMax = -0x80000000;
  let lMin = 0x7fffffff;
  let lMax = -0x80000000;
  let any = false;
  for (let r = 0; r < n; r++) {
    if (!all && (valid[r >>> 5]! & (1 << (r & 31))) === 0) continue;
    const h = v32[2 * r + 1]! ^ flip;
    const l = v32[2 * r]! ^ SIGN;
    if (h <= hMin) {
      if (h < hMin) {
        hMin = h;
        lMin = l;
      } else if (l < lMin) lMin = l;
    }
    if (h >= hMax) {
      if (h > hMax) {
        hMax = h;
        lMax = l;
      } else if (l > lMax) lMax = l;
    }
    any = true;
  }
  EXTREMES[0] = hMin;
  EXTREMES[1] = lMin;
  EXTREMES[2] = hMax;
  EXTREMES[3] = lMax;
  return any;
}

// Run on a row each way before the first long call (a few times: V8 gives a function its feedback only after
// some calls): optimized mid-loop (OSR) on that call, the code after the loop had no feedback yet and left the
// optimized code at the end of every call (5 to 15 ns per value).
for (let i = 0; i < 32; i++) {
  minMax32(new Int32Array(1), new Uint32Array([1, 0]), 1, (i & 1) === 0);
  minMax64(new Int32Array(2), new Uint32Array([1, 0]), 1, (i & 1) === 0, SIGN);
}

export class ParquetFile {
  private pos = 0;
  private readonly pages: Buffer[][];
  private readonly meta: ChunkMeta[];
  private readonly groups: { rows: number; chunks: ChunkMeta[] }[] = [];
  private groupRows = 0;
  private rows = 0;
  private readonly header = new Thrift();
  private strBuf = Buffer.allocUnsafe(1 << 16);

  private constructor(
    private readonly fd: number,
    readonly columns: readonly ColumnSpec[],
  ) {
    this.pages = columns.map(() => []);
    this.meta = columns.map(() => ({ offset: 0, size: 0, values: 0, min: undefined, max: undefined, nulls: 0 }));
    this.write(Buffer.from('PAR1'));
  }

  static create(path: string, columns: readonly ColumnSpec[]): ParquetFile {
    return new ParquetFile(openSync(path, 'w'), columns);
  }

  private write(b: Uint8Array): void {
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
    this.pos += b.length;
  }

  /** The first n rows of each column, as one data page per column. */
  chunk(cols: readonly Column[], n: number): void {
    if (n === 0) return;
    for (let i = 0; i < cols.length; i++) this.page(i, cols[i]!, n);
    this.groupRows += n;
    this.rows += n;
    if (this.groupRows >= ROW_GROUP_ROWS) this.flushGroup();
  }

  private page(i: number, c: Column, n: number): void {
    const kind = this.columns[i]!.kind;
    const words = Math.ceil(n / 32);
    let valid = 0;
    for (let w = 0; w < words; w++) {
      let x = c.valid[w]!;
      if (w === words - 1 && (n & 31) !== 0) x &= (1 << (n & 31)) - 1;
      x -= (x >>> 1) & 0x55555555;
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      valid += (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
    }
    // Definition levels (bit width 1), the RLE/bit-packed hybrid: one run when all rows agree, else the
    // validity bits themselves as bit-packed groups of 8 (LSB first, as the validity words hold them).
    let levels: Buffer;
    if (valid === n || valid === 0) {
      levels = Buffer.allocUnsafe(4 + 6);
      let len = 0;
      let v = n * 2;
      while (v >= 0x80) {
        levels[4 + len++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      levels[4 + len++] = v;
      levels[4 + len++] = valid === n ? 1 : 0;
      levels.writeUInt32LE(len, 0);
      levels = levels.subarray(0, 4 + len);
    } else {
      const groups = Math.ceil(n / 8);
      levels = Buffer.allocUnsafe(4 + 5 + groups);
      let len = 0;
      let v = groups * 2 + 1;
      while (v >= 0x80) {
        levels[4 + len++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      levels[4 + len++] = v;
      levels.set(new Uint8Array(c.valid.buffer, 0, groups), 4 + len);
      len += groups;
      levels.writeUInt32LE(len, 0);
      levels = levels.subarray(0, 4 + len);
    }
    // Values: the valid rows' only.
    let values: Uint8Array;
    const m = this.meta[i]!;
    if (kind === 'varchar') {
      const strs = c.strings!;
      let at = 0;
      for (let r = 0; r < n; r++) {
        const s = strs[r];
        if (s === undefined) continue;
        if (at + 4 + 3 * s.length > this.strBuf.length) {
          const b = Buffer.allocUnsafe(Math.max(2 * this.strBuf.length, at + 4 + 3 * s.length));
          this.strBuf.copy(b, 0, 0, at);
          this.strBuf = b;
        }
        const len = this.strBuf.write(s, at + 4, 'utf8');
        this.strBuf.writeUInt32LE(len, at);
        at += 4 + len;
      }
      values = this.strBuf.subarray(0, at);
    } else if (kind === 'boolean') {
      const out = new Uint8Array(Math.ceil(valid / 8));
      let k = 0;
      for (let r = 0; r < n; r++) {
        if ((c.valid[r >>> 5]! & (1 << (r & 31))) === 0) continue;
        if (c.u8[r]) out[k >>> 3]! |= 1 << (k & 7);
        k++;
      }
      values = out;
    } else {
      const width = kind === 'int32' ? 4 : 8;
      if (valid === n) values = new Uint8Array(c.bytes, 0, n * width);
      else {
        const out = new Int32Array((valid * width) / 4);
        const step = width / 4;
        let k = 0;
        for (let r = 0; r < n; r++) {
          if ((c.valid[r >>> 5]! & (1 << (r & 31))) === 0) continue;
          out[k++] = c.i32[step * r]!;
          if (step === 2) out[k++] = c.i32[2 * r + 1]!;
        }
        values = new Uint8Array(out.buffer);
      }
      if (kind !== 'double' && valid > 0) this.stats(m, kind, c, n, valid === n);
    }
    const size = levels.length + values.length;
    const h = this.header;
    h.reset();
    h.i32(1, 0); // DATA_PAGE
    h.i32(2, size);
    h.i32(3, size);
    h.begin(5);
    h.i32(1, n);
    h.i32(2, PLAIN);
    h.i32(3, RLE);
    h.i32(4, RLE);
    h.end();
    h.byte(0);
    const page = Buffer.allocUnsafe(h.len + size);
    page.set(h.bytes(), 0);
    page.set(levels, h.len);
    page.set(values, h.len + levels.length);
    this.pages[i]!.push(page);
    m.size += page.length;
    m.values += n;
    m.nulls += n - valid;
  }

  /** Min and max of the valid rows of an integer column (`all`: every row is valid, no bit to test), into the
   * chunk's statistics. */
  private stats(m: ChunkMeta, kind: ColumnSpec['kind'], c: Column, n: number, all: boolean): void {
    if (kind === 'int32') {
      if (!minMax32(c.i32, c.valid, n, all)) return;
      const [lo, hi] = [BigInt(EXTREMES[0]!), BigInt(EXTREMES[1]!)];
      if (m.min === undefined || lo < m.min) m.min = lo;
      if (m.max === undefined || hi > m.max) m.max = hi;
      return;
    }
    const flip = kind === 'uint64' ? SIGN : 0;
    if (!minMax64(c.i32, c.valid, n, all, flip)) return;
    const at = (h: number, l: number): bigint => {
      const w = (BigInt((h ^ flip) >>> 0) << 32n) | BigInt((l ^ SIGN) >>> 0);
      return flip !== 0 ? w : BigInt.asIntN(64, w);
    };
    const [mn, mx] = [at(EXTREMES[0]!, EXTREMES[1]!), at(EXTREMES[2]!, EXTREMES[3]!)];
    if (m.min === undefined || mn < m.min) m.min = mn;
    if (m.max === undefined || mx > m.max) m.max = mx;
  }

  private flushGroup(): void {
    if (this.groupRows === 0) return;
    const chunks: ChunkMeta[] = [];
    for (let i = 0; i < this.columns.length; i++) {
      const m = this.meta[i]!;
      m.offset = this.pos;
      for (const p of this.pages[i]!) this.write(p);
      this.pages[i] = [];
      chunks.push({ ...m });
      this.meta[i] = { offset: 0, size: 0, values: 0, min: undefined, max: undefined, nulls: 0 };
    }
    this.groups.push({ rows: this.groupRows, chunks });
    this.groupRows = 0;
  }

  close(): void {
    this.flushGroup();
    const t = new Thrift();
    t.i32(1, 1);
    t.list(2, T_STRUCT, this.columns.length + 1);
    t.begin();
    t.string(4, 'schema');
    t.i32(5, this.columns.length);
    t.end();
    for (const c of this.columns) {
      t.begin();
      t.i32(1, TYPE[c.kind]);
      t.i32(3, OPTIONAL);
      t.string(4, c.name);
      if (c.kind === 'varchar') t.i32(6, UTF8);
      if (c.kind === 'uint64') t.i32(6, UINT_64);
      t.end();
    }
    t.i64(3, this.rows);
    t.list(4, T_STRUCT, this.groups.length);
    for (const g of this.groups) {
      t.begin();
      t.list(1, T_STRUCT, g.chunks.length);
      let total = 0;
      g.chunks.forEach((m, i) => {
        const c = this.columns[i]!;
        total += m.size;
        t.begin();
        t.i64(2, m.offset);
        t.begin(3);
        t.i32(1, TYPE[c.kind]);
        t.list(2, T_I32, 2);
        t.elemI32(PLAIN);
        t.elemI32(RLE);
        t.list(3, T_BINARY, 1);
        t.elemString(c.name);
        t.i32(4, 0); // UNCOMPRESSED
        t.i64(5, m.values);
        t.i64(6, m.size);
        t.i64(7, m.size);
        t.i64(9, m.offset);
        t.begin(12);
        t.i64(3, m.nulls);
        if (m.min !== undefined && m.max !== undefined) {
          t.binary(5, statBytes(c.kind, m.max));
          t.binary(6, statBytes(c.kind, m.min));
        }
        t.end();
        t.end();
        t.end();
      });
      t.i64(2, total);
      t.i64(3, g.rows);
      t.end();
    }
    t.string(6, 'ltt');
    t.byte(0);
    const footer = t.bytes();
    this.write(footer);
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(footer.length, 0);
    tail.write('PAR1', 4);
    this.write(tail);
    closeSync(this.fd);
  }
}
