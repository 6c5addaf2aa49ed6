// Pass: TSDL syntax tree -> draft trace class (blocks, attributes, scopes).
//
// Contract: `buildTraceClass(ast)` visits the top-level items in babeltrace2's order, whatever
// their order in the text: the trace block's byte order first (needed by `native`), then `env`,
// `clock` blocks, root type declarations, `callsite` (ignored), `trace`, `stream`, `event`. It
// checks what babeltrace's visitor checks (major 1 / minor 8, required and duplicate attributes,
// stream and event IDs, scopes being structures) and reports unknown attributes as warnings. The
// result still has unresolved paths (draft.refs); the later passes complete it.

import type { ClockClass, StructFieldClass } from '../ir/trace-class.js';
import type { Assignment, Declaration, MetadataAst, TypeSpecifier, UnaryExpr } from '../tsdl/ast.js';
import { metadataError, newDraft, type DraftEvent, type DraftStream, type DraftTrace } from './draft.js';
import { booleanValue, exprText, signedValue, TypeResolver, TypeScope, unsignedValue } from './resolve-types.js';

type Block = Extract<Declaration, { kind: 'block' }>;

/** String value of `x`, `a.b` or `"text"`. */
function stringValue(e: UnaryExpr, what: string): string {
  if (e.kind === 'string' || e.kind === 'char') return e.value;
  if (e.kind === 'path') return e.parts.join('.');
  throw metadataError(`invalid ${what} value ${exprText(e)} (expecting a string)`, e.line);
}

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function uuidValue(e: UnaryExpr, what: string): string {
  if (e.kind !== 'string' || !UUID_RE.test(e.value)) throw metadataError(`invalid ${what} UUID ${exprText(e)}`, e.line);
  return e.value.toLowerCase();
}

function smallUnsigned(e: UnaryExpr, what: string): number {
  const v = unsignedValue(e, what);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw metadataError(`${what} value ${v} is too large`, e.line);
  return Number(v);
}

/** Tracks duplicate attributes of one block (unknown attributes are only warned about). */
function attrTracker(kind: string, known: readonly string[]): (a: { left: readonly string[]; line: number }) => string {
  const seen = new Set<string>();
  return (a) => {
    const key = a.left.join('.');
    if (!known.includes(key)) return key;
    if (seen.has(key)) throw metadataError(`duplicate \`${key}\` attribute in ${kind}`, a.line);
    seen.add(key);
    return key;
  };
}

function unknownAttr(draft: DraftTrace, key: string, block: string, line: number): void {
  draft.warnings.push(`metadata line ${line}: unknown attribute \`${key}\` in \`${block}\` block`);
}

