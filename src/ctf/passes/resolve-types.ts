// Pass: resolve TSDL type specifiers and declarators into field classes, with C-like scopes.
//
// Contract: a TypeResolver turns the AST's type specifiers/declarators into fresh model field
// classes (one object per use: named types are deep-copied when used), following babeltrace2's
// visitor: typealias/typedef and named struct/variant/enum live in lexical scopes (root, blocks,
// struct/variant bodies), inner scopes may hide outer names, redefinition in one scope is an error.
// Integers get their defaults (align 8 if size % 8 == 0 else 1, byte order from the trace,
// base 10) and their `map = clock.X.value` clock; arrays of a constant length or `env.X` are
// arrays, other lengths make sequences whose length path is recorded in `draft.refs` (likewise
// variant tags). Struct member names lose one leading underscore (`name`), the written one stays
// in `originalName`. Errors are LttError('CTF_METADATA') naming the line.

import type {
  ArrayFieldClass,
  ByteOrder,
  DisplayBase,
  EnumFieldClass,
  EnumMapping,
  FieldClass,
  FloatFieldClass,
  IntegerFieldClass,
  SequenceFieldClass,
  StringEncoding,
  StringFieldClass,
  StructFieldClass,
  StructMember,
  VariantFieldClass,
  VariantOption,
} from '../ir/trace-class.js';
import type { Assignment, Declaration, Declarator, TypeSpecifier, UnaryExpr } from '../tsdl/ast.js';
import { metadataError, type DraftTrace } from './draft.js';

/** One lexical scope of type names. */
export class TypeScope {
  readonly aliases = new Map<string, FieldClass>();
  readonly structs = new Map<string, StructFieldClass>();
  readonly variants = new Map<string, VariantFieldClass>();
  readonly enums = new Map<string, EnumFieldClass>();
  constructor(readonly parent?: TypeScope) {}

  lookup<K extends 'aliases' | 'structs' | 'variants' | 'enums'>(
    table: K,
    name: string,
  ): (TypeScope[K] extends Map<string, infer V> ? V : never) | undefined {
    for (let s: TypeScope | undefined = this; s; s = s.parent) {
      const found = (s[table] as Map<string, unknown>).get(name);
      if (found !== undefined) return found as never;
    }
    return undefined;
  }
}

/** CTF 1.8 display name: one leading underscore removed (babeltrace's "unescaping"). */
export function stripUnderscore(name: string): string {
  return name.startsWith('_') ? name.slice(1) : name;
}

/** Text of a word-like value: `clock.mono.value`, `hex` or `"hex"` (babeltrace treats both as strings). */
function pathText(e: UnaryExpr): string | undefined {
  if (e.kind === 'path') return e.parts.join('.');
  if (e.kind === 'string' || e.kind === 'char') return e.value;
  return undefined;
}

const BASES: Record<string, DisplayBase> = {
  decimal: 10, dec: 10, d: 10, i: 10, u: 10,
  hexadecimal: 16, hex: 16, x: 16, X: 16, p: 16,
  octal: 8, oct: 8, o: 8,
  binary: 2, b: 2,
};

/** Deep copy of a field class tree; unresolved references follow the copies. */
export function cloneFieldClass(fc: FieldClass, draft: DraftTrace): FieldClass {
  let out: FieldClass;
  switch (fc.kind) {
    case 'struct':
      out = { ...fc, members: fc.members.map((m) => ({ ...m, fc: cloneFieldClass(m.fc, draft) })) };
      break;
    case 'variant':
      out = { ...fc, options: fc.options.map((o) => ({ ...o, fc: cloneFieldClass(o.fc, draft) })) };
      break;
    case 'array':
    case 'sequence':
      out = { ...fc, element: cloneFieldClass(fc.element, draft) };
      break;
    case 'enum':
      out = { ...fc, container: { ...fc.container } };
      break;
    case 'optional':
      out = { ...fc, fc: cloneFieldClass(fc.fc, draft) };
      break;
    default:
      out = { ...fc };
  }
  const ref = draft.refs.get(fc);
  if (ref) draft.refs.set(out, ref);
  return out;
}

