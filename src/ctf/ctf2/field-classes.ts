// CTF 2 JSON field classes -> model field classes.
//
// Contract: `FieldClassConverter.convert(json, ctx)` builds a fresh model field class from a CTF 2
// field class object (or the name of a `field-class-alias`), checking required properties and
// types. Fixed-length integers with `mappings` become enumerations (as in babeltrace 2.1's trace
// IR), so TSDL enums and CTF 2 mapped integers look the same to the decoder and the printer.
// Roles become model roles; `default-clock-timestamp` maps the integer to the data stream class's
// default clock (in a packet context it is the packet beginning time), and
// `packet-end-default-clock-timestamp` is the packet end time (no clock update while decoding).
// Length/selector locations are recorded in `draft.refs` for the resolve-paths pass. Member names
// are kept as written (CTF 2 has no underscore stripping). Errors: LttError('CTF_METADATA').

import type {
  ByteOrder,
  ClockClass,
  DisplayBase,
  EnumMapping,
  FieldClass,
  FieldRole,
  IntegerFieldClass,
  StringFieldClass,
  StructMember,
  VariantOption,
} from '../ir/trace-class.js';
import { metadataError, type DraftTrace, type FieldRef, type ScopeName } from '../passes/draft.js';
import type { Json, JsonObject } from './fragments.js';

/** Where the field class being converted lives. */
export interface ConvertContext {
  readonly scope: ScopeName;
  /** The data stream class's default clock (for `default-clock-timestamp` roles). */
  readonly clock?: ClockClass;
}

const ORIGINS: Record<string, ScopeName> = {
  'packet-header': 'packet-header',
  'packet-context': 'packet-context',
  'event-record-header': 'event-header',
  'event-record-common-context': 'event-common-context',
  'event-record-specific-context': 'event-specific-context',
  'event-record-payload': 'event-payload',
};

const ROLES: Record<string, FieldRole | 'uuid'> = {
  'packet-magic-number': 'packet-magic',
  'metadata-stream-uuid': 'uuid',
  'data-stream-class-id': 'stream-class-id',
  'data-stream-id': 'stream-instance-id',
  'packet-total-length': 'packet-total-size',
  'packet-content-length': 'packet-content-size',
  'default-clock-timestamp': 'default-clock-timestamp',
  'packet-end-default-clock-timestamp': 'packet-end-ts',
  'discarded-event-record-counter-snapshot': 'discarded-events',
  'packet-sequence-number': 'packet-seq-num',
  'event-record-class-id': 'event-class-id',
};

export function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function checkExtensions(o: JsonObject, what: string): void {
  const ext = o['extensions'];
  if (ext === undefined) return;
  if (!isObject(ext)) throw metadataError(`${what}: \`extensions\` is not an object`);
  const names = Object.keys(ext);
  if (names.length) throw metadataError(`${what}: unsupported extension "${names[0]}"`);
}

export function uint(o: JsonObject, key: string, what: string, dflt?: number): number {
  const v = o[key];
  if (v === undefined) {
    if (dflt !== undefined) return dflt;
    throw metadataError(`${what}: missing \`${key}\` property`);
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw metadataError(`${what}: \`${key}\` is not an unsigned integer`);
  }
  return v;
}

export function str(o: JsonObject, key: string, what: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw metadataError(`${what}: \`${key}\` is not a string`);
  return v;
}

/** `[[lo, hi], ...]` with integer bounds (JSON numbers; big values lose nothing below 2^53). */
function ranges(v: Json | undefined, what: string): Array<readonly [bigint, bigint]> {
  if (!Array.isArray(v)) throw metadataError(`${what}: integer range set is not an array`);
  return v.map((r) => {
    if (!Array.isArray(r) || r.length !== 2 || typeof r[0] !== 'number' || typeof r[1] !== 'number' || !Number.isInteger(r[0]) || !Number.isInteger(r[1])) {
      throw metadataError(`${what}: invalid integer range ${JSON.stringify(r)}`);
    }
    const lo = BigInt(r[0]);
    const hi = BigInt(r[1]);
    if (lo > hi) throw metadataError(`${what}: invalid integer range ${JSON.stringify(r)} (lower > upper)`);
    return [lo, hi] as const;
  });
}

