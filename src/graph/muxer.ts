// filter.utils.muxer: merges the message streams of every data stream into one time-ordered sequence, in
// babeltrace2 2.0.4's exact order (muxer.c + common/muxing/muxing.c).
//
// Contract: `mux(streams)` returns MessageBatches. Messages are ordered by ns from origin (event: its time;
// packet beginning/end: the packet time when the stream class has it; discarded events/packets: the range
// beginning; stream end: the time a trimmer ended it at; anything without a time takes the last returned time). Ties are broken as
// common_muxing_compare_messages() does: trace UUID, trace name, stream class ID, stream ID, message type
// (stream beginning, packet beginning, event, discarded events, packet end, inactivity, discarded packets,
// stream end), then event class / stream properties, then port order. A binary heap holds only the head
// message of each stream. Clock classes must be compatible (first one decides: Unix epoch → all Unix
// epoch; else same UUID, or all without UUID and not Unix epoch; clock-less streams only with clock-less
// streams) or LttError('MUXER_CLOCK') is thrown before any message. A stream error is thrown after the
// batch holding the messages that preceded it has been yielded. With `eventPool`, streams are read ahead in
// babeltrace2's batches and every event gets its babeltrace2 event object (event-pool.ts) before it is yielded.

import { LttError } from '../errors.js';
import type { ClockClass } from '../ctf/ir/trace-class.js';
import { NEED_DATA, type MessageStream } from '../ctf/decode/msg-iter.js';
import type { WindowPool } from '../ctf/decode/medium.js';
import { BT_BATCH, EventPoolModel, PacketPoolModel } from './event-pool.js';
import { Trimmer, type TrimRange } from './trimmer.js';
import { cyclesToNs, type EventMessage, type Message, type MessageBatches, type StreamInfo } from '../ctf/ir/message.js';

export interface MuxOptions {
  /** Messages per yielded batch. */
  readonly batchSize?: number;
  /**
   * Model babeltrace2's event object pool (event-pool.ts) and store each event's object in its poolSlot:
   * streams are then read ahead in babeltrace2's batches. The order of the messages is the same.
   */
  readonly eventPool?: boolean;
  /**
   * With `eventPool`: trim the muxed sequence as babeltrace2's flt.utils.trimmer after the muxer does (see
   * trimmedPoolFlow). Events it drops are yielded too, flagged `trimmed`: the sink only notes their texts.
   * Reading stops at the first message after the end.
   */
  readonly trim?: TrimRange;
  /**
   * With `trim`: streams of the same traces for babeltrace2's first read with a time-of-day bound (one muxer
   * batch, then a seek to the beginning): its events take and give back event objects and set their texts.
   */
  readonly preRead?: readonly MessageStream[];
  /**
   * The streams' read windows (the streams themselves are the pool's owners, so no trimmer in between): when
   * windows are waiting, each time the consumer asks for the next batch, `release` is called (the consumer
   * then holds no bytes of the messages it took) and the windows of messages all taken are recycled.
   */
  readonly windows?: { readonly pool: WindowPool; readonly release: () => void };
  /**
   * With `eventPool`: per stream (port order), the range of a trimmer between the stream and the muxer
   * (--stream-intersection), applied here as babeltrace2's trimmer and automatic seek do: they take the
   * source's batches, drop (release) events outside the range at once and hand the rest to the muxer. The
   * dropped events are yielded too, flagged `trimmed`, before the next message out.
   */
  readonly streamRanges?: readonly TrimRange[];
  /**
   * The streams wait on a live source (a relay): before each wait, what is muxed goes out as a batch, as
   * babeltrace2's muxer returns a short batch when its upstream says AGAIN (the sink then prints and releases
   * it); with `eventPool`, a stream's batch also ends where the stream had to wait (lttng-live's short batch).
   */
  readonly live?: boolean;
}

/** Internal: the pre-read's pool and what it reports. */
interface PreReadOptions extends MuxOptions {
  readonly pool: EventPoolModel;
  /** Called once the first BT_BATCH messages are out: the muxer's array order of the streams after its seek. */
  readonly stopped: (order: number[]) => void;
}

export type Key = number | bigint;

/** Live: the stream has nothing now (its fill() resolves when it may). */
const AGAIN: unique symbol = Symbol('again');

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const WEIGHT: Record<Message['type'], number> = {
  'stream-beginning': 7,
  'packet-beginning': 6,
  event: 5,
  'discarded-events': 4,
  'packet-end': 3,
  inactivity: 2,
  'discarded-packets': 1,
  'stream-end': 0,
};

