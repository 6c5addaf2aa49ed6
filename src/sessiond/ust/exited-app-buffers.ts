// The packets that apps of one snapshot session handed over as they exited (app-protocol.ts 'held'), kept by the
// daemon for the session's next snapshots: LTTng's per-UID buffers outlive the apps that wrote them, so a
// flight recorder still shows an app that has exited (or died of an exception or a signal).
//
// Contract: begin() starts a run's handed-over trace (TSDL preamble, declarations); addPiece() assembles its
// packets and throws on anything malformed (the caller drops that connection). Per channel and user, the kept
// packets are bounded by what that user's per-UID buffers would hold. LTTng-UST has one ring per CPU, shared by
// all apps of the user; an ltt/ust app has one per thread. So the apps' threads of one rank (the packets'
// stream_instance_id, the thread id: 0 for each app's main thread) that may run on the same CPUs (the apps'
// allowed CPUs when they exited) share a bound: one ring (sub-buffer count x size) per CPU of that set. Apps
// pinned to one CPU then push out each other's packets as in LTTng, apps on other CPUs do not. Past the bound,
// the oldest packet (by begin time) of those goes, counted in dropped() as a lost packet, as the ring overwrites
// its oldest sub-buffer (a discard-mode channel drops the new packet instead, as its full ring discards).
// An app keeps only its ring's newest packets, but in LTTng all it wrote went through the shared ring: a packet
// goes too once the apps that started after it ended wrote the bound's worth (their packets' sequence numbers
// count those their own rings overwrote), as a later app of the user overwrites an earlier one's in LTTng. content() hands out a run set's trace for
// a snapshot, as the snapshot ring's writer takes it (writeHeldTrace, src/ctf/writer/snapshot-ring-sink.ts: the
// same writing as the apps' own snapshots and the kernel's); drop() forgets a run (clear, the next start, destroy).

import { availableParallelism } from 'node:os';
import { packetIndexEntryOf } from '../../ctf/writer/index-file.js';
import type { HeldPacket, HeldStream } from '../../ctf/writer/snapshot-ring-sink.js';

/** A stream file name an app may hand over (written by the daemon: no path, no dot file, not the metadata). */
const STREAM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

interface HeldRun {
  /** Channel, uid and the CPUs the app could run on: with a stream_instance_id, the rings its packets count against. */
  readonly group: string;
  /** How many CPUs that is (LTTng rings). */
  readonly cpuCount: number;
  readonly channel: string;
  readonly preamble: string;
  readonly declarations: string;
  /** Whole packets, oldest first, by stream file name. */
  readonly streams: Map<string, HeldPacket[]>;
  /** Pieces of the packet under way, by stream file name, and their total size. */
  readonly pieces: Map<string, { readonly bufs: Buffer[]; bytes: number }>;
  /** Bytes of the whole packets in `streams`, by stream file name. */
  readonly bytes: Map<string, number>;
  /** The stream_instance_id of each stream's packets (its ring), from its first packet. */
  readonly instances: Map<string, bigint>;
  /** When the app's run began (trace clock, CLOCK_MONOTONIC ns); undefined: unknown. */
  readonly startedNs: bigint | undefined;
  /** Bytes the app wrote per stream, its ring's overwritten packets included (by their sequence numbers). */
  readonly written: Map<string, number>;
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

  /** `cpus`: the CPUs the app was allowed to run on (undefined: any); `startedNs`: when its run began (trace clock). */
  begin(key: string, channel: string, uid: number, preamble: string, declarations: string, cpus?: readonly number[], startedNs?: bigint): void {
    if (this.runs.has(key)) throw new Error(`run ${key} handed over twice`);
    const cpuSet = cpus === undefined || cpus.length === 0 ? 'any' : [...new Set(cpus)].sort((a, b) => a - b).join(',');
    const cpuCount = cpuSet === 'any' ? availableParallelism() : cpuSet.split(',').length;
    this.runs.set(key, { group: `${channel}\0${uid}\0${cpuSet}`, cpuCount, channel, preamble, declarations, streams: new Map(), pieces: new Map(), bytes: new Map(), instances: new Map(), startedNs, written: new Map() });
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
    const instance = run.instances.get(stream) ?? BigInt(index.streamInstanceId);
    if (BigInt(index.streamInstanceId) !== instance) throw new Error(`${stream}: packets of stream instances ${instance} and ${index.streamInstanceId}`);
    run.instances.set(stream, instance);
    const limit = limits.numSubbuf * limits.subbufSize * run.cpuCount;
    const ring = `${run.group}\0${instance}`;
    if (limits.overwrite === false && this.keptBytes(ring) + packet.length > limit) {
      // Discard mode: the user's buffers are full, what comes now is dropped (the oldest packets stay).
      this.droppedPackets.set(run.channel, (this.droppedPackets.get(run.channel) ?? 0) + 1);
      return;
    }
    const list = run.streams.get(stream) ?? [];
    // The packets before the first one handed over were overwritten in the app's ring (sub-buffer sized, as near).
    const earlier = list.length === 0 ? Number(index.packetSeqNum) * limits.subbufSize : 0;
    run.written.set(stream, (run.written.get(stream) ?? 0) + earlier + packet.length);
    list.push({ bytes: packet, index });
    run.streams.set(stream, list);
    run.bytes.set(stream, (run.bytes.get(stream) ?? 0) + packet.length);
    this.groupBytes.set(ring, this.keptBytes(ring) + packet.length);
    this.bound(run, stream, limit);
    if (limits.overwrite !== false) this.overwritten(run, stream, limit);
  }

