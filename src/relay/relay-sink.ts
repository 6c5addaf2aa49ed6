// A trace streamed to a relay (lttng-relayd or ltt-relayd) instead of written to files: the TraceSink of
// src/ctf/writer/sink.ts over one consumer's relay connections, sending what lttng-consumerd sends for one
// trace (a kernel trace, an app's ust/pid/... trace): CREATE_SESSION joining the session daemon's current trace
// chunk, ADD_STREAM for the metadata and each data stream, STREAMS_SENT before data flows, SEND_METADATA, each
// packet on the data port with its data header and its index entry on the control port (SEND_INDEX), live
// beacons of quiet streams (SEND_INDEX without packet), and CLOSE_STREAM with each stream's last sequence number.
// Trace chunks (rotation, clear): nextChunk() gives the sink of the session's next chunk on the same connections
// (CREATE_TRACE_CHUNK); as the trace writer moves its streams there, each stream that sent packets is rotated
// (ROTATE_STREAMS: the relay's stream goes on in the new chunk from the packet whose packet_seq_num follows its
// last one, same handle), the metadata at once (sent again whole, byte for byte as in the previous chunk: a live
// viewer goes on reading the new chunk's metadata file at the offset it reached, so each chunk's metadata must
// begin with the previous one's, as LTTng's relay requires); a stream that sent nothing is closed and added
// anew. Closing the old chunk's sink then closes the chunk on this connection (CLOSE_TRACE_CHUNK with the
// session daemon's action: archive, delete, nothing); the relay acts once every connection closed it.
//
// Contract: the producer calls synchronously (sink.ts), the network is asynchronous: each call copies what it
// sends and queues it; one queue per connection keeps the relay's order (metadata before the packets that need
// it). Packets are copied into staging buffers the connection reuses once the socket is done with them (a fresh
// buffer per packet cost page faults and garbage collection: most of what streaming added to the kernel
// consumer's CPU), and a packet's SEND_INDEX reply is not awaited before the next packet goes (replies come in
// order; a refusal fails the connection as a lost one does). The queue is bounded (maxQueuedBytes): a packet beyond it is refused at once (the writer counts it as
// discarded), as lttng-consumerd's ring fills when the network is slower than the tracer. When the relay goes
// (connection closed, reset, no answer), every packet not delivered is reported lost (`lost`), later writes
// throw, `onGone` is called once with an error that says how many packets the relay never acknowledged (`loss`
// keeps it when work was outstanding), and close() still resolves: the session reports the loss, never hangs on it.

import { LttError } from '../errors.js';
import { encodeIndexEntry, INDEX_ENTRY_SIZE } from '../ctf/writer/index-file.js';
import type { PacketIndexEntry, StreamSink, StreamSinkInfo, TraceSink } from '../ctf/writer/sink.js';
import { type ChunkCloseAction, type ClientSession, HANDSHAKE_TIMEOUT_MS, RelayClient, relayFailure } from './relay-client.js';

/** The session daemon's relay session as its consumers join it; plain JSON (it crosses to apps' agents). */
export interface RelaySessionRef {
  readonly name: string;
  readonly hostname: string;
  readonly liveTimerUs: number;
  /** 32 hex digits. */
  readonly sessiondUuid: string;
  readonly sessiondSessionId: number;
  /** Seconds since the epoch: the relay names the session folder after it. */
  readonly creationTime: number;
  /** The current trace chunk, which the session daemon created. */
  readonly chunkId: number;
  /** A snapshot's relay session (its chunk is named `chunkName`). */
  readonly snapshot?: boolean;
  readonly chunkName?: string;
  readonly basePath: string;
  readonly nameContainsCreationTime: boolean;
}

/** Where a consumer streams (plain JSON: it crosses to worker threads and apps). */
export interface RelaySinkTarget {
  readonly host: string;
  readonly controlPort: number;
  readonly dataPort: number;
  readonly session: RelaySessionRef;
}