function strcmp(a: string, b: string): number {
  if (a === b) return 0;
  // Byte order of UTF-8 equals code point order; JS compares UTF-16 units, which differs only for astral
  // characters against U+E000..U+FFFF; Buffer.compare is exact.
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function cmpNum(a: number | bigint, b: number | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpOptStr(a: string | undefined, b: string | undefined): number {
  if (a !== undefined && b !== undefined) return strcmp(a, b);
  if (a === undefined && b !== undefined) return -1;
  if (a !== undefined && b === undefined) return 1;
  return 0;
}

function streamOf(m: Message): StreamInfo | undefined {
  return m.type === 'inactivity' ? undefined : m.stream;
}

function compareStreams(a: StreamInfo, b: StreamInfo): number {
  return strcmp(a.name, b.name);
}

/** common_muxing_compare_messages(): < 0 when `a` goes first. */
export function compareMessages(a: Message, b: Message): number {
  const sa = streamOf(a);
  const sb = streamOf(b);
  if (sa && !sb) return -1;
  if (!sa && sb) return 1;
  if (sa && sb) {
    const ua = sa.trace.tc.uuid;
    const ub = sb.trace.tc.uuid;
    if (ua !== undefined && ub === undefined) return -1;
    if (ua === undefined && ub !== undefined) return 1;
    if (ua !== undefined && ub !== undefined && ua !== ub) return ua < ub ? -1 : 1;
    const r = strcmp(sa.trace.name, sb.trace.name);
    if (r) return r;
    if (sa.sc.id !== sb.sc.id) return sa.sc.id < sb.sc.id ? -1 : 1;
    if (sa.id !== sb.id) return sa.id < sb.id ? -1 : 1;
  }
  if (a.type !== b.type) return WEIGHT[b.type] - WEIGHT[a.type];
  switch (a.type) {
    case 'event': {
      const eb = b as typeof a;
      if (a.ec.id !== eb.ec.id) return a.ec.id < eb.ec.id ? -1 : 1;
      let r = strcmp(a.ec.name, eb.ec.name);
      if (r) return r;
      const la = a.ec.logLevel;
      const lb = eb.ec.logLevel;
      if (la !== undefined && lb !== undefined) {
        if (la !== lb) return la - lb;
      } else if (la !== undefined) return -1;
      else if (lb !== undefined) return 1;
      r = cmpOptStr(a.ec.emfUri, eb.ec.emfUri);
      if (r) return r;
      return compareStreams(sa!, sb!);
    }
    case 'discarded-events':
    case 'discarded-packets': {
      const db = b as typeof a;
      let r = compareStreams(sa!, sb!);
      if (r) return r;
      if (a.beginCycles !== undefined && db.beginCycles !== undefined) {
        r = cmpNum(a.beginCycles, db.beginCycles);
        if (r) return r;
        if (a.endCycles !== undefined && db.endCycles !== undefined) {
          r = cmpNum(a.endCycles, db.endCycles);
          if (r) return r;
        }
      }
      if (a.count !== undefined && db.count !== undefined) return a.count - db.count;
      if (a.count !== undefined) return -1;
      if (db.count !== undefined) return 1;
      return 0;
    }
    case 'inactivity':
      return cmpNum(a.cycles, (b as typeof a).cycles);
    default:
      return compareStreams(sa!, sb!);
  }
}

const enum Expect {
  Any,
  None,
  Absolute,
  SpecUuid,
  NoUuid,
}

function describe(s: StreamInfo): string {
  return `stream "${s.name}" of trace "${s.trace.name}"`;
}

/** Clock compatibility check (muxer.c validate_new_stream_clock_class), streams in port order. */
export function checkClocks(streams: readonly StreamInfo[]): void {
  let expect = Expect.Any;
  let uuid: string | undefined;
  for (const s of streams) {
    const cc = s.sc.defaultClock;
    if (!cc) {
      if (expect === Expect.Any) expect = Expect.None;
      else if (expect !== Expect.None) {
        throw new LttError('MUXER_CLOCK', `cannot merge ${describe(s)}: it has no clock while other streams have one`);
      }
      continue;
    }
    if (expect === Expect.Any) {
      if (cc.originIsUnixEpoch) expect = Expect.Absolute;
      else if (cc.uuid !== undefined) {
        expect = Expect.SpecUuid;
        uuid = cc.uuid;
      } else expect = Expect.NoUuid;
    }
    const bad = (why: string): never => {
      throw new LttError('MUXER_CLOCK', `cannot merge ${describe(s)}: clock "${cc.name}" ${why}`);
    };
    switch (expect) {
      case Expect.None:
        bad('exists while earlier streams have no clock');
        break;
      case Expect.Absolute:
        if (!cc.originIsUnixEpoch) bad('does not have the Unix epoch as origin, unlike the first clock');
        break;
      case Expect.NoUuid:
        if (cc.originIsUnixEpoch) bad('has the Unix epoch as origin, unlike the first clock');
        if (cc.uuid !== undefined) bad(`has a UUID (${cc.uuid}) while the first clock has none`);
        break;
      case Expect.SpecUuid:
        if (cc.originIsUnixEpoch) bad('has the Unix epoch as origin, unlike the first clock');
        if (cc.uuid === undefined) bad(`has no UUID while the first clock has UUID ${uuid}`);
        if (cc.uuid !== uuid) bad(`has UUID ${cc.uuid}, not the first clock's ${uuid}`);
        break;
    }
  }
}

function offsetNs(c: ClockClass): bigint {
  return c.offsetSeconds * 1_000_000_000n + cyclesToNs(c.frequency, c.offsetCycles);
}

/** A binary heap of stream numbers, first the one whose head message goes first (`less`). */
export class StreamHeap {
  readonly items: number[] = [];
  constructor(private readonly less: (a: number, b: number) => boolean) {}

  push(i: number): void {
    const heap = this.items;
    let pos = heap.length;
    heap.push(i);
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      if (!this.less(i, heap[parent]!)) break;
      heap[pos] = heap[parent]!;
      pos = parent;
    }
    heap[pos] = i;
  }

  /** The first stream's head changed. */
  topChanged(): void {
    const heap = this.items;
    const size = heap.length;
    if (size < 2) return;
    const item = heap[0]!;
    let pos = 0;
    for (;;) {
      let c = 2 * pos + 1;
      if (c >= size) break;
      if (c + 1 < size && this.less(heap[c + 1]!, heap[c]!)) c++;
      if (!this.less(heap[c]!, item)) break;
      heap[pos] = heap[c]!;
      pos = c;
    }
    heap[pos] = item;
  }

  /** The first stream ended. */
  pop(): void {
    const heap = this.items;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.topChanged();
    }
  }
}

