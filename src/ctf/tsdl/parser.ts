// TSDL parser: tokens (lexer.ts) -> syntax tree (ast.ts), by recursive descent.
//
// Contract: `parseTsdl(bytes)` returns the MetadataAst of a whole CTF 1.8 metadata text or throws an
// LttError('CTF_METADATA') whose message names the line and the unexpected token. It accepts the
// grammar of babeltrace2's parser.y (top-level blocks, typealias/typedef, C-like declarators,
// integer/floating_point/string/enum/struct/variant specifiers, dotted expressions in which keywords
// are words). As in C, whether an identifier is a type name depends on the typedef/typealias
// declarations seen so far in the enclosing lexical scopes (root, blocks, struct and variant bodies),
// so the parser tracks those names; everything else (what the names mean) is left to the passes.
// Linear in the number of tokens.

import { LttError } from '../../errors.js';
import type {
  Assignment,
  BlockKind,
  Declaration,
  Declarator,
  Enumerator,
  MetadataAst,
  TypeSpecifier,
  UnaryExpr,
} from './ast.js';
import { lex, type Token } from './lexer.js';

const KEYWORDS = new Set([
  'align', 'callsite', 'const', 'char', 'clock', 'double', 'enum', 'env', 'event', 'floating_point',
  'float', 'integer', 'int', 'long', 'short', 'signed', 'stream', 'string', 'struct', 'trace',
  'typealias', 'typedef', 'unsigned', 'variant', 'void', '_Bool', '_Complex', '_Imaginary',
]);

/** Keywords that are type specifiers by themselves (C basic types). */
const BASIC_TYPE_WORDS = new Set([
  'void', 'char', 'short', 'int', 'long', 'float', 'double', 'signed', 'unsigned', '_Bool', '_Complex', '_Imaginary',
]);

/**
 * Deepest struct/variant nesting accepted: babeltrace2's parser (bison, at most 10,000 states) reads 3,329
 * structures nested in an event's fields, which are 3,331 scopes here (with the top level and `fields`).
 * run-view.ts gives such metadata a thread with a deep enough stack.
 */
const MAX_NESTING = 3331;

const BLOCKS = new Set<BlockKind>(['trace', 'stream', 'event', 'env', 'clock', 'callsite']);

class Parser {
  private pos = 0;
  /** Type names (typedef/typealias) per lexical scope, innermost last. */
  private readonly scopes: Array<Set<string>> = [new Set()];

  constructor(private readonly toks: Token[]) {}

  // ---- token helpers -------------------------------------------------------------------------

  private peek(offset = 0): Token {
    return this.toks[Math.min(this.pos + offset, this.toks.length - 1)]!;
  }
  private next(): Token {
    const t = this.toks[this.pos]!;
    if (t.kind !== 'eof') this.pos++;
    return t;
  }
  private isPunct(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'punct' && t.text === text;
  }
  private isWord(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'id' && t.text === text;
  }
  private eatPunct(text: string): boolean {
    if (this.isPunct(text)) {
      this.pos++;
      return true;
    }
    return false;
  }
  private expectPunct(text: string): Token {
    if (!this.isPunct(text)) throw this.unexpected(`"${text}"`);
    return this.next();
  }
  unexpected(expected?: string): LttError {
    const t = this.peek();
    const shown =
      t.kind === 'eof' ? 'end of metadata' : t.kind === 'str' ? `string literal "${t.text}"` : t.kind === 'char' ? `character literal '${t.text}'` : `"${t.text}"`;
    return new LttError(
      'CTF_METADATA',
      `metadata line ${t.line}: syntax error, unexpected ${shown}${expected ? `, expecting ${expected}` : ''}`,
    );
  }

  private isTypeName(name: string): boolean {
    for (let i = this.scopes.length - 1; i >= 0; i--) if (this.scopes[i]!.has(name)) return true;
    return false;
  }
  private addTypeName(name: string): void {
    this.scopes[this.scopes.length - 1]!.add(name);
  }
  private pushScope(): void {
    this.scopes.push(new Set());
  }
  private popScope(): void {
    this.scopes.pop();
  }

  // ---- file and blocks -----------------------------------------------------------------------

  parseFile(): MetadataAst {
    const declarations: Declaration[] = [];
    while (this.peek().kind !== 'eof') declarations.push(this.parseRootDeclaration());
    return { declarations };
  }

  private parseRootDeclaration(): Declaration {
    const t = this.peek();
    if (t.kind === 'id' && BLOCKS.has(t.text as BlockKind) && this.isPunct('{', 1)) {
      return this.parseBlock();
    }
    if (this.isWord('typealias')) return this.parseTypealias();
    if (this.isWord('typedef')) return this.parseTypedef([]);
    const specs = this.parseSpecs();
    if (specs.length === 0) throw this.unexpected();
    if (this.isWord('typedef')) return this.parseTypedef(specs);
    const line = this.expectPunct(';').line;
    return { kind: 'type-only', specs, line };
  }

