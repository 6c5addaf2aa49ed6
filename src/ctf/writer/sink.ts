// Where finished CTF output goes, for both domains: the boundary between packet production (the kernel
// consumer's StreamWriter and CtfTraceWriter; ltt/ust's trace writer, whose sub-buffers are finished packets)
// and storage or transport: local files with LTTng's index files and tracefile size/count (file-sink.ts), the
// snapshot-mode memory ring (snapshot-ring-sink.ts), a relay connection (src/relay). Whoever builds a trace's
// output picks the sink; the producers never know which one it is.
//
// Contract: producers call the sink synchronously. A `packet` view is borrowed: only valid during the call (the
// producer reuses it right after: a kernel packet buffer, an ltt/ust sub-buffer in shared memory), so a sink
// that keeps the bytes copies them. It holds at least the packet's content (index.contentSizeBits) and at most
// its packet size; the sink pads it with zeros to index.packetSizeBits (page-aligned for both domains, so files
// can be written with O_DIRECT). Metadata arrives in order as whole metadata packets (or, ltt/ust, plain TSDL
// text, as LTTng-UST's per-PID metadata) plus the TSDL text they carry. `close()` is called once, after the
// last write, and must make everything durable (files closed) before it resolves.

/** One LTTng index entry (ctf_packet_index 1.1), minus the offset, which the sink assigns. Sizes in bits. */
export interface PacketIndexEntry {
  readonly packetSizeBits: number;
  readonly contentSizeBits: number;
  /** Clock values (timestamp base included), exact. */
  readonly timestampBegin: bigint;
  readonly timestampEnd: bigint;
  /** Cumulative, as in the packet context. */
  readonly eventsDiscarded: number;
  readonly streamId: number;
  readonly streamInstanceId: number;
  readonly packetSeqNum: number;
}

export interface StreamSinkInfo {
  /** Data file name without rotation suffix: CHANNEL_CPU (kernel, UST per-UID) or CHANNEL_N. */
  readonly fileName: string;
  readonly streamClassId: number;
  readonly streamInstanceId: number;
  readonly cpuId: number;
  /** Bytes per data file before moving to the next one (`--tracefile-size`); 0 or absent: one file. */
  readonly tracefileSize?: number;
  /** Files kept in the ring (`--tracefile-count`); 0 or absent: unlimited. */
  readonly tracefileCount?: number;
  /** The ring buffer the packets come from: what a snapshot ring keeps of this stream (snapshot-ring-sink.ts). */
  readonly ring?: RingGeometry;
}

/** A stream's ring buffer: `slots` sub-buffers of `slotSize` bytes (no packet is larger). */
export interface RingGeometry {
  readonly slots: number;
  readonly slotSize: number;
  /**
   * Discard mode: a full ring keeps its oldest packets and the new ones are dropped, as LTTng's discard-mode ring
   * of a snapshot session (which nothing consumes until a snapshot) discards what comes once it is full.
   */
  readonly discard?: boolean;
}

export interface StreamSink {
  /**
   * Throws when the packet could not be written. A sink that writes behind (the file sink: direct-io.ts) may
   * also find that later: it then calls `lost` (from a later writePacket(), settle() or an I/O callback).
   */
  writePacket(packet: Uint8Array, index: PacketIndexEntry, lost?: (err: unknown) => void): void;
  /**
   * Sinks with bounded memory for what they write behind (the file sink's staging: direct-io.ts): whether a
   * packet of `bytes` written now would be taken without failing for want of memory. A writer that can leave a
   * packet where it is (ltt/ust's consumer: in its ring) asks first, and when not, waits for whenRoom().
   */
  hasRoom?(bytes: number): boolean;
  /** Calls `cb` once, when memory hasRoom() looks at was given back. */
  whenRoom?(cb: () => void): void;
  /**
   * Returns once every packet written so far is stored (or reported lost): before a stop makes the trace
   * readable; the promise resolves once nothing is written behind any more.
   */
  settle?(): Promise<void>;
  /**
   * Live sessions, sinks that stream (the relay): the stream holds nothing up to `timestampEnd` (clock value)
   * beyond the packets written so far; sent as LTTng's live timer sends an idle stream's beacon.
   */
  beacon?(timestampEnd: bigint, streamClassId: number): void;
  close(): Promise<void>;
}

export interface TraceSink {
  /** `packets`: one or more whole metadata packets; `text`: the TSDL they carry (for sinks that send text). */
  writeMetadata(packets: Uint8Array, text: string): void;
  openStream(info: StreamSinkInfo): StreamSink;
  close(): Promise<void>;
}

/**
 * Writes nowhere: where a trace writer points between two trace chunks (a session rotated while inactive has no
 * current chunk until its next start, and nothing is recorded meanwhile).
 */
export class DiscardingSink implements TraceSink {
  writeMetadata(): void {}
  openStream(): StreamSink {
    return { writePacket() {}, close: async () => {} };
  }
  async close(): Promise<void> {}
}
