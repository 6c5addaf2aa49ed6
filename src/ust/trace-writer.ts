// Writes one session's trace of one process: the stream files, their index files and the metadata event
// declarations, from the per-thread rings announced on the ltt-ust BroadcastChannel.
//
// Contract: a SessionWriter is fed the 'ring' and 'event' messages of its session (onMessage); for each ring it
// waits (Atomics.waitAsync on the ring's doorbell) for closed sub-buffers and writes each one as a CTF packet: the
// sub-buffer bytes are already the packet (header + records), so it writes them as they are from shared memory
// (discard mode; the producer cannot reuse a sub-buffer before it is marked consumed: it is once the file writer
// has them, staged if written behind, direct-io.ts) or from a private copy validated by compare-and-swap (overwrite mode: the producer may take the sub-buffer back at any time; a torn
// copy is dropped and the loss shows as a packet_seq_num gap), pads it to the page-aligned packet size, and appends
// the LTTng index entry (index/CHANNEL_N.idx, CTF index 1.1). finish() drains everything, rescues the committed
// part of packets still open (threads that could not flush: busy, or stopped by process.exit()), closes the files
// and tells each producer the consumer is gone (CTL_CONSUMER), so no thread ever waits on a stopped session.
// Used by the standalone consumer worker (consumer-worker.ts) and by the app agent (app-agent-worker.ts), which
// hosts one writer per session the session daemon starts in this process.
// I/O failures (a full disk, a removed folder) never throw at the caller and never leave a torn file: a packet
// that cannot be written whole is cut off again (data and index truncated back to the last whole packet), counted
// (stats: discarded events in discard mode, lost packets/events in overwrite mode; its sequence number stays a
// gap readers report) and its sub-buffer is released all the same, so producers never stall. Metadata goes out
// before any packet that may need it; while it cannot be written, packets are dropped (and counted) rather than
// written undeclared. The first failure is kept as `error` ("FILE: No space left on device"); writing retries
// with every packet, so the trace resumes once space is back.
// Snapshot mode (`snapshot: true`): no file is written; each stream keeps its newest packets in as many
// sub-buffer-sized slots as the ring has sub-buffers (reused: memory stays at the channel's size), and the
// declarations in memory; snapshot() hands them out (plus a copy of the packet still open, taken without
// disturbing its thread), and writeSnapshotTrace() (snapshot-trace.ts) writes them as an ordinary trace. The memory outlives
// finish() (a stopped session can still be snapshotted).

import { closeSync, constants, fstatSync, ftruncateSync, openSync, unlinkSync, writeSync, writevSync } from 'node:fs';
import { allocateAligned, DirectFile } from '../ctf/writer/direct-io.js';
import { join } from 'node:path';
import {
  CONSUMER_GONE, CTL_COMMIT, CTL_CONSUMER, CTL_DOORBELL, CTL_GEN, CTL_STATE, PRODUCER_EXITED, GEN_CLOSED, GEN_CONSUMED,
  GEN_OPEN, PACKET_ALIGN, PH_CONTENT_SIZE, PH_EVENTS_DISCARDED, PH_PACKET_SIZE, PH_SEQ_NUM, PH_SIZE, PH_STREAM_ID,
  PH_STREAM_INSTANCE_ID, PH_TS_BEGIN, PH_TS_END, STAT_DISCARDED, STAT_LOST_EVENTS, STAT_LOST_PACKETS, STAT_RECORDED,
  ctlCountIndex, ctlInt32Words, gen, type RingDescriptor,
} from './ring-layout.js';
import { FileTraceSink } from '../ctf/writer/file-sink.js';
import { openTraceFile, writeTraceFile } from '../ctf/writer/trace-modes.js';
import { describeIoError, LttError } from '../errors.js';
import type { ChannelMessage } from './tracer.js';
import type { SnapshotPart } from './snapshot-trace.js';

