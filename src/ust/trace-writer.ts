// Writes one session's trace of one process from the per-thread rings announced on the ltt-ust BroadcastChannel,
// into the TraceSink its output was built with (src/ctf/writer/sink.ts: files, the snapshot memory ring, a relay;
// the same sinks as the kernel consumer's), with the metadata event declarations.
//
// Contract: a SessionWriter is fed the 'ring' and 'event' messages of its session (onMessage); for each ring it
// opens a stream in the sink (CHANNEL_N: the ring's stream name, with the channel's tracefile size/count) and
// waits (Atomics.waitAsync on the ring's doorbell) for closed sub-buffers, each handed to the stream as one
// finished CTF packet with its index entry (read from its own header): the sub-buffer bytes are already the
// packet (header + records), borrowed as they are from shared memory (discard mode; the producer cannot reuse a
// sub-buffer before it is marked consumed, which happens once the sink took it: copied, or staged if written
// behind, direct-io.ts) or from a private copy validated by compare-and-swap (overwrite mode: the producer may
// take the sub-buffer back at any time; a torn copy is dropped and the loss shows as a packet_seq_num gap); the
// sink pads it to its page-aligned packet size. finish() drains everything, rescues the committed part of
// packets still open (threads that could not flush: busy, or stopped by process.exit()), closes the streams and
// tells each producer the consumer is gone (CTL_CONSUMER), so no thread ever waits on a stopped session.
// Used by the standalone consumer worker (consumer-worker.ts) and by the app agent (app-agent-worker.ts), which
// builds each trace's output (one sink shared by the channels of a per-PID trace) and hosts one writer per
// session the session daemon starts in this process.
// Write failures (a full disk, a removed folder) never throw at the caller and never leave a torn file (the file
// sink cuts a packet it could not write whole off again): the packet is counted (stats: discarded events in
// discard mode, lost packets/events in overwrite mode; its sequence number stays a gap readers report) and its
// sub-buffer is released all the same, so producers never stall. Metadata goes out before any packet that may
// need it; while it cannot be written, packets are dropped (and counted) rather than written undeclared. The
// first failure is kept as `error`; writing retries with every packet, so the trace resumes once space is back.
// Trace chunks (rotation, clear): closeChunk() closes the streams after each one's cut (cut()/ready()), and
// openChunk() goes on in the next output (its whole metadata again, streams reopened, sequence numbers carried).
// Snapshot mode is the sink's business (SnapshotRingSink); openPackets() adds the copies a snapshot takes of the
// packets threads are still filling.

import { appendFileSync } from 'node:fs';
import { packetIndexEntryOf } from '../ctf/writer/index-file.js';
import type { StreamSink, StreamSinkInfo, TraceSink } from '../ctf/writer/sink.js';
import type { HeldPacket } from '../ctf/writer/snapshot-ring-sink.js';
import {
  CONSUMER_GONE, CTL_COMMIT, CTL_CONSUMER, CTL_DOORBELL, CTL_GEN, CTL_STATE, PRODUCER_EXITED, GEN_CLOSED, GEN_CONSUMED,
  GEN_OPEN, PACKET_ALIGN, PH_CONTENT_SIZE, PH_EVENTS_DISCARDED, PH_PACKET_SIZE, PH_SEQ_NUM, PH_SIZE, PH_TS_BEGIN,
  PH_TS_END, STAT_DISCARDED, STAT_LOST_EVENTS, STAT_LOST_PACKETS, STAT_QUIET_NS, STAT_QUIET_SEC, STAT_RECORDED, ctlCountIndex, ctlInt32Words, gen,
  type RingDescriptor,
} from './ring-layout.js';
import type { ChannelMessage } from './tracer.js';

// Atomics.waitAsync is in Node >= 16 but not in the ES2022 lib typings the project compiles against.
type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t?: number): WaitAsyncResult }).waitAsync.bind(Atomics);
const EMPTY_RING = new SharedArrayBuffer(0);

