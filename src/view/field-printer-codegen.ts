// Generates, per scope field class, a JavaScript function that writes babeltrace2's pretty text of a value
// (print_field() and friends of print.c, 2.0.4) straight into the OutputWriter, so each event class gets
// specialised code instead of a walk over field classes per event, and no intermediate strings.
//
// Contract: `compileStruct(fc, names, style)` returns (o, value) => void for a scope struct. Values are the
// decoder's FieldValue shapes (ctf/ir/message.ts): struct members by display name, arrays as JS arrays (text
// arrays may also be strings or bytes), variants as VariantValue, integers as number or bigint. Members whose
// class is `hidden` are not printed. The caller ensures LINE_SLACK bytes of room before calling.

import type { FieldClass, StructFieldClass } from '../ctf/ir/trace-class.js';
import { CAPACITY, LINE_SLACK, writeHex32, writeQuotedPlain, writeUint32, type OutputWriter } from './output-writer.js';
import { writeG } from './printf-g.js';
import { elemSlot, keepString, recall, remembered, type TextMemory } from './text-memory.js';
import { formatBinary, formatHex, formatOctal, makeEnumFormatter, textValue, type EnumColors } from './value-format.js';

export interface FieldStyle {
  /** Colour escape strings ('' when colours are off). */
  readonly fieldName: string;
  readonly number: string;
  readonly string: string;
  readonly enumLabel: string;
  readonly unknown: string;
  readonly reset: string;
  readonly latin1: boolean;
}

export const PLAIN_STYLE: FieldStyle = {
  fieldName: '',
  number: '',
  string: '',
  enumLabel: '',
  unknown: '',
  reset: '',
  latin1: false,
};

/** Room re-checked before each struct member and array element (names and numbers fit in it). */
const MEMBER_ROOM = Math.floor(LINE_SLACK / 2);
const CAP_LIMIT = CAPACITY;

class Gen {
  private n = 0;
  readonly helpers: unknown[] = [];
  readonly helperNames: string[] = [];
  private readonly litCache = new Map<string, string>();

  constructor(
    readonly style: FieldStyle,
    /** Text fields follow the event object's memory `T` (text-memory.ts). */
    private readonly remember: boolean,
  ) {}

  v(): string {
    return 'v' + this.n++;
  }

  /**
   * Text fields numbered so far, outside and inside arrays (text-memory.ts), the index variables of the arrays
   * around the current field, and the depth of optionals (not followed).
   */
  private textNo = 0;
  private elemNo = 0;
  private readonly loops: string[] = [];
  private nested = 0;
  /** Memory index (an expression) of the next text field, or null when it is not followed. */
  private textId(): string | null {
    if (!this.remember || this.nested > 0) return null;
    if (this.loops.length === 0) return String(this.textNo++);
    return `${this.helper(elemSlot)}(T, "${this.elemNo++}"${this.loops.map((k) => ` + ":" + ${k}`).join('')})`;
  }

  helper(fn: unknown): string {
    const name = 'h' + this.helpers.length;
    this.helpers.push(fn);
    this.helperNames.push(name);
    return name;
  }

  /** Statement writing a constant string into the local buffer `b` at `p` (room ensured). */
  lit(s: string): string {
    if (s === '') return '';
    const bytes = Buffer.from(s, this.style.latin1 ? 'latin1' : 'utf8');
    if (bytes.length <= 24) {
      let code = '';
      bytes.forEach((c, i) => (code += `b[p${i === 0 ? '' : ' + ' + i}] = ${c}; `));
      return code + `p += ${bytes.length};`;
    }
    let h = this.litCache.get(s);
    if (!h) {
      h = this.helper(bytes);
      this.litCache.set(s, h);
    }
    return `b.set(${h}, p); p += ${bytes.length};`;
  }

  /** Statement calling a writer method (which works on o.pos and may swap the buffer). */
  call(stmt: string): string {
    return `o.pos = p; ${stmt} b = o.buf; p = o.pos;`;
  }

  /** Statement making sure `n` bytes fit. */
  room(n: number): string {
    return `if (p > ${CAP_LIMIT - n}) { o.pos = p; o.ensure(${n}); b = o.buf; p = o.pos; }`;
  }

  /** Statement writing an ASCII string expression, wrapped in a colour when colours are on. */
  colored(colorCode: string, stmt: string): string {
    if (colorCode === '') return stmt;
    return this.lit(colorCode) + stmt + this.lit(this.style.reset);
  }