// Atomics.waitAsync is in Node >= 16 but not in the ES2022 lib typings the project compiles against.
type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t?: number): WaitAsyncResult }).waitAsync.bind(Atomics);
const EMPTY_RING = new SharedArrayBuffer(0);
/** Snapshot mode: the streams of gone threads whose packets are kept (a thread pool's would add up forever). */
const MAX_CLOSED_STREAMS_HELD = 64;
const INDEX_HEADER = Buffer.from([0xc1, 0xf1, 0xdc, 0xc1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 72]);

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
  /** The first write failure, as "FILE: reason" (absent while everything was written). */
  error?: string;
  /** Bytes of packets written to files (all chunks). */
  bytes?: number;
}

/** Writes all of `bufs` at `pos` (positional: a short write or a truncation never leaves a hole). */
function writeAllAt(fd: number, bufs: readonly Uint8Array[], pos: number): void {
  let total = 0;
  for (const b of bufs) total += b.length;
  let done = bufs.length === 1 ? writeSync(fd, bufs[0]!, 0, bufs[0]!.length, pos) : writevSync(fd, bufs as Uint8Array[], pos);
  // Short writes (a disk filling up): finish piece by piece; the next call reports the error.
  while (done < total) {
    let skip = done;
    for (const b of bufs) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      done += writeSync(fd, b, skip, b.length - skip, pos + done);
      break;
    }
  }
}


function truncateQuietly(fd: number, size: number): void {
  try {
    ftruncateSync(fd, size);
  } catch {
    // Shrinking cannot need space; if even this fails the index still only lists whole packets.
  }
}

class RingSink {
  /** Views of the ring's data; emptied at close() so an exited thread's ring memory can go. */
  u8: Uint8Array;
  dv: DataView;
  readonly ctl: Int32Array;
  readonly stats: Float64Array;
  /** The stream file (O_DIRECT while it can: direct-io.ts); undefined until opened. */
  data: DirectFile | undefined;
  idxFd = -1;
  priv: Buffer;
  readonly idxEntry = Buffer.alloc(72);
  idxOff = 0;
  unwrittenPackets = 0;
  unwrittenEvents = 0;
  private dataPath: string;
  private idxPath: string;
  /** Sequence number of the next packet to write. */
  expect = 0;
  closed = false;
  /** Bytes of packets written to files so far (all chunks). */
  bytesWritten = 0;
  /** During a rotation or clear: drain() stops at this sequence number (see boundary()). */
  limit: number | undefined;
  /** Header of the last packet written and its events_discarded (for the final discard report). */
  lastHeader: Buffer | undefined;
  lastDiscarded = 0;
  /** Snapshot mode: the newest packets (padded), oldest first; at most numSubbuf. */
  readonly held: Array<{ buf: Buffer; size: number }> | undefined;

  constructor(
    public d: RingDescriptor,
    traceDir: string,
    private readonly owner: SessionWriter,
  ) {
    this.u8 = new Uint8Array(d.data);
    this.dv = new DataView(d.data);
    this.ctl = new Int32Array(d.ctl, 0, ctlInt32Words(d.numSubbuf));
    this.stats = new Float64Array(d.ctl, ctlInt32Words(d.numSubbuf) * 4);
    this.dataPath = join(traceDir, d.streamName);
    this.idxPath = join(traceDir, 'index', `${d.streamName}.idx`);
    this.priv = Buffer.alloc(d.subbufSize);
    if (owner.snapshot) this.held = [];
    else this.openFiles();
  }

