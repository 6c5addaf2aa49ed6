// The agent thread of an instrumented process (started by app-agent.ts when a session daemon's app socket exists).
//
// Contract: connects to every app socket in workerData, registers (pid, uid, procname, tracepoints), and sets
// ctrl[AGENT_REGISTERED] once every daemon answered or failed, after posting the sessions to record into right
// away on the registration port (the main thread reads them synchronously: the bounded registration wait).
// Then it serves the daemons: `start` builds the trace's output (one TraceSink per per-PID trace, shared by its
// channels: files in the folder the daemon made, or the snapshot memory ring; the metadata preamble first) and a
// SessionWriter (trace-writer.ts) writing into it, and tells every thread (BroadcastChannel, agent: true);
// `rotate` and `clear` move the trace's writers to the next output; `rules` forwards the new rules; `stop` tells
// the threads, gives them a moment to close their packets, writes everything out (rescuing
// packets of busy threads) and answers `stopped` with the statistics, which are also reported every read-timer
// period while recording. Tracepoint declarations of any thread are forwarded for `list -u`. On
// ctrl[AGENT_FINAL] (process exit) it finishes every session, flushes its reports to the daemons, hands the packets
// of snapshot runs over to them (the daemon keeps them for later snapshots) and sets ctrl[AGENT_DONE]. A daemon that goes away ends the sessions it started; nothing here ever throws at the app.

import { rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createConnection, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { BroadcastChannel, workerData, type MessagePort } from 'node:worker_threads';
import { encodeFrame, FrameDecoder } from '../control/framing.js';
import { APP_PROTOCOL_VERSION, HELD_PIECE_BYTES, type AppSessionStart, type AppStats, type AppToDaemon, type AppTracepoint, type DaemonToApp } from './app-protocol.js';
import { AGENT_DONE, AGENT_FINAL, AGENT_REGISTERED, DAEMON_POLL_MS, type AgentInit } from './app-agent-protocol.js';
import { CHANNEL_NAME } from './channel-name.js';
import { BUILTIN_TRACEPOINTS } from './builtin-tracepoints.js';
import { clockUuid, measureRealtimeOffset } from './clock.js';
import { traceTsdl } from './metadata.js';
import type { ChannelMessage, SessionConfig } from './tracer.js';
import { SessionWriter } from './trace-writer.js';
import { raiseConsumerPriority } from './consumer-priority.js';
import { answerChallenge, dropChallengeFile } from '../control/credential-challenge.js';
import type { ControlError } from '../control/error-codes.js';
import { FileTraceSink } from '../ctf/writer/file-sink.js';
import { emptyTraceFolder } from '../ctf/writer/trace-modes.js';
import { RelayTraceSink, relayTraceSink } from '../relay/relay-sink.js';
import type { StreamSink, TraceSink } from '../ctf/writer/sink.js';
import { SnapshotRingSink, type HeldPacket } from '../ctf/writer/snapshot-ring-sink.js';
import { DaemonDataConnection, DaemonTraceSink } from './daemon-sink.js';

type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t?: number): WaitAsyncResult }).waitAsync.bind(Atomics);

const init = workerData as AgentInit;
const ctrl = new Int32Array(init.ctrl);
const port = init.port as MessagePort;
raiseConsumerPriority();
const MAX_FRAME = 16 << 20;
/** How long a stop waits for threads to close their own packets before the writer rescues them. */
const STOP_GRACE_MS = 100;
/** How long a rotation or clear waits for threads to hand over their open packets (see rotate()). */
const FLUSH_GRACE_MS = 1000;
/** How long a snapshot waits for event declarations in flight (see snapshot()). */
const DECLARATION_GRACE_MS = 20;

interface Conn {
  readonly socket: Socket;
  /** The app socket it connected to (its folder holds the daemon's auth folder). */
  path: string;
  registered: boolean;
  /** The file answering the daemon's challenge, until the registration is answered. */
  credentialFile?: string;
  /** What the data connection names itself with ('registered'). */
  dataToken?: string;
  /** The data connection, made for the first trace the daemon writes for this app. */
  data?: DaemonDataConnection;
}

/** A trace in a folder the daemon writes for this app (AppSessionStart.viaDaemon), on `c`'s data connection. */
function daemonSink(c: Conn, dir: string, shared: boolean, empty = false): DaemonTraceSink {
  if (c.dataToken === undefined) throw new Error('the session daemon gave no data connection');
  if (c.data === undefined || c.data.closed) c.data = new DaemonDataConnection(c.path, c.dataToken);
  return c.data.openTrace(dir, shared, empty);
}

