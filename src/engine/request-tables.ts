// The requests of apps traced with ltt/auto (src/auto: `node:*` events), as tables joined with the kernel's.
//
// Contract: pid is -1 where the trace cannot tell it (no vpid context, no kernel thread of that tid).
// buildRequestTables(conn, hasEvent) runs after the kernel tables exist (syscalls for the event
// loop's polls, threads for pids). It makes, empty when the trace has no node:request_start:
//   requests(pid, req, tid, start_ts, end_ts, dur, finished, method, path, route, status, bytes, lane): one row
//     per server request; one that never ended (the app was killed) has finished = false, end_ts NULL and dur up
//     to the trace's last event; lane: the lowest of its thread's lanes free when it started (an event loop
//     serves many requests at once: overlapping ones on one thread never share a lane, as slices' depths);
//   request_work(pid, req, tid, ts, end_ts): when a JS thread worked for a request (from node:ctx or
//     node:request_start to the thread's next context change: node:request_end is one to no request), clipped to the request's life, less the loop's
//     polls (epoll_wait): ltt/auto emits node:ctx only when the request changes, so a context suspended by a
//     poll resumes when the poll returns;
//   request_pool(pid, req, op, kind, ts, end_ts): its libuv thread-pool operations, submit to completion;
//   request_clients(pid, req, client, ts, end_ts, method, url, status): its outgoing HTTP requests;
//   request_children(pid, req, ts, child_pid, file) and request_workers(pid, req, ts, thread_id, tid).

import type { DuckDBConnection } from '@duckdb/node-api';
import { ColumnAppender } from './column-appender.js';
import { sqlIdentifier } from './run-sql.js';

/** Each node event a table reads, with the columns its view has (typed, for an empty stand-in). */
const SOURCES: Record<string, string> = {
  'node:request_start': 'ts BIGINT, tid INTEGER, pid INTEGER, req BIGINT, method VARCHAR, path VARCHAR',
  'node:request_end': 'ts BIGINT, tid INTEGER, pid INTEGER, req BIGINT, status BIGINT, bytes BIGINT, route VARCHAR',
  'node:ctx': 'ts BIGINT, tid INTEGER, pid INTEGER, req BIGINT',
  'node:pool_submit': 'ts BIGINT, tid INTEGER, pid INTEGER, req BIGINT, op BIGINT, kind VARCHAR',
  'node:pool_done': 'ts BIGINT, tid INTEGER, pid INTEGER, op BIGINT',
  'node:client_start': 'ts BIGINT, tid INTEGER, pid INTEGER, req BIGINT, client BIGINT, method VARCHAR, url VARCHAR',
  'node:client_end': 'ts BIGINT, tid INTEGER, pid INTEGER, client BIGINT, status BIGINT',
  'node:child_spawn': 'ts BIGINT, tid INTEGER, pid INTEGER, req BIGINT, child_pid BIGINT, file VARCHAR',
  'node:worker_start': 'ts BIGINT, tid INTEGER, pid INTEGER, req BIGINT, thread_id BIGINT',
  'node:thread_start': 'ts BIGINT, tid INTEGER, pid INTEGER, thread_id BIGINT',
};

/** The loop's polls: where a JS thread stops working for whichever request it was. */
const POLLS = `('epoll_wait', 'epoll_pwait', 'epoll_pwait2')`;

