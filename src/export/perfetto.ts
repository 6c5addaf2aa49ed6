// `ltt export --format perfetto`: Perfetto's protobuf trace (what ui.perfetto.dev and trace_processor open
// natively). The kernel's scheduling, wake-ups, process life, interrupts and system calls become ftrace
// events in per-CPU bundles, exactly as Perfetto's own traced_probes records them, so Perfetto's importer
// builds its sched, thread_state and syscall tables from them; process and thread names come as a process
// tree; ltt/ust (and other user-space) events become track events (instants on their thread's track, the
// payload as debug annotations).
//
// Field numbers are those of Perfetto's protos (protos/perfetto/trace/...): Trace.packet = 1; TracePacket:
// ftrace_events 1, process_tree 2, clock_snapshot 6, timestamp 8, trusted_packet_sequence_id 10, track_event
// 11, sequence_flags 13, system_info 45, track_descriptor 60.
//
// Clock: ltt records CLOCK_MONOTONIC ns (both domains); the tables hold ns since 1970 (the trace's clock
// offset added, as babeltrace2 prints them). Perfetto gets each trace's own monotonic values back, and one
// clock snapshot naming MONOTONIC the trace clock, equal to BOOTTIME (what ftrace bundles and track events are
// read in when nothing else is said) and with the REALTIME that the offset gives, so its UI can show wall time.
//
// System calls: Perfetto's sys_enter/sys_exit carry the architecture's call number, which LTTng-shaped
// events replace by the name; the numbers come from this machine's <asm/unistd_64.h> (linux-libc-dev), the
// architecture named in the trace's system info. Without that header, the export says so and leaves them out.
//
// Contract: `exportPerfetto(conn, file)` writes the whole file and returns what it wrote, per kind.

import { createWriteStream, openSync, readFileSync } from 'node:fs';
import { arch } from 'node:os';
import { once } from 'node:events';
import type { DuckDBConnection } from '@duckdb/node-api';
import { describeIoError, LttError } from '../errors.js';
import { ProtobufWriter } from './protobuf-writer.js';
import { columnsOf, sqlIdentifier } from '../engine/run-sql.js';

export interface PerfettoExportResult {
  ftraceEvents: number;
  trackEvents: number;
  threads: number;
  /** Why system calls were left out, when they were. */
  syscallsSkipped?: string;
}

const PACKET = 1;
const P_FTRACE_EVENTS = 1;
const P_PROCESS_TREE = 2;
const P_CLOCK_SNAPSHOT = 6;
const P_TIMESTAMP = 8;
const P_SEQUENCE_ID = 10;
const P_TRACK_EVENT = 11;
const P_SEQUENCE_FLAGS = 13;
const P_SYSTEM_INFO = 45;
const P_TRACK_DESCRIPTOR = 60;
const SEQ_INCREMENTAL_STATE_CLEARED = 1;
const CLOCK_REALTIME = 1;
const CLOCK_MONOTONIC = 3;
const CLOCK_BOOTTIME = 6;
/** Track events' packet sequence (any non-zero id: one writer). */
const SEQUENCE = 1;
/** FtraceEvent fields: timestamp 1, pid 2, then one field per event kind. */
const FE_TIMESTAMP = 1;
const FE_PID = 2;
/** Events per CPU bundle, at most (traced_probes writes a bundle per CPU read; any size parses). */
const BUNDLE_EVENTS = 4096;

/**
 * Each exported kernel event kind: LTTng's event name, Perfetto's FtraceEvent field, and which payload column
 * goes in which field of Perfetto's message (i* integers, s* strings, in the order the SQL selects them).
 */
interface FtraceKind {
  readonly lttng: string;
  readonly field: number;
  readonly ints: readonly (readonly [column: string, field: number])[];
  readonly strings: readonly (readonly [column: string, field: number])[];
}

const wakeup = (lttng: string, field: number): FtraceKind => ({
  lttng,
  field,
  ints: [['tid', 2], ['prio', 3], ['target_cpu', 5]],
  strings: [['comm', 1]],
});