/**
 * Where one per-PID trace goes (its channels share it): files in the folder the daemon made (a new one at each
 * rotation), or the snapshot memory ring; a relay connection would be one more kind of sink built here.
 */
interface TraceOutput {
  /** Undefined between two chunks, or when the next chunk's output could not be made. */
  sink: TraceSink | undefined;
  /** Files: the current chunk's folder. */
  dir: string;
  readonly ring: SnapshotRingSink | undefined;
  /** The trace's TSDL preamble: every chunk's metadata begins with it. */
  readonly preamble: string;
  /**
   * Per-UID files: the folder is shared with the user's other apps and its metadata begins with the daemon's
   * preamble, so this app only appends its declarations (a snapshot ring still keeps the whole metadata, for
   * network snapshot outputs, which are per process).
   */
  readonly shared: boolean;
  /** The daemon writes this trace's files (AppSessionStart.viaDaemon): the connection whose daemon it is. */
  readonly via: Conn | undefined;
  /** Runs recording into it or holding it (snapshot runs until forgotten). */
  users: number;
}

interface RecordingSession {
  readonly conn: Conn;
  readonly start: AppSessionStart;
  readonly output: TraceOutput;
  readonly writer: SessionWriter;
  readonly timer: ReturnType<typeof setInterval>;
  /** Settles once its streams are closed (finish()). */
  finished?: Promise<void>;
  /** Once its trace's output is closed (the last run of a trace closes it: a relay then has every packet). */
  outputClosed?: Promise<void>;
}

const conns = new Set<Conn>();
const sessions = new Map<string, RecordingSession>();
/** What `list -u` shows of this app: lttng-ust's built-in tracepoints, then what its threads declared. */
const tracepoints: AppTracepoint[] = [...BUILTIN_TRACEPOINTS];
/** Each trace's output, by trace uuid. */
const outputs = new Map<string, TraceOutput>();
/** Snapshot sessions stopped but not forgotten: their writers keep the packets for later snapshots. */
const held = new Map<string, RecordingSession>();
/** Runs the daemon forgot while they were still stopping. */
const forgotten = new Set<string>();
const tracepointNames = new Set<string>(BUILTIN_TRACEPOINTS.map((t) => t.name));
let pendingTracepoints: AppTracepoint[] = [];
let pending = init.sockets.length;
let finalizing = false;
/** App sockets with a connection (or one being made). */
const linked = new Set<string>();
/** Sockets whose daemon refused us, by socketIdentity(): asked again only once the daemon is a new one. */
const refusedAt = new Map<string, string>();

/**
 * Which socket file this is: a daemon that restarts binds a new one, which may reuse the inode number but not
 * its birth and change times.
 */
function socketIdentity(path: string): string {
  const st = statSync(path, { bigint: true });
  return `${st.dev}:${st.ino}:${st.birthtimeNs}:${st.ctimeNs}`;
}

const channel = new BroadcastChannel(CHANNEL_NAME);
channel.onmessage = (e: unknown) => {
  try {
    onChannel((e as { data: ChannelMessage }).data);
  } catch {
    // A write error (disk full, folder removed) ends nothing but that packet; the app keeps running.
  }
};

function onChannel(m: ChannelMessage): void {
  if (m.type === 'ring' || m.type === 'event') {
    const s = sessions.get(m.sessionId);
    if (s?.writer.onMessage(m) && liveMs(s.start) > 0) {
      announceNewStream(s.start.config.sessionId);
      // Its own threads at once; the session's other apps (their streams may be all a viewer follows) through
      // the daemon's rounds.
      send(s.conn, { type: 'new-stream', sessionId: s.start.config.sessionId });
    }
  } else if (m.type === 'declared') {
    if (tracepointNames.has(m.name)) return;
    tracepointNames.add(m.name);
    const tp = { name: m.name, logLevel: m.logLevel, fields: m.fields };
    tracepoints.push(tp);
    if (pendingTracepoints.length === 0) setImmediate(flushTracepoints);
    pendingTracepoints.push(tp);
  }
}

