// Field types the CTF writer accepts for event payloads and stream event contexts, their validation, and their
// TSDL declarations written exactly the way LTTng 2.13 writes them (leading `_` on every field name,
// `integer { size = 32; align = 8; signed = 1; encoding = none; base = 10; }`, sequences preceded by their
// `__NAME_length` field, `char[16]` text arrays as 8-bit signed UTF8 integers).
//
// Contract: `validateFields` throws an LttError (code CTF_WRITER_BAD_FIELD) naming the offending field for
// anything babeltrace2 could not read back or the encoder cannot write; `tsdlFieldDeclarations` only renders
// validated definitions. Values for these types are described in index.ts.

import { LttError } from '../../errors.js';

export type IntegerBase = 2 | 8 | 10 | 16;
export type ByteOrderName = 'le' | 'be';

/** Integer of 8, 16, 32 or 64 bits. `encoding` makes 8-bit integers text when in arrays/sequences. */
export interface IntegerFieldType {
  readonly kind: 'int';
  readonly size: 8 | 16 | 32 | 64;
  /** Default false. */
  readonly signed?: boolean;
  /** Display base, default 10. */
  readonly base?: IntegerBase;
  /** Alignment in bits (power of two, >= 8). Default 8: what LTTng writes on x86. */
  readonly align?: number;
  /** Default: the trace byte order (le). `be` is LTTng's `network` integers. */
  readonly byteOrder?: ByteOrderName;
  readonly encoding?: 'none' | 'UTF8' | 'ASCII';
}

export interface EnumMappingDef {
  readonly label: string;
  /** Value, or first value of the inclusive range when `end` is given. */
  readonly value: number | bigint;
  readonly end?: number | bigint;
}

export interface EnumFieldType {
  readonly kind: 'enum';
  readonly container: IntegerFieldType;
  readonly mappings: readonly EnumMappingDef[];
}

export interface FloatFieldType {
  readonly kind: 'float';
  readonly size: 32 | 64;
  /** Alignment in bits, default 8. */
  readonly align?: number;
  readonly byteOrder?: ByteOrderName;
}

/** NUL-terminated UTF-8 string. */
export interface StringFieldType {
  readonly kind: 'string';
}

/** Static array. */
export interface ArrayFieldType {
  readonly kind: 'array';
  readonly length: number;
  readonly element: FieldType;
}

/** Shorthand for LTTng's `ctf_array_text(char, name, src, N)`: N bytes, 8-bit signed UTF8 integers. */
export interface TextFieldType {
  readonly kind: 'text';
  readonly length: number;
}

/** Dynamic array; its length is written first as a separate `__NAME_length` field (LTTng's layout). */
export interface SequenceFieldType {
  readonly kind: 'sequence';
  readonly element: FieldType;
  /** Unsigned integer type of the length field. Default: 64-bit unsigned (size_t, as lttng-modules writes). */
  readonly lengthType?: IntegerFieldType;
}

export interface StructFieldType {
  readonly kind: 'struct';
  readonly fields: readonly FieldDef[];
}

export type FieldType =
  | IntegerFieldType
  | EnumFieldType
  | FloatFieldType
  | StringFieldType
  | ArrayFieldType
  | TextFieldType
  | SequenceFieldType
  | StructFieldType;

/** A named field. `name` is given without LTTng's leading underscore (the writer adds it). */
export type FieldDef = FieldType & { readonly name: string };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function fieldError(where: string, message: string): LttError {
  return new LttError('CTF_WRITER_BAD_FIELD', `${where}: ${message}`);
}

function checkAlign(where: string, align: number | undefined): void {
  if (align === undefined) return;
  if (!Number.isInteger(align) || align < 8 || align > 512 || (align & (align - 1)) !== 0) {
    throw fieldError(where, `alignment must be a power of two between 8 and 512 bits, got ${align}`);
  }
}

