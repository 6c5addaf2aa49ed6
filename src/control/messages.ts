// Message types of the CLI <-> ltt-sessiond control protocol (docs/control-protocol.md). Every frame body is one
// of the Frame variants below, serialised as JSON. `CommandMap` is the contract per command: the client's
// request() is typed by it, the daemon's dispatch table is keyed by it, so adding a command means adding one entry
// here, one handler file in src/sessiond/commands/ and (if it has a CLI) one file in src/cli/commands/.

import type { WireError } from './error-codes.js';

/** Bumped on any incompatible change of frames or commands; the handshake refuses a mismatch. */
export const PROTOCOL_VERSION = 2;

/** ltt's release, reported by `ltt version` and the daemon. */
export const LTT_VERSION = '0.1.0';

export type Domain = 'kernel' | 'ust';
/**
 * LTTng's agent domains (java.util.logging, log4j, Python logging). No ltt app has their agents, so their rules
 * are kept, listed and saved, and no event ever matches them; as lttng-sessiond, each also enables its
 * user-space channel and rule (AGENT_CHANNELS).
 */
export type AgentDomain = 'jul' | 'log4j' | 'python';
/** A domain event rules can be enabled in. */
export type RuleDomain = Domain | AgentDomain;
export const AGENT_DOMAINS: readonly AgentDomain[] = ['jul', 'log4j', 'python'];
export const isAgentDomain = (domain: string): domain is AgentDomain => (AGENT_DOMAINS as readonly string[]).includes(domain);
/** lttng-sessiond's user-space channel and event rule behind each agent domain (its defaults.h). */
export const AGENT_CHANNELS: Record<AgentDomain, { channel: string; event: string }> = {
  jul: { channel: 'lttng_jul_channel', event: 'lttng_jul:*' },
  log4j: { channel: 'lttng_log4j_channel', event: 'lttng_log4j:*' },
  python: { channel: 'lttng_python_channel', event: 'lttng_python:*' },
};

/** Where a network session streams (src/relay/relay-url.ts parses LTTng's URLs into it). */
export interface RelayTarget {
  readonly family: 4 | 6;
  /** An address (the client resolved the URL's host name). */
  readonly host: string;
  readonly controlPort: number;
  readonly dataPort: number;
  /** The URL's path: the trace folder under HOSTNAME/ in the relay's output ('': SESSION-DATE). */
  readonly subdir: string;
}

export interface ChannelAttributes {
  overwrite: boolean;
  subbufSize: number;
  numSubbuf: number;
  switchTimerUs: number;
  readTimerUs: number;
  monitorTimerUs: number;
  /** -1 = infinite (UST only). */
  blockingTimeoutUs: number;
  tracefileSize: number;
  tracefileCount: number;
  output: 'mmap' | 'splice';
  liveTimerUs: number;
}

export type EventType = 'tracepoint' | 'syscall' | 'kprobe' | 'function' | 'uprobe' | 'all';

export interface LogLevelSpec {
  type: 'range' | 'single';
  level: number;
}

/** What `enable-event` asks for; one rule per NAME (LTTng: comma lists create one rule each). */
export interface EventRuleSpec {
  name: string;
  type: EventType;
  filter?: string;
  /** kprobe/function: SYMBOL[+OFF] or 0xADDR; uprobe: [elf:]PATH:SYMBOL or sdt:PATH:PROVIDER:NAME. */
  location?: string;
  loglevel?: LogLevelSpec;
  exclusions?: string[];
}

export interface EventRuleInfo extends EventRuleSpec {
  enabled: boolean;
}

export interface ChannelStats {
  discardedEvents: number;
  lostPackets: number;
}

export interface ChannelInfo {
  name: string;
  domain: Domain;
  enabled: boolean;
  attributes: ChannelAttributes;
  events: EventRuleInfo[];
  contexts: string[];
  stats: ChannelStats;
  /** Kernel channels: the ring buffer the kernel applied (src/kernel KernelRingGeometry), in bytes. */
  ring?: { subbufSize: number; wantedSubbufSize: number; bytesPerCpu: number };
}

export type ProcessAttribute = 'pid' | 'vpid' | 'uid' | 'vuid' | 'gid' | 'vgid';

export interface TrackerInfo {
  attribute: ProcessAttribute;
  /** 'all': every process matches (the initial state); 'set': only `values` (empty set = nothing matches). */
  policy: 'all' | 'set';
  values: Array<number | string>;
}