export class TypeResolver {
  constructor(private readonly draft: DraftTrace) {}

  private warn(line: number, msg: string): void {
    this.draft.warnings.push(`metadata line ${line}: ${msg}`);
  }

  // ---- declarations that only define names -----------------------------------------------------

  /** Handles typedef/typealias/type-only declarations in `scope`; false for other kinds. */
  declare(decl: Declaration, scope: TypeScope): boolean {
    switch (decl.kind) {
      case 'typedef':
        for (const d of decl.declarators) {
          const { name, fc } = this.declared(decl.specs, d, scope);
          this.addAlias(scope, name!, fc, d.line);
        }
        return true;
      case 'typealias': {
        const { fc } = this.declared(decl.specs, decl.declarator, scope);
        this.addAlias(scope, decl.aliasName, fc, decl.line);
        return true;
      }
      case 'type-only':
        // Building the type registers a named struct/variant/enum in `scope`.
        this.specsToFc(decl.specs, scope, decl.line);
        return true;
      default:
        return false;
    }
  }

  private addAlias(scope: TypeScope, name: string, fc: FieldClass, line: number): void {
    if (scope.aliases.has(name)) throw metadataError(`type "${name}" is already declared in this scope`, line);
    scope.aliases.set(name, fc);
  }

  // ---- specifiers ------------------------------------------------------------------------------

  /** Field class named by a specifier list (a fresh object). */
  specsToFc(specs: readonly TypeSpecifier[], scope: TypeScope, line: number): FieldClass {
    // `const` is part of type names, as in babeltrace (`const uint8_t` needs its own alias).
    const real = specs;
    const compound = real.filter((s) => s.kind !== 'word');
    if (compound.length > 1 || (compound.length === 1 && real.length > 1)) {
      throw metadataError('invalid combination of type specifiers', line);
    }
    if (compound.length === 1) return this.compoundToFc(compound[0]!, scope);
    if (real.length === 0) throw metadataError('missing type', line);
    const name = specsName(real);
    const found = scope.lookup('aliases', name);
    if (!found) throw metadataError(`cannot find type "${name}"`, line);
    return cloneFieldClass(found, this.draft);
  }

  private compoundToFc(s: TypeSpecifier, scope: TypeScope): FieldClass {
    switch (s.kind) {
      case 'integer':
        return this.integer(s.attrs, s.line);
      case 'floating_point':
        return this.float(s.attrs, s.line);
      case 'string':
        return this.string(s.attrs);
      case 'enum':
        return this.enumeration(s, scope);
      case 'struct':
        return this.struct(s, scope);
      case 'variant':
        return this.variant(s, scope);
      default:
        throw metadataError('unexpected type specifier', s.line);
    }
  }

