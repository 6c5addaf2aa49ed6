// The per-UID user-space traces of one network session (LTTng's default buffering, `--buffers-uid`, streamed to
// a relay): one trace per user, ust/uid/UID/64-bit/ in the relay session, whose relay connections, metadata
// stream and data streams the session daemon owns, as lttng-consumerd owns a per-UID buffer registry's. One
// metadata stream per user: the daemon sends the preamble (UidTraces' text: the user's trace uuid, the
// session's clock offset, tracer_buffering_scheme "uid"), the apps' declarations follow in it. The apps of the
// user send their packets and declarations over their data connections (src/ust/app-data-protocol.ts, the
// start's `viaDaemon`), and the daemon's connection for them (app-data-connection.ts) writes them here instead
// of into files: each app's per-thread streams become relay streams of the user's trace (CHANNEL_STREAMID,
// unique through the app's slot). Why through the daemon: one relay metadata stream cannot be written by
// several processes' connections.
//
// Contract: trace() makes the user's trace on first use (its relay connections join the session's current
// chunk). A trace outlives its apps (LTTng's per-UID buffers do): rotations and clears move its metadata into
// every later chunk, whole (the relay serves a live viewer the new chunk's metadata from the offset it reached),
// even when none of the user's apps runs. rotate() makes the next chunk's sinks (before the apps are asked to
// rotate: their streams rotate into it); the returned function closes the old chunks once the apps are done.
// appSink() is one app's view of the current chunk: what it opened closes when the app closes it, the shared
// trace stays; in live sessions the streams of an ended run stay open instead (idle: beacons on the live timer,
// an empty packet at each announce()), as LTTng's per-UID streams outlive the apps a viewer follows them for.
// A relay that is gone is logged once per user; the apps count their packets lost. A relay given up or gone
// with a user's data outstanding (settle(), close()) is also one line of takeLosses(), which the session tracer
// hands to stop and destroy for the user (writeErrors()): what did not reach the relay, once.

import { packetIndexEntryOf } from '../../ctf/writer/index-file.js';
import type { StreamSink, StreamSinkInfo, TraceSink } from '../../ctf/writer/sink.js';
import { PH_CONTENT_SIZE, PH_EVENTS_DISCARDED, PH_PACKET_SIZE, PH_SEQ_NUM, PH_SIZE, PH_TS_BEGIN, PH_TS_END } from '../../ust/ring-layout.js';
import { type RelayChunk, type RelaySinkTarget, relayTraceSink, type RelayTraceSink } from '../../relay/relay-sink.js';

interface IdleStream {
  stream: StreamSink;
  readonly info: StreamSinkInfo;
  /** Its last packet's header and context (ltt/ust's layout: ring-layout.ts), for the empty packets of announce(). */
  header: Buffer | undefined;
}

interface UserTrace {
  readonly uid: number;
  /** The current chunk's sink: apps open their streams there (a rotation's next chunk once it began). */
  sink: RelayTraceSink;
  /**
   * Where the apps' declarations go: the current chunk's sink, but during a rotation the old chunk's, until every
   * app rotated. An app that has not rotated yet still writes packets into the old chunk, which must hold their
   * declarations; the next chunk's metadata then begins with all of the old one's (RelayTraceSink replays it).
   */
  metadataSink: RelayTraceSink;
  readonly preamble: string;
  /**
   * Live sessions: streams whose app run ended (stop, exit, a thread gone), kept open as LTTng's per-UID streams
   * outlive the apps: a live viewer goes on following them (and hears of the next run's streams through them),
   * and they send beacons (quiet up to now) so they never hold the viewer back. By file name.
   */
  readonly idle: Map<string, IdleStream>;
  /**
   * Live sessions: the last packet header of each stream that ended past the idle bound, by file name. A thread
   * that lives across its app's runs (the main thread) records again in the same slot, under the same file name:
   * its new stream goes on from these numbers (the relay sink gives it a file name of its own), so a reader takes
   * its files as one stream. Each entry stands for a relay file holding at least one packet.
   */
  readonly ended: Map<string, Buffer>;
}

/** Idle streams a user's live trace keeps open at most (appSink). */
export const MAX_IDLE_STREAMS = 64;