/** CREATE_SESSION's fields for `ref` (`join`: with its current chunk, as a consumer joins it). */
export function clientSession(ref: RelaySessionRef, join: boolean): ClientSession {
  return {
    name: ref.name,
    hostname: ref.hostname,
    liveTimerUs: ref.liveTimerUs,
    sessiondUuid: Buffer.from(ref.sessiondUuid, 'hex'),
    sessiondSessionId: BigInt(ref.sessiondSessionId),
    creationTime: ref.creationTime,
    basePath: ref.basePath,
    nameContainsCreationTime: ref.nameContainsCreationTime,
    ...(ref.snapshot ? { snapshot: true } : {}),
    ...(join ? { currentChunkId: BigInt(ref.chunkId) } : {}),
  };
}

export interface RelaySinkOptions extends RelaySinkTarget {
  /** The trace's folder in the session: kernel, ust/pid/NAME-PID-DATE, ... */
  readonly tracePath: string;
  /** Called once when the relay is gone; the error says which relay and why, in one line. */
  readonly onGone?: (error: LttError) => void;
  /** Bytes queued for the relay before packets are refused (default 32 MiB). */
  readonly maxQueuedBytes?: number;
  /** How long stop/close wait for the relay to take what is queued before giving it up (default 20 s). */
  readonly settleTimeoutMs?: number;
}

/** The session daemon's next trace chunk as a consumer goes on in it (plain JSON: it crosses to workers and apps). */
export interface RelayChunk {
  readonly id: number;
  /** Seconds since the epoch. */
  readonly creationTime: number;
  /** What the relay does with the chunk being left once closed: archived (rotate) or deleted (clear). */
  readonly closeAction: ChunkCloseAction;
}

const LAST_SEQ_NONE = 0xffffffffffffffffn;
/** Staging memory a connection keeps for reuse: a few of the largest (1 MiB) kernel packets per CPU. */
const MAX_SPARE_BYTES = 8 << 20;

/** Connects and opens the relay session; throws a one-line LttError naming the relay when it cannot. */
export async function openRelaySink(opts: RelaySinkOptions): Promise<RelayTraceSink> {
  const sink = new RelayTraceSink(new RelayLink(opts), BigInt(opts.session.chunkId));
  await sink.ready;
  return sink;
}

/** Creates the sink at once; writes queue behind the connection (an app's agent cannot wait). */
export function relayTraceSink(opts: RelaySinkOptions): RelayTraceSink {
  return new RelayTraceSink(new RelayLink(opts), BigInt(opts.session.chunkId));
}

/** One consumer's connections to the relay and their one ordered queue, shared by the chunks it writes. */
class RelayLink {
  readonly ready: Promise<void>;
  tail: Promise<void>;
  client: RelayClient | undefined;
  metadataHandle = -1n;
  /** RESET_METADATA's version: how many times the metadata was regenerated. */
  metadataVersion = 0n;
  readonly where: string;
  private queuedBytes = 0;
  failure: LttError | undefined;
  private readonly maxQueuedBytes: number;
  /** Staging buffers the socket is done with, for the next packets (at most MAX_SPARE_BYTES kept). */
  private readonly spare: Buffer[] = [];
  private spareBytes = 0;
  /** The reply to the last SEND_INDEX sent, not awaited by the queue: drained() waits for it. */
  private lastAck: Promise<void> = Promise.resolve();
  /** Packets handed to this link whose index entry the relay has not acknowledged yet, and their bytes. */
  private unackedPackets = 0;
  private unackedBytes = 0;
  /**
   * Once the relay was given up or went away with work outstanding (packets not acknowledged, or a wait for it
   * that timed out): the failure's message, which says how many packets were not delivered. Stays
   * undefined when the relay went after everything was through (it closes the connections after a session's end).
   */
  loss: string | undefined;