  /** Opens the stream and index files (retried before each packet until it works). False on failure. */
  private openFiles(): boolean {
    if (this.data !== undefined) return true;
    let data: DirectFile | undefined;
    let idxFd = -1;
    let file = this.dataPath;
    try {
      const path = this.dataPath;
      data = DirectFile.open(
        true,
        (direct) => openTraceFile(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (direct ? constants.O_DIRECT : 0)),
        () => openSync(path, constants.O_WRONLY),
        (fd, b, pos) => writeAllAt(fd, [b], pos),
      );
      file = this.idxPath;
      idxFd = openTraceFile(this.idxPath, 'w');
      writeAllAt(idxFd, [INDEX_HEADER], 0);
    } catch (err) {
      // Leave no half-made stream behind (a bare index header would not read): nothing was written to it yet.
      for (const [f, p] of [[data?.fd ?? -1, this.dataPath], [idxFd, this.idxPath]] as const) {
        if (f < 0) continue;
        try {
          closeSync(f);
          unlinkSync(p);
        } catch {
          // Best effort.
        }
      }
      this.owner.failed(file, err);
      return false;
    }
    this.data = data;
    this.idxFd = idxFd;
    this.idxOff = INDEX_HEADER.length;
    return true;
  }

  /** A packet (with `events` records) that could not be written out. */
  private unwritten(events: number): void {
    this.unwrittenPackets++;
    this.unwrittenEvents += events;
  }

  /** Writes every closed packet available, in sequence order. */
  drain(): void {
    const n = this.d.numSubbuf;
    // During a rotation or clear, packets from the boundary on wait for the next chunk's files.
    while (this.limit === undefined || this.expect < this.limit) {
      const i = this.expect & (n - 1);
      const g = Atomics.load(this.ctl, CTL_GEN + i);
      if (g === gen(this.expect, GEN_CLOSED)) {
        this.take(i);
        continue;
      }
      if (this.d.mode === 'overwrite' && (g & 3) !== GEN_CONSUMED && this.isNewer(g)) {
        // The producer lapped us: packet `expect` is gone (it counted it); the gap stays visible in the seq nums.
        this.expect++;
        continue;
      }
      return;
    }
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

  /** Closed sinks, at a clear: their files (what the thread wrote before it exited) go. */
  removeFiles(): void {
    for (const p of [this.dataPath, this.idxPath]) {
      try {
        unlinkSync(p);
      } catch {
        // Never written, or gone already.
      }
    }
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
      // Written or not (full disk), the sub-buffer goes back to the producer: a stalled writer must not stall it.
      this.writePacket(Buffer.from(this.d.data, base, content), undefined, events);
      Atomics.store(this.ctl, gi, gen(this.expect, GEN_CONSUMED));
      Atomics.notify(this.ctl, gi);
    } else {
      this.priv.set(this.u8.subarray(base, base + content));
      const closed = gen(this.expect, GEN_CLOSED);
      if (Atomics.compareExchange(this.ctl, gi, closed, gen(this.expect, GEN_CONSUMED)) === closed) {
        this.writePacket(this.priv.subarray(0, content), undefined, events);
      }
    }
    this.expect++;
  }

