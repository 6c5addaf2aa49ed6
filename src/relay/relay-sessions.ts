// What the relay knows: sessions (one per CREATE_SESSION, i.e. per session daemon or consumer connection),
// their traces (one per metadata folder: ust/uid/0/64-bit, kernel, ...), streams, and the trace chunks session
// daemons create (registered per session daemon uuid and session id, so that the consumers' relay sessions of
// one recording session share them). Sessions are written under
//   OUTPUT/HOSTNAME/SESSION-YYYYmmdd-HHMMSS   (OUTPUT/HOSTNAME/BASE_PATH when the peer set a trace folder)
// and nothing a peer sends can place a file outside OUTPUT: names are checked as lttng-relayd checks them
// (not empty, no leading '.', no '/') and paths lose their leading '/' and may hold no '..' component.

import { join, sep } from 'node:path';
import { folderDateTime } from '../ctf/writer/lttng-time-names.js';
import { LttError } from '../errors.js';
import { RelayStream, type StreamOwner } from './relay-stream.js';
import type { TraceChunk } from './trace-chunk.js';

export interface RelayOptions {
  /** Absolute output root (-o). */
  readonly output: string;
  readonly allowClear: boolean;
  readonly log: (line: string) => void;
}

export interface SessionParams {
  name: string;
  hostname: string;
  basePath: string;
  liveTimer: number;
  snapshot: boolean;
  sessiondUuid: string;
  sessiondSessionId: bigint;
  creationTime: number;
  nameContainsCreationTime: boolean;
  currentChunkId: bigint | undefined;
  minor: number;
}

function refuse(what: string): never {
  throw new LttError('RELAY_UNSAFE_NAME', what);
}

/** A host or session name used as one folder name (lttng-relayd's is_name_path_safe). */
export function checkFolderName(kind: string, name: string): string {
  if (name === '') refuse(`empty ${kind}`);
  if (name.startsWith('.')) refuse(`${kind} "${name}" starts with '.'`);
  if (name.includes('/')) refuse(`${kind} "${name}" holds a '/'`);
  return name;
}

/** A peer's relative path (trace folder, stream path): no leading '/', no '..', no empty or '.' parts. */
export function checkRelativePath(kind: string, path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) refuse(`${kind} "${path}" walks up the folder tree`);
  return parts.join('/');
}

/** A C string of a peer: the bytes up to the first NUL (which must be there), UTF-8. */
export function peerString(kind: string, bytes: Buffer, max: number): string {
  if (bytes.length === 0 || bytes.length > max) refuse(`${kind} of ${bytes.length} bytes`);
  if (bytes[bytes.length - 1] !== 0) refuse(`${kind} not NUL-terminated`);
  return bytes.subarray(0, bytes.indexOf(0)).toString('utf8');
}

export class CtfTrace {
  readonly streams: RelayStream[] = [];
  metadataSentToViewer = false;
  constructor(
    readonly id: number,
    readonly path: string,
  ) {}
}

/** What a live viewer session holds while attached to a relay session. */
export interface ViewerHold {
  readonly id: number;
}

export class RelaySession implements StreamOwner {
  readonly traces = new Map<string, CtfTrace>();
  readonly streams: RelayStream[] = [];
  /** Relative to the output root: what CREATE_SESSION's reply and CLOSE_TRACE_CHUNK's name. */
  readonly outputPath: string;
  readonly dir: string;
  connectionClosed = false;
  aborted = false;
  viewer: ViewerHold | undefined;
  newStreams = false;
  /** The chunk new streams are created in, and the one a CREATE_TRACE_CHUNK left waiting for its close. */
  private current: TraceChunk | undefined;
  private closing: TraceChunk | undefined;
  /** Tokens the session holds its chunks with (one chunk may be both). */
  private readonly asCurrent = {};
  private readonly asClosing = {};
  /** A chunk was closed with MOVE_TO_COMPLETED: later chunks are named folders, closed ones archives. */
  hasRotated = false;

  constructor(
    readonly id: number,
    readonly params: SessionParams,
    private readonly state: RelayState,
  ) {
    checkFolderName('session name', params.name);
    checkFolderName('hostname', params.hostname);
    const base = checkRelativePath('session base path', params.basePath);
    const folder =
      base !== '' ? base : params.nameContainsCreationTime ? params.name : `${params.name}-${folderDateTime(new Date(params.creationTime * 1000))}`;
    this.outputPath = `${params.hostname}/${folder}`;
    this.dir = state.inOutput(this.outputPath);
  }

  get withIndex(): boolean {
    return !this.params.snapshot;
  }

  get liveTimer(): number {
    return this.params.liveTimer;
  }

  get currentChunk(): TraceChunk | undefined {
    return this.current;
  }

  get closingChunk(): TraceChunk | undefined {
    return this.closing;
  }

  setCurrentChunk(chunk: TraceChunk | undefined): void {
    chunk?.hold(this.asCurrent);
    this.current?.release(this.asCurrent);
    this.current = chunk;
  }

  setClosingChunk(chunk: TraceChunk | undefined): void {
    chunk?.hold(this.asClosing);
    this.closing?.release(this.asClosing);
    this.closing = chunk;
  }

