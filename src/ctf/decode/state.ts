// The mutable cursor the generated decoders work on: the packet's bytes, the bit position, the readable
// limit, the value slots (sequence lengths, variant tags) and what the field meanings recorded.
//
// Contract: one DecodeState per data stream (plus scratch ones for lazy event decoding). `setPacket()`
// points it at a packet buffer whose byte 0 is the packet's first byte (alignment is relative to it) and
// resets the per-packet role snapshots; the clock value persists across packets of the stream.

export type Num = number | bigint;

export class DecodeState {
  u8: Uint8Array = new Uint8Array(0);
  dv: DataView = new DataView(new ArrayBuffer(0));
  /** Bit position from the start of the packet. */
  pos = 0;
  /** Readable limit in bits (bytes available while reading headers, then the content size). */
  end = 0;
  slots: Num[];
  /** Current value of the stream's default clock (raw cycles). */
  clock: Num = 0;

  // Role snapshots of the current packet (undefined when the field is absent).
  streamClassId: Num | undefined;
  streamInstanceId: Num | undefined;
  packetSize: Num | undefined;
  contentSize: Num | undefined;
  tsBegin: Num | undefined;
  tsEnd: Num | undefined;
  discarded: Num | undefined;
  seqNum: Num | undefined;
  /** Last decoded event class ID of the current event header (-1: none). */
  eventId: Num = -1;

  constructor(slotCount: number) {
    this.slots = new Array<Num>(Math.max(slotCount, 1)).fill(0);
  }

  setPacket(u8: Uint8Array): void {
    this.u8 = u8;
    this.dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    this.pos = 0;
    this.end = u8.byteLength * 8;
    this.streamClassId = undefined;
    this.streamInstanceId = undefined;
    this.packetSize = undefined;
    this.contentSize = undefined;
    this.tsBegin = undefined;
    this.tsEnd = undefined;
    this.discarded = undefined;
    this.seqNum = undefined;
    this.eventId = -1;
  }
}