  /**
   * Writes one packet (content bytes with a complete header) and its index entry; false if it failed at once.
   * The bytes may be reused on return (written behind from a copy: direct-io.ts); a failure found later is
   * counted then (unwritten, the files cut back to the packet before).
   */
  private writePacket(bytes: Buffer, exactSize: number | undefined, events: number): boolean {
    const content = bytes.length;
    const size = exactSize ?? Math.ceil(content / PACKET_ALIGN) * PACKET_ALIGN;
    if (this.held !== undefined && !this.closed) {
      // Snapshot mode: into the oldest slot once all are used (LTTng's overwrite ring).
      let slot = this.held.length >= this.d.numSubbuf ? this.held.shift()!.buf : undefined;
      if (slot === undefined || slot.length < size) slot = allocateAligned(Math.max(size, this.d.subbufSize));
      slot.set(bytes);
      slot.fill(0, content, size);
      this.held.push({ buf: slot, size });
      this.noteWritten(bytes);
      return true;
    }
    // After close() the files are done: reopening them ('w') would truncate the stream.
    if (this.closed || !this.owner.flushMetadata() || !this.openFiles()) {
      this.unwritten(events);
      return false;
    }
    const h = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const e = Buffer.alloc(72);
    e.writeBigUInt64BE(h.getBigUint64(PH_PACKET_SIZE, true), 8);
    e.writeBigUInt64BE(h.getBigUint64(PH_CONTENT_SIZE, true), 16);
    e.writeBigUInt64BE(h.getBigUint64(PH_TS_BEGIN, true), 24);
    e.writeBigUInt64BE(h.getBigUint64(PH_TS_END, true), 32);
    e.writeBigUInt64BE(h.getBigUint64(PH_EVENTS_DISCARDED, true), 40);
    e.writeBigUInt64BE(BigInt(h.getUint32(PH_STREAM_ID, true)), 48);
    e.writeBigUInt64BE(h.getBigUint64(PH_STREAM_INSTANCE_ID, true), 56);
    e.writeBigUInt64BE(h.getBigUint64(PH_SEQ_NUM, true), 64);
    const { idxFd, idxPath, dataPath } = this;
    let ok = true;
    this.data!.append(bytes, size, {
      done: (pos) => {
        e.writeBigUInt64BE(BigInt(pos), 0);
        try {
          writeAllAt(idxFd, [e], this.idxOff);
        } catch (err) {
          // Without its index entry the packet would still be read (readers scan files without index), but the
          // index would no longer match the file: both go (the data file is cut back by the caller of done()).
          truncateQuietly(idxFd, this.idxOff);
          this.owner.failed(idxPath, err);
          throw err;
        }
        this.idxOff += e.length;
        this.bytesWritten += size;
      },
      failed: (err) => {
        this.unwritten(events);
        this.owner.failed(dataPath, err);
        ok = false;
      },
    });
    if (ok) this.noteWritten(bytes);
    return ok;
  }

  /**
   * Session rotation: the files so far are complete (closed); the next packet opens CHANNEL_N and its index in
   * `traceDir`, the next chunk's folder (the same folder, for `clear`: emptied at once). Sequence numbers carry on.
   */
  moveTo(traceDir: string): void {
    this.closeFiles();
    this.idxOff = 0;
    const same = this.dataPath === join(traceDir, this.d.streamName);
    this.dataPath = join(traceDir, this.d.streamName);
    this.idxPath = join(traceDir, 'index', `${this.d.streamName}.idx`);
    // A new chunk gets the file with its first packet; the same folder (`clear`) is emptied now.
    if (same && !this.closed) this.openFiles();
  }

