// One live viewer (babeltrace2's lttng-live, `ltt view net://...`) on the live port, answered as lttng-relayd
// 2.13's live.c answers: sessions listed, one viewer per session, viewer streams made at attach (seek LAST or
// BEGINNING) and as streams appear (always from their beginning), indexes read back from the index files the
// relay writes, beacons (INACTIVE) while a stream is quiet, HUP once a closed stream has been read to its end.
// Reads come from the files, so a slow viewer holds no packets in the relay's memory and never slows a peer.

import * as fs from 'node:fs';
import type { Socket } from 'node:net';
import { INDEX_ENTRY_SIZE, INDEX_HEADER_SIZE } from '../ctf/writer/index-file.js';
import { ByteQueue } from './byte-queue.js';
import {
  AttachStatus,
  DETACH_ERR,
  DETACH_OK,
  DETACH_UNK,
  FLAG_NEW_METADATA,
  FLAG_NEW_STREAM,
  IndexStatus,
  METADATA_ERR,
  METADATA_OK,
  NEW_STREAMS_ERR,
  NEW_STREAMS_HUP,
  NEW_STREAMS_OK,
  NO_NEW_METADATA,
  PACKET_ERR,
  PACKET_OK,
  putFixedString,
  SEEK_BEGINNING,
  SEEK_LAST,
  VIEWER_CLIENT_COMMAND,
  VIEWER_HEADER_SIZE,
  VIEWER_HOST_NAME_MAX,
  VIEWER_INDEX_SIZE,
  VIEWER_NAME_MAX,
  VIEWER_PATH_MAX,
  VIEWER_REQUEST_SIZE,
  VIEWER_SESSION_SIZE,
  VIEWER_STREAM_SIZE,
  ViewerCommand,
} from './live-protocol.js';
import { LTTNG_ERR_UNK, RELAY_MAJOR, RELAY_MINOR, u32Reply } from './relay-protocol.js';
import type { CtfTrace, RelaySession, RelayState, ViewerHold } from './relay-sessions.js';
import type { ChunkFiles, RelayStream } from './relay-stream.js';

interface ViewerStream {
  readonly stream: RelayStream;
  readonly session: RelaySession;
  readonly trace: CtfTrace;
  /** The stream's files the viewer reads: those of the chunk it attached in, then of the chunks it rotated to. */
  files: ChunkFiles | undefined;
  /** Index entries of `files` sent (data streams) or metadata bytes sent (metadata stream). */
  sent: number;
  announced: boolean;
  dataFd?: number;
  indexFd?: number;
}

let lastViewerSessionId = 0;

export class LiveConnection implements ViewerHold {
  private readonly queue = new ByteQueue();
  private header: number | undefined;
  private connected = false;
  private viewerSession = false;
  private readonly attached = new Set<RelaySession>();
  /** Sessions attached by adoptSiblings(), each with the session the viewer attached through. */
  private readonly adopted = new Map<RelaySession, RelaySession>();
  private readonly vstreams = new Map<number, ViewerStream>();
  private dropped = false;
  /** The viewer is not reading its replies: its requests wait (in the kernel) until it does. */
  private blocked = false;
  id = 0;

