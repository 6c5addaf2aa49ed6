// TSDL text of an LTTng-style CTF 1.8 trace, and its packetization.
//
// Contract: `preambleTsdl` renders everything LTTng writes before the first stream block (typealiases, trace,
// env, clock, clock-mapped typealiases, packet_context, both event headers), `streamTsdl` and `eventTsdl` one
// block each, byte for byte in LTTng 2.13's layout (docs/lttng-reference.md 3.2). `packetizeMetadata` cuts a
// piece of text into metadata packets (37-byte header, magic 0x75D11D57, sizes in bits) as lttng-consumerd
// writes them; text may be cut anywhere because readers concatenate the packets' contents.

import { LttError } from '../../errors.js';
import { type FieldDef, tsdlString, tsdlStruct } from './field-types.js';

export type EnvValue = string | number | bigint;

export interface ClockDef {
  readonly name: string;
  readonly uuid?: string;
  readonly description?: string;
  /** Hz. */
  readonly frequency: number;
  readonly offsetSeconds: bigint;
  readonly offsetCycles: bigint;
  readonly absolute?: boolean;
  readonly precision?: number;
}

export interface StreamClassDef {
  readonly id: number;
  /** `compact`: 5-bit id + 27-bit timestamp (kernel channels with < 31 events); `large`: 16-bit id + 32-bit timestamp (UST). */
  readonly header: 'compact' | 'large';
  /** Stream event context (LTTng channel contexts, e.g. vpid, vtid, procname), in add-context order. */
  readonly eventContext?: readonly FieldDef[];
}

export interface EventClassMeta {
  readonly id: number;
  readonly name: string;
  readonly streamClassId: number;
  readonly logLevel?: number;
  readonly emfUri?: string;
  readonly fields: readonly FieldDef[];
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkUuid(what: string, uuid: string): string {
  const u = uuid.toLowerCase();
  if (!UUID_RE.test(u)) throw new LttError('CTF_WRITER_BAD_UUID', `${what} is not a UUID: ${JSON.stringify(uuid)}`);
  return u;
}

export function uuidBytes(uuid: string): Uint8Array {
  return Uint8Array.from(Buffer.from(uuid.replace(/-/g, ''), 'hex'));
}

export function checkClock(clock: ClockDef): void {
  if (typeof clock.name !== 'string' || !IDENTIFIER.test(clock.name)) {
    throw new LttError('CTF_WRITER_BAD_CLOCK', `clock name must be an identifier, got ${JSON.stringify(clock.name)}`);
  }
  if (!Number.isSafeInteger(clock.frequency) || clock.frequency <= 0) {
    throw new LttError('CTF_WRITER_BAD_CLOCK', `clock frequency must be a positive integer, got ${String(clock.frequency)}`);
  }
  if (typeof clock.offsetSeconds !== 'bigint' || typeof clock.offsetCycles !== 'bigint') {
    throw new LttError('CTF_WRITER_BAD_CLOCK', 'clock offsetSeconds and offsetCycles must be bigints');
  }
  if (clock.uuid !== undefined) checkUuid('clock uuid', clock.uuid);
}

export function checkEnv(env: Readonly<Record<string, EnvValue>>): void {
  for (const [k, v] of Object.entries(env)) {
    if (!IDENTIFIER.test(k)) throw new LttError('CTF_WRITER_BAD_ENV', `env key must be an identifier, got ${JSON.stringify(k)}`);
    if (typeof v === 'number' && !Number.isSafeInteger(v)) {
      throw new LttError('CTF_WRITER_BAD_ENV', `env ${k} must be a string or an integer, got ${v}`);
    }
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'bigint') {
      throw new LttError('CTF_WRITER_BAD_ENV', `env ${k} must be a string or an integer`);
    }
  }
}

