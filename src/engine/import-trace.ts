// Loads CTF traces into DuckDB tables: one row per event in `events_raw` (its rowid is the event's id), one table
// per event name that occurs, with its payload and contexts as typed columns (`ev_raw:NAME`), discarded events
// and packets in `lost_raw`, system calls paired along each stream (syscall-pairs.ts). Times stay raw clock
// values here; derived-tables.ts turns them into ns and builds the tables users query. The raw tables that
// derived-tables.ts drops are temporary: a cache file never writes (and compresses) them.
//
// Contract: `importTraces(conn, paths)` reads every data stream on its own (no muxing: DuckDB orders rows
// far faster than a heap merge in JS) and fills the raw tables: a generated writer per event class decodes
// its fields straight into the tables' column chunks (no value objects), and a kernel stream's thread per
// event (`sw_tid`: the next_tid of the stream's last sched_switch before the event) is followed as it goes,
// exact when each CPU's events are in one stream (`streams.cpu` says which; derived-tables.ts checks). Event ids are
// unique across the import and increase along each stream. Integer fields become INTEGER when every value
// fits, BIGINT/UBIGINT otherwise; enums keep their integer and add `NAME_label`; floats DOUBLE; strings
// and text arrays VARCHAR; other compound fields JSON text. Errors are the reader's LttErrors.

import type { DuckDBConnection } from '@duckdb/node-api';
import type { FieldClass, StructFieldClass } from '../ctf/ir/trace-class.js';
import type { EventClass } from '../ctf/ir/trace-class.js';
import type { FieldValue } from '../ctf/ir/message.js';
import { VariantValue } from '../ctf/ir/message.js';
import { compileScopeSink, type MemberSink, type ScopeDecoder } from '../ctf/decode/codegen.js';
import type { CtfEventMessage } from '../ctf/decode/event-message.js';
import { openCtfFs } from '../graph/source-ctf-fs.js';
import { NEED_DATA } from '../ctf/decode/msg-iter.js';
import { ColumnAppender, SQL_TYPE, columnsSql, markValid, writeInt64, type Column, type ColumnKind, type ColumnSpec } from './column-appender.js';
import { sqlIdentifier, sqlString } from './run-sql.js';
import { SyscallPairer, type SyscallClass } from './syscall-pairs.js';

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

/** events_raw's columns; an event's id is its rowid (rows are appended in id order, from 0). */
const EVENTS_RAW_COLUMNS: readonly ColumnSpec[] = [
  { name: 'cycles', kind: 'uint64' },
  { name: 'stream_id', kind: 'int32' },
  { name: 'class_id', kind: 'int32' },
  { name: 'cpu', kind: 'int32' },
  { name: 'sw_tid', kind: 'int32' },
  { name: 'ctx_tid', kind: 'int32' },
  { name: 'ctx_pid', kind: 'int32' },
  { name: 'ctx_procname', kind: 'varchar' },
];
const SW_TID = 4;
/** events_raw columns of the common context members that name the event's thread (vtid wins over tid); the
 * table has them when a stream class has such members. */
const CONTEXT_COLUMNS: Record<string, number> = { vtid: 5, tid: 5, vpid: 6, pid: 6, procname: 7 };

/** Text of a value bound for a VARCHAR column. */
function textOf(v: FieldValue): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : jsonText(v);
}

/** enumLabel() of one field class, remembered per value (a trace repeats a few values millions of times). */
function labeller(fc: FieldClass): (v: number | bigint) => string | undefined {
  const known = new Map<number | bigint, string | undefined>();
  return (v) => {
    if (known.has(v)) return known.get(v);
    const l = enumLabel(fc, v);
    known.set(v, l);
    return l;
  };
}

