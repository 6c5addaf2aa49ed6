// TSDL (CTF 1.8) text of a per-process UST trace, as lttng-ust 2.13 writes it for per-PID buffers.
//
// Contract: traceTsdl() is the trace preamble (typealiases, trace block with the packet header, env, the
// "monotonic" clock, packet context and both event headers); streamTsdl() one stream class (one thread's ring);
// eventTsdl() one event class. The metadata file is the concatenation, in that order, with event blocks appended
// as events get declared (readers accept metadata that grows, LTTng does the same).

import type { FieldSpec } from './fields.js';
import { fieldTsdl } from './fields.js';
import { preambleTsdl } from '../ctf/writer/metadata.js';
import { tsdlString } from '../ctf/writer/field-types.js';

export interface TraceEnv {
  readonly uuid: string;
  readonly clockUuid: string;
  /** realtime - monotonic, ns. */
  readonly clockOffset: bigint;
  readonly hostname: string;
  readonly traceName: string;
  /** ISO-8601 basic, e.g. 20261126T044209+0000. */
  readonly creationDatetime: string;
  readonly vpid: number;
  readonly procname: string;
  readonly vpidDatetime: string;
}

/** A per-UID trace's (every app of one user): no process in its env, the buffering id is the uid. */
export interface UidTraceEnv {
  readonly uuid: string;
  readonly clockUuid: string;
  readonly clockOffset: bigint;
  readonly hostname: string;
  readonly traceName: string;
  readonly creationDatetime: string;
  readonly uid: number;
}

/** lttng-ust 2.13's env, as per-UID and per-PID traces share it (each adds its buffering and, per PID, its process). */
function ustEnv(e: { traceName: string; creationDatetime: string; hostname: string }, scheme: 'uid' | 'pid', id: number) {
  return {
    domain: 'ust',
    tracer_name: 'lttng-ust',
    tracer_major: 2,
    tracer_minor: 13,
    tracer_patchlevel: 0,
    tracer_buffering_scheme: scheme,
    tracer_buffering_id: id,
    architecture_bit_width: 64,
    trace_name: e.traceName,
    trace_creation_datetime: e.creationDatetime,
    hostname: e.hostname,
  };
}

function monotonic(uuid: string, offset: bigint) {
  return { name: 'monotonic', uuid, description: 'Monotonic Clock', frequency: 1_000_000_000, offsetSeconds: 0n, offsetCycles: offset };
}

/** The preamble of a per-UID trace, which the session daemon writes; each app appends its declarations. */
export function uidTraceTsdl(e: UidTraceEnv): string {
  return preambleTsdl(e.uuid, { ...ustEnv(e, 'uid', e.uid), tracer_ltt: 'ltt/ust' }, monotonic(e.clockUuid, e.clockOffset));
}

/** The preamble is the CTF writer's (one LTTng-style preamble for every trace ltt writes), with lttng-ust's env. */
export function traceTsdl(e: TraceEnv): string {
  return preambleTsdl(
    e.uuid,
    { ...ustEnv(e, 'pid', e.vpid), vpid: e.vpid, procname: e.procname, vpid_datetime: e.vpidDatetime, tracer_ltt: 'ltt/ust' },
    monotonic(e.clockUuid, e.clockOffset),
  );
}

export function streamTsdl(streamId: number, contextLines: readonly string[]): string {
  const ctx = contextLines.length
    ? `\tevent.context := struct {\n${contextLines.map((l) => `\t\t${l}\n`).join('')}\t};\n`
    : '';
  return `stream {\n\tid = ${streamId};\n\tevent.header := struct event_header_large;\n\tpacket.context := struct packet_context;\n${ctx}};\n\n`;
}

export function eventTsdl(name: string, id: number, streamId: number, logLevel: number, fields: readonly FieldSpec[]): string {
  const body = fields.flatMap(fieldTsdl).map((l) => `\t\t${l}\n`).join('');
  return `event {\n\tname = ${tsdlString(name)};\n\tid = ${id};\n\tstream_id = ${streamId};\n\tloglevel = ${logLevel};\n\tfields := struct {\n${body}\t};\n};\n\n`;
}
