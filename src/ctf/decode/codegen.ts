// Generates one specialised JavaScript decoder per scope field class (packet header, packet context, event
// header, and per event class the common context + specific context + payload), with `new Function`.
//
// Contract: a compiled decoder is `(s: DecodeState) => value` reading `s.u8`/`s.dv` (the packet's bytes)
// from bit position `s.pos` and leaving `s.pos` after the last field. Two independent switches:
//   - `effects`: apply field meanings while reading: store length/tag slots, update the stream clock
//     (n-bit wrap rule), record roles (magic check, stream class/instance id, sizes, packet times,
//     discarded-events counter, sequence number, event class id) in the state.
//   - `values`: build the babeltrace-visible value (hidden members omitted; a hidden scope yields
//     undefined). Slots are stored in both modes since sequences and variants need them.
// Integers come out as numbers when they fit in 2^53 and as bigints otherwise; text arrays/sequences and
// strings as JS strings (UTF-8, text arrays cut at the first NUL). Reads past `s.end` throw DecodeError.

import type {
  ArrayFieldClass,
  EnumFieldClass,
  FieldClass,
  FieldRole,
  IntegerFieldClass,
  SequenceFieldClass,
  StructFieldClass,
  VariantFieldClass,
} from '../ir/trace-class.js';
import { VariantValue } from '../ir/message.js';
import {
  DecodeError,
  POW2,
  clockUpdateBig,
  combS,
  combU,
  findNul,
  rd64,
  rdBE32,
  rdFloat,
  rdLE32,
  text,
  utf8,
  wideText,
} from './bits.js';
import type { DecodeState } from './state.js';

export interface GenMode {
  readonly effects: boolean;
  readonly values: boolean;
}

export type ScopeDecoder = (s: DecodeState, out?: object) => unknown;

/** Property names compileScopes() with `values` stores the common context, specific context and payload in. */
export type ScopeFields = readonly [string, string, string];

function oob(s: DecodeState, p: number, n: number): never {
  throw new DecodeError(
    `truncated data: need ${n} bits at bit ${p} of the packet but only ${s.end} bits are available`,
  );
}
function badMagic(v: number | bigint): never {
  throw new DecodeError(`Invalid CTF magic number 0x${v.toString(16).toUpperCase()} (expected 0xC1FC1FC1)`);
}
function noOption(tag: unknown): never {
  throw new DecodeError(`Cannot find variant field class's option for tag value ${String(tag)}`);
}
function badLength(len: unknown): never {
  throw new DecodeError(`invalid sequence/string length ${String(len)}`);
}
function noNul(p: number): never {
  throw new DecodeError(`unterminated string at bit ${p} of the packet`);
}

/** Functions and constants the generated code reaches through `H`. */
const HELPERS = {
  rdLE32,
  rdBE32,
  rd64,
  rdFloat,
  combU,
  combS,
  clockUpdateBig,
  findNul,
  utf8,
  text,
  wideText,
  oob,
  badMagic,
  noOption,
  badLength,
  noNul,
  VariantValue,
};

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function lit(x: bigint): string {
  return x >= -BigInt(MAX_SAFE) && x <= BigInt(MAX_SAFE) ? String(x) : `${x}n`;
}

/** The largest power of two (at most 2^30) dividing a step of `bits` (0 steps keep any alignment). */
function stepAlignment(bits: number): number {
  if (bits === 0) return 1 << 30;
  let a = 1;
  while (a < 1 << 30 && bits % (a * 2) === 0) a *= 2;
  return a;
}

class Gen {
  private n = 0;
  /**
   * A power of two (bits) that the position `p` is known to be a multiple of where the next line is emitted
   * (1: nothing known): an alignment it already has costs no code. Positions are relative to the packet,
   * which starts aligned; a decoder or loop iteration starts where the previous one stopped (nothing known).
   */
  known = 1;
  private readonly lines: string[] = [];
  private consts: unknown[] = [];

  /**
   * @param loop code for compileSkipLoop()'s loop: a damaged event ends the loop (`break L`, its effects not
   *   kept) instead of throwing, and the clock and event class ID go to the locals `clk` and `eid`.
   */
  constructor(
    readonly mode: GenMode,
    readonly loop = false,
    /**
     * In the loop: the one partial size (bits, at most 48) of the clock updates, when there is one. The clock
     * is then kept as `hi + lo` (`hi` a multiple of 2^loopClockBits, `lo` the low bits): an update of that
     * size is a compare and an add, with no division and no double that must be boxed per event.
     */
    readonly loopClockBits?: number,
  ) {}

