// lttng-ust's own tracepoints, which liblttng-ust registers in every app: lttng_ust_tracef:event (tracef(): a
// printf-style message), lttng_ust_tracelog:TRACE_EMERG..TRACE_DEBUG (tracelog(): the message with the
// caller's file, line and function) and the state dump's lttng_ust_statedump:* (statedump.ts: the objects the
// process has mapped, which babeltrace2's debug-info filter and Trace Compass resolve addresses with), with
// lttng-ust 2.13's fields and levels.
//
// Contract: BUILTIN_EVENTS are the classes (name, level, fields) that ltt/ust declares in a thread at their
// first use, so a trace holds them only when they were used; BUILTIN_TRACEPOINTS is how every app's agent lists
// them (`list -u`) from its registration on, as lttng-ust apps do.

import { array, int8, int32, listedFieldType, sequence, string, uint8, uint32, uint64, type FieldSpec } from './fields.js';
import { DEFAULT_LOG_LEVEL, LOG_LEVELS, type LogLevelName } from './enablement.js';
import type { AppTracepoint } from './app-protocol.js';

/** lttng-ust's ctf_sequence_text(char, msg, ...): the message's bytes, read as text. */
const MESSAGE = sequence('msg', int8('', { text: true }));

export const TRACEF_EVENT = { name: 'lttng_ust_tracef:event', logLevel: LOG_LEVELS.TRACE_DEBUG, fields: [MESSAGE] as readonly FieldSpec[] };

export const TRACELOG_FIELDS: readonly FieldSpec[] = [string('file'), int32('line'), string('func'), MESSAGE];

export const tracelogEventName = (level: LogLevelName): string => `lttng_ust_tracelog:${level}`;

/** A mapped object's base address: lttng-ust's ctf_integer_hex(void *) on a 64-bit machine. */
const BADDR = uint64('baddr', { hex: true });

/** lttng_ust_statedump:*, in the order a dump emits them (lttng-ust declares no log level: TRACE_DEBUG_LINE). */
export const STATEDUMP_EVENTS = {
  start: { name: 'lttng_ust_statedump:start', logLevel: DEFAULT_LOG_LEVEL, fields: [] as readonly FieldSpec[] },
  binInfo: {
    name: 'lttng_ust_statedump:bin_info',
    logLevel: DEFAULT_LOG_LEVEL,
    fields: [BADDR, uint64('memsz'), string('path'), uint8('is_pic'), uint8('has_build_id'), uint8('has_debug_link')] as readonly FieldSpec[],
  },
  buildId: { name: 'lttng_ust_statedump:build_id', logLevel: DEFAULT_LOG_LEVEL, fields: [BADDR, sequence('build_id', uint8('', { hex: true }))] as readonly FieldSpec[] },
  debugLink: { name: 'lttng_ust_statedump:debug_link', logLevel: DEFAULT_LOG_LEVEL, fields: [BADDR, uint32('crc'), string('filename')] as readonly FieldSpec[] },
  // LTTNG_UST_ABI_PROCNAME_LEN bytes of text.
  procname: { name: 'lttng_ust_statedump:procname', logLevel: DEFAULT_LOG_LEVEL, fields: [array('procname', int8('', { text: true }), 16)] as readonly FieldSpec[] },
  end: { name: 'lttng_ust_statedump:end', logLevel: DEFAULT_LOG_LEVEL, fields: [] as readonly FieldSpec[] },
} as const;

export const BUILTIN_EVENTS: ReadonlyArray<{ readonly name: string; readonly logLevel: number; readonly fields: readonly FieldSpec[] }> = [
  TRACEF_EVENT,
  ...(Object.entries(LOG_LEVELS) as Array<[LogLevelName, number]>).map(([level, logLevel]) => ({ name: tracelogEventName(level), logLevel, fields: TRACELOG_FIELDS })),
  ...Object.values(STATEDUMP_EVENTS),
];

export const BUILTIN_TRACEPOINTS: readonly AppTracepoint[] = BUILTIN_EVENTS.map((e) => ({
  name: e.name,
  logLevel: e.logLevel,
  fields: e.fields.map((f) => ({ name: f.name, type: listedFieldType(f) })),
}));
