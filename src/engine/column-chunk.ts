// A chunk of typed columns: rows written into plain arrays (no DuckDB value objects, no BigInt per integer), a
// validity bit per row as DuckDB lays its mask out. What the import's generated writers fill, and what both of
// its outputs take whole: DuckDB's appender (column-appender.ts) and Parquet pages (parquet-file.ts).

export type ColumnKind = 'int32' | 'int64' | 'uint64' | 'double' | 'varchar' | 'boolean';

export interface ColumnSpec {
  readonly name: string;
  readonly kind: ColumnKind;
}

export const SQL_TYPE: Record<ColumnKind, string> = {
  int32: 'INTEGER',
  int64: 'BIGINT',
  uint64: 'UBIGINT',
  double: 'DOUBLE',
  varchar: 'VARCHAR',
  boolean: 'BOOLEAN',
};

/** The column list of a CREATE TABLE for these columns (plain names). */
export const columnsSql = (cols: readonly ColumnSpec[]): string => cols.map((c) => `${c.name} ${SQL_TYPE[c.kind]}`).join(', ');

const TWO32 = 4294967296;

export class Column {
  // Replaced whole (renew()) when a chunk's buffers are handed to the Parquet writer thread.
  bytes: ArrayBuffer;
  i32: Int32Array;
  f64: Float64Array | undefined;
  u8: Uint8Array;
  readonly strings: (string | undefined)[] | undefined;
  /** One bit per row, as DuckDB's validity mask (uint64 words, little-endian). */
  valid: Uint32Array<ArrayBuffer>;

  constructor(
    readonly kind: ColumnKind,
    public capacity: number,
    bytes?: ArrayBuffer,
    valid?: Uint32Array<ArrayBuffer>,
    strings?: (string | undefined)[],
  ) {
    const width = kind === 'int32' ? 4 : kind === 'boolean' ? 1 : kind === 'varchar' ? 0 : 8;
    this.bytes = bytes ?? new ArrayBuffer(Math.max(8, width * capacity));
    this.i32 = new Int32Array(this.bytes);
    this.f64 = kind === 'double' ? new Float64Array(this.bytes) : undefined;
    this.u8 = new Uint8Array(this.bytes);
    this.strings = kind === 'varchar' ? (strings ?? new Array(capacity)) : undefined;
    this.valid = valid ?? new Uint32Array(Math.ceil(capacity / 64) * 2);
  }

  /** Buffers of `capacity` rows (the old ones were transferred away, detached): the values' from `take` (stale
   * content: every row written sets its whole value, a row not written is NULL), a zeroed validity; strings
   * are cleared by the caller. */
  renew(capacity: number, take: (bytes: number) => ArrayBuffer): void {
    this.capacity = capacity;
    const width = this.kind === 'int32' ? 4 : this.kind === 'boolean' ? 1 : this.kind === 'varchar' ? 0 : 8;
    this.bytes = take(Math.max(8, width * this.capacity));
    this.i32 = new Int32Array(this.bytes);
    if (this.f64) this.f64 = new Float64Array(this.bytes);
    this.u8 = new Uint8Array(this.bytes);
    this.valid = new Uint32Array(Math.ceil(this.capacity / 64) * 2);
  }
}

/** Marks row `r` of `c` valid. */
export function markValid(c: Column, r: number): void {
  c.valid[r >>> 5] |= 1 << (r & 31);
}

/** Writes an integer into an int64/uint64 column (two's complement halves; exact for every number and bigint). */
export function writeInt64(c: Column, r: number, v: number | bigint): void {
  if (typeof v === 'number') {
    const hi = Math.floor(v / TWO32);
    c.i32[2 * r] = (v - hi * TWO32) | 0;
    c.i32[2 * r + 1] = hi | 0;
  } else {
    const w = BigInt.asUintN(64, v);
    c.i32[2 * r] = Number(w & 0xffffffffn) | 0;
    c.i32[2 * r + 1] = Number(w >> 32n) | 0;
  }
  markValid(c, r);
}

