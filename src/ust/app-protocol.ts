// The application protocol between an instrumented Node process (its agent worker, app-agent-worker.ts) and the
// session daemon's app registry (src/sessiond/ust/app-registry.ts), over the Unix socket APP_SOCKET_NAME in the
// daemon's runtime directory. Frames are the control protocol's (src/control/framing.ts: u32 big-endian length +
// UTF-8 JSON); the app speaks first with `register` and the daemon answers `registered` with the sessions the
// app must record into right away, so an app started during an active session records from its first event.
//
// Who writes the trace: the app's agent worker writes its per-pid trace (metadata, CHANNEL_TID stream files, or
// CHANNEL_TID_K with a tracefile size, index/) directly into the folder the daemon assigns (SESSION_OUTPUT/ust/pid/PROCNAME-PID-DATETIME/, which the
// daemon creates and hands to the app's uid). Why not ship sub-buffers to the daemon as docs/design.md first
// planned: a sub-buffer is already a finished CTF packet in shared memory, so writing it from there is one write(2)
// with no copy, while shipping costs a socket copy on each side, a second event loop on the data path and
// back-pressure handling in the daemon; per-pid buffers make every trace folder private to one process, so there
// is no shared file to arbitrate. The daemon keeps what only it can do: which sessions exist, where each app
// writes, rules, start/stop, and the statistics (`stats`/`stopped` below) that `ltt list SESSION` shows.
// Snapshot sessions (`snapshot: true`): the app keeps its newest packets in memory and writes them only when
// the daemon sends 'snapshot' (into a folder the daemon made), answering 'snapshot-done'. An app that exits
// (normally, by an uncaught exception, SIGINT/SIGTERM) hands each snapshot run's packets over ('held', then its
// packets as 'held-packet' pieces, before it closes the socket): the daemon keeps them for later snapshots, as
// LTTng's per-UID buffers outlive the apps that wrote them.
// Per-UID buffers (LTTng's default; `sharedMetadata` below): every app of one user writes into one trace folder
// per session and chunk, SESSION_OUTPUT/ust/uid/UID/64-bit/. The daemon makes the folder and owns its metadata:
// it writes the preamble (one trace uuid, clock and env for the user) and gives each app its own range of stream
// class ids (SessionConfig.streamIdOffset; stream files CHANNEL_STREAMID), so the apps' declarations never
// collide; each app appends its own stream and event declarations to that metadata (whole, one O_APPEND write
// each: file-sink.ts) and writes its own per-thread stream files there, so the zero-copy write path stays the
// app's. The data of an exited app stays in the folder. Clear and `regenerate metadata` are the daemon's: it
// empties or replaces the metadata, then each app writes its declarations again ('clear', 'regenerate-metadata').
// Network sessions stream per process (ust/pid/...): one metadata stream per trace cannot be shared by apps'
// own relay connections.
// An app that cannot own its folder (root's session, an app of another user: AppSessionStart.viaDaemon) writes
// nothing itself: its trace goes to the daemon on a second connection (app-data-protocol.ts), named by the
// `dataToken` of 'registered', and the daemon writes it into folders of its own.

import type { RelayChunk, RelaySinkTarget } from '../relay/relay-sink.js';
import type { EventRule } from './enablement.js';
import type { SessionConfig } from './tracer.js';
import type { TracepointField } from '../control/messages.js';

export const APP_SOCKET_NAME = 'app-ltt-sessiond';
/** Bumped on any incompatible change; the daemon refuses other versions (the app then runs untraced). */
export const APP_PROTOCOL_VERSION = 7;

/** Handed-over packets travel in pieces of this many bytes: a frame stays well below the daemon's 1 MiB limit. */
export const HELD_PIECE_BYTES = 512 * 1024;

export interface AppTracepoint {
  readonly name: string;
  readonly logLevel: number;
  readonly fields?: readonly TracepointField[];
}

/** Metadata env of a per-pid trace, decided by the daemon. */
export interface AppTraceEnv {
  readonly traceName: string;
  readonly hostname: string;
  /** ISO 8601 basic with offset (session creation). */
  readonly creationDatetime: string;
  /** ISO 8601 basic with offset (the app's registration). */
  readonly vpidDatetime: string;
  /**
   * realtime - monotonic (ns, decimal), measured once per session by the daemon, as lttng-sessiond does for its
   * apps: every app of a session, and the exited apps' buffers a snapshot merges, state the same clock offset.
   */
  readonly clockOffsetNs?: string;
}