  /** The loop's clock value as an expression. */
  loopClock(): string {
    return this.loopClockBits !== undefined ? '(hi + lo)' : 'clk';
  }

  /** Code for a decoding error: the helper call that throws, or the loop's way out. */
  fail(call: string): string {
    return this.loop ? 'break L;' : call + ';';
  }

  v(prefix = 'v'): string {
    return prefix + this.n++;
  }
  emit(line: string): void {
    this.lines.push(line);
  }
  k(value: unknown): string {
    this.consts.push(value);
    return `K[${this.consts.length - 1}]`;
  }

  align(a: number): void {
    if (a > 1 && this.known < a) {
      this.emit(`p = (p + ${a - 1}) & ${-a};`);
      this.known = a;
    }
  }

  /** `p` moved on by a multiple of `bits`. */
  stepped(bits: number): void {
    this.known = Math.min(this.known, stepAlignment(bits));
  }

  /** Emits code for one field; returns the variable holding its value when `build`, else null. */
  field(fc: FieldClass, build: boolean): string | null {
    switch (fc.kind) {
      case 'int':
        return this.int(fc, fc, build, fc.role, fc.mappedClock !== undefined, fc.storeSlot);
      case 'enum': {
        const c = fc.container;
        const role = c.role;
        const mapped = c.mappedClock !== undefined;
        const slot = fc.storeSlot ?? c.storeSlot;
        return this.int(c, fc, build, role, mapped, slot);
      }
      case 'float':
        return this.float(fc.size, fc.byteOrder === 'le', fc.align, build);
      case 'string':
        return this.string(fc, build);
      case 'struct':
        return this.struct(fc, build);
      case 'array':
      case 'sequence':
        return this.array(fc, build);
      case 'variant':
        return this.variant(fc, build);
      case 'bool': {
        const v = this.rawInt(fc.size, false, fc.byteOrder === 'le', fc.align);
        if (!build) return null;
        const b = this.v();
        this.emit(`var ${b} = ${v} != 0;`);
        return b;
      }
      case 'bit-array': {
        const v = this.rawInt(fc.size, false, fc.byteOrder === 'le', fc.align);
        return build && !fc.hidden ? v : null;
      }
      case 'varint':
        return this.varint(fc.signed, build, fc.storeSlot, fc.role);
      case 'blob':
        return this.blob(fc.staticLength, fc.lengthSlot, fc.align, build);
      case 'optional':
        return this.optional(fc, build);
    }
  }

  /** Reads an integer of `size` bits (alignment already known); returns the variable. */
  rawInt(size: number, signed: boolean, le: boolean, align: number): string {
    this.align(align);
    const v = this.v();
    this.emit(`if (p + ${size} > E) ${this.fail(`H.oob(s, p, ${size})`)}`);
    const byteAligned = align % 8 === 0 || this.known >= 8;
    const fastSizes = size === 8 || size === 16 || size === 32 || size === 64;
    let fast: string | null = null;
    if (fastSizes) {
      const o = `(p >>> 3)`;
      if (size === 8) fast = signed ? `dv.getInt8(${o})` : `u8[${o}]`;
      else if (size === 16) fast = `dv.get${signed ? 'Int' : 'Uint'}16(${o}, ${le})`;
      else if (size === 32) fast = `dv.get${signed ? 'Int' : 'Uint'}32(${o}, ${le})`;
      else {
        const loOff = le ? 0 : 4;
        const hiOff = le ? 4 : 0;
        fast =
          `H.comb${signed ? 'S' : 'U'}(dv.get${signed ? 'Int' : 'Uint'}32(${o} + ${hiOff}, ${le}), ` +
          `dv.getUint32(${o} + ${loOff}, ${le}))`;
      }
    }
    let slow: string;
    if (size <= 32) {
      slow = `H.rd${le ? 'LE' : 'BE'}32(u8, p, ${size})`;
      if (signed) {
        const half = POW2[size - 1]!;
        const full = POW2[size]!;
        slow = `((t = ${slow}) >= ${half} ? t - ${full} : t)`;
      }
    } else {
      slow = `H.rd64(u8, p, ${size}, ${le}, ${signed})`;
    }
    if (fast !== null && byteAligned) this.emit(`var ${v} = ${fast};`);
    else if (fast !== null) this.emit(`var ${v} = (p & 7) === 0 ? ${fast} : ${slow};`);
    else this.emit(`var ${v} = ${slow};`);
    this.emit(`p += ${size};`);
    this.stepped(size);
    return v;
  }

