// TSDL (CTF 1.8) text of a per-process UST trace, as lttng-ust 2.13 writes it for per-PID buffers.
//
// Contract: traceTsdl() is the trace preamble (typealiases, trace block with the packet header, env, the
// "monotonic" clock, packet context and both event headers); streamTsdl() one stream class (one thread's ring);
// eventTsdl() one event class. The metadata file is the concatenation, in that order, with event blocks appended
// as events get declared (readers accept metadata that grows, LTTng does the same).

import type { FieldSpec } from './fields.js';
import { fieldTsdl } from './fields.js';

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

const q = (s: string) => JSON.stringify(s);

export function traceTsdl(e: TraceEnv): string {
  return `/* CTF 1.8 */

typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 16; align = 8; signed = false; } := uint16_t;
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
typealias integer { size = 64; align = 8; signed = false; } := uint64_t;
typealias integer { size = 64; align = 8; signed = false; } := unsigned long;
typealias integer { size = 5; align = 1; signed = false; } := uint5_t;
typealias integer { size = 27; align = 1; signed = false; } := uint27_t;

trace {
	major = 1;
	minor = 8;
	uuid = "${e.uuid}";
	byte_order = le;
	packet.header := struct {
		uint32_t magic;
		uint8_t  uuid[16];
		uint32_t stream_id;
		uint64_t stream_instance_id;
	};
};

env {
	domain = "ust";
	tracer_name = "lttng-ust";
	tracer_major = 2;
	tracer_minor = 13;
	tracer_patchlevel = 0;
	tracer_buffering_scheme = "pid";
	tracer_buffering_id = ${e.vpid};
	architecture_bit_width = 64;
	trace_name = ${q(e.traceName)};
	trace_creation_datetime = ${q(e.creationDatetime)};
	hostname = ${q(e.hostname)};
	vpid = ${e.vpid};
	procname = ${q(e.procname)};
	vpid_datetime = ${q(e.vpidDatetime)};
	tracer_ltt = "ltt/ust";
};

clock {
	name = "monotonic";
	uuid = "${e.clockUuid}";
	description = "Monotonic Clock";
	freq = 1000000000; /* Frequency, in Hz */
	/* clock value offset from Epoch is: offset * (1/freq) */
	offset = ${e.clockOffset};
};

typealias integer {
	size = 27; align = 1; signed = false;
	map = clock.monotonic.value;
} := uint27_clock_monotonic_t;

typealias integer {
	size = 32; align = 8; signed = false;
	map = clock.monotonic.value;
} := uint32_clock_monotonic_t;

typealias integer {
	size = 64; align = 8; signed = false;
	map = clock.monotonic.value;
} := uint64_clock_monotonic_t;

struct packet_context {
	uint64_clock_monotonic_t timestamp_begin;
	uint64_clock_monotonic_t timestamp_end;
	uint64_t content_size;
	uint64_t packet_size;
	uint64_t packet_seq_num;
	unsigned long events_discarded;
	uint32_t cpu_id;
};

struct event_header_compact {
	enum : uint5_t { compact = 0 ... 30, extended = 31 } id;
	variant <id> {
		struct {
			uint27_clock_monotonic_t timestamp;
		} compact;
		struct {
			uint32_t id;
			uint64_clock_monotonic_t timestamp;
		} extended;
	} v;
} align(8);

struct event_header_large {
	enum : uint16_t { compact = 0 ... 65534, extended = 65535 } id;
	variant <id> {
		struct {
			uint32_clock_monotonic_t timestamp;
		} compact;
		struct {
			uint32_t id;
			uint64_clock_monotonic_t timestamp;
		} extended;
	} v;
} align(8);

`;
}

export function streamTsdl(streamId: number, contextLines: readonly string[]): string {
  const ctx = contextLines.length
    ? `\tevent.context := struct {\n${contextLines.map((l) => `\t\t${l}\n`).join('')}\t};\n`
    : '';
  return `stream {\n\tid = ${streamId};\n\tevent.header := struct event_header_large;\n\tpacket.context := struct packet_context;\n${ctx}};\n\n`;
}

export function eventTsdl(name: string, id: number, streamId: number, logLevel: number, fields: readonly FieldSpec[]): string {
  const body = fields.flatMap(fieldTsdl).map((l) => `\t\t${l}\n`).join('');
  return `event {\n\tname = ${q(name)};\n\tid = ${id};\n\tstream_id = ${streamId};\n\tloglevel = ${logLevel};\n\tfields := struct {\n${body}\t};\n};\n\n`;
}
