// LTTng's live viewer protocol 2.4 (lttng-tools src/bin/lttng-relayd/lttng-viewer-abi.h; the reference's 2.4):
// what babeltrace2's src.ctf.lttng-live asks on the live port. Big-endian, packed, fixed-size NUL-padded strings.

export const enum ViewerCommand {
  CONNECT = 1,
  LIST_SESSIONS = 2,
  ATTACH_SESSION = 3,
  GET_NEXT_INDEX = 4,
  GET_PACKET = 5,
  GET_METADATA = 6,
  GET_NEW_STREAMS = 7,
  CREATE_SESSION = 8,
  DETACH_SESSION = 9,
}

/** lttng_viewer_cmd: u64 data_size, u32 cmd, u32 cmd_version. */
export const VIEWER_HEADER_SIZE = 16;

/** Request payload sizes, as lttng-relayd reads them (whatever data_size says). */
export const VIEWER_REQUEST_SIZE: Readonly<Record<number, number>> = {
  [ViewerCommand.CONNECT]: 20,
  [ViewerCommand.LIST_SESSIONS]: 0,
  [ViewerCommand.ATTACH_SESSION]: 20,
  [ViewerCommand.GET_NEXT_INDEX]: 8,
  [ViewerCommand.GET_PACKET]: 20,
  [ViewerCommand.GET_METADATA]: 8,
  [ViewerCommand.GET_NEW_STREAMS]: 8,
  [ViewerCommand.CREATE_SESSION]: 0,
  [ViewerCommand.DETACH_SESSION]: 8,
};

export const VIEWER_CLIENT_COMMAND = 1;
export const SEEK_BEGINNING = 1;
export const SEEK_LAST = 2;

export const enum AttachStatus {
  OK = 1,
  ALREADY = 2,
  UNK = 3,
  NOT_LIVE = 4,
  SEEK_ERR = 5,
  NO_SESSION = 6,
}

export const enum IndexStatus {
  OK = 1,
  RETRY = 2,
  HUP = 3,
  ERR = 4,
  INACTIVE = 5,
}

export const PACKET_OK = 1;
export const PACKET_ERR = 3;
export const METADATA_OK = 1;
export const NO_NEW_METADATA = 2;
export const METADATA_ERR = 3;
export const NEW_STREAMS_OK = 1;
export const NEW_STREAMS_ERR = 3;
export const NEW_STREAMS_HUP = 4;
export const DETACH_OK = 1;
export const DETACH_UNK = 2;
export const DETACH_ERR = 3;

export const FLAG_NEW_METADATA = 1;
export const FLAG_NEW_STREAM = 2;

export const VIEWER_PATH_MAX = 4096;
export const VIEWER_NAME_MAX = 255;
export const VIEWER_HOST_NAME_MAX = 64;
/** lttng_viewer_session: u64 id, u32 live_timer, u32 clients, u32 streams, hostname[64], session_name[255]. */
export const VIEWER_SESSION_SIZE = 20 + VIEWER_HOST_NAME_MAX + VIEWER_NAME_MAX;
/** lttng_viewer_stream: u64 id, u64 ctf_trace_id, u32 metadata_flag, path_name[4096], channel_name[255]. */
export const VIEWER_STREAM_SIZE = 20 + VIEWER_PATH_MAX + VIEWER_NAME_MAX;
/** lttng_viewer_index: the first 56 bytes of an index entry, then u32 status, u32 flags. */
export const VIEWER_INDEX_SIZE = 64;

/** `text` NUL-padded into `size` bytes at `at` (cut at a character boundary so that one NUL always ends it). */
export function putFixedString(out: Buffer, at: number, size: number, text: string): void {
  let bytes = Buffer.from(text, 'utf8');
  if (bytes.length >= size) bytes = Buffer.from(bytes.subarray(0, size - 1).toString('utf8').replace(/\uFFFD$/, ''), 'utf8').subarray(0, size - 1);
  bytes.copy(out, at);
}