  field(fc: FieldClass, val: string, names: boolean): string {
    const st = this.style;
    switch (fc.kind) {
      case 'int':
      case 'varint': {
        const size = fc.kind === 'int' ? fc.size : 64;
        const signed = fc.signed;
        if (fc.kind === 'varint' && fc.mappings) {
          const fmt = makeEnumFormatter(
            {
              kind: 'enum',
              align: 8,
              hidden: false,
              container: { kind: 'int', align: 8, hidden: false, size: 64, signed, byteOrder: 'le', base: fc.base, encoding: 'none' },
              mappings: fc.mappings,
            },
            enumColors(st),
          );
          return this.call(`o.str(${this.helper(fmt)}(${val}));`) + '\n';
        }
        let stmt: string;
        switch (fc.base) {
          case 16: {
            // Non-negative values below 2^32 need no masking: written in place, no string.
            const u = this.v();
            stmt = `{ const ${u} = ${val}; if (typeof ${u} === "number" && ${u} >= 0 && ${u} < 4294967296) p = ${this.helper(writeHex32)}(b, p, ${u}); else { ${this.call(`o.ascii(${this.helper(formatHex)}(${u}, ${size}));`)} } }`;
            break;
          }
          case 8:
            stmt = this.call(`o.ascii(${this.helper(formatOctal)}(${val}, ${size}, ${signed}));`);
            break;
          case 2:
            stmt = this.call(`o.str(${this.helper(formatBinary)}(${val}, ${size}));`);
            break;
          default: {
            // Decimal: small non-negative numbers inline, the rest through the writer.
            const u = this.v();
            stmt = `{ const ${u} = ${val}; if (typeof ${u} === "number" && ${u} >= 0 && ${u} < 4294967296) p = ${this.helper(writeUint32)}(b, p, ${u}); else { ${this.call(`o.int(${u});`)} } }`;
          }
        }
        return this.colored(st.number, stmt) + '\n';
      }
      case 'enum':
        return this.call(`o.str(${this.helper(makeEnumFormatter(fc, enumColors(st)))}(${val}));`) + '\n';
      case 'float':
        return this.colored(st.number, `p = ${this.helper(writeG)}(b, p, ${val});`) + '\n';
      case 'string':
        return this.colored(st.string, this.quoted(val, remembered(fc) ? this.textId() : null)) + '\n';
      case 'bool':
        return this.colored(st.number, this.call(`o.ascii(${val} ? "true" : "false");`)) + '\n';
      case 'bit-array':
        return this.colored(st.number, this.call(`o.ascii(${this.helper(formatHex)}(${val}, 64));`)) + '\n';
      case 'blob': {
        // babeltrace 2.1 format (2.0.4 has no BLOB fields): `{ de ad be ef }`.
        const bl = this.v();
        const i = this.v();
        return `{ const ${bl} = ${val}; b[p++] = 123; for (let ${i} = 0; ${i} < ${bl}.length; ${i}++) { ${this.room(MEMBER_ROOM)} b[p++] = 32; ${this.call(`o.ascii((${bl}[${i}] < 16 ? "0" : "") + ${bl}[${i}].toString(16));`)} } ${this.room(MEMBER_ROOM)} b[p++] = 32; b[p++] = 125; }\n`;
      }
      case 'optional': {
        const o = this.v();
        this.nested++;
        const inner = this.field(fc.fc, o, names);
        this.nested--;
        return `{ const ${o} = ${val}; if (${o} === null || ${o} === undefined) { ${this.lit('<none>')} } else { ${this.lit('{ ')}\n${inner} ${this.room(MEMBER_ROOM)} ${this.lit(' }')} } }\n`;
      }
      case 'struct':
        return this.struct(fc, val, names);
      case 'variant': {
        const o = this.v();
        let code = `{ const ${o} = ${val}; ${this.lit('{ ')} switch (${o}.option) {\n`;
        fc.options.forEach((opt, i) => {
          code += `case ${i}: {\n${this.field(opt.fc, `${o}.value`, names)} break; }\n`;
        });
        code += `} ${this.room(MEMBER_ROOM)} ${this.lit(' }')} }\n`;
        return code;
      }
      case 'array':
      case 'sequence': {
        if (fc.isText) {
          return this.colored(st.string, this.quoted(val, this.textId())) + '\n';
        }
        const a = this.v();
        const i = this.v();
        let code = `{ const ${a} = ${val}; b[p++] = 91; for (let ${i} = 0; ${i} < ${a}.length; ${i}++) { ${this.room(MEMBER_ROOM)} if (${i} === 0) b[p++] = 32; else { b[p] = 44; b[p + 1] = 32; p += 2; } `;
        if (names) code += `b[p++] = 91; p = ${this.helper(writeUint32)}(b, p, ${i}); b[p] = 93; b[p + 1] = 32; b[p + 2] = 61; b[p + 3] = 32; p += 4; `;
        this.loops.push(i);
        code += `\n${this.field(fc.element, `${a}[${i}]`, names)} } ${this.room(MEMBER_ROOM)} b[p] = 32; b[p + 1] = 93; p += 2; }\n`;
        this.loops.pop();
        return code;
      }
    }
  }