/** A live session's timer period (ms), 0 for other sessions. */
function liveMs(start: AppSessionStart): number {
  const us = start.relay?.target.session.liveTimerUs ?? start.liveTimerUs ?? 0;
  return us > 0 ? Math.max(1, Math.round(us / 1000)) : 0;
}

/** Live sessions with a new stream whose threads are about to be asked for an empty packet. */
const announcing = new Set<string>();

/**
 * A live session got a new stream (a thread's first event in it): every thread of the session closes a packet,
 * empty or not, so that viewers get an index of a stream they follow, carrying the relay's new-stream flag
 * (babeltrace2's lttng-live reads it there alone; the streams it follows may all be quiet). Streams that appear
 * together (threads starting at once) share one round.
 */
function announceNewStream(sessionId: string): void {
  if (announcing.has(sessionId)) return;
  announcing.add(sessionId);
  setImmediate(() => {
    announcing.delete(sessionId);
    if (sessions.has(sessionId)) channel.postMessage({ type: 'flush', sessionId, empty: true, agent: true } satisfies ChannelMessage);
  });
}

function flushTracepoints(): void {
  const list = pendingTracepoints;
  pendingTracepoints = [];
  if (list.length === 0) return;
  for (const c of conns) if (c.registered) send(c, { type: 'tracepoints', tracepoints: list });
}

function send(c: Conn, m: AppToDaemon, cb?: () => void): void {
  if (c.socket.destroyed || !c.socket.writable) {
    cb?.();
    return;
  }
  c.socket.write(encodeFrame(m), cb === undefined ? undefined : () => cb());
}

function registrationAnswered(): void {
  pending--;
  if (pending === 0 && Atomics.load(ctrl, AGENT_REGISTERED) === 0) {
    Atomics.store(ctrl, AGENT_REGISTERED, 1);
    Atomics.notify(ctrl, AGENT_REGISTERED);
  }
}

function stats(s: RecordingSession): AppStats {
  return s.writer.stats();
}

function startSession(c: Conn, wire: AppSessionStart): { ok: boolean; reason?: string; config?: SessionConfig } {
  // JSON has no Infinity: the daemon sends -1 for "wait as long as it takes".
  const blocking = wire.config.blockingTimeoutMs;
  const start: AppSessionStart = { ...wire, config: { ...wire.config, blockingTimeoutMs: blocking < 0 ? Infinity : blocking } };
  const id = start.config.sessionId;
  if (sessions.has(id)) return { ok: true, config: start.config };
  let output = outputs.get(start.config.uuid);
  if (output === undefined) {
    const preamble = traceTsdl({
      uuid: start.config.uuid || randomUUID(),
      clockUuid: clockUuid(),
      clockOffset: start.env.clockOffsetNs !== undefined && /^-?\d+$/.test(start.env.clockOffsetNs)
        ? BigInt(start.env.clockOffsetNs)
        : measureRealtimeOffset(),
      hostname: start.env.hostname,
      traceName: start.env.traceName,
      creationDatetime: start.env.creationDatetime,
      vpid: init.pid,
      procname: init.procname,
      vpidDatetime: start.env.vpidDatetime,
    });
    // Snapshot sessions write nothing until asked: their packets wait in the memory ring.
    const ring = start.snapshot ? new SnapshotRingSink() : undefined;
    const shared = start.sharedMetadata === true && !ring && !start.relay;
    const via = start.viaDaemon === true && !start.relay ? c : undefined;
    let sink: TraceSink | undefined;
    try {
      sink = ring ?? (start.relay ? relaySink(start.relay) : via ? daemonSink(via, start.traceDir, shared) : FileTraceSink.create(start.traceDir, undefined, 0, shared));
      if (!shared) sink.writeMetadata(Buffer.from(preamble), preamble);
    } catch (err) {
      // No metadata rather than a torn one (a full disk): the folder would not read.
      void sink?.close().catch(() => undefined);
      if (!ring && !start.relay && !shared && !via) rmSync(join(start.traceDir, 'metadata'), { force: true });
      return { ok: false, reason: `cannot start the trace: ${(err as Error).message}` };
    }
    output = { sink, dir: start.traceDir, ring, preamble, shared, via, users: 0 };
    outputs.set(start.config.uuid, output);
  }
  output.users++;
  const files = { tracefileSize: start.tracefileSize, tracefileCount: start.tracefileCount };
  return begin(c, start, output, new SessionWriter(output.sink, id, Math.max(1, start.readTimerMs), files, liveMs(start)));
}

