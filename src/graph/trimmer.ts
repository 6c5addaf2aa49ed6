// filter.utils.trimmer: keeps the messages inside [begin, end] (ns from origin, inclusive), as babeltrace2
// 2.0.4's trimmer plus the library's automatic seek do; and the per-trace stream intersection used by
// `--stream-intersection`.
//
// Contract: `trimStream(stream, range)` wraps one MessageStream (trimming is applied per stream before
// muxing; for a time-ordered merge this keeps exactly the messages the global trimmer keeps).
// `trimBatches(batches, range)` does the same on a muxed sequence. Before `begin`: events and packet
// messages are dropped; a discarded-items message whose range ends at or after `begin` is kept with its
// beginning moved to `begin` and an unknown count, and what follows it before `begin` is still dropped; the
// stream/packet beginnings of streams in progress are re-emitted (packet beginning at `begin`) before the first kept message. After `end`: the stream stops
// (open packet closed at `end`, then stream end); a discarded-items message straddling `end` is cut at
// `end` with an unknown count. Messages of clock-less streams pass through unchanged.
// `streamIntersection(trace)` returns the [max first-packet begin, min last-packet end] of a trace's
// streams from their packet index, or throws LttError('TRIMMER_RANGE') when it is empty.

import { LttError } from '../errors.js';
import type { ClockClass } from '../ctf/ir/trace-class.js';
import { NEED_DATA, type MessageStream, type NextResult } from '../ctf/decode/msg-iter.js';
import type { CtfFsTrace } from './source-ctf-fs.js';
import {
  cyclesToNs,
  type DiscardedItemsMessage,
  type Message,
  type MessageBatches,
  type PacketBeginningMessage,
  type StreamInfo,
} from '../ctf/ir/message.js';

export interface TrimRange {
  /** ns from origin; undefined = unbounded. */
  readonly beginNs?: bigint;
  readonly endNs?: bigint;
}

type Rel = number | bigint;

function toRel(x: bigint): Rel {
  return x >= -9007199254740991n && x <= 9007199254740991n ? Number(x) : x;
}

/** Converts a stream's raw clock values to ns relative to the clock offset and back. */
class ClockMath {
  readonly offsetNs: bigint;
  constructor(readonly clock: ClockClass) {
    this.offsetNs = clock.offsetSeconds * 1_000_000_000n + cyclesToNs(clock.frequency, clock.offsetCycles);
  }
  rel(cycles: number | bigint): Rel {
    if (typeof cycles === 'number') {
      return this.clock.frequency === 1e9 ? cycles : Math.trunc((1e9 * cycles) / this.clock.frequency);
    }
    return toRel(cyclesToNs(this.clock.frequency, cycles));
  }
  /** Raw value for ns from origin (bt_clock_class_clock_value_from_ns_from_origin). */
  cyclesAt(ns: bigint): number | bigint {
    const d = ns - this.offsetNs;
    if (this.clock.frequency === 1e9) return toRel(d < 0n ? 0n : d);
    const c = Math.trunc((Number(d) * this.clock.frequency) / 1e9);
    return c < 0 ? 0 : c;
  }
}

interface StreamTrim {
  readonly math: ClockMath | undefined;
  readonly lo: Rel | undefined;
  readonly hi: Rel | undefined;
  began: Message | undefined;
  openPacket: PacketBeginningMessage | undefined;
  gotFirst: boolean;
  ended: boolean;
  /** A message with a time was kept (trimmer.c seen_clock_snapshot): the stream end then has the end time. */
  seenTime: boolean;
}

export class Trimmer {
  /** A message after the end came: babeltrace2's trimmer ends every stream and reads no more. */
  pastEnd = false;
  private readonly states = new Map<StreamInfo, StreamTrim>();

  constructor(private readonly range: TrimRange) {}

  private state(s: StreamInfo): StreamTrim {
    let st = this.states.get(s);
    if (!st) {
      const clock = s.sc.defaultClock;
      const math = clock ? new ClockMath(clock) : undefined;
      st = {
        math,
        lo: math && this.range.beginNs !== undefined ? toRel(this.range.beginNs - math.offsetNs) : undefined,
        hi: math && this.range.endNs !== undefined ? toRel(this.range.endNs - math.offsetNs) : undefined,
        began: undefined,
        openPacket: undefined,
        gotFirst: this.range.beginNs === undefined || math === undefined,
        ended: false,
        seenTime: false,
      };
      this.states.set(s, st);
    }
    return st;
  }

