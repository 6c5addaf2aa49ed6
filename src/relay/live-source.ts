// A live session as the reading graph's source: babeltrace2's src.ctf.lttng-live. It attaches to the session
// (seek LAST, as babeltrace2 does: streams that exist then are read from their newest packet, streams that
// appear later from their first), reads the metadata as it grows (GET_METADATA whenever an index or packet says
// there is more; new classes are added to the trace class already in use, as babeltrace2 appends them), and
// merges the session's data streams in time order into one message stream, as lttng-live's one output port
// does. HOSTNAME/SESSION may be several relay sessions (a session daemon's kernel and user-space consumers each
// create their own on the relay): all are attached and merged, as lttng-live adds every session of that name. A stream's next packet is asked with GET_NEXT_INDEX: RETRY waits `retryMs` and asks again, INACTIVE (a
// beacon: the stream is quiet up to a time) becomes an inactivity message so the other streams go on (the quiet
// stream is not asked again until the others reach that time), HUP ends the stream. The session ends when every stream has hung up and GET_NEW_STREAMS says HUP.
//
// Contract: `openLiveSource(opts)` attaches and returns the MessageStream (next() NEED_DATA while nothing is
// there yet: await fill()); errors are one-line LttErrors (LIVE_SESSION: no such session or attach refused,
// LIVE_RELAY: connection, CTF_METADATA / CTF_DECODE: what the relay served).

import { LttError } from '../errors.js';
import { parseMetadata } from '../ctf/metadata.js';
import { CtfStreamIterator, NEED_DATA, type MessageStream, type NextResult, type PacketLocation } from '../ctf/decode/msg-iter.js';
import type { Medium } from '../ctf/decode/medium.js';
import type { Num } from '../ctf/decode/state.js';
import { decodersFor } from '../ctf/decode/trace-decoders.js';
import type { Message, StreamInfo, TraceInfo } from '../ctf/ir/message.js';
import type { TraceClass } from '../ctf/ir/trace-class.js';
import { compareMessages } from '../graph/muxer.js';
import { nsFromOrigin, tracerQuirks } from '../graph/source-ctf-fs.js';
import { LiveViewer, type LiveStreamInfo } from './live-client.js';
import {
  AttachStatus,
  FLAG_NEW_METADATA,
  FLAG_NEW_STREAM,
  IndexStatus,
  METADATA_ERR,
  METADATA_OK,
  NEW_STREAMS_HUP,
  NEW_STREAMS_OK,
  NO_NEW_METADATA,
  PACKET_OK,
  SEEK_LAST,
} from './live-protocol.js';

export interface LiveSourceOptions {
  /** The URL as given (messages). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly hostname: string;
  readonly session: string;
  /** Wait before asking again a relay that had nothing new (babeltrace2's CLI waits 100 ms). */
  readonly retryMs?: number;
}

const PACKET_RETRY = 2;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One CTF trace of the session (a ctf_trace_id): its metadata as received and the classes read from it. */
class LiveTrace {
  metadataStream: bigint | undefined;
  readonly chunks: Buffer[] = [];
  tc: TraceClass | undefined;
  info: TraceInfo | undefined;

  constructor(
    readonly id: bigint,
    private readonly name: string,
  ) {}

  /** Parses all the metadata received; classes new since the last parse join the trace class in use. */
  update(): void {
    const bytes = Buffer.concat(this.chunks);
    const { tc } = parseMetadata(bytes, { path: `${this.name} metadata` });
    if (this.tc === undefined) {
      this.tc = tc;
      this.info = { tc, name: this.name, path: this.name, unnamed: true };
      return;
    }
    for (const [id, sc] of tc.streamClasses) {
      const mine = this.tc.streamClasses.get(id);
      if (mine === undefined) this.tc.streamClasses.set(id, sc);
      else for (const [eid, ec] of sc.eventClasses) if (!mine.eventClasses.has(eid)) mine.eventClasses.set(eid, ec);
    }
    for (const [name, clock] of tc.clocks) if (!this.tc.clocks.has(name)) this.tc.clocks.set(name, clock);
  }
}

