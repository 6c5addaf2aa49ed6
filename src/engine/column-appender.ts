// Bulk loading into DuckDB: rows are written into typed column arrays (no DuckDB value objects, no BigInt per
// integer) and handed over a whole data chunk at a time (copy_data_to_vector is one memcpy per column), to
// DuckDB's appender or (toSink) to a Parquet file written by the writer thread (parquet-writer.ts).
//
// Contract: `set*` writes the current row's columns (generated writers write `cols[i]` at `row` themselves,
// marking the row valid); `endRow()` commits it; a column not set in a row is NULL.
// `close()` flushes what is buffered and closes the appender. The table must exist with exactly these columns,
// in this order. Integers up to 2^53 are numbers; larger ones (bigint) go through the int64 path.

import { createRequire } from 'node:module';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import type * as Bindings from '@duckdb/node-bindings';
import type { ChunkSink } from './parquet-writer.js';
import { Column, markValid, writeInt64, type ColumnKind, type ColumnSpec } from './column-chunk.js';

// By require(), as trace-db.ts loads DuckDB's API: imported as ES modules, its CommonJS files are first lexed for
// their exports (a tenth of a second of each import, and as much again compiling the lexer).
const require = createRequire(import.meta.url);
const duckdb = require('@duckdb/node-bindings') as typeof Bindings;
const { DuckDBDataChunk } = require('@duckdb/node-api') as typeof import('@duckdb/node-api');

// The column chunk's types and writers, where the import's generated writers find them.
export { Column, columnsSql, markValid, SQL_TYPE, writeInt64, type ColumnKind, type ColumnSpec } from './column-chunk.js';

const DUCK_TYPE: Record<ColumnKind, Bindings.Type> = {
  int32: duckdb.Type.INTEGER,
  int64: duckdb.Type.BIGINT,
  uint64: duckdb.Type.UBIGINT,
  double: duckdb.Type.DOUBLE,
  varchar: duckdb.Type.VARCHAR,
  boolean: duckdb.Type.BOOLEAN,
};

/** Rows of a sink's successive chunks: 2048 (DuckDB's vector), then totals of 8,192, 40,960 and multiples of
 * 40,960, so that every row group boundary of parquet-file.ts (122,880 rows) falls between two chunks; a
 * hand-over to the writer thread costs about as much as a few hundred rows. */
const SINK_ROWS = [2048, 6144, 32768, 40960];

export class ColumnAppender {
  readonly cols: Column[];
  private readonly types: Bindings.LogicalType[];
  /** The row being written (0 after each flush). */
  row = 0;
  private capacity = duckdb.vector_size();
  private sinkChunks = 0;
  private rows = 0;

  private constructor(
    private readonly appender: DuckDBAppender | ChunkSink,
    readonly columns: readonly ColumnSpec[],
    private readonly dense: readonly number[] = [],
  ) {
    this.cols = columns.map((c) => new Column(c.kind, this.capacity));
    this.types = columns.map((c) => duckdb.create_logical_type(DUCK_TYPE[c.kind]));
  }

  /** `temp`: the table is a temporary one. */
  static async create(conn: DuckDBConnection, table: string, columns: readonly ColumnSpec[], temp = false): Promise<ColumnAppender> {
    return new ColumnAppender(await conn.createAppender(table, temp ? 'main' : undefined, temp ? 'temp' : undefined), columns);
  }

  /** Rows go to a Parquet file (a sink of parquet-writer.ts) instead of a table. `dense`: columns every row
   * sets (an id), whose validity bits the chunk gets all at once instead of one per row from the writer. */
  static toSink(sink: ChunkSink, columns: readonly ColumnSpec[], dense: readonly number[] = []): ColumnAppender {
    return new ColumnAppender(sink, columns, dense);
  }

  /** Rows appended so far. */
  get count(): number {
    return this.rows + this.row;
  }

  setInt(col: number, v: number | bigint): void {
    const c = this.cols[col]!;
    const r = this.row;
    if (c.kind === 'int32') c.i32[r] = Number(v);
    else if (c.kind === 'double') c.f64![r] = Number(v);
    else if (c.kind === 'varchar') c.strings![r] = String(v);
    else if (c.kind === 'boolean') c.u8[r] = v ? 1 : 0;
    else return writeInt64(c, r, v);
    markValid(c, r);
  }

  setDouble(col: number, v: number): void {
    const c = this.cols[col]!;
    if (c.kind !== 'double') return this.setInt(col, v);
    c.f64![this.row] = v;
    markValid(c, this.row);
  }

  setString(col: number, v: string): void {
    const c = this.cols[col]!;
    c.strings![this.row] = v;
    markValid(c, this.row);
  }

  setBoolean(col: number, v: boolean): void {
    const c = this.cols[col]!;
    c.u8[this.row] = v ? 1 : 0;
    markValid(c, this.row);
  }

  endRow(): void {
    if (++this.row === this.capacity) this.flushChunk();
  }

  private flushChunk(): void {
    const n = this.row;
    if (n === 0) return;
    if (!('appendDataChunk' in this.appender)) {
      // The sink took the chunk's buffers: others, bigger for a big table (fewer, larger hand-overs).
      const sink = this.appender;
      for (const i of this.dense) {
        const v = this.cols[i]!.valid;
        v.fill(-1, 0, n >>> 5);
        if ((n & 31) !== 0) v[n >>> 5] = (1 << (n & 31)) - 1;
      }
      sink.chunk(this.cols, n);
      this.capacity = SINK_ROWS[Math.min(++this.sinkChunks, SINK_ROWS.length - 1)]!;
      for (const c of this.cols) {
        c.renew(this.capacity, (bytes) => sink.take(bytes));
        c.strings?.fill(undefined, 0, n);
      }
      this.rows += n;
      this.row = 0;
      return;
    }
    const chunk = duckdb.create_data_chunk(this.types);
    for (let i = 0; i < this.cols.length; i++) {
      const c = this.cols[i]!;
      const vec = duckdb.data_chunk_get_vector(chunk, i);
      if (c.strings) {
        for (let r = 0; r < n; r++) {
          const s = c.strings[r];
          if (s !== undefined) duckdb.vector_assign_string_element(vec, r, s);
        }
        c.strings.fill(undefined, 0, n);
      } else {
        const width = c.kind === 'int32' ? 4 : c.kind === 'boolean' ? 1 : 8;
        duckdb.copy_data_to_vector(vec, 0, c.bytes, 0, n * width);
      }
      duckdb.vector_ensure_validity_writable(vec);
      duckdb.copy_data_to_vector_validity(vec, 0, c.valid.buffer, 0, Math.ceil(n / 64) * 8);
      c.valid.fill(0);
    }
    duckdb.data_chunk_set_size(chunk, n);
    this.appender.appendDataChunk(new DuckDBDataChunk(chunk));
    this.rows += n;
    this.row = 0;
  }

  close(): void {
    this.flushChunk();
    if ('appendDataChunk' in this.appender) this.appender.closeSync();
    else this.appender.close();
  }
}
