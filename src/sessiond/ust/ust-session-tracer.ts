// The user-space side of one recording session (the DomainTracer the daemon drives for `-u` commands).
//
// Contract: keeps the session's user-space channels, rules, contexts and vpid/vuid/vgid inclusion sets; start()
// sends every registered app that passes the inclusion sets a `start` with its SessionConfig (rules as
// ltt/ust EventRules: name globs, exclusions, log level, filter) and the per-pid trace folder
// SESSION_OUTPUT/ust/pid/PROCNAME-PID-YYYYmmdd-HHMMSS/ (created here, handed to the app's uid, or written by the daemon for apps that cannot own it: viaDaemon), and waits for
// their answers; apps registering while the session is active get the same through AppRegistry. Rule and channel
// changes while active are pushed to the apps, which apply them when their threads next reach their event loop.
// stop() asks every app to stop, waits (bounded) until each one wrote its trace out and answered with its
// statistics; stats() reports, for the recording channel, the sum over every app that recorded (including apps
// that exited: their last report) of discarded events (discard mode) and lost packets (overwrite mode).
// Every channel enabled at start records: each app thread gets one ring per channel, the channels of an app
// share its per-pid trace (one metadata; channel k's stream class ids are offset by k * 2^20), and an event that
// several channels' rules match is recorded in each, as LTTng does.
// Snapshot sessions: apps write nothing; each keeps its newest packets (its agent's snapshot ring sink), and
// recordSnapshot() has every app of the current (or last) run write them into SNAPSHOT/ust/pid/PROCNAME-PID-DATE/,
// made here as for a start. A stopped run's memory stays in the app until the next start or destroy ('forget').
// An app that exits hands its runs' packets over (exited-app-buffers.ts): the daemon keeps them, bounded per
// user and channel as LTTng's per-UID buffers are, and writes them in each snapshot in the app's folder as the
// app would have; they last as long as a live app's memory would (through snapshots and stop, until clear, the
// next start or destroy).

