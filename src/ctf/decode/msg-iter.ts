// The per-data-stream message iterator (babeltrace2's msg-iter.c): walks a stream's packets in order and
// produces stream beginning, discarded events/packets, packet beginning, events, packet end, stream end.
//
// Contract: `next()` is synchronous and returns the next message, `undefined` at the end of the stream,
// or NEED_DATA when an asynchronous Medium has not delivered the next packet yet or a growing (live) stream has
// no next packet yet (then await `fill()`).
// Packet times follow msg-iter.c: packet beginning = decoded `timestamp_begin` (barectf "event before
// packet" quirk: delayed until the first event and lowered to its time); packet end = the clock after
// `timestamp_end` (lttng "event after packet" and lttng-crash quirks keep the last event time instead).
// Discarded events: counter delta between consecutive packets (first packet: unknown count if non-zero),
// range previous end .. this end; discarded packets: sequence number gaps, range previous end .. this
// beginning; both before the packet beginning. Decoding errors are LttError('CTF_DECODE') naming the file,
// the packet offset and the problem; messages produced before the error have already been returned.

import { LttError } from '../../errors.js';
import type {
  DiscardedItemsMessage,
  Message,
  PacketBeginningMessage,
  PacketEndMessage,
  StreamInfo,
  StructValue,
} from '../ir/message.js';
import { DecodeError } from './bits.js';
import { CtfEagerEventMessage, CtfEventMessage, type PacketData } from './event-message.js';
import { DEFAULT_WINDOW, FileMedium, type Medium, type WindowPool } from './medium.js';
import type { ScopeDecoder, SkippedEvents } from './codegen.js';
import { DecodeState, type Num } from './state.js';
import { packetBytes as packetBytesOf, type EventClassDecoders, type StreamClassConfig, type TraceDecoders } from './trace-decoders.js';

export const NEED_DATA: unique symbol = Symbol('need-data');
export type NextResult = Message | undefined | typeof NEED_DATA;
/** nextRaw(): an event was read; its class decoders, position and time are the iterator's `ev*` fields. */
export const EVENT: unique symbol = Symbol('event');

/** A source of messages for one data stream (what the muxer merges). */
export interface MessageStream {
  readonly info: StreamInfo;
  next(): NextResult;
  /** Resolves when next() can make progress after NEED_DATA. */
  fill(): Promise<void> | void;
  close(): void;
}

/**
 * The packets of a stream still being recorded (live): asked each time the known packets are all read.
 * 'more': packets were appended to the list; 'end': none will come; NEED_DATA: ask again once wait() resolves;
 * a message: returned first (an inactivity message: the stream is quiet up to its time).
 */
export interface GrowingPackets {
  poll(): 'more' | 'end' | Message | typeof NEED_DATA;
  wait(): Promise<void>;
}

export interface PacketLocation {
  readonly path: string;
  /** Byte offset of the packet in its file. */
  readonly offset: number;
  /** Packet size in bytes when known (index or scan); undefined: up to the end of the file. */
  readonly size: number | undefined;
}

export interface TracerQuirks {
  /** lttng-ust/modules < 2.11 (and older branches): events after `timestamp_end`. */
  readonly eventAfterPacket: boolean;
  /** barectf < 2.3.1: events before `timestamp_begin`. */
  readonly barectfEventBeforePacket: boolean;
  /** All lttng-ust/modules: `timestamp_end == 0` on crash-recovered packets. */
  readonly lttngCrash: boolean;
}

export const NO_QUIRKS: TracerQuirks = { eventAfterPacket: false, barectfEventBeforePacket: false, lttngCrash: false };