function byteOrder(o: JsonObject, what: string): ByteOrder {
  const v = o['byte-order'];
  if (v === 'little-endian') return 'le';
  if (v === 'big-endian') return 'be';
  throw metadataError(`${what}: invalid \`byte-order\` ${JSON.stringify(v)}`);
}

function alignment(o: JsonObject, key: string, what: string, dflt: number): number {
  const a = uint(o, key, what, dflt);
  if (a === 0 || (a & (a - 1)) !== 0) throw metadataError(`${what}: \`${key}\` ${a} is not a power of two`);
  return a;
}

function displayBase(o: JsonObject, what: string): DisplayBase {
  const b = uint(o, 'preferred-display-base', what, 10);
  if (b !== 2 && b !== 8 && b !== 10 && b !== 16) throw metadataError(`${what}: invalid \`preferred-display-base\` ${b}`);
  return b;
}

export class FieldClassConverter {
  /** Field class aliases (name -> JSON), in fragment order. */
  readonly aliases = new Map<string, Json>();
  /** The first byte order seen (CTF 2 has no trace byte order; the model wants one). */
  firstByteOrder: ByteOrder | undefined;

  constructor(private readonly draft: DraftTrace) {}

  convert(json: Json | undefined, ctx: ConvertContext, what: string, depth = 0): FieldClass {
    if (depth > 1000) throw metadataError(`${what}: field classes nested too deeply`);
    if (typeof json === 'string') {
      const alias = this.aliases.get(json);
      if (alias === undefined) throw metadataError(`${what}: unknown field class alias "${json}"`);
      return this.convert(alias, ctx, `${what} (alias "${json}")`, depth + 1);
    }
    if (!isObject(json)) throw metadataError(`${what}: field class is not an object or alias name`);
    checkExtensions(json, what);
    const type = json['type'];
    switch (type) {
      case 'fixed-length-unsigned-integer':
      case 'fixed-length-signed-integer':
        return this.fixedInt(json, type === 'fixed-length-signed-integer', ctx, what);
      case 'variable-length-unsigned-integer':
      case 'variable-length-signed-integer': {
        const mappings = json['mappings'] !== undefined ? this.mappings(json['mappings'], what) : undefined;
        const role = this.roles(json, ctx, what);
        return {
          kind: 'varint',
          align: 8,
          hidden: false,
          signed: type === 'variable-length-signed-integer',
          base: displayBase(json, what),
          ...(mappings && { mappings }),
          ...(role.role && { role: role.role }),
        };
      }
      case 'fixed-length-boolean': {
        const size = uint(json, 'length', what);
        const bo = byteOrder(json, what);
        this.firstByteOrder ??= bo;
        return { kind: 'bool', align: alignment(json, 'alignment', what, 1), hidden: false, size, byteOrder: bo };
      }
      case 'fixed-length-bit-array':
      case 'fixed-length-bit-map': {
        const size = uint(json, 'length', what);
        if (size < 1 || size > 64) throw metadataError(`${what}: unsupported bit array length ${size}`);
        const bo = byteOrder(json, what);
        this.firstByteOrder ??= bo;
        const flagsJson = json['flags'];
        let flags: Array<{ label: string; ranges: ReadonlyArray<readonly [bigint, bigint]> }> | undefined;
        if (type === 'fixed-length-bit-map') {
          if (!isObject(flagsJson)) throw metadataError(`${what}: missing \`flags\` object`);
          flags = Object.entries(flagsJson).map(([label, r]) => ({ label, ranges: ranges(r, `${what} flag "${label}"`) }));
        }
        return { kind: 'bit-array', align: alignment(json, 'alignment', what, 1), hidden: false, size, byteOrder: bo, ...(flags && { flags }) };
      }
      case 'fixed-length-floating-point-number': {
        const size = uint(json, 'length', what);
        if (size !== 32 && size !== 64) throw metadataError(`${what}: unsupported floating point number length ${size}`);
        const bo = byteOrder(json, what);
        this.firstByteOrder ??= bo;
        return { kind: 'float', align: alignment(json, 'alignment', what, 1), hidden: false, size, byteOrder: bo };
      }
      case 'null-terminated-string':
        return { kind: 'string', align: 8, hidden: false, encoding: this.encoding(json, what) };
      case 'static-length-string':
        return { kind: 'string', align: 8, hidden: false, encoding: this.encoding(json, what), staticLength: uint(json, 'length', what) };
      case 'dynamic-length-string': {
        const fc: StringFieldClass = { kind: 'string', align: 8, hidden: false, encoding: this.encoding(json, what), lengthSlot: -1 };
        this.draft.refs.set(fc, this.location(json['length-field-location'], what));
        return fc;
      }
      case 'static-length-blob':
      case 'dynamic-length-blob': {
        const mediaType = str(json, 'media-type', what) ?? 'application/octet-stream';
        const rolesJson = json['roles'];
        const isUuid = Array.isArray(rolesJson) && rolesJson.includes('metadata-stream-uuid');
        if (type === 'static-length-blob') {
          return { kind: 'blob', align: 8, hidden: isUuid, staticLength: uint(json, 'length', what), mediaType };
        }
        const fc: FieldClass = { kind: 'blob', align: 8, hidden: false, lengthSlot: -1, mediaType };
        this.draft.refs.set(fc, this.location(json['length-field-location'], what));
        return fc;
      }
      case 'structure': {
        const membersJson = json['member-classes'] ?? [];
        if (!Array.isArray(membersJson)) throw metadataError(`${what}: \`member-classes\` is not an array`);
        const members: StructMember[] = [];
        const names = new Set<string>();
        for (const m of membersJson) {
          if (!isObject(m)) throw metadataError(`${what}: member class is not an object`);
          const name = str(m, 'name', what);
          if (name === undefined) throw metadataError(`${what}: member class without a name`);
          if (names.has(name)) throw metadataError(`${what}: duplicate member "${name}"`);
          names.add(name);
          members.push({ name, originalName: name, fc: this.convert(m['field-class'], ctx, `${what}.${name}`, depth + 1) });
        }
        return { kind: 'struct', align: alignment(json, 'minimum-alignment', what, 1), hidden: false, members };
      }
      case 'static-length-array':
      case 'dynamic-length-array': {
        const element = this.convert(json['element-field-class'], ctx, `${what}[]`, depth + 1);
        const minAlign = alignment(json, 'minimum-alignment', what, 1);
        const align = Math.max(minAlign, element.align);
        if (type === 'static-length-array') {
          return { kind: 'array', align, hidden: false, length: uint(json, 'length', what), element, isText: false };
        }
        const fc: FieldClass = { kind: 'sequence', align, hidden: false, lengthSlot: -1, element, isText: false };
        this.draft.refs.set(fc, this.location(json['length-field-location'], what));
        return fc;
      }
      case 'optional': {
        const inner = this.convert(json['field-class'], ctx, `${what}?`, depth + 1);
        const sr = json['selector-field-ranges'];
        const fc: FieldClass = {
          kind: 'optional',
          align: 1,
          hidden: false,
          selectorSlot: -1,
          ...(sr !== undefined && { selectorRanges: ranges(sr, what) }),
          fc: inner,
        };
        this.draft.refs.set(fc, this.location(json['selector-field-location'], what));
        return fc;
      }
      case 'variant': {
        const optionsJson = json['options'];
        if (!Array.isArray(optionsJson) || optionsJson.length === 0) throw metadataError(`${what}: variant without options`);
        const options: VariantOption[] = optionsJson.map((o, i) => {
          if (!isObject(o)) throw metadataError(`${what}: variant option is not an object`);
          const name = str(o, 'name', what) ?? '';
          return {
            name,
            originalName: name,
            fc: this.convert(o['field-class'], ctx, `${what}.${name || `option ${i}`}`, depth + 1),
            ranges: ranges(o['selector-field-ranges'], `${what} option ${name || i}`),
          };
        });
        const fc: FieldClass = { kind: 'variant', align: 1, hidden: false, tagSlot: -1, options };
        this.draft.refs.set(fc, this.location(json['selector-field-location'], what));
        return fc;
      }
      default:
        throw metadataError(`${what}: unknown field class type ${JSON.stringify(type)}`);
    }
  }