  int(
    ic: IntegerFieldClass,
    fc: IntegerFieldClass | EnumFieldClass,
    build: boolean,
    role: FieldRole | undefined,
    mapped: boolean,
    slot: number | undefined,
  ): string | null {
    if (!(build && !fc.hidden) && slot === undefined && !(this.mode.effects && (role !== undefined || mapped))) {
      this.pass(ic.size, fc.align);
      return null;
    }
    const v = this.rawInt(ic.size, ic.signed, ic.byteOrder === 'le', fc.align);
    if (slot !== undefined) this.emit(`S[${slot}] = ${v};`);
    if (this.mode.effects) {
      if (role !== undefined) this.role(role, v);
      if (mapped && role !== 'packet-end-ts') this.clock(v, ic.size);
    }
    return build && !fc.hidden ? v : null;
  }

  role(role: FieldRole, v: string): void {
    switch (role) {
      case 'packet-magic':
        this.emit(`if (${v} !== 3254525889) ${this.fail(`H.badMagic(${v})`)}`);
        break;
      case 'stream-class-id':
        this.emit(`s.streamClassId = ${v};`);
        break;
      case 'stream-instance-id':
        this.emit(`s.streamInstanceId = ${v};`);
        break;
      case 'packet-total-size':
        this.emit(`s.packetSize = ${v};`);
        break;
      case 'packet-content-size':
        this.emit(`s.contentSize = ${v};`);
        break;
      case 'packet-begin-ts':
        this.emit(`s.tsBegin = ${v};`);
        break;
      case 'packet-end-ts':
        this.emit(`s.tsEnd = ${v};`);
        break;
      case 'discarded-events':
        this.emit(`s.discarded = ${v};`);
        break;
      case 'packet-seq-num':
        this.emit(`s.seqNum = ${v};`);
        break;
      case 'event-class-id':
        this.emit(`${this.loop ? 'eid' : 's.eventId'} = ${v};`);
        break;
      case 'metadata-uuid':
      case 'default-clock-timestamp':
        break;
    }
  }

  /** Clock update: 64-bit replaces; n-bit replaces the low bits with one wrap (bits.ts). */
  clock(v: string, size: number): void {
    if (this.loop) {
      this.loopClockUpdate(v, size);
      return;
    }
    const clk = 's.clock';
    if (size >= 64) {
      this.emit(`${clk} = ${v};`);
      return;
    }
    if (size <= 48) {
      const P = POW2[size]!;
      const limit = MAX_SAFE - 2 * P;
      // The low bits by floor(c / 2^n), exact for a non-negative integer c < 2^53: `%` on a double is a call to
      // fmod (~10 ns, once per event).
      this.emit(
        `if (typeof (c = ${clk}) === 'number' && c < ${limit} && c >= 0) { t = c - Math.floor(c / ${P}) * ${P}; ` +
          `${clk} = c - t + ${v} + (${v} < t ? ${P} : 0); } else ${clk} = H.clockUpdateBig(${clk}, ${v}, ${size});`,
      );
      return;
    }
    this.emit(`${clk} = H.clockUpdateBig(${clk}, ${v}, ${size});`);
  }

  /**
   * The loop's clock update. The loop's clock is always a number below 2^53: an update whose result would not
   * be (a bigint, or a value clockUpdateBig() gives as one) ends the loop before the event, and the per-event
   * decoders take that event.
   */
  loopClockUpdate(v: string, size: number): void {
    const n = this.loopClockBits;
    if (n !== undefined) {
      const P = POW2[n]!;
      if (size >= 64) {
        this.emit(`if (typeof ${v} !== 'number') break L; lo = ${v} - Math.floor(${v} / ${P}) * ${P}; hi = ${v} - lo;`);
        return;
      }
      if (size === n) {
        // hi + lo stays at most 2^53 - 1 while hi <= 2^53 - 2^n.
        this.emit(`hi += ${v} < lo ? ${P} : 0; lo = ${v}; if (hi > ${2 ** 53 - P}) break L;`);
        return;
      }
      throw new Error(`loop clock of ${n} bits updated by a ${size}-bit field`);
    }
    if (size >= 64) {
      this.emit(`if (typeof ${v} !== 'number') break L; clk = ${v};`);
      return;
    }
    if (size > 48) {
      this.emit(`c = H.clockUpdateBig(clk, ${v}, ${size}); if (typeof c !== 'number') break L; clk = c;`);
      return;
    }
    const P = POW2[size]!;
    const limit = MAX_SAFE - 2 * P;
    this.emit(`if (clk >= ${limit}) break L; t = clk - Math.floor(clk / ${P}) * ${P}; clk = clk - t + ${v} + (${v} < t ? ${P} : 0);`);
  }