  /**
   * Quoted, escaped string: in place when plain ASCII, else through the writer. `id` >= 0: text field `id` of
   * the memory T (an empty text prints the memory, another is kept in it).
   */
  private quoted(val: string, id: string | null): string {
    const raw = this.v();
    const sv = this.v();
    const q = this.v();
    const print = `const ${q} = ${this.helper(writeQuotedPlain)}(b, p, ${sv}); if (${q} >= 0) p = ${q}; else { ${this.call(`o.qstr(${sv});`)} }`;
    if (id === null) return `{ const ${raw} = ${val}; const ${sv} = ${this.textExpr(raw)}; ${print} }`;
    return (
      `{ const ${raw} = ${val}; const ${sv} = ${this.textExpr(raw)}; ` +
      `if (${sv} === "") { ${this.call(`${this.helper(recall)}(o, T, ${id});`)} } else { ${this.helper(keepString)}(T, ${id}, ${sv}); ${print} } }`
    );
  }

  /** Strings may arrive as JS strings or as bytes. */
  private textExpr(val: string): string {
    return `(typeof ${val} === "string" ? ${val} : ${this.helper(textValue)}(${val}, ${this.style.latin1}))`;
  }

  struct(fc: StructFieldClass, val: string, names: boolean): string {
    const visible = fc.members.filter((m) => !m.fc.hidden);
    if (visible.length === 0) return this.lit('{ }') + '\n';
    const sv = this.v();
    let code = `{ const ${sv} = ${val}; b[p++] = 123;\n`;
    visible.forEach((m, idx) => {
      let prefix = idx === 0 ? ' ' : ', ';
      if (names) {
        const nm = this.style.fieldName === '' ? m.name : this.style.fieldName + m.name + this.style.reset;
        prefix += nm + ' = ';
      }
      code += `${this.room(MEMBER_ROOM + 3 * prefix.length)} ${this.lit(prefix)}\n`;
      code += this.field(m.fc, `${sv}[${JSON.stringify(m.name)}]`, names);
    });
    code += `${this.room(MEMBER_ROOM)} b[p] = 32; b[p + 1] = 125; p += 2; }\n`;
    return code;
  }
}

function enumColors(st: FieldStyle): EnumColors | undefined {
  if (st.reset === '') return undefined;
  return { unknown: st.unknown, label: st.enumLabel, number: st.number, reset: st.reset };
}

/** `mem`: the event object's memory of this scope's text fields (printers compiled with `remember`). */
export type ScopePrinter = (o: OutputWriter, value: unknown, mem?: TextMemory) => void;

/**
 * A function printing a whole scope struct (the `{ ... }` after `: ` or `, `). `remember`: an event scope,
 * whose empty text fields print the event object's memory (text-memory.ts) given at each call.
 */
export function compileStruct(fc: StructFieldClass, names: boolean, style: FieldStyle, remember = false): ScopePrinter {
  const g = new Gen(style, remember);
  const body = g.struct(fc, 'value', names);
  const src = `return function printScope(o, value, T) {\nlet b = o.buf; let p = o.pos;\n${body}o.pos = p;\n};`;
  const factory = new Function(...g.helperNames, src) as (...h: unknown[]) => ScopePrinter;
  return factory(...g.helpers);
}

/** Does babeltrace2 show this scope at all? (absent, or a non-empty struct whose members were all dropped: no) */
export function scopeVisible(fc: StructFieldClass | undefined): fc is StructFieldClass {
  if (!fc || fc.hidden) return false;
  return fc.members.length === 0 || fc.members.some((m) => !m.fc.hidden);
}
