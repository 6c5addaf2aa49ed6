// I/O system call latency (lttng-iolatencystats) and I/O usage per thread (lttng-iousagetop), over the
// syscalls table. The calls are classified as lttng-analyses 0.6.1 classifies them (linuxautomaton/sv.py):
// open (open, openat, socket and the fd duplicators), read, write, sync; splice and sendfile64 count as both
// a read and a write. Where lttng-analyses differs: it learns file descriptors from the opens it sees (and the
// statedump's fd events, which it cannot read in LTTng 2.11+ traces) and drops successful reads and writes
// on a descriptor it does not know, e.g. a pipe inherited from before the trace; ltt counts every call.

import type { DuckDBConnection } from '@duckdb/node-api';
import { runSql } from '../engine/run-sql.js';
import { requireEvents, threadFilter, type AnalysisOptions, type TimeRange } from './analysis-range.js';
import { statsColumns, statsFromRow, type DurationStats } from './latency-stats.js';

const KINDS = {
  open: ['open', 'openat', 'socket', 'fcntl', 'dup', 'dup2', 'dup3'],
  read: ['read', 'recvmsg', 'recvfrom', 'readv', 'pread', 'pread64', 'preadv', 'splice', 'sendfile64'],
  write: ['write', 'sendmsg', 'sendto', 'writev', 'pwrite', 'pwrite64', 'pwritev', 'splice', 'sendfile64'],
  sync: ['sync', 'sync_file_range', 'fsync', 'fdatasync'],
} as const;
type IoKind = keyof typeof KINDS;

const ENABLE = 'ltt enable-event -k --syscall -a';
const inList = (names: readonly string[]): string => `(${names.map((n) => `'${n}'`).join(', ')})`;

function calls(range: TimeRange, opts: AnalysisOptions): string {
  return `syscalls s LEFT JOIN threads th ON th.trace_id = s.trace_id AND th.tid = s.tid
     WHERE s.ts BETWEEN ${range.begin} AND ${range.end} AND ${threadFilter(opts, 's.tid', 'th.name')}`;
}

export interface IoLatency extends DurationStats {
  readonly kind: IoKind;
}

export async function ioLatency(conn: DuckDBConnection, range: TimeRange, opts: AnalysisOptions): Promise<IoLatency[]> {
  await requireEvents(conn, 'iolatency', ['syscall_entry_%', 'syscall_exit_%'], ENABLE);
  const out: IoLatency[] = [];
  for (const kind of Object.keys(KINDS) as IoKind[]) {
    const r = await runSql(conn, `SELECT ${statsColumns('s.dur')} FROM ${calls(range, opts)} AND s.name IN ${inList(KINDS[kind])}`);
    const stats = statsFromRow(r.rows[0]!, 0);
    out.push({ kind, ...stats, minNs: stats.count > 0 ? stats.minNs : 0, avgNs: stats.count > 0 ? stats.avgNs : 0, maxNs: stats.count > 0 ? stats.maxNs : 0 });
  }
  return out;
}

export interface IoUsage {
  readonly tid: number;
  readonly pid: number | null;
  readonly name: string;
  readonly readBytes: number;
  readonly writtenBytes: number;
}

export interface FileUsage {
  readonly file: string;
  readonly readBytes: number;
  readonly writtenBytes: number;
}

/** Bytes the successful read and write calls returned, per thread, and per file where the trace saw the open. */
export async function ioUsageTop(conn: DuckDBConnection, range: TimeRange, opts: AnalysisOptions): Promise<{ threads: IoUsage[]; files: FileUsage[] }> {
  await requireEvents(conn, 'iousagetop', ['syscall_entry_%', 'syscall_exit_%'], ENABLE);
  const read = `sum(CASE WHEN s.name IN ${inList(KINDS.read)} AND s.ret > 0 THEN s.ret ELSE 0 END)`;
  const written = `sum(CASE WHEN s.name IN ${inList(KINDS.write)} AND s.ret > 0 THEN s.ret ELSE 0 END)`;
  const limit = opts.top !== undefined ? `LIMIT ${Math.trunc(opts.top)}` : '';
  const t = await runSql(
    conn,
    `SELECT s.tid, any_value(th.pid), COALESCE(any_value(th.name), '?'), ${read} AS r, ${written} AS w FROM ${calls(range, opts)}
     GROUP BY s.tid HAVING r + w > 0 ORDER BY r + w DESC, s.tid ${limit}`,
  );
  return {
    threads: t.rows.map(([tid, pid, name, r, w]) => ({ tid: Number(tid), pid: pid === null ? null : Number(pid), name: String(name), readBytes: Number(r), writtenBytes: Number(w) })),
    files: await fileUsage(conn, range, opts, limit),
  };
}

/** A descriptor's file: the last open(at) of its process that returned it (the entry events carry fd and filename). */
async function fileUsage(conn: DuckDBConnection, range: TimeRange, opts: AnalysisOptions, limit: string): Promise<FileUsage[]> {
  const views = new Set((await runSql(conn, `SELECT table_name FROM information_schema.tables`)).rows.map((r) => String(r[0])));
  const withFd = [...new Set([...KINDS.read, ...KINDS.write])].filter((n) => !n.startsWith('s') && views.has(`syscall_entry_${n}`));
  // tracefs records the file name's user-space address, not the text: no file names to give then.
  const named = await runSql(conn, `SELECT table_name FROM information_schema.columns WHERE column_name = 'filename' AND data_type = 'VARCHAR'`);
  const textual = new Set(named.rows.map((r) => String(r[0])));
  const opens = ['open', 'openat'].filter((n) => textual.has(`syscall_entry_${n}`));
  if (withFd.length === 0 || opens.length === 0) return [];
  const r = await runSql(
    conn,
    `WITH io AS (
       SELECT s.ts, s.tid, e.pid, e.fd, s.name, s.ret FROM (SELECT s.* FROM ${calls(range, opts)} AND s.ret > 0) s
       JOIN (${withFd.map((n) => `SELECT ts, tid, pid, fd FROM "syscall_entry_${n}"`).join(' UNION ALL ')}) e ON e.ts = s.ts AND e.tid = s.tid
     ), op AS (
       SELECT s.ts, e.pid, s.ret AS fd, e.filename FROM syscalls s
       JOIN (${opens.map((n) => `SELECT ts, tid, pid, filename FROM "syscall_entry_${n}"`).join(' UNION ALL ')}) e ON e.ts = s.ts AND e.tid = s.tid
       WHERE s.ret >= 0
     )
     SELECT COALESCE(op.filename, 'unknown (fd ' || io.fd || ')') AS file,
            sum(CASE WHEN io.name IN ${inList(KINDS.read)} THEN io.ret ELSE 0 END) AS r,
            sum(CASE WHEN io.name IN ${inList(KINDS.write)} THEN io.ret ELSE 0 END) AS w
     FROM io ASOF LEFT JOIN op ON op.pid = io.pid AND op.fd = io.fd AND op.ts <= io.ts
     GROUP BY ALL ORDER BY r + w DESC, file ${limit}`,
  );
  return r.rows.map(([file, rd, wr]) => ({ file: String(file), readBytes: Number(rd), writtenBytes: Number(wr) }));
}
