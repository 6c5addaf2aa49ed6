// Flight-recorder sink, for both domains: what a snapshot-mode channel keeps instead of writing files. Each
// stream holds its most recent packets in as many sub-buffer-sized slots as the ring buffer its packets come
// from has sub-buffers (StreamSinkInfo.ring; LTTng's overwrite-mode ring: a packet closed early, by a flush,
// still takes a whole sub-buffer), allocated once and reused, so memory stays at the channel's size. A
// discard-mode ring keeps its first packets instead: once full, new packets are dropped (RingGeometry.discard).
// `writeSnapshot()` writes what is held, with the metadata, as an ordinary on-disk trace (writeHeldTrace below:
// FileTraceSink, LTTng's layout, index files, owned output), and keeps holding it, so successive snapshots overlap
// as LTTng's do.
//
// Why a sink: tracefs has no non-destructive reader here (no snapshot buffer in this kernel, and reading
// trace_pipe_raw consumes), and Node has no memory shared between processes for a daemon to copy ltt/ust's rings
// from, so the kernel consumer and each ltt/ust app drain their buffers as usual and this sink plays the part of
// LTTng's overwrite-mode ring that `lttng snapshot record` copies out.
//
// Contract: as every TraceSink, packet views are copied during the call (into page-aligned slots, zero-padded to
// their packet size, so the snapshot's files can go out with O_DIRECT); `writeSnapshot()` copies synchronously
// once the output folder exists, so packets added meanwhile belong to the next snapshot. A closed stream keeps
// its packets (a thread that exited still belongs in the flight recorder), up to MAX_CLOSED_STREAMS_HELD of them
// (a thread pool's would add up forever). `maxBytes` (snapshot --max-size) is shared equally by the streams that
// hold data; each keeps its newest packets that fit, and a share smaller than one packet is an error (LTTng's
// MAX_SIZE_INVALID) rather than a snapshot with holes. Nothing held: no trace is written, unless the caller asks
// for the metadata of a producer that is there with empty buffers (an ltt/ust app after a clear), as LTTng writes
// a live app's trace whatever its buffers hold.

import { LttError } from '../../errors.js';
import { allocateAligned } from './direct-io.js';
import { FileTraceSink } from './file-sink.js';
import type { FileOwner } from './owned-output.js';
import type { PacketIndexEntry, RingGeometry, StreamSink, StreamSinkInfo, TraceSink } from './sink.js';

const PAGE = 4096;
/** Closed streams whose packets are kept; the oldest closed goes past this. */
const MAX_CLOSED_STREAMS_HELD = 64;

/** One held packet: `bytes` is exactly the packet (padded to its packet size). */
export interface HeldPacket {
  readonly bytes: Uint8Array;
  readonly index: PacketIndexEntry;
}

/** What one stream holds, oldest packet first. */
export interface HeldStream {
  readonly info: StreamSinkInfo;
  readonly packets: readonly HeldPacket[];
}

interface Slot {
  buf: Buffer;
  length: number;
  index: PacketIndexEntry;
}

class RingStream implements StreamSink {
  /** Oldest first; at most `geometry.slots` entries. */
  readonly slots: Slot[] = [];
  closed = false;

  constructor(
    readonly info: StreamSinkInfo,
    private readonly geometry: RingGeometry,
    private readonly onClose: (s: RingStream) => void,
  ) {}

  writePacket(packet: Uint8Array, index: PacketIndexEntry): void {
    if (this.closed) throw new LttError('CTF_WRITER_CLOSED', `packet written to closed snapshot stream ${this.info.fileName}`);
    const size = index.packetSizeBits / 8;
    let buf: Buffer | undefined;
    if (this.slots.length >= this.geometry.slots) {
      if (this.geometry.discard) return; // discard mode: the ring is full, the new packet goes
      buf = this.slots.shift()!.buf; // the oldest slot is reused
    }
    // A packet never exceeds the sub-buffer size it was opened with; a larger one gets a slot of its own size.
    if (buf === undefined || buf.length < size) buf = allocateAligned(Math.ceil(Math.max(size, this.geometry.slotSize) / PAGE) * PAGE);
    buf.set(packet);
    buf.fill(0, packet.length, size);
    this.slots.push({ buf, length: size, index: { ...index } });
  }

  held(): HeldStream {
    return { info: this.info, packets: this.slots.map((s) => ({ bytes: s.buf.subarray(0, s.length), index: s.index })) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
  }
}

export interface SnapshotWritten {
  /** Bytes of stream data written (metadata excluded). */
  bytes: number;
  packets: number;
  streams: number;
}

export class SnapshotRingSink implements TraceSink {
  private readonly metadata: Uint8Array[] = [];
  private streams: RingStream[] = [];

  writeMetadata(packets: Uint8Array): void {
    this.metadata.push(Uint8Array.prototype.slice.call(packets));
  }

