// One CTF data stream (one channel on one CPU, or one UST stream): packs event records into fixed-capacity
// packets (the sub-buffer) and hands finished packets with their index entries to a StreamSink.
//
// Contract (LTTng ring-buffer semantics, docs/lttng-reference.md 3.3 and 5):
// * Packet = header (magic, uuid, stream_id, stream_instance_id) + LTTng packet context + records. A packet
//   opens at its first record's timestamp (or `openPacket(ts)`), switches when a record does not fit (the old
//   packet ends and the new one begins at that record's timestamp), and closes on `flushPacket` / `close`.
// * `packet_size` is the content rounded up to `pageSize` (LTTng: the page size; pass pageSize = packetSize
//   for fixed-size packets) and never more than the capacity; the rest is zero padding.
// * `events_discarded` is cumulative: `addDiscarded(n)` is counted in the next packet closed. A record larger
//   than a whole packet is dropped and counted there too, as the tracer does.
// * `packet_seq_num` increases by one per packet; `skipPackets(n)` leaves a gap (overwrite mode lost n
//   sub-buffers), which readers report as discarded packets.
// * Timestamps are clock cycles (numbers < 2^53) and must not go backwards: an earlier timestamp is clamped to
//   the stream's current time so the trace stays readable.
// * A packet the sink cannot take (full disk: the sink throws) is not retried and does not throw at the
//   producer: it is counted in `stats.unwrittenPackets` / `unwrittenEvents`, reported once to the owner
//   (`writeFailed`), and its sequence number is used anyway, so readers of the trace see the gap as discarded
//   packets. The same goes for a packet whose metadata the owner could not write first.
// Synchronous; `write` does no allocation on the common path. After `close()`, write/openPacket/flushPacket/
// switchSink throw an LttError (CTF_WRITER_CLOSED).

import { allocateAligned } from './direct-io.js';
import { LttError } from '../../errors.js';
import type { EventEncoder, EncoderFactory, Transcoder, TranscoderFactory } from './event-encoder.js';
import type { PacketIndexEntry, StreamSink } from './sink.js';

/** Packet header (32 bytes) + LTTng packet context (52 bytes). */
export const PACKET_PREAMBLE_SIZE = 84;
const PACKET_MAGIC = 0xc1fc1fc1;

export interface StreamWriterStats {
  /** Records written. */
  events: number;
  /** Packets handed to the sink. */
  packets: number;
  /** Cumulative discarded-record counter (what the next packet will carry). */
  discarded: number;
  /** Bytes handed to the sink (packet sizes). */
  bytes: number;
  /** Packets the sink could not write (full disk, ...), and the records they held (included in `events`). */
  unwrittenPackets: number;
  unwrittenEvents: number;
}

/** What a StreamWriter needs from its trace (kept narrow so streams can be tested and reused apart). */
export interface StreamOwner {
  /** Encoder factory of event class `id` of this stream's class, or undefined if there is none. */
  encoderFactory(streamClassId: number, id: number): EncoderFactory | undefined;
  /** Called before each packet leaves, so the metadata describing it is out first; false if it could not be. */
  beforePacket(): boolean;
  /** The sink failed to take a packet of this stream (the packet is counted as unwritten). */
  writeFailed(stream: StreamWriter, error: unknown): void;
  /** Called once when the stream is closed. */
  streamClosed(stream: StreamWriter): void;
}

export interface StreamWriterOptions {
  readonly streamClassId: number;
  readonly streamInstanceId: number;
  readonly cpuId: number;
  /** Packet capacity in bytes (the sub-buffer size). */
  readonly packetSize: number;
  /** packet_size granularity in bytes; default 4096 (LTTng rounds to the page size). */
  readonly pageSize?: number;
  /** Added to every timestamp (see TraceWriterOptions.timestampBase). */
  readonly timestampBase?: bigint;
}

/** Throws an LttError for packet/page sizes a stream cannot use. */
export function checkStreamWriterOptions(opts: { readonly packetSize: number; readonly pageSize?: number }): void {
  const pageSize = opts.pageSize ?? 4096;
  if (!Number.isSafeInteger(opts.packetSize) || opts.packetSize < PACKET_PREAMBLE_SIZE + 16 || opts.packetSize > 0x40000000) {
    throw new LttError('CTF_WRITER_BAD_STREAM', `packet size must be between ${PACKET_PREAMBLE_SIZE + 16} bytes and 1 GiB, got ${String(opts.packetSize)}`);
  }
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
    throw new LttError('CTF_WRITER_BAD_STREAM', `page size must be a positive integer, got ${String(pageSize)}`);
  }
}

