// The shared-memory layout of one per-thread ring buffer, known to both sides: the producer (the traced thread,
// ring-buffer.ts) and the consumer thread (consumer-worker.ts).
//
// Contract: a ring is two SharedArrayBuffers. `data` holds `numSubbuf` sub-buffers of `subbufSize` bytes; each
// sub-buffer is laid out as one finished CTF packet (LTTng's packet header + packet context at offset 0, then
// event records exactly as they appear in the stream file), so the consumer writes the bytes as they are and
// only pads the packet to its page-aligned size. `ctl` holds the control words below. Sub-buffer ownership moves
// only through the generation words (Atomics): OPEN (producer writing), CLOSED (ready, header complete),
// CONSUMED (written out, the producer may reuse it). Per-event progress inside the open sub-buffer is published
// with a plain store of the commit offset (see ring-buffer.ts for why that is enough).

/** Byte offsets of the LTTng UST packet header + context (`struct packet_context` in the metadata). */
export const PH_MAGIC = 0;
export const PH_UUID = 4;
export const PH_STREAM_ID = 20;
export const PH_STREAM_INSTANCE_ID = 24;
export const PH_TS_BEGIN = 32;
export const PH_TS_END = 40;
export const PH_CONTENT_SIZE = 48;
export const PH_PACKET_SIZE = 56;
export const PH_SEQ_NUM = 64;
export const PH_EVENTS_DISCARDED = 72;
export const PH_CPU_ID = 80;
/** First event record of a packet. */
export const PH_SIZE = 84;
export const CTF_MAGIC = 0xc1fc1fc1;
/** Packets on disk are padded to this size, like LTTng's consumer (page size). */
export const PACKET_ALIGN = 4096;

/** Int32 control words. */
export const CTL_COMMIT = 0; // absolute byte offset (in data) just past the last committed record of the open sub-buffer
export const CTL_DOORBELL = 1; // incremented (and notified) whenever a sub-buffer is closed or the producer exits
export const CTL_STATE = 2; // PRODUCER_* below
export const CTL_CONSUMER = 3; // 0 while a consumer drains this ring; CONSUMER_GONE once it stopped for good
export const CTL_GEN = 4; // gen[i] for sub-buffer i, numSubbuf words
/** Float64 statistics (indices into a Float64Array over the ctl buffer, after the Int32 words). */
export const STAT_DISCARDED = 0; // events discarded (discard mode: no free sub-buffer, or record too big)
export const STAT_LOST_PACKETS = 1; // overwrite mode: packets overwritten before the consumer read them
export const STAT_LOST_EVENTS = 2; // overwrite mode: events in those packets
export const STAT_RECORDED = 3; // events in closed packets
// The stream is quiet up to this time: the producer's switch timer, run from its event loop (so its next event
// comes later), marks it after handing its open packet over: CLOCK_MONOTONIC as the thread's base second
// (clock.ts BASE_SEC) and ns since then, both exact in a double (one double of ns would round after 104 days of
// uptime); 0 ns: not marked yet. The consumer sends live beacons from it (trace-writer.ts).
export const STAT_QUIET_SEC = 4;
export const STAT_QUIET_NS = 5;
export const STAT_COUNT = 6;

export const PRODUCER_RUNNING = 1;
export const PRODUCER_EXITED = 2;
/** The consumer finished with this ring (session stopped): the producer stops writing and never waits. */
export const CONSUMER_GONE = 1;

export const GEN_OPEN = 1;
export const GEN_CLOSED = 2;
export const GEN_CONSUMED = 3;

/** Generation word of packet `seq` in state `state` (30-bit sequence, compared only for equality). */
export function gen(seq: number, state: number): number {
  return (((seq & 0x3fffffff) << 2) | state) | 0;
}

export function ctlInt32Words(numSubbuf: number): number {
  // Rounded to an even count so the Float64 stats that follow are 8-byte aligned.
  const n = CTL_GEN + 2 * numSubbuf;
  return n + (n & 1);
}

export function ctlBytes(numSubbuf: number): number {
  return ctlInt32Words(numSubbuf) * 4 + STAT_COUNT * 8;
}

/** Words after gen[]: number of events in the packet held by sub-buffer i (written when it is closed). */
export function ctlCountIndex(numSubbuf: number, i: number): number {
  return CTL_GEN + numSubbuf + i;
}

export type LossMode = 'discard' | 'overwrite';

/** What a thread sends to the consumer so it can map and drain its ring. */
export interface RingDescriptor {
  readonly threadId: number; // worker_threads threadId (0 = main thread)
  readonly streamId: number; // CTF stream class id of this ring
  readonly streamName: string; // file name: CHANNEL_N
  readonly data: SharedArrayBuffer;
  /** `data` starts on a page boundary (its sub-buffers can be written with O_DIRECT; src/ctf/writer/direct-io.ts). */
  readonly aligned: boolean;
  readonly ctl: SharedArrayBuffer;
  readonly subbufSize: number;
  readonly numSubbuf: number;
  readonly mode: LossMode;
  /** Discard mode: how long (ms) a thread waits for a free sub-buffer before it discards (Infinity: never). */
  readonly blockingTimeoutMs: number;
  /** TSDL `stream { ... };` block of this ring. */
  readonly streamTsdl: string;
}
