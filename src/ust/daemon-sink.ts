// The app's side of the data connection (protocol: app-data-protocol.ts): a TraceSink whose packets, index
// entries and metadata go to the session daemon, which writes them into its own folder. Used only for traces the
// app's user cannot own (root's session, an app of another user); every other trace keeps the direct write path.
//
// Contract: as every sink, called synchronously; a packet view is copied into its frame during the call. Frames
// queue in the socket; beyond QUEUE_LIMIT bytes queued (a daemon that does not keep up, or is gone) a packet is
// refused (it throws: the trace writer counts it unwritten, as a full disk's) so the app's memory stays bounded.
// close() (stream or trace) resolves once the daemon answered that everything before it is written and closed:
// a rotation, clear, stop or exit is complete on disk when the app says so.

import { createConnection, type Socket } from 'node:net';
import { encodeFrame } from '../control/framing.js';
import { DATA_READY, DataKind, dataFrame, MAX_DATA_FRAME, OPEN_EMPTY, OPEN_SHARED, PACKET_HEADER_BYTES } from './app-data-protocol.js';
import type { PacketIndexEntry, StreamSink, StreamSinkInfo, TraceSink } from '../ctf/writer/sink.js';

/** Bytes of frames an app queues for the daemon at most. */
const QUEUE_LIMIT = 64 << 20;

/** One data connection to one daemon (made on first use, shared by every trace the app sends it). */
export class DaemonDataConnection {
  private readonly socket: Socket;
  private ready = false;
  private dead: Error | undefined;
  /** Frames written before the daemon's DATA_READY. */
  private early: Buffer[] = [];
  private earlyBytes = 0;
  private nextTrace = 1;
  private nextStream = 1;
  private nextAck = 1;
  private readonly acks = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private readonly lost = new Map<number, (err: unknown) => void>();
  private input: Buffer = Buffer.alloc(0);

  constructor(path: string, token: string) {
    this.socket = createConnection(path);
    this.socket.on('connect', () => this.socket.write(encodeFrame({ type: 'data', token })));
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => this.fail(new Error('the session daemon closed the data connection')));
  }

  get closed(): boolean {
    return this.dead !== undefined;
  }

  openTrace(dir: string, shared: boolean, empty = false): DaemonTraceSink {
    const trace = this.nextTrace++;
    const path = Buffer.from(dir);
    const f = dataFrame(DataKind.OpenTrace, 5 + path.length);
    f.writeUInt32BE(trace, 5);
    f.writeUInt8((shared ? OPEN_SHARED : 0) | (empty ? OPEN_EMPTY : 0), 9);
    path.copy(f, 10);
    this.send(f);
    return new DaemonTraceSink(this, trace);
  }

  /** @internal a stream number for OPEN_STREAM. */
  streamNumber(): number {
    return this.nextStream++;
  }

  /**
   * @internal queues a frame; throws when the connection is gone, or for a packet when the queue is full. Other
   * frames (opens, metadata, closes) always queue: they are small, and a refused close would let a stop or
   * rotation be reported before its packets are written.
   */
  send(frame: Buffer, packet = false): void {
    if (this.dead) throw this.dead;
    if (packet && this.earlyBytes + this.socket.writableLength + frame.length > QUEUE_LIMIT) {
      throw new Error('the session daemon does not keep up with this app\'s packets: packet not written');
    }
    if (!this.ready) {
      this.early.push(frame);
      this.earlyBytes += frame.length;
    } else this.socket.write(frame);
  }

  /** @internal sends `frame` (its u32 at `at` left for the ack number) and resolves on the daemon's ACK. */
  request(frame: Buffer, at: number): Promise<void> {
    const ack = this.nextAck++;
    frame.writeUInt32BE(ack, at);
    return new Promise((resolve, reject) => {
      try {
        this.send(frame);
      } catch (err) {
        reject(err as Error);
        return;
      }
      this.acks.set(ack, { resolve, reject });
    });
  }

  /** @internal where a stream's failed writes are reported. */
  onLost(stream: number, lost: ((err: unknown) => void) | undefined): void {
    if (lost === undefined) this.lost.delete(stream);
    else this.lost.set(stream, lost);
  }

  close(): void {
    this.socket.end();
  }

  private onData(chunk: Buffer): void {
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
    if (!this.ready) {
      if (this.input[0] !== DATA_READY) {
        this.socket.destroy();
        return;
      }
      this.ready = true;
      this.input = this.input.subarray(1);
      for (const f of this.early) this.socket.write(f);
      this.early = [];
      this.earlyBytes = 0;
    }
    while (this.input.length >= 5) {
      const len = this.input.readUInt32BE(0);
      if (len < 1 || len > MAX_DATA_FRAME) {
        this.socket.destroy();
        return;
      }
      if (this.input.length < 4 + len) break;
      const kind = this.input[4];
      const body = this.input.subarray(5, 4 + len);
      this.input = this.input.subarray(4 + len);
      if (kind === DataKind.Ack && body.length >= 5) {
        const waiter = this.acks.get(body.readUInt32BE(0));
        this.acks.delete(body.readUInt32BE(0));
        if (body[4] === 1) waiter?.resolve();
        else waiter?.reject(new Error(body.subarray(5).toString('utf8')));
      } else if (kind === DataKind.Lost && body.length >= 4) {
        this.lost.get(body.readUInt32BE(0))?.(new Error(body.subarray(4).toString('utf8')));
      }
    }
  }

  private fail(err: Error): void {
    this.dead ??= err;
    this.early = [];
    this.earlyBytes = 0;
    for (const w of this.acks.values()) w.reject(err);
    this.acks.clear();
  }
}

