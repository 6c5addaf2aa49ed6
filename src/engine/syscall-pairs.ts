// System calls paired in the events' time order: a thread runs one system call at a time, so an entry pairs
// with its thread's next system call event when that is the same call's exit. The pairing runs on the Parquet
// writer thread (parquet-worker.ts), over the events file's chunks as they arrive: every value it needs is in
// the events' columns (time, class, CPU, the import's thread number `thr`), but for the exit's `ret`,
// which rides along as one more column of the chunk, not written to the events file. The import's own thread
// (the bottleneck: the writer thread idles most of the time) then does no more than copy `ret`.
//
// Contract. Import thread: `classify()` each event class before `open()`; `open(conn, path, classCount, columns)` makes the
// `syscall_classes` table (event classes to calls: entry names syscall_entry_*, the call is the name without
// (compat_)syscall_(entry|exit)_) and returns the writer thread's PairPlan, given to ParquetWriters.open() of
// the events file, whose chunks then have the events' columns and PAIR_RET last; `adopt(row, from, to)` on that
// sink: from that events row on, the system calls counted as thread `from` are thread `to`'s (a CPU's thread
// before its first sched_switch). Writer thread: `new PairWriter(plan)`, `rows()` for each events chunk in
// order, `close()` at the events file's close. The pairs file (the entry's time and CPU, the duration, the
// thread number, the call, the exit's ret) is what derived-tables.ts shows as the `syscalls` view, which names
// the call and the thread.

import type { DuckDBConnection } from '@duckdb/node-api';
import { Column, type ColumnSpec } from './column-chunk.js';
import { ParquetFile } from './parquet-file.js';
import { sqlString } from './run-sql.js';

/** How an event class counts for pairing. */
export interface SyscallClass {
  readonly entry: boolean;
  readonly call: number;
}

/** The `ret` column the events chunks carry for the pairing (an exit's ret; NULL for other events). */
export const PAIR_RET: ColumnSpec = { name: 'ret', kind: 'int64' };

/** What the writer thread needs to pair: where to write, each class's role, the events' columns. */
export interface PairPlan {
  readonly path: string;
  /** By class id: -1 not a system call event, else 2 * call + (1 for an entry). */
  readonly roles: Int32Array;
  /** Indexes of the events chunk's columns: time, class, CPU, thread, and ret (the last). */
  readonly ts: number;
  readonly cls: number;
  readonly cpu: number;
  readonly thr: number;
  readonly ret: number;
}

const PAIR_COLUMNS: readonly ColumnSpec[] = [
  { name: 'ts', kind: 'int64' },
  { name: 'dur', kind: 'int64' },
  { name: 'cpu', kind: 'int32' },
  { name: 'thr', kind: 'int32' },
  { name: 'call', kind: 'int32' },
  { name: 'ret', kind: 'int64' },
];
/** Rows per chunk of the pairs file: the row group (122,880 rows, parquet-file.ts) is three of them. */
const PAIR_ROWS = 40960;

export class SyscallPairer {
  private readonly calls = new Map<string, number>();
  private readonly classes: { classId: number; entry: boolean; call: number }[] = [];

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

  /** `path`: the pairs' Parquet file; `columns`: the events chunks' (PAIR_RET last). */
  async open(conn: DuckDBConnection, path: string, classCount: number, columns: readonly ColumnSpec[]): Promise<PairPlan> {
    const names = [...this.calls.keys()];
    await conn.run(`
      CREATE TEMP TABLE syscall_classes (class_id INTEGER, is_entry INTEGER, call INTEGER, name VARCHAR);
    `);
    for (let i = 0; i < this.classes.length; i += 500) {
      const rows = this.classes.slice(i, i + 500).map((c) => `(${c.classId}, ${c.entry ? 1 : 0}, ${c.call}, ${sqlString(names[c.call]!)})`);
      await conn.run(`INSERT INTO syscall_classes VALUES ${rows.join(',')}`);
    }
    const roles = new Int32Array(classCount).fill(-1);
    for (const c of this.classes) roles[c.classId] = 2 * c.call + (c.entry ? 1 : 0);
    const at = (name: string): number => columns.findIndex((c) => c.name === name);
    return { path, roles, ts: at('ts'), cls: at('class_id'), cpu: at('cpu'), thr: at('thr'), ret: columns.length - 1 };
  }
}

