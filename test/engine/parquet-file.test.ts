// The import's Parquet writer (src/engine/parquet-file.ts, on its thread: parquet-writer.ts) read back by DuckDB's own reader: every kind of
// column, NULLs in every pattern (none, some, all), several row groups, UTF-8 text, 64-bit values beyond 2^53
// (unsigned ones above 2^63), and the min/max statistics DuckDB prunes row groups by: a filter at a row group's
// exact bounds must still find its rows (bounds rounded through doubles would lose them).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { ColumnAppender, type ColumnSpec } from '../../src/engine/column-appender.js';
import { ParquetWriters } from '../../src/engine/parquet-writer.js';
import { sqlString } from '../../src/engine/run-sql.js';
import { bailoutsOf, optimizedFunctions } from './v8-trace.js';

const { DuckDBInstance } = createRequire(import.meta.url)('@duckdb/node-api') as typeof import('@duckdb/node-api');

const COLUMNS: ColumnSpec[] = [
  { name: 'id', kind: 'int64' },
  { name: 'ts', kind: 'int64' },
  { name: 'u', kind: 'uint64' },
  { name: 'i', kind: 'int32' },
  { name: 'd', kind: 'double' },
  { name: 'b', kind: 'boolean' },
  { name: 's', kind: 'varchar' },
  { name: 'none', kind: 'int32' },
  { name: 'n', kind: 'int64' },
];
const ROWS = 300_000; // three row groups, the last one partial, and a partial last chunk
const BASE = 1_765_000_000_123_456_789n; // ns since 1970: far beyond 2^53

/** The expected row r (null: NULL), as DuckDB returns it. */
function expected(r: number): unknown[] {
  return [
    BigInt(r),
    BASE + BigInt(r),
    r % 5 === 0 ? null : (1n << 63n) + BigInt(r) * 3n,
    r % 3 === 0 ? null : r - 150_000,
    r % 7 === 0 ? null : r / 4,
    r % 11 === 0 ? null : r % 2 === 0,
    r % 4 === 1 ? null : r % 4 === 2 ? `é${r}✓` : `t${r}`,
    null,
    // Signed, out of order, high words shared by rows of different low words: the statistics' two passes.
    r % 13 === 0 ? null : BigInt(((r * 7919) % 1000) - 500) * (1n << 33n) + BigInt((r * 31) % 17) - 8n,
  ];
}

