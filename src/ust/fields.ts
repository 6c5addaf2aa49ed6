// Field declarations of Node tracepoints: the typed builders (`ust.int32('i')`, `ust.string('msg')`, ...) and
// what the rest of ltt/ust derives from them.
//
// Contract: a field is declared once, with its name, its CTF type and its display options; it is immutable.
// The TypeScript type `ValueOf<F>` is what `emit()` accepts for it, so a wrong value type is a compile error.
// Each spec can print its CTF 1.8 TSDL declaration (LTTng's conventions: one leading `_` on field names, byte
// alignment like lttng-ust on x86, sequence lengths in a separate `__NAME_length` field) and report its
// encoded size bounds, which the code generator (event-codegen.ts) uses to reserve ring-buffer space.

import type { TracepointField } from '../control/messages.js';

export type IntBits = 8 | 16 | 32 | 64;
export type DisplayBase = 2 | 8 | 10 | 16;

export interface IntOptions {
  /** Display base in viewers (default 10). `hex: true` is the same as base 16. */
  readonly base?: DisplayBase;
  readonly hex?: boolean;
  /** 'be' records the value big-endian (network order, lttng-ust's `_network` fields); default 'le'. */
  readonly byteOrder?: 'le' | 'be';
  /** 8-bit only: UTF-8 code units, so arrays and sequences of them read as text (lttng-ust's `_text` fields). */
  readonly text?: boolean;
}

interface SpecBase<N extends string> {
  readonly name: N;
}

export interface IntSpec<N extends string = string, V = number> extends SpecBase<N> {
  readonly kind: 'int';
  readonly bits: IntBits;
  readonly signed: boolean;
  readonly base: DisplayBase;
  readonly byteOrder: 'le' | 'be';
  readonly text: boolean;
  /** Phantom: the value type emit() accepts. */
  readonly __value?: V;
}

export interface FloatSpec<N extends string = string> extends SpecBase<N> {
  readonly kind: 'float';
  readonly bits: 32 | 64;
  readonly __value?: number;
}

export interface BoolSpec<N extends string = string> extends SpecBase<N> {
  readonly kind: 'bool';
  readonly __value?: boolean;
}

export interface StringSpec<N extends string = string> extends SpecBase<N> {
  readonly kind: 'string';
  readonly __value?: string;
}

/** A label maps to one value or an inclusive range [low, high]. */
export type EnumMappings = Readonly<Record<string, number | readonly [number, number]>>;

export interface EnumSpec<N extends string = string, M extends EnumMappings = EnumMappings> extends SpecBase<N> {
  readonly kind: 'enum';
  readonly container: IntSpec<'', number>;
  readonly mappings: M;
  /** Labels that map to a single value (or to the low end of their range): what emit() accepts besides numbers. */
  readonly labelValues: Readonly<Record<string, number>>;
  readonly __value?: number | Extract<keyof M, string>;
}

/** Element types allowed inside arrays and sequences. */
export type ScalarSpec = IntSpec<string, unknown> | FloatSpec | BoolSpec | StringSpec | EnumSpec;

export interface ArraySpec<N extends string = string, E extends ScalarSpec = ScalarSpec> extends SpecBase<N> {
  readonly kind: 'array';
  readonly element: E;
  readonly length: number;
  readonly __value?: ArrayLike<ValueOf<E>>;
}

export interface SequenceSpec<N extends string = string, E extends ScalarSpec = ScalarSpec> extends SpecBase<N> {
  readonly kind: 'sequence';
  readonly element: E;
  readonly __value?: ArrayLike<ValueOf<E>>;
}

export type FieldSpec = ScalarSpec | ArraySpec | SequenceSpec;

/** The value type a field accepts in emit(). */
export type ValueOf<F> = F extends { readonly __value?: infer V } ? V : never;

/** Positional argument tuple of emit() for a field list. */
export type ValuesOf<T extends readonly FieldSpec[]> = { [K in keyof T]: ValueOf<T[K]> };

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkName(name: string, allowEmpty: boolean): void {
  if (name === '' && allowEmpty) return;
  if (!NAME_RE.test(name)) {
    throw new TypeError(`ltt/ust: invalid field name ${JSON.stringify(name)} (expected a C identifier)`);
  }
}

function baseOf(opts: IntOptions | undefined): DisplayBase {
  if (opts?.hex) return 16;
  const b = opts?.base ?? 10;
  if (b !== 2 && b !== 8 && b !== 10 && b !== 16) throw new TypeError(`ltt/ust: invalid display base ${String(b)}`);
  return b;
}

