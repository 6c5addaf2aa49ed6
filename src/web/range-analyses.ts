// The analyses of a range selected on the timeline: CPU per thread and per CPU (cputop), system call latency
// per call (syscalls table), scheduling latency per thread and each wakeup's (schedstats, schedlat). The same
// queries `ltt analyze` runs (src/analyses), and ltt/auto's requests (`ltt analyze requests`) when the trace
// has them; an analysis the trace lacks the events for leaves its note.

import type { DuckDBConnection } from '@duckdb/node-api';
import { lostNotes, type TimeRange } from '../analyses/analysis-range.js';
import { cpuTop } from '../analyses/cputop.js';
import { statsColumns, statsFromRow } from '../analyses/latency-stats.js';
import { requestsAnalysis, type RequestsResult } from '../analyses/requests.js';
import { schedLatencies, schedStats } from '../analyses/schedstats.js';
import { runSql } from '../engine/run-sql.js';
import type { RangeAnalyses, RangeRequests } from './protocol.js';
import type { TraceShape } from './timeline-queries.js';

/** The wakeups plotted at most: the slowest beyond that are what a plot of a long range should show. */
const MAX_POINTS = 20_000;
function rangeRequests(r: RequestsResult): RangeRequests {
  return {
    count: r.count,
    unfinished: r.unfinished,
    routes: r.routes.map((s) => ({ route: s.route, count: s.count, p50: s.p50Ns, p99: s.p99Ns, max: s.maxNs, onCpu: s.avgOnCpuNs, queued: s.avgQueuedNs, idle: s.avgIdleNs })),
    slowest: r.slowest.map((b) => ({
      pid: b.pid,
      req: b.req,
      tid: b.tid,
      label: `${b.method} ${b.path} ${b.finished ? String(b.status ?? '?') : 'unfinished'}`,
      wall: b.wallNs,
      onCpu: b.userNs + b.sysNs,
      queued: b.queuedNs,
      idle: b.idleNs,
    })),
  };
}

export async function rangeAnalyses(conn: DuckDBConnection, shape: TraceShape, b: number, e: number): Promise<RangeAnalyses> {
  const { origin } = shape;
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
  const requests = shape.hasRequests ? await attempt(() => requestsAnalysis(conn, range, {}), undefined) : undefined;
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
    ...(requests ? { requests: rangeRequests(requests) } : {}),
    notes,
  };
}