/** One trace in a folder of the daemon's. */
export class DaemonTraceSink implements TraceSink {
  constructor(
    private readonly conn: DaemonDataConnection,
    private readonly trace: number,
  ) {}

  writeMetadata(packets: Uint8Array): void {
    const f = dataFrame(DataKind.Metadata, 4 + packets.length);
    f.writeUInt32BE(this.trace, 5);
    f.set(packets, 9);
    this.conn.send(f);
  }

  /** regenerate metadata: the daemon replaced the file; the declarations that follow are appended to the new one. */
  reopenMetadata(): void {
    const f = dataFrame(DataKind.ReopenMetadata, 4);
    f.writeUInt32BE(this.trace, 5);
    this.conn.send(f);
  }

  openStream(info: StreamSinkInfo): StreamSink {
    const stream = this.conn.streamNumber();
    const json = Buffer.from(JSON.stringify({
      fileName: info.fileName,
      streamClassId: info.streamClassId,
      streamInstanceId: info.streamInstanceId,
      cpuId: info.cpuId,
      tracefileSize: info.tracefileSize ?? 0,
      tracefileCount: info.tracefileCount ?? 0,
    }));
    const f = dataFrame(DataKind.OpenStream, 8 + json.length);
    f.writeUInt32BE(this.trace, 5);
    f.writeUInt32BE(stream, 9);
    json.copy(f, 13);
    this.conn.send(f);
    return new DaemonStreamSink(this.conn, stream);
  }

  close(): Promise<void> {
    const f = dataFrame(DataKind.CloseTrace, 8);
    f.writeUInt32BE(this.trace, 5);
    return this.conn.request(f, 9);
  }
}

class DaemonStreamSink implements StreamSink {
  constructor(
    private readonly conn: DaemonDataConnection,
    private readonly stream: number,
  ) {}

  writePacket(packet: Uint8Array, index: PacketIndexEntry, lost?: (err: unknown) => void): void {
    // The content only: the zero tail (up to the packet size) is the daemon's to add.
    const bytes = Math.min(packet.length, Math.ceil(index.contentSizeBits / 8));
    const f = dataFrame(DataKind.Packet, PACKET_HEADER_BYTES + bytes);
    f.writeUInt32BE(this.stream, 5);
    let at = 9;
    for (const v of [index.packetSizeBits, index.contentSizeBits, index.timestampBegin, index.timestampEnd, index.eventsDiscarded, index.streamId, index.streamInstanceId, index.packetSeqNum]) {
      f.writeBigUInt64BE(BigInt(v), at);
      at += 8;
    }
    f.set(packet.subarray(0, bytes), at);
    this.conn.send(f, true);
    this.conn.onLost(this.stream, lost);
  }

  beacon(timestampEnd: bigint, streamClassId: number): void {
    const f = dataFrame(DataKind.Beacon, 16);
    f.writeUInt32BE(this.stream, 5);
    f.writeBigUInt64BE(timestampEnd, 9);
    f.writeUInt32BE(streamClassId, 17);
    try {
      this.conn.send(f);
    } catch {
      // The connection is gone: its packets are counted lost; a beacon is nothing to count.
    }
  }

  close(): Promise<void> {
    const f = dataFrame(DataKind.CloseStream, 8);
    f.writeUInt32BE(this.stream, 5);
    return this.conn.request(f, 9).finally(() => this.conn.onLost(this.stream, undefined));
  }
}
