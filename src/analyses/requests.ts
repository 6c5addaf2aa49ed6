// `ltt analyze requests`: where each request of an ltt/auto app spent its time, from the engine's request
// tables (src/engine/request-tables.ts) joined with the kernel's thread states and system calls.
//
// Contract: a request's wall time (start to end) = its work (the time a JS thread worked for it: on CPU, in
// user space or in system calls, runnable, blocked, or unknown where the kernel trace says nothing of that
// thread) + queued (its thread was busy with other requests or with none: it had to wait its turn) + idle
// (no thread of the app worked for it: timers, sockets, the thread pool, other processes). Work done on its
// behalf elsewhere is reported beside: thread-pool CPU and system calls (a pool thread's time while several
// operations are pending is shared equally among them), worker threads' and child processes' CPU time (within
// the request's life), outgoing HTTP requests. Requests that never ended count up to the trace's end.
// Missing inputs fail with one line naming the `ltt enable-event` (or `add-context`) command that records them.

import type { DuckDBConnection } from '@duckdb/node-api';
import { LttError } from '../errors.js';
import { runSql } from '../engine/run-sql.js';
import type { AnalysisOptions, TimeRange } from './analysis-range.js';

const POLLS = `('epoll_wait', 'epoll_pwait', 'epoll_pwait2')`;
/** System calls the libuv thread pool makes for fs and dns work. */
const POOL_CALLS = `('read', 'pread64', 'readv', 'preadv', 'write', 'pwrite64', 'writev', 'pwritev', 'openat', 'close', 'statx',
  'newfstatat', 'fstat', 'getdents64', 'unlinkat', 'renameat2', 'mkdirat', 'fsync', 'fdatasync', 'ftruncate', 'socket',
  'connect', 'sendto', 'recvfrom', 'sendmmsg', 'recvmsg')`;
const KERNEL_EVENTS = '`ltt enable-event -k sched_switch,sched_waking,sched_wakeup,sched_process_fork,lttng_statedump_process_state` and `ltt enable-event -k --syscall -a`';

export interface SyscallTime {
  readonly name: string;
  readonly count: number;
  readonly ns: number;
}

export interface RequestBreakdown {
  readonly pid: number;
  readonly req: number;
  readonly tid: number;
  readonly startTs: bigint;
  readonly finished: boolean;
  readonly method: string;
  readonly path: string;
  readonly route: string;
  readonly status: number | null;
  readonly bytes: number | null;
  readonly wallNs: number;
  readonly workNs: number;
  readonly userNs: number;
  readonly sysNs: number;
  readonly runnableNs: number;
  readonly blocked: readonly { reason: string; ns: number }[];
  readonly unknownNs: number;
  readonly queuedNs: number;
  readonly idleNs: number;
  readonly syscalls: readonly SyscallTime[];
  readonly poolOps: number;
  readonly poolCpuNs: number;
  readonly poolSyscalls: readonly SyscallTime[];
  readonly workerCpuNs: number;
  readonly childCpuNs: number;
  readonly clients: number;
  readonly clientNs: number;
}

export interface RouteStats {
  readonly route: string;
  readonly count: number;
  readonly unfinished: number;
  readonly p50Ns: number;
  readonly p90Ns: number;
  readonly p99Ns: number;
  readonly maxNs: number;
  readonly avgOnCpuNs: number;
  readonly avgQueuedNs: number;
  readonly avgIdleNs: number;
}

export interface TimelineEntry {
  /** ns from the request's start. */
  readonly at: number;
  readonly durNs: number | null;
  readonly what: string;
}

export interface RequestsResult {
  readonly range: TimeRange;
  readonly count: number;
  readonly unfinished: number;
  /** CPU time of the threads serving requests, while requests were in flight, that no request's context covers. */
  readonly unattributedNs: number;
  readonly jsCpuNs: number;
  readonly slowest: readonly RequestBreakdown[];
  readonly routes: readonly RouteStats[];
  readonly timelines: readonly { req: number; pid: number; entries: readonly TimelineEntry[] }[];
}

async function count(conn: DuckDBConnection, sql: string): Promise<number> {
  return Number((await runSql(conn, sql)).rows[0]![0]);
}