/**
 * A network session's trace: this app streams it to the relay on its own connections (as LTTng's per-PID
 * streams reach the relay), joining the session daemon's relay session; the packets never cross to the daemon.
 * A relay that is gone shows in the run's statistics (losses and their error), never in the app.
 */
function relaySink(relay: NonNullable<AppSessionStart['relay']>): TraceSink {
  // Within the daemon's wait for the app's stop answer (STOP_ANSWER_TIMEOUT_MS), a stuck relay is given up.
  const sink = relayTraceSink({ ...relay.target, tracePath: relay.tracePath, settleTimeoutMs: 5000 });
  sink.ready.catch(() => undefined);
  return sink;
}

/** Records into `writer` from now on: statistics every read-timer period, threads told of the session. */
function begin(c: Conn, start: AppSessionStart, output: TraceOutput, writer: SessionWriter): { ok: boolean; config: SessionConfig } {
  const id = start.config.sessionId;
  const timer = setInterval(() => {
    const s = sessions.get(id);
    if (s !== undefined) send(s.conn, { type: 'stats', sessionId: id, stats: stats(s) });
  }, Math.max(50, start.readTimerMs));
  timer.unref();
  sessions.set(id, { conn: c, start, output, writer, timer });
  channel.postMessage({ type: 'session', config: start.config, agent: true } satisfies ChannelMessage);
  return { ok: true, config: start.config };
}

/** Ends a session: threads leave it, the writer writes everything out. Returns its final statistics. */
async function stopSession(id: string): Promise<AppStats | undefined> {
  const s = sessions.get(id);
  if (s === undefined) return undefined;
  channel.postMessage({ type: 'stop', sessionId: id, agent: true } satisfies ChannelMessage);
  const deadline = Date.now() + STOP_GRACE_MS;
  while (!s.writer.allProducersExited() && Date.now() < deadline && !finalizing) await sleep(5);
  const stats = endSession(s);
  await s.finished;
  await s.outputClosed;
  // The run that closed a network trace: a relay given up meanwhile (its settle timeout) or gone with packets
  // outstanding is this stop's error, so that the user hears what did not reach it.
  const sink = s.output.sink;
  const loss = s.outputClosed !== undefined && sink instanceof RelayTraceSink ? sink.loss : undefined;
  return loss === undefined || stats.error !== undefined ? stats : { ...stats, error: loss };
}

function endSession(s: RecordingSession): AppStats {
  const id = s.start.config.sessionId;
  sessions.delete(id);
  clearInterval(s.timer);
  try {
    s.finished = s.writer.finish();
  } catch {
    // The folder may be gone; the statistics are still worth reporting.
  }
  // A stopped snapshot session can still be snapshotted: its memory stays until the daemon forgets it (unless
  // it already did, while the stop was under way).
  if (s.output.ring && !forgotten.delete(id)) held.set(id, s);
  else s.outputClosed = release(s);
  return stats(s);
}

/**
 * A run is done with its trace's output: the last one closes it (once the run's streams are closed). The promise
 * resolves once it is closed (never rejects).
 */
function release(s: RecordingSession): Promise<void> | undefined {
  const out = s.output;
  if (--out.users > 0) return undefined;
  outputs.delete(s.start.config.uuid);
  return (s.finished ?? Promise.resolve()).then(() => out.sink?.close()).catch(() => undefined);
}

/**
 * A rotation or clear point: every stream of `runs` is cut after what its thread recorded so far, the threads
 * are asked to close their open packets, and this waits (up to a second: a thread busy all that time hands its
 * packet over later, into the next chunk) until the packets before each cut are out. Packets past the cut
 * (a busy thread's next ones) wait for the next chunk's files.
 */
async function cutAndFlush(runs: readonly RecordingSession[]): Promise<void> {
  for (const r of runs) r.writer.cut();
  for (const r of runs) channel.postMessage({ type: 'flush', sessionId: r.start.config.sessionId, agent: true } satisfies ChannelMessage);
  const deadline = Date.now() + FLUSH_GRACE_MS;
  while (!runs.every((r) => r.writer.ready()) && Date.now() < deadline) await sleep(2);
}

/**
 * The runs (the channels of one trace) go on in the output `next()` makes: their streams in the current one are
 * closed first (the old chunk is complete; its sink is closed too unless `keep`), then the next output gets the
 * preamble, every channel's declarations and new streams. Throws when the next output cannot be made (the runs'
 * packets are then counted unwritten until the next chunk).
 */