export class UidRelayTraces {
  private readonly users = new Map<number, UserTrace>();
  /** A rotation is under way: the apps' stream closes rotate them (they reopen in the next chunk). */
  private rotating = false;
  private beaconTimer: ReturnType<typeof setInterval> | undefined;
  /** Users' relay losses not handed out yet (takeLosses), and the sinks already counted (a link per user). */
  private losses: string[] = [];
  private readonly lossNoted = new Set<RelayTraceSink['link']>();

  constructor(
    private readonly preamble: (uid: number) => string,
    private readonly log: (line: string) => void,
    /** A live session's timer (µs; 0: not live): the period of the idle streams' beacons. */
    private readonly liveTimerUs = 0,
  ) {}

  static tracePath(uid: number): string {
    return `ust/uid/${uid}/64-bit`;
  }

  /**
   * The name an app's data connection opens the user's trace in the current chunk by (App.daemonDirs): never a
   * folder; one per session (an app recorded by two sessions has a trace in each) and chunk (a rotation's open
   * lands in the next chunk).
   */
  static key(target: RelaySinkTarget, uid: number): string {
    return `relay:${target.session.sessiondSessionId}:${target.session.chunkId}:${UidRelayTraces.tracePath(uid)}`;
  }

  /** The user's trace, made on first use in the relay session `target` (its current chunk). */
  trace(uid: number, target: RelaySinkTarget): void {
    if (this.users.has(uid)) return;
    const sink = relayTraceSink({
      ...target,
      tracePath: UidRelayTraces.tracePath(uid),
      // The relay closing the connections after the session's end is no news.
      onGone: (error) => {
        if (this.users.get(uid)?.sink.link === sink.link) this.log(`uid ${uid}: ${error.message}`);
      },
    });
    sink.ready.catch(() => undefined);
    const user: UserTrace = { uid, sink, metadataSink: sink, preamble: this.preamble(uid), idle: new Map(), ended: new Map() };
    if (this.liveTimerUs > 0 && this.beaconTimer === undefined) {
      this.beaconTimer = setInterval(() => this.beacons(), Math.max(1, Math.round(this.liveTimerUs / 1000)));
      this.beaconTimer.unref();
    }
    sink.writeMetadata(Buffer.from(user.preamble));
    this.users.set(uid, user);
  }

  /** `regenerate metadata`: each user's metadata on the relay starts again with the same text (the daemon holds it all, exited apps' too). */
  async regenerateMetadata(): Promise<void> {
    await Promise.all([...this.users.values()].map((user) => user.metadataSink.regenerateMetadata()));
  }

  /** One app's view of the user's trace in the current chunk (undefined: no such trace). */
  appSink(uid: number): TraceSink | undefined {
    const user = this.users.get(uid);
    if (user === undefined) return undefined;
    const keep = this.liveTimerUs > 0
      ? (kept: StreamSink, info: StreamSinkInfo, header: Buffer | undefined): boolean => {
          // A stream that never sent a packet ends: the relay takes no beacon of it, so a viewer would wait on it
          // (its file is empty: the slot's next run may open it again). One carried on from an earlier run that
          // sent nothing in this one stays idle with its earlier last header: its file holds the earlier runs'
          // packets, and the app's next run in the slot goes on in it as one stream (ended, a viewer would see
          // that run in a new stream, and before the relay sink kept names apart, its file opened again, emptied).
          const last = header ?? carriedLast.get(kept);
          if (this.rotating || last === undefined) return false;
          const stream = carriedStreams.get(kept) ?? kept;
          user.idle.set(info.fileName, { stream, info, header: last });
          // Bounded: every run of every app adds its threads' streams, and each idle one costs beacons, an empty
          // packet per announcement and the relay's files; past the bound the oldest ends (a viewer sees it end,
          // as an exited app's stream). Its thread recording again later goes on in a new stream (resume: ended).
          for (const [name, old] of user.idle) {
            if (user.idle.size <= MAX_IDLE_STREAMS) break;
            user.idle.delete(name);
            if (old.header !== undefined) user.ended.set(name, old.header);
            old.stream.close().catch(() => undefined);
          }
          return true;
        }
      : undefined;
    // The app's next run with the same stream classes (ust-session-tracer.ts relaySlot) goes on in them.
    const resume = this.liveTimerUs > 0
      ? (info: StreamSinkInfo, open: () => StreamSink): StreamSink | undefined => {
          const idle = user.idle.get(info.fileName);
          if (idle?.header !== undefined) {
            user.idle.delete(info.fileName);
            return carriedOn(idle.stream, idle.header);
          }
          // Ended past the bound: a new relay stream (under a name of its own), numbered on.
          const last = user.ended.get(info.fileName);
          if (last === undefined) return undefined;
          user.ended.delete(info.fileName);
          return carriedOn(open(), last);
        }
      : undefined;
    return appView(user.sink, (packets) => user.metadataSink.writeMetadata(packets), keep, resume);
  }

