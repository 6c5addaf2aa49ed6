// LTTng packet index files (`index/STREAM.idx`, ctf_packet_index 1.1; docs/lttng-reference.md 3.4).
//
// Contract: all fields big-endian whatever the trace byte order; a 16-byte header then one 72-byte entry per
// packet in file order. Clock values are bigints; the other values are numbers (exact below 2^53, which
// covers offsets, bit sizes and counters of real traces).

import { LttError } from '../../errors.js';
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
  out.writeBigUInt64BE(e.timestampBegin, at + 24);
  out.writeBigUInt64BE(e.timestampEnd, at + 32);
  putU64BE(out, at + 40, e.eventsDiscarded);
  putU64BE(out, at + 48, e.streamId);
  putU64BE(out, at + 56, e.streamInstanceId);
  putU64BE(out, at + 64, e.packetSeqNum);
}

/**
 * The index entry of a finished packet, read from its own header and LTTng packet context (ltt/ust's
 * sub-buffers, packets an exited app handed over to the session daemon). `packet` holds at least its content
 * and at most its packet size (not padded yet, as a sink takes it). Throws an LttError when the bytes are not an
 * LTTng packet of this writer's layout.
 */
export function packetIndexEntryOf(packet: Uint8Array): PacketIndexEntry {
  if (packet.length < 84) throw new LttError('CTF_WRITER_BAD_PACKET', `packet of ${packet.length} bytes is shorter than its header`);
  const dv = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  if (dv.getUint32(0, true) !== 0xc1fc1fc1) throw new LttError('CTF_WRITER_BAD_PACKET', 'packet does not start with the CTF magic number');
  const num = (at: number): number => Number(dv.getBigUint64(at, true));
  const entry: PacketIndexEntry = {
    streamId: dv.getUint32(20, true),
    streamInstanceId: num(24),
    timestampBegin: dv.getBigUint64(32, true),
    timestampEnd: dv.getBigUint64(40, true),
    contentSizeBits: num(48),
    packetSizeBits: num(56),
    packetSeqNum: num(64),
    eventsDiscarded: num(72),
  };
  if (packet.length * 8 > entry.packetSizeBits || packet.length * 8 < entry.contentSizeBits || entry.contentSizeBits < 84 * 8) {
    throw new LttError('CTF_WRITER_BAD_PACKET', `packet sizes (content ${entry.contentSizeBits} bits, packet ${entry.packetSizeBits} bits) do not match its ${packet.length} bytes`);
  }
  return entry;
}
