// One stream a consumer announced (ADD_STREAM): in each trace chunk it writes, its data file (CHANNEL_CPU, or
// CHANNEL_CPU_N with a tracefile size) and for data streams its index (index/CHANNEL_CPU.idx). Packets come on
// the data port, their index fields on the control port, in either order: an entry is written once both halves
// of one net_seq_num are here (the offset is where the data landed). Metadata comes on the control port and has
// no index.
//
// Rotation (ROTATE_STREAMS) follows lttng-relayd's stream.c: the session daemon gives a packet sequence number;
// index entries of packets from there on go to the next chunk's files. The data port carries no packet sequence
// numbers, so the data side switches after the last packet (by net_seq_num) whose index half came before that
// position (the pivot); packets past it that arrived early in the old chunk's files (any of its tracefiles) move
// to the new one's, packet by packet. A metadata stream
// switches at once and receives the whole metadata again. The old chunk is let go once its last packet is in.
//
// Tracefile size and count (ADD_STREAM) follow lttng-relayd too: a packet that would take the data file past the
// size starts the next file, CHANNEL_CPU_N with N wrapping at the count, and its own index file; a file that
// takes an older one's name replaces it (the old one is unlinked first: a live viewer may still read it). Each
// file is a ChunkFiles of its own, chained by `next` as chunks are, so index halves still awaited for packets of
// the file left are written in that file's index, and live viewers go on to the next file as to the next chunk.
//
// Closing follows lttng-relayd: a stream closes once its last packet (CLOSE_STREAM's last_net_seq_num) is
// written; a peer gone without CLOSE_STREAM closes it at the last index it announced. Better than lttng-relayd,
// a packet cut by a dead peer is cut off the file, so that what was received reads cleanly.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { INDEX_ENTRY_SIZE, INDEX_HEADER_SIZE, indexFileHeader } from '../ctf/writer/index-file.js';
import { openTraceFile } from '../ctf/writer/trace-modes.js';
import { LttError } from '../errors.js';
import { ChunkCloseCommand } from './relay-protocol.js';
import type { TraceChunk } from './trace-chunk.js';

/** Index halves waiting for the other half; a peer that sends only one kind is cut off at this many. */
const MAX_PENDING_INDEXES = 65536;

/** The files of one stream in one trace chunk; `next` is the stream's files in the chunk it rotated to. */
export class ChunkFiles {
  dataFd: number | undefined;
  indexFd: number | undefined;
  /** Size of the current data file: where the next packet goes. */
  fileSize = 0;
  /** Index entries whose data half landed here and whose control half is awaited (pending). */
  awaiting = 0;
  /** Index entries written (the live viewer reads the index file up to here). */
  indexCount = 0;
  /** No more writes: the stream rotated away from the chunk or closed. */
  done = false;
  next: ChunkFiles | undefined;