function checkInteger(where: string, t: IntegerFieldType): void {
  if (t.size !== 8 && t.size !== 16 && t.size !== 32 && t.size !== 64) {
    throw fieldError(where, `integer size must be 8, 16, 32 or 64 bits, got ${String(t.size)}`);
  }
  if (t.base !== undefined && t.base !== 2 && t.base !== 8 && t.base !== 10 && t.base !== 16) {
    throw fieldError(where, `integer base must be 2, 8, 10 or 16, got ${String(t.base)}`);
  }
  if (t.byteOrder !== undefined && t.byteOrder !== 'le' && t.byteOrder !== 'be') {
    throw fieldError(where, `byte order must be "le" or "be", got ${String(t.byteOrder)}`);
  }
  if (t.encoding !== undefined && t.encoding !== 'none' && t.encoding !== 'UTF8' && t.encoding !== 'ASCII') {
    throw fieldError(where, `integer encoding must be none, UTF8 or ASCII, got ${String(t.encoding)}`);
  }
  checkAlign(where, t.align);
}

function checkType(where: string, t: FieldType, depth: number): void {
  if (depth > 32) throw fieldError(where, 'types nest deeper than 32 levels');
  switch (t.kind) {
    case 'int':
      checkInteger(where, t);
      return;
    case 'enum': {
      if (t.container?.kind !== 'int') throw fieldError(where, 'enum container must be an integer type');
      checkInteger(where, t.container);
      if (!Array.isArray(t.mappings) || t.mappings.length === 0) throw fieldError(where, 'enum needs at least one mapping');
      const bits = BigInt(t.container.size);
      const min = t.container.signed ? -(1n << (bits - 1n)) : 0n;
      const max = t.container.signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
      for (const m of t.mappings) {
        if (typeof m.label !== 'string') throw fieldError(where, 'enum labels must be strings');
        const lo = toBigIntChecked(where, m.value);
        const hi = m.end === undefined ? lo : toBigIntChecked(where, m.end);
        if (hi < lo) throw fieldError(where, `enum range of "${m.label}" ends before it starts`);
        if (lo < min || hi > max) throw fieldError(where, `enum value of "${m.label}" does not fit its container`);
      }
      return;
    }
    case 'float':
      if (t.size !== 32 && t.size !== 64) throw fieldError(where, `float size must be 32 or 64 bits, got ${String(t.size)}`);
      checkAlign(where, t.align);
      return;
    case 'string':
      return;
    case 'text':
      if (!Number.isInteger(t.length) || t.length < 0) throw fieldError(where, `text length must be a non-negative integer`);
      return;
    case 'array':
      if (!Number.isInteger(t.length) || t.length < 0) throw fieldError(where, `array length must be a non-negative integer`);
      if (t.element?.kind === 'sequence') throw fieldError(where, 'arrays of sequences cannot be declared in TSDL without a typedef');
      checkType(`${where}[]`, t.element, depth + 1);
      return;
    case 'sequence':
      if (!t.element) throw fieldError(where, 'sequence needs an element type');
      if (t.element.kind === 'sequence' || t.element.kind === 'array' || t.element.kind === 'text') {
        throw fieldError(where, 'sequence elements cannot be arrays or sequences');
      }
      checkType(`${where}[]`, t.element, depth + 1);
      if (t.lengthType !== undefined) {
        if (t.lengthType.kind !== 'int') throw fieldError(where, 'sequence length type must be an integer');
        checkInteger(where, t.lengthType);
        if (t.lengthType.signed) throw fieldError(where, 'sequence length type must be unsigned');
      }
      return;
    case 'struct':
      validateFieldsAt(where, t.fields, depth + 1);
      return;
    default:
      throw fieldError(where, `unknown field kind ${JSON.stringify((t as { kind?: unknown }).kind)}`);
  }
}

function toBigIntChecked(where: string, v: number | bigint): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw fieldError(where, `enum values must be integers, got ${String(v)}`);
  return BigInt(v);
}

function validateFieldsAt(where: string, fields: readonly FieldDef[], depth: number): void {
  if (!Array.isArray(fields)) throw fieldError(where, 'fields must be an array');
  const seen = new Set<string>();
  for (const f of fields) {
    const name = f?.name;
    if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
      throw fieldError(where, `invalid field name ${JSON.stringify(name)} (letters, digits and _ only)`);
    }
    const emitted = [`_${name}`];
    if (f.kind === 'sequence') emitted.push(`__${name}_length`);
    for (const e of emitted) {
      if (seen.has(e)) throw fieldError(where, `duplicate field name "${name}"`);
      seen.add(e);
    }
    checkType(`${where}.${name}`, f, depth);
  }
}