import { needsOwnedOutput, OwnedDirectory, removeEmptyFolders, removeTree } from '../../ctf/writer/owned-output.js';
import { lchownSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { LttError } from '../../errors.js';
import type { ProcessAttribute } from '../../control/messages.js';
import type { AppSessionStart, AppStats, AppToDaemon } from '../../ust/app-protocol.js';
import { writeHeldTrace } from '../../ctf/writer/snapshot-ring-sink.js';
import { measureRealtimeOffset } from '../../ust/clock.js';
import { ExitedAppBuffers, parseCpuList } from './exited-app-buffers.js';
import { UidTraces } from './uid-traces.js';
import { appView, UidRelayTraces } from './uid-relay-traces.js';
import { FileTraceSink } from '../../ctf/writer/file-sink.js';
import type { TraceSink } from '../../ctf/writer/sink.js';
import { eventMatches, type EventRule } from '../../ust/enablement.js';
import type { ContextName } from '../../ust/event-codegen.js';
import type { SessionConfig } from '../../ust/tracer.js';
import { parseFilter } from '../../filter/parse-filter.js';
import type { DomainTracer, TracerChannelOptions, TracerChannelStats, TracerEventSpec, TracerSessionOptions } from '../domains/domain-tracer.js';
import type { App } from './registered-app.js';
import { relayTraceSink, type RelayChunk, type RelaySinkTarget, type RelayTraceSink } from '../../relay/relay-sink.js';
import { makeTraceDirectories } from '../../ctf/writer/trace-modes.js';
import { folderDateTime, isoBasicDateTime } from '../../ctf/writer/lttng-time-names.js';

const START_ANSWER_TIMEOUT_MS = 3000;
const STOP_ANSWER_TIMEOUT_MS = 10000;
const SNAPSHOT_ANSWER_TIMEOUT_MS = 10000;
const ROTATE_ANSWER_TIMEOUT_MS = 10000;

/** add-context -u types ltt/ust records, and the tracer's name for each. */
const UST_CONTEXTS: Record<string, ContextName> = {
  vpid: 'vpid',
  vtid: 'vtid',
  procname: 'procname',
  '$app.node:async_id': 'async_id',
};

interface RuleState {
  readonly spec: TracerEventSpec;
  enabled: boolean;
}

interface ChannelState {
  readonly name: string;
  readonly options: TracerChannelOptions;
  enabled: boolean;
  readonly rules: RuleState[];
  readonly contexts: ContextName[];
}

/** One app recording in one run (start..stop) of this session. */
interface AppRun {
  readonly app: App;
  readonly key: string;
  readonly channel: string;
  /** The app's per-pid folder name (PROCNAME-PID-DATE) and its trace's uuid (shared by the app's channels). */
  readonly dirName: string;
  readonly uuid: string;
  /** Its stream class ids: [streamIdOffset, + 2^16) for per-UID runs. */
  readonly streamIdOffset: number;
  /** When it began (the trace clock: CLOCK_MONOTONIC ns) and the CPUs the app could run on then (snapshot sessions). */
  readonly startedNs: bigint;
  readonly cpus: number[] | undefined;
  /** Snapshot sessions: the app was told to drop this run's memory. */
  forgotten: boolean;
  stats: AppStats;
  joined: boolean;
  final: boolean;
  /** A write failure of this run was logged / handed to the user (each happens once). */
  errorLogged: boolean;
  errorReported: boolean;
}

let keySeq = 0;

/**
 * How long a new stream's 'announce' round waits: the new stream's own ADD_STREAM is on its way to the relay
 * (the other apps' packets must not overtake it), and streams appearing together share a round.
 */
const ANNOUNCE_MS = 20;

/** LTTng's --blocking-timeout (µs, -1 = forever) as whole ms; -1 (forever) stays -1 on the wire (JSON has no Infinity). */
function blockingMs(us: number): number {
  if (us < 0) return -1;
  return us === 0 ? 0 : Math.max(1, Math.ceil(us / 1000));
}

/** The registry as a session tracer uses it (app-registry.ts): the apps registered now, and the active sessions it
 * tells about apps that register later. */
export interface AppDirectory {
  registeredApps(): App[];
  readonly activeSessions: Set<UstSessionTracer>;
  /** Every session of the daemon with a user-space domain: an exited app's buffers go to those of its runs. */
  readonly sessions: Set<UstSessionTracer>;
}

export class UstSessionTracer implements DomainTracer {
  private readonly channels = new Map<string, ChannelState>();
  private readonly trackers = new Map<ProcessAttribute, Set<number>>();
  private readonly runs: AppRun[] = [];
  private recording: ChannelState[] = [];
  /** Where apps write: the session's current trace chunk (the output, then each rotation's next chunk). */
  private traceDir: string;
  private active = false;
  /** Per-pid folders handed out, so a second run of the same app in this session never reuses one. */
  private readonly usedDirs = new Set<string>();
  /** The session's clock offset, given to each app (AppTraceEnv.clockOffsetNs). */
  private readonly clockOffsetNs = measureRealtimeOffset().toString();
  /** The user-space buffering: set by the first channel (LTTng's default, per-UID). */
  private buffers: 'per-uid' | 'per-pid' = 'per-uid';
  /** Per-UID traces: their folders, preambles and the apps' slots. */
  private readonly uidTraces: UidTraces;
  /** Per-UID network sessions: the users' traces on the relay, streamed by the daemon. */
  private readonly uidRelay: UidRelayTraces;
  /** Snapshot sessions: what exited apps handed over. */
  private readonly exited = new ExitedAppBuffers((name) => this.channel(name).options);

  /** Network sessions: the relay session as apps join it (its current chunk follows rotations). */
  private relay: RelaySinkTarget | undefined;
  /** The next round of 'announce' to the apps (appNewStream). */
  private announceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Per-UID relay traces: each app's slot in its user's trace and the channel layout it was taken for (relaySlot). */
  private readonly relaySlots = new WeakMap<App, { slot: number; layout: string }>();
  private announceAgain = false;

  constructor(
    private readonly registry: AppDirectory,
    private readonly options: TracerSessionOptions,
    private readonly log: (line: string) => void,
  ) {
    this.traceDir = options.traceDir;
    this.relay = options.relay;
    this.uidTraces = new UidTraces({ ...options, clockOffsetNs: this.clockOffsetNs });
    this.uidRelay = new UidRelayTraces((uid) => this.uidTraces.preamble(uid), (line) => this.log(`Session ${options.sessionName}: ${line}`), options.relay?.session.liveTimerUs ?? 0);
  }

  /** Whether apps write per-UID trace folders (ust/uid/UID/64-bit, one per user). */
  private get perUid(): boolean {
    return this.buffers === 'per-uid' && !this.relay;
  }

  /**
   * Per-UID network sessions: the daemon streams one trace per user to the relay (uid-relay-traces.ts), the apps
   * send it their packets and declarations (viaDaemon), as lttng-consumerd streams per-UID buffers; one relay
   * metadata stream cannot be written by several processes. Per-PID network sessions: each app streams itself.
   */
  private get relayPerUid(): boolean {
    return this.buffers === 'per-uid' && this.relay !== undefined && !this.options.snapshot;
  }

  createChannel(name: string, options: TracerChannelOptions): void {
    if (options.numSubbuf < 2) {
      throw new LttError('INVALID', `Invalid parameter: ltt/ust channels need at least 2 sub-buffers (channel ${name})`);
    }
    if (options.subbufSize * options.numSubbuf > 1 << 30) {
      throw new LttError('INVALID', `Invalid parameter: sub-buffer size x count must not exceed 1 GiB per thread (channel ${name})`);
    }
    if (this.channels.size === 0 && options.buffers !== undefined) this.buffers = options.buffers;
    this.channels.set(name, { name, options: { ...options }, enabled: true, rules: [], contexts: [] });
  }

  private channel(name: string): ChannelState {
    const c = this.channels.get(name);
    if (!c) throw new LttError('UST_CHAN_NOT_FOUND', 'UST channel not found');
    return c;
  }

  enableEvent(channelName: string, spec: TracerEventSpec): string[] {
    const c = this.channel(channelName);
    if (spec.type !== 'tracepoint') throw new LttError('INVALID', 'Invalid parameter: event type not available for user-space tracing');
    if (spec.filter !== undefined) parseFilter(spec.filter); // a syntax error is the user's one-line error
    const same = c.rules.find((r) => JSON.stringify(r.spec) === JSON.stringify(spec));
    if (same) same.enabled = true;
    else c.rules.push({ spec: { ...spec }, enabled: true });
    this.pushRules(c);
    const rule = toEventRule(spec);
    const matched = new Set<string>();
    for (const app of this.registry.registeredApps()) {
      for (const tp of app.tracepoints) if (ruleMatches(rule, tp.name, tp.logLevel)) matched.add(tp.name);
    }
    return [...matched];
  }

  disableEvent(channelName: string, name: string): void {
    const c = this.channel(channelName);
    for (const r of c.rules) if (r.spec.name === name) r.enabled = false;
    this.pushRules(c);
  }

  enableChannel(name: string): void {
    const c = this.channel(name);
    c.enabled = true;
    this.pushRules(c);
  }

  disableChannel(name: string): void {
    const c = this.channel(name);
    c.enabled = false;
    this.pushRules(c);
  }

  addContext(channelName: string | undefined, context: string): void {
    const ctx = UST_CONTEXTS[context];
    if (ctx === undefined) {
      throw new LttError(
        'UST_CONTEXT_INVAL',
        `UST invalid context: ltt/ust does not record ${context} (it records ${Object.keys(UST_CONTEXTS).join(', ')})`,
      );
    }
    const targets = channelName !== undefined ? [this.channel(channelName)] : [...this.channels.values()];
    for (const c of targets) if (!c.contexts.includes(ctx)) c.contexts.push(ctx);
  }

  track(kind: ProcessAttribute, values: number[] | 'all'): void {
    if (values === 'all') {
      this.trackers.delete(kind);
      return;
    }
    const set = this.trackers.get(kind) ?? new Set<number>();
    for (const v of values) set.add(v);
    this.trackers.set(kind, set);
  }

  untrack(kind: ProcessAttribute, values: number[] | 'all'): void {
    if (values === 'all') {
      this.trackers.set(kind, new Set());
      return;
    }
    const set = this.trackers.get(kind);
    if (set) for (const v of values) set.delete(v);
  }

  private included(app: App): boolean {
    const value: Partial<Record<ProcessAttribute, number>> = { vpid: app.pid, pid: app.pid, vuid: app.uid, uid: app.uid, vgid: app.gid, gid: app.gid };
    for (const [kind, set] of this.trackers) {
      const v = value[kind];
      if (v !== undefined && !set.has(v)) return false;
    }
    return true;
  }

  private rulesOf(c: ChannelState): EventRule[] {
    return c.enabled ? c.rules.filter((r) => r.enabled).map((r) => toEventRule(r.spec)) : [];
  }

  private pushRules(c: ChannelState): void {
    if (!this.active || !this.recording.includes(c)) return;
    const rules = this.rulesOf(c);
    for (const run of this.runs) {
      if (!run.final && run.joined && run.channel === c.name) run.app.send({ type: 'rules', sessionId: run.key, rules });
    }
  }

  /** The start messages for one app (one per recording channel); none if the app is not traced by this session. */
  private startFor(app: App): Array<{ start: AppSessionStart; run: AppRun }> {
    if (this.recording.length === 0 || (!this.traceDir && !this.options.snapshot && !this.relay) || !this.included(app)) return [];
    // Another user's session on root's daemon traces that user's apps only (lttng-sessiond: per-uid access),
    // into folders created with their rights.
    const owner = this.options.owner;
    const forOwner = needsOwnedOutput(owner);
    if (forOwner && app.uid !== owner.uid) return [];
    const joined = new Date();
    // The app names itself: only a plain file name goes into the path (no "..", no "/").
    const procname = app.procname.replace(/[^A-Za-z0-9._+-]/g, '_').replace(/^\.+/, '_');
    let name = `${procname}-${app.pid}-${folderDateTime(app.registeredAt)}`;
    for (let n = 1; this.usedDirs.has(name); n++) name = `${procname}-${app.pid}-${folderDateTime(joined)}${n > 1 ? `-${n}` : ''}`;
    this.usedDirs.add(name);
    const run = ++keySeq;
    if (this.relayPerUid) {
      const slot = this.relaySlot(app);
      if ((slot + 1) * this.recording.length > 1 << 16) {
        this.log(`Session ${this.options.sessionName}: app ${app.procname}-${app.pid} not traced: too many apps of uid ${app.uid} in one session`);
        return [];
      }
      this.uidRelay.trace(app.uid, this.relay!);
      const key = UidRelayTraces.key(this.relay!, app.uid);
      const uuid = this.uidTraces.uuid(app.uid);
      return this.recording.map((c, index) => this.channelStart(app, c, index, `${this.options.sessionName}#${run}:${c.name}`, uuid, key, name, slot));
    }
    if (this.perUid) {
      // One trace per user: the daemon's folder and preamble, the app's own stream ids (slot).
      const slot = this.uidTraces.nextSlot(app.uid);
      if ((slot + 1) * this.recording.length > 1 << 16) {
        this.log(`Session ${this.options.sessionName}: app ${app.procname}-${app.pid} not traced: too many apps of uid ${app.uid} in one session`);
        return [];
      }
      let traceDir = '';
      if (!this.options.snapshot) {
        try {
          traceDir = this.uidTraces.folder(this.traceDir, app, !this.viaDaemon(app));
        } catch (error) {
          this.log(`Session ${this.options.sessionName}: cannot prepare ${UidTraces.path(this.traceDir, app.uid)}: ${(error as Error).message}`);
          return [];
        }
      }
      const uuid = this.uidTraces.uuid(app.uid);
      return this.recording.map((c, index) => this.channelStart(app, c, index, `${this.options.sessionName}#${run}:${c.name}`, uuid, traceDir, name, slot));
    }
    const uuid = randomUUID();
    // Snapshot sessions: the folder is made in each snapshot's folder, at `snapshot record`. Network sessions:
    // the app streams to the relay itself (relay-output.ts), its folder made there.
    if (this.options.snapshot || this.relay) {
      return this.recording.map((c, index) => this.channelStart(app, c, index, `${this.options.sessionName}#${run}:${c.name}`, uuid, '', name));
    }
    const traceDir = this.appFolder(this.traceDir, name, app, !this.viaDaemon(app));
    if (traceDir === undefined) return [];
    return this.recording.map((c, index) => this.channelStart(app, c, index, `${this.options.sessionName}#${run}:${c.name}`, uuid, traceDir, name));
  }

  /**
   * Makes BASE/ust/pid/NAME (and its index/) for `app` to write: inside the session owner's folder when root
   * works for another user (their rights, no links followed), else made here and handed to the app's uid
   * (unless `forApp` is false: the daemon writes it). Undefined (logged) when it cannot be made.
   */
  private appFolder(base: string, name: string, app: App, forApp = true): string | undefined {
    const owner = this.options.owner;
    const forOwner = needsOwnedOutput(owner);
    const traceDir = join(base, 'ust', 'pid', name);
    try {
      if (forOwner) {
        // Inside the owner's folder (the session's, made with their rights at start, or a snapshot's), created
        // without following links.
        const dirs = [OwnedDirectory.open(base, owner)];
        try {
          for (const part of ['ust', 'pid', name, 'index']) dirs.push(dirs[dirs.length - 1]!.subdirectory(part));
        } finally {
          for (const d of dirs) d.close();
        }
      } else {
        makeTraceDirectories(join(traceDir, 'index'));
        // The app writes its own folder: hand it over when the daemon (root) traces another user's process.
        // Inner folder first: once the outer one is the app's, the app could swap what is inside it.
        if (forApp && process.getuid?.() === 0 && app.uid > 0) {
          lchownSync(join(traceDir, 'index'), app.uid, app.gid);
          lchownSync(traceDir, app.uid, app.gid);
        }
      }
    } catch (error) {
      this.log(`Session ${this.options.sessionName}: cannot prepare ${traceDir}: ${(error as Error).message}`);
      return undefined;
    }
    return traceDir;
  }

  /**
   * Whether the daemon writes `app`'s traces in this session (AppSessionStart.viaDaemon): root's daemon and an app
   * of another user than the session's owner. The app could not reach its folder (root's session folders are
   * root:root 0770, root's default output is under /root), and handing folders to it would have root work by path
   * in folders another user controls; so no folder is handed over and the app sends its packets instead
   * (src/ust/app-data-protocol.ts). Sessions of a tracing-group member trace that member's apps only, which
   * write the member's folders themselves.
   */
  private viaDaemon(app: App): boolean {
    return this.relayPerUid || (process.getuid?.() === 0 && app.uid !== this.options.owner.uid);
  }

  /** `dir`, written by the daemon for `app` when it writes its traces (its data connection may open it then). */
  private daemonDir(app: App, dir: string, shared: boolean, snapshot = false): string {
    if (!this.viaDaemon(app) || dir === '') return dir;
    const limits = new Map(this.recording.map((c) => [c.name, { size: c.options.tracefileSize, count: c.options.tracefileCount }]));
    // A per-UID network session's "folder" is the user's trace on the relay.
    const relay = this.relayPerUid && !snapshot ? { relay: () => this.uidRelay.appSink(app.uid) } : {};
    app.daemonDirs.set(dir, { shared, snapshot, limits, ...relay });
    return dir;
  }

  /**
   * A live per-UID relay trace: an app recording again with the same channels and contexts (stop, then start)
   * takes its slot again, so its stream classes are the ones it declared before (the same text, not sent twice)
   * and its streams go on in the ones kept idle for it (UidRelayTraces.appSink): as LTTng's per-UID streams
   * outlive a stop, a live viewer follows the same streams (babeltrace 1's lttng-live dies of a stream class
   * that appears mid-session). Otherwise the user's next slot.
   */
  private relaySlot(app: App): number {
    const layout = JSON.stringify(this.recording.map((c) => [c.name, c.contexts]));
    const before = this.relaySlots.get(app);
    if (before !== undefined && before.layout === layout && (this.relay?.session.liveTimerUs ?? 0) > 0) return before.slot;
    const slot = this.uidTraces.nextSlot(app.uid);
    this.relaySlots.set(app, { slot, layout });
    return slot;
  }

  /** `slot`: per-UID traces, the app's slot in its user's trace (its stream ids: slot x channels + channel, x 2^16). */
  /** The per-UID folder of `app`'s user under `base` (made with its preamble on first use); undefined: logged. */
  private uidFolder(base: string, app: App): string | undefined {
    try {
      return this.uidTraces.folder(base, app, !this.viaDaemon(app));
    } catch (error) {
      this.log(`Session ${this.options.sessionName}: cannot prepare ${UidTraces.path(base, app.uid)}: ${(error as Error).message}`);
      return undefined;
    }
  }

  private channelStart(app: App, c: ChannelState, index: number, key: string, uuid: string, traceDir: string, dirName: string, slot?: number): { start: AppSessionStart; run: AppRun } {
    const o = c.options;
    const config: SessionConfig = {
      sessionId: key,
      uuid,
      streamIdOffset: slot === undefined ? index * (1 << 20) : (slot * this.recording.length + index) * (1 << 16),
      ...(slot !== undefined ? { perUid: true } : {}),
      channel: c.name,
      subbufSize: o.subbufSize,
      numSubbuf: o.numSubbuf,
      mode: o.overwrite ? 'overwrite' : 'discard',
      blockingTimeoutMs: o.overwrite ? 0 : blockingMs(o.blockingTimeoutUs ?? 0),
      contexts: [...c.contexts],
      rules: this.rulesOf(c),
      // Live sessions: the live timer closes packets (as LTTng's live timer flushes the streams) unless a switch timer does.
      ...(o.switchTimerUs > 0 || o.liveTimerUs ? { switchTimerMs: Math.max(1, Math.round((o.switchTimerUs || o.liveTimerUs!) / 1000)) } : {}),
    };
    const start: AppSessionStart = {
      config,
      traceDir,
      env: {
        traceName: this.options.sessionName,
        hostname: this.options.hostname,
        creationDatetime: isoBasicDateTime(this.options.creationTime),
        vpidDatetime: isoBasicDateTime(app.registeredAt),
        clockOffsetNs: this.clockOffsetNs,
      },
      readTimerMs: o.readTimerUs > 0 ? Math.max(1, Math.round(o.readTimerUs / 1000)) : 1000,
      ...(o.tracefileSize > 0 ? { tracefileSize: o.tracefileSize, tracefileCount: o.tracefileCount } : {}),
      ...(this.options.snapshot ? { snapshot: true } : {}),
      ...(this.relay && !this.relayPerUid ? { relay: { target: this.relay, tracePath: `ust/pid/${dirName}` } } : {}),
      ...(slot !== undefined && traceDir !== '' ? { sharedMetadata: true } : {}),
      ...(this.viaDaemon(app) && (!this.relay || this.relayPerUid) ? { viaDaemon: true } : {}),
      ...(this.relayPerUid && this.relay!.session.liveTimerUs > 0 ? { liveTimerUs: this.relay!.session.liveTimerUs } : {}),
    };
    this.daemonDir(app, traceDir, slot !== undefined);
    const run: AppRun = {
      app,
      key,
      channel: c.name,
      dirName,
      uuid,
      streamIdOffset: config.streamIdOffset ?? 0,
      startedNs: process.hrtime.bigint(),
      // Read now: the app may be gone (reaped) by the time its handed-over packets are read.
      cpus: this.options.snapshot ? allowedCpus(app.pid) : undefined,
      forgotten: false,
      stats: { recorded: 0, discarded: 0, lostPackets: 0, lostEvents: 0 },
      joined: false,
      final: false,
      errorLogged: false,
      errorReported: false,
    };
    this.runs.push(run);
    return { start, run };
  }

  /** AppRegistry: an app registered while this session is active. */
  appRegistered(app: App): AppSessionStart[] {
    return this.startFor(app).map((s) => {
      // It answers `started` right after `registered`.
      s.run.joined = true;
      return s.start;
    });
  }

  appStarted(app: App, key: string, ok: boolean): void {
    const run = this.runs.find((r) => r.app === app && r.key === key);
    if (!run) return;
    run.joined = ok;
    if (!ok) run.final = true;
  }

  /**
   * AppRegistry: run `key` of `app` got a new stream in this live session. Every app of the session, that one
   * too, closes a packet on each of its streams (babeltrace2 2.0's lttng-live reads the relay's new-stream flag
   * only on an index of a stream it follows, which may be any app's quiet stream). Rounds are at most one per
   * ANNOUNCE_MS, whatever apps send; streams of several apps appearing in one window share a round.
   */
  appNewStream(app: App, key: string): void {
    if (!(this.relay?.session.liveTimerUs ?? 0) || !this.runs.some((r) => r.app === app && r.key === key)) return;
    this.scheduleAnnounce();
  }

  private scheduleAnnounce(): void {
    if (this.announceTimer !== undefined) {
      // A stream that appeared in the round's window may reach the relay after the round's packets: one more.
      this.announceAgain = true;
      return;
    }
    this.announceTimer = setTimeout(() => {
      this.announceTimer = undefined;
      for (const run of this.runs) if (run.joined && !run.final) run.app.send({ type: 'announce', sessionId: run.key });
      // Per-UID: the streams of ended runs that the user's trace keeps announce it too.
      this.uidRelay.announce();
      if (!this.announceAgain) return;
      this.announceAgain = false;
      this.scheduleAnnounce();
    }, ANNOUNCE_MS);
    this.announceTimer.unref();
  }

  appStats(app: App, key: string, stats: AppStats, final: boolean): void {
    const run = this.runs.find((r) => r.app === app && r.key === key);
    if (!run || run.final) return;
    run.stats = stats;
    this.noteError(run);
    if (final) run.final = true;
  }

  /** Logs an app's first write failure once (the daemon log is where a full disk shows first). */
  private noteError(run: AppRun): void {
    if (run.stats.error === undefined || run.errorLogged) return;
    run.errorLogged = true;
    this.log(`Session ${this.options.sessionName}: ${describeLoss(run)}`);
  }

  writeErrors(): string[] {
    const out: string[] = [];
    for (const run of this.runs) {
      if (run.stats.error === undefined || run.errorReported) continue;
      run.errorReported = true;
      out.push(describeLoss(run));
    }
    // Per-UID network sessions: the users' traces the relay did not take whole (stop's settle, destroy's close).
    out.push(...this.uidRelay.takeLosses());
    return out;
  }

  appGone(app: App): void {
    for (const run of this.runs) if (run.app === app) run.final = true;
  }

  /** AppRegistry: a snapshot run's packets handed over at the app's exit (ignored unless the run is this session's). */
  appHandedOver(app: App, m: Extract<AppToDaemon, { type: 'held' | 'held-packet' }>): void {
    const run = this.runs.find((r) => r.app === app && r.key === m.sessionId);
    if (run === undefined || run.forgotten || !this.options.snapshot) return;
    if (m.type === 'held') {
      this.exited.begin(run.key, run.channel, app.uid, m.preamble, m.declarations, run.cpus, run.startedNs);
      this.log(`Session ${this.options.sessionName}: app ${app.procname}-${app.pid} exited; its channel ${run.channel} packets are kept for snapshots (CPUs ${run.cpus?.join(',') ?? 'unknown'})`);
    } else this.exited.addPiece(run.key, m.stream, Buffer.from(m.data, 'base64'), m.last);
  }

  /** The runs of connected (or also `gone`) apps that joined and pass `keep`, by app (one request per app and trace). */
  private runsByApp(keep: (run: AppRun) => boolean, gone = false): Map<App, AppRun[]> {
    const byApp = new Map<App, AppRun[]>();
    for (const run of this.runs) {
      if (!run.joined || (run.app.closed && !gone) || !keep(run)) continue;
      byApp.set(run.app, [...(byApp.get(run.app) ?? []), run]);
    }
    return byApp;
  }

  /** Snapshot sessions: the apps drop what earlier runs kept (a new run, or the session's end). */
  private forgetRuns(): void {
    if (!this.options.snapshot) return;
    for (const run of this.runs) {
      if (run.forgotten) continue;
      run.forgotten = true;
      this.exited.drop(run.key);
      run.app.send({ type: 'forget', sessionId: run.key });
    }
  }

  /**
   * `snapshot record`: every app of the current (or last) run writes what it holds into
   * DIR/ust/pid/PROCNAME-PID-DATE/, and the daemon writes there what exited apps handed over; `maxBytes` (0:
   * none) is shared equally by the apps. An app that does not answer in time is left out (logged); a size below
   * one packet per stream is LttError MAX_SIZE_INVALID.
   */
  async recordSnapshot(to: string | RelaySinkTarget, maxBytes: number): Promise<{ bytes: number; packets: number; streams: number }> {
    // A network output: each app streams its part into the relay's snapshot chunk itself (no folder here).
    const relay = typeof to === 'string' ? undefined : to;
    const dir = typeof to === 'string' ? to : '';
    const removeEmpty = (folder: string) => (relay ? Promise.resolve() : removeEmptyFolders(this.options.owner, folder));
    const handedOver = this.runsByApp((run) => this.exited.has(run.key), true);
    const byApp = this.runsByApp((run) => !run.forgotten && !handedOver.has(run.app));
    const apps = byApp.size + handedOver.size;
    const share = maxBytes > 0 && apps > 0 ? Math.max(1, Math.floor(maxBytes / apps)) : 0;
    const total = { bytes: 0, packets: 0, streams: 0 };
    let sizeError: LttError | undefined;
    let failure: string | undefined;
    const written = async (app: App, folder: string, m: { ok: boolean; bytes: number; packets: number; code?: string; reason?: string }) => {
      if (m.ok && m.packets === 0) await removeIfEmpty(folder);
      if (!m.ok) {
        if (m.code === 'MAX_SIZE_INVALID') sizeError ??= new LttError('MAX_SIZE_INVALID', m.reason ?? 'Invalid snapshot size');
        else failure ??= `app ${app.procname}-${app.pid}: ${m.reason ?? 'snapshot failed'}`;
        return;
      }
      total.bytes += m.bytes;
      total.packets += m.packets;
      total.streams++;
    };
    // Per-UID: the apps of one user (and what exited ones handed over) write into one folder of the snapshot,
    // whose metadata the daemon begins; to a network output, into the user's trace that the daemon streams
    // (uidOnRelay), as lttng-consumerd sends per-UID buffers: every user whose apps recorded in the session has
    // one, empty or not (LTTng's per-UID buffers outlive the apps).
    const uidOnRelay = relay !== undefined && this.buffers === 'per-uid' ? this.snapshotUserTraces(relay) : undefined;
    const shared = (this.perUid && !relay) || uidOnRelay !== undefined;
    if (shared && !relay) {
      // Every user whose apps recorded in the session has a trace in the snapshot, empty or not (a snapshot
      // after a clear reads as an empty trace, as LTTng's per-UID buffers outlive their apps).
      for (const app of new Map(this.runs.map((r) => [r.app.uid, r.app])).values()) {
        try {
          this.uidTraces.folder(dir, app, !this.viaDaemon(app));
        } catch (error) {
          this.log(`Session ${this.options.sessionName}: cannot prepare ${UidTraces.path(dir, app.uid)}: ${(error as Error).message}`);
        }
      }
    }
    const removeIfEmpty = (folder: string) => (shared ? Promise.resolve() : removeEmpty(folder));
    const folderOf = (app: App, runs: AppRun[], forApp: boolean): string | undefined => {
      if (uidOnRelay !== undefined) return `relay-snapshot:${uidOnRelay.id}:${UidRelayTraces.tracePath(app.uid)}`;
      if (relay) return '';
      if (shared) {
        try {
          return this.uidTraces.folder(dir, app, !this.viaDaemon(app));
        } catch (error) {
          this.log(`Session ${this.options.sessionName}: cannot prepare ${UidTraces.path(dir, app.uid)}: ${(error as Error).message}`);
          failure ??= `cannot make the folder of uid ${app.uid} (see the daemon log)`;
          return undefined;
        }
      }
      const folder = this.appFolder(dir, runs[0]!.dirName, app, forApp);
      if (folder === undefined) failure ??= `cannot make the folder of app ${app.procname}-${app.pid} (see the daemon log)`;
      return folder;
    };
    // The users' relay traces are closed whatever happens to the parts (a rejected part must not leave them open).
    const parts = Promise.all([
      ...[...byApp].map(async ([app, runs]) => {
        const folder = folderOf(app, runs, !this.viaDaemon(app));
        if (folder === undefined) return;
        if (uidOnRelay !== undefined) {
          // The app sends its part through its data connection, into its user's trace on the relay.
          app.daemonDirs.set(folder, { shared: true, snapshot: true, limits: new Map(), relay: () => uidOnRelay.view(app.uid) });
        } else if (!relay) this.daemonDir(app, folder, shared, true);
        const request = `snapshot#${++keySeq}`;
        const streamed = relay && uidOnRelay === undefined ? { relay: { target: relay, tracePath: `ust/pid/${runs[0]!.dirName}` } } : {};
        app.send({
          type: 'snapshot', sessionId: request, runs: runs.map((r) => r.key), dir: folder, maxBytes: share, ...streamed,
          ...(shared ? { sharedMetadata: true } : {}), ...(uidOnRelay !== undefined ? { viaDaemon: true } : {}),
        });
        const m = await app.waitFor('snapshot-done', request, SNAPSHOT_ANSWER_TIMEOUT_MS);
        // The snapshot is over for this app: its data connection may not open that folder again.
        app.daemonDirs.delete(folder);
        if (m?.type !== 'snapshot-done') {
          // Gone meanwhile (its folder stays empty: removed) or too slow: the snapshot misses it, say so.
          if (app.closed) await removeIfEmpty(folder);
          else failure ??= `app ${app.procname}-${app.pid} did not answer within ${SNAPSHOT_ANSWER_TIMEOUT_MS / 1000} s`;
          this.log(`Session ${this.options.sessionName}: app ${app.procname}-${app.pid} did not answer the snapshot`);
          return;
        }
        await written(app, folder, m);
      }),
      ...[...handedOver].map(async ([app, runs]) => {
        const folder = folderOf(app, runs, false);
        if (folder === undefined) return;
        const held = this.exited.content(runs.map((r) => r.key))!;
        try {
          let sink: RelayTraceSink | undefined;
          const out = uidOnRelay !== undefined
            ? () => uidOnRelay.view(app.uid) ?? failNoTrace(app.uid)
            : relay
            ? () => (sink = relayTraceSink({ ...relay, tracePath: `ust/pid/${runs[0]!.dirName}` }))
            : shared
              ? // The folder is the app user's (they write it): root writes there as them, following no link.
                () => FileTraceSink.create(folder, process.getuid?.() === 0 && app.uid > 0 && !needsOwnedOutput(this.options.owner) && !this.viaDaemon(app) ? { uid: app.uid, gid: app.gid } : this.options.owner, 0, true, false)
              : folder;
          // A per-UID folder (or relay trace) has the daemon's preamble: the app's own (the first piece) stays out.
          const result = await writeHeldTrace(out, this.options.owner, share, shared ? held.metadata.slice(1) : held.metadata, held.streams);
          if (sink?.error) throw sink.error;
          await written(app, folder, { ok: true, ...result });
        } catch (error) {
          const e = error as Error & { code?: string };
          await written(app, folder, { ok: false, bytes: 0, packets: 0, reason: e.message, ...(e.code ? { code: e.code } : {}) });
        }
      }),
    ]);
    try {
      await parts;
    } finally {
      if (uidOnRelay !== undefined) {
        const error = await uidOnRelay.close();
        if (error !== undefined) failure ??= error;
      }
    }
    if (sizeError) throw sizeError;
    if (failure !== undefined) throw new LttError('SNAPSHOT_FAIL', failure);
    return total;
  }

  /**
   * A per-UID snapshot to a relay: one trace per user whose apps recorded in this session (ust/uid/UID/64-bit in
   * the snapshot's chunk), begun with the user's preamble, that the apps' parts (`view`) go into; close() ends
   * them once everything is sent (the relay's error, if any).
   */
  private snapshotUserTraces(relay: RelaySinkTarget): { id: number; view(uid: number): TraceSink | undefined; close(): Promise<string | undefined> } {
    const sinks = new Map<number, RelayTraceSink>();
    for (const uid of new Set(this.runs.map((r) => r.app.uid))) {
      const sink = relayTraceSink({ ...relay, tracePath: UidRelayTraces.tracePath(uid), settleTimeoutMs: SNAPSHOT_ANSWER_TIMEOUT_MS });
      sink.ready.catch(() => undefined);
      sink.writeMetadata(Buffer.from(this.uidTraces.preamble(uid)));
      sinks.set(uid, sink);
    }
    return {
      id: ++keySeq,
      view: (uid) => {
        const sink = sinks.get(uid);
        return sink === undefined ? undefined : appView(sink);
      },
      close: async () => {
        let error: string | undefined;
        for (const sink of sinks.values()) {
          await sink.close().catch(() => undefined);
          if (sink.error) error ??= sink.error.message;
        }
        return error;
      },
    };
  }

  /**
   * Session rotation: every app recording now closes its files (the chunk being archived) and goes on in its
   * folder of `dir`; apps that join later write there too. Without `dir` (inactive session) only the latter.
   */
  async rotate(next: string | RelayChunk | undefined): Promise<void> {
    if (typeof next === 'object') return this.rotateOnRelay(next);
    const dir = next;
    this.traceDir = dir ?? '';
    if (dir !== undefined && this.perUid && !this.options.snapshot) {
      // The users' traces go on in the next chunk even where none of their apps runs any more (LTTng's per-UID
      // buffers outlive the apps): a chunk with their metadata reads as an empty trace.
      for (const user of this.uidTraces.knownUsers()) {
        try {
          this.uidTraces.folder(dir, user);
        } catch (error) {
          this.log(`Session ${this.options.sessionName}: cannot prepare ${UidTraces.path(dir, user.uid)}: ${(error as Error).message}`);
        }
      }
    }
    if (dir === undefined || !this.active) return;
    const byApp = this.runsByApp((run) => !run.final);
    let failure: string | undefined;
    await Promise.all(
      [...byApp].map(async ([app, runs]) => {
        const folder = this.perUid ? this.uidFolder(dir, app) : this.appFolder(dir, runs[0]!.dirName, app, !this.viaDaemon(app));
        if (folder === undefined) {
          failure ??= `cannot make the folder of app ${app.procname}-${app.pid} (see the daemon log)`;
          return;
        }
        this.daemonDir(app, folder, this.perUid);
        const request = `rotate#${++keySeq}`;
        app.send({ type: 'rotate', sessionId: request, runs: runs.map((r) => r.key), dir: folder });
        const m = await app.waitFor('rotated', request, ROTATE_ANSWER_TIMEOUT_MS);
        if (m?.type === 'rotated' && m.ok) return;
        // The archive then holds what the app wrote (its open files move with the folder): said, not fatal.
        const why = m?.type === 'rotated' ? (m.reason ?? 'refused') : app.closed ? 'exited' : 'no answer';
        this.log(`Session ${this.options.sessionName}: app ${app.procname}-${app.pid} did not rotate: ${why}`);
      }),
    );
    if (failure !== undefined) throw new LttError('ROTATION_FAIL', failure);
  }

  /**
   * Network sessions: every app recording now rotates its relay streams into `chunk` (on its own connections);
   * apps that join later join that chunk. An app that does not rotate is logged: its streams stay in the old
   * chunk, which the relay then archives (or deletes) once that app's connection is gone.
   */
  private async rotateOnRelay(chunk: RelayChunk): Promise<void> {
    const relay = this.relay!;
    this.relay = { ...relay, session: { ...relay.session, chunkId: chunk.id } };
    // Per-UID: the users' traces go on in the next chunk first (their apps' streams rotate into it), even where
    // none of their apps records (LTTng's per-UID buffers outlive the apps); their old chunks close last.
    const closeOld = this.relayPerUid ? this.uidRelay.rotate(chunk) : undefined;
    try {
      if (this.active) await this.appsRotateOnRelay(chunk, relay);
    } finally {
      await closeOld?.();
    }
  }

  private async appsRotateOnRelay(chunk: RelayChunk, old: RelaySinkTarget): Promise<void> {
    const byApp = this.runsByApp((run) => !run.final);
    await Promise.all(
      [...byApp].map(async ([app, runs]) => {
        const request = `rotate#${++keySeq}`;
        if (this.relayPerUid) {
          // The app's streams go on in its user's trace in the next chunk, through the daemon.
          const dir = this.daemonDir(app, UidRelayTraces.key(this.relay!, app.uid), true);
          app.daemonDirs.delete(UidRelayTraces.key(old, app.uid));
          app.send({ type: 'rotate', sessionId: request, runs: runs.map((r) => r.key), dir });
        } else app.send({ type: 'rotate', sessionId: request, runs: runs.map((r) => r.key), dir: '', relayChunk: chunk });
        const m = await app.waitFor('rotated', request, ROTATE_ANSWER_TIMEOUT_MS);
        if (m?.type === 'rotated' && m.ok) return;
        const why = m?.type === 'rotated' ? (m.reason ?? 'refused') : app.closed ? 'exited' : 'no answer';
        this.log(`Session ${this.options.sessionName}: app ${app.procname}-${app.pid} did not rotate on the relay: ${why}`);
      }),
    );
  }

  /**
   * `clear`: recording apps empty their files (snapshot sessions: drop what they hold); the folders of apps that
   * no longer record in the current chunk go.
   */
  async clear(dir: string | undefined): Promise<void> {
    // Runs that exist now: an app that registers during the clear gets a folder of its own, which stays.
    const before = new Set(this.runs);
    // What exited apps handed over goes too (snapshot sessions: LTTng's clear empties the per-UID buffers).
    for (const run of this.runs) this.exited.drop(run.key);
    const byApp = this.runsByApp((run) => !run.forgotten && (this.options.snapshot || !run.final));
    let failure: string | undefined;
    if (this.perUid && !this.options.snapshot && dir !== undefined) {
      // Every file of the users' folders goes (the exited apps' too), before the apps start theirs again.
      for (const f of this.uidTraces.foldersUnder(dir)) {
        try {
          this.uidTraces.empty(f.dir, f.uid);
        } catch (error) {
          failure ??= `cannot clear ${f.dir}: ${(error as Error).message}`;
        }
      }
    }
    await Promise.all(
      [...byApp].map(async ([app, runs]) => {
        const request = `clear#${++keySeq}`;
        app.send({ type: 'clear', sessionId: request, runs: runs.map((r) => r.key) });
        const m = await app.waitFor('cleared', request, ROTATE_ANSWER_TIMEOUT_MS);
        if (m?.type === 'cleared' && m.ok) return;
        if (m === undefined && app.closed) return; // gone meanwhile: its folder goes below
        const why = m?.type === 'cleared' ? (m.reason ?? 'refused') : 'no answer';
        failure ??= `app ${app.procname}-${app.pid} did not clear: ${why}`;
      }),
    );
    if (!this.options.snapshot && dir !== undefined && !this.perUid) {
      // Folders of apps that no longer record: every run of theirs existed before and is over.
      const names = new Set([...before].map((r) => r.dirName));
      for (const name of names) {
        const runs = this.runs.filter((r) => r.dirName === name);
        if (runs.every((r) => before.has(r) && (r.final || r.app.closed) && !byApp.get(r.app)?.includes(r))) {
          await removeTree(this.options.owner, join(dir, 'ust', 'pid', name));
        }
      }
    }
    if (failure !== undefined) throw new LttError('CLEAR_FAIL', failure);
  }

  /**
   * `regenerate metadata` (per-UID): each user's folder in the current chunk gets a metadata holding only the
   * preamble, then every recording app reopens it and appends its declarations again. Snapshot sessions have
   * nothing on disk (each snapshot writes its whole metadata). Network sessions: each user's metadata stream is
   * reset on the relay (RESET_METADATA, as LTTng does) and sent again whole by the daemon, which streams it.
   */
  async regenerateMetadata(): Promise<void> {
    if (this.buffers !== 'per-uid') throw new LttError('PER_PID_SESSION', 'Per-PID recording sessions are not supported');
    if (this.options.snapshot) return;
    if (this.relayPerUid) {
      await this.uidRelay.regenerateMetadata();
      return;
    }
    if (!this.traceDir) return;
    const byApp = this.runsByApp((run) => !run.final);
    // The apps asked declare theirs again; the declarations of the others (exited: their files stay) are kept.
    const again = [...byApp.values()].flat();
    const kept = (streamId: number) => !again.some((r) => streamId >= r.streamIdOffset && streamId < r.streamIdOffset + (1 << 16));
    for (const f of this.uidTraces.foldersUnder(this.traceDir)) this.uidTraces.replaceMetadata(f.dir, f.uid, kept);
    let failure: string | undefined;
    await Promise.all(
      [...byApp].map(async ([app, runs]) => {
        const request = `regenerate#${++keySeq}`;
        app.send({ type: 'regenerate-metadata', sessionId: request, runs: runs.map((r) => r.key) });
        const m = await app.waitFor('regenerated', request, ROTATE_ANSWER_TIMEOUT_MS);
        if (m?.type === 'regenerated' && m.ok) return;
        if (m === undefined && app.closed) return;
        failure ??= `app ${app.procname}-${app.pid} did not regenerate its metadata: ${m?.type === 'regenerated' ? (m.reason ?? 'refused') : 'no answer'}`;
      }),
    );
    if (failure !== undefined) throw new LttError('UNK', failure);
  }

  async start(): Promise<void> {
    this.forgetRuns();
    this.recording = [...this.channels.values()].filter((c) => c.enabled);
    this.active = true;
    this.registry.activeSessions.add(this);
    const waits: Promise<void>[] = [];
    for (const app of this.registry.registeredApps()) {
      for (const s of this.startFor(app)) {
        app.send({ type: 'start', session: s.start });
        waits.push(
          app.waitFor('started', s.run.key, START_ANSWER_TIMEOUT_MS).then((m) => {
            if (m === undefined) this.log(`Session ${this.options.sessionName}: app ${app.procname}-${app.pid} did not answer the start`);
            if (m?.type === 'started') s.run.joined = m.ok;
            if (m?.type === 'started' && !m.ok) {
              // e.g. the trace folder could not be written (full disk): the user hears of it at stop.
              s.run.stats = { ...s.run.stats, error: m.reason ?? 'the app could not start recording' };
              this.noteError(s.run);
            }
            if (!m || (m.type === 'started' && !m.ok)) s.run.final = true;
          }),
        );
      }
    }
    await Promise.all(waits);
  }

  async stop(): Promise<void> {
    if (!this.active) return;
    const waits: Promise<void>[] = [];
    for (const run of this.runs) {
      if (run.final) continue;
      run.app.send({ type: 'stop', sessionId: run.key });
      waits.push(
        run.app.waitFor('stopped', run.key, STOP_ANSWER_TIMEOUT_MS).then((m) => {
          if (m?.type === 'stopped') {
            run.stats = m.stats;
            this.noteError(run);
          } else this.log(`Session ${this.options.sessionName}: app ${run.app.procname}-${run.app.pid} did not confirm the stop`);
          run.final = true;
        }),
      );
    }
    await Promise.all(waits);
    // Apps that went away (killed) without a last word: what their data connections received is written first.
    await Promise.all([...new Set(this.runs.filter((r) => r.app.closed).map((r) => r.app))].map((app) => app.dataWritten(STOP_ANSWER_TIMEOUT_MS)));
    // The relay has every packet of the users' traces before the stop is answered (lttng's stop waits for data).
    await this.uidRelay.settle();
    this.active = false;
    this.registry.activeSessions.delete(this);
  }

  /** `regenerate statedump`: every app recording into the session dumps its state (lttng-ust's statedump). */
  regenerateStatedump(): void {
    if (!this.active) return;
    // One request per app: each dumps once into its runs (channels) that take the events.
    const asked = new Set<App>();
    for (const run of this.runs) {
      if (!run.joined || run.final || asked.has(run.app)) continue;
      asked.add(run.app);
      run.app.send({ type: 'statedump', sessionId: run.key });
    }
  }

  async destroy(): Promise<void> {
    try {
      await this.stop();
    } finally {
      // A failed stop must not leave the users' relay connections open, nor the session registered.
      await this.uidRelay.close();
      this.forgetRuns();
      this.registry.activeSessions.delete(this);
      this.registry.sessions.delete(this);
    }
  }

  stats(): TracerChannelStats[] {
    return [...this.channels.values()].map((c) => {
      let discarded = 0;
      let lost = 0;
      let events = 0;
      let bytes = 0;
      for (const run of this.runs) {
        if (run.channel !== c.name) continue;
        discarded += run.stats.discarded;
        lost += run.stats.lostPackets;
        events += run.stats.recorded;
        bytes += run.stats.bytes ?? 0;
      }
      // Packets of exited apps pushed out of what the daemon keeps for them (the per-UID bound).
      lost += this.exited.dropped(c.name);
      return { channel: c.name, discarded, lost, events, bytes };
    });
  }
}

function failNoTrace(uid: number): never {
  throw new Error(`no trace of uid ${uid} in the snapshot`);
}

/** One line about what an app could not write: "app NAME-PID: N packets (M events) not written: FILE: reason". */
function describeLoss(run: AppRun): string {
  const s = run.stats;
  const lost = (s.unwrittenPackets ?? 0) > 0 ? ` ${s.unwrittenPackets} packets (${s.unwrittenEvents ?? 0} events) not written:` : '';
  return `app ${run.app.procname}-${run.app.pid}, channel ${run.channel}:${lost} ${s.error}`;
}

/** A daemon rule as ltt/ust evaluates it. */
export function toEventRule(spec: TracerEventSpec): EventRule {
  return {
    pattern: spec.name,
    ...(spec.exclusions && spec.exclusions.length > 0 ? { exclusions: [...spec.exclusions] } : {}),
    ...(spec.loglevel ? { logLevel: { type: spec.loglevel.type, level: spec.loglevel.level } } : {}),
    ...(spec.filter !== undefined ? { filter: spec.filter } : {}),
  };
}

function ruleMatches(rule: EventRule, name: string, level: number): boolean {
  return eventMatches([rule], name, level);
}

/** The CPUs process `pid` may run on (its affinity); undefined if /proc does not say. */
function allowedCpus(pid: number): number[] | undefined {
  try {
    const line = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return line === null ? undefined : parseCpuList(line[1]!);
  } catch {
    return undefined; // gone already, or another pid namespace's
  }
}