export function preambleTsdl(uuid: string, env: Readonly<Record<string, EnvValue>>, clock: ClockDef): string {
  const c = clock.name;
  const envLines = Object.entries(env)
    .map(([k, v]) => `\t${k} = ${typeof v === 'string' ? tsdlString(v) : String(v)};\n`)
    .join('');
  let clockLines = `\tname = "${c}";\n`;
  if (clock.uuid !== undefined) clockLines += `\tuuid = "${clock.uuid.toLowerCase()}";\n`;
  if (clock.description !== undefined) clockLines += `\tdescription = ${tsdlString(clock.description)};\n`;
  clockLines += `\tfreq = ${clock.frequency}; /* Frequency, in Hz */\n`;
  if (clock.precision !== undefined) clockLines += `\tprecision = ${clock.precision};\n`;
  if (clock.offsetSeconds !== 0n) clockLines += `\toffset_s = ${clock.offsetSeconds};\n`;
  clockLines += `\t/* clock value offset from Epoch is: offset * (1/freq) */\n\toffset = ${clock.offsetCycles};\n`;
  if (clock.absolute !== undefined) clockLines += `\tabsolute = ${clock.absolute ? 'true' : 'false'};\n`;
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
	uuid = "${uuid}";
	byte_order = le;
	packet.header := struct {
		uint32_t magic;
		uint8_t  uuid[16];
		uint32_t stream_id;
		uint64_t stream_instance_id;
	};
};

env {
${envLines}};

clock {
${clockLines}};

typealias integer {
	size = 27; align = 1; signed = false;
	map = clock.${c}.value;
} := uint27_clock_${c}_t;

typealias integer {
	size = 32; align = 8; signed = false;
	map = clock.${c}.value;
} := uint32_clock_${c}_t;

typealias integer {
	size = 64; align = 8; signed = false;
	map = clock.${c}.value;
} := uint64_clock_${c}_t;

struct packet_context {
	uint64_clock_${c}_t timestamp_begin;
	uint64_clock_${c}_t timestamp_end;
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
			uint27_clock_${c}_t timestamp;
		} compact;
		struct {
			uint32_t id;
			uint64_clock_${c}_t timestamp;
		} extended;
	} v;
} align(8);

struct event_header_large {
	enum : uint16_t { compact = 0 ... 65534, extended = 65535 } id;
	variant <id> {
		struct {
			uint32_clock_${c}_t timestamp;
		} compact;
		struct {
			uint32_t id;
			uint64_clock_${c}_t timestamp;
		} extended;
	} v;
} align(8);

`;
}

export function streamTsdl(s: StreamClassDef): string {
  const ctx = s.eventContext && s.eventContext.length > 0 ? `\tevent.context := ${tsdlStruct(s.eventContext, '\t')};\n` : '';
  return (
    `stream {\n\tid = ${s.id};\n\tevent.header := struct event_header_${s.header};\n` +
    `\tpacket.context := struct packet_context;\n${ctx}};\n\n`
  );
}

export function eventTsdl(e: EventClassMeta): string {
  let out = `event {\n\tname = ${tsdlString(e.name)};\n\tid = ${e.id};\n\tstream_id = ${e.streamClassId};\n`;
  if (e.logLevel !== undefined) out += `\tloglevel = ${e.logLevel};\n`;
  if (e.emfUri !== undefined) out += `\tmodel.emf.uri = ${tsdlString(e.emfUri)};\n`;
  out += `\tfields := ${tsdlStruct(e.fields, '\t')};\n};\n\n`;
  return out;
}

export const METADATA_MAGIC = 0x75d11d57;
export const METADATA_HEADER_SIZE = 37;

/**
 * Cuts `text` into metadata packets of `packetSize` bytes (LTTng: 4096, the metadata sub-buffer size). Every
 * packet is full-size on disk (zero padding); content_size says how much of it is header + text.
 */
export function packetizeMetadata(text: string, uuid: Uint8Array, packetSize: number): Uint8Array {
  const bytes = Buffer.from(text, 'utf8');
  const room = packetSize - METADATA_HEADER_SIZE;
  const count = Math.max(1, Math.ceil(bytes.length / room));
  const out = Buffer.alloc(count * packetSize);
  for (let i = 0; i < count; i++) {
    const base = i * packetSize;
    const chunk = bytes.subarray(i * room, Math.min(bytes.length, (i + 1) * room));
    out.writeUInt32LE(METADATA_MAGIC, base);
    out.set(uuid, base + 4);
    out.writeUInt32LE(0, base + 20); // checksum: LTTng writes 0 (no checksum scheme)
    out.writeUInt32LE((METADATA_HEADER_SIZE + chunk.length) * 8, base + 24);
    out.writeUInt32LE(packetSize * 8, base + 28);
    // compression, encryption, checksum schemes: 0; CTF major.minor: 1.8
    out[base + 32] = 0;
    out[base + 33] = 0;
    out[base + 34] = 0;
    out[base + 35] = 1;
    out[base + 36] = 8;
    out.set(chunk, base + METADATA_HEADER_SIZE);
  }
  return out;
}