function int<N extends string, V>(name: N, bits: IntBits, signed: boolean, opts?: IntOptions): IntSpec<N, V> {
  checkName(name, true);
  const byteOrder = opts?.byteOrder ?? 'le';
  if (byteOrder !== 'le' && byteOrder !== 'be') throw new TypeError(`ltt/ust: invalid byte order ${String(byteOrder)}`);
  const text = opts?.text === true;
  if (text && bits !== 8) throw new TypeError('ltt/ust: only 8-bit integers can be text');
  return Object.freeze({ kind: 'int', name, bits, signed, base: baseOf(opts), byteOrder, text }) as IntSpec<N, V>;
}

// Builders. The name may be omitted ('' ) only for array/sequence elements and enum containers.
export const int8 = <N extends string = ''>(name: N = '' as N, o?: IntOptions) => int<N, number>(name, 8, true, o);
export const int16 = <N extends string = ''>(name: N = '' as N, o?: IntOptions) => int<N, number>(name, 16, true, o);
export const int32 = <N extends string = ''>(name: N = '' as N, o?: IntOptions) => int<N, number>(name, 32, true, o);
/** 64-bit values: a bigint is exact; a number is exact up to 2^53. */
export const int64 = <N extends string = ''>(name: N = '' as N, o?: IntOptions) =>
  int<N, number | bigint>(name, 64, true, o);
export const uint8 = <N extends string = ''>(name: N = '' as N, o?: IntOptions) => int<N, number>(name, 8, false, o);
export const uint16 = <N extends string = ''>(name: N = '' as N, o?: IntOptions) => int<N, number>(name, 16, false, o);
export const uint32 = <N extends string = ''>(name: N = '' as N, o?: IntOptions) => int<N, number>(name, 32, false, o);
export const uint64 = <N extends string = ''>(name: N = '' as N, o?: IntOptions) =>
  int<N, number | bigint>(name, 64, false, o);

export function float32<N extends string = ''>(name: N = '' as N): FloatSpec<N> {
  checkName(name, true);
  return Object.freeze({ kind: 'float', name, bits: 32 }) as FloatSpec<N>;
}
export function float64<N extends string = ''>(name: N = '' as N): FloatSpec<N> {
  checkName(name, true);
  return Object.freeze({ kind: 'float', name, bits: 64 }) as FloatSpec<N>;
}
/** Recorded as an 8-bit unsigned integer 0/1 (CTF 1.8 has no boolean; lttng-ust records C bools the same way). */
export function bool<N extends string = ''>(name: N = '' as N): BoolSpec<N> {
  checkName(name, true);
  return Object.freeze({ kind: 'bool', name }) as BoolSpec<N>;
}
/** UTF-8, NUL-terminated in the trace; like lttng-ust's ctf_string, a string is cut at its first U+0000. */
export function string<N extends string = ''>(name: N = '' as N): StringSpec<N> {
  checkName(name, true);
  return Object.freeze({ kind: 'string', name }) as StringSpec<N>;
}

/**
 * An enumeration over an integer container: `ust.enumeration('state', ust.uint8(), { IDLE: 0, BUSY: 1, ERR: [2, 9] })`.
 * emit() accepts the numeric value or a label (a range label stands for its low end).
 */
export function enumeration<N extends string, const M extends EnumMappings>(
  name: N,
  container: IntSpec<string, unknown>,
  mappings: M,
): EnumSpec<N, M> {
  checkName(name, true);
  if (container.kind !== 'int' || container.bits === 64) {
    throw new TypeError('ltt/ust: an enumeration container must be an 8, 16 or 32-bit integer');
  }
  const labelValues: Record<string, number> = Object.create(null);
  for (const [label, v] of Object.entries(mappings)) {
    const lo = typeof v === 'number' ? v : v[0];
    const hi = typeof v === 'number' ? v : v[1];
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi) {
      throw new TypeError(`ltt/ust: enumeration ${name}: bad range for label ${JSON.stringify(label)}`);
    }
    labelValues[label] = lo;
  }
  const c = int<'', number>('', container.bits, container.signed, { base: container.base, byteOrder: container.byteOrder });
  return Object.freeze({ kind: 'enum', name, container: c, mappings, labelValues }) as EnumSpec<N, M>;
}

export function array<N extends string, E extends ScalarSpec>(name: N, element: E, length: number): ArraySpec<N, E> {
  checkName(name, false);
  if (!Number.isInteger(length) || length < 0 || length > 65535) {
    throw new TypeError(`ltt/ust: array ${name}: length must be an integer in [0, 65535]`);
  }
  assertScalar(name, element);
  return Object.freeze({ kind: 'array', name, element, length }) as ArraySpec<N, E>;
}