  private fixedInt(json: JsonObject, signed: boolean, ctx: ConvertContext, what: string): FieldClass {
    const size = uint(json, 'length', what);
    if (size < 1 || size > 64) throw metadataError(`${what}: unsupported integer length ${size} (expecting 1 to 64)`);
    const bo = byteOrder(json, what);
    this.firstByteOrder ??= bo;
    const bitOrder = json['bit-order'];
    if (bitOrder !== undefined && bitOrder !== (bo === 'le' ? 'first-to-last' : 'last-to-first')) {
      throw metadataError(`${what}: unsupported \`bit-order\` ${JSON.stringify(bitOrder)} for this byte order`);
    }
    const role = this.roles(json, ctx, what);
    const int: IntegerFieldClass = {
      kind: 'int',
      align: alignment(json, 'alignment', what, 1),
      hidden: false,
      size,
      signed,
      byteOrder: bo,
      base: displayBase(json, what),
      encoding: 'none',
      ...(role.clock && { mappedClock: role.clock }),
      ...(role.role && { role: role.role }),
    };
    if (json['mappings'] === undefined) return int;
    return { kind: 'enum', align: int.align, hidden: false, container: int, mappings: this.mappings(json['mappings'], what) };
  }

  private mappings(v: Json, what: string): EnumMapping[] {
    if (!isObject(v)) throw metadataError(`${what}: \`mappings\` is not an object`);
    return Object.entries(v).map(([label, r]) => ({ label, ranges: ranges(r, `${what} mapping "${label}"`) }));
  }

