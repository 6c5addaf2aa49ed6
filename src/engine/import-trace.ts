// Loads CTF traces into DuckDB tables: one row per event in `events_raw`, one table per event name that occurs, with its
// payload and contexts as typed columns (`ev_raw:NAME`), discarded events and packets in `lost_raw`. Times
// stay raw clock values here; derived-tables.ts turns them into ns and builds the tables users query.
//
// Contract: `importTraces(conn, paths)` reads every data stream on its own (no muxing: DuckDB orders rows
// far faster than a heap merge in JS) with eager field decoding, and fills the raw tables. Event ids are
// unique across the import and increase along each stream. Integer fields become INTEGER when every value
// fits, BIGINT/UBIGINT otherwise; enums keep their integer and add `NAME_label`; floats DOUBLE; strings
// and text arrays VARCHAR; other compound fields JSON text. Errors are the reader's LttErrors.

import type { DuckDBConnection } from '@duckdb/node-api';
import type { FieldClass, StructFieldClass, TraceClass } from '../ctf/ir/trace-class.js';
import type { FieldValue, StructValue } from '../ctf/ir/message.js';
import { VariantValue } from '../ctf/ir/message.js';
import { openCtfFs } from '../graph/source-ctf-fs.js';
import { NEED_DATA } from '../ctf/decode/msg-iter.js';
import { ColumnAppender, SQL_TYPE, type ColumnKind, type ColumnSpec } from './column-appender.js';
import { sqlIdentifier, sqlString } from './run-sql.js';

/** Called as the import goes, at most once per percent: `fraction` of the trace's packet bytes read. */
export interface ImportProgress {
  (fraction: number, eventsSoFar: number): void;
}

export interface ImportSummary {
  readonly events: number;
  readonly traces: number;
  readonly streams: number;
}

/** How one field of an event class lands in its table. */
interface FieldPlan {
  readonly scope: 'payload' | 'specificContext' | 'commonContext';
  readonly member: string;
  readonly column: number;
  readonly kind: ColumnKind;
  readonly fc: FieldClass;
  /** Column of the enum label, when the field is an enum. */
  readonly labelColumn?: number;
}

interface ClassTable {
  readonly table: string;
  readonly columns: ColumnSpec[];
  readonly byName: Map<string, number>;
  appender?: ColumnAppender;
}

function columnKind(fc: FieldClass): ColumnKind {
  switch (fc.kind) {
    case 'int':
      if (fc.size < 32 || (fc.size === 32 && fc.signed)) return 'int32';
      return fc.size === 64 && !fc.signed ? 'uint64' : 'int64';
    case 'enum':
      return columnKind(fc.container);
    case 'varint':
      return fc.signed ? 'int64' : 'uint64';
    case 'float':
      return 'double';
    case 'bool':
      return 'boolean';
    case 'string':
      return 'varchar';
    default:
      return 'varchar';
  }
}

function jsonText(v: FieldValue): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return x.toString();
    if (x instanceof VariantValue) return x.value;
    if (x instanceof Uint8Array) return Buffer.from(x).toString('hex');
    return x;
  });
}

function enumLabel(fc: FieldClass, v: number | bigint): string | undefined {
  if (fc.kind !== 'enum') return undefined;
  const b = BigInt(v);
  let label: string | undefined;
  for (const m of fc.mappings) {
    for (const [lo, hi] of m.ranges) {
      if (b >= lo && b <= hi) {
        // babeltrace2 prints every matching label; a column holds them joined as it lists them.
        label = label === undefined ? m.label : `${label}, ${m.label}`;
        break;
      }
    }
  }
  return label;
}

/** Column names of a table: payload first, then contexts; a name used twice gets its scope as prefix. */
function addMembers(t: ClassTable, plans: FieldPlan[], scope: FieldPlan['scope'], sfc: StructFieldClass | undefined): void {
  if (!sfc) return;
  for (const m of sfc.members) {
    if (m.fc.hidden) continue;
    const base = scope === 'payload' ? m.name : `ctx_${m.name}`;
    const kind = columnKind(m.fc);
    let column = t.byName.get(base);
    if (column === undefined || t.columns[column]!.kind !== kind) {
      const name = column === undefined ? base : `${base}_${kind}`;
      column = t.byName.get(name);
      if (column === undefined) {
        column = t.columns.length;
        t.columns.push({ name, kind });
        t.byName.set(name, column);
      }
    }
    let labelColumn: number | undefined;
    if (m.fc.kind === 'enum') {
      const ln = `${base}_label`;
      labelColumn = t.byName.get(ln);
      if (labelColumn === undefined) {
        labelColumn = t.columns.length;
        t.columns.push({ name: ln, kind: 'varchar' });
        t.byName.set(ln, labelColumn);
      }
    }
    plans.push({ scope, member: m.name, column, kind, fc: m.fc, labelColumn });
  }
}