  private parseBlock(): Declaration {
    const kw = this.next();
    this.expectPunct('{');
    this.pushScope();
    const body: Declaration[] = [];
    while (!this.isPunct('}')) body.push(this.parseBlockEntry());
    this.popScope();
    this.expectPunct('}');
    this.expectPunct(';');
    return { kind: 'block', block: kw.text as BlockKind, body, line: kw.line };
  }

  /** One `ctf_assignment_expression ;` of a trace/stream/event/env/clock/callsite block. */
  private parseBlockEntry(): Declaration {
    if (this.isWord('typealias')) return this.parseTypealias();
    if (this.isWord('typedef')) return this.parseTypedef([]);
    const line = this.peek().line;
    const left = this.parseUnary();
    if (left.kind !== 'path') throw new LttError('CTF_METADATA', `metadata line ${line}: syntax error, expecting an attribute name`);
    if (this.eatPunct('=')) {
      const right = this.parseUnary();
      this.expectPunct(';');
      return { kind: 'assign', left: left.parts, right, line };
    }
    if (this.eatPunct(':=')) {
      const specs = this.parseSpecs();
      if (specs.length === 0) throw this.unexpected('a type');
      this.expectPunct(';');
      return { kind: 'type-assign', left: left.parts, specs, line };
    }
    throw this.unexpected('"=" or ":="');
  }

  /** `{ a = b; ... }` of integer/floating_point/string specifiers. */
  private parseAttrBody(): Assignment[] {
    this.expectPunct('{');
    const attrs: Assignment[] = [];
    while (!this.isPunct('}')) {
      const line = this.peek().line;
      const left = this.parseUnary();
      if (left.kind !== 'path') throw new LttError('CTF_METADATA', `metadata line ${line}: syntax error, expecting an attribute name`);
      this.expectPunct('=');
      const right = this.parseUnary();
      this.expectPunct(';');
      attrs.push({ kind: 'assign', left: left.parts, right, line });
    }
    this.expectPunct('}');
    return attrs;
  }

  // ---- typedef / typealias -------------------------------------------------------------------

  private parseTypedef(before: TypeSpecifier[]): Declaration {
    const line = this.next().line; // typedef
    const specs = [...before, ...this.parseSpecs()];
    if (specs.length === 0) throw this.unexpected('a type');
    const declarators: Declarator[] = [];
    do {
      const d = this.parseDeclarator(false);
      if (d.name === undefined) throw this.unexpected('a type name');
      declarators.push(d);
    } while (this.eatPunct(','));
    this.expectPunct(';');
    for (const d of declarators) this.addTypeName(d.name!);
    return { kind: 'typedef', specs, declarators, line };
  }

