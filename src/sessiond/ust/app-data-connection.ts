// The daemon's side of an app's data connection (protocol: src/ust/app-data-protocol.ts): the traces of a
// registered app that cannot own its trace folder (root's session, an app of another user), written by the
// daemon with the file sink into folders of its own, as lttng-consumerd writes every app's buffers. No folder
// is handed to the app's user, so root never works by path in a folder another user controls.
//
// Contract: AppRegistry hands over the socket once the connection's first frame named a registered app (its
// token). Frames are decoded as they arrive and queued; a queue of QUEUE_HIGH bytes stops the reading
// (backpressure: the app's own queue then fills, and it counts its packets unwritten) until the writes bring it
// under QUEUE_LOW, so a connection never holds more than QUEUE_HIGH plus one frame. The queue is written in
// order, yielding to the event loop every YIELD_BYTES (control commands go on meanwhile). Only folders the
// daemon gave this app are opened (App.daemonDirs), with the sharing it decided; names, sizes and order are
// checked (see checkInfo, packet()); anything wrong closes the connection with one log line. A connection that
// ends (the app exited or was killed) writes what came whole and closes every file it opened: a killed app
// leaves a readable trace. A write failure (full disk) is the app's loss, reported back (LOST), not the
// connection's end.

import type { Socket } from 'node:net';
import { FileTraceSink } from '../../ctf/writer/file-sink.js';
import { emptyTraceFolder } from '../../ctf/writer/trace-modes.js';
import type { PacketIndexEntry, StreamSink, StreamSinkInfo, TraceSink } from '../../ctf/writer/sink.js';
import { DATA_READY, DataKind, dataFrame, MAX_DATA_FRAME, OPEN_EMPTY, OPEN_SHARED, PACKET_HEADER_BYTES } from '../../ust/app-data-protocol.js';
import type { App, DaemonDir } from './registered-app.js';

/** Queued bytes that stop the reading, and under which it resumes. */
export const QUEUE_HIGH = 16 << 20;
const QUEUE_LOW = 4 << 20;
/** Written between two turns of the event loop. */
const YIELD_BYTES = 4 << 20;
/** Largest packet accepted (a sub-buffer). */
const MAX_PACKET_BYTES = 64 << 20;
/** How far past the daemon's clock a packet's end or a beacon may be (the apps read the same CLOCK_MONOTONIC). */
const FUTURE_SLACK_NS = 10_000_000_000n;

class ProtocolError extends Error {}

interface OpenTrace {
  readonly dir: string;
  readonly shared: boolean;
  readonly given: DaemonDir;
  /**
   * The folder's file sink, or the app's view of its user's relay trace (DaemonDir.relay); undefined when it
   * could not be opened (its frames are then dropped, the error reported).
   */
  readonly sink: (TraceSink & { reopenMetadata?(): void }) | undefined;
  error: string | undefined;
  readonly names: Set<string>;
}

interface OpenStream {
  readonly trace: OpenTrace;
  readonly info: StreamSinkInfo;
  readonly sink: StreamSink | undefined;
  lastSeq: number;
}

/** Answers the app has left unread before its connection is closed. */
const MAX_UNREAD_ANSWERS = 1 << 20;

export class AppDataConnection {
  private readonly traces = new Map<number, OpenTrace>();
  private readonly streams = new Map<number, OpenStream>();
  private lastTrace = 0;
  private lastStream = 0;
  /** Bytes received, not yet split into frames. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private paused = false;
  private writing = false;
  private ended = false;
  private broken = false;
  private loggedWriteError = false;
  /** Settles once the connection ended and everything it opened is closed. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    private readonly socket: Socket,
    private readonly app: App,
    private readonly log: (line: string) => void,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => {
      this.ended = true;
      void this.pump();
    });
    socket.write(Buffer.of(DATA_READY));
  }

  /** Bytes received and not yet written (at most QUEUE_HIGH plus one frame). */
  get queuedBytes(): number {
    return this.queued + this.buffered;
  }

