// Per trace class: the compiled decoders (generated on first use, then cached) and the stream-class
// configuration babeltrace2 derives from the packet context (which packet times exist, whether discarded
// events/packets are tracked), plus the packet-property reader used to index and group stream files.
//
// Contract: `decodersFor(tc)` returns the same TraceDecoders for the same TraceClass object. Packet
// header/context decoding applies field meanings (magic check, sizes, ids, times); `readPacketProps()`
// returns what a packet's header and context say, or throws DecodeError.

import type { EventClass, FieldClass, StreamClass, StructFieldClass, TraceClass } from '../ir/trace-class.js';
import { DecodeError } from './bits.js';
import { compileScope, compileScopes, compileSkipLoop, type ScopeDecoder, type SkipLoop } from './codegen.js';
import { DecodeState, type Num } from './state.js';

/** Event classes up to which a stream class's events are skipped in one generated function (skipLoop()). */
const SKIP_LOOP_CLASSES = 64;

export interface StreamClassConfig {
  readonly sc: StreamClass;
  readonly hasTsBegin: boolean;
  readonly hasTsEnd: boolean;
  readonly hasDiscardedEvents: boolean;
  readonly hasDiscardedPackets: boolean;
  /** Discarded events/packets messages carry a time range (needs both packet times). */
  readonly discardedHaveTimes: boolean;
  /** Packet context decoder (effects + values; value undefined when the scope shows nothing). */
  readonly packetContext: ScopeDecoder | undefined;
  /** Event header decoder (effects only). */
  readonly eventHeader: ScopeDecoder | undefined;
  /** The only event class when the header has no `id`. */
  readonly soleEventClass: EventClass | undefined;
}

export interface EventClassDecoders {
  readonly ec: EventClass;
  /** The body reads slots stored by the event header: the lazy pass must re-run the header. */
  readonly needsHeader: boolean;
  /** The body reads slots stored by the packet header/context: the lazy pass restores them. */
  readonly needsPacketSlots: boolean;
  /** Common context + specific context + payload, effects only (positions, slots, clock). */
  readonly skip: ScopeDecoder;
  /** Same scopes, values only, stored into the message (`o.cc`, `o.sc`, `o.pl`). Compiled on demand. */
  values(): ScopeDecoder;
  /** Effects and values in one pass (eager mode), stored as commonContext/specificContext/payload. */
  full(): ScopeDecoder;
}

export interface PacketProps {
  readonly streamClassId: number;
  readonly streamInstanceId: Num | undefined;
  /** Packet size in bytes (undefined: the packet extends to the end of the file). */
  readonly packetSize: number | undefined;
  /** Content size in bits (undefined: whole packet). */
  readonly contentSizeBits: number | undefined;
  readonly tsBegin: Num | undefined;
  readonly tsEnd: Num | undefined;
  readonly discarded: Num | undefined;
  readonly seqNum: Num | undefined;
}

/** Slots a field class tree stores (storeSlot) or reads (lengths, tags, selectors). */
function collectSlots(fc: FieldClass | undefined, stored: Set<number>, read: Set<number>): void {
  if (!fc) return;
  switch (fc.kind) {
    case 'int':
    case 'varint':
      if (fc.storeSlot !== undefined) stored.add(fc.storeSlot);
      break;
    case 'enum':
      if (fc.storeSlot !== undefined) stored.add(fc.storeSlot);
      if (fc.container.storeSlot !== undefined) stored.add(fc.container.storeSlot);
      break;
    case 'string':
    case 'blob':
      if (fc.lengthSlot !== undefined) read.add(fc.lengthSlot);
      break;
    case 'struct':
      for (const m of fc.members) collectSlots(m.fc, stored, read);
      break;
    case 'array':
      collectSlots(fc.element, stored, read);
      break;
    case 'sequence':
      read.add(fc.lengthSlot);
      collectSlots(fc.element, stored, read);
      break;
    case 'variant':
      read.add(fc.tagSlot);
      for (const o of fc.options) collectSlots(o.fc, stored, read);
      break;
    case 'optional':
      read.add(fc.selectorSlot);
      collectSlots(fc.fc, stored, read);
      break;
    default:
      break;
  }
}