  private keptBytes(group: string): number {
    return this.groupBytes.get(group) ?? 0;
  }

  /** The oldest packets of the ring (`run`'s user and channel, `stream`'s instance) go until it keeps at most `limit` bytes. */
  private bound(run: HeldRun, stream: string, limit: number): void {
    const instance = run.instances.get(stream)!;
    const ring = `${run.group}\0${instance}`;
    let total = this.keptBytes(ring);
    if (total <= limit) return;
    const lists: Array<{ run: HeldRun; stream: string; l: HeldPacket[] }> = [];
    for (const r of this.runs.values()) {
      if (r.group !== run.group) continue;
      for (const [name, l] of r.streams) if (r.instances.get(name) === instance) lists.push({ run: r, stream: name, l });
    }
    while (total > limit) {
      let oldest: (typeof lists)[number] | undefined;
      for (const c of lists) {
        if (c.l.length > 0 && (oldest === undefined || c.l[0]!.index.timestampBegin < oldest.l[0]!.index.timestampBegin)) oldest = c;
      }
      const gone = oldest!.l.shift()!.bytes.length;
      oldest!.run.bytes.set(oldest!.stream, oldest!.run.bytes.get(oldest!.stream)! - gone);
      total -= gone;
      this.droppedPackets.set(run.channel, (this.droppedPackets.get(run.channel) ?? 0) + 1);
    }
    this.groupBytes.set(ring, total);
  }

  /** Packets of the ring that the apps started after them overwrote (their writes since reach `limit` bytes). */
  private overwritten(run: HeldRun, stream: string, limit: number): void {
    const instance = run.instances.get(stream)!;
    const ring = `${run.group}\0${instance}`;
    const lists: Array<{ run: HeldRun; stream: string; l: HeldPacket[] }> = [];
    for (const r of this.runs.values()) {
      if (r.group !== run.group) continue;
      for (const [name, l] of r.streams) if (r.instances.get(name) === instance) lists.push({ run: r, stream: name, l });
    }
    if (!lists.some((c) => c.run.startedNs !== undefined)) return;
    for (const c of lists) {
      while (c.l.length > 0) {
        const end = c.l[0]!.index.timestampEnd;
        let after = 0;
        for (const o of lists) {
          if (o.run.startedNs !== undefined && o.run.startedNs > end) after += o.run.written.get(o.stream) ?? 0;
          else for (const p of o.l) if (p.index.timestampBegin >= end) after += p.bytes.length;
        }
        if (after < limit) break;
        const gone = c.l.shift()!.bytes.length;
        c.run.bytes.set(c.stream, c.run.bytes.get(c.stream)! - gone);
        this.groupBytes.set(ring, this.keptBytes(ring) - gone);
        this.droppedPackets.set(run.channel, (this.droppedPackets.get(run.channel) ?? 0) + 1);
      }
    }
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
      const ring = `${run.group}\0${run.instances.get(stream)}`;
      this.groupBytes.set(ring, this.keptBytes(ring) - bytes);
    }
  }

  /** Packets of `channel` that the bound pushed out. */
  dropped(channel: string): number {
    return this.droppedPackets.get(channel) ?? 0;
  }
}

/** The CPUs of a Cpus_allowed_list line of /proc/PID/status ("0-3,6"); undefined if it is not one. */
export function parseCpuList(text: string): number[] | undefined {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(text)) return undefined;
  const cpus: number[] = [];
  for (const part of text.split(',')) {
    const [a, b = a] = part.split('-').map(Number) as [number, number?];
    if (b < a || b - a > 65536 || cpus.length > 65536) return undefined;
    for (let c = a; c <= b; c++) cpus.push(c);
  }
  return cpus;
}
