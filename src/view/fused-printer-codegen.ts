// Fused decode + print: per event class, one generated JavaScript function that reads the common context,
// specific context and payload straight from the packet bytes and writes their babeltrace2 pretty text into
// the OutputWriter, with no value objects, strings or arrays per event (plain ASCII text is copied byte for
// byte from the packet). It prints exactly what compileStruct() (field-printer-codegen.ts) prints for the
// values the CTF decoder (ctf/decode/codegen.ts, values mode) would build from the same bits.
//
// Contract: `compileFusedEvent(scopes, opts)` returns `(o, s) => void` or null when a scope holds a field kind
// this generator does not handle (variants, varints, blobs, optionals, UTF-16/32 strings): the caller then
// prints through the value objects. `s` is a DecodeState positioned at the common context of an event the
// decoder's fast pass already accepted (so no bounds checks here: both passes read the same bits); only
// slot stores (sequence lengths) are replayed, never clock or role effects. The caller ensures LINE_SLACK
// bytes of room before the line, of which the timestamp takes at most 512; each scope writes its separator/name
// prefix itself. A line whose fields have a known longest text (maxText(), BOUNDED_BUDGET) is written with no
// room check at all; others check before each member.

import type { FieldClass, StructFieldClass } from '../ctf/ir/trace-class.js';
import { POW2, combS, combU, findNul, rd64, rdBE32, rdFloat, rdLE32, utf8 } from '../ctf/decode/bits.js';
import type { DecodeState } from '../ctf/decode/state.js';
import type { FieldStyle } from './field-printer-codegen.js';
import { CAPACITY, LINE_SLACK, packBytes, writeHex32, writeHex64, writePacked, writeUint32, type OutputWriter, type PackedBytes } from './output-writer.js';
import { writeG, writeGFrom } from './printf-g.js';
import { elemSlot, keepBytes, recall, type TextMemory } from './text-memory.js';
import { formatBinary, formatHex, formatOctal, makeEnumFormatter, type EnumColors } from './value-format.js';

/**
 * Writes the rest of an event line after its timestamp: the constant header (`head`), the packet context's
 * text `pc` (already formatted; ignored when the line has no packet context), the scopes, and the newline.
 */
export type FusedEventPrinter = ((o: OutputWriter, s: DecodeState, pc: PackedBytes, mem: readonly TextMemory[]) => void) & {
  /**
   * Most bytes written on the paths that do not make room themselves (Infinity: unknown); at most
   * BOUNDED_BUDGET means the line is written without room checks.
   */
  maxBytes?: number;
};

export interface FusedScope {
  readonly fc: StructFieldClass | undefined;
  /** Printed at all (scopeVisible()). */
  readonly visible: boolean;
  /** Separator and scope name before the scope's `{`. */
  readonly prefix: string;
  /** Member names shown (`name = value`). */
  readonly names: boolean;
}

/** Room re-checked before each struct member and array element (same as field-printer-codegen.ts). */
const MEMBER_ROOM = Math.floor(LINE_SLACK / 2);
/** Arrays of numbers up to this length are printed by unrolled code. */
const UNROLL_MAX = 16;
const SCALAR = new Set<FieldClass['kind']>(['int', 'enum', 'float', 'bool']);
/** Longest text copied in place (the rest goes through OutputWriter.qstr(), which makes room itself). */
const PLAIN_MAX = 256;

/** Bytes copied as they are inside quotes: printable ASCII but `"`, `'`, `?` and `\` (print_escape_string()). */
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c <= 0x7e; c++) PLAIN[c] = c === 0x22 || c === 0x27 || c === 0x3f || c === 0x5c ? 0 : 1;
/**
 * The same for UTF-8 output, where every byte from 0x80 is copied too: a valid UTF-8 sequence is written back
 * as the same bytes, and an invalid byte as that byte (bits.ts utf8(), OutputWriter.qstr()).
 */
const PLAIN_UTF8 = PLAIN.slice();
PLAIN_UTF8.fill(1, 0x80);