const KINDS: readonly FtraceKind[] = [
  {
    lttng: 'sched_switch',
    field: 4,
    ints: [['prev_tid', 2], ['prev_prio', 3], ['prev_state', 4], ['next_tid', 6], ['next_prio', 7]],
    strings: [['prev_comm', 1], ['next_comm', 5]],
  },
  wakeup('sched_wakeup', 17),
  wakeup('sched_waking', 20),
  wakeup('sched_wakeup_new', 114),
  { lttng: 'sched_process_fork', field: 239, ints: [['parent_tid', 2], ['child_tid', 4]], strings: [['parent_comm', 1], ['child_comm', 3]] },
  { lttng: 'sched_process_exit', field: 238, ints: [['tid', 2], ['prio', 4]], strings: [['comm', 1]] },
  { lttng: 'sched_process_free', field: 240, ints: [['tid', 2], ['prio', 3]], strings: [['comm', 1]] },
  { lttng: 'sched_process_exec', field: 237, ints: [['tid', 2], ['old_tid', 3]], strings: [['filename', 1]] },
  { lttng: 'irq_handler_entry', field: 36, ints: [['irq', 1]], strings: [['name', 2]] },
  { lttng: 'irq_handler_exit', field: 37, ints: [['irq', 1], ['ret', 2]], strings: [] },
  { lttng: 'irq_softirq_entry', field: 24, ints: [['vec', 1]], strings: [] },
  { lttng: 'irq_softirq_exit', field: 25, ints: [['vec', 1]], strings: [] },
  { lttng: 'irq_softirq_raise', field: 26, ints: [['vec', 1]], strings: [] },
];
const SYS_ENTER = 329;
const SYS_EXIT = 330;
const INTS = 5;
const STRINGS = 2;

/** Each trace's clock offset (ns from 1970 to the clock's origin), to take the tables' times back to it. */
const OFFSETS = `(SELECT trace_id, min(clock_offset_ns)::BIGINT AS off FROM streams GROUP BY trace_id)`;

