// A trace as a DuckDB database: imported once, kept in a cache file, reused until the trace changes.
//
// Contract: `openTraceDb(paths, opts)` returns an open connection on the tables of those traces (see
// derived-tables.ts). The cache lives in $LTT_CACHE or ~/.cache/ltt/tables, keyed by the traces' real paths;
// it is valid while every file of the traces has the size and mtime it had at import (a trace being
// written is imported again). A broken cache file is replaced. `close()` closes the database.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { LttError } from '../errors.js';
import { buildTables } from './derived-tables.js';
import { importTraces, type ImportProgress } from './import-trace.js';

/** The code that makes the tables: a cache made by another version of it is rebuilt. */
const ENGINE_CODE = ['import-trace', 'derived-tables', 'request-tables', 'column-appender'].map((m) => {
  const url = new URL(`./${m}${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
  try {
    return readFileSync(fileURLToPath(url));
  } catch {
    return Buffer.alloc(0);
  }
});

export interface TraceDb {
  readonly conn: DuckDBConnection;
  /** true when the tables came from the cache. */
  readonly cached: boolean;
  readonly file: string | undefined;
  close(): void;
}

export interface OpenTraceDbOptions {
  /** Keep the tables in memory only. */
  readonly noCache?: boolean;
  readonly progress?: ImportProgress;
  /** Where cache files go (default $LTT_CACHE, else ~/.cache/ltt/tables). */
  readonly cacheDir?: string;
}

function cacheDir(): string {
  return process.env['LTT_CACHE'] ?? join(homedir(), '.cache', 'ltt', 'tables');
}

/** Size and mtime of every file below the trace folders: what the cache must match. */
function fingerprint(paths: readonly string[]): string {
  const h = createHash('sha256');
  for (const code of ENGINE_CODE) h.update(code);
  const walk = (p: string, depth: number): void => {
    let st: Stats;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      if (depth > 32) return;
      for (const name of readdirSync(p).sort()) walk(join(p, name), depth + 1);
    } else if (st.isFile()) {
      h.update(`${p}\0${st.size}\0${st.mtimeMs}\n`);
    }
  };
  for (const p of paths) walk(p, 0);
  return h.digest('hex');
}

export async function openTraceDb(paths: readonly string[], opts: OpenTraceDbOptions = {}): Promise<TraceDb> {
  const real = paths.map((p) => {
    try {
      return realpathSync(p);
    } catch {
      throw new LttError('CTF_NO_TRACE', `No trace at ${p}`);
    }
  });
  if (opts.noCache) {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await load(conn, real, opts.progress);
    return { conn, cached: false, file: undefined, close: () => (conn.closeSync(), db.closeSync()) };
  }
  const dir = opts.cacheDir ?? cacheDir();
  const key = createHash('sha256').update(real.join('\0')).digest('hex').slice(0, 24);
  const stamp = fingerprint(real).slice(0, 24);
  const file = join(dir, `${key}-${stamp}.duckdb`);
  let exists = false;
  try {
    exists = statSync(file).isFile();
  } catch {
    exists = false;
  }
  if (exists) {
    try {
      const db = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
      const conn = await db.connect();
      return { conn, cached: true, file, close: () => (conn.closeSync(), db.closeSync()) };
    } catch {
      rmSync(file, { force: true });
    }
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Older versions of this trace's cache are of no use any more.
  for (const name of readdirSync(dir)) if (name.startsWith(`${key}-`)) rmSync(join(dir, name), { force: true });
  // Built under a temporary name and renamed: a crash mid-import leaves no half cache behind.
  const tmp = `${file}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  let db = await DuckDBInstance.create(tmp);
  let conn = await db.connect();
  try {
    await load(conn, real, opts.progress);
    await conn.run('CHECKPOINT');
  } catch (err) {
    conn.closeSync();
    db.closeSync();
    rmSync(tmp, { force: true });
    rmSync(`${tmp}.wal`, { force: true });
    throw err;
  }
  conn.closeSync();
  db.closeSync();
  renameSync(tmp, file);
  db = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  conn = await db.connect();
  return { conn, cached: false, file, close: () => (conn.closeSync(), db.closeSync()) };
}

async function load(conn: DuckDBConnection, paths: readonly string[], progress?: ImportProgress): Promise<void> {
  await importTraces(conn, paths, progress);
  await buildTables(conn);
}