async function switchOutput(runs: readonly RecordingSession[], next: () => TraceSink, keep = false): Promise<void> {
  const out = runs[0]!.output;
  await Promise.all(runs.map((r) => r.writer.closeChunk()));
  if (!keep) await out.sink?.close().catch(() => undefined);
  out.sink = undefined;
  let failure: unknown;
  try {
    const sink = next();
    if (!out.shared) sink.writeMetadata(Buffer.from(out.preamble), out.preamble);
    out.sink = sink;
  } catch (err) {
    failure = err;
  }
  for (const r of runs) r.writer.openChunk(out.sink);
  if (failure !== undefined) throw failure;
}

/**
 * A relay's next chunk is on the same connections and must exist before the old chunk's streams close (they
 * rotate into it rather than end): the old streams close into `next`, the next chunk gets the preamble and the
 * reopened streams, and only then does the old chunk close (CLOSE_TRACE_CHUNK), ending the streams nobody reopened.
 */
async function rotateOnRelay(runs: readonly RecordingSession[], current: RelayTraceSink, next: RelayTraceSink): Promise<void> {
  const out = runs[0]!.output;
  await Promise.all(runs.map((r) => r.writer.closeChunk()));
  out.sink = next;
  next.writeMetadata(Buffer.from(out.preamble));
  for (const r of runs) r.writer.openChunk(next);
  await current.close();
}

/**
 * 'rotate': the runs' files so far form the old chunk; writing goes on in `m.dir`. Answered with 'rotated'.
 * Threads are asked to close their open packets first (as LTTng flushes at a rotation) and given up to a second
 * to do so; a thread busy all that time hands its packet over later, into the new chunk.
 */
async function rotate(c: Conn, m: Extract<DaemonToApp, { type: 'rotate' }>): Promise<void> {
  const runs = m.runs.map((k) => sessions.get(k)).filter((r): r is RecordingSession => r !== undefined && !r.output.ring);
  await cutAndFlush(runs);
  try {
    const chunk = m.relayChunk;
    if (runs.length > 0 && chunk !== undefined) {
      const current = runs[0]!.output.sink;
      if (!(current instanceof RelayTraceSink)) throw new Error('this trace does not stream to a relay');
      await rotateOnRelay(runs, current, current.nextChunk(chunk));
    } else if (runs.length > 0) {
      const out = runs[0]!.output;
      out.dir = m.dir;
      await switchOutput(runs, () => (out.via ? daemonSink(out.via, m.dir, out.shared) : FileTraceSink.create(m.dir, undefined, 0, out.shared)));
    }
    send(c, { type: 'rotated', sessionId: m.sessionId, ok: true });
  } catch (err) {
    send(c, { type: 'rotated', sessionId: m.sessionId, ok: false, reason: (err as Error).message });
  }
}

/**
 * 'clear': what the runs recorded so far goes. Snapshot runs drop the packets they hold; recording runs ask
 * their threads to flush, then start their files again empty, in the same folder. Answered with 'cleared'.
 */
async function clear(c: Conn, m: Extract<DaemonToApp, { type: 'clear' }>): Promise<void> {
  const runs = m.runs.map((k) => sessions.get(k) ?? held.get(k)).filter((r): r is RecordingSession => r !== undefined);
  // Records in packets the threads are still filling were recorded before the clear too: flushed first.
  const live = runs.filter((r) => sessions.has(r.start.config.sessionId));
  await cutAndFlush(live);
  const output = runs[0]?.output;
  try {
    if (output?.ring) {
      const ring = output.ring;
      await switchOutput(runs, () => (ring.reset(), ring), true);
    } else if (output !== undefined && live.length > 0) {
      // The folder's files start again empty; those of threads gone since go. A per-UID folder is emptied by the
      // daemon (it holds other apps' files and the daemon's preamble) before it asks.
      // A folder the daemon writes: it empties it (per-PID) as it opens it again.
      const via = output.via;
      await switchOutput(live, () => via
        ? daemonSink(via, output.dir, output.shared, !output.shared)
        : (output.shared || emptyTraceFolder(output.dir), FileTraceSink.create(output.dir, undefined, 0, output.shared)));
    }
    send(c, { type: 'cleared', sessionId: m.sessionId, ok: true });
  } catch (err) {
    send(c, { type: 'cleared', sessionId: m.sessionId, ok: false, reason: (err as Error).message });
  }
}