describe('engine: the Parquet files of the import', () => {
  it('DuckDB reads back every value, NULL, row group and statistic written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ltt-parquet-test-'));
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      const file = join(dir, 't.parquet');
      // Through the writer thread, as the import writes: each chunk's buffers move there and the appender
      // writes the next chunk into fresh ones.
      const writers = new ParquetWriters();
      const out = ColumnAppender.toSink(writers.open(file, COLUMNS), COLUMNS);
      for (let r = 0; r < ROWS; r++) {
        const row = expected(r);
        row.forEach((v, c) => {
          if (v === null) return;
          if (typeof v === 'string') out.setString(c, v);
          else if (typeof v === 'boolean') out.setBoolean(c, v);
          else if (COLUMNS[c]!.kind === 'double') out.setDouble(c, v as number);
          else out.setInt(c, v as number | bigint);
        });
        out.endRow();
      }
      out.close();
      await writers.finish();
      const q = async (sql: string) => (await conn.runAndReadAll(sql)).getRows();
      const src = `read_parquet(${sqlString(file)})`;
      const types = await q(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${src})`);
      assert.deepEqual(types, [['id', 'BIGINT'], ['ts', 'BIGINT'], ['u', 'UBIGINT'], ['i', 'INTEGER'], ['d', 'DOUBLE'], ['b', 'BOOLEAN'], ['s', 'VARCHAR'], ['none', 'INTEGER'], ['n', 'BIGINT']]);
      const rows = await q(`SELECT * FROM ${src} ORDER BY id`);
      assert.equal(rows.length, ROWS);
      for (let r = 0; r < ROWS; r++) assert.deepEqual(rows[r], expected(r), `row ${r}`);
      const groups = await q(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata(${sqlString(file)})`);
      assert.equal(groups[0]![0], 3n);
      // Exact bounds: the first and last rows of each row group found by equality on ts and u (pruned by stats).
      const bounds = await q(`SELECT stats_min_value, stats_max_value FROM parquet_metadata(${sqlString(file)}) WHERE path_in_schema = 'ts' ORDER BY row_group_id`);
      assert.deepEqual(bounds.map((b) => b.map(String)), [[0, 122_879], [122_880, 245_759], [245_760, ROWS - 1]].map((g) => g.map((r) => String(BASE + BigInt(r)))));
      for (const r of [0, 122_879, 122_880, 245_759, 245_760, ROWS - 1]) {
        const hit = await q(`SELECT id FROM ${src} WHERE ts = ${BASE + BigInt(r)}`);
        assert.deepEqual(hit, [[BigInt(r)]], `ts of row ${r}`);
      }
      for (const r of [1, 122_879, 122_881, ROWS - 1]) {
        const hit = await q(`SELECT id FROM ${src} WHERE u = ${(1n << 63n) + BigInt(r) * 3n}`);
        assert.deepEqual(hit, [[BigInt(r)]], `u of row ${r}`);
      }
      // Every integer column's bounds per row group are its rows' min and max.
      for (const col of ['ts', 'u', 'i', 'n']) {
        const stats = await q(`SELECT stats_min_value, stats_max_value FROM parquet_metadata(${sqlString(file)}) WHERE path_in_schema = '${col}' ORDER BY row_group_id`);
        const real = await q(`SELECT min(${col})::VARCHAR, max(${col})::VARCHAR FROM ${src} GROUP BY id // 122_880 ORDER BY id // 122_880`);
        assert.deepEqual(stats.map((b) => b.map(String)), real, `statistics of ${col}`);
      }
      const neg = await q(`SELECT count(*), min(i), max(i) FROM ${src} WHERE i < -149_990`);
      assert.deepEqual(neg, [[6n, -149_999, -149_992]]);
    } finally {
      conn.closeSync();
      db.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('value buffers the writer thread has written come back to be filled again; a row not written there is NULL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ltt-parquet-test-'));
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      const file = join(dir, 't.parquet');
      const cols: ColumnSpec[] = [{ name: 'id', kind: 'int64' }, { name: 'v', kind: 'int64' }, { name: 'w', kind: 'int32' }];
      const writers = new ParquetWriters();
      // Buffers take() gives that hold a chunk's values already (sent back, not new).
      let refilled = 0;
      const take = writers.take.bind(writers);
      writers.take = (bytes: number) => {
        const b = take(bytes);
        if (new Int32Array(b).some((x) => x !== 0)) refilled++;
        return b;
      };
      const out = ColumnAppender.toSink(writers.open(file, cols), cols);
      const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      // Chunks of 2,048, 6,144, 32,768, then 40,960 rows: the first rows have every value, the later ones v and w
      // on even rows only, written into buffers that held the first ones' values.
      const ROWS_N = 2048 + 6144 + 32768 + 5 * 40960;
      for (let r = 0; r < ROWS_N; r++) {
        out.setInt(0, r);
        if (r < 81920 || r % 2 === 0) {
          out.setInt(1, 1_000_000_000_000 + r);
          out.setInt(2, -r);
        }
        out.endRow();
        // Time for the writer thread to write the chunks and send their buffers back (ample: a loaded machine).
        if (r % 40960 === 0) await sleep(400);
      }
      out.close();
      await writers.finish();
      writers.terminate();
      assert.ok(refilled > 0, 'no value buffer came back from the writer thread');
      const rows = (await conn.runAndReadAll(`SELECT count(*), count(v), count(w), count(*) FILTER (WHERE v <> 1_000_000_000_000 + id OR w <> -id)
        FROM read_parquet(${sqlString(file)})`)).getRows()[0]!.map(Number);
      const valid = 81920 + (ROWS_N - 81920) / 2;
      assert.deepEqual(rows, [ROWS_N, valid, valid, 0]);
    } finally {
      conn.closeSync();
      db.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the statistics stay in optimized code chunk after chunk (no deoptimization at the end of each chunk)', () => {
    // Optimized mid-loop on the first long chunk, code after the loop without feedback deoptimized the statistics
    // at the end of every chunk (the writer thread's largest cost). Optimizations and deoptimizations traced in a
    // child process.
    const dir = mkdtempSync(join(tmpdir(), 'ltt-parquet-test-'));
    try {
      const fileUrl = new URL('../../src/engine/parquet-file.js', import.meta.url).href;
      const chunkUrl = new URL('../../src/engine/column-chunk.js', import.meta.url).href;
      const code = `
        const { ParquetFile } = await import(${JSON.stringify(fileUrl)});
        const { Column } = await import(${JSON.stringify(chunkUrl)});
        const cols = [{ name: 'ts', kind: 'int64' }, { name: 'u', kind: 'uint64' }, { name: 'i', kind: 'int32' }];
        const f = ParquetFile.create(process.argv[1], cols);
        const n = 40960;
        for (let k = 0; k < 24; k++) {
          const chunk = cols.map((c) => new Column(c.kind, n));
          for (let r = 0; r < n; r++) {
            for (const c of chunk) {
              if (k % 2 === 1 && r % 3 === 0) continue;
              c.i32[2 * r] = r * 7919; c.i32[2 * r + 1] = k; c.valid[r >>> 5] |= 1 << (r & 31);
            }
            chunk[2].i32[r] = r - k;
          }
          f.chunk(chunk, n);
        }
        f.close();`;
      const r = spawnSync(process.execPath, ['--trace-opt', '--trace-deopt', '--input-type=module', '-e', code, join(dir, 't.parquet')], { encoding: 'utf8', maxBuffer: 64 << 20 });
      assert.equal(r.status, 0, r.stderr);
      // Optimized first: never optimized, the loops would show no bailout either.
      const optimized = optimizedFunctions(r.stdout);
      for (const name of ['minMax32', 'minMax64']) assert.ok(optimized.has(name), `V8 optimized ${name}`);
      assert.deepEqual(bailoutsOf(r.stdout, /minMax32|minMax64|stats/), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file that cannot be written fails the writers in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ltt-parquet-test-'));
    try {
      const writers = new ParquetWriters();
      const out = ColumnAppender.toSink(writers.open(join(dir, 'no-such-folder', 't.parquet'), COLUMNS), COLUMNS);
      out.setInt(0, 1);
      out.endRow();
      out.close();
      await assert.rejects(writers.finish(), (e: Error) => /^writing the trace's tables: ENOENT/.test(e.message) && !e.message.includes('\n'));
      writers.terminate();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a writer that failed stops the rows coming (the import does not decode the rest of the trace for nothing)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ltt-parquet-test-'));
    try {
      const writers = new ParquetWriters();
      const out = ColumnAppender.toSink(writers.open(join(dir, 'no-such-folder', 't.parquet'), COLUMNS), COLUMNS);
      let rows = 0;
      assert.throws(() => {
        for (; rows < 50_000_000; rows++) {
          out.setInt(0, rows);
          out.endRow();
        }
      }, /^Error: writing the trace's tables failed$/);
      assert.ok(rows < 5_000_000, `${rows} rows went on after the writer failed`);
      await assert.rejects(writers.finish(), /ENOENT/);
      writers.terminate();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('a dense column (set in every row, its validity left to the appender) has no NULL, a partial last word too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ltt-parquet-test-'));
    const cols: ColumnSpec[] = [{ name: 'id', kind: 'int64' }, { name: 'v', kind: 'int32' }];
    const n = 2048 + 6144 + 32768 + 77; // chunks of every size, the last one ending mid-word
    try {
      const writers = new ParquetWriters();
      const out = ColumnAppender.toSink(writers.open(join(dir, 'd.parquet'), cols), cols, [0]);
      for (let r = 0; r < n; r++) {
        // As the import's merge loop writes ids: values only, no validity bit.
        const c = out.cols[0]!;
        c.i32[2 * out.row] = r;
        c.i32[2 * out.row + 1] = 0;
        if (r % 3 === 0) out.setInt(1, r);
        out.endRow();
      }
      out.close();
      await writers.finish();
      writers.terminate();
      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      const [row] = (await conn.runAndReadAll(`SELECT count(*), count(id), sum(id), count(v) FROM read_parquet(${sqlString(join(dir, 'd.parquet'))})`)).getRows();
      conn.closeSync();
      db.closeSync();
      assert.deepEqual(row!.map(Number), [n, n, (n * (n - 1)) / 2, Math.ceil(n / 3)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