  constructor(readonly opts: RelaySinkOptions) {
    this.where = `${opts.host}:${opts.controlPort}`;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 32 << 20;
    this.ready = this.connect();
    this.tail = this.ready.catch(() => undefined);
  }

  private async connect(): Promise<void> {
    try {
      const client = await RelayClient.connect(this.opts.host, this.opts.controlPort, this.opts.dataPort);
      this.client = client;
      this.metadataHandle = await client.within(HANDSHAKE_TIMEOUT_MS, async () => {
        const version = await client.version();
        if (version.major !== 2 || version.minor < 11) throw new LttError('RELAY_VERSION', `relay protocol ${version.major}.${version.minor} is older than 2.11`);
        await client.createSession(clientSession(this.opts.session, true));
        return client.addStream('metadata', this.opts.tracePath, BigInt(this.opts.session.chunkId));
      });
      // From here on a connection that ends means the relay is gone; during the handshake it is a failure to
      // connect (the catch below), whatever comes first, the socket's error or the command's rejection.
      client.onceGone((error) => this.fail(error));
    } catch (error) {
      const e = new LttError('RELAY_CONNECT', `Cannot stream to the relay at ${this.where}: ${relayFailure(error)}`, { cause: error });
      this.fail(e);
      throw e;
    }
  }

  fail(error: unknown): void {
    if (this.failure !== undefined) return;
    // Lost: packets the relay never acknowledged, or a wait for it that timed out. Bytes still queued without an
    // unacknowledged packet (a stream's close, a beacon) are not trace data: lttng-relayd closes the data
    // connection of a session being destroyed while such commands may still be queued, and the session then
    // reported a loss of nothing (exit 1) after its whole trace had been delivered.
    const outstanding = this.unackedPackets > 0 || (error instanceof LttError && error.code === 'RELAY_TIMEOUT');
    // Packets the relay may have received but never confirmed count as not delivered: nothing says it wrote them.
    const n = this.unackedPackets;
    const undelivered = n > 0 ? `; ${n} packet${n === 1 ? '' : 's'} (${this.unackedBytes} bytes) not delivered` : '';
    this.failure =
      error instanceof LttError && error.code === 'RELAY_CONNECT'
        ? (undelivered === '' ? error : new LttError('RELAY_CONNECT', `${error.message}${undelivered}`, { cause: error.cause }))
        : new LttError('RELAY_GONE', `The relay at ${this.where} is gone: ${relayFailure(error)}${undelivered}`, { cause: error });
    if (outstanding) this.loss = this.failure.message;
    this.client?.destroy();
    this.opts.onGone?.(this.failure);
  }

