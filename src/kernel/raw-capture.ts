// Raw ftrace capture: a workload recorded into a private tracefs instance, each CPU's ring-buffer pages kept as
// trace_pipe_raw hands them out. What the kernel consumer reads, saved so it can be replayed through the real
// consumer without the kernel (bench/kernel-consume.ts, consumer tests).
//
// Contract: the instance is the caller's own name; it is created, and removed afterwards even on failure.
// The kernel may keep another sub-buffer size than asked for (or have no choice): the size it applied is returned
// and pages are zero-padded to it. Throws LttError (tracefs) when the kernel refuses any other setting.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tracefs from '../ftrace/tracefs.js';

export interface RawCaptureOptions {
  /** Name of the private instance. */
  readonly instance: string;
  /** Sub-buffer (page) size in bytes to ask for, through buffer_subbuf_size_kb where the kernel has it. */
  readonly pageSize: number;
  /** Per-CPU buffer size in KiB: large enough for the whole workload, or the newest records are dropped. */
  readonly bufferKb: number;
  /** Paths under events/ to enable: a system ("syscalls") or one event ("sched/sched_switch"). */
  readonly events: readonly string[];
  /** Runs while tracing is on. */
  readonly workload: () => void;
}

/**
 * Creates the instance, tracing off, on the monotonic clock, in discard mode, with the sub-buffer and buffer sizes
 * and the events of `o` (the caller removes it, with rmdirInstance). Returns the sub-buffer size the kernel applied.
 */
export function setUpInstance(o: Omit<RawCaptureOptions, 'workload'>): number {
  tracefs.mkdirInstance(o.instance);
  try {
    tracefs.writeText('tracing_on', '0', o.instance);
    tracefs.writeText('trace_clock', 'mono', o.instance);
    const pageSize = tracefs.applySubbufSize(o.instance, o.pageSize);
    tracefs.writeText('buffer_size_kb', String(o.bufferKb), o.instance);
    // Discard mode: a full ring drops the newest records and counts them ("dropped events"). A new instance
    // overwrites by default: its oldest pages go, counted as "overrun" and flagged on the next page read, which
    // a consumer told of discard mode (the consumer tests, the bench) counts as discarded records the kernel's
    // "dropped events" never shows.
    tracefs.writeText('options/overwrite', '0', o.instance);
    for (const e of o.events) tracefs.writeText(`events/${e}/enable`, '1', o.instance);
    return pageSize;
  } catch (err) {
    tracefs.rmdirInstance(o.instance);
    throw err;
  }
}

/** What a capture recorded: its CPUs and the sub-buffer size the kernel applied (the size of every page). */
export interface RawCapture {
  readonly cpus: number[];
  readonly pageSize: number;
}

/** Records the workload and hands every page to `onPage` (a reused buffer: copy to keep it). */
export function captureRawPages(o: RawCaptureOptions, onPage: (cpu: number, page: Buffer) => void): RawCapture {
  const pageSize = setUpInstance(o);
  try {
    tracefs.writeText('tracing_on', '1', o.instance);
    o.workload();
    tracefs.writeText('tracing_on', '0', o.instance);
    const page = Buffer.alloc(pageSize);
    const cpus = tracefs.cpuIds();
    for (const cpu of cpus) {
      const fd = tracefs.openPipeRaw(o.instance, cpu);
      try {
        for (;;) {
          let n: number;
          try {
            n = fs.readSync(fd, page, 0, pageSize, null);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break;
            throw err;
          }
          if (n === 0) break;
          page.fill(0, n);
          onPage(cpu, page);
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    return { cpus, pageSize };
  } finally {
    try {
      tracefs.writeText('tracing_on', '0', o.instance);
    } finally {
      tracefs.rmdirInstance(o.instance);
    }
  }
}

/** Records the workload into DIR/cpuN.raw (pages back to back, what rawPagesFile() names). */
export function saveRawPages(o: RawCaptureOptions, dir: string): RawCapture {
  const fds = new Map<number, number>();
  const open = (cpu: number): number => {
    let fd = fds.get(cpu);
    if (fd === undefined) fds.set(cpu, (fd = fs.openSync(rawPagesFile(dir, cpu), 'w')));
    return fd;
  };
  try {
    const capture = captureRawPages(o, (cpu, page) => fs.writeSync(open(cpu), page));
    for (const cpu of capture.cpus) open(cpu); // a CPU that recorded nothing gets an empty file
    return capture;
  } finally {
    for (const fd of fds.values()) fs.closeSync(fd);
  }
}

/** The file saveRawPages() writes a CPU's pages to. */
export function rawPagesFile(dir: string, cpu: number): string {
  return path.join(dir, `cpu${cpu}.raw`);
}
