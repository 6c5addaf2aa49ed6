// Kernel consumer of one channel (one tracefs instance): per CPU, drains per_cpu/cpuN/trace_pipe_raw (non-blocking
// readv(2) calls, each taking many whole sub-buffers), decodes the records with the page decoder, transcodes them
// to LTTng records with the generated per-class transcoders and writes them to that CPU's CTF stream.
//
// Runs inside the kernel consumer worker (kernel-consumer-worker.ts), one instance per channel for the
// session's life (its loss counters follow the kernel's, which survive stop/start).
// Contract: `start()` opens the per-CPU pipes and, with a read timer, hands them to the channel's page reader
// thread (kernel-page-reader.ts: full pages only, on the read timer made adaptive) which stages them
// (page-staging.ts) and tells this consumer, which decodes them on its own thread; it arms the switch and live
// timers when set. The page the kernel is filling is read by the switch timer (when set), by drain() (rule
// changes, statedumps) and at stop. `close()` ends the reader thread.
// `drain()` reads, synchronously, at most what each CPU buffer holds; `stop()` must be called after tracing
// is off in the instance: it disarms the timers, drains until every pipe reports EAGAIN (nothing recorded is
// lost) and closes the pipes (the streams stay open: their owner closes them). Lost records: in discard mode
// the kernel counts them in per_cpu/cpuN/stats "dropped events", added to the stream's events_discarded; in
// overwrite mode pages carry a missed-events flag, turned into a packet_seq_num gap (lost packets).
// `handlers` is indexed by ftrace event id (an eventIdTable) and may grow while running (enable-event after start);
// an entry, once set, is not replaced (its transcoders are bound per CPU on first use).

import * as fs from 'node:fs';
import * as tracefs from '../ftrace/tracefs.js';
import { RecordWalkStop, type PageDecoder, type PageInfo, type RecordWalk } from '../ftrace/page-decoder.js';
import type { FilterContext, Predicate } from '../filter/compile-filter.js';
import type { StreamWriter } from '../ctf/writer/stream-writer.js';
import type { CtfTraceWriter } from '../ctf/writer/trace-writer.js';
import type { EventFormat } from '../ftrace/event-format.js';
import { converterHelpers, fieldReader, shapeEvent, type Converter, type EventKind, type FieldReader, type FieldSpec } from '../ftrace/lttng-shaping.js';
import type { Transcoder, TranscoderFactory } from '../ctf/writer/event-encoder.js';
import type { ThreadTable } from './thread-table.js';
import { monotonicNow } from '../ftrace/trace-clock.js';
import type { Worker } from 'node:worker_threads';
import { startSiblingWorker } from '../start-worker.js';
import { cpuBase, createStaging, slotOf, CONSUMER_TID, EXIT, FD, HEAD, LOCK, lockCpu, NOTIFIED, PAUSED, READY, RUNNING, STATE, STATS_FD, statsField, TAIL, unlockCpu, wakeReader, type StagingShared } from './page-staging.js';
import { ownThreadId } from '../thread-id.js';

const EMPTY_ARRAY: readonly unknown[] = Object.freeze([]);

/** ftrace event ids are 16-bit (common_type). */
const FTRACE_IDS = 0x10000;

/**
 * A table indexed by ftrace event id. Dense on purpose: ids run into the thousands, and an array filled
 * sparsely from empty falls back to dictionary elements, a hash lookup per record on the hot path.
 */
export function eventIdTable<T>(): Array<T | undefined> {
  return new Array<T | undefined>(FTRACE_IDS).fill(undefined);
}

export interface KernelEventHandler {
  /** Writer event class id. */
  eventId: number;
  convert: Converter;
  /** Reused payload array (the writer encodes synchronously). */
  out: unknown[];
  /** Consumer-side filter (when tracefs cannot express it exactly). */
  predicate?: Predicate;
  /**
   * Thread-table update (sched_switch, exec, fork) from the ftrace record at `off` of `buf`, whose thread is
   * `tid`: it reads the few fields it needs itself, so the record can still be transcoded.
   */
  hook?: (dv: DataView, buf: Buffer, off: number, tid: number) => void;
  /**
   * The fast path: record bytes straight into the CTF record, no JS values in between. Used when there is no
   * predicate (a filter needs the converted payload).
   */
  transcoder?: TranscoderFactory;
  enabled: boolean;
}

/**
 * The handler of one tracefs event class in a channel: declares the class (its LTTng shape) in `writer` and
 * returns the handler the consumer dispatches its records to, with its transcoder, a converter compiled at its
 * first record (`--syscall -a` declares hundreds of classes, few of which record) and the hook `hookFor`
 * makes from readers of the fields it names.
 */
export function kernelEventHandler(
  writer: CtfTraceWriter,
  streamClassId: number,
  format: EventFormat,
  kind: EventKind,
  name: string,
  hookFor?: (read: (field: string) => FieldReader | undefined) => KernelEventHandler['hook'],
): { handler: KernelEventHandler; fields: FieldSpec[] } {
  const shaped = shapeEvent(format, kind, name, false);
  const eventId = writer.addEventClass({ name, streamClassId, fields: shaped.fields });
  const hook = hookFor?.((field) => fieldReader(format, kind, field));
  const handler: KernelEventHandler = {
    eventId,
    convert: (dv, buf, off, len, out) => {
      handler.convert = shapeEvent(format, kind, name).convert;
      handler.convert(dv, buf, off, len, out);
    },
    out: new Array(shaped.fields.length),
    hook,
    transcoder: writer.transcoderFactory(streamClassId, eventId, shaped.sources, converterHelpers),
    enabled: true,
  };
  return { handler, fields: shaped.fields };
}

/** Fills a reused array with the channel's context values for one record. */
export type ContextFiller = (tid: number, cpu: number, out: unknown[]) => void;