/** This machine's system call numbers by name, and the architecture as uname -m prints it. */
export function syscallNumbers(): { machine: string; numbers: Map<string, number> } | { why: string } {
  const machine = ({ x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', riscv64: 'riscv64' } as Record<string, string>)[arch()];
  if (machine === undefined) return { why: `no system call table for ${arch()}` };
  const headers = [`/usr/include/${machine}-linux-gnu/asm/unistd_64.h`, '/usr/include/asm/unistd_64.h', '/usr/include/asm-generic/unistd.h'];
  for (const h of headers) {
    let text: string;
    try {
      text = readFileSync(h, 'utf8');
    } catch {
      continue;
    }
    const numbers = new Map<string, number>();
    for (const m of text.matchAll(/^#define __NR_(\w+)\s+(\d+)\s*$/gm)) numbers.set(m[1]!, Number(m[2]));
    if (numbers.size > 0) return { machine, numbers };
  }
  return { why: 'no <asm/unistd_64.h> on this machine (Debian: apt-get install linux-libc-dev)' };
}

/** One SQL over every exported kernel event, in time order: ts, cpu, tid, kind index, INTS ints, STRINGS strings. */
async function ftraceQuery(conn: DuckDBConnection, withSyscalls: boolean): Promise<string | undefined> {
  const parts: string[] = [];
  const kernel = `e.trace_id IN (SELECT trace_id FROM traces WHERE domain = 'kernel')`;
  for (const [k, kind] of KINDS.entries()) {
    const cols = await columnsOf(conn, `payload:${kind.lttng}`);
    if (cols.size === 0) continue;
    const pick = (c: string | undefined, type: string): string => (c !== undefined && cols.has(c) ? `p.${sqlIdentifier(c)}::${type}` : `NULL::${type}`);
    const ints = Array.from({ length: INTS }, (_, i) => pick(kind.ints[i]?.[0], 'BIGINT'));
    const strings = Array.from({ length: STRINGS }, (_, i) => pick(kind.strings[i]?.[0], 'VARCHAR'));
    parts.push(`SELECT e.ts - o.off AS ts, e.id, e.cpu, e.tid, ${k} AS kind, ${[...ints, ...strings].join(', ')}
      FROM ${sqlIdentifier(`payload:${kind.lttng}`)} p JOIN events e USING (id) JOIN ${OFFSETS} o USING (trace_id) WHERE ${kernel}`);
  }
  if (withSyscalls) {
    const nulls = (n: number, type: string): string => Array.from({ length: n }, () => `NULL::${type}`).join(', ');
    const exits = await conn.runAndReadAll(
      `SELECT table_name FROM duckdb_columns() WHERE column_name = 'ret' AND table_name LIKE 'payload:syscall_exit_%'`,
    );
    const rets = exits.getRows().map((r) => `SELECT id, ret FROM ${sqlIdentifier(String(r[0]))}`);
    const retJoin = rets.length > 0 ? `LEFT JOIN (${rets.join(' UNION ALL ')}) r USING (id)` : '';
    const ret = rets.length > 0 ? 'r.ret::BIGINT' : 'NULL::BIGINT';
    parts.push(`SELECT e.ts - o.off, e.id, e.cpu, e.tid, ${KINDS.length} AS kind, ${nulls(INTS, 'BIGINT')},
        substr(e.name, ${'syscall_entry_'.length + 1}), NULL::VARCHAR
      FROM events e JOIN ${OFFSETS} o USING (trace_id) WHERE e.name LIKE 'syscall_entry_%' AND ${kernel}`);
    parts.push(`SELECT e.ts - o.off, e.id, e.cpu, e.tid, ${KINDS.length + 1} AS kind, ${ret}, ${nulls(INTS - 1, 'BIGINT')},
        substr(e.name, ${'syscall_exit_'.length + 1}), NULL::VARCHAR
      FROM events e JOIN ${OFFSETS} o USING (trace_id) ${retJoin} WHERE e.name LIKE 'syscall_exit_%' AND ${kernel}`);
  }
  if (parts.length === 0) return undefined;
  return `SELECT * EXCLUDE (id) FROM (${parts.join(' UNION ALL ')}) ORDER BY ts, id`;
}

export async function exportPerfetto(conn: DuckDBConnection, file: string): Promise<PerfettoExportResult> {
  const cannot = (err: unknown): LttError => new LttError('EXPORT_WRITE', `Cannot write ${describeIoError(file, err)}`);
  let fd: number;
  try {
    fd = openSync(file, 'w');
  } catch (err) {
    throw cannot(err);
  }
  const out = createWriteStream('', { fd });
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  const w = new ProtobufWriter();
  const flush = async (): Promise<void> => {
    if (w.length < 1 << 20) return;
    if (!out.write(w.drain())) await Promise.race([once(out, 'drain'), failed]);
  };
  const result: PerfettoExportResult = { ftraceEvents: 0, trackEvents: 0, threads: 0 };
  const sys = syscallNumbers();
  if ('why' in sys) result.syscallsSkipped = sys.why;

  const first = await conn.runAndReadAll(`SELECT min(e.ts - o.off), arg_min(o.off, e.ts - o.off) FROM events e JOIN ${OFFSETS} o USING (trace_id)`);
  const [t0 = 0n, off = 0n] = (first.getRows()[0] ?? []).map((v) => (v as bigint | null) ?? 0n);

  // The clock snapshot first: every later timestamp is read through it.
  w.begin(PACKET);
  w.begin(P_CLOCK_SNAPSHOT);
  for (const [id, ts] of [[CLOCK_MONOTONIC, t0], [CLOCK_BOOTTIME, t0], [CLOCK_REALTIME, t0 + off]] as const) {
    w.begin(1);
    w.uint(1, id);
    w.uint64(2, ts);
    w.end();
  }
  w.uint(2, CLOCK_MONOTONIC);
  w.end();
  w.uint64(P_TIMESTAMP, t0);
  w.end();

  // System info: the architecture picks Perfetto's system call table.
  if (!('why' in sys)) {
    const rel = await conn.runAndReadAll(`SELECT hostname FROM traces WHERE domain = 'kernel' LIMIT 1`);
    w.begin(PACKET);
    w.begin(P_SYSTEM_INFO);
    w.begin(1);
    w.string(1, 'Linux');
    w.string(4, sys.machine);
    w.end();
    const host = rel.getRows()[0]?.[0];
    if (typeof host === 'string') w.string(17, host);
    w.end();
    w.end();
  }

  // Names: every process and thread the trace knows, at its start.
  const procs = await conn.runAndReadAll(`SELECT pid, any_value(name) FROM processes GROUP BY pid ORDER BY pid`);
  const threads = await conn.runAndReadAll(`SELECT tid, any_value(pid), arg_max(name, last_ts) FROM threads GROUP BY tid ORDER BY tid`);
  w.begin(PACKET);
  w.uint64(P_TIMESTAMP, t0);
  w.begin(P_PROCESS_TREE);
  for (const [pid, name] of procs.getRows()) {
    w.begin(1);
    w.int(1, Number(pid));
    if (name !== null) w.string(3, String(name));
    w.end();
  }
  for (const [tid, pid, name] of threads.getRows()) {
    w.begin(2);
    w.int(1, Number(tid));
    if (name !== null) w.string(2, String(name));
    if (pid !== null) w.int(3, Number(pid));
    w.end();
    result.threads++;
  }
  w.end();
  w.end();

  // Kernel events: time-ordered, cut into windows of BUNDLE_EVENTS, one bundle per CPU and window.
  const sql = await ftraceQuery(conn, !('why' in sys));
  if (sql !== undefined) {
    const numbers = 'why' in sys ? new Map<string, number>() : sys.numbers;
    const perCpu = new Map<number, unknown[][]>();
    let pending = 0;
    const writeBundles = async (): Promise<void> => {
      for (const [cpu, rows] of perCpu) {
        if (rows.length === 0) continue;
        w.begin(PACKET);
        w.begin(P_FTRACE_EVENTS);
        w.uint(1, cpu);
        for (const row of rows) if (writeFtraceEvent(w, row, numbers)) result.ftraceEvents++;
        w.end();
        w.end();
        rows.length = 0;
        await flush();
      }
      pending = 0;
    };
    const stream = await conn.stream(sql);
    for await (const rows of stream.yieldRows()) {
      for (const row of rows) {
        const cpu = Number(row[1] ?? 0);
        let list = perCpu.get(cpu);
        if (list === undefined) perCpu.set(cpu, (list = []));
        list.push(row);
        if (++pending >= BUNDLE_EVENTS) await writeBundles();
      }
    }
    await writeBundles();
  }

  // User-space events: instants on their thread's track, the payload as debug annotations.
  result.trackEvents = await writeTrackEvents(conn, w, flush);

  out.end(w.drain());
  await Promise.race([once(out, 'finish'), failed]).catch((err: unknown) => {
    throw cannot(err);
  });
  return result;
}

/** One FtraceEvent from a row of ftraceQuery; false when a system call's number is unknown (left out). */
function writeFtraceEvent(w: ProtobufWriter, row: unknown[], numbers: Map<string, number>): boolean {
  const [ts, , tid, kindIndex] = row as [bigint, number, number | null, number];
  const base = 4;
  if (kindIndex >= KINDS.length) {
    const nr = numbers.get(String(row[base + INTS]));
    if (nr === undefined) return false;
    w.begin(2);
    w.uint64(FE_TIMESTAMP, ts);
    w.uint(FE_PID, tid ?? 0);
    if (kindIndex === KINDS.length) {
      w.begin(SYS_ENTER);
      w.uint(1, nr);
    } else {
      w.begin(SYS_EXIT);
      w.uint(1, nr);
      const ret = row[base] as bigint | null;
      if (ret !== null) w.int(2, ret);
    }
    w.end();
    w.end();
    return true;
  }
  const kind = KINDS[kindIndex]!;
  w.begin(2);
  w.uint64(FE_TIMESTAMP, ts);
  w.uint(FE_PID, tid ?? 0);
  w.begin(kind.field);
  for (const [i, [, field]] of kind.ints.entries()) {
    const v = row[base + i] as bigint | null;
    if (v !== null) w.int(field, v);
  }
  for (const [i, [, field]] of kind.strings.entries()) {
    const v = row[base + INTS + i] as string | null;
    if (v !== null) w.string(field, v);
  }
  w.end();
  w.end();
  return true;
}

/** TrackEvent fields: debug_annotations 4, type 9, track_uuid 11, categories 22, name 23. */
async function writeTrackEvents(conn: DuckDBConnection, w: ProtobufWriter, flush: () => Promise<void>): Promise<number> {
  const names = await conn.runAndReadAll(
    `SELECT DISTINCT e.name FROM events e JOIN traces t USING (trace_id) WHERE t.domain <> 'kernel' ORDER BY 1`,
  );
  if (names.getRows().length === 0) return 0;
  // One track per thread, or per process (or trace) where events carry no thread (per-PID user-space
  // buffers without the vtid context), each described once, first on the sequence.
  const tracks = await conn.runAndReadAll(`
    SELECT DISTINCT e.trace_id, e.tid, e.pid, COALESCE(th.name, e.procname), t.name FROM events e JOIN traces t USING (trace_id)
    LEFT JOIN threads th ON th.trace_id = e.trace_id AND th.tid = e.tid
    WHERE t.domain <> 'kernel' ORDER BY 1, 2, 3`);
  let first = true;
  for (const [traceId, tid, pid, name, traceName] of tracks.getRows()) {
    w.begin(PACKET);
    w.uint(P_SEQUENCE_ID, SEQUENCE);
    if (first) w.uint(P_SEQUENCE_FLAGS, SEQ_INCREMENTAL_STATE_CLEARED);
    first = false;
    w.begin(P_TRACK_DESCRIPTOR);
    w.uint(1, trackUuid(Number(traceId), tid as number | null, pid as number | null));
    if (tid !== null) {
      w.begin(4); // thread: pid 1, tid 2, thread_name 5
      w.int(1, Number(pid ?? tid));
      w.int(2, Number(tid));
      if (name !== null) w.string(5, String(name));
      w.end();
    } else if (pid !== null) {
      w.begin(3); // process: pid 1, process_name 6
      w.int(1, Number(pid));
      if (name !== null) w.string(6, String(name));
      w.end();
    } else {
      w.string(2, String(traceName));
    }
    w.end();
    w.end();
  }
  let n = 0;
  const meta = new Set(['id', 'ts', 'cpu', 'tid', 'pid', 'procname']);
  for (const [name] of names.getRows()) {
    const event = String(name);
    const cols = [...(await columnsOf(conn, event))].filter((c) => !meta.has(c));
    const provider = event.includes(':') ? event.slice(0, event.indexOf(':')) : event;
    const stream = await conn.stream(
      `SELECT v.ts - o.off, e.trace_id, v.tid, v.pid, ${cols.map((c) => `v.${sqlIdentifier(c)}`).concat('NULL').join(', ')}
       FROM ${sqlIdentifier(event)} v JOIN events e USING (id) JOIN traces t ON t.trace_id = e.trace_id JOIN ${OFFSETS} o ON o.trace_id = e.trace_id
       WHERE t.domain <> 'kernel' ORDER BY v.ts, v.id`,
    );
    for await (const rows of stream.yieldRows()) {
      for (const row of rows) {
        const [ts, traceId, tid, pid] = row as [bigint, number, number | null, number | null];
        w.begin(PACKET);
        w.uint64(P_TIMESTAMP, ts);
        w.uint(P_SEQUENCE_ID, SEQUENCE);
        w.begin(P_TRACK_EVENT);
        w.uint(9, 3); // TYPE_INSTANT
        w.uint(11, trackUuid(traceId, tid, pid));
        w.string(22, provider);
        w.string(23, event);
        for (const [i, col] of cols.entries()) writeAnnotation(w, col, row[4 + i]);
        w.end();
        w.end();
        n++;
      }
      await flush();
    }
  }
  return n;
}

/** A thread's, process's or trace's track: the trace in the high bits, so two traces' (hosts') never share one. */
const trackUuid = (traceId: number, tid: number | null, pid: number | null): number =>
  (traceId + 1) * 2 ** 32 + (tid ?? (pid === null ? 2 ** 31 - 1 : 2 ** 31 + pid));

/** DebugAnnotation: name 10, int_value 4, double_value 5, string_value 6. */
function writeAnnotation(w: ProtobufWriter, name: string, v: unknown): void {
  if (v === null || v === undefined) return;
  w.begin(4);
  w.string(10, name);
  if (typeof v === 'bigint') {
    if (v >= -(2n ** 63n) && v < 2n ** 63n) w.int(4, v);
    else w.string(6, v.toString());
  } else if (typeof v === 'number') {
    if (Number.isInteger(v)) w.int(4, v);
    else w.double(5, v);
  } else if (typeof v === 'boolean') w.int(4, v ? 1 : 0);
  else w.string(6, String(v));
  w.end();
}
