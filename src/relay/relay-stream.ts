// One stream a consumer announced (ADD_STREAM): its data file (CHANNEL_CPU, or CHANNEL_CPU_N with a tracefile
// size), and for data streams its index (index/CHANNEL_CPU.idx). Packets come on the data port, their index
// fields on the control port, in either order: an entry is written once both halves of one net_seq_num are here
// (the offset is where the data landed). Metadata comes on the control port and has no index.
//
// Closing follows lttng-relayd: a stream closes once its last packet (CLOSE_STREAM's last_net_seq_num) is
// written; a peer gone without CLOSE_STREAM closes it at the last index it announced. Better than lttng-relayd,
// a packet cut by a dead peer is cut off the file, so that what was received reads cleanly.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { INDEX_ENTRY_SIZE, INDEX_HEADER_SIZE, indexFileHeader } from '../ctf/writer/index-file.js';
import { makeTraceDirectories, openTraceFile } from '../ctf/writer/trace-modes.js';
import type { TraceChunk } from './trace-chunk.js';

/** Index halves waiting for the other half; a peer that sends only one kind is cut off at this many. */
const MAX_PENDING_INDEXES = 65536;

interface PendingIndex {
  /** From the data port: where the packet starts in its file, and its size with padding. */
  offset?: number;
  /** From the control port: the 64 bytes of the entry after its offset. */
  fields?: Buffer;
}

export interface StreamOwner {
  readonly aborted: boolean;
  readonly withIndex: boolean;
  streamClosed(stream: RelayStream): void;
  /** The data connection died: streams stop waiting for data. */
  abort(): void;
}

export class RelayStream {
  readonly isMetadata: boolean;
  published = false;
  closed = false;
  private closeRequested = false;
  /** Highest net_seq_num written (data) and flushed to the index; -1: none yet. */
  prevDataSeq = -1;
  prevIndexSeq = -1;
  lastNetSeqNum = -1;
  /** Set by BEGIN_DATA_PENDING, read by END_DATA_PENDING. */
  dataPendingChecked = false;
  /** CTF stream class id, from the first index. */
  ctfStreamId = -1;
  /** Live beacon: the stream is known quiet up to this time (ns); undefined once data follows. */
  beaconTsEnd: bigint | undefined;
  /** Index entries written (the live viewer reads the index file up to here). */
  indexCount = 0;
  metadataReceived = 0;
  private dataFd: number | undefined;
  private indexFd: number | undefined;
  /** Size of the current data file: where the next packet goes. */
  fileSize = 0;
  private tracefileIndex = 0;
  /** The packet being received: its file offset and bytes so far. */
  private packetStart = -1;
  private readonly pending = new Map<number, PendingIndex>();
  /** CTF packet_seq_num of the last packet indexed. */
  private lastPacketSeqNum = -1;
  /** ROTATE_STREAMS to no chunk: the chunk is released once packets before this packet_seq_num are in. */
  private rotateAt: number | undefined;

  constructor(
    readonly handle: number,
    readonly owner: StreamOwner,
    readonly traceId: number,
    /** Folder of the trace, absolute, and relative to the session folder (the viewer's path_name). */
    readonly dir: string,
    readonly pathName: string,
    readonly channelName: string,
    readonly tracefileSize: number,
    readonly tracefileCount: number,
    private chunk: TraceChunk | undefined,
  ) {
    this.isMetadata = channelName === 'metadata';
    chunk?.hold(this);
    makeTraceDirectories(dir);
    this.dataFd = openTraceFile(this.dataPath(), 'w');
  }

  dataPath(): string {
    return join(this.dir, this.tracefileSize > 0 ? `${this.channelName}_${this.tracefileIndex}` : this.channelName);
  }

  indexPath(): string {
    const base = this.tracefileSize > 0 ? `${this.channelName}_${this.tracefileIndex}` : this.channelName;
    return join(this.dir, 'index', `${base}.idx`);
  }

  /** Metadata bytes (SEND_METADATA) and their zero padding. */
  appendMetadata(bytes: Buffer, padding: number): void {
    this.write(bytes);
    if (padding > 0) this.write(Buffer.alloc(padding));
    this.metadataReceived += bytes.length + padding;
  }

  /** A data packet starts (the data header announced `size` bytes): switch tracefiles if it would not fit. */
  beginPacket(size: number): void {
    if (this.tracefileSize > 0 && this.fileSize > 0 && this.fileSize + size > this.tracefileSize) {
      this.closeFiles();
      this.tracefileIndex = this.tracefileCount > 0 ? (this.tracefileIndex + 1) % this.tracefileCount : this.tracefileIndex + 1;
      this.dataFd = openTraceFile(this.dataPath(), 'w');
      this.fileSize = 0;
    }
    this.packetStart = this.fileSize;
  }

  packetBytes(bytes: Buffer): void {
    this.write(bytes);
  }

  /** The packet of `seq` is all here (plus `padding` zero bytes): match its index half. */
  endPacket(seq: number, padding: number): void {
    if (padding > 0) this.write(Buffer.alloc(padding));
    const offset = this.packetStart;
    this.packetStart = -1;
    if (this.owner.withIndex) this.addIndexHalf(seq, { offset });
    this.prevDataSeq = seq;
    if (this.closeRequested) this.tryClose();
  }