/** Code storing variable `v` into column `col` of `cols` (a generated writer's variable) at row `row`. */
function storeCode(kind: ColumnKind, fc: FieldClass, cols: string, col: number, row: string, v: string, k: (x: unknown) => string): string {
  const c = `${cols}[${col}]`;
  const mark = `${c}.valid[${row} >>> 5] |= 1 << (${row} & 31);`;
  const numeric = fc.kind === 'int' || fc.kind === 'enum' || fc.kind === 'varint' || fc.kind === 'float';
  switch (kind) {
    case 'int32':
      return numeric ? `${c}.i32[${row}] = Number(${v}); ${mark}` : '';
    case 'double':
      return numeric ? `${c}.f64[${row}] = Number(${v}); ${mark}` : '';
    case 'int64':
    case 'uint64':
      return numeric ? `${k(writeInt64)}(${c}, ${row}, ${v});` : '';
    case 'boolean':
      return `if (${v} !== null) { ${c}.u8[${row}] = ${v} ? 1 : 0; ${mark} }`;
    case 'varchar':
      return `if (${v} !== null && ${v} !== undefined) { ${c}.strings[${row}] = ${k(textOf)}(${v}); ${mark} }`;
  }
}

/** The generated writer of one event class: its common context into events_raw, its fields into its table. */
function compileWriter(plans: readonly FieldPlan[], cc: StructFieldClass | undefined, ec: EventClass): ScopeDecoder {
  const byMember = [new Map<string, FieldPlan>(), new Map<string, FieldPlan>(), new Map<string, FieldPlan>()];
  for (const p of plans) byMember[p.scope === 'specificContext' ? 1 : 2]!.set(p.member, p);
  const ccNames = new Set(cc?.members.map((m) => m.name));
  const sink: MemberSink = {
    value(scope, name, fc) {
      if (scope === 0) {
        const col = CONTEXT_COLUMNS[name];
        if (col === undefined || (name === 'tid' && ccNames.has('vtid')) || (name === 'pid' && ccNames.has('vpid'))) return undefined;
        return (v, k) => storeCode(EVENTS_RAW_COLUMNS[col]!.kind, fc, 'EC', col, 'ER', v, k);
      }
      const p = byMember[scope]!.get(name);
      if (!p) return undefined;
      return (v, k) => {
        let code = storeCode(p.kind, fc, 'TC', p.column, 'TR', v, k);
        if (p.labelColumn !== undefined) {
          code += ` if ((${v}L = ${k(labeller(p.fc))}(${v})) !== undefined) { TC[${p.labelColumn}].strings[TR] = ${v}L; TC[${p.labelColumn}].valid[TR >>> 5] |= 1 << (TR & 31); }`;
          code = `var ${v}L; ${code}`;
        }
        return code;
      };
    },
    halves(scope, name) {
      const p = scope === 0 ? undefined : byMember[scope]!.get(name);
      if (!p || (p.kind !== 'int64' && p.kind !== 'uint64') || p.labelColumn !== undefined) return undefined;
      return (lo, hi) => `TC[${p.column}].i32[2 * TR] = ${lo}; TC[${p.column}].i32[2 * TR + 1] = ${hi}; TC[${p.column}].valid[TR >>> 5] |= 1 << (TR & 31);`;
    },
  };
  return compileScopeSink([cc, ec.specificContext, ec.payload], sink, 'var EC = o.EC, ER = o.ER, TC = o.TC, TR = o.TR;');
}

/** What a generated writer writes to: events_raw's columns and row, its class table's. */
interface WriterTarget {
  EC: Column[];
  ER: number;
  TC: Column[];
  TR: number;
}

interface ClassPlan {
  readonly classId: number;
  readonly table: ClassTable;
  readonly plans: FieldPlan[];
  readonly ec: EventClass;
  readonly cc: StructFieldClass | undefined;
  write?: ScopeDecoder;
  /** sched_switch's prev_tid and next_tid columns (int32), for the stream's thread per event. */
  readonly switchTids?: readonly [number, number];
  readonly syscall?: SyscallClass;
  /** A system call exit's integer `ret` column. */
  readonly retCol?: number;
}