/** A thread slot's role before its first system call event. */
const UNSEEN = -2;

/** Slot of thread number `thr` in the state arrays (negative numbers are CPUs' not yet known threads). */
const slot = (thr: number): number => (thr > 0 ? 2 * thr : -2 * thr + 1);

/** The writer thread's half: pairs the events chunks' system calls into the pairs file. */
export class PairWriter {
  private readonly file: ParquetFile;
  private readonly cols: Column[];
  private row = 0;
  private readonly any: boolean;
  // Per thread slot: its last system call event (role -1: none; UNSEEN: no event yet), and that event's time
  // (int64 halves) and CPU (-1: unknown). Typed arrays grown to the slots met: plain arrays filled at scattered
  // slots went holey, then sparse (a dictionary lookup per access: 70 ns per system call event).
  private lastRole = new Int32Array(64).fill(UNSEEN);
  private lastLo = new Int32Array(64);
  private lastHi = new Int32Array(64);
  private lastCpu = new Int32Array(64);

  constructor(private readonly plan: PairPlan) {
    this.file = ParquetFile.create(plan.path, PAIR_COLUMNS);
    this.cols = PAIR_COLUMNS.map((c) => new Column(c.kind, PAIR_ROWS));
    this.any = plan.roles.some((r) => r >= 0);
  }

  /**
   * The first n rows of an events chunk (its columns as PairPlan says); `adopts`: [row, from, to]... in row order.
   * One loop with every array in a local (a method call and property loads per event cost ~40 ns, on the writer
   * thread that shares the machine's CPUs with the decoding).
   */
  rows(ev: readonly Column[], n: number, adopts: readonly number[] | undefined): void {
    if (!this.any) return;
    const p = this.plan;
    const roles = p.roles;
    const cls = ev[p.cls]!.i32;
    const thrs = ev[p.thr]!.i32;
    const thrValid = ev[p.thr]!.valid;
    const ts = ev[p.ts]!.i32;
    const tsValid = ev[p.ts]!.valid;
    const cpus = ev[p.cpu]!.i32;
    const cpuValid = ev[p.cpu]!.valid;
    const rets = ev[p.ret]!.i32;
    const retValid = ev[p.ret]!.valid;
    // The output columns' arrays: flush() writes and clears them, and keeps them.
    const [oTs, oDur, oCpu, oThr, oCall, oRet] = this.cols.map((c) => c.i32) as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
    const [vTs, vDur, vCpu, vThr, vCall, vRet] = this.cols.map((c) => c.valid) as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
    let lastRole = this.lastRole;
    let lastLo = this.lastLo;
    let lastHi = this.lastHi;
    let lastCpu = this.lastCpu;
    let a = 0;
    let adoptAt = adopts === undefined || adopts.length === 0 ? n : adopts[0]!;
    for (let r = 0; r < n; r++) {
      const role = roles[cls[r]!]!;
      const bit = 1 << (r & 31);
      if (role >= 0 && (thrValid[r >>> 5]! & bit) !== 0 && (tsValid[r >>> 5]! & bit) !== 0) {
        const thr = thrs[r]!;
        const u = slot(thr);
        if (u >= lastRole.length) {
          this.grow(u);
          lastRole = this.lastRole;
          lastLo = this.lastLo;
          lastHi = this.lastHi;
          lastCpu = this.lastCpu;
        }
        const lo = ts[2 * r]!;
        const hi = ts[2 * r + 1]!;
        // An exit (even role) after its call's entry (that role + 1).
        if ((role & 1) === 0 && lastRole[u] === role + 1) {
          const w = this.row;
          const wb = 1 << (w & 31);
          const ww = w >>> 5;
          const lo0 = lastLo[u]!;
          const hi0 = lastHi[u]!;
          oTs[2 * w] = lo0;
          oTs[2 * w + 1] = hi0;
          vTs[ww]! |= wb;
          // The exact int64 difference, word by word (a borrow from the high word when the low one wraps).
          oDur[2 * w] = (lo - lo0) | 0;
          oDur[2 * w + 1] = (hi - hi0 - ((lo >>> 0) < (lo0 >>> 0) ? 1 : 0)) | 0;
          vDur[ww]! |= wb;
          if (lastCpu[u]! >= 0) {
            oCpu[w] = lastCpu[u]!;
            vCpu[ww]! |= wb;
          }
          oThr[w] = thr;
          vThr[ww]! |= wb;
          oCall[w] = role >>> 1;
          vCall[ww]! |= wb;
          if ((retValid[r >>> 5]! & bit) !== 0) {
            oRet[2 * w] = rets[2 * r]!;
            oRet[2 * w + 1] = rets[2 * r + 1]!;
            vRet[ww]! |= wb;
          }
          if (++this.row === PAIR_ROWS) this.flush();
        }
        lastRole[u] = role;
        lastLo[u] = lo;
        lastHi[u] = hi;
        lastCpu[u] = (cpuValid[r >>> 5]! & bit) !== 0 ? cpus[r]! : -1;
      }
      if (r === adoptAt) {
        while (a < adopts!.length && adopts![a] === r) {
          this.adopt(adopts![a + 1]!, adopts![a + 2]!);
          a += 3;
        }
        adoptAt = a < adopts!.length ? adopts![a]! : n;
        lastRole = this.lastRole;
        lastLo = this.lastLo;
        lastHi = this.lastHi;
        lastCpu = this.lastCpu;
      }
    }
  }