  /** Steps over `size` bits nobody reads (bounds checked). */
  pass(size: number, align: number): void {
    this.align(align);
    this.emit(`if (p + ${size} > E) ${this.fail(`H.oob(s, p, ${size})`)}`);
    this.emit(`p += ${size};`);
    this.stepped(size);
  }

  float(size: number, le: boolean, align: number, build: boolean): string | null {
    if (!build) {
      this.pass(size, align);
      return null;
    }
    this.align(align);
    const v = this.v();
    this.emit(`if (p + ${size} > E) ${this.fail(`H.oob(s, p, ${size})`)}`);
    const fast = `dv.getFloat${size}(p >>> 3, ${le})`;
    const slow = `H.rdFloat(u8, p, ${size}, ${le})`;
    if (align % 8 === 0 || this.known >= 8) this.emit(`var ${v} = ${fast};`);
    else this.emit(`var ${v} = (p & 7) === 0 ? ${fast} : ${slow};`);
    this.emit(`p += ${size};`);
    this.stepped(size);
    return build ? v : null;
  }

  string(fc: FieldClass & { kind: 'string' }, build: boolean): string | null {
    const b = build && !fc.hidden;
    this.align(Math.max(8, fc.align));
    const v = b ? this.v() : null;
    const i = this.v('i');
    const wide = fc.encoding.startsWith('utf16') || fc.encoding.startsWith('utf32');
    if (fc.staticLength !== undefined || fc.lengthSlot !== undefined) {
      const len = this.v('n');
      if (fc.staticLength !== undefined) this.emit(`var ${len} = ${fc.staticLength};`);
      else {
        this.emit(`var ${len} = S[${fc.lengthSlot}];`);
        this.emit(`if (typeof ${len} !== 'number' || ${len} < 0) ${this.fail(`H.badLength(${len})`)}`);
      }
      this.emit(`if (p + ${len} * 8 > E) ${this.fail(`H.oob(s, p, ${len} * 8)`)}`);
      this.emit(`var ${i} = p >>> 3;`);
      if (v) {
        if (wide) this.emit(`var ${v} = H.wideText(u8, ${i}, ${i} + ${len}, ${JSON.stringify(fc.encoding)});`);
        else this.emit(`var ${v} = H.text(u8, ${i}, ${i} + ${len});`);
      }
      this.emit(`p += ${len} * 8;`);
      this.stepped(8);
      return v;
    }
    // NUL-terminated (CTF 1.8 string).
    const j = this.v('j');
    this.emit(`var ${i} = p >>> 3;`);
    if (wide) {
      const unit = fc.encoding.startsWith('utf16') ? 2 : 4;
      this.emit(`var ${j} = ${i};`);
      this.emit(
        `for (;;) { if ((${j} + ${unit}) * 8 > E) ${this.fail(`H.noNul(p)`)} ` +
          (unit === 2
            ? `if (u8[${j}] === 0 && u8[${j} + 1] === 0) break; ${j} += 2; }`
            : `if (u8[${j}] === 0 && u8[${j} + 1] === 0 && u8[${j} + 2] === 0 && u8[${j} + 3] === 0) break; ${j} += 4; }`),
      );
      if (v) this.emit(`var ${v} = H.wideText(u8, ${i}, ${j}, ${JSON.stringify(fc.encoding)});`);
      this.emit(`p = (${j} + ${unit}) * 8;`);
      this.known = 8;
      return v;
    }
    this.emit(`var ${j} = H.findNul(u8, ${i}, E >>> 3);`);
    this.emit(`if (${j} < 0) ${this.fail(`H.noNul(p)`)}`);
    if (v) this.emit(`var ${v} = H.utf8(u8, ${i}, ${j});`);
    this.emit(`p = (${j} + 1) * 8;`);
    this.known = 8;
    return v;
  }

