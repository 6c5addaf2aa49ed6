// What a click on the timeline shows: the slice under the pointer (a CPU's running thread, a thread's state,
// a system call, an interrupt, an ltt/ust event, an ltt/auto request, or an event by id from a search), the
// event that began it with its fields from the trace's tables, and the lines `ltt view --begin=T --end=T`
// prints for that time. A request also shows where its time went, as `ltt analyze requests` breaks it down.
//
// The text comes from the view's own pretty sink over the reading graph, which seeks through the packet index
// to T: a click costs a packet or two per stream, not a read of the trace. Event objects are not pooled as
// babeltrace2 pools them (that needs reading from the beginning), so an empty text field prints empty.

import type { DuckDBConnection } from '@duckdb/node-api';
import { requestBreakdown, type RequestBreakdown } from '../analyses/requests.js';
import { syscallText } from '../analyses/requests-text.js';
import { LttError } from '../errors.js';
import { runSql, sqlIdentifier } from '../engine/run-sql.js';
import { readingGraph } from '../graph/open-trace.js';
import { openCtfFs } from '../graph/source-ctf-fs.js';
import { OutputWriter } from '../view/output-writer.js';
import { PrettySink } from '../view/pretty-sink.js';
import { parseViewArgs } from '../view/view-args.js';
import type { EventDetail } from './protocol.js';
import { MAX_LANES, ustEvents, type TraceShape } from './timeline-queries.js';

export const DETAIL_KINDS = ['cpu', 'state', 'syscall', 'irq', 'ust', 'request', 'id'] as const;
export type DetailKind = (typeof DETAIL_KINDS)[number];

export interface DetailRequest {
  readonly kind: DetailKind;
  /** A CPU (cpu, irq), a tid (state, syscall, ust, request) or an event id. */
  readonly key: number;
  /** Relative ns under the pointer. */
  readonly t: number;
  /** How far (ns) an instant or a short slice may be from t and still be the one clicked. */
  readonly tol: number;
  /** A request's lane on its thread (timeline-queries MAX_LANES: the last holds every deeper one). */
  readonly lane?: number;
}

/** The row of a slice table covering the absolute time `abs`, else the nearest within tol ns, by column name. */
async function sliceAt(conn: DuckDBConnection, table: string, where: string, abs: bigint, tol: number): Promise<Record<string, unknown> | undefined> {
  const r = await runSql(
    conn,
    `SELECT * FROM ${table} WHERE ${where} AND ts <= ${abs + BigInt(Math.ceil(tol))} AND ts + dur >= ${abs - BigInt(Math.ceil(tol))}
     ORDER BY CASE WHEN ts <= ${abs} AND ts + dur >= ${abs} THEN 0 ELSE 1 END, abs(ts - ${abs}) LIMIT 1`,
  );
  const row = r.rows[0];
  return row && Object.fromEntries(r.columns.map((c, i) => [c, row[i]]));
}

/** The event (events row) that begins a slice: its time, and the names and place it may have. */
async function eventAt(conn: DuckDBConnection, where: string): Promise<Record<string, unknown> | undefined> {
  const r = await runSql(conn, `SELECT e.id, e.ts, e.name, e.cpu, e.tid, e.trace_id FROM events e WHERE ${where} ORDER BY e.id LIMIT 1`);
  const row = r.rows[0];
  return row && Object.fromEntries(r.columns.map((c, i) => [c, row[i]]));
}

function show(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}