  /** Feeds one message; appends what passes to `out`. Returns false once the stream is over. */
  push(m: Message, out: Message[]): void {
    if (m.type === 'inactivity') {
      out.push(m);
      return;
    }
    const st = this.state(m.stream);
    if (st.ended) return;
    const math = st.math;
    let t: Rel | undefined;
    let tEnd: Rel | undefined;
    if (math) {
      switch (m.type) {
        case 'event':
        case 'packet-beginning':
        case 'packet-end':
          if (m.cycles !== undefined) t = math.rel(m.cycles);
          break;
        case 'discarded-events':
        case 'discarded-packets':
          if (m.beginCycles !== undefined) t = math.rel(m.beginCycles);
          if (m.endCycles !== undefined) tEnd = math.rel(m.endCycles);
          break;
        default:
          break;
      }
    }
    if (!st.gotFirst) {
      // Automatic seek to `begin`: drop what ends before it, remember streams/packets in progress.
      let keep = false;
      let straddles = false;
      let msg: Message = m;
      if (t === undefined) {
        keep = m.type !== 'stream-beginning' && m.type !== 'stream-end' && m.type !== 'packet-beginning' && m.type !== 'packet-end';
      } else if (t >= st.lo!) {
        keep = true;
      } else if (tEnd !== undefined && tEnd >= st.lo!) {
        const d = m as DiscardedItemsMessage;
        msg = { ...d, count: undefined, beginCycles: math!.cyclesAt(this.range.beginNs!) };
        // Kept, cut at `begin`, but the seek goes on (the events of its packet may still be before `begin`).
        keep = true;
        straddles = true;
      }
      if (!keep) {
        switch (m.type) {
          case 'stream-beginning':
            st.began = m;
            break;
          case 'packet-beginning':
            st.openPacket = m;
            break;
          case 'packet-end':
            st.openPacket = undefined;
            break;
          case 'stream-end':
            st.began = undefined;
            st.ended = true;
            break;
          default:
            break;
        }
        return;
      }
      if (!straddles) st.gotFirst = true;
      if (st.began) out.push(st.began);
      let reopened: PacketBeginningMessage | undefined;
      if (st.openPacket && m.type !== 'packet-beginning') {
        const at = math ? math.cyclesAt(this.range.beginNs!) : st.openPacket.cycles;
        reopened = { ...st.openPacket, cycles: st.openPacket.cycles === undefined ? undefined : at };
        out.push(reopened);
      }
      st.began = undefined;
      st.openPacket = reopened;
      m = msg;
    }
    if (st.hi !== undefined && t !== undefined && t > st.hi) {
      // End of the range for this stream: close what is open.
      st.ended = true;
      this.pastEnd = true;
      if (st.openPacket) {
        out.push({ type: 'packet-end', stream: m.stream, cycles: math!.cyclesAt(this.range.endNs!) });
        st.openPacket = undefined;
      }
      out.push({ type: 'stream-end', stream: m.stream, cycles: st.seenTime ? math!.cyclesAt(this.range.endNs!) : undefined });
      return;
    }
    if (st.hi !== undefined && tEnd !== undefined && tEnd > st.hi) {
      m = { ...(m as DiscardedItemsMessage), count: undefined, endCycles: math!.cyclesAt(this.range.endNs!) };
    }
    if (m.type === 'packet-beginning') st.openPacket = m;
    else if (m.type === 'packet-end') st.openPacket = undefined;
    else if (m.type === 'stream-end') st.ended = true;
    if (t !== undefined) st.seenTime = true;
    out.push(m);
  }
}

/** Trims one message stream (see the module comment). */
export function trimStream(stream: MessageStream, range: TrimRange): MessageStream {
  const trimmer = new Trimmer(range);
  const out: Message[] = [];
  let oi = 0;
  let done = false;
  return {
    info: stream.info,
    next(): NextResult {
      for (;;) {
        if (oi < out.length) {
          const m = out[oi++]!;
          if (oi === out.length) {
            out.length = 0;
            oi = 0;
          }
          return m;
        }
        if (done) return undefined;
        const m = stream.next();
        if (m === NEED_DATA) return m;
        if (m === undefined) {
          done = true;
          continue;
        }
        trimmer.push(m, out);
        if (out.length > 0 && out[out.length - 1]!.type === 'stream-end' && m.type !== 'stream-end') {
          // The range ended: stop reading this stream.
          done = true;
          stream.close();
        }
      }
    },
    fill: () => stream.fill(),
    close: () => stream.close(),
  };
}

/** Trims a muxed sequence of batches (see the module comment). */
export function trimBatches(batches: MessageBatches, range: TrimRange): MessageBatches {
  return {
    async *[Symbol.asyncIterator]() {
      const trimmer = new Trimmer(range);
      for await (const batch of batches) {
        const out: Message[] = [];
        for (const m of batch) trimmer.push(m, out);
        if (out.length > 0) yield out;
      }
    },
  };
}

/** The time range where all streams of a trace have packets (babeltrace.trace-infos). */
export function streamIntersection(trace: CtfFsTrace): { beginNs: bigint; endNs: bigint } {
  let begin: bigint | undefined;
  let end: bigint | undefined;
  for (const g of trace.groups) {
    const first = g.index[0];
    const last = g.index[g.index.length - 1];
    if (!first || !last || first.beginNs === undefined || last.endNs === undefined) {
      throw new LttError(
        'TRIMMER_RANGE',
        `trace "${trace.info.name}" (${trace.info.path}): stream "${g.files[0]?.path}" has no packet times; cannot compute the stream intersection`,
      );
    }
    if (begin === undefined || first.beginNs > begin) begin = first.beginNs;
    if (end === undefined || last.endNs < end) end = last.endNs;
  }
  if (begin === undefined || end === undefined) {
    throw new LttError('TRIMMER_RANGE', `trace "${trace.info.name}" (${trace.info.path}) has no streams: no stream intersection`);
  }
  if (begin > end) {
    throw new LttError('TRIMMER_RANGE', `trace "${trace.info.name}" (${trace.info.path}): its streams have no time in common (empty stream intersection)`);
  }
  return { beginNs: begin, endNs: end };
}