/** One line naming what the trace lacks and the command that records it. */
async function checkInputs(conn: DuckDBConnection): Promise<void> {
  const missing = (what: string): never => {
    throw new LttError('ANALYSIS_EVENTS', `requests needs ${what}`);
  };
  if ((await count(conn, `SELECT count(*) FROM event_classes WHERE name = 'node:request_start'`)) === 0) {
    missing("ltt/auto's node:request_start events, which the trace lacks: run the app with `node --import ltt/auto` and record them with `ltt enable-event -u 'node:*'`");
  }
  if ((await count(conn, `SELECT count(*) FROM requests r WHERE r.tid IS NULL`)) > 0) {
    missing('the thread of each node:* event, which the trace lacks: record it with `ltt add-context -u -t vpid -t vtid`');
  }
  if ((await count(conn, `SELECT count(*) FROM event_classes WHERE name NOT LIKE '%:%'`)) === 0) {
    missing(`kernel events, which the trace lacks: record them with ${KERNEL_EVENTS}`);
  }
  if ((await count(conn, `SELECT count(*) FROM event_classes WHERE name = 'sched_switch'`)) === 0) {
    missing('sched_switch events, which the kernel trace lacks: record them with `ltt enable-event -k sched_switch,sched_waking,sched_wakeup`');
  }
  if ((await count(conn, `SELECT count(*) FROM event_classes WHERE name LIKE 'syscall_entry_%'`)) === 0) {
    missing('system call events, which the kernel trace lacks: record them with `ltt enable-event -k --syscall -a`');
  }
}

