// The control plane's one error table: every error the session daemon can answer has a stable code here and
// one line of text (LTTng's wording where LTTng has the same error, from lttng-tools' error.cpp). The daemon
// puts code + text on the wire; the CLI prints the text in human mode and the same code + text in `--mi json`,
// so the two can never disagree. Errors raised by other components (kernel domain, UST domain) keep their own
// LttError code and message and travel unchanged.

import { LttError } from '../errors.js';

export const ERROR_MESSAGES = {
  UNK: 'Unknown error',
  UND: 'Undefined command',
  UNKNOWN_DOMAIN: 'Unknown tracing domain',
  NO_SESSION: 'No session found',
  CREATE_DIR_FAIL: 'Create directory failed',
  SESSION_FAIL: 'Create session failed',
  SESS_NOT_FOUND: 'Session name not found',
  FATAL: 'Fatal error of the session daemon',
  EXIST_SESS: 'Session name already exists',
  NO_EVENT: 'Event not found',
  CONNECT_FAIL: 'Unable to connect to Unix socket',
  EPERM: 'Permission denied',
  KERN_NA: 'Kernel tracer not available',
  KERN_EVENT_EXIST: 'Kernel event already exists',
  KERN_CHAN_EXIST: 'Kernel channel already exists',
  KERN_CHAN_FAIL: 'Kernel create channel failed',
  KERN_CHAN_NOT_FOUND: 'Kernel channel not found',
  KERN_CHAN_DISABLE_FAIL: 'Disable kernel channel failed',
  KERN_CHAN_ENABLE_FAIL: 'Enable kernel channel failed',
  KERN_CONTEXT_FAIL: 'Add kernel context failed',
  KERN_CONTEXT_EXIST: 'Kernel context already exist',
  KERN_ENABLE_FAIL: 'Enable kernel event failed',
  KERN_DISABLE_FAIL: 'Disable kernel event failed',
  KERN_START_FAIL: 'Starting kernel trace failed',
  KERN_STOP_FAIL: 'Stopping kernel trace failed',
  KERN_LIST_FAIL: 'Listing kernel events failed',
  KERN_EVENT_ENOSYS: 'Kernel event type not supported',
  KERN_EVENT_NOT_FOUND: 'Kernel event not found',
  UST_CHAN_EXIST: 'UST channel already exist',
  UST_CHAN_NOT_FOUND: 'UST channel not found',
  UST_EVENT_EXIST: 'UST event already exist',
  UST_EVENT_NOT_FOUND: 'UST event not found',
  UST_EVENT_ENABLED: 'UST event already enabled',
  UST_CONTEXT_EXIST: 'UST context already exist',
  UST_CONTEXT_INVAL: 'UST invalid context',
  UST_LIST_FAIL: 'Listing UST events failed',
  NEED_ROOT_SESSIOND:
    'Tracing the kernel requires a root ltt-sessiond daemon, as well as "tracing" group membership or root user ID for the ltt client',
  TRACE_ALREADY_STARTED: 'Tracing has already been started once',
  TRACE_ALREADY_STOPPED: 'Tracing has already been stopped',
  SESSION_NOT_STARTED: 'Session not started',
  NEED_CHANNEL_NAME: "Non-default channel exists within session: channel name needs to be specified with '-c name'",
  INVALID: 'Invalid parameter',
  NO_SESSIOND: 'No session daemon is available',
  NOT_SUPPORTED: 'Operation not supported',
  CHAN_EXIST: 'Channel already exists',
  CHAN_NOT_FOUND: 'Channel not found',
  NO_CHANNEL: 'No channel found in the session',
  SESSION_INVALID_CHAR: 'Invalid character found in session name',
  INVALID_EVENT_NAME: 'Invalid event name',
  INVALID_CHANNEL_NAME: 'Invalid channel name',
  PROCESS_ATTR_EXISTS: 'Process attribute is already tracked',
  PROCESS_ATTR_MISSING: 'Process attribute was not tracked',
  RELAYD_CONNECT_FAIL: 'Unable to connect to lttng-relayd',
  NO_SESSION_OUTPUT: 'Session has no output',
  USER_NOT_FOUND: 'User not found',
  GROUP_NOT_FOUND: 'Group not found',
  UNSUPPORTED_DOMAIN: 'Unsupported domain used',
  FILTER_INVAL: 'Invalid filter bytecode',
  FILTER_EXIST: 'Filter already exist',
  INVALID_PROTOCOL: 'Protocol error occurred',
  NOT_SNAPSHOT_SESSION: "Snapshot command can't be applied to a non-snapshot session",
  SNAPSHOT_OUTPUT_EXIST: 'Snapshot output already exists',
  SNAPSHOT_NO_OUTPUT: 'No snapshot output: give one to `snapshot record`, or add one with `snapshot add-output`',
  SNAPSHOT_FAIL: 'Snapshot record failed',
  MAX_SIZE_INVALID: 'Invalid snapshot size. Cannot fit at least one packet per stream.',
  START_SESSION_ONCE: 'Session needs to be started once',
  ROTATION_NOT_AVAILABLE: "Rotation feature not available for this session's creation mode",
  ROTATION_MULTIPLE_AFTER_STOP: 'Session was already rotated once since it became inactive',
  ROTATION_AFTER_STOP_CLEAR: 'Session was already cleared since it became inactive',
  ROTATION_FAIL: 'Rotation failed',
  CLEAR_FAIL: 'Clear failed',
  BUFFER_TYPE_MISMATCH: 'Buffer type mismatch for session',
  PER_PID_SESSION: 'Per-PID recording sessions are not supported',
  LIVE_SESSION: 'Live sessions are not supported',
  CLEAR_NOT_AVAILABLE_RELAY: 'Clearing a session is not supported by the relay daemon',
  ROTATION_SCHEDULE_SET: 'A rotation schedule of this type is already set',
  ROTATION_SCHEDULE_NOT_SET: 'No rotation schedule of this type is set',
  // ltt's own, for the socket protocol (no LTTng equivalent: liblttng-ctl and sessiond ship together).
  PROTOCOL_VERSION: 'Incompatible control protocol version',
  FRAME_TOO_LARGE: 'Control message too large',
  DAEMON_GONE: 'The session daemon closed the connection',
  TIMEOUT: 'The session daemon did not answer in time',
  TOO_MANY_CONNECTIONS: 'Too many connections to the session daemon',
} as const;

