// TSDL syntax tree produced by parser.ts and consumed by the passes (ctf/passes/).
//
// Contract: a faithful, unresolved picture of the metadata text: type names are still names,
// sequence lengths and variant tags are still paths, attribute values are still expressions.
// Every node carries the line it starts on so that later errors can name it.

/** Value of an expression: `x`, `a.b.c`, `"text"`, `'c'`, `42`, `-3`. */
export type UnaryExpr =
  | { readonly kind: 'int'; readonly value: bigint; readonly line: number }
  /** Identifier, keyword or dotted/arrow path: the words in order. */
  | { readonly kind: 'path'; readonly parts: readonly string[]; readonly line: number }
  | { readonly kind: 'string'; readonly value: string; readonly line: number }
  | { readonly kind: 'char'; readonly value: string; readonly line: number };

/** `name` (or `lo ... hi`) on the right of an enumerator or attribute. */
export interface Enumerator {
  readonly label: string;
  readonly value?: UnaryExpr;
  readonly rangeEnd?: UnaryExpr;
  readonly line: number;
}

export type TypeSpecifier =
  /** `unsigned`, `long`, `const`, ... or a declared type name (ID_TYPE). */
  | { readonly kind: 'word'; readonly word: string; readonly isTypeName: boolean; readonly line: number }
  | { readonly kind: 'integer'; readonly attrs: readonly Assignment[]; readonly line: number }
  | { readonly kind: 'floating_point'; readonly attrs: readonly Assignment[]; readonly line: number }
  | { readonly kind: 'string'; readonly attrs: readonly Assignment[]; readonly line: number }
  | {
      readonly kind: 'struct';
      readonly name?: string;
      /** Absent: reference to a named struct. */
      readonly body?: readonly Declaration[];
      readonly align?: UnaryExpr;
      readonly line: number;
    }
  | {
      readonly kind: 'variant';
      readonly name?: string;
      /** Tag path, e.g. ['id'] or ['stream', 'event', 'header', 'id']. */
      readonly tag?: readonly string[];
      readonly body?: readonly Declaration[];
      readonly line: number;
    }
  | {
      readonly kind: 'enum';
      readonly name?: string;
      readonly container?: readonly TypeSpecifier[];
      readonly entries?: readonly Enumerator[];
      readonly line: number;
    };

/** C-like declarator: `*name[2][len]`. `dims` are in source order (`m[2][3]` -> [2, 3]). */
export interface Declarator {
  readonly name?: string;
  readonly pointers: number;
  readonly dims: readonly UnaryExpr[];
  /** GNU bitfield width (`x : 3`), refused later like babeltrace does. */
  readonly bitfield?: UnaryExpr;
  readonly line: number;
}

/** `left = right;` inside a block or an integer/floating_point/string/clock/env... body. */
export interface Assignment {
  readonly kind: 'assign';
  /** Dotted left side words, e.g. ['packet', 'header'] or ['name']. */
  readonly left: readonly string[];
  readonly right: UnaryExpr;
  readonly line: number;
}

export type Declaration =
  | Assignment
  /** `left := type;` (scopes: packet.header, event.fields, ...). */
  | {
      readonly kind: 'type-assign';
      readonly left: readonly string[];
      readonly specs: readonly TypeSpecifier[];
      readonly line: number;
    }
  | { readonly kind: 'typedef'; readonly specs: readonly TypeSpecifier[]; readonly declarators: readonly Declarator[]; readonly line: number }
  | {
      readonly kind: 'typealias';
      readonly specs: readonly TypeSpecifier[];
      readonly declarator: Declarator;
      /** Name of the alias: specifier words plus ` *` per pointer (babeltrace's naming). */
      readonly aliasName: string;
      readonly line: number;
    }
  /** `struct x {...};`, `enum e : t {...};`: a type definition without a field. */
  | { readonly kind: 'type-only'; readonly specs: readonly TypeSpecifier[]; readonly line: number }
  /** Struct member or variant option declaration(s). */
  | { readonly kind: 'field'; readonly specs: readonly TypeSpecifier[]; readonly declarators: readonly Declarator[]; readonly line: number }
  | { readonly kind: 'block'; readonly block: BlockKind; readonly body: readonly Declaration[]; readonly line: number };

export type BlockKind = 'trace' | 'stream' | 'event' | 'env' | 'clock' | 'callsite';

export interface MetadataAst {
  readonly declarations: readonly Declaration[];
}