export function buildTraceClass(ast: MetadataAst): DraftTrace {
  const draft = newDraft(1);
  const blocks = (kind: Block['block']): Block[] =>
    ast.declarations.filter((d): d is Block => d.kind === 'block' && d.block === kind);

  // 1. Trace byte order (a metadata text without a trace block is incomplete).
  const traces = blocks('trace');
  if (traces.length === 0) throw metadataError('missing `trace` block');
  if (traces.length > 1) throw metadataError('duplicate `trace` block', traces[1]!.line);
  const trace = traces[0]!;
  const bo = trace.body.find((d): d is Assignment => d.kind === 'assign' && d.left.join('.') === 'byte_order');
  if (!bo) throw metadataError('missing `byte_order` attribute in `trace` block', trace.line);
  {
    const t = stringValue(bo.right, 'trace `byte_order`');
    if (t === 'le') draft.byteOrder = 'le';
    else if (t === 'be' || t === 'network') draft.byteOrder = 'be';
    else throw metadataError(`invalid trace byte order "${t}" (expecting le, be or network)`, bo.line);
  }

  // 2. Environment.
  let isLttng = false;
  for (const env of blocks('env')) {
    for (const d of env.body) {
      if (d.kind === 'type-assign') {
        draft.warnings.push(`metadata line ${d.line}: ignoring environment entry \`${d.left.join('.')}\` of unknown type`);
        continue;
      }
      if (d.kind !== 'assign') throw metadataError('unexpected declaration in `env` block', d.line);
      const key = d.left.join('.');
      const r = d.right;
      if (r.kind === 'int') draft.env.set(key, BigInt.asIntN(64, r.value));
      else draft.env.set(key, stringValue(r, `env \`${key}\``));
      if (key === 'tracer_name' && typeof draft.env.get(key) === 'string') {
        isLttng = (draft.env.get(key) as string).startsWith('lttng');
      }
    }
  }

  // 3. Clocks.
  for (const blk of blocks('clock')) visitClock(draft, blk, isLttng);

  // 4. Root type declarations.
  const root = new TypeScope();
  const types = new TypeResolver(draft);
  for (const d of ast.declarations) {
    if (d.kind === 'block') continue;
    if (!types.declare(d, root)) throw metadataError('unexpected declaration at the root of the metadata', d.line);
  }

  // 5. callsite blocks: parsed, ignored (babeltrace warns about them).

  // 6. Trace block.
  {
    const scope = new TypeScope(root);
    const key = attrTracker('`trace` block', ['major', 'minor', 'uuid', 'byte_order', 'packet.header']);
    let major: bigint | undefined;
    let minor: bigint | undefined;
    for (const d of trace.body) {
      if (types.declare(d, scope)) continue;
      if (d.kind === 'assign') {
        const k = key(d);
        switch (k) {
          case 'major':
            major = unsignedValue(d.right, 'trace `major`');
            if (major !== 1n) throw metadataError(`invalid trace major version ${major} (expecting 1)`, d.line);
            break;
          case 'minor':
            minor = unsignedValue(d.right, 'trace `minor`');
            if (minor !== 8n) throw metadataError(`invalid trace minor version ${minor} (expecting 8)`, d.line);
            break;
          case 'uuid':
            draft.uuid = uuidValue(d.right, 'trace');
            break;
          case 'byte_order':
            break; // handled first
          default:
            unknownAttr(draft, k, 'trace', d.line);
        }
      } else if (d.kind === 'type-assign') {
        const k = key(d);
        if (k === 'packet.header') draft.packetHeader = structScope(types, d.specs, scope, d.line, 'trace packet header');
        else unknownAttr(draft, k, 'trace', d.line);
      } else {
        throw metadataError('unexpected declaration in `trace` block', d.line);
      }
    }
    if (major === undefined) throw metadataError('missing `major` attribute in `trace` block', trace.line);
    if (minor === undefined) throw metadataError('missing `minor` attribute in `trace` block', trace.line);
  }

  // 7. Stream blocks.
  const streamsById = new Map<number, DraftStream>();
  /** Event class IDs per stream class (duplicate checks stay linear). */
  const eventIds = new Map<DraftStream, Set<number>>();
  for (const blk of blocks('stream')) {
    const scope = new TypeScope(root);
    const key = attrTracker('`stream` block', ['id', 'event.header', 'event.context', 'packet.context']);
    const sc: DraftStream = { id: 0, events: [], line: blk.line };
    let hasId = false;
    for (const d of blk.body) {
      if (types.declare(d, scope)) continue;
      if (d.kind === 'assign') {
        const k = key(d);
        if (k === 'id') {
          sc.id = smallUnsigned(d.right, 'stream `id`');
          hasId = true;
        } else {
          unknownAttr(draft, k, 'stream', d.line);
        }
      } else if (d.kind === 'type-assign') {
        const k = key(d);
        if (k === 'event.header') sc.eventHeader = structScope(types, d.specs, scope, d.line, 'stream event header');
        else if (k === 'event.context') sc.eventCommonContext = structScope(types, d.specs, scope, d.line, 'stream event context');
        else if (k === 'packet.context') sc.packetContext = structScope(types, d.specs, scope, d.line, 'stream packet context');
        else unknownAttr(draft, k, 'stream', d.line);
      } else {
        throw metadataError('unexpected declaration in `stream` block', d.line);
      }
    }
    if (hasId) {
      const ph = draft.packetHeader;
      if (!ph || !ph.members.some((m) => m.name === 'stream_id' && (m.fc.kind === 'int' || m.fc.kind === 'enum'))) {
        // babeltrace 2.0.4 logs an error here but returns success, dropping the stream class.
        draft.warnings.push(
          `metadata line ${blk.line}: ignoring stream class ${sc.id}: it has an \`id\` but the trace packet header has no integer \`stream_id\` field`,
        );
        continue;
      }
    } else if (draft.streams.length !== 0) {
      throw metadataError('missing `id` attribute in `stream` block (there is more than one stream class)', blk.line);
    }
    if (streamsById.has(sc.id)) throw metadataError(`duplicate stream class ID ${sc.id}`, blk.line);
    draft.streams.push(sc);
    streamsById.set(sc.id, sc);
  }

  // 8. Event blocks.
  for (const blk of blocks('event')) {
    const scope = new TypeScope(root);
    const key = attrTracker('`event` block', ['name', 'id', 'stream_id', 'loglevel', 'model.emf.uri', 'context', 'fields']);
    const ev: DraftEvent = { name: '', streamClassId: 0, line: blk.line };
    let hasName = false;
    let streamId: number | undefined;
    for (const d of blk.body) {
      if (types.declare(d, scope)) continue;
      if (d.kind === 'assign') {
        const k = key(d);
        switch (k) {
          case 'name':
            ev.name = stringValue(d.right, 'event `name`');
            hasName = true;
            break;
          case 'id':
            ev.id = smallUnsigned(d.right, 'event `id`');
            break;
          case 'stream_id':
            streamId = smallUnsigned(d.right, 'event `stream_id`');
            break;
          case 'loglevel': {
            const v = unsignedValue(d.right, 'event `loglevel`');
            if (v <= 14n) ev.logLevel = Number(v);
            else draft.warnings.push(`metadata line ${d.line}: not setting unknown event log level ${v}`);
            break;
          }
          case 'model.emf.uri':
            ev.emfUri = stringValue(d.right, 'event `model.emf.uri`');
            break;
          default:
            unknownAttr(draft, k, 'event', d.line);
        }
      } else if (d.kind === 'type-assign') {
        const k = key(d);
        if (k === 'context') ev.specificContext = structScope(types, d.specs, scope, d.line, 'event context');
        else if (k === 'fields') ev.payload = structScope(types, d.specs, scope, d.line, 'event fields');
        else unknownAttr(draft, k, 'event', d.line);
      } else {
        throw metadataError('unexpected declaration in `event` block', d.line);
      }
    }
    if (!hasName) throw metadataError('missing `name` attribute in `event` block', blk.line);
    let sc: DraftStream | undefined;
    if (streamId === undefined) {
      if (draft.streams.length === 0) {
        // babeltrace creates an implicit stream class 0.
        sc = { id: 0, events: [] };
        draft.streams.push(sc);
        streamsById.set(0, sc);
      } else if (draft.streams.length === 1) {
        sc = draft.streams[0]!;
      } else {
        throw metadataError('missing `stream_id` attribute in `event` block (there is more than one stream class)', blk.line);
      }
    } else {
      sc = streamsById.get(streamId);
      if (!sc) throw metadataError(`event refers to unknown stream class ${streamId}`, blk.line);
    }
    if (ev.id === undefined) {
      if (sc.events.length !== 0) throw metadataError('missing `id` attribute in `event` block', blk.line);
      ev.id = 0;
    }
    let ids = eventIds.get(sc);
    if (!ids) eventIds.set(sc, (ids = new Set()));
    if (ids.has(ev.id)) throw metadataError(`duplicate event class ID ${ev.id} in stream class ${sc.id}`, blk.line);
    ids.add(ev.id);
    ev.streamClassId = sc.id;
    sc.events.push(ev);
  }

  return draft;
}