export interface ChannelConsumerOptions {
  instance: string;
  cpus: readonly number[];
  /** ftrace sub-buffer (page) size in bytes: every read returns one page. */
  pageSize: number;
  /** ftrace pages per CPU buffer (bounds one timer-driven drain). */
  bufferPages: number;
  decoder: PageDecoder;
  handlers: Array<KernelEventHandler | undefined>;
  streams: ReadonlyMap<number, StreamWriter>;
  overwrite: boolean;
  readTimerUs: number;
  switchTimerUs: number;
  /** Live sessions: each period, what the kernel holds is drained and every stream's packet closed, an empty one where nothing was recorded (viewers see the stream's time advance), as LTTng's live timer does. */
  liveTimerUs?: number;
  commonPidOffset: number;
  threads: ThreadTable;
  contextFiller?: ContextFiller;
  contextCount: number;
  /** Process-attribute trackers: undefined = everything is tracked. */
  tracked?: (tid: number) => boolean;
  /** Called after each timer-driven drain (the worker posts statistics from here). */
  afterDrain?: () => void;
  /**
   * Opens the page source of one CPU (default: the instance's per_cpu/cpuN/trace_pipe_raw, non-blocking). The
   * replay bench (bench/kernel-consume.ts) passes files of captured pages: EOF ends a drain as EAGAIN does.
   */
  openPages?: (cpu: number) => number;
  /**
   * Starts the channel's page reader thread on `staging` (default: kernel-page-reader.ts beside this module).
   * Tests pass a thread that fails to load, throws at start, or that they kill mid-run.
   */
  startReaderThread?: (staging: StagingShared) => Worker;
}

export interface CpuReaderStats {
  cpu: number;
  events: number;
  /** Of `events`, those the page walk wrote itself (classes inlined into it: fusedWalk). */
  inlinedEvents: number;
  pages: number;
  /** read(2)/readv(2) calls that returned pages. */
  reads: number;
  discarded: number;
  lostPackets: number;
  lostEvents: number;
  malformedPages: number;
}

interface CpuReader {
  cpu: number;
  fd: number;
  /**
   * The pages this CPU's records are decoded from: with a page reader thread its staging ring (the consumer
   * decodes the staged pages where the reader put them, and reads its own drains into the ring's first slots,
   * free then: see drainCpu), else a buffer of one readv(2)'s pages. `pages` are page-sized views of `buf`, one
   * after the other; a readv(2) takes at most `perRead` of them.
   */
  buf: Buffer;
  pages: Buffer[];
  perRead: number;
  dv: DataView;
  stream: StreamWriter;
  onRecord: (off: number, len: number) => void;
  /** The page walk with the fused classes' records inlined (see fusedWalk); the rest go to onRecord. */
  walk: RecordWalk<unknown> | undefined;
  /** ftrace ids of the classes inlined into `walk` (none: decodePage's walk, each record to onRecord). */
  fused: number[];
  /** Since `walk` was made: records of each ftrace id that onRecord transcoded and could be inlined, and their sum. */
  generalHits: Int32Array;
  generalIds: number[];
  generalRecords: number;
  stats: CpuReaderStats;
  droppedSeen: number;
  /** The last record's time on the last staged page decoded (drainAll: staged pages past `until` end it). */
  stagedTs: number;
  /**
   * performance.now() of the last read of per_cpu/cpuN/stats; -Infinity before the first, a double from the start
   * (from 0, a small integer, the first time stored would change the readers' layout: see addDropped).
   */
  droppedCheckedAt: number;
  /** per_cpu/cpuN/stats, open while the pipes are (-1: none, e.g. replayed pages). */
  statsFd: number;
  /** Its index in the staging (page-staging.ts) and views of its slots' lengths and dropped counters. */
  slot: number;
  stagedLens: Int32Array | undefined;
  stagedDropped: Float64Array | undefined;
}

/**
 * Bytes of pages read per system call: trace_pipe_raw hands out one page per read(2), but readv(2) goes on to
 * the next buffer while each read fills its own, so one call takes many pages (on this VM a system call costs
 * microseconds, and the kernel keeps 4 KiB sub-buffers: 100k calls for a 12 M-event run, one each page).
 */
const READ_BATCH_BYTES = 128 * 1024;

/**
 * Which classes a CPU's page walk writes itself (fusedWalk): once FUSE_FIRST records took the general path, the
 * classes with at least 1/FUSE_SHARE of them, MAX_FUSED at most; later, a new walk only when FUSE_AGAIN more
 * records took it (the workload changed). The walk is one generated function with a case per class, and each
 * fresh one costs V8 several optimizations (a case first reached after one deoptimizes it): a 48-case walk took
 * about a second to optimize, and a new walk per class that came in (12 per CPU) cost more than it saved. The few
 * classes that make a busy CPU's records (a syscall loop's entries and exits) are worth it, the long tail is not.
 */
const MAX_FUSED = 8;
const FUSE_FIRST = 16384;
const FUSE_AGAIN = 1 << 20;
const FUSE_SHARE = 32;

/** Waited on (never notified) for a short pause in a synchronous stop. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));
/** How long close() waits for the reader thread to end (it ends within one wake-up). */
const READER_EXIT_MS = 2000;

/** Atomics.waitAsync (Node 16+; not in this TypeScript lib). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t?: number): { async: false; value: string } | { async: true; value: Promise<string> } }).waitAsync.bind(Atomics);

/**
 * How long a drain that must take everything (drainAll: rotation, snapshot, clear) waits for the output to have
 * room for its next packet before it gives up (a disk that takes nothing).
 */
export const ROOM_WAIT_MS = 30_000;

/** How long start() waits for the page reader thread to run. */
const READER_START_MS = 30_000;
/** The shortest time between two statistics messages to the daemon. */
const STATS_INTERVAL_MS = 100;

/** A page reader thread started ahead, waiting for its staging (see prepareReaderThread). */
let spareReader: { worker: Worker; ended: boolean } | undefined;

/**
 * Starts a page reader thread ahead of the channel that will take it. A Node thread's start-up (its own
 * isolate, Node's bootstrap and the module: 40-60 ms of CPU here, up to a second on a loaded machine) is then
 * paid while the session is set up, as the consumer thread's own is, and not when tracing starts, beside the
 * traced workload (`ltt start` took 190 ms, 50 ms of it this thread). At most one waits; it does not keep its
 * parent alive, and dropSpareReaderThread() ends it.
 */
export function prepareReaderThread(): void {
  if (spareReader !== undefined) return;
  const spare = { worker: startSiblingWorker(import.meta.url, 'kernel-page-reader'), ended: false };
  // A spare that failed to load is not handed out: the channel starts its own and hears of the failure itself.
  spare.worker.once('exit', () => (spare.ended = true));
  spare.worker.on('error', () => undefined);
  spare.worker.unref();
  spareReader = spare;
}

