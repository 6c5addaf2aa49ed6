// The timeline's data as SQL over a trace's tables (src/engine): the layout (CPUs, processes and threads,
// lost spans) once, then levels of detail for the visible range. A slice at least a pixel long is sent as is;
// shorter ones are merged per track and pixel into one slice labelled by the longest of them, so an answer
// never holds more than a few rows per pixel and track, whatever the trace's size.
//
// Contract: times in and out are ns relative to `origin` (protocol.ts); `origin` is the trace's first event.

import type { DuckDBConnection } from '@duckdb/node-api';
import { runSql, sqlString } from '../engine/run-sql.js';
import type { TableExtension } from '../engine/trace-db.js';
import type { FirstScreen, Info, LostSpan, ProcessInfo, Slices, Tracks } from './protocol.js';

/** `columns` of the events of the user-space domain (alias e) that meet `where`. */
export const ustEvents = (columns: string, where = 'TRUE'): string =>
  `SELECT ${columns} FROM events e JOIN streams s USING (stream_id) JOIN traces t ON t.trace_id = s.trace_id WHERE t.domain = 'ust' AND ${where}`;

export interface TraceShape {
  readonly origin: bigint;
  readonly duration: number;
  readonly events: number;
  readonly cpus: number[];
  readonly processes: ProcessInfo[];
  readonly lost: LostSpan[];
  /** The trace has user-space (ltt/ust) streams. */
  readonly hasUst: boolean;
  /** The trace has ltt/auto's HTTP requests (the engine's requests table). */
  readonly hasRequests: boolean;
  /** ns per bucket of the precomputed level of detail (buildLevels). */
  readonly bucket: number;
}

export async function traceShape(conn: DuckDBConnection): Promise<TraceShape> {
  const [[b, e, n]] = (await runSql(conn, 'SELECT min(ts), max(ts), count(*) FROM events')).rows as [bigint | null, bigint | null, bigint][];
  const origin = b ?? 0n;
  const rel = (v: unknown): number => Number(BigInt(v as bigint) - origin);
  // The CPUs the tracks can show something on (not every event's: that reads the whole events table).
  const cpus = (await runSql(conn, 'SELECT DISTINCT cpu FROM sched UNION SELECT DISTINCT cpu FROM irqs UNION SELECT DISTINCT cpu FROM softirqs ORDER BY 1')).rows.map((r) => Number(r[0]));
  const hasUst = Number((await runSql(conn, `SELECT count(*) FROM traces WHERE domain = 'ust'`)).rows[0]![0]) > 0;
  const hasRequests = hasUst && Number((await runSql(conn, 'SELECT count(*) FROM requests WHERE tid IS NOT NULL')).rows[0]![0]) > 0;
  // Threads that did something the timeline shows, grouped by process, busiest first.
  const threads = await runSql(
    conn,
    `WITH act AS (
       SELECT tid FROM thread_state UNION SELECT tid FROM syscalls
       ${hasUst ? `UNION ${ustEvents('e.tid')}` : ''}
     ), busy AS (SELECT tid, sum(dur) AS ns FROM sched WHERE tid <> 0 GROUP BY tid),
     th AS (SELECT tid, any_value(pid) AS pid, arg_max(name, last_ts) AS name FROM threads GROUP BY tid)
     SELECT COALESCE(th.pid, a.tid) AS pid, a.tid, COALESCE(th.name, '?') AS name, COALESCE(b.ns, 0) AS ns
     FROM act a LEFT JOIN th USING (tid) LEFT JOIN busy b USING (tid)
     WHERE a.tid IS NOT NULL AND a.tid <> 0`,
  );
  const byPid = new Map<number, { pid: number; name: string; ns: number; threads: { tid: number; name: string; ns: number }[] }>();
  for (const [pid, tid, name, ns] of threads.rows) {
    const p = Number(pid);
    let proc = byPid.get(p);
    if (!proc) byPid.set(p, (proc = { pid: p, name: String(name), ns: 0, threads: [] }));
    if (Number(tid) === p) proc.name = String(name);
    proc.ns += Number(ns);
    proc.threads.push({ tid: Number(tid), name: String(name), ns: Number(ns) });
  }
  const lanes = new Map<number, number>();
  if (hasRequests) {
    const r = await runSql(conn, `SELECT tid, max(lane) + 1 FROM requests WHERE tid IS NOT NULL AND lane > 0 GROUP BY tid`);
    for (const [tid, n] of r.rows) lanes.set(Number(tid), Math.min(MAX_LANES, Number(n)));
  }
  const processes = [...byPid.values()]
    .sort((x, y) => y.ns - x.ns || x.pid - y.pid)
    .map((p) => ({
      pid: p.pid,
      name: p.name,
      threads: p.threads.sort((x, y) => y.ns - x.ns || x.tid - y.tid).map(({ tid, name }) => (lanes.has(tid) ? { tid, name, lanes: lanes.get(tid)! } : { tid, name })),
    }));
  const lost = (await runSql(conn, 'SELECT begin_ts, end_ts, kind, count, stream FROM lost ORDER BY begin_ts')).rows.map(([lb, le, kind, count, stream]) => ({
    begin: lb === null ? 0 : rel(lb),
    end: le === null ? (lb === null ? 0 : rel(lb)) : rel(le),
    kind: String(kind),
    count: count === null ? null : Number(count),
    stream: String(stream),
  }));
  const duration = e === null ? 0 : rel(e);
  return { origin, duration, events: Number(n), cpus, processes, lost, hasUst, hasRequests, bucket: Math.max(1, Math.ceil(duration / LEVEL_BUCKETS)) };
}