/** Every request in the range (or the one request `only`) with its breakdown (a CTE chain over the engine's tables). */
function breakdownSql(range: TimeRange, only?: { pid: number; req: number }): string {
  const which = only ? `pid = ${Math.trunc(only.pid)} AND req = ${Math.trunc(only.req)}` : `start_ts <= ${range.end} AND start_ts + dur >= ${range.begin}`;
  return `
  WITH rq AS (SELECT * FROM requests WHERE ${which}),
  w AS (SELECT w.* FROM request_work w JOIN rq USING (pid, req)),
  st AS (
    SELECT w.pid, w.req, s.state, s.reason, s.ts, s.dur, w.tid,
           least(w.end_ts, s.ts + s.dur) - greatest(w.ts, s.ts) AS t
    FROM w JOIN thread_state s ON s.tid = w.tid AND s.ts < w.end_ts AND s.ts + s.dur > w.ts),
  sc AS (
    SELECT w.pid, w.req, w.tid, c.name, c.ts AS c_ts, c.dur AS c_dur, greatest(w.ts, c.ts) AS a, least(w.end_ts, c.ts + c.dur) AS b,
           c.ts >= w.ts AS entered
    FROM w JOIN syscalls c ON c.tid = w.tid AND c.ts < w.end_ts AND c.ts + c.dur > w.ts WHERE c.name NOT IN ${POLLS}),
  states AS (
    SELECT pid, req, sum(t) FILTER (WHERE state = 'running') AS running, sum(t) FILTER (WHERE state = 'runnable') AS runnable,
           sum(t) FILTER (WHERE state = 'blocked') AS blocked
    FROM st GROUP BY ALL),
  blocked_why AS (
    SELECT st.pid, st.req,
           CASE WHEN c.name IS NULL THEN COALESCE(st.reason, 'unknown')
                WHEN c.name = 'futex' THEN 'futex'
                WHEN c.name LIKE 'epoll%' OR c.name IN ('poll', 'ppoll', 'select', 'pselect6') THEN 'epoll'
                WHEN c.name LIKE '%sleep%' THEN 'sleep'
                WHEN c.name IN ('wait4', 'waitid') THEN 'child'
                WHEN c.name IN ${POOL_CALLS} OR c.name IN ('accept4', 'recvmsg', 'sendmsg') THEN 'I/O (' || c.name || ')'
                ELSE 'in ' || c.name END AS reason,
           sum(st.t) AS ns
    FROM st LEFT JOIN syscalls c ON c.tid = st.tid AND c.ts <= st.ts AND c.ts + c.dur >= st.ts
    WHERE st.state = 'blocked' GROUP BY ALL),
  blocked AS (SELECT pid, req, to_json(list({'reason': reason, 'ns': ns} ORDER BY ns DESC))::VARCHAR AS j FROM blocked_why GROUP BY ALL),
  sys_cpu AS (
    SELECT sc.pid, sc.req, sum(least(sc.b, s.ts + s.dur) - greatest(sc.a, s.ts)) AS ns
    FROM sc JOIN thread_state s ON s.tid = sc.tid AND s.state = 'running' AND s.ts < sc.b AND s.ts + s.dur > sc.a GROUP BY ALL),
  sys AS (
    SELECT pid, req, to_json(list({'name': name, 'count': n, 'ns': ns} ORDER BY ns DESC))::VARCHAR AS j
    FROM (SELECT pid, req, name, count(*) FILTER (WHERE entered) AS n, sum(b - a) AS ns FROM sc GROUP BY ALL) GROUP BY ALL),
  work AS (SELECT pid, req, sum(end_ts - ts) AS ns FROM w GROUP BY ALL),
  -- Its thread's CPU time during its life, whoever it worked for: what is not its own work it waited through.
  busy AS (
    SELECT rq.pid, rq.req, sum(least(rq.start_ts + rq.dur, s.ts + s.dur) - greatest(rq.start_ts, s.ts)) AS ns
    FROM rq JOIN thread_state s ON s.tid = rq.tid AND s.state IN ('running', 'runnable')
      AND s.ts < rq.start_ts + rq.dur AND s.ts + s.dur > rq.start_ts GROUP BY ALL),
  pool_ops AS (SELECT p.* FROM request_pool p JOIN rq USING (pid, req) WHERE p.end_ts IS NOT NULL),
  pool_seg AS (
    SELECT pid, a, b FROM (
      SELECT pid, x AS a, lead(x) OVER (PARTITION BY pid ORDER BY x) AS b
      FROM (SELECT pid, ts AS x FROM request_pool UNION SELECT pid, end_ts FROM request_pool WHERE end_ts IS NOT NULL))
    WHERE b > a),
  pool_share AS (
    SELECT s.pid, s.a, s.b, p.req, count(*) OVER (PARTITION BY s.pid, s.a) AS n
    FROM pool_seg s JOIN request_pool p ON p.pid = s.pid AND p.ts <= s.a AND p.end_ts >= s.b),
  js AS (SELECT DISTINCT tid FROM events WHERE name LIKE 'node:%' AND tid IS NOT NULL),
  -- The pool's threads: the app's threads that run no JS and no event loop (no epoll: not an ltt/ust agent or a
  -- worker) and make file or socket calls while operations are pending (V8's platform threads make none).
  pool_threads AS (
    SELECT DISTINCT t.pid, t.tid FROM threads t JOIN syscalls c ON c.tid = t.tid
    JOIN request_pool p ON p.pid = t.pid AND c.ts BETWEEN p.ts AND p.end_ts
    WHERE c.name IN ${POOL_CALLS} AND t.tid NOT IN (SELECT tid FROM js)
      AND t.tid NOT IN (SELECT DISTINCT tid FROM syscalls WHERE name IN ${POLLS})),
  pool_cpu AS (
    SELECT ps.pid, ps.req, sum((least(ps.b, s.ts + s.dur) - greatest(ps.a, s.ts)) / ps.n) AS ns
    FROM pool_share ps JOIN pool_threads pt ON pt.pid = ps.pid
    JOIN thread_state s ON s.tid = pt.tid AND s.state = 'running' AND s.ts < ps.b AND s.ts + s.dur > ps.a GROUP BY ALL),
  pool_sys AS (
    SELECT pid, req, to_json(list({'name': name, 'count': round(n, 2), 'ns': ns} ORDER BY ns DESC))::VARCHAR AS j
    FROM (
      SELECT ps.pid, ps.req, c.name, sum(CASE WHEN c.ts >= ps.a THEN 1.0 / ps.n ELSE 0 END) AS n,
             sum((least(ps.b, c.ts + c.dur) - greatest(ps.a, c.ts)) / ps.n) AS ns
      FROM pool_share ps JOIN pool_threads pt ON pt.pid = ps.pid
      JOIN syscalls c ON c.tid = pt.tid AND c.ts < ps.b AND c.ts + c.dur > ps.a AND c.name <> 'futex' GROUP BY ALL)
    GROUP BY ALL),
  pool_n AS (SELECT pid, req, count(*) AS n FROM pool_ops GROUP BY ALL),
  on_behalf AS (
    SELECT rq.pid, rq.req, x.kind, sum(least(rq.start_ts + rq.dur, s.ts + s.dur) - greatest(rq.start_ts, s.ts)) AS ns
    FROM rq JOIN (
      SELECT pid, req, 'worker' AS kind, tid FROM request_workers WHERE tid IS NOT NULL
      UNION ALL SELECT c.pid, c.req, 'child', t.tid FROM request_children c
        JOIN (SELECT tid, pid FROM threads UNION SELECT tid, tid FROM thread_state) t ON t.pid = c.child_pid
    ) x USING (pid, req)
    JOIN thread_state s ON s.tid = x.tid AND s.state = 'running' AND s.ts < rq.start_ts + rq.dur AND s.ts + s.dur > rq.start_ts
    GROUP BY ALL),
  clients AS (
    SELECT c.pid, c.req, count(*) AS n, sum(least(COALESCE(c.end_ts, rq.start_ts + rq.dur), rq.start_ts + rq.dur) - c.ts) AS ns
    FROM request_clients c JOIN rq USING (pid, req) GROUP BY ALL)
  SELECT rq.pid, rq.req, rq.tid, rq.start_ts, rq.finished, rq.method, rq.path, rq.route, rq.status, rq.bytes, rq.dur,
         COALESCE(work.ns, 0) AS work, COALESCE(states.running, 0) AS running, COALESCE(sys_cpu.ns, 0) AS sys_cpu,
         COALESCE(states.runnable, 0) AS runnable, COALESCE(states.blocked, 0) AS blocked_ns, blocked.j AS blocked,
         COALESCE(busy.ns, 0) AS busy, sys.j AS syscalls, COALESCE(pool_n.n, 0) AS pool_ops, COALESCE(pool_cpu.ns, 0) AS pool_cpu,
         pool_sys.j AS pool_syscalls,
         COALESCE((SELECT sum(ns) FROM on_behalf o WHERE o.pid = rq.pid AND o.req = rq.req AND o.kind = 'worker'), 0) AS worker_cpu,
         COALESCE((SELECT sum(ns) FROM on_behalf o WHERE o.pid = rq.pid AND o.req = rq.req AND o.kind = 'child'), 0) AS child_cpu,
         COALESCE(clients.n, 0) AS clients, COALESCE(clients.ns, 0) AS client_ns
  FROM rq
  LEFT JOIN work USING (pid, req) LEFT JOIN states USING (pid, req) LEFT JOIN sys_cpu USING (pid, req)
  LEFT JOIN blocked USING (pid, req) LEFT JOIN busy USING (pid, req) LEFT JOIN sys USING (pid, req)
  LEFT JOIN pool_n USING (pid, req) LEFT JOIN pool_cpu USING (pid, req) LEFT JOIN pool_sys USING (pid, req)
  LEFT JOIN clients USING (pid, req)`;
}