  struct(fc: StructFieldClass, build: boolean): string | null {
    const b = build && !fc.hidden;
    this.align(fc.align);
    const parts: string[] = [];
    for (const m of fc.members) {
      const mv = this.field(m.fc, b);
      if (b && mv !== null && !m.fc.hidden) parts.push(`${JSON.stringify(m.name)}: ${mv}`);
    }
    if (!b) return null;
    const v = this.v();
    this.emit(`var ${v} = {${parts.join(', ')}};`);
    return v;
  }

  /** Fixed bit size of a field with no side effects and no inner padding, or -1. */
  fixedSize(fc: FieldClass): number {
    if (fc.kind === 'int') {
      if (fc.storeSlot !== undefined || fc.role !== undefined || fc.mappedClock) return -1;
      return fc.size % fc.align === 0 ? fc.size : -1;
    }
    if (fc.kind === 'enum') {
      const c = fc.container;
      if (fc.storeSlot !== undefined || c.storeSlot !== undefined || c.role !== undefined || c.mappedClock) return -1;
      return c.size % fc.align === 0 ? c.size : -1;
    }
    if (fc.kind === 'float') return fc.size % fc.align === 0 ? fc.size : -1;
    return -1;
  }

  array(fc: ArrayFieldClass | SequenceFieldClass, build: boolean): string | null {
    const b = build && !fc.hidden;
    // Alignment of the element applies even to an empty array (array-align-elem).
    this.align(Math.max(fc.align, fc.element.align));
    const len = this.v('n');
    if (fc.kind === 'array') this.emit(`var ${len} = ${fc.length};`);
    else {
      this.emit(`var ${len} = S[${fc.lengthSlot}];`);
      // Every element takes at least one bit: a longer sequence is damage (and must not allocate).
      this.emit(`if (typeof ${len} !== 'number' || ${len} < 0 || ${len} > E - p) ${this.fail(`H.badLength(${len})`)}`);
    }
    if (fc.isText) {
      const i = this.v('i');
      this.emit(`if (p + ${len} * 8 > E) ${this.fail(`H.oob(s, p, ${len} * 8)`)}`);
      this.emit(`var ${i} = p >>> 3;`);
      const v = b ? this.v() : null;
      if (v) this.emit(`var ${v} = H.text(u8, ${i}, ${i} + ${len});`);
      this.emit(`p += ${len} * 8;`);
      this.stepped(8);
      return v;
    }
    const fixed = this.fixedSize(fc.element);
    if (!b && fixed > 0) {
      this.emit(`if (p + ${len} * ${fixed} > E) ${this.fail(`H.oob(s, p, ${len} * ${fixed})`)}`);
      this.emit(`p += ${len} * ${fixed};`);
      this.stepped(fixed);
      return null;
    }
    const arr = b ? this.v('a') : null;
    const k = this.v('k');
    if (arr) this.emit(`var ${arr} = new Array(${len});`);
    this.emit(`for (var ${k} = 0; ${k} < ${len}; ${k}++) {`);
    // An element starts where the previous one stopped; after the loop, p is where the last one stopped (or
    // before the first).
    const before = this.known;
    this.known = 1;
    const ev = this.field(fc.element, b);
    if (arr) this.emit(`${arr}[${k}] = ${ev};`);
    this.emit('}');
    this.known = Math.min(before, this.known);
    return arr;
  }

  variant(fc: VariantFieldClass, build: boolean): string | null {
    const b = build && !fc.hidden;
    const t = this.v('g');
    this.emit(`var ${t} = S[${fc.tagSlot}];`);
    const v = b ? this.v() : null;
    if (v) this.emit(`var ${v};`);
    let first = true;
    // Each option starts from the alignment known before it; what is known after is what every option keeps.
    const before = this.known;
    let after = 1 << 30;
    fc.options.forEach((opt, idx) => {
      if (opt.ranges.length === 0) return;
      const cond = opt.ranges.map(([lo, hi]) => (lo === hi ? `${t} == ${lit(lo)}` : `(${t} >= ${lit(lo)} && ${t} <= ${lit(hi)})`)).join(' || ');
      this.emit(`${first ? '' : 'else '}if (${cond}) {`);
      first = false;
      this.known = before;
      const ov = this.field(opt.fc, b);
      if (v) this.emit(`${v} = new H.VariantValue(${idx}, ${ov === null ? 'null' : ov});`);
      this.emit('}');
      after = Math.min(after, this.known);
    });
    this.known = first ? before : after;
    if (first) this.emit(`${this.fail(`H.noOption(${t})`)}`);
    else this.emit(`else ${this.fail(`H.noOption(${t})`)}`);
    return v;
  }

