// System call statistics per thread (lttng-syscallstats): count, min/avg/max/stdev of the duration and the
// return values' errors, over the syscalls table (entry and exit paired per thread) within a time range.
// A call is counted when it begins in the range. Where lttng-analyses differs: it counts a thread's calls from
// the exit events it saw, so a call cut by the trace's end or beginning can add or miss one.

import type { DuckDBConnection } from '@duckdb/node-api';
import { runSql } from '../engine/run-sql.js';
import type { TableExtension } from '../engine/trace-db.js';
import { requireEvents, threadFilter, type AnalysisOptions, type TimeRange } from './analysis-range.js';

export interface SyscallStat {
  readonly name: string;
  readonly count: number;
  readonly minNs: number;
  readonly avgNs: number;
  readonly maxNs: number;
  /** Sample standard deviation (n-1), as lttng-analyses; null with a single call. */
  readonly stdevNs: number | null;
  readonly errors: number;
}

export interface ThreadSyscalls {
  readonly tid: number;
  readonly pid: number | null;
  readonly name: string;
  readonly total: number;
  readonly calls: SyscallStat[];
}

/** The per-thread, per-call statistics of the whole trace (the table SYSCALL_STATS keeps). */
const STATS_TABLE = 'analyze_syscall_stats_1';
const STATS_SQL = `SELECT trace_id, tid, name, count(*) AS n, min(dur) AS lo, avg(dur) AS mean, max(dur) AS hi,
  stddev_samp(dur) AS sd, count(*) FILTER (WHERE ret < 0) AS errors FROM syscalls`;

/**
 * Kept in the trace's cache (openTraceDb's `extend`, asked for by a syscallstats over the whole trace): the
 * statistics grouped once, so that a second run reads a row per thread and call instead of grouping every call
 * again (5 M calls in a 10 M-event kernel trace: most of a warm run's CPU, growing with the trace).
 */
export const SYSCALL_STATS: TableExtension = {
  marker: STATS_TABLE,
  async build(conn, temp) {
    await conn.run(`CREATE OR REPLACE ${temp ? 'TEMP ' : ''}TABLE ${STATS_TABLE} AS ${STATS_SQL} GROUP BY trace_id, tid, name`);
  },
};

export async function syscallStats(conn: DuckDBConnection, range: TimeRange, opts: AnalysisOptions): Promise<ThreadSyscalls[]> {
  await requireEvents(conn, 'syscallstats', ['syscall_entry_%', 'syscall_exit_%'], 'ltt enable-event -k --syscall -a');
  // One trace (a thread is one tid): the calls are counted first and the few groups then joined with their
  // thread, not each call (a third of the CPU of a warm run on 5 M calls). Several traces keep a tid's calls
  // together across them, as before.
  const [traces, first, last, kept] = (await runSql(conn, `SELECT count(*), min(first_ts), max(last_ts),
    (SELECT count(*) FROM duckdb_tables() WHERE table_name = '${STATS_TABLE}') FROM traces`)).rows[0]!;
  const oneTrace = Number(traces) === 1;
  // Every call begins within its trace: a range from the first event to the last takes them all, as the kept
  // statistics counted them.
  const whole = first !== null && last !== null && range.begin <= (first as bigint) && range.end >= (last as bigint);
  const grouped = whole && Number(kept) > 0 ? STATS_TABLE : `(${STATS_SQL} WHERE ts BETWEEN ${range.begin} AND ${range.end} GROUP BY trace_id, tid, name)`;
  const r = await runSql(
    conn,
    oneTrace
      ? `SELECT s.tid, th.pid, COALESCE(th.name, '?'), s.name, s.n, s.lo, s.mean, s.hi, s.sd, s.errors
         FROM ${grouped} s
         LEFT JOIN threads th ON th.trace_id = s.trace_id AND th.tid = s.tid
         WHERE ${threadFilter(opts, 's.tid', 'th.name')}`
      : `SELECT s.tid, any_value(th.pid), COALESCE(any_value(th.name), '?'), s.name, count(*), min(dur), avg(dur), max(dur),
                stddev_samp(dur), count(*) FILTER (WHERE ret < 0)
         FROM syscalls s LEFT JOIN threads th ON th.trace_id = s.trace_id AND th.tid = s.tid
         WHERE s.ts BETWEEN ${range.begin} AND ${range.end} AND ${threadFilter(opts, 's.tid', 'th.name')}
         GROUP BY s.tid, s.name`,
  );
  const byTid = new Map<number, ThreadSyscalls & { calls: SyscallStat[]; total: number }>();
  for (const [tid, pid, tname, name, count, min, avg, max, stdev, errors] of r.rows) {
    const t = Number(tid);
    let entry = byTid.get(t);
    if (!entry) {
      entry = { tid: t, pid: pid === null ? null : Number(pid), name: String(tname), total: 0, calls: [] };
      byTid.set(t, entry);
    }
    entry.calls.push({
      name: String(name),
      count: Number(count),
      minNs: Number(min),
      avgNs: Number(avg),
      maxNs: Number(max),
      stdevNs: stdev === null ? null : Number(stdev),
      errors: Number(errors),
    });
    entry.total += Number(count);
  }
  const out = [...byTid.values()].sort((a, b) => b.total - a.total || a.tid - b.tid);
  for (const t of out) t.calls.sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  return opts.top !== undefined ? out.slice(0, opts.top) : out;
}