  checkWritable(bytes: number): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.queuedBytes + bytes > this.maxQueuedBytes) {
      throw new LttError('RELAY_BACKLOG', `The relay at ${this.where} takes data slower than it is recorded (${this.queuedBytes} bytes waiting)`);
    }
  }

  /** Queues `op` after everything queued before; `lost` hears of its failure (the relay gone before or during it). */
  enqueue(bytes: number, op: (client: RelayClient) => Promise<void>, lost?: (err: unknown) => void): void {
    this.queuedBytes += bytes;
    this.tail = this.tail.then(async () => {
      try {
        if (this.failure !== undefined) throw this.failure;
        await op(this.client!);
      } catch (error) {
        this.fail(error);
        lost?.(this.failure);
      } finally {
        this.queuedBytes -= bytes;
      }
    });
  }

  /** A copy of `bytes` in a reused staging buffer (a subarray of it); give it back with release(). */
  stage(bytes: Uint8Array): Buffer {
    let i = this.spare.findIndex((b) => b.length >= bytes.length);
    if (i < 0 && this.spare.length > 0) i = 0;
    let buf = i >= 0 ? this.spare.splice(i, 1)[0]! : undefined;
    if (buf !== undefined) this.spareBytes -= buf.length;
    if (buf === undefined || buf.length < bytes.length) buf = Buffer.allocUnsafeSlow(bytes.length);
    buf.set(bytes);
    return buf.subarray(0, bytes.length);
  }

  release(staged: Buffer): void {
    const whole = Buffer.from(staged.buffer, staged.byteOffset, staged.buffer.byteLength - staged.byteOffset);
    if (this.spareBytes + whole.length > MAX_SPARE_BYTES) return;
    this.spare.push(whole);
    this.spareBytes += whole.length;
  }

  /** A packet of `bytes` is handed to this link: not delivered until its index is acknowledged (sendIndex). */
  packetQueued(bytes: number): void {
    this.unackedPackets++;
    this.unackedBytes += bytes;
  }

  /**
   * Sends packet `seq`'s index (of `packetBytes`, a packet counted by packetQueued(); none: a beacon); its reply
   * is awaited by drained(), a refusal fails the connection (`lost` told).
   */
  sendIndex(client: RelayClient, handle: bigint, seq: bigint, entry: Buffer, lost?: (err: unknown) => void, packetBytes?: number): void {
    const ack = client.sendIndex(handle, seq, entry).then(
      () => {
        if (packetBytes === undefined) return;
        this.unackedPackets--;
        this.unackedBytes -= packetBytes;
      },
      (error: unknown) => {
        this.fail(error);
        lost?.(this.failure);
      },
    );
    this.lastAck = ack;
  }

  /** Resolves once the queue is through, or once it is given up (relay then gone) after the settle timeout. */
  async drained(): Promise<void> {
    const tail = this.tail.then(() => this.lastAck);
    let timer: NodeJS.Timeout | undefined;
    const limit = this.opts.settleTimeoutMs ?? 20_000;
    await Promise.race([
      tail,
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.fail(new LttError('RELAY_TIMEOUT', `no answer within ${limit / 1000} s`));
          resolve();
        }, limit);
      }),
    ]);
    clearTimeout(timer);
  }
}

/** A relay stream as it lives across chunks: its handle and sequence numbers. */
interface StreamState {
  handle: bigint;
  /** The writer's name for the stream (StreamSinkInfo.fileName): how the next chunk's sink finds it. */
  readonly fileName: string;
  /** Its files' name on the relay: fileName, unless that would empty another stream's file (RelayTraceSink.relayName). */
  readonly relayName: string;
  /** The channel's tracefile size and count (ADD_STREAM: the relay splits the stream's files by them). */
  readonly files: { readonly size: number; readonly count: number };
  /** Next data-port sequence number. */
  nextSeq: bigint;
  /** packet_seq_num of the last packet sent (-1: none yet). */
  lastPacketSeq: number;
  /** The next chunk's stream sink took it over (the rotation under way). */
  claimed: boolean;
}

/** The packets of one trace chunk over a consumer's relay connection. */
export class RelayTraceSink implements TraceSink {
  /** Resolves once the relay session and the metadata stream are open; rejects (one line) if they cannot be. */
  readonly ready: Promise<void>;
  /** Streams were added since the last STREAMS_SENT: the relay publishes them to live viewers on the next one. */
  private unannounced = false;
  private closed = false;
  /** The next chunk's sink and what becomes of this chunk, once nextChunk() was called. */
  private successor: { readonly sink: RelayTraceSink; readonly chunk: RelayChunk } | undefined;
  /** Streams of the previous chunk that rotate into this one, by file name (taken by openStream()). */
  private readonly inherited = new Map<string, StreamState>();
  private metadataRotated: boolean;
  /**
   * The plain-text metadata sent in this chunk: each batch as sent (with its signature) and the texts it carries,
   * views of it (metadata is kept once: a session's can be megabytes, and a chunk keeps it whole for the next).
   */
  private readonly metadata: MetadataBatch[] = [];
  /**
   * A rotated chunk: the previous chunk's metadata, sent again whole before anything else, and the batches of
   * text it holds that the writers have not sent again yet (they send them again batched otherwise, e.g. one
   * channel's declarations at once). Batches carry a signature each, so sending the writers' text as they batch
   * it now would not reproduce the previous chunk's bytes.
   */
  private replay: MetadataBatch | undefined;
  /**
   * The previous chunk, whose metadata this chunk's begins with: taken when this chunk's metadata starts (its
   * first writeMetadata()), so metadata the previous chunk still received after nextChunk() is in it (the
   * session daemon's per-UID traces keep sending their apps' declarations there until every app rotated).
   */
  private predecessor: RelayTraceSink | undefined;
  /** The text batches this chunk sent itself (not the replay; views, as in `metadata`): a writer's batch sent again is not sent twice. */
  private readonly ownTexts: Buffer[] = [];
  /** Open data streams (DATA_PENDING is asked of these). */
  readonly streams = new Set<RelayStreamSink>();
  /** Relay names of this chunk's streams that sent packets here (their files hold them: relayName). */
  readonly filled = new Set<string>();

