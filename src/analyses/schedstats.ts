// Scheduling latency (lttng-schedstats and lttng-schedlog/-schedtop): the wakeups table (first wakeup of a
// thread that is not running, to the switch that runs it), per thread, or one row per wakeup, slowest first
// with --top.

import type { DuckDBConnection } from '@duckdb/node-api';
import { runSql } from '../engine/run-sql.js';
import { requireEvents, threadFilter, type AnalysisOptions, type TimeRange } from './analysis-range.js';
import { statsColumns, statsFromRow, type DurationStats } from './latency-stats.js';

export interface ThreadSchedStats extends DurationStats {
  readonly tid: number;
  readonly name: string;
  readonly prios: number[];
}

export interface Wakeup {
  readonly wakeupTs: bigint;
  readonly switchTs: bigint;
  readonly latencyNs: number;
  readonly prio: number | null;
  readonly cpu: number;
  readonly tid: number;
  readonly name: string;
  readonly wakerTid: number | null;
  readonly wakerName: string | null;
}

const NEEDS = ['sched_switch', 'sched_wakeup%', 'sched_waking'];
const ENABLE = 'ltt enable-event -k sched_switch,sched_waking,sched_wakeup,sched_wakeup_new';

function where(range: TimeRange, opts: AnalysisOptions): string {
  return `w.switch_ts BETWEEN ${range.begin} AND ${range.end} AND w.ts >= ${range.begin} AND ${threadFilter(opts, 'w.tid', 't.name')}`;
}

export async function schedStats(conn: DuckDBConnection, range: TimeRange, opts: AnalysisOptions): Promise<ThreadSchedStats[]> {
  await requireEvents(conn, 'schedstats', NEEDS, ENABLE);
  const r = await runSql(
    conn,
    `SELECT w.tid, COALESCE(any_value(t.name), '?'), ${statsColumns('w.latency')}, list_sort(list_distinct(list(w.prio)))
     FROM wakeups w LEFT JOIN threads t ON t.trace_id = w.trace_id AND t.tid = w.tid
     WHERE ${where(range, opts)} GROUP BY w.tid ORDER BY max(w.latency) DESC, w.tid ${opts.top !== undefined ? `LIMIT ${opts.top}` : ''}`,
  );
  return r.rows.map((row) => ({
    tid: Number(row[0]),
    name: String(row[1]),
    ...statsFromRow(row, 2),
    prios: ((row[7] as { items?: unknown[] } | null)?.items ?? []).filter((p) => p !== null).map(Number),
  }));
}

export async function schedLatencies(conn: DuckDBConnection, range: TimeRange, opts: AnalysisOptions): Promise<Wakeup[]> {
  await requireEvents(conn, 'schedlat', NEEDS, ENABLE);
  const order = opts.top !== undefined ? `ORDER BY w.latency DESC, w.ts LIMIT ${opts.top}` : 'ORDER BY w.ts';
  const r = await runSql(
    conn,
    `SELECT w.ts, w.switch_ts, w.latency, w.prio, w.cpu, w.tid, COALESCE(t.name, '?'), w.waker_tid, k.name
     FROM wakeups w LEFT JOIN threads t ON t.trace_id = w.trace_id AND t.tid = w.tid
       LEFT JOIN threads k ON k.trace_id = w.trace_id AND k.tid = w.waker_tid
     WHERE ${where(range, opts)} ${order}`,
  );
  return r.rows.map((row) => ({
    wakeupTs: BigInt(row[0] as bigint),
    switchTs: BigInt(row[1] as bigint),
    latencyNs: Number(row[2]),
    prio: row[3] === null ? null : Number(row[3]),
    cpu: Number(row[4]),
    tid: Number(row[5]),
    name: String(row[6]),
    wakerTid: row[7] === null ? null : Number(row[7]),
    wakerName: row[8] === null ? null : String(row[8]),
  }));
}