/**
 * One session the app must record into. `config.sessionId` is the daemon's key for (session, app);
 * `config.blockingTimeoutMs` is -1 on the wire for "forever" (the agent makes it Infinity).
 */
export interface AppSessionStart {
  readonly config: SessionConfig;
  readonly traceDir: string;
  readonly env: AppTraceEnv;
  /** Read timer (ms): how often the app reports statistics and polls its rings. */
  readonly readTimerMs: number;
  /** The channel's `--tracefile-size` (bytes per stream file, then CHANNEL_N_K) and `--tracefile-count`; absent: one file. */
  readonly tracefileSize?: number;
  readonly tracefileCount?: number;
  /**
   * Snapshot session: nothing is written (`traceDir` is ''); the app keeps each stream's newest packets in memory
   * (sub-buffer count x size) until the daemon asks for a snapshot (or forgets the session).
   */
  readonly snapshot?: boolean;
  /**
   * Network session: the app streams this trace to a relay itself (its own connections, `tracePath` such as
   * ust/pid/NAME-PID-DATE in the session daemon's relay session); `traceDir` is then ''.
   */
  readonly relay?: { readonly target: RelaySinkTarget; readonly tracePath: string };
  /**
   * Per-UID trace: `traceDir` (and each rotation's and clear's folder) is shared with the user's other apps, and
   * its metadata file holds the daemon's preamble: the app appends its declarations, never truncates it.
   */
  readonly sharedMetadata?: boolean;
  /**
   * The app cannot own this trace's folders (root's session, the app of another user: their ancestors are
   * root's, 0770): it sends the trace's packets and metadata to the daemon on its data connection
   * (app-data-protocol.ts), which writes them there; the same holds for this run's rotations, clears and
   * snapshots. Absent: the app writes its folders itself. Per-UID network sessions too: `traceDir` (and each
   * rotation's `dir`) then names the app's user's trace on the relay, which the daemon streams (one metadata
   * stream per user: src/sessiond/ust/uid-relay-traces.ts).
   */
  readonly viaDaemon?: boolean;
  /** A live session's timer (µs) where the daemon streams the trace (viaDaemon): quiet streams send beacons. */
  readonly liveTimerUs?: number;
}

export interface AppStats {
  readonly recorded: number;
  readonly discarded: number;
  readonly lostPackets: number;
  readonly lostEvents: number;
  /** Bytes of packets handed to the trace's sink so far (all chunks; a snapshot session's memory ring too, as the kernel's). */
  readonly bytes?: number;
  /** Of the losses above: packets/events the app could not write out (full disk, I/O error). */
  readonly unwrittenPackets?: number;
  readonly unwrittenEvents?: number;
  /** The first write failure ("FILE: No space left on device"). */
  readonly error?: string;
}

export type AppToDaemon =
  | {
      readonly type: 'register';
      readonly version: number;
      readonly pid: number;
      readonly ppid: number;
      readonly uid: number;
      readonly gid: number;
      readonly procname: string;
      readonly tracepoints: readonly AppTracepoint[];
    }
  /** The answer to a challenge: the file `dir/nonce` exists (see DaemonToApp 'challenge'). */
  | { readonly type: 'auth' }
  | { readonly type: 'tracepoints'; readonly tracepoints: readonly AppTracepoint[] }
  | { readonly type: 'started'; readonly sessionId: string; readonly ok: boolean; readonly reason?: string }
  | { readonly type: 'stats'; readonly sessionId: string; readonly stats: AppStats }
  | { readonly type: 'stopped'; readonly sessionId: string; readonly stats: AppStats }
  /** The answer to 'snapshot' (`sessionId`: the request's id). `reason` when not ok; `code` MAX_SIZE_INVALID. */
  | {
      readonly type: 'snapshot-done';
      readonly sessionId: string;
      readonly ok: boolean;
      readonly bytes: number;
      readonly packets: number;
      readonly reason?: string;
      readonly code?: string;
    }
  | { readonly type: 'rotated'; readonly sessionId: string; readonly ok: boolean; readonly reason?: string }
  /** At exit, a snapshot run's (`sessionId`) trace: its TSDL preamble and declarations; its packets follow. */
  | { readonly type: 'held'; readonly sessionId: string; readonly preamble: string; readonly declarations: string }
  /**
   * A piece of the next packet of stream file `stream` of a handed-over run (base64, at most HELD_PIECE_BYTES
   * before encoding); `last`: the packet is complete. Packets of a stream come oldest first.
   */
  | { readonly type: 'held-packet'; readonly sessionId: string; readonly stream: string; readonly data: string; readonly last: boolean }
  | { readonly type: 'cleared'; readonly sessionId: string; readonly ok: boolean; readonly reason?: string }
  | { readonly type: 'regenerated'; readonly sessionId: string; readonly ok: boolean; readonly reason?: string }
  /**
   * Live sessions: run `sessionId` got a new stream (a thread's first event). The daemon asks the session's other
   * apps for a packet ('announce'): a viewer learns of new streams only with an index of a stream it follows.
   */
  | { readonly type: 'new-stream'; readonly sessionId: string };

