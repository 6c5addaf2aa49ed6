// The syntax of LTTng 2.13's filter language: its lexer and grammar (src/common/filter/filter-lexer.l and
// filter-parser.y), before any type check.
//
// Contract: parseFilterSyntax(text) returns the syntax tree or throws LttError('FILTER_SYNTAX') with a one-line
// message. The grammar is C's expression grammar from `||` down to unary operators, arithmetic (* / % + -)
// included: LTTng parses it and only then refuses it as "not supported" (src/filter/parse-filter.ts).
// Precedence, high to low: unary - + ! ~ ; * / % ; + - ; << >> ; & ; ^ ; | ; < <= > >= ; == != ; && ; ||.
// Operands: field chains (`a.b[0]->c`), `$ctx.NAME` / `$app.PROVIDER:NAME` chains, integer constants (decimal,
// octal, hex, C suffixes), float constants (hex floats too), strings in "..." or '...' (L prefix allowed) whose
// characters are all literal: a backslash is kept for the glob matcher, it escapes nothing here, not even a
// quote. Comments (/* */ and //) are blanks.

import { LttError } from '../errors.js';

export type SyntaxNode =
  | { k: 'int'; value: bigint }
  | { k: 'float'; value: number }
  | { k: 'str'; value: string }
  | { k: 'nested'; child: SyntaxNode }
  /** `a.b[1]->c`, `$ctx.vtid`: each element a name and the index expressions in brackets after it. */
  | { k: 'ref'; chain: { name: string; index: SyntaxNode[] }[] }
  | { k: 'unary'; op: '-' | '+' | '!' | '~'; arg: SyntaxNode }
  | { k: 'binary'; op: string; left: SyntaxNode; right: SyntaxNode };

type Tok = { k: 'int' | 'float' | 'str' | 'id' | 'gid' | 'op' | 'end'; v: string; pos: number };

/** The punctuators of LTTng's lexer, longest first (several have no use in the grammar: a syntax error). */
const PUNCTUATORS = ['...', '->', '>>', '<<', '==', '!=', '<=', '>=', '&&', '||', ':=',
  '[', ']', '(', ')', '{', '}', '*', '+', '-', '%', '/', '<', '>', '!', ':', ';', '.', '=', ',', '^', '&', '|', '~'];

// The lexer's number rules; flex takes the longest match, so "08" is "0" then "8" and "1." a float.
const IS = '(?:[uU](?:ll|LL|l|L)?|(?:ll|LL|l|L)[uU]?)?';
const NUMBER_RULES: [RegExp, Tok['k']][] = [
  [new RegExp(`^0[xX][0-9a-fA-F]+${IS}`), 'int'],
  [new RegExp(`^0[0-7]*${IS}`), 'int'],
  [new RegExp(`^[1-9][0-9]*${IS}`), 'int'],
  [/^[0-9]+[eE][-+]?[0-9]+[fFlL]?/, 'float'],
  [/^[0-9]*\.[0-9]+(?:[eE][-+]?[0-9]+)?[fFlL]?/, 'float'],
  [/^[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?[fFlL]?/, 'float'],
  [/^0[xX][0-9a-fA-F]+[pP][-+]?[0-9]+[fFlL]?/, 'float'],
  [/^0[xX][0-9a-fA-F]*\.[0-9a-fA-F]+(?:[pP][-+]?[0-9]+)?[fFlL]?/, 'float'],
  [/^0[xX][0-9a-fA-F]+\.[0-9a-fA-F]*(?:[pP][-+]?[0-9]+)?[fFlL]?/, 'float'],
];
const IDENTIFIER = /^(?:[a-zA-Z_:]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})(?:[a-zA-Z_:0-9]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*/;

const syntaxError = (what: string): LttError => new LttError('FILTER_SYNTAX', `Invalid filter: ${what}`);

function lex(text: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const longest = (rest: string): [string, Tok['k']] | undefined => {
    let best: [string, Tok['k']] | undefined;
    for (const [re, k] of NUMBER_RULES) {
      const m = re.exec(rest);
      if (m && (!best || m[0].length > best[0].length)) best = [m[0], k];
    }
    return best;
  };
  while (i < text.length) {
    const c = text[i]!;
    const start = i;
    if (c === ' ' || c === '\t' || c === '\n') { i++; continue; }
    if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      continue;
    }
    if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end + 1;
      continue;
    }
    const quote = c === '"' || c === "'" ? c : c === 'L' && (text[i + 1] === '"' || text[i + 1] === "'") ? text[i + 1]! : undefined;
    if (quote !== undefined) {
      i += c === 'L' ? 2 : 1;
      let s = '';
      while (i < text.length && text[i] !== quote) {
        // The lexer's escape-sequence rule is spelt without braces, so it matches the word itself, which the
        // grammar then refuses: LTTng 2.13 rejects any string holding "ESCSEQ".
        if (text.startsWith('ESCSEQ', i)) throw syntaxError('parse error: escape sequences not supported yet');
        if (text[i] !== '\n') s += text[i];
        i++;
      }
      if (i >= text.length) throw syntaxError(`syntax error: unterminated string at column ${start + 1}`);
      i++;
      // '' is a syntax error (a character constant needs a character), "" the empty string.
      if (quote === "'" && s === '') throw syntaxError(`syntax error at column ${start + 1} near "''"`);
      toks.push({ k: 'str', v: s, pos: start });
      continue;
    }
    const number = /[0-9.]/.test(c) ? longest(text.slice(i)) : undefined;
    if (number) {
      i += number[0].length;
      toks.push({ k: number[1], v: number[0], pos: start });
      continue;
    }
    const global = c === '$' ? IDENTIFIER.exec(text.slice(i + 1)) : null;
    if (global) {
      i += 1 + global[0].length;
      toks.push({ k: 'gid', v: '$' + global[0], pos: start });
      continue;
    }
    const punct = PUNCTUATORS.find((o) => text.startsWith(o, i));
    const id = IDENTIFIER.exec(text.slice(i));
    // A lone ':' is the COLON token; ':a' an identifier (the longer match).
    if (id && (!punct || id[0].length > punct.length)) {
      i += id[0].length;
      toks.push({ k: 'id', v: id[0], pos: start });
      continue;
    }
    if (!punct) throw syntaxError(`syntax error: unexpected character '${c}' at column ${i + 1}`);
    i += punct.length;
    toks.push({ k: 'op', v: punct, pos: start });
  }
  toks.push({ k: 'end', v: '', pos: text.length });
  return toks;
}