export type ControlErrorCode = keyof typeof ERROR_MESSAGES;

/** The text of a table code; codes from other components have no table entry and return undefined. */
export function errorMessage(code: string): string | undefined {
  return (ERROR_MESSAGES as Record<string, string>)[code];
}

/** An error as it travels on the wire. `message` is always filled so the receiver never needs the table. */
export interface WireError {
  code: string;
  message: string;
}

/** A control-plane failure: one-line `message`, stable `code`. Thrown by the daemon's handlers and the client. */
export class ControlError extends LttError {
  override name = 'ControlError';
  constructor(code: string, message?: string, options?: { cause?: unknown }) {
    super(code, message ?? errorMessage(code) ?? code, options);
  }

  static fromWire(error: WireError): ControlError {
    return new ControlError(error.code, error.message);
  }

  toWire(): WireError {
    return { code: this.code, message: this.message };
  }
}

/**
 * `text` as one printable line: control characters (a newline, a terminal escape in a name a client gave) are
 * shown escaped, so a message can neither forge a second line nor drive the reader's terminal.
 */
export function oneLine(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => (c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** Shorthand for handlers: `throw fail('SESS_NOT_FOUND')`. */
export function fail(code: ControlErrorCode, message?: string): ControlError {
  return new ControlError(code, message);
}