function syscallList(j: unknown): SyscallTime[] {
  if (typeof j !== 'string') return [];
  return (JSON.parse(j) as { name: string; count: number; ns: number }[]).map((s) => ({ name: s.name, count: Number(s.count), ns: Math.round(Number(s.ns)) }));
}

function toBreakdown(row: readonly unknown[]): RequestBreakdown {
  const n = (i: number): number => Number(row[i] ?? 0);
  const wall = n(10);
  const work = n(11);
  const running = n(12);
  const sysCpu = n(13);
  const runnable = n(14);
  const blockedNs = n(15);
  const busy = n(17);
  const queued = Math.max(0, Math.min(wall - work, busy - running - runnable));
  return {
    pid: n(0),
    req: n(1),
    tid: n(2),
    startTs: row[3] as bigint,
    finished: row[4] === true,
    method: String(row[5] ?? ''),
    path: String(row[6] ?? ''),
    route: String(row[7] ?? ''),
    status: row[8] === null ? null : n(8),
    bytes: row[9] === null ? null : n(9),
    wallNs: wall,
    workNs: work,
    userNs: running - sysCpu,
    sysNs: sysCpu,
    runnableNs: runnable,
    blocked: typeof row[16] === 'string' ? (JSON.parse(row[16]) as { reason: string; ns: number }[]).map((b) => ({ reason: b.reason, ns: Number(b.ns) })) : [],
    unknownNs: Math.max(0, work - running - runnable - blockedNs),
    queuedNs: queued,
    idleNs: Math.max(0, wall - work - queued),
    syscalls: syscallList(row[18]),
    poolOps: n(19),
    poolCpuNs: Math.round(n(20)),
    poolSyscalls: syscallList(row[21]),
    workerCpuNs: n(22),
    childCpuNs: n(23),
    clients: n(24),
    clientNs: n(25),
  };
}

