// LTTng packet index files (`index/<stream>.idx`, lttng-tools ctf-index.h): a 16-byte header then one
// fixed-size entry per packet, all big-endian whatever the trace's byte order. Version 1.0 entries stop
// after `stream_id` (56 bytes); 1.1 adds `stream_instance_id` and `packet_seq_num` (72 bytes); larger
// `packet_index_len` values are accepted (later minors append fields).
//
// Contract: `parseIndexFile(bytes, path)` returns the entries or throws LttError('CTF_INDEX') with a
// one-line reason (babeltrace2 then ignores the index and scans the stream; the CTF source does the same).
// Sizes are converted to bytes; 64-bit values are numbers below 2^53 and bigints otherwise.

import { LttError } from '../errors.js';

export const CTF_INDEX_MAGIC = 0xc1f1dcc1;
export const CTF_INDEX_1_0_SIZE = 56;
export const CTF_INDEX_1_1_SIZE = 72;

export interface IndexEntry {
  /** Byte offset of the packet in the data stream file. */
  readonly offset: number;
  /** Packet size in bytes. */
  readonly packetSize: number;
  /** Content size in bits. */
  readonly contentSizeBits: number | bigint;
  readonly tsBegin: number | bigint;
  readonly tsEnd: number | bigint;
  readonly eventsDiscarded: number | bigint;
  readonly streamClassId: number | bigint;
  /** 1.1+ only. */
  readonly streamInstanceId?: number | bigint;
  /** 1.1+ only. */
  readonly seqNum?: number | bigint;
}

export interface IndexFile {
  readonly major: number;
  readonly minor: number;
  readonly entries: IndexEntry[];
}

function u64(dv: DataView, off: number): number | bigint {
  const hi = dv.getUint32(off, false);
  const lo = dv.getUint32(off + 4, false);
  return hi < 0x200000 ? hi * 4294967296 + lo : (BigInt(hi) << 32n) | BigInt(lo);
}

export function parseIndexFile(bytes: Uint8Array, path: string): IndexFile {
  const fail = (why: string): never => {
    throw new LttError('CTF_INDEX', `${path}: invalid LTTng index file: ${why}`);
  };
  if (bytes.byteLength < 16) fail(`file size (${bytes.byteLength} bytes) < header size (16 bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0, false);
  if (magic !== CTF_INDEX_MAGIC) fail(`bad magic 0x${magic.toString(16)}`);
  const major = dv.getUint32(4, false);
  const minor = dv.getUint32(8, false);
  if (major !== 1) fail(`unknown version ${major}.${minor}`);
  const entryLen = dv.getUint32(12, false);
  if (entryLen < CTF_INDEX_1_0_SIZE) fail(`packet_index_len ${entryLen} < ${CTF_INDEX_1_0_SIZE}`);
  const body = bytes.byteLength - 16;
  if (body % entryLen !== 0) fail(`size after the header (${body} bytes) is not a multiple of the entry size (${entryLen})`);
  const count = body / entryLen;
  const entries: IndexEntry[] = new Array(count);
  let prevOffset = -1;
  for (let i = 0; i < count; i++) {
    const o = 16 + i * entryLen;
    const offset = u64(dv, o);
    const packetBits = u64(dv, o + 8);
    if (typeof offset !== 'number' || typeof packetBits !== 'number') fail(`entry ${i}: offset or size out of range`);
    const packetSizeBits = packetBits as number;
    if (packetSizeBits % 8 !== 0) fail(`entry ${i}: packet size ${packetSizeBits} is not a multiple of 8 bits`);
    if ((offset as number) < prevOffset) fail(`entry ${i}: non-monotonic packet offset ${offset}`);
    prevOffset = offset as number;
    const tsBegin = u64(dv, o + 24);
    const tsEnd = u64(dv, o + 32);
    if (tsEnd < tsBegin) fail(`entry ${i}: packet time bounds begin ${tsBegin} > end ${tsEnd}`);
    const hasV11 = minor >= 1 && entryLen >= CTF_INDEX_1_1_SIZE;
    entries[i] = {
      offset: offset as number,
      packetSize: packetSizeBits / 8,
      contentSizeBits: u64(dv, o + 16),
      tsBegin,
      tsEnd,
      eventsDiscarded: u64(dv, o + 40),
      streamClassId: u64(dv, o + 48),
      ...(hasV11 ? { streamInstanceId: u64(dv, o + 56), seqNum: u64(dv, o + 64) } : {}),
    };
  }
  return { major, minor, entries };
}

/** Encodes an index file (version 1.1); used by the consumer's file sink and by tests. */
export function encodeIndexFile(entries: readonly IndexEntry[]): Uint8Array {
  const out = new Uint8Array(16 + entries.length * CTF_INDEX_1_1_SIZE);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, CTF_INDEX_MAGIC, false);
  dv.setUint32(4, 1, false);
  dv.setUint32(8, 1, false);
  dv.setUint32(12, CTF_INDEX_1_1_SIZE, false);
  const put = (off: number, v: number | bigint): void => dv.setBigUint64(off, BigInt(v), false);
  entries.forEach((e, i) => {
    const o = 16 + i * CTF_INDEX_1_1_SIZE;
    put(o, e.offset);
    put(o + 8, e.packetSize * 8);
    put(o + 16, e.contentSizeBits);
    put(o + 24, e.tsBegin);
    put(o + 32, e.tsEnd);
    put(o + 40, e.eventsDiscarded);
    put(o + 48, e.streamClassId);
    put(o + 56, e.streamInstanceId ?? 0);
    put(o + 64, e.seqNum ?? 0);
  });
  return out;
}