export interface StreamIteratorOptions {
  readonly quirks?: TracerQuirks;
  readonly openMedium?: (path: string) => Medium;
  /**
   * Decode every event's field values while reading (one pass) instead of on first access. Cheaper when
   * the consumer reads every event's fields (pretty printing); lazy is cheaper otherwise.
   */
  readonly eager?: boolean;
  /**
   * The consumer never reads event fields (a dummy or counting sink): the read buffer is recycled as with
   * `eager`, and lazy messages must then not be asked for their fields once the stream has moved on.
   */
  readonly fieldsUnread?: boolean;
  /**
   * nextRaw() leaves each event's fields unread for the caller to read once, with readBody() (effects and
   * values in one pass), instead of stepping over them first (a consumer that writes every event's fields).
   */
  readonly callerReadsBodies?: boolean;
  /** Lazy messages' read windows come from and go back to this pool (see WindowPool): `returned` tags them. */
  readonly windows?: WindowPool;
  /**
   * Snapshots of the packet that preceded the first one of `packets` (when starting in the middle of a
   * stream after an index seek): discarded events/packets are then computed as if it had been read.
   */
  readonly prev?: { readonly discarded: Num | undefined; readonly seqNum: Num | undefined; readonly tsEnd: Num | undefined };
  /** `packets` grows while the stream is read (live); without it the stream ends after the last one. */
  readonly growing?: GrowingPackets;
}

const enum St {
  Begin,
  NeedPacket,
  Events,
  Done,
}

function sub(a: Num, b: Num): Num {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const r = (BigInt(a) - BigInt(b)) & 0xffffffffffffffffn;
  return r <= 9007199254740991n ? Number(r) : r;
}

export class CtfStreamIterator implements MessageStream {
  private state = St.Begin;
  private readonly st: DecodeState;
  private readonly queue: Message[] = [];
  private qi = 0;
  private pi = 0;
  /** Messages next() has returned (WindowPool tags). */
  returned = 0;
  private medium: Medium | undefined;
  private pending: Promise<void> | undefined;
  private pendingBytes: Uint8Array | undefined;
  private readonly hasClock: boolean;

  // Current packet.
  private cfg: StreamClassConfig | undefined;
  private pk: PacketData | undefined;
  /**
   * The stream's PacketData.scratch: one per stream, not per trace, so that interleaved streams do not take
   * turns re-pointing a shared state at their packets (a write barrier at almost every event).
   */
  private bodyScratch: DecodeState | undefined;
  private packetContext: StructValue | undefined;
  private header: ((s: DecodeState) => unknown) | undefined;
  private ecds: Array<EventClassDecoders | undefined> = [];
  private packetOffset = 0;
  private packetPath = '';
  private delayedBegin: PacketBeginningMessage | undefined;

  // Snapshots of the current and previous packets (undefined: absent / first packet).
  private curDisc: Num | undefined;
  private curSeq: Num | undefined;
  private curBegin: Num | undefined;
  private curEnd: Num | undefined;
  private prevDisc: Num | undefined;
  private prevSeq: Num | undefined;
  private prevEnd: Num | undefined;
  /** Started after an index seek: the first packet read is not the stream's first. */
  private resumed = false;

  private readonly quirks: TracerQuirks;
  private readonly openMedium: (path: string) => Medium;
  private readonly eager: boolean;
  private readonly growing: GrowingPackets | undefined;
  private readonly callerReadsBodies: boolean;
  /** The event nextRaw() returned whose fields readBody() has not read yet (callerReadsBodies), and its start. */
  private bodyPending: EventClassDecoders | undefined;
  private pendingStart = 0;

  constructor(
    readonly info: StreamInfo,
    private readonly dec: TraceDecoders,
    private readonly packets: readonly PacketLocation[],
    opts: StreamIteratorOptions = {},
  ) {
    this.st = new DecodeState(dec.tc.slotCount);
    this.hasClock = info.sc.defaultClock !== undefined;
    this.quirks = opts.quirks ?? NO_QUIRKS;
    this.eager = opts.eager ?? false;
    this.growing = opts.growing;
    this.callerReadsBodies = opts.callerReadsBodies === true && !this.eager;
    // Eager messages never point into the packet bytes (and unread ones need not), so the read buffer can be recycled.
    const reuse = this.eager || opts.fieldsUnread === true;
    const windows = reuse ? undefined : opts.windows;
    const source = windows && { take: (n: number) => windows.take(n), retire: (b: Uint8Array) => windows.retire(b, this, this.returned) };
    this.openMedium = opts.openMedium ?? ((p) => new FileMedium(p, DEFAULT_WINDOW, reuse, source));
    if (opts.prev) {
      this.curDisc = opts.prev.discarded;
      this.curSeq = opts.prev.seqNum;
      this.curEnd = opts.prev.tsEnd;
      this.resumed = true;
    }
  }