export const EVENTS_RAW_COLUMNS: readonly ColumnSpec[] = [
  { name: 'id', kind: 'int64' },
  { name: 'cycles', kind: 'uint64' },
  { name: 'stream_id', kind: 'int32' },
  { name: 'class_id', kind: 'int32' },
  { name: 'cpu', kind: 'int32' },
  { name: 'ctx_tid', kind: 'int32' },
  { name: 'ctx_pid', kind: 'int32' },
  { name: 'ctx_procname', kind: 'varchar' },
];

export async function importTraces(conn: DuckDBConnection, paths: readonly string[], progress?: ImportProgress): Promise<ImportSummary> {
  const source = await openCtfFs(paths, {});
  await conn.run(`
    CREATE TABLE traces (trace_id INTEGER, name VARCHAR, path VARCHAR, hostname VARCHAR, domain VARCHAR, tracer VARCHAR, pid INTEGER, procname VARCHAR);
    CREATE TABLE streams (stream_id INTEGER, trace_id INTEGER, stream_class_id INTEGER, stream_instance_id INTEGER,
      path VARCHAR, clock_frequency DOUBLE, clock_offset_ns HUGEINT);
    CREATE TABLE event_classes (class_id INTEGER, trace_id INTEGER, stream_class_id INTEGER, ctf_id INTEGER,
      name VARCHAR, loglevel INTEGER);
    CREATE TABLE events_raw (${EVENTS_RAW_COLUMNS.map((c) => `${c.name} ${SQL_TYPE[c.kind]}`).join(', ')});
    CREATE TABLE lost_raw (stream_id INTEGER, kind VARCHAR, count BIGINT, begin_cycles UBIGINT, end_cycles UBIGINT);
  `);

  // Event classes: a global id each, and one table per event name (the union of its classes' fields).
  const tables = new Map<string, ClassTable>();
  const classPlans = new Map<TraceClass, Map<string, { classId: number; table: ClassTable; plans: FieldPlan[] }>>();
  const classRows: string[] = [];
  let nextClass = 0;
  source.traces.forEach((t, traceId) => {
    const perTrace = new Map<string, { classId: number; table: ClassTable; plans: FieldPlan[] }>();
    classPlans.set(t.info.tc, perTrace);
    for (const sc of t.info.tc.streamClasses.values()) {
      for (const ec of sc.eventClasses.values()) {
        let table = tables.get(ec.name);
        if (!table) {
          table = { table: `ev_raw:${ec.name}`, columns: [{ name: 'id', kind: 'int64' }], byName: new Map([['id', 0]]) };
          tables.set(ec.name, table);
        }
        const plans: FieldPlan[] = [];
        addMembers(table, plans, 'payload', ec.payload);
        addMembers(table, plans, 'specificContext', ec.specificContext);
        const classId = nextClass++;
        perTrace.set(`${sc.id}/${ec.id}`, { classId, table, plans });
        classRows.push(`(${classId}, ${traceId}, ${sc.id}, ${ec.id}, ${sqlString(ec.name)}, ${ec.logLevel ?? 'NULL'})`);
      }
    }
  });
  for (let i = 0; i < classRows.length; i += 500) {
    await conn.run(`INSERT INTO event_classes VALUES ${classRows.slice(i, i + 500).join(',')}`);
  }

  const traceRows: string[] = [];
  source.traces.forEach((t, traceId) => {
    const env = t.info.tc.env;
    const s = (k: string): string => {
      const v = env.get(k);
      return v === undefined ? 'NULL' : sqlString(String(v));
    };
    // A per-process user-space trace (LTTng's and ltt's per-PID buffers) names its process in the environment.
    const vpid = env.get('vpid');
    const pid = typeof vpid === 'number' || typeof vpid === 'bigint' ? String(vpid) : 'NULL';
    traceRows.push(`(${traceId}, ${sqlString(t.info.name)}, ${sqlString(t.info.path)}, ${s('hostname')}, ${s('domain')}, ${s('tracer_name')}, ${pid}, ${s('procname')})`);
  });
  if (traceRows.length > 0) await conn.run(`INSERT INTO traces VALUES ${traceRows.join(',')}`);

  const events = await ColumnAppender.create(conn, 'events_raw', EVENTS_RAW_COLUMNS);
  const lost = await ColumnAppender.create(conn, 'lost_raw', [
    { name: 'stream_id', kind: 'int32' },
    { name: 'kind', kind: 'varchar' },
    { name: 'count', kind: 'int64' },
    { name: 'begin_cycles', kind: 'uint64' },
    { name: 'end_cycles', kind: 'uint64' },
  ]);

  const streams = source.createStreams({ eager: true });
  const traceIds = new Map(source.traces.map((t, i) => [t.info, i] as const));
  const streamRows: string[] = [];
  let id = 0;
  // Streams come in the order of the traces' data stream groups: the packet index gives each packet's bytes.
  const groups = source.traces.flatMap((t) => t.groups);
  const totalBytes = groups.reduce((a, g) => a + g.index.reduce((b, p) => b + p.size, 0), 0) || 1;
  let bytes = 0;
  let nextReport = 0.01;
  for (let sid = 0; sid < streams.length; sid++) {
    const stream = streams[sid]!;
    const info = stream.info;
    const clock = info.sc.defaultClock;
    const offsetNs = clock ? clock.offsetSeconds * 1_000_000_000n + BigInt(Math.trunc((1e9 * Number(clock.offsetCycles)) / clock.frequency)) : 0n;
    streamRows.push(
      `(${sid}, ${traceIds.get(info.trace)}, ${info.sc.id}, ${info.id}, ${sqlString(info.name)}, ${clock ? clock.frequency : 'NULL'}, ${offsetNs})`,
    );
    const perClass = classPlans.get(info.trace.tc)!;
    let cpu: number | undefined;
    let packet = 0;
    try {
      for (;;) {
        let m = stream.next();
        if (m === NEED_DATA) {
          await stream.fill();
          continue;
        }
        if (m === undefined) break;
        switch (m.type) {
          case 'packet-beginning': {
            const c = m.context?.['cpu_id'];
            cpu = typeof c === 'number' ? c : undefined;
            // The packets before this one are read.
            if (progress && bytes / totalBytes >= nextReport) {
              progress(bytes / totalBytes, id);
              nextReport = Math.floor((100 * bytes) / totalBytes + 1) / 100;
            }
            bytes += groups[sid]?.index[packet++]?.size ?? 0;
            break;
          }
          case 'event': {
            const cls = perClass.get(`${info.sc.id}/${m.ec.id}`)!;
            events.setInt(0, id);
            if (m.cycles !== undefined) events.setInt(1, m.cycles);
            events.setInt(2, sid);
            events.setInt(3, cls.classId);
            if (cpu !== undefined) events.setInt(4, cpu);
            const cc = m.commonContext;
            if (cc) contextColumns(events, cc);
            events.endRow();
            // Tables and appenders are made at a name's first event: most declared classes (every system call)
            // never occur, and creating then dropping hundreds of tables costs seconds.
            const a = cls.table.appender ?? (cls.table.appender = await createTable(conn, cls.table));
            a.setInt(0, id);
            for (const p of cls.plans) {
              const scope = p.scope === 'payload' ? m.payload : m.specificContext;
              const v = scope?.[p.member];
              if (v === undefined || v === null) continue;
              setValue(a, p, v);
            }
            a.endRow();
            id++;
            break;
          }
          case 'discarded-events':
          case 'discarded-packets':
            lost.setInt(0, sid);
            lost.setString(1, m.type === 'discarded-events' ? 'events' : 'packets');
            if (m.count !== undefined) lost.setInt(2, m.count);
            if (m.beginCycles !== undefined) lost.setInt(3, m.beginCycles);
            if (m.endCycles !== undefined) lost.setInt(4, m.endCycles);
            lost.endRow();
            break;
          default:
            break;
        }
      }
    } finally {
      stream.close();
    }
  }
  progress?.(1, id);
  events.close();
  lost.close();
  for (const t of tables.values()) t.appender?.close();
  for (let i = 0; i < streamRows.length; i += 500) await conn.run(`INSERT INTO streams VALUES ${streamRows.slice(i, i + 500).join(',')}`);
  return { events: id, traces: source.traces.length, streams: streams.length };
}

