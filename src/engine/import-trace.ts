// Loads CTF traces in one pass over their events, merged in time order: the two big tables go to Parquet files in
// the import's folder (parquet-file.ts: DuckDB reads them in place, and its insert path costs more than the
// decoding), `events.parquet` (one row per event, its id its place in that order, seen as the temporary view
// `events_raw`) and one file per event name that occurs, with its payload and contexts as typed columns (the
// view `payload:NAME`), and the sched slices and the system calls paired per thread (syscall-pairs.ts, on the
// writer thread); small tables go to DuckDB: discarded events and packets in `lost_raw`, the threads that each
// event's `thr` numbers in `threads_raw`.
// derived-tables.ts builds the tables users query from them. The raw tables that derived-tables.ts drops are
// temporary: a cache file never writes (and compresses) them.
//
// Contract: `importTraces(conn, paths, progress, dir)` merges every data stream by time (a heap of the streams'
// next events, as the viewer's muxer; ties go to the stream read first, then each stream's own order), so that
// `events` needs no sort; a generated writer per event class decodes its fields straight into the column
// chunks (no value objects). The files in `dir` (which must exist) stay there as long as the database uses
// them. Integer fields become INTEGER when every value fits, BIGINT/UBIGINT otherwise; enums keep their integer
// and add `NAME_label`; floats DOUBLE; strings and text arrays VARCHAR; other compound fields JSON text. Errors
// are the reader's LttErrors.

import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FieldClass, StructFieldClass } from '../ctf/ir/trace-class.js';
import type { EventClass } from '../ctf/ir/trace-class.js';
import type { FieldValue } from '../ctf/ir/message.js';
import { VariantValue } from '../ctf/ir/message.js';
import { compileScopeSink, type MemberSink, type ScopeDecoder } from '../ctf/decode/codegen.js';
import type { CtfEventMessage } from '../ctf/decode/event-message.js';
import type { Num } from '../ctf/decode/state.js';
import { openCtfFs } from '../graph/source-ctf-fs.js';
import { StreamHeap } from '../graph/muxer.js';
import { EVENT, NEED_DATA } from '../ctf/decode/msg-iter.js';
import { ColumnAppender, markValid, writeInt64, type Column, type ColumnKind, type ColumnSpec } from './column-appender.js';
import { sqlIdentifier, sqlString } from './run-sql.js';
import { copyRet, PAIR_RET, SyscallPairer } from './syscall-pairs.js';
import { SchedSlices } from './sched-slices.js';
import { ParquetWriters } from './parquet-writer.js';

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
  /** Its Parquet file in the import's folder, once it has rows. */
  file?: string;
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

/** The events' file in the import's folder. */
export const EVENTS_FILE = 'events.parquet';
/** The sched slices' file (read once by derived-tables.ts, which removes it) and the system call pairs' (the
 * `syscalls` view's). */
export const SCHED_FILE = 'sched.parquet';
export const SYSCALLS_FILE = 'syscalls.parquet';

/** events_raw's columns (its rows in id order, from 0); a trace without tid/pid/procname contexts (kernel
 * traces) has those up to `thr` only. */
export const EVENTS_RAW_COLUMNS: readonly ColumnSpec[] = [
  { name: 'id', kind: 'int64' },
  { name: 'ts', kind: 'int64' },
  { name: 'stream_id', kind: 'int32' },
  { name: 'class_id', kind: 'int32' },
  { name: 'cpu', kind: 'int32' },
  { name: 'thr', kind: 'int32' },
  { name: 'ctx_tid', kind: 'int32' },
  { name: 'ctx_pid', kind: 'int32' },
  { name: 'ctx_procname', kind: 'varchar' },
];
const ID = 0;
const TS = 1;
const THR = 5;
const CTX_TID = 6;
const CTX_PID = 7;
const CTX_PROCNAME = 8;
/** events_raw columns of the common context members that name the event's thread (vtid wins over tid); the
 * table has them when a stream class has such members. */
const CONTEXT_COLUMNS: Record<string, number> = { vtid: CTX_TID, tid: CTX_TID, vpid: CTX_PID, pid: CTX_PID, procname: CTX_PROCNAME };

/** Text of a value bound for a VARCHAR column. */
function textOf(v: FieldValue): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : jsonText(v);
}