/** Binary operator levels, loosest first (all left-associative). */
const LEVELS: string[][] = [['||'], ['&&'], ['==', '!='], ['<', '<=', '>', '>='], ['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

/** LTTng's limit on a filter's length (LTTNG_FILTER_MAX_LEN). */
const MAX_FILTER_LENGTH = 65535;
/**
 * How deep an expression may nest (parentheses, unary operators, and chains of binary ones alike): the parser,
 * the checks and the compiler walk the tree recursively, and a filter must never exhaust their stack.
 */
const MAX_DEPTH = 256;

const U64_MAX = (1n << 64n) - 1n;

function intValue(text: string): bigint {
  const digits = text.replace(/[uUlL]+$/, '');
  const v = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 && digits[0] === '0' ? BigInt('0o' + digits.slice(1)) : BigInt(digits);
  return v > U64_MAX ? U64_MAX : v; // scanf's strtoull saturates
}

function floatValue(text: string): number {
  const t = text.replace(/[fFlL]$/, '');
  const hex = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([-+]?[0-9]+))?$/.exec(t);
  if (!hex) return Number(t);
  const frac = hex[2] ?? '';
  const mantissa = parseInt((hex[1] ?? '') + frac || '0', 16) / 16 ** frac.length;
  return mantissa * 2 ** Number(hex[3] ?? 0);
}

export function parseFilterSyntax(text: string): SyntaxNode {
  if (text.length > MAX_FILTER_LENGTH) throw syntaxError(`longer than ${MAX_FILTER_LENGTH} characters`);
  // lttng refuses an empty filter as a bad argument, before parsing it.
  if (text === '') throw new LttError('FILTER_SYNTAX', 'Invalid parameter: empty filter');
  const toks = lex(text);
  let p = 0;
  let depth = 0;
  const deeper = (): void => {
    if (++depth > MAX_DEPTH) throw syntaxError(`nested more than ${MAX_DEPTH} levels deep`);
  };
  const peek = (): Tok => toks[p]!;
  const isOp = (v: string): boolean => peek().k === 'op' && peek().v === v;
  const fail = (): never => {
    const t = peek();
    throw syntaxError(`syntax error at column ${t.pos + 1}${t.k === 'end' ? ' (end of expression)' : ` near '${t.v}'`}`);
  };
  const expect = (v: string): void => {
    if (!isOp(v)) fail();
    p++;
  };
  const binary = (level: number): SyntaxNode => {
    if (level === LEVELS.length) return unary();
    let left = binary(level + 1);
    const at = depth;
    while (peek().k === 'op' && LEVELS[level]!.includes(peek().v)) {
      const op = toks[p++]!.v;
      // a OP b OP c ... nests to the left: one level per operator.
      deeper();
      left = { k: 'binary', op, left, right: binary(level + 1) };
    }
    depth = at;
    return left;
  };
  const unary = (): SyntaxNode => {
    const t = peek();
    if (t.k === 'op' && (t.v === '-' || t.v === '+' || t.v === '!' || t.v === '~')) {
      p++;
      deeper();
      const arg = unary();
      depth--;
      return { k: 'unary', op: t.v, arg };
    }
    return t.k === 'id' || t.k === 'gid' ? reference() : primary();
  };
  // identifiers ('[' unary ']')* (('.' | '->') identifiers ('[' unary ']')*)*
  const reference = (): SyntaxNode => {
    const chain: { name: string; index: SyntaxNode[] }[] = [];
    for (;;) {
      const t = peek();
      if (t.k !== 'id' && t.k !== 'gid') fail();
      p++;
      const index: SyntaxNode[] = [];
      while (isOp('[')) {
        p++;
        deeper();
        index.push(unary());
        depth--;
        expect(']');
      }
      chain.push({ name: t.v, index });
      if (!isOp('.') && !isOp('->')) return { k: 'ref', chain };
      p++;
    }
  };
  const primary = (): SyntaxNode => {
    const t = peek();
    switch (t.k) {
      case 'int':
        p++;
        return { k: 'int', value: intValue(t.v) };
      case 'float':
        p++;
        return { k: 'float', value: floatValue(t.v) };
      case 'str':
        p++;
        return { k: 'str', value: t.v };
      default: {
        if (!isOp('(')) return fail();
        p++;
        deeper();
        const child = binary(0);
        depth--;
        expect(')');
        return { k: 'nested', child };
      }
    }
  };
  const tree = binary(0);
  if (peek().k !== 'end') fail();
  return tree;
}