export async function buildRequestTables(conn: DuckDBConnection, hasEvent: (name: string) => boolean): Promise<void> {
  // An event the trace lacks reads as an empty relation of the same shape.
  const from = (name: string): string => {
    if (hasEvent(name)) return sqlIdentifier(name);
    const cols = SOURCES[name]!.split(', ').map((c) => {
      const [col, type] = c.split(' ');
      return `NULL::${type} AS ${col}`;
    });
    return `(SELECT ${cols.join(', ')} WHERE false)`;
  };
  await conn.run(`
    CREATE TABLE requests AS
      SELECT COALESCE(s.pid, -1) AS pid, s.req, s.tid, s.ts AS start_ts, e.ts AS end_ts,
             COALESCE(e.ts, (SELECT max(ts) FROM events)) - s.ts AS dur, e.ts IS NOT NULL AS finished,
             s.method, s.path, COALESCE(NULLIF(e.route, ''), s.path) AS route, e.status, e.bytes
      FROM ${from('node:request_start')} s
      LEFT JOIN ${from('node:request_end')} e ON COALESCE(e.pid, -1) = COALESCE(s.pid, -1) AND e.req = s.req
      ORDER BY s.ts;
    ALTER TABLE requests ADD COLUMN lane INTEGER DEFAULT 0;
    CREATE TEMP TABLE rq_ctx AS
      SELECT tid, COALESCE(pid, -1) AS pid, ts, req FROM ${from('node:ctx')} WHERE tid IS NOT NULL
      UNION ALL SELECT tid, COALESCE(pid, -1), ts, req FROM ${from('node:request_start')} WHERE tid IS NOT NULL
      UNION ALL SELECT tid, COALESCE(pid, -1), ts, 0 FROM ${from('node:request_end')} WHERE tid IS NOT NULL;
    -- A poll suspends the thread's context (ord 2: after a ctx of the same instant); its return resumes it (ord 0).
    CREATE TEMP TABLE rq_marks AS
      SELECT tid, ts, ord, CASE ord WHEN 1 THEN pid WHEN 0 THEN COALESCE(last_pid, -1) ELSE -1 END AS pid,
             CASE ord WHEN 1 THEN req WHEN 0 THEN COALESCE(last_req, 0) ELSE 0 END AS req
      FROM (
        SELECT *, last_value(CASE WHEN ord = 1 THEN req END IGNORE NULLS) OVER w AS last_req,
                  last_value(CASE WHEN ord = 1 THEN pid END IGNORE NULLS) OVER w AS last_pid
        FROM (
          SELECT tid, ts, 1 AS ord, pid, req FROM rq_ctx
          UNION ALL SELECT c.tid, t.x, t.ord, -1, 0 FROM syscalls c, LATERAL (VALUES (c.ts, 2), (c.ts + c.dur, 0)) t(x, ord)
            WHERE c.name IN ${POLLS} AND c.tid IN (SELECT DISTINCT tid FROM rq_ctx)
        ) WINDOW w AS (PARTITION BY tid ORDER BY ts, ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
      );
    CREATE TABLE request_work AS
      SELECT pid, req, tid, ts, end_ts FROM (
        SELECT r.pid, r.req, w.tid, greatest(w.ts, r.start_ts) AS ts, least(w.end_ts, r.start_ts + r.dur) AS end_ts
        FROM (SELECT *, lead(ts) OVER (PARTITION BY tid ORDER BY ts, ord) AS end_ts FROM rq_marks) w
        JOIN requests r ON r.pid = w.pid AND r.req = w.req
        WHERE w.req <> 0 AND w.end_ts IS NOT NULL
      ) WHERE end_ts > ts ORDER BY tid, ts;
    CREATE TABLE request_pool AS
      SELECT COALESCE(s.pid, -1) AS pid, s.req, s.op, s.kind, s.ts, d.ts AS end_ts
      FROM ${from('node:pool_submit')} s LEFT JOIN ${from('node:pool_done')} d ON COALESCE(d.pid, -1) = COALESCE(s.pid, -1) AND d.op = s.op
      ORDER BY s.ts;
    CREATE TABLE request_clients AS
      SELECT COALESCE(s.pid, -1) AS pid, s.req, s.client, s.ts, e.ts AS end_ts, s.method, s.url, e.status
      FROM ${from('node:client_start')} s LEFT JOIN ${from('node:client_end')} e ON COALESCE(e.pid, -1) = COALESCE(s.pid, -1) AND e.client = s.client
      ORDER BY s.ts;
    CREATE TABLE request_children AS
      SELECT COALESCE(pid, -1) AS pid, req, ts, child_pid, file FROM ${from('node:child_spawn')} ORDER BY ts;
    CREATE TABLE request_workers AS
      SELECT COALESCE(w.pid, -1) AS pid, w.req, w.ts, w.thread_id, t.tid
      FROM ${from('node:worker_start')} w LEFT JOIN ${from('node:thread_start')} t ON COALESCE(t.pid, -1) = COALESCE(w.pid, -1) AND t.thread_id = w.thread_id
      ORDER BY w.ts;
    DROP TABLE rq_marks; DROP TABLE rq_ctx;
  `);
  await assignLanes(conn);
}

/**
 * Each request's lane on its thread, greedily (interval partitioning: the fewest lanes for a thread's
 * overlapping requests). Sequential by nature, so in JS over the requests in start order, not in SQL.
 */
async function assignLanes(conn: DuckDBConnection): Promise<void> {
  const reader = await conn.runAndReadAll('SELECT rowid, tid, start_ts, dur FROM requests WHERE tid IS NOT NULL ORDER BY tid, start_ts, rowid');
  const rows = reader.getRows();
  await conn.run('CREATE TEMP TABLE rq_lanes (rid BIGINT, lane INTEGER)');
  const out = await ColumnAppender.create(conn, 'rq_lanes', [{ name: 'rid', kind: 'int64' }, { name: 'lane', kind: 'int32' }], true);
  let tid: unknown;
  /** Per lane of the current thread, when its last request ends. */
  let ends: bigint[] = [];
  let any = false;
  for (const [rid, t, start, dur] of rows) {
    if (t !== tid) [tid, ends] = [t, []];
    const b = BigInt(start as bigint);
    let lane = ends.findIndex((e) => e <= b);
    if (lane < 0) lane = ends.length;
    ends[lane] = b + BigInt(dur as bigint);
    if (lane === 0) continue;
    out.setInt(0, rid as bigint);
    out.setInt(1, lane);
    out.endRow();
    any = true;
  }
  out.close();
  if (any) await conn.run('UPDATE requests SET lane = l.lane FROM rq_lanes l WHERE requests.rowid = l.rid');
  await conn.run('DROP TABLE rq_lanes');
}