/** One request's timeline: its thread's turns at working for it, its pool operations, calls, children, workers. */
async function timeline(conn: DuckDBConnection, pid: number, req: number): Promise<TimelineEntry[]> {
  const r = await runSql(conn, `
    WITH rq AS (SELECT * FROM requests WHERE pid = ${pid} AND req = ${req}),
    w AS (SELECT * FROM request_work WHERE pid = ${pid} AND req = ${req}),
    turns AS (
      SELECT w.ts, w.end_ts - w.ts AS dur, w.tid,
        (SELECT sum(least(w.end_ts, s.ts + s.dur) - greatest(w.ts, s.ts)) FROM thread_state s
          WHERE s.tid = w.tid AND s.state = 'running' AND s.ts < w.end_ts AND s.ts + s.dur > w.ts) AS cpu,
        (SELECT string_agg(name || ' x' || n || ' ' || round(ns / 1e6, 3) || ' ms', ', ' ORDER BY ns DESC) FROM (
          SELECT c.name, count(*) AS n, sum(least(w.end_ts, c.ts + c.dur) - greatest(w.ts, c.ts)) AS ns FROM syscalls c
          WHERE c.tid = w.tid AND c.ts < w.end_ts AND c.ts + c.dur > w.ts AND c.name NOT IN ${POLLS} GROUP BY c.name)) AS sys
      FROM w)
    SELECT ts, dur, 'thread ' || tid || ' works for it: on CPU ' || round(COALESCE(cpu, 0) / 1e6, 3) || ' ms' || COALESCE('; ' || sys, '') FROM turns
    UNION ALL SELECT ts, end_ts - ts, 'libuv pool: ' || kind || CASE WHEN end_ts IS NULL THEN ' (never completed)' ELSE '' END
      FROM request_pool WHERE pid = ${pid} AND req = ${req}
    UNION ALL SELECT ts, end_ts - ts, 'HTTP ' || method || ' ' || url || ' -> ' || COALESCE(CAST(status AS VARCHAR), 'no answer')
      FROM request_clients WHERE pid = ${pid} AND req = ${req}
    UNION ALL SELECT ts, NULL, 'child process ' || child_pid || ' (' || file || ')' FROM request_children WHERE pid = ${pid} AND req = ${req}
    UNION ALL SELECT ts, NULL, 'worker thread ' || thread_id || COALESCE(' (tid ' || tid || ')', '') FROM request_workers WHERE pid = ${pid} AND req = ${req}
    ORDER BY 1`);
  const rq = (await runSql(conn, `SELECT start_ts, dur, finished, method, path, status, bytes FROM requests WHERE pid = ${pid} AND req = ${req}`)).rows[0]!;
  const start = rq[0] as bigint;
  const entries: TimelineEntry[] = [{ at: 0, durNs: null, what: `start ${String(rq[3])} ${String(rq[4])}` }];
  for (const [ts, dur, what] of r.rows) {
    const at = Number((ts as bigint) - start);
    const d = dur === null ? null : Number(dur);
    // Turns a few microseconds apart are one: the loop ran several of its callbacks in a row.
    const last = entries[entries.length - 1]!;
    if (String(what).startsWith('thread ') && last.what.startsWith('thread ') && last.durNs !== null && at - (last.at + last.durNs) < 50_000) {
      entries[entries.length - 1] = { at: last.at, durNs: at + (d ?? 0) - last.at, what: mergeTurns(last.what, String(what)) };
    } else entries.push({ at, durNs: d, what: String(what) });
  }
  entries.push(
    rq[2] === true
      ? { at: Number(rq[1]), durNs: null, what: `end: status ${String(rq[5])}, ${String(rq[6])} bytes` }
      : { at: Number(rq[1]), durNs: null, what: 'unfinished at the end of the trace' },
  );
  return entries;
}