export function infoOf(shape: TraceShape, extra: Pick<Info, 'version' | 'title' | 'live' | 'exposedAt'>): Info {
  const { duration, events, cpus, processes, lost, hasRequests } = shape;
  return { ...extra, origin: String(shape.origin), duration, events, cpus, processes, lost, hasRequests };
}

export interface TrackRequest {
  readonly b: number;
  readonly e: number;
  /** Pixels across the range. */
  readonly px: number;
  readonly tids: readonly number[];
}

/** Request lanes a thread row shows at most: deeper overlaps share the last one (merged as any short slices). */
export const MAX_LANES = 4;

/** A request's label: METHOD PATH STATUS (`unfinished` for one the trace ends in). */
const REQUEST_LABEL = `COALESCE(method, '?') || ' ' || COALESCE(path, '?') || ' ' || CASE WHEN finished THEN COALESCE(CAST(status AS VARCHAR), '?') ELSE 'unfinished' END`;

/** Whether a source has rows in this trace (the level tables of one that cannot are not made). */
const hasSource = (name: SourceName, shape: TraceShape): boolean => (name === 'ust' ? shape.hasUst : name === 'requests' ? shape.hasRequests : true);

/**
 * The timeline's slice sources: key, ts (absolute), dur, val, and `lane` for those with `lanes` (slices of
 * one key in different lanes are never merged). Thread sources are filtered by the tids asked for.
 */
const SOURCES = {
  cpus: { sql: 'SELECT cpu AS key, ts, dur, tid AS val FROM sched', threads: false },
  states: { sql: `SELECT tid AS key, ts, dur, CASE state WHEN 'running' THEN 0 WHEN 'runnable' THEN 1 ELSE 2 END AS val FROM thread_state`, threads: true },
  syscalls: { sql: 'SELECT tid AS key, ts, dur, name AS val FROM syscalls', threads: true },
  irqs: { sql: 'SELECT cpu AS key, ts, dur, irq AS val FROM irqs UNION ALL SELECT cpu, ts, dur, -1 - vec FROM softirqs', threads: false },
  ust: { sql: ustEvents('e.tid AS key, e.ts, 0::BIGINT AS dur, e.name AS val'), threads: true },
  requests: { sql: `SELECT tid AS key, start_ts AS ts, dur, ${REQUEST_LABEL} AS val, least(lane, ${MAX_LANES - 1}) AS lane FROM requests WHERE tid IS NOT NULL`, threads: true, lanes: true },
} as const;
type SourceName = keyof typeof SOURCES;