  fill(): Promise<void> | void {
    return this.pending;
  }

  close(): void {
    this.medium?.close();
    this.medium = undefined;
    this.bodyPending = undefined;
    this.state = St.Done;
  }

  next(): NextResult {
    try {
      if (this.bodyPending !== undefined) this.skipPendingBody();
      for (;;) {
        if (this.qi < this.queue.length) {
          const m = this.queue[this.qi++]!;
          if (this.qi === this.queue.length) {
            this.queue.length = 0;
            this.qi = 0;
          }
          this.returned++;
          return m;
        }
        switch (this.state) {
          case St.Events:
            if (this.st.pos < this.st.end) {
              const ev = this.decodeEvent();
              if (this.delayedBegin === undefined) {
                this.returned++;
                return ev;
              }
              this.queue.push(this.takeDelayedBegin(), ev);
              continue;
            }
            this.endPacket();
            this.state = St.NeedPacket;
            continue;
          case St.NeedPacket:
            if (this.pi >= this.packets.length) {
              const more = this.growing?.poll() ?? 'end';
              if (more === 'more') continue;
              if (more === NEED_DATA) {
                this.pending ??= this.growing!.wait().then(() => {
                  this.pending = undefined;
                });
                return NEED_DATA;
              }
              if (more !== 'end') {
                this.returned++;
                return more;
              }
              this.medium?.close();
              this.medium = undefined;
              this.state = St.Done;
              this.returned++;
              return { type: 'stream-end', stream: this.info };
            }
            if (!this.loadPacket()) return NEED_DATA;
            this.state = St.Events;
            continue;
          case St.Begin:
            this.state = St.NeedPacket;
            this.returned++;
            return { type: 'stream-beginning', stream: this.info };
          case St.Done:
            return undefined;
        }
      }
    } catch (err) {
      this.close();
      throw this.wrap(err);
    }
  }

  /**
   * next() without the event message (for a consumer that reads the event from the packet bytes itself):
   * EVENT when the next message is an event, whose decoders, time and start (evEcd, evCycles, evPos, as
   * CtfEventMessage keeps them) and packet (evPacket, evPacketContext) stay until the next call. Other
   * messages, and events in a quirk's delayed order, come as next() returns them.
   */
  nextRaw(): NextResult | typeof EVENT {
    const st = this.st;
    if (this.bodyPending !== undefined) {
      try {
        this.skipPendingBody();
      } catch (err) {
        this.close();
        throw this.wrap(err);
      }
    }
    if (this.state === St.Events && this.qi === this.queue.length && this.delayedBegin === undefined && !this.eager && st.pos < st.end) {
      const pos = st.pos;
      let ecd: EventClassDecoders;
      const callerReads = this.callerReadsBodies;
      try {
        ecd = this.eventDecoders(st, !callerReads);
      } catch (err) {
        this.close();
        throw this.wrap(err);
      }
      if (callerReads) {
        this.bodyPending = ecd;
        this.pendingStart = pos;
      }
      this.evEcd = ecd;
      this.evPos = ecd.needsHeader ? pos : this.bodyPos;
      this.returned++;
      return EVENT;
    }
    return this.next();
  }

  /**
   * Reads the fields of the event nextRaw() returned last (an iterator with callerReadsBodies) from the stream's
   * own state, where its header left it: `read` is a decoder of the event's scopes that applies their effects
   * (slots, clock) as the skipping pass would (compileScopeSink with effects), and gets `out`. Errors as next()
   * throws them.
   */
  readBody(read: ScopeDecoder, out: object): void {
    const st = this.st;
    try {
      read(st, out);
      if (st.pos === this.pendingStart) throw new DecodeError(`event at byte ${this.pendingStart >>> 3} has a size of zero bits`);
    } catch (err) {
      this.close();
      throw this.wrap(err);
    }
    this.bodyPending = undefined;
  }