  private parseTypealias(): Declaration {
    const line = this.next().line; // typealias
    const specs = this.parseSpecs();
    if (specs.length === 0) throw this.unexpected('a type');
    const declarator = this.parseDeclarator(true);
    this.expectPunct(':=');
    // Alias specifiers: keywords, type names, struct/variant/enum references and new identifiers.
    const words: string[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'id') break;
      if (t.text === 'struct' || t.text === 'variant' || t.text === 'enum') {
        this.next();
        const n = this.peek();
        if (n.kind !== 'id') throw this.unexpected('a name');
        this.next();
        words.push(`${t.text} ${n.text}`);
        continue;
      }
      if (KEYWORDS.has(t.text) && !BASIC_TYPE_WORDS.has(t.text) && t.text !== 'const') break;
      this.next();
      words.push(t.text);
    }
    if (words.length === 0) throw this.unexpected('an alias name');
    const pointers = this.parsePointers();
    if (this.isPunct('[')) throw this.unexpected('";"');
    this.expectPunct(';');
    for (const w of words) if (!KEYWORDS.has(w) && !w.includes(' ')) this.addTypeName(w);
    const aliasName = words.join(' ') + ' *'.repeat(pointers);
    return { kind: 'typealias', specs, declarator, aliasName, line };
  }

  // ---- declaration specifiers ----------------------------------------------------------------

  private parseSpecs(): TypeSpecifier[] {
    const specs: TypeSpecifier[] = [];
    // A declared type name only counts as a specifier when no other type was given yet, so that in
    // `my_type my_type2;` the second one is the declarator even if it also names a type.
    let haveType = false;
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'id') break;
      const w = t.text;
      if (w === 'const' || BASIC_TYPE_WORDS.has(w)) {
        this.next();
        specs.push({ kind: 'word', word: w, isTypeName: false, line: t.line });
        if (w !== 'const') haveType = true;
        continue;
      }
      if (w === 'integer' || w === 'floating_point') {
        this.next();
        specs.push({ kind: w, attrs: this.parseAttrBody(), line: t.line });
        haveType = true;
        continue;
      }
      if (w === 'string') {
        this.next();
        specs.push({ kind: 'string', attrs: this.isPunct('{') ? this.parseAttrBody() : [], line: t.line });
        haveType = true;
        continue;
      }
      if (w === 'struct') {
        specs.push(this.parseStruct());
        haveType = true;
        continue;
      }
      if (w === 'variant') {
        specs.push(this.parseVariant());
        haveType = true;
        continue;
      }
      if (w === 'enum') {
        specs.push(this.parseEnum());
        haveType = true;
        continue;
      }
      if (!haveType && !KEYWORDS.has(w) && this.isTypeName(w)) {
        this.next();
        specs.push({ kind: 'word', word: w, isTypeName: true, line: t.line });
        haveType = true;
        continue;
      }
      break;
    }
    return specs;
  }

  private optionalName(): string | undefined {
    const t = this.peek();
    if (t.kind === 'id' && !KEYWORDS.has(t.text)) {
      this.next();
      return t.text;
    }
    return undefined;
  }

  private parseStruct(): TypeSpecifier {
    const line = this.next().line; // struct
    const name = this.optionalName();
    if (!this.isPunct('{')) {
      if (name === undefined) throw this.unexpected('a structure name or "{"');
      return { kind: 'struct', name, line };
    }
    const body = this.parseCompoundBody();
    let align: UnaryExpr | undefined;
    if (this.isWord('align')) {
      this.next();
      this.expectPunct('(');
      align = this.parseUnary();
      this.expectPunct(')');
    }
    return { kind: 'struct', ...(name !== undefined && { name }), body, ...(align && { align }), line };
  }

  private parseVariant(): TypeSpecifier {
    const line = this.next().line; // variant
    const name = this.optionalName();
    let tag: string[] | undefined;
    if (this.eatPunct('<')) {
      // babeltrace's grammar takes a single identifier here, not a dotted path.
      const t = this.peek();
      if (t.kind !== 'id' || (KEYWORDS.has(t.text) && !this.isTypeName(t.text))) throw this.unexpected('a variant tag name');
      this.next();
      tag = [t.text];
      this.expectPunct('>');
    }
    if (!this.isPunct('{')) {
      if (name === undefined) throw this.unexpected('a variant name or "{"');
      return { kind: 'variant', name, ...(tag && { tag }), line };
    }
    const body = this.parseCompoundBody();
    return { kind: 'variant', ...(name !== undefined && { name }), ...(tag && { tag }), body, line };
  }

  private parseEnum(): TypeSpecifier {
    const line = this.next().line; // enum
    const name = this.optionalName();
    let container: TypeSpecifier[] | undefined;
    if (this.eatPunct(':')) {
      container = this.parseSpecs();
      if (container.length === 0) throw this.unexpected('an integer type');
    }
    if (!this.isPunct('{')) {
      if (name === undefined || container) throw this.unexpected('"{"');
      return { kind: 'enum', name, line };
    }
    this.next(); // {
    const entries: Enumerator[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'id' && t.kind !== 'str') throw this.unexpected('an enumerator');
      this.next();
      let value: UnaryExpr | undefined;
      let rangeEnd: UnaryExpr | undefined;
      if (this.eatPunct('=')) {
        value = this.parseUnary();
        if (this.eatPunct('...')) rangeEnd = this.parseUnary();
      }
      entries.push({ label: t.text, ...(value && { value }), ...(rangeEnd && { rangeEnd }), line: t.line });
      if (this.eatPunct(',')) {
        if (this.isPunct('}')) break;
        continue;
      }
      break;
    }
    this.expectPunct('}');
    return { kind: 'enum', ...(name !== undefined && { name }), ...(container && { container }), entries, line };
  }

  /** `{ declarations }` of a struct or variant: a new lexical scope. */
  private parseCompoundBody(): Declaration[] {
    const open = this.expectPunct('{');
    // A fixed bound keeps every later recursive pass within a bounded stack.
    if (this.scopes.length > MAX_NESTING) {
      throw new LttError('CTF_METADATA', `metadata line ${open.line}: types nested too deeply (more than ${MAX_NESTING} levels)`);
    }
    this.pushScope();
    const body: Declaration[] = [];
    while (!this.isPunct('}')) body.push(this.parseMemberDeclaration());
    this.popScope();
    this.expectPunct('}');
    return body;
  }

  private parseMemberDeclaration(): Declaration {
    if (this.isWord('typealias')) return this.parseTypealias();
    if (this.isWord('typedef')) return this.parseTypedef([]);
    const line = this.peek().line;
    const specs = this.parseSpecs();
    if (specs.length === 0) throw this.unexpected('a type');
    if (this.isWord('typedef')) return this.parseTypedef(specs);
    // Unlike the root, a struct/variant body needs a declarator: `uint8_t ;` is a syntax error.
    if (this.isPunct(';')) throw this.unexpected('a field name');
    const declarators: Declarator[] = [];
    do {
      const d = this.parseDeclarator(false);
      if (d.name === undefined && d.bitfield === undefined) throw this.unexpected('a field name');
      declarators.push(d);
    } while (this.eatPunct(','));
    this.expectPunct(';');
    return { kind: 'field', specs, declarators, line };
  }

  // ---- declarators and expressions -----------------------------------------------------------

  /** `*`, `**`, `* const *`: as in babeltrace's grammar a `const` must be followed by another `*`. */
  private parsePointers(): number {
    let pointers = 0;
    while (this.eatPunct('*')) {
      pointers++;
      if (this.isWord('const')) {
        while (this.isWord('const')) this.next();
        if (!this.isPunct('*')) throw this.unexpected('"*"');
      }
    }
    return pointers;
  }

  /** `*name[dim][dim]`, `(declarator)[dim]`, with `abstract` the name is optional. */
  private parseDeclarator(abstract: boolean): Declarator {
    const line = this.peek().line;
    let pointers = this.parsePointers();
    let name: string | undefined;
    const dims: UnaryExpr[] = [];
    if (this.isPunct('(') ) {
      this.next();
      const inner = this.parseDeclarator(abstract);
      this.expectPunct(')');
      name = inner.name;
      pointers += inner.pointers;
      dims.push(...inner.dims);
    } else {
      const t = this.peek();
      if (t.kind === 'id' && !KEYWORDS.has(t.text) && !this.isTypeName(t.text)) {
        this.next();
        name = t.text;
      } else if (!abstract && !this.isPunct(':')) {
        throw this.unexpected('a name');
      }
    }
    while (this.eatPunct('[')) {
      if (this.isPunct(']')) {
        throw this.unexpected('an array length');
      }
      dims.push(this.parseUnary());
      this.expectPunct(']');
    }
    let bitfield: UnaryExpr | undefined;
    if (!abstract && this.eatPunct(':')) bitfield = this.parseUnary();
    return { ...(name !== undefined && { name }), pointers, dims, ...(bitfield && { bitfield }), line };
  }

  /** unary_expression: [+|-] postfix, postfix = primary { . word | -> word }. */
  parseUnary(): UnaryExpr {
    const line = this.peek().line;
    let sign = 0;
    if (this.eatPunct('-')) sign = -1;
    else if (this.eatPunct('+')) sign = 1;
    let e = this.parsePrimary();
    while (this.isPunct('.') || this.isPunct('->')) {
      if (e.kind !== 'path') throw this.unexpected();
      const arrow = this.next().text === '->';
      const t = this.peek();
      if (t.kind !== 'id') throw this.unexpected('a name');
      this.next();
      // babeltrace keeps `a->b` as one path word "a->b", which names no field: do the same.
      const parts = arrow ? [...e.parts.slice(0, -1), `${e.parts[e.parts.length - 1]}->${t.text}`] : [...e.parts, t.text];
      e = { kind: 'path', parts, line: e.line };
    }
    if (sign !== 0) {
      if (e.kind !== 'int') throw new LttError('CTF_METADATA', `metadata line ${line}: unary ${sign < 0 ? '-' : '+'} applied to a non-integer`);
      if (sign < 0) e = { kind: 'int', value: -e.value, line: e.line };
    }
    return e;
  }

  private parsePrimary(): UnaryExpr {
    const t = this.peek();
    switch (t.kind) {
      case 'id':
        this.next();
        return { kind: 'path', parts: [t.text], line: t.line };
      case 'int':
        this.next();
        return { kind: 'int', value: t.value!, line: t.line };
      case 'str':
        this.next();
        return { kind: 'string', value: t.text, line: t.line };
      case 'char':
        this.next();
        return { kind: 'char', value: t.text, line: t.line };
      case 'punct':
        if (t.text === '(') {
          this.next();
          const e = this.parseUnary();
          this.expectPunct(')');
          return e;
        }
        throw this.unexpected();
      default:
        throw this.unexpected();
    }
  }
}

/** Parses a whole TSDL text (bytes, any line ends). */
export function parseTsdl(src: Uint8Array): MetadataAst {
  return new Parser(lex(src)).parseFile();
}
