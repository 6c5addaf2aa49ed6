// A trace as a DuckDB database: imported once, kept in a cache file, reused until the trace changes.
//
// Contract: `openTraceDb(paths, opts)` returns an open connection on the tables of those traces (see
// derived-tables.ts). The cache lives in $LTT_CACHE or ~/.cache/ltt/tables, keyed by the traces' real paths;
// it is valid while every file of the traces has the size and mtime it had at import (a trace being
// written is imported again). The events, payload and system call tables are Parquet files (import-trace.ts) in a folder
// beside the cache file, FILE.PID.parquet/ (PID: the importing process), which its views read; without a cache (noCache), in a temporary folder
// removed at close(). A broken cache file, or one whose folder is gone, is replaced. `close()` closes the database. `extend` adds
// a user's own tables (ltt web's levels of detail) to the cached database, so they too are made once: built
// with the import, or added to an older cache file (opened for writing once); when that file cannot be
// written (another process has it open), they are built as temporary tables of this connection instead.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, type Stats } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type { DuckDBConnection } from '@duckdb/node-api';
import { LttError } from '../errors.js';
import type { ImportProgress } from './import-trace.js';
import { sqlString } from './run-sql.js';

// DuckDB's Node API by require(): imported as ES modules, each of its CommonJS files is first lexed for its
// exports (a third of a second of `ltt web`'s start). The importer and its decoders load only to import.
const { DuckDBInstance } = createRequire(import.meta.url)('@duckdb/node-api') as typeof import('@duckdb/node-api');
type DuckDBInstance = InstanceType<typeof DuckDBInstance>;