  private onData(chunk: Buffer): void {
    if (this.broken) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : Buffer.concat(this.chunks);
      const len = head.readUInt32BE(0);
      if (len < 1 || len > MAX_DATA_FRAME) return this.protocolError(`a frame of ${len} bytes`);
      if (this.buffered < 4 + len) break;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      this.queue.push(all.subarray(4, 4 + len));
      this.queued += len;
      const rest = all.subarray(4 + len);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
    if (this.queued >= QUEUE_HIGH && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    void this.pump();
  }

  /** Writes the queue in order; after the connection ended, closes everything. */
  private async pump(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      let sinceYield = 0;
      while (this.queue.length > 0 && !this.broken) {
        const f = this.queue.shift()!;
        this.queued -= f.length;
        sinceYield += f.length;
        try {
          await this.frame(f[0]!, f.subarray(1));
        } catch (err) {
          // Anything unforeseen ends this connection only, never the daemon.
          this.protocolError(err instanceof ProtocolError ? err.message : `internal error: ${(err as Error).message}`);
          break;
        }
        if (this.paused && this.queued <= QUEUE_LOW) {
          this.paused = false;
          this.socket.resume();
        }
        if (sinceYield >= YIELD_BYTES) {
          sinceYield = 0;
          await new Promise((r) => setImmediate(r));
        }
      }
      if ((this.ended || this.broken) && this.queue.length === 0) await this.closeAll();
    } finally {
      this.writing = false;
    }
    if (this.queue.length > 0 && !this.broken) void this.pump();
  }

  private protocolError(what: string): void {
    if (this.broken) return;
    this.broken = true;
    this.queue.length = 0;
    this.queued = 0;
    this.chunks = [];
    this.buffered = 0;
    this.log(`App ${this.app.procname}-${this.app.pid}: data connection closed: ${what}`);
    this.socket.destroy();
    void this.pump();
  }

  private async closeAll(): Promise<void> {
    for (const t of this.traces.values()) await t.sink?.close().catch((err: unknown) => this.writeError(err));
    this.traces.clear();
    this.streams.clear();
    this.resolveDone();
  }

  private writeError(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    if (!this.loggedWriteError) {
      this.loggedWriteError = true;
      this.log(`App ${this.app.procname}-${this.app.pid}: cannot write its trace: ${message}`);
    }
    return message;
  }

  private reply(kind: DataKind, n: number, ok: number | undefined, text: string): void {
    const t = Buffer.from(text.slice(0, 1000));
    const extra = ok === undefined ? 0 : 1;
    const f = dataFrame(kind, 4 + extra + t.length);
    f.writeUInt32BE(n, 5);
    if (ok !== undefined) f.writeUInt8(ok, 9);
    t.copy(f, 9 + extra);
    if (this.socket.destroyed) return;
    // An app that does not read its answers must not grow the daemon's write buffer.
    if (this.socket.writableLength > MAX_UNREAD_ANSWERS) return this.protocolError('it does not read its answers');
    this.socket.write(f);
  }

