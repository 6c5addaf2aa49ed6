// Event messages whose field values are decoded lazily: the fast pass (msg-iter.ts) only runs the
// effects-only decoders (positions, clock, slots, event id); the first access to a scope runs the
// values-only decoder for this event class from the event's start, then drops the packet reference.
// `bodyState()` instead hands a consumer that reads the fields itself (the pretty sink's fused printers) the
// scratch state positioned at the event's fields.
//
// Contract: behaves as an immutable graph EventMessage (ctf/ir/message.ts). Decoding the values cannot fail
// once the fast pass accepted the event (both passes read the same bits). A consumer that keeps events
// without touching their fields keeps their packet's bytes alive; call `materialize()` to detach.

import type { EventClass } from '../ir/trace-class.js';
import type { Cycles, EventMessage, StreamInfo, StructValue } from '../ir/message.js';
import type { ScopeDecoder } from './codegen.js';
import type { DecodeState, Num } from './state.js';
import type { EventClassDecoders } from './trace-decoders.js';

/** The bytes and packet-level state an event needs to decode its values later. */
export interface PacketData {
  readonly u8: Uint8Array;
  readonly dv: DataView;
  /** Content end in bits. */
  readonly end: number;
  /** Slot values after the packet header and context. */
  readonly slots: readonly Num[];
  readonly header: ScopeDecoder | undefined;
  /**
   * The state bodyStateAt() positions, one per data stream: the packet views it holds change once per packet
   * (a state shared by the trace's streams would take a young view, and call the write barrier, at every
   * event of merged streams).
   */
  readonly scratch: DecodeState;
}

/**
 * The trace's scratch state positioned at the start of the common context of the event at bit `pos` of the
 * packet `pk` (`pos`: the event's start when ecd.needsHeader, else its body's): slots of the packet and header
 * restored. Valid until the next call for an event of the same data stream.
 */
export function bodyStateAt(pk: PacketData, pos: number, ecd: EventClassDecoders): DecodeState {
  const st = pk.scratch;
  // Compared first: the scratch state is old and a packet's views young, and most events are in the packet of
  // the stream's event before (a store would call the write barrier for each event).
  if (st.u8 !== pk.u8) {
    st.u8 = pk.u8;
    st.dv = pk.dv;
  }
  st.end = pk.end;
  st.pos = pos;
  if (ecd.needsPacketSlots) {
    const slots = st.slots;
    for (let i = 0; i < pk.slots.length; i++) slots[i] = pk.slots[i]!;
  }
  if (ecd.needsHeader && pk.header) pk.header(st);
  return st;
}

export class CtfEventMessage implements EventMessage {
  readonly type = 'event' as const;
  poolSlot = 0;
  trimmed = false;
  private pk: PacketData | null;
  // Filled by the generated values decoder (`o.cc`, `o.sc`, `o.pl`) on first access.
  private cc: StructValue | undefined = undefined;
  private sc: StructValue | undefined = undefined;
  private pl: StructValue | undefined = undefined;

  constructor(
    readonly stream: StreamInfo,
    readonly ec: EventClass,
    readonly cycles: Cycles,
    readonly packetContext: StructValue | undefined,
    pk: PacketData,
    /** Bit position of the event (needsHeader) or of its body. */
    private readonly pos: number,
    private readonly ecd: EventClassDecoders,
  ) {
    this.pk = pk;
  }

  get commonContext(): StructValue | undefined {
    if (this.pk !== null) this.materialize();
    return this.cc;
  }
  get specificContext(): StructValue | undefined {
    if (this.pk !== null) this.materialize();
    return this.sc;
  }
  get payload(): StructValue | undefined {
    if (this.pk !== null) this.materialize();
    return this.pl;
  }

  /**
   * For consumers that read the fields straight from the bytes (the pretty sink's fused printers): the shared
   * scratch state positioned at the start of the event's common context (slots of the packet and header
   * restored), or null once materialized. Valid until the next call on any event of the same trace.
   */
  bodyState(): DecodeState | null {
    const pk = this.pk;
    if (pk === null) return null;
    return bodyStateAt(pk, this.pos, this.ecd);
  }

  /** Decodes all scopes now and releases the packet bytes. */
  materialize(): void {
    const st = this.bodyState();
    if (st === null) return;
    this.ecd.values()(st, this);
    this.pk = null;
  }
}

/** Event message of the eager mode: the message iterator decodes the values with the event (plain fields). */
export class CtfEagerEventMessage implements EventMessage {
  readonly type = 'event' as const;
  // Assigned by the generated full decoder right after construction.
  commonContext: StructValue | undefined = undefined;
  specificContext: StructValue | undefined = undefined;
  payload: StructValue | undefined = undefined;
  poolSlot = 0;
  trimmed = false;

  constructor(
    readonly stream: StreamInfo,
    readonly ec: EventClass,
    readonly cycles: Cycles,
    readonly packetContext: StructValue | undefined,
  ) {}

  materialize(): void {}
}
