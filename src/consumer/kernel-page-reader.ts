// The page reader thread of one kernel channel: moves full pages from each CPU's trace_pipe_raw into the channel's
// staging (page-staging.ts), and tells the channel's consumer, which decodes them on its own thread.
//
// Contract: started by KernelChannelConsumer with a StagingShared as workerData; it reads only while STATE is
// RUNNING, a CPU only under its LOCK and while its FD is open, and never more than the staging has free. Its
// schedule is the channel's read timer made adaptive: an idle channel is read every read-timer period, a busy one
// again after the time its observed rate needs to fill an eighth of the ring (at once when a pass found it
// fuller). Like lttng-consumerd's timer it takes full pages only: reading the page the kernel is still filling
// costs a copy record by record, and its rest comes out later as another partial page. It posts `null` to its
// parent when the consumer has not been told yet (NOTIFIED) of the pages staged, in batches (NOTIFY_FILL), and
// `{ error }` once per kind of failed read. It ends when STATE is EXIT.
// Its staging comes as workerData, or, for a thread started ahead as a spare (takeReaderThread(), so that a
// Node thread's start-up, ~50 ms of CPU, is not paid when tracing starts), as its first message `{ staging }`.

import * as fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { BOOST_ALWAYS, ConsumerBoost, CpuPressure, niceLever, PRESSURE_SHARE, WakeWatch } from './consumer-priority.js';
import { cpuBase, slotOf, CONSUMER_TID, EXIT, FD, HEAD, NOTIFIED, READER_TID, READY, RUNNING, STATE, STATS_FD, statsField, TAIL, tryLockCpu, unlockCpu, WAKE, type StagingShared } from './page-staging.js';
import { ownThreadId } from '../thread-id.js';

/** A pass that found a ring at least this full is followed by another at once; the schedule aims below it. */
const READ_AT = 1 / 8;
/** Below this fraction per period the channel counts as idle: the next pass waits the whole period. */
const IDLE_FILL = 1 / 256;
/**
 * The longest wait of a busy channel: its rate estimate lags when the producer goes from descheduled to full
 * speed (a loaded machine: a pass waited 244 ms on an estimate and found the ring full), and a pass that finds
 * nothing costs two small reads per CPU.
 */
const BUSY_WAIT_MS = 5;
/** iovecs per readv(2) (IOV_MAX is 1024). */
const MAX_IOV = 256;
/**
 * The consumer is told of staged pages once they make this share of a ring (all CPUs together), or when a pass
 * stages nothing more, or a read-timer period after the first of them was staged. Each message wakes the
 * consumer's thread, and at full speed a pass stages an eighth of a ring every 5 ms: told of each, it woke ~250
 * times a second (and each post cost the reader a write(2)). The staging holds STAGED_RINGS rings per CPU, so the pages
 * waiting meanwhile are not the kernel's to drop.
 */
const NOTIFY_FILL = 1 / 2;
/**
 * The consumer counts as at risk (its threads' priority is raised, see consumer-priority.ts) when a pass finds a
 * kernel ring this full (at full speed the rest fills in ~30 ms) or this share of a CPU's staging not decoded yet,
 * besides the CPU contention signals. At full speed on a quiet machine passes find an eighth of a ring and the
 * staging all but empty.
 */
const BEHIND_FILL = 1 / 4;
const BEHIND_STAGED = 1 / 4;

const port = parentPort;
if (!port) throw new Error('kernel-page-reader must run in a worker thread');
// Set once by begin(), before run(): the staging and views of it.
let st: StagingShared;
let ctl: Int32Array;
let cpus: number;
let size: number;
/** Each CPU's slot views, twice over: a read that wraps around the ring takes one slice. */
let views: Buffer[][];
let lens: Int32Array[];
let dropped: Float64Array[];
let bufferBytes: number;
let notifyPages: number;

