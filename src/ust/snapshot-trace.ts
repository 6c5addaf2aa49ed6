// One snapshot of an app's trace written as an ordinary CTF trace folder: the trace's TSDL preamble, the
// declarations and the held packets of each of its channels. Written by the app's agent ('snapshot') and by the
// session daemon for apps that exited and handed their packets over (src/sessiond/ust/exited-app-buffers.ts).

import { FileTraceSink } from '../ctf/writer/file-sink.js';
import type { FileOwner } from '../ctf/writer/owned-output.js';
import { LttError } from '../errors.js';
import {
  PH_CONTENT_SIZE, PH_EVENTS_DISCARDED, PH_PACKET_SIZE, PH_SEQ_NUM, PH_SIZE, PH_STREAM_ID, PH_STREAM_INSTANCE_ID, PH_TS_BEGIN,
  PH_TS_END,
} from './ring-layout.js';

/** What one channel of an app's trace holds: its declarations and, per stream, its packets oldest first. */
export interface SnapshotPart {
  readonly declarations: string;
  readonly streams: ReadonlyArray<{ readonly name: string; readonly packets: readonly Buffer[] }>;
}

/**
 * Whether `p` is one whole packet as the writers keep them (header complete, packet size its length, content
 * within it) of at most `maxBytes`: what the daemon accepts from an app before writing it.
 */
export function isWholePacket(p: Buffer, maxBytes: number): boolean {
  if (p.length < PH_SIZE || p.length > maxBytes) return false;
  const packetBits = p.readBigUInt64LE(PH_PACKET_SIZE);
  const contentBits = p.readBigUInt64LE(PH_CONTENT_SIZE);
  return packetBits === BigInt(p.length * 8) && contentBits >= BigInt(PH_SIZE * 8) && contentBits <= packetBits;
}

/**
 * Writes `parts` (the channels of one trace) as a trace in `dir`, each stream its newest packets within an
 * equal share of `maxBytes` (0: no limit; a share below one packet is LttError MAX_SIZE_INVALID, nothing
 * written). `owner`: whose trace it is when root writes for another user (owned-output.ts).
 */
export async function writeSnapshotTrace(
  dir: string,
  preamble: string,
  parts: readonly SnapshotPart[],
  maxBytes: number,
  owner?: FileOwner,
): Promise<{ bytes: number; packets: number }> {
  const streams = parts.flatMap((p) => p.streams).filter((s) => s.packets.length > 0);
  const share = maxBytes > 0 && streams.length > 0 ? Math.floor(maxBytes / streams.length) : Infinity;
  const largest = Math.max(0, ...streams.map((s) => s.packets[s.packets.length - 1]!.length));
  if (share < largest) {
    throw new LttError('MAX_SIZE_INVALID', `Invalid snapshot size. Cannot fit at least one packet per stream (${maxBytes} bytes for ${streams.length} streams of packets up to ${largest} bytes).`);
  }
  if (streams.length === 0) return { bytes: 0, packets: 0 }; // nothing recorded yet: no trace (the daemon removes the folder)
  const sink = await FileTraceSink.create(dir, owner);
  let bytes = 0;
  let packets = 0;
  try {
    sink.writeMetadata(Buffer.from(preamble + parts.map((p) => p.declarations).join('')));
    for (const s of streams) {
      let first = s.packets.length;
      for (let used = 0; first > 0 && used + s.packets[first - 1]!.length <= share; ) used += s.packets[--first]!.length;
      const h0 = s.packets[0]!;
      const out = sink.openStream({
        fileName: s.name,
        streamClassId: h0.readUInt32LE(PH_STREAM_ID),
        streamInstanceId: Number(h0.readBigUInt64LE(PH_STREAM_INSTANCE_ID)),
        cpuId: 0,
      });
      for (const p of s.packets.slice(first)) {
        out.writePacket(p, {
          packetSizeBits: Number(p.readBigUInt64LE(PH_PACKET_SIZE)),
          contentSizeBits: Number(p.readBigUInt64LE(PH_CONTENT_SIZE)),
          timestampBegin: p.readBigUInt64LE(PH_TS_BEGIN),
          timestampEnd: p.readBigUInt64LE(PH_TS_END),
          eventsDiscarded: Number(p.readBigUInt64LE(PH_EVENTS_DISCARDED)),
          streamId: p.readUInt32LE(PH_STREAM_ID),
          streamInstanceId: Number(p.readBigUInt64LE(PH_STREAM_INSTANCE_ID)),
          packetSeqNum: Number(p.readBigUInt64LE(PH_SEQ_NUM)),
        });
        bytes += p.length;
        packets++;
      }
    }
  } finally {
    await sink.close();
  }
  return { bytes, packets };
}
