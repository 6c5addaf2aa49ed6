// `ltt export --format chrome-json`: the Trace Event format (JSON array) that chrome://tracing, Perfetto's UI
// and speedscope-style tools open. CPUs are the threads of a pseudo-process "CPUs" (pid CPU_PID, tid
// CPU_PID + cpu) whose slices are the threads that ran and the interrupt handlers; each thread's track holds
// its system calls; ltt/ust (and other user-space) events are instant events on their thread. Times are µs
// from the trace's first event; process and thread names come as metadata events.
//
// Contract: `exportChromeJson(conn, file)` writes the whole file (DuckDB's JSON writer) and returns the
// number of trace events written.

import type { DuckDBConnection } from '@duckdb/node-api';
import { runSql, sqlString } from '../engine/run-sql.js';

/** Above Linux's largest pid_max (2^22): never a real process. */
export const CPU_PID = 4194305;

export async function exportChromeJson(conn: DuckDBConnection, file: string): Promise<number> {
  const t0 = '(SELECT min(ts) FROM events)';
  const us = (col: string): string => `(${col} - ${t0}) / 1000.0`;
  const sql = `
    SELECT 'process_name' AS name, '__metadata' AS cat, 'M' AS ph, 0::DOUBLE AS ts, NULL::DOUBLE AS dur, pid, pid AS tid,
           {'name': name}::JSON AS args FROM processes
    UNION ALL SELECT 'thread_name', '__metadata', 'M', 0, NULL, COALESCE(pid, tid), tid, {'name': name}::JSON FROM threads
    UNION ALL SELECT 'process_name', '__metadata', 'M', 0, NULL, ${CPU_PID}, ${CPU_PID}, {'name': 'CPUs'}::JSON
    UNION ALL SELECT DISTINCT 'thread_name', '__metadata', 'M', 0, NULL, ${CPU_PID}, ${CPU_PID} + 1 + cpu, {'name': 'CPU ' || cpu}::JSON
      FROM sched
    UNION ALL SELECT COALESCE(t.name, '?') || ' (' || s.tid || ')', 'sched', 'X', ${us('s.ts')}, s.dur / 1000.0, ${CPU_PID},
           ${CPU_PID} + 1 + s.cpu, {'tid': s.tid, 'prio': s.prio, 'end_state': s.end_state}::JSON
      FROM sched s LEFT JOIN threads t ON t.trace_id = s.trace_id AND t.tid = s.tid WHERE s.tid <> 0
    UNION ALL SELECT 'irq ' || i.irq || COALESCE(' ' || i.name, ''), 'irq', 'X', ${us('i.ts')}, i.dur / 1000.0, ${CPU_PID},
           ${CPU_PID} + 1 + i.cpu, {'ret': i.ret}::JSON FROM irqs i
    UNION ALL SELECT s.name, 'syscall', 'X', ${us('s.ts')}, s.dur / 1000.0, COALESCE(t.pid, s.tid), s.tid, {'ret': s.ret}::JSON
      FROM syscalls s LEFT JOIN threads t ON t.trace_id = s.trace_id AND t.tid = s.tid
    UNION ALL SELECT e.name, 'ust', 'i', ${us('e.ts')}, NULL, COALESCE(e.pid, e.tid, 0), COALESCE(e.tid, 0), NULL
      FROM events e JOIN traces tr USING (trace_id) WHERE tr.domain = 'ust'`;
  await runSql(conn, `COPY (SELECT * FROM (${sql}) ORDER BY ph <> 'M', ts) TO ${sqlString(file)} (FORMAT json, ARRAY true)`);
  const n = await runSql(conn, `SELECT count(*) FROM (${sql})`);
  return Number(n.rows[0]![0]);
}
