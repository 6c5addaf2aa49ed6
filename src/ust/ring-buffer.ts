// Producer side of a per-thread ring buffer (see ring-layout.ts for the shared layout).
//
// Contract: one RingProducer per (session, thread); only its own thread calls it. Generated emit functions
// (event-codegen.ts) write records straight into `u8`/`dv` at `off` when `off + bound <= end` and the time since
// the previous record fits the 32-bit compact header; otherwise they call reserve(), which switches sub-buffers,
// discards (discard mode) or overwrites the oldest packet (overwrite mode), writes an extended header when
// needed, and returns the offset just past the event header, or -1 when the event is dropped (and counted).
// After writing a record the emitter stores the new offset in `off` and in ctl[CTL_COMMIT].
//
// Why no Atomics per event: a thread is the only writer of its ring and JS runs to completion, so there is no
// concurrent writer to arbitrate (LTTng needs per-event commit counters because signal handlers and preempted
// writers share a per-CPU buffer). Sub-buffers change hands with Atomics (seq-cst) on the generation words,
// once per packet. The per-event commit offset is a plain store made after the record's bytes; it is only read
// by the consumer's final drain at process exit (to rescue the open packet of a thread that cannot flush
// itself, e.g. a worker terminated by process.exit()); x86-64 keeps stores in order (TSO) and V8 does not
// reorder stores to typed arrays, so a consumer that reads the offset with Atomics.load sees the bytes before it.

import { allocateSharedAligned } from '../ctf/writer/direct-io.js';
import {
  CONSUMER_GONE, CTF_MAGIC, CTL_COMMIT, CTL_CONSUMER, CTL_DOORBELL, CTL_GEN, CTL_STATE, GEN_CLOSED, GEN_CONSUMED, GEN_OPEN, PACKET_ALIGN,
  PH_CONTENT_SIZE, PH_CPU_ID, PH_EVENTS_DISCARDED, PH_MAGIC, PH_PACKET_SIZE, PH_SEQ_NUM, PH_SIZE, PH_STREAM_ID,
  PH_STREAM_INSTANCE_ID, PH_TS_BEGIN, PH_TS_END, PH_UUID, PRODUCER_EXITED, PRODUCER_RUNNING, STAT_DISCARDED,
  STAT_LOST_EVENTS, STAT_LOST_PACKETS, STAT_QUIET_NS, STAT_QUIET_SEC, STAT_RECORDED, ctlBytes, ctlCountIndex, ctlInt32Words, gen,
  type LossMode,
} from './ring-layout.js';
import { BASE_LO, BASE_NS, BASE_SEC, nowRel } from './clock.js';

export interface RingOptions {
  readonly subbufSize: number;
  readonly numSubbuf: number;
  readonly mode: LossMode;
  /**
   * Discard mode only (LTTng's --blocking-timeout): how long (ms) an event may wait for the consumer to free a
   * sub-buffer before it is discarded. 0 (default) never waits; Infinity waits as long as it takes.
   */
  readonly blockingTimeoutMs?: number;
  readonly streamId: number;
  readonly streamInstanceId: number;
  readonly cpuId: number;
  /** Trace uuid, 16 bytes. */
  readonly uuid: Uint8Array;
}

const TWO32 = 4294967296;
/** Extended large header: u16 0xffff, u32 id, u64 timestamp. */
const EXT_EXTRA = 8;

export class RingProducer {
  // Hot fields first; the shape never changes after construction.
  /** Next write offset in `u8`; 0 together with end = 0 means "no open packet" (every event takes reserve()). */
  off = 0;
  end = 0;
  /** Timestamp (relative ns, see clock.ts) of the previous record, or of the packet's beginning. */
  last = 0;
  /** Events in the open packet. */
  n = 0;
  readonly u8: Uint8Array;
  readonly dv: DataView;
  readonly ctl: Int32Array;
  readonly buf: Buffer;
  readonly stats: Float64Array;
  readonly data: SharedArrayBuffer;
  /** `data` is page-aligned (see RingDescriptor.aligned). */
  readonly aligned: boolean;
  readonly ctlSab: SharedArrayBuffer;
  readonly subbufSize: number;
  readonly numSubbuf: number;
  readonly mode: LossMode;
  readonly blockingTimeoutMs: number;
  /** Sequence number of the open (or last opened) packet; -1 before the first. */
  seq = -1;
  /** Sub-buffer index of the open packet, -1 when none is open. */
  cur = -1;
  base = 0;
  discarded = 0;
  lostPackets = 0;
  lostEvents = 0;
  recorded = 0;
  /** events_discarded value written in the last closed packet. */
  reportedDiscarded = 0;
  exited = false;
  /**
   * Called (once) from the slow path when the consumer has let go of this ring (the session was stopped by the
   * session daemon while this thread was busy): the tracer disables this thread's events.
   */
  onConsumerGone: (() => void) | undefined = undefined;