  /**
   * A live session got a new stream: each idle stream closes an empty packet (its last header, the next sequence
   * number, now), as the apps' threads do (the session tracer's 'announce' rounds): babeltrace2 2.0's lttng-live
   * hears of new streams only from the index of a packet of a stream it follows, which may be idle ones only.
   */
  announce(): void {
    const now = process.hrtime.bigint();
    for (const user of this.users.values()) {
      for (const idle of user.idle.values()) {
        if (idle.header === undefined) continue;
        const h = Buffer.from(idle.header);
        h.writeBigUInt64LE(now, PH_TS_BEGIN);
        h.writeBigUInt64LE(now, PH_TS_END);
        h.writeBigUInt64LE(BigInt(PH_SIZE * 8), PH_CONTENT_SIZE);
        h.writeBigUInt64LE(BigInt(PH_SIZE * 8), PH_PACKET_SIZE);
        h.writeBigUInt64LE(h.readBigUInt64LE(PH_SEQ_NUM) + 1n, PH_SEQ_NUM);
        try {
          idle.stream.writePacket(h, packetIndexEntryOf(h));
          idle.header = h;
        } catch {
          // The relay is gone or behind (logged once by the trace): a viewer misses the announcement.
        }
      }
    }
  }

  /** Idle streams: nothing up to now (the trace clock is CLOCK_MONOTONIC, as ltt/ust's). */
  private beacons(): void {
    const now = process.hrtime.bigint();
    for (const user of this.users.values()) for (const { stream, info } of user.idle.values()) stream.beacon?.(now, info.streamClassId);
  }

  /**
   * The next chunk's sinks (the apps asked to rotate then open their streams there). The returned function, once
   * the apps rotated, begins each next chunk's metadata (the preamble starts its replay of the old chunk's
   * metadata, whole, even when no app of the user runs), then closes the old chunks (CLOSE_TRACE_CHUNK on each
   * user's connection: the relay archives or deletes a chunk once every connection let it go).
   */
  rotate(chunk: RelayChunk): () => Promise<void> {
    const moved: UserTrace[] = [];
    this.rotating = true;
    for (const user of this.users.values()) {
      try {
        const next = user.metadataSink.nextChunk(chunk);
        user.sink = next;
        // Idle streams go on in the next chunk (rotated there, or added anew when they sent nothing).
        for (const idle of user.idle.values()) {
          idle.stream.close().catch(() => undefined);
          idle.stream = next.openStream(idle.info);
        }
        moved.push(user);
      } catch (error) {
        this.log(`uid ${user.uid}: cannot go on in the next trace chunk: ${(error as Error).message}`);
      }
    }
    return async () => {
      this.rotating = false;
      const old: RelayTraceSink[] = [];
      for (const user of moved) {
        old.push(user.metadataSink);
        user.metadataSink = user.sink;
        try {
          user.sink.writeMetadata(Buffer.from(user.preamble));
        } catch (error) {
          this.log(`uid ${user.uid}: cannot begin the next trace chunk's metadata: ${(error as Error).message}`);
        }
      }
      await Promise.all(old.map((s) => s.close().catch(() => undefined)));
    };
  }

  /** Resolves once the relay has everything sent so far (stop), or gave it up (then a loss, takeLosses()). */
  async settle(): Promise<void> {
    const users = [...this.users.values()];
    await Promise.all(users.map((u) => u.sink.settle().catch(() => undefined)));
    this.noteLosses(users);
  }

  /** The session's end: every user's trace closes (metadata stream, connections); a relay given up is a loss. */
  async close(): Promise<void> {
    clearInterval(this.beaconTimer);
    this.beaconTimer = undefined;
    const users = [...this.users.values()];
    this.users.clear();
    await Promise.all(users.map((u) => u.sink.close().catch(() => undefined)));
    this.noteLosses(users);
  }

