// One CTF 1.8 trace as LTTng writes it (one metadata stream + its data streams), e.g. `.../kernel` or
// `.../ust/pid/app-1-DATE`.
//
// Contract: `create` writes the metadata preamble (trace, env, clock, packet context, event headers, the stream
// classes) at once, so the folder is a readable (empty) trace from the start. Event and stream classes can be
// added at any time; their TSDL is queued and goes out as new metadata packets before the next data packet
// leaves (or on `flushMetadata()` / `close()`), so readers never see a record whose class is not yet declared.
// Everything is synchronous except `create` (directory creation) and `close`.
// Write failures after `create` (a full disk) do not throw at the producer: a packet that cannot be written (or
// whose metadata cannot be written first) is counted in its stream's stats (unwrittenPackets/unwrittenEvents),
// the files keep only whole packets and whole metadata packets (readable up to the failure), writing is retried
// with each packet, and the first failure is kept in `writeError` and passed to `onWriteError` once.

import { randomUUID } from 'node:crypto';
import { LttError } from '../../errors.js';
import { compileEncoder, compileTranscoder, type EncoderFactory, type FieldSource, type TranscoderFactory } from './event-encoder.js';
import { type FieldDef, validateFields } from './field-types.js';
import { FileTraceSink } from './file-sink.js';
import type { FileOwner } from './owned-output.js';
import {
  checkClock,
  checkEnv,
  checkUuid,
  type ClockDef,
  type EnvValue,
  eventTsdl,
  type EventClassMeta,
  packetizeMetadata,
  preambleTsdl,
  type StreamClassDef,
  streamTsdl,
  uuidBytes,
} from './metadata.js';
import type { StreamSink, StreamSinkInfo, TraceSink } from './sink.js';
import { checkStreamWriterOptions, type StreamOwner, StreamWriter } from './stream-writer.js';

export interface TraceWriterOptions {
  /** Trace folder (created if needed). Ignored when `sink` is given. */
  readonly dir?: string;
  /** Whose trace it is: when root writes for another user, `dir` is created and filled as theirs. */
  readonly owner?: FileOwner;
  /** Where output goes instead of `dir` (e.g. a relay connection). */
  readonly sink?: TraceSink;
  /** Trace UUID; random when absent. */
  readonly uuid?: string;
  /** env block entries, written in this order (kernel: domain "kernel", tracer_name "lttng-modules", ...). */
  readonly env: Readonly<Record<string, EnvValue>>;
  readonly clock: ClockDef;
  /** Default: one class, id 0, compact header, no event context. */
  readonly streamClasses?: readonly StreamClassDef[];
  /** Metadata packet size in bytes; LTTng's is 4096. */
  readonly metadataPacketSize?: number;
  /**
   * Added to every timestamp given to streams (default 0). Timestamps are numbers, exact below 2^53 cycles;
   * a clock beyond that (CLOCK_MONOTONIC ns after 104 days of uptime) is written exactly by passing
   * `clock value - base` with a base taken at trace start.
   */
  readonly timestampBase?: bigint;
  /** Called once, at the first write failure (e.g. "Cannot write FILE: No space left on device"). */
  readonly onWriteError?: (error: LttError) => void;
}

export interface EventClassDef {
  readonly name: string;
  /** Default 0. */
  readonly streamClassId?: number;
  /** Default: the next free id of the stream class. */
  readonly id?: number;
  /** TSDL `loglevel` (UST: 0..14). */
  readonly logLevel?: number;
  readonly emfUri?: string;
  readonly fields: readonly FieldDef[];
}

export interface OpenStreamOptions {
  /** Default 0. */
  readonly streamClassId?: number;
  /** CHANNEL_CPU (kernel, UST per-UID) or CHANNEL_N; rotation adds `_0`, `_1`, ... */
  readonly fileName: string;
  readonly cpuId: number;
  /** Sub-buffer size in bytes: the packet capacity. */
  readonly packetSize: number;
  /** packet_size granularity; default 4096 as LTTng (content rounded up to the page size). */
  readonly pageSize?: number;
  /** Default: cpuId (LTTng's per-CPU streams). */
  readonly streamInstanceId?: number;
  readonly tracefileSize?: number;
  readonly tracefileCount?: number;
  /** Sub-buffers of the ring the packets come from (each `packetSize` bytes): what a snapshot ring keeps. */
  readonly ringSlots?: number;
}