  constructor(o: RingOptions) {
    if (!Number.isInteger(o.subbufSize) || o.subbufSize < 4096 || (o.subbufSize & (o.subbufSize - 1)) !== 0) {
      throw new RangeError('ltt/ust: subbufSize must be a power of two >= 4096');
    }
    if (!Number.isInteger(o.numSubbuf) || o.numSubbuf < 2 || (o.numSubbuf & (o.numSubbuf - 1)) !== 0) {
      throw new RangeError('ltt/ust: numSubbuf must be a power of two >= 2');
    }
    if (o.subbufSize * o.numSubbuf > 1 << 30) {
      // Offsets are published in Int32 words.
      throw new RangeError('ltt/ust: subbufSize x numSubbuf must not exceed 1 GiB per thread');
    }
    this.subbufSize = o.subbufSize;
    this.numSubbuf = o.numSubbuf;
    this.mode = o.mode;
    this.blockingTimeoutMs = o.mode === 'discard' ? (o.blockingTimeoutMs ?? 0) : 0;
    // Page-aligned when it can be: the consumer then writes sub-buffers straight to disk (O_DIRECT).
    ({ buffer: this.data, aligned: this.aligned } = allocateSharedAligned(o.subbufSize * o.numSubbuf));
    this.ctlSab = new SharedArrayBuffer(ctlBytes(o.numSubbuf));
    this.u8 = new Uint8Array(this.data);
    this.dv = new DataView(this.data);
    this.buf = Buffer.from(this.data);
    this.ctl = new Int32Array(this.ctlSab, 0, ctlInt32Words(o.numSubbuf));
    this.stats = new Float64Array(this.ctlSab, ctlInt32Words(o.numSubbuf) * 4);
    // Constant header fields are written once per sub-buffer: they never change.
    for (let i = 0; i < o.numSubbuf; i++) {
      const b = i * o.subbufSize;
      this.dv.setUint32(b + PH_MAGIC, CTF_MAGIC, true);
      this.u8.set(o.uuid, b + PH_UUID);
      this.dv.setUint32(b + PH_STREAM_ID, o.streamId, true);
      this.dv.setBigUint64(b + PH_STREAM_INSTANCE_ID, BigInt(o.streamInstanceId), true);
      this.dv.setUint32(b + PH_CPU_ID, o.cpuId, true);
      // Sub-buffer i starts as if packet i - numSubbuf had been consumed: free for packet i.
      this.ctl[CTL_GEN + i] = gen(i - o.numSubbuf, GEN_CONSUMED);
    }
    this.ctl[CTL_STATE] = PRODUCER_RUNNING;
  }

  /**
   * Slow path of an event write: `need` is the record size bound with a compact header. Returns the offset just
   * past the event header it wrote, or -1 if the event is dropped (counted).
   */
  reserve(t: number, need: number, id: number): number {
    if (this.exited) return -1;
    if (this.ctl[CTL_CONSUMER] === CONSUMER_GONE) {
      // Nobody reads this ring any more: what is written now is after the stop and is not a loss.
      this.exited = true;
      this.onConsumerGone?.();
      return -1;
    }
    for (;;) {
      if (this.cur < 0 && !this.open(t) && !(this.blockingTimeoutMs > 0 && this.waitFree(t))) {
        this.discard();
        return -1;
      }
      const ext = t - this.last >= TWO32 || id >= 0xffff;
      const size = ext ? need + EXT_EXTRA : need;
      if (this.off + size > this.end) {
        if (size > this.subbufSize - PH_SIZE) {
          // Can never fit: LTTng counts such records as discarded too.
          this.discard();
          return -1;
        }
        if (!this.close()) return -1;
        continue;
      }
      let o = this.off;
      const dv = this.dv;
      if (ext) {
        dv.setUint16(o, 0xffff, true);
        dv.setUint32(o + 2, id, true);
        this.writeAbs(o + 6, t);
        o += 14;
      } else {
        dv.setUint16(o, id, true);
        dv.setUint32(o + 2, (t + BASE_LO) >>> 0, true);
        o += 6;
      }
      return o;
    }
  }