  /** Makes slot u fit in the state arrays. */
  private grow(u: number): void {
    let n = this.lastRole.length;
    while (n <= u) n *= 2;
    const more = (old: Int32Array, fill: number): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(n).fill(fill);
      b.set(old);
      return b;
    };
    this.lastRole = more(this.lastRole, UNSEEN);
    this.lastLo = more(this.lastLo, 0);
    this.lastHi = more(this.lastHi, 0);
    this.lastCpu = more(this.lastCpu, 0);
  }

  private adopt(from: number, to: number): void {
    const f = slot(from);
    const t = slot(to);
    if (Math.max(f, t) >= this.lastRole.length) this.grow(Math.max(f, t));
    if (this.lastRole[f] === UNSEEN) return;
    // The later of the two goes on (times compared as int64 halves: high words signed, low words unsigned).
    if (this.lastRole[t] !== UNSEEN) {
      const th = this.lastHi[t]!;
      const fh = this.lastHi[f]!;
      if (th > fh || (th === fh && this.lastLo[t]! >>> 0 >= this.lastLo[f]! >>> 0)) return;
    }
    this.lastRole[t] = this.lastRole[f]!;
    this.lastLo[t] = this.lastLo[f]!;
    this.lastHi[t] = this.lastHi[f]!;
    this.lastCpu[t] = this.lastCpu[f]!;
    this.lastRole[f] = -1;
  }

  private flush(): void {
    if (this.row === 0) return;
    // The file copies the values: the columns are filled again, their validity cleared.
    this.file.chunk(this.cols, this.row);
    for (const c of this.cols) c.valid.fill(0);
    this.row = 0;
  }

  close(): void {
    this.flush();
    this.file.close();
  }
}

/** Copies an exit's ret (row `fr` of an integer column) into row `tr` of the events chunk's PAIR_RET column
 * (NULL stays NULL; int32 sign-extended). */
export function copyRet(from: Column, fr: number, to: Column, tr: number): void {
  if ((from.valid[fr >>> 5]! & (1 << (fr & 31))) === 0) return;
  if (from.kind === 'int32') {
    // Sign-extended word by word (once per exit event, on the import thread).
    const v = from.i32[fr]!;
    to.i32[2 * tr] = v;
    to.i32[2 * tr + 1] = v >> 31;
    to.valid[tr >>> 5] |= 1 << (tr & 31);
    return;
  }
  to.i32[2 * tr] = from.i32[2 * fr]!;
  to.i32[2 * tr + 1] = from.i32[2 * fr + 1]!;
  to.valid[tr >>> 5] |= 1 << (tr & 31);
}
