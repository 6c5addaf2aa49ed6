// One recording session as the daemon holds it: identity, output, mode, state, and per domain the channels,
// event rules, contexts and process-attribute trackers the user asked for, plus the domain tracer doing the work.
// Every mutation happens under the session's lock (see session-registry.ts); handlers receive a LockedSession,
// so code that forgot to take the lock does not typecheck.

import type {
  AgentDomain,
  ChannelAttributes,
  ChannelInfo,
  Domain,
  DomainInfo,
  EventRuleInfo,
  ProcessAttribute,
  SessionDetail,
  SessionSummary,
  SnapshotOutputInfo,
  TrackerInfo,
} from '../control/messages.js';
import type { DomainTracer, TracerChannelStats } from './domains/domain-tracer.js';
import type { RelayOutput } from './relay-output.js';

/** Who sent a request: the uid and gid the credential challenge established (see session-daemon.ts). */
export interface PeerCredentials {
  readonly uid: number;
  readonly gid: number;
}

export interface ChannelState {
  name: string;
  enabled: boolean;
  attributes: ChannelAttributes;
  events: EventRuleInfo[];
  contexts: string[];
  /** Kernel channels: the ring buffer the kernel applied. */
  ring?: ChannelInfo['ring'];
}

export interface TrackerState {
  policy: 'all' | 'set';
  /** Display values: numbers, or user/group names as given (resolved by the daemon before use). */
  values: Array<number | string>;
}

export const KERNEL_TRACKERS: ProcessAttribute[] = ['pid', 'vpid', 'uid', 'vuid', 'gid', 'vgid'];
export const UST_TRACKERS: ProcessAttribute[] = ['vpid', 'vuid', 'vgid'];

export class DomainState {
  readonly channels = new Map<string, ChannelState>();
  readonly trackers = new Map<ProcessAttribute, TrackerState>();
  tracer: DomainTracer | undefined;
  /**
   * User space: set by its first channel (LTTng: --buffers-uid, the default, or --buffers-pid); every later
   * channel must agree (BUFFER_TYPE_MISMATCH). The kernel's buffers are global.
   */
  bufferType: 'global' | 'per-uid' | 'per-pid';

  constructor(readonly domain: Domain) {
    this.bufferType = domain === 'kernel' ? 'global' : 'per-uid';
    for (const attribute of domain === 'kernel' ? KERNEL_TRACKERS : UST_TRACKERS) {
      this.trackers.set(attribute, { policy: 'all', values: [] });
    }
  }

  toInfo(stats: TracerChannelStats[]): DomainInfo {
    const trackers: TrackerInfo[] = [...this.trackers].map(([attribute, t]) => ({
      attribute,
      policy: t.policy,
      values: [...t.values],
    }));
    const channels: ChannelInfo[] = [...this.channels.values()].map((c) => {
      const s = stats.find((entry) => entry.channel === c.name);
      return {
        name: c.name,
        domain: this.domain,
        enabled: c.enabled,
        attributes: { ...c.attributes },
        events: c.events.map((e) => ({ ...e })),
        contexts: [...c.contexts],
        stats: { discardedEvents: s?.discarded ?? 0, lostPackets: s?.lost ?? 0 },
        ...(c.ring ? { ring: { ...c.ring } } : {}),
      };
    });
    return {
      domain: this.domain,
      bufferType: this.bufferType,
      trackers,
      channels,
    };
  }
}

