// The trace's threads as a listing (ltt analyze threads): tid, pid, every name the thread had with the time
// it was first seen, first and last event, and CPU time in the range (the sched table's slices, clipped).

import type { DuckDBConnection } from '@duckdb/node-api';
import { runSql } from '../engine/run-sql.js';
import { threadFilter, type AnalysisOptions, type TimeRange } from './analysis-range.js';

export interface ThreadRow {
  readonly tid: number;
  readonly pid: number | null;
  readonly name: string;
  readonly names: { ts: bigint; name: string }[];
  readonly firstTs: bigint | null;
  readonly lastTs: bigint | null;
  readonly cpuNs: bigint;
}

export async function threadList(conn: DuckDBConnection, range: TimeRange, opts: AnalysisOptions): Promise<ThreadRow[]> {
  const clip = `greatest(0, least(s.ts + s.dur, ${range.end}) - greatest(s.ts, ${range.begin}))`;
  const r = await runSql(
    conn,
    `WITH cpu AS (SELECT trace_id, tid, sum(${clip}) AS ns FROM sched s WHERE s.tid <> 0 GROUP BY ALL),
     nm AS (SELECT trace_id, tid, list({'ts': ts, 'name': name} ORDER BY ts) AS names FROM thread_names GROUP BY ALL)
     SELECT t.tid, t.pid, t.name, nm.names, t.first_ts, t.last_ts, COALESCE(cpu.ns, 0)::BIGINT AS ns
     FROM threads t LEFT JOIN cpu USING (trace_id, tid) LEFT JOIN nm USING (trace_id, tid)
     WHERE ${threadFilter(opts, 't.tid', 't.name')}
       AND (t.first_ts IS NULL OR (t.first_ts <= ${range.end} AND t.last_ts >= ${range.begin}))
     ORDER BY ${opts.top !== undefined ? `ns DESC, t.tid LIMIT ${Math.trunc(opts.top)}` : 't.trace_id, t.tid'}`,
  );
  return r.rows.map(([tid, pid, name, names, first, last, ns]) => ({
    tid: Number(tid),
    pid: pid === null ? null : Number(pid),
    name: String(name),
    names: ((names as { items?: { entries?: Record<string, unknown> }[] } | null)?.items ?? []).map((n) => {
      const e = (n.entries ?? n) as Record<string, unknown>;
      return { ts: BigInt(e['ts'] as bigint), name: String(e['name']) };
    }),
    firstTs: first === null ? null : BigInt(first as bigint),
    lastTs: last === null ? null : BigInt(last as bigint),
    cpuNs: BigInt(ns as bigint),
  }));
}
