// babeltrace2 2.0.4's event objects, as the pretty sink sees them: every event class keeps a LIFO pool of
// event objects (object-pool.h); an event message takes the last one recycled (or a new one) when the CTF
// source decodes it, and gives it back when the sink has printed it. The objects keep their fields, and a
// string field that is cleared and then gets no bytes (an empty string, a zero-length text sequence, a text
// array starting with NUL) still holds the last non-empty text of that object (clear_string_field() sets the
// length to 0 but not the first byte): the pretty sink prints that text. Which object an event gets depends
// on when the graph decodes and releases events, which the muxer models (muxer.ts, `eventPool`):
//   - source.ctf.fs hands out batches of BT_BATCH messages per data stream; the muxer asks a stream for its
//     next batch when the stream's queue is empty (all streams, in port order, at the first message);
//   - the sink asks the muxer for BT_BATCH messages at a time and releases each after printing it.
//   - with --begin/--end, the trimmer sits between the muxer and the sink and reads from the beginning (with a
//     time-of-day bound, one batch first, then a seek back): the muxer then trims after the model (`trim`,
//     `preRead`); the trimmer releases what it drops before the sink releases what it kept.
//   - with --stream-intersection, a trimmer sits between each stream and the muxer: it takes the stream's
//     batches, releases at once the events outside the range and hands the rest on (muxer.ts `streamRanges`);
//     a stream it ends gets the range's end time, and the muxer hands that stream end on at that time.
//   - an event a trimmer drops was decoded all the same: its texts are in its object when the object goes
//     back to the pool, so the sink is shown it (EventMessage.trimmed) to note them.
// Packets are objects too, pooled per stream (packet_pool): a packet object is taken when the source reads the
// packet's header and given back when its packet end message has been printed; its context's string fields
// keep their last non-empty text the same way (PacketPoolModel).
//
// Contract: `acquire(m)` at the model's decode time stores the object's index (per event class) in
// m.poolSlot; `release(m)` at its print time returns it.

import type { EventClass } from '../ctf/ir/trace-class.js';
import type { EventMessage, StreamInfo, StructValue } from '../ctf/ir/message.js';

/** Messages per `next` call in babeltrace2 2.0.4 (MSG_BATCH_SIZE, lib/graph/iterator.c). */
export const BT_BATCH = 15;

interface Pool {
  readonly free: number[];
  made: number;
}

/** Pools looked up through a small direct-mapped cache on the event class ID (a Map lookup per event costs). */
const CACHE = 64;

export class EventPoolModel {
  private readonly pools = new Map<EventClass, Pool>();
  private readonly cacheEc: (EventClass | undefined)[] = new Array<EventClass | undefined>(CACHE).fill(undefined);
  private readonly cachePool: (Pool | undefined)[] = new Array<Pool | undefined>(CACHE).fill(undefined);

  private pool(ec: EventClass): Pool {
    const h = ec.id & (CACHE - 1);
    if (this.cacheEc[h] === ec) return this.cachePool[h]!;
    let p = this.pools.get(ec);
    if (!p) {
      p = { free: [], made: 0 };
      this.pools.set(ec, p);
    }
    this.cacheEc[h] = ec;
    this.cachePool[h] = p;
    return p;
  }

  acquire(m: EventMessage): void {
    m.poolSlot = this.take(m.ec);
  }

  release(m: EventMessage): void {
    this.give(m.ec, m.poolSlot ?? 0);
  }

  /** An object of event class `ec` for an event decoded now: its slot. */
  take(ec: EventClass): number {
    const p = this.pool(ec);
    return p.free.length > 0 ? p.free.pop()! : p.made++;
  }

  /** The event holding object `slot` of `ec` was printed. */
  give(ec: EventClass, slot: number): void {
    this.pool(ec).free.push(slot);
  }
}

/**
 * babeltrace2's packet objects per stream: `acquire(stream, context)` when a packet is read gives it the last
 * free object of its stream (or a new one) and sets the context's empty texts (top-level members) to what that
 * object last held; `release(stream)` gives back the stream's oldest packet still held.
 */
export class PacketPoolModel {
  private readonly pools = new Map<StreamInfo, { free: Map<string, string>[]; held: Map<string, string>[] }>();

  acquire(stream: StreamInfo, context: StructValue | undefined): void {
    let p = this.pools.get(stream);
    if (!p) this.pools.set(stream, (p = { free: [], held: [] }));
    const texts = p.free.pop() ?? new Map<string, string>();
    p.held.push(texts);
    if (context === undefined) return;
    for (const name of Object.keys(context)) {
      const v = context[name];
      if (typeof v !== 'string') continue;
      if (v === '') {
        const kept = texts.get(name);
        if (kept !== undefined) context[name] = kept;
      } else texts.set(name, v);
    }
  }

  release(stream: StreamInfo): void {
    const p = this.pools.get(stream);
    const texts = p?.held.shift();
    if (texts !== undefined) p!.free.push(texts);
  }
}
