// LTTng 2.13's consumer-to-relay protocol (lttng-tools src/common/sessiond-comm/relayd.h, sessiond-comm.h):
// what crosses the control port (commands and their replies) and the data port (packets). Every integer is
// big-endian; structures are packed. Only 2.11+ peers (trace chunks, length-prefixed names) are served: the
// session daemons and consumers of LTTng 2.11 to 2.13 and ltt's own.

/** The relay's protocol version: LTTng 2.13's. Peers agree on the lower minor. */
export const RELAY_MAJOR = 2;
export const RELAY_MINOR = 13;
/** CREATE_SESSION, ADD_STREAM and the trace chunk commands take their 2.11 forms from this minor on. */
export const MIN_PEER_MINOR = 11;

export const enum RelayCommand {
  ADD_STREAM = 1,
  CREATE_SESSION = 2,
  START_DATA = 3,
  UPDATE_SYNC_INFO = 4,
  VERSION = 5,
  SEND_METADATA = 6,
  CLOSE_STREAM = 7,
  DATA_PENDING = 8,
  QUIESCENT_CONTROL = 9,
  BEGIN_DATA_PENDING = 10,
  END_DATA_PENDING = 11,
  ADD_INDEX = 12,
  SEND_INDEX = 13,
  CLOSE_INDEX = 14,
  LIST_SESSIONS = 15,
  STREAMS_SENT = 16,
  RESET_METADATA = 17,
  ROTATE_STREAMS = 18,
  CREATE_TRACE_CHUNK = 19,
  CLOSE_TRACE_CHUNK = 20,
  TRACE_CHUNK_EXISTS = 21,
  GET_CONFIGURATION = 22,
}

/** lttng_error_code values the relay answers with (include/lttng/lttng-error.h). */
export const LTTNG_OK = 10;
export const LTTNG_ERR_UNK = 11;
export const LTTNG_ERR_FATAL = 25;
export const LTTNG_ERR_NOMEM = 26;
export const LTTNG_ERR_INVALID = 97;
export const LTTNG_ERR_INVALID_PROTOCOL = 152;
export const LTTNG_ERR_FILE_CREATION_ERROR = 153;

/** lttcomm_relayd_hdr: u64 circuit_id, u64 data_size, u32 cmd, u32 cmd_version. */
export const CONTROL_HEADER_SIZE = 24;
/** lttcomm_relayd_data_hdr: u64 circuit_id, u64 stream_id, u64 net_seq_num, u32 data_size, u32 padding_size. */
export const DATA_HEADER_SIZE = 32;
/** lttng-relayd refuses control payloads above this (DEFAULT_NETWORK_RELAYD_CTRL_MAX_PAYLOAD_SIZE). */
export const MAX_CONTROL_PAYLOAD = 128 << 20;

/** lttcomm_relayd_create_session_2_11 before its names (the optional current chunk id is packed: u8 + u64). */
export const CREATE_SESSION_2_11_SIZE = 59;
/** lttcomm_relayd_add_stream_2_11 before its names. */
export const ADD_STREAM_2_11_SIZE = 32;
/** lttcomm_relayd_index (2.8+): relay stream id, net seq num, then the 64 bytes of an index entry after its offset. */
export const RELAY_INDEX_SIZE = 80;
/** lttcomm_relayd_create_trace_chunk before the override name. */
export const CREATE_TRACE_CHUNK_SIZE = 20;
/** lttcomm_relayd_close_trace_chunk: u64 id, u64 time, optional u32 command (u8 + u32). */
export const CLOSE_TRACE_CHUNK_SIZE = 21;

/** LTTNG_NAME_MAX, LTTNG_HOST_NAME_MAX, LTTNG_PATH_MAX, DEFAULT_STREAM_NAME_LEN: the bounds of peers' names. */
export const NAME_MAX = 255;
export const HOST_NAME_MAX = 256;
export const PATH_MAX = 4096;
export const STREAM_NAME_MAX = 264;

/** lttng_trace_chunk_command_type. */
export const enum ChunkCloseCommand {
  MOVE_TO_COMPLETED = 0,
  NO_OPERATION = 1,
  DELETE = 2,
}

/** LTTCOMM_RELAYD_CONFIGURATION_FLAG_CLEAR_ALLOWED. */
export const CONFIG_FLAG_CLEAR_ALLOWED = 1n;

/** A reply of u32 codes (lttcomm_relayd_generic_reply and friends). */
export function u32Reply(...values: number[]): Buffer {
  const b = Buffer.allocUnsafe(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

/** A u64 sequence number; LTTng's -1ULL ("none") is -1. */
export function readSeq(b: Buffer, at: number): number {
  const v = b.readBigUInt64BE(at);
  return v === 0xffffffffffffffffn ? -1 : Number(v);
}