export async function eventDetail(conn: DuckDBConnection, shape: TraceShape, req: DetailRequest): Promise<EventDetail> {
  const abs = shape.origin + BigInt(Math.round(req.t));
  const key = Math.trunc(req.key);
  let slice: Record<string, unknown> | undefined;
  let event: Record<string, unknown> | undefined;
  let title = '';
  let extra: [string, string][] = [];
  const threadName = async (tid: unknown): Promise<string> => {
    const r = await runSql(conn, `SELECT arg_max(name, last_ts) FROM threads WHERE tid = ${Number(tid)}`);
    return `${show(r.rows[0]?.[0] ?? '?')} (tid ${show(tid)})`;
  };
  switch (req.kind) {
    case 'cpu':
      slice = await sliceAt(conn, 'sched', `cpu = ${key}`, abs, 0);
      if (slice) {
        title = `CPU ${key}: ${Number(slice['tid']) === 0 ? 'idle' : await threadName(slice['tid'])}`;
        event = await eventAt(conn, `e.ts = ${slice['ts']} AND e.cpu = ${key} AND e.name = 'sched_switch'`);
      }
      break;
    case 'state':
      slice = await sliceAt(conn, 'thread_state', `tid = ${key}`, abs, 0);
      if (slice) {
        title = `${await threadName(key)}: ${show(slice['state'])}${slice['reason'] ? ` (${show(slice['reason'])})` : ''}`;
        event = await eventAt(conn, `e.ts = ${slice['ts']} AND e.name IN ('sched_switch', 'sched_waking', 'sched_wakeup', 'sched_wakeup_new')`);
      }
      break;
    case 'syscall':
      slice = await sliceAt(conn, 'syscalls', `tid = ${key}`, abs, req.tol);
      if (slice) {
        title = `${await threadName(key)}: ${show(slice['name'])}`;
        event = await eventAt(conn, `e.ts = ${slice['ts']} AND e.tid = ${key} AND e.name LIKE '%syscall_entry_%'`);
      }
      break;
    case 'irq':
      slice =
        (await sliceAt(conn, 'irqs', `cpu = ${key}`, abs, req.tol)) ??
        (await sliceAt(conn, 'softirqs', `cpu = ${key}`, abs, req.tol));
      if (slice) {
        title = slice['irq'] !== undefined ? `CPU ${key}: IRQ ${show(slice['irq'])} ${show(slice['name'])}` : `CPU ${key}: soft IRQ vector ${show(slice['vec'])}`;
        event = await eventAt(conn, `e.ts = ${slice['ts']} AND e.cpu = ${key} AND e.name IN ('irq_handler_entry', 'irq_softirq_entry')`);
      }
      break;
    case 'ust': {
      const tol = BigInt(Math.ceil(req.tol));
      const r = await runSql(conn, `${ustEvents('e.id', `e.tid = ${key} AND e.ts BETWEEN ${abs - tol} AND ${abs + tol}`)} ORDER BY abs(e.ts - ${abs}) LIMIT 1`);
      if (r.rows[0]) event = await eventAt(conn, `e.id = ${r.rows[0][0]}`);
      if (event) title = `${await threadName(key)}: ${show(event['name'])}`;
      break;
    }
    case 'request': {
      const lane = req.lane === undefined ? '' : ` AND least(lane, ${MAX_LANES - 1}) = ${Math.trunc(req.lane)}`;
      slice = await sliceAt(conn, '(SELECT * EXCLUDE (start_ts), start_ts AS ts FROM requests)', `tid = ${key}${lane}`, abs, req.tol);
      if (!slice) break;
      title = `${show(slice['method'])} ${show(slice['path'])} in ${await threadName(key)}`;
      event = await eventAt(conn, `e.ts = ${slice['ts']} AND e.tid = ${key} AND e.name = 'node:request_start'`);
      const b = await requestBreakdown(conn, Number(slice['pid']), Number(slice['req']));
      if (b) extra = breakdownFields(b);
      break;
    }
    case 'id':
      event = await eventAt(conn, `e.id = ${key}`);
      if (event) title = `${show(event['name'])}${event['tid'] !== null ? ` in ${await threadName(event['tid'])}` : ''}`;
      break;
  }
  if (!slice && !event) throw new LttError('WEB_NOTHING_THERE', 'Nothing there');
  const fields: [string, string][] = [];
  for (const [k, v] of Object.entries(slice ?? {})) {
    if (k === 'trace_id') continue;
    fields.push([k, k === 'ts' ? `${show(v)} (+${Number(BigInt(v as bigint) - shape.origin) / 1e9} s)` : show(v)]);
  }
  fields.push(...extra);
  let text: string[] = [];
  if (event) {
    const payload = await runSql(conn, `SELECT * EXCLUDE (id, ts, cpu) FROM ${sqlIdentifier(String(event['name']))} WHERE id = ${event['id']}`);
    if (payload.rows[0]) payload.columns.forEach((c, i) => fields.push([`${event!['name']}.${c}`, show(payload.rows[0]![i])]));
    const trace = await runSql(conn, `SELECT path FROM traces WHERE trace_id = ${event['trace_id']}`);
    text = await viewLines(String(trace.rows[0]![0]), BigInt(event['ts'] as bigint), String(event['name']), event['cpu'] as number | null);
  }
  const ts = Number(BigInt((slice?.['ts'] ?? event!['ts']) as bigint) - shape.origin);
  return { title, ts, dur: slice ? Number(slice['dur']) : undefined, fields, text };
}

const ms = (ns: number): string => `${(ns / 1e6).toFixed(3)} ms`;

/** A request's breakdown as fields, in `ltt analyze requests`'s terms. */
function breakdownFields(b: RequestBreakdown): [string, string][] {
  const out: [string, string][] = [
    ['wall', ms(b.wallNs)],
    ['work (its thread worked for it)', ms(b.workNs)],
    ['on CPU, user', ms(b.userNs)],
    ['on CPU, system', ms(b.sysNs)],
    ['runnable', ms(b.runnableNs)],
    ['blocked', b.blocked.map((x) => `${x.reason} ${ms(x.ns)}`).join(', ') || ms(0)],
    ['unknown (no kernel data)', ms(b.unknownNs)],
    ['queued behind other work', ms(b.queuedNs)],
    ['idle (no thread worked for it)', ms(b.idleNs)],
  ];
  if (b.syscalls.length > 0) out.push(['system calls', `${syscallText(b.syscalls)} (ms)`]);
  if (b.poolOps > 0) out.push(['thread pool', `${b.poolOps} ops, CPU ${ms(b.poolCpuNs)}${b.poolSyscalls.length > 0 ? ` (${syscallText(b.poolSyscalls)}, ms)` : ''}`]);
  if (b.workerCpuNs > 0) out.push(['worker threads CPU', ms(b.workerCpuNs)]);
  if (b.childCpuNs > 0) out.push(['child processes CPU', ms(b.childCpuNs)]);
  if (b.clients > 0) out.push(['outgoing HTTP', `${b.clients}, ${ms(b.clientNs)}`]);
  return out;
}

/** `ltt view --begin=T --end=T TRACE`'s lines, the one of event `name` on `cpu` first. */
export async function viewLines(trace: string, ts: bigint, name: string, cpu: number | null): Promise<string[]> {
  const cfg = parseViewArgs([trace]);
  const source = await openCtfFs(cfg.paths, { warn: () => {} });
  const out = OutputWriter.memory(cfg.pretty.stringEncoding);
  const sink = new PrettySink({ ...cfg.pretty, color: 'never' }, out, () => {}, false);
  for await (const batch of readingGraph(source, { beginNs: ts, endNs: ts })) sink.consume(batch);
  const lines = out.text().split('\n').filter((l) => l.length > 0);
  const mine = (l: string) => l.includes(` ${name}: `) && (cpu === null || new RegExp(`\\bcpu_id = ${cpu}\\b`).test(l));
  return [...lines.filter(mine), ...lines.filter((l) => !mine(l))];
}