  constructor(
    readonly link: RelayLink,
    readonly chunkId: bigint,
    rotated = false,
  ) {
    this.ready = link.ready;
    this.metadataRotated = !rotated;
  }

  /** Why the relay is gone, once it is. */
  get error(): LttError | undefined {
    return this.link.failure;
  }

  /** The relay was given up or went away with this trace's data outstanding: what was not delivered (see RelayLink.loss). */
  get loss(): string | undefined {
    return this.link.loss;
  }

  checkWritable(bytes: number): void {
    if (this.closed) throw new LttError('RELAY_CLOSED', 'relay sink used after close');
    this.link.checkWritable(bytes);
  }

  enqueue(bytes: number, op: (client: RelayClient) => Promise<void>, lost?: (err: unknown) => void): void {
    if (this.unannounced) {
      this.unannounced = false;
      this.link.enqueue(0, (c) => c.streamsSent());
    }
    this.link.enqueue(bytes, op, lost);
  }

  /**
   * The sink of the session's next chunk on these connections (CREATE_TRACE_CHUNK queued now). Streams closed in
   * this sink from now on rotate into it; closing this sink closes this chunk with `chunk.closeAction`.
   */
  nextChunk(chunk: RelayChunk): RelayTraceSink {
    this.checkWritable(0);
    const next = new RelayTraceSink(this.link, BigInt(chunk.id), true);
    next.predecessor = this;
    this.successor = { sink: next, chunk };
    this.link.enqueue(0, (c) => c.createTraceChunk(BigInt(chunk.id), chunk.creationTime));
    for (const s of this.streams) {
      s.state.claimed = false;
      next.inherited.set(s.state.fileName, s.state);
    }
    return next;
  }

  writeMetadata(packets: Uint8Array): void {
    this.checkWritable(packets.length);
    if (!this.metadataRotated) {
      // The relay starts the metadata file of this chunk at once; the whole metadata follows.
      this.metadataRotated = true;
      this.enqueue(0, (c) => c.rotateStreams(this.chunkId, [{ handle: this.link.metadataHandle, rotateAt: 0n }]));
      const before = this.predecessor;
      this.predecessor = undefined;
      if (before !== undefined) this.replay = joinedMetadata(before.metadata);
      const replay = this.replay;
      if (replay !== undefined && replay.sent.length > 0) {
        this.metadata.push({ sent: replay.sent, texts: [...replay.texts] });
        this.enqueue(replay.sent.length, (c) => c.sendMetadata(this.link.metadataHandle, replay.sent));
      }
    }
    let text = Buffer.from(packets.buffer, packets.byteOffset, packets.byteLength);
    // What the previous chunk's metadata already holds is not sent again (whole batches, in any order), nor
    // what this chunk sent already (a declaration is never sent twice: it would be a duplicate in TSDL).
    const old = this.replay?.texts ?? [];
    const own = this.ownTexts;
    for (let i = 0; text.length > 0 && i < old.length + own.length; ) {
      const batch = i < old.length ? old[i]! : own[i - old.length]!;
      if (batch.length <= text.length && text.subarray(0, batch.length).equals(batch)) {
        if (i < old.length) old.splice(i, 1);
        text = text.subarray(batch.length);
        i = 0;
      } else i++;
    }
    if (text.length === 0) return;
    const copy = withTextSignature(text);
    if (!isPacketized(copy)) {
      // The text is the end of what is sent (after the signature, if one was added).
      const kept = copy.subarray(copy.length - text.length);
      this.metadata.push({ sent: copy, texts: [kept] });
      this.ownTexts.push(kept);
    }
    this.enqueue(copy.length, (c) => c.sendMetadata(this.link.metadataHandle, copy));
  }