  private integer(attrs: readonly Assignment[], line: number): IntegerFieldClass {
    let size: number | undefined;
    let align: number | undefined;
    let signed = false;
    let byteOrder: ByteOrder = this.draft.byteOrder;
    let base: DisplayBase = 10;
    let encoding: StringEncoding = 'none';
    let mappedClock: IntegerFieldClass['mappedClock'];
    const seen = new Set<string>();
    for (const a of attrs) {
      const key = a.left.join('.');
      if (seen.has(key)) throw metadataError(`duplicate \`${key}\` attribute in integer type`, a.line);
      seen.add(key);
      switch (key) {
        case 'size': {
          const v = unsignedValue(a.right, 'integer `size`');
          if (v < 1n || v > 64n) throw metadataError(`invalid integer size ${v} (expecting 1 to 64)`, a.line);
          size = Number(v);
          break;
        }
        case 'align':
          align = alignValue(a.right, 'integer `align`');
          break;
        case 'signed':
          signed = booleanValue(a.right, 'integer `signed`');
          break;
        case 'byte_order':
          byteOrder = this.byteOrder(a.right);
          break;
        case 'base': {
          const r = a.right;
          if (r.kind === 'int') {
            if (r.value !== 2n && r.value !== 8n && r.value !== 10n && r.value !== 16n) {
              throw metadataError(`invalid integer base ${r.value}`, a.line);
            }
            base = Number(r.value) as DisplayBase;
          } else {
            const t = pathText(r);
            const b = t !== undefined ? BASES[t] : undefined;
            if (b === undefined) throw metadataError(`invalid integer base "${t ?? exprText(r)}"`, a.line);
            base = b;
          }
          break;
        }
        case 'encoding':
          encoding = encodingValue(a.right);
          break;
        case 'map': {
          const p = a.right.kind === 'path' ? a.right.parts : undefined;
          if (!p) throw metadataError('invalid `map` attribute in integer type: expecting clock.NAME.value', a.line);
          // babeltrace's reading: `clock`, then the name, then optionally `value`.
          if (p[0] !== 'clock' || p.length < 2 || p.length > 3 || (p.length === 3 && p[2] !== 'value')) {
            // babeltrace logs this and keeps the integer unmapped.
            this.warn(a.line, `ignoring unexpected integer \`map\` attribute "${p.join('.')}"`);
            break;
          }
          const clock = this.draft.clocks.get(p[1]!);
          if (!clock) throw metadataError(`invalid \`map\` attribute in integer type: no clock named "${p[1]}"`, a.line);
          mappedClock = clock;
          break;
        }
        default:
          this.warn(a.line, `unknown attribute \`${key}\` in integer type`);
      }
    }
    if (size === undefined) throw metadataError('missing `size` attribute in integer type', line);
    return {
      kind: 'int',
      align: align ?? (size % 8 === 0 ? 8 : 1),
      hidden: false,
      size,
      signed,
      byteOrder,
      base,
      encoding,
      ...(mappedClock && { mappedClock }),
    };
  }

  private byteOrder(e: UnaryExpr): ByteOrder {
    const t = pathText(e);
    switch (t) {
      case 'be':
      case 'network':
        return 'be';
      case 'le':
        return 'le';
      case 'native':
        return this.draft.byteOrder;
      default:
        throw metadataError(`invalid byte order "${t ?? exprText(e)}" (expecting be, le, network or native)`, e.line);
    }
  }

  private float(attrs: readonly Assignment[], line: number): FloatFieldClass {
    let exp: bigint | undefined;
    let mant: bigint | undefined;
    let align: number | undefined;
    let byteOrder: ByteOrder = this.draft.byteOrder;
    const seen = new Set<string>();
    for (const a of attrs) {
      const key = a.left.join('.');
      if (seen.has(key)) throw metadataError(`duplicate \`${key}\` attribute in floating point type`, a.line);
      seen.add(key);
      switch (key) {
        case 'exp_dig':
          exp = unsignedValue(a.right, 'floating point `exp_dig`');
          break;
        case 'mant_dig':
          mant = unsignedValue(a.right, 'floating point `mant_dig`');
          break;
        case 'align':
          align = alignValue(a.right, 'floating point `align`');
          break;
        case 'byte_order':
          byteOrder = this.byteOrder(a.right);
          break;
        default:
          this.warn(a.line, `unknown attribute \`${key}\` in floating point type`);
      }
    }
    if (mant === undefined) throw metadataError('missing `mant_dig` attribute in floating point type', line);
    if (exp === undefined) throw metadataError('missing `exp_dig` attribute in floating point type', line);
    let size: number;
    if (exp === 8n && mant === 24n) size = 32;
    else if (exp === 11n && mant === 53n) size = 64;
    else throw metadataError(`unsupported floating point type (exp_dig = ${exp}, mant_dig = ${mant})`, line);
    return { kind: 'float', align: align ?? 8, hidden: false, size, byteOrder };
  }

  private string(attrs: readonly Assignment[]): StringFieldClass {
    let encoding: StringFieldClass['encoding'] = 'utf8';
    for (const a of attrs) {
      const key = a.left.join('.');
      if (key === 'encoding') encoding = encodingValue(a.right);
      else this.warn(a.line, `unknown attribute \`${key}\` in string type`);
    }
    return { kind: 'string', align: 8, hidden: false, encoding };
  }