function intersects(a: Set<number>, b: Set<number>): boolean {
  for (const x of a) if (b.has(x)) return true;
  return false;
}

function directRole(fc: StructFieldClass | undefined, role: string): boolean {
  if (!fc) return false;
  return fc.members.some((m) => {
    const f = m.fc;
    if (f.kind === 'int') return f.role === role;
    if (f.kind === 'enum') return f.container.role === role;
    if (f.kind === 'varint') return f.role === role;
    return false;
  });
}

export class TraceDecoders {
  readonly packetHeader: ScopeDecoder | undefined;
  private readonly configs = new Map<number, StreamClassConfig>();
  private readonly events = new Map<StreamClass, Map<number, EventClassDecoders>>();

  constructor(readonly tc: TraceClass) {
    this.packetHeader = tc.packetHeader ? compileScope(tc.packetHeader, { effects: true, values: false }) : undefined;
  }

  streamClass(id: number): StreamClassConfig {
    let cfg = this.configs.get(id);
    if (cfg) return cfg;
    const sc = this.tc.streamClasses.get(id);
    if (!sc) throw new DecodeError(`no stream class with ID ${id} in the metadata`);
    const pc = sc.packetContext;
    const hasTsBegin = directRole(pc, 'packet-begin-ts');
    const hasTsEnd = directRole(pc, 'packet-end-ts');
    const hasDiscardedEvents = directRole(pc, 'discarded-events');
    const hasDiscardedPackets = directRole(pc, 'packet-seq-num');
    cfg = {
      sc,
      hasTsBegin,
      hasTsEnd,
      hasDiscardedEvents,
      hasDiscardedPackets,
      discardedHaveTimes: hasTsBegin && hasTsEnd,
      packetContext: pc ? compileScope(pc, { effects: true, values: true }) : undefined,
      eventHeader: sc.eventHeader ? compileScope(sc.eventHeader, { effects: true, values: false }) : undefined,
      soleEventClass: sc.eventClasses.size === 1 ? [...sc.eventClasses.values()][0] : undefined,
    };
    this.configs.set(id, cfg);
    return cfg;
  }

  eventClass(cfg: StreamClassConfig, id: number): EventClassDecoders | undefined {
    let m = this.events.get(cfg.sc);
    if (!m) {
      m = new Map();
      this.events.set(cfg.sc, m);
    }
    let d = m.get(id);
    if (d) return d;
    const ec = cfg.sc.eventClasses.get(id);
    if (!ec) return undefined;
    const scopes = [cfg.sc.eventCommonContext, ec.specificContext, ec.payload] as const;
    let values: ScopeDecoder | undefined;
    let full: ScopeDecoder | undefined;
    const bodyStored = new Set<number>();
    const bodyRead = new Set<number>();
    for (const sc of scopes) collectSlots(sc, bodyStored, bodyRead);
    const headerStored = new Set<number>();
    collectSlots(cfg.sc.eventHeader, headerStored, new Set());
    const packetStored = new Set<number>();
    collectSlots(this.tc.packetHeader, packetStored, new Set());
    collectSlots(cfg.sc.packetContext, packetStored, new Set());
    d = {
      ec,
      needsHeader: intersects(bodyRead, headerStored),
      needsPacketSlots: intersects(bodyRead, packetStored),
      skip: compileScopes(scopes, { effects: true, values: false }),
      values: () => (values ??= compileScopes(scopes, { effects: false, values: true })),
      full: () =>
        (full ??= compileScopes(scopes, { effects: true, values: true }, ['commonContext', 'specificContext', 'payload'])),
    };
    m.set(id, d);
    return d;
  }