  /** Steps over the fields of an event nextRaw() returned that the caller did not read. */
  private skipPendingBody(): void {
    const ecd = this.bodyPending!;
    this.bodyPending = undefined;
    const st = this.st;
    ecd.skip(st);
    if (st.pos === this.pendingStart) throw new DecodeError(`event at byte ${this.pendingStart >>> 3} has a size of zero bits`);
  }

  /**
   * Reads up to `max` events of the current packet at once (compileSkipLoop's recording loop) into `out`, as
   * nextRaw() would return them one by one (their packet: evPacket, evPacketContext; their class decoders:
   * ecdOf(id)); 0 when nextRaw() must go on (not in a packet's events, a quirk's order, an event the loop
   * leaves to the per-event decoders).
   */
  readRawEvents(max: number, out: SkippedEvents): number {
    const st = this.st;
    if (this.state !== St.Events || this.bodyPending !== undefined || this.qi !== this.queue.length || this.delayedBegin !== undefined || this.eager || st.pos >= st.end || !this.hasClock) return 0;
    const loop = this.dec.skipLoop(this.cfg!, true);
    if (loop === null) return 0;
    const n = loop(st, max, out);
    this.returned += n;
    return n;
  }

  /** The class decoders of event class `id` of the current packet's stream class (an ID readRawEvents() gave). */
  ecdOf(id: number): EventClassDecoders {
    let ecd = this.ecds[id];
    if (ecd === undefined) {
      ecd = this.dec.eventClass(this.cfg!, id)!;
      this.ecds[id] = ecd;
    }
    return ecd;
  }

  /** The event nextRaw() read last (see there). */
  evEcd: EventClassDecoders | undefined;
  evPos = 0;
  get evCycles(): Num | undefined {
    return this.cycles;
  }
  get evPacket(): PacketData {
    return this.pk!;
  }
  get evPacketContext(): StructValue | undefined {
    return this.packetContext;
  }

  /**
   * For a sink that ignores every message (dummy): reads on, from where next() stopped, without making event
   * messages (the other messages are made and dropped). Returns the number of messages skipped once the
   * stream has ended, or NEED_DATA (await fill(), then call again). Errors as next() throws them.
   */
  skipAll(): number | typeof NEED_DATA {
    let n = 0;
    try {
      for (;;) {
        if (this.state === St.Events && this.delayedBegin === undefined && !this.eager) {
          const st = this.st;
          // The generated loop stops at an event it leaves to the per-event decoders (damaged: they report it;
          // a clock past 2^53) and goes on after it.
          const loop = this.dec.skipLoop(this.cfg!);
          if (loop !== null) n += loop(st, Infinity);
          while (st.pos < st.end) {
            this.eventDecoders(st);
            n++;
            if (loop !== null) n += loop(st, Infinity);
          }
        }
        const m = this.next();
        if (m === NEED_DATA) {
          this.skipped += n;
          return NEED_DATA;
        }
        if (m === undefined) {
          n += this.skipped;
          this.skipped = 0;
          return n;
        }
        n++;
      }
    } catch (err) {
      this.close();
      throw this.wrap(err);
    }
  }

  /** Messages skipAll() counted before it returned NEED_DATA. */
  private skipped = 0;

  private wrap(err: unknown): unknown {
    if (err instanceof DecodeError) {
      return new LttError(
        'CTF_DECODE',
        `${this.packetPath}: packet at offset ${this.packetOffset}: ${err.message}`,
        { cause: err },
      );
    }
    return err;
  }

  private bytesFor(path: string, offset: number, size: number | undefined): Uint8Array | undefined {
    if (this.pendingBytes) {
      const b = this.pendingBytes;
      this.pendingBytes = undefined;
      this.pending = undefined;
      return b;
    }
    // A request is already in flight: wait for it rather than asking again.
    if (this.pending) return undefined;
    if (!this.medium || this.medium.name !== path) {
      this.medium?.close();
      this.medium = this.openMedium(path);
    }
    const len = size ?? (this.medium.size ?? offset) - offset;
    const r = this.medium.request(offset, len);
    if (r instanceof Uint8Array) return r;
    this.pending = r.then((b) => {
      this.pendingBytes = b;
    });
    return undefined;
  }

