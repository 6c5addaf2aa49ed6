// ltt's CTF 1.8 writer: writes what LTTng 2.13 writes (packetized TSDL metadata, per-CPU data streams of
// packets with LTTng's packet context and compact/large event headers, index files v1.1), for the kernel
// consumer and the Node.js tracer. Checked against /usr/bin/babeltrace2 by test/ctf/writer*.test.ts.
//
// API
// ---
//   const trace = await CtfTraceWriter.create({
//     dir: '/path/kernel',                   // or sink: TraceSink (relay); uuid?: string (random by default)
//     env: { domain: 'kernel', tracer_name: 'lttng-modules', tracer_major: 2, ... },  // string | number | bigint
//     clock: { name: 'monotonic', uuid?, description?, frequency: 1e9, offsetSeconds: 0n, offsetCycles: 17...n,
//              absolute?, precision? },
//     streamClasses: [{ id: 0, header: 'compact' | 'large', eventContext?: FieldDef[] }],  // default: id 0, compact
//     metadataPacketSize?: 4096,
//   });
//   const id = trace.addEventClass({ name: 'sched_switch', streamClassId?: 0, id?, logLevel?, emfUri?, fields: FieldDef[] });
//   trace.addStreamClass({ id, header, eventContext? });   // also allowed mid-trace
//   const s = trace.openStream({ fileName: 'channel0_0', cpuId: 0, packetSize: 1 << 20, streamClassId?: 0,
//                                pageSize?: 4096, streamInstanceId?: cpuId, tracefileSize?, tracefileCount? });
//   s.write(id, timestampCycles, [payload values...], [stream event context values...]?);  // sync, no allocation
//   s.addDiscarded(n); s.skipPackets(n); s.packetSeqNum = n; s.openPacket(ts); s.flushPacket(endTs?);
//   s.stats  // { events, packets, discarded, bytes }
//   await s.close();                         // flushes its last packet
//   trace.flushMetadata();                   // queued class declarations go out before the next data packet anyway
//   trace.metadataText                       // de-packetized TSDL so far
//   await trace.rotate({ dir } | { sink });  // session rotation: new chunk with full metadata, streams continue
//   await trace.close();                     // closes all streams, writes queued metadata
// Options also take `timestampBase: bigint` (added to every timestamp, for clocks beyond 2^53 cycles).
//
// FieldDef = { name, kind, ... } (name without LTTng's leading `_`; the writer adds it):
//   { kind: 'int', size: 8|16|32|64, signed?, base?: 2|8|10|16, align?: bits, byteOrder?: 'le'|'be', encoding? }
//   { kind: 'enum', container: <int type>, mappings: [{ label, value, end? }] }
//   { kind: 'float', size: 32|64, align?, byteOrder? }
//   { kind: 'string' }
//   { kind: 'text', length: 16 }                     // char[16]: LTTng's `ctf_array_text` (comm fields)
//   { kind: 'array', length, element: <type> }
//   { kind: 'sequence', element: <type>, lengthType?: <unsigned int type, default 64-bit> }  // writes __NAME_length first
//   { kind: 'struct', fields: FieldDef[] }
// Values (positional, one per field):
//   int/enum: number (bigint accepted; 64-bit fields take bigint for values beyond 2^53); float: number;
//   string: string (cut at the first NUL; non-strings are String()-ed); text and 8-bit arrays/sequences: string
//   (UTF-8), Uint8Array or number[]; array/sequence: array-like; struct: array of member values.
//   Missing values are written as zero / empty. Values are read during the call: payload arrays can be reused.
// Timestamps are clock cycles as numbers (exact below 2^53) and must not decrease within a stream (clamped).
//
// Packets: packet_size = content rounded up to pageSize (LTTng), at most packetSize; a packet opens at its first
// record (or openPacket(ts)) and switches when a record does not fit; records bigger than a whole packet are
// dropped and counted in events_discarded (the open packet may be closed early by the attempt).
// Sinks: TraceSink/StreamSink (sink.ts) take finished metadata packets and data packets + index entries
// (timestamps as exact bigints; packets borrowed, padded by the sink), from this writer and from ltt/ust's;
// FileTraceSink writes LTTng's layout (NAME, NAME_N with tracefile size/count rotation, index/NAME.idx),
// SnapshotRingSink keeps the newest packets in memory for snapshots; packetIndexEntryOf(packet) rebuilds an
// entry from a bare packet.
// Errors: LttError with codes CTF_WRITER_* (bad definitions, unknown event id, I/O, use after close).

export { CtfTraceWriter, type EventClassDef, type OpenStreamOptions, type TraceWriterOptions } from './trace-writer.js';
export { StreamWriter, type StreamWriterStats, PACKET_PREAMBLE_SIZE } from './stream-writer.js';
export type { PacketIndexEntry, StreamSink, StreamSinkInfo, TraceSink } from './sink.js';
export { FileTraceSink } from './file-sink.js';
export type {
  ArrayFieldType,
  EnumFieldType,
  EnumMappingDef,
  FieldDef,
  FieldType,
  FloatFieldType,
  IntegerFieldType,
  SequenceFieldType,
  StringFieldType,
  StructFieldType,
  TextFieldType,
} from './field-types.js';
export type { ClockDef, EnvValue, StreamClassDef } from './metadata.js';
export { encodeIndexEntry, indexFileHeader, INDEX_ENTRY_SIZE, INDEX_HEADER_SIZE, packetIndexEntryOf } from './index-file.js';
export { packetizeMetadata } from './metadata.js';
export { encoderSource } from './event-encoder.js';
