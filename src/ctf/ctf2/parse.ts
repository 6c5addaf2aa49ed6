// CTF 2 front end: JSON text sequence -> TraceClass (the same model the TSDL front end builds).
//
// Contract: `parseCtf2(text)` reads the fragments (preamble first with `version` 2; one
// trace-class; field-class-alias, clock-class, data-stream-class, event-record-class), converts
// them (ctf2/field-classes.ts), then runs the shared passes (alignments, path resolution into
// slots, hidden flags, validation) and returns the finished TraceClass. A trace without a
// trace-class or without any data stream class is refused, like babeltrace 2.1 does; unknown
// fragment types and non-empty `extensions` are errors. Log levels come from the
// `lttng.org,2009` or `babeltrace.org,2020` `log-level` attribute, the EMF URI from
// `babeltrace.org,2020` `emf-uri`. The trace UUID is the preamble's `uuid` (the metadata stream
// UUID of CTF 1.8 traces converted to CTF 2), else the trace class `uid` when it is a UUID.

import type { ClockClass, EnvValue, StructFieldClass, TraceClass } from '../ir/trace-class.js';
import { updateAlignments } from '../passes/alignments.js';
import { normaliseClockOffset } from '../passes/build-trace-class.js';
import { finish, metadataError, newDraft, type DraftEvent, type DraftStream, type ScopeName } from '../passes/draft.js';
import { resolvePaths } from '../passes/resolve-paths.js';
import { setHidden } from '../passes/set-hidden.js';
import { validate } from '../passes/validate.js';
import { checkExtensions, FieldClassConverter, isObject, str, uint } from './field-classes.js';
import { splitFragments, type Json, type JsonObject } from './fragments.js';

const LOG_LEVELS: Record<string, number> = {
  emergency: 0,
  alert: 1,
  critical: 2,
  error: 3,
  warning: 4,
  notice: 5,
  info: 6,
  'debug:system': 7,
  'debug:program': 8,
  'debug:process': 9,
  'debug:module': 10,
  'debug:unit': 11,
  'debug:function': 12,
  'debug:line': 13,
  debug: 14,
};

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidFromBytes(v: Json | undefined, what: string): string | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length !== 16 || v.some((b) => typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255)) {
    throw metadataError(`${what}: \`uuid\` is not an array of 16 bytes`);
  }
  const h = (v as number[]).map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function attribute(o: JsonObject, ns: string, key: string): Json | undefined {
  const attrs = o['attributes'];
  if (!isObject(attrs)) return undefined;
  const n = attrs[ns];
  return isObject(n) ? n[key] : undefined;
}

