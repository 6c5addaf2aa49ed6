// LTTng packet index files (`index/STREAM.idx`, ctf_packet_index 1.1; docs/lttng-reference.md 3.4).
//
// Contract: all fields big-endian whatever the trace byte order; a 16-byte header then one 72-byte entry per
// packet in file order. Values are numbers (exact below 2^53, which covers offsets, bit sizes, clock values
// and counters of real traces).

import type { PacketIndexEntry } from './sink.js';

export const INDEX_MAGIC = 0xc1f1dcc1;
export const INDEX_MAJOR = 1;
export const INDEX_MINOR = 1;
export const INDEX_HEADER_SIZE = 16;
export const INDEX_ENTRY_SIZE = 72;

export function indexFileHeader(): Buffer {
  const b = Buffer.alloc(INDEX_HEADER_SIZE);
  b.writeUInt32BE(INDEX_MAGIC, 0);
  b.writeUInt32BE(INDEX_MAJOR, 4);
  b.writeUInt32BE(INDEX_MINOR, 8);
  b.writeUInt32BE(INDEX_ENTRY_SIZE, 12);
  return b;
}

function putU64BE(b: Buffer, at: number, v: number): void {
  const lo = v >>> 0;
  b.writeUInt32BE(((v - lo) / 4294967296) >>> 0, at);
  b.writeUInt32BE(lo, at + 4);
}

/** Encodes one entry into `out` at `at` (72 bytes). */
export function encodeIndexEntry(out: Buffer, at: number, offset: number, e: PacketIndexEntry): void {
  putU64BE(out, at, offset);
  putU64BE(out, at + 8, e.packetSizeBits);
  putU64BE(out, at + 16, e.contentSizeBits);
  putU64BE(out, at + 24, e.timestampBegin);
  putU64BE(out, at + 32, e.timestampEnd);
  putU64BE(out, at + 40, e.eventsDiscarded);
  putU64BE(out, at + 48, e.streamId);
  putU64BE(out, at + 56, e.streamInstanceId);
  putU64BE(out, at + 64, e.packetSeqNum);
}