/** `, lane` for a source with lanes (selected and grouped by), else nothing. */
const laneOf = (name: SourceName): string => ('lanes' in SOURCES[name] ? ', lane' : '');

/** Slices per track the whole trace is cut into for the precomputed level (ns per bucket: duration / this). */
const LEVEL_BUCKETS = 16384;

/**
 * The precomputed level of detail, kept in the trace's cached database (or as temporary tables when `temp`): per source, `lod_long_X` holds the slices at least a bucket long, `lod_level_X` the shorter
 * ones merged per track and bucket (first ts, last end, the longest one's val and dur, how many). A view
 * coarser than a bucket reads only these; a finer one reads the source within the view (plus a bucket
 * before it: no short slice starts earlier and reaches in) and the long slices. So no request reads more
 * than the level's rows or one bucket's worth of the source per pixel.
 */
async function buildLevels(conn: DuckDBConnection, shape: TraceShape, temp: boolean): Promise<void> {
  const table = `CREATE OR REPLACE ${temp ? 'TEMP ' : ''}TABLE`;
  for (const name of Object.keys(SOURCES) as SourceName[]) {
    if (!hasSource(name, shape)) continue;
    const lane = laneOf(name);
    await conn.run(`
      ${table} lod_long_${name} AS SELECT * FROM (${SOURCES[name].sql}) WHERE dur >= ${shape.bucket} ORDER BY ts;
      ${table} lod_level_${name} AS
        SELECT key, min(ts) AS ts, max(ts + dur) - min(ts) AS dur, arg_max(val, dur) AS val, max(dur) AS vdur, count(*) AS n${lane}
        FROM (${SOURCES[name].sql}) WHERE dur < ${shape.bucket} GROUP BY key${lane}, (ts - ${shape.origin}) // ${shape.bucket} ORDER BY ts;
    `);
  }
}

/** Where the timeline's layout, precomputed level and first screen are kept: name a new one when any changes. */
const SHAPE_TABLE = 'web_shape_4';

/**
 * The first screen's answer, computed with the level: the whole trace at FIRST_PX pixels for the first
 * FIRST_THREADS threads of the layout. The page draws it as it opens, without a query: it serves plot widths
 * from FIRST_PX / 4 to FIRST_PX * 1.5 (the page asks again outside that, as for any answer) and the threads of
 * the first screens.
 */
export const FIRST_PX = 1600;
export const FIRST_THREADS = 150;

/**
 * The timeline's tables for the trace's cache (openTraceDb's `extend`): the layout (traceShape), the
 * precomputed level and the first screen, so a second open reads them instead of the whole trace.
 */
export const TIMELINE_TABLES: TableExtension = {
  marker: SHAPE_TABLE,
  async build(conn, temp) {
    const shape = await traceShape(conn);
    await buildLevels(conn, shape, temp);
    const tids = shape.processes.flatMap((p) => p.threads.map((t) => t.tid)).slice(0, FIRST_THREADS);
    const first: FirstScreen = { tids, tracks: await trackData(conn, shape, { b: 0, e: shape.duration, px: FIRST_PX, tids }) };
    const json = JSON.stringify({ ...shape, origin: String(shape.origin) });
    await conn.run(`CREATE OR REPLACE ${temp ? 'TEMP ' : ''}TABLE ${SHAPE_TABLE} AS SELECT ${sqlString(json)} AS shape, ${sqlString(JSON.stringify(first))} AS first`);
  },
};

/** The layout TIMELINE_TABLES kept, and its first screen as JSON text (sent as it is). */
export async function keptShape(conn: DuckDBConnection): Promise<{ shape: TraceShape; first: string }> {
  const [json, first] = (await runSql(conn, `SELECT shape, first FROM ${SHAPE_TABLE}`)).rows[0]!.map(String) as [string, string];
  const shape = JSON.parse(json) as Omit<TraceShape, 'origin'> & { origin: string };
  return { shape: { ...shape, origin: BigInt(shape.origin) }, first };
}

