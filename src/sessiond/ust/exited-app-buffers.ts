// The packets that apps of one snapshot session handed over as they exited (app-protocol.ts 'held'), kept by the
// daemon for the session's next snapshots: LTTng's per-UID buffers outlive the apps that wrote them, so a
// flight recorder still shows an app that has exited (or died of an exception or a signal).
//
// Contract: begin() starts a run's handed-over trace (TSDL preamble, declarations); addPiece() assembles its
// packets and throws on anything malformed (the caller drops that connection). Per channel, user and stream, the
// kept packets are bounded by what one ring of that user's per-UID buffers holds (sub-buffer count x size): the
// apps of a user write the same per-UID stream (CHANNEL_N, N by thread as LTTng's is by CPU), which is one ring
// shared by them all in LTTng, so a later app's packets push out an earlier one's. Past the bound, the oldest
// packet (by begin time) of that stream goes, counted in dropped() as a lost packet, as the ring overwrites its
// oldest sub-buffer (a discard-mode channel drops the new packet instead, as its full ring discards). content() hands out a run set's trace for
// a snapshot, as the snapshot ring's writer takes it (writeHeldTrace, src/ctf/writer/snapshot-ring-sink.ts: the
// same writing as the apps' own snapshots and the kernel's); drop() forgets a run (clear, the next start, destroy).

import { packetIndexEntryOf } from '../../ctf/writer/index-file.js';
import type { HeldPacket, HeldStream } from '../../ctf/writer/snapshot-ring-sink.js';

/** A stream file name an app may hand over (written by the daemon: no path, no dot file, not the metadata). */
const STREAM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

interface HeldRun {
  /** Channel and uid: with a stream name, the per-UID ring this run's packets of that stream count against. */
  readonly group: string;
  readonly channel: string;
  readonly preamble: string;
  readonly declarations: string;
  /** Whole packets, oldest first, by stream file name. */
  readonly streams: Map<string, HeldPacket[]>;
  /** Pieces of the packet under way, by stream file name, and their total size. */
  readonly pieces: Map<string, { readonly bufs: Buffer[]; bytes: number }>;
  /** Bytes of the whole packets in `streams`, by stream file name. */
  readonly bytes: Map<string, number>;
}

export interface ChannelLimits {
  /** The sub-buffer size: no packet is larger. */
  readonly subbufSize: number;
  readonly numSubbuf: number;
  /** False: a discard-mode channel, whose full buffers keep their oldest packets and drop new ones. */
  readonly overwrite?: boolean;
}

export class ExitedAppBuffers {
  private readonly runs = new Map<string, HeldRun>();
  private readonly droppedPackets = new Map<string, number>();
  /** Bytes kept per ring (channel, uid and stream), so that each packet's check costs the same however many are kept. */
  private readonly groupBytes = new Map<string, number>();

  constructor(private readonly limitsOf: (channel: string) => ChannelLimits) {}

  has(key: string): boolean {
    return this.runs.has(key);
  }

  begin(key: string, channel: string, uid: number, preamble: string, declarations: string): void {
    if (this.runs.has(key)) throw new Error(`run ${key} handed over twice`);
    this.runs.set(key, { group: `${channel}\0${uid}`, channel, preamble, declarations, streams: new Map(), pieces: new Map(), bytes: new Map() });
  }