export type DaemonToApp =
  /**
   * Root's daemon checks who registers (as `ltt` clients, docs/control-protocol.md): the app creates the file
   * `dir/nonce` and answers 'auth'; the file's owner is the app's uid and gid, and must own the app's pid.
   */
  | { readonly type: 'challenge'; readonly dir: string; readonly nonce: string }
  /** `dataToken`: what the app's data connection (app-data-protocol.ts) names itself with. */
  | { readonly type: 'registered'; readonly sessions: readonly AppSessionStart[]; readonly dataToken?: string }
  | { readonly type: 'refused'; readonly reason: string }
  | { readonly type: 'start'; readonly session: AppSessionStart }
  | { readonly type: 'rules'; readonly sessionId: string; readonly rules: readonly EventRule[] }
  | { readonly type: 'stop'; readonly sessionId: string }
  /**
   * Snapshot sessions: write what the sessions `runs` (one per channel, same trace) hold now as one trace in
   * `dir` (made by the daemon, the app's), at most `maxBytes` (0: no limit). `sessionId` names the request.
   */
  /** `relay`: a network snapshot output, streamed by the app into the relay's snapshot chunk (`dir` then ''). */
  /** `sharedMetadata`: `dir` is a per-UID folder whose metadata the daemon began (the app appends its declarations). */
  /** `viaDaemon`: the daemon writes `dir` (a per-UID snapshot to a relay: its user's trace there), sent on the data connection. */
  | { readonly type: 'snapshot'; readonly sessionId: string; readonly runs: readonly string[]; readonly dir: string; readonly maxBytes: number; readonly relay?: { readonly target: RelaySinkTarget; readonly tracePath: string }; readonly sharedMetadata?: boolean; readonly viaDaemon?: boolean }
  /** Snapshot sessions: the memory a stopped run kept for snapshots can go (destroy, restart). */
  | { readonly type: 'forget'; readonly sessionId: string }
  /**
   * Session rotation: the runs' files so far are complete and closed; writing goes on in `dir` (made by the
   * daemon, the app's), with the whole metadata. `sessionId` names the request, answered with 'rotated'.
   * Network sessions: `relayChunk` instead of `dir`, the relay's next chunk, into which the app's relay streams
   * rotate (the old chunk then closed on its connection with the chunk's close action).
   */
  | { readonly type: 'rotate'; readonly sessionId: string; readonly runs: readonly string[]; readonly dir: string; readonly relayChunk?: RelayChunk }
  /** `clear`: the runs' recorded data goes (files emptied, or held packets dropped); answered with 'cleared'. */
  | { readonly type: 'clear'; readonly sessionId: string; readonly runs: readonly string[] }
  /**
   * Per-UID traces: the daemon replaced the folder's metadata by a new file holding only its preamble; the runs
   * reopen it and append their declarations again. Answered with 'regenerated'.
   */
  | { readonly type: 'regenerate-metadata'; readonly sessionId: string; readonly runs: readonly string[] }
  /** Live sessions: another app's stream appeared; every thread of run `sessionId` closes a packet, empty or not. */
  | { readonly type: 'announce'; readonly sessionId: string }
  /** `regenerate statedump`: the app dumps its state (lttng_ust_statedump:*) into the session. */
  | { readonly type: 'statedump'; readonly sessionId: string };