export async function importTraces(conn: DuckDBConnection, paths: readonly string[], progress?: ImportProgress): Promise<ImportSummary> {
  const source = await openCtfFs(paths, {});
  // The thread and process context columns only when some stream class has such a context (not kernel traces):
  // appending a column of NULLs costs DuckDB as much as one of values.
  const withContext = source.traces.some((t) =>
    [...t.info.tc.streamClasses.values()].some((sc) => sc.eventCommonContext?.members.some((m) => CONTEXT_COLUMNS[m.name] !== undefined)),
  );
  const eventColumns = withContext ? EVENTS_RAW_COLUMNS : EVENTS_RAW_COLUMNS.slice(0, SW_TID + 1);
  await conn.run(`
    CREATE TABLE traces (trace_id INTEGER, name VARCHAR, path VARCHAR, hostname VARCHAR, domain VARCHAR, tracer VARCHAR, pid INTEGER, procname VARCHAR);
    CREATE TABLE streams (stream_id INTEGER, trace_id INTEGER, stream_class_id INTEGER, stream_instance_id INTEGER,
      path VARCHAR, clock_frequency DOUBLE, clock_offset_ns HUGEINT, cpu INTEGER, events BIGINT, first_prev_tid INTEGER);
    CREATE TABLE event_classes (class_id INTEGER, trace_id INTEGER, stream_class_id INTEGER, ctf_id INTEGER,
      name VARCHAR, loglevel INTEGER);
    CREATE TEMP TABLE events_raw (${columnsSql(eventColumns)});
    CREATE TEMP TABLE lost_raw (stream_id INTEGER, kind VARCHAR, count BIGINT, begin_cycles UBIGINT, end_cycles UBIGINT);
  `);

  // Event classes: a global id each, and one table per event name (the union of its classes' fields).
  const tables = new Map<string, ClassTable>();
  const classPlans = new Map<EventClass, ClassPlan>();
  const classRows: string[] = [];
  const syscalls = new SyscallPairer();
  let nextClass = 0;
  source.traces.forEach((t, traceId) => {
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
        const tid = (m: string) => plans.find((p) => p.scope === 'payload' && p.member === m && p.kind === 'int32')?.column;
        const [prev, next] = [tid('prev_tid'), tid('next_tid')];
        const switchTids = ec.name === 'sched_switch' && prev !== undefined && next !== undefined ? ([prev, next] as const) : undefined;
        const syscall = syscalls.classify(classId, ec.name);
        const retCol = plans.find((p) => p.scope === 'payload' && p.member === 'ret' && p.kind !== 'double' && p.kind !== 'varchar' && p.kind !== 'boolean')?.column;
        classPlans.set(ec, { classId, table, plans, ec, cc: sc.eventCommonContext, switchTids, syscall, retCol });
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

  const events = await ColumnAppender.create(conn, 'events_raw', eventColumns, true);
  const lost = await ColumnAppender.create(conn, 'lost_raw', [
    { name: 'stream_id', kind: 'int32' },
    { name: 'kind', kind: 'varchar' },
    { name: 'count', kind: 'int64' },
    { name: 'begin_cycles', kind: 'uint64' },
    { name: 'end_cycles', kind: 'uint64' },
  ], true);
  await syscalls.open(conn);
  // A stream's slices between switches are one thread's only when no context names the thread per event.
  const pairing = !withContext;

  // Lazy messages whose fields the writers read at once, before the stream moves on: the read buffers are
  // recycled as for a reader that reads no fields.
  const streams = source.createStreams({ fieldsUnread: true });
  const traceIds = new Map(source.traces.map((t, i) => [t.info, i] as const));
  const streamRows: string[] = [];
  const target: WriterTarget = { EC: events.cols, ER: 0, TC: events.cols, TR: 0 };
  const ev = events.cols;
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
    const firstId = id;
    // The stream's CPU (null once two packets disagree), and the thread the last sched_switch ran: it runs the
    // events after the switch's time (the switch itself, and events at its very time, are the previous one's).
    let cpu: number | undefined;
    let streamCpu: number | null | undefined;
    let switches = false;
    let firstPrev: number | undefined;
    let tid: number | undefined;
    let pendingTid = 0;
    let pendingAt: number | bigint | undefined;
    let packet = 0;
    syscalls.stream(sid);
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
            streamCpu = streamCpu === undefined ? (cpu ?? null) : streamCpu === cpu ? streamCpu : null;
            // The packets before this one are read.
            if (progress && bytes / totalBytes >= nextReport) {
              progress(bytes / totalBytes, id);
              nextReport = Math.floor((100 * bytes) / totalBytes + 1) / 100;
            }
            bytes += groups[sid]?.index[packet++]?.size ?? 0;
            break;
          }
          case 'event': {
            const cls = classPlans.get(m.ec)!;
            // Tables and appenders are made at a name's first event: most declared classes (every system call)
            // never occur, and creating then dropping hundreds of tables costs seconds.
            const a = cls.table.appender ?? (cls.table.appender = await createTable(conn, cls.table));
            const er = events.row;
            const cycles = m.cycles;
            if (cycles !== undefined) events.setInt(0, cycles);
            events.setInt(1, sid);
            events.setInt(2, cls.classId);
            if (cpu !== undefined) events.setInt(3, cpu);
            if (pendingAt !== undefined && cycles !== undefined && cycles > pendingAt) {
              tid = pendingTid;
              pendingAt = undefined;
              if (pairing) syscalls.slice(tid);
            }
            if (tid !== undefined) {
              ev[SW_TID]!.i32[er] = tid;
              markValid(ev[SW_TID]!, er);
            }
            const tr = a.row;
            target.ER = er;
            target.TC = a.cols;
            target.TR = tr;
            a.setInt(0, id);
            (cls.write ??= compileWriter(cls.plans, cls.cc, cls.ec))((m as CtfEventMessage).bodyState()!, target);
            const call = cls.syscall;
            if (call && pairing && cycles !== undefined) syscalls.event(call, id, cycles, cls.retCol === undefined ? undefined : a.cols[cls.retCol], tr);
            const sw = cls.switchTids;
            if (sw && cycles !== undefined && cpu !== undefined) {
              const [prevCol, nextCol] = sw;
              if (!switches) firstPrev = a.cols[prevCol]!.i32[tr];
              switches = true;
              pendingTid = a.cols[nextCol]!.i32[tr]!;
              pendingAt = cycles;
            }
            events.endRow();
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
    streamRows.push(
      `(${sid}, ${traceIds.get(info.trace)}, ${info.sc.id}, ${info.id}, ${sqlString(info.name)}, ${clock ? clock.frequency : 'NULL'}, ${offsetNs}, ` +
        `${streamCpu ?? 'NULL'}, ${id - firstId}, ${firstPrev ?? 'NULL'})`,
    );
  }
  progress?.(1, id);
  events.close();
  lost.close();
  syscalls.close();
  for (const t of tables.values()) t.appender?.close();
  for (let i = 0; i < streamRows.length; i += 500) await conn.run(`INSERT INTO streams VALUES ${streamRows.slice(i, i + 500).join(',')}`);
  return { events: id, traces: source.traces.length, streams: streams.length };
}

async function createTable(conn: DuckDBConnection, t: ClassTable): Promise<ColumnAppender> {
  await conn.run(`CREATE TABLE ${sqlIdentifier(t.table)} (${t.columns.map((c) => `${sqlIdentifier(c.name)} ${SQL_TYPE[c.kind]}`).join(', ')})`);
  return ColumnAppender.create(conn, t.table, t.columns);
}