/**
 * Writes `"` + the text array bytes u8[a, e) up to the first NUL + `"` at b[q] when they are printable ASCII
 * needing no escape (then UTF-8 decoding and print_escape_string() change nothing) and returns the new
 * position; -1 otherwise. The caller guarantees PLAIN_MAX + 2 bytes of room.
 */
function quotePlainText(b: Uint8Array, q: number, u8: Uint8Array, a: number, e: number, plain: Uint8Array): number {
  if (e - a > PLAIN_MAX) return -1;
  b[q++] = 34;
  for (let i = a; i < e; i++) {
    const c = u8[i]!;
    if (plain[c] === 0) {
      if (c === 0) break;
      return -1;
    }
    b[q++] = c;
  }
  b[q++] = 34;
  return q;
}

/**
 * quotePlainText() of the NUL-terminated string at u8[a] (its NUL is known to exist): the string's length is
 * the returned position - q - 2. -1 when it needs the slow path (escapes, non-ASCII, longer than PLAIN_MAX).
 */
function quotePlainCString(b: Uint8Array, q: number, u8: Uint8Array, a: number, plain: Uint8Array): number {
  b[q++] = 34;
  const lim = a + PLAIN_MAX;
  for (let i = a; ; i++) {
    const c = u8[i]!;
    if (plain[c] === 0) {
      if (c === 0) break;
      return -1;
    }
    if (i >= lim) return -1;
    b[q++] = c;
  }
  b[q++] = 34;
  return q;
}

/**
 * quotePlainText() of a text field that the event object's memory follows, keeping the text in it (keepBytes())
 * when it was written: one call per text on the common path.
 */
function quoteKeepText(b: Uint8Array, q: number, u8: Uint8Array, a: number, e: number, plain: Uint8Array, t: TextMemory, k: number): number {
  const r = quotePlainText(b, q, u8, a, e, plain);
  if (r >= 0) keepBytes(t, k, u8, a, a + r - q - 2);
  return r;
}

/** quotePlainCString() of a followed string field, kept as quoteKeepText() does. */
function quoteKeepCString(b: Uint8Array, q: number, u8: Uint8Array, a: number, plain: Uint8Array, t: TextMemory, k: number): number {
  const r = quotePlainCString(b, q, u8, a, plain);
  if (r >= 0) keepBytes(t, k, u8, a, a + r - q - 2);
  return r;
}

/**
 * Literals up to this size are written with one store per byte (measured: much faster than a copy loop once
 * optimized), longer ones with copyLit().
 */
const LIT_INLINE = 64;

function copyLit(b: Uint8Array, q: number, k: Uint8Array): number {
  const n = k.length;
  for (let i = 0; i < n; i++) b[q + i] = k[i]!;
  return q + n;
}

/**
 * An enum formatter's text as bytes, made once per value (most enums see few values); null when the text is not
 * short ASCII (the writer then encodes it).
 */
function asciiBytesOf(format: (v: number | bigint) => string): (v: number | bigint) => PackedBytes | null {
  const cache = new Map<number | bigint, PackedBytes | null>();
  // Small values (most enums) through an array: cheaper than the map.
  const small: (PackedBytes | null | undefined)[] = new Array(256).fill(undefined);
  const bytes = (v: number | bigint): PackedBytes | null => {
    const s = format(v);
    return s.length <= 1024 && /^[\x00-\x7f]*$/.test(s) ? packBytes(Buffer.from(s, 'latin1')) : null;
  };
  return (v) => {
    if (typeof v === 'number' && v >= 0 && v < 256) {
      const e = small[v];
      return e !== undefined ? e : (small[v] = bytes(v));
    }
    let e = cache.get(v);
    if (e === undefined) {
      e = bytes(v);
      if (cache.size < 4096) cache.set(v, e);
    }
    return e;
  };
}

const HELPERS = {
  copyLit,
  quotePlainText,
  quotePlainCString,
  quoteKeepText,
  quoteKeepCString,
  rdLE32,
  rdBE32,
  rd64,
  rdFloat,
  combU,
  combS,
  findNul,
  utf8,
  writeHex32,
  writeHex64,
  writeUint32,
  writePacked,
  formatHex,
  formatOctal,
  formatBinary,
  writeG,
  writeGFrom,
  keepBytes,
  recall,
  elemSlot,
};