interface StreamClassState {
  readonly def: StreamClassDef;
  readonly context: readonly FieldDef[];
  readonly events: (EventClassMeta | undefined)[];
  readonly factories: (EncoderFactory | undefined)[];
  nextId: number;
}

export class CtfTraceWriter implements StreamOwner {
  readonly uuid: string;
  private readonly uuidRaw: Uint8Array;
  private readonly streamClasses = new Map<number, StreamClassState>();
  /** Open streams and what their sinks were opened with (to reopen them on rotation). */
  private readonly streams = new Map<StreamWriter, StreamSinkInfo>();
  private readonly metadataPacketSize: number;
  private pendingMetadata = '';
  private metadataSoFar = '';
  private closed = false;
  private firstWriteError: LttError | undefined;
  private onWriteError: ((error: LttError) => void) | undefined;
  private owner: FileOwner | undefined;
  /** Write failures so far (packets and metadata). */
  writeFailures = 0;

  private constructor(
    private sink: TraceSink,
    uuid: string,
    private readonly clock: ClockDef,
    metadataPacketSize: number,
    private readonly timestampBase: bigint,
  ) {
    this.uuid = uuid;
    this.uuidRaw = uuidBytes(uuid);
    this.metadataPacketSize = metadataPacketSize;
  }

  static async create(opts: TraceWriterOptions): Promise<CtfTraceWriter> {
    const uuid = checkUuid('trace uuid', opts.uuid ?? randomUUID());
    checkEnv(opts.env);
    checkClock(opts.clock);
    const packetSize = opts.metadataPacketSize ?? 4096;
    if (!Number.isSafeInteger(packetSize) || packetSize < 64 || packetSize > 0x10000000) {
      throw new LttError('CTF_WRITER_BAD_OPTION', `metadata packet size must be between 64 bytes and 256 MiB, got ${packetSize}`);
    }
    const base = opts.timestampBase ?? 0n;
    if (typeof base !== 'bigint' || base < 0n || base >= 1n << 64n) {
      throw new LttError('CTF_WRITER_BAD_OPTION', `timestamp base must be a bigint in [0, 2^64), got ${String(base)}`);
    }
    let sink = opts.sink;
    if (sink === undefined) {
      if (opts.dir === undefined) throw new LttError('CTF_WRITER_BAD_OPTION', 'a trace writer needs a directory or a sink');
      sink = await FileTraceSink.create(opts.dir, opts.owner);
    }
    const w = new CtfTraceWriter(sink, uuid, opts.clock, packetSize, base);
    w.onWriteError = opts.onWriteError;
    w.owner = opts.owner;
    w.pendingMetadata = preambleTsdl(uuid, opts.env, opts.clock);
    for (const sc of opts.streamClasses ?? [{ id: 0, header: 'compact' as const }]) w.addStreamClass(sc);
    w.flushMetadata();
    return w;
  }

  /** All TSDL written so far (de-packetized metadata), plus what is queued. */
  get metadataText(): string {
    return this.metadataSoFar + this.pendingMetadata;
  }

  /** The first write failure since `create`, if any. */
  get writeError(): LttError | undefined {
    return this.firstWriteError;
  }

  get clockName(): string {
    return this.clock.name;
  }

  addStreamClass(def: StreamClassDef): void {
    this.checkOpen();
    if (!Number.isInteger(def.id) || def.id < 0 || def.id > 0xffffffff) {
      throw new LttError('CTF_WRITER_BAD_STREAM', `stream class id must be a 32-bit unsigned integer, got ${String(def.id)}`);
    }
    if (this.streamClasses.has(def.id)) throw new LttError('CTF_WRITER_BAD_STREAM', `stream class ${def.id} already exists`);
    if (def.header !== 'compact' && def.header !== 'large') {
      throw new LttError('CTF_WRITER_BAD_STREAM', `stream class header must be "compact" or "large", got ${String(def.header)}`);
    }
    const context = def.eventContext ?? [];
    validateFields(`stream class ${def.id} event context`, context);
    this.streamClasses.set(def.id, { def, context, events: [], factories: [], nextId: 0 });
    this.pendingMetadata += streamTsdl(def);
  }

