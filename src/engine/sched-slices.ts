// The sched table's slices cut as the import reads each CPU's sched_switches in time order: a switch ends the
// slice the previous one began (or, for a CPU's first, the slice from the trace's first event) and begins the
// next thread's, which the trace's last event ends.
//
// Contract: `switchAt()` for each sched_switch, in time order, with its CPU slot (import-trace.ts); `close()`
// with each trace's last key ends the open slices. Rows go to a Parquet file (parquet-writer.ts), which
// import-trace.ts shows as `sched_raw` (trace_id, ts, dur, cpu, tid, prio, end_state) and derived-tables.ts
// sorts into `sched`.

import { ColumnAppender, type Column, type ColumnSpec } from './column-appender.js';
import type { ParquetWriters } from './parquet-writer.js';

export const SCHED_COLUMNS: readonly ColumnSpec[] = [
  { name: 'trace_id', kind: 'int32' },
  { name: 'ts', kind: 'int64' },
  { name: 'dur', kind: 'int64' },
  { name: 'cpu', kind: 'int32' },
  { name: 'tid', kind: 'int32' },
  { name: 'prio', kind: 'int32' },
  { name: 'end_state', kind: 'varchar' },
];

/** A switch's fields (prio undefined: the trace has none). */
export interface Switch {
  readonly prevTid: number;
  readonly prevPrio: number | undefined;
  readonly prevState: string | undefined;
  readonly nextTid: number;
  readonly nextPrio: number | undefined;
}

export class SchedSlices {
  private rows!: ColumnAppender;
  // Per CPU slot: the last switch (its key; the thread it ran and that thread's priority).
  private readonly lastKey: number[] = [];
  private readonly lastTid: number[] = [];
  private readonly lastPrio: (number | undefined)[] = [];
  private readonly slotTrace: number[] = [];
  private readonly slotCpu: number[] = [];

  constructor(private readonly writeTime: (c: Column, r: number, key: number) => void) {}

  open(writers: ParquetWriters, path: string): void {
    this.rows = ColumnAppender.toSink(writers.open(path, SCHED_COLUMNS), SCHED_COLUMNS);
  }

  private slice(trace: number, from: number, to: number, cpu: number, tid: number, prio: number | undefined, endState: string | undefined): void {
    const a = this.rows;
    a.setInt(0, trace);
    this.writeTime(a.cols[1]!, a.row, from);
    a.setInt(2, to - from);
    a.setInt(3, cpu);
    a.setInt(4, tid);
    if (prio !== undefined) a.setInt(5, prio);
    if (endState !== undefined) a.setString(6, endState);
    a.endRow();
  }

  /** A switch at `key` on CPU slot `slot` (CPU `cpu` of trace `trace`, whose first event's key is `traceFirst`). */
  switchAt(slot: number, trace: number, cpu: number, key: number, traceFirst: number, s: Switch): void {
    if (this.lastKey[slot] === undefined) {
      this.slice(trace, traceFirst, key, cpu, s.prevTid, s.prevPrio, s.prevState);
      this.slotTrace[slot] = trace;
      this.slotCpu[slot] = cpu;
    } else {
      this.slice(trace, this.lastKey[slot]!, key, cpu, this.lastTid[slot]!, this.lastPrio[slot], s.prevState);
    }
    this.lastKey[slot] = key;
    this.lastTid[slot] = s.nextTid;
    this.lastPrio[slot] = s.nextPrio;
  }

  /** `traceLast(trace)`: the key of the trace's last event. */
  close(traceLast: (trace: number) => number): void {
    this.lastKey.forEach((key, slot) => {
      const trace = this.slotTrace[slot]!;
      this.slice(trace, key, traceLast(trace), this.slotCpu[slot]!, this.lastTid[slot]!, this.lastPrio[slot], undefined);
    });
    this.rows.close();
  }
}