  private readonly skipLoops = [new Map<StreamClassConfig, SkipLoop | null>(), new Map<StreamClassConfig, SkipLoop | null>()];

  /**
   * The events of a packet of this stream class read in one generated loop (compileSkipLoop, recording each
   * event when `record`), for readers that make no event messages; null when the stream class has too many
   * event classes for one function.
   */
  skipLoop(cfg: StreamClassConfig, record = false): SkipLoop | null {
    const cache = this.skipLoops[record ? 1 : 0]!;
    let loop = cache.get(cfg);
    if (loop !== undefined) return loop;
    const classes = cfg.sc.eventClasses;
    loop = null;
    // Recorded IDs are 32-bit (and ecd caches are arrays).
    if (classes.size <= SKIP_LOOP_CLASSES && (!record || [...classes.keys()].every((id) => id >= 0 && id < 1e6))) {
      const bodies = new Map([...classes].map(([id, ec]) => [id, [cfg.sc.eventCommonContext, ec.specificContext, ec.payload]] as const));
      loop = compileSkipLoop(cfg.sc.eventHeader, bodies, cfg.soleEventClass?.id, record);
    }
    cache.set(cfg, loop);
    return loop;
  }

  /**
   * Decodes the packet header and context of the packet starting at byte 0 of `u8` into `st` (which
   * keeps the positions and role snapshots) and returns the packet context value.
   */
  decodePacketHeaderContext(st: DecodeState, u8: Uint8Array): { cfg: StreamClassConfig; context: unknown } {
    st.setPacket(u8);
    if (this.packetHeader) this.packetHeader(st);
    let scId = 0;
    if (st.streamClassId !== undefined) {
      if (typeof st.streamClassId !== 'number') throw new DecodeError(`stream class ID ${st.streamClassId} out of range`);
      scId = st.streamClassId;
    } else if (this.tc.streamClasses.size === 1) {
      scId = [...this.tc.streamClasses.keys()][0]!;
    }
    const cfg = this.streamClass(scId);
    const context = cfg.packetContext ? cfg.packetContext(st) : undefined;
    return { cfg, context };
  }

  /** What the header and context of a packet say (for indexing and grouping stream files). */
  readPacketProps(u8: Uint8Array): PacketProps {
    const st = new DecodeState(this.tc.slotCount);
    const { cfg } = this.decodePacketHeaderContext(st, u8);
    const ps = st.packetSize;
    const cs = st.contentSize;
    return {
      streamClassId: cfg.sc.id,
      streamInstanceId: st.streamInstanceId,
      packetSize: ps === undefined ? undefined : packetBytes(ps),
      contentSizeBits: cs === undefined ? undefined : Number(cs),
      tsBegin: st.tsBegin,
      tsEnd: st.tsEnd,
      discarded: st.discarded,
      seqNum: st.seqNum,
    };
  }
}

/**
 * A packet size in bits as bytes, compared exactly (sizes of 2^53 bits and more are bigints). Sizes that no
 * number holds exactly are larger than any file: refused here with the exact byte count.
 */
export function packetBytes(bits: number | bigint): number {
  if (typeof bits === 'number') {
    if (bits % 8 !== 0) throw new DecodeError(`packet size ${bits} bits is not a whole number of bytes`);
    return bits / 8;
  }
  if (bits % 8n !== 0n) throw new DecodeError(`packet size ${bits} bits is not a whole number of bytes`);
  const bytes = bits / 8n;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError(`packet size (${bytes} bytes) goes past the end of the file`);
  return Number(bytes);
}

const cache = new WeakMap<TraceClass, TraceDecoders>();

export function decodersFor(tc: TraceClass): TraceDecoders {
  let d = cache.get(tc);
  if (!d) {
    d = new TraceDecoders(tc);
    cache.set(tc, d);
  }
  return d;
}