/** Text of an array or sequence of integers bound for a VARCHAR column: jsonText()'s, built without its
 * replacer (called per element and per index, it cost about a microsecond per array); a bigint element (64-bit
 * beyond 2^53, which jsonText quotes) takes jsonText(). */
function intListText(v: FieldValue): string {
  const a = v as readonly FieldValue[];
  for (let i = 0; i < a.length; i++) if (typeof a[i] !== 'number') return jsonText(v);
  return `[${a.join(',')}]`;
}

/** An array or sequence whose elements are integers (their values numbers or bigints). */
function isIntList(fc: FieldClass): boolean {
  return (fc.kind === 'array' || fc.kind === 'sequence') && !fc.isText && (fc.element.kind === 'int' || fc.element.kind === 'enum');
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
      return `if (${v} !== null && ${v} !== undefined) { ${c}.strings[${row}] = ${k(isIntList(fc) ? intListText : textOf)}(${v}); ${mark} }`;
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
  // With the skipping pass's effects: it reads the event's fields on the stream's own state, once (readBody()).
  return compileScopeSink([cc, ec.specificContext, ec.payload], sink, 'var EC = o.EC, ER = o.ER, TC = o.TC, TR = o.TR;', true);
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
  readonly traceId: number;
  readonly table: ClassTable;
  readonly plans: FieldPlan[];
  readonly ec: EventClass;
  readonly cc: StructFieldClass | undefined;
  write?: ScopeDecoder;
  /** sched_switch's prev_tid and next_tid columns (int32), for each event's thread and the sched slices. */
  readonly switchTids?: readonly [number, number];
  /** sched_switch's prev_prio, next_prio and prev_state columns, and whether the state is its enum label. */
  readonly switchMore?: { readonly prevPrio?: number; readonly nextPrio?: number; readonly state?: number; readonly label: boolean };
  /** A system call exit's integer `ret` column, copied into the events chunk's for the pairing (syscall-pairs.ts). */
  readonly retCol?: number;
}

