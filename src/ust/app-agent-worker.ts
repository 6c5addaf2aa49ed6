// The agent thread of an instrumented process (started by app-agent.ts when a session daemon's app socket exists).
//
// Contract: connects to every app socket in workerData, registers (pid, uid, procname, tracepoints), and sets
// ctrl[AGENT_REGISTERED] once every daemon answered or failed, after posting the sessions to record into right
// away on the registration port (the main thread reads them synchronously: the bounded registration wait).
// Then it serves the daemons: `start` creates the session's trace folder content (metadata preamble) and a
// SessionWriter (trace-writer.ts) and tells every thread (BroadcastChannel, agent: true); `rules` forwards the new
// rules; `stop` tells the threads, gives them a moment to close their packets, writes everything out (rescuing
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
import { clockUuid, measureRealtimeOffset } from './clock.js';
import { traceTsdl } from './metadata.js';
import type { ChannelMessage, SessionConfig } from './tracer.js';
import { SessionWriter } from './trace-writer.js';
import { writeSnapshotTrace } from './snapshot-trace.js';
import { describeIoError } from '../errors.js';
import { answerChallenge, dropChallengeFile } from '../control/credential-challenge.js';
import type { ControlError } from '../control/error-codes.js';
import { makeTraceDirectories, writeTraceFile } from '../ctf/writer/trace-modes.js';

type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t?: number): WaitAsyncResult }).waitAsync.bind(Atomics);

const init = workerData as AgentInit;
const ctrl = new Int32Array(init.ctrl);
const port = init.port as MessagePort;
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
}

interface RecordingSession {
  readonly conn: Conn;
  readonly start: AppSessionStart;
  readonly writer: SessionWriter;
  readonly timer: ReturnType<typeof setInterval>;
}