  private enumeration(s: Extract<TypeSpecifier, { kind: 'enum' }>, scope: TypeScope): EnumFieldClass {
    if (!s.entries) {
      const found = scope.lookup('enums', s.name!);
      if (!found) throw metadataError(`cannot find enumeration "enum ${s.name}"`, s.line);
      return cloneFieldClass(found, this.draft) as EnumFieldClass;
    }
    if (s.name !== undefined && scope.enums.has(s.name)) {
      throw metadataError(`enumeration "enum ${s.name}" is already declared in this scope`, s.line);
    }
    let container: FieldClass;
    if (s.container) {
      container = this.specsToFc(s.container, scope, s.line);
    } else {
      const int = scope.lookup('aliases', 'int');
      if (!int) throw metadataError('enumeration without container type and no `int` type declared', s.line);
      container = cloneFieldClass(int, this.draft);
    }
    if (container.kind !== 'int') throw metadataError('enumeration container type is not an integer type', s.line);
    const signed = container.signed;
    const norm = (v: bigint): bigint => (signed ? BigInt.asIntN(64, v) : BigInt.asUintN(64, v));
    const byLabel = new Map<string, Array<readonly [bigint, bigint]>>();
    let next = 0n;
    let reversedRange: string | undefined;
    for (const e of s.entries) {
      let lo: bigint;
      let hi: bigint;
      if (e.value) {
        lo = enumValue(e.value, e.label);
        hi = e.rangeEnd ? enumValue(e.rangeEnd, e.label) : lo;
      } else {
        lo = next;
        hi = next;
      }
      next = hi + 1n;
      let ranges = byLabel.get(e.label);
      if (!ranges) byLabel.set(e.label, (ranges = []));
      lo = norm(lo);
      hi = norm(hi);
      // babeltrace aborts on a reversed range (library precondition) once the enum is in its trace IR: the
      // validate pass refuses it there.
      if (lo > hi && reversedRange === undefined) {
        reversedRange = metadataError(`invalid range ${lo} ... ${hi} for enumeration label "${e.label}" (lower > upper)`, e.line).message;
      }
      ranges.push([lo, hi]);
    }
    const mappings: EnumMapping[] = [...byLabel].map(([label, ranges]) => ({ label, ranges }));
    const fc: EnumFieldClass = {
      kind: 'enum',
      align: container.align,
      hidden: false,
      container,
      mappings,
      ...(reversedRange !== undefined && { reversedRange }),
    };
    if (s.name !== undefined) scope.enums.set(s.name, fc);
    return s.name !== undefined ? (cloneFieldClass(fc, this.draft) as EnumFieldClass) : fc;
  }

  private struct(s: Extract<TypeSpecifier, { kind: 'struct' }>, scope: TypeScope): StructFieldClass {
    if (!s.body) {
      const found = scope.lookup('structs', s.name!);
      if (!found) throw metadataError(`cannot find structure "struct ${s.name}"`, s.line);
      return cloneFieldClass(found, this.draft) as StructFieldClass;
    }
    if (s.name !== undefined && scope.structs.has(s.name)) {
      throw metadataError(`structure "struct ${s.name}" is already declared in this scope`, s.line);
    }
    // Any minimum alignment: babeltrace2 takes the largest of it and the members' and aligns with
    // (offset + a - 1) & ~(a - 1), which the decoders also use (the same bits for a power of two).
    let minAlign = 1;
    if (s.align) {
      const v = unsignedValue(s.align, 'structure `align`');
      if (v > 0n) minAlign = v < 1n << 31n ? Number(v) : alignValue(s.align, 'structure `align`');
    }
    const inner = new TypeScope(scope);
    const members: StructMember[] = [];
    const shown = new Set<string>();
    for (const d of s.body) {
      if (this.declare(d, inner)) continue;
      if (d.kind !== 'field') throw metadataError('unexpected declaration in structure', d.line);
      for (const decl of d.declarators) {
        const { name, fc } = this.declared(d.specs, decl, inner);
        // Display names must be unique (`x` and `_x` clash: babeltrace aborts on them).
        const display = stripUnderscore(name!);
        if (shown.has(display) || shown.has(name!)) throw metadataError(`duplicate field "${name}" in structure`, decl.line);
        shown.add(display);
        members.push({ name: display, originalName: name!, fc });
      }
    }
    // Final alignment (max with the members') is computed by the alignments pass.
    const fc: StructFieldClass = { kind: 'struct', align: minAlign, hidden: false, members };
    if (s.name !== undefined) scope.structs.set(s.name, fc);
    return s.name !== undefined ? (cloneFieldClass(fc, this.draft) as StructFieldClass) : fc;
  }