class Unsupported extends Error {}

class Gen {
  private n = 0;
  readonly lines: string[] = [];
  readonly consts: unknown[] = [];

  /** The table of bytes copied as they are in quoted texts (PLAIN or PLAIN_UTF8), as a constant of the code. */
  readonly plain: string;

  constructor(readonly style: FieldStyle) {
    this.plain = this.k(style.latin1 ? PLAIN : PLAIN_UTF8);
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
  /** A power of two p is known to be a multiple of (bits), so that redundant alignments are left out. */
  private known = 1;
  align(a: number): void {
    if (a > 1 && this.known % a !== 0) {
      this.emit(`p = (p + ${a - 1}) & ${-a};`);
      // A structure's align(N) need not be a power of two: the mask then leaves p a multiple of N's lowest bit.
      this.known = a & -a;
    }
  }
  /** p moved by a constant number of bits. */
  advanced(bits: number): void {
    let k = 1;
    while (k < 64 && bits % (k * 2) === 0 && this.known % (k * 2) === 0) k *= 2;
    this.known = k;
  }
  /** p moved by a whole number of bytes (unknown count). */
  advancedBytes(): void {
    this.known = this.known % 8 === 0 ? 8 : 1;
  }
  unknownAlign(): void {
    this.known = 1;
  }

  /** Constant text into the output (room ensured). */
  lit(s: string): void {
    if (s === '') return;
    this.litBytes(Buffer.from(s, this.style.latin1 ? 'latin1' : 'utf8'));
  }
  litBytes(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (bytes.length <= LIT_INLINE) {
      // 4 bytes per store (little-endian 32-bit words through the writer's DataView), then single bytes.
      let code = '';
      let i = 0;
      for (; i + 4 <= bytes.length; i += 4) {
        const w = (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0;
        code += `d.setUint32(q${i === 0 ? '' : ' + ' + i}, ${w}, true); `;
      }
      for (; i < bytes.length; i++) code += `b[q${i === 0 ? '' : ' + ' + i}] = ${bytes[i]}; `;
      this.emit(code + `q += ${bytes.length};`);
    } else this.emit(`q = H.copyLit(b, q, ${this.k(bytes)});`);
  }
  /** A writer method call (works on o.pos, may swap the buffer). */
  call(stmt: string): string {
    return `o.pos = q; ${stmt} b = o.buf; d = o.dv; q = o.pos;`;
  }
  /**
   * The whole event's text is known to fit in the room the caller ensured (boundedEventBytes()): no check is
   * emitted (less code for V8 to compile, and no rarely taken branch whose first run would deoptimize it).
   */
  bounded = false;
  room(n: number): void {
    if (this.bounded) return;
    this.emit(`if (q > ${CAPACITY - n}) { o.pos = q; o.ensure(${n}); b = o.buf; d = o.dv; q = o.pos; }`);
  }
  colored(code: string, emitBody: () => void): void {
    this.lit(code);
    emitBody();
    if (code !== '') this.lit(this.style.reset);
  }

  /** Reads an integer (codegen.ts rawInt() without the bounds check); returns its variable. */
  rawInt(size: number, signed: boolean, le: boolean, align: number): string {
    this.align(align);
    const v = this.v();
    const byteAligned = align % 8 === 0;
    let fast: string | null = null;
    const o = `(p >>> 3)`;
    if (size === 8) fast = signed ? `dv.getInt8(${o})` : `u8[${o}]`;
    else if (size === 16) fast = `dv.get${signed ? 'Int' : 'Uint'}16(${o}, ${le})`;
    else if (size === 32) fast = `dv.get${signed ? 'Int' : 'Uint'}32(${o}, ${le})`;
    else if (size === 64) {
      fast =
        `H.comb${signed ? 'S' : 'U'}(dv.get${signed ? 'Int' : 'Uint'}32(${o} + ${le ? 4 : 0}, ${le}), ` +
        `dv.getUint32(${o} + ${le ? 0 : 4}, ${le}))`;
    }
    let slow: string;
    if (size <= 32) {
      slow = `H.rd${le ? 'LE' : 'BE'}32(u8, p, ${size})`;
      if (signed) slow = `((t = ${slow}) >= ${POW2[size - 1]} ? t - ${POW2[size]} : t)`;
    } else slow = `H.rd64(u8, p, ${size}, ${le}, ${signed})`;
    if (fast !== null && byteAligned) this.emit(`var ${v} = ${fast};`);
    else if (fast !== null) this.emit(`var ${v} = (p & 7) === 0 ? ${fast} : ${slow};`);
    else this.emit(`var ${v} = ${slow};`);
    this.emit(`p += ${size};`);
    this.advanced(size);
    return v;
  }

  /** A byte-aligned 64-bit decimal/hex integer: the common small values are printed from the 32-bit halves. */
  int64(signed: boolean, le: boolean, align: number, base: 10 | 16): void {
    this.align(align);
    const hi = this.v('h');
    const lo = this.v('l');
    this.emit(`var ${hi} = dv.get${signed ? 'Int' : 'Uint'}32((p >>> 3) + ${le ? 4 : 0}, ${le}), ${lo} = dv.getUint32((p >>> 3) + ${le ? 0 : 4}, ${le});`);
    this.emit('p += 64;');
    this.advanced(64);
    const v = this.v();
    this.colored(this.style.number, () => {
      const slow = `var ${v} = H.comb${signed ? 'S' : 'U'}(${hi}, ${lo}); ` + (base === 16
        ? `if (typeof ${v} === "number" && ${v} >= 0 && ${v} < 4294967296) q = H.writeHex32(b, q, ${v}); else { ${this.call(`o.ascii(H.formatHex(${v}, 64));`)} }`
        : this.call(`o.int(${v});`));
      // Hex shows the 64 bits as they are, whatever the sign: no bigint needed.
      // Halves passed as int32 (the writers take their bits unsigned): a uint32 from 2^31 would be boxed.
      if (base === 16) this.emit(`if (${hi} === 0) q = H.writeHex32(b, q, ${lo} | 0); else q = H.writeHex64(b, q, ${hi} | 0, ${lo} | 0);`);
      else if (signed) {
        // hi = -1 and lo > 0: the value is lo - 2^32, printed as `-` and its magnitude (< 2^32).
        this.emit(`if (${hi} === 0) q = H.writeUint32(b, q, ${lo} | 0); else if (${hi} === -1 && ${lo} !== 0) { b[q++] = 45; q = H.writeUint32(b, q, 4294967296 - ${lo}); } else { ${slow} }`);
      } else this.emit(`if (${hi} === 0) q = H.writeUint32(b, q, ${lo} | 0); else { ${slow} }`);
    });
  }

  /** Integer text as field-printer-codegen.ts writes it. */
  printInt(v: string, base: number, size: number, signed: boolean): void {
    if (base === 10 && size <= 32) {
      // Read with DataView / rdXX32: always a number, no typeof needed.
      this.colored(this.style.number, () =>
        this.emit(signed ? `if (${v} >= 0) q = H.writeUint32(b, q, ${v}); else { b[q++] = 45; q = H.writeUint32(b, q, -${v}); }` : `q = H.writeUint32(b, q, ${v} | 0);`),
      );
      return;
    }
    this.colored(this.style.number, () => {
      switch (base) {
        case 16:
          if (size <= 32 && signed) {
            // Read as a number; a negative one is masked to its size rounded up to a nibble (formatHex()).
            this.emit(size === 32 ? `q = H.writeHex32(b, q, ${v});` : `q = H.writeHex32(b, q, ${v} >= 0 ? ${v} : ${v} + ${POW2[(size + 3) & ~3]});`);
            break;
          }
          this.emit(
            `if (typeof ${v} === "number" && ${v} >= 0 && ${v} < 4294967296) q = H.writeHex32(b, q, ${v} | 0); ` +
              `else { ${this.call(`o.ascii(H.formatHex(${v}, ${size}));`)} }`,
          );
          break;
        case 8:
          this.emit(this.call(`o.ascii(H.formatOctal(${v}, ${size}, ${signed}));`));
          break;
        case 2:
          this.emit(this.call(`o.str(H.formatBinary(${v}, ${size}));`));
          break;
        default:
          this.emit(
            `if (typeof ${v} === "number" && ${v} >= 0 && ${v} < 4294967296) q = H.writeUint32(b, q, ${v} | 0); ` +
              `else if (typeof ${v} === "number" && ${v} < 0 && ${v} > -4294967296) { b[q++] = 45; q = H.writeUint32(b, q, -${v}); } ` +
              `else { ${this.call(`o.int(${v});`)} }`,
          );
      }
    });
  }

  /** Reads one field (advancing p, storing slots) and, when `print`, writes its text. */
  field(fc: FieldClass, print: boolean): void {
    const st = this.style;
    switch (fc.kind) {
      case 'int': {
        if (print && fc.size === 64 && fc.align % 8 === 0 && fc.storeSlot === undefined && (fc.base === 10 || fc.base === 16)) {
          this.int64(fc.signed, fc.byteOrder === 'le', fc.align, fc.base);
          return;
        }
        const v = this.rawInt(fc.size, fc.signed, fc.byteOrder === 'le', fc.align);
        if (fc.storeSlot !== undefined) this.emit(`S[${fc.storeSlot}] = ${v};`);
        if (print) this.printInt(v, fc.base, fc.size, fc.signed);
        return;
      }
      case 'enum': {
        const c = fc.container;
        const v = this.rawInt(c.size, c.signed, c.byteOrder === 'le', fc.align);
        const slot = fc.storeSlot ?? c.storeSlot;
        if (slot !== undefined) this.emit(`S[${slot}] = ${v};`);
        if (print) {
          const colors: EnumColors | undefined =
            st.reset === '' ? undefined : { unknown: st.unknown, label: st.enumLabel, number: st.number, reset: st.reset };
          const format = makeEnumFormatter(fc, colors);
          const e = this.v('e');
          this.emit(`var ${e} = ${this.k(asciiBytesOf(format))}(${v}); if (${e} !== null) q = H.writePacked(d, q, ${e}); else { ${this.call(`o.str(${this.k(format)}(${v}));`)} }`);
        }
        return;
      }
      case 'float': {
        this.align(fc.align);
        const v = this.v();
        const le = fc.byteOrder === 'le';
        const fast = `dv.getFloat${fc.size}(p >>> 3, ${le})`;
        const slow = `H.rdFloat(u8, p, ${fc.size}, ${le})`;
        if (print && fc.align % 8 === 0) {
          // The writer reads the bytes itself: a double passed as an argument would be boxed.
          this.colored(st.number, () => this.emit(`q = H.writeGFrom(b, q, dv, p >>> 3, ${fc.size}, ${le});`));
          this.emit(`p += ${fc.size};`);
          this.advanced(fc.size);
          return;
        }
        if (fc.align % 8 === 0) this.emit(`var ${v} = ${fast};`);
        else this.emit(`var ${v} = (p & 7) === 0 ? ${fast} : ${slow};`);
        this.emit(`p += ${fc.size};`);
        this.advanced(fc.size);
        if (print) this.colored(st.number, () => this.emit(`q = H.writeG(b, q, ${v});`));
        return;
      }
      case 'bool': {
        const v = this.rawInt(fc.size, false, fc.byteOrder === 'le', fc.align);
        if (print) this.colored(st.number, () => this.emit(this.call(`o.ascii(${v} != 0 ? "true" : "false");`)));
        return;
      }
      case 'bit-array': {
        const v = this.rawInt(fc.size, false, fc.byteOrder === 'le', fc.align);
        if (print) this.colored(st.number, () => this.emit(this.call(`o.ascii(H.formatHex(${v}, 64));`)));
        return;
      }
      case 'string': {
        if (fc.encoding.startsWith('utf16') || fc.encoding.startsWith('utf32')) throw new Unsupported();
        this.align(Math.max(8, fc.align));
        const i = this.v('i');
        this.emit(`var ${i} = p >>> 3;`);
        if (fc.staticLength !== undefined || fc.lengthSlot !== undefined) {
          const len = this.v('n');
          this.emit(`var ${len} = ${fc.staticLength !== undefined ? String(fc.staticLength) : `S[${fc.lengthSlot}]`};`);
          this.emit(`p += ${len} * 8;`);
          this.advancedBytes();
          if (print) this.textUpToNul(i, `${i} + ${len}`, null);
          return;
        }
        const j = this.v('j');
        this.advancedBytes();
        if (!print) {
          this.emit(`var ${j} = H.findNul(u8, ${i}, E);`);
          this.emit(`p = (${j} + 1) * 8;`);
          return;
        }
        const id = this.textId();
        this.colored(st.string, () => {
          const r = this.v('r');
          const keep = (e: string): string => (id === null ? '' : `H.keepBytes(${this.mem}, ${id}, u8, ${i}, ${e}); `);
          const quote = id === null ? `H.quotePlainCString(b, q, u8, ${i}, ${this.plain})` : `H.quoteKeepCString(b, q, u8, ${i}, ${this.plain}, ${this.mem}, ${id})`;
          const code =
            `var ${r} = ${quote}; ` +
            `if (${r} >= 0) { p = (${i} + ${r} - q - 1) * 8; q = ${r}; } ` +
            `else { var ${j} = H.findNul(u8, ${i}, E); p = (${j} + 1) * 8; ${keep(j)}${this.call(`o.qstr(H.utf8(u8, ${i}, ${j}));`)} }`;
          // Empty: the event object's last non-empty text (text-memory.ts).
          if (id === null) this.emit(code);
          else this.emit(`if (u8[${i}] === 0) { p = (${i} + 1) * 8; ${this.call(`H.recall(o, ${this.mem}, ${id});`)} } else { ${code} }`);
        });
        return;
      }
      case 'struct':
        this.struct(fc, print);
        return;
      case 'array':
      case 'sequence':
        this.array(fc, print);
        return;
      default:
        throw new Unsupported();
    }
  }

  /**
   * Text array / sized string: the bytes up to the first NUL (bits.ts text()); `id` >= 0: text field `id` of
   * the scope's memory (an empty text prints the memory, another is kept in it).
   */
  private textUpToNul(a: string, e: string, id: string | null): void {
    this.colored(this.style.string, () => {
      const r = this.v('r');
      const end = this.v('e');
      const j = this.v('j');
      const keep = (x: string): string => (id === null ? '' : `H.keepBytes(${this.mem}, ${id}, u8, ${a}, ${x}); `);
      const quote = id === null ? `H.quotePlainText(b, q, u8, ${a}, ${e}, ${this.plain})` : `H.quoteKeepText(b, q, u8, ${a}, ${e}, ${this.plain}, ${this.mem}, ${id})`;
      const code =
        `var ${r} = ${quote}; if (${r} >= 0) q = ${r}; ` +
        `else { var ${end} = ${e}; var ${j} = H.findNul(u8, ${a}, ${end}); if (${j} >= 0) ${end} = ${j}; ${keep(end)}${this.call(`o.qstr(H.utf8(u8, ${a}, ${end}));`)} }`;
      if (id === null) this.emit(code);
      else this.emit(`if (${e} === ${a} || u8[${a}] === 0) { ${this.call(`H.recall(o, ${this.mem}, ${id});`)} } else { ${code} }`);
    });
  }

  /** Memory variable of the scope being generated (null: none). */
  mem: string | null = null;
  /** Text fields numbered so far in the scope, outside and inside arrays (text-memory.ts). */
  textNo = 0;
  elemNo = 0;
  /** Index variables of the (non-text) arrays around the field being generated. */
  private readonly loops: string[] = [];
  /** Memory index (an expression) of the next printed text field of the scope, or null when it is not followed. */
  private textId(): string | null {
    if (this.mem === null) return null;
    if (this.loops.length === 0) return String(this.textNo++);
    return `H.elemSlot(${this.mem}, "${this.elemNo++}"${this.loops.map((k) => ` + ":" + ${k}`).join('')})`;
  }

  struct(fc: StructFieldClass, print: boolean): void {
    const show = print && !fc.hidden;
    this.align(fc.align);
    const visible = fc.members.filter((m) => !m.fc.hidden);
    if (show && visible.length > 0) this.emit('b[q++] = 123;');
    let idx = 0;
    for (const m of fc.members) {
      const shown = show && !m.fc.hidden;
      if (shown) {
        let prefix = idx === 0 ? ' ' : ', ';
        if (this.names) prefix += (this.style.fieldName === '' ? m.name : this.style.fieldName + m.name + this.style.reset) + ' = ';
        this.room(MEMBER_ROOM + 3 * prefix.length);
        this.lit(prefix);
        idx++;
      }
      this.field(m.fc, shown);
    }
    if (!show) return;
    if (visible.length === 0) this.lit('{ }');
    else {
      this.room(MEMBER_ROOM);
      this.emit('b[q] = 32; b[q + 1] = 125; q += 2;');
    }
  }

  /** Fixed bit size of a field with no slot store and no inner padding (codegen.ts fixedSize()), or -1. */
  private fixedSize(fc: FieldClass): number {
    if (fc.kind === 'int') return fc.storeSlot === undefined && fc.size % fc.align === 0 ? fc.size : -1;
    if (fc.kind === 'enum') {
      const c = fc.container;
      return fc.storeSlot === undefined && c.storeSlot === undefined && c.size % fc.align === 0 ? c.size : -1;
    }
    if (fc.kind === 'float') return fc.size % fc.align === 0 ? fc.size : -1;
    return -1;
  }

  array(fc: FieldClass & { kind: 'array' | 'sequence' }, print: boolean): void {
    const show = print && !fc.hidden;
    this.align(Math.max(fc.align, fc.element.align));
    const len = this.v('n');
    this.emit(`var ${len} = ${fc.kind === 'array' ? String(fc.length) : `S[${fc.lengthSlot}]`};`);
    if (fc.isText) {
      const i = this.v('i');
      this.emit(`var ${i} = p >>> 3; p += ${len} * 8;`);
      if (fc.kind === 'array') this.advanced(fc.length * 8);
      else this.advancedBytes();
      if (show) this.textUpToNul(i, `${i} + ${len}`, this.textId());
      return;
    }
    const fixed = this.fixedSize(fc.element);
    if (!show && fixed > 0) {
      this.emit(`p += ${len} * ${fixed};`);
      if (fc.kind === 'array') this.advanced(fc.length * fixed);
      else this.unknownAlign();
      return;
    }
    if (show && fc.kind === 'array' && fc.length <= UNROLL_MAX && fc.length > 0 && SCALAR.has(fc.element.kind)) {
      // Short arrays of numbers: one copy of the element's code per index, `[i] = ` as literals.
      this.emit('b[q++] = 91;');
      for (let k = 0; k < fc.length; k++) {
        this.room(MEMBER_ROOM);
        this.lit((k === 0 ? ' ' : ', ') + (this.names ? `[${k}] = ` : ''));
        this.field(fc.element, true);
      }
      this.room(MEMBER_ROOM);
      this.emit('b[q] = 32; b[q + 1] = 93; q += 2;');
      return;
    }
    this.unknownAlign();
    const k = this.v('k');
    if (show) this.emit('b[q++] = 91;');
    this.emit(`for (var ${k} = 0; ${k} < ${len}; ${k}++) {`);
    if (show) {
      this.room(MEMBER_ROOM);
      this.emit(`if (${k} === 0) b[q++] = 32; else { b[q] = 44; b[q + 1] = 32; q += 2; }`);
      if (this.names) this.emit(`b[q++] = 91; q = H.writeUint32(b, q, ${k}); b[q] = 93; b[q + 1] = 32; b[q + 2] = 61; b[q + 3] = 32; q += 4;`);
    }
    this.loops.push(k);
    this.field(fc.element, show);
    this.loops.pop();
    this.emit('}');
    this.unknownAlign();
    if (show) {
      this.room(MEMBER_ROOM);
      this.emit('b[q] = 32; b[q + 1] = 93; q += 2;');
    }
  }

  /** Member names shown in the scope being generated. */
  names = false;
}

/** Room the caller ensures before a line (LINE_SLACK) less what the timestamp before the fields may take. */
export const BOUNDED_BUDGET = LINE_SLACK - 512;
/** Longest packet context text handed to a fused printer (pretty-sink.ts keeps longer ones out of it). */
export const PC_TEXT_MAX = 512;

/**
 * Most bytes a field's text can take on the paths that rely on the room made before the line (colour codes
 * included), or Infinity (sequences of numbers). A text goes through quotePlainText()/quotePlainCString() (at
 * most PLAIN_MAX + 2 bytes) or else through the writer's qstr(), which first makes room for itself plus
 * LINE_SLACK (more than the whole rest of a bounded line); an enum label the same way with its 1024 bytes.
 */
function maxText(fc: FieldClass, names: boolean, style: FieldStyle): number {
  if (fc.hidden) return 0;
  const num = style.number.length + style.reset.length;
  const str = style.string.length + style.reset.length;
  switch (fc.kind) {
    case 'int':
    case 'bool':
    case 'bit-array':
      // 64 binary digits and `0b` is the longest integer text.
      return 70 + num;
    case 'float':
      return 40 + num;
    case 'enum':
      return 1030;
    case 'string':
      return PLAIN_MAX + 2 + str;
    case 'array': {
      if (fc.isText) return Math.min(fc.length, PLAIN_MAX) + 2 + str;
      const elem = maxText(fc.element, names, style);
      // `[ ` ... ` ]`, and per element `, ` and `[k] = `.
      return 4 + fc.length * (2 + (names ? 16 : 0) + elem);
    }
    case 'sequence':
      return fc.isText ? PLAIN_MAX + 2 + str : Infinity;
    case 'struct': {
      let n = 4;
      for (const m of fc.members) {
        if (m.fc.hidden) continue;
        n += 2 + (names ? Buffer.byteLength(style.fieldName + m.name + style.reset + ' = ') : 0) + maxText(m.fc, names, style);
      }
      return n;
    }
    default:
      return Infinity;
  }
}

/**
 * The fused printer of an event class: reads the scopes in order (common context, specific context,
 * payload) and prints the visible ones with their prefixes. Null when a field kind is not handled here.
 */
export function compileFusedEvent(
  head: Uint8Array,
  withPacketContext: boolean,
  scopes: readonly FusedScope[],
  style: FieldStyle,
): FusedEventPrinter | null {
  const g = new Gen(style);
  let bound = head.length + (withPacketContext ? PC_TEXT_MAX + 4 : 0) + 4;
  for (const s of scopes) if (s.visible && s.fc) bound += Buffer.byteLength(s.prefix) + maxText(s.fc, s.names, style);
  g.bounded = bound <= BOUNDED_BUDGET;
  g.litBytes(head);
  if (withPacketContext) g.emit('q = H.writePacked(d, q, pc);');
  // Scopes after the last visible one need not be read at all.
  let last = -1;
  scopes.forEach((s, i) => {
    if (s.visible) last = i;
  });
  try {
    for (let i = 0; i <= last; i++) {
      const s = scopes[i]!;
      if (!s.fc) continue;
      g.names = s.names;
      g.mem = `M[${i}]`;
      g.textNo = 0;
      g.elemNo = 0;
      if (s.visible) {
        g.room(LINE_SLACK);
        g.lit(s.prefix);
      }
      g.field(s.fc, s.visible);
    }
  } catch (err) {
    if (err instanceof Unsupported) return null;
    throw err;
  }
  const body =
    `return function printEvent(o, s, pc, M) {\n` +
    `var u8 = s.u8, dv = s.dv, p = s.pos, E = s.end >>> 3, S = s.slots, t; var b = o.buf, d = o.dv, q = o.pos;\n` +
    g.lines.join('\n') +
    `\nb[q] = 10; o.pos = q + 1;\n};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function('H', 'K', body) as (h: typeof HELPERS, k: unknown[]) => FusedEventPrinter;
  const printer = factory(HELPERS, g.consts);
  printer.maxBytes = bound;
  return printer;
}