/** One source's slices over [b, e] at q ns per pixel: those at least q long as they are, others merged per pixel. */
function lodSql(name: SourceName, shape: TraceShape, b: bigint, e: bigint, q: number, keys: string): string {
  const src = SOURCES[name];
  const lane = laneOf(name);
  const overlaps = `ts <= ${e} AND ts + dur >= ${b}`;
  const inKeys = src.threads ? ` AND key IN (${keys})` : '';
  const rows =
    q >= shape.bucket
      ? `SELECT key, ts, dur, val, dur AS vdur, 1 AS n${lane} FROM lod_long_${name} WHERE ${overlaps}${inKeys}
         UNION ALL SELECT key, ts, dur, val, vdur, n${lane} FROM lod_level_${name} WHERE ${overlaps}${inKeys}`
      : `SELECT key, ts, dur, val, dur AS vdur, 1 AS n${lane} FROM lod_long_${name} WHERE ${overlaps}${inKeys}
         UNION ALL SELECT key, ts, dur, val, dur AS vdur, 1 AS n${lane} FROM (${src.sql})
         WHERE dur < ${shape.bucket} AND ts >= ${b - BigInt(shape.bucket)} AND ${overlaps}${inKeys}`;
  return `WITH s AS (${rows})
    SELECT key, (ts - ${shape.origin})::DOUBLE AS ts, dur::DOUBLE AS dur, val, n${lane} FROM s WHERE dur >= ${q} AND n = 1
    UNION ALL
    SELECT key, (min(ts) - ${shape.origin})::DOUBLE, (max(ts + dur) - min(ts))::DOUBLE, arg_max(val, vdur), sum(n)${lane}
    FROM s WHERE dur < ${q} OR n > 1 GROUP BY key${lane}, (ts - ${b}) // ${q}
    ORDER BY 1, 2`;
}

/** Rows as columns (a sixth one is the lane); `label` turns a text val into an index in `names`. */
function columns(rows: unknown[][], label?: (v: unknown) => number): Slices {
  const lane: number[] = [];
  const out: Slices = { key: [], ts: [], dur: [], val: [], n: [] };
  for (const [key, ts, dur, val, n, l] of rows) {
    out.key.push(Number(key));
    out.ts.push(Number(ts));
    out.dur.push(Number(dur));
    out.val.push(label ? label(val) : Number(val));
    out.n.push(Number(n));
    if (l !== undefined) lane.push(Number(l));
  }
  return lane.length > 0 ? { ...out, lane } : out;
}

export async function trackData(conn: DuckDBConnection, shape: TraceShape, req: TrackRequest): Promise<Tracks> {
  const started = performance.now();
  const q = Math.max(1, Math.floor((req.e - req.b) / Math.max(1, req.px)));
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  const label = (v: unknown): number => {
    const s = String(v);
    let i = nameIndex.get(s);
    if (i === undefined) nameIndex.set(s, (i = names.push(s) - 1));
    return i;
  };
  const tids = req.tids.map((t) => Math.trunc(t)).filter((t) => Number.isFinite(t));
  const keys = tids.length > 0 ? tids.join(',') : 'NULL';
  const b = shape.origin + BigInt(Math.floor(req.b));
  const e = shape.origin + BigInt(Math.ceil(req.e));
  // One after the other: a connection runs one query at a time.
  const sql = (name: SourceName) => runSql(conn, lodSql(name, shape, b, e, q, keys));
  const cpus = await sql('cpus');
  const states = await sql('states');
  const syscalls = await sql('syscalls');
  const irqs = await sql('irqs');
  const ust = hasSource('ust', shape) ? await sql('ust') : { rows: [] };
  const requests = hasSource('requests', shape) ? await sql('requests') : { rows: [] };
  return {
    b: req.b,
    e: req.e,
    q,
    cpus: columns(cpus.rows),
    states: columns(states.rows),
    syscalls: columns(syscalls.rows, label),
    irqs: columns(irqs.rows),
    ust: columns(ust.rows, label),
    requests: columns(requests.rows, label),
    names,
    queryMs: performance.now() - started,
  };
}
