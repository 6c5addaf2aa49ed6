// CPU usage per thread and per CPU over a time range (lttng-cputop): the sched table's slices clipped to the
// range. Ratios are of the range's length, as lttng-analyses gives them (a thread on two CPUs can pass 1).
// Where lttng-analyses differs: it charges a thread switched out without having been seen switched in from
// the trace's beginning (an inconsistent switch then gives it far more than it ran), and counts a CPU busy
// from the trace's beginning to its first switch even when that switch leaves the idle task; ltt charges the
// slices the switches describe.

import type { DuckDBConnection } from '@duckdb/node-api';
import { runSql } from '../engine/run-sql.js';
import { requireEvents, threadFilter, type AnalysisOptions, type TimeRange } from './analysis-range.js';

export interface CpuTopResult {
  readonly range: TimeRange;
  /** Busiest first: tid, pid, name, ns on CPU, ratio, migrations, priorities seen. */
  readonly threads: { tid: number; pid: number | null; name: string; ns: bigint; ratio: number; migrations: number; prios: number[] }[];
  readonly cpus: { cpu: number; ratio: number }[];
  readonly total: number;
}

export async function cpuTop(conn: DuckDBConnection, range: TimeRange, opts: AnalysisOptions): Promise<CpuTopResult> {
  await requireEvents(conn, 'cputop', ['sched_switch'], 'ltt enable-event -k sched_switch');
  const len = Number(range.end - range.begin) || 1;
  const clip = `greatest(0, least(s.ts + s.dur, ${range.end}) - greatest(s.ts, ${range.begin}))`;
  const inRange = `s.ts <= ${range.end} AND s.ts + s.dur >= ${range.begin}`;
  const migrations = (await runSql(conn, `SELECT count(*) FROM event_classes WHERE name = 'sched_migrate_task'`)).rows[0]![0] !== 0n;
  const threads = await runSql(
    conn,
    `WITH t AS (
       SELECT s.trace_id, s.tid, sum(${clip}) AS ns, list_sort(list_distinct(list(s.prio))) AS prios
       FROM sched s WHERE ${inRange} AND s.tid <> 0 GROUP BY s.trace_id, s.tid
     ), m AS (
       ${migrations ? `SELECT tid, count(*) AS n FROM sched_migrate_task WHERE ts BETWEEN ${range.begin} AND ${range.end} GROUP BY tid` : 'SELECT NULL::INTEGER AS tid, 0 AS n WHERE FALSE'}
     )
     SELECT t.tid, th.pid, COALESCE(th.name, '?') AS name, t.ns, t.ns / ${len} AS ratio, COALESCE(m.n, 0) AS migrations, t.prios
     FROM t LEFT JOIN threads th ON th.trace_id = t.trace_id AND th.tid = t.tid LEFT JOIN m ON m.tid = t.tid
     WHERE ${threadFilter(opts, 't.tid', 'th.name')}
     ORDER BY t.ns DESC, t.tid ${opts.top !== undefined ? `LIMIT ${Math.trunc(opts.top)}` : ''}`,
  );
  const cpus = await runSql(
    conn,
    `SELECT s.cpu, sum(CASE WHEN s.tid <> 0 THEN ${clip} ELSE 0 END) / ${len} AS ratio
     FROM sched s WHERE ${inRange} GROUP BY s.cpu ORDER BY s.cpu`,
  );
  const cpuRows = cpus.rows.map(([cpu, ratio]) => ({ cpu: Number(cpu), ratio: Number(ratio) }));
  return {
    range,
    threads: threads.rows.map(([tid, pid, name, ns, ratio, mig, prios]) => ({
      tid: Number(tid),
      pid: pid === null ? null : Number(pid),
      name: String(name),
      ns: BigInt(ns as bigint),
      ratio: Number(ratio),
      migrations: Number(mig),
      prios: ((prios as { items?: unknown[] } | null)?.items ?? []).map(Number),
    })),
    cpus: cpuRows,
    total: cpuRows.length > 0 ? cpuRows.reduce((a, c) => a + c.ratio, 0) / cpuRows.length : 0,
  };
}