  /**
   * Blocking discard mode: waits (Atomics.wait on the next sub-buffer's generation word, which the consumer
   * notifies) until the consumer frees the next sub-buffer or the timeout passes. True if a packet is now open.
   * The event keeps the timestamp it was emitted with, so timestamps stay monotonic within the stream.
   */
  private waitFree(t: number): boolean {
    const deadline = this.blockingTimeoutMs === Infinity ? Infinity : Date.now() + this.blockingTimeoutMs;
    for (;;) {
      const gi = CTL_GEN + ((this.seq + 1) & (this.numSubbuf - 1));
      const left = deadline - Date.now();
      if (left <= 0 || this.ctl[CTL_CONSUMER] === CONSUMER_GONE) return false;
      Atomics.wait(this.ctl, gi, Atomics.load(this.ctl, gi), Math.min(left, 100));
      if (this.open(t)) return true;
    }
  }

  /** Encodes the rest of a string that has a non-ASCII or NUL code unit at index k (the first k are written). */
  strSlow(s: string, o: number, k: number): number {
    let p = o + k;
    if (s.charCodeAt(k) !== 0) {
      const w = this.buf.write(k === 0 ? s : s.slice(k), p, 'utf8');
      const u8 = this.u8;
      const stop = p + w;
      while (p < stop && u8[p] !== 0) p++; // a U+0000 inside the string ends it, as in C
    }
    this.u8[p] = 0;
    return p + 1;
  }

  private discard(): void {
    this.discarded++;
    this.stats[STAT_DISCARDED] = this.discarded;
  }

  private writeAbs(at: number, t: number): void {
    const x = t + BASE_LO; // exact: < 2^53
    const lo = x % TWO32;
    const hi = Number(BASE_NS >> 32n) + Math.floor(x / TWO32);
    this.dv.setUint32(at, lo, true);
    this.dv.setUint32(at + 4, hi, true);
  }

  /** Opens the next packet at time t. False (discard mode) when its sub-buffer is not consumed yet. */
  private open(t: number): boolean {
    const seq = this.seq + 1;
    const j = seq & (this.numSubbuf - 1);
    const gi = CTL_GEN + j;
    const opened = gen(seq, GEN_OPEN);
    const prevClosed = gen(seq - this.numSubbuf, GEN_CLOSED);
    // Every transition is a compare-and-swap: the consumer marks packets consumed, and its final drain may claim
    // a free slot (to report the last discards), at any moment; exactly one side wins each sub-buffer.
    if (this.mode === 'overwrite' && Atomics.compareExchange(this.ctl, gi, prevClosed, opened) === prevClosed) {
      // Overwrite mode took the oldest packet back before the consumer read it: it is lost, and counted.
      this.lostPackets++;
      this.lostEvents += this.ctl[ctlCountIndex(this.numSubbuf, j)]!;
      this.stats[STAT_LOST_PACKETS] = this.lostPackets;
      this.stats[STAT_LOST_EVENTS] = this.lostEvents;
    } else {
      const prevConsumed = gen(seq - this.numSubbuf, GEN_CONSUMED);
      // Not consumed yet (discard mode: the event is dropped), or claimed by the final drain (session over).
      if (Atomics.compareExchange(this.ctl, gi, prevConsumed, opened) !== prevConsumed) return false;
    }
    this.seq = seq;
    this.cur = j;
    this.base = j * this.subbufSize;
    this.writeAbs(this.base + PH_TS_BEGIN, t);
    this.dv.setUint32(this.base + PH_SEQ_NUM, seq % TWO32, true);
    this.dv.setUint32(this.base + PH_SEQ_NUM + 4, Math.floor(seq / TWO32), true);
    this.off = this.base + PH_SIZE;
    this.end = this.base + this.subbufSize;
    this.last = t;
    this.n = 0;
    this.ctl[CTL_COMMIT] = this.off;
    return true;
  }

