// System calls paired as the import reads each stream, so that the syscalls table needs no window over every
// system call event (that sort was the costliest step of building the tables).
//
// Contract: a kernel stream's events come in time order and, between two sched_switches, all run in one
// thread (the import's `sw_tid`). Within such a slice, a thread's next system call event after an entry is
// the stream's next one: when it is the matching exit, the pair goes to `syscall_pairs_raw` (entry and exit
// clock values, thread, call, the exit's ret). What a slice cannot settle goes to `syscall_ends_raw`, and
// derived-tables.ts pairs those by thread across streams: the slice's first system call event (an exit that
// may end an entry of an earlier slice; an entry as a barrier, call -1) and an entry still open at its end.
// A thread's next system call event after an open entry is then always among those rows, so both halves
// together pair exactly what pairing every system call event by thread pairs. `syscall_classes` maps event
// classes to calls (entry: names syscall_entry_*; call: the name without (compat_)syscall_(entry|exit)_).

import type { DuckDBConnection } from '@duckdb/node-api';
import { ColumnAppender, columnsSql, writeInt64, type Column, type ColumnSpec } from './column-appender.js';
import { sqlString } from './run-sql.js';

/** How an event class counts for pairing. */
export interface SyscallClass {
  readonly entry: boolean;
  readonly call: number;
}

const PAIR_COLUMNS: readonly ColumnSpec[] = [
  { name: 'stream_id', kind: 'int32' },
  { name: 'cycles', kind: 'uint64' },
  { name: 'exit_cycles', kind: 'uint64' },
  { name: 'tid', kind: 'int32' },
  { name: 'call', kind: 'int32' },
  { name: 'ret', kind: 'int64' },
];
const END_COLUMNS: readonly ColumnSpec[] = [
  { name: 'stream_id', kind: 'int32' },
  { name: 'id', kind: 'int64' },
  { name: 'cycles', kind: 'uint64' },
  { name: 'tid', kind: 'int32' },
  { name: 'call', kind: 'int32' },
  { name: 'is_entry', kind: 'int32' },
  { name: 'ret', kind: 'int64' },
];

/** Copies row `fr` of an integer column into row `tr` of an int64 column (NULL stays NULL). */
function copyInt(from: Column | undefined, fr: number, to: Column, tr: number): void {
  if (!from || (from.valid[fr >>> 5]! & (1 << (fr & 31))) === 0) return;
  if (from.kind === 'int32') return writeInt64(to, tr, from.i32[fr]!);
  to.i32[2 * tr] = from.i32[2 * fr]!;
  to.i32[2 * tr + 1] = from.i32[2 * fr + 1]!;
  to.valid[tr >>> 5] |= 1 << (tr & 31);
}

export class SyscallPairer {
  private readonly calls = new Map<string, number>();
  private readonly classes: { classId: number; entry: boolean; call: number }[] = [];
  private pairs!: ColumnAppender;
  private ends!: ColumnAppender;
  // The stream being read: its slice's state.
  private sid = 0;
  private tid: number | undefined;
  private seen = false;
  private openId = -1;
  private openCycles: number | bigint = 0;
  private openCall = -1;

  /** The pairing role of an event class, by its name (undefined: not a system call event). */
  classify(classId: number, name: string): SyscallClass | undefined {
    if (!/^(syscall_entry_|syscall_exit_|compat_syscall_)/.test(name)) return undefined;
    const callName = name.replace(/^(compat_)?syscall_(entry|exit)_/, '');
    let call = this.calls.get(callName);
    if (call === undefined) this.calls.set(callName, (call = this.calls.size));
    const c = { classId, entry: name.startsWith('syscall_entry_'), call };
    this.classes.push(c);
    return c;
  }

  async open(conn: DuckDBConnection): Promise<void> {
    const names = [...this.calls.keys()];
    await conn.run(`
      CREATE TEMP TABLE syscall_pairs_raw (${columnsSql(PAIR_COLUMNS)});
      CREATE TEMP TABLE syscall_ends_raw (${columnsSql(END_COLUMNS)});
      CREATE TEMP TABLE syscall_classes (class_id INTEGER, is_entry INTEGER, call INTEGER, name VARCHAR);
    `);
    for (let i = 0; i < this.classes.length; i += 500) {
      const rows = this.classes.slice(i, i + 500).map((c) => `(${c.classId}, ${c.entry ? 1 : 0}, ${c.call}, ${sqlString(names[c.call]!)})`);
      await conn.run(`INSERT INTO syscall_classes VALUES ${rows.join(',')}`);
    }
    this.pairs = await ColumnAppender.create(conn, 'syscall_pairs_raw', PAIR_COLUMNS, true);
    this.ends = await ColumnAppender.create(conn, 'syscall_ends_raw', END_COLUMNS, true);
  }

  /** A new stream starts (its thread not known yet). */
  stream(sid: number): void {
    this.slice(undefined);
    this.sid = sid;
  }

  /** A sched_switch took effect: later events run in `tid`. */
  slice(tid: number | undefined): void {
    if (this.openId >= 0) this.end(this.openId, this.openCycles, this.openCall, 1, undefined, 0);
    this.tid = tid;
    this.seen = false;
    this.openId = -1;
  }

  /** A system call event; `retCol`/`retRow`: where the writer put an exit's ret. */
  event(c: SyscallClass, id: number, cycles: number | bigint, retCol: Column | undefined, retRow: number): void {
    if (!this.seen) {
      this.seen = true;
      // The slice's first: an exit may end an earlier slice's entry; an entry only stops such a pairing.
      this.end(id, cycles, c.entry ? -1 : c.call, 0, retCol, retRow);
    } else if (!c.entry && this.openId >= 0 && this.openCall === c.call) {
      const p = this.pairs;
      const r = p.row;
      p.setInt(0, this.sid);
      p.setInt(1, this.openCycles);
      p.setInt(2, cycles);
      if (this.tid !== undefined) p.setInt(3, this.tid);
      p.setInt(4, c.call);
      copyInt(retCol, retRow, p.cols[5]!, r);
      p.endRow();
    }
    this.openId = c.entry ? id : -1;
    this.openCycles = cycles;
    this.openCall = c.call;
  }

  private end(id: number, cycles: number | bigint, call: number, isEntry: number, retCol: Column | undefined, retRow: number): void {
    const e = this.ends;
    const r = e.row;
    e.setInt(0, this.sid);
    e.setInt(1, id);
    e.setInt(2, cycles);
    if (this.tid !== undefined) e.setInt(3, this.tid);
    e.setInt(4, call);
    e.setInt(5, isEntry);
    copyInt(retCol, retRow, e.cols[6]!, r);
    e.endRow();
  }

  close(): void {
    this.slice(undefined);
    this.pairs.close();
    this.ends.close();
  }
}