const TWO32 = 4294967296;
/** The integer in row r of an integer column (undefined: NULL; int64 beyond 2^53 rounded). */
function intAt(c: Column, r: number): number | undefined {
  if ((c.valid[r >>> 5]! & (1 << (r & 31))) === 0) return undefined;
  if (c.kind === 'int32') return c.i32[r]!;
  const lo = c.i32[2 * r]! >>> 0;
  return c.kind === 'uint64' ? (c.i32[2 * r + 1]! >>> 0) * TWO32 + lo : c.i32[2 * r + 1]! * TWO32 + lo;
}
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Keys of (trace, tid) and (trace, CPU) pairs: X * TRACE_KEYS + trace, exact for any int32 X and 2^21 traces (a
 * relay's folder of per-process traces may hold thousands: 4096 made trace 4096 trace 0 of the next tid). */
const TRACE_KEYS = 2 ** 21;

/** What the import knows of each thread, by thread number (see importTraces). */
class Threads {
  readonly traceOf: number[] = [0];
  readonly tidOf: number[] = [0];
  readonly pidOf: (number | undefined)[] = [undefined];
  readonly first: number[] = [Infinity];
  readonly last: number[] = [-Infinity];
  /** Names from a procname context: per thread, each name and its first key. */
  readonly names: Map<string, number>[] = [];
  private readonly byKey = new Map<number, number>();

  /** The number of thread `tid` of trace `trace` (from 1). */
  of(trace: number, tid: number): number {
    const k = tid * TRACE_KEYS + trace;
    let thr = this.byKey.get(k);
    if (thr === undefined) {
      thr = this.traceOf.length;
      this.byKey.set(k, thr);
      this.traceOf.push(trace);
      this.tidOf.push(tid);
      this.pidOf.push(undefined);
      this.first.push(Infinity);
      this.last.push(-Infinity);
    }
    return thr;
  }
}

/**
 * Reads every data stream of the traces, merged in time order (ties: the stream read first, as the old sort by
 * time and per-stream id ordered them), so that `events` needs no sort: an event's id is its place in that order.
 * Each event's thread is followed as it goes: its tid/vtid context, else the next_tid of the last sched_switch
 * before it on its CPU (the switch itself, and events at its very time, are the previous thread's; before a CPU's
 * first switch, that switch's prev_tid). `thr` in events_raw numbers (trace, tid) from 1 in `threads_raw`; a CPU's
 * events before its first switch get -(its CPU slot + 1), that slot's row in `threads_raw` naming the thread
 * once known, so that a list of the threads followed by the slots in reverse order answers `list[thr]`.
 */
export async function importTraces(conn: DuckDBConnection, paths: readonly string[], progress: ImportProgress | undefined, dir: string): Promise<ImportSummary> {
  // The Parquet files are encoded and written on the writer thread (parquet-writer.ts) while this one decodes.
  const writers = new ParquetWriters();
  try {
    return await readTraces(conn, paths, progress, dir, writers);
  } finally {
    // Ended already when the import succeeded; a failed one leaves incomplete files, which nothing reads.
    writers.terminate();
  }
}

async function readTraces(conn: DuckDBConnection, paths: readonly string[], progress: ImportProgress | undefined, dir: string, writers: ParquetWriters): Promise<ImportSummary> {
  const source = await openCtfFs(paths, {});
  // The thread and process context columns only when some stream class has such a context (not kernel traces):
  // appending a column of NULLs costs DuckDB as much as one of values.
  const withContext = source.traces.some((t) =>
    [...t.info.tc.streamClasses.values()].some((sc) => sc.eventCommonContext?.members.some((m) => CONTEXT_COLUMNS[m.name] !== undefined)),
  );
  const eventColumns = withContext ? EVENTS_RAW_COLUMNS : EVENTS_RAW_COLUMNS.slice(0, THR + 1);
  await conn.run(`
    CREATE TABLE traces (trace_id INTEGER, name VARCHAR, path VARCHAR, hostname VARCHAR, domain VARCHAR, tracer VARCHAR, pid INTEGER, procname VARCHAR,
      first_ts BIGINT, last_ts BIGINT);
    CREATE TABLE streams (stream_id INTEGER, trace_id INTEGER, stream_class_id INTEGER, stream_instance_id INTEGER,
      path VARCHAR, clock_frequency DOUBLE, clock_offset_ns HUGEINT, cpu INTEGER, events BIGINT);
    CREATE TABLE event_classes (class_id INTEGER, trace_id INTEGER, stream_class_id INTEGER, ctf_id INTEGER,
      name VARCHAR, loglevel INTEGER);
    CREATE TEMP TABLE lost_raw (stream_id INTEGER, kind VARCHAR, count BIGINT, begin_cycles UBIGINT, end_cycles UBIGINT);
    CREATE TEMP TABLE threads_raw (thr INTEGER, trace_id INTEGER, tid INTEGER, pid INTEGER, first_ts BIGINT, last_ts BIGINT);
    CREATE TEMP TABLE thread_names_raw (trace_id INTEGER, tid INTEGER, ts BIGINT, name VARCHAR);
  `);

  // Times: an event's key is its ns from the clock's origin less `base` (the earliest first event), a number
  // exact below 2^53 ns (104 days) of trace; a time column gets base + key.
  let baseLo = 0;
  let baseHi = 0;
  const writeTime = (c: Column, r: number, key: number): void => {
    const hi = Math.floor(key / TWO32);
    let lo = baseLo + (key - hi * TWO32);
    let h = baseHi + hi;
    if (lo >= TWO32) {
      lo -= TWO32;
      h++;
    }
    c.i32[2 * r] = lo | 0;
    c.i32[2 * r + 1] = h | 0;
    c.valid[r >>> 5] |= 1 << (r & 31);
  };

  // Event classes: a global id each, and one table per event name (the union of its classes' fields).
  const tables = new Map<string, ClassTable>();
  const classPlans = new Map<EventClass, ClassPlan>();
  const classRows: string[] = [];
  const syscalls = new SyscallPairer();
  const sched = new SchedSlices(writeTime);
  let nextClass = 0;
  source.traces.forEach((t, traceId) => {
    for (const sc of t.info.tc.streamClasses.values()) {
      for (const ec of sc.eventClasses.values()) {
        let table = tables.get(ec.name);
        if (!table) {
          table = { table: `payload:${ec.name}`, columns: [{ name: 'id', kind: 'int64' }], byName: new Map([['id', 0]]) };
          tables.set(ec.name, table);
        }
        const plans: FieldPlan[] = [];
        addMembers(table, plans, 'payload', ec.payload);
        addMembers(table, plans, 'specificContext', ec.specificContext);
        const classId = nextClass++;
        const tid = (m: string) => plans.find((p) => p.scope === 'payload' && p.member === m && p.kind === 'int32')?.column;
        const [prev, next] = [tid('prev_tid'), tid('next_tid')];
        const switchTids = ec.name === 'sched_switch' && prev !== undefined && next !== undefined ? ([prev, next] as const) : undefined;
        const payload = (m: string) => plans.find((p) => p.scope === 'payload' && p.member === m && p.kind !== 'varchar' && p.kind !== 'double' && p.kind !== 'boolean');
        const state = payload('prev_state');
        const switchMore = switchTids && {
          prevPrio: payload('prev_prio')?.column,
          nextPrio: payload('next_prio')?.column,
          state: state?.labelColumn ?? state?.column,
          label: state?.labelColumn !== undefined,
        };
        const syscall = syscalls.classify(classId, ec.name);
        const retCol = syscall && !syscall.entry ? plans.find((p) => p.scope === 'payload' && p.member === 'ret' && p.kind !== 'double' && p.kind !== 'varchar' && p.kind !== 'boolean')?.column : undefined;
        classPlans.set(ec, { classId, traceId, table, plans, ec, cc: sc.eventCommonContext, switchTids, switchMore, retCol });
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
    traceRows.push(`(${traceId}, ${sqlString(t.info.name)}, ${sqlString(t.info.path)}, ${s('hostname')}, ${s('domain')}, ${s('tracer_name')}, ${pid}, ${s('procname')}, NULL, NULL)`);
  });
  if (traceRows.length > 0) await conn.run(`INSERT INTO traces VALUES ${traceRows.join(',')}`);

  // The events' chunks carry the exits' ret too: the writer thread pairs the system calls from them.
  const chunkColumns = [...eventColumns, PAIR_RET];
  const RET = eventColumns.length;
  const pairing = await syscalls.open(conn, join(dir, SYSCALLS_FILE), nextClass, chunkColumns);
  const eventsSink = writers.open(join(dir, EVENTS_FILE), eventColumns, pairing);
  // id, stream_id and class_id are set in every row (the merge loop leaves their validity to the appender).
  const events = ColumnAppender.toSink(eventsSink, chunkColumns, [ID, TS + 1, TS + 2]);
  const lost = await ColumnAppender.create(conn, 'lost_raw', [
    { name: 'stream_id', kind: 'int32' },
    { name: 'kind', kind: 'varchar' },
    { name: 'count', kind: 'int64' },
    { name: 'begin_cycles', kind: 'uint64' },
    { name: 'end_cycles', kind: 'uint64' },
  ], true);
  sched.open(writers, join(dir, SCHED_FILE));

  // Events read by nextRaw() whose fields the writers read once, from the stream's state, before it moves on
  // (readBody()); lazy messages (a quirk's order) are read at once too: the read buffers are recycled as for a
  // reader that reads no fields.
  const streams = source.createStreams({ fieldsUnread: true, callerReadsBodies: true });
  const n = streams.length;
  const traceIds = new Map(source.traces.map((t, i) => [t.info, i] as const));
  const groups = source.traces.flatMap((t) => t.groups);
  const totalBytes = groups.reduce((a, g) => a + g.index.reduce((b, p) => b + p.size, 0), 0) || 1;
  let bytes = 0;
  let nextReport = 0.01;

  // Per stream: clock, CPU (the current packet's; the stream's while its packets agree), event count, head event.
  const traceOfStream = new Int32Array(n);
  const offsetNs: bigint[] = [];
  const freq = new Float64Array(n);
  const keyOff = new Float64Array(n);
  const cpuOf = new Int32Array(n).fill(-1);
  const slotOf = new Int32Array(n).fill(-1);
  const streamCpu: (number | null | undefined)[] = new Array(n).fill(undefined);
  const counts = new Float64Array(n);
  const packets = new Int32Array(n);
  // A stream's head event: read by nextRaw() (no message: its class, time and place stay in the stream until it
  // moves on), or, where the reader must make one (a quirk's order), a message.
  const heads: (CtfEventMessage | undefined)[] = new Array(n).fill(undefined);
  const headCycles: (Num | undefined)[] = new Array(n).fill(undefined);
  const keys = new Float64Array(n);
  streams.forEach((s, sid) => {
    traceOfStream[sid] = traceIds.get(s.info.trace)!;
    const clock = s.info.sc.defaultClock;
    offsetNs.push(clock ? clock.offsetSeconds * 1_000_000_000n + BigInt(Math.trunc((1e9 * Number(clock.offsetCycles)) / clock.frequency)) : 0n);
    freq[sid] = clock ? clock.frequency : NaN;
  });
  const target: WriterTarget = { EC: events.cols, ER: 0, TC: events.cols, TR: 0 };
  const ev = events.cols;
  // Each stream's class plans by event class ID, filled as classes occur (the Map by class cost more per event).
  const PLAN_IDS = 65536;
  const plansOf = streams.map((s) => {
    let max = -1;
    for (const id of s.info.sc.eventClasses.keys()) if (id < PLAN_IDS && id > max) max = id;
    return new Array<ClassPlan | undefined>(max + 1).fill(undefined);
  });
  const planOf = (sid: number, ec: EventClass): ClassPlan => {
    const cls = classPlans.get(ec)!;
    if (ec.id >= 0 && ec.id < plansOf[sid]!.length) plansOf[sid]![ec.id] = cls;
    return cls;
  };

  // Per CPU slot (trace and CPU): its thread, the switch that takes effect after its time, its first prev_tid.
  const slots = new Map<number, number>();
  const curThr: number[] = [];
  const pendingThr: number[] = [];
  const pendingAt: number[] = [];
  const slotFirst: number[] = [];
  const slotLast: number[] = [];
  const slotTid: (number | undefined)[] = [];
  const threads = new Threads();
  // Per trace: the keys of its first and last events (the sched slices' bounds).
  const traceFirst = source.traces.map(() => Infinity);
  const traceLast = source.traces.map(() => -Infinity);
  // Per trace: its earliest and latest event times (traces.first_ts/last_ts: an analysis's range without a pass
  // over every event); a stream whose clock goes back makes them differ from the first and last.
  const traceMin = source.traces.map(() => Infinity);
  const traceMax = source.traces.map(() => -Infinity);

  /** Key of cycles of stream sid (Infinity: no clock; keys of bigint cycles through bigint). */
  const keyOf = (sid: number, cycles: number | bigint | undefined): number => {
    if (cycles === undefined || Number.isNaN(freq[sid]!)) return Infinity;
    const f = freq[sid]!;
    if (typeof cycles === 'number') {
      const k = keyOff[sid]! + (f === 1e9 ? cycles : Math.trunc((1e9 * cycles) / f));
      if (k <= MAX_SAFE && k >= -MAX_SAFE) return k;
    }
    const ns = f === 1e9 ? BigInt(cycles) : BigInt(Math.trunc((1e9 * Number(cycles)) / f));
    return Number(offsetNs[sid]! + ns - (BigInt(baseHi) * BigInt(TWO32) + BigInt(baseLo)));
  };

  const NEXT = 0;
  const READY = 1;
  const MORE = 2;
  const END = 3;
  let based = false;
  /** Reads stream sid up to its next event (kept in heads[sid] with its key). */
  const step = (sid: number): number => {
    const stream = streams[sid]!;
    for (;;) {
      const m = stream.nextRaw();
      if (m === EVENT) {
        heads[sid] = undefined;
        const c = stream.evCycles;
        headCycles[sid] = c;
        if (based) keys[sid] = keyOf(sid, c);
        return READY;
      }
      if (m === NEED_DATA) return MORE;
      if (m === undefined) return END;
      switch (m.type) {
        case 'event':
          heads[sid] = m as CtfEventMessage;
          headCycles[sid] = m.cycles;
          if (based) keys[sid] = keyOf(sid, m.cycles);
          return READY;
        case 'packet-beginning': {
          const c = m.context?.['cpu_id'];
          const cpu = typeof c === 'number' ? c : -1;
          cpuOf[sid] = cpu;
          const sc = streamCpu[sid];
          streamCpu[sid] = sc === undefined ? (cpu >= 0 ? cpu : null) : sc === cpu ? sc : null;
          if (cpu < 0) slotOf[sid] = -1;
          else {
            const k = cpu * TRACE_KEYS + traceOfStream[sid]!;
            let sl = slots.get(k);
            if (sl === undefined) {
              sl = slots.size;
              slots.set(k, sl);
              curThr.push(-(sl + 1));
              pendingThr.push(0);
              pendingAt.push(NaN);
              slotFirst.push(Infinity);
              slotLast.push(-Infinity);
              slotTid.push(undefined);
            }
            slotOf[sid] = sl;
          }
          // The packets before this one are read.
          if (progress && bytes / totalBytes >= nextReport) {
            progress(bytes / totalBytes, id);
            nextReport = Math.floor((100 * bytes) / totalBytes + 1) / 100;
          }
          bytes += groups[sid]?.index[packets[sid]++]?.size ?? 0;
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
  };
  const advance = async (sid: number): Promise<number> => {
    let r = step(sid);
    while (r === MORE) {
      await streams[sid]!.fill();
      r = step(sid);
    }
    return r;
  };

  let id = 0;
  const less = (a: number, b: number): boolean => keys[a]! < keys[b]! || (keys[a] === keys[b] && a < b);
  // Its tie branch run now, enough times for V8 to keep its feedback (it allocates a function's feedback only
  // after a few calls): first met mid-import (two streams' events at the same time), a branch without type
  // feedback deoptimized the merge loop, which V8 then compiled again whole (~0.1 s each time).
  if (n > 0) for (let i = 0; i < 32; i++) less(0, 0);
  const heap = new StreamHeap(less);
  try {
    const live: number[] = [];
    for (let sid = 0; sid < n; sid++) if ((await advance(sid)) === READY) live.push(sid);
    // The base: the earliest first event (a stream's events come in time order).
    let base: bigint | undefined;
    for (const sid of live) {
      const c = headCycles[sid];
      if (c === undefined || Number.isNaN(freq[sid]!)) continue;
      const t = offsetNs[sid]! + (freq[sid] === 1e9 ? BigInt(c) : BigInt(Math.trunc((1e9 * Number(c)) / freq[sid]!)));
      if (base === undefined || t < base) base = t;
    }
    base ??= 0n;
    baseHi = Number(BigInt.asIntN(64, base) >> 32n);
    baseLo = Number(BigInt.asUintN(32, base));
    for (let sid = 0; sid < n; sid++) keyOff[sid] = Number(offsetNs[sid]! - base);
    based = true;
    for (const sid of live) {
      keys[sid] = keyOf(sid, headCycles[sid]);
      heap.push(sid);
    }

    const items = heap.items;
    /**
     * Writes events in time order while the top stream's next event is read at once; returns that stream's
     * step() when it is not (MORE or END: the caller awaits or pops it), -1 once every stream is read. A function
     * of its own, without the rare paths: compiled while it runs (it runs once for most of the import), code
     * it had not yet run (a stream's end, an await) deoptimized it, and V8 compiled it again whole.
     */
    const merge = (): number => {
      while (items.length > 0) {
        const sid = items[0]!;
        const m = heads[sid];
        const stream = streams[sid]!;
        const ecd = m === undefined ? stream.evEcd! : undefined;
        const key = keys[sid]!;
        const ec = ecd !== undefined ? ecd.ec : m!.ec;
        // By ID within the stream: a stream's packets are of one stream class (the reader refuses others).
        const cls = plansOf[sid]![ec.id] ?? planOf(sid, ec);
        // Tables and appenders are made at a name's first event: most declared classes (every system call)
        // never occur, and creating then dropping hundreds of tables costs seconds.
        const a = cls.table.appender ?? (cls.table.appender = payloadFile(writers, dir, tables, cls.table));
        const er = events.row;
        // Ids stay below 2^32 (far more events than an import holds): the high word is 0.
        const ic = ev[ID]!;
        ic.i32[2 * er] = id;
        ic.i32[2 * er + 1] = 0;
        if (key !== Infinity) writeTime(ev[TS]!, er, key);
        ev[TS + 1]!.i32[er] = sid;
        ev[TS + 2]!.i32[er] = cls.classId;
        const cpu = cpuOf[sid]!;
        if (cpu >= 0) {
          ev[TS + 3]!.i32[er] = cpu;
          markValid(ev[TS + 3]!, er);
        }
        const tr = a.row;
        target.ER = er;
        target.TC = a.cols;
        target.TR = tr;
        const pc = a.cols[0]!;
        pc.i32[2 * tr] = id;
        pc.i32[2 * tr + 1] = 0;
        const write = (cls.write ??= compileWriter(cls.plans, cls.cc, cls.ec));
        if (ecd !== undefined) stream.readBody(write, target);
        else write(m!.bodyState()!, target);

        // The event's thread.
        let thr = 0;
        const sl = slotOf[sid]!;
        if (withContext && (ev[CTX_TID]!.valid[er >>> 5]! & (1 << (er & 31))) !== 0) {
          thr = threads.of(cls.traceId, ev[CTX_TID]!.i32[er]!);
          if (threads.pidOf[thr] === undefined && (ev[CTX_PID]!.valid[er >>> 5]! & (1 << (er & 31))) !== 0) threads.pidOf[thr] = ev[CTX_PID]!.i32[er]!;
          const name = ev[CTX_PROCNAME]!.strings![er];
          if (name !== undefined) {
            const names = (threads.names[thr] ??= new Map());
            const at = names.get(name);
            if (at === undefined || (at === Infinity && key !== Infinity)) names.set(name, key);
          }
        } else if (sl >= 0) {
          if (key > pendingAt[sl]!) {
            curThr[sl] = pendingThr[sl]!;
            pendingAt[sl] = NaN;
          }
          thr = curThr[sl]!;
        }
        if (key !== Infinity) {
          if (traceFirst[cls.traceId] === Infinity) traceFirst[cls.traceId] = key;
          traceLast[cls.traceId] = key;
          if (key < traceMin[cls.traceId]!) traceMin[cls.traceId] = key;
          if (key > traceMax[cls.traceId]!) traceMax[cls.traceId] = key;
        }
        if (thr !== 0) {
          ev[THR]!.i32[er] = thr;
          markValid(ev[THR]!, er);
          if (key !== Infinity) {
            if (thr > 0) {
              if (threads.first[thr] === Infinity) threads.first[thr] = key;
              threads.last[thr] = key;
            } else {
              if (slotFirst[sl] === Infinity) slotFirst[sl] = key;
              slotLast[sl] = key;
            }
          }
        }
        if (cls.retCol !== undefined) copyRet(a.cols[cls.retCol]!, tr, ev[RET]!, er);
        const sw = cls.switchTids;
        if (sw && key !== Infinity && sl >= 0) {
          const trace = cls.traceId;
          if (slotTid[sl] === undefined) {
            // The CPU's first switch: its events so far ran in the thread it switches out.
            const prev = threads.of(trace, a.cols[sw[0]]!.i32[tr]!);
            slotTid[sl] = threads.tidOf[prev]!;
            threads.first[prev] = Math.min(threads.first[prev]!, slotFirst[sl]!);
            threads.last[prev] = Math.max(threads.last[prev]!, slotLast[sl]!);
            eventsSink.adopt(er, -(sl + 1), prev);
            if (curThr[sl]! < 0) curThr[sl] = prev;
          }
          const nextTid = a.cols[sw[1]]!.i32[tr]!;
          pendingThr[sl] = threads.of(trace, nextTid);
          pendingAt[sl] = key;
          const more = cls.switchMore!;
          const stateCol = more.state === undefined ? undefined : a.cols[more.state]!;
          const stateValue = stateCol === undefined ? undefined : more.label ? stateCol.strings![tr] : intAt(stateCol, tr);
          sched.switchAt(sl, trace, cpu, key, traceFirst[trace]!, {
            prevTid: a.cols[sw[0]]!.i32[tr]!,
            prevPrio: more.prevPrio === undefined ? undefined : intAt(a.cols[more.prevPrio]!, tr),
            prevState: stateValue === undefined ? undefined : String(stateValue),
            nextTid,
            nextPrio: more.nextPrio === undefined ? undefined : intAt(a.cols[more.nextPrio]!, tr),
          });
        }
        events.endRow();
        a.endRow();
        id++;
        counts[sid]++;
        const r = step(sid);
        if (r !== READY) return r;
        heap.topChanged();
      }
      return -1;
    };
    for (let r = merge(); r !== -1; r = merge()) {
      if (r === END) heap.pop();
      else if ((await advance(items[0]!)) === READY) heap.topChanged();
      else heap.pop();
    }
  } finally {
    for (const s of streams) s.close();
  }
  progress?.(1, id);
  events.close();
  lost.close();
  sched.close((trace) => traceLast[trace]!);
  for (const t of tables.values()) t.appender?.close();
  await writers.finish();
  // The files as tables: events_raw and sched_raw for derived-tables.ts (which reads the pairs file itself), a
  // view per event name that occurs.
  await conn.run(`CREATE TEMP VIEW events_raw AS SELECT * FROM read_parquet(${sqlString(join(dir, EVENTS_FILE))});
    CREATE TEMP VIEW sched_raw AS SELECT * FROM read_parquet(${sqlString(join(dir, SCHED_FILE))});`);
  for (const t of tables.values()) {
    if (!t.appender) continue;
    await conn.run(`CREATE VIEW ${sqlIdentifier(t.table)} AS SELECT * FROM read_parquet(${sqlString(join(dir, t.file!))})`);
  }

  const th = await ColumnAppender.create(conn, 'threads_raw', [
    { name: 'thr', kind: 'int32' },
    { name: 'trace_id', kind: 'int32' },
    { name: 'tid', kind: 'int32' },
    { name: 'pid', kind: 'int32' },
    { name: 'first_ts', kind: 'int64' },
    { name: 'last_ts', kind: 'int64' },
  ], true);
  for (let thr = 1; thr < threads.tidOf.length; thr++) {
    th.setInt(0, thr);
    th.setInt(1, threads.traceOf[thr]!);
    th.setInt(2, threads.tidOf[thr]!);
    if (threads.pidOf[thr] !== undefined) th.setInt(3, threads.pidOf[thr]!);
    if (threads.first[thr] !== Infinity) {
      writeTime(th.cols[4]!, th.row, threads.first[thr]!);
      writeTime(th.cols[5]!, th.row, threads.last[thr]!);
    }
    th.endRow();
  }
  for (const [k, sl] of slots) {
    th.setInt(0, -(sl + 1));
    th.setInt(1, k % TRACE_KEYS);
    if (slotTid[sl] !== undefined) th.setInt(2, slotTid[sl]!);
    th.endRow();
  }
  th.close();
  const names = await ColumnAppender.create(conn, 'thread_names_raw', [
    { name: 'trace_id', kind: 'int32' },
    { name: 'tid', kind: 'int32' },
    { name: 'ts', kind: 'int64' },
    { name: 'name', kind: 'varchar' },
  ], true);
  threads.names.forEach((m, thr) => {
    for (const [name, key] of m) {
      names.setInt(0, threads.traceOf[thr]!);
      names.setInt(1, threads.tidOf[thr]!);
      if (key !== Infinity) writeTime(names.cols[2]!, names.row, key);
      names.setString(3, name);
      names.endRow();
    }
  });
  names.close();

  const streamRows = streams.map((s, sid) => {
    const clock = s.info.sc.defaultClock;
    return `(${sid}, ${traceOfStream[sid]}, ${s.info.sc.id}, ${s.info.id}, ${sqlString(s.info.name)}, ${clock ? clock.frequency : 'NULL'}, ${offsetNs[sid]}, ` +
      `${streamCpu[sid] ?? 'NULL'}, ${counts[sid]})`;
  });
  for (let i = 0; i < streamRows.length; i += 500) await conn.run(`INSERT INTO streams VALUES ${streamRows.slice(i, i + 500).join(',')}`);
  const base = (BigInt(baseHi) << 32n) + BigInt(baseLo >>> 0);
  const ranges = traceMin.flatMap((lo, t) => (lo === Infinity ? [] : [`(${t}, ${base + BigInt(lo)}, ${base + BigInt(traceMax[t]!)})`]));
  // One statement (a relay's folder can hold thousands of per-process traces).
  if (ranges.length > 0) await conn.run(`UPDATE traces SET first_ts = r.f, last_ts = r.l FROM (VALUES ${ranges.join(',')}) r(t, f, l) WHERE trace_id = r.t`);
  return { events: id, traces: source.traces.length, streams: n };
}

/** The Parquet file of an event name's payload table (named by its place among the names met so far). */
function payloadFile(writers: ParquetWriters, dir: string, tables: Map<string, ClassTable>, t: ClassTable): ColumnAppender {
  let n = 0;
  for (const o of tables.values()) if (o.appender) n++;
  t.file = `payload-${n}.parquet`;
  // Its id is set in every row.
  return ColumnAppender.toSink(writers.open(join(dir, t.file), t.columns), t.columns, [0]);
}