/** 'snapshot': the runs' held packets as one trace in `dir`, answered with 'snapshot-done'. */
async function snapshot(c: Conn, m: Extract<DaemonToApp, { type: 'snapshot' }>): Promise<void> {
  const runs = m.runs.map((k) => sessions.get(k) ?? held.get(k)).filter((r): r is RecordingSession => r !== undefined && r.output.ring !== undefined);
  const ring = runs[0]?.output.ring;
  if (ring === undefined) {
    send(c, { type: 'snapshot-done', sessionId: m.sessionId, ok: true, bytes: 0, packets: 0 });
    return;
  }
  try {
    // Threads declare events on the BroadcastChannel, asynchronously: give declarations already posted for the
    // records about to be copied the time to arrive, as a snapshot's metadata is written once.
    await sleep(DECLARATION_GRACE_MS);
    const open = new Map<StreamSink, HeldPacket>();
    for (const r of runs) r.writer.openPackets(open);
    const relay = m.relay;
    let sink: RelayTraceSink | undefined;
    const preamble = runs[0]!.output.preamble;
    const via = m.viaDaemon === true ? c : runs[0]!.output.via;
    const to = relay
      ? () => (sink = relayTraceSink({ ...relay.target, tracePath: relay.tracePath, settleTimeoutMs: 5000 }))
      : m.sharedMetadata
        ? () => withoutPreamble(via ? daemonSink(via, m.dir, true) : FileTraceSink.create(m.dir, undefined, 0, true, false), preamble)
        : via
          ? () => daemonSink(via, m.dir, false)
          : m.dir;
    // A per-process trace is written even when the app's buffers are empty (a clear since): its metadata, as
    // LTTng writes a live app's; a per-UID one has the daemon's preamble whatever the apps hold.
    const r = await ring.writeSnapshot(to, undefined, m.maxBytes, open, !m.sharedMetadata);
    if (sink?.error) throw sink.error;
    send(c, { type: 'snapshot-done', sessionId: m.sessionId, ok: true, bytes: r.bytes, packets: r.packets });
  } catch (err) {
    const e = err as Error & { code?: string };
    send(c, { type: 'snapshot-done', sessionId: m.sessionId, ok: false, bytes: 0, packets: 0, reason: e.message ?? String(err), ...(e.code ? { code: e.code } : {}) });
  }
}

/**
 * A per-UID snapshot folder's sink: the daemon wrote the trace's preamble, so the ring's own (its first piece of
 * metadata, kept for network outputs, which are per process) is left out.
 */
function withoutPreamble(sink: TraceSink, preamble: string): TraceSink {
  const text = Buffer.from(preamble);
  return {
    writeMetadata: (packets, t) => {
      if (!Buffer.from(packets.buffer, packets.byteOffset, packets.byteLength).equals(text)) sink.writeMetadata(packets, '');
      void t;
    },
    openStream: (info) => sink.openStream(info),
    close: () => sink.close(),
  };
}

/**
 * 'regenerate-metadata' (per-UID files): the daemon replaced the folder's metadata by its preamble alone; the
 * runs' sink reopens it and every run appends its declarations again, in one step of this thread (no other
 * append of theirs can come between). Answered with 'regenerated'.
 */
function regenerateMetadata(c: Conn, m: Extract<DaemonToApp, { type: 'regenerate-metadata' }>): void {
  try {
    const runs = m.runs.map((k) => sessions.get(k)).filter((r): r is RecordingSession => r !== undefined);
    const sink = runs[0]?.output.sink;
    if (runs.length > 0 && !runs[0]!.output.shared) throw new Error('this trace is not per-UID');
    if (sink instanceof FileTraceSink || sink instanceof DaemonTraceSink) {
      sink.reopenMetadata();
      for (const r of runs) r.writer.redeclare();
    }
    send(c, { type: 'regenerated', sessionId: m.sessionId, ok: true });
  } catch (err) {
    send(c, { type: 'regenerated', sessionId: m.sessionId, ok: false, reason: (err as Error).message });
  }
}