  private closeFiles(): void {
    for (const close of [() => this.data?.close(), () => this.idxFd >= 0 && closeSync(this.idxFd)]) {
      try {
        close();
      } catch {
        // Every byte was written with write(2); a close error (NFS) is nothing we could still repair.
      }
    }
    this.data = undefined;
    this.idxFd = -1;
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
   * Snapshot mode: the packets held (after taking every closed one), oldest first, then a copy of the packet
   * its thread is still filling: its committed records, copied without claiming it (the thread goes on; the
   * packet is taken whole once closed), and kept only if it was still open after the copy.
   */
  snapshotPackets(): Buffer[] {
    if (this.held === undefined) return [];
    let open: Buffer | undefined;
    if (!this.closed) {
      const n = this.d.numSubbuf;
      // CTL_COMMIT is a plain store of the producer, as ring-buffer.ts explains (x86-64's store order makes
      // the records below it complete; the final drain relies on the same).
      for (let attempt = 0; attempt < 4 && open === undefined; attempt++) {
        this.drain();
        const i = this.expect & (n - 1);
        const gi = CTL_GEN + i;
        const g = Atomics.load(this.ctl, gi);
        if (g === gen(this.expect, GEN_CLOSED)) continue;
        if (g !== gen(this.expect, GEN_OPEN)) break;
        const base = i * this.d.subbufSize;
        const commit = Atomics.load(this.ctl, CTL_COMMIT);
        if (commit <= base + PH_SIZE || commit > base + this.d.subbufSize) {
          // The thread closed this packet (and opened the next) between the two loads: take it closed.
          if (Atomics.load(this.ctl, gi) !== g) continue;
          break;
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
        open = copy;
      }
    }
    // A packet that closed after the last attempt is held too (never twice: the copy is only kept while open).
    if (open === undefined && !this.closed) this.drain();
    const out = this.held.map((h) => h.buf.subarray(0, h.size));
    if (open !== undefined) {
      // The open packet is one of the ring's sub-buffers: the snapshot holds numSubbuf packets in all.
      if (out.length >= this.d.numSubbuf) out.shift();
      out.push(open);
    }
    return out;
  }

  /**
   * Final drain: writes every closed packet, then the committed prefix of the packet still open (its thread
   * could not close it: a worker stopped by process.exit(), or a thread that never returned to its event loop),
   * or, when no packet is open, an empty packet carrying the events discarded since the last one. The producer
   * may be closing or opening a packet at this very moment (its own exit path runs concurrently), so the open
   * packet and the free slot are claimed by compare-and-swap on their generation word, as the producer's
   * close() and open() do: each packet is written exactly once, by whichever side won it.
   */
  finalDrain(): void {
    this.limit = undefined; // a rotation under way when the process ends: everything goes out now
    const n = this.d.numSubbuf;
    for (;;) {
      this.drain();
      const i = this.expect & (n - 1);
      const gi = CTL_GEN + i;
      const g = Atomics.load(this.ctl, gi);
      const claimed = gen(this.expect, GEN_CONSUMED);
      if (g === gen(this.expect, GEN_OPEN)) {
        if (Atomics.compareExchange(this.ctl, gi, g, claimed) !== g) continue; // closed meanwhile: drain it
        this.writeOpenPrefix(i * this.d.subbufSize);
        return;
      }
      if (g === gen(this.expect - n, GEN_CONSUMED)) {
        // No packet open. Losses since the last packet would be missing from the trace's count: report them.
        if (this.lastHeader === undefined || this.stats[STAT_DISCARDED]! <= this.lastDiscarded) return;
        if (Atomics.compareExchange(this.ctl, gi, g, claimed) !== g) continue; // the producer opened it
        this.writeDiscardReport();
        return;
      }
      if (g === gen(this.expect, GEN_CLOSED)) continue;
      return; // overwrite mode, lapped: drain() skips ahead
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
    this.writePacket(this.priv.subarray(0, content), undefined, 0);
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
    this.writePacket(h, PH_SIZE, 0);
    this.expect++;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Whatever the producer writes from now on is after the end of the session: it must not wait for us.
    Atomics.store(this.ctl, CTL_CONSUMER, CONSUMER_GONE);
    Atomics.notify(this.ctl, CTL_GEN + (this.expect & (this.d.numSubbuf - 1)));
    this.closeFiles();
    // Nothing reads the ring any more: let its memory go with its thread (the control words stay for stats()).
    this.d = { ...this.d, data: EMPTY_RING };
    this.u8 = new Uint8Array(0);
    this.dv = new DataView(EMPTY_RING);
    this.priv = Buffer.alloc(0);
  }
}

export class SessionWriter {
  private readonly sinks = new Map<number, RingSink>();
  private metadataPath: string;
  private finalizing = false;
  /** Metadata text not written yet (it goes out before the next packet). */
  private metaPending = '';
  private metaFd = -1;
  /** Size of the metadata file: where a failed append is cut back to. */
  private metaOff = 0;
  private firstError: string | undefined;

  /** The declarations written so far (the trace's metadata after its preamble); snapshot mode: held here only. */
  private declarations = '';
  /** Snapshot mode: streams of gone threads that still hold packets, oldest first. */
  private readonly closedHolding: RingSink[] = [];

  /**
   * `pollMs`: how long a drain loop sleeps when no doorbell rings (the read timer). `snapshot`: keep the newest
   * packets in memory instead of writing `traceDir` (see the top of this file).
   */
  constructor(
    public traceDir: string,
    readonly sessionId: string,
    private readonly pollMs = 1000,
    readonly snapshot = false,
  ) {
    this.metadataPath = join(traceDir, 'metadata');
  }

  get finished(): boolean {
    return this.finalizing;
  }

  /** Takes a ring announcement or an event declaration of this session (others are ignored). */
  onMessage(m: ChannelMessage): void {
    if (m.type === 'ring') {
      if (m.sessionId !== this.sessionId || this.sinks.has(m.ring.streamId)) return;
      this.metaPending += m.ring.streamTsdl + m.events.map((e) => e.tsdl).join('');
      this.flushMetadata();
      const s = new RingSink(m.ring, this.traceDir, this);
      this.sinks.set(m.ring.streamId, s);
      if (this.finalizing) {
        // Announced after the end (a thread that learnt of the session late): take what it wrote and let go.
        s.finalDrain();
        s.close();
      } else void this.pump(s).catch((err: unknown) => this.failed(this.traceDir, err));
    } else if (m.type === 'event') {
      if (m.sessionId === this.sessionId && this.sinks.has(m.event.streamId)) {
        this.metaPending += m.event.tsdl;
        this.flushMetadata();
      }
    }
  }

  /** The first write failure ("FILE: reason"), if any. */
  get error(): string | undefined {
    return this.firstError;
  }

  /** Records a write failure (the first one is kept for the statistics). */
  failed(file: string, err: unknown): void {
    this.firstError ??= describeIoError(file, err);
  }

  /**
   * Appends the queued metadata; true when none is left. A failed append is cut back, so the file only ever
   * holds whole declarations, and retried before the next packet.
   */
  flushMetadata(): boolean {
    if (this.metaPending === '') return true;
    if (this.snapshot) {
      this.declarations += this.metaPending;
      this.metaPending = '';
      return true;
    }
    try {
      if (this.metaFd < 0) {
        // The agent wrote the preamble; declarations are appended to it.
        this.metaFd = openTraceFile(this.metadataPath, 'a');
        this.metaOff = fstatSync(this.metaFd).size;
      }
      const bytes = Buffer.from(this.metaPending);
      writeAllAt(this.metaFd, [bytes], this.metaOff);
      this.metaOff += bytes.length;
      // Kept: a rotation writes the whole metadata again into the next chunk.
      this.declarations += this.metaPending;
      this.metaPending = '';
      return true;
    } catch (err) {
      if (this.metaFd >= 0) truncateQuietly(this.metaFd, this.metaOff);
      this.failed(this.metadataPath, err);
      return false;
    }
  }

  /** True when every announced ring's thread has closed its last packet (deactivated or exited). */
  allProducersExited(): boolean {
    for (const s of this.sinks.values()) {
      if (!s.closed && Atomics.load(s.ctl, CTL_STATE) !== PRODUCER_EXITED) return false;
    }
    return true;
  }

  private async pump(s: RingSink): Promise<void> {
    while (!this.finalizing) {
      const v = Atomics.load(s.ctl, CTL_DOORBELL);
      // Read before draining: the producer marks itself exited after closing its last packet.
      const exited = Atomics.load(s.ctl, CTL_STATE) === PRODUCER_EXITED;
      s.drain();
      if (this.finalizing) return;
      if (exited) {
        // Its thread is gone (or left the session) and everything it wrote is out: this stream is complete.
        s.close();
        if (this.snapshot) {
          // Snapshot mode keeps a gone thread's newest packets, but not for every thread a pool ever ran.
          this.closedHolding.push(s);
          if (this.closedHolding.length > MAX_CLOSED_STREAMS_HELD) this.closedHolding.shift()!.held!.length = 0;
        }
        return;
      }
      const w = waitAsync(s.ctl, CTL_DOORBELL, v, this.pollMs);
      if (w.async) await w.value;
    }
  }

  /** Writes everything out and closes the files (synchronous: safe in an exit path). */
  finish(): void {
    if (this.finalizing) return;
    this.finalizing = true;
    for (const s of this.sinks.values()) {
      if (s.closed) continue;
      try {
        s.finalDrain();
      } finally {
        s.close();
      }
    }
    this.closeMetadata();
  }

  /**
   * Session rotation: every closed packet goes to the current files, which are then closed (a complete trace
   * chunk); from now on packets go to `dir`, whose metadata gets `preamble` (from the trace's first channel;
   * the others append) and the declarations so far. Streams of gone threads stay in the old chunk. `dir` may be
   * the current folder (`clear`): its files then start again empty.
   */
  /**
   * Starts a rotation or clear: each stream is cut after what its thread recorded so far (see
   * RingSink.boundary()); packets past the cut wait. The caller asks the threads to flush, waits for ready(),
   * then calls rotate().
   */
  cut(): void {
    for (const s of this.sinks.values()) if (!s.closed) s.limit = s.boundary();
  }

  /** Every stream has the packets before its cut (the threads closed them), ready to go to the old files. */
  ready(): boolean {
    for (const s of this.sinks.values()) {
      if (s.closed || s.limit === undefined) continue;
      s.drain();
      if (s.expect < s.limit) return false;
    }
    return true;
  }

  rotate(dir: string, preamble?: string): void {
    for (const s of this.sinks.values()) if (!s.closed) s.drain();
    const clearing = dir === this.traceDir;
    this.flushMetadata();
    this.closeMetadata();
    this.traceDir = dir;
    this.metadataPath = join(dir, 'metadata');
    // The first channel of the trace starts the metadata file (in the same folder: `clear`, which empties it).
    if (preamble !== undefined) writeTraceFile(this.metadataPath, preamble);
    this.metaPending = this.declarations + this.metaPending;
    this.declarations = '';
    this.flushMetadata();
    for (const s of this.sinks.values()) {
      if (!s.closed) s.moveTo(dir);
      else if (clearing) s.removeFiles();
      // Packets past the cut go to the new files from here on.
      s.limit = undefined;
      if (!s.closed) s.drain();
    }
  }

  /** Snapshot mode (`clear`): the packets held up to the cut go, those closed but not taken yet included. */
  clearHeld(): void {
    for (const s of this.sinks.values()) {
      if (!s.closed) s.drain();
      if (s.held !== undefined) s.held.length = 0;
      s.limit = undefined;
    }
  }

  private closeMetadata(): void {
    if (this.metaFd < 0) return;
    try {
      closeSync(this.metaFd);
    } catch {
      // See RingSink.closeFiles.
    }
    this.metaFd = -1;
  }

  /** Snapshot mode: the declarations and, per stream, the packets held now (see RingSink.snapshotPackets). */
  snapshotContent(): SnapshotPart {
    this.flushMetadata();
    const streams = [...this.sinks.values()].map((s) => ({ name: s.d.streamName, packets: s.snapshotPackets() }));
    return { declarations: this.declarations, streams };
  }

  stats(): WriterStats {
    const out: WriterStats = { recorded: 0, discarded: 0, lostPackets: 0, lostEvents: 0, unwrittenPackets: 0, unwrittenEvents: 0 };
    for (const s of this.sinks.values()) {
      out.recorded += s.stats[STAT_RECORDED]!;
      out.discarded += s.stats[STAT_DISCARDED]!;
      out.lostPackets += s.stats[STAT_LOST_PACKETS]!;
      out.lostEvents += s.stats[STAT_LOST_EVENTS]!;
      out.unwrittenPackets += s.unwrittenPackets;
      out.unwrittenEvents += s.unwrittenEvents;
      out.bytes = (out.bytes ?? 0) + s.bytesWritten;
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