/** Ends the spare page reader thread, if one waits (the consumer thread is closing). */
export async function dropSpareReaderThread(): Promise<void> {
  const spare = spareReader;
  spareReader = undefined;
  if (spare !== undefined && !spare.ended) await spare.worker.terminate();
}

/** The page reader thread for `staging`: the spare, handed its staging, else a new one. */
function takeReaderThread(staging: StagingShared): Worker {
  const spare = spareReader;
  spareReader = undefined;
  if (spare !== undefined && !spare.ended) {
    spare.worker.postMessage({ staging });
    return spare.worker;
  }
  return startSiblingWorker(import.meta.url, 'kernel-page-reader', { workerData: staging });
}

export class KernelChannelConsumer {
  /** One reader per CPU for the consumer's life: its counters survive stop/start (the kernel's do too). */
  private readonly readers: CpuReader[] = [];
  private running = false;
  private switchTimer: NodeJS.Timeout | undefined;
  private liveTimer: NodeJS.Timeout | undefined;
  /** The read-timer period in ms: the longest wait between two timer-driven drains. */
  private readonly periodMs: number;
  private lastStatsAt = 0;
  /** Messages of the page reader thread that pages were staged: each wakes this thread (see NOTIFY_FILL). */
  readerWakeups = 0;
  /** With a read timer: the pages the reader thread stages, its control words and the thread. */
  private staging: StagingShared | undefined;
  private ctl: Int32Array | undefined;
  private reader: Worker | undefined;
  /** A decode of staged pages waits for the output to have room (decodeStaged). */
  private waitingForRoom = false;
  /** drainAll() calls under way: the reader's notifications leave the staged pages to them (drainStaged). */
  private drainingAll = 0;
  /** Counts stop()s: a whenRoom() callback registered before the last stop() is stale (see stop()). */
  private runs = 0;
  /** Why the reader thread ended unasked (its error's first line, else its exit code), once it did. */
  private readerEnd: string | undefined;
  /** Called once the reader thread ended unasked (start() waiting for it to run). */
  private readerEndWaiters: Array<() => void> = [];

  constructor(private readonly opts: ChannelConsumerOptions) {
    this.periodMs = Math.max(1, Math.round(opts.readTimerUs / 1000));
    const cpus = opts.cpus.filter((cpu) => opts.streams.has(cpu));
    const staging = opts.readTimerUs > 0 ? createStaging(cpus.length, opts.pageSize, opts.decoder.dataOffset, opts.bufferPages, this.periodMs) : undefined;
    cpus.forEach((cpu, i) => this.readers.push(this.makeReader(cpu, -1, opts.streams.get(cpu)!, staging, i)));
    // Started now, so that it runs by the time tracing starts: its start-up took 0.1-1 s on a loaded machine,
    // time in which the first ring filled and dropped.
    if (staging !== undefined) this.makeReaderThread(staging);
  }

  /**
   * Opens the per-CPU pipes and arms the timers. On failure nothing stays open. Asynchronous while the page
   * reader thread is starting: a thread that fails to load or throws at start fails it at once, with its error.
   */
  async start(): Promise<void> {
    if (this.running) return;
    const o = this.opts;
    try {
      for (const r of this.readers) {
        r.fd = o.openPages ? o.openPages(r.cpu) : tracefs.openPipeRaw(o.instance, r.cpu);
        r.statsFd = o.openPages ? -1 : openStats(o.instance, r.cpu);
      }
      if (o.readTimerUs > 0) await this.startReader();
    } catch (err) {
      this.closePipes();
      throw err;
    }
    this.running = true;
    if (o.switchTimerUs > 0) {
      this.switchTimer = setInterval(() => {
        if (!this.outputHasRoom()) return;
        this.safely(() => this.drain());
        for (const r of this.readers) r.stream.flushPacket();
      }, Math.max(1, Math.round(o.switchTimerUs / 1000)));
      this.switchTimer.unref();
    }
    if (o.liveTimerUs) {
      this.liveTimer = setInterval(() => {
        if (!this.outputHasRoom()) return;
        const now = monotonicNow();
        this.safely(() => this.drain());
        for (const r of this.readers) r.stream.flushPacket(now);
      }, Math.max(1, Math.round(o.liveTimerUs / 1000)));
      this.liveTimer.unref();
    }
  }

  /**
   * Whether every stream's output takes a packet now. The switch and live timers skip their tick when not: the
   * packets they would close could not be written (counted unwritten), while what they leave stays staged or in
   * the kernel's ring, which discards and counts (see decodeStaged); the next tick with room takes it.
   */
  private outputHasRoom(): boolean {
    return this.readers.every((r) => r.stream.hasRoomForPacket());
  }

  private closePipes(): void {
    for (const r of this.readers) {
      for (const fd of [r.fd, r.statsFd]) {
        if (fd < 0) continue;
        try {
          fs.closeSync(fd);
        } catch {
          // Already closed: nothing left to release.
        }
      }
      r.fd = -1;
      r.statsFd = -1;
    }
  }