/** Throws an LttError naming the field when a definition cannot be written. */
export function validateFields(where: string, fields: readonly FieldDef[]): void {
  validateFieldsAt(where, fields, 0);
}

// ---------------------------------------------------------------------------------------------------------------
// TSDL rendering (LTTng's spelling).

export function tsdlInteger(t: IntegerFieldType): string {
  const order = t.byteOrder === 'be' ? ' byte_order = be;' : '';
  return (
    `integer { size = ${t.size}; align = ${t.align ?? 8}; signed = ${t.signed ? 1 : 0}; ` +
    `encoding = ${t.encoding ?? 'none'}; base = ${t.base ?? 10};${order} }`
  );
}

/** TSDL string literal with C escapes (labels and env values). */
export function tsdlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function tsdlEnum(t: EnumFieldType, indent: string): string {
  const lines = t.mappings.map((m) => {
    const range = m.end === undefined || BigInt(m.end) === BigInt(m.value) ? `${m.value}` : `${m.value} ... ${m.end}`;
    return `${indent}\t${tsdlString(m.label)} = ${range},`;
  });
  return `enum : ${tsdlInteger(t.container)} {\n${lines.join('\n')}\n${indent}}`;
}

function tsdlFloat(t: FloatFieldType): string {
  const digits = t.size === 32 ? 'exp_dig = 8; mant_dig = 24;' : 'exp_dig = 11; mant_dig = 53;';
  const order = t.byteOrder === 'be' ? ' byte_order = be;' : '';
  return `floating_point { ${digits} align = ${t.align ?? 8};${order} }`;
}

const TEXT_ELEMENT: IntegerFieldType = { kind: 'int', size: 8, signed: true, encoding: 'UTF8' };

/** Type specifier (the part before the declarator) and the array suffixes after the name. */
function tsdlTypeParts(t: FieldType, indent: string): { spec: string; suffix: string } {
  switch (t.kind) {
    case 'int':
      return { spec: tsdlInteger(t), suffix: '' };
    case 'enum':
      return { spec: tsdlEnum(t, indent), suffix: '' };
    case 'float':
      return { spec: tsdlFloat(t), suffix: '' };
    case 'string':
      return { spec: 'string', suffix: '' };
    case 'text':
      return { spec: tsdlInteger(TEXT_ELEMENT), suffix: `[${t.length}]` };
    case 'array': {
      const inner = tsdlTypeParts(t.element, indent);
      // C declarators: `x[2][3]` is an array of 2 arrays of 3, so the outer length comes first.
      return { spec: inner.spec, suffix: `[${t.length}]${inner.suffix}` };
    }
    case 'struct': {
      const body = t.fields.map((f) => tsdlFieldLines(f, `${indent}\t`)).join('');
      return { spec: body === '' ? 'struct {\n' + `${indent}}` : `struct {\n${body}${indent}}`, suffix: '' };
    }
    case 'sequence':
      throw new Error('sequence handled by tsdlFieldLines');
  }
}

/** Declaration lines (each ending in a newline) for one field at the given indentation. */
export function tsdlFieldLines(f: FieldDef, indent: string): string {
  if (f.kind === 'sequence') {
    const lengthType: IntegerFieldType = f.lengthType ?? { kind: 'int', size: 64 };
    const el = tsdlTypeParts(f.element, indent);
    return (
      `${indent}${tsdlInteger(lengthType)} __${f.name}_length;\n` +
      `${indent}${el.spec} _${f.name}[ __${f.name}_length ]${el.suffix};\n`
    );
  }
  const parts = tsdlTypeParts(f, indent);
  return `${indent}${parts.spec} _${f.name}${parts.suffix};\n`;
}

/** `struct { ... }` body for a scope (event fields, stream event context). */
export function tsdlStruct(fields: readonly FieldDef[], indent: string): string {
  return `struct {\n${fields.map((f) => tsdlFieldLines(f, `${indent}\t`)).join('')}${indent}}`;
}

export const TEXT_ELEMENT_TYPE = TEXT_ELEMENT;
