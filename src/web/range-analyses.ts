// The analyses of a range selected on the timeline: CPU per thread and per CPU (cputop), system call latency
// per call (syscalls table), scheduling latency per thread and each wakeup's (schedstats, schedlat). The same
// queries `ltt analyze` runs (src/analyses); an analysis the trace lacks the events for leaves its note.

import type { DuckDBConnection } from '@duckdb/node-api';
import { lostNotes, type TimeRange } from '../analyses/analysis-range.js';
import { cpuTop } from '../analyses/cputop.js';
import { statsColumns, statsFromRow } from '../analyses/latency-stats.js';
import { schedLatencies, schedStats } from '../analyses/schedstats.js';
import { runSql } from '../engine/run-sql.js';
import type { RangeAnalyses } from './protocol.js';

/** The wakeups plotted at most: the slowest beyond that are what a plot of a long range should show. */
const MAX_POINTS = 20_000;

export async function rangeAnalyses(conn: DuckDBConnection, origin: bigint, b: number, e: number): Promise<RangeAnalyses> {
  const range: TimeRange = { begin: origin + BigInt(Math.floor(b)), end: origin + BigInt(Math.ceil(e)) };
  const notes = await lostNotes(conn, range);
  const attempt = async <T>(f: () => Promise<T>, none: T): Promise<T> => {
    try {
      return await f();
    } catch (err) {
      notes.push(err instanceof Error ? err.message : String(err));
      return none;
    }
  };
  const top = await attempt(() => cpuTop(conn, range, {}), undefined);
  const syscalls = await runSql(
    conn,
    `SELECT name, ${statsColumns('dur')}, sum(dur) FROM syscalls WHERE ts BETWEEN ${range.begin} AND ${range.end}
     GROUP BY name ORDER BY sum(dur) DESC LIMIT 200`,
  );
  const sched = await attempt(() => schedStats(conn, range, { top: 200 }), []);
  const wakeups = await attempt(() => schedLatencies(conn, range, {}), []);
  const step = Math.max(1, Math.ceil(wakeups.length / MAX_POINTS));
  return {
    b,
    e,
    cpu: (top?.threads ?? []).slice(0, 200).map((t) => ({ tid: t.tid, pid: t.pid, name: t.name, ns: Number(t.ns), ratio: t.ratio })),
    cpus: top?.cpus ?? [],
    syscalls: syscalls.rows.map((row) => {
      const s = statsFromRow(row, 1);
      return { name: String(row[0]), count: s.count, min: s.minNs, avg: s.avgNs, max: s.maxNs, total: Number(row[6]) };
    }),
    schedLatency: sched.map((t) => ({ tid: t.tid, name: t.name, count: t.count, min: t.minNs, avg: t.avgNs, max: t.maxNs })),
    latencies: wakeups.filter((_w, i) => i % step === 0).map((w) => [Number(w.wakeupTs - origin), w.latencyNs] as [number, number]),
    notes,
  };
}