async function createTable(conn: DuckDBConnection, t: ClassTable): Promise<ColumnAppender> {
  await conn.run(`CREATE TABLE ${sqlIdentifier(t.table)} (${t.columns.map((c) => `${sqlIdentifier(c.name)} ${SQL_TYPE[c.kind]}`).join(', ')})`);
  return ColumnAppender.create(conn, t.table, t.columns);
}

function contextColumns(a: ColumnAppender, cc: StructValue): void {
  const tid = cc['vtid'] ?? cc['tid'];
  if (typeof tid === 'number') a.setInt(5, tid);
  const pid = cc['vpid'] ?? cc['pid'];
  if (typeof pid === 'number') a.setInt(6, pid);
  const name = cc['procname'];
  if (typeof name === 'string') a.setString(7, name);
}

function setValue(a: ColumnAppender, p: FieldPlan, v: FieldValue): void {
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (p.kind === 'varchar') a.setString(p.column, String(v));
    else a.setInt(p.column, v);
    if (p.labelColumn !== undefined) {
      const l = enumLabel(p.fc, v);
      if (l !== undefined) a.setString(p.labelColumn, l);
    }
  } else if (typeof v === 'string') {
    a.setString(p.column, v);
  } else if (typeof v === 'boolean') {
    a.setBoolean(p.column, v);
  } else {
    a.setString(p.column, jsonText(v));
  }
}