export interface DomainInfo {
  domain: RuleDomain;
  bufferType: 'global' | 'per-uid' | 'per-pid';
  trackers: TrackerInfo[];
  channels: ChannelInfo[];
  /** Agent domains: their event rules (they have no channels of their own). */
  events?: EventRuleInfo[];
}

export interface SessionSummary {
  name: string;
  /** '' when the session has no output (--no-output). */
  outputPath: string;
  active: boolean;
  snapshot: boolean;
  liveTimerUs: number;
  /** ISO time of creation. */
  createdAt: string;
  /** Network sessions: the relay (outputPath is its text), and why the output is failing (it is gone), one line. */
  relay?: RelayTarget;
  outputError?: string;
  /** Automatic rotation schedules (enable-rotation), when set: period in µs, size threshold in bytes. */
  rotationTimerUs?: number;
  rotationSizeBytes?: number;
}

/** A snapshot output: where `snapshot record` writes when given no URL. */
export interface SnapshotOutputInfo {
  id: number;
  /** Prefix of each snapshot's folder name (default snapshot-ID). */
  name: string;
  /** Absolute local folder; a network output's control URL as lttng lists it (tcp4://HOST:PORT/SUBDIR). */
  path: string;
  /** A network output: the relay each snapshot streams to. */
  relay?: RelayTarget;
  /** At most this many bytes per snapshot; 0: no limit. */
  maxSize: number;
}

export interface SnapshotRecordResult {
  /** The folder the snapshot was written to. */
  path: string;
  bytes: number;
  packets: number;
}

export interface SessionDetail extends SessionSummary {
  domains: DomainInfo[];
  /** Snapshot sessions: their outputs. */
  snapshotOutputs?: SnapshotOutputInfo[];
}

/** A tracepoint field as `list -u -f` shows it: LTTng's field classes (arrays and sequences of text are strings). */
export interface TracepointField {
  name: string;
  type: 'integer' | 'enum' | 'float' | 'string' | 'other';
}

export interface TracepointInfo {
  name: string;
  type: 'tracepoint' | 'syscall';
  /** LTTng prints kernel tracepoints with TRACE_EMERG (0); UST ones with their own level. */
  loglevel?: number;
  /** Syscalls: '32/64-bit', '64-bit' or '32-bit'. */
  bitness?: string;
  /** UST: the registered app this tracepoint comes from. */
  pid?: number;
  procname?: string;
  /** UST: the fields of its payload. */
  fields?: TracepointField[];
}

export interface DaemonInfo {
  pid: number;
  uid: number;
  version: string;
  protocolVersion: number;
  rundir: string;
  kernel: boolean;
}

