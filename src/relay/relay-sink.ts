// A trace streamed to a relay (lttng-relayd or ltt-relayd) instead of written to files: the TraceSink of
// src/ctf/writer/sink.ts over one consumer's relay connections, sending what lttng-consumerd sends for one
// trace (a kernel trace, an app's ust/pid/... trace): CREATE_SESSION joining the session daemon's current trace
// chunk, ADD_STREAM for the metadata and each data stream, STREAMS_SENT before data flows, SEND_METADATA, each
// packet on the data port with its data header and its index entry on the control port (SEND_INDEX), and
// CLOSE_STREAM with each stream's last sequence number.
//
// Contract: the producer calls synchronously (sink.ts), the network is asynchronous: each call copies what it
// sends and queues it; one queue per connection keeps the relay's order (metadata before the packets that need
// it). The queue is bounded (maxQueuedBytes): a packet beyond it is refused at once (the writer counts it as
// discarded), as lttng-consumerd's ring fills when the network is slower than the tracer. When the relay goes
// (connection closed, reset, no answer), every packet not delivered is reported lost (`lost`), later writes
// throw, `onGone` is called once, and close() still resolves: the session reports the loss, never hangs on it.

import { LttError } from '../errors.js';
import { encodeIndexEntry, INDEX_ENTRY_SIZE } from '../ctf/writer/index-file.js';
import type { PacketIndexEntry, StreamSink, StreamSinkInfo, TraceSink } from '../ctf/writer/sink.js';
import { type ClientSession, RelayClient, relayFailure } from './relay-client.js';

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

const LAST_SEQ_NONE = 0xffffffffffffffffn;

/** Connects and opens the relay session; throws a one-line LttError naming the relay when it cannot. */
export async function openRelaySink(opts: RelaySinkOptions): Promise<RelayTraceSink> {
  const sink = new RelayTraceSink(opts);
  await sink.ready;
  return sink;
}

export class RelayTraceSink implements TraceSink {
  /** Resolves once the relay session and the metadata stream are open; rejects (one line) if they cannot be. */
  readonly ready: Promise<void>;
  private tail: Promise<void>;
  private client: RelayClient | undefined;
  private metadataHandle = -1n;
  private readonly chunkId: bigint;
  private readonly where: string;
  private queuedBytes = 0;
  private failure: LttError | undefined;
  /** Streams were added since the last STREAMS_SENT: the relay publishes them to live viewers on the next one. */
  private unannounced = false;
  private closed = false;
  private readonly maxQueuedBytes: number;

  /** Starts connecting at once; what is written meanwhile is queued behind the connection (an app's agent cannot wait). */
  constructor(private readonly opts: RelaySinkOptions) {
    this.where = `${opts.host}:${opts.controlPort}`;
    this.chunkId = BigInt(opts.session.chunkId);
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 32 << 20;
    this.ready = this.connect();
    this.tail = this.ready.catch(() => undefined);
  }

  private async connect(): Promise<void> {
    try {
      const client = await RelayClient.connect(this.opts.host, this.opts.controlPort, this.opts.dataPort);
      this.client = client;
      client.onceGone((error) => this.fail(error));
      const version = await client.version();
      if (version.major !== 2 || version.minor < 11) throw new LttError('RELAY_VERSION', `relay protocol ${version.major}.${version.minor} is older than 2.11`);
      await client.createSession(clientSession(this.opts.session, true));
      this.metadataHandle = await client.addStream('metadata', this.opts.tracePath, this.chunkId);
    } catch (error) {
      const e = new LttError('RELAY_CONNECT', `Cannot stream to the relay at ${this.where}: ${relayFailure(error)}`, { cause: error });
      this.fail(e);
      throw e;
    }
  }

  /** Why the relay is gone, once it is. */
  get error(): LttError | undefined {
    return this.failure;
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure =
      error instanceof LttError && error.code === 'RELAY_CONNECT' ? error : new LttError('RELAY_GONE', `The relay at ${this.where} is gone: ${relayFailure(error)}`, { cause: error });
    this.client?.destroy();
    this.opts.onGone?.(this.failure);
  }