  /**
   * `regenerate metadata`: the relay empties this chunk's metadata file (RESET_METADATA, as lttng-consumerd asks
   * of lttng-relayd) and the text it held is sent again whole, in the order it came (plain-text metadata only:
   * user-space traces). Resolves once the relay took it.
   */
  async regenerateMetadata(): Promise<void> {
    this.checkWritable(0);
    if (!this.metadataRotated) return; // nothing sent in this chunk yet: its metadata comes whole when it starts
    const texts = this.metadata.flatMap((batch) => batch.texts);
    this.metadata.length = 0;
    this.ownTexts.length = 0;
    this.replay = undefined;
    const version = ++this.link.metadataVersion;
    this.enqueue(0, (c) => c.resetMetadata(this.link.metadataHandle, version));
    for (const text of texts) this.writeMetadata(text);
    await this.link.drained();
    if (this.link.failure !== undefined) throw this.link.failure;
  }

  openStream(info: StreamSinkInfo): StreamSink {
    this.checkWritable(0);
    const state = this.inherited.get(info.fileName);
    if (state !== undefined && !state.claimed) {
      this.inherited.delete(info.fileName);
      state.claimed = true;
      const stream = new RelayStreamSink(this, state);
      this.streams.add(stream);
      return stream;
    }
    const files = { size: info.tracefileSize ?? 0, count: info.tracefileCount ?? 0 };
    const relayName = this.relayName(info.fileName);
    const fresh: StreamState = { handle: -1n, fileName: info.fileName, relayName, files, nextSeq: 0n, lastPacketSeq: -1, claimed: false };
    const stream = new RelayStreamSink(this, fresh);
    this.streams.add(stream);
    this.addStream(fresh);
    return stream;
  }

  /**
   * The relay name of a new stream the writer calls `fileName`: that name, unless a stream of this chunk under it
   * sent packets or is still open (or will go on here after a rotation), then the first free `fileName-N`. A relay
   * opens a new stream's files anew (lttng-relayd's O_TRUNC, ltt-relayd's 'w+'): a second stream of one name
   * would empty the first one's file, packets gone. Writers name streams uniquely but for one case, a per-UID live
   * stream that ended (idle streams past their bound, uid-relay-traces.ts) and whose thread records again in a
   * later run of its app. LTTng never reuses a name either (its per-UID streams live as long as the session); the
   * name is new, the stream class and instance the same, so a reader takes both files as one stream.
   */
  private relayName(fileName: string): string {
    const taken = (name: string): boolean => {
      if (this.filled.has(name)) return true;
      for (const s of this.streams) if (s.state.relayName === name) return true;
      for (const state of this.inherited.values()) if (state.relayName === name) return true;
      return false;
    };
    if (!taken(fileName)) return fileName;
    let n = 1;
    while (taken(`${fileName}-${n}`)) n++;
    return `${fileName}-${n}`;
  }

  private addStream(state: StreamState): void {
    this.enqueue(0, async (c) => {
      state.handle = await c.addStream(state.relayName, this.link.opts.tracePath, this.chunkId, state.files);
    });
    this.unannounced = true;
  }