/**
 * LTT_UST_SUBBUF_LOG=FILE (a diagnostic, bench/ust uses it): per sub-buffer written, how long after its thread
 * closed it (its timestamp_end) the consumer took it, and how long writing it took, in ms; appended to FILE as
 * "pickup write" lines when the session finishes. Where a consumer falls behind shows as one or the other.
 */
const SUBBUF_LOG = process.env['LTT_UST_SUBBUF_LOG'] || undefined;
const subbufLatencies: number[] = [];

/** Counters of one session in this process (sums over its rings). */
export interface WriterStats {
  /** Events in packets handed to the writer (closed by their thread). */
  recorded: number;
  /** Discard mode: events dropped because no sub-buffer was free (or too big). */
  discarded: number;
  /** Overwrite mode: packets (and their events) overwritten before they were written out. */
  lostPackets: number;
  lostEvents: number;
  /** Of the above: packets (and their events) the writer could not write out (full disk, I/O error). */
  unwrittenPackets: number;
  unwrittenEvents: number;
  /** The first write failure, as "Cannot write FILE: reason" (absent while everything was written). */
  error?: string;
  /** Bytes of packets stored (all chunks). */
  bytes?: number;
}

/** How the channel's streams are stored in files (`--tracefile-size`/`--tracefile-count`; 0: one file). */
export interface StreamFiles {
  readonly tracefileSize?: number;
  readonly tracefileCount?: number;
}

class RingReader {
  /** Views of the ring's data; emptied at close() so an exited thread's ring memory can go. */
  u8: Uint8Array;
  dv: DataView;
  readonly ctl: Int32Array;
  readonly stats: Float64Array;
  readonly info: StreamSinkInfo;
  /** Its stream in the current chunk's sink; undefined until opened (retried before each packet). */
  out: StreamSink | undefined;
  priv: Buffer;
  unwrittenPackets = 0;
  unwrittenEvents = 0;
  /** Sequence number of the next packet to write. */
  expect = 0;
  /** drain() stopped for want of room in the stream (roomFor()): it runs again when there is some. */
  private waitingForRoom = false;
  /** Resolves once its stream is closed, with nothing written behind into it (close()). */
  private closing = Promise.resolve();
  private readonly roomWaiters: Array<() => void> = [];
  closed = false;
  /** Bytes of packets stored so far (all chunks). */
  bytesStored = 0;
  /** During a rotation or clear: drain() stops at this sequence number (see boundary()). */
  limit: number | undefined;
  /** Header of the last packet written and its events_discarded (for the final discard report). */
  lastHeader: Buffer | undefined;
  lastDiscarded = 0;
  /** timestamp_end of the last packet written; the quiet mark (STAT_QUIET_NS) last turned into a beacon. */
  private lastTsEnd = 0n;
  private beaconNs = 0;

  constructor(
    public d: RingDescriptor,
    private readonly owner: SessionWriter,
  ) {
    this.u8 = new Uint8Array(d.data);
    this.dv = new DataView(d.data);
    this.ctl = new Int32Array(d.ctl, 0, ctlInt32Words(d.numSubbuf));
    this.stats = new Float64Array(d.ctl, ctlInt32Words(d.numSubbuf) * 4);
    this.priv = Buffer.alloc(d.subbufSize);
    this.info = {
      fileName: d.streamName,
      streamClassId: d.streamId,
      streamInstanceId: d.threadId,
      cpuId: d.threadId,
      ...(owner.files.tracefileSize ? { tracefileSize: owner.files.tracefileSize, tracefileCount: owner.files.tracefileCount ?? 0 } : {}),
      ring: { slots: d.numSubbuf, slotSize: d.subbufSize, discard: d.mode === 'discard' },
    };
    this.open();
  }

  /** Opens the stream in the current chunk's sink (retried before each packet until it works). False on failure. */
  open(): boolean {
    if (this.out !== undefined) return true;
    const sink = this.owner.sink;
    if (sink === undefined) return false;
    try {
      this.out = sink.openStream(this.info);
      return true;
    } catch (err) {
      this.owner.failed(err);
      return false;
    }
  }