/** One data stream of the session: its packets as the relay lists them, read through a CtfStreamIterator. */
class LiveDataStream {
  readonly packets: PacketLocation[] = [];
  private it: CtfStreamIterator | undefined;
  private fetching: Promise<void> | undefined;
  private hup = false;
  private quiet: Message | undefined;
  private lastBeacon: bigint | undefined;
  private waitFirst = false;
  private scId = 0;
  head: Message | undefined;
  key: bigint = -1n;
  /** After its inactivity message: the stream has nothing up to this time (ns), so it need not be asked before. */
  quietUntil: bigint | undefined;

  constructor(
    readonly desc: LiveStreamInfo,
    readonly trace: LiveTrace,
    private readonly session: LiveSource,
  ) {}

  /** The iterator's GrowingPackets.poll (also used before the first packet made the iterator). */
  private poll(): 'more' | 'end' | Message | typeof NEED_DATA {
    if (this.quiet !== undefined) {
      const m = this.quiet;
      this.quiet = undefined;
      return m;
    }
    if (this.it === undefined && this.packets.length > 0) return 'more';
    if (this.hup) return 'end';
    this.fetching ??= this.fetchIndex().finally(() => (this.fetching = undefined));
    return NEED_DATA;
  }

  private async fetchIndex(): Promise<void> {
    if (this.waitFirst) await sleep(this.session.retryMs);
    this.waitFirst = false;
    const viewer = this.session.viewer;
    const ix = await viewer.nextIndex(this.desc.id);
    if ((ix.flags & FLAG_NEW_STREAM) !== 0) this.session.needStreams = true;
    if ((ix.flags & FLAG_NEW_METADATA) !== 0) await this.session.fetchMetadata(this.trace);
    switch (ix.status) {
      case IndexStatus.OK:
        if (ix.packetSize % 8n !== 0n || ix.packetSize === 0n || ix.packetSize > 8n * (256n << 20n)) {
          viewer.protocolError(`packet of ${ix.packetSize} bits in stream ${this.desc.id}`);
        }
        this.scId = Number(ix.streamClassId);
        this.packets.push({ path: this.name(), offset: Number(ix.offset), size: Number(ix.packetSize / 8n) });
        break;
      case IndexStatus.RETRY:
        this.waitFirst = true;
        break;
      case IndexStatus.INACTIVE: {
        const clock = this.trace.tc?.streamClasses.get(Number(ix.streamClassId))?.defaultClock;
        if (clock !== undefined && (this.lastBeacon === undefined || ix.tsEnd > this.lastBeacon)) {
          this.lastBeacon = ix.tsEnd;
          this.quiet = { type: 'inactivity', clock, cycles: ix.tsEnd };
        } else this.waitFirst = true;
        break;
      }
      case IndexStatus.HUP:
        this.hup = true;
        break;
      default:
        throw new LttError('LIVE_RELAY', `the relay at ${viewer.where} could not give the next index of stream ${this.desc.id} (${this.desc.path}/${this.desc.channel}): status ${ix.status}`);
    }
  }

  private name(): string {
    return `${this.desc.path}/${this.desc.channel}`;
  }

  private medium(): Medium {
    const viewer = this.session.viewer;
    return {
      name: this.name(),
      size: undefined,
      request: async (offset: number, length: number): Promise<Uint8Array> => {
        for (;;) {
          const p = await viewer.packet(this.desc.id, BigInt(offset), length);
          if ((p.flags & FLAG_NEW_METADATA) !== 0) await this.session.fetchMetadata(this.trace);
          if (p.status === PACKET_OK) {
            if (p.bytes.length !== length) viewer.protocolError(`packet of ${p.bytes.length} bytes for ${length} asked`);
            return p.bytes;
          }
          if (p.status !== PACKET_RETRY) {
            throw new LttError('LIVE_RELAY', `the relay at ${viewer.where} could not give the packet at offset ${offset} of ${this.name()}: status ${p.status}`);
          }
          await sleep(this.session.retryMs);
        }
      },
      close: () => undefined,
    };
  }

  next(): NextResult {
    if (this.it !== undefined) return this.it.next();
    const r = this.poll();
    if (r !== 'more') return r === 'end' ? undefined : r;
    const t = this.trace;
    if (t.tc === undefined || t.info === undefined) throw new LttError('CTF_METADATA', `${this.name()}: packets came before any metadata`);
    const sc = t.tc.streamClasses.get(this.scId);
    if (sc === undefined) throw new LttError('CTF_METADATA', `${this.name()}: no stream class with ID ${this.scId} in the metadata`);
    const info: StreamInfo = { trace: t.info, sc, id: Number(this.desc.id), name: this.name() };
    const medium = this.medium();
    this.it = new CtfStreamIterator(info, decodersFor(t.tc), this.packets, {
      quirks: tracerQuirks(t.tc),
      openMedium: () => medium,
      growing: { poll: () => this.poll(), wait: () => this.fetching ?? Promise.resolve() },
    });
    return this.it.next();
  }

