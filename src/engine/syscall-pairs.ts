// System calls paired as the import reads the events in time order: a thread runs one system call at a time,
// so an entry pairs with its thread's next system call event when that is the same call's exit.
//
// Contract: `classify()` each event class before `open()`; then `event()` for each system call event, in time
// order, with the event's thread (`thr`, the import's thread number: see import-trace.ts). A pair goes to
// a Parquet file (parquet-writer.ts) that import-trace.ts shows as `syscalls_raw` (the entry's stream, time
// and CPU, the duration, the exit's ret); derived-tables.ts names
// the call and the thread. `adopt(from, to)`: the events counted as `from` turned out to be `to`'s (a CPU's
// thread before its first sched_switch). `syscall_classes` maps event classes to calls (entry: names
// syscall_entry_*; call: the name without (compat_)syscall_(entry|exit)_).

import type { DuckDBConnection } from '@duckdb/node-api';
import type { ParquetWriters } from './parquet-writer.js';
import { ColumnAppender, writeInt64, type Column, type ColumnSpec } from './column-appender.js';
import { sqlString } from './run-sql.js';

/** How an event class counts for pairing. */
export interface SyscallClass {
  readonly entry: boolean;
  readonly call: number;
}

const PAIR_COLUMNS: readonly ColumnSpec[] = [
  { name: 'stream_id', kind: 'int32' },
  { name: 'ts', kind: 'int64' },
  { name: 'dur', kind: 'int64' },
  { name: 'cpu', kind: 'int32' },
  { name: 'thr', kind: 'int32' },
  { name: 'call', kind: 'int32' },
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

function setI32(c: Column, r: number, v: number): void {
  c.i32[r] = v;
  c.valid[r >>> 5] |= 1 << (r & 31);
}

/** Slot of thread number `thr` in the state arrays (negative numbers are CPUs' not yet known threads). */
const slot = (thr: number): number => (thr > 0 ? 2 * thr : -2 * thr + 1);

export class SyscallPairer {
  private readonly calls = new Map<string, number>();
  private readonly classes: { classId: number; entry: boolean; call: number }[] = [];
  private pairs!: ColumnAppender;
  // Per thread slot: its last system call event (call -1: none; entry), and that event's stream, time, CPU.
  private lastCall: number[] = [];
  private lastEntry: boolean[] = [];
  private lastSid: number[] = [];
  private lastKey: number[] = [];
  private lastCpu: number[] = [];

  /** `writeTime(col, row, key)` writes the time of an import key into an int64 column. */
  constructor(private readonly writeTime: (c: Column, r: number, key: number) => void) {}

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

  /** `path`: the pairs' Parquet file. */
  async open(conn: DuckDBConnection, writers: ParquetWriters, path: string): Promise<void> {
    const names = [...this.calls.keys()];
    await conn.run(`
      CREATE TEMP TABLE syscall_classes (class_id INTEGER, is_entry INTEGER, call INTEGER, name VARCHAR);
    `);
    for (let i = 0; i < this.classes.length; i += 500) {
      const rows = this.classes.slice(i, i + 500).map((c) => `(${c.classId}, ${c.entry ? 1 : 0}, ${c.call}, ${sqlString(names[c.call]!)})`);
      await conn.run(`INSERT INTO syscall_classes VALUES ${rows.join(',')}`);
    }
    this.pairs = ColumnAppender.toSink(writers.open(path, PAIR_COLUMNS), PAIR_COLUMNS);
  }

  /** A system call event of thread `thr` at import key `key`; `retCol`/`retRow`: where the writer put an exit's ret. */
  event(c: SyscallClass, thr: number, sid: number, key: number, cpu: number, retCol: Column | undefined, retRow: number): void {
    const u = slot(thr);
    if (!c.entry && this.lastEntry[u] === true && this.lastCall[u] === c.call) {
      // Written in place (the columns' kinds are PAIR_COLUMNS'): a pair per two events of most traces.
      const p = this.pairs;
      const r = p.row;
      const cols = p.cols;
      setI32(cols[0]!, r, this.lastSid[u]!);
      this.writeTime(cols[1]!, r, this.lastKey[u]!);
      writeInt64(cols[2]!, r, key - this.lastKey[u]!);
      if (this.lastCpu[u]! >= 0) setI32(cols[3]!, r, this.lastCpu[u]!);
      setI32(cols[4]!, r, thr);
      setI32(cols[5]!, r, c.call);
      copyInt(retCol, retRow, cols[6]!, r);
      p.endRow();
    }
    this.lastCall[u] = c.call;
    this.lastEntry[u] = c.entry;
    this.lastSid[u] = sid;
    this.lastKey[u] = key;
    this.lastCpu[u] = cpu;
  }

  adopt(from: number, to: number): void {
    const f = slot(from);
    const t = slot(to);
    if (this.lastCall[f] === undefined || (this.lastCall[t] !== undefined && this.lastKey[t]! >= this.lastKey[f]!)) return;
    this.lastCall[t] = this.lastCall[f]!;
    this.lastEntry[t] = this.lastEntry[f]!;
    this.lastSid[t] = this.lastSid[f]!;
    this.lastKey[t] = this.lastKey[f]!;
    this.lastCpu[t] = this.lastCpu[f]!;
    this.lastCall[f] = -1;
    this.lastEntry[f] = false;
  }

  close(): void {
    this.pairs.close();
  }
}