  /** Closes its stream in the current chunk; the promise resolves once nothing is written behind into it. */
  closeOutput(): Promise<void> {
    const out = this.out;
    this.out = undefined;
    return out === undefined ? Promise.resolve() : out.close().catch((err: unknown) => this.owner.failed(err));
  }

  /** A packet (with `events` records) that could not be stored. */
  private unwritten(events: number): void {
    this.unwrittenPackets++;
    this.unwrittenEvents += events;
  }

  /**
   * Writes every closed packet available, in sequence order. False when it stopped because the stream cannot
   * take a packet now (no staging memory left: a slow disk, direct-io.ts): the packet stays in the ring (its
   * thread discards and counts while the ring is full) and this drains again once there is room; the consumer's
   * thread never waits.
   */
  drain(): boolean {
    if (this.closed) return true;
    const n = this.d.numSubbuf;
    // During a rotation or clear, packets from the boundary on wait for the next chunk's output.
    while (this.limit === undefined || this.expect < this.limit) {
      const i = this.expect & (n - 1);
      const g = Atomics.load(this.ctl, CTL_GEN + i);
      if (g === gen(this.expect, GEN_CLOSED)) {
        if (!this.roomFor(this.d.subbufSize)) return false;
        this.take(i);
        continue;
      }
      if (this.d.mode === 'overwrite' && (g & 3) !== GEN_CONSUMED && this.isNewer(g)) {
        // The producer lapped us: packet `expect` is gone (it counted it); the gap stays visible in the seq nums.
        this.expect++;
        continue;
      }
      return true;
    }
    return true;
  }

  /**
   * Whether the stream takes `bytes` now; if not, drains again (and calls `then`, if given) once it may. A
   * stream not open yet takes anything (the packet is counted unwritten if it cannot be opened).
   */
  roomFor(bytes: number, then?: () => void): boolean {
    const out = this.out;
    if (out?.hasRoom === undefined || out.hasRoom(bytes)) return true;
    if (!this.waitingForRoom) {
      this.waitingForRoom = true;
      out.whenRoom!(() => {
        this.waitingForRoom = false;
        this.drain();
        for (const cb of this.roomWaiters.splice(0)) cb();
      });
    }
    if (then !== undefined) this.roomWaiters.push(then);
    return false;
  }

  /**
   * The sequence number where a rotation or clear cuts this stream: after every packet closed so far and the
   * one its thread is filling, if it holds records (the thread is asked to close it). Packets from there on
   * belong to the next chunk.
   */
  boundary(): number {
    if (this.closed) return this.expect;
    const n = this.d.numSubbuf;
    let k = this.expect;
    for (let steps = 0; steps < n; steps++, k++) {
      const g = Atomics.load(this.ctl, CTL_GEN + (k & (n - 1)));
      if (g === gen(k, GEN_CLOSED)) continue;
      if (g === gen(k, GEN_OPEN)) return this.hasOpenRecords() ? k + 1 : k;
      break;
    }
    return k;
  }

  private isNewer(g: number): boolean {
    const diff = ((g >>> 2) - (this.expect & 0x3fffffff)) & 0x3fffffff;
    return diff !== 0 && diff < 0x20000000;
  }

  private take(i: number): void {
    const base = i * this.d.subbufSize;
    const content = Number(this.dv.getBigUint64(base + PH_CONTENT_SIZE, true)) / 8;
    const gi = CTL_GEN + i;
    const events = this.ctl[ctlCountIndex(this.d.numSubbuf, i)]!;
    if (this.d.mode === 'discard') {
      const t0 = SUBBUF_LOG === undefined ? 0n : process.hrtime.bigint();
      // Written or not (full disk), the sub-buffer goes back to the producer: a stalled writer must not stall it.
      this.writePacket(Buffer.from(this.d.data, base, content), events);
      if (SUBBUF_LOG !== undefined) {
        subbufLatencies.push(Number(t0 - this.dv.getBigUint64(base + PH_TS_END, true)) / 1e6, Number(process.hrtime.bigint() - t0) / 1e6);
      }
      Atomics.store(this.ctl, gi, gen(this.expect, GEN_CONSUMED));
      Atomics.notify(this.ctl, gi);
    } else {
      this.priv.set(this.u8.subarray(base, base + content));
      const closed = gen(this.expect, GEN_CLOSED);
      if (Atomics.compareExchange(this.ctl, gi, closed, gen(this.expect, GEN_CONSUMED)) === closed) {
        this.writePacket(this.priv.subarray(0, content), events);
      }
    }
    this.expect++;
  }