  /** Loads and starts the next packet; false when the bytes are not there yet (async medium). */
  private loadPacket(): boolean {
    const loc = this.packets[this.pi]!;
    this.packetPath = loc.path;
    this.packetOffset = loc.offset;
    const bytes = this.bytesFor(loc.path, loc.offset, loc.size);
    if (!bytes) return false;
    this.pi++;
    const st = this.st;
    const { cfg, context } = this.dec.decodePacketHeaderContext(st, bytes);
    // A stream's packets are of one stream class (its events' IDs, header and contexts are that class's), as
    // babeltrace2 requires: a packet naming another class is an error there, not a change of class.
    if (cfg.sc !== this.info.sc) {
      throw new DecodeError(`two packets of one stream refer to different stream classes (${this.info.sc.id}, then ${cfg.sc.id})`);
    }
    const avail = bytes.byteLength;
    let packetBytes: number;
    if (st.packetSize !== undefined) {
      packetBytes = packetBytesOf(st.packetSize);
    } else {
      packetBytes = avail;
    }
    if (packetBytes > avail) {
      throw new DecodeError(
        `packet size (${packetBytes} bytes) goes past the end of the file (${avail} bytes left)`,
      );
    }
    if (packetBytes * 8 >= 2 ** 31) throw new DecodeError(`packet larger than 256 MiB is not supported`);
    let contentBits = packetBytes * 8;
    if (st.contentSize !== undefined) {
      if (typeof st.contentSize !== 'number' || st.contentSize > contentBits) {
        throw new DecodeError(`content size (${st.contentSize} bits) is larger than the packet size (${contentBits} bits)`);
      }
      contentBits = st.contentSize;
    }
    if (st.pos > contentBits) {
      throw new DecodeError(
        `packet header and context (${st.pos} bits) do not fit in the packet's content (${contentBits} bits)`,
      );
    }
    const u8 = packetBytes === avail ? bytes : bytes.subarray(0, packetBytes);
    if (u8 !== st.u8) {
      st.u8 = u8;
      st.dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    }
    st.end = contentBits;

    if (cfg !== this.cfg) {
      this.cfg = cfg;
      this.header = cfg.eventHeader;
      this.ecds = [];
    }
    this.packetContext = context as StructValue | undefined;
    this.pk = {
      u8,
      dv: st.dv,
      end: contentBits,
      slots: st.slots.slice(),
      header: cfg.eventHeader,
      scratch: (this.bodyScratch ??= new DecodeState(this.dec.tc.slotCount)),
    };

    // Snapshots, as msg-iter.c keeps them.
    this.prevDisc = this.curDisc;
    this.prevSeq = this.curSeq;
    this.prevEnd = this.curEnd;
    this.curDisc = st.discarded;
    this.curSeq = st.seqNum;
    this.curBegin = st.tsBegin;
    this.curEnd = st.tsEnd;
    const firstPacket = this.pi === 1 && !this.resumed;

    if (cfg.hasDiscardedEvents && this.curDisc !== undefined) {
      let emit: boolean;
      let count: number | undefined;
      if (firstPacket || this.prevDisc === undefined) {
        emit = this.curDisc != 0;
      } else {
        const d = sub(this.curDisc, this.prevDisc);
        emit = d != 0;
        count = Number(d);
      }
      if (emit) {
        const m: DiscardedItemsMessage = {
          type: 'discarded-events',
          stream: this.info,
          count,
          beginCycles: cfg.discardedHaveTimes ? (count === undefined ? this.curBegin : this.prevEnd) : undefined,
          endCycles: cfg.discardedHaveTimes ? this.curEnd : undefined,
        };
        this.queue.push(m);
      }
    }
    if (cfg.hasDiscardedPackets && !firstPacket && this.prevSeq !== undefined && this.curSeq !== undefined) {
      const d = sub(this.curSeq, this.prevSeq);
      if (d > 1) {
        const m: DiscardedItemsMessage = {
          type: 'discarded-packets',
          stream: this.info,
          count: Number(d) - 1,
          beginCycles: cfg.discardedHaveTimes ? this.prevEnd : undefined,
          endCycles: cfg.discardedHaveTimes ? this.curBegin : undefined,
        };
        this.queue.push(m);
      }
    }
    const begin: PacketBeginningMessage = {
      type: 'packet-beginning',
      stream: this.info,
      cycles: cfg.hasTsBegin ? this.curBegin : undefined,
      context: this.packetContext,
    };
    if (this.quirks.barectfEventBeforePacket) this.delayedBegin = begin;
    else this.queue.push(begin);
    return true;
  }