  /** Throws when nothing more can be queued (relay gone, backlog full). */
  checkWritable(bytes: number): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new LttError('RELAY_CLOSED', 'relay sink used after close');
    if (this.queuedBytes + bytes > this.maxQueuedBytes) {
      throw new LttError('RELAY_BACKLOG', `The relay at ${this.where} takes data slower than it is recorded (${this.queuedBytes} bytes waiting)`);
    }
  }

  /** Queues `op` after everything queued before; `lost` hears of its failure (the relay gone before or during it). */
  enqueue(bytes: number, op: (client: RelayClient) => Promise<void>, lost?: (err: unknown) => void): void {
    if (this.unannounced) {
      this.unannounced = false;
      this.enqueue(0, (c) => c.streamsSent());
    }
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

  writeMetadata(packets: Uint8Array): void {
    this.checkWritable(packets.length);
    const copy = Buffer.from(packets);
    this.enqueue(copy.length, (c) => c.sendMetadata(this.metadataHandle, copy));
  }

  /** Open data streams (DATA_PENDING is asked of these; a closed stream's handle is the relay's to forget). */
  readonly streams = new Set<RelayStreamSink>();

  openStream(info: StreamSinkInfo): StreamSink {
    this.checkWritable(0);
    const stream = new RelayStreamSink(this);
    this.streams.add(stream);
    this.enqueue(0, async (c) => {
      stream.handle = await c.addStream(info.fileName, this.opts.tracePath, this.chunkId);
    });
    this.unannounced = true;
    return stream;
  }

  /**
   * Resolves once the relay wrote everything queued (its DATA_PENDING says so for every stream, as lttng's stop
   * waits "for data availability"), or once it is given up for not answering within the settle timeout (then
   * reported gone): a stop never hangs on a stuck relay.
   */
  async settle(only?: RelayStreamSink): Promise<void> {
    for (const s of only ? [only] : this.streams) if (this.streams.has(s)) this.enqueue(0, (c) => s.written(c));
    const tail = this.tail;
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.enqueue(0, (c) => c.closeStream(this.metadataHandle, LAST_SEQ_NONE));
    this.closed = true;
    await this.settle();
    if (this.failure === undefined) this.client?.close();
  }
}

class RelayStreamSink implements StreamSink {
  handle = -1n;
  private nextSeq = 0n;
  private closed = false;

  /** Resolves once the relay wrote every packet sent so far (DATA_PENDING, asked until it says none). */
  async written(c: RelayClient): Promise<void> {
    if (this.nextSeq === 0n) return;
    while (await c.dataPending(this.handle, this.nextSeq - 1n)) await new Promise((r) => setTimeout(r, 5));
  }

  constructor(private readonly trace: RelayTraceSink) {}

  writePacket(packet: Uint8Array, index: PacketIndexEntry, lost?: (err: unknown) => void): void {
    this.trace.checkWritable(packet.length);
    const copy = Buffer.from(packet);
    // The packet's tail of zeros up to its packet size is not sent: the relay writes it (the data header's padding).
    const padding = index.packetSizeBits / 8 - copy.length;
    const entry = Buffer.alloc(INDEX_ENTRY_SIZE);
    encodeIndexEntry(entry, 0, 0, index);
    const seq = this.nextSeq++;
    this.trace.enqueue(
      copy.length,
      async (c) => {
        await c.sendPacket(this.handle, seq, copy, padding);
        await c.sendIndex(this.handle, seq, entry);
      },
      lost,
    );
  }

  settle(): Promise<void> {
    return this.trace.settle(this);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.trace.error !== undefined) return;
    this.trace.streams.delete(this);
    const last = this.nextSeq === 0n ? LAST_SEQ_NONE : this.nextSeq - 1n;
    this.trace.enqueue(0, async (c) => {
      await this.written(c);
      await c.closeStream(this.handle, last);
    });
  }
}
