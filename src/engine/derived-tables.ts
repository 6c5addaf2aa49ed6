// The tables users query, built in SQL from the raw tables import-trace.ts fills in time order (what the import
// followed as it read, each event's thread and the system call pairs, comes ready; DuckDB does the joins and
// windows over the few events the other tables need).
//
// Contract: `buildTables(conn, dir, side?)` runs once after an import into folder `dir`; `side`, a second
// connection to the same database, builds the per-name views meanwhile (on the other CPU). It makes `events` (a view over
// the import's Parquet file: ns timestamps, names, the
// thread each event ran in: from the tid/vtid context when the trace has one, else, for kernel traces, from
// the last sched_switch on the event's CPU), in time order (its id), one view per event name (the payload, `payload:NAME`, beside ts/cpu/tid/pid),
// and where the trace has the events for them: `threads`, `sched` (time slices), `syscalls` (entry and exit
// paired), `irqs`, `softirqs`, the requests of ltt/auto apps (request-tables.ts), and `lost` (what the tracer discarded, where: analyses say where they are
// blind). Tables whose source events are absent exist, empty, so queries never fail on a missing table.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { EVENTS_FILE, SCHED_FILE, SYSCALLS_FILE } from './import-trace.js';
import { buildRequestTables } from './request-tables.js';
import { columnsOf, sqlIdentifier, sqlString } from './run-sql.js';

/** `alias."name"` for a column the table has, NULL otherwise: traces of other tracers shape events their way. */
async function columnPicker(conn: DuckDBConnection, table: string, alias: string): Promise<(name: string) => string> {
  const cols = await columnsOf(conn, table);
  return (name) => (cols.has(name) ? `${alias}.${sqlIdentifier(name)}` : 'NULL');
}

/** A constant list of SQL type `type` (indexed from 1, or from the end with negative indexes). */
function listSql(values: readonly unknown[], type: string): string {
  const text = type === 'VARCHAR';
  return `[${values.map((v) => (v === null || v === undefined ? 'NULL' : text ? sqlString(String(v)) : String(v))).join(', ')}]::${type}[]`;
}

/**
 * `at(col, type, index)`: SQL of column `col` of the rows of `sql` (ordered as the index counts) at `index`; a
 * constant when every row has the same value (one trace, one host: no lookup per row), NULL where `index` is.
 */
async function lookupOf(conn: DuckDBConnection, sql: string): Promise<{ rows: unknown[][]; at: (col: number, type: string, index: string) => string }> {
  const rows = (await conn.runAndReadAll(sql)).getRows();
  return {
    rows,
    at: (col, type, index) => {
      const values = rows.map((r) => r[col]);
      const same = values.length > 0 && values.every((v) => v === values[0]) && values[0] !== null;
      // A NULL index (an event with no known thread) stays NULL, as the list lookup gives.
      return same ? `CASE WHEN ${index} IS NOT NULL THEN (${listSql([values[0]], type)})[1] END` : `(${listSql(values, type)})[${index}]`;
    },
  };
}

/** SQL of a relation: the rows of `ev` (see buildTables) of events with these names. */
type EventsOf = (...names: string[]) => string;