function put64(dv: DataView, at: number, v: number): void {
  const lo = v >>> 0;
  dv.setUint32(at, lo, true);
  dv.setUint32(at + 4, ((v - lo) / 4294967296) >>> 0, true);
}

export class StreamWriter {
  readonly stats: StreamWriterStats = { events: 0, packets: 0, discarded: 0, bytes: 0, unwrittenPackets: 0, unwrittenEvents: 0 };
  readonly streamClassId: number;
  readonly streamInstanceId: number;
  readonly cpuId: number;
  readonly packetCapacity: number;
  readonly pageSize: number;

  private readonly u8: Buffer;
  private readonly dv: DataView;
  private readonly encoders: (EventEncoder | undefined)[] = [];
  private off = PACKET_PREAMBLE_SIZE;
  private isOpen = false;
  private closed = false;
  private beginTs = 0;
  /** Clock value a reader holds at this point of the stream (last record or packet boundary). */
  private clock = 0;
  private hasClock = false;
  private packetEvents = 0;
  private seqNum = 0;
  private readonly timestampBase: bigint;
  /** The timestamp of the record being written (see transcode()). */
  private readonly stamp = new Float64Array(1);
  /** timestampBase in 32-bit halves, for the event headers written here (transcode). */
  private readonly baseLo: number;
  private readonly baseHi: number;

  constructor(
    private readonly owner: StreamOwner,
    private sink: StreamSink,
    private readonly uuid: Uint8Array,
    opts: StreamWriterOptions,
  ) {
    checkStreamWriterOptions(opts);
    const pageSize = opts.pageSize ?? 4096;
    this.streamClassId = opts.streamClassId;
    this.streamInstanceId = opts.streamInstanceId;
    this.cpuId = opts.cpuId;
    this.packetCapacity = opts.packetSize;
    this.pageSize = pageSize;
    this.timestampBase = opts.timestampBase ?? 0n;
    this.baseLo = Number(this.timestampBase & 0xffffffffn);
    this.baseHi = Number(this.timestampBase >> 32n);
    // Page-aligned, so the file sink can write packets with O_DIRECT (direct-io.ts).
    this.u8 = allocateAligned(opts.packetSize);
    this.dv = new DataView(this.u8.buffer, this.u8.byteOffset, this.u8.byteLength);
  }

  /** Sequence number the next packet will carry. Settable for overwrite-mode producers that track their own. */
  get packetSeqNum(): number {
    return this.seqNum;
  }
  set packetSeqNum(n: number) {
    if (!Number.isSafeInteger(n) || n < 0) throw new LttError('CTF_WRITER_BAD_STREAM', `invalid packet sequence number ${n}`);
    this.seqNum = n;
  }

  /** Bytes used in the current packet (header included), 0 when no packet is open. */
  get packetBytesUsed(): number {
    return this.isOpen ? this.off : 0;
  }

  /**
   * Appends one record. `payload` and `context` (the stream event context) are positional values, one per
   * field of the event class / stream class.
   */
  write(eventId: number, timestamp: number, payload: readonly unknown[], context?: readonly unknown[]): void {
    let enc = this.encoders[eventId];
    if (enc === undefined) enc = this.loadEncoder(eventId);
    // Never backwards (a reader's clock cannot go back); this also turns NaN into the current time.
    let ts = timestamp;
    if (!(ts >= this.clock)) ts = this.clock;
    this.stamp[0] = ts;
    if (!this.isOpen) this.beginPacket(ts);
    let r = this.encodeAt(enc, payload, context);
    if (r < 0) {
      if (!this.retryInNewPacket(ts)) return;
      r = this.encodeAt(enc, payload, context);
      if (r < 0) {
        this.dropTooBig();
        return;
      }
    }
    this.appended(r);
  }

  /**
   * Binds a transcoder of one of this stream's event classes (CtfTraceWriter.transcoderFactory) to this
   * stream's packet buffer and to the buffer its source records will be in.
   */
  bindTranscoder(factory: TranscoderFactory, src: Buffer, srcDv: DataView): Transcoder {
    if (this.closed) throw this.closedError();
    return factory(this.u8, this.dv, src, srcDv);
  }

