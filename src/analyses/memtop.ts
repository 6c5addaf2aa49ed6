// Page allocations and frees per thread (lttng-memtop), from LTTng's kmem_mm_page_alloc/kmem_mm_page_free
// events (tracefs' kmem/mm_page_alloc and mm_page_free, as ltt names them), charged to the thread running on
// the event's CPU. Where lttng-analyses differs: 0.6.1 ignores every free while its count of pages allocated
// in the trace is zero (so the frees of pages allocated before the trace are dropped, and a thread's count
// depends on other threads' allocations); ltt counts each free.

import type { DuckDBConnection } from '@duckdb/node-api';
import { runSql } from '../engine/run-sql.js';
import { requireEvents, threadFilter, type AnalysisOptions, type TimeRange } from './analysis-range.js';

export interface MemUsage {
  readonly tid: number;
  readonly pid: number | null;
  readonly name: string;
  readonly allocatedPages: number;
  readonly freedPages: number;
}

export async function memTop(conn: DuckDBConnection, range: TimeRange, opts: AnalysisOptions): Promise<{ threads: MemUsage[]; allocated: number; freed: number }> {
  await requireEvents(conn, 'memtop', ['kmem_mm_page_alloc', 'kmem_mm_page_free'], 'ltt enable-event -k kmem_mm_page_alloc,kmem_mm_page_free');
  const r = await runSql(
    conn,
    `SELECT e.tid, any_value(th.pid), COALESCE(any_value(th.name), '?'),
            count(*) FILTER (WHERE e.name = 'kmem_mm_page_alloc') AS a, count(*) FILTER (WHERE e.name = 'kmem_mm_page_free') AS f
     FROM events e LEFT JOIN threads th ON th.trace_id = e.trace_id AND th.tid = e.tid
     WHERE e.name IN ('kmem_mm_page_alloc', 'kmem_mm_page_free') AND e.tid IS NOT NULL
       AND e.ts BETWEEN ${range.begin} AND ${range.end} AND ${threadFilter(opts, 'e.tid', 'th.name')}
     GROUP BY e.tid ORDER BY a + f DESC, e.tid`,
  );
  const threads = r.rows.map(([tid, pid, name, a, f]) => ({ tid: Number(tid), pid: pid === null ? null : Number(pid), name: String(name), allocatedPages: Number(a), freedPages: Number(f) }));
  return {
    threads: opts.top !== undefined ? threads.slice(0, opts.top) : threads,
    allocated: threads.reduce((n, t) => n + t.allocatedPages, 0),
    freed: threads.reduce((n, t) => n + t.freedPages, 0),
  };
}
