// lttng-ust's own tracepoints, which liblttng-ust registers in every app: lttng_ust_tracef:event (tracef(): a
// printf-style message) and lttng_ust_tracelog:TRACE_EMERG..TRACE_DEBUG (tracelog(): the message with the
// caller's file, line and function), with lttng-ust 2.13's fields and levels.
//
// Contract: BUILTIN_EVENTS are the classes (name, level, fields) that ltt/ust's tracef()/tracelog() declare in a
// thread at their first call, so a trace holds them only when they were used; BUILTIN_TRACEPOINTS is how every
// app's agent lists them (`list -u`) from its registration on, as lttng-ust apps do.

import { int8, int32, listedFieldType, sequence, string, type FieldSpec } from './fields.js';
import { LOG_LEVELS, type LogLevelName } from './enablement.js';
import type { AppTracepoint } from './app-protocol.js';

/** lttng-ust's ctf_sequence_text(char, msg, ...): the message's bytes, read as text. */
const MESSAGE = sequence('msg', int8('', { text: true }));

export const TRACEF_EVENT = { name: 'lttng_ust_tracef:event', logLevel: LOG_LEVELS.TRACE_DEBUG, fields: [MESSAGE] as readonly FieldSpec[] };

export const TRACELOG_FIELDS: readonly FieldSpec[] = [string('file'), int32('line'), string('func'), MESSAGE];

export const tracelogEventName = (level: LogLevelName): string => `lttng_ust_tracelog:${level}`;

export const BUILTIN_EVENTS: ReadonlyArray<{ readonly name: string; readonly logLevel: number; readonly fields: readonly FieldSpec[] }> = [
  TRACEF_EVENT,
  ...(Object.entries(LOG_LEVELS) as Array<[LogLevelName, number]>).map(([level, logLevel]) => ({ name: tracelogEventName(level), logLevel, fields: TRACELOG_FIELDS })),
];

export const BUILTIN_TRACEPOINTS: readonly AppTracepoint[] = BUILTIN_EVENTS.map((e) => ({
  name: e.name,
  logLevel: e.logLevel,
  fields: e.fields.map((f) => ({ name: f.name, type: listedFieldType(f) })),
}));