/** The code that makes the tables: a cache made by another version of it is rebuilt. */
const ENGINE_CODE = ['./import-trace', './derived-tables', './request-tables', './column-appender', './column-chunk', './parquet-file', './parquet-writer', './parquet-worker', './syscall-pairs', './sched-slices', '../ctf/decode/codegen'].map((m) => {
  const url = new URL(`${m}${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
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

/** Tables a user of the engine keeps in the cache beside the trace's (see the contract). */
export interface TableExtension {
  /** A table that `build` makes last: its presence says the extension is there. Name a new one when `build` changes. */
  readonly marker: string;
  /** Makes the tables from the trace's (`temp`: as temporary tables). */
  build(conn: DuckDBConnection, temp: boolean): Promise<void>;
}

export interface OpenTraceDbOptions {
  readonly extend?: TableExtension;
  /** Keep the tables in memory only. */
  readonly noCache?: boolean;
  readonly progress?: ImportProgress;
  /** Where cache files go (default $LTT_CACHE, else ~/.cache/ltt/tables). */
  readonly cacheDir?: string;
}

function cacheDir(): string {
  return process.env['LTT_CACHE'] ?? join(homedir(), '.cache', 'ltt', 'tables');
}

/** What names the cache files of these trace folders (their real paths): KEY-STAMP.duckdb. */
function cacheKey(real: readonly string[]): string {
  return createHash('sha256').update(real.join('\0')).digest('hex').slice(0, 24);
}

/**
 * Whether the cache may hold tables of these folders: a file of theirs, of any stamp, is in the cache folder
 * (default: the one openTraceDb uses). Cheap: no file below the folders is read.
 */
export function mayBeCached(paths: readonly string[], dir: string = cacheDir()): boolean {
  let key: string;
  try {
    key = cacheKey(paths.map((p) => realpathSync(p)));
  } catch {
    return true;
  }
  try {
    return readdirSync(dir).some((name) => name.startsWith(`${key}-`) && name.endsWith('.duckdb'));
  } catch {
    return false;
  }
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
    const files = mkdtempSync(join(tmpdir(), 'ltt-tables-'));
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const close = (): void => {
      conn.closeSync();
      db.closeSync();
      rmSync(files, { recursive: true, force: true });
    };
    try {
      await load(db, conn, real, files, opts.progress);
      await opts.extend?.build(conn, false);
    } catch (err) {
      close();
      throw err;
    }
    return { conn, cached: false, file: undefined, close };
  }
  const dir = opts.cacheDir ?? cacheDir();
  const key = cacheKey(real);
  const stamp = fingerprint(real).slice(0, 24);
  const file = join(dir, `${key}-${stamp}.duckdb`);
  let exists = false;
  try {
    exists = statSync(file).isFile();
  } catch {
    exists = false;
  }
  if (exists) {
    let db: DuckDBInstance | undefined;
    try {
      db = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
      let conn = await db.connect();
      // Its own Parquet folder is there: the one its views read, recorded at import (a sibling folder of another
      // import of the same trace does not count), checked with a look, not a query on `events` (binding it and
      // reading its file's footer cost a warm analysis more).
      // Every file of it: the events', the system call pairs' and each class's payload (a view reads each).
      const [[folder, names]] = (await conn.runAndReadAll(`SELECT dir, files FROM ${CACHE_FOLDER_TABLE}`)).getRows() as [[string, string]];
      const present = new Set(readdirSync(folder));
      if (names.split('/').some((name) => name !== '' && !present.has(name))) throw new Error('the Parquet files are gone');
      if (opts.extend && !(await hasTable(conn, opts.extend.marker))) {
        conn.closeSync();
        db.closeSync();
        db = undefined;
        await extendFile(file, opts.extend).catch(() => undefined);
        db = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
        conn = await db.connect();
        if (!(await hasTable(conn, opts.extend.marker))) await opts.extend.build(conn, true);
      }
      const opened = db;
      return { conn, cached: true, file, close: () => (conn.closeSync(), opened.closeSync(), dropSuperseded(file)) };
    } catch {
      db?.closeSync();
      rmSync(file, { force: true });
    }
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Older versions of this trace's cache are of no use any more; the Parquet files of one that a running
  // process may still read (its views open them by name at each query) stay until that process closes it.
  for (const name of readdirSync(dir)) if (name.startsWith(`${key}-`) && !parquetInUse(name)) rmSync(join(dir, name), { recursive: true, force: true });
  // Built under a temporary name and renamed: a crash mid-import leaves no half cache behind.
  const tmp = `${file}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  // The Parquet files go straight to their final folder (named for this process: two imports at once do not
  // share it): without the cache file, whose views name them, they are not used; the next import removes them.
  const files = `${file}.${process.pid}.parquet`;
  rmSync(files, { recursive: true, force: true });
  mkdirSync(files, { mode: 0o700 });
  let db = await DuckDBInstance.create(tmp);
  let conn = await db.connect();
  try {
    await load(db, conn, real, files, opts.progress);
    await opts.extend?.build(conn, false);
    // The folder and its files' names ('/' between them: no name holds one), which a cached open checks.
    const names = readdirSync(files).filter((name) => name.endsWith('.parquet'));
    await conn.run(`CREATE SCHEMA ltt_cache; CREATE TABLE ${CACHE_FOLDER_TABLE} AS SELECT ${sqlString(files)} AS dir, ${sqlString(names.join('/'))} AS files`);
    await conn.run('CHECKPOINT');
  } catch (err) {
    conn.closeSync();
    db.closeSync();
    rmSync(tmp, { force: true });
    rmSync(`${tmp}.wal`, { force: true });
    rmSync(files, { recursive: true, force: true });
    throw err;
  }
  conn.closeSync();
  db.closeSync();
  renameSync(tmp, file);
  db = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  conn = await db.connect();
  return { conn, cached: false, file, close: () => (conn.closeSync(), db.closeSync(), dropSuperseded(file)) };
}

/** The cache file's own Parquet folder (outside the `main` schema: not one of the user's tables). */
const CACHE_FOLDER_TABLE = 'ltt_cache.parquet_folder';

/** Whether NAME is the Parquet folder (KEY-STAMP.duckdb.PID.parquet) of a process still running, this one too. */
function parquetInUse(name: string): boolean {
  const m = /\.duckdb\.(\d+)\.parquet$/.exec(name);
  if (m === null) return false;
  const pid = Number(m[1]);
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * At close: when a newer import removed this cache file (the trace grew), its Parquet folders that no running
 * process may read go too (this process's own, kept by that import for this connection, among them).
 */
function dropSuperseded(file: string): void {
  if (existsSync(file)) return;
  const dir = dirname(file);
  const base = basename(file);
  try {
    for (const name of readdirSync(dir)) {
      if (!name.startsWith(`${base}.`) || !name.endsWith('.parquet')) continue;
      if (name === `${base}.${process.pid}.parquet` || !parquetInUse(name)) rmSync(join(dir, name), { recursive: true, force: true });
    }
  } catch {
    // The cache folder is gone: nothing left to remove.
  }
}

async function load(db: DuckDBInstance, conn: DuckDBConnection, paths: readonly string[], files: string, progress?: ImportProgress): Promise<void> {
  const [{ importTraces }, { buildTables }] = await Promise.all([import('./import-trace.js'), import('./derived-tables.js')]);
  await importTraces(conn, paths, progress, files);
  const side = await db.connect();
  try {
    await buildTables(conn, files, side);
  } finally {
    side.closeSync();
  }
}

async function hasTable(conn: DuckDBConnection, name: string): Promise<boolean> {
  const r = await conn.runAndReadAll(`SELECT count(*) FROM duckdb_tables() WHERE table_name = ${sqlString(name)}`);
  return Number(r.getRows()[0]![0]) > 0;
}

/** Adds an extension's tables to a cache file (fails when another process has the file open). */
async function extendFile(file: string, extend: TableExtension): Promise<void> {
  const db = await DuckDBInstance.create(file);
  const conn = await db.connect();
  try {
    await extend.build(conn, false);
    await conn.run('CHECKPOINT');
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