  fill(): Promise<void> | void {
    return this.it !== undefined ? this.it.fill() : this.fetching;
  }

  close(): void {
    this.it?.close();
  }

  /** ns from origin of a message (the ordering key); messages without a time keep the stream's last. */
  keyOf(m: Message): bigint {
    let cycles: Num | undefined;
    let clock = m.type === 'inactivity' ? m.clock : m.stream.sc.defaultClock;
    switch (m.type) {
      case 'event':
      case 'packet-beginning':
      case 'packet-end':
      case 'inactivity':
        cycles = m.cycles;
        break;
      case 'discarded-events':
      case 'discarded-packets':
        cycles = m.beginCycles;
        break;
      default:
        clock = undefined;
    }
    if (clock !== undefined && cycles !== undefined) this.key = nsFromOrigin(clock, cycles);
    return this.key;
  }
}

export class LiveSource implements MessageStream {
  readonly info: StreamInfo;
  readonly retryMs: number;
  needStreams = false;
  /** By relay session and ctf_trace_id (trace ids are per relay session). */
  private readonly traces = new Map<string, LiveTrace>();
  private streams: LiveDataStream[] = [];
  /** The attached relay sessions that have not hung up yet. */
  private readonly open: Set<bigint>;
  private pending: Promise<void> | undefined;
  private ended = false;

  constructor(
    readonly viewer: LiveViewer,
    sessionIds: readonly bigint[],
    private readonly opts: LiveSourceOptions,
  ) {
    this.open = new Set(sessionIds);
    this.retryMs = opts.retryMs ?? 100;
    // The muxer sees this one stream (as babeltrace2's muxer sees lttng-live's one port): it needs no clock.
    const tc: TraceClass = { major: 1, minor: 8, byteOrder: 'le', env: new Map(), clocks: new Map(), streamClasses: new Map(), slotCount: 0, warnings: [], ctfVersion: 1 };
    this.info = { trace: { tc, name: opts.url, path: opts.url }, sc: { id: 0, eventClasses: new Map() }, id: 0, name: opts.url };
  }

  async addStreams(sessionId: bigint, streams: readonly LiveStreamInfo[]): Promise<void> {
    const fresh: LiveTrace[] = [];
    for (const s of streams) {
      const key = `${sessionId}/${s.ctfTraceId}`;
      let t = this.traces.get(key);
      if (t === undefined) {
        t = new LiveTrace(s.ctfTraceId, `${this.opts.hostname}/${this.opts.session}`);
        this.traces.set(key, t);
      }
      if (s.metadata) {
        t.metadataStream = s.id;
        fresh.push(t);
      } else this.streams.push(new LiveDataStream(s, t, this));
    }
    for (const t of fresh) await this.fetchMetadata(t);
  }

  /** GET_METADATA until the relay has no more, then the classes are updated. */
  async fetchMetadata(t: LiveTrace): Promise<void> {
    if (t.metadataStream === undefined) return;
    let got = false;
    for (;;) {
      const r = await this.viewer.metadata(t.metadataStream);
      if (r.status === NO_NEW_METADATA) break;
      if (r.status === METADATA_OK) {
        if (r.bytes.length === 0) break;
        t.chunks.push(r.bytes);
        got = true;
        continue;
      }
      // A closed metadata stream is forgotten by the relay once read to its end.
      if (r.status === METADATA_ERR && t.tc !== undefined) break;
      throw new LttError('LIVE_RELAY', `the relay at ${this.viewer.where} could not give the metadata of ${this.opts.hostname}/${this.opts.session}: status ${r.status}`);
    }
    if (got) t.update();
  }

  private async fetchNewStreams(wait: boolean): Promise<void> {
    if (wait) await sleep(this.retryMs);
    for (const id of [...this.open]) {
      const r = await this.viewer.newStreams(id);
      if (r.status === NEW_STREAMS_HUP) {
        this.open.delete(id);
        continue;
      }
      if (r.status !== NEW_STREAMS_OK) {
        throw new LttError('LIVE_RELAY', `the relay at ${this.viewer.where} could not list the new streams of ${this.opts.hostname}/${this.opts.session}: status ${r.status}`);
      }
      await this.addStreams(id, r.streams);
    }
    if (this.open.size === 0 && this.streams.length === 0) this.ended = true;
  }

