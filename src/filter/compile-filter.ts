// Compile a parsed LTTng filter for one event class: into a tracefs filter string where the translation is
// exact, and always into a generated JS predicate over the LTTng payload values (the consumer's fallback).
//
// Contract: toTracefsFilter() returns the tracefs `filter` text or undefined when tracefs cannot express
// the expression with LTTng's semantics (transformed fields like prio - 100, bitwise operators whose
// precedence differs, floats, arrays, most $ctx fields). compilePredicate() returns
// (payload values, context) => boolean following LTTng's rules: integers compared as signed 64-bit, strings
// with == / != (with `*` globs) and ordered as strcmp, a missing field or out-of-range index makes the whole
// expression false.

import type { FilterNode } from './parse-filter.js';
import type { FormatField } from '../ftrace/event-format.js';
import { isStarGlob, starGlobRegExp, unescapeStarGlob } from '../star-glob.js';

export interface FilterContext {
  /** $ctx values by name (procname, tid, pid, cpu_id, ...); undefined when unknown. */
  get(name: string): number | bigint | string | undefined;
}

export type Predicate = (values: readonly unknown[], ctx: FilterContext) => boolean;

/** tracefs special fields that mean the same as LTTng contexts. */
const CTX_TO_TRACEFS: Record<string, string> = { 'ctx.tid': 'common_pid', 'ctx.vtid': 'common_pid', 'ctx.procname': 'COMM', 'ctx.cpu_id': 'CPU' };