export interface CommandMap {
  'daemon-info': { args: Record<string, never>; result: DaemonInfo };
  'create-session': {
    /** `home`: the client's $LTT_HOME, the base of the default output (else the daemon's). */
    /** `relay`: a network session's relay (create -U net://..., -C/-D; --live without one: 127.0.0.1's). */
    args: { name?: string; output?: string | null; home?: string; snapshot?: boolean; liveTimerUs?: number; relay?: RelayTarget };
    result: SessionSummary;
  };
  /** `archive`: where the last trace chunk was archived (sessions rotated before). */
  'destroy-session': { args: { session: string }; result: SessionSummary & { archive?: string; archiveRelay?: { host: string; controlPort: number; dataPort: number } } };
  /** Archives the current trace chunk (OUTPUT/archives/BEGIN-END-ID); tracing goes on in a new chunk. */
  /** Network sessions: `archive` is the relay's path of the archive (relative to its output), on `relay`. */
  'rotate-session': { args: { session: string }; result: { archive: string; relay?: { host: string; controlPort: number; dataPort: number } } };
  /** Sets an automatic rotation schedule: every `timerUs`, and/or each time `sizeBytes` more were written. */
  'enable-rotation': { args: { session: string; timerUs?: number; sizeBytes?: number }; result: SessionSummary };
  'disable-rotation': { args: { session: string; timer?: boolean; size?: boolean }; result: SessionSummary };
  /** What the session recorded so far goes (current chunk's files emptied, snapshot buffers dropped). */
  'clear-session': { args: { session: string }; result: SessionSummary };
  'start-session': { args: { session: string }; result: SessionSummary };
  'stop-session': { args: { session: string }; result: SessionSummary };
  'list-sessions': { args: Record<string, never>; result: SessionSummary[] };
  /** `regenerate statedump`: the session must be recording. */
  'regenerate-statedump': { args: { session: string }; result: SessionSummary };
  /** `regenerate metadata`: the session must be recording, not live; user space per-uid only (LTTng's rules). */
  'regenerate-metadata': { args: { session: string }; result: SessionSummary };
  'get-session': { args: { session: string }; result: SessionDetail };
  'enable-channel': {
    /** `buffers`: user space only, `--buffers-uid` / `--buffers-pid` (absent: the domain's, per-uid for its first channel). */
    args: { session: string; domain: Domain; channel: string; attributes?: Partial<ChannelAttributes>; buffers?: 'per-uid' | 'per-pid' };
    result: { channel: ChannelInfo; created: boolean };
  };
  'disable-channel': { args: { session: string; domain: Domain; channel: string }; result: ChannelInfo };
  'enable-event': {
    args: { session: string; domain: RuleDomain; channel?: string; rule: EventRuleSpec };
    /** `rules`: kernel `-a` without a type makes two rules (tracepoints and syscalls), like LTTng. */
    result: { channel: string; channelCreated: boolean; rules: EventRuleInfo[]; matched: string[] };
  };
  'disable-event': {
    /** `all`: every rule of the channel (`disable-event -a`); otherwise rules named exactly `name`. */
    args: { session: string; domain: RuleDomain; channel?: string; name: string; type?: EventType; all?: boolean };
    result: { channel: string; disabled: EventRuleInfo[] };
  };
  'add-context': {
    args: { session: string; domain: Domain; channel?: string; context: string };
    result: { channels: string[] };
  };
  track: {
    args: { session: string; domain: Domain; attribute: ProcessAttribute; values: Array<number | string> | 'all' };
    result: TrackerInfo;
  };
  untrack: {
    args: { session: string; domain: Domain; attribute: ProcessAttribute; values: Array<number | string> | 'all' };
    result: TrackerInfo;
  };
  'list-tracepoints': { args: { domain: Domain }; result: TracepointInfo[] };
  'list-syscalls': { args: Record<string, never>; result: TracepointInfo[] };
  /** Snapshot sessions only. `url`: an absolute path or file:// URL. */
  /** `relay`: a network output (the CLI parsed `url`, or -C/-D, as for create). */
  'snapshot-add-output': { args: { session: string; url: string; relay?: RelayTarget; name?: string; maxSize?: number }; result: SnapshotOutputInfo };
  /** `output`: the id (as a string of digits) or the name. */
  'snapshot-del-output': { args: { session: string; output: string }; result: SnapshotOutputInfo };
  'snapshot-list-output': { args: { session: string }; result: SnapshotOutputInfo[] };
  /** Without `url`, to the session's snapshot output; `maxSize` overrides the output's. */
  'snapshot-record': { args: { session: string; url?: string; relay?: RelayTarget; name?: string; maxSize?: number }; result: SnapshotRecordResult };
}

export type CommandName = keyof CommandMap;
export type CommandArgs<C extends CommandName> = CommandMap[C]['args'];
export type CommandResult<C extends CommandName> = CommandMap[C]['result'];

export interface HelloFrame {
  type: 'hello';
  version: number;
  /** 'ltt' for clients, 'ltt-sessiond' for the daemon's answer. */
  peer: string;
  pid: number;
  /**
   * In the answer of a daemon other users can reach (root's): the credential challenge. The client proves
   * who it is by creating the file `dir/nonce` and sending an AuthFrame; the daemon takes the file's owner.
   */
  auth?: { dir: string; nonce: string };
}

/** The client's answer to a challenge (its file exists), and the daemon's verdict (who it was taken for). */
export type AuthFrame = { type: 'auth' } | { type: 'authenticated'; uid: number; gid: number };

export interface RequestFrame {
  type: 'request';
  id: number;
  command: string;
  args: unknown;
}

export type ResponseFrame =
  | { type: 'response'; id: number | null; ok: true; result: unknown }
  | { type: 'response'; id: number | null; ok: false; error: WireError };

export type Frame = HelloFrame | AuthFrame | RequestFrame | ResponseFrame;