  private variant(s: Extract<TypeSpecifier, { kind: 'variant' }>, scope: TypeScope): VariantFieldClass {
    let fc: VariantFieldClass;
    if (!s.body) {
      const found = scope.lookup('variants', s.name!);
      if (!found) throw metadataError(`cannot find variant "variant ${s.name}"`, s.line);
      fc = cloneFieldClass(found, this.draft) as VariantFieldClass;
    } else {
      if (s.name !== undefined && scope.variants.has(s.name)) {
        throw metadataError(`variant "variant ${s.name}" is already declared in this scope`, s.line);
      }
      const inner = new TypeScope(scope);
      const options: VariantOption[] = [];
      const shown = new Set<string>();
      for (const d of s.body) {
        if (this.declare(d, inner)) continue;
        if (d.kind !== 'field') throw metadataError('unexpected declaration in variant', d.line);
        for (const decl of d.declarators) {
          const { name, fc: ofc } = this.declared(d.specs, decl, inner);
          const display = stripUnderscore(name!);
          if (shown.has(display) || shown.has(name!)) throw metadataError(`duplicate option "${name}" in variant`, decl.line);
          shown.add(display);
          options.push({ name: display, originalName: name!, fc: ofc, ranges: [] });
        }
      }
      // The variant's own alignment is 1: babeltrace aligns the selected option, not the variant.
      const untagged: VariantFieldClass = { kind: 'variant', align: 1, hidden: false, tagSlot: -1, options };
      if (s.name !== undefined) scope.variants.set(s.name, untagged);
      fc = s.name !== undefined ? (cloneFieldClass(untagged, this.draft) as VariantFieldClass) : untagged;
    }
    if (s.tag) {
      this.draft.refs.set(fc, { path: s.tag, line: s.line });
    }
    return fc;
  }

  // ---- declarators -----------------------------------------------------------------------------

  /** Field class and name of `specs declarator` (arrays/sequences/pointers applied). */
  declared(
    specs: readonly TypeSpecifier[],
    d: Declarator,
    scope: TypeScope,
  ): { name: string | undefined; fc: FieldClass } {
    if (d.bitfield) throw metadataError('GCC bitfields are not supported', d.line);
    let fc: FieldClass;
    if (d.pointers > 0) {
      // `type *name`: the pointer type must have been declared with typealias (`:= void *`).
      const name = specsName(specs) + ' *'.repeat(d.pointers);
      const found = scope.lookup('aliases', name);
      if (!found) throw metadataError(`cannot find type "${name}"`, d.line);
      fc = cloneFieldClass(found, this.draft);
      // babeltrace displays pointers in hexadecimal.
      if (fc.kind === 'int') fc = { ...fc, base: 16 };
    } else {
      fc = this.specsToFc(specs, scope, d.line);
    }
    // `x[A][B]` is an array of A arrays of B: build from the innermost (last) dimension.
    for (let i = d.dims.length - 1; i >= 0; i--) fc = this.dimension(fc, d.dims[i]!);
    return { name: d.name, fc };
  }