/** tracefs string compare needs the value quoted; the glob metacharacters are those of LTTng except [ and ?. */
function tracefsString(s: string): string | undefined {
  if (/["?[\]]/.test(s)) return undefined;
  if (s.includes('\\')) return undefined; // escapes: tracefs has none, the consumer compares
  return `"${s}"`;
}

export function toTracefsFilter(ast: FilterNode, fields: ReadonlyMap<string, FormatField>, transformed: ReadonlySet<string>): string | undefined {
  const operand = (n: FilterNode): { text: string; kind: 'int' | 'str' | 'field-int' | 'field-str' } | undefined => {
    if (n.type === 'num') return { text: String(n.value), kind: 'int' };
    if (n.type === 'unary' && n.op === '-' && n.arg.type === 'num') return { text: `-${n.arg.value}`, kind: 'int' };
    if (n.type === 'str') {
      const t = tracefsString(n.value);
      return t === undefined ? undefined : { text: t, kind: 'str' };
    }
    if (n.type === 'field' && n.path.length === 1 && n.index.length === 0) {
      const name = n.path[0]!;
      const f = fields.get(name);
      if (!f || transformed.has(name)) return undefined;
      if (f.layout === 'int') return f.isPointer ? undefined : { text: f.name, kind: 'field-int' };
      if (f.layout === 'char-array' || f.layout === 'dyn-string') return { text: f.name, kind: 'field-str' };
      return undefined;
    }
    if (n.type === 'ctx' && !n.tail) {
      const t = CTX_TO_TRACEFS[n.name];
      if (!t) return undefined;
      return { text: t, kind: t === 'COMM' ? 'field-str' : 'field-int' };
    }
    return undefined;
  };
  const walk = (n: FilterNode): string | undefined => {
    if (n.type === 'unary' && n.op === '!') {
      const a = walk(n.arg);
      return a === undefined ? undefined : `!(${a})`;
    }
    if (n.type !== 'binary') return undefined;
    if (n.op === '&&' || n.op === '||') {
      const l = walk(n.left), r = walk(n.right);
      return l === undefined || r === undefined ? undefined : `(${l}) ${n.op} (${r})`;
    }
    if (!['==', '!=', '<', '<=', '>', '>='].includes(n.op)) return undefined;
    let l = operand(n.left), r = operand(n.right);
    if (!l || !r) return undefined;
    // tracefs wants the field on the left: mirror the comparison when needed.
    if ((l.kind === 'int' || l.kind === 'str') && (r.kind === 'field-int' || r.kind === 'field-str')) {
      const mirror: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '==': '==', '!=': '!=' };
      [l, r] = [r, l];
      n = { ...n, op: mirror[n.op]! };
    }
    if (l.kind === 'field-int' && r.kind === 'int') return `${l.text} ${n.op} ${r.text}`;
    if (l.kind === 'field-str' && r.kind === 'str') {
      if (n.op === '==') return r.text.includes('*') ? `${l.text} ~ ${r.text}` : `${l.text} == ${r.text}`;
      if (n.op === '!=') return r.text.includes('*') ? `!(${l.text} ~ ${r.text})` : `${l.text} != ${r.text}`;
    }
    return undefined;
  };
  return walk(ast);
}

// ---- predicate ------------------------------------------------------------------------------------------

/** Thrown inside a predicate when the expression must evaluate to false (missing field, bad shift). */
class FalseResult {}
const FALSE = new FalseResult();

function toInt(v: unknown): bigint | number {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw FALSE;
}

function ordered(op: string, o: number): boolean {
  switch (op) {
    case '==': return o === 0;
    case '!=': return o !== 0;
    case '<': return o < 0;
    case '<=': return o <= 0;
    case '>': return o > 0;
    default: return o >= 0;
  }
}

/** strcmp of `value` with a literal as LTTng's interpreter reads it: a backslash escapes the next character, an unescaped star equals the rest. */
function starPrefixOrder(value: string, literal: string): number {
  for (let i = 0, j = 0; ; i++, j++) {
    if (literal[j] === '*') return 0;
    if (literal[j] === '\\') j++;
    const a = i < value.length ? value.charCodeAt(i) : -1;
    const b = j < literal.length ? literal.charCodeAt(j) : -1;
    if (a !== b) return a < b ? -1 : 1;
    if (a === -1) return 0;
  }
}

const helpers = {
  FALSE,
  num(v: unknown): number | bigint {
    return toInt(v);
  },
  cmp(op: string, a: unknown, b: unknown): boolean {
    if (typeof a === 'string' || typeof b === 'string') {
      if (typeof a !== 'string' || typeof b !== 'string') throw FALSE;
      return ordered(op, a === b ? 0 : a < b ? -1 : 1);
    }
    let x = a as number | bigint, y = b as number | bigint;
    if (typeof x !== typeof y) {
      if (typeof x === 'bigint') y = typeof y === 'number' && Number.isInteger(y) ? BigInt(y) : y;
      else x = typeof x === 'number' && Number.isInteger(x) ? BigInt(x) : x;
    }
    switch (op) {
      case '==': return x == y;
      case '!=': return x != y;
      case '<': return x < y;
      case '<=': return x <= y;
      case '>': return x > y;
      default: return x >= y;
    }
  },
  /** A string against a literal that may end in a star glob (LTTng refuses other globs with < <= > >=). */
  order(op: string, v: unknown, literal: string, literalLeft: boolean): boolean {
    if (typeof v !== 'string') throw FALSE;
    const o = starPrefixOrder(v, literal);
    return ordered(op, literalLeft ? -o : o);
  },
  glob(re: RegExp, neg: boolean, v: unknown): boolean {
    if (typeof v !== 'string') throw FALSE;
    return re.test(v) !== neg;
  },
  bit(op: string, a: unknown, b: unknown): bigint {
    const x = BigInt.asUintN(64, BigInt(toInt(a))), y = BigInt.asUintN(64, BigInt(toInt(b)));
    let r: bigint;
    switch (op) {
      case '&': r = x & y; break;
      case '|': r = x | y; break;
      case '^': r = x ^ y; break;
      default: {
        if (y > 63n) throw FALSE;
        r = op === '<<' ? x << y : x >> y;
      }
    }
    return BigInt.asIntN(64, r);
  },
  truthy(v: unknown): boolean {
    if (typeof v === 'string') throw FALSE;
    return v !== 0 && v !== 0n && v !== false && v !== undefined;
  },
  index(v: unknown, idx: number): unknown {
    if (!Array.isArray(v) || idx >= v.length || idx < 0) throw FALSE;
    return v[idx];
  },
  ctx(ctx: FilterContext, name: string): unknown {
    const v = ctx.get(name);
    if (v === undefined) throw FALSE;
    return v;
  },
};

/** Compile the AST into a predicate over the payload `values` of an event whose field names are `fieldNames`. */
export function compilePredicate(ast: FilterNode, fieldNames: readonly string[]): Predicate {
  const regexps: RegExp[] = [];
  let missing = false;
  const gen = (n: FilterNode): string => {
    switch (n.type) {
      case 'num': return typeof n.value === 'bigint' ? `${n.value}n` : String(n.value);
      case 'float': return String(n.value);
      case 'str': return JSON.stringify(unescapeStarGlob(n.value));
      case 'ctx':
        if (n.tail) { missing = true; return 'undefined'; }
        return `h.ctx(ctx, ${JSON.stringify(n.name.replace(/^ctx\./, ''))})`;
      case 'field': {
        const i = fieldNames.indexOf(n.path[0]!);
        if (i < 0 || n.path.length > 1) { missing = true; return 'undefined'; }
        let e = `v[${i}]`;
        for (const idx of n.index) e = `h.index(${e}, ${idx})`;
        return e;
      }
      case 'unary':
        switch (n.op) {
          case '!': return `!h.truthy(${gen(n.arg)})`;
          case '-': return `(-h.num(${gen(n.arg)}))`;
          case '+': return `h.num(${gen(n.arg)})`;
          default: return `BigInt.asIntN(64, ~BigInt(h.num(${gen(n.arg)})))`;
        }
      case 'binary': {
        if (n.op === '&&' || n.op === '||') return `(h.truthy(${gen(n.left)}) ${n.op} h.truthy(${gen(n.right)}))`;
        if (['&', '|', '^', '<<', '>>'].includes(n.op)) return `h.bit(${JSON.stringify(n.op)}, ${gen(n.left)}, ${gen(n.right)})`;
        if ((n.right.type === 'str') !== (n.left.type === 'str')) {
          const lit = (n.right.type === 'str' ? n.right : n.left) as { value: string };
          const other = n.right.type === 'str' ? n.left : n.right;
          if (n.op !== '==' && n.op !== '!=') {
            return `h.order(${JSON.stringify(n.op)}, ${gen(other)}, ${JSON.stringify(lit.value)}, ${n.left.type === 'str'})`;
          }
          if (isStarGlob(lit.value)) {
            regexps.push(starGlobRegExp(lit.value));
            return `h.glob(re[${regexps.length - 1}], ${n.op === '!='}, ${gen(other)})`;
          }
          return `h.cmp(${JSON.stringify(n.op)}, ${gen(other)}, ${JSON.stringify(unescapeStarGlob(lit.value))})`;
        }
        return `h.cmp(${JSON.stringify(n.op)}, ${gen(n.left)}, ${gen(n.right)})`;
      }
    }
  };
  const body = gen(ast);
  if (missing) return () => false;
  const fn = new Function('h', 're', `return function (v, ctx) { try { return h.truthy(${body}); } catch (e) { if (e === h.FALSE) return false; throw e; } };`);
  return fn(helpers, regexps) as Predicate;
}