  /**
   * Hands one packet (content bytes with a complete header, its packet size in it) to the stream with its index
   * entry. The bytes may be reused on return; a failure found later (written behind) is counted then.
   */
  private writePacket(bytes: Buffer, events: number): void {
    if (this.closed || !this.owner.flushMetadata() || !this.open()) {
      this.unwritten(events);
      return;
    }
    const index = packetIndexEntryOf(bytes);
    const size = index.packetSizeBits / 8;
    const lost = (err: unknown): void => {
      this.bytesStored -= size;
      this.unwritten(events);
      this.owner.failed(err);
    };
    this.bytesStored += size;
    if (index.timestampEnd > this.lastTsEnd) this.lastTsEnd = index.timestampEnd;
    try {
      this.out!.writePacket(bytes, index, lost);
    } catch (err) {
      lost(err);
      return;
    }
    this.noteWritten(bytes);
  }

  /**
   * Live sessions: a beacon (an index entry without packet, as LTTng's live timer sends for a quiet stream) once
   * its thread marked the stream quiet (RingProducer.tick()) up to a time after its last packet; the packets it
   * closed before the mark go out first. The relay then answers viewers INACTIVE up to that time, so they go on
   * with the other streams instead of waiting for this one.
   */
  beacon(): void {
    const out = this.out;
    if (this.closed || out?.beacon === undefined || this.limit !== undefined) return;
    const ns = this.stats[STAT_QUIET_NS]!;
    if (ns <= this.beaconNs) return;
    this.beaconNs = ns;
    this.drain();
    // The thread stores its base second before the ns (x86-64 keeps the order): a mark seen is whole.
    const at = BigInt(this.stats[STAT_QUIET_SEC]!) * 1_000_000_000n + BigInt(ns);
    if (at > this.lastTsEnd) out.beacon(at, this.d.streamId);
  }

  /** Whether the packet its thread is filling holds records (a rotation waits for the thread to close it). */
  hasOpenRecords(): boolean {
    if (this.closed) return false;
    const i = this.expect & (this.d.numSubbuf - 1);
    if (Atomics.load(this.ctl, CTL_GEN + i) !== gen(this.expect, GEN_OPEN)) return false;
    const base = i * this.d.subbufSize;
    const commit = Atomics.load(this.ctl, CTL_COMMIT);
    return commit > base + PH_SIZE && commit <= base + this.d.subbufSize;
  }

  /** Remembers the header of the packet just written (for the final discard report). */
  private noteWritten(bytes: Buffer): void {
    this.lastDiscarded = Number(bytes.readBigUInt64LE(PH_EVENTS_DISCARDED));
    if (this.lastHeader === undefined) this.lastHeader = Buffer.alloc(PH_SIZE);
    this.lastHeader.set(bytes.subarray(0, PH_SIZE));
  }