/**
 * Sort keys (ns from origin) of the messages of the streams `infos`, relative to a common base so that they
 * stay exact doubles (bigints beyond 2^53).
 */
export class MuxKeys {
  private readonly noClock: boolean;
  private readonly offRel: Float64Array;
  private readonly offRelBig: bigint[];
  private readonly freq: Float64Array;
  private readonly bigKeys: Uint8Array;
  private readonly hasClock: Uint8Array;

  constructor(infos: readonly StreamInfo[]) {
    const n = infos.length;
    this.noClock = n > 0 && infos.every((s) => !s.sc.defaultClock);
    let base: bigint | undefined;
    this.offRel = new Float64Array(n);
    this.offRelBig = new Array<bigint>(n).fill(0n);
    this.freq = new Float64Array(n);
    this.bigKeys = new Uint8Array(n);
    this.hasClock = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = infos[i]!.sc.defaultClock;
      if (!c) continue;
      this.hasClock[i] = 1;
      const off = offsetNs(c);
      base ??= off;
      this.offRelBig[i] = off - base;
      this.offRel[i] = Number(off - base);
      this.freq[i] = c.frequency;
      if (this.offRelBig[i]! > BigInt(MAX_SAFE) || this.offRelBig[i]! < -BigInt(MAX_SAFE)) this.bigKeys[i] = 1;
    }
  }

  /** Key of an event of stream i at `cycles` (its stream class has a clock). */
  ofCycles(i: number, cycles: number | bigint): Key {
    if (typeof cycles === 'number' && this.bigKeys[i] === 0) {
      const f = this.freq[i]!;
      const ns = f === 1e9 ? cycles : Math.trunc((1e9 * cycles) / f);
      const k = this.offRel[i]! + ns;
      if (k <= MAX_SAFE && k >= -MAX_SAFE) return k;
    }
    const k = this.offRelBig[i]! + cyclesToNs(this.freq[i]!, BigInt(cycles));
    return k <= BigInt(MAX_SAFE) && k >= -BigInt(MAX_SAFE) ? Number(k) : k;
  }

  /** Key of message m of stream i; `lastTs`: the key of the message returned last (messages without a time take it). */
  of(i: number, m: Message, lastTs: Key): Key {
    if (this.noClock || this.hasClock[i] === 0) return lastTs;
    let c: number | bigint | undefined;
    switch (m.type) {
      case 'event':
      case 'packet-beginning':
      case 'packet-end':
      case 'stream-end':
        c = m.cycles;
        break;
      case 'discarded-events':
      case 'discarded-packets':
        c = m.beginCycles;
        break;
      default:
        return lastTs;
    }
    return c === undefined ? lastTs : this.ofCycles(i, c);
  }

  /**
   * NaN, or the offset o of stream i when the key of its events at a number of cycles c is o + c where that sum
   * is safe (a 1 GHz clock, no bigint keys): a reader of many events can then add it up itself.
   */
  fastOffset(i: number): number {
    return this.noClock || this.hasClock[i] === 0 || this.bigKeys[i] === 1 || this.freq[i] !== 1e9 ? NaN : this.offRel[i]!;
  }

  /** Key of an event of stream i at `cycles` (undefined: no clock). */
  ofEvent(i: number, cycles: number | bigint | undefined, lastTs: Key): Key {
    return this.noClock || this.hasClock[i] === 0 || cycles === undefined ? lastTs : this.ofCycles(i, cycles);
  }
}