function begin(staging: StagingShared): void {
  st = staging;
  ctl = new Int32Array(st.control);
  cpus = st.rings.length;
  size = st.pageSize;
  views = st.rings.map((sab) => {
    const one = Array.from({ length: st.slots }, (_, k) => Buffer.from(sab, k * size, size));
    return [...one, ...one];
  });
  lens = st.lens.map((sab) => new Int32Array(sab));
  dropped = st.dropped.map((sab) => new Float64Array(sab));
  bufferBytes = st.bufferPages * size;
  notifyPages = Math.max(1, Math.floor(st.bufferPages * NOTIFY_FILL));
  run();
}
/** performance.now() when pages the consumer has not been told of were first staged (-1: none). */
let pendingSince = -1;
const statsBuf = Buffer.alloc(1024);
const reported = new Set<string>();


function report(err: unknown): void {
  const message = (err as Error).message ?? String(err);
  if (reported.has(message)) return;
  reported.add(message);
  port!.postMessage({ error: message });
}

/** Reads what the CPU's ring holds in full pages into free slots. Returns the ring's fill before the read. */
function readCpu(i: number): number {
  const b = cpuBase(i);
  const fd = ctl[b + FD]!;
  if (fd < 0) return 0;
  const head = ctl[b + HEAD]!;
  const free = st.slots - ((head - Atomics.load(ctl, b + TAIL)) | 0);
  let want = Math.min(free, st.bufferPages + 1);
  let fill = 0;
  let droppedNow = -1;
  const statsFd = ctl[b + STATS_FD]!;
  if (statsFd >= 0) {
    try {
      const text = statsBuf.toString('latin1', 0, fs.readSync(statsFd, statsBuf, 0, statsBuf.length, 0));
      const unread = statsField(text, 'bytes');
      droppedNow = statsField(text, 'dropped events') ?? -1;
      if (unread !== undefined) {
        fill = unread / bufferBytes;
        want = Math.min(want, Math.floor(unread / (size - st.dataOffset)));
      }
    } catch (err) {
      report(err);
    }
  }
  let got = 0;
  while (got < want) {
    const ask = Math.min(want - got, MAX_IOV);
    const at = slotOf(head + got, st.slots);
    let n: number;
    try {
      n = fs.readvSync(fd, views[i]!.slice(at, at + ask));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EINTR') continue;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') report(err);
      break;
    }
    const pages = Math.ceil(n / size);
    for (let k = 0; k < pages; k++) {
      lens[i]![slotOf(at + k, st.slots)] = Math.min(size, n - k * size);
      dropped[i]![slotOf(at + k, st.slots)] = -1;
    }
    got += pages;
    // Short: the kernel had no more whole pages for now.
    if (n < ask * size) break;
  }
  if (got > 0) {
    dropped[i]![slotOf(head + got - 1, st.slots)] = droppedNow;
    Atomics.store(ctl, b + HEAD, (head + got) | 0);
  }
  return fill;
}

/** Whether the last pass staged pages. */
let stagedAny = false;
/** The largest share of a CPU's staging the last pass left waiting for the consumer. */
let stagedShare = 0;

/** One pass over the CPUs; returns the largest fill found (stagedAny: whether pages were staged). */
function pass(now: number): number {
  let fill = 0;
  let staged = false;
  let pending = 0;
  let share = 0;
  for (let i = 0; i < cpus; i++) {
    // The consumer holds the lock while it drains this CPU itself: nothing for us to do there.
    if (!tryLockCpu(ctl, i)) continue;
    try {
      const head = ctl[cpuBase(i) + HEAD];
      fill = Math.max(fill, readCpu(i));
      if (ctl[cpuBase(i) + HEAD] !== head) staged = true;
    } finally {
      unlockCpu(ctl, i);
    }
    const waiting = (ctl[cpuBase(i) + HEAD]! - Atomics.load(ctl, cpuBase(i) + TAIL)) | 0;
    pending += waiting;
    share = Math.max(share, waiting / st.slots);
  }
  stagedAny = staged;
  stagedShare = share;
  // NOTIFIED set: the consumer was told and has not decoded everything yet (it looks again before it clears it).
  if (pending === 0 || Atomics.load(ctl, NOTIFIED) !== 0) {
    pendingSince = -1;
    return fill;
  }
  if (pendingSince < 0) pendingSince = now;
  if ((pending >= notifyPages || !staged || now - pendingSince >= st.periodMs) && Atomics.exchange(ctl, NOTIFIED, 1) === 0) {
    pendingSince = -1;
    port!.postMessage(null);
  }
  return fill;
}

