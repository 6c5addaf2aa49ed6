// Flight-recorder sink: what a snapshot-mode channel keeps instead of writing files. Each stream holds its most
// recent packets in as many sub-buffer-sized slots as the channel's ring buffer has sub-buffers (LTTng's
// overwrite-mode ring: a packet closed early, by a flush, still takes a whole sub-buffer), allocated once and
// reused, so memory stays at the channel's size. `writeSnapshot()` writes what is held, with the metadata, as
// an ordinary on-disk trace (FileTraceSink: LTTng's layout, index files, owned output), and keeps holding it,
// so successive snapshots overlap as LTTng's do.
//
// Why a sink: tracefs has no non-destructive reader here (no snapshot buffer in this kernel, and reading
// trace_pipe_raw consumes), so the consumer drains the kernel buffers as usual and this sink plays the part of
// LTTng's overwrite-mode ring that `lttng snapshot record` copies out.
//
// Contract: as every TraceSink, packet views are copied during the call (into page-aligned slots, so the
// snapshot's files can go out with O_DIRECT); `writeSnapshot()` copies synchronously once the output folder
// exists, so packets the consumer adds meanwhile belong to the next snapshot. `maxBytes` (snapshot
// --max-size) is shared equally by the streams that hold data; each keeps its newest packets that fit, and a
// share smaller than one packet is an error (LTTng's MAX_SIZE_INVALID) rather than a snapshot with holes.

import { LttError } from '../../errors.js';
import { allocateAligned } from './direct-io.js';
import { FileTraceSink } from './file-sink.js';
import type { FileOwner } from './owned-output.js';
import type { PacketIndexEntry, StreamSink, StreamSinkInfo, TraceSink } from './sink.js';

const PAGE = 4096;

interface HeldPacket {
  buf: Buffer;
  length: number;
  index: PacketIndexEntry;
}

/** How much one stream holds: `slots` packets of at most `slotSize` bytes (sub-buffer count and size). */
export interface RingGeometry {
  slots: number;
  slotSize: number;
}

class RingStream implements StreamSink {
  /** Oldest first; at most `slots` entries. */
  readonly packets: HeldPacket[] = [];

  constructor(
    readonly info: StreamSinkInfo,
    private readonly geometry: RingGeometry,
  ) {}

  get bytes(): number {
    return this.packets.reduce((a, p) => a + p.length, 0);
  }

  writePacket(packet: Uint8Array, index: PacketIndexEntry): void {
    let buf: Buffer | undefined;
    if (this.packets.length >= this.geometry.slots) buf = this.packets.shift()!.buf; // the oldest slot is reused
    // A packet never exceeds the sub-buffer size it was opened with; a larger one gets a slot of its own size.
    if (buf === undefined || buf.length < packet.length) {
      buf = allocateAligned(Math.ceil(Math.max(packet.length, this.geometry.slotSize) / PAGE) * PAGE);
    }
    buf.set(packet);
    this.packets.push({ buf, length: packet.length, index: { ...index } });
  }

  /** The newest packets whose sizes add up to at most `budget` bytes, oldest first. */
  newest(budget: number): HeldPacket[] {
    let used = 0;
    let first = this.packets.length;
    while (first > 0 && used + this.packets[first - 1]!.length <= budget) used += this.packets[--first]!.length;
    return this.packets.slice(first);
  }

  async close(): Promise<void> {
    this.packets.length = 0;
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
  private readonly streams: RingStream[] = [];

  /** `geometryOf`: what one stream holds (its channel's sub-buffer count and size). */
  constructor(private readonly geometryOf: (info: StreamSinkInfo) => RingGeometry) {}

  writeMetadata(packets: Uint8Array): void {
    this.metadata.push(Uint8Array.prototype.slice.call(packets));
  }

  openStream(info: StreamSinkInfo): StreamSink {
    const geometry = this.geometryOf(info);
    if (!Number.isSafeInteger(geometry.slots) || geometry.slots < 1 || !Number.isSafeInteger(geometry.slotSize) || geometry.slotSize < PAGE) {
      throw new LttError('CTF_WRITER_BAD_OPTION', `snapshot stream ${info.fileName}: needs at least one slot of at least ${PAGE} bytes`);
    }
    // Snapshots are whole streams: tracefile rotation is the on-disk ring, which a snapshot does not have.
    const stream = new RingStream({ ...info, tracefileSize: undefined, tracefileCount: undefined }, geometry);
    this.streams.push(stream);
    return stream;
  }

  /**
   * Writes what the streams hold now as a trace in `dir` (created, as `owner` when root writes for another
   * user). `maxBytes` 0: no limit.
   */
  async writeSnapshot(dir: string, owner: FileOwner | undefined, maxBytes = 0): Promise<SnapshotWritten> {
    const holding = this.streams.filter((s) => s.packets.length > 0);
    const share = maxBytes > 0 && holding.length > 0 ? Math.floor(maxBytes / holding.length) : Infinity;
    if (share !== Infinity) {
      const largest = Math.max(...holding.map((s) => s.packets[s.packets.length - 1]!.length));
      if (share < largest) {
        throw new LttError(
          'MAX_SIZE_INVALID',
          `Invalid snapshot size. Cannot fit at least one packet per stream (${maxBytes} bytes for ${holding.length} streams of packets up to ${largest} bytes).`,
        );
      }
    }
    const sink = await FileTraceSink.create(dir, owner);
    const written: SnapshotWritten = { bytes: 0, packets: 0, streams: 0 };
    let failure: unknown;
    try {
      for (const m of this.metadata) sink.writeMetadata(m);
      for (const s of holding) {
        const out = sink.openStream(s.info);
        written.streams++;
        for (const p of s.newest(share)) {
          out.writePacket(p.buf.subarray(0, p.length), p.index);
          written.bytes += p.length;
          written.packets++;
        }
      }
    } catch (err) {
      failure = err;
    }
    await sink.close();
    if (failure !== undefined) throw failure;
    return written;
  }

  /**
   * `clear`: everything held goes, streams and metadata included (the trace writer then hands this sink its
   * whole metadata and its streams again, as to a new chunk).
   */
  reset(): void {
    for (const s of this.streams) s.packets.length = 0;
    this.streams.length = 0;
    this.metadata.length = 0;
  }

  async close(): Promise<void> {
    for (const s of this.streams) await s.close();
    this.metadata.length = 0;
  }
}