  /**
   * For a snapshot: a copy of the packet its thread is still filling (its committed records, copied without
   * claiming it: the thread goes on, and the packet is taken whole once closed), if it was still open after the
   * copy; every closed packet is taken first.
   */
  openPacket(): HeldPacket | undefined {
    if (this.closed) return undefined;
    const n = this.d.numSubbuf;
    // CTL_COMMIT is a plain store of the producer, as ring-buffer.ts explains (x86-64's store order makes the
    // records below it complete; the final drain relies on the same).
    for (let attempt = 0; attempt < 4; attempt++) {
      this.drain();
      const i = this.expect & (n - 1);
      const gi = CTL_GEN + i;
      const g = Atomics.load(this.ctl, gi);
      if (g === gen(this.expect, GEN_CLOSED)) continue;
      if (g !== gen(this.expect, GEN_OPEN)) return undefined;
      const base = i * this.d.subbufSize;
      const commit = Atomics.load(this.ctl, CTL_COMMIT);
      if (commit <= base + PH_SIZE || commit > base + this.d.subbufSize) {
        // The thread closed this packet (and opened the next) between the two loads: take it closed.
        if (Atomics.load(this.ctl, gi) !== g) continue;
        return undefined;
      }
      const content = commit - base;
      const size = Math.ceil(content / PACKET_ALIGN) * PACKET_ALIGN;
      const copy = Buffer.alloc(size);
      copy.set(this.u8.subarray(base, commit));
      if (Atomics.load(this.ctl, gi) !== g) continue; // closed (and maybe reused) meanwhile: take it closed
      copy.writeBigUInt64LE(process.hrtime.bigint(), PH_TS_END);
      copy.writeBigUInt64LE(BigInt(content * 8), PH_CONTENT_SIZE);
      copy.writeBigUInt64LE(BigInt(size * 8), PH_PACKET_SIZE);
      copy.writeBigUInt64LE(BigInt(this.stats[STAT_DISCARDED]!), PH_EVENTS_DISCARDED);
      return { bytes: copy, index: packetIndexEntryOf(copy) };
    }
    return undefined;
  }

  /**
   * Final drain: writes every closed packet, then the committed prefix of the packet still open (its thread
   * could not close it: a worker stopped by process.exit(), or a thread that never returned to its event loop),
   * or, when no packet is open, an empty packet carrying the events discarded since the last one. The producer
   * may be closing or opening a packet at this very moment (its own exit path runs concurrently), so the open
   * packet and the free slot are claimed by compare-and-swap on their generation word, as the producer's
   * close() and open() do: each packet is written exactly once, by whichever side won it.
   */
  finalDrain(): boolean {
    if (this.closed) return true;
    this.limit = undefined; // a rotation under way when the process ends: everything goes out now
    const n = this.d.numSubbuf;
    for (;;) {
      // No room in the stream now (a slow disk): the caller calls again once there is (whenRoom()).
      if (!this.drain() || !this.roomFor(this.d.subbufSize)) return false;
      const i = this.expect & (n - 1);
      const gi = CTL_GEN + i;
      const g = Atomics.load(this.ctl, gi);
      const claimed = gen(this.expect, GEN_CONSUMED);
      if (g === gen(this.expect, GEN_OPEN)) {
        if (Atomics.compareExchange(this.ctl, gi, g, claimed) !== g) continue; // closed meanwhile: drain it
        this.writeOpenPrefix(i * this.d.subbufSize);
        return true;
      }
      if (g === gen(this.expect - n, GEN_CONSUMED)) {
        // No packet open. Losses since the last packet would be missing from the trace's count: report them.
        if (this.lastHeader === undefined || this.stats[STAT_DISCARDED]! <= this.lastDiscarded) return true;
        if (Atomics.compareExchange(this.ctl, gi, g, claimed) !== g) continue; // the producer opened it
        this.writeDiscardReport();
        return true;
      }
      if (g === gen(this.expect, GEN_CLOSED)) continue;
      return true; // overwrite mode, lapped: drain() skips ahead
    }
  }

  /** Writes the committed records of the packet in the sub-buffer at `base` (claimed by finalDrain). */
  private writeOpenPrefix(base: number): void {
    // Read after the claim: records the producer commits from now on are after the end of the session.
    const commit = Atomics.load(this.ctl, CTL_COMMIT);
    if (commit < base + PH_SIZE || commit > base + this.d.subbufSize) return;
    const content = commit - base;
    const discarded = this.stats[STAT_DISCARDED]!;
    if (commit === base + PH_SIZE) {
      if (discarded > this.lastDiscarded) this.writeDiscardReport();
      return;
    }
    this.priv.set(this.u8.subarray(base, commit));
    const h = new DataView(this.priv.buffer, this.priv.byteOffset, content);
    h.setBigUint64(PH_TS_END, process.hrtime.bigint(), true);
    h.setBigUint64(PH_CONTENT_SIZE, BigInt(content * 8), true);
    h.setBigUint64(PH_PACKET_SIZE, BigInt(Math.ceil(content / PACKET_ALIGN) * PACKET_ALIGN * 8), true);
    h.setBigUint64(PH_EVENTS_DISCARDED, BigInt(discarded), true);
    // How many records the open packet holds is not published (the producer counts at close): unknown, 0 here.
    this.writePacket(this.priv.subarray(0, content), 0);
    this.expect++;
  }