async function tableNames(conn: DuckDBConnection): Promise<Set<string>> {
  const r = await conn.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary
    UNION ALL SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT temporary AND NOT internal`);
  return new Set(r.getRows().map((row) => String(row[0])));
}

export async function buildTables(conn: DuckDBConnection, dir: string, side?: DuckDBConnection): Promise<void> {
  const raw = await tableNames(conn);
  const allColumns = await conn.runAndReadAll(`SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE table_name LIKE 'payload:%'`);
  const columns = new Map<string, Map<string, string>>();
  for (const [t, c, type] of allColumns.getRows()) {
    const map = columns.get(String(t)) ?? new Map<string, string>();
    map.set(String(c), String(type));
    columns.set(String(t), map);
  }
  // An event the trace has (import-trace.ts makes raw tables only for names that occur), with the fields a
  // derived table needs (other tracers shape events their way).
  const has = (name: string, ...fields: string[]): boolean =>
    raw.has(`payload:${name}`) && fields.every((f) => columns.get(`payload:${name}`)?.has(f));
  // The events of some names only: joined with a payload table, the join then probes a few rows, not all events.
  const classIds = new Map<string, string[]>();
  for (const [id, name] of (await conn.runAndReadAll('SELECT class_id, name FROM event_classes')).getRows()) {
    classIds.set(String(name), [...(classIds.get(String(name)) ?? []), String(id)]);
  }
  const evOf: EventsOf = (...names) => `(SELECT * FROM ev WHERE class_id IN (${names.flatMap((n) => classIds.get(n) ?? ['-1']).join(', ')}))`;

  // What the stream says (trace, host, CPU when each stream has one, the per-process trace's pid and procname)
  // and, in `ev` and `events`, the thread of each event's `thr` (see import-trace.ts) are list lookups, not
  // joins: a join would not keep the events in the import's order, which is their time order.
  const stream = await lookupOf(conn, `SELECT s.stream_id, s.trace_id, s.cpu, t.hostname, s.events, t.pid, t.procname FROM streams s
    JOIN traces t USING (trace_id) ORDER BY s.stream_id`);
  stream.rows.forEach((row, i) => {
    if (Number(row[0]) !== i) throw new Error(`stream ids are not 0..${stream.rows.length - 1}`);
  });
  const byStream = (col: number, type: string): string => stream.at(col, type, 'stream_id + 1');
  const threadOrder = 'ORDER BY r.thr < 0, r.thr';
  const thread = await lookupOf(conn, `SELECT r.tid FROM threads_raw r ${threadOrder}`);
  // A view, not a table: storing its columns per event cost more than the few scans that read it.
  await conn.run(`
    CREATE TEMP VIEW ev AS
      SELECT id, ts, cpu, ${byStream(1, 'INTEGER')} AS trace_id, stream_id, class_id, ${thread.at(0, 'INTEGER', 'thr')} AS tid
      FROM events_raw;
  `);

  await buildThreads(conn, has, evOf);

  const names = await lookupOf(conn, 'SELECT name FROM event_classes ORDER BY class_id');
  // Each thread number's thread (threads_raw has one row per number, threads one per trace and tid): the table
  // the per-name views and syscalls join, and the lists of the events view's macros (below).
  await conn.run(`
    CREATE SCHEMA IF NOT EXISTS ltt_lookup;
    CREATE TABLE ltt_lookup.threads AS
      SELECT r.thr, r.trace_id, r.tid, t.pid, t.name FROM threads_raw r LEFT JOIN threads t ON t.trace_id = r.trace_id AND t.tid = r.tid;
  `);
  const named = await lookupOf(conn, `SELECT r.pid, r.name FROM ltt_lookup.threads r ${threadOrder}`);
  const r = await columnPicker(conn, 'events_raw', 'r');
  const cpuKnown = stream.rows.every((row) => row[2] !== null || Number(row[4]) === 0);
  const file = `read_parquet(${sqlString(join(dir, EVENTS_FILE))})`;
  // The events view's lookups per event are macros, stored once (ltt_cpu and the stream's pid and procname
  // serve the per-name views too): written out in each view (every thread's tid, pid and name as list
  // constants), they made the cache file's catalog grow with threads x event names, and a warm open parsed all
  // of it (~0.1 s of every cached analysis).
  await conn.run(`
    CREATE MACRO ltt_cpu(stream_id, cpu) AS ${cpuKnown ? byStream(2, 'INTEGER') : 'cpu'};
    CREATE MACRO ltt_tid(thr) AS ${thread.at(0, 'INTEGER', 'thr')};
    CREATE MACRO ltt_stream_pid(stream_id) AS ${byStream(5, 'INTEGER')};
    CREATE MACRO ltt_stream_procname(stream_id) AS ${byStream(6, 'VARCHAR')};
    CREATE MACRO ltt_pid(ctx_pid, thr, stream_id) AS COALESCE(ctx_pid::INTEGER, ${named.at(0, 'INTEGER', 'thr')}, ltt_stream_pid(stream_id));
    CREATE MACRO ltt_procname(ctx_procname, thr, stream_id) AS COALESCE(ctx_procname::VARCHAR, ${named.at(1, 'VARCHAR', 'thr')}, ltt_stream_procname(stream_id));
  `);
  // The per-name views and syscalls join the thread numbers with ltt_lookup.threads instead: binding a view
  // that expands the list macros cost ~4 ms (1 s of a kernel trace's import, for its ~260 views), and the join
  // costs less per row than a lookup in a list constant. (`events` keeps the macros: a join would not keep its
  // order.)
  const cpu = 'ltt_cpu(r.stream_id, r.cpu)';
  const tid = 'ltt_tid(r.thr)';
  const pid = `ltt_pid(${r('ctx_pid')}, r.thr, r.stream_id)`;
  const procname = `ltt_procname(${r('ctx_procname')}, r.thr, r.stream_id)`;
  // A view over the import's file: the values computed per event as it is read (a lookup in a list each), not
  // stored (copying 2 M events into a table cost more CPU than decoding them).
  await conn.run(`
    CREATE VIEW events AS
      SELECT r.id, r.ts, ${cpu} AS cpu, ${byStream(1, 'INTEGER')} AS trace_id, r.stream_id,
             ${names.at(0, 'VARCHAR', 'r.class_id + 1')} AS name, ${tid} AS tid, ${pid} AS pid, ${procname} AS procname,
             ${byStream(3, 'VARCHAR')} AS host
      FROM ${file} r;
  `);

  // One view per event name: the payload beside the event's time and thread (views: a trace with every system
  // call enabled declares ~700 classes, and materialising each would probe the events 700 times). Each reads
  // the events file itself, its own classes only (not through `events`: binding that view's list of every
  // event name, per name, cost seconds).
  // Binding each view reads the events file's footer: read once.
  await conn.run('SET parquet_metadata_cache = true');
  const views: string[] = [];
  for (const t of raw) {
    if (!t.startsWith('payload:')) continue;
    const name = t.slice('payload:'.length);
    views.push(`CREATE VIEW ${sqlIdentifier(name)} AS
      SELECT e.id, e.ts, e.cpu, e.tid, e.pid, e.procname, p.* EXCLUDE (id)
      FROM ${sqlIdentifier(t)} p
      JOIN (SELECT r.id, r.ts, ${cpu} AS cpu, t.tid, COALESCE(${r('ctx_pid')}::INTEGER, t.pid, ltt_stream_pid(r.stream_id)) AS pid,
                   COALESCE(${r('ctx_procname')}::VARCHAR, t.name, ltt_stream_procname(r.stream_id)) AS procname
            FROM ${file} r LEFT JOIN ltt_lookup.threads t ON t.thr = r.thr
            WHERE r.class_id IN (${(classIds.get(name) ?? ['-1']).join(', ')})) e USING (id);`);
  }
  // Binding them is ~0.6 ms each of one CPU: on the side connection, while this one builds the tables that do
  // not read them (the requests do).
  const viewsSql = `BEGIN; ${views.join('\n')} COMMIT;`;
  const viewsMade = side ? side.run(viewsSql) : conn.run(viewsSql).then(() => undefined);
  if (!side) await viewsMade;
  // Awaited below; a failure of the tables first is thrown with this one settled.
  viewsMade.catch(() => undefined);
  try {
    await buildSched(conn);
    await buildWakeups(conn, has, evOf);
    await buildThreadState(conn);
    await buildSyscalls(conn, dir);
    await buildIrqs(conn, has, evOf);
  } finally {
    await viewsMade.catch(() => undefined);
  }
  await viewsMade;
  await buildRequestTables(conn, (name) => has(name));
  await conn.run(`
    CREATE TABLE lost AS
      SELECT s.trace_id, l.stream_id, s.path AS stream, l.kind, l.count,
             CAST(s.clock_offset_ns + l.begin_cycles AS BIGINT) AS begin_ts,
             CAST(s.clock_offset_ns + l.end_cycles AS BIGINT) AS end_ts
      FROM lost_raw l JOIN streams s USING (stream_id);
    DROP VIEW ev; DROP TABLE lost_raw; DROP VIEW events_raw; DROP TABLE threads_raw; DROP TABLE thread_names_raw;
  `);
  // Copied into sched: nothing reads this file again.
  rmSync(join(dir, SCHED_FILE), { force: true });
}

/**
 * threads(trace_id, tid, pid, name, first_ts, last_ts): from the state dump, fork, exec and sched_switch
 * names (the newest name wins: lttng-analyses keeps the first, which names a shell by what exec'd later);
 * thread_names(trace_id, tid, ts, name) keeps every name with the time it was seen.
 */
async function buildThreads(conn: DuckDBConnection, has: (n: string, ...f: string[]) => boolean, evOf: EventsOf): Promise<void> {
  const parts: string[] = [];
  const pidParts: string[] = [];
  if (has('lttng_statedump_process_state', 'tid', 'pid', 'name')) {
    parts.push(`SELECT e.trace_id, p.tid, e.ts, p.name FROM ${evOf('lttng_statedump_process_state')} e JOIN ${sqlIdentifier('payload:lttng_statedump_process_state')} p USING (id)`);
    pidParts.push(`SELECT e.trace_id, p.tid, p.pid FROM ${evOf('lttng_statedump_process_state')} e JOIN ${sqlIdentifier('payload:lttng_statedump_process_state')} p USING (id)`);
  }
  if (has('sched_process_fork', 'child_tid', 'child_pid', 'child_comm', 'parent_tid', 'parent_pid')) {
    parts.push(`SELECT e.trace_id, p.child_tid, e.ts, p.child_comm FROM ${evOf('sched_process_fork')} e JOIN ${sqlIdentifier('payload:sched_process_fork')} p USING (id)`);
    pidParts.push(`SELECT e.trace_id, p.child_tid, p.child_pid FROM ${evOf('sched_process_fork')} e JOIN ${sqlIdentifier('payload:sched_process_fork')} p USING (id)`);
    pidParts.push(`SELECT e.trace_id, p.parent_tid, p.parent_pid FROM ${evOf('sched_process_fork')} e JOIN ${sqlIdentifier('payload:sched_process_fork')} p USING (id)`);
  }
  if (has('sched_switch', 'prev_tid', 'next_tid', 'prev_comm', 'next_comm')) {
    parts.push(`SELECT e.trace_id, p.next_tid, e.ts, p.next_comm FROM ${evOf('sched_switch')} e JOIN ${sqlIdentifier('payload:sched_switch')} p USING (id)`);
    parts.push(`SELECT e.trace_id, p.prev_tid, e.ts, p.prev_comm FROM ${evOf('sched_switch')} e JOIN ${sqlIdentifier('payload:sched_switch')} p USING (id)`);
  }
  if (has('sched_process_exec', 'filename')) {
    // The new program's name is the file name's last component, at most 15 characters (TASK_COMM_LEN).
    parts.push(`SELECT e.trace_id, e.tid, e.ts, left(regexp_extract(p.filename, '[^/]*$'), 15) FROM ${evOf('sched_process_exec')} e JOIN ${sqlIdentifier('payload:sched_process_exec')} p USING (id) WHERE e.tid IS NOT NULL`);
  }
  parts.push(`SELECT trace_id, tid, ts, name FROM thread_names_raw`);
  pidParts.push(`SELECT trace_id, tid, pid FROM threads_raw WHERE thr > 0`);
  await conn.run(`
    CREATE TABLE thread_names AS
      SELECT trace_id, tid, min(ts) AS ts, name FROM (${parts.join(' UNION ALL ')}) n(trace_id, tid, ts, name)
      WHERE name IS NOT NULL GROUP BY trace_id, tid, name ORDER BY trace_id, tid, ts;
    CREATE TEMP TABLE tid_pid AS
      SELECT trace_id, tid, any_value(pid) AS pid FROM (${pidParts.join(' UNION ALL ')}) x(trace_id, tid, pid)
      WHERE pid IS NOT NULL GROUP BY ALL;
    CREATE TABLE threads AS
      SELECT n.trace_id, n.tid, COALESCE(p.pid, CASE WHEN n.tid = 0 THEN 0 END) AS pid, arg_max(n.name, n.ts) AS name,
             t.first_ts, t.last_ts
      FROM thread_names n
      LEFT JOIN tid_pid p USING (trace_id, tid)
      LEFT JOIN (SELECT trace_id, tid, first_ts, last_ts FROM threads_raw WHERE thr > 0) t USING (trace_id, tid)
      GROUP BY n.trace_id, n.tid, p.pid, t.first_ts, t.last_ts;
    CREATE TABLE processes AS
      SELECT trace_id, pid, arg_max(name, CASE WHEN tid = pid THEN 1 ELSE 0 END) AS name, count(*) AS threads
      FROM threads WHERE pid IS NOT NULL GROUP BY ALL;
  `);
}

/**
 * sched(trace_id, ts, dur, cpu, tid, prio, end_state): who ran on each CPU, slice by slice (tid 0: idle). A
 * CPU's first slice starts at the trace's beginning (the first switch's prev_tid ran until then) and its
 * last one ends at the trace's end, as lttng-analyses counts them.
 */
async function buildSched(conn: DuckDBConnection): Promise<void> {
  // Cut as the import read the switches (sched-slices.ts).
  await conn.run(`CREATE TABLE sched AS SELECT * FROM sched_raw ORDER BY ts, cpu; DROP VIEW sched_raw;`);
}

/**
 * wakeups(trace_id, ts, switch_ts, latency, tid, waker_tid, cpu, prio): scheduling latency, as lttng-analyses
 * measures it: from the first wakeup (sched_waking, sched_wakeup, sched_wakeup_new) of a thread that is not
 * running to the switch that runs it; wakeups of a running thread are ignored.
 */
async function buildWakeups(conn: DuckDBConnection, has: (n: string, ...f: string[]) => boolean, evOf: EventsOf): Promise<void> {
  const sources = ['sched_waking', 'sched_wakeup', 'sched_wakeup_new'].filter((n) => has(n, 'tid'));
  if (sources.length === 0 || !has('sched_switch', 'prev_tid', 'next_tid')) {
    await conn.run(`CREATE TABLE wakeups (trace_id INTEGER, ts BIGINT, switch_ts BIGINT, latency BIGINT, tid INTEGER, waker_tid INTEGER, cpu INTEGER, prio INTEGER)`);
    return;
  }
  await conn.run(`
    CREATE TEMP TABLE wk AS
      ${sources.map((n) => `SELECT e.trace_id, e.ts, e.id, e.tid AS waker_tid, p.tid FROM ${evOf(n)} e JOIN ${sqlIdentifier(`payload:${n}`)} p USING (id)`).join(' UNION ALL ')};
    CREATE TEMP TABLE wk_pending AS
      SELECT w.* FROM wk w
      ASOF LEFT JOIN sched s ON w.trace_id = s.trace_id AND w.tid = s.tid AND w.ts >= s.ts
      WHERE w.tid <> 0 AND (s.ts IS NULL OR w.ts >= s.ts + s.dur);
    CREATE TABLE wakeups AS
      SELECT w.trace_id, min(w.ts) AS ts, n.ts AS switch_ts, n.ts - min(w.ts) AS latency, w.tid,
             arg_min(w.waker_tid, w.ts) AS waker_tid, n.cpu, n.prio
      FROM wk_pending w
      ASOF JOIN sched n ON w.trace_id = n.trace_id AND w.tid = n.tid AND w.ts <= n.ts
      GROUP BY w.trace_id, w.tid, n.ts, n.cpu, n.prio
      ORDER BY ts;
  `);
}

/**
 * thread_state(trace_id, tid, ts, dur, state, reason, cpu, waker_tid): each thread's time as running (on
 * cpu), runnable (woken or preempted, waiting for a CPU) or blocked (reason: the state it switched out in,
 * e.g. TASK_INTERRUPTIBLE for a sleep or a wait, TASK_UNINTERRUPTIBLE mostly for I/O), between its first
 * and last slices.
 */
async function buildThreadState(conn: DuckDBConnection): Promise<void> {
  await conn.run(`
    CREATE TEMP TABLE ts_gaps AS
      SELECT trace_id, tid, ts + dur AS gap_ts, next_ts, end_state
      FROM (SELECT *, lead(ts) OVER (PARTITION BY trace_id, tid ORDER BY ts) AS next_ts FROM sched WHERE tid <> 0)
      WHERE next_ts IS NOT NULL AND next_ts > ts + dur;
    CREATE TABLE thread_state AS
      SELECT * FROM (
        SELECT trace_id, tid, ts, dur, 'running' AS state, NULL::VARCHAR AS reason, cpu, NULL::INTEGER AS waker_tid
        FROM sched WHERE tid <> 0
        UNION ALL
        SELECT g.trace_id, g.tid, g.gap_ts, g.next_ts - g.gap_ts, 'runnable', 'preempted', NULL, NULL
        FROM ts_gaps g WHERE g.end_state = 'TASK_RUNNING'
        UNION ALL
        SELECT g.trace_id, g.tid, g.gap_ts, COALESCE(w.ts, g.next_ts) - g.gap_ts, 'blocked', g.end_state, NULL, NULL
        FROM ts_gaps g LEFT JOIN wakeups w ON w.trace_id = g.trace_id AND w.tid = g.tid AND w.switch_ts = g.next_ts
          AND w.ts >= g.gap_ts
        WHERE g.end_state IS DISTINCT FROM 'TASK_RUNNING'
        UNION ALL
        SELECT g.trace_id, g.tid, w.ts, g.next_ts - w.ts, 'runnable', 'woken', NULL, w.waker_tid
        FROM ts_gaps g JOIN wakeups w ON w.trace_id = g.trace_id AND w.tid = g.tid AND w.switch_ts = g.next_ts
          AND w.ts >= g.gap_ts
        WHERE g.end_state IS DISTINCT FROM 'TASK_RUNNING'
      ) WHERE dur > 0 ORDER BY trace_id, tid, ts;
  `);
}

/**
 * syscalls(trace_id, ts, dur, cpu, tid, name, ret): an entry and the next event of its thread among its
 * system call events, when that is the matching exit (a thread runs one system call at a time), as the import
 * paired them (syscall-pairs.ts). A view over the pairs' Parquet file, its thread numbers and calls joined
 * with two small tables (ltt_lookup.threads and .syscall_names: out of `.tables`). Copying the pairs into a
 * table cost 0.3 s per million (DuckDB's insert path, whatever the values): a third of a 10 M-event import's
 * wall time. Through the joins, a query grouping 5.3 M pairs by call took 0.11 s against 0.04 s on the table,
 * one filtering read and write calls 0.13 s against 0.20 s; lookups in list constants (the events view's way)
 * took 0.3-0.6 s. The file's rows are in the order of their exits, not sorted by entry: nearly in time order,
 * so its min/max per row group still skip most of a time range. The view's order is the join's (usually the
 * file's): queries that need an order say ORDER BY.
 */
async function buildSyscalls(conn: DuckDBConnection, dir: string): Promise<void> {
  await conn.run(`
    CREATE TABLE ltt_lookup.syscall_names AS SELECT DISTINCT call, name FROM syscall_classes;
    CREATE VIEW syscalls AS
      SELECT t.trace_id, p.ts, p.dur, p.cpu, t.tid, n.name, p.ret
      FROM read_parquet(${sqlString(join(dir, SYSCALLS_FILE))}) p
      JOIN ltt_lookup.threads t ON t.thr = p.thr AND t.tid IS NOT NULL JOIN ltt_lookup.syscall_names n USING (call);
    DROP TABLE syscall_classes;
  `);
}

/** irqs(trace_id, ts, dur, cpu, irq, name, ret) and softirqs(trace_id, ts, dur, cpu, vec), entry/exit per CPU. */
async function buildIrqs(conn: DuckDBConnection, has: (n: string, ...f: string[]) => boolean, evOf: EventsOf): Promise<void> {
  if (has('irq_handler_entry', 'irq', 'name') && has('irq_handler_exit', 'irq', 'ret')) {
    await conn.run(`
      CREATE TABLE irqs AS
        SELECT trace_id, ts, exit_ts - ts AS dur, cpu, irq, name, next_ret AS ret FROM (
          SELECT e.trace_id, e.ts, e.cpu, h.id IS NOT NULL AS is_entry, COALESCE(h.irq, x.irq) AS irq, h.name,
                 lead(e.ts) OVER w AS exit_ts, lead(x.id IS NOT NULL) OVER w AS next_is_exit, lead(x.irq) OVER w AS next_irq, lead(x.ret) OVER w AS next_ret
          FROM ${evOf('irq_handler_entry', 'irq_handler_exit')} e LEFT JOIN "payload:irq_handler_entry" h USING (id) LEFT JOIN "payload:irq_handler_exit" x USING (id)
          WINDOW w AS (PARTITION BY e.trace_id, e.cpu ORDER BY e.ts, e.id)
        ) WHERE is_entry AND next_is_exit AND next_irq = irq;
    `);
  } else {
    await conn.run(`CREATE TABLE irqs (trace_id INTEGER, ts BIGINT, dur BIGINT, cpu INTEGER, irq INTEGER, name VARCHAR, ret BIGINT)`);
  }
  if (has('irq_softirq_entry', 'vec') && has('irq_softirq_exit', 'vec')) {
    await conn.run(`
      CREATE TABLE softirqs AS
        SELECT trace_id, ts, exit_ts - ts AS dur, cpu, vec FROM (
          SELECT e.trace_id, e.ts, e.cpu, h.id IS NOT NULL AS is_entry, COALESCE(h.vec, x.vec) AS vec,
                 lead(e.ts) OVER w AS exit_ts, lead(x.id IS NOT NULL) OVER w AS next_is_exit, lead(x.vec) OVER w AS next_vec
          FROM ${evOf('irq_softirq_entry', 'irq_softirq_exit')} e LEFT JOIN "payload:irq_softirq_entry" h USING (id) LEFT JOIN "payload:irq_softirq_exit" x USING (id)
          WINDOW w AS (PARTITION BY e.trace_id, e.cpu ORDER BY e.ts, e.id)
        ) WHERE is_entry AND next_is_exit AND next_vec = vec;
    `);
  } else {
    await conn.run(`CREATE TABLE softirqs (trace_id INTEGER, ts BIGINT, dur BIGINT, cpu INTEGER, vec INTEGER)`);
  }
}