  private async frame(kind: number, body: Buffer): Promise<void> {
    const u32 = (at: number) => {
      if (body.length < at + 4) throw new ProtocolError(`kind ${kind}: a frame too short`);
      return body.readUInt32BE(at);
    };
    switch (kind) {
      case DataKind.OpenTrace: {
        const n = u32(0);
        if (body.length < 6 || n <= this.lastTrace) throw new ProtocolError(`trace ${n} opened out of order`);
        this.lastTrace = n;
        const flags = body[4]!;
        const dir = body.subarray(5).toString('utf8');
        const given = this.app.daemonDirs.get(dir);
        if (given === undefined) throw new ProtocolError(`a folder the daemon did not give it: ${JSON.stringify(dir.slice(0, 200))}`);
        const shared = given.shared;
        if ((flags & ~(OPEN_SHARED | OPEN_EMPTY)) !== 0 || ((flags & OPEN_SHARED) !== 0) !== shared || (shared && (flags & OPEN_EMPTY) !== 0)) {
          throw new ProtocolError(`bad flags ${flags} for ${dir}`);
        }
        let sink: OpenTrace['sink'];
        let error: string | undefined;
        try {
          if (given.relay !== undefined) {
            sink = given.relay();
            if (sink === undefined) throw new Error('the trace on the relay is closed');
          } else {
            // clear of a per-PID trace: the folder starts again empty (those of threads gone since too). The
            // folder is the daemon's: nobody else can put a link there.
            if ((flags & OPEN_EMPTY) !== 0) emptyTraceFolder(dir);
            sink = FileTraceSink.create(dir, undefined, 0, shared, !given.snapshot);
          }
        } catch (err) {
          error = this.writeError(err);
        }
        this.traces.set(n, { dir, shared, given, sink, error, names: new Set() });
        return;
      }
      case DataKind.Metadata:
      case DataKind.ReopenMetadata: {
        const t = this.trace(u32(0));
        if (kind === DataKind.ReopenMetadata && (!t.shared || body.length !== 4)) throw new ProtocolError('reopen of a metadata that is not shared');
        if (t.sink === undefined) return;
        try {
          if (kind === DataKind.Metadata) t.sink.writeMetadata(body.subarray(4), '');
          else if (t.sink.reopenMetadata !== undefined) t.sink.reopenMetadata();
          else throw new ProtocolError('reopen of a metadata on a relay');
        } catch (err) {
          t.error ??= this.writeError(err);
        }
        return;
      }
      case DataKind.OpenStream: {
        const t = this.trace(u32(0));
        const n = u32(4);
        if (n <= this.lastStream) throw new ProtocolError(`stream ${n} opened out of order`);
        this.lastStream = n;
        let info: StreamSinkInfo;
        try {
          info = checkInfo(JSON.parse(body.subarray(8).toString('utf8')) as unknown);
        } catch (err) {
          throw new ProtocolError(`stream ${n}: ${(err as Error).message}`);
        }
        // Tracefile size and count are the channel's, as the session has them (the app's word would let it
        // escape a rotation limit, or make a file per packet); a snapshot's streams have none.
        const limits = t.given.snapshot ? { size: 0, count: 0 } : channelLimits(t.given, info.fileName);
        if (limits === undefined) throw new ProtocolError(`stream ${info.fileName}: no channel of the session has that name`);
        info = { ...info, tracefileSize: limits.size, tracefileCount: limits.count };
        if (t.names.has(info.fileName)) throw new ProtocolError(`stream ${info.fileName} opened twice in ${t.dir}`);
        t.names.add(info.fileName);
        let sink: StreamSink | undefined;
        try {
          sink = t.sink?.openStream(info);
        } catch (err) {
          t.error ??= this.writeError(err);
        }
        this.streams.set(n, { trace: t, info, sink, lastSeq: -1 });
        return;
      }
      case DataKind.Packet: {
        if (body.length < PACKET_HEADER_BYTES) throw new ProtocolError('a packet without its index entry');
        const n = body.readUInt32BE(0);
        const s = this.streams.get(n);
        if (s === undefined) throw new ProtocolError(`a packet of stream ${n}, not open`);
        const v = (i: number) => body.readBigUInt64BE(4 + i * 8);
        const num = (i: number, what: string) => {
          const x = v(i);
          if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtocolError(`packet of ${s.info.fileName}: ${what} ${x}`);
          return Number(x);
        };
        const index: PacketIndexEntry = {
          packetSizeBits: num(0, 'packet size'),
          contentSizeBits: num(1, 'content size'),
          timestampBegin: v(2),
          timestampEnd: v(3),
          eventsDiscarded: num(4, 'events discarded'),
          streamId: num(5, 'stream id'),
          streamInstanceId: num(6, 'stream instance id'),
          packetSeqNum: num(7, 'sequence number'),
        };
        const data = body.subarray(PACKET_HEADER_BYTES);
        const size = index.packetSizeBits / 8;
        const problem =
          index.packetSizeBits % 8 !== 0 || size <= 0 || size > MAX_PACKET_BYTES ? `packet size ${index.packetSizeBits} bits`
          : index.contentSizeBits > index.packetSizeBits ? `content ${index.contentSizeBits} bits in a packet of ${index.packetSizeBits}`
          : data.length < Math.ceil(index.contentSizeBits / 8) || data.length > size ? `${data.length} bytes for ${index.contentSizeBits} bits of content`
          : index.timestampEnd < index.timestampBegin ? 'ends before it begins'
          : index.timestampEnd > process.hrtime.bigint() + FUTURE_SLACK_NS ? 'ends in the future'
          : index.streamId !== s.info.streamClassId || index.streamInstanceId !== s.info.streamInstanceId ? `stream ids ${index.streamId}/${index.streamInstanceId}`
          : index.packetSeqNum <= s.lastSeq ? `sequence number ${index.packetSeqNum} after ${s.lastSeq}`
          : undefined;
        if (problem !== undefined) throw new ProtocolError(`packet of ${s.info.fileName}: ${problem}`);
        s.lastSeq = index.packetSeqNum;
        if (s.sink === undefined) {
          this.reply(DataKind.Lost, n, undefined, s.trace.error ?? 'the stream could not be opened');
          return;
        }
        const lost = (err: unknown) => this.reply(DataKind.Lost, n, undefined, this.writeError(err));
        try {
          s.sink.writePacket(data, index, lost);
        } catch (err) {
          lost(err);
        }
        return;
      }
      case DataKind.Beacon: {
        // A live session's quiet stream: nothing up to timestampEnd (LTTng's live timer's empty index).
        if (body.length !== 16) throw new ProtocolError('a beacon of the wrong size');
        const s = this.streams.get(body.readUInt32BE(0));
        if (s === undefined) throw new ProtocolError(`a beacon of stream ${body.readUInt32BE(0)}, not open`);
        if (body.readUInt32BE(12) !== s.info.streamClassId) throw new ProtocolError(`a beacon of ${s.info.fileName} with stream id ${body.readUInt32BE(12)}`);
        const at = body.readBigUInt64BE(4);
        // A live viewer muxes every user's streams of the session: one far-future time would hold them all.
        if (at > process.hrtime.bigint() + FUTURE_SLACK_NS) throw new ProtocolError(`a beacon of ${s.info.fileName} in the future`);
        s.sink?.beacon?.(at, s.info.streamClassId);
        return;
      }
      case DataKind.CloseStream: {
        const n = u32(0);
        const ack = u32(4);
        const s = this.streams.get(n);
        if (s === undefined) throw new ProtocolError(`close of stream ${n}, not open`);
        this.streams.delete(n);
        s.trace.names.delete(s.info.fileName);
        let error: string | undefined;
        try {
          await s.sink?.settle?.();
          await s.sink?.close();
        } catch (err) {
          error = this.writeError(err);
        }
        this.reply(DataKind.Ack, ack, error === undefined ? 1 : 0, error ?? '');
        return;
      }
      case DataKind.CloseTrace: {
        const n = u32(0);
        const ack = u32(4);
        const t = this.trace(n);
        this.traces.delete(n);
        for (const [k, s] of this.streams) if (s.trace === t) this.streams.delete(k);
        let error = t.error;
        await t.sink?.close().catch((err: unknown) => (error ??= this.writeError(err)));
        this.reply(DataKind.Ack, ack, error === undefined ? 1 : 0, error ?? '');
        return;
      }
      default:
        throw new ProtocolError(`unknown frame kind ${kind}`);
    }
  }