function run(): void {
  const me = ownThreadId();
  // Before READY, so before any lock is taken: the consumer's lockCpu looks at it to see this thread gone.
  Atomics.store(ctl, READER_TID, me);
  const boost = new ConsumerBoost(niceLever(() => [me, Atomics.load(ctl, CONSUMER_TID)]));
  const pressure = new CpuPressure();
  try {
    loop(boost, pressure);
  } finally {
    boost.release();
    pressure.close();
  }
}

function loop(boost: ConsumerBoost, pressure: CpuPressure): void {
  Atomics.store(ctl, READY, 1);
  Atomics.notify(ctl, READY);
  let last = performance.now();
  let rate = 0;
  let wasRunning = false;
  /** The wait after a pass that found a ring full but took nothing (ms; doubles up to BUSY_WAIT_MS). */
  let fullWait = 1;
  /** The late wake-up signal: whether the last timed wait ended late. */
  const wakes = new WakeWatch();
  for (;;) {
    const state = Atomics.load(ctl, STATE);
    if (state === EXIT) return;
    const seq = Atomics.load(ctl, WAKE);
    if (state !== RUNNING) {
      wasRunning = false;
      pendingSince = -1;
      wakes.reset();
      // Not tracing: nothing to fall behind on.
      boost.release();
      Atomics.wait(ctl, WAKE, seq);
      continue;
    }
    const now = performance.now();
    if (!wasRunning) {
      // Tracing is about to start: assume a busy channel (a pass after a sixteenth of the period) until passes
      // measure the real rate; an idle channel is back to the full period within a few passes.
      wasRunning = true;
      last = now;
      // The machine's load as tracing starts: a loaded one gets the consumer's priority from the first pass.
      boost.update(BOOST_ALWAYS || pressure.share(now) >= PRESSURE_SHARE, now);
      rate = Math.max(rate, (16 * READ_AT) / st.periodMs);
      const wait = Math.max(1, Math.floor(READ_AT / rate));
      wakes.wait(wait);
      Atomics.wait(ctl, WAKE, seq, wait);
      continue;
    }
    const elapsed = Math.max(0.05, now - last);
    last = now;
    const late = wakes.late(now);
    const fill = pass(now);
    boost.update(BOOST_ALWAYS || fill >= BEHIND_FILL || stagedShare >= BEHIND_STAGED || late || pressure.share(now) >= PRESSURE_SHARE, now);
    // The latest pass's rate, or the previous estimate halved every period when that is higher: one quiet pass
    // (the producer was descheduled meanwhile) must not send a busy channel back to the full period.
    rate = Math.max(fill / elapsed, rate * 0.5 ** (elapsed / st.periodMs));
    let next = st.periodMs;
    // Full but nothing taken (the staging is full, or the consumer is draining that CPU itself): not at once,
    // or this thread would spin until the consumer makes room; backing off to BUSY_WAIT_MS, as a staging full
    // behind a slow disk can last seconds (a pass reads every CPU's stats file), and from an eighth of the ring
    // to all of it takes the kernel 35 ms at full speed.
    if (fill >= READ_AT && stagedAny) {
      next = 0;
      fullWait = 1;
    } else if (fill >= READ_AT) {
      next = fullWait;
      fullWait = Math.min(BUSY_WAIT_MS, 2 * fullWait);
    } else {
      fullWait = 1;
      if (rate * st.periodMs > IDLE_FILL) next = Math.min(st.periodMs, BUSY_WAIT_MS, Math.max(1, Math.floor(READ_AT / rate)));
    }
    // From the pass's end (WakeWatch): a long pass is not a late wake-up.
    wakes.wait(next);
    if (next > 0) Atomics.wait(ctl, WAKE, seq, next);
  }
}

const given = workerData as StagingShared | undefined;
if (given !== undefined && given !== null) begin(given);
else port.once('message', (m: { staging: StagingShared }) => begin(m.staging));
