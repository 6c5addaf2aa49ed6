// Messages between the kernel domain (main thread, KernelConsumerClient) and the kernel consumer worker.
//
// Contract: every request carries a `seq`; the worker answers each with one `reply` message carrying the same
// seq and either `result` or `error` ({ code, message }: an LttError's code and one-line message). The worker
// also posts `stats` messages on its own after timer drains. Everything here is structured-clone safe
// (bigint clock offsets included).

import type { ClockDef, EnvValue } from '../ctf/writer/metadata.js';
import type { EventFormat } from '../ftrace/event-format.js';
import type { RelayChunk, RelaySinkTarget } from '../relay/relay-sink.js';

export type ClassKind = 'tracepoint' | 'syscall' | 'uprobe' | 'kprobe' | 'statedump';

/** One LTTng event class of a channel: a tracefs event (system/event) or a statedump event. */
export interface ClassSpec {
  key: string;
  kind: ClassKind;
  system?: string;
  event?: string;
  lttngName: string;
}

/**
 * A class's registration (first time) or new state: whether its rules enable it and the filters the consumer
 * must evaluate (null: none). `format` is the tracefs format the main thread already parsed, so the worker
 * does not read hundreds of format files again at start.
 */
export interface ClassUpdate {
  spec: ClassSpec;
  format?: EventFormat;
  enabled: boolean;
  filters: string[] | null;
}

export interface ChannelDef {
  id: number;
  name: string;
  instance: string;
  cpus: number[];
  pageSize: number;
  bufferPages: number;
  overwrite: boolean;
  readTimerUs: number;
  switchTimerUs: number;
  /** Live sessions: every period, the streams' packets are closed (empty ones where nothing was recorded). */
  liveTimerUs: number;
  subbufSize: number;
  tracefileSize: number;
  tracefileCount: number;
  contexts: string[];
  largeHeader: boolean;
}

export type TrackerEntries = Array<[string, number[]]>;

export interface OpenRequest {
  seq: number;
  op: 'open';
  traceDir: string;
  /** Whose trace it is (root writing for another user creates it as theirs). */
  owner?: { uid: number; gid: number };
  env: Record<string, EnvValue>;
  clock: ClockDef;
  channels: ChannelDef[];
  /**
   * Snapshot mode: nothing goes to disk while tracing; each stream keeps its newest packets in memory (as much as
   * its channel's buffer holds) for `snapshot` requests. `traceDir` is then unused.
   */
  snapshot?: boolean;
  /** Network sessions: the trace streams to this relay (its `kernel` folder) instead of `traceDir`. */
  relay?: RelaySinkTarget;
}

/** `snapshot record`: what the streams hold, written as a trace in `dir` (at most `maxBytes`, 0: no limit). */
export interface SnapshotRequest {
  seq: number;
  op: 'snapshot';
  dir: string;
  /** A network snapshot output: the trace streams to this relay session's snapshot chunk instead of `dir`. */
  relay?: RelaySinkTarget;
  owner?: { uid: number; gid: number };
  maxBytes: number;
}

export interface SnapshotResult {
  bytes: number;
  packets: number;
  streams: number;
}

export type ConsumerRequest =
  | OpenRequest
  | { seq: number; op: 'classes'; channel: number; updates: ClassUpdate[] }
  | { seq: number; op: 'trackers'; entries: TrackerEntries }
  | { seq: number; op: 'start'; statedumpChannels: number[] }
  | { seq: number; op: 'statedump'; statedumpChannels: number[] }
  | { seq: number; op: 'drain'; channel: number }
  | SnapshotRequest
  /** Session rotation: the trace so far is closed; writing goes on in `dir` (none: nowhere, until the next one). */
  | { seq: number; op: 'rotate'; dir?: string; relayChunk?: RelayChunk }
  /** `clear`: what was recorded goes; the trace's files in `dir` start again empty (snapshot: the memory ring). */
  | { seq: number; op: 'clear'; dir?: string }
  | { seq: number; op: 'stop' }
  | { seq: number; op: 'close' };

/** A request without its seq (the client numbers them). */
export type ConsumerCall = ConsumerRequest extends infer R ? (R extends { seq: number } ? Omit<R, 'seq'> : never) : never;

export interface ChannelStats {
  channel: string;
  discarded: number;
  lost: number;
  events: number;
  /** Bytes of packets written so far (all chunks): size-based rotation schedules watch it. */
  bytes?: number;
  /** First write failure of the trace (e.g. a full disk), as a one-line message. */
  writeError?: string;
}

export type WorkerMessage =
  | { type: 'reply'; seq: number; result?: unknown; error?: { code: string; message: string } }
  | { type: 'stats'; stats: ChannelStats[] };