  private roles(json: JsonObject, ctx: ConvertContext, what: string): { role?: FieldRole; clock?: ClockClass } {
    const v = json['roles'];
    if (v === undefined) return {};
    if (!Array.isArray(v)) throw metadataError(`${what}: \`roles\` is not an array`);
    let role: FieldRole | undefined;
    let clock: ClockClass | undefined;
    for (const r of v) {
      if (typeof r !== 'string' || !Object.hasOwn(ROLES, r)) throw metadataError(`${what}: unknown role ${JSON.stringify(r)}`);
      const m = ROLES[r]!;
      if (m === 'uuid') continue;
      if (m === 'default-clock-timestamp') {
        if (!ctx.clock) throw metadataError(`${what}: \`default-clock-timestamp\` role without a default clock class`);
        clock = ctx.clock;
        role = ctx.scope === 'packet-context' ? 'packet-begin-ts' : 'default-clock-timestamp';
      } else {
        role = m;
      }
    }
    return { ...(role && { role }), ...(clock && { clock }) };
  }

  private encoding(json: JsonObject, what: string): StringFieldClass['encoding'] {
    const e = json['encoding'];
    switch (e) {
      case undefined:
      case 'utf-8':
        return 'utf8';
      case 'utf-16be':
        return 'utf16be';
      case 'utf-16le':
        return 'utf16le';
      case 'utf-32be':
        return 'utf32be';
      case 'utf-32le':
        return 'utf32le';
      default:
        throw metadataError(`${what}: unknown string encoding ${JSON.stringify(e)}`);
    }
  }

  private location(v: Json | undefined, what: string): FieldRef {
    if (!isObject(v)) throw metadataError(`${what}: missing field location`);
    const origin = v['origin'];
    const path = v['path'];
    if (!Array.isArray(path) || path.length === 0 || path.some((p) => p !== null && typeof p !== 'string')) {
      throw metadataError(`${what}: invalid field location path ${JSON.stringify(path)}`);
    }
    if (origin === undefined) return { path: path as Array<string | null> };
    if (typeof origin !== 'string' || !Object.hasOwn(ORIGINS, origin)) throw metadataError(`${what}: invalid field location origin ${JSON.stringify(origin)}`);
    if (path.includes(null)) throw metadataError(`${what}: absolute field location with a parent (null) item`);
    return { path: path as string[], origin: ORIGINS[origin]! };
  }
}

export { ranges as parseRanges };
