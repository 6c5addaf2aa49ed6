// Generates, per scope field class, a JavaScript function that writes babeltrace2's pretty text of a value
// (print_field() and friends of print.c, 2.0.4) straight into the OutputWriter, so each event class gets
// specialised code instead of a walk over field classes per event, and no intermediate strings.
//
// Contract: `compileStruct(fc, names, style)` returns (o, value) => void for a scope struct. Values are the
// decoder's FieldValue shapes (graph/message.ts): struct members by display name, arrays as JS arrays (text
// arrays may also be strings or bytes), variants as VariantValue, integers as number or bigint. Members whose
// class is `hidden` are not printed. The caller ensures LINE_SLACK bytes of room before calling.

import type { FieldClass, StructFieldClass } from '../ctf/ir/trace-class.js';
import { LINE_SLACK, type OutputWriter } from './output-writer.js';
import { formatG } from './printf-g.js';
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

class Gen {
  private n = 0;
  readonly helpers: unknown[] = [];
  readonly helperNames: string[] = [];
  private readonly litCache = new Map<string, string>();

  constructor(readonly style: FieldStyle) {}

  v(): string {
    return 'v' + this.n++;
  }

  helper(fn: unknown): string {
    const name = 'h' + this.helpers.length;
    this.helpers.push(fn);
    this.helperNames.push(name);
    return name;
  }