  constructor(
    private readonly socket: Socket,
    private readonly state: RelayState,
    private readonly peer: string,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => {
      this.blocked = false;
      socket.resume();
      this.receive(Buffer.alloc(0));
    });
    socket.on('close', () => {
      for (const s of [...this.attached]) this.detach(s);
    });
    socket.on('error', () => undefined);
  }

  private receive(chunk: Buffer): void {
    if (this.dropped) return;
    this.queue.push(chunk);
    try {
      for (;;) {
        if (this.blocked) return;
        if (this.header === undefined) {
          if (this.queue.length < VIEWER_HEADER_SIZE) return;
          const cmd = this.queue.take(VIEWER_HEADER_SIZE).readUInt32BE(8);
          const size = VIEWER_REQUEST_SIZE[cmd];
          if (size === undefined) return this.drop(`unknown command ${cmd}`, u32Reply(LTTNG_ERR_UNK));
          if (!this.connected && cmd !== ViewerCommand.CONNECT) return this.drop(`command ${cmd} before CONNECT`);
          this.header = cmd;
        }
        const size = VIEWER_REQUEST_SIZE[this.header]!;
        if (this.queue.length < size) return;
        const cmd = this.header;
        this.header = undefined;
        const reply = this.command(cmd, this.queue.take(size));
        if (reply === undefined) return;
        // A viewer that sends requests and reads no reply would otherwise grow the relay's memory without end.
        if (!this.socket.write(reply)) {
          this.blocked = true;
          this.socket.pause();
        }
      }
    } catch (error) {
      this.drop(`internal error: ${(error as Error).message}`);
    }
  }

  private drop(reason: string, reply?: Buffer): void {
    this.state.options.log(`live connection from ${this.peer} closed: ${reason}`);
    this.dropped = true;
    this.socket.end(reply ?? Buffer.alloc(0), () => this.socket.destroy());
  }

  /** The reply, or undefined when the connection was dropped. */
  private command(cmd: number, p: Buffer): Buffer | undefined {
    switch (cmd) {
      case ViewerCommand.CONNECT:
        return this.connect(p);
      case ViewerCommand.LIST_SESSIONS:
        return this.listSessions();
      case ViewerCommand.CREATE_SESSION:
        this.viewerSession = true;
        return u32Reply(1);
      case ViewerCommand.ATTACH_SESSION:
        return this.attach(Number(p.readBigUInt64BE(0)), p.readUInt32BE(16));
      case ViewerCommand.GET_NEW_STREAMS:
        return this.newStreams(Number(p.readBigUInt64BE(0)));
      case ViewerCommand.GET_NEXT_INDEX:
        return this.nextIndex(Number(p.readBigUInt64BE(0)));
      case ViewerCommand.GET_PACKET:
        return this.packet(Number(p.readBigUInt64BE(0)), p.readBigUInt64BE(8), p.readUInt32BE(16));
      case ViewerCommand.GET_METADATA:
        return this.metadata(Number(p.readBigUInt64BE(0)));
      default: {
        const session = this.state.sessions.get(Number(p.readBigUInt64BE(0)));
        if (!this.viewerSession) return u32Reply(DETACH_ERR);
        if (session === undefined) return u32Reply(DETACH_UNK);
        if (!this.attached.has(session)) return u32Reply(DETACH_ERR);
        for (const [m, by] of this.adopted) if (by === session) this.detach(m);
        this.detach(session);
        return u32Reply(DETACH_OK);
      }
    }
  }

  private connect(p: Buffer): Buffer | undefined {
    const major = p.readUInt32BE(8);
    const reply = Buffer.alloc(20);
    if (major !== RELAY_MAJOR) return this.drop(`viewer protocol ${major}.x`), undefined;
    if (p.readUInt32BE(16) !== VIEWER_CLIENT_COMMAND) return this.drop('notification viewers are not served'), undefined;
    this.connected = true;
    this.id = ++lastViewerSessionId;
    reply.writeBigUInt64BE(BigInt(this.id), 0);
    reply.writeUInt32BE(RELAY_MAJOR, 8);
    reply.writeUInt32BE(Math.min(RELAY_MINOR, p.readUInt32BE(12)), 12);
    return reply;
  }

  private listSessions(): Buffer {
    const open = [...this.state.sessions.values()].filter((s) => !s.connectionClosed);
    const out = Buffer.alloc(4 + open.length * VIEWER_SESSION_SIZE);
    out.writeUInt32BE(open.length, 0);
    open.forEach((s, i) => {
      const at = 4 + i * VIEWER_SESSION_SIZE;
      out.writeBigUInt64BE(BigInt(s.id), at);
      out.writeUInt32BE(s.liveTimer, at + 8);
      out.writeUInt32BE(s.viewer !== undefined ? 1 : 0, at + 12);
      out.writeUInt32BE(s.streams.length, at + 16);
      putFixedString(out, at + 20, VIEWER_HOST_NAME_MAX, s.params.hostname);
      putFixedString(out, at + 20 + VIEWER_HOST_NAME_MAX, VIEWER_NAME_MAX, s.params.name);
    });
    return out;
  }

  private attach(id: number, seek: number): Buffer {
    const reply = (status: number, streams: ViewerStream[] = []): Buffer => {
      const head = u32Reply(status, streams.length);
      return streams.length === 0 ? head : Buffer.concat([head, ...streams.map((v) => this.describe(v))]);
    };
    if (!this.viewerSession) return reply(AttachStatus.NO_SESSION);
    const session = this.state.sessions.get(id);
    if (session === undefined) return reply(AttachStatus.UNK);
    if (session.liveTimer === 0) return reply(AttachStatus.NOT_LIVE);
    if (session.viewer !== undefined && session.viewer !== this) return reply(AttachStatus.ALREADY);
    if (seek !== SEEK_BEGINNING && seek !== SEEK_LAST) return reply(AttachStatus.SEEK_ERR);
    session.viewer = this;
    this.attached.add(session);
    const { total } = this.makeViewerStreams(session, seek);
    if (session.connectionClosed) return reply(AttachStatus.UNK);
    // Every viewer stream of the session is described, sent before or not (lttng-relayd ignores the flag here).
    const streams = [...this.vstreams.values()].filter((v) => v.session === session);
    for (const v of streams) v.announced = true;
    return total === 0 ? reply(AttachStatus.OK) : reply(AttachStatus.OK, streams);
  }

  /**
   * Relay sessions that joined an attached one's session daemon session since (an ltt/ust app's, which
   * lttng-consumerd would have added to its own): attached too, their streams announced as new streams of the
   * sessions the viewer asks about. Not at ATTACH: the viewer attaches every session it listed itself.
   */
  private adoptSiblings(): void {
    for (const s of [...this.attached]) {
      if (this.adopted.has(s)) continue;
      for (const m of this.state.liveSiblings(s)) {
        if (m.viewer !== undefined) continue;
        m.viewer = this;
        this.attached.add(m);
        this.adopted.set(m, s);
        m.newStreams = m.streams.some((x) => x.published);
      }
    }
  }

  private newStreams(id: number): Buffer {
    const session = this.state.sessions.get(id);
    if (session === undefined || !this.attached.has(session)) return u32Reply(NEW_STREAMS_ERR, 0);
    this.adoptSiblings();
    const members = [session, ...[...this.adopted].filter(([, by]) => by === session).map(([m]) => m)];
    let total = 0;
    for (const m of members) {
      total += this.makeViewerStreams(m, SEEK_BEGINNING).total;
      m.newStreams = false;
    }
    if (members.every((m) => m.connectionClosed) && total === 0) return u32Reply(NEW_STREAMS_HUP, 0);
    const fresh = [...this.vstreams.values()].filter((v) => members.includes(v.session) && !v.announced);
    for (const v of fresh) v.announced = true;
    return Buffer.concat([u32Reply(NEW_STREAMS_OK, fresh.length), ...fresh.map((v) => this.describe(v))]);
  }

  /** Viewer streams for the published streams of traces whose metadata stream exists; how many still have data. */
  private makeViewerStreams(session: RelaySession, seek: number): { total: number } {
    let total = 0;
    for (const trace of session.traces.values()) {
      if (!trace.streams.some((s) => s.isMetadata) && !trace.metadataSentToViewer) continue;
      for (const stream of trace.streams) {
        if (!stream.published) continue;
        let v = this.vstreams.get(stream.handle);
        if (v === undefined) {
          if (stream.isMetadata) trace.metadataSentToViewer = true;
          const files = stream.files;
          v = { stream, session, trace, files, sent: !stream.isMetadata && seek === SEEK_LAST ? (files?.indexCount ?? 0) : 0, announced: false };
          this.vstreams.set(stream.handle, v);
        }
        const hasMore = stream.isMetadata ? stream.metadataReceived > v.sent : !stream.complete;
        if (!stream.closed || hasMore) total++;
      }
    }
    return { total };
  }

  private describe(v: ViewerStream): Buffer {
    const out = Buffer.alloc(VIEWER_STREAM_SIZE);
    out.writeBigUInt64BE(BigInt(v.stream.handle), 0);
    out.writeBigUInt64BE(BigInt(v.trace.id), 8);
    out.writeUInt32BE(v.stream.isMetadata ? 1 : 0, 16);
    putFixedString(out, 20, VIEWER_PATH_MAX, v.stream.pathName);
    putFixedString(out, 20 + VIEWER_PATH_MAX, VIEWER_NAME_MAX, v.stream.channelName);
    return out;
  }

  private nextIndex(id: number): Buffer {
    const out = Buffer.alloc(VIEWER_INDEX_SIZE);
    const v = this.vstreams.get(id);
    const status = v === undefined ? IndexStatus.ERR : this.readIndex(v, out);
    out.writeUInt32BE(status, 56);
    let flags = 0;
    if (v !== undefined) {
      const meta = [...this.vstreams.values()].find((m) => m.trace === v.trace && m.stream.isMetadata);
      if (meta !== undefined && (meta.stream.metadataReceived === 0 || meta.stream.metadataReceived > meta.sent)) flags |= FLAG_NEW_METADATA;
    }
    this.adoptSiblings();
    if ([...this.attached].some((s) => s.newStreams)) flags |= FLAG_NEW_STREAM;
    out.writeUInt32BE(flags, 60);
    return out;
  }

  /** Fills the index fields of `out`; the status. */
  private readIndex(v: ViewerStream, out: Buffer): IndexStatus {
    const s = v.stream;
    if (s.isMetadata) return IndexStatus.HUP;
    // Into the chunk the stream rotated to once this one is read, or at once when it was cleared.
    let f = v.files;
    while (f?.next !== undefined && (f.deleted || (f.done && v.sent >= f.indexCount))) {
      this.closeFiles(v);
      f = v.files = f.next;
      v.sent = 0;
    }
    f ??= v.files = s.files;
    const caughtUp = f === undefined || v.sent >= f.indexCount;
    if ((v.session.connectionClosed || s.closed) && caughtUp && f?.next === undefined) {
      this.forget(v, s.closed);
      return IndexStatus.HUP;
    }
    if (s.beaconTsEnd !== undefined && caughtUp) {
      out.writeBigUInt64BE(s.beaconTsEnd, 32);
      out.writeBigUInt64BE(BigInt(s.ctfStreamId), 48);
      return IndexStatus.INACTIVE;
    }
    if (caughtUp || f === undefined) return IndexStatus.RETRY;
    try {
      v.indexFd ??= fs.openSync(f.indexPath(), 'r');
      v.dataFd ??= fs.openSync(f.dataPath(), 'r');
    } catch {
      return s.closed ? IndexStatus.HUP : IndexStatus.RETRY;
    }
    const entry = Buffer.alloc(INDEX_ENTRY_SIZE);
    if (fs.readSync(v.indexFd, entry, 0, INDEX_ENTRY_SIZE, INDEX_HEADER_SIZE + v.sent * INDEX_ENTRY_SIZE) < INDEX_ENTRY_SIZE) return IndexStatus.ERR;
    entry.copy(out, 0, 0, 56);
    v.sent++;
    return IndexStatus.OK;
  }

  private packet(id: number, offset: bigint, len: number): Buffer {
    const v = this.vstreams.get(id);
    const fail = u32Reply(PACKET_ERR, 0, 0);
    if (v === undefined || v.dataFd === undefined) return fail;
    // The size is the viewer's: nothing is allocated for bytes the file does not hold.
    if (offset + BigInt(len) > BigInt(fs.fstatSync(v.dataFd).size)) return fail;
    const out = Buffer.allocUnsafe(12 + len);
    if (fs.readSync(v.dataFd, out, 12, len, Number(offset)) < len) return fail;
    out.writeUInt32BE(PACKET_OK, 0);
    out.writeUInt32BE(len, 4);
    out.writeUInt32BE(0, 8);
    return out;
  }

  private metadata(id: number): Buffer {
    const v = this.vstreams.get(id);
    const reply = (status: number, bytes?: Buffer): Buffer => {
      const head = Buffer.alloc(12);
      head.writeBigUInt64BE(BigInt(bytes?.length ?? 0), 0);
      head.writeUInt32BE(status, 8);
      return bytes === undefined ? head : Buffer.concat([head, bytes]);
    };
    if (v === undefined || !v.stream.isMetadata) return reply(METADATA_ERR);
    const s = v.stream;
    // A rotated metadata stream receives the whole metadata again in the next chunk: the viewer goes on there
    // after what it has.
    if (s.files !== undefined && v.files !== s.files) {
      this.closeFiles(v);
      v.files = s.files;
    }
    if (v.sent >= s.metadataReceived) {
      // A closed metadata stream answers NO_NEW once more, then is gone (viewers expect that order).
      if (v.sent > 0 && s.closed) this.forget(v, true);
      return reply(NO_NEW_METADATA);
    }
    try {
      v.dataFd ??= fs.openSync(v.files!.dataPath(), 'r');
    } catch {
      return reply(NO_NEW_METADATA);
    }
    const bytes = Buffer.allocUnsafe(s.metadataReceived - v.sent);
    if (fs.readSync(v.dataFd, bytes, 0, bytes.length, v.sent) < bytes.length) return reply(METADATA_OK, Buffer.alloc(0));
    v.sent += bytes.length;
    return reply(METADATA_OK, bytes);
  }

  /** `readToEnd`: the stream is closed and the viewer read it all; it is not offered again as a new stream. */
  private forget(v: ViewerStream, readToEnd = false): void {
    if (readToEnd) v.stream.published = false;
    this.vstreams.delete(v.stream.handle);
    this.closeFiles(v);
  }

  private closeFiles(v: ViewerStream): void {
    if (v.dataFd !== undefined) fs.closeSync(v.dataFd);
    if (v.indexFd !== undefined) fs.closeSync(v.indexFd);
    v.dataFd = v.indexFd = undefined;
  }

  private detach(session: RelaySession): void {
    for (const v of [...this.vstreams.values()]) if (v.session === session) this.forget(v);
    this.attached.delete(session);
    this.adopted.delete(session);
    if (session.viewer === this) session.detachViewer();
  }
}