  /**
   * An empty packet (header only, next sequence number) carrying the final cumulative discard count, for a
   * thread gone without a final packet (e.g. a worker stopped by process.exit() while every sub-buffer was full).
   */
  private writeDiscardReport(): void {
    if (this.lastHeader === undefined) return;
    const h = Buffer.from(this.lastHeader);
    const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
    const now = process.hrtime.bigint();
    v.setBigUint64(PH_TS_BEGIN, now, true);
    v.setBigUint64(PH_TS_END, now, true);
    v.setBigUint64(PH_CONTENT_SIZE, BigInt(PH_SIZE * 8), true);
    v.setBigUint64(PH_PACKET_SIZE, BigInt(PH_SIZE * 8), true);
    v.setBigUint64(PH_SEQ_NUM, BigInt(this.expect), true);
    v.setBigUint64(PH_EVENTS_DISCARDED, BigInt(this.stats[STAT_DISCARDED]!), true);
    this.writePacket(h, 0);
    this.expect++;
  }

  /** Stops reading the ring; the promise resolves once its stream is closed (nothing written behind into it). */
  close(): Promise<void> {
    if (this.closed) return this.closing;
    this.closed = true;
    // Whatever the producer writes from now on is after the end of the session: it must not wait for us.
    Atomics.store(this.ctl, CTL_CONSUMER, CONSUMER_GONE);
    Atomics.notify(this.ctl, CTL_GEN + (this.expect & (this.d.numSubbuf - 1)));
    // Nothing reads the ring any more: let its memory go with its thread (the control words stay for stats()).
    this.d = { ...this.d, data: EMPTY_RING };
    this.u8 = new Uint8Array(0);
    this.dv = new DataView(EMPTY_RING);
    this.priv = Buffer.alloc(0);
    return (this.closing = this.closeOutput());
  }
}

export class SessionWriter {
  private readonly rings = new Map<number, RingReader>();
  private finalizing = false;
  /** Metadata text not written yet (it goes out before the next packet). */
  private metaPending = '';
  private firstError: string | undefined;
  /** The declarations written so far (the trace's metadata after its preamble): each new chunk gets them again. */
  private declarations = '';
  private readonly beaconTimer: ReturnType<typeof setInterval> | undefined;

  /**
   * `sink`: where the trace goes (shared with the other channels of the trace: its owner writes the metadata
   * preamble and closes it); undefined between two chunks. `pollMs`: how long a drain loop sleeps when no
   * doorbell rings (the read timer). `files`: the channel's tracefile size and count. `liveMs`: a live
   * session's timer period, at which quiet streams send beacons (0: none).
   */
  constructor(
    public sink: TraceSink | undefined,
    readonly sessionId: string,
    private readonly pollMs = 1000,
    readonly files: StreamFiles = {},
    liveMs = 0,
  ) {
    if (liveMs > 0) {
      this.beaconTimer = setInterval(() => {
        for (const s of this.rings.values()) s.beacon();
      }, liveMs);
      this.beaconTimer.unref();
    }
  }

  get finished(): boolean {
    return this.finalizing;
  }

  /** Takes a ring announcement or an event declaration of this session (others are ignored); true for a new ring. */
  onMessage(m: ChannelMessage): boolean {
    if (m.type === 'ring') {
      if (m.sessionId !== this.sessionId || this.rings.has(m.ring.streamId)) return false;
      this.metaPending += m.ring.streamTsdl + m.events.map((e) => e.tsdl).join('');
      this.flushMetadata();
      const s = new RingReader(m.ring, this);
      this.rings.set(m.ring.streamId, s);
      if (this.finalizing) {
        // Announced after the end (a thread that learnt of the session late): take what it wrote and let go.
        s.finalDrain();
        void s.close();
        return false;
      }
      void this.pump(s).catch((err: unknown) => this.failed(err));
      return true;
    }
    if (m.type === 'event' && m.sessionId === this.sessionId && this.rings.has(m.event.streamId)) {
      this.metaPending += m.event.tsdl;
      this.flushMetadata();
    }
    return false;
  }