  /** Declares an event class (appended to the metadata) and returns its id within its stream class. */
  addEventClass(def: EventClassDef): number {
    this.checkOpen();
    const streamClassId = def.streamClassId ?? 0;
    const sc = this.streamClasses.get(streamClassId);
    if (sc === undefined) throw new LttError('CTF_WRITER_BAD_EVENT', `event ${JSON.stringify(def.name)}: no stream class ${streamClassId}`);
    if (typeof def.name !== 'string' || def.name === '') throw new LttError('CTF_WRITER_BAD_EVENT', 'event class name must be a non-empty string');
    const id = def.id ?? sc.nextId;
    if (!Number.isInteger(id) || id < 0 || id > 0xfffffffe) {
      throw new LttError('CTF_WRITER_BAD_EVENT', `event ${JSON.stringify(def.name)}: id must be a 32-bit unsigned integer, got ${String(id)}`);
    }
    if (sc.events[id] !== undefined) throw new LttError('CTF_WRITER_BAD_EVENT', `event ${JSON.stringify(def.name)}: id ${id} already used in stream class ${streamClassId}`);
    if (def.logLevel !== undefined && (!Number.isInteger(def.logLevel) || def.logLevel < 0)) {
      throw new LttError('CTF_WRITER_BAD_EVENT', `event ${JSON.stringify(def.name)}: invalid log level ${String(def.logLevel)}`);
    }
    validateFields(`event ${def.name}`, def.fields);
    const factory = compileEncoder(sc.def.header, id, sc.context, def.fields);
    const meta: EventClassMeta = { id, name: def.name, streamClassId, logLevel: def.logLevel, emfUri: def.emfUri, fields: def.fields };
    sc.events[id] = meta;
    sc.factories[id] = factory;
    if (id >= sc.nextId) sc.nextId = id + 1;
    this.pendingMetadata += eventTsdl(meta);
    return id;
  }

  openStream(opts: OpenStreamOptions): StreamWriter {
    this.checkOpen();
    const streamClassId = opts.streamClassId ?? 0;
    if (!this.streamClasses.has(streamClassId)) throw new LttError('CTF_WRITER_BAD_STREAM', `no stream class ${streamClassId}`);
    if (!Number.isInteger(opts.cpuId) || opts.cpuId < 0 || opts.cpuId > 0xffffffff) {
      throw new LttError('CTF_WRITER_BAD_STREAM', `cpu id must be a 32-bit unsigned integer, got ${String(opts.cpuId)}`);
    }
    const instance = opts.streamInstanceId ?? opts.cpuId;
    if (!Number.isSafeInteger(instance) || instance < 0) throw new LttError('CTF_WRITER_BAD_STREAM', `invalid stream instance id ${String(instance)}`);
    for (const [what, v] of [
      ['tracefile size', opts.tracefileSize],
      ['tracefile count', opts.tracefileCount],
    ] as const) {
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new LttError('CTF_WRITER_BAD_STREAM', `invalid ${what} ${v}`);
    }
    // Validate the stream's numbers before the sink creates any file.
    checkStreamWriterOptions(opts);
    const info: StreamSinkInfo = {
      fileName: opts.fileName,
      streamClassId,
      streamInstanceId: instance,
      cpuId: opts.cpuId,
      tracefileSize: opts.tracefileSize,
      tracefileCount: opts.tracefileCount,
      ...(opts.ringSlots !== undefined ? { ring: { slots: opts.ringSlots, slotSize: opts.packetSize } } : {}),
    };
    const sink = this.sink.openStream(info);
    const s = new StreamWriter(this, sink, this.uuidRaw, {
      streamClassId,
      streamInstanceId: instance,
      cpuId: opts.cpuId,
      packetSize: opts.packetSize,
      pageSize: opts.pageSize,
      timestampBase: this.timestampBase,
    });
    this.streams.set(s, info);
    return s;
  }

  /** Writes queued metadata as new metadata packets. */
  flushMetadata(): void {
    if (this.pendingMetadata === '') return;
    const text = this.pendingMetadata;
    // Sink first: if it fails (full disk) the text stays queued and the file holds only whole packets.
    this.sink.writeMetadata(packetizeMetadata(text, this.uuidRaw, this.metadataPacketSize), text);
    this.pendingMetadata = '';
    this.metadataSoFar += text;
  }

