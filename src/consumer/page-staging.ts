// Staging of one kernel channel's pages between the page reader thread (kernel-page-reader.ts), which moves them
// out of the kernel's ring buffers, and the channel's consumer (kernel-channel-consumer.ts), which decodes and
// writes them.
//
// Why: the ring fills in ~40 ms at full speed (4 x 1 MiB per CPU, a dd loop of system calls), and on a loaded
// machine the consumer thread, which decodes and writes ~100 ns per record, waited 50-210 ms at a time on the run
// queue (measured by its /proc schedstat around each drain) while the ring filled and the kernel dropped records. A
// thread that only copies pages (a few µs per 128 KiB) runs in short bursts and is scheduled within a few ms; the
// staging it fills (STAGED_RINGS times the ring) holds what the consumer has not decoded yet. What the kernel
// drops still happens in the kernel and is counted there (discard mode) or marked in the pages (overwrite mode).
//
// Contract: all shared memory. Per CPU, a ring of `slots` page slots with monotonically increasing counters HEAD
// (slots filled, written by the reader only) and TAIL (slots decoded, written by the consumer only); `lens` holds
// each slot's bytes (the last page of a read may be short) and `dropped` the kernel's "dropped events" counter read
// with the pass that filled the slot (-1: not read). LOCK is held by whoever reads the CPU's trace_pipe_raw
// (reader pass, or a synchronous drain of the consumer, which first decodes what is staged, then reads into the
// CPU's first slots, all free then): pages then come out of the kernel and are decoded in one order. The consumer
// decodes a staged page in its slot, and gives the slot back (TAIL) once decoded. FD / STATS_FD are the CPU's descriptors (-1: closed; read under LOCK).
// The channel words: READY, STATE (RUNNING, PAUSED, EXIT), WAKE (bumped and notified to wake the reader early),
// NOTIFIED (set by the reader when it has told the consumer about new pages, cleared by the consumer when it has
// decoded everything: one message per batch of work, not one per pass; the reader batches further, see
// NOTIFY_FILL in kernel-page-reader.ts) and READER_TID (the reader thread's kernel thread id, set before READY:
// lockCpu's way to see that a thread holding a lock is gone, see there).

import * as fs from 'node:fs';

/** Channel words of the control array. */
export const STATE = 0;
export const WAKE = 1;
export const NOTIFIED = 2;
/** Set by the reader thread once it runs (its start-up takes up to seconds on a loaded machine). */
export const READY = 3;
/** The reader thread's kernel thread id (0: unknown). */
export const READER_TID = 4;
/** The consumer thread's kernel thread id (0: unknown), for the reader to raise its priority too (consumer-priority.ts). */
export const CONSUMER_TID = 5;
const CHANNEL_WORDS = 6;
/** Per-CPU words, at cpuBase(i). */
export const HEAD = 0;
export const TAIL = 1;
export const LOCK = 2;
export const FD = 3;
export const STATS_FD = 4;
const CPU_WORDS = 8;

export const RUNNING = 1;
export const PAUSED = 0;
export const EXIT = 2;

/**
 * Staging per CPU, in ring-buffer sizes (32 MiB for the default 4 x 1 MiB; untouched slots cost no memory): on
 * a machine at load 15 the consumer thread got 13% of a CPU for its first 2.9 s, and decoded 29k pages (115 MB)
 * while 33k came in.
 */
export const STAGED_RINGS = 8;
/**
 * At most this much staging per channel, all CPUs together: every slot is touched once the counters have gone
 * round, and stays resident for the channel's life (8 rings of 4 MiB on 64 CPUs would be 2 GiB).
 */
export const STAGING_BUDGET_BYTES = 256 << 20;

/**
 * Slots per CPU: 8 rings' worth within the channel's budget, a power of two so that a slot is its counter's low
 * bits (slotOf): HEAD and TAIL are int32 counters that wrap after 2^31 pages (a day at 100 MB/s per CPU), and
 * a remainder by another count would jump at the wrap.
 */
export function stagingSlots(cpus: number, pageSize: number, bufferPages: number): number {
  const want = Math.min(STAGED_RINGS * bufferPages, Math.floor(STAGING_BUDGET_BYTES / Math.max(1, cpus) / pageSize));
  return Math.max(2, 2 ** Math.floor(Math.log2(Math.max(1, want))));
}

/** The slot of a HEAD or TAIL count (wrapped or not: `slots` is a power of two). */
export function slotOf(count: number, slots: number): number {
  return count & (slots - 1);
}