  /** The first write failure, if any. */
  get error(): string | undefined {
    return this.firstError;
  }

  /** Records a write failure (the first one is kept for the statistics). */
  failed(err: unknown): void {
    this.firstError ??= err instanceof Error ? err.message : String(err);
  }

  /**
   * Appends the queued metadata; true when none is left. The sink keeps only whole declarations (a failed append
   * is cut back: file-sink.ts), and it is retried before the next packet.
   */
  flushMetadata(): boolean {
    if (this.metaPending === '') return true;
    if (this.sink === undefined) return false;
    try {
      this.sink.writeMetadata(Buffer.from(this.metaPending), this.metaPending);
    } catch (err) {
      this.failed(err);
      return false;
    }
    this.declarations += this.metaPending;
    this.metaPending = '';
    return true;
  }

  /** Whether `fileName` is one of this session's streams. */
  hasStream(fileName: string): boolean {
    for (const s of this.rings.values()) if (s.info.fileName === fileName) return true;
    return false;
  }

  /** The declarations so far (what follows the trace's preamble in its metadata). */
  get declared(): string {
    return this.declarations + this.metaPending;
  }

  /** True when every announced ring's thread has closed its last packet (deactivated or exited). */
  allProducersExited(): boolean {
    for (const s of this.rings.values()) {
      if (!s.closed && Atomics.load(s.ctl, CTL_STATE) !== PRODUCER_EXITED) return false;
    }
    return true;
  }

  private async pump(s: RingReader): Promise<void> {
    while (!this.finalizing) {
      const v = Atomics.load(s.ctl, CTL_DOORBELL);
      // Read before draining: the producer marks itself exited after closing its last packet.
      const exited = Atomics.load(s.ctl, CTL_STATE) === PRODUCER_EXITED;
      const drained = s.drain();
      if (this.finalizing) return;
      if (exited && drained) {
        // Its thread is gone (or left the session) and everything it wrote is out: this stream is complete (a
        // snapshot ring keeps its packets).
        await s.close();
        return;
      }
      const w = waitAsync(s.ctl, CTL_DOORBELL, v, this.pollMs);
      if (w.async) await w.value;
    }
  }

  /**
   * Writes everything out and closes the streams; the promise resolves once every packet is in its stream and
   * nothing is written behind any more (an exit path waits for it: the writes are the thread pool's).
   */
  finish(): Promise<void> {
    if (this.finalizing) return Promise.resolve();
    this.finalizing = true;
    clearInterval(this.beaconTimer);
    if (SUBBUF_LOG !== undefined) {
      let text = '';
      for (let i = 0; i < subbufLatencies.length; i += 2) text += `${subbufLatencies[i]!.toFixed(3)} ${subbufLatencies[i + 1]!.toFixed(3)}\n`;
      subbufLatencies.length = 0;
      try {
        appendFileSync(SUBBUF_LOG, text);
      } catch (err) {
        this.failed(err);
      }
    }
    const closing: Promise<void>[] = [];
    // Streams closed before (their thread exited) may still be written behind: waited for too.
    for (const s of this.rings.values()) if (s.closed) closing.push(s.close());
    let left = [...this.rings.values()].filter((s) => !s.closed);
    // A stream that cannot take its packets now (staging full behind a slow disk) is drained again as room
    // comes back: the promise resolves once every ring is written out and every stream closed.
    return new Promise<void>((resolve) => {
      const step = (): void => {
        const waiting: RingReader[] = [];
        for (const s of left) {
          let done = true;
          try {
            done = s.finalDrain();
          } catch (err) {
            this.failed(err);
          }
          if (done) closing.push(s.close());
          else waiting.push(s);
        }
        left = waiting;
        if (left.length === 0) void Promise.all(closing).then(() => resolve());
        else if (left[0]!.roomFor(left[0]!.d.subbufSize, step)) setImmediate(step);
      };
      step();
    });
  }