  constructor(
    readonly chunk: TraceChunk,
    private readonly stream: RelayStream,
    /** The N of CHANNEL_CPU_N (with a tracefile size). */
    readonly tracefileIndex = 0,
  ) {
    chunk.makeStreamFolder(stream.pathName);
    if (stream.tracefileCount > 0) {
      // A ring of files: the older file of this name and its index go first (nothing there on the first lap), as
      // lttng-relayd unlinks them, so a reader of them keeps what it opened; truncated in place, a live viewer's
      // open file would empty under it.
      for (const name of [this.baseName(), join('index', `${this.baseName()}.idx`)]) {
        try {
          fs.unlinkSync(this.newFile(name));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
    }
    // Read back too: packets that came past a rotation point before it was known move to the next chunk.
    this.dataFd = openTraceFile(this.newFile(this.baseName()), 'w+');
    // The index with its file, as lttng-relayd makes it: an entry that comes late (its file retired, the ring
    // since wrapped to a new file of the same name) goes to this file's own index through its descriptor, never
    // to the new file's index by name.
    if (stream.owner.withIndex && !stream.isMetadata) this.openIndex();
  }

  private openIndex(): void {
    this.chunk.makeStreamFolder(join(this.stream.pathName, 'index'));
    this.indexFd = openTraceFile(this.newFile(join('index', `${this.baseName()}.idx`)), 'w');
    fs.writeSync(this.indexFd, indexFileHeader());
  }

  private baseName(): string {
    const s = this.stream;
    return s.tracefileSize > 0 ? `${s.channelName}_${this.tracefileIndex}` : s.channelName;
  }

  private newFile(relative: string): string {
    return this.chunk.file(join(this.stream.pathName, relative));
  }

  /** Where the files are now (the chunk may have moved since they were made). */
  dataPath(): string {
    return join(this.chunk.dir, this.stream.pathName, this.baseName());
  }

  indexPath(): string {
    return join(this.chunk.dir, this.stream.pathName, 'index', `${this.baseName()}.idx`);
  }

  /** The chunk was cleared: its files are gone. */
  get deleted(): boolean {
    return !this.chunk.exists && this.chunk.closeCommand === ChunkCloseCommand.DELETE;
  }

  write(bytes: Buffer): void {
    if (this.dataFd === undefined) throw new LttError('RELAY_STREAM_CLOSED', `stream ${this.stream.handle} has no open file`);
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(this.dataFd, bytes, done, bytes.length - done, this.fileSize + done);
    this.fileSize += bytes.length;
  }

  writeEntry(entry: Buffer): void {
    if (this.done) throw new Error(`index entry for stream ${this.stream.handle} in a trace chunk it left`);
    if (this.indexFd === undefined) this.openIndex();
    fs.writeSync(this.indexFd!, entry, 0, entry.length, INDEX_HEADER_SIZE + this.indexCount * INDEX_ENTRY_SIZE);
    this.indexCount++;
  }

  /** The bytes from `start` to `end` of the data file (data that arrived before the rotation point was known). */
  read(start: number, end: number): Buffer {
    const bytes = Buffer.allocUnsafe(end - start);
    let got = 0;
    while (got < bytes.length) {
      const n = fs.readSync(this.dataFd!, bytes, got, bytes.length - got, start + got);
      if (n === 0) throw new Error(`stream ${this.stream.handle}: data file shorter than written`);
      got += n;
    }
    return bytes;
  }

  /** The data file ends at `size` (what follows moved to the next chunk). */
  truncate(size: number): void {
    fs.ftruncateSync(this.dataFd!, size);
    this.fileSize = size;
  }

  closeFiles(): void {
    this.closeData();
    if (this.indexFd !== undefined) fs.closeSync(this.indexFd);
    this.indexFd = undefined;
  }

  closeData(): void {
    if (this.dataFd !== undefined) fs.closeSync(this.dataFd);
    this.dataFd = undefined;
  }
}

interface PendingIndex {
  /** From the data port: where the packet starts, in which files. */
  offset?: number;
  data?: ChunkFiles;
  /** From the control port: the 64 bytes of the entry after its offset. */
  fields?: Buffer;
}

interface Rotation {
  /** Packets from this packet_seq_num on belong to the next chunk. */
  readonly at: number;
  /** undefined: to no chunk (the session is being destroyed). Its current file, as tracefiles move on. */
  next: ChunkFiles | undefined;
  /** Last net_seq_num of the old chunk, once known (-1: none). */
  pivot?: number;
  from: ChunkFiles | undefined;
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
  /** Offered to live viewers: from STREAMS_SENT until a viewer read it, closed, to its end (live-connection.ts). */
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
  /** Index entries written in all chunks. */
  indexesWritten = 0;
  metadataReceived = 0;
  /** Where data and index entries go (the old chunk's files until a rotation completes); undefined: no chunk. */
  files: ChunkFiles | undefined;
  /** The packet being received: its net_seq_num, where it starts, in which files, its whole size. */
  private packet: { seq: number; start: number; files: ChunkFiles; size: number } | undefined;
  private readonly pending = new Map<number, PendingIndex>();
  /** packet_seq_num of the last entry written; -1: none yet. */
  private lastPacketSeqNum = -1;
  private rotation: Rotation | undefined;
  /** Files left for the next tracefile whose index entries are still awaited (their index file stays open). */
  private readonly retired = new Set<ChunkFiles>();

  constructor(
    readonly handle: number,
    readonly owner: StreamOwner,
    readonly traceId: number,
    /** Folder of the trace relative to the chunk folder (the viewer's path_name). */
    readonly pathName: string,
    readonly channelName: string,
    readonly tracefileSize: number,
    readonly tracefileCount: number,
    chunk: TraceChunk,
  ) {
    this.isMetadata = channelName === 'metadata';
    chunk.hold(this);
    try {
      this.files = new ChunkFiles(chunk, this);
    } catch (error) {
      chunk.release(this);
      throw error;
    }
  }

  /** Metadata bytes (SEND_METADATA) and their zero padding. */
  appendMetadata(bytes: Buffer, padding: number): void {
    const files = this.liveFiles('metadata');
    files.write(bytes);
    if (padding > 0) files.write(Buffer.alloc(padding));
    this.metadataReceived += bytes.length + padding;
  }

  private liveFiles(what: string): ChunkFiles {
    if (this.files === undefined) throw new LttError('RELAY_NO_CHUNK', `${what} for stream ${this.handle}, which rotated to no trace chunk`);
    return this.files;
  }

  /** A data packet `seq` starts (the data header announced `size` bytes). */
  beginPacket(seq: number, size: number): void {
    const r = this.rotation;
    if (r?.pivot !== undefined && seq > r.pivot && this.files !== r.next) this.switchData(r);
    const files = this.filesFor(size);
    this.packet = { seq, start: files.fileSize, files, size };
  }

  /** The current files, or the next tracefile when a packet of `size` bytes would take them past the size. */
  private filesFor(size: number): ChunkFiles {
    const files = this.liveFiles('data');
    if (this.tracefileSize > 0 && files.fileSize > 0 && files.fileSize + size > this.tracefileSize) return this.nextTracefile(files);
    return files;
  }

  /** The next file of the stream in the same chunk (tracefile size reached): `old` is let go once its index is complete. */
  private nextTracefile(old: ChunkFiles): ChunkFiles {
    const count = this.tracefileCount;
    const files = new ChunkFiles(old.chunk, this, count > 0 ? (old.tracefileIndex + 1) % count : old.tracefileIndex + 1);
    files.next = old.next;
    old.next = files;
    this.files = files;
    const r = this.rotation;
    if (r?.from === old) r.from = files;
    if (r?.next === old) r.next = files;
    // A file left with packets still awaiting their index keeps its data open too: if a rotation's point turns
    // out to lie before them, they move to the next chunk (switchData).
    if (old.awaiting === 0) this.letGo(old);
    else this.retired.add(old);
    return files;
  }

  /** A file of the stream is complete: closed, and live viewers go on to the next. */
  private letGo(files: ChunkFiles): void {
    this.retired.delete(files);
    files.done = true;
    files.closeFiles();
  }

  packetBytes(bytes: Buffer): void {
    this.packet!.files.write(bytes);
  }

  /** The packet is all here (plus `padding` zero bytes): match its index half. */
  endPacket(padding: number): void {
    const { seq, start, files } = this.packet!;
    if (padding > 0) files.write(Buffer.alloc(padding));
    this.packet = undefined;
    if (this.owner.withIndex) this.addIndexHalf(seq, { offset: start, data: files });
    this.prevDataSeq = seq;
    this.tryFinishRotation();
    if (this.closeRequested) this.tryClose();
  }

  /** SEND_INDEX: the 80-byte lttcomm_relayd_index. A zero packet size is a live beacon. */
  addIndex(msg: Buffer): void {
    const seq = Number(msg.readBigUInt64BE(8));
    if (msg.readBigUInt64BE(16) === 0n) {
      // Only a stream that has data and no index in flight is quiet up to the beacon (lttng-relayd's rule).
      if (this.indexesWritten > 0 && this.pending.size === 0) this.beaconTsEnd = msg.readBigUInt64BE(40);
      return;
    }
    this.beaconTsEnd = undefined;
    if (this.ctfStreamId === -1) this.ctfStreamId = Number(msg.readBigUInt64BE(56));
    this.addIndexHalf(seq, { fields: Buffer.from(msg.subarray(16, 80)) });
    this.tryFinishRotation();
  }

  /** An entry is written once both halves are in, in the files its data went to. */
  private addIndexHalf(seq: number, half: PendingIndex): void {
    const entry = this.pending.get(seq) ?? {};
    Object.assign(entry, half);
    if (entry.data === undefined || entry.fields === undefined) {
      if (this.pending.size >= MAX_PENDING_INDEXES) throw new Error(`more than ${MAX_PENDING_INDEXES} packets without their index`);
      this.pending.set(seq, entry);
      if (half.data !== undefined) half.data.awaiting++;
      return;
    }
    this.pending.delete(seq);
    if (half.data === undefined) entry.data.awaiting--;
    const out = Buffer.allocUnsafe(INDEX_ENTRY_SIZE);
    out.writeBigUInt64BE(BigInt(entry.offset!), 0);
    entry.fields.copy(out, 8);
    entry.data.writeEntry(out);
    if (entry.data.awaiting === 0 && this.retired.has(entry.data)) this.letGo(entry.data);
    this.indexesWritten++;
    this.prevIndexSeq = seq;
    this.lastPacketSeqNum = Number(entry.fields.readBigUInt64BE(56));
    // lttng-relayd's rule: the old chunk ends with the first entry written that reaches the rotation position.
    const r = this.rotation;
    if (r === undefined || r.pivot !== undefined || this.lastPacketSeqNum + 1 < r.at) return;
    this.setPivot(r, seq);
  }

  /**
   * ROTATE_STREAMS: from packet `packetSeqNum` on, write in `next` (undefined: nowhere, the session is being
   * destroyed; the chunk is let go once the packets before are in). False when a rotation is already under way.
   */
  rotate(next: TraceChunk | undefined, packetSeqNum: number): boolean {
    if (this.rotation !== undefined || this.closed) return false;
    let files: ChunkFiles | undefined;
    if (next !== undefined) {
      next.hold(this);
      try {
        files = new ChunkFiles(next, this);
      } catch (error) {
        next.release(this);
        throw error;
      }
    }
    if (this.files !== undefined) this.files.next = files;
    const r: Rotation = { at: packetSeqNum, next: files, from: this.files };
    this.rotation = r;
    if (this.isMetadata) {
      // The metadata is sent again whole in the next chunk.
      this.metadataReceived = 0;
      this.setPivot(r, this.prevDataSeq);
      this.finishRotation(r);
    } else if (!this.owner.withIndex) {
      this.setPivot(r, this.prevDataSeq);
    } else if (this.lastPacketSeqNum !== -1 && this.lastPacketSeqNum + 1 >= packetSeqNum) {
      this.setPivot(r, this.prevIndexSeq);
    }
    this.tryFinishRotation();
    return true;
  }

  /** The old chunk ends after packet `pivot` (net_seq_num): data written there past it moves to the next. */
  private setPivot(r: Rotation, pivot: number): void {
    r.pivot = pivot;
    if (this.isMetadata || this.files === r.next) return;
    const early = (this.packet !== undefined && this.packet.seq > pivot) || this.prevDataSeq > pivot;
    if (early) this.switchData(r);
  }

  /**
   * Data from now on goes to the next chunk's files, with what arrived early: every packet past the pivot, in
   * whichever of the old chunk's tracefiles it landed (a file left for the next one while the rotation point was
   * not known yet holds some too), moves to the next chunk's files packet by packet, in order, under the
   * tracefile size as if it had come now, and its index entry will be written there. The old files are cut back.
   */
  private switchData(r: Rotation): void {
    const old = this.files!;
    const pivot = r.pivot!;
    const oldChunk = old.chunk;
    const moving = [...this.pending]
      .filter(([seq, e]) => seq > pivot && e.data !== undefined && e.data.chunk === oldChunk)
      .sort((a, b) => a[0] - b[0]);
    const packet = this.packet !== undefined && this.packet.seq > pivot && this.packet.files.chunk === oldChunk ? this.packet : undefined;
    if (moving.length === 0 && packet === undefined) {
      this.files = r.next;
      return;
    }
    if (r.next === undefined) throw new LttError('RELAY_NO_CHUNK', `data past the last packet of stream ${this.handle}, which rotated to no trace chunk`);
    // Where each source file's packets end: the next packet's start in that file, or the file's end.
    const starts = new Map<ChunkFiles, number[]>();
    for (const [, e] of moving) starts.set(e.data!, [...(starts.get(e.data!) ?? []), e.offset!]);
    if (packet !== undefined) starts.set(packet.files, [...(starts.get(packet.files) ?? []), packet.start]);
    const endOf = (files: ChunkFiles, offset: number): number => {
      let end = files.fileSize;
      for (const o of starts.get(files)!) if (o > offset && o < end) end = o;
      return end;
    };
    this.files = r.next;
    for (const [, e] of moving) {
      const from = e.data!;
      const bytes = from.read(e.offset!, endOf(from, e.offset!));
      const to = this.filesFor(bytes.length);
      from.awaiting--;
      e.data = to;
      e.offset = to.fileSize;
      to.awaiting++;
      to.write(bytes);
    }
    if (packet !== undefined) {
      const from = packet.files;
      const bytes = from.read(packet.start, from.fileSize);
      const to = this.filesFor(packet.size);
      packet.files = to;
      packet.start = to.fileSize;
      to.write(bytes);
    }
    for (const [files, offsets] of starts) {
      files.truncate(Math.min(...offsets));
      if (files.awaiting === 0 && this.retired.has(files)) this.letGo(files);
    }
  }

  private tryFinishRotation(): void {
    const r = this.rotation;
    if (r === undefined || r.pivot === undefined || this.prevDataSeq < r.pivot) return;
    if (this.packet !== undefined && this.packet.seq <= r.pivot) return;
    this.finishRotation(r);
  }

  /** Every packet of the old chunk is in: its files close and the chunk is let go. */
  private finishRotation(r: Rotation): void {
    this.rotation = undefined;
    this.files = r.next;
    if (r.from !== undefined) {
      r.from.done = true;
      r.from.closeFiles();
      r.from.chunk.release(this);
    }
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
    const cut = this.packet;
    if (cut !== undefined && cut.files.dataFd !== undefined) {
      fs.ftruncateSync(cut.files.dataFd, cut.start);
      cut.files.fileSize = cut.start;
    }
    this.packet = undefined;
    this.closed = true;
    this.pending.clear();
    const held = [this.files, this.rotation?.from, this.rotation?.next].filter((f): f is ChunkFiles => f !== undefined);
    this.rotation = undefined;
    for (const f of this.retired) this.letGo(f);
    for (const f of new Set(held)) {
      f.done = true;
      f.closeFiles();
      f.chunk.release(this);
    }
    this.owner.streamClosed(this);
  }

  /** RESET_METADATA (`lttng regenerate metadata`): the metadata file starts again empty. */
  resetMetadata(): void {
    const files = this.liveFiles('RESET_METADATA');
    fs.ftruncateSync(files.dataFd!, 0);
    files.fileSize = 0;
    this.metadataReceived = 0;
  }
}