  /** A stream of this chunk is done: rotated into the next chunk when it sent packets, else closed (and, if the next chunk took it over, added there anew). */
  streamClosed(stream: RelayStreamSink): void {
    this.streams.delete(stream);
    const state = stream.state;
    const next = this.successor;
    if (next !== undefined && state.lastPacketSeq >= 0) {
      // A stream opened here after nextChunk() (a writer that had not rotated yet) goes on there too.
      if (!state.claimed && !next.sink.inherited.has(state.fileName)) next.sink.inherited.set(state.fileName, state);
      this.enqueue(0, async (c) => {
        await stream.written(c);
        await c.rotateStreams(next.sink.chunkId, [{ handle: state.handle, rotateAt: BigInt(state.lastPacketSeq + 1) }]);
      });
      return;
    }
    const last = state.nextSeq === 0n ? LAST_SEQ_NONE : state.nextSeq - 1n;
    this.enqueue(0, async (c) => {
      await stream.written(c);
      await c.closeStream(state.handle, last);
    });
    if (next !== undefined) {
      next.sink.inherited.delete(state.fileName);
      if (state.claimed) {
        // Taken over already (the kernel's writer opens the next chunk's streams first): a new relay stream.
        state.nextSeq = 0n;
        next.sink.addStream(state);
      }
    }
  }

  /**
   * Resolves once the relay wrote everything queued (its DATA_PENDING says so for every stream, as lttng's stop
   * waits "for data availability"), or once it is given up for not answering within the settle timeout (then
   * reported gone): a stop never hangs on a stuck relay.
   */
  async settle(only?: RelayStreamSink): Promise<void> {
    for (const s of only ? [only] : this.streams) if (this.streams.has(s)) this.enqueue(0, (c) => s.written(c));
    await this.link.drained();
  }

  /**
   * Ends this chunk on this connection: after a rotation, CLOSE_TRACE_CHUNK with the session daemon's action (the
   * connection goes on in the next chunk); else the metadata stream closes and so do the connections.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    const next = this.successor;
    if (next !== undefined) {
      // Streams of the previous chunk nobody took over here (their thread ended) end in this chunk.
      for (const state of next.sink.inherited.values()) {
        if (state.claimed) continue;
        const last = state.nextSeq === 0n ? LAST_SEQ_NONE : state.nextSeq - 1n;
        this.enqueue(0, (c) => c.closeStream(state.handle, last));
      }
      next.sink.inherited.clear();
      const closeTime = Math.floor(Date.now() / 1000);
      this.enqueue(0, async (c) => {
        await c.closeTraceChunk(this.chunkId, closeTime, next.chunk.closeAction);
      });
      this.closed = true;
      await this.link.drained();
      return;
    }
    this.enqueue(0, (c) => c.closeStream(this.link.metadataHandle, LAST_SEQ_NONE));
    this.closed = true;
    await this.settle();
    if (this.link.failure === undefined) this.link.client?.close();
  }
}

/** Metadata as sent to the relay in one SEND_METADATA, and the writers' text batches it carries (views of `sent`). */
interface MetadataBatch {
  readonly sent: Buffer;
  readonly texts: Buffer[];
}

/** `batches` as one batch: their bytes joined, their texts views of the joined bytes (the old ones can go). */
function joinedMetadata(batches: readonly MetadataBatch[]): MetadataBatch {
  const sent = Buffer.concat(batches.map((b) => b.sent));
  const texts: Buffer[] = [];
  let base = 0;
  for (const b of batches) {
    for (const t of b.texts) {
      const at = base + t.byteOffset - b.sent.byteOffset;
      texts.push(sent.subarray(at, at + t.length));
    }
    base += b.sent.length;
  }
  return { sent, texts };
}

const METADATA_PACKET_MAGIC = 0x75d11d57;
const TEXT_SIGNATURE = Buffer.from('/* CTF 1.8 */\n');

function isPacketized(bytes: Buffer): boolean {
  return bytes.length >= 4 && bytes.readUInt32LE(0) === METADATA_PACKET_MAGIC;
}

/**
 * A copy of metadata to send. Plain-text metadata (ltt/ust's, as LTTng-UST's) that follows earlier text starts
 * with the text signature, a TSDL comment: babeltrace2 2.0's lttng-live appends each batch of new metadata as a
 * new text and checks that signature every time (on its absence it reads the version from uninitialized
 * memory, and a live viewer dies of "Invalid metadata version" when a new stream class arrives mid-session).
 */
function withTextSignature(packets: Uint8Array): Buffer {
  const bytes = Buffer.from(packets.buffer, packets.byteOffset, packets.byteLength);
  if (isPacketized(bytes) || bytes.length === 0 || bytes.subarray(0, 6).toString('latin1') === '/* CTF') return Buffer.from(bytes);
  return Buffer.concat([TEXT_SIGNATURE, bytes]);
}

class RelayStreamSink implements StreamSink {
  private closed = false;