  /**
   * Starts a rotation or clear: each stream is cut after what its thread recorded so far (see
   * RingReader.boundary()); packets past the cut wait. The caller asks the threads to flush, waits for ready(),
   * then calls closeChunk() and openChunk().
   */
  cut(): void {
    for (const s of this.rings.values()) if (!s.closed) s.limit = s.boundary();
  }

  /** Every stream has the packets before its cut (the threads closed them), ready to go to the old chunk. */
  ready(): boolean {
    for (const s of this.rings.values()) {
      if (s.closed || s.limit === undefined) continue;
      s.drain();
      if (s.expect < s.limit) return false;
    }
    return true;
  }

  /**
   * The current chunk is complete: every packet before the cut goes to it and its streams close (the promise
   * resolves once nothing is written behind into them). Packets past the cut wait for openChunk().
   */
  async closeChunk(): Promise<void> {
    // A stream without room for its next packet (staging full behind a slow disk) is drained again as room comes
    // back, until its cut: a packet from before a rotation or clear must never go to the next chunk. Room always
    // comes back: staging is full only while writes are out.
    for (const s of this.rings.values()) {
      while (!s.closed && !s.drain()) await new Promise<void>((resolve) => (s.roomFor(s.d.subbufSize, resolve) ? resolve() : undefined));
    }
    this.flushMetadata();
    this.sink = undefined;
    await Promise.all([...this.rings.values()].map((s) => (s.closed ? s.close() : s.closeOutput())));
  }

  /**
   * Goes on in `sink`, the next chunk's output (its owner wrote the preamble): the declarations so far, then a
   * stream per ring still read, and the packets that waited. Streams of gone threads stay in the old chunk.
   * Undefined (the next output could not be made): packets are counted unwritten until the next chunk.
   */
  openChunk(sink: TraceSink | undefined): void {
    this.sink = sink;
    this.redeclare();
    for (const s of this.rings.values()) {
      s.limit = undefined;
      if (s.closed) continue;
      s.open();
      s.drain();
    }
  }

  /** Writes every declaration so far again (a new chunk's metadata, or a regenerated one). */
  redeclare(): void {
    this.metaPending = this.declarations + this.metaPending;
    this.declarations = '';
    this.flushMetadata();
  }

  /** For a snapshot: the copies of the packets the threads are still filling, by the stream they belong to. */
  openPackets(into: Map<StreamSink, HeldPacket>): void {
    this.flushMetadata();
    for (const s of this.rings.values()) {
      const p = s.openPacket();
      if (p !== undefined && s.out !== undefined) into.set(s.out, p);
    }
  }

  stats(): WriterStats {
    const out: WriterStats = { recorded: 0, discarded: 0, lostPackets: 0, lostEvents: 0, unwrittenPackets: 0, unwrittenEvents: 0 };
    for (const s of this.rings.values()) {
      out.recorded += s.stats[STAT_RECORDED]!;
      out.discarded += s.stats[STAT_DISCARDED]!;
      out.lostPackets += s.stats[STAT_LOST_PACKETS]!;
      out.lostEvents += s.stats[STAT_LOST_EVENTS]!;
      out.unwrittenPackets += s.unwrittenPackets;
      out.unwrittenEvents += s.unwrittenEvents;
      out.bytes = (out.bytes ?? 0) + s.bytesStored;
      // Recorded means written out: an unwritten packet's events move to the loss counters.
      out.recorded -= s.unwrittenEvents;
      // Counted where the channel's users look: discarded events (discard mode), lost packets (overwrite mode).
      if (s.d.mode === 'discard') out.discarded += s.unwrittenEvents;
      else {
        out.lostPackets += s.unwrittenPackets;
        out.lostEvents += s.unwrittenEvents;
      }
    }
    if (this.firstError !== undefined) out.error = this.firstError;
    return out;
  }
}
