// System calls paired on the Parquet writer thread (src/engine/syscall-pairs.ts) from the events chunks the
// import hands it, read back by DuckDB: a pair whose entry and exit fall in different chunks, an entry counted
// under a CPU's not yet known thread and adopted by the thread its first sched_switch names, times whose low
// words wrap (the duration computed from int64 halves, exact for times beyond 2^53), an exit of another call or
// an exit without its entry (no pair), a NULL and a negative ret, an event without a thread or a time (skipped).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { ColumnAppender, type ColumnSpec } from '../../src/engine/column-appender.js';
import { ParquetWriters } from '../../src/engine/parquet-writer.js';
import { PAIR_RET, type PairPlan } from '../../src/engine/syscall-pairs.js';
import { EVENTS_RAW_COLUMNS } from '../../src/engine/import-trace.js';
import { sqlString } from '../../src/engine/run-sql.js';

const { DuckDBInstance } = createRequire(import.meta.url)('@duckdb/node-api') as typeof import('@duckdb/node-api');

// The import's own events columns, as a kernel trace has them (up to thr): id, ts, stream_id, class_id, cpu, thr.
const EVENTS: readonly ColumnSpec[] = EVENTS_RAW_COLUMNS.slice(0, EVENTS_RAW_COLUMNS.findIndex((c) => c.name === 'thr') + 1);
// Classes: 0 read entry, 1 read exit, 2 write entry, 3 write exit, 4 sched_switch (role 2 * call + entry).
const ROLES = Int32Array.from([1, 0, 3, 2, -1]);
const BASE = (410_000_000n << 32n) + 4_294_967_000n; // ~1.76e18 ns: beyond 2^53, its low word 296 short of its wrap

describe('engine: system calls paired on the writer thread', () => {
  it('pairs across chunks, adopts a CPU\'s first thread, keeps exact durations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ltt-pairs-'));
    const writers = new ParquetWriters();
    try {
      const chunkColumns = [...EVENTS, PAIR_RET];
      const plan: PairPlan = { path: join(dir, 'pairs.parquet'), roles: ROLES, ts: 1, cls: 3, cpu: 4, thr: 5, ret: 6 };
      const sink = writers.open(join(dir, 'events.parquet'), EVENTS, plan);
      const a = ColumnAppender.toSink(sink, chunkColumns);
      let id = 0;
      // [ts offset, class, cpu (-1: none), thr (0: none), ret (undefined: NULL), time known]
      const row = (dt: number, cls: number, cpu: number, thr: number, ret?: number, timed = true): void => {
        a.setInt(0, id++);
        if (timed) a.setInt(1, BASE + BigInt(dt));
        a.setInt(2, cpu < 0 ? 0 : cpu);
        a.setInt(3, cls);
        if (cpu >= 0) a.setInt(4, cpu);
        if (thr !== 0) a.setInt(5, thr);
        if (ret !== undefined) a.setInt(6, ret);
        a.endRow();
      };
      // CPU 0's thread is not known yet (-1): its read entry is adopted by thread 7 at the first switch.
      row(0, 0, 0, -1);
      row(10, 4, 0, -1);
      sink.adopt(a.row - 1, -1, 7);
      row(500, 1, 0, 7, -11); // read exit of the adopted entry: a pair, ret -11, 500 ns (low word wrapped)
      row(600, 2, 1, 8); // write entry of thread 8 ...
      // ... and many other events in between: its exit comes in a later chunk (chunks of 2048, then 6144 rows).
      for (let i = 0; i < 9000; i++) row(700 + i, 4, 1, 9);
      row(20_000, 3, 1, 8); // write exit: a pair, ret NULL
      row(20_100, 0, 1, 8); // read entry, then a write exit: no pair
      row(20_200, 3, 1, 8, 5);
      row(20_300, 1, 1, 8, 5); // a read exit without its entry: no pair
      row(20_400, 0, 1, 0); // no thread: skipped
      row(20_500, 0, -1, 9); // entry of thread 9, CPU unknown ...
      row(20_600, 0, 1, 9, undefined, false); // ... an event without a time is skipped ...
      row(3_000_000_000, 1, 1, 9, 3); // ... its exit, 3 s later: a pair without a CPU
      a.close();
      await writers.finish();

      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      try {
        const rows = (await conn.runAndReadAll(`SELECT ts - ${BASE} AS at, dur, cpu, thr, call, ret FROM read_parquet(${sqlString(plan.path)})`)).getRows();
        assert.deepEqual(rows.map((r) => r.map((v) => (typeof v === 'bigint' ? Number(v) : v))), [
          [0, 500, 0, 7, 0, -11],
          [600, 19_400, 1, 8, 1, null],
          [20_500, 3_000_000_000 - 20_500, null, 9, 0, 3],
        ]);
        // The events file has its own columns only (not the pairing's ret).
        const cols = (await conn.runAndReadAll(`SELECT count(*) FROM (DESCRIBE SELECT * FROM read_parquet(${sqlString(join(dir, 'events.parquet'))}))`)).getRows();
        assert.equal(Number(cols[0]![0]), EVENTS.length);
      } finally {
        conn.closeSync();
        db.closeSync();
      }
    } finally {
      writers.terminate();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