  constructor(
    private readonly trace: RelayTraceSink,
    readonly state: StreamState,
  ) {}

  /** Resolves once the relay wrote every packet sent so far (DATA_PENDING, asked until it says none). */
  async written(c: RelayClient): Promise<void> {
    if (this.state.nextSeq === 0n) return;
    while (await c.dataPending(this.state.handle, this.state.nextSeq - 1n)) await new Promise((r) => setTimeout(r, 5));
  }

  writePacket(packet: Uint8Array, index: PacketIndexEntry, lost?: (err: unknown) => void): void {
    this.trace.checkWritable(packet.length);
    const link = this.trace.link;
    const copy = link.stage(packet);
    // The packet's tail of zeros up to its packet size is not sent: the relay writes it (the data header's padding).
    const padding = index.packetSizeBits / 8 - copy.length;
    const entry = Buffer.alloc(INDEX_ENTRY_SIZE);
    encodeIndexEntry(entry, 0, 0, index);
    const state = this.state;
    const seq = state.nextSeq++;
    state.lastPacketSeq = index.packetSeqNum;
    this.trace.filled.add(state.relayName);
    let sent = false;
    const bytes = copy.length;
    link.packetQueued(bytes);
    this.trace.enqueue(
      bytes,
      async (c) => {
        sent = true;
        await c.sendPacket(state.handle, seq, copy, padding, () => link.release(copy));
        link.sendIndex(c, state.handle, seq, entry, lost, bytes);
      },
      (error) => {
        // Never handed to the socket (the relay was gone before its turn): its buffer is free now.
        if (!sent) link.release(copy);
        lost?.(error);
      },
    );
  }

  /** SEND_INDEX with a zero packet size (lttng-consumerd's send_empty_index()): the relay answers viewers INACTIVE. */
  beacon(timestampEnd: bigint, streamClassId: number): void {
    const state = this.state;
    // The relay takes a beacon only for a stream that has packets (lttng-relayd's rule too).
    if (this.closed || state.nextSeq === 0n || this.trace.error !== undefined) return;
    const entry = Buffer.alloc(INDEX_ENTRY_SIZE);
    // An entry of no packet: only its end time and stream class say anything.
    encodeIndexEntry(entry, 0, 0, { packetSizeBits: 0, contentSizeBits: 0, timestampBegin: 0n, timestampEnd, eventsDiscarded: 0, streamId: streamClassId, streamInstanceId: 0, packetSeqNum: 0 });
    this.trace.enqueue(0, async (c) => this.trace.link.sendIndex(c, state.handle, state.nextSeq - 1n, entry));
  }

  settle(): Promise<void> {
    return this.trace.settle(this);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.trace.error !== undefined) return;
    this.trace.streamClosed(this);
  }
}
