// The kernel consumer's worker thread: owns the kernel trace's CTF writer, the per-channel consumers (page
// decoder, generated converters, per-CPU streams), the thread table behind contexts, and the statedump.
// Running here keeps page decoding and CTF writing off the session daemon's event loop.
//
// Contract: driven only by KernelConsumerClient (kernel-consumer-client.ts) through the request messages of
// kernel-consumer-protocol.ts; every request gets exactly one reply (with an error code and one-line message
// on failure). Between requests the read/switch timers run here; after each timer drain the channel
// statistics are posted unasked so the daemon can answer `list` without a round trip.

import { parentPort } from 'node:worker_threads';
import { isLttError } from '../errors.js';
import * as tracefs from '../ftrace/tracefs.js';
import { type EventFormat, parseHeaderEvent, parseHeaderPage, readEventFormat } from '../ftrace/event-format.js';
import { PageDecoder } from '../ftrace/page-decoder.js';
import { rememberTgid, type FieldReader, type FieldSpec } from '../ftrace/lttng-shaping.js';
import { parseFilter } from '../filter/parse-filter.js';
import { compilePredicate } from '../filter/compile-filter.js';
import { collectStatedump, STATEDUMP_EVENTS } from './statedump.js';
import { contextField, makeContextFiller } from './contexts.js';
import { monotonicNow } from '../ftrace/trace-clock.js';
import { CtfTraceWriter } from '../ctf/writer/trace-writer.js';
import { SnapshotRingSink } from '../ctf/writer/snapshot-ring-sink.js';
import { DiscardingSink } from '../ctf/writer/sink.js';
import { openRelaySink, relayTraceSink, type RelayTraceSink } from '../relay/relay-sink.js';
import type { StreamWriter } from '../ctf/writer/stream-writer.js';
import { dropSpareReaderThread, eventIdTable, KernelChannelConsumer, kernelEventHandler, prepareReaderThread, type KernelEventHandler } from './kernel-channel-consumer.js';
import { ThreadTable } from './thread-table.js';
import type { ChannelStats, ClassSpec, ConsumerRequest, OpenRequest, TrackerEntries } from './kernel-consumer-protocol.js';

interface WorkerClass {
  spec: ClassSpec;
  eventId: number;
  fields: FieldSpec[];
  format?: EventFormat;
  handler?: KernelEventHandler;
  /** Its hook (hookFor), on the handler only while something reads the thread table (applyHooks). */
  hook?: KernelEventHandler['hook'];
  enabled: boolean;
}

interface WorkerChannel {
  def: OpenRequest['channels'][number];
  streams: Map<number, StreamWriter>;
  handlers: Array<KernelEventHandler | undefined>;
  classes: Map<string, WorkerClass>;
  consumer: KernelChannelConsumer;
}

const port = parentPort;
if (!port) throw new Error('kernel-consumer-worker must run in a worker thread');

let writer: CtfTraceWriter | undefined;
/** Snapshot mode: where the streams' packets wait for `snapshot` requests. */
let ring: SnapshotRingSink | undefined;
/** Network sessions: the sink of the relay's current trace chunk. */
let relayChunk: RelayTraceSink | undefined;
/** Between start and stop: the streams have open packets a snapshot must close first. */
let tracing = false;
let decoder: PageDecoder | undefined;
const channels = new Map<number, WorkerChannel>();
const threads = new ThreadTable();
/** Since this start, the thread table holds /proc's threads (read only once contexts, filters or trackers need it:
 * a /proc walk is about a sixth of start's CPU). */