  addStream(pathName: string, channelName: string, tracefileSize: number, tracefileCount: number): RelayStream {
    if (this.current === undefined) throw new LttError('RELAY_NO_CHUNK', 'stream added to a session without a current trace chunk');
    checkFolderName('channel name', channelName);
    const path = checkRelativePath('stream path', pathName);
    this.state.inOutput(join(this.outputPath, this.current.path, path));
    let trace = this.traces.get(path);
    if (trace === undefined) {
      trace = new CtfTrace(++this.state.lastTraceId, path);
      this.traces.set(path, trace);
    }
    const stream = new RelayStream(++this.state.lastStreamId, this, trace.id, path, channelName, tracefileSize, tracefileCount, this.current);
    trace.streams.push(stream);
    this.streams.push(stream);
    this.state.streams.set(stream.handle, stream);
    return stream;
  }

  /** STREAMS_SENT: the streams added so far become visible to live viewers. */
  publishStreams(): void {
    for (const s of this.streams) s.published = true;
    if (this.viewer !== undefined) this.newStreams = true;
  }

  streamClosed(stream: RelayStream): void {
    this.state.streams.delete(stream.handle);
    this.state.forgetIfDone(this);
  }

  /** The control connection ended: its streams close once their announced data is written. */
  close(): void {
    this.connectionClosed = true;
    for (const s of this.streams) s.requestClose();
    this.setCurrentChunk(undefined);
    this.setClosingChunk(undefined);
    this.state.releaseChunks(this);
    this.state.forgetIfDone(this);
  }

  /** The data connection died: nothing more will come, streams close with what they have. */
  abort(): void {
    this.aborted = true;
    for (const s of this.streams) s.retryClose();
  }

  detachViewer(): void {
    this.viewer = undefined;
    // Siblings kept for this viewer (forgetIfDone) may go now, and so may this one.
    for (const s of this.state.liveSiblings(this)) this.state.forgetIfDone(s);
  }
}

export class RelayState {
  readonly sessions = new Map<number, RelaySession>();
  readonly streams = new Map<number, RelayStream>();
  lastTraceId = 0;
  lastStreamId = 0;
  private lastSessionId = 0;
  /** Trace chunks per `uuid/sessiond session id`, with how many relay sessions use them. */
  private readonly chunks = new Map<string, { chunks: Map<bigint, TraceChunk>; users: number }>();
  private readonly chunkUsers = new WeakSet<RelaySession>();

  constructor(readonly options: RelayOptions) {}

  /** `relative` under the output root, refused if it would leave it. */
  inOutput(relative: string): string {
    const full = join(this.options.output, relative);
    if (full !== this.options.output && !full.startsWith(this.options.output.endsWith(sep) ? this.options.output : this.options.output + sep)) {
      refuse(`path "${relative}" leaves the output folder`);
    }
    return full;
  }

  createSession(params: SessionParams): RelaySession {
    const session = new RelaySession(++this.lastSessionId, params, this);
    const key = chunkKey(params);
    let entry = this.chunks.get(key);
    if (params.currentChunkId !== undefined) {
      const chunk = entry?.chunks.get(params.currentChunkId);
      if (chunk === undefined) throw new LttError('RELAY_NO_CHUNK', `unknown trace chunk ${params.currentChunkId}`);
      session.setCurrentChunk(chunk);
    }
    if (entry === undefined) this.chunks.set(key, (entry = { chunks: new Map(), users: 0 }));
    entry.users++;
    this.chunkUsers.add(session);
    this.sessions.set(session.id, session);
    return session;
  }

  chunksOf(session: RelaySession): Map<bigint, TraceChunk> {
    return this.chunks.get(chunkKey(session.params))!.chunks;
  }

  /**
   * The chunk `id` of the session's session daemon session: the one already published by another of its relay
   * sessions, else a new one (created by `make`, its folder made) published.
   */
  publishChunk(session: RelaySession, id: bigint, make: (onRelease: (c: TraceChunk) => void) => TraceChunk): TraceChunk {
    const chunks = this.chunksOf(session);
    const known = chunks.get(id);
    if (known !== undefined) return known;
    const chunk = make((c) => {
      if (chunks.get(c.id) === c) chunks.delete(c.id);
    });
    chunk.makeFolder();
    chunks.set(id, chunk);
    return chunk;
  }

  releaseChunks(session: RelaySession): void {
    if (!this.chunkUsers.has(session)) return;
    this.chunkUsers.delete(session);
    const key = chunkKey(session.params);
    const entry = this.chunks.get(key)!;
    if (--entry.users === 0) this.chunks.delete(key);
  }

  /**
   * The live relay sessions of `session`'s session daemon session, `session` among them, oldest first: its
   * consumers' (ltt's apps each open their own). A viewer attached before an app started follows that app's
   * session too (live-connection.ts adoptSiblings()), as it follows lttng-consumerd's new streams.
   */
  liveSiblings(session: RelaySession): RelaySession[] {
    if (session.params.snapshot || session.liveTimer === 0) return [session];
    const key = chunkKey(session.params);
    return [...this.sessions.values()].filter((s) => s === session || (!s.params.snapshot && s.liveTimer > 0 && chunkKey(s.params) === key));
  }

  /**
   * A session leaves the registry once its peer is gone, its streams closed and no viewer holds it, nor would:
   * a live session with streams stays while a viewer follows one of its siblings, until that viewer adopts and
   * reads it (an app that ran and exited between two polls of the viewer), as lttng-relayd keeps a closed
   * stream until its viewer consumed it.
   */
  forgetIfDone(session: RelaySession): void {
    if (!session.connectionClosed || session.viewer !== undefined || !session.streams.every((s) => s.closed)) return;
    if (session.streams.some((s) => s.published) && this.liveSiblings(session).some((s) => s.viewer !== undefined)) return;
    this.sessions.delete(session.id);
  }
}

function chunkKey(p: SessionParams): string {
  return `${p.sessiondUuid}/${p.sessiondSessionId}`;
}