export class Session {
  active = false;
  startedOnce = false;
  destroyed = false;
  readonly domains = new Map<Domain, DomainState>();
  /** The agent domains' event rules (their user-space channel and rule are in the 'ust' domain). */
  readonly agentRules = new Map<AgentDomain, EventRuleInfo[]>();
  /** Tail of the lock queue: each holder chains on it. */
  lockTail: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly outputPath: string,
    readonly snapshot: boolean,
    readonly liveTimerUs: number,
    readonly createdAt: Date,
    /** Who created it: only they (and root) may use it, and its trace files are theirs. */
    readonly owner: PeerCredentials,
  ) {}

  /** Network sessions (create -U net://, -C/-D, --live): the relay they stream to; outputPath is its text. */
  relay: RelayOutput | undefined;

  /** Snapshot outputs (LTTng keeps one per session); the first is the session's output, if it has one. */
  readonly snapshotOutputs: SnapshotOutputInfo[] = [];
  /** Id of the next snapshot output added. */
  nextSnapshotOutputId = 1;
  /** Snapshots recorded so far: the N of each snapshot folder's NAME-DATETIME-N. */
  snapshotsTaken = 0;
  /**
   * Session rotation (LTTng trace chunks): the current chunk's id and begin time (first start, then each
   * rotation) and folder (the output itself until the first rotation, then OUTPUT/BEGIN-ID); `chunkOpen` false
   * after a rotation while inactive, until the next start opens the next chunk.
   */
  chunkId = 0;
  chunkBegin: Date | undefined;
  chunkDir = '';
  chunkOpen = false;
  /** Rotated since the last stop (LTTng allows one such rotation). */
  rotatedSinceStop = false;
  /**
   * Cleared while inactive since the last stop: as in LTTng, a rotation would only make an empty chunk (refused)
   * and a further clear has nothing to do, until the next start.
   */
  clearedSinceStop = false;
  /** Automatic rotation schedules (enable-rotation): period in µs, size threshold in bytes; 0: none. */
  rotationTimerUs = 0;
  rotationSizeBytes = 0;
  /** The schedule's check timer, and when / at how many bytes written the current chunk began. */
  rotationCheck: ReturnType<typeof setInterval> | undefined;
  chunkStartedMs = 0;
  chunkStartBytes = 0;
  /** Chunks over but not yet moved to archives/ (a move failed): retried at the next rotation and at destroy. */
  readonly pendingArchives: Array<{ dir: string; begin: Date; end: Date; id: number }> = [];

  /** Rotated at least once (chunk ids count the chunks that ended): destroy then archives the last chunk. */
  get rotated(): boolean {
    return this.chunkId > 0;
  }

  /** The current trace chunk begins at `begin`, in `dir`. */
  beginChunk(dir: string, begin: Date): void {
    this.chunkBegin = begin;
    this.chunkDir = dir;
    this.chunkOpen = true;
  }

  /** The local directory the tracers write to; '' for sessions without one (--no-output, live, snapshot). */
  get localOutput(): string {
    return this.inMemory || this.relay !== undefined ? '' : this.outputPath;
  }

  /**
   * Tracers keep the newest buffers in memory for `snapshot record`: snapshot sessions, and, as lttng-sessiond
   * (its snapshot commands need a session without output, not the snapshot mode), --no-output sessions.
   */
  get inMemory(): boolean {
    return this.snapshot || (this.outputPath === '' && this.liveTimerUs === 0);
  }

  domainState(domain: Domain): DomainState {
    let state = this.domains.get(domain);
    if (!state) {
      state = new DomainState(domain);
      this.domains.set(domain, state);
    }
    return state;
  }

  summary(): SessionSummary {
    return {
      name: this.name,
      outputPath: this.outputPath,
      active: this.active,
      snapshot: this.snapshot,
      liveTimerUs: this.liveTimerUs,
      createdAt: this.createdAt.toISOString(),
      ...(this.relay ? { relay: this.relay.target } : {}),
      ...(this.relay?.error !== undefined ? { outputError: this.relay.error } : {}),
      ...(this.rotationTimerUs > 0 ? { rotationTimerUs: this.rotationTimerUs } : {}),
      ...(this.rotationSizeBytes > 0 ? { rotationSizeBytes: this.rotationSizeBytes } : {}),
    };
  }

  async detail(): Promise<SessionDetail> {
    const domains: DomainInfo[] = [];
    // LTTng lists the kernel domain first, then user space.
    for (const domain of ['kernel', 'ust'] as const) {
      const state = this.domains.get(domain);
      if (!state) continue;
      const stats = state.tracer ? await state.tracer.stats() : [];
      domains.push(state.toInfo(stats));
    }
    for (const [domain, rules] of this.agentRules) {
      domains.push({ domain, bufferType: 'per-uid', trackers: [], channels: [], events: rules.map((r) => ({ ...r })) });
    }
    return { ...this.summary(), domains, ...(this.inMemory ? { snapshotOutputs: this.snapshotOutputs.map((o) => ({ ...o })) } : {}) };
  }
}

declare const lockedBrand: unique symbol;
/** A session whose lock the holder owns. Only SessionRegistry.withSession() produces one. */
export type LockedSession = Session & { readonly [lockedBrand]: true };