  /** SEND_INDEX: the 80-byte lttcomm_relayd_index. A zero packet size is a live beacon. */
  addIndex(msg: Buffer): void {
    const seq = Number(msg.readBigUInt64BE(8));
    const packetSize = msg.readBigUInt64BE(16);
    if (packetSize === 0n) {
      // Only a stream that has data and no index in flight is quiet up to the beacon (lttng-relayd's rule).
      if (this.indexCount > 0 && this.pending.size === 0) this.beaconTsEnd = msg.readBigUInt64BE(40);
      return;
    }
    this.beaconTsEnd = undefined;
    if (this.ctfStreamId === -1) this.ctfStreamId = Number(msg.readBigUInt64BE(56));
    this.addIndexHalf(seq, { fields: Buffer.from(msg.subarray(16, 80)) });
  }

  private addIndexHalf(seq: number, half: PendingIndex): void {
    const entry = this.pending.get(seq) ?? {};
    Object.assign(entry, half);
    if (entry.offset === undefined || entry.fields === undefined) {
      if (this.pending.size >= MAX_PENDING_INDEXES) throw new Error(`more than ${MAX_PENDING_INDEXES} packets without their index`);
      this.pending.set(seq, entry);
      return;
    }
    this.pending.delete(seq);
    if (this.indexFd === undefined) {
      makeTraceDirectories(join(this.dir, 'index'));
      this.indexFd = openTraceFile(this.indexPath(), 'w');
      fs.writeSync(this.indexFd, indexFileHeader());
    }
    const out = Buffer.allocUnsafe(INDEX_ENTRY_SIZE);
    out.writeBigUInt64BE(BigInt(entry.offset), 0);
    entry.fields.copy(out, 8);
    fs.writeSync(this.indexFd, out);
    this.indexCount++;
    this.prevIndexSeq = seq;
    this.lastPacketSeqNum = Number(entry.fields.readBigUInt64BE(56));
    this.tryFinishRotation();
  }

  /** ROTATE_STREAMS without a next chunk (session destruction): leave the chunk once `packetSeqNum` is reached. */
  rotateToNoChunk(packetSeqNum: number): void {
    this.rotateAt = packetSeqNum;
    this.tryFinishRotation();
  }

  private tryFinishRotation(): void {
    if (this.rotateAt === undefined || (!this.isMetadata && this.lastPacketSeqNum + 1 < this.rotateAt)) return;
    this.chunk?.release(this);
    this.chunk = undefined;
  }

  /** Where the live viewer finds entry `k` of the index file. */
  indexEntryPosition(k: number): number {
    return INDEX_HEADER_SIZE + k * INDEX_ENTRY_SIZE;
  }

  /** DATA_PENDING's answer: is anything up to `seq` not written yet? */
  isPending(seq: number): boolean {
    const done = this.owner.withIndex ? Math.min(this.prevDataSeq, this.prevIndexSeq) : this.prevDataSeq;
    return done < seq;
  }

  /** All data announced by the peer is written (for END_DATA_PENDING and the viewer's stream count). */
  get complete(): boolean {
    return this.closed || (this.lastNetSeqNum !== -1 && this.prevDataSeq >= this.lastNetSeqNum);
  }

  /** CLOSE_STREAM, the control connection's end, or the session's abort. */
  requestClose(lastSeq = -1): void {
    if (lastSeq !== -1) this.lastNetSeqNum = lastSeq;
    this.closeRequested = true;
    this.tryClose();
  }

  /** After the session's abort: a stream whose close was requested stops waiting for data. */
  retryClose(): void {
    if (this.closeRequested) this.tryClose();
  }

  private tryClose(): void {
    if (this.closed) return;
    if (this.lastNetSeqNum === -1) {
      // No CLOSE_STREAM: no more index halves will come, so halves of data alone are dropped, and the last
      // announced index marks the end.
      for (const [seq, half] of this.pending) {
        if (half.fields === undefined) this.pending.delete(seq);
        else this.lastNetSeqNum = Math.max(this.lastNetSeqNum, seq);
      }
    }
    if (this.lastNetSeqNum !== -1 && this.prevDataSeq < this.lastNetSeqNum && !this.owner.aborted) return;
    if (this.packetStart >= 0 && this.dataFd !== undefined) {
      fs.ftruncateSync(this.dataFd, this.packetStart);
      this.fileSize = this.packetStart;
      this.packetStart = -1;
    }
    this.closed = true;
    // Unpublished: a viewer that read it to its end (and forgot it) is not offered it again as a new stream.
    this.published = false;
    this.chunk?.release(this);
    this.chunk = undefined;
    this.pending.clear();
    this.closeFiles();
    this.owner.streamClosed(this);
  }

  /** RESET_METADATA (`lttng regenerate metadata`): the metadata file starts again empty. */
  resetMetadata(): void {
    if (this.dataFd === undefined) throw new Error(`stream ${this.handle} is closed`);
    fs.ftruncateSync(this.dataFd, 0);
    this.fileSize = 0;
    this.metadataReceived = 0;
  }

  private write(bytes: Buffer): void {
    if (this.dataFd === undefined) throw new Error(`stream ${this.handle} is closed`);
    let at = 0;
    while (at < bytes.length) at += fs.writeSync(this.dataFd, bytes, at, bytes.length - at, this.fileSize + at);
    this.fileSize += bytes.length;
  }

  private closeFiles(): void {
    if (this.dataFd !== undefined) fs.closeSync(this.dataFd);
    if (this.indexFd !== undefined) fs.closeSync(this.indexFd);
    this.dataFd = undefined;
    this.indexFd = undefined;
  }
}