  /** The staging and its reader thread (waiting, until start() hands it the pipes). */
  private makeReaderThread(staging: StagingShared): void {
    const ctl = new Int32Array(staging.control);
    // This thread decodes what the reader stages: the reader raises its priority too when it falls behind.
    Atomics.store(ctl, CONSUMER_TID, ownThreadId());
    const o = this.opts;
    const reader = o.startReaderThread ? o.startReaderThread(staging) : takeReaderThread(staging);
    reader.on('message', (m: { error: string } | null) => {
      if (m === null) {
        this.readerWakeups++;
        this.drainStagedSafely();
      }
      else process.stderr.write(`ltt kernel consumer: ${m.error}\n`);
    });
    // A module that fails to load or a throw at start comes here, then to 'exit'.
    let error: string | undefined;
    reader.on('error', (err) => {
      error = (err?.message ?? String(err)).split('\n')[0];
      process.stderr.write(`ltt kernel consumer: page reader: ${error}\n`);
    });
    reader.on('exit', (code) => {
      // Asked (close()), or the thread died: then its CPU locks may be held for good; what it staged is decoded
      // and, from now on, the rings are read by this thread's own drains only (stop, switch timer), and start()
      // fails with one line rather than recording into rings nobody reads.
      if (this.ctl !== ctl || Atomics.load(ctl, STATE) === EXIT) return;
      this.readerEnd = error ?? `exit code ${code}`;
      for (const w of this.readerEndWaiters.splice(0)) w();
      process.stderr.write(`ltt kernel consumer: the page reader thread ended (exit code ${code}); this channel's rings are now read only when it stops\n`);
      for (const r of this.readers) Atomics.store(ctl, cpuBase(r.slot) + LOCK, 0);
      // Every CPU's pages, whatever another's throw: a page that throws counts as taken, so each retry goes on
      // after it, and none is left for the drains that read into the ring's first slots once ctl is gone.
      for (const r of this.readers) {
        for (;;) {
          try {
            this.decodeStaged(r);
            break;
          } catch (err) {
            process.stderr.write(`ltt kernel consumer: ${(err as Error).message}\n`);
          }
        }
      }
      this.ctl = undefined;
    });
    // The consumer's own thread stays alive for its requests; the reader must not keep it alive.
    reader.unref();
    this.staging = staging;
    this.ctl = ctl;
    this.reader = reader;
  }