  private wait(task: Promise<void>): typeof NEED_DATA {
    this.pending = task.finally(() => (this.pending = undefined));
    return NEED_DATA;
  }

  next(): NextResult {
    if (this.pending !== undefined) return NEED_DATA;
    if (this.needStreams) {
      this.needStreams = false;
      return this.wait(this.fetchNewStreams(false));
    }
    let best: LiveDataStream | undefined;
    let quiet: LiveDataStream | undefined;
    for (let k = 0; k < this.streams.length; k++) {
      const s = this.streams[k]!;
      if (s.head === undefined && s.quietUntil !== undefined) {
        if (quiet === undefined || s.quietUntil < quiet.quietUntil!) quiet = s;
        continue;
      }
      if (s.head === undefined) {
        const m = s.next();
        if (m === NEED_DATA) return this.wait(Promise.resolve(s.fill()));
        if (m === undefined) {
          s.close();
          this.streams.splice(k--, 1);
          continue;
        }
        s.head = m;
        s.keyOf(m);
      }
      if (best === undefined || s.key < best.key || (s.key === best.key && compareMessages(s.head, best.head!) < 0)) best = s;
    }
    // A quiet stream holds back only what comes after its beacon (lttng-live's quiescent streams).
    if (quiet !== undefined && (best === undefined || best.key > quiet.quietUntil!)) {
      quiet.quietUntil = undefined;
      return this.next();
    }
    if (best === undefined) {
      if (this.ended) return undefined;
      // No stream (yet, or any more): the session goes on until the relay says it is over.
      return this.wait(this.fetchNewStreams(true));
    }
    const m = best.head!;
    best.head = undefined;
    if (m.type === 'inactivity') best.quietUntil = best.key;
    return m;
  }

  fill(): Promise<void> | void {
    return this.pending;
  }

  close(): void {
    for (const s of this.streams) s.close();
    this.viewer.close();
  }
}

/**
 * Connects, finds HOSTNAME/SESSION among the relay's sessions and attaches to each of them (`seek`: SEEK_LAST
 * or SEEK_BEGINNING); `onAttached` gets each one's streams. The viewer is closed when this fails.
 */
export async function attachLiveSession(
  opts: LiveSourceOptions,
  seek: number,
  onAttached: (viewer: LiveViewer, ids: readonly bigint[]) => { add(id: bigint, streams: readonly LiveStreamInfo[]): Promise<void> },
): Promise<LiveViewer> {
  const viewer = await LiveViewer.open(opts.host, opts.port, true);
  try {
    const found = (await viewer.listSessions()).filter((s) => s.hostname === opts.hostname && s.name === opts.session);
    if (found.length === 0) {
      throw new LttError('LIVE_SESSION', `Unable to connect to the requested live viewer session: no session "${opts.session}" of host "${opts.hostname}": url="${opts.url}"`);
    }
    const target = onAttached(viewer, found.map((s) => s.id));
    for (const { id } of found) {
      const r = await viewer.attach(id, seek);
      if (r.status !== AttachStatus.OK) {
        const why: Record<number, string> = {
          [AttachStatus.ALREADY]: 'There is already a viewer attached to this session',
          [AttachStatus.UNK]: `Session id ${id} is unknown`,
          [AttachStatus.NOT_LIVE]: `Session id ${id} is not a live session`,
          [AttachStatus.SEEK_ERR]: 'Seek error',
        };
        throw new LttError('LIVE_SESSION', `${why[r.status] ?? `Unknown attach return code ${r.status}`}: url="${opts.url}"`);
      }
      await target.add(id, r.streams);
    }
    return viewer;
  } catch (err) {
    viewer.close();
    throw err;
  }
}

/** Connects, finds HOSTNAME/SESSION among the relay's sessions and attaches to it. */
export async function openLiveSource(opts: LiveSourceOptions): Promise<LiveSource> {
  let source: LiveSource | undefined;
  await attachLiveSession(opts, SEEK_LAST, (viewer, ids) => {
    source = new LiveSource(viewer, ids, opts);
    return { add: (id, streams) => source!.addStreams(id, streams) };
  });
  return source!;
}