const conns = new Set<Conn>();
const sessions = new Map<string, RecordingSession>();
const tracepoints: AppTracepoint[] = [];
/** Trace folders whose metadata preamble is written. */
const preambles = new Set<string>();
/** The TSDL preamble of each trace (by trace uuid): every snapshot, and every chunk after a rotation, begins with it. */
const tracePreambles = new Map<string, string>();
/** Snapshot sessions stopped but not forgotten: their writers keep the packets for later snapshots. */
const held = new Map<string, RecordingSession>();
/** Runs the daemon forgot while they were still stopping. */
const forgotten = new Set<string>();
const tracepointNames = new Set<string>();
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
    sessions.get(m.sessionId)?.writer.onMessage(m);
  } else if (m.type === 'declared') {
    if (tracepointNames.has(m.name)) return;
    tracepointNames.add(m.name);
    const tp = { name: m.name, logLevel: m.logLevel, fields: m.fields };
    tracepoints.push(tp);
    if (pendingTracepoints.length === 0) setImmediate(flushTracepoints);
    pendingTracepoints.push(tp);
  }
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
  const preamble = () =>
    traceTsdl({
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
  // The channels of this trace (one uuid) share one preamble, written again at each rotation or snapshot.
  if (!tracePreambles.has(start.config.uuid)) tracePreambles.set(start.config.uuid, preamble());
  // Snapshot sessions write nothing until asked.
  if (start.snapshot) return begin(c, start, new SessionWriter('', id, Math.max(1, start.readTimerMs), true));
  try {
    makeTraceDirectories(join(start.traceDir, 'index'));
    // The channels of one session share the trace (one metadata): its preamble is written once.
    if (!preambles.has(start.traceDir)) writeTraceFile(join(start.traceDir, 'metadata'), tracePreambles.get(start.config.uuid)!);
    preambles.add(start.traceDir);
  } catch (err) {
    // A torn preamble (full disk) would make the folder unreadable: leave no metadata rather than a broken one.
    try {
      if (!preambles.has(start.traceDir)) rmSync(join(start.traceDir, 'metadata'), { force: true });
    } catch {
      // Nothing more to do: the answer below says what went wrong.
    }
    return { ok: false, reason: `cannot start the trace: ${describeIoError(join(start.traceDir, 'metadata'), err)}` };
  }
  return begin(c, start, new SessionWriter(start.traceDir, id, Math.max(1, start.readTimerMs)));
}

/** Records into `writer` from now on: statistics every read-timer period, threads told of the session. */
function begin(c: Conn, start: AppSessionStart, writer: SessionWriter): { ok: boolean; config: SessionConfig } {
  const id = start.config.sessionId;
  const timer = setInterval(() => {
    const s = sessions.get(id);
    if (s !== undefined) send(s.conn, { type: 'stats', sessionId: id, stats: stats(s) });
  }, Math.max(50, start.readTimerMs));
  timer.unref();
  sessions.set(id, { conn: c, start, writer, timer });
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
  return endSession(s);
}

function endSession(s: RecordingSession): AppStats {
  const id = s.start.config.sessionId;
  sessions.delete(id);
  clearInterval(s.timer);
  try {
    s.writer.finish();
  } catch {
    // The folder may be gone; the statistics are still worth reporting.
  }
  // A stopped snapshot session can still be snapshotted: its memory stays until the daemon forgets it (unless
  // it already did, while the stop was under way).
  if (s.writer.snapshot && !forgotten.delete(id)) held.set(id, s);
  dropPreambleOf(s.start.config.uuid);
  return stats(s);
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

/** The preamble of a trace no session records or holds any more goes. */
function dropPreambleOf(uuid: string): void {
  if (![...sessions.values(), ...held.values()].some((x) => x.start.config.uuid === uuid)) tracePreambles.delete(uuid);
}

/**
 * The runs (the channels of one trace) go on writing in `dir`: their files so far are closed, and `dir` gets the
 * trace's metadata (preamble by the first channel, every channel's declarations) and new stream files. `dir`
 * may be their current folder (clear): its files start again empty.
 */
function restartFiles(runs: readonly RecordingSession[], dir: string): void {
  const preamble = tracePreambles.get(runs[0]!.start.config.uuid)!;
  runs.forEach((r, k) => r.writer.rotate(dir, k === 0 ? preamble : undefined));
}

/**
 * 'rotate': the runs' files so far form the old chunk; writing goes on in `m.dir`. Answered with 'rotated'.
 * Threads are asked to close their open packets first (as LTTng flushes at a rotation) and given up to a second
 * to do so; a thread busy all that time hands its packet over later, into the new chunk.
 */
async function rotate(c: Conn, m: Extract<DaemonToApp, { type: 'rotate' }>): Promise<void> {
  const runs = m.runs.map((k) => sessions.get(k)).filter((r): r is RecordingSession => r !== undefined && !r.writer.snapshot);
  await cutAndFlush(runs);
  try {
    if (runs.length > 0) {
      makeTraceDirectories(join(m.dir, 'index'));
      preambles.add(m.dir);
      restartFiles(runs, m.dir);
    }
    send(c, { type: 'rotated', sessionId: m.sessionId, ok: true });
  } catch (err) {
    send(c, { type: 'rotated', sessionId: m.sessionId, ok: false, reason: describeIoError(m.dir, err) });
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
  for (const r of runs) if (r.writer.snapshot) r.writer.clearHeld();
  const recording = live.filter((r) => !r.writer.snapshot);
  const dir = recording[0]?.writer.traceDir ?? '';
  try {
    if (recording.length > 0) restartFiles(recording, dir);
    send(c, { type: 'cleared', sessionId: m.sessionId, ok: true });
  } catch (err) {
    send(c, { type: 'cleared', sessionId: m.sessionId, ok: false, reason: describeIoError(dir, err) });
  }
}

/** 'snapshot': the runs' held packets as one trace in `dir`, answered with 'snapshot-done'. */
async function snapshot(c: Conn, m: Extract<DaemonToApp, { type: 'snapshot' }>): Promise<void> {
  const runs = m.runs.map((k) => sessions.get(k) ?? held.get(k)).filter((r): r is RecordingSession => r !== undefined && r.writer.snapshot);
  const preamble = runs.length > 0 ? tracePreambles.get(runs[0]!.start.config.uuid) : undefined;
  if (preamble === undefined) {
    send(c, { type: 'snapshot-done', sessionId: m.sessionId, ok: true, bytes: 0, packets: 0 });
    return;
  }
  try {
    // Threads declare events on the BroadcastChannel, asynchronously: give declarations already posted for the
    // records about to be copied the time to arrive, as a snapshot's metadata is written once.
    await sleep(DECLARATION_GRACE_MS);
    const r = await writeSnapshotTrace(m.dir, preamble, runs.map((x) => x.writer.snapshotContent()), m.maxBytes);
    send(c, { type: 'snapshot-done', sessionId: m.sessionId, ok: true, ...r });
  } catch (err) {
    const e = err as Error & { code?: string };
    send(c, { type: 'snapshot-done', sessionId: m.sessionId, ok: false, bytes: 0, packets: 0, reason: e.message ?? String(err), ...(e.code ? { code: e.code } : {}) });
  }
}

/** 'forget': a stopped snapshot run's memory goes (a run still stopping lets it go when it ends). */
function forget(id: string): void {
  if (sessions.has(id)) forgotten.add(id);
  const s = held.get(id);
  if (s === undefined) return;
  held.delete(id);
  dropPreambleOf(s.start.config.uuid);
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
  for (const s of [...sessions.values()]) {
    const st = endSession(s);
    flushes.push(new Promise((r) => send(s.conn, { type: 'stopped', sessionId: s.start.config.sessionId, stats: st }, r)));
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
    const preamble = tracePreambles.get(s.start.config.uuid);
    if (preamble === undefined || !s.conn.registered) continue;
    const part = s.writer.snapshotContent();
    send(s.conn, { type: 'held', sessionId: id, preamble, declarations: part.declarations });
    for (const stream of part.streams) {
      for (const p of stream.packets) {
        for (let at = 0; at < p.length; at += HELD_PIECE_BYTES) {
          const m: AppToDaemon = {
            type: 'held-packet',
            sessionId: id,
            stream: stream.name,
            data: p.subarray(at, at + HELD_PIECE_BYTES).toString('base64'),
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
