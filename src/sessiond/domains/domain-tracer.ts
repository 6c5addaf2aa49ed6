// The per-session, per-domain tracer the session daemon drives. The kernel domain's KernelSession
// (src/kernel/kernel-session.ts) has exactly this shape; the user-space domain returns one from
// UstDomain.createSession(). The daemon keeps the bookkeeping (channels, rules, trackers as the user sees them)
// and calls these methods to make the tracer do it; any LttError they throw reaches the user unchanged.

import type { ChannelInfo, ProcessAttribute } from '../../control/messages.js';
import type { RelayChunk, RelaySinkTarget } from '../../relay/relay-sink.js';

export interface TracerChannelOptions {
  subbufSize: number;
  numSubbuf: number;
  overwrite: boolean;
  switchTimerUs: number;
  readTimerUs: number;
  tracefileSize: number;
  tracefileCount: number;
  /** User space, discard mode: how long an event waits for a free sub-buffer (-1: forever, 0: never). */
  blockingTimeoutUs?: number;
  /** Live sessions: the period at which packets are closed and sent (0: not live). */
  liveTimerUs?: number;
  /** User space: the domain's buffering (LTTng's --buffers-uid, the default, or --buffers-pid). */
  buffers?: 'per-uid' | 'per-pid';
}

export interface TracerEventSpec {
  name: string;
  type: 'tracepoint' | 'syscall' | 'kprobe' | 'function' | 'uprobe';
  location?: string;
  filter?: string;
  /** User space only: `--loglevel` (range) / `--loglevel-only` (single). */
  loglevel?: { type: 'range' | 'single'; level: number };
  /** User space only: `-x` exclusion globs. */
  exclusions?: string[];
}

export interface TracerChannelStats {
  channel: string;
  discarded: number;
  lost: number;
  events: number;
  /** Bytes of trace written so far (all chunks), for size-based rotation schedules. */
  bytes?: number;
}

export interface DomainTracer {
  /** The kernel answers the ring-buffer geometry it applied (ChannelInfo.ring). */
  createChannel(name: string, options: TracerChannelOptions): ChannelInfo['ring'] | void | Promise<ChannelInfo['ring'] | void>;
  /** Returns the concrete event names the rule matched (tracefs events, syscalls, probes). */
  enableEvent(channel: string, spec: TracerEventSpec): string[] | Promise<string[]>;
  disableEvent(channel: string, name: string, type?: TracerEventSpec['type']): unknown;
  enableChannel(name: string): unknown;
  disableChannel(name: string): unknown;
  addContext(channel: string | undefined, context: string): unknown;
  track(kind: ProcessAttribute, values: number[] | 'all'): unknown;
  untrack(kind: ProcessAttribute, values: number[] | 'all'): unknown;
  start(): unknown;
  stop(): unknown;
  destroy(): unknown;
  stats(): TracerChannelStats[] | Promise<TracerChannelStats[]>;
  /**
   * Trace-writing failures (full disk, ...) not reported yet, one line each; each is returned once, so the
   * user hears of it once (`ltt stop` / `ltt destroy`). Optional: a tracer that cannot fail to write omits it.
   */
  writeErrors?(): string[];
  /** `regenerate statedump`: a new state dump into the channels that record one (kernel). Optional. */
  regenerateStatedump?(): unknown;
  /** `regenerate metadata`: the current chunk's metadata written again whole (absent: not supported). */
  regenerateMetadata?(): Promise<void>;
  /**
   * `snapshot record` (snapshot sessions): what the channels hold now, written as this domain's part of a trace
   * in `to` (kernel/ or ust/ inside it; a network output: streamed into that relay session's snapshot chunk), at
   * most `maxBytes` (0: no limit); tracing goes on.
   */
  recordSnapshot?(to: string | RelaySinkTarget, maxBytes: number): Promise<{ bytes: number; packets: number; streams: number }>;
  /**
   * Session rotation: what was recorded so far is written out and its files closed (they form the chunk being
   * archived); recording goes on in `dir` (kernel/ or ust/ inside it), the next chunk's folder. Without `dir`
   * (rotation of an inactive session) the chunk ends with no successor yet: the daemon calls rotate(dir) again
   * before the next start. Network sessions: `next` is the relay's next chunk (the daemon created it), into
   * which the consumers rotate their streams; they then close the old one with its close action (archive, or
   * delete for clear).
   */
  rotate?(next: string | RelayChunk | undefined): Promise<void>;
  /**
   * `clear`: what was recorded so far goes (the files of the current chunk, `dir`, start again empty; snapshot
   * sessions: the buffers kept for snapshots); recording goes on. Without `dir`: no chunk on disk to empty.
   */
  clear?(dir: string | undefined): Promise<void>;
}

export interface TracerSessionOptions {
  sessionName: string;
  traceDir: string;
  /** The session's owner: its trace files are created as theirs (see src/ctf/writer/owned-output.ts). */
  owner: { uid: number; gid: number };
  hostname: string;
  creationTime: Date;
  /** Snapshot mode: nothing is written to traceDir (''); recordSnapshot() writes what the buffers hold. */
  snapshot: boolean;
  /** Network sessions: where the domain's consumers stream (traceDir is then ''). */
  relay?: RelaySinkTarget;
}