  varint(signed: boolean, build: boolean, slot: number | undefined, role: FieldRole | undefined): string | null {
    this.align(8);
    const v = this.v();
    const shift = this.v('m');
    const by = this.v('y');
    const big = this.v('B');
    const q = this.v('q');
    // LEB128: numbers while below 2^53 (7 bits per byte), bigints beyond.
    this.emit(`var ${v} = 0, ${shift} = 1, ${by}, ${big} = null;`);
    this.emit(
      `for (var ${q} = 0;; ${q}++) { if (p + 8 > E) ${this.fail(`H.oob(s, p, 8)`)} ${by} = u8[p >>> 3]; p += 8; ` +
        `if (${big} === null && ${q} < 7) { ${v} += (${by} & 127) * ${shift}; } ` +
        `else { if (${big} === null) ${big} = BigInt(${v}); ${big} += BigInt(${by} & 127) << BigInt(7 * ${q}); } ` +
        `${shift} *= 128; if ((${by} & 128) === 0) break; }`,
    );
    this.known = 8;
    this.emit(`if (${big} !== null) ${v} = ${big};`);
    if (signed) {
      this.emit(
        `if (${by} & 64) { ${v} = typeof ${v} === 'number' && ${shift} <= 9007199254740992 ? ${v} - ${shift} : BigInt(${v}) - (1n << BigInt(7 * (${q} + 1))); }`,
      );
    }
    this.emit(`if (typeof ${v} === 'bigint' && ${v} <= 9007199254740991n && ${v} >= -9007199254740991n) ${v} = Number(${v});`);
    if (slot !== undefined) this.emit(`S[${slot}] = ${v};`);
    if (this.mode.effects && role !== undefined) this.role(role, v);
    return build ? v : null;
  }

  blob(staticLength: number | undefined, lengthSlot: number | undefined, align: number, build: boolean): string | null {
    this.align(Math.max(8, align));
    const len = this.v('n');
    if (staticLength !== undefined) this.emit(`var ${len} = ${staticLength};`);
    else {
      this.emit(`var ${len} = S[${lengthSlot}];`);
      this.emit(`if (typeof ${len} !== 'number' || ${len} < 0) ${this.fail(`H.badLength(${len})`)}`);
    }
    this.emit(`if (p + ${len} * 8 > E) ${this.fail(`H.oob(s, p, ${len} * 8)`)}`);
    const v = build ? this.v() : null;
    if (v) this.emit(`var ${v} = u8.slice(p >>> 3, (p >>> 3) + ${len});`);
    this.emit(`p += ${len} * 8;`);
    this.stepped(8);
    return v;
  }

  optional(fc: FieldClass & { kind: 'optional' }, build: boolean): string | null {
    const b = build && !fc.hidden;
    const t = this.v('g');
    this.emit(`var ${t} = S[${fc.selectorSlot}];`);
    const cond = fc.selectorRanges
      ? fc.selectorRanges.map(([lo, hi]) => `(${t} >= ${lit(lo)} && ${t} <= ${lit(hi)})`).join(' || ') || 'false'
      : `(${t} != 0 && ${t} !== false)`;
    const v = b ? this.v() : null;
    if (v) this.emit(`var ${v} = null;`);
    this.emit(`if (${cond}) {`);
    const before = this.known;
    const ov = this.field(fc.fc, b);
    if (v && ov !== null) this.emit(`${v} = ${ov};`);
    this.emit('}');
    this.known = Math.min(before, this.known);
    return v;
  }

  /**
   * An event scope whose top-level members go to `sink` instead of into an object (see compileScopeSink): a
   * plain byte-aligned 64-bit integer as its two int32 halves when the sink takes them so, else as its value.
   */
  sinkStruct(fc: StructFieldClass, scope: number, sink: MemberSink): void {
    this.align(fc.align);
    for (const m of fc.members) {
      const f = m.fc;
      const halves =
        !fc.hidden && !f.hidden && f.kind === 'int' && f.size === 64 && f.align % 8 === 0 && f.storeSlot === undefined && f.role === undefined &&
        !(this.mode.effects && f.mappedClock !== undefined)
          ? sink.halves?.(scope, m.name, f)
          : undefined;
      if (halves && f.kind === 'int') {
        const le = f.byteOrder === 'le';
        const lo = this.v();
        const hi = this.v();
        this.align(f.align);
        this.emit(`if (p + 64 > E) H.oob(s, p, 64);`);
        this.emit(`var ${lo} = dv.getInt32((p >>> 3) + ${le ? 0 : 4}, ${le}), ${hi} = dv.getInt32((p >>> 3) + ${le ? 4 : 0}, ${le});`);
        this.emit('p += 64;');
        this.stepped(64);
        this.emit(halves(lo, hi));
        continue;
      }
      const store = fc.hidden || f.hidden ? undefined : sink.value(scope, m.name, f);
      const v = this.field(f, store !== undefined);
      if (store && v !== null) this.emit(store(v, (x) => this.k(x)));
    }
  }

