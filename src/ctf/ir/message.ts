// Messages that flow through the reading graph (sources -> filters -> sinks), after babeltrace2's message kinds.
//
// Contract: a component's output is an AsyncIterable<readonly Message[]> of batches. Inside a batch everything is
// synchronous (no await per event); a source yields a partial batch before it throws, so sinks print what
// decoded before the damage. Messages and their field values are immutable once yielded. Timestamps are raw
// clock values ("cycles") of the stream's default clock; `clockNs()` turns them into ns from the clock origin.
// The CTF source's event messages decode their scopes lazily (getters, ctf/decode/event-message.ts): reading
// only names and times costs no field decoding; an event kept without reading its fields keeps its packet's
// bytes alive until read.

import type { ClockClass, EventClass, StreamClass, TraceClass } from './trace-class.js';

/** A decoded field value. Integers are numbers when they fit in 2^53, bigints otherwise. */
export type FieldValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | Uint8Array
  | VariantValue
  | FieldValue[]
  | StructValue;

export interface StructValue {
  [member: string]: FieldValue;
}

/** The selected option of a variant (index into VariantFieldClass.options) and its value. */
export class VariantValue {
  constructor(
    readonly option: number,
    readonly value: FieldValue,
  ) {}
}

/** One trace (one metadata) as a source found it. */
export interface TraceInfo {
  readonly tc: TraceClass;
  /** Trace name as babeltrace2 computes it (hostname + "/" + relative path); "" when none. */
  readonly name: string;
  /** The trace has no name at all (lttng-live's traces): the pretty sink's `trace` field is then left out. */
  readonly unnamed?: boolean;
  /** Folder of the trace. */
  readonly path: string;
}

export interface StreamInfo {
  readonly trace: TraceInfo;
  readonly sc: StreamClass;
  /** Data stream ID: stream_instance_id, else a counter in path order. */
  readonly id: number;
  /** Absolute path of the stream's first file (appears in discarded-items warnings). */
  readonly name: string;
}

/** Clock value of a stream's default clock; undefined when the stream class has no clock. */
export type Cycles = number | bigint | undefined;

export interface StreamBeginningMessage {
  readonly type: 'stream-beginning';
  readonly stream: StreamInfo;
}
export interface StreamEndMessage {
  readonly type: 'stream-end';
  readonly stream: StreamInfo;
  /** Set when a trimmer ended the stream at its range's end (the muxer orders it by this time). */
  readonly cycles?: Cycles;
}
export interface PacketBeginningMessage {
  readonly type: 'packet-beginning';
  readonly stream: StreamInfo;
  readonly cycles: Cycles;
  readonly context?: StructValue;
}
export interface PacketEndMessage {
  readonly type: 'packet-end';
  readonly stream: StreamInfo;
  readonly cycles: Cycles;
}
export interface EventMessage {
  readonly type: 'event';
  readonly stream: StreamInfo;
  readonly ec: EventClass;
  readonly cycles: Cycles;
  /** Scopes as babeltrace2 shows them: undefined when absent or entirely hidden. */
  readonly packetContext?: StructValue;
  readonly commonContext?: StructValue;
  readonly specificContext?: StructValue;
  readonly payload?: StructValue;
  /**
   * babeltrace2's event object this event would occupy (graph/event-pool.ts), set once by the muxer before the
   * event is yielded when it models the pool; the pretty sink's text fields depend on it.
   */
  poolSlot?: number;
  /**
   * Dropped by a trimmer after the pool model gave it an event object (muxer `trim`, `streamRanges`): a sink
   * that follows the objects' texts notes them and prints nothing.
   */
  trimmed?: boolean;
}
export interface DiscardedItemsMessage {
  readonly type: 'discarded-events' | 'discarded-packets';
  readonly stream: StreamInfo;
  /** undefined: unknown count ("may have discarded"). */
  readonly count?: number;
  /** Range [begin, end] in cycles; both undefined when the time range is unknown. */
  readonly beginCycles: Cycles;
  readonly endCycles: Cycles;
}
export interface InactivityMessage {
  readonly type: 'inactivity';
  readonly clock: ClockClass;
  readonly cycles: number | bigint;
}

export type Message =
  | StreamBeginningMessage
  | StreamEndMessage
  | PacketBeginningMessage
  | PacketEndMessage
  | EventMessage
  | DiscardedItemsMessage
  | InactivityMessage;

export type MessageBatches = AsyncIterable<readonly Message[]>;

/** Stream class of a message's stream, when it has one. */
export function streamClassOf(msg: Message): StreamClass | undefined {
  return msg.type === 'inactivity' ? undefined : msg.stream.sc;
}

/** ns from the clock's origin, exact (bigint), with babeltrace2's conversion for non-1 GHz clocks. */
export function clockNs(clock: ClockClass, cycles: number | bigint): bigint {
  const c = BigInt(cycles);
  const offset = clock.offsetSeconds * 1_000_000_000n + cyclesToNs(clock.frequency, clock.offsetCycles);
  return offset + cyclesToNs(clock.frequency, c);
}

/** babeltrace2: ns = c if 1 GHz, else (uint64)((1e9 * (double)c) / (double)freq). */
export function cyclesToNs(frequency: number, cycles: bigint): bigint {
  if (frequency === 1_000_000_000) return cycles;
  return BigInt(Math.trunc((1e9 * Number(cycles)) / frequency));
}