  /** Statement writing a constant string. */
  lit(s: string): string {
    if (s === '') return '';
    if (s.length === 1 && s.charCodeAt(0) < 0x80) return `o.byte(${s.charCodeAt(0)});`;
    let h = this.litCache.get(s);
    if (!h) {
      h = this.helper(Buffer.from(s, this.style.latin1 ? 'latin1' : 'utf8'));
      this.litCache.set(s, h);
    }
    return `o.lit(${h});`;
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
          return `o.str(${this.helper(fmt)}(${val}));\n`;
        }
        let stmt: string;
        switch (fc.base) {
          case 16:
            stmt = `o.ascii(${this.helper(formatHex)}(${val}, ${size}));`;
            break;
          case 8:
            stmt = `o.ascii(${this.helper(formatOctal)}(${val}, ${size}, ${signed}));`;
            break;
          case 2:
            stmt = size > 1024 ? `o.str(${this.helper(formatBinary)}(${val}, ${size}));` : `o.ascii(${this.helper(formatBinary)}(${val}, ${size}));`;
            break;
          default:
            stmt = signed ? `o.int(${val});` : `{ const u = ${val}; if (typeof u === "number") o.uint(u); else o.ascii(u.toString()); }`;
        }
        return this.colored(st.number, stmt) + '\n';
      }
      case 'enum':
        return `o.str(${this.helper(makeEnumFormatter(fc, enumColors(st)))}(${val}));\n`;
      case 'float':
        return this.colored(st.number, `o.ascii(${this.helper(formatG)}(${val}));`) + '\n';
      case 'string':
        return this.colored(st.string, `o.qstr(${this.textExpr(val)});`) + '\n';
      case 'bool':
        return this.colored(st.number, `o.ascii(${val} ? "true" : "false");`) + '\n';
      case 'bit-array':
        return this.colored(st.number, `o.ascii(${this.helper(formatHex)}(${val}, 64));`) + '\n';
      case 'blob': {
        // babeltrace 2.1 format (2.0.4 has no BLOB fields): `{ de ad be ef }`.
        const b = this.v();
        return `{ const ${b} = ${val}; o.byte(123); for (let i = 0; i < ${b}.length; i++) { o.ensure(${MEMBER_ROOM}); o.byte(32); o.ascii((${b}[i] < 16 ? "0" : "") + ${b}[i].toString(16)); } o.ensure(${MEMBER_ROOM}); o.byte(32); o.byte(125); }\n`;
      }
      case 'optional': {
        const o = this.v();
        return `{ const ${o} = ${val}; if (${o} === null || ${o} === undefined) ${this.lit('<none>')} else { ${this.lit('{ ')}\n${this.field(fc.fc, o, names)} o.ensure(${MEMBER_ROOM}); ${this.lit(' }')} } }\n`;
      }
      case 'struct':
        return this.struct(fc, val, names);
      case 'variant': {
        const o = this.v();
        let code = `{ const ${o} = ${val}; ${this.lit('{ ')} switch (${o}.option) {\n`;
        fc.options.forEach((opt, i) => {
          code += `case ${i}: {\n${this.field(opt.fc, `${o}.value`, names)} break; }\n`;
        });
        code += `} o.ensure(${MEMBER_ROOM}); ${this.lit(' }')} }\n`;
        return code;
      }
      case 'array':
      case 'sequence': {
        if (fc.isText) {
          return this.colored(st.string, `o.qstr(${this.helper(textValue)}(${val}, ${st.latin1}));`) + '\n';
        }
        const a = this.v();
        const i = this.v();
        let code = `{ const ${a} = ${val}; o.byte(91); for (let ${i} = 0; ${i} < ${a}.length; ${i}++) { o.ensure(${MEMBER_ROOM}); if (${i} === 0) o.byte(32); else { o.byte(44); o.byte(32); } `;
        if (names) code += `o.byte(91); o.uint(${i}); o.byte(93); o.byte(32); o.byte(61); o.byte(32); `;
        code += `\n${this.field(fc.element, `${a}[${i}]`, names)} } o.ensure(${MEMBER_ROOM}); o.byte(32); o.byte(93); }\n`;
        return code;
      }
    }
  }

  /** Strings may arrive as JS strings or as bytes. */
  private textExpr(val: string): string {
    return `(typeof ${val} === "string" ? ${val} : ${this.helper(textValue)}(${val}, ${this.style.latin1}))`;
  }

  struct(fc: StructFieldClass, val: string, names: boolean): string {
    const visible = fc.members.filter((m) => !m.fc.hidden);
    if (visible.length === 0) return this.lit('{ }') + '\n';
    const sv = this.v();
    let code = `{ const ${sv} = ${val}; o.byte(123);\n`;
    visible.forEach((m, idx) => {
      let prefix = idx === 0 ? ' ' : ', ';
      if (names) {
        const nm = this.style.fieldName === '' ? m.name : this.style.fieldName + m.name + this.style.reset;
        prefix += nm + ' = ';
      }
      code += `o.ensure(${MEMBER_ROOM + 3 * prefix.length}); ${this.lit(prefix)}\n`;
      code += this.field(m.fc, `${sv}[${JSON.stringify(m.name)}]`, names);
    });
    code += `o.ensure(${MEMBER_ROOM}); o.byte(32); o.byte(125); }\n`;
    return code;
  }
}

function enumColors(st: FieldStyle): EnumColors | undefined {
  if (st.reset === '') return undefined;
  return { unknown: st.unknown, label: st.enumLabel, number: st.number, reset: st.reset };
}

export type ScopePrinter = (o: OutputWriter, value: unknown) => void;

/** A function printing a whole scope struct (the `{ ... }` after `: ` or `, `). */
export function compileStruct(fc: StructFieldClass, names: boolean, style: FieldStyle): ScopePrinter {
  const g = new Gen(style);
  const body = g.struct(fc, 'value', names);
  const src = `return function printScope(o, value) {\n${body}};`;
  const factory = new Function(...g.helperNames, src) as (...h: unknown[]) => ScopePrinter;
  return factory(...g.helpers);
}

/** Does babeltrace2 show this scope at all? (absent, or a non-empty struct whose members were all dropped: no) */
export function scopeVisible(fc: StructFieldClass | undefined): fc is StructFieldClass {
  if (!fc || fc.hidden) return false;
  return fc.members.length === 0 || fc.members.some((m) => !m.fc.hidden);
}