export function parseCtf2(text: string): TraceClass {
  const fragments = splitFragments(text);
  const draft = newDraft(2);
  const conv = new FieldClassConverter(draft);
  const clocksById = new Map<string, ClockClass>();
  const streamsById = new Map<number, DraftStream>();
  const eventIds = new Map<DraftStream, Set<number>>();
  let haveTrace = false;
  let preambleUuid: string | undefined;
  let traceUid: string | undefined;

  if (fragments.length === 0) throw metadataError('CTF 2 metadata without any fragment');
  fragments.forEach((f, i) => {
    const what = `CTF 2 fragment ${i + 1}`;
    const type = f['type'];
    checkExtensions(f, what);
    if (i === 0 && type !== 'preamble') throw metadataError(`${what}: the first fragment must be a preamble`);
    switch (type) {
      case 'preamble': {
        if (i !== 0) throw metadataError(`${what}: unexpected second preamble`);
        if (f['version'] !== 2) throw metadataError(`${what}: unsupported CTF version ${JSON.stringify(f['version'])} (expecting 2)`);
        preambleUuid = uuidFromBytes(f['uuid'], what);
        break;
      }
      case 'trace-class': {
        if (haveTrace) throw metadataError(`${what}: duplicate trace class`);
        haveTrace = true;
        traceUid = str(f, 'uid', what);
        const env = f['environment'];
        if (env !== undefined) {
          if (!isObject(env)) throw metadataError(`${what}: \`environment\` is not an object`);
          for (const [k, v] of Object.entries(env)) {
            let value: EnvValue;
            if (typeof v === 'string') value = v;
            else if (typeof v === 'number' && Number.isInteger(v)) value = BigInt(v);
            else throw metadataError(`${what}: environment entry "${k}" is neither a string nor an integer`);
            draft.env.set(k, value);
          }
        }
        if (f['packet-header-field-class'] !== undefined) {
          draft.packetHeader = struct(conv.convert(f['packet-header-field-class'], { scope: 'packet-header' }, 'packet header'), 'packet header');
        }
        break;
      }
      case 'field-class-alias': {
        const name = str(f, 'name', what);
        if (name === undefined) throw metadataError(`${what}: field class alias without a name`);
        if (conv.aliases.has(name)) throw metadataError(`${what}: duplicate field class alias "${name}"`);
        if (f['field-class'] === undefined) throw metadataError(`${what}: field class alias "${name}" without a field class`);
        conv.aliases.set(name, f['field-class']);
        break;
      }
      case 'clock-class': {
        const id = str(f, 'id', what);
        if (id === undefined) throw metadataError(`${what}: clock class without an \`id\``);
        if (clocksById.has(id)) throw metadataError(`${what}: duplicate clock class "${id}"`);
        const frequency = uint(f, 'frequency', what);
        if (frequency === 0) throw metadataError(`${what}: clock frequency 0`);
        const off = f['offset-from-origin'];
        let seconds = 0n;
        let cycles = 0n;
        if (off !== undefined) {
          if (!isObject(off)) throw metadataError(`${what}: \`offset-from-origin\` is not an object`);
          const s = off['seconds'] ?? 0;
          if (typeof s !== 'number' || !Number.isInteger(s)) throw metadataError(`${what}: invalid offset seconds`);
          seconds = BigInt(s);
          cycles = BigInt(uint(off, 'cycles', what, 0));
        }
        const origin = f['origin'];
        if (origin !== undefined && origin !== 'unix-epoch' && !isObject(origin)) throw metadataError(`${what}: invalid clock \`origin\``);
        const norm = normaliseClockOffset(seconds, cycles, BigInt(frequency));
        const description = str(f, 'description', what);
        const uid = str(f, 'uid', what);
        const clock: ClockClass = {
          name: str(f, 'name', what) ?? id,
          ...(description !== undefined && { description }),
          frequency,
          offsetSeconds: norm.seconds,
          offsetCycles: norm.cycles,
          precision: uint(f, 'precision', what, 0),
          ...(uid !== undefined && UUID_RE.test(uid) && { uuid: uid.toLowerCase() }),
          originIsUnixEpoch: origin === 'unix-epoch',
        };
        clocksById.set(id, clock);
        draft.clocks.set(clock.name, clock);
        break;
      }
      case 'data-stream-class': {
        if (!haveTrace) throw metadataError(`${what}: data stream class before the trace class`);
        const id = uint(f, 'id', what, 0);
        if (streamsById.has(id)) throw metadataError(`${what}: duplicate data stream class ${id}`);
        const clockId = str(f, 'default-clock-class-id', what);
        let clock: ClockClass | undefined;
        if (clockId !== undefined) {
          clock = clocksById.get(clockId);
          if (!clock) throw metadataError(`${what}: unknown default clock class "${clockId}"`);
        }
        const sc: DraftStream = { id, events: [], ...(clock && { defaultClock: clock }) };
        const scope = (key: string, s: ScopeName): StructFieldClass | undefined =>
          f[key] === undefined ? undefined : struct(conv.convert(f[key], { scope: s, ...(clock && { clock }) }, `data stream class ${id} ${key}`), key);
        const pc = scope('packet-context-field-class', 'packet-context');
        const eh = scope('event-record-header-field-class', 'event-header');
        const ec = scope('event-record-common-context-field-class', 'event-common-context');
        if (pc) sc.packetContext = pc;
        if (eh) sc.eventHeader = eh;
        if (ec) sc.eventCommonContext = ec;
        draft.streams.push(sc);
        streamsById.set(id, sc);
        eventIds.set(sc, new Set());
        break;
      }
      case 'event-record-class': {
        const id = uint(f, 'id', what, 0);
        const scId = uint(f, 'data-stream-class-id', what, 0);
        const sc = streamsById.get(scId);
        if (!sc) throw metadataError(`${what}: unknown data stream class ${scId}`);
        const ids = eventIds.get(sc)!;
        if (ids.has(id)) throw metadataError(`${what}: duplicate event record class ${id} in data stream class ${scId}`);
        ids.add(id);
        const ev: DraftEvent = { id, name: str(f, 'name', what) ?? '', streamClassId: scId };
        const ll = attribute(f, 'lttng.org,2009', 'log-level') ?? attribute(f, 'babeltrace.org,2020', 'log-level');
        if (typeof ll === 'string' && Object.hasOwn(LOG_LEVELS, ll)) ev.logLevel = LOG_LEVELS[ll]!;
        else if (typeof ll === 'number' && Number.isInteger(ll) && ll >= 0 && ll <= 14) ev.logLevel = ll;
        const emf = attribute(f, 'babeltrace.org,2020', 'emf-uri');
        if (typeof emf === 'string') ev.emfUri = emf;
        const ctx = { ...(sc.defaultClock && { clock: sc.defaultClock }) };
        if (f['specific-context-field-class'] !== undefined) {
          ev.specificContext = struct(conv.convert(f['specific-context-field-class'], { scope: 'event-specific-context', ...ctx }, `${what} specific context`), 'specific context');
        }
        if (f['payload-field-class'] !== undefined) {
          ev.payload = struct(conv.convert(f['payload-field-class'], { scope: 'event-payload', ...ctx }, `${what} payload`), 'payload');
        }
        sc.events.push(ev);
        break;
      }
      default:
        throw metadataError(`${what}: unknown fragment type ${JSON.stringify(type)}`);
    }
  });
  if (!haveTrace) throw metadataError('CTF 2 metadata without a trace class fragment');
  if (draft.streams.length === 0) throw metadataError('CTF 2 metadata without any data stream class fragment');

  draft.uuid = preambleUuid ?? (traceUid !== undefined && UUID_RE.test(traceUid) ? traceUid.toLowerCase() : undefined);
  if (draft.uuid === undefined) delete draft.uuid;
  draft.byteOrder = conv.firstByteOrder ?? 'le';
  updateAlignments(draft);
  resolvePaths(draft);
  setHidden(draft);
  validate(draft);
  return finish(draft);
}

function struct(fc: ReturnType<FieldClassConverter['convert']>, what: string): StructFieldClass {
  if (fc.kind !== 'struct') throw metadataError(`${what} field class is not a structure`);
  return fc;
}