  addPiece(key: string, stream: string, data: Buffer, last: boolean): void {
    const run = this.runs.get(key);
    if (run === undefined) throw new Error(`packet of run ${key}, which was not handed over`);
    if (!STREAM_NAME.test(stream) || stream === 'metadata') throw new Error(`invalid stream file name ${JSON.stringify(stream.slice(0, 80))}`);
    const limits = this.limitsOf(run.channel);
    const pieces = run.pieces.get(stream) ?? { bufs: [], bytes: 0 };
    pieces.bufs.push(data);
    pieces.bytes += data.length;
    if (pieces.bytes > limits.subbufSize) throw new Error(`${stream}: a packet larger than the sub-buffer size`);
    if (!last) {
      run.pieces.set(stream, pieces);
      return;
    }
    run.pieces.delete(stream);
    const packet = pieces.bufs.length === 1 ? pieces.bufs[0]! : Buffer.concat(pieces.bufs);
    let index;
    try {
      index = packetIndexEntryOf(packet);
    } catch {
      throw new Error(`${stream}: not a whole packet`);
    }
    if (index.packetSizeBits !== packet.length * 8) throw new Error(`${stream}: not a whole packet`);
    const limit = limits.numSubbuf * limits.subbufSize;
    const ring = `${run.group}\0${stream}`;
    if (limits.overwrite === false && this.keptBytes(ring) + packet.length > limit) {
      // Discard mode: the user's buffers are full, what comes now is dropped (the oldest packets stay).
      this.droppedPackets.set(run.channel, (this.droppedPackets.get(run.channel) ?? 0) + 1);
      return;
    }
    const list = run.streams.get(stream) ?? [];
    list.push({ bytes: packet, index });
    run.streams.set(stream, list);
    run.bytes.set(stream, (run.bytes.get(stream) ?? 0) + packet.length);
    this.groupBytes.set(ring, this.keptBytes(ring) + packet.length);
    this.bound(run, stream, limit);
  }

  private keptBytes(group: string): number {
    return this.groupBytes.get(group) ?? 0;
  }

  /** The oldest packets of the ring (`run`'s user and channel, `stream`) go until what it keeps fits in `limit` bytes. */
  private bound(run: HeldRun, stream: string, limit: number): void {
    const ring = `${run.group}\0${stream}`;
    let total = this.keptBytes(ring);
    if (total <= limit) return;
    const runs = [...this.runs.values()].filter((r) => r.group === run.group && r.streams.has(stream));
    const lists = runs.map((r) => ({ run: r, l: r.streams.get(stream)! }));
    while (total > limit) {
      let oldest: { run: HeldRun; l: HeldPacket[] } | undefined;
      for (const c of lists) {
        if (c.l.length > 0 && (oldest === undefined || c.l[0]!.index.timestampBegin < oldest.l[0]!.index.timestampBegin)) oldest = c;
      }
      const gone = oldest!.l.shift()!.bytes.length;
      oldest!.run.bytes.set(stream, oldest!.run.bytes.get(stream)! - gone);
      total -= gone;
      this.droppedPackets.set(run.channel, (this.droppedPackets.get(run.channel) ?? 0) + 1);
    }
    this.groupBytes.set(ring, total);
  }

  /**
   * The trace the runs `keys` (the channels of one app) handed over: its metadata (the preamble, each channel's
   * declarations) and streams; undefined if none of them did.
   */
  content(keys: readonly string[]): { metadata: Uint8Array[]; streams: HeldStream[] } | undefined {
    const runs = keys.map((k) => this.runs.get(k)).filter((r): r is HeldRun => r !== undefined);
    if (runs.length === 0) return undefined;
    const metadata = [runs[0]!.preamble, ...runs.map((r) => r.declarations)].map((t) => Buffer.from(t));
    const streams = runs.flatMap((r) =>
      [...r.streams].filter(([, packets]) => packets.length > 0).map(([fileName, packets]) => {
        const { streamId, streamInstanceId } = packets[0]!.index;
        return { info: { fileName, streamClassId: streamId, streamInstanceId, cpuId: 0 }, packets };
      }),
    );
    return { metadata, streams };
  }

  drop(key: string): void {
    const run = this.runs.get(key);
    if (run === undefined) return;
    this.runs.delete(key);
    for (const [stream, bytes] of run.bytes) {
      const ring = `${run.group}\0${stream}`;
      this.groupBytes.set(ring, this.keptBytes(ring) - bytes);
    }
  }

  /** Packets of `channel` that the bound pushed out. */
  dropped(channel: string): number {
    return this.droppedPackets.get(channel) ?? 0;
  }
}