/** Merges message streams; see the module comment. */
export function mux(streams: readonly MessageStream[], opts: MuxOptions = {}): MessageBatches {
  return { [Symbol.asyncIterator]: () => (opts.preRead ? preReadThenMux(streams, opts) : muxGen(streams, opts)) };
}

// babeltrace2 with a time-of-day bound: the trimmer reads one muxer batch to learn the date, releases it, and
// seeks the muxer to the beginning, which empties its streams' queues (in its array order, ended streams
// first: theirs are empty) and re-reads every stream in its new array order (g_ptr_array_remove_index_fast
// moved streams that ended; ended ones go last). Every event decoded meanwhile wrote its texts.
async function* preReadThenMux(streams: readonly MessageStream[], opts: MuxOptions): AsyncGenerator<readonly Message[]> {
  const pool = new EventPoolModel();
  let order: number[] = streams.map((_, i) => i);
  const pre: PreReadOptions = { eventPool: true, batchSize: opts.batchSize, pool, stopped: (o) => void (order = o) };
  yield* muxGen(opts.preRead!, pre);
  yield* muxGen(order.map((i) => streams[i]!), { ...opts, preRead: undefined, pool } as PreReadOptions);
}

async function* muxGen(streams: readonly MessageStream[], opts: MuxOptions): AsyncGenerator<readonly Message[]> {
  const batchSize = opts.batchSize ?? 1024;
  const n = streams.length;
  checkClocks(streams.map((s) => s.info));

  const mk = new MuxKeys(streams.map((s) => s.info));
  let lastTs: Key = -Infinity;
  const keyOf = (i: number, m: Message): Key => mk.of(i, m, lastTs);

  const heads: Message[] = new Array(n);
  const keys: Key[] = new Array(n);

  const less = (a: number, b: number): boolean => {
    const ka = keys[a]!;
    const kb = keys[b]!;
    if (ka < kb) return true;
    if (kb < ka) return false;
    const r = compareMessages(heads[a]!, heads[b]!);
    return r < 0 || (r === 0 && a < b);
  };
  const sh = new StreamHeap(less);
  const heap = sh.items;

  /** Next message of stream i, awaiting asynchronous media only when they ask for it. */
  const read = async (i: number): Promise<Message | undefined> => {
    for (;;) {
      const m = streams[i]!.next();
      if (m !== NEED_DATA) return m;
      await streams[i]!.fill();
    }
  };

  // With the pool model, each stream is read ahead in babeltrace2's batches (event-pool.ts): its queue, the
  // queue's head, whether the stream ended, and the error that stopped it (thrown when the queue gets there,
  // where reading without the model would have met it).
  const po = opts as Partial<PreReadOptions>;
  const pool = po.pool ?? (opts.eventPool ? new EventPoolModel() : undefined);
  const trimmer = pool !== undefined && opts.trim !== undefined ? new Trimmer(opts.trim) : undefined;
  // Packet objects: followed where the messages the sink releases are all the source's (no trimmer after the
  // muxer, which drops and makes packet messages of its own; no pre-read).
  const packets = pool !== undefined && trimmer === undefined && po.pool === undefined ? new PacketPoolModel() : undefined;
  // Pre-read: every event decoded (shown to the sink as trimmed), and the muxer's array of active streams.
  const stopped = po.stopped;
  const decoded: Message[] = [];
  const active: number[] = streams.map((_, i) => i);
  const endedOrder: number[] = [];
  // Fixed arrays with a length each (emptying an array with `length = 0` drops its storage: garbage per batch).
  const queues: Message[][] = streams.map(() => new Array<Message>(BT_BATCH));
  const queueLen = new Int32Array(n);
  const queueHead = new Int32Array(n);
  const ended = new Uint8Array(n);
  const failures: unknown[] = new Array(n);
  const hasFailure = new Uint8Array(n);
  const live = opts.live === true;
  const starved = new Uint8Array(n);
  const streamTrimmers = opts.streamRanges?.map((r) => new Trimmer(r));
  const readBatch = async (i: number): Promise<void> => {
    const q = queues[i]!;
    queueLen[i] = 0;
    queueHead[i] = 0;
    try {
      const s = streams[i]!;
      while (queueLen[i]! < BT_BATCH) {
        let m = s.next();
        if (m === NEED_DATA && live) {
          if (queueLen[i] === 0) starved[i] = 1;
          break;
        }
        if (m === NEED_DATA) m = await read(i);
        if (m === undefined) {
          ended[i] = 1;
          break;
        }
        if (m.type === 'event') {
          pool!.acquire(m);
          if (stopped !== undefined) decoded.push(m);
        } else if (m.type === 'packet-beginning' && packets !== undefined) packets.acquire(m.stream, m.context);
        q[queueLen[i]!++] = m;
      }
    } catch (err) {
      failures[i] = err;
      hasFailure[i] = 1;
    }
  };
  /** A source batch taken by stream i's trimmer (trimmer.c state_trim()). */
  const raw = new Array<Message>(BT_BATCH);
  const trimmed: Message[] = [];
  // Events a stream's trimmer dropped: decoded, so their texts went into their objects before the objects
  // went back to the pool; handed to the sink flagged `trimmed` ahead of the next message out.
  const dropped: EventMessage[] = [];
  const drop = (m: EventMessage): void => {
    pool!.release(m);
    m.trimmed = true;
    dropped.push(m);
  };
  /** readBatch() through stream i's trimmer: source batches until one leaves something for the muxer. */
  const readTrimmedBatch = async (i: number, trimmer: Trimmer): Promise<void> => {
    while (trimmed.length === 0 && ended[i] === 0 && hasFailure[i] === 0) {
      await readBatch(i);
      const n = queueLen[i]!;
      for (let k = 0; k < n; k++) raw[k] = queues[i]![k]!;
      for (let k = 0; k < n; k++) {
        const m = raw[k]!;
        if (trimmer.pastEnd) {
          // The rest of the batch after the end of the range is put at once (put_messages()).
          if (m.type === 'event') drop(m);
          continue;
        }
        const before: number = trimmed.length;
        trimmer.push(m, trimmed);
        const kept = trimmed.length > before && trimmed[trimmed.length - 1] === m;
        if (m.type === 'event' && !kept) drop(m);
        // A packet end the seek drops frees its packet (one the end of the range cuts is the trimmer's to end).
        else if (m.type === 'packet-end' && !kept && !trimmer.pastEnd) packets?.release(m.stream);
      }
      if (trimmer.pastEnd) ended[i] = 1;
    }
    for (let k = 0; k < trimmed.length; k++) queues[i]![k] = trimmed[k]!;
    queueLen[i] = trimmed.length;
    queueHead[i] = 0;
    trimmed.length = 0;
  };
  const pull = async (i: number): Promise<Message | undefined | typeof AGAIN> => {
    if (pool === undefined) {
      if (!live) return read(i);
      const m = streams[i]!.next();
      return m === NEED_DATA ? AGAIN : m;
    }
    for (;;) {
      if (queueHead[i]! < queueLen[i]!) return queues[i]![queueHead[i]!++];
      if (hasFailure[i] === 1) throw failures[i];
      if (ended[i] === 1) return undefined;
      if (starved[i] === 1) {
        starved[i] = 0;
        return AGAIN;
      }
      const trimmer = streamTrimmers?.[i];
      if (trimmer === undefined) await readBatch(i);
      else await readTrimmedBatch(i, trimmer);
    }
  };
  /** The last BT_BATCH messages out: the sink releases them together before it asks for more. */
  const printed = new Array<Message>(BT_BATCH);
  let printedLen = 0;
  const sinkTook = (m: Message): void => {
    printed[printedLen++] = m;
    if (printedLen === BT_BATCH) sinkReleased();
  };
  /** The sink released the messages it was given. */
  const sinkReleased = (): void => {
    if (trimmer === undefined) {
      for (let k = 0; k < printedLen; k++) {
        const e = printed[k]!;
        if (e.type === 'event') pool!.release(e);
        else if (e.type === 'packet-end' && packets !== undefined) packets.release(e.stream);
      }
    } else {
      // The trimmer releases what it drops while it handles the muxer's batch; the sink then prints and
      // releases what it kept.
      for (let k = 0; k < printedLen; k++) {
        const e = printed[k]!;
        if (e.type === 'event' && e.trimmed === true) pool!.release(e);
      }
      for (let k = 0; k < printedLen; k++) {
        const e = printed[k]!;
        if (e.type === 'event' && e.trimmed !== true) pool!.release(e);
      }
    }
    printedLen = 0;
  };
  /** A stream ended: the muxer's array loses it (g_ptr_array_remove_index_fast). */
  const streamEnded = (i: number): void => {
    const k = active.indexOf(i);
    active[k] = active[active.length - 1]!;
    active.pop();
    endedOrder.push(i);
  };

  // Messages of each stream handed to the consumer (WindowPool tags count the same messages).
  const taken = new Float64Array(n);
  const windows = opts.windows;
  const index = new Map<object, number>(streams.map((s, i) => [s, i]));
  const takenBy = (owner: object): number => taken[index.get(owner) ?? -1] ?? -1;
  try {
    for (let i = 0; i < n; i++) {
      let m = await pull(i);
      while (m === AGAIN) {
        await streams[i]!.fill();
        m = await pull(i);
      }
      if (m === undefined) continue;
      heads[i] = m;
      keys[i] = keyOf(i, m);
      sh.push(i);
    }
    let batch: Message[] = [];
    let out = 0;
    while (heap.length > 0) {
      if (dropped.length > 0) {
        for (let k = 0; k < dropped.length; k++) batch.push(dropped[k]!);
        dropped.length = 0;
      }
      const i = heap[0]!;
      const head = heads[i]!;
      if (trimmer === undefined) batch.push(head);
      else {
        const before = batch.length;
        trimmer.push(head, batch);
        if (head.type === 'event' && (batch.length === before || batch[batch.length - 1] !== head)) {
          head.trimmed = true;
          batch.push(head);
        }
      }
      taken[i]!++;
      if (pool !== undefined) sinkTook(head);
      if (trimmer?.pastEnd === true) break;
      if (stopped !== undefined && ++out === BT_BATCH) {
        for (const k of active) {
          const h = heads[k]!;
          if (k !== i && h.type === 'event') pool!.release(h);
          for (let j = queueHead[k]!; j < queueLen[k]!; j++) {
            const e = queues[k]![j]!;
            if (e.type === 'event') pool!.release(e);
          }
        }
        for (const e of decoded) (e as EventMessage).trimmed = true;
        yield decoded;
        stopped([...active, ...endedOrder]);
        return;
      }
      lastTs = keys[i]!;
      let m;
      try {
        for (;;) {
          if (pool !== undefined) {
            m = queueHead[i]! < queueLen[i]! ? queues[i]![queueHead[i]!++] : await pull(i);
          } else {
            m = streams[i]!.next();
            if (m === NEED_DATA) m = live ? AGAIN : await read(i);
          }
          if (m !== AGAIN) break;
          if (batch.length > 0) {
            yield batch;
            batch = [];
          }
          if (pool !== undefined && printedLen > 0) {
            sinkReleased();
          }
          await streams[i]!.fill();
        }
      } catch (err) {
        yield batch;
        throw err;
      }
      if (m === undefined) {
        if (stopped !== undefined) streamEnded(i);
        sh.pop();
      } else {
        heads[i] = m;
        keys[i] = keyOf(i, m);
        sh.topChanged();
      }
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
        if (windows !== undefined && windows.pool.pending.length > 0) {
          windows.release();
          windows.pool.recycle(takenBy);
        }
      }
    }
    if (stopped !== undefined) {
      for (const e of decoded) (e as EventMessage).trimmed = true;
      yield decoded;
      stopped([...active, ...endedOrder]);
      return;
    }
    if (batch.length > 0) yield batch;
  } finally {
    for (const s of streams) s.close();
  }
}
