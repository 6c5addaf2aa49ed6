// The pretty view's reading loop for the common case (no --begin/--end, no --stream-intersection): reads the
// data streams, merges them and prints each event straight from its packet bytes, with no event message, no
// batches and no generator in between. It does what graph/muxer.ts (`eventPool`, `windows`) and the pretty
// sink's consume() do together, in the same order: the same merge order (MuxKeys, compareMessages), the same
// babeltrace2 event and packet objects (event-pool.ts: streams read ahead in BT_BATCH messages, released
// BT_BATCH at a time), the same read window recycling, errors thrown where the muxer throws them.
//
// Contract: `runFusedView(streams, windows, sink, out)` prints every message of `streams` (created with `windows`)
// through `sink` and closes the streams; it stops early when the output is closed. A stream's decoding error
// is thrown once the messages before it (in merge order) are printed. test/view/fused-view.test.ts compares
// it with the general path (reading-graph.ts + PrettySink.consume) on the corpus.

import type { Message, StreamInfo, StructValue } from '../ctf/ir/message.js';
import type { EventClass } from '../ctf/ir/trace-class.js';
import { CtfEventMessage, type PacketData } from '../ctf/decode/event-message.js';
import type { WindowPool } from '../ctf/decode/medium.js';
import { EVENT, NEED_DATA, type CtfStreamIterator } from '../ctf/decode/msg-iter.js';
import type { SkippedEvents } from '../ctf/decode/codegen.js';
import type { Num } from '../ctf/decode/state.js';
import type { EventClassDecoders } from '../ctf/decode/trace-decoders.js';
import { BT_BATCH, EventPoolModel, PacketPoolModel } from '../graph/event-pool.js';
import { checkClocks, compareMessages, MuxKeys, StreamHeap, type Key } from '../graph/muxer.js';
import type { OutputWriter } from './output-writer.js';
import type { PrettySink } from './pretty-sink.js';