/** 'forget': a stopped snapshot run's memory goes (a run still stopping lets it go when it ends). */
function forget(id: string): void {
  if (sessions.has(id)) forgotten.add(id);
  const s = held.get(id);
  if (s === undefined) return;
  held.delete(id);
  release(s);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function onDaemon(c: Conn, m: DaemonToApp): void {
  switch (m.type) {
    case 'challenge': {
      // Root's daemon asks who we are: a file in its auth folder, owned by this process's uid and gid. Only a
      // challenge naming that folder and a plain nonce is answered.
      try {
        c.credentialFile = answerChallenge(dirname(c.path), m.dir, m.nonce);
      } catch (error) {
        // A challenge naming another folder is not answered. Not in the daemon's group (EPERM): the daemon
        // refuses the registration and the app runs untraced.
        if ((error as ControlError).code !== 'EPERM') {
          c.socket.destroy();
          return;
        }
      }
      send(c, { type: 'auth' });
      return;
    }
    case 'registered': {
      c.registered = true;
      if (typeof m.dataToken === 'string') c.dataToken = m.dataToken;
      forgetCredentialFile(c);
      const started: SessionConfig[] = [];
      for (const s of m.sessions) {
        const r = startSession(c, s);
        if (r.config) started.push(r.config);
        send(c, { type: 'started', sessionId: s.config.sessionId, ok: r.ok, ...(r.reason ? { reason: r.reason } : {}) });
      }
      // The main thread may be waiting for exactly this (the bounded registration wait).
      port.postMessage({ type: 'sessions', configs: started });
      // Tracepoints declared while the registration was in flight.
      const known = tracepoints.filter((tp) => !pendingTracepoints.includes(tp));
      if (known.length > 0) send(c, { type: 'tracepoints', tracepoints: known });
      return;
    }
    case 'refused':
      try {
        refusedAt.set(c.path, socketIdentity(c.path));
      } catch {
        // The socket is gone: a daemon that comes back is asked again.
      }
      c.socket.destroy();
      return;
    case 'start': {
      const r = startSession(c, m.session);
      send(c, { type: 'started', sessionId: m.session.config.sessionId, ok: r.ok, ...(r.reason ? { reason: r.reason } : {}) });
      return;
    }
    case 'rules':
      if (sessions.has(m.sessionId)) channel.postMessage({ type: 'rules', sessionId: m.sessionId, rules: m.rules, agent: true } satisfies ChannelMessage);
      return;
    case 'stop':
      void stopSession(m.sessionId).then((st) => {
        send(c, { type: 'stopped', sessionId: m.sessionId, stats: st ?? { recorded: 0, discarded: 0, lostPackets: 0, lostEvents: 0 } });
      });
      return;
    case 'snapshot':
      void snapshot(c, m);
      return;
    case 'forget':
      forget(m.sessionId);
      return;
    case 'rotate':
      void rotate(c, m);
      return;
    case 'clear':
      void clear(c, m);
      return;
    case 'regenerate-metadata':
      regenerateMetadata(c, m);
      return;
    case 'announce':
      announceNewStream(m.sessionId);
      return;
    case 'statedump':
      if (sessions.has(m.sessionId)) channel.postMessage({ type: 'statedump', sessionId: m.sessionId, agent: true } satisfies ChannelMessage);
      return;
  }
}

function forgetCredentialFile(c: Conn): void {
  if (c.credentialFile === undefined) return;
  dropChallengeFile(c.credentialFile);
  c.credentialFile = undefined;
}

/** `initial`: a daemon there at the app's start, whose answer the app's start waits for (boundedly). */
function connect(path: string, initial: boolean): void {
  linked.add(path);
  const socket = createConnection(path);
  const c: Conn = { socket, path, registered: false };
  let answered = !initial;
  const answer = () => {
    if (!answered) {
      answered = true;
      registrationAnswered();
    }
  };
  const decoder = new FrameDecoder(MAX_FRAME);
  socket.on('connect', () => {
    conns.add(c);
    send(c, {
      type: 'register',
      version: APP_PROTOCOL_VERSION,
      pid: init.pid,
      ppid: init.ppid,
      uid: init.uid,
      gid: init.gid,
      procname: init.procname,
      tracepoints,
    });
  });
  socket.on('data', (chunk: Buffer) => {
    for (const f of decoder.push(chunk)) {
      if (!f.ok) {
        socket.destroy();
        return;
      }
      const m = f.body as DaemonToApp;
      try {
        onDaemon(c, m);
      } catch {
        // A daemon bug must not take the application down.
      }
      // After onDaemon: a registration's sessions are posted before the app's start-up wait ends.
      if (m.type === 'registered' || m.type === 'refused') answer();
    }
  });
  // No daemon, a stale socket, a daemon that died: the app goes on untraced.
  socket.on('error', () => undefined);
  socket.on('close', () => {
    conns.delete(c);
    c.data?.close();
    linked.delete(path);
    forgetCredentialFile(c);
    answer();
    for (const s of [...sessions.values()]) {
      if (s.conn !== c) continue;
      channel.postMessage({ type: 'stop', sessionId: s.start.config.sessionId, agent: true } satisfies ChannelMessage);
      endSession(s);
    }
    // Its daemon is gone: nobody will ask for a snapshot of its sessions any more.
    for (const [id, s] of [...held]) if (s.conn === c) forget(id);
  });
}

/**
 * Process exit: write every session out, report the final statistics, hand the snapshot runs' packets over to
 * their daemons, then let the main thread go.
 */
function finish(): void {
  finalizing = true;
  const flushes: Promise<void>[] = [];
  const ended = [...sessions.values()].map((s) => ({ s, st: endSession(s) }));
  // Traces the daemon writes: the daemon hears 'stopped' once it wrote and closed them (their last packets are
  // on disk before a stop it reports), so each run answers after every output is closed.
  const closed = Promise.all(ended.map(({ s }) => s.outputClosed));
  for (const { s, st } of ended) {
    const stopped = () => new Promise<void>((r) => send(s.conn, { type: 'stopped', sessionId: s.start.config.sessionId, stats: st }, r));
    flushes.push(s.output.via ? closed.then(stopped) : stopped());
    // A relay output has packets in flight: the process waits for them as it waits for its frames.
    if (s.outputClosed) flushes.push(s.outputClosed);
  }
  flushes.push(...handOver());
  void Promise.all(flushes).then(() => {
    Atomics.store(ctrl, AGENT_DONE, 1);
    Atomics.notify(ctrl, AGENT_DONE);
  });
}

/**
 * At exit, each snapshot run (recording until now, or stopped and not forgotten) sends what it holds to its
 * daemon, which keeps it for the session's next snapshots (app-protocol.ts). Resolves as the frames are written
 * (the socket then delivers them after this process is gone).
 */
function handOver(): Promise<void>[] {
  const written: Promise<void>[] = [];
  for (const [id, s] of held) {
    if (!s.conn.registered) continue;
    const { preamble, ring } = s.output;
    send(s.conn, { type: 'held', sessionId: id, preamble, declarations: s.writer.declared });
    for (const stream of ring!.held().streams) {
      if (!s.writer.hasStream(stream.info.fileName)) continue;
      for (const { bytes: p } of stream.packets) {
        for (let at = 0; at < p.length; at += HELD_PIECE_BYTES) {
          const m: AppToDaemon = {
            type: 'held-packet',
            sessionId: id,
            stream: stream.info.fileName,
            data: Buffer.from(p.buffer, p.byteOffset + at, Math.min(HELD_PIECE_BYTES, p.length - at)).toString('base64'),
            last: at + HELD_PIECE_BYTES >= p.length,
          };
          written.push(new Promise((r) => send(s.conn, m, r)));
        }
      }
    }
  }
  return written;
}

const fin = waitAsync(ctrl, AGENT_FINAL, 0);
if (fin.async) void fin.value.then(finish);
else finish();
// Threads that declared events before this channel existed (registration wait disabled or timed out) say so again.
channel.postMessage({ type: 'announce' } satisfies ChannelMessage);
// Started late (no daemon at the app's start): nobody waits for a registration.
if (init.sockets.length === 0) Atomics.store(ctrl, AGENT_REGISTERED, 1);
for (const path of init.sockets) connect(path, true);

/** Joins the daemons that appeared, or came back, since: as LTTng-UST apps register with a later sessiond. */
function rescan(): void {
  if (finalizing) return;
  for (const path of init.candidates) {
    if (linked.has(path)) continue;
    let id: string;
    try {
      id = socketIdentity(path);
    } catch {
      continue;
    }
    if (refusedAt.get(path) === id) continue;
    refusedAt.delete(path);
    connect(path, false);
  }
}
setInterval(rescan, DAEMON_POLL_MS).unref();
if (init.sockets.length === 0) rescan();