  /**
   * For a record loop that writes records itself (the kernel consumer's fused page walk, with inlined
   * transcoder bodies): `make` gets this stream's packet buffer and returns the loop. Such a loop appends only
   * into the open packet, between recordsEnd() and the buffer's end, and with headers it writes itself: an event
   * header as header() writes it for a timestamp `ts` with `ts >= recordsClock()` and a delta below 2^32 (large)
   * or 2^27 (compact), and only while timestampsPlain; then it reports with recordsAppended(). Anything else (no
   * open packet, no room, a delta too large) goes through transcode(), which switches packets.
   */
  bindRecordLoop<T>(make: (u8: Buffer, dv: DataView) => T): T {
    if (this.closed) throw this.closedError();
    return make(this.u8, this.dv);
  }

  /** Clock values are the timestamps themselves (no timestampBase): a record loop may write headers. */
  get timestampsPlain(): boolean {
    return this.baseLo === 0 && this.baseHi === 0;
  }

  /** Where the open packet's next record goes, or -1 when no packet is open. */
  recordsEnd(): number {
    return this.isOpen ? this.off : -1;
  }

  /** The stream's clock (the last record's timestamp, or the open packet's beginning). */
  recordsClock(): number {
    return this.clock;
  }

  /** A record loop appended `count` records to the open packet, which now ends at `end`; the last at `clock`. */
  recordsAppended(end: number, clock: number, count: number): void {
    if (count === 0) return;
    this.off = end;
    this.clock = clock;
    this.packetEvents += count;
    this.stats.events += count;
  }

  /**
   * Appends one record whose payload `tx` (bound to this stream) reads from the source record at `rec`
   * (`len` bytes), at the timestamp in `at[0]`; as write() otherwise. The timestamp comes in a typed array
   * because this is the kernel consumer's per-record call: a number passed to a call V8 does not inline is
   * boxed, one heap allocation per record (and the garbage collections that follow).
   */
  transcode(tx: Transcoder, at: Float64Array, rec: number, len: number, context?: readonly unknown[]): void {
    const stamp = this.stamp;
    stamp[0] = at[0]!;
    if (!(stamp[0]! >= this.clock)) stamp[0] = this.clock;
    // The common case kept small enough for V8 to inline into the consumer's record loop: an open packet with
    // room for the record (a closed stream has no open packet).
    if (this.isOpen) {
      const r = this.transcodeAt(tx, rec, len, context);
      if (r >= 0) {
        this.appended(r);
        return;
      }
    }
    this.transcodeAgain(tx, rec, len, context);
  }

  /** transcode() with no open packet, or no room left in the open one. */
  private transcodeAgain(tx: Transcoder, rec: number, len: number, context: readonly unknown[] | undefined): void {
    if (this.closed) throw this.closedError();
    const stamp = this.stamp;
    let r = -1;
    if (!this.isOpen) {
      this.beginPacket(stamp[0]!);
      r = this.transcodeAt(tx, rec, len, context);
    }
    if (r < 0) {
      if (!this.retryInNewPacket(stamp[0]!)) return;
      r = this.transcodeAt(tx, rec, len, context);
      if (r < 0) {
        this.dropTooBig();
        return;
      }
    }
    this.appended(r);
  }

  private encodeAt(enc: EventEncoder, payload: readonly unknown[], context: readonly unknown[] | undefined): number {
    const off = this.header(enc.id, enc.compact);
    return off < 0 ? -1 : enc.body(off, payload, context);
  }

  private transcodeAt(tx: Transcoder, rec: number, len: number, context: readonly unknown[] | undefined): number {
    const off = this.header(tx.id, tx.compact);
    return off < 0 ? -1 : tx.body(off, rec, len, context);
  }

  /**
   * Writes the event header of a record of class `id` at the timestamp in `stamp[0]` at the open packet's end;
   * returns where the record goes on, or -1 when the header does not fit. Compact: 5-bit id and the low 27 bits
   * of the clock; large: 16-bit id and the low 32 bits; else (id too large, or the delta too large for a reader
   * to rebuild the clock assuming at most one wrap) the extended form with the full id and 64-bit clock. Clock
   * values are timestampBase + ts (the base keeps `ts` below 2^53 when the clock is beyond).
   */
  private header(id: number, compact: boolean): number {
    const u8 = this.u8;
    const dv = this.dv;
    const off = this.off;
    const ts = this.stamp[0]!;
    const delta = ts - this.clock;
    if (compact) {
      if (id < 31 && delta < 134217728) {
        if (off + 4 > u8.length) return -1;
        const low27 = this.baseLo === 0 ? ts & 0x7ffffff : ((ts & 0x7ffffff) + (this.baseLo & 0x7ffffff)) & 0x7ffffff;
        dv.setUint32(off, (id | (low27 << 5)) >>> 0, true);
        return off + 4;
      }
      if (off + 13 > u8.length) return -1;
      u8[off] = 31;
      dv.setUint32(off + 1, id, true);
      this.put64(off + 5, ts);
      return off + 13;
    }
    if (id < 65535 && delta < 4294967296) {
      if (off + 6 > u8.length) return -1;
      dv.setUint16(off, id, true);
      dv.setUint32(off + 2, this.baseLo === 0 ? ts >>> 0 : ((ts >>> 0) + this.baseLo) >>> 0, true);
      return off + 6;
    }
    if (off + 14 > u8.length) return -1;
    dv.setUint16(off, 65535, true);
    dv.setUint32(off + 2, id, true);
    this.put64(off + 6, ts);
    return off + 14;
  }

