// Parser of LTTng's filter expression language (lttng-enable-event(1) --filter).
//
// Contract: parseFilter(text) returns an AST or throws LttError('FILTER_SYNTAX') with a one-line message.
// Grammar (precedence high to low, LTTng's, where bitwise binds tighter than comparisons):
//   unary - + ! ~ ; << >> ; & ; ^ ; | ; < <= > >= ; == != ; && ; ||
// Operands: field names with `.`/`[n]` access, $ctx.NAME, $app.PROVIDER:NAME, integer literals (dec, hex,
// octal), float literals, double-quoted strings (`*` globs, `\*` escapes). No binary arithmetic.

import { LttError } from '../errors.js';

export type FilterNode =
  | { type: 'num'; value: number | bigint }
  | { type: 'float'; value: number }
  | { type: 'str'; value: string }
  | { type: 'field'; path: string[]; index: number[] }
  | { type: 'ctx'; name: string }
  | { type: 'unary'; op: '-' | '+' | '!' | '~'; arg: FilterNode }
  | { type: 'binary'; op: string; left: FilterNode; right: FilterNode };

type Tok = { k: 'num' | 'float' | 'str' | 'id' | 'ctx' | 'op' | 'end'; v: string; pos: number };

const OPS = ['<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '<', '>', '&', '^', '|', '!', '~', '-', '+', '(', ')', '[', ']', '.'];

function lex(text: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) { i++; continue; }
    const start = i;
    if (c === '"') {
      let s = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) {
          // Escapes stay in the value: a star glob's `\*` and `\\` are literal (src/star-glob.ts), and a string
          // compared without stars reads every `\X` as X, as LTTng's interpreter does.
          s += text[i]! + text[i + 1];
          i += 2;
        } else s += text[i++];
      }
      if (i >= text.length) throw new LttError('FILTER_SYNTAX', `Invalid filter: unterminated string at column ${start + 1}`);
      i++;
      toks.push({ k: 'str', v: s, pos: start });
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^(0[xX][0-9a-fA-F]+|[0-9]+\.[0-9]*([eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+|[0-9]+)/.exec(text.slice(i))!;
      i += m[0].length;
      toks.push({ k: /[.eE]/.test(m[0]) && !/^0[xX]/.test(m[0]) ? 'float' : 'num', v: m[0], pos: start });
      continue;
    }
    if (c === '$') {
      const m = /^\$(ctx|app)\.([A-Za-z0-9_:\-]+)/.exec(text.slice(i));
      if (!m) throw new LttError('FILTER_SYNTAX', `Invalid filter: bad $ reference at column ${start + 1}`);
      i += m[0].length;
      toks.push({ k: 'ctx', v: `${m[1]}.${m[2]}`, pos: start });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      i += m[0].length;
      toks.push({ k: 'id', v: m[0], pos: start });
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (!op) throw new LttError('FILTER_SYNTAX', `Invalid filter: unexpected character '${c}' at column ${i + 1}`);
    i += op.length;
    toks.push({ k: 'op', v: op, pos: start });
  }
  toks.push({ k: 'end', v: '', pos: text.length });
  return toks;
}

const LEVELS: string[][] = [['||'], ['&&'], ['==', '!='], ['<', '<=', '>', '>='], ['|'], ['^'], ['&'], ['<<', '>>']];

/** LTTng's limit on a filter's length (LTTNG_FILTER_MAX_LEN). */
const MAX_FILTER_LENGTH = 65535;
/**
 * How deep an expression may nest (parentheses, unary operators, and chains of binary ones alike): the parser,
 * the translators and the compiler walk the tree recursively, and a filter must never exhaust their stack.
 */
const MAX_DEPTH = 256;

export function parseFilter(text: string): FilterNode {
  if (text.length > MAX_FILTER_LENGTH) {
    throw new LttError('FILTER_SYNTAX', `Invalid filter: longer than ${MAX_FILTER_LENGTH} characters`);
  }
  const toks = lex(text);
  let p = 0;
  let depth = 0;
  const deeper = (): void => {
    if (++depth > MAX_DEPTH) throw new LttError('FILTER_SYNTAX', `Invalid filter: nested more than ${MAX_DEPTH} levels deep`);
  };
  const peek = (): Tok => toks[p]!;
  const fail = (what: string): never => {
    const t = peek();
    throw new LttError('FILTER_SYNTAX', `Invalid filter: ${what} at column ${t.pos + 1}${t.k === 'end' ? ' (end of expression)' : ` near '${t.v}'`}`);
  };
  const binary = (level: number): FilterNode => {
    if (level === LEVELS.length) return unary();
    let left = binary(level + 1);
    const at = depth;
    for (;;) {
      const t = peek();
      if (t.k !== 'op' || !LEVELS[level]!.includes(t.v)) {
        depth = at;
        return left;
      }
      p++;
      // a OP b OP c ... nests to the left: one level per operator.
      deeper();
      left = { type: 'binary', op: t.v, left, right: binary(level + 1) };
    }
  };
  const unary = (): FilterNode => {
    const t = peek();
    if (t.k === 'op' && (t.v === '-' || t.v === '+' || t.v === '!' || t.v === '~')) {
      p++;
      deeper();
      const arg = unary();
      depth--;
      return { type: 'unary', op: t.v, arg };
    }
    return primary();
  };
  const primary = (): FilterNode => {
    const t = peek();
    p++;
    switch (t.k) {
      case 'num': {
        const v = t.v;
        const big = /^0[xX]/.test(v) ? BigInt(v) : /^0[0-7]+$/.test(v) ? BigInt('0o' + v.slice(1)) : BigInt(v);
        return { type: 'num', value: big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : BigInt.asIntN(64, big) };
      }
      case 'float':
        return { type: 'float', value: Number(t.v) };
      case 'str':
        return { type: 'str', value: t.v };
      case 'ctx':
        return { type: 'ctx', name: t.v };
      case 'id': {
        const path = [t.v];
        const index: number[] = [];
        for (;;) {
          const n = peek();
          if (n.k === 'op' && n.v === '.') {
            p++;
            const id = peek();
            if (id.k !== 'id') fail('expected a field name after "."');
            p++;
            path.push(id.v);
          } else if (n.k === 'op' && n.v === '[') {
            p++;
            const idx = peek();
            if (idx.k !== 'num') fail('expected a constant index');
            p++;
            index.push(Number(idx.v));
            if (!(peek().k === 'op' && peek().v === ']')) fail('expected "]"');
            p++;
          } else break;
        }
        return { type: 'field', path, index };
      }
      case 'op':
        if (t.v === '(') {
          deeper();
          const e = binary(0);
          depth--;
          if (!(peek().k === 'op' && peek().v === ')')) fail('expected ")"');
          p++;
          return e;
        }
        p--;
        return fail('unexpected operator');
      default:
        p--;
        return fail('unexpected end');
    }
  };
  if (peek().k === 'end') fail('empty expression');
  const ast = binary(0);
  if (peek().k !== 'end') fail('unexpected token');
  return ast;
}