function structScope(types: TypeResolver, specs: readonly TypeSpecifier[], scope: TypeScope, line: number, what: string): StructFieldClass {
  const fc = types.specsToFc(specs, scope, line);
  if (fc.kind !== 'struct') throw metadataError(`${what} type is not a structure`, line);
  return fc;
}

function visitClock(draft: DraftTrace, blk: Block, isLttng: boolean): void {
  const key = attrTracker('`clock` block', ['name', 'uuid', 'description', 'freq', 'precision', 'offset_s', 'offset', 'absolute']);
  let name: string | undefined;
  let description: string | undefined;
  let uuid: string | undefined;
  let frequency = 1_000_000_000n;
  let precision = 0n;
  let offsetSeconds = 0n;
  let offsetCycles = 0n;
  let absolute = false;
  for (const d of blk.body) {
    if (d.kind !== 'assign') throw metadataError('unexpected declaration in `clock` block', d.line);
    const k = key(d);
    switch (k) {
      case 'name':
        name = stringValue(d.right, 'clock `name`');
        break;
      case 'uuid':
        uuid = uuidValue(d.right, 'clock');
        break;
      case 'description':
        if (d.right.kind !== 'string') throw metadataError('invalid clock `description` (expecting a string literal)', d.line);
        description = d.right.value;
        break;
      case 'freq':
        frequency = unsignedValue(d.right, 'clock `freq`');
        if (frequency === 0n || frequency === (1n << 64n) - 1n) throw metadataError(`invalid clock frequency ${frequency}`, d.line);
        break;
      case 'precision':
        precision = unsignedValue(d.right, 'clock `precision`');
        break;
      case 'offset_s':
        offsetSeconds = signedValue(d.right, 'clock `offset_s`');
        break;
      case 'offset':
        offsetCycles = unsignedValue(d.right, 'clock `offset`');
        break;
      case 'absolute':
        absolute = booleanValue(d.right, 'clock `absolute`');
        break;
      default:
        unknownAttr(draft, k, 'clock', d.line);
    }
  }
  if (name === undefined) throw metadataError('missing `name` attribute in `clock` block', blk.line);
  draft.clockCount++;
  if (draft.clocks.has(name)) {
    // babeltrace 2.0.4 accepts this and finds clocks by name, so the first one wins.
    draft.warnings.push(`metadata line ${blk.line}: ignoring duplicate clock "${name}"`);
    return;
  }
  // Old LTTng versions forgot `absolute = true` on their monotonic clock (babeltrace's rule).
  if (isLttng && name === 'monotonic') absolute = true;
  const norm = normaliseClockOffset(offsetSeconds, offsetCycles, frequency);
  const clock: ClockClass = {
    name,
    ...(description !== undefined && { description }),
    frequency: Number(frequency),
    offsetSeconds: norm.seconds,
    offsetCycles: norm.cycles,
    precision: Number(precision),
    ...(uuid !== undefined && { uuid }),
    originIsUnixEpoch: absolute,
  };
  draft.clocks.set(name, clock);
}

/** Moves whole seconds out of the cycles part so that 0 <= cycles < frequency. */
export function normaliseClockOffset(seconds: bigint, cycles: bigint, frequency: bigint): { seconds: bigint; cycles: bigint } {
  let s = seconds + cycles / frequency;
  let c = cycles % frequency;
  if (c < 0n) {
    c += frequency;
    s -= 1n;
  }
  return { seconds: s, cycles: c };
}