  private takeDelayedBegin(): PacketBeginningMessage {
    const b = this.delayedBegin!;
    this.delayedBegin = undefined;
    // Lower the beginning time to the first event's when the tracer wrote events before it.
    const clk = this.st.clock;
    if (b.cycles !== undefined && clk < b.cycles) return { ...b, cycles: clk };
    return b;
  }

  private endPacket(): void {
    const cfg = this.cfg!;
    const st = this.st;
    if (this.delayedBegin) this.queue.push(this.takeDelayedBegin());
    let update = true;
    const end = this.curEnd;
    if (end !== undefined) {
      if (this.quirks.lttngCrash && this.curBegin != 0 && end == 0) update = false;
      if (this.quirks.eventAfterPacket && end < st.clock) update = false;
      if (update) st.clock = end;
    }
    const m: PacketEndMessage = {
      type: 'packet-end',
      stream: this.info,
      cycles: cfg.hasTsEnd ? st.clock : undefined,
    };
    this.queue.push(m);
    this.pk = undefined;
  }

  /** Reads the event at st.pos (header and fields, effects only unless eager) and returns its decoders. */
  private eventDecoders(st: DecodeState, skipBody = true): EventClassDecoders {
    const pos = st.pos;
    st.eventId = -1;
    const header = this.header;
    if (header !== undefined) header(st);
    const id = st.eventId;
    let ecd: EventClassDecoders | undefined;
    if (typeof id === 'number' && id >= 0) {
      ecd = this.ecds[id];
      if (ecd === undefined) {
        ecd = this.dec.eventClass(this.cfg!, id);
        if (ecd === undefined) {
          throw new DecodeError(
            `no event class with ID ${id} in stream class ${this.cfg!.sc.id} (event at byte ${pos >>> 3})`,
          );
        }
        if (id < 1e6) this.ecds[id] = ecd;
      }
    } else if (id === -1) {
      const sole = this.cfg!.soleEventClass;
      if (!sole) throw new DecodeError(`event header has no event class ID and the stream class has several event classes`);
      ecd = this.dec.eventClass(this.cfg!, sole.id)!;
    } else {
      throw new DecodeError(`no event class with ID ${id} in stream class ${this.cfg!.sc.id} (event at byte ${pos >>> 3})`);
    }
    this.bodyPos = st.pos;
    // The event's time is the clock after its header (a field of the body may update the clock too).
    this.cycles = this.hasClock ? st.clock : undefined;
    if (!this.eager && skipBody) {
      ecd.skip(st);
      if (st.pos === pos) throw new DecodeError(`event at byte ${pos >>> 3} has a size of zero bits`);
    }
    return ecd;
  }

  /** Where the fields of the event eventDecoders() read last start, and its time. */
  private bodyPos = 0;
  private cycles: Num | undefined = undefined;

  private decodeEvent(): CtfEventMessage | CtfEagerEventMessage {
    const st = this.st;
    const pos = st.pos;
    const ecd = this.eventDecoders(st);
    const cycles = this.cycles;
    if (this.eager) {
      const m = new CtfEagerEventMessage(this.info, ecd.ec, cycles, this.packetContext);
      ecd.full()(st, m);
      if (st.pos === pos) throw new DecodeError(`event at byte ${pos >>> 3} has a size of zero bits`);
      return m;
    }
    return new CtfEventMessage(this.info, ecd.ec, cycles, this.packetContext, this.pk!, ecd.needsHeader ? pos : this.bodyPos, ecd);
  }
}
