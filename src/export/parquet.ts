// `ltt export --format parquet`: every table of a trace as a Parquet file (DuckDB's writer, zstd), so the
// engines a fleet already runs (Spark, Trino, ClickHouse, DuckDB) read ltt traces. Event payload views are
// written as event-NAME.parquet (NAME made file-safe).
//
// Contract: `exportParquet(conn, dir)` creates DIR if needed and returns the files written with their row
// counts; an existing file of the same name is replaced.

import type { DuckDBConnection } from '@duckdb/node-api';
import { join } from 'node:path';
import { makeDirectories } from '../make-directories.js';
import { runSql, sqlIdentifier, sqlString } from '../engine/run-sql.js';

export interface ExportedFile {
  readonly file: string;
  readonly rows: number;
}

export async function exportParquet(conn: DuckDBConnection, dir: string): Promise<ExportedFile[]> {
  makeDirectories(dir);
  // An event name's view (the payload with its event's time and thread) is event-NAME; `events` (a view too,
  // over the import's file) and the other tables keep their names.
  const r = await runSql(conn, `SELECT table_name, table_type = 'VIEW' AND table_name <> 'events' AND table_name IN (SELECT name FROM event_classes)
    FROM information_schema.tables WHERE table_schema = 'main' AND table_name NOT LIKE 'payload:%' ORDER BY table_name`);
  const out: ExportedFile[] = [];
  const used = new Set<string>();
  for (const [name, event] of r.rows as [string, boolean][]) {
    const base = event ? `event-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}` : name;
    let file = `${base}.parquet`;
    for (let i = 2; used.has(file); i++) file = `${base}-${i}.parquet`;
    used.add(file);
    const path = join(dir, file);
    await runSql(conn, `COPY (SELECT * FROM ${sqlIdentifier(name)}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd)`);
    const n = await runSql(conn, `SELECT count(*) FROM ${sqlIdentifier(name)}`);
    out.push({ file: path, rows: Number(n.rows[0]![0]) });
  }
  return out;
}