/** Events printed between two looks at the read windows waiting to be recycled (and at a closed output). */
const RECYCLE_EVERY = 4096;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** `started` is called once every stream's first batch is read (their first events' decoders are compiled). */
export async function runFusedView(
  streams: readonly CtfStreamIterator[],
  windows: WindowPool,
  sink: PrettySink,
  out: OutputWriter,
  started: () => void = () => {},
): Promise<void> {
  const n = streams.length;
  const infos: StreamInfo[] = streams.map((s) => s.info);
  checkClocks(infos);
  const mk = new MuxKeys(infos);
  const pool = new EventPoolModel();
  const packets = new PacketPoolModel();

  // Each stream's queue (what babeltrace2's source handed the muxer), BT_BATCH entries from i * BT_BATCH: a
  // message, or (msg undefined) an event read by nextRaw().
  const Q = BT_BATCH;
  const qMsg: (Message | undefined)[] = new Array(n * Q).fill(undefined);
  const qEcd: (EventClassDecoders | undefined)[] = new Array(n * Q).fill(undefined);
  // Times as doubles (no boxing per event); NaN: the time in qCyclesOther (undefined, or a bigint).
  const qCycles = new Float64Array(n * Q);
  const qCyclesOther: (Num | undefined)[] = new Array(n * Q).fill(undefined);
  const cyclesAt = (k: number): Num | undefined => {
    const c = qCycles[k]!;
    return c === c ? c : qCyclesOther[k];
  };
  const qPk: (PacketData | undefined)[] = new Array(n * Q).fill(undefined);
  const qPc: (StructValue | undefined)[] = new Array(n * Q).fill(undefined);
  const qPos = new Int32Array(n * Q);
  const qSlot = new Int32Array(n * Q);
  const qLen = new Int32Array(n);
  const qHead = new Int32Array(n);
  const ended = new Uint8Array(n);
  const failures: unknown[] = new Array(n);
  const hasFailure = new Uint8Array(n);

  // Events read at once (CtfStreamIterator.readRawEvents).
  const read: SkippedEvents = { pos: new Int32Array(Q), body: new Int32Array(Q), ids: new Int32Array(Q), cycles: new Float64Array(Q) };
  // A batch being read (a stream's asynchronous medium may make it wait).
  const batching = new Uint8Array(n);

  /** Reads on into stream i's batch; false when the stream needs data (await its fill(), then call again). */
  const fillBatch = (i: number): boolean => {
    const s = streams[i]!;
    const base = i * Q;
    let len = qLen[i]!;
    try {
      while (len < Q) {
        const got = s.readRawEvents(Q - len, read);
        if (got > 0) {
          const pk = s.evPacket;
          const pc = s.evPacketContext;
          for (let j = 0; j < got; j++) {
            const k = base + len + j;
            const ecd = s.ecdOf(read.ids[j]!);
            // Compared first: entries mostly hold these already (the same packet, the same classes), and a
            // store of a young packet object into these old arrays costs a write-barrier call.
            if (qMsg[k] !== undefined) qMsg[k] = undefined;
            if (qEcd[k] !== ecd) qEcd[k] = ecd;
            qCycles[k] = read.cycles[j]!;
            if (qPk[k] !== pk) qPk[k] = pk;
            if (qPc[k] !== pc) qPc[k] = pc;
            qPos[k] = ecd.needsHeader ? read.pos[j]! : read.body[j]!;
            qSlot[k] = pool.take(ecd.ec);
          }
          len += got;
          continue;
        }
        const r = s.nextRaw();
        if (r === NEED_DATA) {
          qLen[i] = len;
          return false;
        }
        if (r === undefined) {
          ended[i] = 1;
          break;
        }
        const k = base + len;
        if (r === EVENT) {
          const ecd = s.evEcd!;
          qMsg[k] = undefined;
          qEcd[k] = ecd;
          const c = s.evCycles;
          if (typeof c === 'number') qCycles[k] = c;
          else {
            qCycles[k] = NaN;
            qCyclesOther[k] = c;
          }
          qPk[k] = s.evPacket;
          qPc[k] = s.evPacketContext;
          qPos[k] = s.evPos;
          qSlot[k] = pool.take(ecd.ec);
        } else {
          if (r.type === 'event') pool.acquire(r);
          else if (r.type === 'packet-beginning') packets.acquire(r.stream, r.context);
          qMsg[k] = r;
        }
        len++;
      }
    } catch (err) {
      failures[i] = err;
      hasFailure[i] = 1;
    }
    qLen[i] = len;
    return true;
  };

  /**
   * Moves stream i to its next queue entry, reading a whole batch when its queue is empty: 1, or 0 at the
   * stream's end, or -1 when the stream needs data (await its fill(), then call again).
   */
  const advance = (i: number): number => {
    for (;;) {
      if (batching[i] === 0) {
        if (qHead[i]! < qLen[i]!) {
          qHead[i]!++;
          return 1;
        }
        if (hasFailure[i] === 1) throw failures[i];
        if (ended[i] === 1) return 0;
        batching[i] = 1;
        qLen[i] = 0;
        qHead[i] = 0;
      }
      if (!fillBatch(i)) return -1;
      batching[i] = 0;
    }
  };
  const advanceAsync = async (i: number): Promise<number> => {
    let r = advance(i);
    while (r < 0) {
      await streams[i]!.fill();
      r = advance(i);
    }
    return r;
  };

  // The head of each stream is its queue entry at qHead - 1.
  // Keys as doubles; NaN: the key in keysOther (a bigint).
  const keys = new Float64Array(n);
  const keysOther: Key[] = new Array(n).fill(0);
  const setKey = (i: number, key: Key): void => {
    if (typeof key === 'number') keys[i] = key;
    else {
      keys[i] = NaN;
      keysOther[i] = key;
    }
  };
  const keyOf = (i: number): Key => {
    const key = keys[i]!;
    return key === key ? key : keysOther[i]!;
  };
  // The key of the message printed last, as keys[] holds them (a double in a closure variable would be boxed
  // on every store).
  const lastTsNum = new Float64Array(1).fill(-Infinity);
  let lastTsOther: Key = -Infinity;
  const lastTs = (): Key => {
    const key = lastTsNum[0]!;
    return key === key ? key : lastTsOther;
  };
  // Streams whose event keys are their cycles plus a constant (a 1 GHz clock, keys safe as doubles): computed
  // here, so that no key or time goes through a call as a (boxed) double.
  const nsBase = new Float64Array(n);
  for (let i = 0; i < n; i++) nsBase[i] = mk.fastOffset(i);
  /** Sets stream i's key to its head's. */
  const setHeadKey = (i: number): void => {
    const k = i * Q + qHead[i]! - 1;
    const m = qMsg[k];
    if (m === undefined) {
      const key = nsBase[i]! + qCycles[k]!;
      if (key <= MAX_SAFE && key >= -MAX_SAFE) {
        keys[i] = key;
        return;
      }
      setKey(i, mk.ofEvent(i, cyclesAt(k), lastTs()));
    } else setKey(i, mk.of(i, m, lastTs()));
  };
  /** The head as a message, for the muxer's tie-breaking rules (events of equal times). */
  const headMessage = (i: number): Message => {
    const k = i * Q + qHead[i]! - 1;
    return qMsg[k] ?? new CtfEventMessage(infos[i]!, qEcd[k]!.ec, cyclesAt(k), qPc[k], qPk[k]!, qPos[k]!, qEcd[k]!);
  };
  const less = (a: number, b: number): boolean => {
    let ka: Key = keys[a]!;
    let kb: Key = keys[b]!;
    if (ka !== ka || kb !== kb) {
      ka = keyOf(a);
      kb = keyOf(b);
    }
    if (ka < kb) return true;
    if (kb < ka) return false;
    const r = compareMessages(headMessage(a), headMessage(b));
    return r < 0 || (r === 0 && a < b);
  };
  const heap = new StreamHeap(less);

  // What the sink printed since it last released (babeltrace2 releases its BT_BATCH messages together).
  const printedEc: (EventClass | undefined)[] = new Array(Q).fill(undefined);
  const printedSlot = new Int32Array(Q);
  const printedEnd: (StreamInfo | undefined)[] = new Array(Q).fill(undefined);
  let printedLen = 0;
  // Messages of each stream printed (the read windows' tags count the same messages).
  const taken = new Float64Array(n);
  const index = new Map<object, number>(streams.map((s, i) => [s, i]));
  const takenBy = (owner: object): number => taken[index.get(owner) ?? -1] ?? -1;
  let sinceRecycle = 0;

  try {
    for (let i = 0; i < n; i++) {
      if ((await advanceAsync(i)) === 0) continue;
      setHeadKey(i);
      heap.push(i);
    }
    started();
    const top = heap.items;
    while (top.length > 0) {
      const i = top[0]!;
      const k = i * Q + qHead[i]! - 1;
      const m = qMsg[k];
      if (m === undefined) {
        const ecd = qEcd[k]!;
        const slot = qSlot[k]!;
        sink.writeRawEvent(infos[i]!, ecd, qCycles, k, qCyclesOther[k], slot, qPk[k]!, qPc[k], qPos[k]!);
        printedEc[printedLen] = ecd.ec;
        printedSlot[printedLen] = slot;
        printedEnd[printedLen] = undefined;
      } else {
        sink.writeMessage(m);
        printedEc[printedLen] = m.type === 'event' ? m.ec : undefined;
        printedSlot[printedLen] = m.type === 'event' ? m.poolSlot ?? 0 : 0;
        printedEnd[printedLen] = m.type === 'packet-end' ? m.stream : undefined;
      }
      taken[i]!++;
      if (++printedLen === Q) {
        for (let j = 0; j < Q; j++) {
          const ec = printedEc[j];
          if (ec !== undefined) pool.give(ec, printedSlot[j]!);
          else if (printedEnd[j] !== undefined) packets.release(printedEnd[j]!);
        }
        printedLen = 0;
      }
      lastTsNum[0] = keys[i]!;
      lastTsOther = keysOther[i]!;
      let r = advance(i);
      if (r < 0) r = await advanceAsync(i);
      if (r === 1) {
        setHeadKey(i);
        heap.topChanged();
      } else heap.pop();
      if (++sinceRecycle === RECYCLE_EVERY) {
        sinceRecycle = 0;
        if (out.closed) break;
        if (windows.pending.length > 0) {
          // The text memories copy what they keep of the packet bytes: then nothing printed holds any.
          sink.detachTexts();
          windows.recycle(takenBy);
        }
      }
    }
  } finally {
    for (const s of streams) s.close();
  }
}