  finishLoop(record: boolean): SkipLoop {
    // With `record`: each event's start, body start, class ID and time (the clock after its header) go to
    // out.pos/body/ids/cycles. The loop starts only on a clock that is a number below 2^53 (else the per-event
    // decoders take the event), keeps it so (see loopClockUpdate()), and stores the position and the clock
    // after the last whole event once, on the way out: a store per event costs a boxed double each time.
    const n = this.loopClockBits;
    const P = n === undefined ? 0 : POW2[n]!;
    const start =
      n === undefined
        ? `if (typeof clk !== 'number') return 0;\nvar lp = p, lc = clk;\n`
        : `if (typeof clk !== 'number' || clk < 0 || clk > ${2 ** 53 - P}) return 0;\n` +
          `var lo = clk - Math.floor(clk / ${P}) * ${P}, hi = clk - lo, lp = p, lh = hi, ll = lo;\n`;
    const keep = n === undefined ? 'lp = p; lc = clk;' : 'lp = p; lh = hi; ll = lo;';
    const out = n === undefined ? 's.pos = lp; s.clock = lc;' : 's.pos = lp; s.clock = lh + ll;';
    const body =
      `return function skipEvents(s, max, out) {\n` +
      `var u8 = s.u8, dv = s.dv, E = s.end, S = s.slots, t, c, p = s.pos, clk = s.clock, eid, n = 0, p0, pb, cyc;\n` +
      start +
      (record ? 'var RP = out.pos, RB = out.body, RI = out.ids, RC = out.cycles;\n' : '') +
      `L: while (p < E && n < max) {\n` +
      `p0 = p; eid = -1;\n` +
      this.lines.join('\n') +
      `\nif (p === p0) break;\n` +
      (record ? 'RP[n] = p0; RB[n] = pb; RI[n] = eid; RC[n] = cyc;\n' : '') +
      `${keep} n++;\n}\n${out}\nreturn n;\n};`;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const factory = new Function('H', 'K', body) as (h: typeof HELPERS, k: unknown[]) => SkipLoop;
    return factory(HELPERS, this.consts);
  }

  finish(result: string | null, tail = ''): ScopeDecoder {
    const body =
      `return function decode(s, o) {\n` +
      `var u8 = s.u8, dv = s.dv, p = s.pos, E = s.end, S = s.slots, t, c;\n` +
      this.lines.join('\n') +
      `\ns.pos = p;\n${tail}return ${result ?? 'undefined'};\n};`;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const factory = new Function('H', 'K', body) as (h: typeof HELPERS, k: unknown[]) => ScopeDecoder;
    return factory(HELPERS, this.consts);
  }
}

/**
 * Where compileScopeSink() sends an event's top-level scope members: code storing the member's value (held in
 * the generated variable `v`; `k` makes a constant the code can name), or undefined to skip the member.
 */
export interface MemberSink {
  value(scope: number, name: string, fc: FieldClass): ((v: string, k: (x: unknown) => string) => string) | undefined;
  /** A 64-bit integer's low and high int32 halves instead of its value (no bigint for a pointer). */
  halves?(scope: number, name: string, fc: FieldClass): ((lo: string, hi: string) => string) | undefined;
}

/**
 * Decoder of the three event scopes (0 common context, 1 specific context, 2 payload) that hands each top-level
 * member to `sink` (nested fields come as values), for consumers writing fields straight into their own
 * storage. `prologue` runs first (it may read the decoder's second argument `o`). Values only, it starts, like
 * values(), at an event body the fast pass accepted; with `effects` it is that pass too (the stream's own state
 * after the event header: slots and clock updated, damage reported as the pass reports it).
 */
export function compileScopeSink(
  scopes: readonly [StructFieldClass | undefined, StructFieldClass | undefined, StructFieldClass | undefined],
  sink: MemberSink,
  prologue: string,
  effects = false,
): ScopeDecoder {
  const g = new Gen({ effects, values: true });
  g.emit(prologue);
  scopes.forEach((sc, i) => {
    if (sc) g.sinkStruct(sc, i, sink);
  });
  return g.finish(null);
}