  /** One line per user whose trace did not all reach the relay ("uid N (ust/uid/N/64-bit): ..."), each once. */
  takeLosses(): string[] {
    return this.losses.splice(0);
  }

  private noteLosses(users: readonly UserTrace[]): void {
    for (const u of users) {
      const loss = u.sink.loss;
      if (loss === undefined || this.lossNoted.has(u.sink.link)) continue;
      this.lossNoted.add(u.sink.link);
      this.losses.push(`uid ${u.uid} (${UidRelayTraces.tracePath(u.uid)}): ${loss}`);
    }
  }
}

/** Streams of carriedOn() and the relay streams under them. */
const carriedStreams = new WeakMap<StreamSink, StreamSink>();
/** Streams of carriedOn() and the last packet header of the runs before. */
const carriedLast = new WeakMap<StreamSink, Buffer>();

/**
 * `stream`, kept from an app's earlier run, written by its next run: the run's packet sequence numbers and
 * discarded-event counts (from 0 in each run) go on from the last packet's (`last`: its header), as in one
 * stream. The packets are renumbered in place (the data connection's buffer) and in their index entries.
 */
function carriedOn(stream: StreamSink, last: Buffer): StreamSink {
  const seqBase = last.readBigUInt64LE(PH_SEQ_NUM) + 1n;
  const discardedBase = last.readBigUInt64LE(PH_EVENTS_DISCARDED);
  const carried: StreamSink = {
    writePacket: (packet, index, lost) => {
      if (packet.length >= PH_SIZE) {
        const h = Buffer.from(packet.buffer, packet.byteOffset, PH_SIZE);
        h.writeBigUInt64LE(seqBase + h.readBigUInt64LE(PH_SEQ_NUM), PH_SEQ_NUM);
        h.writeBigUInt64LE(discardedBase + h.readBigUInt64LE(PH_EVENTS_DISCARDED), PH_EVENTS_DISCARDED);
      }
      const renumbered = { ...index, packetSeqNum: index.packetSeqNum + Number(seqBase), eventsDiscarded: index.eventsDiscarded + Number(discardedBase) };
      stream.writePacket(packet, renumbered, lost);
    },
    settle: () => stream.settle?.() ?? Promise.resolve(),
    beacon: (ts, id) => stream.beacon?.(ts, id),
    close: () => stream.close(),
  };
  carriedStreams.set(carried, stream);
  carriedLast.set(carried, last);
  return carried;
}

/**
 * One app's part of a user's trace that several apps share (`chunk`; declarations to `metadata`): its streams
 * are its own and end when it closes its view (a killed app's too); the user's trace goes on.
 */
export function appView(
  chunk: TraceSink,
  metadata: (packets: Uint8Array) => void = (p) => chunk.writeMetadata(p, ''),
  /** Takes over a stream the app closes instead of ending it (true: taken), with its last packet's header. */
  keep?: (stream: StreamSink, info: StreamSinkInfo, header: Buffer | undefined) => boolean,
  /** A stream kept from the app's earlier run to go on in, instead of a new one (`open`: a new one of `chunk`). */
  resume?: (info: StreamSinkInfo, open: () => StreamSink) => StreamSink | undefined,
): TraceSink {
  const open = new Map<StreamSink, StreamSinkInfo>();
  const headers = new Map<StreamSink, Buffer>();
  return {
    writeMetadata: (packets) => metadata(packets),
    openStream: (info: StreamSinkInfo) => {
      const s = resume?.(info, () => chunk.openStream(info)) ?? chunk.openStream(info);
      open.set(s, info);
      return {
        writePacket: (packet, index, lost) => {
          s.writePacket(packet, index, lost);
          if (keep !== undefined && packet.length >= PH_SIZE) headers.set(s, Buffer.from(packet.subarray(0, PH_SIZE)));
        },
        settle: () => s.settle?.() ?? Promise.resolve(),
        beacon: (ts, id) => s.beacon?.(ts, id),
        close: async () => {
          if (!open.delete(s)) return;
          if (keep?.(s, info, headers.get(s))) {
            await s.settle?.();
            return;
          }
          await s.close();
        },
      };
    },
    // The app is done with the trace (a killed app too): its streams end, or are kept (`keep`).
    close: async () => {
      for (const [s, info] of [...open]) {
        open.delete(s);
        if (!keep?.(s, info, headers.get(s))) await s.close().catch(() => undefined);
      }
    },
  };
}