  openStream(info: StreamSinkInfo): StreamSink {
    const geometry = info.ring;
    if (geometry === undefined || !Number.isSafeInteger(geometry.slots) || geometry.slots < 1 || !Number.isSafeInteger(geometry.slotSize) || geometry.slotSize < PAGE) {
      throw new LttError('CTF_WRITER_BAD_OPTION', `snapshot stream ${info.fileName}: needs at least one slot of at least ${PAGE} bytes`);
    }
    // Snapshots are whole streams: tracefile rotation is the on-disk ring, which a snapshot does not have.
    const stream = new RingStream({ ...info, tracefileSize: undefined, tracefileCount: undefined }, geometry, () => this.closedOne());
    this.streams.push(stream);
    return stream;
  }

  private closedOne(): void {
    const closed = this.streams.filter((s) => s.closed);
    if (closed.length > MAX_CLOSED_STREAMS_HELD) this.streams = this.streams.filter((s) => s !== closed[0]);
  }

  /**
   * What the sink holds now: its metadata and each stream's packets, oldest first (views of the slots: valid
   * until the next packet of that stream).
   */
  held(): { metadata: readonly Uint8Array[]; streams: HeldStream[] } {
    return { metadata: this.metadata, streams: this.streams.map((s) => s.held()) };
  }

  /**
   * Writes what the streams hold now as a trace in `dir` (created, as `owner` when root writes for another
   * user). `maxBytes` 0: no limit. `open`: packets their producers are still filling, copied (ltt/ust cannot
   * close a thread's packet from outside); such a packet is one of its ring's sub-buffers, so it stands in for
   * the oldest one held when every slot is taken. `emptyTrace`: with streams open but no packet held, the trace
   * is still written (its metadata).
   */
  writeSnapshot(dir: SnapshotDestination, owner: FileOwner | undefined, maxBytes = 0, open?: ReadonlyMap<StreamSink, HeldPacket>, emptyTrace = false): Promise<SnapshotWritten> {
    const streams = this.streams.map((s) => {
      const held = s.held();
      const last = open?.get(s);
      if (last === undefined) return held;
      const packets = held.packets.length >= s.info.ring!.slots ? held.packets.slice(1) : held.packets;
      return { info: held.info, packets: [...packets, last] };
    });
    return writeHeldTrace(dir, owner, maxBytes, this.metadata, streams, emptyTrace && streams.length > 0);
  }

  /**
   * `clear`: everything held goes, streams and metadata included (the trace writer then hands this sink its
   * whole metadata and its streams again, as to a new chunk).
   */
  reset(): void {
    for (const s of this.streams) s.slots.length = 0;
    this.streams = [];
    this.metadata.length = 0;
  }

  async close(): Promise<void> {
    this.reset();
  }
}

/** Where a snapshot goes: a folder made for it, or a sink made when there is something to write (a relay's). */
export type SnapshotDestination = string | (() => TraceSink);

/**
 * Writes held packets as a trace in `dir` (or the sink it makes): `metadata` as it is, then each stream's newest packets within an
 * equal share of `maxBytes` (0: no limit; a share below a stream's newest packet is LttError MAX_SIZE_INVALID,
 * nothing written). No stream holding a packet: nothing is written (no trace). Also what the session daemon
 * writes for ltt/ust apps that exited and handed their packets over (src/sessiond/ust/exited-app-buffers.ts).
 */
export async function writeHeldTrace(
  dir: SnapshotDestination,
  owner: FileOwner | undefined,
  maxBytes: number,
  metadata: readonly Uint8Array[],
  streams: readonly HeldStream[],
  /** Written (its metadata) even when no stream holds a packet. */
  emptyTrace = false,
): Promise<SnapshotWritten> {
  const holding = streams.filter((s) => s.packets.length > 0);
  const share = maxBytes > 0 && holding.length > 0 ? Math.floor(maxBytes / holding.length) : Infinity;
  const largest = Math.max(0, ...holding.map((s) => s.packets[s.packets.length - 1]!.bytes.length));
  if (share < largest) {
    throw new LttError(
      'MAX_SIZE_INVALID',
      `Invalid snapshot size. Cannot fit at least one packet per stream (${maxBytes} bytes for ${holding.length} streams of packets up to ${largest} bytes).`,
    );
  }
  const written: SnapshotWritten = { bytes: 0, packets: 0, streams: 0 };
  if (holding.length === 0 && !emptyTrace) return written;
  // As lttng-consumerd's snapshots: stream files and metadata, no index files.
  const sink = typeof dir === 'string' ? FileTraceSink.create(dir, owner, 0, false, false) : dir();
  let failure: unknown;
  try {
    for (const m of metadata) sink.writeMetadata(m, '');
    for (const s of holding) {
      let first = s.packets.length;
      for (let used = 0; first > 0 && used + s.packets[first - 1]!.bytes.length <= share; ) used += s.packets[--first]!.bytes.length;
      const out = sink.openStream(s.info);
      written.streams++;
      for (const p of s.packets.slice(first)) {
        out.writePacket(p.bytes, p.index);
        written.bytes += p.bytes.length;
        written.packets++;
      }
    }
  } catch (err) {
    failure = err;
  }
  await sink.close().catch((err: unknown) => (failure ??= err));
  if (failure !== undefined) throw failure;
  return written;
}