/** A variable-length array; its length is recorded as a 32-bit unsigned `__NAME_length` field before it. */
export function sequence<N extends string, E extends ScalarSpec>(name: N, element: E): SequenceSpec<N, E> {
  checkName(name, false);
  assertScalar(name, element);
  return Object.freeze({ kind: 'sequence', name, element }) as SequenceSpec<N, E>;
}

function assertScalar(name: string, e: FieldSpec): void {
  if (e === null || typeof e !== 'object' || (e.kind === 'array' || e.kind === 'sequence')) {
    throw new TypeError(`ltt/ust: ${name}: array and sequence elements must be scalar fields`);
  }
}

/** Validates a field list given to provider.event(): named, unique, known kinds. */
export function checkFieldList(event: string, fields: readonly FieldSpec[]): void {
  if (!Array.isArray(fields)) throw new TypeError(`ltt/ust: event ${event}: fields must be an array of field specs`);
  const seen = new Set<string>();
  for (const f of fields) {
    if (f === null || typeof f !== 'object' || typeof (f as { kind?: unknown }).kind !== 'string') {
      throw new TypeError(`ltt/ust: event ${event}: fields must be created with ust.int32('name'), ust.string('name'), ...`);
    }
    if (f.name === '') throw new TypeError(`ltt/ust: event ${event}: every field needs a name`);
    if (seen.has(f.name)) throw new TypeError(`ltt/ust: event ${event}: duplicate field ${f.name}`);
    seen.add(f.name);
  }
}

// ---- TSDL ----

export function intTsdl(s: IntSpec<string, unknown>): string {
  const order = s.byteOrder === 'be' ? ' byte_order = be;' : '';
  return `integer { size = ${s.bits}; align = 8; signed = ${s.signed ? 1 : 0}; encoding = ${s.text ? 'UTF8' : 'none'}; base = ${s.base};${order} }`;
}

function scalarTypeTsdl(s: ScalarSpec): string {
  switch (s.kind) {
    case 'int':
      return intTsdl(s);
    case 'float':
      return s.bits === 32
        ? 'floating_point { exp_dig = 8; mant_dig = 24; align = 8; }'
        : 'floating_point { exp_dig = 11; mant_dig = 53; align = 8; }';
    case 'bool':
      return 'integer { size = 8; align = 8; signed = 0; encoding = none; base = 10; }';
    case 'string':
      return 'string';
    case 'enum': {
      const parts = Object.entries(s.mappings).map(([label, v]) =>
        typeof v === 'number' ? `${JSON.stringify(label)} = ${v}` : `${JSON.stringify(label)} = ${v[0]} ... ${v[1]}`,
      );
      return `enum : ${intTsdl(s.container)} { ${parts.join(', ')} }`;
    }
  }
}

/** TSDL member declarations (one or two lines, each ending with `;`) for a payload or context field. */
export function fieldTsdl(f: FieldSpec): string[] {
  switch (f.kind) {
    case 'array':
      return [`${scalarTypeTsdl(f.element)} _${f.name}[${f.length}];`];
    case 'sequence':
      return [
        `integer { size = 32; align = 8; signed = 0; encoding = none; base = 10; } __${f.name}_length;`,
        `${scalarTypeTsdl(f.element)} _${f.name}[ __${f.name}_length ];`,
      ];
    default:
      return [`${scalarTypeTsdl(f)} _${f.name};`];
  }
}

/** Encoded size of a fixed-size scalar, or -1 for strings. */
export function scalarSize(s: ScalarSpec): number {
  switch (s.kind) {
    case 'int':
      return s.bits / 8;
    case 'float':
      return s.bits / 8;
    case 'bool':
      return 1;
    case 'enum':
      return s.container.bits / 8;
    case 'string':
      return -1;
  }
}

/** The field's class in LTTng's tracepoint listing (`list -u -f`): arrays and sequences of text are strings,
 * other arrays and sequences "other", as lttng-ust lists them. */
export function listedFieldType(spec: FieldSpec): TracepointField['type'] {
  switch (spec.kind) {
    case 'int':
    case 'bool':
      return 'integer';
    case 'float':
      return 'float';
    case 'string':
      return 'string';
    case 'enum':
      return 'enum';
    default:
      return spec.element.kind === 'int' && spec.element.text ? 'string' : 'other';
  }
}
