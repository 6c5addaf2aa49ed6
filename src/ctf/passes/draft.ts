// The draft trace class the passes work on, before it is frozen into the shared model.
//
// Contract: a DraftTrace holds model objects (ir/trace-class.ts) that are still being completed:
// sequence lengths and variant tags are known only as paths (`refs`), slots are not numbered yet,
// roles/hidden/ranges are filled in by the passes in metadata-front-end order. Field class objects
// are per use (never shared between two fields), so per-field facts (slot, hidden) can be set on
// them directly. `finish()` turns the draft into the readonly TraceClass.

import { LttError } from '../../errors.js';
import type {
  ByteOrder,
  ClockClass,
  EnvValue,
  EventClass,
  FieldClass,
  StreamClass,
  StructFieldClass,
  TraceClass,
} from '../ir/trace-class.js';

/** Writable view of a readonly model object, for the passes only. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The six dynamic scopes, in decoding order. */
export type ScopeName =
  | 'packet-header'
  | 'packet-context'
  | 'event-header'
  | 'event-common-context'
  | 'event-specific-context'
  | 'event-payload';

export const SCOPE_ORDER: readonly ScopeName[] = [
  'packet-header',
  'packet-context',
  'event-header',
  'event-common-context',
  'event-specific-context',
  'event-payload',
];

/** An unresolved reference from a sequence (length) or variant (tag) to an earlier field. */
export interface FieldRef {
  /** TSDL: words of the path as written; CTF 2: path items (`null` = parent structure). */
  readonly path: ReadonlyArray<string | null>;
  /** CTF 2: explicit origin scope (absent = relative lookup). */
  readonly origin?: ScopeName;
  readonly line?: number;
}

export interface DraftEvent {
  id?: number;
  name: string;
  streamClassId: number;
  logLevel?: number;
  emfUri?: string;
  specificContext?: StructFieldClass;
  payload?: StructFieldClass;
  line?: number;
}

export interface DraftStream {
  id: number;
  packetContext?: StructFieldClass;
  eventHeader?: StructFieldClass;
  eventCommonContext?: StructFieldClass;
  events: DraftEvent[];
  defaultClock?: ClockClass;
  line?: number;
}

export interface DraftTrace {
  ctfVersion: 1 | 2;
  major: number;
  minor: number;
  uuid?: string;
  byteOrder: ByteOrder;
  packetHeader?: StructFieldClass;
  env: Map<string, EnvValue>;
  clocks: Map<string, ClockClass>;
  /** Clock blocks seen, duplicates by name included (babeltrace counts them for auto-mapping). */
  clockCount: number;
  streams: DraftStream[];
  warnings: string[];
  /** Length/tag references of sequence, variant, dynamic string/blob and optional field classes. */
  refs: Map<FieldClass, FieldRef>;
  /** Resolved references: referring field class -> the integer/enum field class it reads. */
  targets: Map<FieldClass, FieldClass>;
  /** Number of slots handed out so far. */
  slotCount: number;
}

export function newDraft(ctfVersion: 1 | 2): DraftTrace {
  return {
    ctfVersion,
    major: ctfVersion === 1 ? 1 : 2,
    minor: ctfVersion === 1 ? 8 : 0,
    byteOrder: 'le',
    env: new Map(),
    clocks: new Map(),
    clockCount: 0,
    streams: [],
    warnings: [],
    refs: new Map(),
    targets: new Map(),
    slotCount: 0,
  };
}

export function metadataError(message: string, line?: number): LttError {
  return new LttError('CTF_METADATA', line !== undefined ? `metadata line ${line}: ${message}` : `metadata: ${message}`);
}

/** Root field class of each scope of one event class, in decoding order (absent scopes skipped). */
export interface ScopeRoot {
  readonly scope: ScopeName;
  readonly fc: StructFieldClass;
}

export function eventScopes(tc: DraftTrace, sc: DraftStream, ev: DraftEvent | undefined): ScopeRoot[] {
  const out: ScopeRoot[] = [];
  if (tc.packetHeader) out.push({ scope: 'packet-header', fc: tc.packetHeader });
  if (sc.packetContext) out.push({ scope: 'packet-context', fc: sc.packetContext });
  if (sc.eventHeader) out.push({ scope: 'event-header', fc: sc.eventHeader });
  if (sc.eventCommonContext) out.push({ scope: 'event-common-context', fc: sc.eventCommonContext });
  if (ev?.specificContext) out.push({ scope: 'event-specific-context', fc: ev.specificContext });
  if (ev?.payload) out.push({ scope: 'event-payload', fc: ev.payload });
  return out;
}

/** Every root field class once (trace, then each stream's, then each event's). */
export function allRoots(tc: DraftTrace): StructFieldClass[] {
  const out: StructFieldClass[] = [];
  if (tc.packetHeader) out.push(tc.packetHeader);
  for (const sc of tc.streams) {
    for (const fc of [sc.packetContext, sc.eventHeader, sc.eventCommonContext]) if (fc) out.push(fc);
    for (const ev of sc.events) for (const fc of [ev.specificContext, ev.payload]) if (fc) out.push(fc);
  }
  return out;
}

/** Direct children of a field class (struct members, variant options, array element...). */
export function children(fc: FieldClass): FieldClass[] {
  switch (fc.kind) {
    case 'struct':
      return fc.members.map((m) => m.fc);
    case 'variant':
      return fc.options.map((o) => o.fc);
    case 'array':
    case 'sequence':
      return [fc.element];
    case 'optional':
      return [fc.fc];
    case 'enum':
      return [];
    default:
      return [];
  }
}

/** Calls `visit` on `fc` and every field class below it, parents first. */
export function walk(fc: FieldClass, visit: (fc: FieldClass) => void): void {
  visit(fc);
  for (const c of children(fc)) walk(c, visit);
}

/** Freezes the draft into the shared model. */
export function finish(tc: DraftTrace): TraceClass {
  const streamClasses = new Map<number, StreamClass>();
  for (const sc of tc.streams) {
    const eventClasses = new Map<number, EventClass>();
    for (const ev of sc.events) {
      eventClasses.set(ev.id ?? 0, {
        id: ev.id ?? 0,
        name: ev.name,
        streamClassId: sc.id,
        ...(ev.logLevel !== undefined && { logLevel: ev.logLevel }),
        ...(ev.emfUri !== undefined && { emfUri: ev.emfUri }),
        ...(ev.specificContext && { specificContext: ev.specificContext }),
        ...(ev.payload && { payload: ev.payload }),
      });
    }
    streamClasses.set(sc.id, {
      id: sc.id,
      ...(sc.packetContext && { packetContext: sc.packetContext }),
      ...(sc.eventHeader && { eventHeader: sc.eventHeader }),
      ...(sc.eventCommonContext && { eventCommonContext: sc.eventCommonContext }),
      eventClasses,
      ...(sc.defaultClock && { defaultClock: sc.defaultClock }),
    });
  }
  return {
    major: tc.major,
    minor: tc.minor,
    ...(tc.uuid !== undefined && { uuid: tc.uuid }),
    byteOrder: tc.byteOrder,
    ...(tc.packetHeader && { packetHeader: tc.packetHeader }),
    env: tc.env,
    clocks: tc.clocks,
    streamClasses,
    slotCount: tc.slotCount,
    warnings: tc.warnings,
    ctfVersion: tc.ctfVersion,
  };
}
