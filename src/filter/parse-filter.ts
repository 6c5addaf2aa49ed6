// LTTng's filter expressions (lttng-enable-event(1) --filter): the syntax (filter-syntax.ts), then the checks
// LTTng 2.13 makes before it generates bytecode, in its order and with its messages, for both domains alike:
//   1. building the IR, depth first: arithmetic (* / % + -) is "not supported" as soon as it is met; a string
//      may not be the whole expression, an operand of a unary, logical or bitwise operator, nor be compared
//      with a number; a float may not be a bitwise operand; `$ctx`/`$app` need a name after them and no other
//      `$` root exists; an array index must be an integer constant;
//   2. string literals: a backslash escapes only `\` and `*`;
//   3. globs: two literal strings compared may not both be patterns, except patterns whose only star ends
//      them; a literal pattern with a star elsewhere is compared only with == or !=.
//
// Contract: parseFilter(text) returns the checked FilterNode tree or throws LttError('FILTER_SYNTAX') with a
// one-line message, "Invalid filter: " then LTTng's wording.

import { LttError } from '../errors.js';
import { parseFilterSyntax, type SyntaxNode } from './filter-syntax.js';

export type FilterNode =
  | { type: 'num'; value: number | bigint }
  | { type: 'float'; value: number }
  | { type: 'str'; value: string }
  | { type: 'field'; path: string[]; index: number[] }
  /** $ctx.NAME (name "ctx.NAME") or $app.PROVIDER:NAME; `tail` when more follows (`$ctx.vtid.x`): never loads. */
  | { type: 'ctx'; name: string; tail?: true }
  | { type: 'unary'; op: '-' | '+' | '!' | '~'; arg: FilterNode }
  | { type: 'binary'; op: string; left: FilterNode; right: FilterNode };

type DataType = 'string' | 'numeric' | 'float' | 'expression';

const invalid = (message: string): LttError => new LttError('FILTER_SYNTAX', `Invalid filter: ${message}`);

const COMPARATORS = new Set(['==', '!=', '<', '<=', '>', '>=']);
const LOGICAL = new Set(['&&', '||']);

function load(node: Extract<SyntaxNode, { k: 'ref' }>): FilterNode {
  const [root, ...rest] = node.chain;
  let names = node.chain;
  let ctxRoot: string | undefined;
  if (root!.name === '$ctx' || root!.name === '$app') {
    if (rest.length === 0) throw invalid(`Expecting identifier after '${root!.name}'`);
    ctxRoot = root!.name.slice(1);
    names = rest;
  } else if (root!.name.startsWith('$')) throw invalid(`Unexpected identifier '${root!.name}'`);
  // LTTng 2.13 reads only the first bracket after each name (`a[1][x]` is a[1]).
  const index = names.map((n) => {
    const first = n.index[0];
    if (first === undefined) return undefined;
    if (first.k !== 'int') throw invalid('Expecting constant index in array expression');
    return Number(BigInt.asIntN(64, first.value));
  });
  if (ctxRoot !== undefined) {
    const tail = names.length > 1 || index[0] !== undefined;
    return { type: 'ctx', name: `${ctxRoot}.${names[0]!.name}`, ...(tail ? { tail: true as const } : {}) };
  }
  const last = index[index.length - 1];
  return { type: 'field', path: names.map((n) => n.name), index: last === undefined ? [] : [last] };
}

function build(node: SyntaxNode): { node: FilterNode; data: DataType } {
  switch (node.k) {
    case 'int': {
      const v = BigInt.asIntN(64, node.value);
      const safe = v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER);
      return { node: { type: 'num', value: safe ? Number(v) : v }, data: 'numeric' };
    }
    case 'float':
      return { node: { type: 'float', value: node.value }, data: 'float' };
    case 'str':
      return { node: { type: 'str', value: node.value }, data: 'string' };
    case 'nested':
      return build(node.child);
    case 'ref':
      return { node: load(node), data: 'expression' };
    case 'unary': {
      const arg = build(node.arg);
      if (arg.data === 'string') throw invalid(`unary operation '${node.op}' not allowed on string literal`);
      return { node: { type: 'unary', op: node.op, arg: arg.node }, data: arg.data };
    }
    case 'binary': {
      const { op } = node;
      if (!COMPARATORS.has(op) && !LOGICAL.has(op) && !['&', '|', '^', '<<', '>>'].includes(op)) {
        throw invalid(`binary operation '${op}' not supported`);
      }
      const left = build(node.left);
      const right = build(node.right);
      const types = [left.data, right.data];
      if (COMPARATORS.has(op)) {
        if (types.includes('string') && (types.includes('numeric') || types.includes('float'))) {
          throw invalid(`binary operation '${op}' operand type mismatch`);
        }
      } else if (LOGICAL.has(op)) {
        if (types.includes('string')) throw invalid(`logical binary operation '${op}' cannot have string operand`);
      } else if (types.includes('string')) {
        throw invalid(`bitwise binary operation '${op}' cannot have string operand`);
      } else if (types.includes('float')) {
        throw invalid(`bitwise binary operation '${op}' cannot have floating point operand`);
      }
      return { node: { type: 'binary', op, left: left.node, right: right.node }, data: 'numeric' };
    }
  }
}

/** Every literal string, left to right. */
function* strings(n: FilterNode): Generator<string> {
  if (n.type === 'str') yield n.value;
  else if (n.type === 'unary') yield* strings(n.arg);
  else if (n.type === 'binary') {
    yield* strings(n.left);
    yield* strings(n.right);
  }
}

/** 'plain', a star glob whose first unescaped star is its last character ('end'), or 'full' (`a**` is full). */
function globKind(s: string): 'plain' | 'end' | 'full' {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '*') return i === s.length - 1 ? 'end' : 'full';
  }
  return 'plain';
}

function checkGlobs(n: FilterNode): void {
  if (n.type === 'unary') return checkGlobs(n.arg);
  if (n.type !== 'binary') return;
  if (!LOGICAL.has(n.op)) {
    const l = n.left.type === 'str' ? globKind(n.left.value) : undefined;
    const r = n.right.type === 'str' ? globKind(n.right.value) : undefined;
    if (l !== undefined && r !== undefined && ((l === 'full' && r !== 'plain') || (r === 'full' && l !== 'plain'))) {
      throw invalid('Cannot compare two globbing patterns');
    }
    if ((l === 'full' || r === 'full') && n.op !== '==' && n.op !== '!=') {
      throw invalid('Only the `==` and `!=` operators are allowed with a globbing pattern');
    }
  }
  checkGlobs(n.left);
  checkGlobs(n.right);
}

export function parseFilter(text: string): FilterNode {
  const built = build(parseFilterSyntax(text));
  if (built.data === 'string') throw invalid('String cannot be root data type');
  for (const s of strings(built.node)) {
    if (s.replace(/\\[\\*]/g, '').includes('\\')) throw invalid('Unsupported escape character detected.');
  }
  checkGlobs(built.node);
  return built.node;
}