let seeded = false;
let anyFilter = false;
let trackers: TrackerEntries = [];
function stats(): ChannelStats[] {
  // A relay gone is trace data lost only when it took something with it: packets it never acknowledged or a
  // wait that timed out (the link's loss), or packets refused (each one a write error of the writer). Gone after
  // everything was delivered (lttng-relayd closes a destroyed session's connections) loses nothing. The same
  // rule as the ltt/ust consumers' (app-agent-worker.ts, uid-relay-traces.ts read the link's loss too).
  const writeError = relayChunk?.loss ?? writer?.writeError?.message;
  return [...channels.values()].map((c) => {
    const cpus = c.consumer.stats();
    const streams = [...c.streams.values()];
    // Packets the disk refused are losses like any other: discarded events in discard mode, lost packets in
    // overwrite mode (their sequence numbers stay used, so readers see the gap too).
    const unwrittenEvents = streams.reduce((a, s) => a + s.stats.unwrittenEvents, 0);
    const unwrittenPackets = streams.reduce((a, s) => a + s.stats.unwrittenPackets, 0);
    return {
      channel: c.def.name,
      discarded: cpus.reduce((a, s) => a + s.discarded, 0) + (c.def.overwrite ? 0 : unwrittenEvents),
      lost: cpus.reduce((a, s) => a + s.lostPackets, 0) + (c.def.overwrite ? unwrittenPackets : 0),
      events: streams.reduce((a, s) => a + s.stats.events, 0) - unwrittenEvents,
      bytes: streams.reduce((a, s) => a + s.stats.bytes, 0),
      ...(writeError !== undefined ? { writeError } : {}),
    };
  });
}

function channel(id: number): WorkerChannel {
  const c = channels.get(id);
  if (!c) throw new Error(`kernel consumer: no channel ${id}`);
  return c;
}

/** Trackers are read at each call so track/untrack while tracing applies at once. */
function tracked(tid: number): boolean {
  if (trackers.length === 0) return true;
  for (const [kind, set] of trackers) {
    let v: number;
    if (kind === 'pid' || kind === 'vpid') v = threads.get(tid).pid;
    else if (kind === 'uid' || kind === 'vuid') v = threads.ids(tid).uid;
    else v = threads.ids(tid).gid;
    if (!set.includes(v)) return false;
  }
  return true;
}

async function open(req: OpenRequest): Promise<void> {
  decoder = new PageDecoder(parseHeaderPage(tracefs.readText('events/header_page')), parseHeaderEvent(tracefs.readText('events/header_event')));
  if (req.snapshot) ring = new SnapshotRingSink();
  const relay = req.relay
    ? await openRelaySink({
        ...req.relay,
        tracePath: 'kernel',
        // What it took with it (stats()) is said at once.
        onGone: () => port!.postMessage({ type: 'stats', stats: stats() }),
      })
    : undefined;
  relayChunk = relay;
  const sink = ring ?? relay;
  writer = await CtfTraceWriter.create({
    ...(sink ? { sink } : { dir: req.traceDir }),
    ...(req.owner && !sink ? { owner: req.owner } : {}),
    env: req.env,
    clock: req.clock,
    streamClasses: req.channels.map((c) => ({
      id: c.id,
      header: c.largeHeader ? 'large' : 'compact',
      eventContext: c.contexts.length > 0 ? c.contexts.map(contextField) : undefined,
    })),
  });
  for (const def of req.channels) {
    const streams = new Map<number, StreamWriter>();
    for (const cpu of def.cpus) {
      streams.set(cpu, writer.openStream({
        streamClassId: def.id,
        fileName: `${def.name}_${cpu}`,
        cpuId: cpu,
        packetSize: def.subbufSize,
        tracefileSize: def.tracefileSize || undefined,
        tracefileCount: def.tracefileCount || undefined,
        // A snapshot stream holds what its channel's ring buffer holds: sub-buffer count x size (LTTng's overwrite ring).
        ringSlots: Math.max(2, Math.round((def.bufferPages * def.pageSize) / def.subbufSize)),
      }));
    }
    const handlers = eventIdTable<KernelEventHandler>();
    const consumer = new KernelChannelConsumer({
      instance: def.instance,
      cpus: def.cpus,
      pageSize: def.pageSize,
      bufferPages: def.bufferPages,
      decoder,
      handlers,
      streams,
      overwrite: def.overwrite,
      readTimerUs: def.readTimerUs,
      switchTimerUs: def.switchTimerUs,
      liveTimerUs: def.liveTimerUs,
      commonPidOffset: 4,
      threads,
      contextFiller: def.contexts.length > 0 ? makeContextFiller(def.contexts, threads) : undefined,
      contextCount: def.contexts.length,
      tracked,
      afterDrain: () => port!.postMessage({ type: 'stats', stats: stats() }),
    });
    channels.set(def.id, { def, streams, handlers, classes: new Map(), consumer });
  }
}