  /**
   * Closes the open packet: completes its header and hands it to the consumer. False when the consumer's final
   * drain took the packet first (it wrote the committed records): the session is over for this ring.
   */
  close(): boolean {
    if (this.cur < 0) return true;
    const b = this.base;
    const content = this.off - b;
    const dv = this.dv;
    this.writeAbs(b + PH_TS_END, this.last);
    dv.setBigUint64(b + PH_CONTENT_SIZE, BigInt(content * 8), true);
    dv.setBigUint64(b + PH_PACKET_SIZE, BigInt(Math.ceil(content / PACKET_ALIGN) * PACKET_ALIGN * 8), true);
    dv.setUint32(b + PH_EVENTS_DISCARDED, this.discarded % TWO32, true);
    dv.setUint32(b + PH_EVENTS_DISCARDED + 4, Math.floor(this.discarded / TWO32), true);
    this.reportedDiscarded = this.discarded;
    this.ctl[ctlCountIndex(this.numSubbuf, this.cur)] = this.n;
    const open = gen(this.seq, GEN_OPEN);
    // A compare-and-swap, not a store: the consumer's final drain may claim the open packet at the same moment
    // (a thread still running when the session ends); exactly one side then owns it, so it is written once.
    const won = Atomics.compareExchange(this.ctl, CTL_GEN + this.cur, open, gen(this.seq, GEN_CLOSED)) === open;
    this.cur = -1;
    this.off = 0;
    this.end = 0;
    if (!won) {
      this.exited = true;
      this.onConsumerGone?.();
      return false;
    }
    this.recorded += this.n;
    this.stats[STAT_RECORDED] = this.recorded;
    Atomics.add(this.ctl, CTL_DOORBELL, 1);
    Atomics.notify(this.ctl, CTL_DOORBELL);
    return true;
  }

  /** Hands the open packet to the consumer if it holds events (sub-buffer switch on demand). */
  flush(): void {
    if (this.cur >= 0 && this.n > 0) this.close();
  }

  /**
   * The switch timer's tick, run from the thread's event loop: flush(), then the stream is marked quiet up to
   * now (STAT_QUIET_*), since the thread's next event comes later; the consumer turns the mark into a live beacon.
   */
  tick(): void {
    this.flush();
    this.stats[STAT_QUIET_SEC] = BASE_SEC;
    this.stats[STAT_QUIET_NS] = nowRel();
  }

  /**
   * Closes a packet even when it holds no event (header and context only: valid CTF), so that a live viewer,
   * which learns of new streams only from an index of a stream it follows (babeltrace2's lttng-live reads the
   * relay's new-stream flag on INDEX_OK replies alone), hears of a thread's stream that just appeared.
   */
  flushEmpty(): void {
    if (this.exited || this.ctl[CTL_CONSUMER] === CONSUMER_GONE) return;
    if (this.cur < 0 && !this.open(nowRel())) return;
    this.close();
  }

  /**
   * Final flush of this thread: closes the open packet; if events were discarded since the last closed packet,
   * waits (up to timeoutMs) for a free sub-buffer and closes an empty packet carrying the final count, so
   * readers see every loss. Then marks the producer as exited.
   */
  exit(timeoutMs = 2000): void {
    if (this.exited) return;
    if (this.ctl[CTL_CONSUMER] === CONSUMER_GONE) {
      // The consumer already took (or dropped) what this ring held: nothing to hand over, nobody to wait for.
      this.exited = true;
      Atomics.store(this.ctl, CTL_STATE, PRODUCER_EXITED);
      return;
    }
    if (this.cur >= 0 && (this.n > 0 || this.discarded !== this.reportedDiscarded)) this.close();
    // (A failed close means the consumer's final drain took the packet: then it also reports the discards.)
    if (!this.exited && this.discarded !== this.reportedDiscarded) {
      const deadline = Date.now() + timeoutMs;
      while (this.cur < 0 && !this.open(nowRel())) {
        const j = (this.seq + 1) & (this.numSubbuf - 1);
        const left = deadline - Date.now();
        if (left <= 0 || this.ctl[CTL_CONSUMER] === CONSUMER_GONE) break;
        Atomics.wait(this.ctl, CTL_GEN + j, Atomics.load(this.ctl, CTL_GEN + j), Math.min(left, 50));
      }
      if (this.cur >= 0) this.close();
    }
    this.exited = true;
    Atomics.store(this.ctl, CTL_STATE, PRODUCER_EXITED);
    Atomics.add(this.ctl, CTL_DOORBELL, 1);
    Atomics.notify(this.ctl, CTL_DOORBELL);
  }
}