  private dimension(element: FieldClass, len: UnaryExpr): FieldClass {
    if (len.kind === 'int') {
      if (len.value < 0n) throw metadataError(`invalid negative array length ${len.value}`, len.line);
      if (len.value > 0xffffffffn) throw metadataError(`array length ${len.value} is too large`, len.line);
      const a: ArrayFieldClass = { kind: 'array', align: element.align, hidden: false, length: Number(len.value), element, isText: false };
      return a;
    }
    if (len.kind !== 'path') throw metadataError('invalid array length (expecting an integer or a field path)', len.line);
    if (len.parts[0] === 'env' && len.parts.length === 2) {
      const v = this.draft.env.get(len.parts[1]!);
      if (v === undefined) throw metadataError(`cannot find environment entry "${len.parts[1]}"`, len.line);
      if (typeof v !== 'bigint') throw metadataError(`environment entry "${len.parts[1]}" is not an integer`, len.line);
      if (v < 0n) throw metadataError(`invalid negative array length from env.${len.parts[1]}`, len.line);
      const a: ArrayFieldClass = { kind: 'array', align: element.align, hidden: false, length: Number(v), element, isText: false };
      return a;
    }
    const s: SequenceFieldClass = { kind: 'sequence', align: element.align, hidden: false, lengthSlot: -1, element, isText: false };
    this.draft.refs.set(s, { path: len.parts, line: len.line });
    return s;
  }
}

/** babeltrace's name of a specifier list: words joined with spaces (`unsigned long`, `struct x`). */
function specsName(specs: readonly TypeSpecifier[]): string {
  return specs
    .map((s) => {
      switch (s.kind) {
        case 'word':
          return s.word;
        case 'struct':
        case 'variant':
        case 'enum':
          if (s.name === undefined) throw metadataError(`unexpected anonymous ${s.kind} in a type name`, s.line);
          return `${s.kind} ${s.name}`;
        default:
          throw metadataError('unexpected type specifier in a type name', s.line);
      }
    })
    .join(' ');
}

export function exprText(e: UnaryExpr): string {
  switch (e.kind) {
    case 'int':
      return e.value.toString();
    case 'path':
      return e.parts.join('.');
    default:
      return e.value;
  }
}

export function unsignedValue(e: UnaryExpr, what: string): bigint {
  if (e.kind !== 'int' || e.value < 0n) throw metadataError(`invalid ${what} value "${exprText(e)}" (expecting an unsigned integer)`, e.line);
  return e.value;
}

export function signedValue(e: UnaryExpr, what: string): bigint {
  if (e.kind !== 'int') throw metadataError(`invalid ${what} value "${exprText(e)}" (expecting an integer)`, e.line);
  return BigInt.asIntN(64, e.value);
}

function alignValue(e: UnaryExpr, what: string): number {
  const v = unsignedValue(e, what);
  if (v === 0n || (v & (v - 1n)) !== 0n) throw metadataError(`invalid ${what} value ${v} (expecting a power of two)`, e.line);
  return Number(v);
}

export function booleanValue(e: UnaryExpr, what: string): boolean {
  if (e.kind === 'int') return e.value !== 0n;
  const t = pathText(e);
  if (t === 'true' || t === 'TRUE') return true;
  if (t === 'false' || t === 'FALSE') return false;
  throw metadataError(`invalid ${what} value "${exprText(e)}" (expecting a boolean)`, e.line);
}

function encodingValue(e: UnaryExpr): StringEncoding {
  const t = pathText(e);
  switch (t) {
    case 'UTF8':
    case 'utf8':
    case 'utf-8':
    case 'UTF-8':
      return 'utf8';
    case 'ASCII':
    case 'ascii':
      return 'ascii';
    case 'none':
      return 'none';
    default:
      throw metadataError(`invalid encoding "${t ?? exprText(e)}" (expecting none, UTF8 or ASCII)`, e.line);
  }
}

function enumValue(e: UnaryExpr, label: string): bigint {
  if (e.kind !== 'int') throw metadataError(`invalid value for enumeration label "${label}" (expecting an integer)`, e.line);
  return e.value;
}