/** Events that tell the thread table about threads (contexts, $ctx filters and trackers need it). */
function hookFor(key: string, read: (field: string) => FieldReader | undefined): KernelEventHandler['hook'] {
  switch (key) {
    case 'sched/sched_switch': {
      const pc = read('prev_comm'), pt = read('prev_tid'), pp = read('prev_prio');
      if (pc === undefined || pt === undefined) return undefined;
      return (dv, buf, off) => {
        const tid = pt(dv, buf, off) as number;
        threads.setComm(tid, pc(dv, buf, off) as string);
        if (pp !== undefined) threads.setPrio(tid, pp(dv, buf, off) as number);
      };
    }
    case 'sched/sched_process_exec': {
      const fi = read('filename');
      if (fi === undefined) return undefined;
      return (dv, buf, off, tid) => {
        const f = fi(dv, buf, off) as string;
        threads.setComm(tid, f.slice(f.lastIndexOf('/') + 1).slice(0, 15));
      };
    }
    case 'sched/sched_process_fork': {
      const pt = read('parent_tid'), ct = read('child_tid'), cc = read('child_comm');
      if (pt === undefined || ct === undefined || cc === undefined) return undefined;
      return (dv, buf, off) => threads.fork(pt(dv, buf, off) as number, ct(dv, buf, off) as number, cc(dv, buf, off) as string);
    }
    default:
      return undefined;
  }
}

function addClass(channelId: number, spec: ClassSpec, known?: EventFormat): number {
  const c = channel(channelId);
  const existing = c.classes.get(spec.key);
  if (existing) return existing.eventId;
  let cls: WorkerClass;
  if (spec.kind === 'statedump') {
    const def = STATEDUMP_EVENTS.find((e) => e.name === spec.lttngName);
    if (!def) throw new Error(`kernel consumer: unknown statedump event ${spec.lttngName}`);
    const eventId = writer!.addEventClass({ name: spec.lttngName, streamClassId: channelId, fields: def.fields });
    cls = { spec, eventId, fields: def.fields, enabled: true };
  } else {
    const format = known ?? readEventFormat(spec.system!, spec.event!);
    const { handler, fields } = kernelEventHandler(writer!, channelId, format, spec.kind, spec.lttngName, (read) => hookFor(spec.key, read));
    cls = { spec, eventId: handler.eventId, fields, format, handler, hook: handler.hook, enabled: true };
    c.handlers[format.id] = handler;
  }
  c.classes.set(spec.key, cls);
  return cls.eventId;
}

function setClassState(channelId: number, key: string, enabled: boolean, filters: string[] | null): void {
  const c = channel(channelId);
  const cls = c.classes.get(key);
  if (!cls) throw new Error(`kernel consumer: no class ${key} in channel ${c.def.name}`);
  cls.enabled = enabled;
  if (cls.handler) {
    cls.handler.enabled = enabled;
    if (filters !== null) anyFilter = true;
    if (filters === null) cls.handler.predicate = undefined;
    else {
      const names = cls.fields.map((f) => f.name);
      const preds = filters.map((f) => compilePredicate(parseFilter(f), names));
      cls.handler.predicate = preds.length === 1 ? preds[0] : (v, ctx) => preds.some((p) => p(v, ctx));
    }
  }
}

/** Whether anything reads the thread table: trackers, filters (their $ctx fields) or contexts. */
function threadsNeeded(): boolean {
  return trackers.length > 0 || anyFilter || [...channels.values()].some((c) => c.def.contexts.length > 0);
}

