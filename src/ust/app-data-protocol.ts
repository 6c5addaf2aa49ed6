// The app data connection: an ltt/ust app whose trace folder it cannot own (root's session, an app of another
// user: see AppSessionStart.viaDaemon) sends its trace through it to the session daemon, which writes it with
// the file sink into its own folders (src/sessiond/ust/app-data-connection.ts), as lttng-consumerd writes every
// app's buffers. The app's side is a TraceSink (src/ust/daemon-sink.ts), so every producer (recording, rotation,
// clear, regenerate metadata, snapshots) goes through it unchanged.
//
// A second connection to the app socket, separate from the control one (bulk packets never delay a command's
// answer). Its first frame is a control frame (u32 big-endian length + JSON) `{ type: 'data', token }`, the
// token the daemon gave the app in 'registered' (the registration was authenticated; the token names that App);
// the daemon answers with one byte DATA_READY, and from then on frames are binary:
//   u32 BE length (of what follows) | u8 kind | body
// App to daemon (numbers big-endian; trace and stream numbers are the app's, unique per connection, never reused):
//   OPEN_TRACE      u32 trace, u8 flags (1 shared metadata, 2 empty the folder first), UTF-8 folder (one the
//                   daemon gave this app: start, rotate or snapshot)
//   METADATA        u32 trace, bytes (metadata packets or TSDL text)
//   REOPEN_METADATA u32 trace (regenerate metadata: the daemon replaced the file)
//   OPEN_STREAM     u32 trace, u32 stream, JSON StreamSinkInfo (fileName, ids, tracefile size/count)
//   PACKET          u32 stream, 8 x u64 (packet size bits, content size bits, timestamp begin, end, events
//                   discarded, stream id, stream instance id, packet seq num), the packet's content bytes
//                   (the daemon pads them to the packet size)
//   BEACON          u32 stream, u64 timestamp end, u32 stream class id (a live session's quiet stream; written
//                   only where the daemon streams to a relay, ignored by files)
//   CLOSE_STREAM    u32 stream, u32 ack
//   CLOSE_TRACE     u32 trace, u32 ack
// Daemon to app:
//   ACK             u32 ack, u8 ok, UTF-8 error: everything sent before the request is written and closed
//   LOST            u32 stream, UTF-8 error: a packet of that stream could not be written (full disk)
// Anything else, a bad name, size or order (a packet before its stream, sequence numbers going back) closes the
// connection (one log line); the daemon then closes what it opened, so the trace stays readable.

export const DATA_READY = 0x01;

export const DataKind = {
  OpenTrace: 1,
  Metadata: 2,
  ReopenMetadata: 3,
  OpenStream: 4,
  Packet: 5,
  CloseStream: 6,
  CloseTrace: 7,
  Beacon: 8,
  Ack: 0x80,
  Lost: 0x81,
} as const;
export type DataKind = (typeof DataKind)[keyof typeof DataKind];

export const OPEN_SHARED = 1;
export const OPEN_EMPTY = 2;

/** Largest frame either side accepts: a packet (sub-buffer) of up to 64 MiB plus its header. */
export const MAX_DATA_FRAME = (64 << 20) + 128;
/** The PACKET header after the kind: stream number and eight u64 index fields. */
export const PACKET_HEADER_BYTES = 4 + 8 * 8;

/** One frame: its 5-byte head (length, kind) and `bodyBytes` of body, the head written. */
export function dataFrame(kind: DataKind, bodyBytes: number): Buffer {
  const b = Buffer.allocUnsafe(5 + bodyBytes);
  b.writeUInt32BE(1 + bodyBytes, 0);
  b.writeUInt8(kind, 4);
  return b;
}