export interface StagingShared {
  control: SharedArrayBuffer;
  /** Per CPU (in the order of the channel's readers): the page slots, their lengths and dropped counters. */
  rings: SharedArrayBuffer[];
  lens: SharedArrayBuffer[];
  dropped: SharedArrayBuffer[];
  slots: number;
  pageSize: number;
  /** A full page holds pageSize - dataOffset record bytes (header_page). */
  dataOffset: number;
  /** Pages of the kernel's ring per CPU. */
  bufferPages: number;
  /** The channel's read timer: the longest wait between two passes. */
  periodMs: number;
}

export function cpuBase(i: number): number {
  return CHANNEL_WORDS + i * CPU_WORDS;
}

export function createStaging(cpus: number, pageSize: number, dataOffset: number, bufferPages: number, periodMs: number): StagingShared {
  const slots = stagingSlots(cpus, pageSize, bufferPages);
  const control = new SharedArrayBuffer(4 * (CHANNEL_WORDS + cpus * CPU_WORDS));
  const ctl = new Int32Array(control);
  for (let i = 0; i < cpus; i++) {
    ctl[cpuBase(i) + FD] = -1;
    ctl[cpuBase(i) + STATS_FD] = -1;
  }
  // SharedArrayBuffers are zero-filled mappings: untouched slots take no memory.
  return {
    control,
    rings: Array.from({ length: cpus }, () => new SharedArrayBuffer(slots * pageSize)),
    lens: Array.from({ length: cpus }, () => new SharedArrayBuffer(4 * slots)),
    dropped: Array.from({ length: cpus }, () => new SharedArrayBuffer(8 * slots)),
    slots,
    pageSize,
    dataOffset,
    bufferPages,
    periodMs,
  };
}

/** How many 1 ms waits for a CPU's lock between two looks at whether the reader thread still runs. */
const WAITS_PER_LIVENESS_CHECK = 10;

/**
 * Takes a CPU's LOCK (the consumer's side), waiting (1 ms at a time) while the reader thread holds it. A reader
 * thread killed holding it (terminate(), a fatal error: no code of its own runs then) never releases it, and the
 * consumer hears of the thread's end only from an 'exit' event of its own event loop, which this wait blocks:
 * a timer's drain would wait for ever. So every WAITS_PER_LIVENESS_CHECK waits it looks whether the reader's
 * kernel thread still exists, and takes the lock over when not (what the dead thread had read but not staged is
 * lost with it). The fast path, a free lock, costs one compare-exchange as before.
 */
export function lockCpu(ctl: Int32Array, i: number): void {
  const at = cpuBase(i) + LOCK;
  for (let waits = 1; Atomics.compareExchange(ctl, at, 0, 1) !== 0; waits++) {
    Atomics.wait(ctl, at, 1, 1);
    if (waits % WAITS_PER_LIVENESS_CHECK === 0 && !readerRuns(ctl)) {
      // Still 1: held, now by us.
      Atomics.store(ctl, at, 1);
      return;
    }
  }
}

/** Whether the reader thread's kernel thread still exists (true when its id is unknown: wait as before). */
function readerRuns(ctl: Int32Array): boolean {
  const tid = Atomics.load(ctl, READER_TID);
  // /proc/self/task lists the threads of this process only: a thread id reused by another process is not there.
  return tid <= 0 || fs.existsSync(`/proc/self/task/${tid}`);
}


export function tryLockCpu(ctl: Int32Array, i: number): boolean {
  return Atomics.compareExchange(ctl, cpuBase(i) + LOCK, 0, 1) === 0;
}

export function unlockCpu(ctl: Int32Array, i: number): void {
  const at = cpuBase(i) + LOCK;
  Atomics.store(ctl, at, 0);
  Atomics.notify(ctl, at);
}

/** Wakes the reader now (start, resume, exit). */
export function wakeReader(ctl: Int32Array): void {
  Atomics.add(ctl, WAKE, 1);
  Atomics.notify(ctl, WAKE);
}

/** "NAME: N" of per_cpu/cpuN/stats text, or undefined. */
export function statsField(text: string, name: string): number | undefined {
  // The first line ("entries: N") has no newline before it.
  const at = text.startsWith(`${name}: `) ? -1 : text.indexOf(`\n${name}: `);
  if (at < 0 && !text.startsWith(`${name}: `)) return undefined;
  const v = Number.parseInt(text.slice(at + name.length + 3), 10);
  return Number.isSafeInteger(v) ? v : undefined;
}