/**
 * The thread table's hooks (sched_switch's prev_comm decoded, exec, fork) on their handlers only while the table
 * is read. Otherwise each such record paid for it, and a class with a hook never joins the page walk (fusedWalk):
 * every sched_switch took the general path plus a string decode, a few µs apiece, which a scheduler-heavy machine
 * records hundreds of thousands of times a second. A table left unhooked is read from /proc again when needed.
 */
function applyHooks(): void {
  const on = threadsNeeded();
  for (const c of channels.values()) for (const cls of c.classes.values()) if (cls.handler) cls.handler.hook = on ? cls.hook : undefined;
  if (!on) seeded = false;
}

function seedThreadsIfNeeded(): void {
  applyHooks();
  if (seeded || !tracing || !threadsNeeded()) return;
  threads.seed();
  seeded = true;
}

/** Statedump records go first in the first CPU's stream, stamped before tracing starts (streams stay ordered). */
function writeStatedump(channelIds: number[]): void {
  if (channelIds.length === 0) return;
  const records = collectStatedump();
  for (const r of records) {
    if (r.name === 'lttng_statedump_process_state') rememberTgid(r.payload[0] as number, r.payload[1] as number);
  }
  const ts = monotonicNow();
  for (const id of channelIds) {
    const c = channel(id);
    const firstCpu = Math.min(...c.streams.keys());
    const stream = c.streams.get(firstCpu)!;
    const ctxOut: unknown[] = new Array(c.def.contexts.length);
    const filler = c.def.contexts.length > 0 ? makeContextFiller(c.def.contexts, threads) : undefined;
    for (const r of records) {
      const cls = c.classes.get(`statedump/${r.name}`);
      if (!cls || !cls.enabled) continue;
      if (filler) {
        filler(process.pid, firstCpu, ctxOut);
        stream.write(cls.eventId, ts, r.payload, ctxOut);
      } else stream.write(cls.eventId, ts, r.payload);
    }
  }
}

/** Everything the kernel holds now, every channel's, into the output (rotation, snapshot, clear): see drainAll. */
function drainAllChannels(until: number): Promise<void> {
  return KernelChannelConsumer.drainAll([...channels.values()].map((c) => c.consumer), until);
}