  /** Hands the open pipes to the reader thread, which reads them until stop(). */
  private async startReader(): Promise<void> {
    // Tracing starts when this returns: the reader must be there to read. It is waited for here without blocking
    // this thread, so that a thread that ended (failed to load, threw) is heard of at once, with its error.
    if (this.ctl !== undefined && Atomics.load(this.ctl, READY) === 0) {
      const ready = waitAsync(this.ctl, READY, 0);
      let ended: (() => void) | undefined;
      // The timer also keeps this thread's event loop alive meanwhile (the reader thread is unref'd).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        ready.value,
        new Promise<void>((resolve) => this.readerEndWaiters.push((ended = resolve))),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, READER_START_MS))),
      ]);
      clearTimeout(timer);
      this.readerEndWaiters = this.readerEndWaiters.filter((w) => w !== ended);
    }
    const ctl = this.ctl;
    if (ctl === undefined) throw new Error(`kernel consumer: the page reader thread has ended (${this.readerEnd ?? 'closed'})`);
    if (Atomics.load(ctl, READY) === 0) throw new Error(`kernel consumer: the page reader thread did not start within ${READER_START_MS / 1000} s`);
    for (const r of this.readers) {
      lockCpu(ctl, r.slot);
      ctl[cpuBase(r.slot) + FD] = r.fd;
      ctl[cpuBase(r.slot) + STATS_FD] = r.statsFd;
      unlockCpu(ctl, r.slot);
    }
    Atomics.store(ctl, STATE, RUNNING);
    wakeReader(ctl);
  }

  /** Decodes what the reader staged, until it has staged nothing more (then it tells us again). */
  private drainStaged(): void {
    const ctl = this.ctl;
    if (ctl === undefined) return;
    // A drainAll() decodes them, between its waits for room. Decoded here too, they took that room first (called
    // from the same whenRoom() round, this runs before drainAll's await resumes), and while the producer outpaced
    // the disk drainAll never had room again: a rotation lasted as long as the load. NOTIFIED stays set (the
    // reader stages on without messages); drainAll() calls this once it is done.
    if (this.drainingAll > 0) return;
    this.opts.threads.tick();
    for (;;) {
      for (const r of this.readers) this.decodeStaged(r, true);
      // Waiting for the output (decodeStaged): NOTIFIED stays set, so the reader stages on without messages
      // until whenRoom() calls this again.
      if (this.waitingForRoom) return;
      Atomics.store(ctl, NOTIFIED, 0);
      // Pages staged after the last look but before NOTIFIED was cleared came without a message.
      if (!this.readers.some((r) => Atomics.load(ctl, cpuBase(r.slot) + HEAD) !== Atomics.load(ctl, cpuBase(r.slot) + TAIL))) return;
      Atomics.store(ctl, NOTIFIED, 1);
    }
  }

  private drainStagedSafely(): void {
    this.safely(() => this.drainStaged());
    // A drain that threw left NOTIFIED set: cleared, or the reader would never tell of its pages again.
    if (this.ctl !== undefined && !this.waitingForRoom && this.drainingAll === 0) Atomics.store(this.ctl, NOTIFIED, 0);
  }

  /**
   * Decodes the pages staged for one CPU, in order, where they are (the CPU's page buffer is its staging ring),
   * giving their slots back to the reader a readv(2)'s worth at a time.
   * `yieldToDisk` (the reader's notifications): when the output has no room for a packet (a slow disk behind
   * the file sink's staging), the pages stay staged and, once staging is full, in the kernel's ring, which
   * discards and counts; the decoding goes on when the output has room (`waitHere`: this consumer waits for it;
   * else the caller does: drainAll). Rotation, snapshot and clear wait for room too (drainAll); stop and the
   * drains of rule changes and statedumps decode on, and a packet that finds no room is counted unwritten; the
   * switch and live timers skip their tick while there is no room (outputHasRoom).
   */
  private decodeStaged(r: CpuReader, yieldToDisk = false, waitHere = true): void {
    const ctl = this.ctl!;
    const slots = this.staging!.slots;
    const size = this.opts.pageSize;
    const b = cpuBase(r.slot);
    let tail = Atomics.load(ctl, b + TAIL);
    for (;;) {
      const ready = (Atomics.load(ctl, b + HEAD) - tail) | 0;
      if (ready <= 0) return;
      const at = slotOf(tail, slots);
      const k = Math.min(ready, r.perRead, slots - at);
      // Asked page by page, not once per batch: a batch (128 KiB) fills several packets of a small-sub-buffer
      // channel, and each must find room.
      // Pages taken: one that throws counts as taken too, so that neither it nor those before it are decoded again.
      let taken = 0;
      try {
        for (let j = 0; j < k; j++) {
          if (yieldToDisk && !r.stream.hasRoomForPacket()) break;
          taken = j + 1;
          const info = this.decodeOne(r, (at + j) * size, r.stagedLens![at + j]!);
          if (info.dataLength > 0) r.stagedTs = info.lastTimestamp;
          // A Float64Array element is read as a heap number even when whole, and a heap number stored in the
          // small-integer counters (droppedSeen, the stream's and the reader's discarded) changes those objects'
          // layout, which throws away the optimized code that uses them, the page walk included: `| 0` makes a
          // count below 2^30 a small integer again.
          const stagedDropped = r.stagedDropped![at + j]!;
          const dropped = stagedDropped < 0x40000000 ? stagedDropped | 0 : stagedDropped;
          if (dropped > r.droppedSeen && !this.opts.overwrite) this.addDropped(r, dropped);
        }
      } finally {
        tail = (tail + taken) | 0;
        Atomics.store(ctl, b + TAIL, tail);
      }
      if (taken < k) {
        // drainAll() waits itself (!waitHere).
        if (waitHere) this.waitForRoom(r);
        return;
      }
      if (r.generalRecords >= (r.walk === undefined ? FUSE_FIRST : FUSE_AGAIN)) this.fuseMore(r);
    }
  }

  /** Decodes the staged pages again once `r`'s output has room (one callback at a time, for the channel). */
  private waitForRoom(r: CpuReader): void {
    if (this.waitingForRoom) return;
    this.waitingForRoom = true;
    const run = this.runs;
    r.stream.whenRoom(() => {
      // Registered before a stop(): that stop took everything staged and cleared the wait.
      if (run !== this.runs) return;
      this.waitingForRoom = false;
      if (this.running) this.drainStagedSafely();
    });
  }

  /**
   * Ends the reader thread (the consumer's last act); resolves once it has exited, READER_EXIT_MS at most. The
   * caller may terminate this thread next, which kills the reader with it: a reader killed before its own end
   * would leave the consumer's priority raised (the daemon's autogroup, for good) and its descriptors open.
   */
  close(): Promise<void> {
    this.stop();
    const reader = this.reader;
    if (this.ctl === undefined || reader === undefined) return Promise.resolve();
    const exited = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, READER_EXIT_MS);
      timer.unref();
      reader.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    Atomics.store(this.ctl, STATE, EXIT);
    wakeReader(this.ctl);
    this.ctl = undefined;
    this.reader = undefined;
    return exited;
  }

  private statsMaybe(): void {
    // Statistics go to the daemon at most every 100 ms: a busy channel drains far more often, and each message
    // wakes the daemon's main thread (a 10 ms read timer posting each period cost it 0.6 s in a bench run).
    const now = performance.now();
    if (now - this.lastStatsAt >= STATS_INTERVAL_MS) {
      this.lastStatsAt = now;
      this.opts.afterDrain?.();
    }
  }

  /** A drain for a timer or the reader's message: they have nobody to throw to, so stderr (the daemon's log). */
  private safely(drain: () => void): void {
    try {
      drain();
      this.statsMaybe();
    } catch (err) {
      process.stderr.write(`ltt kernel consumer: ${(err as Error).message}\n`);
    }
  }

  /** The reader of one CPU; `staging`: the channel's, where this CPU is number `slot`. */
  private makeReader(cpu: number, fd: number, stream: StreamWriter, staging: StagingShared | undefined, slot: number): CpuReader {
    const o = this.opts;
    const perRead = Math.max(1, Math.floor(READ_BATCH_BYTES / o.pageSize));
    const buf = staging !== undefined ? Buffer.from(staging.rings[slot]!) : Buffer.allocUnsafe(perRead * o.pageSize);
    const pages = Array.from({ length: buf.length / o.pageSize }, (_, i) => buf.subarray(i * o.pageSize, (i + 1) * o.pageSize));
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const stats: CpuReaderStats = { cpu, events: 0, inlinedEvents: 0, pages: 0, reads: 0, discarded: 0, lostPackets: 0, lostEvents: 0, malformedPages: 0 };
    const handlers = o.handlers;
    const pidOff = o.commonPidOffset;
    const threads = o.threads;
    const ctxOut: unknown[] = new Array(o.contextCount);
    const filler = o.contextFiller;
    const tracked = o.tracked;
    let curTid = 0;
    const filterCtx: FilterContext = {
      get(name: string) {
        switch (name) {
          case 'cpu_id': return cpu;
          case 'tid':
          case 'vtid': return curTid;
          case 'pid':
          case 'vpid': return threads.get(curTid).pid;
          case 'ppid':
          case 'vppid': return threads.get(curTid).ppid;
          case 'procname': return threads.get(curTid).comm;
          case 'prio': return threads.get(curTid).prio;
          case 'nice': return threads.get(curTid).nice;
          default: return undefined;
        }
      },
    };
    // This CPU's transcoders, bound to its page buffer and stream, by ftrace event id.
    const txs = eventIdTable<Transcoder>();
    // Classes seen on the general path that the page walk could write itself (see fusedWalk).
    const generalHits = new Int32Array(FTRACE_IDS);
    // The record's timestamp, set by the decoder (a typed array: see PageDecoder.timestamp).
    const now = o.decoder.timestamp;
    const onRecord = (off: number, len: number): void => {
      const id = dv.getUint16(off, true);
      const h = handlers[id];
      if (h === undefined || !h.enabled) return;
      const tid = dv.getInt32(off + pidOff, true);
      if (tracked !== undefined && !tracked(tid)) return;
      if (h.hook !== undefined) h.hook(dv, buf, off, tid);
      if (h.transcoder !== undefined && h.predicate === undefined) {
        const tx = txs[id] ?? (txs[id] = stream.bindTranscoder(h.transcoder, buf, dv));
        if (h.hook === undefined && filler === undefined) {
          if (generalHits[id]!++ === 0) reader.generalIds.push(id);
          reader.generalRecords++;
        }
        if (filler !== undefined) {
          filler(tid, cpu, ctxOut);
          stream.transcode(tx, now, off, len, ctxOut);
        } else {
          stream.transcode(tx, now, off, len);
        }
        stats.events++;
        return;
      }
      viaValues(h, tid, off, len);
    };
    // Records a filter must see as JS values: apart, so the common path above stays small enough for V8 to
    // inline into the page decoder's loop.
    const viaValues = (h: KernelEventHandler, tid: number, off: number, len: number): void => {
      const ts = now[0]!;
      const out = h.out;
      h.convert(dv, buf, off, len, out);
      if (h.predicate !== undefined) {
        curTid = tid;
        if (!h.predicate(out, filterCtx)) return;
      }
      if (filler !== undefined) {
        filler(tid, cpu, ctxOut);
        stream.write(h.eventId, ts, out, ctxOut);
      } else {
        stream.write(h.eventId, ts, out);
      }
      stats.events++;
    };
    const reader: CpuReader = {
      cpu, fd, buf, pages, perRead, dv, stream, onRecord, walk: undefined, fused: [], generalHits, generalIds: [], generalRecords: 0, stats, droppedSeen: 0, stagedTs: -Infinity, droppedCheckedAt: -Infinity, statsFd: -1,
      slot, stagedLens: staging && new Int32Array(staging.lens[slot]!), stagedDropped: staging && new Float64Array(staging.dropped[slot]!),
    };
    return reader;
  }

  /**
   * The page walk of one CPU with the records of classes `ids` (ftrace ids) written in place: decoding, event
   * header and the transcoder's body in one generated loop, no call per record (the general path, onRecord,
   * costs two calls through the stream writer and a megamorphic one into the class's transcoder). A class is
   * inlined once its records have taken the general path (fusable: a transcoder with a fixed-size body, no
   * filter, hook or context); its case still checks, per record, what could send it back there (rule changes,
   * a filter added, its id given another class since (T: the live handler table), no open packet or no room, a clock delta its header cannot hold), and writes the same bytes
   * as transcode() (test/consumer/transcoder.test.ts compares them).
   */
  private fusedWalk(r: CpuReader, ids: readonly number[]): RecordWalk<unknown> {
    const o = this.opts;
    const cases: string[] = [];
    const handlers: KernelEventHandler[] = [];
    const helpers: unknown[] = [];
    const fused: number[] = [];
    if (r.stream.timestampsPlain) {
      for (const id of [...ids].sort((a, b) => a - b)) {
        const h = o.handlers[id];
        const tx = h?.transcoder;
        const inline = tx?.inline();
        if (h === undefined || tx === undefined || inline === undefined) continue;
        const i = handlers.length;
        let header: string;
        if (tx.compact) {
          if (tx.id >= 31) continue;
          header = `if (off < 0 || !(ts >= C[0]) || ts - C[0] >= 134217728 || off + ${4 + inline.size} > pend) break;
dv.setUint32(off, (${tx.id} | ((ts & 0x7ffffff) << 5)) >>> 0, true); off += 4;`;
        } else {
          if (tx.id >= 65535) continue;
          header = `if (off < 0 || !(ts >= C[0]) || ts - C[0] >= 4294967296 || off + ${6 + inline.size} > pend) break;
dv.setUint16(off, ${tx.id}, true); dv.setUint32(off + 2, ts >>> 0, true); off += 6;`;
        }
        handlers.push(h);
        helpers.push(inline.helpers);
        fused.push(id);
        cases.push(`case ${id}: {
const hh = K[${i}];
if (hh !== T[${id}] || !hh.enabled || hh.predicate !== undefined || hh.hook !== undefined) break;
${header}
{ const h = H[${i}];
${inline.code}
}
C[0] = ts; n++;
break rec_;
}`);
      }
    }
    // Cases in id order: the same classes give the same source, hence one compiled walk (PageDecoder.compileWalk).
    r.fused = fused;
    // An untracked record is left out whatever its class, as onRecord does.
    // The rest go back to decodePageWith, which calls onRecord (kept out of this function: inlined, it made
    // V8 take 50-200 ms per compilation) and calls the walk again after the record.
    const record = `${cases.length > 0 ? `if (tracked !== undefined && !tracked(sdv.getInt32(rec + ${o.commonPidOffset}, true))) break rec_;\nswitch (sdv.getUint16(rec, true)) {\n${cases.join('\n')}\n}\n` : ''}${RecordWalkStop}`;
    // The stream's clock (the last record's timestamp) in a typed array, C[0], as the walk's timestamp (see
    // PageDecoder.compileWalk): a double in a loop variable was boxed, a heap number per record.
    const prologue = 'let off = s.recordsEnd(), n = 0; C[0] = s.recordsClock();';
    const epilogue = 's.recordsAppended(off, C[0], n); stats.events += n; stats.inlinedEvents += n;';
    const make = o.decoder.compileWalk(['s', 'stats', 'tracked', 'K', 'H', 'T', 'u8', 'dv', 's8', 'EMPTY', 'Buffer', 'pend', 'C'], record, prologue, epilogue) as unknown as (...args: unknown[]) => RecordWalk<unknown>;
    return r.stream.bindRecordLoop((u8, dv) => make(r.stream, r.stats, o.tracked, handlers, helpers, o.handlers, u8, dv, r.buf, EMPTY_ARRAY, Buffer, u8.length, new Float64Array(1)));
  }

  /**
   * Read, on every CPU, everything recorded so far, at most what its ring buffer can hold (the switch and live
   * timers, rule changes, statedumps), after what the reader thread staged. `until` (a clock value: rotations,
   * clears, snapshots, rule changes) makes that exact: every record older than it is read, however the pages came
   * out (see drainCpu).
   */
  drain(until?: number): void {
    if (!this.running) return;
    this.opts.threads.tick();
    const ctl = this.ctl;
    for (const r of this.readers) {
      // The reader thread stays off this CPU's pipe meanwhile: pages are decoded in the order they came out.
      if (ctl !== undefined) lockCpu(ctl, r.slot);
      // Released whatever throws: a lock left held would keep the reader thread off this CPU for good.
      try {
        if (ctl !== undefined) this.decodeStaged(r);
        this.drainCpu(r, until !== undefined ? 2 * this.opts.bufferPages + 1 : this.opts.bufferPages + 1, until);
      } finally {
        if (ctl !== undefined) unlockCpu(ctl, r.slot);
      }
    }
  }

  /**
   * drain(until) for the drains that must take everything (rotation, snapshot, clear), which wait for the output
   * to have room instead of writing packets it cannot take (counted unwritten): staged pages, then the CPU's ring
   * (at most a packet's worth of pages per read), asking for room before each. While it waits the CPU's lock is
   * released (the reader stages on; those pages are decoded first when it goes on). `roomWaitMs`: how long it
   * waits for room at one point before failing with one line; a stop() meanwhile took everything, and it ends.
   */
  drainAll(until: number, roomWaitMs = ROOM_WAIT_MS): Promise<void> {
    return KernelChannelConsumer.drainAll([this], until, roomWaitMs);
  }

  /**
   * drainAll() of several channels that write through one output (a session's, in one consumer thread: one
   * staging in front of one disk), one after the other. Every channel's reader notifications leave its staged
   * pages alone until the last drain ends: held for the draining channel only, another busy channel's decoding
   * (its whenRoom() callback, in the same round as the drain's) took each bit of room first, and the drain never
   * had room again while the load lasted. The pages held meanwhile stay staged, then in the kernel's ring, which
   * discards and counts, as the draining channel's own do.
   */
  static async drainAll(consumers: readonly KernelChannelConsumer[], until: number, roomWaitMs = ROOM_WAIT_MS): Promise<void> {
    const running = consumers.filter((c) => c.running);
    for (const c of running) c.drainingAll++;
    try {
      for (const c of running) await c.drainAllCpus(until, roomWaitMs);
    } finally {
      for (const c of running) {
        c.drainingAll--;
        // The reader's notifications held meanwhile (drainStaged): what it staged since is decoded now.
        if (c.drainingAll === 0 && c.running) c.drainStagedSafely();
      }
    }
  }

  private async drainAllCpus(until: number, roomWaitMs: number): Promise<void> {
    this.opts.threads.tick();
    const run = this.runs;
    for (const r of this.readers) {
      const budget = { pages: 0, short: false };
      for (;;) {
        // Staged pages decoded (here or by a timer's drain) reach `until`: every older record was taken. Checked
        // before any wait for room.
        if (this.ctl !== undefined && r.stagedTs >= until) break;
        if (!r.stream.hasRoomForPacket()) {
          await this.roomOf(r, roomWaitMs);
          if (run !== this.runs || !this.running) return;
          continue;
        }
        const ctl = this.ctl;
        if (ctl !== undefined) lockCpu(ctl, r.slot);
        let staged = false;
        try {
          if (ctl !== undefined) {
            this.decodeStaged(r, true, false);
            staged = Atomics.load(ctl, cpuBase(r.slot) + HEAD) !== Atomics.load(ctl, cpuBase(r.slot) + TAIL);
          }
          budget.short = false;
          if (!staged) this.drainCpu(r, 2 * this.opts.bufferPages + 1, until, budget);
        } finally {
          if (ctl !== undefined) unlockCpu(ctl, r.slot);
        }
        // Done: everything read up to `until`. Staged pages that reach it end the loop at its top (pages come out
        // of the kernel in order, so every older record is taken; a reader that stages on faster than a slow disk
        // takes them would otherwise keep this loop, and the rotation, going for as long as the load lasts).
        if (!staged && !budget.short) break;
      }
    }
  }

  /** Resolves once `r`'s output may have room; rejects (one line) after `ms`. */
  private roomOf(r: CpuReader, ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kernel consumer: the trace's output took no packet for ${ms / 1000} s (a disk that takes nothing?); the rest stays in the kernel's buffers`)), ms);
      r.stream.whenRoom(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Read what the CPU buffer holds. `maxPages` bounds a timer-driven drain: the consumer's own read(2) calls
   * are recorded when read syscalls are traced, so a drain that waited for EAGAIN could chase its own records
   * forever. On stop tracing is off and the loop ends at EAGAIN.
   */
  private drainCpu(r: CpuReader, maxPages = Infinity, until?: number, room?: { pages: number; short: boolean }): number {
    const o = this.opts;
    const size = o.pageSize;
    let bytes = 0;
    let pages = room?.pages ?? 0;
    let more = true;
    // Into the first pages of the CPU's buffer. A staging ring is empty here: its staged pages were decoded first
    // (drain, stop), and the reader thread stays off this CPU meanwhile (its LOCK is held, or its FD closed).
    const batch = r.pages.slice(0, r.perRead);
    while (more && pages < maxPages) {
      let want = Math.min(batch.length, maxPages - pages);
      // `room` (drainAll): read only what the output can take now, at most a packet's worth of pages at a time.
      if (room !== undefined) {
        if (!r.stream.hasRoomForPacket()) {
          room.short = true;
          break;
        }
        want = Math.min(want, Math.max(1, Math.floor(r.stream.packetCapacity / size)));
      }
      let n: number;
      try {
        n = fs.readvSync(r.fd, want === batch.length ? batch : batch.slice(0, want));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EINTR') continue;
        if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') throw err;
        break;
      }
      if (n === 0) break;
      r.stats.reads++;
      // Every page read is decoded, even past a stop condition: the kernel has handed it over.
      for (let base = 0; base < n; base += size) {
        pages++;
        const info = this.decodeOne(r, base, Math.min(size, n - base));
        bytes += info.dataLength;
        // A page less than half full usually means the reader caught up with the writer: what follows was
        // written since (on the consumer's own CPU, mostly the records of these very reads, so each read would
        // return another tiny page until maxPages). The next drain takes it; stop (unbounded) reads to EAGAIN.
        // But it can also be the rest of a page read in part before, with older full pages behind it: a drain
        // `until` a time goes on, whatever the pages' sizes, until its records reach that time (and stops there,
        // so a busy CPU cannot keep it reading).
        if (until !== undefined ? info.lastTimestamp >= until : maxPages !== Infinity && info.dataLength * 2 < size) more = false;
      }
      // Short: the kernel had no more pages (readv stops at the first read that is not whole). A timer drain is
      // done; stop and drains `until` a time read on to EAGAIN, as page by page.
      if (n < want * size && maxPages !== Infinity && until === undefined) more = false;
      if (r.generalRecords >= (r.walk === undefined ? FUSE_FIRST : FUSE_AGAIN)) this.fuseMore(r);
    }
    if (room !== undefined) room.pages = pages;
    // Discard mode drops the newest records when full, i.e. after what was just read: count them now so
    // they land in the packet that follows the kept records. The kernel only drops when the buffer is full,
    // and then the drain that follows reads nearly the whole buffer: smaller drains (a busy channel drains
    // every few ms) look at the stats file only once per period, at stop, or when the buffer was half full.
    if (!o.overwrite) {
      const now = performance.now();
      if (maxPages === Infinity || pages * 2 >= o.bufferPages || now - r.droppedCheckedAt >= this.periodMs) {
        r.droppedCheckedAt = now;
        this.accountDropped(r);
      }
    }
    return bytes;
  }

  /** Decodes the page at `base` of the CPU's page buffer (`len` bytes), lost records first. */
  private decodeOne(r: CpuReader, base: number, len: number): PageInfo {
    const o = this.opts;
    r.stats.pages++;
    // Records were lost before this page: close the packet holding what came before, then account.
    const missed = o.decoder.missedBefore(r.dv, base, len);
    if (missed !== 0) {
      if (o.overwrite) {
        // Overwrite mode lost the oldest sub-buffers: LTTng shows that as a packet_seq_num gap.
        r.stream.flushPacket();
        r.stream.skipPackets(1);
        r.stats.lostPackets++;
        if (missed > 0) r.stats.lostEvents += missed;
      } else if (missed > 0) {
        r.stream.addDiscarded(missed);
        r.stats.discarded += missed;
      }
    }
    const info = r.walk === undefined ? o.decoder.decodePage(r.dv, base, len, r.onRecord) : o.decoder.decodePageWith(r.dv, base, len, r.walk, undefined, r.onRecord);
    if (info.records === 0 && info.dataLength > 0) r.stats.malformedPages++;
    return info;
  }

  /** A new walk when classes the current one leaves to onRecord make a good share of the records (see MAX_FUSED). */
  private fuseMore(r: CpuReader): void {
    const hot: Array<[number, number]> = [];
    for (const id of r.generalIds) {
      const hits = r.generalHits[id]!;
      if (hits * FUSE_SHARE >= r.generalRecords && this.opts.handlers[id]?.transcoder?.inline() !== undefined) hot.push([id, hits]);
      r.generalHits[id] = 0;
    }
    r.generalIds.length = 0;
    r.generalRecords = 0;
    const ids = hot.sort((a, b) => b[1] - a[1]).slice(0, MAX_FUSED).map(([id]) => id);
    for (const id of r.fused) if (ids.length < MAX_FUSED && !ids.includes(id)) ids.push(id);
    if (ids.length !== r.fused.length || !ids.every((id) => r.fused.includes(id))) r.walk = this.fusedWalk(r, ids);
  }

  /** Discard mode: the kernel drops new records when full and counts them in per_cpu/cpuN/stats. */
  private accountDropped(r: CpuReader): void {
    const dropped = r.statsFd >= 0 ? (readStatsField(r.statsFd, 'dropped events') ?? 0) : readDropped(this.opts.instance, r.cpu);
    if (dropped > r.droppedSeen) this.addDropped(r, dropped);
  }

  /** The kernel's "dropped events" counter has reached `dropped`: the difference goes into the stream here. */
  private addDropped(r: CpuReader, dropped: number): void {
    const delta = dropped - r.droppedSeen;
    r.droppedSeen = dropped;
    r.stream.addDiscarded(delta);
    r.stats.discarded += delta;
  }

  /** After tracing_on = 0 in the instance: drain everything left, then close the pipes. Idempotent. */
  stop(): void {
    if (this.switchTimer) clearInterval(this.switchTimer);
    if (this.liveTimer) clearInterval(this.liveTimer);
    this.switchTimer = this.liveTimer = undefined;
    if (!this.running) return;
    const ctl = this.ctl;
    if (ctl !== undefined) Atomics.store(ctl, STATE, PAUSED);
    try {
      for (const r of this.readers) {
        if (ctl !== undefined) {
          // The reader's pass on this CPU, if one is under way, ends first; it reads this CPU no more.
          lockCpu(ctl, r.slot);
          ctl[cpuBase(r.slot) + FD] = -1;
          ctl[cpuBase(r.slot) + STATS_FD] = -1;
          unlockCpu(ctl, r.slot);
          this.decodeStaged(r);
        }
        this.drainCpu(r);
        // trace_pipe_raw can end a read with 0 while records remain (the kernel could not swap in the reader
        // page at that moment, seen on a loaded machine: 12,908 and 34,354 records left behind, the second after
        // 8 immediate retries). Tracing is off, so the stats file's entries is what is still to read: drain
        // again until it says none, pausing 2 ms between tries (the moment must pass), 100 ms at most.
        for (let tries = 0; tries < 50 && r.statsFd >= 0 && (readStatsField(r.statsFd, 'entries') ?? 0) > 0; tries++) {
          if (tries > 0) Atomics.wait(PAUSE, 0, 0, 2);
          this.drainCpu(r);
        }
      }
    } finally {
      this.closePipes();
      this.running = false;
      // Everything staged is decoded. A wait for room ends here: its callback may come after the next start()
      // or never (the disk's backlog went with a rotation), and NOTIFIED, left set by the wait, would keep the
      // reader from telling the next run about its pages (then only a timer drain, if any, would decode them).
      this.runs++;
      this.waitingForRoom = false;
      if (ctl !== undefined) Atomics.store(ctl, NOTIFIED, 0);
    }
  }

  stats(): CpuReaderStats[] {
    return this.readers.map((r) => ({ ...r.stats }));
  }
}

function openStats(instance: string, cpu: number): number {
  try {
    return fs.openSync(tracefs.pathOf(`per_cpu/cpu${cpu}/stats`, instance), 'r');
  } catch {
    return -1;
  }
}

const statsBuf = Buffer.alloc(1024);

/** A field of a per_cpu/cpuN/stats file kept open (read again from offset 0), or undefined. */
function readStatsField(fd: number, name: string): number | undefined {
  try {
    const n = fs.readSync(fd, statsBuf, 0, statsBuf.length, 0);
    return statsField(statsBuf.toString('latin1', 0, n), name);
  } catch {
    return undefined;
  }
}

/** "dropped events: N" of per_cpu/cpuN/stats, for a reader whose stats file could not be kept open. */
function readDropped(instance: string, cpu: number): number {
  try {
    return statsField(tracefs.readText(`per_cpu/cpu${cpu}/stats`, instance), 'dropped events') ?? 0;
  } catch {
    return 0;
  }
}