  /**
   * Session rotation (`lttng rotate`): the current output becomes a finished trace chunk and writing goes on
   * in `target`, a new folder or sink, which gets the whole metadata and a new file per open stream. Open
   * packets are closed first (at `endTimestamp`, the rotation time, when given); sequence numbers and discarded counters continue, so the chunks read as one
   * trace (same UUID) and each chunk reads alone.
   */
  async rotate(target: { readonly dir: string } | { readonly sink: TraceSink }, endTimestamp?: number): Promise<void> {
    this.checkOpen();
    const next = 'sink' in target ? target.sink : await FileTraceSink.create(target.dir, this.owner);
    // Everything of the new chunk is opened before anything switches: a failure (full disk, no rights) leaves
    // the trace writing where it was.
    const opened: Array<[StreamWriter, StreamSink]> = [];
    try {
      this.flushMetadata();
      next.writeMetadata(packetizeMetadata(this.metadataSoFar, this.uuidRaw, this.metadataPacketSize), this.metadataSoFar);
      for (const [s, info] of this.streams) opened.push([s, next.openStream(info)]);
    } catch (err) {
      for (const [, sink] of opened) await sink.close().catch(() => undefined);
      if (!('sink' in target)) await next.close().catch(() => undefined);
      throw err;
    }
    const old = this.sink;
    this.sink = next;
    // Every stream moves now, then the old files close together: a stream's old file closes once what is
    // written behind into it is in (direct-io.ts), and waiting for that stream by stream kept the streams not
    // switched yet writing into the old chunk meanwhile.
    await Promise.all(opened.map(([s, sink]) => s.switchSink(sink, endTimestamp)));
    await old.close();
  }

  /**
   * Returns once every packet closed so far is stored or counted lost (sinks write behind: direct-io.ts); the
   * promise resolves once nothing is written behind any more.
   */
  async settle(): Promise<void> {
    await Promise.all([...this.streams.keys()].map((s) => s.settle()));
  }

  /**
   * Closes every open stream (flushing its last packet), writes queued metadata, closes the sink. Metadata that
   * cannot be written now is a write failure like the others (counted, reported), not an exception.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const s of [...this.streams.keys()]) await s.close();
    this.tryFlushMetadata();
    this.closed = true;
    await this.sink.close();
  }

  /**
   * A transcoder factory for event class `id` of a stream class: its payload fields come from `sources` (one
   * per field; see FieldSource) instead of JS values. Bind it to a stream with StreamWriter.bindTranscoder.
   */
  transcoderFactory(streamClassId: number, id: number, sources: readonly FieldSource[], helpers?: unknown): TranscoderFactory {
    const sc = this.streamClasses.get(streamClassId);
    const ev = sc?.events[id];
    if (sc === undefined || ev === undefined) {
      throw new LttError('CTF_WRITER_UNKNOWN_EVENT', `no event class ${String(id)} in stream class ${streamClassId}`);
    }
    if (sources.length !== ev.fields.length) {
      throw new LttError('CTF_WRITER_BAD_EVENT', `event ${JSON.stringify(ev.name)}: ${sources.length} field sources for ${ev.fields.length} fields`);
    }
    return compileTranscoder(sc.def.header, id, sc.context, ev.fields, sources, helpers);
  }

  // StreamOwner
  encoderFactory(streamClassId: number, id: number): EncoderFactory | undefined {
    return this.streamClasses.get(streamClassId)?.factories[id];
  }
  beforePacket(): boolean {
    return this.pendingMetadata === '' || this.tryFlushMetadata();
  }
  writeFailed(_stream: StreamWriter, error: unknown): void {
    this.noteWriteFailure(error);
  }

  /** flushMetadata() that reports a failure instead of throwing; the text stays queued for the next try. */
  private tryFlushMetadata(): boolean {
    try {
      this.flushMetadata();
      return true;
    } catch (err) {
      this.noteWriteFailure(err);
      return false;
    }
  }

  private noteWriteFailure(error: unknown): void {
    this.writeFailures++;
    if (this.firstWriteError !== undefined) return;
    this.firstWriteError = error instanceof LttError ? error : new LttError('CTF_WRITER_IO', String(error), { cause: error });
    this.onWriteError?.(this.firstWriteError);
  }
  streamClosed(stream: StreamWriter): void {
    this.streams.delete(stream);
  }

  private checkOpen(): void {
    if (this.closed) throw new LttError('CTF_WRITER_CLOSED', 'trace writer used after close');
  }
}