async function handle(req: ConsumerRequest): Promise<unknown> {
  switch (req.op) {
    case 'open':
      await open(req);
      return undefined;
    case 'classes': {
      // Records taken while a rule was enabled are still in the buffer: consume them under the old rules.
      const c = channel(req.channel);
      if (req.updates.some((u) => !u.enabled && c.classes.get(u.spec.key)?.enabled)) c.consumer.drain(monotonicNow());
      const ids = req.updates.map((u) => {
        const id = addClass(req.channel, u.spec, u.format);
        setClassState(req.channel, u.spec.key, u.enabled, u.filters);
        return id;
      });
      // Once for all (hooks on or off for every class: `--syscall -a` is ~700 updates).
      seedThreadsIfNeeded();
      return ids;
    }
    case 'trackers':
      trackers = req.entries;
      seedThreadsIfNeeded();
      return undefined;
    case 'start': {
      tracing = true;
      seeded = false;
      seedThreadsIfNeeded();
      // As LTTng does: every stream's packet begins at start, before the statedump, so all streams cover the
      // same range (babeltrace2 --stream-intersection keeps the statedump) even on CPUs that record late.
      const t0 = monotonicNow();
      for (const c of channels.values()) for (const s of c.streams.values()) s.openPacket(t0);
      writeStatedump(req.statedumpChannels);
      for (const c of channels.values()) await c.consumer.start();
      return undefined;
    }
    case 'statedump':
      for (const id of req.statedumpChannels) channel(id).consumer.drain(monotonicNow());
      writeStatedump(req.statedumpChannels);
      return undefined;
    case 'drain':
      channel(req.channel).consumer.drain();
      await writer?.settle();
      return stats();
    case 'snapshot': {
      if (!ring || !writer) throw new Error('kernel consumer: not a snapshot-mode trace');
      if (tracing) {
        // What the kernel holds now goes into the snapshot: drain it, then close the open packets at the time of
        // the request (taken first: records that come in during the drain are later and stay in order). A stream
        // with no open packet gets no empty one: it would push a sub-buffer of real records out of its ring.
        const now = monotonicNow();
        await drainAllChannels(now);
        for (const c of channels.values()) for (const s of c.streams.values()) if (s.packetBytesUsed > 0) s.flushPacket(now);
      }
      writer.flushMetadata();
      if (req.relay === undefined) return await ring.writeSnapshot(req.dir, req.owner, req.maxBytes);
      let sink: RelayTraceSink | undefined;
      const written = await ring.writeSnapshot(() => (sink = relayTraceSink({ ...req.relay!, tracePath: 'kernel' })), undefined, req.maxBytes);
      if (sink?.error) throw sink.error;
      return written;
    }
    case 'rotate': {
      if (!writer) throw new Error('kernel consumer: no trace to rotate');
      // Everything the kernel holds now belongs to the chunk being closed.
      const now = monotonicNow();
      if (tracing) await drainAllChannels(now);
      if (req.relayChunk !== undefined) {
        if (!relayChunk) throw new Error('kernel consumer: not streaming to a relay');
        // The relay's streams go on in its next chunk (ROTATE_STREAMS), the old chunk closed behind them.
        const next = relayChunk.nextChunk(req.relayChunk);
        await writer.rotate({ sink: next }, now);
        relayChunk = next;
      } else await writer.rotate(req.dir !== undefined ? { dir: req.dir } : { sink: new DiscardingSink() }, now);
      // As at start: every stream of the new chunk begins at the rotation, so all cover the same range.
      if (tracing && (req.dir !== undefined || req.relayChunk !== undefined)) for (const c of channels.values()) for (const s of c.streams.values()) s.openPacket(now);
      return stats();
    }
    case 'clear': {
      if (!writer) throw new Error('kernel consumer: no trace to clear');
      const now = monotonicNow();
      // What the kernel holds now was recorded before the clear: it goes with the rest. Packets close into a
      // sink that keeps nothing; the trace then starts again, whole metadata first, in an emptied sink.
      if (tracing) await drainAllChannels(now);
      await writer.rotate({ sink: new DiscardingSink() }, now);
      if (ring) {
        ring.reset();
        await writer.rotate({ sink: ring }, now);
      } else if (req.dir !== undefined) {
        await writer.rotate({ dir: req.dir }, now);
      }
      if (tracing) for (const c of channels.values()) for (const s of c.streams.values()) s.openPacket(now);
      return stats();
    }
    case 'stop':
      tracing = false;
      try {
        for (const c of channels.values()) c.consumer.stop();
      } finally {
        // Every stream's last packet ends at the stop time (tracing is off, all records are older), so the
        // streams end together as they began together.
        const end = monotonicNow();
        for (const c of channels.values()) for (const s of c.streams.values()) s.flushPacket(end);
        // The trace is readable once `stop` answers: packets still being written behind are waited for.
        await writer?.settle();
        try {
          writer?.flushMetadata();
        } catch {
          // Recorded in writer.writeError, which stats() reports and `ltt stop` prints once.
        }
      }
      return stats();
    case 'close':
      // The reader threads end before this thread may be terminated (see KernelChannelConsumer.close).
      await Promise.all([...channels.values()].map((c) => c.consumer.close()));
      await dropSpareReaderThread();
      await writer?.close();
      return stats();
  }
}

// This thread is started ahead of `ltt start` (the session daemon keeps one spare): so is its channel's reader.
prepareReaderThread();

port.on('message', (req: ConsumerRequest) => {
  handle(req).then(
    (result) => port.postMessage({ type: 'reply', seq: req.seq, result }),
    (err: unknown) => {
      const e = err as Error & { code?: string };
      port.postMessage({ type: 'reply', seq: req.seq, error: { code: isLttError(err) ? e.code : 'KERNEL_CONSUMER', message: e.message ?? String(err) } });
    },
  );
});