/** Two adjacent turns' texts as one: their CPU times added, the system call lists kept side by side. */
function mergeTurns(a: string, b: string): string {
  const cpu = (s: string): number => Number(/on CPU ([\d.]+) ms/.exec(s)?.[1] ?? 0);
  const rest = (s: string): string => s.replace(/^.*?on CPU [\d.]+ ms;? ?/, '');
  const head = a.replace(/on CPU [\d.]+ ms.*$/, '');
  const sys = [rest(a), rest(b)].filter((s) => s !== '').join(', ');
  return `${head}on CPU ${(cpu(a) + cpu(b)).toFixed(3)} ms${sys !== '' ? `; ${sys}` : ''}`;
}

/** One request's breakdown, as requestsAnalysis computes it (undefined: no such request). */
export async function requestBreakdown(conn: DuckDBConnection, pid: number, req: number): Promise<RequestBreakdown | undefined> {
  const row = (await runSql(conn, breakdownSql({ begin: 0n, end: 0n }, { pid, req }))).rows[0];
  return row && toBreakdown(row);
}

export async function requestsAnalysis(conn: DuckDBConnection, range: TimeRange, opts: AnalysisOptions): Promise<RequestsResult> {
  await checkInputs(conn);
  const all = (await runSql(conn, `${breakdownSql(range)} ORDER BY rq.dur DESC, rq.start_ts`)).rows.map(toBreakdown);
  const top = opts.top ?? 10;
  const byRoute = new Map<string, RequestBreakdown[]>();
  for (const b of all) byRoute.set(b.route, [...(byRoute.get(b.route) ?? []), b]);
  const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
  const avg = (xs: readonly RequestBreakdown[], f: (b: RequestBreakdown) => number): number => xs.reduce((s, b) => s + f(b), 0) / xs.length;
  const routes: RouteStats[] = [...byRoute.entries()].map(([route, rs]) => {
    const walls = rs.map((b) => b.wallNs).sort((a, b) => a - b);
    return {
      route,
      count: rs.length,
      unfinished: rs.filter((b) => !b.finished).length,
      p50Ns: pct(walls, 0.5),
      p90Ns: pct(walls, 0.9),
      p99Ns: pct(walls, 0.99),
      maxNs: walls[walls.length - 1]!,
      avgOnCpuNs: avg(rs, (b) => b.userNs + b.sysNs),
      avgQueuedNs: avg(rs, (b) => b.queuedNs),
      avgIdleNs: avg(rs, (b) => b.idleNs),
    };
  }).sort((a, b) => b.p99Ns - a.p99Ns);
  // The JS threads' CPU time while requests were in flight, and how much of it no request's context covers.
  const js = await runSql(conn, `
    WITH span AS (SELECT min(start_ts) AS b, max(start_ts + dur) AS e FROM requests WHERE start_ts <= ${range.end} AND start_ts + dur >= ${range.begin}),
    js AS (SELECT DISTINCT tid FROM requests)
    SELECT sum(least(span.e, s.ts + s.dur) - greatest(span.b, s.ts)) FROM thread_state s, span
    WHERE s.state = 'running' AND s.tid IN (SELECT tid FROM js) AND s.ts < span.e AND s.ts + s.dur > span.b`);
  const jsCpu = Number(js.rows[0]?.[0] ?? 0);
  const attributed = all.reduce((s, b) => s + b.userNs + b.sysNs, 0);
  const slowest = all.slice(0, top);
  const timelines = [];
  for (const b of slowest.slice(0, opts.top !== undefined ? top : 1)) timelines.push({ req: b.req, pid: b.pid, entries: await timeline(conn, b.pid, b.req) });
  return {
    range,
    count: all.length,
    unfinished: all.filter((b) => !b.finished).length,
    unattributedNs: Math.max(0, jsCpu - attributed),
    jsCpuNs: jsCpu,
    slowest,
    routes,
    timelines,
  };
}