  /** base + ts as a little-endian u64 at `at`. */
  private put64(at: number, ts: number): void {
    const lo = (ts >>> 0) + this.baseLo;
    this.dv.setUint32(at, lo >>> 0, true);
    this.dv.setUint32(at + 4, ((ts - (ts >>> 0)) / 4294967296 + this.baseHi + (lo > 4294967295 ? 1 : 0)) >>> 0, true);
  }

  /** The record written at the end of the packet, at `stamp[0]`, ends at `end`. */
  private appended(end: number): void {
    this.off = end;
    this.clock = this.stamp[0]!;
    this.packetEvents++;
    this.stats.events++;
  }

  /**
   * A record did not fit in the open packet: switch packets so it can be written again at `ts`. False (and the
   * record counted as discarded) when the packet was empty: the record is larger than a whole sub-buffer.
   */
  private retryInNewPacket(ts: number): boolean {
    // The encoder may have written part of the record: restore the all-zero tail it relies on.
    this.u8.fill(0, this.off);
    if (this.packetEvents === 0) {
      this.stats.discarded++;
      return false;
    }
    this.closePacket(ts);
    this.beginPacket(ts);
    return true;
  }

  /** The record did not fit in an empty packet either: the tracer drops it and counts it as discarded. */
  private dropTooBig(): void {
    this.u8.fill(0, this.off);
    this.stats.discarded++;
  }

  /** Records lost before they reached this stream; counted in the next packet's events_discarded. */
  addDiscarded(count: number): void {
    if (!Number.isSafeInteger(count) || count < 0) throw new LttError('CTF_WRITER_BAD_STREAM', `invalid discarded count ${count}`);
    this.stats.discarded += count;
  }

  /** Overwrite mode: `n` packets were lost; the next packet's sequence number jumps by n. */
  skipPackets(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new LttError('CTF_WRITER_BAD_STREAM', `invalid skipped packet count ${n}`);
    this.seqNum += n;
  }

  /** Opens a packet beginning at `timestamp` if none is open (e.g. at a sub-buffer switch time). */
  openPacket(timestamp: number): void {
    if (this.closed) throw this.closedError();
    if (!this.isOpen) this.beginPacket(timestamp >= this.clock ? timestamp : this.clock);
  }

  /**
   * Closes the current packet (switch timer, stop, flush). `endTimestamp` defaults to the last record's time.
   * With no packet open, an explicit `endTimestamp` emits an empty packet (LTTng's switch-timer beacon);
   * without one nothing happens.
   */
  flushPacket(endTimestamp?: number): void {
    if (this.closed) throw this.closedError();
    if (!this.isOpen) {
      if (endTimestamp === undefined) return;
      this.beginPacket(this.hasClock && this.clock < endTimestamp ? this.clock : endTimestamp);
    }
    const end = endTimestamp === undefined || endTimestamp < this.clock ? this.clock : endTimestamp;
    this.closePacket(end);
  }

  /**
   * Session rotation: closes the open packet into the current sink (at `endTimestamp` if later than its last
   * record), then continues in `next` (sequence numbers and the discarded counter carry on, as in LTTng trace
   * chunks). The old sink is closed.
   */
  async switchSink(next: StreamSink, endTimestamp?: number): Promise<void> {
    if (this.closed) throw this.closedError();
    // Closed at the rotation time when given: the next packet then begins after this one did (a reader
    // merging the chunks orders a stream's packets by their beginning).
    if (this.isOpen) this.closePacket(endTimestamp !== undefined && endTimestamp > this.clock ? endTimestamp : this.clock);
    const old = this.sink;
    this.sink = next;
    await old.close();
  }