  private trace(n: number): OpenTrace {
    const t = this.traces.get(n);
    if (t === undefined) throw new ProtocolError(`trace ${n} is not open`);
    return t;
  }
}

const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/;

/** A stream's description from the app, checked: a plain file name (not metadata, index), counts that are counts. */
function checkInfo(x: unknown): StreamSinkInfo {
  const o = x as Record<string, unknown>;
  if (typeof o !== 'object' || o === null) throw new Error('stream description expected');
  const fileName = o.fileName;
  if (typeof fileName !== 'string' || !FILE_NAME.test(fileName) || fileName === 'metadata' || fileName === 'index' || fileName.endsWith('.idx')) {
    throw new Error(`bad stream file name ${JSON.stringify(String(fileName).slice(0, 200))}`);
  }
  const count = (k: string) => {
    const v = o[k];
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw new Error(`${k} must be a count`);
    return v as number;
  };
  return {
    fileName,
    streamClassId: count('streamClassId'),
    streamInstanceId: count('streamInstanceId'),
    cpuId: count('cpuId'),
    tracefileSize: count('tracefileSize'),
    tracefileCount: count('tracefileCount'),
  };
}

/** The limits of the channel whose stream files are named CHANNEL_N (the longest such channel name). */
function channelLimits(given: DaemonDir, fileName: string): { size: number; count: number } | undefined {
  let best: string | undefined;
  for (const name of given.limits.keys()) if (fileName.startsWith(`${name}_`) && (best === undefined || name.length > best.length)) best = name;
  return best === undefined ? undefined : given.limits.get(best);
}