/** Where compileSkipLoop()'s recording function puts what it read of each event (indexes from 0). */
export interface SkippedEvents {
  /** Bit position of the event. */
  readonly pos: Int32Array;
  /** Bit position of its body (after the header). */
  readonly body: Int32Array;
  /** Its event class ID. */
  readonly ids: Int32Array;
  /** Its time (the clock after its header). */
  readonly cycles: Float64Array;
}

/** compileSkipLoop()'s function: reads on from s.pos (at most `max` events), returns the number of events read. */
export type SkipLoop = (s: DecodeState, max: number, out?: SkippedEvents) => number;

/**
 * The events of a packet read one after the other, effects only, in one generated loop (the event header and
 * every event class's scopes inlined; `bodies`: event class ID -> common context, specific context, payload;
 * `sole`: the ID an event header without one means; `record`: see SkippedEvents). It stops before the content's end at an event it cannot
 * read (damaged, unknown class, zero bits long) or whose clock would not be a number below 2^53: s.pos and
 * s.clock are then those after the last event read, and the per-event decoders take that event (and report
 * the error); the loop can go on after it.
 */
export function compileSkipLoop(
  header: StructFieldClass | undefined,
  bodies: ReadonlyMap<number, readonly (StructFieldClass | undefined)[]>,
  sole: number | undefined,
  record = false,
): SkipLoop {
  const sizes = new Set<number>();
  const scopes = [header, ...[...bodies.values()].flat()];
  for (const sc of scopes) if (sc) clockSizes(sc, sizes);
  const partial = [...sizes].filter((s) => s < 64);
  const g = new Gen({ effects: true, values: false }, true, partial.length === 1 && partial[0]! <= 48 ? partial[0] : undefined);
  if (header) g.field(header, false);
  if (sole !== undefined) g.emit(`if (eid === -1) eid = ${sole};`);
  g.emit(`pb = p; cyc = ${g.loopClock()};`);
  g.emit('switch (eid) {');
  const afterHeader = g.known;
  for (const [id, scopes] of bodies) {
    g.emit(`case ${id}: {`);
    g.known = afterHeader;
    for (const sc of scopes) if (sc) g.field(sc, false);
    g.emit('break; }');
  }
  g.emit('default: break L; }');
  return g.finishLoop(record);
}

/** Sizes of the clock updates reading `fc` makes (its integers mapped to a clock, as Gen.int() updates it). */
function clockSizes(fc: FieldClass, out: Set<number>): void {
  switch (fc.kind) {
    case 'int':
      if (fc.mappedClock !== undefined && fc.role !== 'packet-end-ts') out.add(fc.size);
      return;
    case 'enum':
      if (fc.container.mappedClock !== undefined && fc.container.role !== 'packet-end-ts') out.add(fc.container.size);
      return;
    case 'struct':
      for (const m of fc.members) clockSizes(m.fc, out);
      return;
    case 'array':
    case 'sequence':
      clockSizes(fc.element, out);
      return;
    case 'variant':
      for (const o of fc.options) clockSizes(o.fc, out);
      return;
    case 'optional':
      clockSizes(fc.fc, out);
      return;
    default:
      return;
  }
}

/** Decoder for one scope struct (or a chain of scopes read back to back, see compileScopes). */
export function compileScope(fc: StructFieldClass, mode: GenMode): ScopeDecoder {
  const g = new Gen(mode);
  const v = g.field(fc, mode.values);
  return g.finish(v);
}

/**
 * Decoder for the three consecutive event scopes (common context, specific context, payload). With
 * `values` it stores them in the `fields` properties of `out` (undefined for absent or hidden scopes).
 */
export function compileScopes(
  scopes: readonly [StructFieldClass | undefined, StructFieldClass | undefined, StructFieldClass | undefined],
  mode: GenMode,
  fields: ScopeFields = ['cc', 'sc', 'pl'],
): ScopeDecoder {
  const g = new Gen(mode);
  const vars: string[] = [];
  for (const sc of scopes) {
    const v = sc ? g.field(sc, mode.values) : null;
    vars.push(v ?? 'undefined');
  }
  const tail = mode.values ? fields.map((f, i) => `o.${f} = ${vars[i]};\n`).join('') : '';
  return g.finish(null, tail);
}