  /** A packet the sink wrote behind and found later it could not store: its counts move to the losses. */
  private packetLost(size: number, events: number): (err: unknown) => void {
    return (err) => {
      this.stats.packets--;
      this.stats.bytes -= size;
      this.stats.unwrittenPackets++;
      this.stats.unwrittenEvents += events;
      this.owner.writeFailed(this, err);
    };
  }

  /**
   * Whether the sink takes a whole packet now (StreamSink.hasRoom: staging behind a slow disk may be full). A
   * producer that can leave its data where it is (a ring) asks before filling a packet, and else waits for
   * whenRoom(): its ring then discards and counts, instead of the packet failing here.
   */
  hasRoomForPacket(): boolean {
    return this.sink.hasRoom?.(this.packetCapacity) ?? true;
  }

  /** Calls `cb` once, when the sink may have room again (at once for a sink that never runs out). */
  whenRoom(cb: () => void): void {
    if (this.sink.whenRoom) this.sink.whenRoom(cb);
    else queueMicrotask(cb);
  }

  /** Returns once every packet closed so far is stored (StreamSink.settle; the promise: nothing written behind). */
  settle(): Promise<void> {
    return this.sink.settle?.() ?? Promise.resolve();
  }

  /** Flushes the open packet, if any, and closes the sink. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.isOpen) this.closePacket(this.clock);
    this.closed = true;
    // Cached encoders would keep writing into the buffer: without them, write() reaches the closed check.
    this.encoders.length = 0;
    try {
      await this.sink.close();
    } finally {
      this.owner.streamClosed(this);
    }
  }

  private closedError(): LttError {
    return new LttError('CTF_WRITER_CLOSED', `stream ${this.streamClassId}/${this.streamInstanceId} used after close`);
  }

  private loadEncoder(eventId: number): EventEncoder {
    if (this.closed) throw this.closedError();
    const factory = Number.isInteger(eventId) ? this.owner.encoderFactory(this.streamClassId, eventId) : undefined;
    if (factory === undefined) {
      throw new LttError('CTF_WRITER_UNKNOWN_EVENT', `no event class ${String(eventId)} in stream class ${this.streamClassId}`);
    }
    const enc = factory(this.u8, this.dv);
    this.encoders[eventId] = enc;
    return enc;
  }

  private beginPacket(ts: number): void {
    this.isOpen = true;
    this.off = PACKET_PREAMBLE_SIZE;
    this.beginTs = ts;
    this.clock = ts;
    this.hasClock = true;
    this.packetEvents = 0;
  }

  private closePacket(endTs: number): void {
    const u8 = this.u8;
    const dv = this.dv;
    const content = this.off;
    const page = this.pageSize;
    let size = Math.ceil(content / page) * page;
    if (size > this.packetCapacity) size = this.packetCapacity;
    dv.setUint32(0, PACKET_MAGIC, true);
    u8.set(this.uuid, 4);
    dv.setUint32(20, this.streamClassId, true);
    put64(dv, 24, this.streamInstanceId);
    const begin = BigInt(this.beginTs) + this.timestampBase;
    const end = BigInt(endTs) + this.timestampBase;
    dv.setBigUint64(32, BigInt.asUintN(64, begin), true);
    dv.setBigUint64(40, BigInt.asUintN(64, end), true);
    put64(dv, 48, content * 8);
    put64(dv, 56, size * 8);
    put64(dv, 64, this.seqNum);
    put64(dv, 72, this.stats.discarded);
    dv.setUint32(80, this.cpuId, true);
    const entry: PacketIndexEntry = {
      packetSizeBits: size * 8,
      contentSizeBits: content * 8,
      timestampBegin: BigInt.asUintN(64, begin),
      timestampEnd: BigInt.asUintN(64, end),
      eventsDiscarded: this.stats.discarded,
      streamId: this.streamClassId,
      streamInstanceId: this.streamInstanceId,
      packetSeqNum: this.seqNum,
    };
    let written = this.owner.beforePacket();
    if (written) {
      try {
        this.sink.writePacket(u8.subarray(0, size), entry, this.packetLost(size, this.packetEvents));
      } catch (err) {
        written = false;
        this.owner.writeFailed(this, err);
      }
    }
    if (written) {
      this.stats.packets++;
      this.stats.bytes += size;
    } else {
      this.stats.unwrittenPackets++;
      this.stats.unwrittenEvents += this.packetEvents;
    }
    u8.fill(0, 0, content);
    this.seqNum++;
    this.clock = endTs;
    this.isOpen = false;
    this.off = PACKET_PREAMBLE_SIZE;
    this.packetEvents = 0;
  }
}
